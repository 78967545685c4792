//! End-to-end tests of the `ember` binary on real files.

use std::path::Path;
use std::process::Command;

fn ember() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ember"));
    c.env("EMBER_LOG", "error");
    c
}

/// Runs `ember` with `args` (and `stdin` text, if any), asserts success, returns stdout.
fn run_ok(args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut cmd = ember();
    cmd.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn repo() -> std::path::PathBuf {
    Path::new(
        &std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string()),
    )
    .join("../..")
}

#[test]
fn sql_prints_tables_csv_and_json() {
    assert_eq!(
        run_ok(
            &["sql", "-e", "SELECT 1 AS one, 'a,b' AS s, 7 / 2 AS d"],
            None
        ),
        "+---+---+---+\n|one|s  |d  |\n+---+---+---+\n|1  |a,b|3.5|\n+---+---+---+\n"
    );
    assert_eq!(
        run_ok(
            &[
                "sql",
                "--output",
                "csv",
                "-e",
                "SELECT 1 AS one, 'a,b' AS s"
            ],
            None
        ),
        "one,s\n1,\"a,b\"\n"
    );
    assert_eq!(
        run_ok(
            &[
                "sql",
                "--output",
                "json",
                "-e",
                "SELECT 1 AS one, CAST(NULL AS STRING) AS s"
            ],
            None
        ),
        "{\"one\":1,\"s\":null}\n"
    );
}

#[test]
fn errors_exit_non_zero_with_class_on_stderr() {
    let out = ember()
        .args(["sql", "-e", "SELECT carier FROM (SELECT 1 AS carrier)"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION]")
            && err.contains("`carrier`"),
        "{err}"
    );
    let out = ember()
        .args(["sql", "-f", "/no/such/file.sql"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file.sql"));
    let out = ember()
        .args(["sql", "--master", "yarn", "-e", "SELECT 1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn sql_file_and_stdin_scripts() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("q.sql");
    let script =
        "-- a comment; with a semicolon\nSET spark.sql.shuffle.partitions=3;\nSELECT 2 AS two;\n";
    std::fs::write(&f, script).unwrap();
    let want = "key,value\nspark.sql.shuffle.partitions,3\ntwo\n2\n";
    assert_eq!(
        run_ok(&["sql", "--output", "csv", "-f", f.to_str().unwrap()], None),
        want
    );
    // Without -e/-f and with a pipe on stdin, the script is read from stdin.
    assert_eq!(run_ok(&["sql", "--output", "csv"], Some(script)), want);
}

#[test]
fn submit_runs_the_flights_pipeline() {
    let d = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(repo().join("examples"), d.path().join("examples")).unwrap();
    let out = ember()
        .current_dir(d.path())
        .args([
            "submit",
            "examples/flights/pipeline.sql",
            "--master",
            "local[2]",
            "--conf",
            "spark.sql.session.timeZone=UTC",
            "--report",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("|United Air Lines Inc.      |58665  |"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with('|')).count(),
        17,
        "{stdout}"
    );
    assert!(
        stderr.contains("flights.csv.gz: 336776 rows, 0 malformed"),
        "{stderr}"
    );
    let trusted = d.path().join("target/flights-lake/trusted/flights");
    assert!(trusted.join("_SUCCESS").exists());
    let months: Vec<_> = std::fs::read_dir(&trusted)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("flight_month="))
        .collect();
    assert_eq!(months.len(), 12);
    // re-running replaces the zones (CREATE OR REPLACE TABLE)
    let again = ember()
        .current_dir(d.path())
        .args([
            "submit",
            "examples/flights/pipeline.sql",
            "--master",
            "local[2]",
            "--conf",
            "spark.sql.session.timeZone=UTC",
        ])
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&again.stdout), stdout);
}

#[test]
fn conf_lists_spark_keys() {
    let out = ember().arg("conf").output().unwrap();
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("spark.sql.shuffle.partitions") && s.contains("spark.task.maxFailures"));
}

#[test]
fn ingest_runs_the_inaturalist_example_and_reports() {
    // A copy of the example job next to a copy of its data, so the test writes only
    // into a temporary directory.
    let tmp = tempfile::tempdir().unwrap();
    let ex = repo().join("examples/inaturalist");
    std::fs::create_dir_all(tmp.path().join("data")).unwrap();
    for f in ["photos.csv.gz", "embeddings.parquet"] {
        std::fs::copy(ex.join("data").join(f), tmp.path().join("data").join(f)).unwrap();
    }
    std::fs::copy(ex.join("job.toml"), tmp.path().join("job.toml")).unwrap();
    let job = tmp.path().join("job.toml");
    let job = job.to_str().unwrap();
    let out = run_ok(&["ingest", job], None);
    assert!(out.contains("job photos-to-lance: complete"), "{out}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(name))
            .map(|l| l.split_whitespace().last().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    // 37 sample rows, 27 distinct photos (10 photos appear under two observations).
    assert_eq!(line("read"), "37", "{out}");
    assert_eq!(line("duplicates merged"), "10", "{out}");
    assert_eq!(line("sink rows"), "27", "{out}");
    assert!(tmp.path().join("out/lancedb/photos.lance").is_dir());
    // Re-running without --resume is refused with the way out named.
    let again = ember().args(["ingest", job]).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
    // --report prints the stored summary; --resume has nothing left to do.
    let report = run_ok(&["ingest", job, "--report"], None);
    assert!(
        report.contains("sink rows") && report.contains("27"),
        "{report}"
    );
    let resumed = run_ok(&["ingest", job, "--resume"], None);
    assert!(
        resumed.contains("tasks run/skipped") && resumed.contains("0/"),
        "{resumed}"
    );
}

#[test]
fn deeply_nested_expressions_plan_without_overflowing_the_stack() {
    // A generated `SELECT 1+1+...` is an expression tree as deep as it is long; it
    // overflowed the 8 MiB main-thread stack at about 1,000 terms.
    let sql = format!("SELECT {} AS total", vec!["1"; 2_000].join("+"));
    let out = run_ok(&["sql", "--output", "csv", "-e", &sql], None);
    assert!(out.lines().any(|l| l.trim() == "2000"), "{out}");
}

#[test]
fn readme_configuration_table_is_generated() {
    let out = run_ok(&["conf", "--markdown"], None);
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find("<!-- conf-table -->\n").unwrap() + "<!-- conf-table -->\n".len();
    let end = readme.find("<!-- /conf-table -->").unwrap();
    assert_eq!(
        &readme[start..end],
        out,
        "run `ember conf --markdown` into the README"
    );
}

#[test]
fn unknown_conf_keys_warn_once_and_bad_values_fail() {
    let out = ember()
        .args(["sql", "--conf", "spark.sql.shufle.partitions=4"])
        .args(["--conf", "spark.sql.shufle.partitions=5", "-e", "SELECT 1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("spark.sql.shufle.partitions").count(),
        1,
        "{err}"
    );
    let bad = ember()
        .args([
            "sql",
            "--conf",
            "spark.sql.ansi.enabled=maybe",
            "-e",
            "SELECT 1",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("INVALID_CONF_VALUE.TYPE_MISMATCH"));
}
