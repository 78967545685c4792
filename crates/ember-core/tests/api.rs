//! DataFrame API and writer behaviour on the bundled flights data.

mod common;

use std::path::{Path, PathBuf};

use ember_core::{SaveMode, SparkSession};

fn data(name: &str) -> String {
    Path::new(
        &std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string()),
    )
    .join("../../examples/flights/data")
    .join(name)
    .display()
    .to_string()
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
    let df = s
        .sql("SELECT origin, carrier, COUNT(*) AS n FROM flights GROUP BY origin, carrier")
        .await
        .unwrap();
    let d = tempfile::tempdir().unwrap();
    let pq = d.path().join("pq");
    df.repartition(2)
        .unwrap()
        .write()
        .partition_by(&["origin"])
        .mode(SaveMode::Overwrite)
        .parquet(pq.to_str().unwrap())
        .await
        .unwrap();
    let got: Vec<String> = files_under(&pq).iter().map(|f| mask_uuid(f)).collect();
    let golden = common::shared_dir("golden", "VIEWS.sql").join("_write_layout/layout.txt");
    let want_pq: Vec<String> = std::fs::read_to_string(&golden)
        .expect("golden _write_layout/layout.txt")
        .lines()
        .filter(|l| l.starts_with("pq/") && !l.contains(".crc"))
        .map(|l| l.trim_start_matches("pq/").to_string())
        .collect();
    let mut want_pq = want_pq;
    want_pq.sort();
    assert_eq!(got, want_pq);
    // read back with partition discovery
    let back = s.read().parquet(&[pq.to_str().unwrap()]).await.unwrap();
    assert!(back.columns().contains(&"origin".to_string()));
    assert_eq!(back.count().await.unwrap(), df.count().await.unwrap());

    // single CSV file with header, ordered
    let csv = d.path().join("csv");
    let ordered = df
        .coalesce(1)
        .unwrap()
        .order_by(vec!["origin".into(), "carrier".into()])
        .unwrap();
    ordered
        .write()
        .option("header", "true")
        .mode(SaveMode::Overwrite)
        .csv(csv.to_str().unwrap())
        .await
        .unwrap();
    let files: Vec<String> = files_under(&csv).iter().map(|f| mask_uuid(f)).collect();
    assert_eq!(files, vec!["_SUCCESS", "part-00000-<uuid>-c000.csv"]);
    let part = std::fs::read_dir(&csv)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".csv"))
        .unwrap();
    let text = std::fs::read_to_string(part).unwrap();
    let golden_csv =
        common::shared_dir("golden", "VIEWS.sql").join("_write_layout/csv_part_content.csv");
    assert_eq!(
        text,
        std::fs::read_to_string(golden_csv).expect("golden csv_part_content.csv")
    );
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
    assert_eq!(
        s.read().parquet(&[p]).await.unwrap().count().await.unwrap(),
        2
    );
    // A failing overwrite leaves the old output in place.
    let bad = s.sql("SELECT CAST('oops' AS INT) AS x").await.unwrap();
    assert!(bad
        .write()
        .mode(SaveMode::Overwrite)
        .parquet(p)
        .await
        .is_err());
    assert_eq!(
        s.read().parquet(&[p]).await.unwrap().count().await.unwrap(),
        2
    );
    one.write()
        .mode(SaveMode::Overwrite)
        .parquet(p)
        .await
        .unwrap();
    assert_eq!(
        s.read().parquet(&[p]).await.unwrap().count().await.unwrap(),
        1
    );
    assert!(out.join("_SUCCESS").exists());
}

#[tokio::test]
async fn dataframe_api_basics() {
    use ember_core::{col, lit};
    let s = spark();
    let airlines = s
        .read()
        .option("header", "true")
        .option("inferSchema", "true")
        .csv(&[&data("airlines.csv.gz")])
        .await
        .unwrap();
    assert_eq!(
        airlines.tree_string(),
        "root\n |-- carrier: string (nullable = true)\n |-- name: string (nullable = true)\n"
    );
    let f = airlines.filter(col("carrier").eq(lit("UA"))).unwrap();
    assert_eq!(f.count().await.unwrap(), 1);
    let renamed = airlines
        .with_column_renamed("name", "airline_name")
        .unwrap();
    assert_eq!(renamed.columns(), vec!["carrier", "airline_name"]);
    assert_eq!(
        airlines.with_column_renamed("nope", "x").unwrap().columns(),
        vec!["carrier", "name"]
    );
    let sel = airlines
        .select_expr(&["upper(carrier) AS c", "length(name) AS l"])
        .unwrap();
    assert_eq!(sel.columns(), vec!["c", "l"]);
    let u = airlines.union(&airlines).unwrap();
    assert_eq!(u.count().await.unwrap(), 32);
    assert_eq!(u.distinct().unwrap().count().await.unwrap(), 16);
    assert_eq!(
        u.drop_duplicates(&["carrier"])
            .unwrap()
            .count()
            .await
            .unwrap(),
        16
    );
    let j = airlines
        .join(
            &airlines.with_column_renamed("name", "n2").unwrap(),
            &["carrier"],
            "left_semi",
        )
        .unwrap();
    assert_eq!(j.count().await.unwrap(), 16);
    let top = airlines
        .order_by(vec![col("carrier").desc()])
        .unwrap()
        .limit(2)
        .unwrap();
    let text = top.show_string(20, 20).await.unwrap();
    assert_eq!(text, "+-------+--------------------+\n|carrier|                name|\n+-------+--------------------+\n|     YV|  Mesa Airlines Inc.|\n|     WN|Southwest Airline...|\n+-------+--------------------+\n");
    assert!(airlines.drop(&["name"]).unwrap().columns() == vec!["carrier"]);
}

#[tokio::test]
async fn grouping_windows_na_describe_rows() {
    use ember_core::functions::{avg, count, dense_rank, lag, max, row_number, sum, when};
    use ember_core::{col, lit, Window};
    let s = spark();
    let df = s
        .sql("SELECT * FROM VALUES ('a', 1, 10.0), ('a', 2, NULL), ('b', 3, 30.0), ('b', 3, 40.0), (NULL, 5, 50.0) AS t(k, n, x)")
        .await
        .unwrap();
    // groupBy().agg with Spark's default names
    let g = df
        .group_by(vec![col("k")])
        .agg(vec![sum("n"), avg("x"), count(lit(1)).alias("c"), max("x")])
        .unwrap();
    assert_eq!(g.columns(), vec!["k", "sum(n)", "avg(x)", "c", "max(x)"]);
    let g = g.order_by(vec![col("k").asc()]).unwrap();
    assert_eq!(
        g.show_string(20, 20).await.unwrap(),
        // 10.0 is a decimal(3,1) literal: avg gives decimal(7,5), as Spark.
        "+----+------+--------+---+------+\n|   k|sum(n)|  avg(x)|  c|max(x)|\n+----+------+--------+---+------+\n|NULL|     5|50.00000|  1|  50.0|\n|   a|     3|10.00000|  2|  10.0|\n|   b|     6|35.00000|  2|  40.0|\n+----+------+--------+---+------+\n"
    );
    let counted = df.group_by(vec![col("k")]).count().unwrap();
    assert_eq!(counted.columns(), vec!["k", "count"]);
    // Window functions: int ranks, running sums, lag
    let w = Window::partition_by(vec![col("k")]).order_by(vec![col("n").asc()]);
    let running = Window::partition_by(vec![col("k")])
        .order_by(vec![col("n").asc()])
        .rows_between(
            ember_core::column::UNBOUNDED_PRECEDING,
            ember_core::column::CURRENT_ROW,
        );
    let out = df
        .select_cols(vec![
            col("k"),
            col("n"),
            row_number().over(&w).unwrap().alias("rn"),
            dense_rank().over(&w).unwrap().alias("dr"),
            sum("n").over(&running).unwrap().alias("run"),
            lag("n", 1).over(&w).unwrap().alias("prev"),
        ])
        .unwrap()
        .filter(col("k").eq(lit("b")))
        .unwrap()
        .order_by(vec![col("rn").asc()])
        .unwrap();
    assert_eq!(
        out.tree_string().lines().nth(3).unwrap(),
        " |-- rn: integer (nullable = false)"
    );
    let rows = out.collect_rows().await.unwrap();
    let vals: Vec<String> = rows
        .iter()
        .map(|r| {
            r.values()
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    assert_eq!(vals, vec!["b,3,1,1,3,NULL", "b,3,2,1,6,3"]);
    // when/otherwise
    let flag = df
        .select_cols(vec![when(col("n").gt(lit(2)), lit("big"))
            .otherwise(lit("small"))
            .unwrap()
            .alias("size")])
        .unwrap();
    assert_eq!(
        flag.filter(col("size").eq(lit("big")))
            .unwrap()
            .count()
            .await
            .unwrap(),
        3
    );
    // na.fill / na.drop
    let filled = df
        .na()
        .fill(datafusion::common::ScalarValue::Float64(Some(0.0)), &[])
        .unwrap();
    assert_eq!(
        filled
            .filter(col("x").is_null())
            .unwrap()
            .count()
            .await
            .unwrap(),
        0
    );
    let filled_s = df
        .na()
        .fill(
            datafusion::common::ScalarValue::Utf8(Some("?".into())),
            &["k"],
        )
        .unwrap();
    assert_eq!(
        filled_s
            .filter(col("k").eq(lit("?")))
            .unwrap()
            .count()
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        df.na()
            .drop("any", None, &[])
            .unwrap()
            .count()
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        df.na()
            .drop("all", None, &["k", "x"])
            .unwrap()
            .count()
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        df.na()
            .drop("any", Some(3), &[])
            .unwrap()
            .count()
            .await
            .unwrap(),
        3
    );
    // describe
    let d = df.describe(&["n"]).await.unwrap();
    assert_eq!(
        d.show_string(20, 20).await.unwrap(),
        "+-------+------------------+\n|summary|                 n|\n+-------+------------------+\n|  count|                 5|\n|   mean|               2.8|\n| stddev|1.4832396974191326|\n|    min|                 1|\n|    max|                 5|\n+-------+------------------+\n"
    );
    // first / take as rows
    let first = df
        .order_by(vec![col("n").desc()])
        .unwrap()
        .first()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        first.get_by_name("n"),
        Some(&datafusion::common::ScalarValue::Int32(Some(5)))
    );
}
