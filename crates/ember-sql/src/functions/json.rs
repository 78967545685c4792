//! Spark's JSON functions over string columns:
//!
//! - `from_json(json, schema[, options])`: parses each string into `schema` (a DDL
//!   string such as `'a INT, b DOUBLE'` or a type such as `'MAP<STRING,INT>'`,
//!   `'ARRAY<STRUCT<a: INT>>'`); fields are matched by exact name and unknown ones
//!   ignored. A string that is not valid JSON gives, as Spark's PERMISSIVE mode, a
//!   struct whose fields are all NULL (NULL for array and map schemas); with option
//!   `mode` = `FAILFAST` it fails with `MALFORMED_RECORD_IN_PARSING`.
//! - `to_json(struct | map | array[, options])`: compact JSON as Spark's Jackson
//!   generator writes it: NULL struct fields left out, doubles as Java prints them,
//!   dates as `yyyy-MM-dd`, timestamps as `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in the
//!   session time zone (options `dateFormat`, `timestampFormat`), binary as base64.
//! - `schema_of_json(json)`: the DDL of the schema Spark infers from one JSON
//!   literal (`STRUCT<a: BIGINT>`): integers `BIGINT`, other numbers `DOUBLE`,
//!   fields sorted by name, NULL and empty arrays as `STRING`.
//! - `json_object_keys(json)`: the top-level keys of a JSON object, NULL for
//!   anything else or invalid JSON.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, ListBuilder, StringBuilder, StructArray,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use serde_json::Value;

/// The JSON functions for a session in time zone `tz`.
pub fn functions(tz: &str) -> Vec<ScalarUDF> {
    [
        Kind::FromJson,
        Kind::ToJson,
        Kind::SchemaOfJson,
        Kind::ObjectKeys,
    ]
    .into_iter()
    .map(|kind| {
        ScalarUDF::new_from_impl(JsonFn {
            kind,
            tz: tz.to_string(),
            signature: Signature::user_defined(Volatility::Immutable),
        })
    })
    .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    FromJson,
    ToJson,
    SchemaOfJson,
    ObjectKeys,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonFn {
    kind: Kind,
    tz: String,
    signature: Signature,
}

fn is_string(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
    )
}

/// The schema of `from_json`: a whole type (`MAP<STRING,INT>`) or DDL fields.
fn parse_schema(text: &str, tz: &str) -> Result<DataType> {
    if let Ok(t) = crate::types::parse_data_type(text, tz) {
        if matches!(
            t,
            DataType::Struct(_) | DataType::List(_) | DataType::Map(..)
        ) {
            return Ok(t);
        }
    }
    match crate::types::parse_ddl_schema(text, tz) {
        Ok(s) => Ok(DataType::Struct(s.fields().clone())),
        Err(e) => plan_err!("[INVALID_SCHEMA.PARSE_ERROR] The input schema \"{text}\" is not a valid schema string. {e}"),
    }
}

/// String options of a `map(...)` argument (first row).
fn options(arg: Option<&ColumnarValue>) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    let Some(arg) = arg else {
        return Ok(out);
    };
    let arr = arg.to_array(1)?;
    let DataType::Map(..) = arr.data_type() else {
        return Ok(out);
    };
    let m = arr.as_map();
    if m.is_empty() || m.is_null(0) {
        return Ok(out);
    }
    let entries = m.value(0);
    let keys = datafusion::arrow::compute::cast(entries.column(0), &DataType::Utf8)?;
    let vals = datafusion::arrow::compute::cast(entries.column(1), &DataType::Utf8)?;
    let (k, v) = (keys.as_string::<i32>(), vals.as_string::<i32>());
    for i in 0..k.len() {
        if !k.is_null(i) && !v.is_null(i) {
            out.insert(k.value(i).to_string(), v.value(i).to_string());
        }
    }
    Ok(out)
}

impl ScalarUDFImpl for JsonFn {
    fn name(&self) -> &str {
        match self.kind {
            Kind::FromJson => "from_json",
            Kind::ToJson => "to_json",
            Kind::SchemaOfJson => "schema_of_json",
            Kind::ObjectKeys => "json_object_keys",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        let (min, max) = match self.kind {
            Kind::FromJson => (2, 3),
            Kind::ToJson | Kind::SchemaOfJson => (1, 2),
            Kind::ObjectKeys => (1, 1),
        };
        if t.len() < min || t.len() > max {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires [{min}, {max}] parameters but the actual number is {}.",
                t.len()
            );
        }
        let mut out = t.to_vec();
        match self.kind {
            Kind::ToJson => {
                if !matches!(
                    t[0],
                    DataType::Struct(_)
                        | DataType::List(_)
                        | DataType::LargeList(_)
                        | DataType::Map(..)
                        | DataType::Null
                        | DataType::Utf8
                ) {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.INVALID_JSON_SCHEMA] Cannot resolve \"to_json\" due to data type mismatch: Input schema \"{}\" must be a struct, an array, a map or a variant.",
                        crate::types::simple_string(&t[0]).to_uppercase()
                    );
                }
            }
            _ => {
                if !is_string(&t[0]) {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{name}\": the first parameter requires the \"STRING\" type, however it has the type \"{}\".",
                        crate::types::simple_string(&t[0]).to_uppercase()
                    );
                }
                out[0] = DataType::Utf8;
                if self.kind == Kind::FromJson && is_string(&t[1]) {
                    out[1] = DataType::Utf8;
                }
            }
        }
        Ok(out)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::ToJson | Kind::SchemaOfJson => DataType::Utf8,
            Kind::ObjectKeys => {
                DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
            }
            Kind::FromJson => return plan_err!("from_json needs its schema argument"),
        })
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if self.kind == Kind::ToJson {
            // A string is accepted only as a VARIANT (its text is the JSON).
            if let Some(f) = args.arg_fields.first() {
                if f.data_type() == &DataType::Utf8 && !super::variant::is_variant(f) {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.INVALID_JSON_SCHEMA] Cannot resolve \"to_json\" due to data type mismatch: Input schema \"STRING\" must be a struct, an array, a map or a variant."
                    );
                }
            }
        }
        if self.kind != Kind::FromJson {
            let t = self.return_type(&[])?;
            let nullable = self.kind != Kind::SchemaOfJson;
            return Ok(Arc::new(Field::new(self.name(), t, nullable)));
        }
        let schema = match args.scalar_arguments.get(1) {
            Some(Some(ScalarValue::Utf8(Some(s)))) | Some(Some(ScalarValue::LargeUtf8(Some(s)))) | Some(Some(ScalarValue::Utf8View(Some(s)))) => s.clone(),
            _ => return plan_err!("[INVALID_SCHEMA.NON_STRING_LITERAL] The input schema of from_json must be a string literal."),
        };
        Ok(Arc::new(Field::new(
            "from_json",
            parse_schema(&schema, &self.tz)?,
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = args.number_rows;
        let tz: Tz = self.tz.parse().unwrap_or(chrono_tz::UTC);
        let out = match self.kind {
            Kind::FromJson => {
                let opts = options(args.args.get(2))?;
                let input = args.args[0].to_array(n)?;
                from_json(
                    input.as_string::<i32>(),
                    args.return_field.data_type(),
                    &opts,
                )?
            }
            Kind::ToJson => {
                let opts = options(args.args.get(1))?;
                let input = args.args[0].to_array(n)?;
                if input.data_type() == &DataType::Utf8 {
                    // A VARIANT: its canonical text is its JSON.
                    input
                } else {
                    to_json(&input, &Writer::new(&opts, tz))?
                }
            }
            Kind::SchemaOfJson => {
                let input = args.args[0].to_array(n)?;
                let s = input.as_string::<i32>();
                let mut b = StringBuilder::new();
                for v in s.iter() {
                    match v {
                        None => b.append_null(),
                        Some(text) => match serde_json::from_str::<Value>(text) {
                            Ok(j) => b.append_value(ddl(&infer(&j))),
                            Err(_) => b.append_value("STRING"),
                        },
                    }
                }
                Arc::new(b.finish())
            }
            Kind::ObjectKeys => {
                let input = args.args[0].to_array(n)?;
                let mut b = ListBuilder::new(StringBuilder::new());
                for v in input.as_string::<i32>().iter() {
                    match v.map(serde_json::from_str::<serde_json::Map<String, Value>>) {
                        Some(Ok(obj)) => {
                            for k in obj.keys() {
                                b.values().append_value(k);
                            }
                            b.append(true);
                        }
                        _ => b.append(false),
                    }
                }
                Arc::new(b.finish())
            }
        };
        if all_scalar && out.len() == 1 {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}

// ---- from_json ------------------------------------------------------------------

fn decode_rows(
    texts: &[&str],
    wrapped: &Schema,
) -> std::result::Result<datafusion::arrow::record_batch::RecordBatch, String> {
    let mut decoder = datafusion::arrow::json::ReaderBuilder::new(Arc::new(wrapped.clone()))
        .with_batch_size(texts.len().max(1))
        .build_decoder()
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    for t in texts {
        buf.extend_from_slice(b"{\"v\":");
        buf.extend_from_slice(t.as_bytes());
        buf.extend_from_slice(b"}\n");
    }
    let used = decoder.decode(&buf).map_err(|e| e.to_string())?;
    if used != buf.len() {
        return Err("trailing input".into());
    }
    match decoder.flush().map_err(|e| e.to_string())? {
        Some(b) if b.num_rows() == texts.len() => Ok(b),
        Some(b) => Err(format!(
            "{} values in {} strings",
            b.num_rows(),
            texts.len()
        )),
        None if texts.is_empty() => Ok(datafusion::arrow::record_batch::RecordBatch::new_empty(
            Arc::new(wrapped.clone()),
        )),
        None => Err("no value".into()),
    }
}

/// A value of `t` that Spark returns for a malformed string: a struct of NULLs, or NULL.
fn malformed_value(t: &DataType) -> Result<ArrayRef> {
    Ok(match t {
        DataType::Struct(fs) => {
            let cols = fs
                .iter()
                .map(|f| new_null_array(f.data_type(), 1))
                .collect();
            Arc::new(StructArray::try_new(relax(fs), cols, None)?)
        }
        t => new_null_array(t, 1),
    })
}

/// The same fields, all nullable (a malformed row nulls them whatever the schema says).
fn relax(fs: &Fields) -> Fields {
    fs.iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect()
}

fn from_json(
    input: &datafusion::arrow::array::StringArray,
    t: &DataType,
    opts: &HashMap<String, String>,
) -> Result<ArrayRef> {
    let fail_fast = opts
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("mode") && v.eq_ignore_ascii_case("FAILFAST"));
    let t = match t {
        DataType::Struct(fs) => DataType::Struct(relax(fs)),
        t => t.clone(),
    };
    let wrapped = Schema::new(vec![Field::new("v", t.clone(), true)]);
    let texts: Vec<&str> = input.iter().map(|v| v.unwrap_or("null")).collect();
    // Fast path: every row parses. Otherwise row by row, malformed rows as Spark's
    // PERMISSIVE mode gives them.
    let parsed: ArrayRef = match decode_rows(&texts, &wrapped) {
        Ok(b) => b.column(0).clone(),
        Err(_) => {
            let mut parts: Vec<ArrayRef> = Vec::with_capacity(texts.len());
            for (i, text) in texts.iter().enumerate() {
                match decode_rows(&[text], &wrapped) {
                    Ok(b) => parts.push(b.column(0).clone()),
                    Err(e) => {
                        if fail_fast {
                            return exec_err!(
                                "[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected in record parsing: {}. Parse Mode: FAILFAST. To process malformed records as null result, try setting the option 'mode' as 'PERMISSIVE'. (row {i}: {e})",
                                text
                            );
                        }
                        parts.push(malformed_value(&t)?);
                    }
                }
            }
            let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
            if refs.is_empty() {
                new_null_array(&t, 0)
            } else {
                datafusion::arrow::compute::concat(&refs)?
            }
        }
    };
    // NULL input strings are NULL results.
    let data = parsed.to_data();
    let mut nulls = datafusion::arrow::array::BooleanBufferBuilder::new(input.len());
    for i in 0..input.len() {
        nulls.append(!input.is_null(i) && parsed.is_valid(i));
    }
    let data = data
        .into_builder()
        .nulls(Some(datafusion::arrow::buffer::NullBuffer::new(
            nulls.finish(),
        )))
        .build()?;
    Ok(datafusion::arrow::array::make_array(data))
}

// ---- to_json --------------------------------------------------------------------

/// How values are written (Spark's JSONOptions for the generator): `to_json` and the
/// JSON / CSV file writers.
pub struct Writer {
    tz: Tz,
    date_format: Option<String>,
    timestamp_format: Option<String>,
    ignore_null_fields: bool,
}

impl Writer {
    /// Options as Spark's (`dateFormat`, `timestampFormat`, `ignoreNullFields`; keys
    /// in any case); timestamps are written in `tz`.
    pub fn new(opts: &HashMap<String, String>, tz: Tz) -> Self {
        let get = |k: &str| {
            opts.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        Writer {
            tz,
            date_format: get("dateFormat")
                .map(|p| ember_datasource::values::java_pattern_to_chrono(&p)),
            timestamp_format: get("timestampFormat")
                .map(|p| ember_datasource::values::java_pattern_to_chrono(&p)),
            ignore_null_fields: get("ignoreNullFields")
                .map(|v| v != "false")
                .unwrap_or(true),
        }
    }
}

fn to_json(input: &ArrayRef, w: &Writer) -> Result<ArrayRef> {
    let mut b = StringBuilder::new();
    let mut buf = Vec::new();
    for i in 0..input.len() {
        if input.is_null(i) {
            b.append_null();
            continue;
        }
        buf.clear();
        write_value(&mut buf, input, i, w)?;
        b.append_value(String::from_utf8_lossy(&buf));
    }
    Ok(Arc::new(b.finish()))
}

/// Spark's text for timestamp `i` of `a` in the JSON and CSV writers: the
/// `timestampFormat` option, else `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in the session time
/// zone (`Z` for UTC); `timestamp_ntz` without an offset and with milliseconds only
/// when there are any.
pub fn timestamp_text(a: &ArrayRef, i: usize, w: &Writer) -> Result<String> {
    use datafusion::arrow::datatypes::{TimeUnit, TimestampMicrosecondType};
    let tz = match a.data_type() {
        DataType::Timestamp(_, tz) => tz.clone(),
        _ => None,
    };
    let micros = datafusion::arrow::compute::cast(
        &a.slice(i, 1),
        &DataType::Timestamp(TimeUnit::Microsecond, None),
    )?;
    let m = micros.as_primitive::<TimestampMicrosecondType>().value(0);
    let Some(t) = chrono::DateTime::from_timestamp_micros(m) else {
        return Ok(m.to_string());
    };
    let text = match (tz, &w.timestamp_format) {
        (Some(_), Some(f)) => t.with_timezone(&w.tz).format(f).to_string(),
        (Some(_), None) => t
            .with_timezone(&w.tz)
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string()
            .replace("+00:00", "Z"),
        (None, Some(f)) => t.naive_utc().format(f).to_string(),
        (None, None) => {
            let base = t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string();
            let frac = m.rem_euclid(1_000_000);
            if frac == 0 {
                base
            } else {
                format!("{base}.{:03}", frac / 1000)
            }
        }
    };
    Ok(text)
}

/// One JSON document per row of `batch` (as Spark's JSON data source writes them:
/// NULL fields left out unless `ignoreNullFields` is false).
pub fn json_lines(
    batch: &datafusion::arrow::record_batch::RecordBatch,
    w: &Writer,
) -> Result<Vec<String>> {
    let rows: ArrayRef = Arc::new(StructArray::from(batch.clone()));
    let mut out = Vec::with_capacity(batch.num_rows());
    let mut buf = Vec::new();
    for i in 0..rows.len() {
        buf.clear();
        write_value(&mut buf, &rows, i, w)?;
        out.push(String::from_utf8_lossy(&buf).into_owned());
    }
    Ok(out)
}

fn write_str(out: &mut Vec<u8>, s: &str) -> Result<()> {
    serde_json::to_writer(&mut *out, s)
        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))
}

fn write_value(out: &mut Vec<u8>, a: &ArrayRef, i: usize, w: &Writer) -> Result<()> {
    use datafusion::arrow::datatypes::*;
    if is_null(a, i) {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    match a.data_type() {
        DataType::Struct(fs) => {
            let s = a.as_struct();
            out.push(b'{');
            let mut first = true;
            for (f, col) in fs.iter().zip(s.columns()) {
                if is_null(col, i) && w.ignore_null_fields {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                write_str(out, f.name())?;
                out.push(b':');
                write_value(out, col, i, w)?;
            }
            out.push(b'}');
        }
        DataType::List(_) | DataType::LargeList(_) => {
            let items = match a.data_type() {
                DataType::List(_) => a.as_list::<i32>().value(i),
                _ => a.as_list::<i64>().value(i),
            };
            out.push(b'[');
            for j in 0..items.len() {
                if j > 0 {
                    out.push(b',');
                }
                write_value(out, &items, j, w)?;
            }
            out.push(b']');
        }
        DataType::Map(..) => {
            let m = a.as_map();
            let entries = m.value(i);
            let (k, v) = (entries.column(0).clone(), entries.column(1).clone());
            out.push(b'{');
            for j in 0..entries.len() {
                if j > 0 {
                    out.push(b',');
                }
                write_str(out, &key_text(&k, j)?)?;
                out.push(b':');
                write_value(out, &v, j, w)?;
            }
            out.push(b'}');
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = datafusion::arrow::compute::cast(&a.slice(i, 1), &DataType::Utf8)?;
            write_str(out, s.as_string::<i32>().value(0))?;
        }
        DataType::Boolean => {
            out.extend_from_slice(if a.as_boolean().value(i) {
                b"true"
            } else {
                b"false"
            });
        }
        DataType::Float64 => {
            write_double(out, a.as_primitive::<Float64Type>().value(i))?;
        }
        DataType::Float32 => {
            let v = a.as_primitive::<Float32Type>().value(i);
            if v.is_finite() {
                out.extend_from_slice(crate::format::java_float(v).as_bytes());
            } else {
                write_str(out, &crate::format::java_float(v))?;
            }
        }
        DataType::Date32 => {
            let d = a.as_primitive::<Date32Type>().value(i);
            let date = chrono::NaiveDate::from_num_days_from_ce_opt(d + 719_163);
            let text = match (date, &w.date_format) {
                (Some(d), Some(f)) => d.format(f).to_string(),
                (Some(d), None) => d.format("%Y-%m-%d").to_string(),
                (None, _) => d.to_string(),
            };
            write_str(out, &text)?;
        }
        DataType::Timestamp(..) => {
            let text = timestamp_text(a, i, w)?;
            write_str(out, &text)?;
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            use base64::Engine;
            let bin = datafusion::arrow::compute::cast(&a.slice(i, 1), &DataType::Binary)?;
            let text =
                base64::engine::general_purpose::STANDARD.encode(bin.as_binary::<i32>().value(0));
            write_str(out, &text)?;
        }
        t if t.is_integer() || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) => {
            let s = datafusion::arrow::compute::cast(&a.slice(i, 1), &DataType::Utf8)?;
            out.extend_from_slice(s.as_string::<i32>().value(0).as_bytes());
        }
        _ => {
            let s = crate::format::value_string(
                a.as_ref(),
                i,
                &crate::format::FormatOptions { session_tz: w.tz },
            )
            .unwrap_or_default();
            write_str(out, &s)?;
        }
    }
    Ok(())
}

/// NULL, counting every value of a `void` (NullArray) column, which has no null buffer.
fn is_null(a: &ArrayRef, i: usize) -> bool {
    a.is_null(i) || a.data_type() == &DataType::Null
}

fn write_double(out: &mut Vec<u8>, v: f64) -> Result<()> {
    let text = crate::format::java_double(v);
    if v.is_finite() {
        out.write_all(text.as_bytes())
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))
    } else {
        write_str(out, &text)
    }
}

/// A map key as text: Spark writes the key's string form (`[1]` for a struct).
fn key_text(k: &ArrayRef, j: usize) -> Result<String> {
    Ok(match k.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = datafusion::arrow::compute::cast(&k.slice(j, 1), &DataType::Utf8)?;
            s.as_string::<i32>().value(0).to_string()
        }
        _ => crate::format::value_string(
            k.as_ref(),
            j,
            &crate::format::FormatOptions {
                session_tz: chrono_tz::UTC,
            },
        )
        .unwrap_or_default()
        .replacen('{', "[", 1)
        .replace('}', "]"),
    })
}

// ---- schema_of_json ---------------------------------------------------------------

/// Spark's JSON schema inference for one value (JsonInferSchema), before the
/// final NULL → STRING step.
#[derive(Debug, Clone, PartialEq)]
enum Inferred {
    Null,
    Bool,
    Long,
    Double,
    Str,
    Array(Box<Inferred>),
    Struct(Vec<(String, Inferred)>),
}

fn infer(v: &Value) -> Inferred {
    match v {
        Value::Null => Inferred::Null,
        Value::Bool(_) => Inferred::Bool,
        Value::Number(n) if n.is_i64() || n.is_u64() => Inferred::Long,
        Value::Number(_) => Inferred::Double,
        Value::String(_) => Inferred::Str,
        Value::Array(items) => Inferred::Array(Box::new(
            items.iter().map(infer).fold(Inferred::Null, merge),
        )),
        Value::Object(o) => {
            let mut fields: Vec<(String, Inferred)> =
                o.iter().map(|(k, v)| (k.clone(), infer(v))).collect();
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Inferred::Struct(fields)
        }
    }
}

/// Spark's `compatibleType` of two inferred types.
fn merge(a: Inferred, b: Inferred) -> Inferred {
    use Inferred::*;
    match (a, b) {
        (Null, x) | (x, Null) => x,
        (Long, Double) | (Double, Long) => Double,
        (Array(x), Array(y)) => Array(Box::new(merge(*x, *y))),
        (Struct(x), Struct(y)) => {
            let mut fields = x;
            for (k, t) in y {
                match fields.iter_mut().find(|(n, _)| *n == k) {
                    Some((_, cur)) => *cur = merge(cur.clone(), t),
                    None => fields.push((k, t)),
                }
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Struct(fields)
        }
        (x, y) if x == y => x,
        _ => Str,
    }
}

fn ddl(t: &Inferred) -> String {
    match t {
        Inferred::Null | Inferred::Str => "STRING".into(),
        Inferred::Bool => "BOOLEAN".into(),
        Inferred::Long => "BIGINT".into(),
        Inferred::Double => "DOUBLE".into(),
        Inferred::Array(e) => format!("ARRAY<{}>", ddl(e)),
        Inferred::Struct(fs) => format!(
            "STRUCT<{}>",
            fs.iter()
                .map(|(n, t)| format!("{}: {}", quote_name(n), ddl(t)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn quote_name(n: &str) -> String {
    if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        n.to_string()
    } else {
        format!("`{}`", n.replace('`', "``"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;

    #[test]
    fn from_json_parses_and_nulls_malformed_rows() {
        let input = StringArray::from(vec![Some(r#"{"a": 1, "b": 0.5}"#), Some("{a:1}"), None]);
        let t = parse_schema("a INT, b DOUBLE", "UTC").unwrap();
        let out = from_json(&input, &t, &HashMap::new()).unwrap();
        let s = out.as_struct();
        assert!(s.is_valid(0) && s.is_valid(1) && s.is_null(2));
        let a = s
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::Int32Type>();
        assert_eq!((a.value(0), a.is_null(1)), (1, true));
    }

    #[test]
    fn from_json_failfast_names_the_record() {
        let input = StringArray::from(vec![Some("{oops")]);
        let t = parse_schema("a INT", "UTC").unwrap();
        let mode = HashMap::from([("mode".to_string(), "FAILFAST".to_string())]);
        let e = from_json(&input, &t, &mode).unwrap_err().to_string();
        assert!(
            e.contains("MALFORMED_RECORD_IN_PARSING") && e.contains("{oops"),
            "{e}"
        );
    }

    #[test]
    fn from_json_maps_and_arrays() {
        let input = StringArray::from(vec![Some(r#"{"a": 1}"#)]);
        let t = parse_schema("MAP<STRING,INT>", "UTC").unwrap();
        assert!(matches!(
            from_json(&input, &t, &HashMap::new()).unwrap().data_type(),
            DataType::Map(..)
        ));
        let input = StringArray::from(vec![Some("[1, 2, 3]")]);
        let t = parse_schema("ARRAY<INT>", "UTC").unwrap();
        assert_eq!(
            from_json(&input, &t, &HashMap::new())
                .unwrap()
                .as_list::<i32>()
                .value(0)
                .len(),
            3
        );
    }

    #[test]
    fn schema_inference_as_spark() {
        let v: Value =
            serde_json::from_str(r#"{"b": [1, 2.5], "a": 0, "c": null, "d": {"y": true}}"#)
                .unwrap();
        assert_eq!(
            ddl(&infer(&v)),
            "STRUCT<a: BIGINT, b: ARRAY<DOUBLE>, c: STRING, d: STRUCT<y: BOOLEAN>>"
        );
        let v: Value = serde_json::from_str(r#"[{"col": 0}]"#).unwrap();
        assert_eq!(ddl(&infer(&v)), "ARRAY<STRUCT<col: BIGINT>>");
    }
}
