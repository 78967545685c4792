//! `spark.driver.memory` bounds the execution pool: a sort of all flights (~40 MB of
//! Arrow data, one partition: a single gzip file) completes within 16 MB, and within
//! 1 MB, by spilling to disk, and a pool too small to hold even one batch fails with
//! Spark's `UNABLE_TO_ACQUIRE_MEMORY`, not a crash.

use std::path::Path;

use ember_core::SparkSession;

async fn sorted_count(memory: &str) -> ember_core::Result<String> {
    let spark = SparkSession::builder()
        .master("local[2]")
        .config("spark.driver.memory", memory)
        .get_or_create()?;
    let path = Path::new(
        &std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string()),
    )
    .join("../../examples/flights/data/flights.csv.gz");
    spark
        .sql(&format!(
            "CREATE TEMPORARY VIEW f USING csv OPTIONS (path '{}', header 'true', inferSchema 'true', nullValue 'NA')",
            path.display()
        ))
        .await?;
    let df = spark
        .sql("SELECT COUNT(*) AS n, MAX(r) AS m FROM (SELECT row_number() OVER (ORDER BY tailnum, time_hour, flight) AS r, * FROM f)")
        .await?;
    df.show_string(20, 20).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorts_spill_within_the_driver_memory() {
    let out = sorted_count("16m").await.expect("sort within 16m");
    assert!(out.contains("|336776|336776|"), "{out}");
    let out = sorted_count("1m").await.expect("sort within 1m");
    assert!(out.contains("|336776|336776|"), "{out}");
    let e = sorted_count("64k").await.unwrap_err();
    assert_eq!(e.error_class, "UNABLE_TO_ACQUIRE_MEMORY", "{e}");
}
