//! Spark's behaviour recorded as spec files (`tests/spark_cases/*.slt`, written by
//! `tests/spark_cases/record.py` from Apache Spark itself): each query's schema
//! (`simpleString`) and `show(20, truncate=False)` text, or its error class, must be
//! ember's too. The session runs in UTC on `local[1]`, as the recording did.

use std::path::{Path, PathBuf};

use ember_core::SparkSession;

/// One recorded case: the query and what Spark answered.
struct Case {
    file: String,
    line: usize,
    sql: String,
    want: Want,
}

enum Want {
    Table { schema: String, show: String },
    Error(String),
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/spark_cases")
}

/// The cases of one `.slt` file (format in `record.py`).
fn parse(file: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(file).expect("readable spec file");
    let name = file
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let start = i + 1;
        if l == "query" {
            let mut sql = Vec::new();
            i += 1;
            while i < lines.len() && lines[i] != "----" {
                sql.push(lines[i]);
                i += 1;
            }
            i += 1;
            let schema = lines.get(i).copied().unwrap_or_default().to_string();
            i += 1;
            let mut show = Vec::new();
            while i < lines.len() && !lines[i].is_empty() {
                show.push(lines[i]);
                i += 1;
            }
            out.push(Case {
                file: name.clone(),
                line: start,
                sql: sql.join("\n"),
                want: Want::Table {
                    schema,
                    show: show.join("\n"),
                },
            });
        } else if let Some(class) = l.strip_prefix("error ") {
            let mut sql = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].is_empty() {
                sql.push(lines[i]);
                i += 1;
            }
            out.push(Case {
                file: name.clone(),
                line: start,
                sql: sql.join("\n"),
                want: Want::Error(class.trim().to_string()),
            });
        } else {
            i += 1;
        }
    }
    out
}

fn simple_schema(df: &ember_core::DataFrame) -> String {
    let s = df.schema();
    format!(
        "struct<{}>",
        s.fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), ember_core::types::field_simple_string(f)))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// What ember answers: `Ok((schema, show))` or `Err(error class)`.
async fn run(spark: &SparkSession, sql: &str) -> Result<(String, String), String> {
    let df = spark.sql(sql).await.map_err(|e| e.error_class.clone())?;
    let schema = simple_schema(&df);
    let show = df
        .show_string(20, 0)
        .await
        .map_err(|e| e.error_class.clone())?;
    Ok((schema, show.trim_end_matches('\n').to_string()))
}

#[tokio::test]
async fn recorded_spark_cases_pass() {
    let spark = SparkSession::builder()
        .master("local[1]")
        .config("spark.sql.session.timeZone", "UTC")
        .get_or_create()
        .expect("session");
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/spark_cases")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in tests/spark_cases");
    let mut total = 0;
    let mut failures = Vec::new();
    for f in &files {
        for c in parse(f) {
            total += 1;
            let got = run(&spark, &c.sql).await;
            let ok = match (&c.want, &got) {
                (Want::Table { schema, show }, Ok((s, t))) => s == schema && t == show,
                (Want::Error(class), Err(e)) => e == class,
                _ => false,
            };
            if !ok {
                let want = match &c.want {
                    Want::Table { schema, show } => format!("{schema}\n{show}"),
                    Want::Error(class) => format!("error {class}"),
                };
                let got = match got {
                    Ok((s, t)) => format!("{s}\n{t}"),
                    Err(e) => format!("error {e}"),
                };
                failures.push(format!(
                    "{}:{}: {}\n--- Spark\n{want}\n--- ember\n{got}",
                    c.file, c.line, c.sql
                ));
            }
        }
    }
    assert!(total > 0, "no cases read");
    assert!(
        failures.is_empty(),
        "{} of {total} recorded cases differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
