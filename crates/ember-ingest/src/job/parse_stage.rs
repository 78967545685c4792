//! Stage 1 of a job: read, cut, parse, stage (see the parent module).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::deadletter;
use crate::error::{IngestError, Result};
use crate::parse::parse_chunk;
use crate::photos::write_staged;
use crate::progress::StageProgress;
use crate::source::{self, ParseTask, SourceFile};

use super::{join_err, Ctx};

fn line_count(data: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', data).count() as u64
        + u64::from(data.last().is_some_and(|b| *b != b'\n'))
}

/// Stage 1: read, cut, parse, stage. The reader runs on one thread (a gzip stream is
/// sequential), `parallelism` workers parse.
pub(super) async fn parse_stage(ctx: &Arc<Ctx>, files: &[SourceFile]) -> Result<()> {
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
        let (ctx, rx, stage, stop, fail) = (
            ctx.clone(),
            rx.clone(),
            stage.clone(),
            stop.clone(),
            fail.clone(),
        );
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
        let (ctx, files, stage, stop, fail) = (
            ctx.clone(),
            files.to_vec(),
            stage.clone(),
            stop.clone(),
            fail.clone(),
        );
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
            tx.send(ParseTask {
                id,
                file: f.index,
                chunk,
            })
            .is_ok()
        };
        match source::read_chunks(
            f,
            ctx.spec.task_rows,
            ctx.spec.source.header,
            next_line.get(),
            stop,
            &mut emit,
        ) {
            Ok(_) => return Ok(()),
            Err(e)
                if e.is_retryable()
                    && attempt < ctx.max_failures
                    && !stop.load(Ordering::Relaxed) =>
            {
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
