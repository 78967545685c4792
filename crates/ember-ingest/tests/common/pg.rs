//! A real PostgreSQL 16 with pgvector for the tests: the binaries shipped by PyPI's
//! `pgserver` (scripts/test.sh installs it), copied to a temporary directory that an
//! unprivileged user can read (`initdb` and `pg_ctl` refuse to run as root), started on
//! a free loopback port, stopped on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running (or stopped) server.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// TCP port on 127.0.0.1.
    pub port: u16,
    as_nobody: bool,
}

fn site_packages() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import pgserver, os; print(os.path.dirname(os.path.dirname(pgserver.__file__)))",
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "pgserver is not installed (pip install pgserver): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn copy_dir(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(st.success(), "cp -r {} {}", from.display(), to.display());
}

impl PgServer {
    /// initdb + start on a free port; `CREATE EXTENSION vector` is left to the sink.
    pub fn start() -> PgServer {
        let site = site_packages();
        let dir = tempfile::Builder::new()
            .prefix("ember-pg")
            .tempdir()
            .expect("tempdir");
        // Same relative layout as site-packages: the binaries' rpath is
        // $ORIGIN/../../../pgserver.libs.
        std::fs::create_dir_all(dir.path().join("site/pgserver")).unwrap();
        copy_dir(
            &site.join("pgserver/pginstall"),
            &dir.path().join("site/pgserver/pginstall"),
        );
        copy_dir(
            &site.join("pgserver.libs"),
            &dir.path().join("site/pgserver.libs"),
        );
        let bin = dir.path().join("site/pgserver/pginstall/bin");
        let as_nobody = is_root();
        if as_nobody {
            let st = Command::new("chown")
                .args(["-R", "nobody"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(st.success());
            let st = Command::new("chmod")
                .arg("755")
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(st.success());
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let s = PgServer {
            dir,
            bin,
            port,
            as_nobody,
        };
        let data = s.dir.path().join("data");
        s.sh(&format!(
            "{}/initdb -D {} -U postgres --auth=trust > {}/initdb.log 2>&1",
            s.bin.display(),
            data.display(),
            s.dir.path().display()
        ));
        s.start_again();
        s
    }

    fn sh(&self, cmd: &str) {
        let st = if self.as_nobody {
            Command::new("su")
                .args(["-s", "/bin/bash", "nobody", "-c", cmd])
                .status()
        } else {
            Command::new("bash").args(["-c", cmd]).status()
        }
        .expect("run");
        assert!(st.success(), "{cmd}");
    }

    /// (Re)starts the server on the same port and data directory.
    pub fn start_again(&self) {
        self.sh(&format!(
            "{}/pg_ctl -D {d}/data -o '-p {} -k {d} -c listen_addresses=127.0.0.1' -l {d}/server.log -w start > /dev/null",
            self.bin.display(),
            self.port,
            d = self.dir.path().display()
        ));
    }

    /// Stops the server (fast shutdown: open connections are closed).
    pub fn stop(&self) {
        self.sh(&format!(
            "{}/pg_ctl -D {}/data -w stop -m fast > /dev/null",
            self.bin.display(),
            self.dir.path().display()
        ));
    }

    /// `postgresql://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs `sql` with psql and returns its unaligned output.
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-At",
                "-c",
                sql,
            ])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let cmd = format!(
            "{}/pg_ctl -D {}/data -w stop -m immediate > /dev/null 2>&1",
            self.bin.display(),
            self.dir.path().display()
        );
        let _ = if self.as_nobody {
            Command::new("su")
                .args(["-s", "/bin/bash", "nobody", "-c", &cmd])
                .status()
        } else {
            Command::new("bash").args(["-c", &cmd]).status()
        };
    }
}
