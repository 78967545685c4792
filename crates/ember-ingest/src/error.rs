//! Errors of the ingestion subsystem.

use std::path::Path;

/// Result with [`IngestError`].
pub type Result<T, E = IngestError> = std::result::Result<T, E>;

/// Why an ingestion job (or one of its tasks) failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The job file or an option is wrong: the message names the key.
    #[error("invalid job: {0}")]
    Config(String),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing a Parquet file failed.
    #[error("{path}: {message}")]
    Parquet {
        /// The file.
        path: String,
        /// The cause.
        message: String,
    },
    /// Opening or listing the source failed (the message names the path or URL).
    #[error(transparent)]
    Source(#[from] ember_datasource::error::DataSourceError),
    /// Building Arrow data failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// The embeddings source does not fit the job (missing column, wrong type or
    /// dimension).
    #[error("embeddings {path}: {message}")]
    Embeddings {
        /// File or URL.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The embedding service failed (after retries: the task fails).
    #[error("embedding service {url}: {message}")]
    Service {
        /// Endpoint.
        url: String,
        /// What happened (status, timeout, body).
        message: String,
    },
    /// The vector store failed. `transient` errors (connection lost, timeouts) are
    /// retried as the task; the others fail the job.
    #[error("sink {sink}: {message}")]
    Sink {
        /// Sink name (`lance`, `pgvector`).
        sink: &'static str,
        /// The store's message.
        message: String,
        /// Whether retrying may succeed.
        transient: bool,
    },
    /// The vector store refused the batch for its data (e.g. PostgreSQL SQLSTATE
    /// classes 22 and 23): the job splits the batch to find the rejected records,
    /// which go to the dead-letter table as `SINK_REJECTED`.
    #[error("sink {sink} rejected the data: {message}")]
    SinkRejected {
        /// Sink name.
        sink: &'static str,
        /// The store's message.
        message: String,
    },
    /// The journal is unreadable or belongs to another job definition.
    #[error("journal {path}: {message}")]
    Journal {
        /// The journal file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A task failed `spark.task.maxFailures` times (as Spark's "Task N in stage M
    /// failed K times"); committed tasks stay committed: `--resume` continues.
    #[error("task {task} failed {attempts} times; most recent failure: {cause}")]
    TaskFailed {
        /// Task id.
        task: String,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        cause: Box<IngestError>,
    },
    /// More bad records than `max_bad_records` / `max_bad_fraction` allow.
    #[error("{bad} bad records of {read} read exceed the job's limit ({limit}); see the dead-letter table {dead_letter}")]
    TooManyBadRecords {
        /// Dead-lettered so far.
        bad: u64,
        /// Records read so far.
        read: u64,
        /// The limit as configured.
        limit: String,
        /// Where the dead letters are.
        dead_letter: String,
    },
}

impl IngestError {
    /// An [`IngestError::Io`] naming `path`.
    pub fn io(path: &Path, source: std::io::Error) -> IngestError {
        IngestError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// Whether retrying the task may succeed: I/O, service and transient sink errors.
    pub fn is_retryable(&self) -> bool {
        match self {
            IngestError::Io { .. } | IngestError::Source(_) | IngestError::Service { .. } => true,
            IngestError::Sink { transient, .. } => *transient,
            _ => false,
        }
    }
}
