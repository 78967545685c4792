//! End to end into Lance: the shipped sample and generated data with malformed rows,
//! repeated photos and missing embeddings. Each test checks the sink holds exactly
//! the expected ids with the right vectors, and the dead-letter table exactly the
//! rejected lines.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{dead_letters, lance_rows, lance_sink, sample_dir, write_generated_job, write_job};
use ember_ingest::generator::{embedding_for, generate, GenOptions};
use ember_ingest::{run, JobSpec, RunOptions};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The shipped sample into a Lance table in `dir`, expecting vectors of `dim`.
fn sample_job(dir: &std::path::Path, dim: usize) -> JobSpec {
    let data = sample_dir();
    let job = write_job(
        dir,
        &data.join("photos.csv.gz"),
        &data.join("embeddings.parquet"),
        dim,
        &lance_sink(&dir.join("db")),
        "",
    );
    JobSpec::from_file(&job).unwrap()
}

#[test]
fn sample_rows_into_lance() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_dir();
    let spec = sample_job(tmp.path(), 512);
    let rt = runtime();
    let report = rt.block_on(run(&spec, &RunOptions::default())).unwrap();
    assert_eq!(report.read, 37, "{report}");
    assert_eq!(report.valid, 37, "{report}");
    assert_eq!(report.dead_lettered_total(), 0, "{report}");
    let rows = rt.block_on(lance_rows(&tmp.path().join("db"), "photos"));
    // The sample's photo ids, read independently of ember.
    let text = String::from_utf8(
        std::io::Read::bytes(flate2::read::GzDecoder::new(
            std::fs::File::open(data.join("photos.csv.gz")).unwrap(),
        ))
        .map(|b| b.unwrap())
        .collect(),
    )
    .unwrap();
    let ids: BTreeSet<i64> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(rows.keys().copied().collect::<BTreeSet<_>>(), ids);
    assert_eq!(report.sink_rows as usize, ids.len());
    assert_eq!(report.duplicates_merged as usize, 37 - ids.len());
    for (id, v) in &rows {
        assert_eq!(v, &embedding_for(42, *id, 512), "vector of {id}");
    }
    // A second run without --resume refuses; with --resume it has nothing left to do.
    let err = rt
        .block_on(run(&spec, &RunOptions::default()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("--resume"), "{err}");
    let again = rt
        .block_on(run(
            &spec,
            &RunOptions {
                resume: true,
                ..Default::default()
            },
        ))
        .unwrap();
    assert_eq!(again.tasks_run, 0, "{again}");
    assert_eq!(again.sink_rows as usize, ids.len());
}

#[test]
fn generated_rows_with_bad_records_into_lance() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let opts = GenOptions {
        rows: 40_000,
        malformed_share: 0.01,
        repeat_share: 0.003,
        dim: 32,
        seed: 7,
        missing_embedding_share: 0.002,
        row_group_rows: 4096,
    };
    let truth = generate(&data, &opts).unwrap();
    assert!(!truth.missing_embedding_ids.is_empty() && truth.repeats > 0);
    let job = write_generated_job(
        tmp.path(),
        32,
        &lance_sink(&tmp.path().join("db")),
        "task_rows = 7000\n",
    );
    let spec = JobSpec::from_file(&job).unwrap();
    let rt = runtime();
    let report = rt.block_on(run(&spec, &RunOptions::default())).unwrap();
    assert_eq!(report.read, truth.rows, "{report}");
    assert_eq!(report.valid, truth.valid_rows, "{report}");
    assert_eq!(report.duplicates_merged, truth.repeats, "{report}");
    let expected_ids = truth.distinct_ids - truth.missing_embedding_ids.len() as u64;
    assert_eq!(report.ingested, expected_ids, "{report}");
    assert_eq!(report.sink_rows, expected_ids, "{report}");

    let rows = rt.block_on(lance_rows(&tmp.path().join("db"), "photos"));
    assert_eq!(rows.len() as u64, expected_ids);
    let missing: BTreeSet<i64> = truth.missing_embedding_ids.iter().copied().collect();
    for (id, v) in &rows {
        assert!(
            !missing.contains(id),
            "{id} has no embedding but was ingested"
        );
        assert_eq!(v, &embedding_for(7, *id, 32), "vector of {id}");
    }

    // Dead letters: exactly the malformed lines, plus one line per missing embedding.
    let dead = dead_letters(&spec.dead_letter_dir());
    let malformed: BTreeSet<u64> = truth.malformed_lines.iter().copied().collect();
    let parse_dead: BTreeSet<u64> = dead
        .iter()
        .filter(|d| d.1 != "MISSING_EMBEDDING")
        .map(|d| d.0)
        .collect();
    assert_eq!(parse_dead, malformed);
    let by_class: BTreeMap<&str, usize> = dead.iter().fold(BTreeMap::new(), |mut m, d| {
        *m.entry(d.1.as_str()).or_insert(0) += 1;
        m
    });
    for class in [
        "MALFORMED_RECORD",
        "INVALID_UUID",
        "CAST_OVERFLOW",
        "CAST_INVALID_INPUT",
    ] {
        assert!(
            by_class.get(class).copied().unwrap_or(0) > 0,
            "{class}: {by_class:?}"
        );
    }
    assert_eq!(
        by_class.get("MISSING_EMBEDDING").copied().unwrap_or(0),
        missing.len()
    );
    assert_eq!(report.dead_lettered_total() as usize, dead.len());
    assert_eq!(dead.len(), malformed.len() + missing.len());
    // Every dead letter names its file and carries the raw line.
    assert!(dead
        .iter()
        .all(|d| d.2.ends_with("photos.csv.gz") && !d.3.is_empty()));
}

#[test]
fn bad_record_limit_fails_the_job() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let opts = GenOptions {
        rows: 5_000,
        malformed_share: 0.05,
        dim: 8,
        ..GenOptions::default()
    };
    generate(&data, &opts).unwrap();
    let job = write_generated_job(
        tmp.path(),
        8,
        &lance_sink(&tmp.path().join("db")),
        "max_bad_fraction = 0.01\n",
    );
    let spec = JobSpec::from_file(&job).unwrap();
    let err = runtime()
        .block_on(run(&spec, &RunOptions::default()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("exceed the job's limit (max_bad_fraction = 0.01)"),
        "{err}"
    );
    assert!(err.contains("dead_letter"), "{err}");
}

#[test]
fn wrong_dimension_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = sample_job(tmp.path(), 768);
    let err = runtime()
        .block_on(run(&spec, &RunOptions::default()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("embeddings.parquet") && err.contains("dimension 512") && err.contains("768"),
        "{err}"
    );
}

#[test]
fn lance_dataset_as_the_embeddings_table() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let opts = GenOptions {
        rows: 10_000,
        dim: 16,
        seed: 5,
        missing_embedding_share: 0.01,
        row_group_rows: 1000,
        ..GenOptions::default()
    };
    let truth = generate(&data, &opts).unwrap();
    // The same vectors as a Lance table (several fragments).
    let f = std::fs::File::open(data.join("embeddings.parquet")).unwrap();
    let batches: Vec<arrow::array::RecordBatch> =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap())
            .collect();
    let rt = runtime();
    rt.block_on(async {
        let db = lancedb::connect(&tmp.path().join("emb").display().to_string())
            .execute()
            .await
            .unwrap();
        let t = db
            .create_table("vectors", batches[0].clone())
            .execute()
            .await
            .unwrap();
        for b in &batches[1..] {
            t.add(b.clone()).execute().await.unwrap();
        }
    });
    let emb = tmp.path().join("emb/vectors.lance");
    let job = write_job(
        tmp.path(),
        &data.join("photos.csv.gz"),
        &emb,
        16,
        &lance_sink(&tmp.path().join("db")),
        "task_rows = 3000\n",
    );
    let spec = JobSpec::from_file(&job).unwrap();
    let report = rt.block_on(run(&spec, &RunOptions::default())).unwrap();
    let rows = rt.block_on(lance_rows(&tmp.path().join("db"), "photos"));
    assert_eq!(rows.len() as u64, truth.embeddings, "{report}");
    for (id, v) in &rows {
        assert_eq!(v, &embedding_for(5, *id, 16), "vector of {id}");
    }
    assert_eq!(
        report
            .dead_lettered
            .get("MISSING_EMBEDDING")
            .copied()
            .unwrap_or(0) as usize,
        truth.missing_embedding_ids.len(),
        "{report}"
    );
    assert!(report.tasks_run >= 3, "one task per fragment: {report}");
}

#[test]
fn embeddings_with_a_key_twice_still_give_one_record() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let opts = GenOptions {
        rows: 6_000,
        dim: 8,
        seed: 2,
        row_group_rows: 500,
        ..GenOptions::default()
    };
    let truth = generate(&data, &opts).unwrap();
    // Rewrite the embeddings with the first 300 keys repeated at the end (other row
    // groups, so other tasks).
    let f = std::fs::File::open(data.join("embeddings.parquet")).unwrap();
    let mut ids: Vec<i64> = Vec::new();
    for b in parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
    {
        let b = b.unwrap();
        ids.extend(
            b.column(0)
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .unwrap()
                .values()
                .iter(),
        );
    }
    let again: Vec<i64> = ids[..300].to_vec();
    ids.extend(again);
    ember_ingest::generator::write_embeddings(&data.join("embeddings.parquet"), &ids, 8, 2, 500)
        .unwrap();
    let job = write_generated_job(
        tmp.path(),
        8,
        &lance_sink(&tmp.path().join("db")),
        "task_rows = 1000\n",
    );
    let spec = JobSpec::from_file(&job).unwrap();
    let rt = runtime();
    let report = rt.block_on(run(&spec, &RunOptions::default())).unwrap();
    // lance_rows fails on a key seen twice.
    let rows = rt.block_on(lance_rows(&tmp.path().join("db"), "photos"));
    assert_eq!(rows.len() as u64, truth.distinct_ids, "{report}");
    assert_eq!(report.sink_rows, truth.distinct_ids, "{report}");
}
