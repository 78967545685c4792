//! ember's Python worker processes (`python/worker.py`): at most one per core and
//! Python executable, reused across tasks, functions and sessions
//! (`spark.python.worker.reuse`), fed Arrow IPC frames over pipes. Scalar UDFs
//! ([`crate::udf`]) send one batch and read one column back; partition and group
//! functions ([`crate::python_map`]) stream frames both ways (see the worker's docs
//! for the protocol).

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use datafusion::error::DataFusionError;

pub(crate) const WORKER_PY: &str = include_str!("python/worker.py");

/// One Python worker process (`python/worker.py`).
pub(crate) struct Worker {
    pub(crate) child: Child,
    pub(crate) stdin: ChildStdin,
    pub(crate) stdout: BufReader<ChildStdout>,
    /// Functions whose pickled command this worker already holds.
    pub(crate) seen: HashSet<u64>,
    /// The last lines the worker wrote to stderr (shown when it dies).
    stderr_tail: Arc<Mutex<std::collections::VecDeque<String>>>,
    /// The thread copying stderr to ember's log and `stderr_tail`.
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// The last lines of the worker's stderr. When the worker is exiting (up to 2 s),
    /// waits for it and for every line it wrote, so that a worker dying at start
    /// (a missing module) reports why.
    pub(crate) fn stderr_tail(&mut self) -> String {
        for _ in 0..40 {
            if let Ok(Some(_)) = self.child.try_wait() {
                if let Some(h) = self.stderr_reader.take() {
                    let _ = h.join();
                }
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.stderr_tail
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Idle workers of one Python executable and module path.
pub(crate) struct Pool {
    python: String,
    idle: Mutex<(Vec<Worker>, usize)>,
    freed: Condvar,
    max: usize,
}

fn pools() -> &'static Mutex<HashMap<String, Arc<Pool>>> {
    static POOLS: OnceLock<Mutex<HashMap<String, Arc<Pool>>>> = OnceLock::new();
    POOLS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The pool of `python` for scalar UDFs: at most one worker per core.
pub(crate) fn pool(python: &str) -> Arc<Pool> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    pool_with(python, python, cores)
}

/// The pool named `key` of `python` workers, at most `max` of them (workers are
/// shared by every session using it).
pub(crate) fn pool_with(key: &str, python: &str, max: usize) -> Arc<Pool> {
    let mut all = match pools().lock() {
        Ok(p) => p,
        Err(p) => p.into_inner(),
    };
    all.entry(key.to_string())
        .or_insert_with(|| {
            Arc::new(Pool {
                python: python.to_string(),
                idle: Mutex::new((Vec::new(), 0)),
                freed: Condvar::new(),
                max: max.max(1),
            })
        })
        .clone()
}

pub(crate) fn py_err(msg: impl Into<String>) -> DataFusionError {
    DataFusionError::Execution(format!("[PYTHON_UDF_FAILED] {}", msg.into()))
}

impl Pool {
    fn spawn(&self) -> std::result::Result<Worker, DataFusionError> {
        // The worker's source goes on the command line: no script file to leave behind.
        // RDD tasks import `ember_pyspark` (carried in the binary); string hashes are
        // the same in every worker (`PYTHONHASHSEED`, 0 unless set, as Spark's workers).
        let mut path = vec![crate::pyspark_package::package_root()
            .map_err(|e| py_err(format!("cannot write the ember_pyspark package: {e}")))?];
        if let Some(existing) = std::env::var_os("PYTHONPATH") {
            path.extend(std::env::split_paths(&existing));
        }
        let path = std::env::join_paths(path).map_err(|e| py_err(e.to_string()))?;
        let seed = std::env::var("PYTHONHASHSEED").unwrap_or_else(|_| "0".to_string());
        let mut child = Command::new(&self.python)
            .arg("-u")
            .arg("-c")
            .arg(WORKER_PY)
            .env("PYTHONPATH", path)
            .env("PYTHONHASHSEED", seed)
            .env("EMBER_PYTHON_WORKER", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                py_err(format!(
                    "cannot start the Python UDF worker '{}': {e}. Set spark.pyspark.python or PYSPARK_PYTHON to a Python with pyspark-client and pyarrow.",
                    self.python
                ))
            })?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| py_err("worker without stdin"))?;
        let stdout = BufReader::new(
            child
                .stdout
                .take()
                .ok_or_else(|| py_err("worker without stdout"))?,
        );
        let stderr_tail = Arc::new(Mutex::new(std::collections::VecDeque::new()));
        let mut stderr_reader = None;
        if let Some(err) = child.stderr.take() {
            let tail = stderr_tail.clone();
            stderr_reader = Some(std::thread::spawn(move || {
                use std::io::BufRead;
                for line in BufReader::new(err).lines().map_while(|l| l.ok()) {
                    eprintln!("python udf worker: {line}");
                    if let Ok(mut t) = tail.lock() {
                        if t.len() == 40 {
                            t.pop_front();
                        }
                        t.push_back(line);
                    }
                }
            }));
        }
        Ok(Worker {
            child,
            stdin,
            stdout,
            seen: HashSet::new(),
            stderr_tail,
            stderr_reader,
        })
    }

    /// An idle worker, a new one when fewer than one per core exist, else waits.
    pub(crate) fn checkout(&self) -> std::result::Result<Worker, DataFusionError> {
        let mut g = self
            .idle
            .lock()
            .map_err(|_| py_err("worker pool poisoned"))?;
        loop {
            if let Some(w) = g.0.pop() {
                return Ok(w);
            }
            if g.1 < self.max {
                g.1 += 1;
                drop(g);
                return self.spawn().inspect_err(|_| self.forget());
            }
            g = self
                .freed
                .wait(g)
                .map_err(|_| py_err("worker pool poisoned"))?;
        }
    }

    /// Returns a worker that finished its request in step.
    pub(crate) fn checkin(&self, w: Worker) {
        if let Ok(mut g) = self.idle.lock() {
            g.0.push(w);
        }
        self.freed.notify_one();
    }

    /// A worker died or failed to start: it no longer counts.
    pub(crate) fn forget(&self) {
        if let Ok(mut g) = self.idle.lock() {
            g.1 = g.1.saturating_sub(1);
        }
        self.freed.notify_one();
    }
}

/// Writes one length-prefixed frame.
pub(crate) fn frame(w: &mut impl Write, data: &[u8]) -> std::io::Result<()> {
    w.write_all(&(data.len() as u32).to_be_bytes())?;
    w.write_all(data)
}

/// Reads one response frame: its kind byte and payload.
pub(crate) fn read_response(r: &mut impl Read) -> std::io::Result<(u8, Vec<u8>)> {
    let mut kind = [0u8; 1];
    r.read_exact(&mut kind)?;
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
    r.read_exact(&mut payload)?;
    Ok((kind[0], payload))
}
