//! Bad input never panics and never silently loses rows: each case is a clear error
//! naming the file/line/position, or a counted and reported row.

use std::io::Write;

use ember_core::SparkSession;

fn spark() -> SparkSession {
    SparkSession::builder()
        .master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .get_or_create()
        .expect("session")
}

async fn rows(spark: &SparkSession, sql: &str) -> ember_core::Result<usize> {
    let df = spark.sql(sql).await?;
    Ok(df.collect().await?.iter().map(|b| b.num_rows()).sum())
}

#[tokio::test]
async fn missing_path_is_named() {
    let s = spark();
    let e = s
        .read()
        .option("header", "true")
        .csv(&["/no/such/dir/flights.csv"])
        .await
        .unwrap_err();
    assert_eq!(e.error_class, "PATH_NOT_FOUND");
    assert!(e.message.contains("/no/such/dir/flights.csv"), "{e}");
    let e = s
        .sql("CREATE TEMPORARY VIEW v USING parquet OPTIONS (path '/no/such.parquet')")
        .await
        .unwrap_err();
    assert_eq!(e.error_class, "PATH_NOT_FOUND");
}

#[tokio::test]
async fn empty_file_gives_empty_result() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("empty.csv");
    std::fs::write(&p, "").unwrap();
    let s = spark();
    let df = s
        .read()
        .option("header", "true")
        .csv(&[p.to_str().unwrap()])
        .await
        .unwrap();
    assert_eq!(df.columns().len(), 0);
    assert_eq!(df.count().await.unwrap(), 0);
    assert_eq!(df.show_string(20, 20).await.unwrap(), "++\n||\n++\n++\n");
    // header only: columns, no rows
    std::fs::write(&p, "a,b\n").unwrap();
    let df = s
        .read()
        .option("header", "true")
        .option("inferSchema", "true")
        .csv(&[p.to_str().unwrap()])
        .await
        .unwrap();
    assert_eq!(df.columns(), vec!["a", "b"]);
    assert_eq!(df.count().await.unwrap(), 0);
}

#[tokio::test]
async fn truncated_gzip_fails_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("t.csv.gz");
    let mut enc = flate2_encoder();
    for i in 0..20000 {
        writeln!(enc, "{i},name{i},{}", i * 3).unwrap();
    }
    let bytes = enc.finish().unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let s = spark();
    let df = s
        .read()
        .schema_ddl("a INT, b STRING, c INT")
        .csv(&[p.to_str().unwrap()])
        .await
        .unwrap();
    let e = df.count().await.unwrap_err();
    assert_eq!(e.error_class, "FAILED_READ_FILE", "{e}");
    assert!(e.message.contains("t.csv.gz"), "{e}");
}

fn flate2_encoder() -> GzWriter {
    GzWriter::default()
}

/// Minimal gzip writer via the `gzip` binary-free route: the reader's own codec crate.
#[derive(Default)]
struct GzWriter {
    buf: Vec<u8>,
}
impl Write for GzWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl GzWriter {
    fn finish(self) -> std::io::Result<Vec<u8>> {
        let d = tempfile::tempdir()?;
        let raw = d.path().join("raw");
        std::fs::write(&raw, &self.buf)?;
        let status = std::process::Command::new("gzip")
            .arg("-k")
            .arg("-f")
            .arg(&raw)
            .status()?;
        assert!(status.success());
        std::fs::read(d.path().join("raw.gz"))
    }
}

const BAD: &str = "a,b\n1,2\n3\n4,5,6\n\u{00e9}x,7\n8,9\n";

#[tokio::test]
async fn wrong_field_counts_in_each_mode() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bad.csv");
    std::fs::write(&p, BAD).unwrap();
    let path = p.display();
    let s = spark();
    // PERMISSIVE with corrupt column: all 5 rows, 3 carry their raw text
    s.sql(&format!("CREATE OR REPLACE TEMPORARY VIEW p (a INT, b INT, _corrupt_record STRING) USING csv OPTIONS (path '{path}', header 'true')")).await.unwrap();
    assert_eq!(rows(&s, "SELECT * FROM p").await.unwrap(), 5);
    assert_eq!(
        rows(&s, "SELECT * FROM p WHERE _corrupt_record IS NOT NULL")
            .await
            .unwrap(),
        3
    );
    let report = s.view_report("p").unwrap();
    let files = report.files();
    let f = files.values().next().unwrap();
    assert_eq!((f.rows, f.malformed), (5, 3));
    assert_eq!(
        f.samples.iter().map(|x| x.line).collect::<Vec<_>>(),
        vec![Some(3), Some(4), Some(5)]
    );
    assert!(
        f.samples[0].reason.contains("expected 2 fields, found 1"),
        "{:?}",
        f.samples[0]
    );
    assert!(
        f.samples[2].reason.contains("column 1"),
        "{:?}",
        f.samples[2]
    );
    // DROPMALFORMED: 2 rows, 3 counted
    s.sql(&format!("CREATE OR REPLACE TEMPORARY VIEW dm (a INT, b INT) USING csv OPTIONS (path '{path}', header 'true', mode 'DROPMALFORMED')")).await.unwrap();
    assert_eq!(rows(&s, "SELECT * FROM dm").await.unwrap(), 2);
    assert_eq!(s.view_report("dm").unwrap().total_malformed(), 3);
    // FAILFAST: error naming file and line
    s.sql(&format!("CREATE OR REPLACE TEMPORARY VIEW ff (a INT, b INT) USING csv OPTIONS (path '{path}', header 'true', mode 'FAILFAST')")).await.unwrap();
    let e = rows(&s, "SELECT * FROM ff").await.unwrap_err();
    assert_eq!(
        e.error_class, "MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION",
        "{e}"
    );
    assert!(e.message.contains("bad.csv line 3"), "{e}");
}

#[tokio::test]
async fn non_utf8_bytes_are_replaced_and_counted() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("latin1.csv");
    std::fs::write(&p, b"id,name\n1,caf\xe9\n2,ok\n").unwrap();
    let s = spark();
    s.sql(&format!(
        "CREATE TEMPORARY VIEW l USING csv OPTIONS (path '{}', header 'true', inferSchema 'true')",
        p.display()
    ))
    .await
    .unwrap();
    let out = s
        .sql("SELECT name FROM l ORDER BY id")
        .await
        .unwrap()
        .show_string(20, 20)
        .await
        .unwrap();
    assert!(out.contains("caf\u{fffd}"), "{out}");
    let report = s.view_report("l").unwrap();
    assert_eq!(report.files().values().next().unwrap().invalid_utf8, 1);
}

#[tokio::test]
async fn malformed_sql_names_line_and_position() {
    let s = spark();
    let e = s.sql("SELECT 1 FROM t WHERE").await.unwrap_err();
    assert_eq!(e.error_class, "PARSE_SYNTAX_ERROR");
    let e = s.sql("SELEC 1").await.unwrap_err();
    assert_eq!(e.error_class, "PARSE_SYNTAX_ERROR");
    assert!(e.message.contains("(line 1, pos 0)"), "{e}");
}

#[tokio::test]
async fn type_errors_are_spark_errors() {
    let s = spark();
    let e = rows(&s, "SELECT CAST('abc' AS INT)").await.unwrap_err();
    assert_eq!(e.error_class, "CAST_INVALID_INPUT");
    let e = rows(&s, "SELECT size(1)").await.unwrap_err();
    assert!(e.error_class.starts_with("DATATYPE_MISMATCH"), "{e}");
    let e = rows(&s, "SELECT nosuchfn(1)").await.unwrap_err();
    assert_eq!(e.error_class, "UNRESOLVED_ROUTINE", "{e}");
    let e = rows(&s, "SELECT * FROM nosuchview").await.unwrap_err();
    assert_eq!(e.error_class, "TABLE_OR_VIEW_NOT_FOUND", "{e}");
}

#[tokio::test]
async fn division_follows_spark() {
    let s = spark();
    let e = rows(&s, "SELECT 1 / 0").await.unwrap_err();
    assert_eq!(e.error_class, "DIVIDE_BY_ZERO", "{e}");
    let e = rows(&s, "SELECT CAST(1.5 AS DOUBLE) / 0")
        .await
        .unwrap_err();
    assert_eq!(e.error_class, "DIVIDE_BY_ZERO", "{e}");
    let off = SparkSession::builder()
        .master("local[1]")
        .config("spark.sql.ansi.enabled", "false")
        .get_or_create()
        .unwrap();
    let out = off
        .sql("SELECT 1 / 0 AS q, 7 / 2 AS h")
        .await
        .unwrap()
        .show_string(20, 20)
        .await
        .unwrap();
    assert_eq!(
        out,
        "+----+---+\n|   q|  h|\n+----+---+\n|NULL|3.5|\n+----+---+\n"
    );
    let e = rows(
        &s,
        "SELECT carrier, flight FROM VALUES ('a', 1) AS t(carrier, flight) GROUP BY carrier",
    )
    .await
    .unwrap_err();
    assert_eq!(e.error_class, "MISSING_AGGREGATION", "{e}");
}
