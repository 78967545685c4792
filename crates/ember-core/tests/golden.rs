//! Spark compatibility: runs every case of `../shared/golden` (outputs of Apache Spark
//! 4.3 itself) and compares schema, rows, `show()` text and `printSchema()` text, or the
//! error class for error cases.
//!
//! Cases listed in `tests/golden_known_failures.txt` are expected to fail (each with a
//! reason); the test fails if any other case fails *or* if a listed case now passes
//! (so the list only shrinks). The pass count is printed and written to
//! `target/golden-report.txt`.

mod common;

use std::path::Path;

use common::golden::{case_dirs, create_views, data_dir, golden_dir, known_failures, run_case};
use ember_core::SparkSession;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_cases_match_spark() {
    let gdir = golden_dir();
    assert!(
        gdir.join("VIEWS.sql").exists(),
        "golden dir not found at {}",
        gdir.display()
    );
    let spark = SparkSession::builder()
        .master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .get_or_create()
        .expect("session");
    let data = std::fs::canonicalize(data_dir()).expect("data dir");
    create_views(&spark, &data.display().to_string()).await;
    let known = known_failures();
    let cases = case_dirs();
    let mut passed = 0;
    let mut unexpected = Vec::new();
    let mut report = String::new();
    for c in &cases {
        let name = c
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let r = run_case(&spark, c).await;
        let is_known = known.contains(&name);
        match (&r, is_known) {
            (Ok(()), false) => passed += 1,
            (Ok(()), true) => {
                passed += 1;
                unexpected.push(format!(
                    "{name}: passes now — remove it from golden_known_failures.txt"
                ));
            }
            (Err(e), true) => report.push_str(&format!("KNOWN FAIL {name}\n{e}\n\n")),
            (Err(e), false) => unexpected.push(format!("{name}: {e}")),
        }
    }
    let summary = format!("golden: {passed}/{} cases pass\n", cases.len());
    print!("{summary}{report}");
    let out = Path::new(
        &std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string()),
    )
    .join("../../target");
    let _ = std::fs::create_dir_all(&out);
    let _ = std::fs::write(
        out.join("golden-report.txt"),
        format!("{summary}{report}{}", unexpected.join("\n\n")),
    );
    assert!(
        unexpected.is_empty(),
        "{summary}unexpected results:\n\n{}",
        unexpected.join("\n\n")
    );
}
