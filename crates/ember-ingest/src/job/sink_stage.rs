//! Stages 3 and 4 of a job: vectors joined or fetched, written to the sink; records
//! without a vector (see the parent module).

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use arrow::datatypes::{Int64Type, SchemaRef};
use futures::{StreamExt, TryStreamExt};
use tracing::Instrument;

use crate::deadletter::{self, DeadLetter, ErrorClass};
use crate::embed::{self, EmbeddingSource, LookupTask, VectorRow, Vectors};
use crate::embed_http::{self, Embedded, HttpEmbedder};
use crate::error::{IngestError, Result};
use crate::photos::Photos;
use crate::progress::StageProgress;
use crate::sink::{VectorSink, WriteMode};

use super::{join_err, Ctx};

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
pub(super) async fn lookup_stage(
    ctx: &Arc<Ctx>,
    photos: &Arc<Photos>,
    sink: &Arc<dyn VectorSink>,
    files: &[EmbeddingSource],
    tasks: Vec<LookupTask>,
    out_schema: SchemaRef,
) -> Result<()> {
    let total: u64 = tasks.iter().map(|t| t.rows).sum();
    let stage = Arc::new(ctx.progress.stage("embed+sink", Some(total)));
    let files = Arc::new(files.to_vec());
    futures::stream::iter(tasks)
        .map(|t| {
            let (ctx, photos, sink, files, stage, schema) = (
                ctx.clone(),
                photos.clone(),
                sink.clone(),
                files.clone(),
                stage.clone(),
                out_schema.clone(),
            );
            let span = tracing::info_span!("task", id = %t.id);
            async move {
                let file = &files[t.file];
                run_task(&ctx, &stage, &t.id, t.rows, |attempt| {
                    Box::pin(lookup_task(
                        &ctx,
                        &photos,
                        &sink,
                        file,
                        &t,
                        attempt,
                        schema.clone(),
                    ))
                })
                .await
            }
            .instrument(span)
        })
        .buffer_unordered(ctx.parallelism)
        .try_collect::<Vec<()>>()
        .await?;
    stage.finish();
    let secs = |i: usize| ctx.sink_times[i].load(Ordering::Relaxed) as f64 / 1e9;
    tracing::info!(
        stage = "embed+sink",
        "time summed over tasks: reading vectors {:.2}s, joining {:.2}s, writing to the sink {:.2}s",
        secs(0),
        secs(1),
        secs(2)
    );
    Ok(())
}

async fn lookup_task(
    ctx: &Ctx,
    photos: &Photos,
    sink: &Arc<dyn VectorSink>,
    file: &EmbeddingSource,
    task: &LookupTask,
    attempt: u32,
    schema: SchemaRef,
) -> Result<()> {
    let t0 = std::time::Instant::now();
    let batches = file.read_task(task).await?;
    let t1 = std::time::Instant::now();
    ctx.sink_times[0].fetch_add((t1 - t0).as_nanos() as u64, Ordering::Relaxed);
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
                    &format!(
                        "the embedding of key {} is null in {}",
                        keys.value(i),
                        file.name()
                    ),
                    attempt,
                    &task.id,
                )),
                VectorRow::WrongLength(n) => dead.push(photos.dead_letter(
                    row,
                    ErrorClass::VectorDimensionMismatch,
                    &format!(
                        "the embedding of key {} has {n} values, the job expects {dim}",
                        keys.value(i)
                    ),
                    attempt,
                    &task.id,
                )),
            }
        }
    }
    let out = TaskOutput {
        rows,
        values,
        dead,
        extra: BTreeMap::from([("unused".to_string(), unused)]),
    };
    ctx.sink_times[1].fetch_add(t1.elapsed().as_nanos() as u64, Ordering::Relaxed);
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
    let TaskOutput {
        rows,
        values,
        mut dead,
        extra,
    } = out;
    let mut cols = photos.take_columns(&UInt32Array::from(rows.clone()))?;
    cols.push(embed::vector_column(values, ctx.spec.embedding.dim())?);
    let batch = RecordBatch::try_new(schema, cols)?;
    let mode = if ctx.journal.sink_created()
        && !ctx.journal.was_started(id)
        && !ctx.force_upsert.load(Ordering::Relaxed)
    {
        WriteMode::Append
    } else {
        WriteMode::Upsert
    };
    ctx.journal.start(id)?;
    let t0 = std::time::Instant::now();
    let written = write_splitting(
        sink.as_ref(),
        batch,
        mode,
        &rows,
        photos,
        &mut dead,
        attempt,
        id,
    )
    .await?;
    ctx.sink_times[2].fetch_add(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
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
pub(super) async fn http_stage(
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
                    Box::pin(http_task(
                        &ctx,
                        &photos,
                        &sink,
                        &embedder,
                        template.as_deref(),
                        &id,
                        start..end,
                        attempt,
                        schema.clone(),
                    ))
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
            Some(t) => serde_json::Value::String(embed_http::fill_template(t, &|c| {
                photos.value_string(r, c)
            })),
            None => photos
                .value_string(r, key)
                .and_then(|k| k.parse::<i64>().ok())
                .map_or(serde_json::Value::Null, serde_json::Value::from),
        })
        .collect();
    let opts = embedder.options();
    let as_urls = template.is_some();
    let chunks: Vec<Vec<serde_json::Value>> =
        items.chunks(opts.batch_size).map(<[_]>::to_vec).collect();
    let answers: Vec<Vec<Embedded>> = futures::stream::iter(chunks)
        .map(|chunk| async move { embedder.embed(&chunk, as_urls).await })
        .buffered(opts.concurrency)
        .try_collect()
        .await?;
    let mut out = TaskOutput {
        rows: Vec::new(),
        values: Vec::new(),
        dead: Vec::new(),
        extra: BTreeMap::new(),
    };
    let dim = opts.dim;
    for (&row, answer) in rows.iter().zip(answers.into_iter().flatten()) {
        let k = photos.value_string(row, key).unwrap_or_default();
        let (class, message) = match answer {
            Embedded::Vector(v) => {
                out.rows.push(row);
                out.values.extend_from_slice(&v);
                continue;
            }
            Embedded::Missing => (
                ErrorClass::MissingEmbedding,
                format!(
                    "the embedding service {} has no vector for key {k}",
                    opts.url
                ),
            ),
            Embedded::WrongLength(n) => (
                ErrorClass::VectorDimensionMismatch,
                format!("the embedding of key {k} has {n} values, the job expects {dim}"),
            ),
            Embedded::Failed(m) => (
                ErrorClass::EmbeddingFailed,
                format!("the embedding service {} rejected key {k}: {m}", opts.url),
            ),
        };
        out.dead
            .push(photos.dead_letter(row, class, &message, attempt, id));
    }
    commit_sink_task(
        ctx,
        photos,
        sink,
        id,
        rows.len() as u64,
        out,
        attempt,
        schema,
    )
    .await
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
                dead.push(photos.dead_letter(
                    rows[0],
                    ErrorClass::SinkRejected,
                    &message,
                    attempt,
                    task,
                ));
                Ok(0)
            }
            Err(IngestError::SinkRejected { .. }) if batch.num_rows() > 1 => {
                let half = batch.num_rows() / 2;
                let (a, b) = (
                    batch.slice(0, half),
                    batch.slice(half, batch.num_rows() - half),
                );
                let n1 = write_splitting(sink, a, mode, &rows[..half], photos, dead, attempt, task)
                    .await?;
                let n2 = write_splitting(sink, b, mode, &rows[half..], photos, dead, attempt, task)
                    .await?;
                Ok(n1 + n2)
            }
            Err(e) => Err(e),
        }
    })
}

/// Stage 4: records whose key is in no embeddings table.
/// `keys`: every key of the embeddings.
pub(super) async fn missing_task(
    ctx: &Arc<Ctx>,
    photos: &Arc<Photos>,
    files: &[EmbeddingSource],
    keys: HashSet<i64>,
) -> Result<()> {
    const ID: &str = "missing";
    if ctx.journal.committed(ID).is_some() {
        return Ok(());
    }
    let where_ = files
        .iter()
        .map(EmbeddingSource::name)
        .collect::<Vec<_>>()
        .join(", ");
    let (c, p) = (ctx.clone(), photos.clone());
    tokio::task::spawn_blocking(move || -> Result<()> {
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
                let key = arrow::util::display::array_value_to_string(
                    p.batch.column(key_col),
                    r as usize,
                )
                .unwrap_or_default();
                p.dead_letter(
                    r,
                    ErrorClass::MissingEmbedding,
                    &format!("no embedding for key {key} in {where_}"),
                    1,
                    ID,
                )
            })
            .collect();
        deadletter::write_part(&c.dead_dir, ID, &dead)?;
        c.journal.commit(
            ID,
            BTreeMap::from([("missing".to_string(), dead.len() as u64)]),
        )
    })
    .await
    .map_err(join_err)?
}
