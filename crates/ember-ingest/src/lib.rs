//! ember's ingestion subsystem: a job that reads records (the iNaturalist export's
//! `photos.csv.gz` is the headline case), attaches a vector to each, and upserts them
//! into a vector store — in parallel tasks, retried, journaled so that a job killed at
//! any instant resumes without losing or duplicating a record, with every record
//! that cannot be ingested in a dead-letter Parquet table.
//!
//! - [`spec`]: the job file (`ember ingest job.toml`).
//! - [`job`]: stages, tasks, retries, resume ([`job::run`]).
//! - [`parse`], [`source`]: the export's delimited format, cut into tasks.
//! - [`photos`], [`embed`], [`embed_http`]: merging records by key; the embeddings
//!   lookup join; the HTTP embedding service client.
//! - [`sink`]: Lance (embedded) and PostgreSQL + pgvector.
//! - [`journal`], [`deadletter`], [`report`], [`progress`].
//! - [`generator`]: synthetic export data for tests and benchmarks.
//!
//! From Rust (the same as `ember ingest job.toml --resume`):
//!
//! ```no_run
//! # async fn f() -> ember_ingest::Result<()> {
//! let spec = ember_ingest::JobSpec::from_file(std::path::Path::new("examples/inaturalist/job.toml"))?;
//! let opts = ember_ingest::RunOptions { resume: true, ..Default::default() };
//! let report = ember_ingest::run(&spec, &opts).await?;
//! println!("{} ingested, {} dead-lettered", report.ingested, report.dead_lettered_total());
//! # Ok(())
//! # }
//! ```

pub mod deadletter;
pub mod embed;
pub mod embed_http;
#[cfg(feature = "lance")]
pub mod embed_lance;
pub mod error;
mod files;
pub mod generator;
pub mod job;
pub mod journal;
pub mod parse;
pub mod photos;
pub mod progress;
pub mod report;
pub mod sink;
pub mod source;
pub mod spec;

pub use error::{IngestError, Result};

/// Whether an embeddings path names a Lance dataset (a directory ending in `.lance`).
pub fn embed_lance_path(path: &str) -> bool {
    path.trim_end_matches('/').ends_with(".lance")
}
pub use job::{run, RunOptions};
pub use report::Report;
pub use spec::JobSpec;
