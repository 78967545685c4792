//! Errors of the sources layer.

/// Errors raised while listing, opening or parsing input files.
#[derive(Debug, thiserror::Error)]
pub enum DataSourceError {
    /// A path given by the user matches no file. Spark: `PATH_NOT_FOUND`.
    #[error("[PATH_NOT_FOUND] Path does not exist: {0}. SQLSTATE: 42K03")]
    PathNotFound(String),
    /// An I/O error on a named file (unreadable, truncated compressed stream...).
    #[error("[FAILED_READ_FILE] Encountered error while reading file {path}: {source}")]
    Io {
        /// The file (local path or object URL) being read.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A malformed record in FAILFAST mode. Spark: `MALFORMED_RECORD_IN_PARSING`.
    #[error("[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected in record parsing: {record}. Parse Mode: FAILFAST. To process malformed records as null result, try setting the option 'mode' as 'PERMISSIVE'. ({path} {location}: {reason}) SQLSTATE: 22023")]
    MalformedRecord {
        /// The file holding the record.
        path: String,
        /// `line N` or `byte offset N`.
        location: String,
        /// The raw text of the record.
        record: String,
        /// Which column failed and why.
        reason: String,
    },
    /// A reader option has an invalid value.
    #[error("[INVALID_OPTION] {0}")]
    InvalidOption(String),
    /// The schema cannot be inferred (e.g. no input files).
    #[error("[UNABLE_TO_INFER_SCHEMA] Unable to infer schema for {format}. It must be specified manually. SQLSTATE: 42KD9")]
    UnableToInferSchema {
        /// `CSV`, `JSON`...
        format: String,
    },
    /// An Arrow error while building batches.
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, DataSourceError>;

impl From<DataSourceError> for datafusion::error::DataFusionError {
    fn from(e: DataSourceError) -> Self {
        datafusion::error::DataFusionError::External(Box::new(e))
    }
}
