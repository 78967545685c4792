//! Fuzzing of the CSV and JSON readers (property tests, bounded: `PROPTEST_CASES`,
//! default 256 per property): any bytes, under any combination of Spark's parse
//! options, are read or refused with an error, never a panic, and promptly.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::prelude::SessionContext;
use ember_datasource::csv::{CsvOptions, CsvTable};
use ember_datasource::json::{read_json, JsonOptions};
use proptest::prelude::*;

/// Bytes that matter to the parsers (separators, quotes, escapes, line ends, number
/// and date pieces, invalid UTF-8) and any byte at all.
fn data(alphabet: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![3 => prop::sample::select(alphabet), 1 => any::<u8>()],
        0..300,
    )
}

const CSV_BYTES: &[u8] = b",,,\"\"\\\n\n\r0123456789.-+eEaxNnT: #;\t\xff\xc3";
const JSON_BYTES: &[u8] = b"{{}}[[]]\"\"\"::,,,\\\n\n0123456789.-eEtruefalsnl \xff\xc3abc";

fn options(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn mode() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["PERMISSIVE", "DROPMALFORMED", "FAILFAST"]).prop_map(String::from)
}

fn read_csv(path: &str, opts: HashMap<String, String>) {
    let Ok(o) = CsvOptions::from_map(&opts, chrono_tz::UTC) else {
        return;
    };
    let Ok(table) = CsvTable::try_new(&Default::default(), &[path.to_string()], o, None) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let ctx = SessionContext::new();
        if ctx.register_table("t", Arc::new(table)).is_ok() {
            if let Ok(df) = ctx.sql("SELECT * FROM t").await {
                let _ = df.collect().await;
            }
        }
    });
}

proptest! {
    #[test]
    fn csv_never_panics_or_hangs(
        bytes in data(CSV_BYTES),
        header in any::<bool>(),
        infer in any::<bool>(),
        multi_line in any::<bool>(),
        mode in mode(),
        sep in prop::sample::select(vec![",", ";", "\t", "|"]),
        escape in prop::sample::select(vec!["\\", "\""]),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f.csv");
        std::fs::write(&path, &bytes).expect("write");
        let opts = options(&[
            ("header", header.to_string()),
            ("inferSchema", infer.to_string()),
            ("multiLine", multi_line.to_string()),
            ("mode", mode),
            ("sep", sep.to_string()),
            ("escape", escape.to_string()),
        ]);
        let start = Instant::now();
        read_csv(&path.display().to_string(), opts);
        prop_assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn json_never_panics_or_hangs(
        bytes in data(JSON_BYTES),
        multi_line in any::<bool>(),
        prims in any::<bool>(),
        mode in mode(),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f.json");
        std::fs::write(&path, &bytes).expect("write");
        let opts = JsonOptions::from_map(&options(&[
            ("multiLine", multi_line.to_string()),
            ("primitivesAsString", prims.to_string()),
            ("mode", mode),
        ]));
        let start = Instant::now();
        let _ = read_json(&Default::default(), &[path.display().to_string()], &opts, None);
        prop_assert!(start.elapsed() < Duration::from_secs(10));
    }
}
