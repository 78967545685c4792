//! Vector sinks: where ingested records go. A sink receives Arrow batches of the
//! job's output schema (the source columns, then the vector column `embedding`,
//! `FixedSizeList<Float32, dim>`) and writes them keyed by the record key.
//!
//! Idempotence is the sinks' half of exactly-once: [`WriteMode::Upsert`] replaces a
//! record with the same key, so a task re-run after a crash rewrites its records
//! instead of duplicating them. [`WriteMode::Append`] is only used for a task that
//! never started before, into a table the job created itself, where no record of the
//! batch can exist yet.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use crate::error::Result;
use crate::spec::SinkSpec;

#[cfg(feature = "lance")]
pub mod lance;
#[cfg(feature = "postgres")]
pub mod postgres;

/// How a batch is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Insert; the caller guarantees no key of the batch is in the table.
    Append,
    /// Insert or replace by key.
    Upsert,
}

/// A vector store the ingestion job writes to.
#[async_trait::async_trait]
pub trait VectorSink: Send + Sync {
    /// Short name for messages (`lance`, `pgvector`).
    fn name(&self) -> &'static str;

    /// Opens the table, creating it with `schema` (key column `key`) if missing.
    /// Returns whether it was created now.
    ///
    /// Errors: [`crate::IngestError::Sink`] when the store is unreachable
    /// (transient) or the existing table does not fit `schema`.
    async fn prepare(&self, schema: SchemaRef, key: &str) -> Result<bool>;

    /// Writes `batch`; returns the rows written.
    ///
    /// Errors: [`crate::IngestError::Sink`], `transient` for connection errors and
    /// timeouts (the task is retried); [`crate::IngestError::SinkRejected`] for a data
    /// error (the batch is split to find the rejected records).
    async fn write(&self, batch: RecordBatch, mode: WriteMode) -> Result<u64>;

    /// Builds the configured index after the last batch.
    ///
    /// Errors: [`crate::IngestError::Sink`].
    async fn finish(&self) -> Result<()>;

    /// Rows in the table now.
    ///
    /// Errors: [`crate::IngestError::Sink`].
    async fn count(&self) -> Result<u64>;
}

/// The sink for `spec`, for vectors of `dim` floats.
///
/// Errors: [`crate::IngestError::Config`] when ember was built without the sink's
/// feature; [`crate::IngestError::Sink`] when it cannot be opened.
pub async fn open(spec: &SinkSpec, dim: usize) -> Result<Box<dyn VectorSink>> {
    let _ = dim;
    match spec {
        #[cfg(feature = "lance")]
        SinkSpec::Lance { uri, table, index } => Ok(Box::new(
            lance::LanceSink::open(uri, table, index.as_deref()).await?,
        )),
        #[cfg(feature = "postgres")]
        SinkSpec::Pgvector { url, table, index } => Ok(Box::new(
            postgres::PgVectorSink::open(url, table, index.as_deref(), dim).await?,
        )),
        #[allow(unreachable_patterns)]
        other => Err(crate::error::IngestError::Config(format!(
            "this ember was built without the sink {other:?} (cargo features `lance`, `postgres`)"
        ))),
    }
}
