//! Running an ingestion job: stages of tasks, retries, the journal, resume.
//!
//! Stages, in order:
//! 1. **parse** — the source is cut into tasks of `task_rows` lines
//!    ([`crate::source`]); each task parses its lines ([`crate::parse`]), stages the
//!    valid rows (`staged/<task>.arrow`), writes its dead letters, then commits.
//! 2. **merge** — the staged rows are loaded and merged by key (first occurrence
//!    wins, [`crate::photos`]); recomputed on every run, so it is never stale.
//! 3. **embed+sink** — lookup: the embeddings are streamed in tasks of row groups
//!    ([`crate::embed`]) and joined to the records by key; service: tasks of
//!    `task_rows` records are sent in batches ([`crate::embed_http`]). Each task writes
//!    its rows to the sink, writes its dead letters (no vector, wrong dimension,
//!    rejected by the service or the sink), then commits.
//! 4. **missing** (lookup only) — records whose key has no vector are dead-lettered.
//! 5. **index** — the sink builds its index.
//!
//! Exactly once: a task's outputs (staged file, dead-letter part, sink rows) are
//! all replaced when the task runs again, and its `commit` is journaled only after
//! they are durable. A task that was never started writes to a table the job created
//! by appending; any task that may have written before (a retry, or a task started
//! by a run that crashed) upserts by key. Either way a crash at any instant leaves
//! every record in the sink once after `--resume`.
//!
//! Retries: a task that fails with a retryable error (I/O, connection, timeout) is
//! run again up to `spark.task.maxFailures` attempts (default 4, as Spark), waiting
//! `spark.ember.ingest.retryWait` (default 1 s) doubling up to 30 s between attempts.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use arrow::datatypes::{Field, Int64Type, Schema, SchemaRef};
use ember_datasource::storage::{Location, StorageRegistry};
use futures::{StreamExt, TryStreamExt};
use tracing::Instrument;

use crate::deadletter::{self, DeadLetter, ErrorClass};
use crate::embed::{self, EmbeddingFile, LookupTask, VectorRow, Vectors};
use crate::embed_http::{self, Embedded, HttpEmbedder, HttpOptions};
use crate::error::{IngestError, Result};
use crate::journal::{Entry, Journal};
use crate::parse::{parse_chunk, RecordSchema};
use crate::photos::{write_staged, Photos};
use crate::progress::{JobProgress, StageProgress};
use crate::report::Report;
use crate::sink::{self, VectorSink, WriteMode};
use crate::source::{self, ParseTask, SourceFile};
use crate::spec::{EmbeddingSpec, JobSpec};

/// How to run a job.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Continue a job whose journal exists (skip committed tasks).
    pub resume: bool,
    /// Delete the work directory (journal, staged rows, dead letters) first. The sink
    /// is not emptied: upserts by key keep it free of duplicates.
    pub restart: bool,
    /// Progress bars (when stderr is a terminal); log lines otherwise.
    pub progress_bars: bool,
}

/// Worker threads for a `spark.master` value: `local` = 1, `local[n]`, `local[*]` =
/// the machine's cores.
///
/// Errors: [`IngestError::Config`] for other masters.
pub fn parallelism(master: &str) -> Result<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match master.trim() {
        "local" => Ok(1),
        "local[*]" => Ok(cores),
        m => m
            .strip_prefix("local[")
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| IngestError::Config(format!("master '{m}': ember ingest runs local, local[n] or local[*]"))),
    }
}

fn conf_duration(conf: &BTreeMap<String, String>, key: &str, default: Duration) -> Result<Duration> {
    match conf.get(key) {
        None => Ok(default),
        Some(v) => ember_datasource::storage::options::parse_duration(v)
            .ok_or_else(|| IngestError::Config(format!("{key}: '{v}' is not a duration (e.g. 500ms, 2s)"))),
    }
}

struct Ctx {
    spec: JobSpec,
    schema: RecordSchema,
    sep: u8,
    work: PathBuf,
    staged_dir: PathBuf,
    dead_dir: PathBuf,
    journal: Journal,
    max_failures: u32,
    retry_wait: Duration,
    parallelism: usize,
    retried: AtomicU64,
    tasks_run: AtomicU64,
    tasks_skipped: AtomicU64,
    rows_this_run: AtomicU64,
    progress: JobProgress,
    storage: StorageRegistry,
}

impl Ctx {
    fn backoff(&self, attempt: u32) -> Duration {
        (self.retry_wait * 2u32.saturating_pow(attempt.saturating_sub(1))).min(Duration::from_secs(30))
    }

    /// Runs `f` (given the attempt number) until it succeeds, fails with a
    /// non-retryable error, or has failed `max_failures` times.
    async fn attempt<'f, T, F>(&self, task: &str, mut f: F) -> Result<T>
    where
        F: FnMut(u32) -> futures::future::BoxFuture<'f, Result<T>>,
    {
        let mut attempt = 1u32;
        loop {
            match f(attempt).await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_retryable() && attempt < self.max_failures => {
                    let wait = self.backoff(attempt);
                    self.retried.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(task, attempt, "failed: {e}; retrying in {wait:?}");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) if e.is_retryable() => {
                    return Err(IngestError::TaskFailed {
                        task: task.to_string(),
                        attempts: attempt,
                        cause: Box::new(e),
                    })
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn bad_limit_exceeded(&self, bad: u64, read: u64, final_check: bool) -> Result<()> {
        let over_count = self.spec.max_bad_records.filter(|m| bad > *m);
        let over_frac = self
            .spec
            .max_bad_fraction
            .filter(|f| final_check && read > 0 && bad as f64 / read as f64 > *f);
        let limit = match (over_count, over_frac) {
            (Some(m), _) => format!("max_bad_records = {m}"),
            (None, Some(f)) => format!("max_bad_fraction = {f}"),
            (None, None) => return Ok(()),
        };
        Err(IngestError::TooManyBadRecords {
            bad,
            read,
            limit,
            dead_letter: self.dead_dir.display().to_string(),
        })
    }
}

/// Runs (or resumes) the job.
///
/// Errors: [`IngestError::Config`] when a journal exists and neither `resume` nor
/// `restart` is set; [`IngestError::TaskFailed`] when a task failed
/// `spark.task.maxFailures` times; [`IngestError::TooManyBadRecords`] past the job's
/// limit; source, embeddings and sink errors naming the file or store.
pub async fn run(spec: &JobSpec, opts: &RunOptions) -> Result<Report> {
    let start = Instant::now();
    let work = spec.work_dir();
    let dead_dir = spec.dead_letter_dir();
    if opts.restart {
        for d in [&work, &dead_dir] {
            match std::fs::remove_dir_all(d) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(IngestError::io(d, e)),
                _ => {}
            }
        }
    } else if Journal::exists(&work) && !opts.resume {
        return Err(IngestError::Config(format!(
            "job {} has a journal in {}: pass --resume to continue it or --restart to start over",
            spec.name,
            work.display()
        )));
    }
    let journal = Journal::open(&work, &spec.fingerprint())?;
    let max_failures: u32 = match spec.conf.get("spark.task.maxFailures") {
        None => 4,
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| IngestError::Config(format!("spark.task.maxFailures: '{v}' is not a positive integer")))?,
    };
    let ctx = Arc::new(Ctx {
        schema: spec.record_schema()?,
        sep: spec.source.sep.as_bytes()[0],
        staged_dir: work.join("staged"),
        dead_dir,
        work,
        journal,
        max_failures,
        retry_wait: conf_duration(&spec.conf, "spark.ember.ingest.retryWait", Duration::from_secs(1))?,
        parallelism: parallelism(&spec.master)?,
        retried: AtomicU64::new(0),
        tasks_run: AtomicU64::new(0),
        tasks_skipped: AtomicU64::new(0),
        rows_this_run: AtomicU64::new(0),
        progress: JobProgress::new(opts.progress_bars),
        storage: StorageRegistry::new(spec.conf.clone()),
        spec: spec.clone(),
    });
    tracing::info!(job = %spec.name, work_dir = %ctx.work.display(), resume = opts.resume, "ingestion job starts");

    let dim = spec.embedding.dim();
    let sink: Arc<dyn VectorSink> = Arc::from(
        ctx.attempt("open-sink", |_| Box::pin(sink::open(&ctx.spec.sink, dim))).await?,
    );

    let files = list_source(&ctx).await?;
    parse_stage(&ctx, &files).await?;
    let read = ctx.journal.sum("parse-", "lines");
    ctx.bad_limit_exceeded(ctx.journal.sum("parse-", "bad"), read, true)?;

    let merge = {
        let ctx = ctx.clone();
        let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
        tokio::task::spawn_blocking(move || {
            Photos::load(
                &ctx.staged_dir,
                &ctx.schema,
                &ctx.spec.source.key,
                ctx.sep,
                &names,
                &ctx.work.join("duplicates.parquet"),
            )
        })
        .await
        .map_err(join_err)??
    };
    let photos = Arc::new(merge);
    tracing::info!(records = photos.len(), duplicates = photos.duplicates, "records merged by key");

    let out_schema = output_schema(&ctx.schema, dim);
    let created = ctx
        .attempt("prepare-sink", |_| Box::pin(sink.prepare(out_schema.clone(), &ctx.spec.source.key)))
        .await?;
    if created {
        ctx.journal.append(&Entry::SinkCreated)?;
    }

    match &spec.embedding {
        EmbeddingSpec::Lookup { path, key, column, dim } => {
            let paths: Vec<PathBuf> = {
                let ctx = ctx.clone();
                let raw = path.to_vec();
                tokio::task::spawn_blocking(move || -> Result<Vec<PathBuf>> {
                    let listing = ember_datasource::listing::list(&ctx.storage, &raw)?;
                    listing
                        .files
                        .into_iter()
                        .map(|f| match f.path {
                            Location::Local(p) => Ok(p),
                            Location::Remote(o) => Err(IngestError::Embeddings {
                                path: o.url,
                                message: "embeddings are read from local files only in this version".into(),
                            }),
                        })
                        .collect()
                })
                .await
                .map_err(join_err)??
            };
            let key = key.clone().unwrap_or_else(|| spec.source.key.clone());
            let column = column.clone().unwrap_or_else(|| "embedding".into());
            let (efiles, tasks) = embed::plan(&paths, &key, &column, *dim, spec.task_rows)?;
            lookup_stage(&ctx, &photos, &sink, &efiles, tasks, out_schema.clone()).await?;
            missing_task(&ctx, &photos, &efiles, &paths).await?;
        }
        EmbeddingSpec::Http {
            url,
            url_template,
            batch_size,
            concurrency,
            timeout,
            max_retries,
            retry_wait,
            rate_limit,
            dim,
        } => {
            let dur = |v: &str| ember_datasource::storage::options::parse_duration(v).unwrap_or(Duration::from_secs(30));
            let embedder = Arc::new(HttpEmbedder::new(HttpOptions {
                url: url.clone(),
                batch_size: *batch_size,
                concurrency: *concurrency,
                timeout: dur(timeout),
                max_retries: *max_retries,
                retry_wait: dur(retry_wait),
                rate_limit: *rate_limit,
                dim: *dim,
            })?);
            let result = http_stage(&ctx, &photos, &sink, &embedder, url_template.clone(), out_schema.clone()).await;
            ctx.retried.fetch_add(embedder.retries(), Ordering::Relaxed);
            result?;
        }
    }

    if ctx.journal.committed("index").is_none() {
        ctx.attempt("index", |_| Box::pin(sink.finish())).await?;
        ctx.journal.commit("index", BTreeMap::new())?;
    }
    let dead_lettered = deadletter::counts_by_class(&ctx.dead_dir)?;
    let bad: u64 = dead_lettered.values().sum();
    ctx.bad_limit_exceeded(bad, read, true)?;
    ctx.journal.append(&Entry::Done)?;
    let elapsed = start.elapsed().as_secs_f64();
    let report = Report {
        job: spec.name.clone(),
        complete: true,
        read,
        valid: ctx.journal.sum("parse-", "valid"),
        duplicates_merged: photos.duplicates,
        ingested: ctx.journal.sum("sink-", "ingested"),
        sink_rows: sink.count().await?,
        dead_lettered,
        unused_embeddings: ctx.journal.sum("sink-", "unused"),
        retried: ctx.retried.load(Ordering::Relaxed),
        tasks_skipped: ctx.tasks_skipped.load(Ordering::Relaxed),
        tasks_run: ctx.tasks_run.load(Ordering::Relaxed),
        elapsed_s: elapsed,
        rows_per_s: ctx.rows_this_run.load(Ordering::Relaxed) as f64 / elapsed.max(1e-9),
        dead_letter_table: ctx.dead_dir.display().to_string(),
    };
    report.save(&ctx.work)?;
    Ok(report)
}

fn join_err(e: tokio::task::JoinError) -> IngestError {
    IngestError::Config(format!("a worker thread panicked: {e}"))
}

/// The sink's schema: the source columns, then `embedding` (`FixedSizeList<Float32, dim>`).
pub fn output_schema(schema: &RecordSchema, dim: usize) -> SchemaRef {
    let staged = schema.staged_schema();
    let mut fields: Vec<Field> = staged.fields()[..staged.fields().len() - 1]
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new("embedding", embed::vector_type(dim), false));
    Arc::new(Schema::new(fields))
}

async fn list_source(ctx: &Arc<Ctx>) -> Result<Vec<SourceFile>> {
    let c = ctx.clone();
    tokio::task::spawn_blocking(move || -> Result<Vec<SourceFile>> {
        let listing = ember_datasource::listing::list(&c.storage, &c.spec.source.path.to_vec())?;
        Ok(listing
            .files
            .into_iter()
            .enumerate()
            .map(|(index, f)| SourceFile {
                index,
                name: match &f.path {
                    Location::Local(p) => p.display().to_string(),
                    Location::Remote(o) => o.url.clone(),
                },
                location: f.path,
                size: f.size,
            })
            .collect())
    })
    .await
    .map_err(join_err)?
}

fn line_count(data: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', data).count() as u64 + u64::from(data.last().is_some_and(|b| *b != b'\n'))
}

/// Stage 1: read, cut, parse, stage. The reader runs on one thread (a gzip stream is
/// sequential), `parallelism` workers parse.
async fn parse_stage(ctx: &Arc<Ctx>, files: &[SourceFile]) -> Result<()> {
    let stage = Arc::new(ctx.progress.stage("parse", None));
    let (tx, rx) = std::sync::mpsc::sync_channel::<ParseTask>(ctx.parallelism * 2);
    let rx = Arc::new(Mutex::new(rx));
    let stop = Arc::new(AtomicBool::new(false));
    let first_error: Arc<Mutex<Option<IngestError>>> = Arc::new(Mutex::new(None));
    let fail = {
        let first_error = first_error.clone();
        let stop = stop.clone();
        move |e: IngestError| {
            stop.store(true, Ordering::Relaxed);
            let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
            if slot.is_none() {
                *slot = Some(e);
            }
        }
    };
    let mut handles = Vec::new();
    for _ in 0..ctx.parallelism {
        let (ctx, rx, stage, stop, fail) = (ctx.clone(), rx.clone(), stage.clone(), stop.clone(), fail.clone());
        handles.push(tokio::task::spawn_blocking(move || loop {
            let task = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                Ok(t) => t,
                Err(_) => return,
            };
            if stop.load(Ordering::Relaxed) {
                continue; // drain so the reader is not blocked
            }
            let span = tracing::info_span!("task", id = %task.id);
            let _g = span.enter();
            if let Err(e) = run_parse_task(&ctx, &task, &stage) {
                tracing::error!("{e}");
                fail(e);
            }
        }));
    }
    let reader = {
        let (ctx, files, stage, stop, fail) = (ctx.clone(), files.to_vec(), stage.clone(), stop.clone(), fail.clone());
        tokio::task::spawn_blocking(move || {
            for f in &files {
                if let Err(e) = read_file(&ctx, f, &tx, &stage, &stop) {
                    fail(e);
                    return;
                }
            }
        })
    };
    reader.await.map_err(join_err)?;
    for h in handles {
        h.await.map_err(join_err)?;
    }
    stage.finish();
    let err = first_error.lock().unwrap_or_else(|p| p.into_inner()).take();
    match err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Reads one file into parse tasks; a read failure re-opens the file at the first
/// line not yet handed out, up to `spark.task.maxFailures` times.
fn read_file(
    ctx: &Ctx,
    f: &SourceFile,
    tx: &std::sync::mpsc::SyncSender<ParseTask>,
    stage: &StageProgress,
    stop: &AtomicBool,
) -> Result<()> {
    let next_line = std::cell::Cell::new(1u64);
    let mut attempt = 1u32;
    loop {
        let mut emit = |n: u64, chunk: crate::parse::Chunk| -> bool {
            let id = source::task_id(f.index, n);
            next_line.set(chunk.first_line + line_count(&chunk.data));
            if let Some(counts) = ctx.journal.committed(&id) {
                ctx.tasks_skipped.fetch_add(1, Ordering::Relaxed);
                stage.inc(counts.get("lines").copied().unwrap_or(0));
                return true;
            }
            tx.send(ParseTask { id, file: f.index, chunk }).is_ok()
        };
        match source::read_chunks(f, ctx.spec.task_rows, ctx.spec.source.header, next_line.get(), stop, &mut emit) {
            Ok(_) => return Ok(()),
            Err(e) if e.is_retryable() && attempt < ctx.max_failures && !stop.load(Ordering::Relaxed) => {
                let wait = ctx.backoff(attempt);
                ctx.retried.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(file = %f.name, line = next_line.get(), attempt, "read failed: {e}; re-opening in {wait:?}");
                std::thread::sleep(wait);
                attempt += 1;
            }
            Err(e) if e.is_retryable() => {
                return Err(IngestError::TaskFailed {
                    task: source::task_id(f.index, 0).replace("-000000", "-read"),
                    attempts: attempt,
                    cause: Box::new(e),
                })
            }
            Err(e) => return Err(e),
        }
    }
}

fn run_parse_task(ctx: &Ctx, task: &ParseTask, stage: &StageProgress) -> Result<()> {
    let mut attempt = 1u32;
    loop {
        let result = (|| -> Result<u64> {
            let parsed = parse_chunk(&ctx.schema, ctx.sep, &task.chunk, &task.id)?;
            write_staged(&ctx.staged_dir, &task.id, &parsed.batch)?;
            deadletter::write_part(&ctx.dead_dir, &task.id, &parsed.dead)?;
            let counts = BTreeMap::from([
                ("lines".to_string(), parsed.lines),
                ("valid".to_string(), parsed.batch.num_rows() as u64),
                ("bad".to_string(), parsed.dead.len() as u64),
            ]);
            ctx.journal.commit(&task.id, counts)?;
            Ok(parsed.lines)
        })();
        match result {
            Ok(lines) => {
                ctx.tasks_run.fetch_add(1, Ordering::Relaxed);
                ctx.rows_this_run.fetch_add(lines, Ordering::Relaxed);
                stage.inc(lines);
                tracing::debug!(lines, "committed");
                return ctx.bad_limit_exceeded(
                    ctx.journal.sum("parse-", "bad"),
                    ctx.journal.sum("parse-", "lines"),
                    false,
                );
            }
            Err(e) if e.is_retryable() && attempt < ctx.max_failures => {
                ctx.retried.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(attempt, "failed: {e}; retrying");
                std::thread::sleep(ctx.backoff(attempt));
                attempt += 1;
            }
            Err(e) if e.is_retryable() => {
                return Err(IngestError::TaskFailed {
                    task: task.id.clone(),
                    attempts: attempt,
                    cause: Box::new(e),
                })
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs sink task `id` (covering `rows` input rows) with retries unless an earlier
/// run committed it; counts it and advances the stage either way.
async fn run_task<'f, F>(ctx: &Ctx, stage: &StageProgress, id: &str, rows: u64, f: F) -> Result<()>
where
    F: FnMut(u32) -> futures::future::BoxFuture<'f, Result<()>>,
{
    if ctx.journal.committed(id).is_some() {
        ctx.tasks_skipped.fetch_add(1, Ordering::Relaxed);
    } else {
        ctx.attempt(id, f).await?;
        ctx.tasks_run.fetch_add(1, Ordering::Relaxed);
    }
    stage.inc(rows);
    Ok(())
}

/// Stage 3: stream the embeddings through the merged records into the sink.
async fn lookup_stage(
    ctx: &Arc<Ctx>,
    photos: &Arc<Photos>,
    sink: &Arc<dyn VectorSink>,
    files: &[EmbeddingFile],
    tasks: Vec<LookupTask>,
    out_schema: SchemaRef,
) -> Result<()> {
    let total: u64 = tasks.iter().map(|t| t.rows).sum();
    let stage = Arc::new(ctx.progress.stage("embed+sink", Some(total)));
    let files = Arc::new(files.to_vec());
    futures::stream::iter(tasks)
        .map(|t| {
            let (ctx, photos, sink, files, stage, schema) =
                (ctx.clone(), photos.clone(), sink.clone(), files.clone(), stage.clone(), out_schema.clone());
            let span = tracing::info_span!("task", id = %t.id);
            async move {
                let file = &files[t.file];
                run_task(&ctx, &stage, &t.id, t.rows, |attempt| {
                    Box::pin(lookup_task(&ctx, &photos, &sink, file, &t, attempt, schema.clone()))
                })
                .await
            }
            .instrument(span)
        })
        .buffer_unordered(ctx.parallelism)
        .try_collect::<Vec<()>>()
        .await?;
    stage.finish();
    Ok(())
}

async fn lookup_task(
    ctx: &Ctx,
    photos: &Photos,
    sink: &Arc<dyn VectorSink>,
    file: &EmbeddingFile,
    task: &LookupTask,
    attempt: u32,
    schema: SchemaRef,
) -> Result<()> {
    let batches = {
        let (file, task) = (file.clone(), task.clone());
        tokio::task::spawn_blocking(move || embed::read_task(&file, &task))
            .await
            .map_err(join_err)??
    };
    let dim = ctx.spec.embedding.dim();
    let mut rows: Vec<u32> = Vec::new();
    let mut values: Vec<f32> = Vec::new();
    let mut dead: Vec<DeadLetter> = Vec::new();
    let mut seen: HashSet<u32> = HashSet::new();
    let mut unused = 0u64;
    for (keys, vecs) in &batches {
        let keys = keys.as_primitive::<Int64Type>();
        let v = Vectors::new(vecs)?;
        for i in 0..keys.len() {
            if keys.is_null(i) {
                unused += 1;
                continue;
            }
            let Some(&row) = photos.index.get(&keys.value(i)) else {
                unused += 1;
                continue;
            };
            if !seen.insert(row) {
                continue; // the key twice in this task: the first vector wins
            }
            match v.row(i, dim) {
                VectorRow::Ok(s) => {
                    rows.push(row);
                    values.extend_from_slice(s);
                }
                VectorRow::Null => dead.push(photos.dead_letter(
                    row,
                    ErrorClass::MissingEmbedding,
                    &format!("the embedding of key {} is null in {}", keys.value(i), file.path.display()),
                    attempt,
                    &task.id,
                )),
                VectorRow::WrongLength(n) => dead.push(photos.dead_letter(
                    row,
                    ErrorClass::VectorDimensionMismatch,
                    &format!("the embedding of key {} has {n} values, the job expects {dim}", keys.value(i)),
                    attempt,
                    &task.id,
                )),
            }
        }
    }
    let out = TaskOutput { rows, values, dead, extra: BTreeMap::from([("unused".to_string(), unused)]) };
    commit_sink_task(ctx, photos, sink, &task.id, task.rows, out, attempt, schema).await
}

/// What a sink task produced before writing: records (rows of the merged records),
/// their vectors concatenated, dead letters, and counters for the journal.
struct TaskOutput {
    rows: Vec<u32>,
    values: Vec<f32>,
    dead: Vec<DeadLetter>,
    extra: BTreeMap<String, u64>,
}

/// Writes a task's records to the sink (append when the task never started and the
/// job created the table, upsert otherwise), then its dead letters, then its commit.
#[allow(clippy::too_many_arguments)]
async fn commit_sink_task(
    ctx: &Ctx,
    photos: &Photos,
    sink: &Arc<dyn VectorSink>,
    id: &str,
    input_rows: u64,
    out: TaskOutput,
    attempt: u32,
    schema: SchemaRef,
) -> Result<()> {
    let TaskOutput { rows, values, mut dead, extra } = out;
    let mut cols = photos.take_columns(&UInt32Array::from(rows.clone()))?;
    cols.push(embed::vector_column(values, ctx.spec.embedding.dim())?);
    let batch = RecordBatch::try_new(schema, cols)?;
    let mode = if ctx.journal.sink_created() && !ctx.journal.was_started(id) {
        WriteMode::Append
    } else {
        WriteMode::Upsert
    };
    ctx.journal.start(id)?;
    let written = write_splitting(sink.as_ref(), batch, mode, &rows, photos, &mut dead, attempt, id).await?;
    deadletter::write_part(&ctx.dead_dir, id, &dead)?;
    let mut counts = BTreeMap::from([
        ("rows".to_string(), input_rows),
        ("ingested".to_string(), written),
        ("dead".to_string(), dead.len() as u64),
    ]);
    counts.extend(extra);
    ctx.journal.commit(id, counts)?;
    Ok(())
}

/// Stage 3 with an embedding service: tasks of `task_rows` merged records, each sent
/// in requests of `batch_size` keys (or URLs).
async fn http_stage(
    ctx: &Arc<Ctx>,
    photos: &Arc<Photos>,
    sink: &Arc<dyn VectorSink>,
    embedder: &Arc<HttpEmbedder>,
    template: Option<String>,
    out_schema: SchemaRef,
) -> Result<()> {
    let n = photos.len();
    let step = ctx.spec.task_rows as usize;
    let tasks: Vec<(String, usize, usize)> = (0..n)
        .step_by(step)
        .map(|s| (format!("sink-{s:010}"), s, (s + step).min(n)))
        .collect();
    let stage = Arc::new(ctx.progress.stage("embed+sink", Some(n as u64)));
    futures::stream::iter(tasks)
        .map(|(id, start, end)| {
            let (ctx, photos, sink, embedder, stage, schema, template) = (
                ctx.clone(),
                photos.clone(),
                sink.clone(),
                embedder.clone(),
                stage.clone(),
                out_schema.clone(),
                template.clone(),
            );
            let span = tracing::info_span!("task", id = %id);
            async move {
                run_task(&ctx, &stage, &id, (end - start) as u64, |attempt| {
                    Box::pin(http_task(&ctx, &photos, &sink, &embedder, template.as_deref(), &id, start..end, attempt, schema.clone()))
                })
                .await
            }
            .instrument(span)
        })
        .buffer_unordered(ctx.parallelism)
        .try_collect::<Vec<()>>()
        .await?;
    stage.finish();
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn http_task(
    ctx: &Ctx,
    photos: &Photos,
    sink: &Arc<dyn VectorSink>,
    embedder: &HttpEmbedder,
    template: Option<&str>,
    id: &str,
    range: std::ops::Range<usize>,
    attempt: u32,
    schema: SchemaRef,
) -> Result<()> {
    let key = &ctx.spec.source.key;
    let rows: Vec<u32> = range.clone().map(|r| r as u32).collect();
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|&r| match template {
            Some(t) => serde_json::Value::String(embed_http::fill_template(t, &|c| photos.value_string(r, c))),
            None => photos
                .value_string(r, key)
                .and_then(|k| k.parse::<i64>().ok())
                .map_or(serde_json::Value::Null, serde_json::Value::from),
        })
        .collect();
    let opts = embedder.options();
    let as_urls = template.is_some();
    let chunks: Vec<Vec<serde_json::Value>> = items.chunks(opts.batch_size).map(<[_]>::to_vec).collect();
    let answers: Vec<Vec<Embedded>> = futures::stream::iter(chunks)
        .map(|chunk| async move { embedder.embed(&chunk, as_urls).await })
        .buffered(opts.concurrency)
        .try_collect()
        .await?;
    let mut out = TaskOutput { rows: Vec::new(), values: Vec::new(), dead: Vec::new(), extra: BTreeMap::new() };
    let dim = opts.dim;
    for (&row, answer) in rows.iter().zip(answers.into_iter().flatten()) {
        let k = photos.value_string(row, key).unwrap_or_default();
        let (class, message) = match answer {
            Embedded::Vector(v) => {
                out.rows.push(row);
                out.values.extend_from_slice(&v);
                continue;
            }
            Embedded::Missing => (ErrorClass::MissingEmbedding, format!("the embedding service {} has no vector for key {k}", opts.url)),
            Embedded::WrongLength(n) => (
                ErrorClass::VectorDimensionMismatch,
                format!("the embedding of key {k} has {n} values, the job expects {dim}"),
            ),
            Embedded::Failed(m) => (ErrorClass::EmbeddingFailed, format!("the embedding service {} rejected key {k}: {m}", opts.url)),
        };
        out.dead.push(photos.dead_letter(row, class, &message, attempt, id));
    }
    commit_sink_task(ctx, photos, sink, id, rows.len() as u64, out, attempt, schema).await
}

/// Writes `batch`; when the sink rejects it for its data, writes halves until the
/// rejected records are found, which become `SINK_REJECTED` dead letters.
#[allow(clippy::too_many_arguments)]
fn write_splitting<'a>(
    sink: &'a dyn VectorSink,
    batch: RecordBatch,
    mode: WriteMode,
    rows: &'a [u32],
    photos: &'a Photos,
    dead: &'a mut Vec<DeadLetter>,
    attempt: u32,
    task: &'a str,
) -> Pin<Box<dyn Future<Output = Result<u64>> + Send + 'a>> {
    Box::pin(async move {
        match sink.write(batch.clone(), mode).await {
            Ok(n) => Ok(n),
            Err(IngestError::SinkRejected { message, .. }) if batch.num_rows() == 1 => {
                dead.push(photos.dead_letter(rows[0], ErrorClass::SinkRejected, &message, attempt, task));
                Ok(0)
            }
            Err(IngestError::SinkRejected { .. }) if batch.num_rows() > 1 => {
                let half = batch.num_rows() / 2;
                let (a, b) = (batch.slice(0, half), batch.slice(half, batch.num_rows() - half));
                let n1 = write_splitting(sink, a, mode, &rows[..half], photos, dead, attempt, task).await?;
                let n2 = write_splitting(sink, b, mode, &rows[half..], photos, dead, attempt, task).await?;
                Ok(n1 + n2)
            }
            Err(e) => Err(e),
        }
    })
}

/// Stage 4: records whose key is in no embeddings file.
async fn missing_task(ctx: &Arc<Ctx>, photos: &Arc<Photos>, files: &[EmbeddingFile], paths: &[PathBuf]) -> Result<()> {
    const ID: &str = "missing";
    if ctx.journal.committed(ID).is_some() {
        return Ok(());
    }
    let where_ = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    let (c, p, files) = (ctx.clone(), photos.clone(), files.to_vec());
    tokio::task::spawn_blocking(move || -> Result<()> {
        let mut keys: HashSet<i64> = HashSet::new();
        for f in &files {
            keys.extend(embed::read_keys(f)?);
        }
        let mut rows: Vec<u32> = p
            .index
            .iter()
            .filter(|(k, _)| !keys.contains(k))
            .map(|(_, r)| *r)
            .collect();
        rows.sort_unstable();
        let key_col = c.schema.index_of(&c.spec.source.key).unwrap_or(0);
        let dead: Vec<DeadLetter> = rows
            .iter()
            .map(|&r| {
                let key = arrow::util::display::array_value_to_string(p.batch.column(key_col), r as usize)
                    .unwrap_or_default();
                p.dead_letter(r, ErrorClass::MissingEmbedding, &format!("no embedding for key {key} in {where_}"), 1, ID)
            })
            .collect();
        deadletter::write_part(&c.dead_dir, ID, &dead)?;
        c.journal
            .commit(ID, BTreeMap::from([("missing".to_string(), dead.len() as u64)]))
    })
    .await
    .map_err(join_err)?
}

/// The work directory of a job file's job, for `--report`.
///
/// Errors: as [`JobSpec::from_file`].
pub fn work_dir_of(job_file: &Path) -> Result<PathBuf> {
    Ok(JobSpec::from_file(job_file)?.work_dir())
}
