//! The generator's output is what it claims: the export's format, the stated numbers
//! of malformed rows (at the stated lines) and repeats, and one embedding per
//! distinct valid photo_id equal to `embedding_for`.

use std::collections::HashSet;
use std::io::Read;

use arrow::array::{Array, FixedSizeListArray, Float32Array, Int64Array};
use ember_ingest::generator::{embedding_for, generate, GenOptions, PHOTOS_HEADER};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[test]
fn photos_and_embeddings_match_the_summary() {
    let dir = tempfile::tempdir().expect("tmp");
    let opts = GenOptions {
        rows: 20_000,
        malformed_share: 0.01,
        repeat_share: 0.002,
        dim: 16,
        seed: 9,
        missing_embedding_share: 0.0,
        row_group_rows: 4096,
    };
    let s = generate(dir.path(), &opts).expect("generate");
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(dir.path().join("photos.csv.gz")).expect("open"),
    )
    .read_to_string(&mut text)
    .expect("one gzip stream");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(PHOTOS_HEADER));
    let mut bad = Vec::new();
    let mut ids = HashSet::new();
    let mut valid = 0;
    for (i, line) in lines.enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        let ok = f.len() == 9
            && is_uuid(f[0])
            && is_uuid(f[2])
            && f[1].parse::<i32>().is_ok()
            && (f[3].is_empty() || f[3].parse::<i32>().is_ok())
            && f[6..].iter().all(|v| v.parse::<i16>().is_ok());
        if ok {
            valid += 1;
            ids.insert(f[1].parse::<i64>().expect("id"));
        } else {
            bad.push(i as u64 + 2);
        }
    }
    assert_eq!(s.rows, 20_000);
    assert_eq!(bad, s.malformed_lines);
    assert!(bad.len() > 100, "{}", bad.len());
    assert_eq!(valid, s.valid_rows);
    assert_eq!(ids.len() as u64, s.distinct_ids);
    assert_eq!(s.valid_rows - s.distinct_ids, s.repeats);
    assert!(s.repeats > 10, "{}", s.repeats);
    let file = std::fs::File::open(dir.path().join("embeddings.parquet")).expect("open");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let mut n = 0;
    for b in reader {
        let b = b.expect("batch");
        let pid = b
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("ids");
        let emb = b
            .column(1)
            .as_any()
            .downcast_ref::<FixedSizeListArray>()
            .expect("vectors");
        for r in 0..b.num_rows() {
            assert!(ids.contains(&pid.value(r)));
            let v = emb.value(r);
            let v = v.as_any().downcast_ref::<Float32Array>().expect("f32");
            assert_eq!(v.values().to_vec(), embedding_for(9, pid.value(r), 16));
        }
        n += b.num_rows() as u64;
    }
    assert_eq!(n, s.distinct_ids);
    assert_eq!(n, s.embeddings);
}
