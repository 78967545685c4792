//! The dead-letter table: every record that could not be ingested, with where it came
//! from and why. A Parquet table (a directory of `part-<task>.parquet` files, one per
//! task, each written whole to a temporary name and renamed, so a re-run task
//! replaces its own file and a crash never leaves half a file).
//!
//! Schema: `source_file` string, `line` bigint (1-based; 0 when unknown),
//! `raw` string (the line as read), `error_class` string, `message` string,
//! `attempts` int, `time` timestamp (UTC, µs), `task` string. Query it with
//! `ember sql -e "SELECT error_class, count(*) FROM parquet.\`DIR\` GROUP BY 1"`.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{IngestError, Result};
use crate::files::{list_parts, write_parquet_atomic};

/// Why a record was dead-lettered (the `error_class` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorClass {
    /// Wrong field count or invalid UTF-8 (Spark's malformed-record case).
    MalformedRecord,
    /// A `uuid` column holds something else.
    InvalidUuid,
    /// Text that is not a number/boolean/date of the column's type.
    CastInvalidInput,
    /// A number outside the column's type.
    CastOverflow,
    /// Empty field in a `NOT NULL` column.
    NotNullAssertViolation,
    /// No vector for the record's key in the embeddings source.
    MissingEmbedding,
    /// A vector of another length than the job's `dim`.
    VectorDimensionMismatch,
    /// The embedding service failed for this record after all retries.
    EmbeddingFailed,
    /// The sink refused the record (a data error, after all retries).
    SinkRejected,
}

impl ErrorClass {
    /// The class as stored (`MALFORMED_RECORD`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::MalformedRecord => "MALFORMED_RECORD",
            ErrorClass::InvalidUuid => "INVALID_UUID",
            ErrorClass::CastInvalidInput => "CAST_INVALID_INPUT",
            ErrorClass::CastOverflow => "CAST_OVERFLOW",
            ErrorClass::NotNullAssertViolation => "NOT_NULL_ASSERT_VIOLATION",
            ErrorClass::MissingEmbedding => "MISSING_EMBEDDING",
            ErrorClass::VectorDimensionMismatch => "VECTOR_DIMENSION_MISMATCH",
            ErrorClass::EmbeddingFailed => "EMBEDDING_FAILED",
            ErrorClass::SinkRejected => "SINK_REJECTED",
        }
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One dead-lettered record.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Source file as named in the job.
    pub source_file: String,
    /// 1-based line number in the source file.
    pub line: u64,
    /// The line's text (invalid UTF-8 replaced by U+FFFD).
    pub raw: String,
    /// Why.
    pub class: ErrorClass,
    /// Human-readable reason naming file, line and column.
    pub message: String,
    /// Attempts made (1 for parse errors).
    pub attempts: u32,
    /// When, in µs since the Unix epoch (UTC).
    pub time_us: i64,
    /// The task that saw the record.
    pub task: String,
}

impl DeadLetter {
    /// A dead letter stamped now, after one attempt.
    pub fn new(
        file: &str,
        line: u64,
        raw: String,
        class: ErrorClass,
        message: String,
        task: &str,
    ) -> DeadLetter {
        DeadLetter {
            source_file: file.to_string(),
            line,
            raw,
            class,
            message,
            attempts: 1,
            time_us: chrono::Utc::now().timestamp_micros(),
            task: task.to_string(),
        }
    }
}

/// The dead-letter table's Arrow schema (see the module docs).
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("source_file", DataType::Utf8, false),
        Field::new("line", DataType::Int64, false),
        Field::new("raw", DataType::Utf8, false),
        Field::new("error_class", DataType::Utf8, false),
        Field::new("message", DataType::Utf8, false),
        Field::new("attempts", DataType::Int32, false),
        Field::new(
            "time",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("task", DataType::Utf8, false),
    ]))
}

fn to_batch(rows: &[DeadLetter]) -> Result<RecordBatch> {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| &r.source_file),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.line as i64),
        )),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.raw))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.class.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| &r.message),
        )),
        Arc::new(Int32Array::from_iter_values(
            rows.iter().map(|r| r.attempts as i32),
        )),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| r.time_us))
                .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.task))),
    ];
    Ok(RecordBatch::try_new(schema(), cols)?)
}

/// Writes (or replaces) `dir/part-<task>.parquet` with `rows`; with no rows, removes
/// any file an earlier attempt of the task left. Atomic: written to a dot-file, then
/// renamed.
///
/// Errors: [`IngestError::Io`] / [`IngestError::Parquet`] naming the file.
pub fn write_part(dir: &Path, task: &str, rows: &[DeadLetter]) -> Result<()> {
    let path = dir.join(format!("part-{task}.parquet"));
    if rows.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(IngestError::io(&path, e)),
            _ => Ok(()),
        };
    }
    write_parquet_atomic(&path, &to_batch(rows)?)
}

/// Reads the whole dead-letter table in `dir` (all parts, in file-name order); an
/// absent directory is an empty table.
///
/// Errors: [`IngestError::Io`] / [`IngestError::Parquet`] naming the part.
pub fn read_all(dir: &Path) -> Result<Vec<RecordBatch>> {
    let parts = list_parts(dir, "part-", ".parquet")?;
    let mut out = Vec::new();
    for p in parts {
        let perr = |e: &dyn std::fmt::Display| IngestError::Parquet {
            path: p.display().to_string(),
            message: e.to_string(),
        };
        let f = File::open(&p).map_err(|e| IngestError::io(&p, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| perr(&e))?
            .build()
            .map_err(|e| perr(&e))?;
        for b in reader {
            out.push(b.map_err(|e| perr(&e))?);
        }
    }
    Ok(out)
}

/// `(error_class, count)` over the table in `dir`, by class name.
///
/// Errors: as [`read_all`].
pub fn counts_by_class(dir: &Path) -> Result<std::collections::BTreeMap<String, u64>> {
    let mut out = std::collections::BTreeMap::new();
    for b in read_all(dir)? {
        let classes = b
            .column(3)
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| {
                IngestError::Config("dead-letter table: error_class is not a string".into())
            })?;
        for i in 0..classes.len() {
            *out.entry(classes.value(i).to_string()).or_insert(0) += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_replace_and_vanish() {
        let dir = tempfile::tempdir().unwrap();
        let d = |line| {
            DeadLetter::new(
                "f.csv",
                line,
                "raw".into(),
                ErrorClass::CastOverflow,
                "m".into(),
                "t1",
            )
        };
        write_part(dir.path(), "t1", &[d(2), d(3)]).unwrap();
        write_part(dir.path(), "t2", &[d(9)]).unwrap();
        // A re-run of t1 replaces its part rather than adding to it.
        write_part(dir.path(), "t1", &[d(2)]).unwrap();
        let counts = counts_by_class(dir.path()).unwrap();
        assert_eq!(counts.get("CAST_OVERFLOW"), Some(&2));
        write_part(dir.path(), "t2", &[]).unwrap();
        assert_eq!(
            read_all(dir.path())
                .unwrap()
                .iter()
                .map(|b| b.num_rows())
                .sum::<usize>(),
            1
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("part-t1.parquet")]);
    }
}
