//! Split reading: an uncompressed CSV cut into many byte ranges is read exactly once,
//! whatever the split boundaries, and malformed rows found in mid-file splits are
//! reported with their byte offset.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::{SessionConfig, SessionContext};
use ember_datasource::csv::{CsvOptions, CsvTable};

fn write_csv(dir: &std::path::Path, rows: usize, bad_every: usize) -> String {
    let mut s = String::from("id,name,amount\n");
    for i in 0..rows {
        if bad_every > 0 && i % bad_every == bad_every - 1 {
            s.push_str(&format!("{i},\"bad, row\",not_a_number\n"));
        } else {
            s.push_str(&format!("{i},\"name, {i}\",{}.5\n", i % 97));
        }
    }
    let p = dir.join("data.csv");
    std::fs::write(&p, s).unwrap();
    p.display().to_string()
}

fn schema() -> Arc<datafusion::arrow::datatypes::Schema> {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("amount", DataType::Float64, true),
    ]))
}

async fn totals(path: &str, split: u64, mode: &str) -> (i64, i64, i64) {
    let opts: HashMap<String, String> = [("header", "true"), ("mode", mode)]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let o = CsvOptions::from_map(&opts, "UTC".parse().unwrap()).unwrap();
    let schema = schema();
    let table = CsvTable::try_new(&Default::default(), &[path.to_string()], o, Some(schema))
        .unwrap()
        .with_max_partition_bytes(split);
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    ctx.register_table("t", Arc::new(table)).unwrap();
    let b = ctx
        .sql("SELECT COUNT(*), COUNT(DISTINCT id), SUM(id) FROM t")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let v = |i: usize| b[0].column(i).as_primitive::<Int64Type>().value(0);
    (v(0), v(1), v(2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_once_across_splits() {
    let d = tempfile::tempdir().unwrap();
    let n = 20_000usize;
    let path = write_csv(d.path(), n, 0);
    let want_sum: i64 = (0..n as i64).sum();
    for split in [1u64 << 30, 100_000, 7_777, 1_000] {
        let (count, distinct, sum) = totals(&path, split, "PERMISSIVE").await;
        assert_eq!(
            (count, distinct, sum),
            (n as i64, n as i64, want_sum),
            "split size {split}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_rows_in_splits_are_counted_with_offsets() {
    let d = tempfile::tempdir().unwrap();
    let n = 10_000usize;
    let path = write_csv(d.path(), n, 1000);
    let (count, _, _) = totals(&path, 50_000, "DROPMALFORMED").await;
    assert_eq!(count, (n - n / 1000) as i64);
    // The report of a split-read table: every malformed row counted once, samples located.
    let opts: HashMap<String, String> = [
        ("header", "true"),
        ("mode", "DROPMALFORMED"),
        ("inferSchema", "false"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let schema = schema();
    let table = CsvTable::try_new(
        &Default::default(),
        &[path.clone()],
        CsvOptions::from_map(&opts, "UTC".parse().unwrap()).unwrap(),
        Some(schema),
    )
    .unwrap()
    .with_max_partition_bytes(50_000);
    let report = table.report();
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    ctx.register_table("t", Arc::new(table)).unwrap();
    ctx.sql("SELECT COUNT(*) FROM t")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let files = report.files();
    let f = files.values().next().unwrap();
    assert_eq!(f.malformed, (n / 1000) as u64);
    assert_eq!(f.rows, n as u64);
    let text = std::fs::read_to_string(&path).unwrap();
    for s in &f.samples {
        // the offset points at the record, and the line (when known) agrees with it
        assert!(text[s.offset as usize..].starts_with(&s.raw), "{s:?}");
        if let Some(l) = s.line {
            assert_eq!(
                text[..s.offset as usize].matches('\n').count() as u64 + 1,
                l
            );
        }
    }
    assert!(
        f.samples.iter().any(|s| s.line.is_none()),
        "mid-file splits report byte offsets: {:?}",
        f.samples
    );
}
