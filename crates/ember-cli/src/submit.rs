//! `ember submit job.py [args...]`: spark-submit's contract for PySpark programs.
//!
//! ember starts its Spark Connect server in process, on a free loopback port with a
//! random bearer token, runs the program with `SPARK_REMOTE=sc://localhost:PORT` and
//! `SPARK_CONNECT_AUTHENTICATE_TOKEN` set (so the stock client's
//! `SparkSession.builder.getOrCreate()` connects to it), leaves the program's stdin,
//! stdout and stderr alone, stops the server when the program exits and exits with
//! the program's status (128 + signal when a signal ended it, as a shell reports).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context};

/// spark-submit's options that ember takes before the script (`--master` and
/// `--conf` come from the shared session options).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct SubmitArgs {
    /// Application name (`spark.app.name`); the program's `appName(..)` overrides it.
    #[arg(long)]
    pub name: Option<String>,
    /// Comma-separated .py, .zip or .egg files put on the program's and the Python
    /// workers' module path (`spark.submit.pyFiles`).
    #[arg(long = "py-files", value_name = "FILES")]
    pub py_files: Option<String>,
    /// Comma-separated files the job reads (`spark.files`); local mode reads them in place.
    #[arg(long, value_name = "FILES")]
    pub files: Option<String>,
    /// Memory for execution (`spark.driver.memory`, e.g. 2g): queries over it spill.
    #[arg(long = "driver-memory", value_name = "MEM")]
    pub driver_memory: Option<String>,
    /// Accepted for spark-submit scripts (`spark.executor.memory`); local mode uses
    /// the driver's memory.
    #[arg(long = "executor-memory", value_name = "MEM")]
    pub executor_memory: Option<String>,
    /// Accepted for spark-submit scripts: `client` (the only mode of a local master).
    #[arg(long = "deploy-mode", value_name = "MODE")]
    pub deploy_mode: Option<String>,
}

/// The Python that runs the program, in spark-submit's order:
/// `spark.pyspark.driver.python`, `$PYSPARK_DRIVER_PYTHON`, `spark.pyspark.python`,
/// `$PYSPARK_PYTHON`, then `python3`.
pub fn driver_python(conf: &BTreeMap<String, String>) -> String {
    conf.get("spark.pyspark.driver.python")
        .cloned()
        .or_else(|| non_empty_env("PYSPARK_DRIVER_PYTHON"))
        .or_else(|| conf.get("spark.pyspark.python").cloned())
        .or_else(|| non_empty_env("PYSPARK_PYTHON"))
        .unwrap_or_else(|| "python3".into())
}

fn non_empty_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

/// Modules a PySpark program over Spark Connect needs, with the pip package of each.
const REQUIRED: &[(&str, &str)] = &[
    ("pyspark", "pyspark-client==4.2.0"),
    ("pandas", "pandas<3"),
    ("pyarrow", "pyarrow"),
    ("grpc", "grpcio"),
    ("grpc_status", "grpcio-status"),
    ("google.rpc", "googleapis-common-protos"),
    ("zstandard", "zstandard"),
];

/// Checks that `python` runs and has the client's packages.
///
/// Errors: one message naming the interpreter, every missing package and the pip
/// command that installs them.
pub fn check_python(python: &str) -> anyhow::Result<()> {
    let probe = format!(
        "import importlib.util as u\nfor m in {:?}:\n    try:\n        ok = u.find_spec(m) is not None\n    except ModuleNotFoundError:\n        ok = False\n    if not ok:\n        print(m)\n",
        REQUIRED.iter().map(|(m, _)| *m).collect::<Vec<_>>()
    );
    let out = Command::new(python)
        .arg("-c")
        .arg(&probe)
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!("cannot run the Python interpreter '{python}' (set PYSPARK_PYTHON to a Python 3 with pyspark-client, pandas and pyarrow)")
        })?;
    if !out.status.success() {
        bail!(
            "the Python interpreter '{python}' failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let missing: Vec<&str> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|m| {
            REQUIRED
                .iter()
                .find(|(n, _)| *n == m.trim())
                .map(|(_, p)| *p)
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let quoted: Vec<String> = missing.iter().map(|p| format!("'{p}'")).collect();
    bail!(
        "the Python interpreter '{python}' lacks {} needed to run PySpark programs on ember; install with:\n  {python} -m pip install {}",
        missing.join(", "),
        quoted.join(" ")
    )
}

/// Module search path entries for `--py-files`: a `.py` file's directory, a zip or
/// egg itself (Python imports from both), absolute.
///
/// Errors: a listed file that does not exist.
pub fn py_paths(py_files: &str) -> anyhow::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = Vec::new();
    for f in py_files.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let p = std::fs::canonicalize(f).with_context(|| format!("--py-files: {f}"))?;
        let entry = if p.extension().is_some_and(|e| e == "py") {
            p.parent().map(Path::to_path_buf).unwrap_or(p)
        } else {
            p
        };
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// The session configuration `ember submit` gives the in-process server.
pub fn submit_conf(
    master: &str,
    conf: &[String],
    args: &SubmitArgs,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    out.insert("spark.master".to_string(), master.to_string());
    let pairs = [
        ("spark.app.name", &args.name),
        ("spark.submit.pyFiles", &args.py_files),
        ("spark.files", &args.files),
        ("spark.driver.memory", &args.driver_memory),
        ("spark.executor.memory", &args.executor_memory),
        ("spark.submit.deployMode", &args.deploy_mode),
    ];
    for (k, v) in pairs {
        if let Some(v) = v {
            out.insert(k.to_string(), v.clone());
        }
    }
    // `--conf` wins over nothing but is overridden by the dedicated options, as in
    // spark-submit (`--name` beats `--conf spark.app.name=`).
    for kv in conf {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| anyhow!("--conf expects key=value, got '{kv}'"))?;
        crate::warn_unknown_conf(k.trim());
        out.entry(k.trim().to_string())
            .or_insert_with(|| v.trim().to_string());
    }
    if let Some(m) = args.deploy_mode.as_deref() {
        if m != "client" {
            bail!("--deploy-mode {m}: ember runs the program on this machine (client mode)");
        }
    }
    Ok(out)
}

/// Runs a PySpark program under an in-process Spark Connect server and returns its
/// exit status (see the module docs).
///
/// Errors: the Python interpreter is missing or lacks packages; the server cannot
/// bind a loopback port; the program cannot be started.
pub async fn run_python(
    script: &str,
    program_args: &[String],
    conf: BTreeMap<String, String>,
) -> anyhow::Result<i32> {
    let python = driver_python(&conf);
    check_python(&python)?;
    if !Path::new(script).is_file() {
        bail!("cannot open the program {script}: no such file");
    }
    let mut paths = match conf.get("spark.submit.pyFiles") {
        Some(f) => py_paths(f)?,
        None => Vec::new(),
    };
    let mut defaults = ember_connect::SessionDefaults {
        master: conf.get("spark.master").cloned(),
        conf: conf.clone(),
    };
    defaults.conf.remove("spark.master");
    // The Python workers run the program's functions: the program's interpreter
    // unless one is named for workers (Spark: spark.pyspark.python, PYSPARK_PYTHON).
    if !defaults.conf.contains_key("spark.pyspark.python")
        && non_empty_env("PYSPARK_PYTHON").is_none()
    {
        defaults
            .conf
            .insert("spark.pyspark.python".into(), python.clone());
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot bind a loopback port for the Spark Connect server")?;
    let port = listener.local_addr()?.port();
    let token = uuid::Uuid::new_v4().simple().to_string();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ember_connect::serve_listener(
        listener,
        defaults,
        Some(token.clone()),
        async {
            let _ = stop_rx.await;
        },
    ));
    tracing::info!(port, "ember submit: Spark Connect server for {script}");

    let mut cmd = Command::new(&python);
    cmd.arg(script).args(program_args);
    // Connect to this server only: drop settings that would send the client elsewhere.
    for k in [
        "SPARK_CONNECT_MODE_ENABLED",
        "PYSPARK_SUBMIT_ARGS",
        "SPARK_API_MODE",
    ] {
        cmd.env_remove(k);
    }
    // As spark-submit: the driver's string hashes are fixed too (0 unless set).
    if std::env::var_os("PYTHONHASHSEED").is_none() {
        cmd.env("PYTHONHASHSEED", "0");
    }
    cmd.env("SPARK_REMOTE", format!("sc://localhost:{port}"))
        .env("SPARK_CONNECT_AUTHENTICATE_TOKEN", &token);
    // A sitecustomize that lets `builder.master(...)` through (see the file).
    let bootstrap = tempfile::tempdir().context("cannot create a temporary directory")?;
    std::fs::write(bootstrap.path().join("sitecustomize.py"), BOOTSTRAP)?;
    paths.insert(0, bootstrap.path().to_path_buf());
    // RDDs and sparkContext (`ember_pyspark`, activated by the sitecustomize).
    paths.insert(
        1,
        ember_connect::pyspark_package::package_root()
            .context("cannot write the ember_pyspark package")?,
    );
    if let Ok(existing) = std::env::var("PYTHONPATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    cmd.env("PYTHONPATH", std::env::join_paths(&paths)?);
    let status = tokio::task::spawn_blocking(move || cmd.status())
        .await?
        .with_context(|| format!("cannot start {python} {script}"))?;
    let _ = stop_tx.send(());
    match tokio::time::timeout(std::time::Duration::from_secs(5), server).await {
        Ok(Ok(Err(e))) => tracing::warn!("Spark Connect server: {e}"),
        Ok(Err(e)) => tracing::warn!("Spark Connect server task: {e}"),
        _ => {}
    }
    Ok(exit_code(status))
}

/// `sitecustomize.py` for the program's interpreter (see the file's docstring).
const BOOTSTRAP: &str = include_str!("submit_bootstrap.py");

/// A child's exit status as a shell reports it.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedicated_options_win_over_conf() {
        let args = SubmitArgs {
            name: Some("nightly".into()),
            driver_memory: Some("2g".into()),
            ..Default::default()
        };
        let conf = submit_conf(
            "local[2]",
            &[
                "spark.app.name=other".into(),
                "spark.sql.shuffle.partitions=4".into(),
            ],
            &args,
        )
        .unwrap();
        assert_eq!(conf["spark.app.name"], "nightly");
        assert_eq!(conf["spark.driver.memory"], "2g");
        assert_eq!(conf["spark.sql.shuffle.partitions"], "4");
        assert_eq!(conf["spark.master"], "local[2]");
        assert!(submit_conf("local", &["novalue".into()], &SubmitArgs::default()).is_err());
        let cluster = SubmitArgs {
            deploy_mode: Some("cluster".into()),
            ..Default::default()
        };
        assert!(submit_conf("local", &[], &cluster).is_err());
    }

    #[test]
    fn py_files_become_search_paths() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.py");
        let z = dir.path().join("deps.zip");
        std::fs::write(&a, "X = 1\n").unwrap();
        std::fs::write(&z, b"PK").unwrap();
        let list = format!("{},{}, {}", a.display(), z.display(), a.display());
        let got = py_paths(&list).unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(got, vec![root.clone(), root.join("deps.zip")]);
        assert!(py_paths(&format!("{}/missing.py", root.display())).is_err());
    }

    #[test]
    fn missing_python_is_named() {
        let err = check_python("/nonexistent/python3")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/python3"), "{err}");
    }

    #[test]
    fn exit_codes_as_a_shell() {
        let ok = Command::new("sh").args(["-c", "exit 3"]).status().unwrap();
        assert_eq!(exit_code(ok), 3);
        let killed = Command::new("sh")
            .args(["-c", "kill -9 $$"])
            .status()
            .unwrap();
        assert_eq!(exit_code(killed), 137);
    }
}
