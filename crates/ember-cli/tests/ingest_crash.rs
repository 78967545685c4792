//! Crash test of `ember ingest`: generated export rows into Lance, the process killed
//! with SIGKILL at random moments (each followed by `--resume`), then checked: the
//! sink holds every valid id exactly once with the right vector, the dead-letter table
//! exactly the malformed rows (plus the photos without an embedding), each once.
//!
//! Rows: `EMBER_CRASH_ROWS` (default 100,000 here; `bench/ingest_crash.sh` runs 1M
//! in release). Kills: `EMBER_CRASH_KILLS` (default 6). The seed of the kill moments
//! is printed so a failure can be replayed with `EMBER_CRASH_SEED`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use arrow::array::AsArray;
use arrow::datatypes::{Float32Type, Int32Type, Int64Type};
use ember_ingest::generator::{embedding_for, generate, GenOptions, Rng};

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn commits(journal: &Path) -> usize {
    std::fs::read_to_string(journal)
        .unwrap_or_default()
        .matches("\"event\":\"commit\"")
        .count()
}

fn ember(job: &Path, resume: bool, log: &Path) -> std::process::Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ember"));
    c.arg("ingest").arg(job);
    if resume {
        c.arg("--resume");
    }
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    c.stdout(Stdio::null()).stderr(f).env("EMBER_LOG", "info");
    c.spawn().expect("spawn ember")
}

#[test]
fn sigkill_at_random_moments_then_resume() {
    let rows = env_u64("EMBER_CRASH_ROWS", 100_000);
    let kills = env_u64("EMBER_CRASH_KILLS", 6) as usize;
    let seed = env_u64(
        "EMBER_CRASH_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    println!("EMBER_CRASH_SEED={seed} rows={rows} kills={kills}");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let dim = 64;
    let task_rows = (rows / 40).max(500);
    let truth = generate(
        &data,
        &GenOptions {
            rows,
            malformed_share: 0.006,
            repeat_share: 0.001,
            dim,
            seed: 11,
            missing_embedding_share: 0.001,
            // One embeddings row group per sink task.
            row_group_rows: task_rows as usize,
        },
    )
    .unwrap();
    let db = tmp.path().join("db");
    let job = tmp.path().join("job.toml");
    std::fs::write(
        &job,
        format!(
            "name = \"crash\"\nmaster = \"local[2]\"\ntask_rows = {task_rows}\n\n[source]\npath = \"{}\"\nkey = \"photo_id\"\n\n[embedding]\ntype = \"lookup\"\npath = \"{}\"\ndim = {dim}\n\n[sink]\ntype = \"lance\"\nuri = \"{}\"\ntable = \"photos\"\n",
            data.join("photos.csv.gz").display(),
            data.join("embeddings.parquet").display(),
            db.display()
        ),
    )
    .unwrap();
    let journal = tmp.path().join("_ember_ingest/crash/journal.jsonl");
    let log = tmp.path().join("ember.log");
    // Commits: parse tasks + sink tasks (one row group each) + missing + index.
    let total = rows.div_ceil(task_rows) as usize
        + (truth.embeddings as usize).div_ceil(task_rows as usize)
        + 2;
    let mut rng = Rng::new(seed);
    let mut targets: Vec<usize> = (0..kills)
        .map(|_| 1 + rng.below(total as u64 - 1) as usize)
        .collect();
    targets.sort_unstable();
    let mut killed = 0;
    for (i, target) in targets.iter().enumerate() {
        let mut child = ember(&job, i > 0, &log);
        let t0 = Instant::now();
        let mut finished = false;
        while commits(&journal) < *target {
            if child.try_wait().unwrap().is_some() {
                finished = true;
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(300), "no progress");
            std::thread::sleep(Duration::from_millis(2));
        }
        if finished {
            break;
        }
        // Somewhere inside the next task.
        std::thread::sleep(Duration::from_millis(rng.below(40)));
        child.kill().expect("SIGKILL");
        let status = child.wait().unwrap();
        if std::os::unix::process::ExitStatusExt::signal(&status) != Some(9) {
            break; // it finished first
        }
        killed += 1;
        println!(
            "kill {killed}: after {} commits of {total}",
            commits(&journal)
        );
    }
    assert!(
        killed >= kills.min(5),
        "only {killed} kills landed before the job finished"
    );
    let st = Command::new(env!("CARGO_BIN_EXE_ember"))
        .arg("ingest")
        .arg(&job)
        .arg("--resume")
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "final resume failed: {}\n{}",
        String::from_utf8_lossy(&st.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );

    // The sink: every valid id with an embedding, once, with its vector.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let batches = rt
        .block_on(ember_ingest::sink::lance::read_table(
            &db.display().to_string(),
            "photos",
        ))
        .unwrap();
    let mut got: BTreeMap<i64, usize> = BTreeMap::new();
    for b in &batches {
        let ids = b
            .column_by_name("photo_id")
            .unwrap()
            .as_primitive::<Int32Type>();
        let vecs = b.column_by_name("embedding").unwrap().as_fixed_size_list();
        for i in 0..b.num_rows() {
            let id = ids.value(i) as i64;
            *got.entry(id).or_insert(0) += 1;
            let v = vecs.value(i);
            assert_eq!(
                v.as_primitive::<Float32Type>().values().as_ref(),
                embedding_for(11, id, dim).as_slice(),
                "vector of {id}"
            );
        }
    }
    let dup: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        dup.is_empty(),
        "duplicated ids: {:?}",
        &dup[..dup.len().min(10)]
    );
    assert_eq!(got.len() as u64, truth.embeddings, "ids in the sink");
    let missing: BTreeSet<i64> = truth.missing_embedding_ids.iter().copied().collect();
    assert!(got.keys().all(|k| !missing.contains(k)));

    // The dead-letter table: the malformed lines and the missing embeddings, once each.
    let dead =
        ember_ingest::deadletter::read_all(&tmp.path().join("_ember_ingest/crash/dead_letter"))
            .unwrap();
    let mut lines: BTreeMap<(String, u64), usize> = BTreeMap::new();
    for b in &dead {
        let line = b.column(1).as_primitive::<Int64Type>();
        let class = b.column(3).as_string::<i32>();
        for i in 0..b.num_rows() {
            *lines
                .entry((class.value(i).to_string(), line.value(i) as u64))
                .or_insert(0) += 1;
        }
    }
    assert!(lines.values().all(|n| *n == 1), "a dead letter twice");
    let parse: BTreeSet<u64> = lines
        .keys()
        .filter(|(c, _)| c != "MISSING_EMBEDDING")
        .map(|(_, l)| *l)
        .collect();
    assert_eq!(
        parse,
        truth
            .malformed_lines
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
    );
    let missing_lines = lines
        .keys()
        .filter(|(c, _)| c == "MISSING_EMBEDDING")
        .count();
    assert_eq!(missing_lines, missing.len());
}
