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

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::datatypes::{Field, Schema, SchemaRef};
use ember_datasource::storage::{Location, StorageRegistry};

use crate::deadletter;
use crate::embed::{self, EmbeddingSource};
use crate::embed_http::{HttpEmbedder, HttpOptions};
use crate::error::{IngestError, Result};
use crate::journal::{Entry, Journal};
use crate::parse::RecordSchema;
use crate::photos::Photos;
use crate::progress::JobProgress;
use crate::report::Report;
use crate::sink::{self, VectorSink};
use crate::source::SourceFile;
use crate::spec::{EmbeddingSpec, JobSpec};

mod parse_stage;
mod sink_stage;

use parse_stage::parse_stage;
use sink_stage::{http_stage, lookup_stage, missing_task};

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
            .ok_or_else(|| {
                IngestError::Config(format!(
                    "master '{m}': ember ingest runs local, local[n] or local[*]"
                ))
            }),
    }
}

fn conf_duration(
    conf: &BTreeMap<String, String>,
    key: &str,
    default: Duration,
) -> Result<Duration> {
    match conf.get(key) {
        None => Ok(default),
        Some(v) => ember_datasource::storage::options::parse_duration(v).ok_or_else(|| {
            IngestError::Config(format!("{key}: '{v}' is not a duration (e.g. 500ms, 2s)"))
        }),
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
    /// Set when the embeddings hold a key twice: two tasks may then write the same
    /// record, so every write is an upsert.
    force_upsert: std::sync::atomic::AtomicBool,
    /// Time summed over sink tasks, ns: reading vectors, joining, writing to the sink.
    sink_times: [AtomicU64; 3],
    progress: JobProgress,
    storage: StorageRegistry,
}

impl Ctx {
    fn backoff(&self, attempt: u32) -> Duration {
        (self.retry_wait * 2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(Duration::from_secs(30))
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
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(IngestError::io(d, e))
                }
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
        Some(v) => v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            IngestError::Config(format!(
                "spark.task.maxFailures: '{v}' is not a positive integer"
            ))
        })?,
    };
    let ctx = Arc::new(Ctx {
        schema: spec.record_schema()?,
        sep: spec.source.sep.as_bytes()[0],
        staged_dir: work.join("staged"),
        dead_dir,
        work,
        journal,
        max_failures,
        retry_wait: conf_duration(
            &spec.conf,
            "spark.ember.ingest.retryWait",
            Duration::from_secs(1),
        )?,
        parallelism: parallelism(&spec.master)?,
        retried: AtomicU64::new(0),
        tasks_run: AtomicU64::new(0),
        tasks_skipped: AtomicU64::new(0),
        rows_this_run: AtomicU64::new(0),
        force_upsert: std::sync::atomic::AtomicBool::new(false),
        sink_times: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
        progress: JobProgress::new(opts.progress_bars),
        storage: StorageRegistry::new(spec.conf.clone()),
        spec: spec.clone(),
    });
    tracing::info!(job = %spec.name, work_dir = %ctx.work.display(), resume = opts.resume, "ingestion job starts");

    let dim = spec.embedding.dim();
    let sink: Arc<dyn VectorSink> = Arc::from(
        ctx.attempt("open-sink", |_| Box::pin(sink::open(&ctx.spec.sink, dim)))
            .await?,
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
    tracing::info!(
        records = photos.len(),
        duplicates = photos.duplicates,
        "records merged by key"
    );

    let out_schema = output_schema(&ctx.schema, dim);
    let created = ctx
        .attempt("prepare-sink", |_| {
            Box::pin(sink.prepare(out_schema.clone(), &ctx.spec.source.key))
        })
        .await?;
    if created {
        ctx.journal.append(&Entry::SinkCreated)?;
    }

    match &spec.embedding {
        EmbeddingSpec::Lookup {
            path,
            key,
            column,
            dim,
        } => {
            let key = key.clone().unwrap_or_else(|| spec.source.key.clone());
            let column = column.clone().unwrap_or_else(|| "embedding".into());
            let (lance_paths, other): (Vec<String>, Vec<String>) = path
                .to_vec()
                .into_iter()
                .partition(|p| crate::embed_lance_path(p));
            let paths: Vec<PathBuf> = if other.is_empty() {
                Vec::new()
            } else {
                let ctx = ctx.clone();
                tokio::task::spawn_blocking(move || -> Result<Vec<PathBuf>> {
                    let listing = ember_datasource::listing::list(&ctx.storage, &other)?;
                    listing
                        .files
                        .into_iter()
                        .map(|f| match f.path {
                            Location::Local(p) => Ok(p),
                            Location::Remote(o) => Err(IngestError::Embeddings {
                                path: o.url,
                                message:
                                    "embeddings are read from local files only in this version"
                                        .into(),
                            }),
                        })
                        .collect()
                })
                .await
                .map_err(join_err)??
            };
            let (efiles, mut tasks) = embed::plan(&paths, &key, &column, *dim, spec.task_rows)?;
            let mut sources: Vec<EmbeddingSource> =
                efiles.into_iter().map(EmbeddingSource::Parquet).collect();
            for p in lance_paths {
                #[cfg(feature = "lance")]
                {
                    let (l, t) = crate::embed_lance::LanceEmbeddings::plan(
                        &p,
                        sources.len(),
                        &key,
                        &column,
                        *dim,
                    )
                    .await?;
                    sources.push(EmbeddingSource::Lance(l));
                    tasks.extend(t);
                }
                #[cfg(not(feature = "lance"))]
                return Err(IngestError::Config(format!(
                    "{p}: this ember was built without Lance (cargo feature `lance`)"
                )));
            }
            // Every key of the embeddings (the key column only): duplicates decide the
            // write mode, and the records without a vector come from it.
            let mut keys = std::collections::HashSet::new();
            let mut total = 0usize;
            for s in &sources {
                let k = s.read_keys().await?;
                total += k.len();
                keys.extend(k);
            }
            if total > keys.len() {
                tracing::warn!(
                    duplicate_keys = total - keys.len(),
                    "the embeddings hold some keys more than once: every write is an upsert, the last vector written wins"
                );
                ctx.force_upsert.store(true, Ordering::Relaxed);
            }
            lookup_stage(&ctx, &photos, &sink, &sources, tasks, out_schema.clone()).await?;
            missing_task(&ctx, &photos, &sources, keys).await?;
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
            let dur = |v: &str| {
                ember_datasource::storage::options::parse_duration(v)
                    .unwrap_or(Duration::from_secs(30))
            };
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
            let result = http_stage(
                &ctx,
                &photos,
                &sink,
                &embedder,
                url_template.clone(),
                out_schema.clone(),
            )
            .await;
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
