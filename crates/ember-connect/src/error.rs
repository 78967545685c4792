//! Errors of the Spark Connect server, and their gRPC form: a `google.rpc.Status`
//! whose `ErrorInfo` carries what PySpark's `convert_exception` reads — `reason` (the
//! JVM exception class), metadata `classes` (its class hierarchy, JSON), `errorClass`,
//! `sqlState` and `messageParameters` — so the client raises the same PySpark
//! exception Spark would (`AnalysisException`, `ParseException`,
//! `NumberFormatException`, `ArithmeticException`, `PythonException`, ...).

use std::collections::HashMap;

use ember_core::{EmberError, ErrorKind};
use tonic_types::{ErrorDetails, StatusExt};

/// Result alias.
pub type Result<T> = std::result::Result<T, ConnectError>;

/// A failure while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// An error of the engine, with its Spark error class.
    #[error("{0}")]
    Ember(#[from] EmberError),
    /// A plan or expression ember does not translate (`UNSUPPORTED_FEATURE`), naming
    /// the construct (`relation type 'MapPartitions'`, `function 'foo'`).
    #[error("[UNSUPPORTED_FEATURE] The feature is not supported: {0}. SQLSTATE: 0A000")]
    Unsupported(String),
    /// A malformed plan: a required field is missing or has a wrong value.
    #[error("[INVALID_PLAN_INPUT] {0}")]
    Invalid(String),
    /// A Python UDF failed; carries the worker's traceback.
    #[error("{0}")]
    Python(String),
    /// The session or operation the request names does not exist.
    #[error("[{class}] {message}")]
    Handle {
        class: &'static str,
        message: String,
    },
}

impl ConnectError {
    /// An [`ConnectError::Unsupported`] naming `what`.
    pub fn unsupported(what: impl Into<String>) -> ConnectError {
        ConnectError::Unsupported(what.into())
    }
    /// An [`ConnectError::Invalid`] with `msg`.
    pub fn invalid(msg: impl Into<String>) -> ConnectError {
        ConnectError::Invalid(msg.into())
    }

    /// (error class, SQLSTATE, JVM class hierarchy, message without the class prefix).
    fn parts(&self) -> (String, Option<String>, Vec<&'static str>, String) {
        match self {
            ConnectError::Ember(e) if e.to_string().contains("[PYTHON_UDF_FAILED]") => {
                let text = e.to_string();
                let tb = text
                    .split("[PYTHON_UDF_FAILED]")
                    .nth(1)
                    .unwrap_or(&text)
                    .trim()
                    .to_string();
                (
                    "PYTHON_UDF_FAILED".into(),
                    Some("38000".into()),
                    vec!["org.apache.spark.api.python.PythonException", SPARK],
                    tb,
                )
            }
            ConnectError::Ember(e) => (
                e.error_class.clone(),
                e.sql_state.clone(),
                hierarchy(e),
                e.to_string(),
            ),
            ConnectError::Unsupported(_) => (
                "UNSUPPORTED_FEATURE".into(),
                Some("0A000".into()),
                vec![ANALYSIS],
                self.to_string(),
            ),
            ConnectError::Invalid(_) => (
                "INVALID_PLAN_INPUT".into(),
                None,
                vec![
                    "org.apache.spark.sql.connect.common.InvalidPlanInput",
                    SPARK,
                ],
                self.to_string(),
            ),
            ConnectError::Python(_) => (
                "PYTHON_UDF_FAILED".into(),
                Some("38000".into()),
                vec!["org.apache.spark.api.python.PythonException", SPARK],
                self.to_string(),
            ),
            ConnectError::Handle { class, .. } => {
                (class.to_string(), None, vec![SPARK_SQL], self.to_string())
            }
        }
    }

    /// The gRPC status PySpark turns back into a Spark exception.
    pub fn to_status(&self) -> tonic::Status {
        let (class, state, classes, message) = self.parts();
        let mut metadata = HashMap::new();
        metadata.insert(
            "classes".to_string(),
            serde_json::to_string(&classes).unwrap_or_default(),
        );
        metadata.insert("errorClass".to_string(), class);
        if let Some(s) = state {
            metadata.insert("sqlState".to_string(), s);
        }
        metadata.insert("messageParameters".to_string(), "{}".to_string());
        let reason = classes.first().copied().unwrap_or(SPARK).to_string();
        let code = match self {
            ConnectError::Ember(e) if e.kind == ErrorKind::Internal => tonic::Code::Internal,
            ConnectError::Handle { .. } => tonic::Code::NotFound,
            _ => tonic::Code::InvalidArgument,
        };
        let details = ErrorDetails::with_error_info(reason, "org.apache.spark", metadata);
        tonic::Status::with_error_details(code, message, details)
    }
}

const ANALYSIS: &str = "org.apache.spark.sql.AnalysisException";
const SPARK: &str = "org.apache.spark.SparkException";
const SPARK_SQL: &str = "org.apache.spark.SparkSQLException";

/// The JVM classes Spark throws for an error, most specific first.
fn hierarchy(e: &EmberError) -> Vec<&'static str> {
    match e.exception {
        "ParseException" => vec![
            "org.apache.spark.sql.catalyst.parser.ParseException",
            ANALYSIS,
        ],
        "AnalysisException" => vec![ANALYSIS],
        "NumberFormatException" => vec![
            "org.apache.spark.SparkNumberFormatException",
            "java.lang.NumberFormatException",
            "java.lang.IllegalArgumentException",
        ],
        "ArithmeticException" => vec![
            "org.apache.spark.SparkArithmeticException",
            "java.lang.ArithmeticException",
        ],
        "ArrayIndexOutOfBoundsException" => vec![
            "org.apache.spark.SparkArrayIndexOutOfBoundsException",
            "java.lang.ArrayIndexOutOfBoundsException",
        ],
        "DateTimeException" => vec![
            "org.apache.spark.SparkDateTimeException",
            "java.time.DateTimeException",
        ],
        "SparkRuntimeException" => vec!["org.apache.spark.SparkRuntimeException"],
        _ => match e.kind {
            ErrorKind::Analysis => vec![ANALYSIS],
            ErrorKind::Parse => vec![
                "org.apache.spark.sql.catalyst.parser.ParseException",
                ANALYSIS,
            ],
            ErrorKind::Runtime => vec!["org.apache.spark.SparkRuntimeException"],
            ErrorKind::Io | ErrorKind::Internal => vec![SPARK],
        },
    }
}

impl From<datafusion::error::DataFusionError> for ConnectError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        ConnectError::Ember(EmberError::from(e))
    }
}

impl From<arrow::error::ArrowError> for ConnectError {
    fn from(e: arrow::error::ArrowError) -> Self {
        ConnectError::Ember(EmberError::from(e))
    }
}

impl From<ConnectError> for tonic::Status {
    fn from(e: ConnectError) -> Self {
        e.to_status()
    }
}
