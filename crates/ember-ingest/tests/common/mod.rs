//! Helpers shared by the ingestion tests.
#![allow(dead_code)]

pub mod pg;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float32Type, Int32Type, Int64Type};

/// The shipped sample: examples/inaturalist/data.
pub fn sample_dir() -> PathBuf {
    Path::new(
        &std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string()),
    )
    .join("../../examples/inaturalist/data")
}

/// Writes `dir/job.toml` for the export's photos at `photos` with embeddings at
/// `embeddings`, `sink` as the body of the `[sink]` table, `extra` top-level keys.
pub fn write_job(
    dir: &Path,
    photos: &Path,
    embeddings: &Path,
    dim: usize,
    sink: &str,
    extra: &str,
) -> PathBuf {
    let text = format!(
        "name = \"t\"\nmaster = \"local[2]\"\n{extra}\n[conf]\n\"spark.ember.ingest.retryWait\" = \"200ms\"\n\n[source]\npath = \"{}\"\nkey = \"photo_id\"\n\n[embedding]\ntype = \"lookup\"\npath = \"{}\"\ndim = {dim}\n\n[sink]\n{sink}\n",
        photos.display(),
        embeddings.display()
    );
    let path = dir.join("job.toml");
    std::fs::write(&path, text).expect("write job");
    path
}

/// The `[sink]` body for a Lance table `photos` in `db`.
pub fn lance_sink(db: &Path) -> String {
    format!(
        "type = \"lance\"\nuri = \"{}\"\ntable = \"photos\"",
        db.display()
    )
}

/// Writes a job over generated data in `dir/data` (photos.csv.gz, embeddings.parquet).
pub fn write_generated_job(dir: &Path, dim: usize, sink: &str, extra: &str) -> PathBuf {
    let data = dir.join("data");
    write_job(
        dir,
        &data.join("photos.csv.gz"),
        &data.join("embeddings.parquet"),
        dim,
        sink,
        extra,
    )
}

/// photo_id → embedding of every row of a Lance table.
pub async fn lance_rows(db: &Path, table: &str) -> BTreeMap<i64, Vec<f32>> {
    let batches = ember_ingest::sink::lance::read_table(&db.display().to_string(), table)
        .await
        .expect("read lance table");
    let mut out = BTreeMap::new();
    for b in batches {
        let ids = b.column_by_name("photo_id").expect("photo_id");
        let ids: Vec<i64> = match ids.data_type() {
            arrow::datatypes::DataType::Int32 => ids
                .as_primitive::<Int32Type>()
                .values()
                .iter()
                .map(|v| *v as i64)
                .collect(),
            _ => ids.as_primitive::<Int64Type>().values().to_vec(),
        };
        let vecs = b
            .column_by_name("embedding")
            .expect("embedding")
            .as_fixed_size_list()
            .clone();
        for (i, id) in ids.into_iter().enumerate() {
            let v = vecs.value(i);
            let v = v.as_primitive::<Float32Type>().values().to_vec();
            assert!(
                out.insert(id, v).is_none(),
                "photo_id {id} twice in the sink"
            );
        }
    }
    out
}

/// (line, error_class, source_file, raw) of every dead letter.
pub fn dead_letters(dir: &Path) -> Vec<(u64, String, String, String)> {
    let mut out = Vec::new();
    for b in ember_ingest::deadletter::read_all(dir).expect("dead letters") {
        let file = b.column(0).as_string::<i32>();
        let line = b.column(1).as_primitive::<Int64Type>();
        let raw = b.column(2).as_string::<i32>();
        let class = b.column(3).as_string::<i32>();
        for i in 0..b.num_rows() {
            out.push((
                line.value(i) as u64,
                class.value(i).to_string(),
                file.value(i).to_string(),
                raw.value(i).to_string(),
            ));
        }
    }
    out
}
