//! The golden-case harness shared by `golden.rs` (local data) and `object_store.rs`
//! (the same data in an S3 bucket).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ember_core::SparkSession;
use serde_json::Value;

/// `$EMBER_GOLDEN_DIR`, else `shared/golden` found by [`super::shared_dir`].
pub fn golden_dir() -> PathBuf {
    if let Ok(d) = std::env::var("EMBER_GOLDEN_DIR") {
        return PathBuf::from(d);
    }
    super::shared_dir("golden", "VIEWS.sql")
}

pub fn data_dir() -> PathBuf {
    if let Ok(d) = std::env::var("EMBER_DATA_DIR") {
        return PathBuf::from(d);
    }
    golden_dir().join("../data")
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                return i == j;
            }
            let (f, g) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            f == g || ((f - g).abs() <= 1e-9 * f.abs().max(g.abs()))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

fn rows_json(
    batches: &[datafusion::arrow::record_batch::RecordBatch],
    spark: &SparkSession,
) -> Vec<Value> {
    let fo = spark.format_options();
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            out.push(Value::Array(
                b.columns()
                    .iter()
                    .map(|c| ember_core::format::value_json(c.as_ref(), r, &fo))
                    .collect(),
            ));
        }
    }
    out
}

pub async fn run_case(spark: &SparkSession, dir: &Path) -> Result<(), String> {
    let query = std::fs::read_to_string(dir.join("query.sql")).map_err(|e| e.to_string())?;
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("meta.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let result = async {
        let df = spark.sql(&query).await?;
        let batches = df.collect().await?;
        Ok::<_, ember_core::EmberError>((df, batches))
    }
    .await;
    if let Some(err) = meta.get("error").and_then(|e| e.as_str()) {
        let want = err
            .split('[')
            .nth(1)
            .and_then(|s| s.split(']').next())
            .unwrap_or("");
        return match result {
            Ok(_) => Err(format!("expected error {want}, query succeeded")),
            Err(e) if e.error_class == want => Ok(()),
            Err(e) => Err(format!("expected error class {want}, got {e}")),
        };
    }
    let (df, batches) = result.map_err(|e| format!("query failed: {e}"))?;
    let mut problems = Vec::new();
    // schema
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("schema.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let ours: Vec<Value> = df
        .schema()
        .fields()
        .iter()
        .map(|f| serde_json::json!({"name": f.name(), "type": ember_core::types::simple_string(f.data_type()), "nullable": f.is_nullable()}))
        .collect();
    if Value::Array(ours.clone()) != schema {
        problems.push(format!(
            "schema differs:\n  ours:  {}\n  spark: {}",
            Value::Array(ours),
            schema
        ));
    }
    // printSchema
    let ps = std::fs::read_to_string(dir.join("printSchema.txt")).unwrap_or_default();
    if df.tree_string() != ps {
        problems.push(format!(
            "printSchema differs:\n{}\n--- spark:\n{}",
            df.tree_string(),
            ps
        ));
    }
    // rows
    let want: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("rows.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let mut got = rows_json(&batches, spark);
    let ordered = meta
        .get("ordered")
        .and_then(|o| o.as_bool())
        .unwrap_or(false);
    let mut want_sorted = want.clone();
    if !ordered {
        got.sort_by_key(|v| v.to_string());
        want_sorted.sort_by_key(|v| v.to_string());
    }
    if got.len() != want_sorted.len() {
        problems.push(format!(
            "row count {} vs spark {}",
            got.len(),
            want_sorted.len()
        ));
    } else if let Some((i, (g, w))) = got
        .iter()
        .zip(&want_sorted)
        .enumerate()
        .find(|(_, (g, w))| !values_equal(g, w))
    {
        problems.push(format!("row {i} differs:\n  ours:  {g}\n  spark: {w}"));
    }
    // show
    let show = std::fs::read_to_string(dir.join("show.txt")).unwrap_or_default();
    let ours_show =
        ember_core::format::show_string(&df.columns(), &batches, 20, 20, &spark.format_options());
    if ours_show != show {
        problems.push(format!("show differs:\n{ours_show}\n--- spark:\n{show}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Creates the views of `VIEWS.sql` with `${DATA}` replaced by `data` (a local
/// directory or a bucket URL).
pub async fn create_views(spark: &SparkSession, data: &str) {
    let views = std::fs::read_to_string(golden_dir().join("VIEWS.sql")).expect("VIEWS.sql");
    for stmt in ember_core::sql::split_statements(&views.replace("${DATA}", data)) {
        spark
            .sql(&stmt)
            .await
            .unwrap_or_else(|e| panic!("view statement failed: {stmt}\n{e}"));
    }
}

/// Every case directory, sorted.
pub fn case_dirs() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("read golden")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("query.sql").exists())
        .collect();
    cases.sort();
    cases
}

/// Names of the cases listed in `tests/golden_known_failures.txt`.
pub fn known_failures() -> Vec<String> {
    let known_file = Path::new(
        &std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string()),
    )
    .join("tests/golden_known_failures.txt");
    std::fs::read_to_string(&known_file)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}
