//! The HTTP embedding stage against a real HTTP server written here (tokio, loopback):
//! JSON and Arrow answers, a service that fails with 500s and times out for a while,
//! keys it has no vector for, and a rate limit.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::lance_rows;
use ember_ingest::generator::{embedding_for, generate, GenOptions};
use ember_ingest::{run, JobSpec, RunOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DIM: usize = 8;
const SEED: u64 = 21;

/// How the service behaves.
struct Service {
    /// Requests served so far.
    requests: AtomicUsize,
    /// The first `fail_first` requests get a 500.
    fail_first: usize,
    /// Requests number `slow_from..slow_to` sleep past the client's timeout.
    slow: std::ops::Range<usize>,
    /// Answer with Arrow IPC instead of JSON.
    arrow: bool,
}

fn no_vector(id: i64) -> bool {
    id % 97 == 0
}

async fn handle(mut sock: tokio::net::TcpStream, svc: Arc<Service>) {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 65536];
    let (head_end, len) = loop {
        let n = match sock.read(&mut tmp).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&tmp[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            break (p + 4, len);
        }
    };
    while buf.len() < head_end + len {
        let n = match sock.read(&mut tmp).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&tmp[..n]);
    }
    let k = svc.requests.fetch_add(1, Ordering::SeqCst);
    if k < svc.fail_first {
        let _ = sock
            .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\nconnection: close\r\n\r\noops")
            .await;
        return;
    }
    if svc.slow.contains(&k) {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let body: serde_json::Value =
        serde_json::from_slice(&buf[head_end..head_end + len]).expect("json body");
    let ids: Vec<i64> = body["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_i64().expect("int id"))
        .collect();
    let (ctype, payload) = if svc.arrow {
        use arrow::array::{FixedSizeListBuilder, Float32Builder};
        let mut b = FixedSizeListBuilder::new(Float32Builder::new(), DIM as i32);
        for id in &ids {
            if no_vector(*id) {
                b.values().append_slice(&[0.0; DIM]);
                b.append(false);
            } else {
                b.values().append_slice(&embedding_for(SEED, *id, DIM));
                b.append(true);
            }
        }
        let col: arrow::array::ArrayRef = Arc::new(b.finish());
        let batch = arrow::array::RecordBatch::try_from_iter(vec![("embedding", col)]).unwrap();
        let mut out = Vec::new();
        let mut w = arrow::ipc::writer::StreamWriter::try_new(&mut out, &batch.schema()).unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();
        drop(w);
        ("application/vnd.apache.arrow.stream", out)
    } else {
        let list: Vec<serde_json::Value> = ids
            .iter()
            .map(|id| {
                if no_vector(*id) {
                    serde_json::Value::Null
                } else {
                    serde_json::json!(embedding_for(SEED, *id, DIM))
                }
            })
            .collect();
        (
            "application/json",
            serde_json::to_vec(&serde_json::json!({ "embeddings": list })).unwrap(),
        )
    };
    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", payload.len());
    let _ = sock.write_all(head.as_bytes()).await;
    let _ = sock.write_all(&payload).await;
}

async fn serve(svc: Arc<Service>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(handle(sock, svc.clone()));
        }
    });
    port
}

fn job(dir: &std::path::Path, port: u16, extra: &str) -> JobSpec {
    let data = dir.join("data");
    let text = format!(
        "name = \"h\"\nmaster = \"local[2]\"\ntask_rows = 2000\n[conf]\n\"spark.ember.ingest.retryWait\" = \"100ms\"\n[source]\npath = \"{}\"\nkey = \"photo_id\"\n[embedding]\ntype = \"http\"\nurl = \"http://127.0.0.1:{port}/embed\"\ndim = {DIM}\nbatch_size = 100\nconcurrency = 3\ntimeout = \"1s\"\nretry_wait = \"100ms\"\n{extra}\n[sink]\ntype = \"lance\"\nuri = \"{}\"\ntable = \"photos\"\n",
        data.join("photos.csv.gz").display(),
        dir.join("db").display()
    );
    let path = dir.join("job.toml");
    std::fs::write(&path, text).unwrap();
    JobSpec::from_file(&path).unwrap()
}

fn check(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    truth: &ember_ingest::generator::GenSummary,
    report: &ember_ingest::Report,
) {
    let rows = rt.block_on(lance_rows(&dir.join("db"), "photos"));
    let missing = rows.keys().filter(|id| no_vector(**id)).count();
    assert_eq!(missing, 0, "a key without a vector was ingested");
    for (id, v) in &rows {
        assert_eq!(v, &embedding_for(SEED, *id, DIM), "vector of {id}");
    }
    let dead = common::dead_letters(&dir.join("_ember_ingest/h/dead_letter"));
    let no_vec = dead.iter().filter(|d| d.1 == "MISSING_EMBEDDING").count();
    assert_eq!(rows.len() + no_vec, truth.distinct_ids as usize, "{report}");
    let parse: BTreeSet<u64> = dead
        .iter()
        .filter(|d| d.1 != "MISSING_EMBEDDING")
        .map(|d| d.0)
        .collect();
    assert_eq!(
        parse,
        truth
            .malformed_lines
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
    );
    assert!(no_vec > 0);
}

fn gen(dir: &std::path::Path) -> ember_ingest::generator::GenSummary {
    generate(
        &dir.join("data"),
        &GenOptions {
            rows: 12_000,
            dim: 0,
            seed: 4,
            ..GenOptions::default()
        },
    )
    .unwrap()
}

#[test]
fn json_service_that_fails_and_stalls_for_a_while() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let truth = gen(tmp.path());
    let svc = Arc::new(Service {
        requests: AtomicUsize::new(0),
        fail_first: 6,
        slow: 10..13,
        arrow: false,
    });
    let port = rt.block_on(serve(svc.clone()));
    let spec = job(tmp.path(), port, "");
    let report = rt
        .block_on(run(&spec, &RunOptions::default()))
        .expect("job survives the outage");
    // 6 failures and 3 timeouts, each retried.
    assert!(report.retried >= 9, "{report}");
    check(&rt, tmp.path(), &truth, &report);
}

#[test]
fn arrow_service_with_rate_limit() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let truth = gen(tmp.path());
    let svc = Arc::new(Service {
        requests: AtomicUsize::new(0),
        fail_first: 0,
        slow: 0..0,
        arrow: true,
    });
    let port = rt.block_on(serve(svc.clone()));
    let spec = job(tmp.path(), port, "rate_limit = 100.0");
    let t0 = Instant::now();
    let report = rt.block_on(run(&spec, &RunOptions::default())).unwrap();
    let requests = svc.requests.load(Ordering::SeqCst);
    // ~12,000 distinct ids in requests of 100 at 100 requests/s: at least ~1 s.
    assert!(requests >= 110, "{requests}");
    assert!(
        t0.elapsed() >= Duration::from_secs_f64((requests - 1) as f64 / 100.0),
        "{:?} for {requests}",
        t0.elapsed()
    );
    check(&rt, tmp.path(), &truth, &report);
}

#[test]
fn service_down_for_good_fails_the_task_then_resume_completes() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let truth = gen(tmp.path());
    let svc = Arc::new(Service {
        requests: AtomicUsize::new(0),
        fail_first: usize::MAX,
        slow: 0..0,
        arrow: false,
    });
    let port = rt.block_on(serve(svc));
    let spec = job(tmp.path(), port, "max_retries = 1");
    let err = rt
        .block_on(run(&spec, &RunOptions::default()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("failed 4 times") && err.contains("HTTP 500"),
        "{err}"
    );
    // The service comes back on another port.
    let svc = Arc::new(Service {
        requests: AtomicUsize::new(0),
        fail_first: 0,
        slow: 0..0,
        arrow: false,
    });
    let port2 = rt.block_on(serve(svc));
    let text = std::fs::read_to_string(tmp.path().join("job.toml"))
        .unwrap()
        .replace(&format!(":{port}/"), &format!(":{port2}/"));
    std::fs::write(tmp.path().join("job.toml"), text).unwrap();
    let spec = JobSpec::from_file(&tmp.path().join("job.toml")).unwrap();
    // The endpoint may change between runs: --resume keeps the committed parse tasks.
    let report = rt
        .block_on(run(
            &spec,
            &RunOptions {
                resume: true,
                ..Default::default()
            },
        ))
        .unwrap();
    assert!(report.tasks_skipped > 0, "{report}");
    check(&rt, tmp.path(), &truth, &report);
}
