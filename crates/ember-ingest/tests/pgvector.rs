//! End to end into PostgreSQL + pgvector (a real server from PyPI's pgserver, on
//! loopback), including the server going away for 10 seconds in the middle of the job.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::pg::PgServer;
use common::write_generated_job;
use ember_ingest::generator::{embedding_for, generate, GenOptions, GenSummary};
use ember_ingest::{run, JobSpec, RunOptions};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// photo_id → embedding as stored (pgvector prints float4 values exactly).
fn pg_rows(pg: &PgServer) -> BTreeMap<i64, Vec<f32>> {
    let mut out = BTreeMap::new();
    for line in pg
        .psql("SELECT photo_id, embedding::text FROM photos")
        .lines()
    {
        let (id, v) = line.split_once('|').expect("id|vector");
        let v: Vec<f32> = v
            .trim_matches(['[', ']'])
            .split(',')
            .map(|x| x.parse().expect("float"))
            .collect();
        assert!(
            out.insert(id.parse().expect("id"), v).is_none(),
            "photo_id {id} twice"
        );
    }
    out
}

fn check_sink(pg: &PgServer, truth: &GenSummary, seed: u64, dim: usize) {
    let rows = pg_rows(pg);
    let missing: BTreeSet<i64> = truth.missing_embedding_ids.iter().copied().collect();
    assert_eq!(rows.len() as u64, truth.distinct_ids - missing.len() as u64);
    for (id, v) in &rows {
        assert!(!missing.contains(id));
        assert_eq!(v, &embedding_for(seed, *id, dim), "vector of {id}");
    }
}

fn gen(dir: &std::path::Path, rows: u64, seed: u64) -> GenSummary {
    generate(
        dir,
        &GenOptions {
            rows,
            malformed_share: 0.01,
            repeat_share: 0.003,
            dim: 16,
            seed,
            missing_embedding_share: 0.002,
            row_group_rows: 1024,
        },
    )
    .expect("generate")
}

#[test]
fn generated_rows_into_pgvector_with_hnsw_index() {
    let pg = PgServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let truth = gen(&data, 20_000, 3);
    let job = write_generated_job(
        tmp.path(),
        16,
        &format!(
            "type = \"pgvector\"\nurl = \"{}\"\ntable = \"photos\"",
            pg.url()
        ),
        "task_rows = 3000\n",
    );
    let spec = JobSpec::from_file(&job).unwrap();
    let rt = runtime();
    let report = rt.block_on(run(&spec, &RunOptions::default())).unwrap();
    assert_eq!(report.read, truth.rows, "{report}");
    assert_eq!(report.duplicates_merged, truth.repeats, "{report}");
    assert_eq!(
        report.dead_lettered_total(),
        (truth.malformed_lines.len() + truth.missing_embedding_ids.len()) as u64,
        "{report}"
    );
    check_sink(&pg, &truth, 3, 16);
    let indexes = pg.psql("SELECT indexdef FROM pg_indexes WHERE tablename = 'photos'");
    assert!(
        indexes.contains("USING hnsw (embedding vector_cosine_ops)"),
        "{indexes}"
    );
    assert!(
        indexes.contains("PRIMARY KEY") || indexes.contains("photos_pkey"),
        "{indexes}"
    );
    let ddl = pg.psql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'photos'::regclass AND attname = 'embedding'");
    assert_eq!(ddl.trim(), "vector(16)");
    // A restarted job (journal deleted) upserts: same rows, no duplicates.
    let again = rt
        .block_on(run(
            &spec,
            &RunOptions {
                restart: true,
                ..Default::default()
            },
        ))
        .unwrap();
    assert_eq!(again.sink_rows, report.sink_rows);
    check_sink(&pg, &truth, 3, 16);
}

#[test]
fn server_down_for_ten_seconds_mid_job_loses_nothing() {
    let pg = PgServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let truth = gen(&data, 30_000, 5);
    let job = write_generated_job(
        tmp.path(),
        16,
        &format!(
            "type = \"pgvector\"\nurl = \"{}\"\ntable = \"photos\"\nindex = \"none\"",
            pg.url()
        ),
        "task_rows = 1000\nmaster = \"local[1]\"\n",
    );
    // Backoff 2 s doubling: 2 + 4 + 8 = 14 s of retries cover the 10 s outage.
    let text = std::fs::read_to_string(&job)
        .unwrap()
        .replace("\"200ms\"", "\"2s\"");
    let text = text.replacen("master = \"local[2]\"\n", "", 1);
    std::fs::write(&job, text).unwrap();
    let spec = JobSpec::from_file(&job).unwrap();
    let journal = spec.work_dir().join("journal.jsonl");
    let handle = std::thread::spawn(move || runtime().block_on(run(&spec, &RunOptions::default())));
    // Wait for the sink stage to be under way, then take the server away.
    let t0 = Instant::now();
    loop {
        let j = std::fs::read_to_string(&journal).unwrap_or_default();
        if j.matches("\"task\":\"sink-").count() >= 4 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "sink stage never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    pg.stop();
    std::thread::sleep(Duration::from_secs(10));
    pg.start_again();
    let report = handle
        .join()
        .expect("job thread")
        .expect("job survives the outage");
    assert!(report.retried > 0, "{report}");
    check_sink(&pg, &truth, 5, 16);
}

#[test]
fn rows_the_server_rejects_are_dead_lettered_and_the_rest_lands() {
    let pg = PgServer::start();
    // The table exists already, with a constraint some records break: observer_id
    // is null in ~1 row of 500.
    pg.psql(
        "CREATE EXTENSION vector; CREATE TABLE photos (photo_uuid text NOT NULL, photo_id integer NOT NULL, \
         observation_uuid text NOT NULL, observer_id integer CHECK (observer_id IS NOT NULL), extension text, \
         license text, width smallint, height smallint, position smallint, embedding vector(16) NOT NULL, \
         PRIMARY KEY (photo_id))",
    );
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let truth = gen(&data, 8_000, 9);
    let job = write_generated_job(
        tmp.path(),
        16,
        &format!(
            "type = \"pgvector\"\nurl = \"{}\"\ntable = \"photos\"\nindex = \"none\"",
            pg.url()
        ),
        "task_rows = 2000\n",
    );
    let spec = JobSpec::from_file(&job).unwrap();
    let report = runtime()
        .block_on(run(&spec, &RunOptions::default()))
        .unwrap();
    let rejected = report
        .dead_lettered
        .get("SINK_REJECTED")
        .copied()
        .unwrap_or(0);
    assert!(rejected > 0, "{report}");
    let dead = common::dead_letters(&spec.dead_letter_dir());
    for d in dead.iter().filter(|d| d.1 == "SINK_REJECTED") {
        // photo_uuid, photo_id, observation_uuid, observer_id (empty = null), ...
        assert_eq!(d.3.split('\t').nth(3), Some(""), "{d:?}");
    }
    let rows = pg_rows(&pg);
    assert_eq!(
        rows.len() as u64 + rejected,
        truth.distinct_ids - truth.missing_embedding_ids.len() as u64,
        "{report}"
    );
    assert_eq!(
        pg.psql("SELECT count(*) FROM photos WHERE observer_id IS NULL")
            .trim(),
        "0"
    );
}
