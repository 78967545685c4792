//! A real S3-compatible server for tests (`s3s-fs`, installed by `scripts/test.sh`),
//! started on a free loopback port and stopped on drop; and a fault-injecting HTTP
//! proxy placed in front of it.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The `s3s-fs` binary: `$EMBER_S3S_FS`, else on `PATH`, else `~/.cargo/bin`.
pub fn s3s_binary() -> PathBuf {
    if let Ok(p) = std::env::var("EMBER_S3S_FS") {
        return PathBuf::from(p);
    }
    if let Ok(path) = std::env::var("PATH") {
        for d in std::env::split_paths(&path) {
            if d.join("s3s-fs").is_file() {
                return d.join("s3s-fs");
            }
        }
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let p = PathBuf::from(home).join(".cargo/bin/s3s-fs");
    assert!(
        p.is_file(),
        "s3s-fs not found: run scripts/test.sh, or `cargo install s3s-fs@0.14.1 --features binary --locked`"
    );
    p
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server on port {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `s3s-fs` serving a temporary directory; each subdirectory is a bucket.
pub struct S3Server {
    child: Child,
    /// The directory holding the buckets.
    pub root: tempfile::TempDir,
    /// The loopback port.
    pub port: u16,
}

impl S3Server {
    /// Starts a server with the given buckets; with `keys` it checks signatures,
    /// without it accepts unsigned requests (as a public bucket does).
    pub fn start(buckets: &[&str], keys: Option<(&str, &str)>) -> S3Server {
        let root = tempfile::tempdir().expect("tempdir");
        for b in buckets {
            std::fs::create_dir_all(root.path().join(b)).expect("bucket dir");
        }
        let port = free_port();
        let mut cmd = Command::new(s3s_binary());
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
        if let Some((ak, sk)) = keys {
            cmd.args(["--access-key", ak, "--secret-key", sk]);
        }
        cmd.arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().expect("start s3s-fs");
        wait_for_port(port);
        S3Server { child, root, port }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the proxy does to a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer `503 Service Unavailable` (S3's "SlowDown").
    Status503,
    /// Close the connection without an answer.
    Drop,
}

/// An HTTP proxy to `upstream` that fails every `every`-th request (1 = all).
pub struct FaultProxy {
    /// The proxy's loopback port.
    pub port: u16,
    /// Requests seen.
    pub requests: Arc<AtomicU64>,
    /// Requests failed on purpose.
    pub failed: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts the proxy on the current tokio runtime.
    pub async fn start(upstream: u16, every: u64, fault: Fault) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let (r, f) = (requests.clone(), failed.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (r, f) = (r.clone(), f.clone());
                tokio::spawn(async move {
                    let _ = serve(client, upstream, every, fault, r, f).await;
                });
            }
        });
        FaultProxy {
            port,
            requests,
            failed,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One request per connection: the request is forwarded with `Connection: close`, so
/// the client opens a new connection (and the proxy sees a new request) each time.
async fn serve(
    mut client: tokio::net::TcpStream,
    upstream: u16,
    every: u64,
    fault: Fault,
    requests: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(p) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let n = requests.fetch_add(1, Ordering::SeqCst) + 1;
    if n % every == 0 {
        failed.fetch_add(1, Ordering::SeqCst);
        if fault == Fault::Status503 {
            let body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
            let resp = format!(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            client.write_all(resp.as_bytes()).await?;
        }
        let _ = client.shutdown().await;
        return Ok(());
    }
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut out = String::new();
    for line in text.split("\r\n") {
        if line.is_empty() {
            continue;
        }
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut up = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await?;
    up.write_all(out.as_bytes()).await?;
    up.write_all(&head[end..]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut up).await?;
    Ok(())
}
