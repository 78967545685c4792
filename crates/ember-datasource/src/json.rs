//! JSON-lines reading with Spark's rules: every line is one record; schema inference
//! over all records gives `long` for integers, `double` for other numbers, `boolean`,
//! `string`, `array<...>` and `struct<...>` with fields sorted by name; a column that
//! is only ever null becomes `string`; conflicting types widen to `string`. A line that
//! is not valid JSON is malformed: in PERMISSIVE mode it yields a row of nulls whose
//! `_corrupt_record` column holds the line (the column is added only when such lines
//! exist, as Spark does), DROPMALFORMED drops it, FAILFAST fails naming file and line.
//! With `multiLine` a whole file is one document: an object is one row, an array of
//! objects one row per element; a file that does not parse is one malformed record
//! (its text in `_corrupt_record`), located by the parser's line and column.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use datafusion::arrow::json::ReaderBuilder;
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::Value;

use crate::csv::ParseMode;
use crate::error::{DataSourceError, Result};
use crate::listing;
use crate::report::{FileReport, MalformedSample, ReadReport, MAX_SAMPLES_PER_FILE};

/// Options of Spark's JSON reader that ember honours.
#[derive(Debug, Clone)]
pub struct JsonOptions {
    /// `mode` (PERMISSIVE default).
    pub mode: ParseMode,
    /// `columnNameOfCorruptRecord` (default `_corrupt_record`).
    pub corrupt_column: String,
    /// `primitivesAsString` (default false).
    pub primitives_as_string: bool,
    /// `multiLine` (default false): each file is one JSON document, an object (one
    /// row) or an array of objects (one row each), spanning any number of lines.
    pub multi_line: bool,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions {
            mode: ParseMode::Permissive,
            corrupt_column: "_corrupt_record".into(),
            primitives_as_string: false,
            multi_line: false,
        }
    }
}

impl JsonOptions {
    /// From Spark-style options (keys case-insensitive).
    pub fn from_map(opts: &std::collections::HashMap<String, String>) -> JsonOptions {
        let get = |k: &str| {
            opts.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        JsonOptions {
            mode: match get("mode").map(|m| m.to_ascii_uppercase()).as_deref() {
                Some("DROPMALFORMED") => ParseMode::DropMalformed,
                Some("FAILFAST") => ParseMode::FailFast,
                _ => ParseMode::Permissive,
            },
            corrupt_column: get("columnNameOfCorruptRecord")
                .unwrap_or_else(|| "_corrupt_record".into()),
            primitives_as_string: get("primitivesAsString")
                .map(|v| v.eq_ignore_ascii_case("true"))
                .unwrap_or(false),
            multi_line: get("multiLine")
                .map(|v| v.eq_ignore_ascii_case("true"))
                .unwrap_or(false),
        }
    }
}

/// Infers Spark's type of one JSON value (`Null` for null).
fn infer_value(v: &Value, opts: &JsonOptions) -> DataType {
    match v {
        Value::Null => DataType::Null,
        Value::Bool(_) if opts.primitives_as_string => DataType::Utf8,
        Value::Bool(_) => DataType::Boolean,
        Value::Number(_) if opts.primitives_as_string => DataType::Utf8,
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() && n.as_u64().is_some_and(|u| u <= i64::MAX as u64) {
                DataType::Int64
            } else if n.is_u64() {
                DataType::Decimal128(20, 0)
            } else {
                DataType::Float64
            }
        }
        Value::String(_) => DataType::Utf8,
        Value::Array(items) => {
            let elem = items
                .iter()
                .fold(DataType::Null, |acc, x| merge(&acc, &infer_value(x, opts)));
            DataType::List(Arc::new(Field::new("element", elem, true)))
        }
        Value::Object(map) => {
            let mut fields: BTreeMap<String, DataType> = BTreeMap::new();
            for (k, x) in map {
                let t = infer_value(x, opts);
                let e = fields.entry(k.clone()).or_insert(DataType::Null);
                *e = merge(e, &t);
            }
            DataType::Struct(Fields::from(
                fields
                    .into_iter()
                    .map(|(k, t)| Field::new(k, t, true))
                    .collect::<Vec<_>>(),
            ))
        }
    }
}

/// Spark's `JsonInferSchema.compatibleType`.
fn merge(a: &DataType, b: &DataType) -> DataType {
    use DataType::*;
    match (a, b) {
        (x, y) if x == y => x.clone(),
        (Null, x) | (x, Null) => x.clone(),
        (Int64, Float64) | (Float64, Int64) => Float64,
        (Decimal128(..), Int64) | (Int64, Decimal128(..)) => Decimal128(20, 0),
        (Decimal128(..), Float64) | (Float64, Decimal128(..)) => Float64,
        (Struct(f1), Struct(f2)) => {
            let mut fields: BTreeMap<String, DataType> = BTreeMap::new();
            for f in f1.iter().chain(f2.iter()) {
                let e = fields.entry(f.name().clone()).or_insert(Null);
                *e = merge(e, f.data_type());
            }
            Struct(Fields::from(
                fields
                    .into_iter()
                    .map(|(k, t)| Field::new(k, t, true))
                    .collect::<Vec<_>>(),
            ))
        }
        (List(e1), List(e2)) => List(Arc::new(Field::new(
            "element",
            merge(e1.data_type(), e2.data_type()),
            true,
        ))),
        _ => Utf8,
    }
}

/// Replaces `Null` leaves with `string` (Spark's final step).
fn finish(t: DataType) -> DataType {
    match t {
        DataType::Null => DataType::Utf8,
        DataType::List(e) => DataType::List(Arc::new(Field::new(
            "element",
            finish(e.data_type().clone()),
            true,
        ))),
        DataType::Struct(fs) => DataType::Struct(Fields::from(
            fs.iter()
                .map(|f| Field::new(f.name(), finish(f.data_type().clone()), true))
                .collect::<Vec<_>>(),
        )),
        other => other,
    }
}

/// Reads JSON-lines files (local or object-store URLs, listed through `storage`; on a
/// blocking thread) into batches (eagerly) and returns the schema, the batches
/// and the malformed-row report.
///
/// Errors: `PATH_NOT_FOUND`; I/O errors naming the file; in FAILFAST mode
/// `MALFORMED_RECORD_IN_PARSING` naming file and line.
pub fn read_json(
    storage: &crate::storage::StorageRegistry,
    paths: &[String],
    opts: &JsonOptions,
    user_schema: Option<SchemaRef>,
) -> Result<(SchemaRef, Vec<RecordBatch>, ReadReport)> {
    let listing = listing::list(storage, paths)?;
    let report = ReadReport::default();
    // Pass 1: parse lines.
    struct Line {
        value: Option<Value>,
        raw: String,
        file: usize,
    }
    let mut lines: Vec<Line> = Vec::new();
    for (fi, f) in listing.files.iter().enumerate() {
        let data = crate::compression::read_all(&f.path)?;
        let text = String::from_utf8_lossy(&data);
        let mut fr = FileReport::default();
        // (line number, raw text, parse result) of each record of the file.
        let mut records: Vec<(usize, String, std::result::Result<Value, String>)> = Vec::new();
        if opts.multi_line {
            if !text.trim().is_empty() {
                match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Array(items)) => {
                        for item in items {
                            let raw = item.to_string();
                            records.push((1, raw, Ok(item)));
                        }
                    }
                    Ok(v) => records.push((1, text.to_string(), Ok(v))),
                    Err(e) => records.push((
                        e.line(),
                        text.to_string(),
                        Err(format!("invalid JSON: {e}")),
                    )),
                }
            }
        } else {
            for (ln, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let parsed =
                    serde_json::from_str::<Value>(line).map_err(|e| format!("invalid JSON: {e}"));
                records.push((ln + 1, line.to_string(), parsed));
            }
        }
        for (ln, line, parsed) in records {
            fr.rows += 1;
            match parsed {
                Ok(v @ Value::Object(_)) => lines.push(Line {
                    value: Some(v),
                    raw: String::new(),
                    file: fi,
                }),
                Ok(_) | Err(_) => {
                    let reason = match parsed {
                        Err(e) => e,
                        Ok(_) => "not a JSON object".to_string(),
                    };
                    fr.malformed += 1;
                    if fr.samples.len() < MAX_SAMPLES_PER_FILE {
                        tracing::warn!(file = %f.path.display(), line = ln, reason = %reason, "malformed JSON record");
                        fr.samples.push(MalformedSample {
                            line: Some(ln as u64),
                            offset: 0,
                            reason: reason.clone(),
                            raw: line.chars().take(200).collect(),
                        });
                    }
                    match opts.mode {
                        ParseMode::FailFast => {
                            return Err(DataSourceError::MalformedRecord {
                                path: f.path.display(),
                                location: format!("line {ln}"),
                                record: line,
                                reason,
                            })
                        }
                        ParseMode::DropMalformed => {}
                        ParseMode::Permissive => lines.push(Line {
                            value: None,
                            raw: line,
                            file: fi,
                        }),
                    }
                }
            }
        }
        report.merge(&f.path.display(), fr);
    }
    let has_corrupt_rows = lines.iter().any(|l| l.value.is_none());
    let schema: SchemaRef = match user_schema {
        Some(s) => s,
        None => {
            let t = lines
                .iter()
                .filter_map(|l| l.value.as_ref())
                .fold(DataType::Struct(Fields::empty()), |acc, v| {
                    merge(&acc, &infer_value(v, opts))
                });
            let mut fields: Vec<Field> = match finish(t) {
                DataType::Struct(fs) => fs.iter().map(|f| f.as_ref().clone()).collect(),
                _ => vec![],
            };
            if has_corrupt_rows {
                fields.push(Field::new(&opts.corrupt_column, DataType::Utf8, true));
                fields.sort_by(|a, b| a.name().cmp(b.name()));
            }
            if fields.is_empty() && listing.files.is_empty() {
                return Err(DataSourceError::UnableToInferSchema {
                    format: "JSON".into(),
                });
            }
            Arc::new(Schema::new(fields))
        }
    };
    let corrupt_idx = schema
        .fields()
        .iter()
        .position(|f| f.name() == &opts.corrupt_column);
    let data_schema = Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .filter(|f| f.name() != &opts.corrupt_column)
            .map(|f| f.as_ref().clone())
            .collect::<Vec<_>>(),
    ));
    // Pass 2: decode in chunks with arrow-json (good rows), corrupt rows as nulls.
    let mut batches = Vec::new();
    for chunk in lines.chunks(8192) {
        let mut decoder = ReaderBuilder::new(data_schema.clone())
            .with_coerce_primitive(true)
            .build_decoder()?;
        let mut corrupt = StringBuilder::new();
        for l in chunk {
            match &l.value {
                Some(v) => {
                    decoder.serialize(std::slice::from_ref(v))?;
                    corrupt.append_null();
                }
                None => {
                    decoder.serialize(&[Value::Object(Default::default())])?;
                    corrupt.append_value(&l.raw);
                }
            }
        }
        let _ = chunk.first().map(|l| l.file);
        let Some(data) = decoder.flush()? else {
            continue;
        };
        let mut cols: Vec<ArrayRef> = data.columns().to_vec();
        if let Some(ci) = corrupt_idx {
            cols.insert(ci, Arc::new(corrupt.finish()) as ArrayRef);
        }
        let rows = cols.first().map(|c| c.len()).unwrap_or(chunk.len());
        batches.push(RecordBatch::try_new_with_options(
            schema.clone(),
            cols,
            &datafusion::arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(rows)),
        )?);
    }
    Ok((schema, batches, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_arrays_objects_and_broken_files() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.json");
        std::fs::write(
            &a,
            "[\n  {\"id\": 1,\n   \"r\": {\"c\": \"x\"}},\n  {\"id\": 2}\n]\n",
        )
        .unwrap();
        let b = d.path().join("b.json");
        std::fs::write(&b, "{\n \"id\": 3\n}").unwrap();
        let c = d.path().join("c.json");
        std::fs::write(&c, "[{\"id\": 4},\n {\"id\": ").unwrap();
        let opts = JsonOptions {
            multi_line: true,
            ..Default::default()
        };
        let paths: Vec<String> = [&a, &b, &c]
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let (schema, batches, report) = read_json(
            &crate::storage::StorageRegistry::default(),
            &paths,
            &opts,
            None,
        )
        .unwrap();
        let names: Vec<_> = schema.fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(names, vec!["_corrupt_record", "id", "r"]);
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 4);
        assert_eq!(report.total_malformed(), 1);
        let fail = JsonOptions {
            mode: ParseMode::FailFast,
            ..opts
        };
        let e = read_json(
            &crate::storage::StorageRegistry::default(),
            &paths,
            &fail,
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("c.json") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn spark_json_inference() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("p.json");
        std::fs::write(
            &p,
            "{\"id\": 1, \"name\": \"Ana\", \"address\": {\"city\": \"Lisbon\"}, \"tags\": [\"a\"]}\n{\"id\": 2, \"extra\": 1.5, \"tags\": []}\nnot json\n",
        )
        .unwrap();
        let (schema, batches, report) = read_json(
            &crate::storage::StorageRegistry::default(),
            &[p.display().to_string()],
            &JsonOptions::default(),
            None,
        )
        .unwrap();
        let names: Vec<_> = schema.fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(
            names,
            vec!["_corrupt_record", "address", "extra", "id", "name", "tags"]
        );
        assert_eq!(schema.field(3).data_type(), &DataType::Int64);
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 3);
        assert_eq!(report.total_malformed(), 1);
    }
}
