//! Client sessions: one ember [`SparkSession`] per Spark Connect `session_id`, so
//! temporary views and runtime configuration are isolated between clients, as in
//! Spark Connect. A session holds its running operations and the artifacts
//! (cached local relations, Python files) its client uploaded.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ember_core::{DataFrame, SparkSession};

use crate::error::{ConnectError, Result};
use crate::execute::Operation;

/// How new sessions are made: the server's `--master` and `--conf` settings.
#[derive(Clone, Debug, Default)]
pub struct SessionDefaults {
    /// `spark.master` of every session (`local[*]` when unset).
    pub master: Option<String>,
    /// Configuration every session starts with (`--conf k=v`).
    pub conf: BTreeMap<String, String>,
}

/// One client's session.
pub struct ConnectSession {
    /// The client's `session_id`.
    pub session_id: String,
    /// This server's id for the session (`server_side_session_id`): clients notice a
    /// server restart when it changes.
    pub server_side_session_id: String,
    /// The ember session behind it.
    pub spark: SparkSession,
    /// Running or unreleased operations by `operation_id`.
    pub operations: Mutex<HashMap<String, Arc<Operation>>>,
    /// Uploaded artifacts by name (`cache/<sha256>`, `pyfiles/x.py`...).
    pub artifacts: Mutex<HashMap<String, Bytes>>,
    /// Directory Python files and archives the client ships are written to (put on
    /// the Python workers' `sys.path`).
    pub artifact_dir: PathBuf,
    /// Errors of failed operations kept for `FetchErrorDetails`, by error id.
    pub errors: Mutex<HashMap<String, String>>,
    /// Queries `spark.sql` planned, waiting for the plan that uses them.
    planned: Mutex<PlannedSql>,
    /// The server's `global_temp` database (global temporary views).
    pub global_temp: Arc<datafusion::catalog::MemorySchemaProvider>,
    /// Persisted (`cache`/`persist`) relations, by their encoded plan.
    pub persisted: Mutex<crate::persist::PersistedMap>,
    /// Checkpointed DataFrames by `CachedRemoteRelation` id.
    pub checkpoints: Mutex<HashMap<String, DataFrame>>,
}

/// How many `spark.sql` queries a session keeps planned for their first use.
const PLANNED_SQL_CAPACITY: usize = 16;

/// Queries planned by a `SqlCommand` (`spark.sql(q)` plans a query at once, to report
/// its errors there), kept for the first plan that contains the same `Sql` relation
/// (`spark.sql(q).collect()` sends it right after), so that a query is planned once
/// per `spark.sql` call, as Spark analyzes the DataFrame it returns once.
/// Anything that may change what a statement means (a command, a configuration
/// change, a catalog call) empties it and starts a new generation; a query planned
/// during an older generation is not kept.
#[derive(Default)]
struct PlannedSql {
    generation: u64,
    /// Bound statement text → its DataFrame, oldest first.
    entries: VecDeque<(String, DataFrame)>,
}

impl ConnectSession {
    /// Cancels every operation of the session (`ReleaseSession`, `interruptAll`).
    pub fn interrupt_all(&self) -> Vec<String> {
        let ops: Vec<Arc<Operation>> = match self.operations.lock() {
            Ok(o) => o.values().cloned().collect(),
            Err(_) => Vec::new(),
        };
        ops.iter()
            .filter(|o| o.interrupt())
            .map(|o| o.id.clone())
            .collect()
    }

    /// The operation `id`, if it still exists.
    pub fn operation(&self, id: &str) -> Option<Arc<Operation>> {
        self.operations.lock().ok()?.get(id).cloned()
    }

    /// The current generation of session state (see [`ConnectSession::state_changed`]).
    pub fn generation(&self) -> u64 {
        self.planned
            .lock()
            .map(|p| p.generation)
            .unwrap_or(u64::MAX)
    }

    /// Records, after the fact, that session state (views, configuration, functions,
    /// catalog) may have changed: queries planned before are dropped, and a planning
    /// still under way when it is called will not be kept.
    pub fn state_changed(&self) {
        if let Ok(mut p) = self.planned.lock() {
            p.generation = p.generation.wrapping_add(1);
            p.entries.clear();
        }
    }

    /// Keeps `df`, planned from the bound statement `text` during `generation`, for
    /// [`ConnectSession::take_planned`]; dropped when state changed since.
    pub fn keep_planned(&self, generation: u64, text: &str, df: DataFrame) {
        if let Ok(mut p) = self.planned.lock() {
            if p.generation != generation {
                return;
            }
            if p.entries.len() >= PLANNED_SQL_CAPACITY {
                p.entries.pop_front();
            }
            p.entries.push_back((text.to_string(), df));
        }
    }

    /// The DataFrame kept for the bound statement `text`, removed from the cache.
    pub fn take_planned(&self, text: &str) -> Option<DataFrame> {
        let mut p = self.planned.lock().ok()?;
        let i = p.entries.iter().position(|(t, _)| t == text)?;
        p.entries.remove(i).map(|(_, df)| df)
    }

    /// Forgets operation `id` (its buffered responses are freed).
    pub fn remove_operation(&self, id: &str) {
        if let Ok(mut o) = self.operations.lock() {
            if let Some(op) = o.remove(id) {
                op.interrupt();
            }
        }
    }
}

impl Drop for ConnectSession {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.artifact_dir);
    }
}

/// All sessions of a server.
pub struct SessionManager {
    defaults: SessionDefaults,
    sessions: Mutex<HashMap<String, Arc<ConnectSession>>>,
    root: PathBuf,
    /// The `global_temp` database: global temporary views, shared by every session
    /// of this server (Spark's `spark.sql.globalTempDatabase`).
    global_temp: Arc<datafusion::catalog::MemorySchemaProvider>,
}

impl SessionManager {
    /// A manager creating sessions with `defaults`; artifacts go under a fresh
    /// directory in the system temp dir.
    pub fn new(defaults: SessionDefaults) -> SessionManager {
        let root = std::env::temp_dir().join(format!("ember-connect-{}", std::process::id()));
        SessionManager {
            defaults,
            sessions: Mutex::new(HashMap::new()),
            root,
            global_temp: Arc::new(datafusion::catalog::MemorySchemaProvider::new()),
        }
    }

    /// The session of `session_id`, created on first use.
    ///
    /// Errors: `INVALID_HANDLE.FORMAT` when the id is not a UUID (as Spark);
    /// `INVALID_HANDLE.SESSION_CHANGED` when the client saw another server-side id
    /// (the server restarted or the session was released); configuration errors.
    pub fn get_or_create(
        &self,
        session_id: &str,
        observed: Option<&str>,
    ) -> Result<Arc<ConnectSession>> {
        if uuid::Uuid::parse_str(session_id).is_err() {
            return Err(ConnectError::Handle {
                class: "INVALID_HANDLE.FORMAT",
                message: format!("The handle {session_id} is invalid. Handle must be an UUID string of the format '00112233-4455-6677-8899-aabbccddeeff'"),
            });
        }
        let mut sessions = self
            .sessions
            .lock()
            .map_err(|_| ConnectError::invalid("session table poisoned"))?;
        if let Some(s) = sessions.get(session_id) {
            if let Some(o) = observed {
                if o != s.server_side_session_id {
                    return Err(ConnectError::Handle {
                        class: "INVALID_HANDLE.SESSION_CHANGED",
                        message: format!("The handle {session_id} is invalid. The existing Spark server driver instance has restarted. Please reconnect."),
                    });
                }
            }
            return Ok(s.clone());
        }
        if observed.is_some() {
            return Err(ConnectError::Handle {
                class: "INVALID_HANDLE.SESSION_CHANGED",
                message: format!("The handle {session_id} is invalid. The existing Spark server driver instance has restarted. Please reconnect."),
            });
        }
        let mut b = SparkSession::builder()
            .master(self.defaults.master.as_deref().unwrap_or("local[*]"))
            .app_name("ember connect")
            .extension_planner(Arc::new(crate::python_map::PythonMapPlanner));
        for (k, v) in &self.defaults.conf {
            b = b.config(k, v);
        }
        let spark = b.get_or_create()?;
        let default_catalog = spark
            .context()
            .state()
            .config_options()
            .catalog
            .default_catalog
            .clone();
        if let Some(catalog) = spark.context().catalog(&default_catalog) {
            catalog
                .register_schema("global_temp", self.global_temp.clone())
                .map_err(ember_core::EmberError::from)?;
        }
        let artifact_dir = self.root.join(session_id);
        let s = Arc::new(ConnectSession {
            session_id: session_id.to_string(),
            server_side_session_id: uuid::Uuid::new_v4().to_string(),
            spark,
            operations: Mutex::new(HashMap::new()),
            artifacts: Mutex::new(HashMap::new()),
            artifact_dir,
            errors: Mutex::new(HashMap::new()),
            planned: Mutex::new(PlannedSql::default()),
            persisted: Mutex::new(HashMap::new()),
            global_temp: self.global_temp.clone(),
            checkpoints: Mutex::new(HashMap::new()),
        });
        sessions.insert(session_id.to_string(), s.clone());
        Ok(s)
    }

    /// Ends a session: cancels its operations and drops its state.
    pub fn release(&self, session_id: &str) -> Option<Arc<ConnectSession>> {
        let s = self.sessions.lock().ok()?.remove(session_id)?;
        s.interrupt_all();
        Some(s)
    }

    /// Number of live sessions.
    pub fn len(&self) -> usize {
        self.sessions.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// True when no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The detach timeout: how long an operation whose client went away is kept for
    /// a `ReattachExecute` before it is cancelled and freed
    /// (`spark.connect.execute.manager.detachedTimeout`, ms or with a unit; 30 s).
    pub fn detached_timeout(&self) -> std::time::Duration {
        self.defaults
            .conf
            .get("spark.connect.execute.manager.detachedTimeout")
            .and_then(|v| parse_duration(v))
            .unwrap_or(std::time::Duration::from_secs(30))
    }
}

/// `"500ms"`, `"2s"`, `"5m"`, `"1500"` (ms) → duration.
pub fn parse_duration(v: &str) -> Option<std::time::Duration> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (n, unit) = v.split_at(split);
    let n: u64 = n.parse().ok()?;
    let ms = match unit.trim() {
        "" | "ms" => n,
        "s" => n * 1000,
        "m" | "min" => n * 60_000,
        "h" => n * 3_600_000,
        _ => return None,
    };
    Some(std::time::Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("2s"),
            Some(std::time::Duration::from_secs(2))
        );
        assert_eq!(
            parse_duration("1500"),
            Some(std::time::Duration::from_millis(1500))
        );
        assert_eq!(parse_duration("x"), None);
    }

    #[test]
    fn sessions_are_isolated_and_checked() {
        let m = SessionManager::new(SessionDefaults {
            master: Some("local[1]".into()),
            ..Default::default()
        });
        let a = m
            .get_or_create("00112233-4455-6677-8899-aabbccddeeff", None)
            .unwrap();
        let b = m
            .get_or_create("00112233-4455-6677-8899-aabbccddeef0", None)
            .unwrap();
        a.spark
            .conf_set("spark.sql.shuffle.partitions", "3")
            .unwrap();
        assert_eq!(
            b.spark.conf_get("spark.sql.shuffle.partitions").as_deref(),
            Some("200")
        );
        assert!(m.get_or_create("not-a-uuid", None).is_err());
        let again = m
            .get_or_create("00112233-4455-6677-8899-aabbccddeeff", Some("other"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(again.contains("SESSION_CHANGED"), "{again}");
    }
}
