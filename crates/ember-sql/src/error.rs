//! ember's errors carry Spark's error class (`UNRESOLVED_COLUMN.WITH_SUGGESTION`,
//! `CAST_INVALID_INPUT`, `PATH_NOT_FOUND`...), its SQLSTATE and a message naming what
//! is wrong and where. [`EmberError::from_datafusion`] translates DataFusion's errors
//! into Spark's classes so that front ends (CLI, Spark Connect) report them as Spark.

use datafusion::error::DataFusionError;

/// Spark's exception families, as PySpark names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `AnalysisException`: unresolved names, wrong types, bad DDL.
    Analysis,
    /// `ParseException`: SQL syntax.
    Parse,
    /// Runtime errors under ANSI mode (`ArithmeticException`, `NumberFormatException`,
    /// `ArrayIndexOutOfBoundsException`, `DateTimeException`).
    Runtime,
    /// Input files (missing, unreadable, malformed in FAILFAST).
    Io,
    /// Anything else.
    Internal,
}

/// An error with Spark's error class.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.render())]
pub struct EmberError {
    /// Exception family.
    pub kind: ErrorKind,
    /// Spark error class, e.g. `UNRESOLVED_COLUMN.WITH_SUGGESTION`.
    pub error_class: String,
    /// Message without the class prefix.
    pub message: String,
    /// SQLSTATE when Spark defines one.
    pub sql_state: Option<String>,
    /// Java exception name Spark would raise (`NumberFormatException`...), for display.
    pub exception: &'static str,
}

/// Result alias.
pub type Result<T> = std::result::Result<T, EmberError>;

impl EmberError {
    /// Builds an error.
    pub fn new(
        kind: ErrorKind,
        class: &str,
        message: impl Into<String>,
        sql_state: Option<&str>,
    ) -> EmberError {
        let exception = match kind {
            ErrorKind::Analysis => "AnalysisException",
            ErrorKind::Parse => "ParseException",
            ErrorKind::Runtime => "SparkRuntimeException",
            ErrorKind::Io => "SparkException",
            ErrorKind::Internal => "SparkException",
        };
        EmberError {
            kind,
            error_class: class.into(),
            message: message.into(),
            sql_state: sql_state.map(String::from),
            exception,
        }
    }
    /// An `AnalysisException`.
    pub fn analysis(class: &str, message: impl Into<String>) -> EmberError {
        let state = match class {
            c if c.starts_with("UNRESOLVED_COLUMN") => Some("42703"),
            c if c.starts_with("TABLE_OR_VIEW_NOT_FOUND") => Some("42P01"),
            c if c.starts_with("UNRESOLVED_ROUTINE") => Some("42883"),
            c if c.starts_with("PATH_NOT_FOUND") => Some("42K03"),
            c if c.starts_with("DATATYPE_MISMATCH") => Some("42K09"),
            _ => None,
        };
        EmberError::new(ErrorKind::Analysis, class, message, state)
    }
    /// A `ParseException`.
    pub fn parse(class: &str, message: impl Into<String>) -> EmberError {
        EmberError::new(ErrorKind::Parse, class, message, Some("42601"))
    }
    /// An internal error (a bug or an unsupported feature).
    pub fn internal(message: impl Into<String>) -> EmberError {
        EmberError::new(
            ErrorKind::Internal,
            "INTERNAL_ERROR",
            message,
            Some("XX000"),
        )
    }
    /// An unsupported feature: Spark's `UNSUPPORTED_FEATURE`.
    pub fn unsupported(message: impl Into<String>) -> EmberError {
        EmberError::new(
            ErrorKind::Analysis,
            "UNSUPPORTED_FEATURE",
            message,
            Some("0A000"),
        )
    }

    /// `[CLASS] message SQLSTATE: xxxxx`, as Spark prints errors.
    pub fn render(&self) -> String {
        match &self.sql_state {
            Some(s) if !self.message.contains("SQLSTATE") => {
                format!("[{}] {} SQLSTATE: {s}", self.error_class, self.message)
            }
            _ => format!("[{}] {}", self.error_class, self.message),
        }
    }

    /// Translates a DataFusion error into Spark's class and message.
    pub fn from_datafusion(e: DataFusionError) -> EmberError {
        crate::sql::errors::translate(e)
    }
}

impl From<DataFusionError> for EmberError {
    fn from(e: DataFusionError) -> Self {
        EmberError::from_datafusion(e)
    }
}

impl From<datafusion::arrow::error::ArrowError> for EmberError {
    fn from(e: datafusion::arrow::error::ArrowError) -> Self {
        EmberError::from_datafusion(DataFusionError::ArrowError(Box::new(e), None))
    }
}

impl From<ember_datasource::DataSourceError> for EmberError {
    fn from(e: ember_datasource::DataSourceError) -> Self {
        source_error(&e)
    }
}

impl From<std::io::Error> for EmberError {
    fn from(e: std::io::Error) -> Self {
        EmberError::new(ErrorKind::Io, "FAILED_READ_FILE", e.to_string(), None)
    }
}

/// Maps a source-layer error to Spark's class.
pub fn source_error(e: &ember_datasource::DataSourceError) -> EmberError {
    use ember_datasource::DataSourceError as D;
    let text = e.to_string();
    let (class, rest) = split_class(&text);
    let kind = match e {
        D::PathNotFound(_) | D::UnableToInferSchema { .. } | D::InvalidOption(_) => {
            ErrorKind::Analysis
        }
        D::MalformedRecord { .. } | D::Io { .. } => ErrorKind::Io,
        D::Arrow(_) => ErrorKind::Internal,
    };
    let (msg, state) = split_state(rest);
    EmberError::new(kind, class, msg, state.as_deref())
}

/// Splits `"[CLASS] rest"` into (CLASS, rest).
pub fn split_class(text: &str) -> (&str, &str) {
    if let Some(rest) = text.strip_prefix('[') {
        if let Some(end) = rest.find(']') {
            return (&rest[..end], rest[end + 1..].trim_start());
        }
    }
    ("INTERNAL_ERROR", text)
}

fn split_state(text: &str) -> (String, Option<String>) {
    match text.rfind(" SQLSTATE: ") {
        Some(i) => (
            text[..i].to_string(),
            Some(text[i + 11..].trim().to_string()),
        ),
        None => (text.to_string(), None),
    }
}
