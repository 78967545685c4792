//! DataFrame API and writer behaviour on the bundled flights data.

use std::path::{Path, PathBuf};

use ember_core::{SaveMode, SparkSession};

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flights/data").join(name).display().to_string()
}

fn spark() -> SparkSession {
    SparkSession::builder()
        .master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .get_or_create()
        .expect("session")
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(d: &Path, base: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Replaces the 36-char job uuid in a part file name with `<uuid>`.
fn mask_uuid(name: &str) -> String {
    let bytes: Vec<char> = name.chars().collect();
    if let Some(pos) = name.find("part-") {
        let start = pos + "part-00000-".len();
        if bytes.len() >= start + 36 {
            let mut s: String = bytes[..start].iter().collect();
            s.push_str("<uuid>");
            s.extend(&bytes[start + 36..]);
            return s;
        }
    }
    name.to_string()
}

#[tokio::test]
async fn write_layout_matches_spark() {
    let s = spark();
    s.sql(&format!("CREATE TEMPORARY VIEW flights USING csv OPTIONS (path '{}', header 'true', inferSchema 'true', nullValue 'NA')", data("flights.csv.gz")))
        .await
        .unwrap();
    let df = s.sql("SELECT origin, carrier, COUNT(*) AS n FROM flights GROUP BY origin, carrier").await.unwrap();
    let d = tempfile::tempdir().unwrap();
    let pq = d.path().join("pq");
    df.repartition(2).unwrap().write().partition_by(&["origin"]).mode(SaveMode::Overwrite).parquet(pq.to_str().unwrap()).await.unwrap();
    let got: Vec<String> = files_under(&pq).iter().map(|f| mask_uuid(f)).collect();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden/_write_layout/layout.txt");
    let want_pq: Vec<String> = if golden.exists() {
        std::fs::read_to_string(&golden)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("pq/") && !l.contains(".crc"))
            .map(|l| l.trim_start_matches("pq/").to_string())
            .collect()
    } else {
        vec![
            "_SUCCESS".into(),
            "origin=EWR/part-00000-<uuid>.c000.snappy.parquet".into(),
            "origin=EWR/part-00001-<uuid>.c000.snappy.parquet".into(),
            "origin=JFK/part-00000-<uuid>.c000.snappy.parquet".into(),
            "origin=JFK/part-00001-<uuid>.c000.snappy.parquet".into(),
            "origin=LGA/part-00000-<uuid>.c000.snappy.parquet".into(),
            "origin=LGA/part-00001-<uuid>.c000.snappy.parquet".into(),
        ]
    };
    let mut want_pq = want_pq;
    want_pq.sort();
    assert_eq!(got, want_pq);
    // read back with partition discovery
    let back = s.read().parquet(&[pq.to_str().unwrap()]).await.unwrap();
    assert!(back.columns().contains(&"origin".to_string()));
    assert_eq!(back.count().await.unwrap(), df.count().await.unwrap());

    // single CSV file with header, ordered
    let csv = d.path().join("csv");
    let ordered = df.coalesce(1).unwrap().order_by(vec![
        datafusion::prelude::col("origin").sort(true, true),
        datafusion::prelude::col("carrier").sort(true, true),
    ]).unwrap();
    ordered.write().option("header", "true").mode(SaveMode::Overwrite).csv(csv.to_str().unwrap()).await.unwrap();
    let files: Vec<String> = files_under(&csv).iter().map(|f| mask_uuid(f)).collect();
    assert_eq!(files, vec!["_SUCCESS", "part-00000-<uuid>-c000.csv"]);
    let part = std::fs::read_dir(&csv).unwrap().flatten().map(|e| e.path()).find(|p| p.to_string_lossy().ends_with(".csv")).unwrap();
    let text = std::fs::read_to_string(part).unwrap();
    let golden_csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/golden/_write_layout/csv_part_content.csv");
    if golden_csv.exists() {
        assert_eq!(text, std::fs::read_to_string(golden_csv).unwrap());
    } else {
        assert!(text.starts_with("origin,carrier,n\nEWR,9E,1268\n"), "{text}");
    }
}

#[tokio::test]
async fn save_modes_and_atomic_overwrite() {
    let s = spark();
    let d = tempfile::tempdir().unwrap();
    let out: PathBuf = d.path().join("o");
    let p = out.to_str().unwrap();
    let one = s.sql("SELECT 1 AS x").await.unwrap();
    one.write().parquet(p).await.unwrap();
    let e = one.write().parquet(p).await.unwrap_err();
    assert_eq!(e.error_class, "PATH_ALREADY_EXISTS");
    one.write().mode(SaveMode::Ignore).parquet(p).await.unwrap();
    one.write().mode(SaveMode::Append).parquet(p).await.unwrap();
    assert_eq!(s.read().parquet(&[p]).await.unwrap().count().await.unwrap(), 2);
    // A failing overwrite leaves the old output in place.
    let bad = s.sql("SELECT CAST('oops' AS INT) AS x").await.unwrap();
    assert!(bad.write().mode(SaveMode::Overwrite).parquet(p).await.is_err());
    assert_eq!(s.read().parquet(&[p]).await.unwrap().count().await.unwrap(), 2);
    one.write().mode(SaveMode::Overwrite).parquet(p).await.unwrap();
    assert_eq!(s.read().parquet(&[p]).await.unwrap().count().await.unwrap(), 1);
    assert!(out.join("_SUCCESS").exists());
}

#[tokio::test]
async fn dataframe_api_basics() {
    use datafusion::prelude::{col, lit};
    let s = spark();
    let airlines = s.read().option("header", "true").option("inferSchema", "true").csv(&[&data("airlines.csv.gz")]).await.unwrap();
    assert_eq!(airlines.tree_string(), "root\n |-- carrier: string (nullable = true)\n |-- name: string (nullable = true)\n");
    let f = airlines.filter(col("carrier").eq(lit("UA"))).unwrap();
    assert_eq!(f.count().await.unwrap(), 1);
    let renamed = airlines.with_column_renamed("name", "airline_name").unwrap();
    assert_eq!(renamed.columns(), vec!["carrier", "airline_name"]);
    assert_eq!(airlines.with_column_renamed("nope", "x").unwrap().columns(), vec!["carrier", "name"]);
    let sel = airlines.select_expr(&["upper(carrier) AS c", "length(name) AS l"]).unwrap();
    assert_eq!(sel.columns(), vec!["c", "l"]);
    let u = airlines.union(&airlines).unwrap();
    assert_eq!(u.count().await.unwrap(), 32);
    assert_eq!(u.distinct().unwrap().count().await.unwrap(), 16);
    assert_eq!(u.drop_duplicates(&["carrier"]).unwrap().count().await.unwrap(), 16);
    let j = airlines.join(&airlines.with_column_renamed("name", "n2").unwrap(), &["carrier"], "left_semi").unwrap();
    assert_eq!(j.count().await.unwrap(), 16);
    let top = airlines.order_by(vec![col("carrier").sort(false, false)]).unwrap().limit(2).unwrap();
    let text = top.show_string(20, 20).await.unwrap();
    assert_eq!(text, "+-------+--------------------+\n|carrier|                name|\n+-------+--------------------+\n|     YV|  Mesa Airlines Inc.|\n|     WN|Southwest Airline...|\n+-------+--------------------+\n");
    assert!(airlines.drop(&["name"]).unwrap().columns() == vec!["carrier"]);
}
