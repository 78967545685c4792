//! The record parser of the ingestion source: delimited text with no quoting and no
//! escaping, one record per `\n`-terminated line, an empty field meaning null — the
//! iNaturalist export's format (`../shared/inaturalist.md`). Every line either becomes
//! a typed row or a [`DeadLetter`] naming the line, the column and the reason; nothing
//! is dropped silently.
//!
//! Column types are a DDL list as in Spark's `DataFrameReader.schema("a INT, ...")`,
//! plus `uuid` (text checked to be a canonical 8-4-4-4-12 hex UUID, stored as
//! `string`). Numbers are checked as Spark's ANSI cast from string checks them:
//! non-numeric text is `CAST_INVALID_INPUT`, a value outside the type is
//! `CAST_OVERFLOW`.

use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Date32Builder, Float32Builder, Float64Builder,
    Int16Builder, Int32Builder, Int64Builder, Int8Builder, RecordBatch, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::deadletter::{DeadLetter, ErrorClass};
use crate::error::{IngestError, Result};

/// The type of one source column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text checked to be a canonical UUID (36 characters, hex and dashes 8-4-4-4-12);
    /// stored as Arrow `Utf8`.
    Uuid,
    /// Any text (`Utf8`).
    String,
    /// `tinyint` / `byte` (`Int8`).
    TinyInt,
    /// `smallint` / `short` (`Int16`).
    SmallInt,
    /// `int` / `integer` (`Int32`).
    Int,
    /// `bigint` / `long` (`Int64`).
    BigInt,
    /// `float` / `real` (`Float32`).
    Float,
    /// `double` (`Float64`).
    Double,
    /// `boolean` (`true`/`false`, any case).
    Boolean,
    /// `date` in `YYYY-MM-DD` (`Date32`).
    Date,
}

impl ColumnType {
    fn parse(name: &str) -> Option<ColumnType> {
        Some(match name.to_ascii_lowercase().as_str() {
            "uuid" => ColumnType::Uuid,
            "string" | "varchar" | "text" => ColumnType::String,
            "tinyint" | "byte" => ColumnType::TinyInt,
            "smallint" | "short" => ColumnType::SmallInt,
            "int" | "integer" => ColumnType::Int,
            "bigint" | "long" => ColumnType::BigInt,
            "float" | "real" => ColumnType::Float,
            "double" => ColumnType::Double,
            "boolean" | "bool" => ColumnType::Boolean,
            "date" => ColumnType::Date,
            _ => return None,
        })
    }

    /// The Arrow type a column of this type is stored as.
    pub fn arrow_type(self) -> DataType {
        match self {
            ColumnType::Uuid | ColumnType::String => DataType::Utf8,
            ColumnType::TinyInt => DataType::Int8,
            ColumnType::SmallInt => DataType::Int16,
            ColumnType::Int => DataType::Int32,
            ColumnType::BigInt => DataType::Int64,
            ColumnType::Float => DataType::Float32,
            ColumnType::Double => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Date => DataType::Date32,
        }
    }

    /// Spark's name of the type, as error messages print it.
    pub fn spark_name(self) -> &'static str {
        match self {
            ColumnType::Uuid | ColumnType::String => "STRING",
            ColumnType::TinyInt => "TINYINT",
            ColumnType::SmallInt => "SMALLINT",
            ColumnType::Int => "INT",
            ColumnType::BigInt => "BIGINT",
            ColumnType::Float => "FLOAT",
            ColumnType::Double => "DOUBLE",
            ColumnType::Boolean => "BOOLEAN",
            ColumnType::Date => "DATE",
        }
    }
}

/// One source column: name, type, nullability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Declared type.
    pub ty: ColumnType,
    /// False for `NOT NULL` columns: an empty field is then a bad record.
    pub nullable: bool,
}

/// The source's record layout: columns in field order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSchema {
    /// Columns in the order of the fields on a line.
    pub columns: Vec<Column>,
}

impl RecordSchema {
    /// Parses a DDL list: `"photo_uuid uuid NOT NULL, photo_id int NOT NULL, width smallint"`.
    ///
    /// Errors: [`IngestError::Config`] naming the entry that has no name, an unknown
    /// type, or a duplicate name.
    pub fn parse(ddl: &str) -> Result<RecordSchema> {
        let mut columns: Vec<Column> = Vec::new();
        for entry in ddl.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let words: Vec<&str> = entry.split_whitespace().collect();
            let (name, ty) = match words.as_slice() {
                [name, ty, ..] => (*name, *ty),
                _ => {
                    return Err(IngestError::Config(format!(
                        "schema entry '{entry}' needs a name and a type"
                    )))
                }
            };
            let ty = ColumnType::parse(ty).ok_or_else(|| {
                IngestError::Config(format!(
                    "schema entry '{entry}': unknown type '{ty}' (uuid, string, tinyint, smallint, int, bigint, float, double, boolean, date)"
                ))
            })?;
            let rest = words[2..].join(" ").to_ascii_uppercase();
            let nullable = match rest.as_str() {
                "" => true,
                "NOT NULL" => false,
                _ => {
                    return Err(IngestError::Config(format!(
                        "schema entry '{entry}': unexpected '{rest}' (only NOT NULL may follow the type)"
                    )))
                }
            };
            if columns.iter().any(|c| c.name == name) {
                return Err(IngestError::Config(format!(
                    "schema names column '{name}' twice"
                )));
            }
            columns.push(Column {
                name: name.to_string(),
                ty,
                nullable,
            });
        }
        if columns.is_empty() {
            return Err(IngestError::Config("the source schema is empty".into()));
        }
        Ok(RecordSchema { columns })
    }

    /// Index of the column `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The Arrow schema of parsed rows: the columns, then [`LINE_COLUMN`] (`Int64`, the
    /// 1-based line number in the source file; the header is line 1).
    pub fn staged_schema(&self) -> SchemaRef {
        let mut fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(&c.name, c.ty.arrow_type(), c.nullable))
            .collect();
        fields.push(Field::new(LINE_COLUMN, DataType::Int64, false));
        Arc::new(Schema::new(fields))
    }
}

/// Name of the line-number column parsed rows carry until the sink.
pub const LINE_COLUMN: &str = "_ember_line";

/// A piece of one source file: whole lines, with the line number of the first.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// The file as the user named it (path or URL), for messages and dead letters.
    pub file: String,
    /// 1-based line number of the first line in `data`.
    pub first_line: u64,
    /// Lines, each ending in `\n` (the last one may lack it at end of file).
    pub data: Vec<u8>,
    /// Whether the first line of `data` is the file's header (skipped).
    pub has_header: bool,
}

/// What parsing a chunk gave: typed rows and rejected lines.
#[derive(Debug)]
pub struct Parsed {
    /// Rows in [`RecordSchema::staged_schema`].
    pub batch: RecordBatch,
    /// Lines that could not become rows, in line order.
    pub dead: Vec<DeadLetter>,
    /// Data lines seen (header excluded).
    pub lines: u64,
}

enum Builder {
    Utf8(StringBuilder),
    I8(Int8Builder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    Bool(BooleanBuilder),
    Date(Date32Builder),
}

impl Builder {
    fn new(ty: ColumnType, cap: usize) -> Builder {
        match ty {
            ColumnType::Uuid => Builder::Utf8(StringBuilder::with_capacity(cap, cap * 36)),
            ColumnType::String => Builder::Utf8(StringBuilder::with_capacity(cap, cap * 8)),
            ColumnType::TinyInt => Builder::I8(Int8Builder::with_capacity(cap)),
            ColumnType::SmallInt => Builder::I16(Int16Builder::with_capacity(cap)),
            ColumnType::Int => Builder::I32(Int32Builder::with_capacity(cap)),
            ColumnType::BigInt => Builder::I64(Int64Builder::with_capacity(cap)),
            ColumnType::Float => Builder::F32(Float32Builder::with_capacity(cap)),
            ColumnType::Double => Builder::F64(Float64Builder::with_capacity(cap)),
            ColumnType::Boolean => Builder::Bool(BooleanBuilder::with_capacity(cap)),
            ColumnType::Date => Builder::Date(Date32Builder::with_capacity(cap)),
        }
    }

    fn push(&mut self, v: &Value<'_>) {
        match (self, v) {
            (Builder::Utf8(b), Value::Str(s)) => b.append_value(s),
            (Builder::I8(b), Value::Int(i)) => b.append_value(*i as i8),
            (Builder::I16(b), Value::Int(i)) => b.append_value(*i as i16),
            (Builder::I32(b), Value::Int(i)) => b.append_value(*i as i32),
            (Builder::I64(b), Value::Int(i)) => b.append_value(*i),
            (Builder::F32(b), Value::Float(f)) => b.append_value(*f as f32),
            (Builder::F64(b), Value::Float(f)) => b.append_value(*f),
            (Builder::Bool(b), Value::Bool(x)) => b.append_value(*x),
            (Builder::Date(b), Value::Int(d)) => b.append_value(*d as i32),
            (Builder::Utf8(b), _) => b.append_null(),
            (Builder::I8(b), _) => b.append_null(),
            (Builder::I16(b), _) => b.append_null(),
            (Builder::I32(b), _) => b.append_null(),
            (Builder::I64(b), _) => b.append_null(),
            (Builder::F32(b), _) => b.append_null(),
            (Builder::F64(b), _) => b.append_null(),
            (Builder::Bool(b), _) => b.append_null(),
            (Builder::Date(b), _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        let b: &mut dyn ArrayBuilder = match self {
            Builder::Utf8(b) => b,
            Builder::I8(b) => b,
            Builder::I16(b) => b,
            Builder::I32(b) => b,
            Builder::I64(b) => b,
            Builder::F32(b) => b,
            Builder::F64(b) => b,
            Builder::Bool(b) => b,
            Builder::Date(b) => b,
        };
        b.finish()
    }
}

#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    Null,
    Str(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// Why one field was rejected.
struct FieldError {
    class: ErrorClass,
    message: String,
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn parse_int(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 30 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits.len() <= 18 {
        // Fits an i64 without overflow checks (the common case).
        let mut v: i64 = 0;
        for d in digits {
            v = v * 10 + i64::from(d - b'0');
        }
        return Some(i128::from(if neg { -v } else { v }));
    }
    let mut v: i128 = 0;
    for d in digits {
        v = v * 10 + i128::from(d - b'0');
    }
    Some(if neg { -v } else { v })
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: i64 = s[5..7].parse().ok()?;
    let d: i64 = s[8..10].parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > days_in[(m - 1) as usize] {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn convert<'a>(col: &Column, raw: &'a str) -> std::result::Result<Value<'a>, FieldError> {
    if raw.is_empty() {
        if col.nullable {
            return Ok(Value::Null);
        }
        return Err(FieldError {
            class: ErrorClass::NotNullAssertViolation,
            message: format!("column {}: NULL value in a NOT NULL column", col.name),
        });
    }
    let invalid = || {
        FieldError {
        class: ErrorClass::CastInvalidInput,
        message: format!(
            "column {}: the value '{raw}' of the type \"STRING\" cannot be cast to \"{}\" because it is malformed",
            col.name,
            col.ty.spark_name()
        ),
    }
    };
    let int = |lo: i128, hi: i128| -> std::result::Result<Value<'a>, FieldError> {
        let v = parse_int(raw).ok_or_else(invalid)?;
        if v < lo || v > hi {
            return Err(FieldError {
                class: ErrorClass::CastOverflow,
                message: format!(
                    "column {}: the value '{raw}' of the type \"STRING\" cannot be cast to \"{}\" due to an overflow",
                    col.name,
                    col.ty.spark_name()
                ),
            });
        }
        Ok(Value::Int(v as i64))
    };
    match col.ty {
        ColumnType::String => Ok(Value::Str(raw)),
        ColumnType::Uuid => {
            if is_uuid(raw.as_bytes()) {
                Ok(Value::Str(raw))
            } else {
                Err(FieldError {
                    class: ErrorClass::InvalidUuid,
                    message: format!(
                        "column {}: '{raw}' is not a UUID (8-4-4-4-12 hex digits)",
                        col.name
                    ),
                })
            }
        }
        ColumnType::TinyInt => int(i8::MIN.into(), i8::MAX.into()),
        ColumnType::SmallInt => int(i16::MIN.into(), i16::MAX.into()),
        ColumnType::Int => int(i32::MIN.into(), i32::MAX.into()),
        ColumnType::BigInt => int(i64::MIN.into(), i64::MAX.into()),
        ColumnType::Float | ColumnType::Double => {
            raw.parse::<f64>().map(Value::Float).map_err(|_| invalid())
        }
        ColumnType::Boolean => match raw.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(invalid()),
        },
        ColumnType::Date => parse_date(raw).map(Value::Int).ok_or_else(invalid),
    }
}

/// Parses one chunk: each line splits on `sep` into exactly as many fields as the
/// schema has columns (no quoting, no escaping; a trailing `\r` is kept as data).
///
/// Bad lines become [`DeadLetter`]s (attempts 1, time now) with their raw text
/// (invalid UTF-8 replaced), the 1-based line number and the first problem found:
/// `MALFORMED_RECORD` (wrong field count, invalid UTF-8), `INVALID_UUID`,
/// `CAST_INVALID_INPUT`, `CAST_OVERFLOW`, `NOT_NULL_ASSERT_VIOLATION`. An empty last
/// line (the file's final newline) is not a record.
///
/// Errors: none for bad data; [`IngestError::Arrow`] only if the batch cannot be built.
pub fn parse_chunk(schema: &RecordSchema, sep: u8, chunk: &Chunk, task: &str) -> Result<Parsed> {
    let ncols = schema.columns.len();
    let estimate = memchr::memchr_iter(b'\n', &chunk.data).count() + 1;
    let mut builders: Vec<Builder> = schema
        .columns
        .iter()
        .map(|c| Builder::new(c.ty, estimate))
        .collect();
    let mut lines_b = Int64Builder::with_capacity(estimate);
    let mut dead = Vec::new();
    let mut values: Vec<Value<'_>> = Vec::with_capacity(ncols);
    let mut line_no = chunk.first_line;
    let mut seen = 0u64;
    // One UTF-8 check for the whole chunk; lines of a valid chunk are sliced from it
    // (a `\n` or a separator byte is ASCII, so always a char boundary).
    let whole = std::str::from_utf8(&chunk.data).ok();
    let mut cuts: Vec<usize> = Vec::with_capacity(ncols);
    let mut rest: &[u8] = &chunk.data;
    let mut first = true;
    while !rest.is_empty() {
        let line_start = chunk.data.len() - rest.len();
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        let this_line = line_no;
        line_no += 1;
        if std::mem::take(&mut first) && chunk.has_header {
            continue;
        }
        seen += 1;
        let mut reject = |class: ErrorClass, message: String| {
            dead.push(DeadLetter::new(
                &chunk.file,
                this_line,
                String::from_utf8_lossy(line).into_owned(),
                class,
                format!("{} line {this_line}: {message}", chunk.file),
                task,
            ))
        };
        let text = match whole.map_or_else(
            || std::str::from_utf8(line),
            |w| Ok(&w[line_start..line_start + line.len()]),
        ) {
            Ok(t) => t,
            Err(e) => {
                reject(
                    ErrorClass::MalformedRecord,
                    format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()),
                );
                continue;
            }
        };
        cuts.clear();
        cuts.extend(memchr::memchr_iter(sep, line));
        let fields = cuts.len() + 1;
        if fields != ncols {
            reject(
                ErrorClass::MalformedRecord,
                format!("expected {ncols} fields, found {fields}"),
            );
            continue;
        }
        values.clear();
        let mut failed = None;
        for (i, col) in schema.columns.iter().enumerate() {
            let from = if i == 0 { 0 } else { cuts[i - 1] + 1 };
            let to = cuts.get(i).copied().unwrap_or(text.len());
            match convert(col, &text[from..to]) {
                Ok(v) => values.push(v),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            reject(e.class, e.message);
            continue;
        }
        for (b, v) in builders.iter_mut().zip(&values) {
            b.push(v);
        }
        lines_b.append_value(this_line as i64);
    }
    let mut cols: Vec<ArrayRef> = builders.iter_mut().map(Builder::finish).collect();
    cols.push(Arc::new(lines_b.finish()));
    let batch = RecordBatch::try_new(schema.staged_schema(), cols)?;
    Ok(Parsed {
        batch,
        dead,
        lines: seen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Int16Array};
    use arrow::datatypes::Int32Type;

    const PHOTOS: &str =
        "photo_uuid uuid NOT NULL, photo_id int NOT NULL, observer_id int, width smallint";

    fn chunk(text: &str) -> Chunk {
        Chunk {
            file: "photos.csv".into(),
            first_line: 1,
            data: text.as_bytes().to_vec(),
            has_header: true,
        }
    }

    #[test]
    fn schema_ddl() {
        let s = RecordSchema::parse(PHOTOS).unwrap();
        assert_eq!(s.columns.len(), 4);
        assert!(!s.columns[0].nullable && s.columns[2].nullable);
        assert_eq!(s.columns[3].ty, ColumnType::SmallInt);
        for bad in ["a", "a blob", "a int, a int", "a int NULLABLE", ""] {
            assert!(RecordSchema::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rows_and_dead_letters_with_lines_and_classes() {
        let s = RecordSchema::parse(PHOTOS).unwrap();
        let u = "0a1b2c3d-0000-4000-8000-00000000abcd";
        let text = format!(
            "h1\th2\th3\th4\n{u}\t1\t\t100\n{u}\t2\t7\t70000\n{u}\tx3\t7\t1\nnot-a-uuid\t4\t7\t1\n{u}\t5\t7\n\t6\t7\t1\n{u}\t7\t-8\t-32768\n"
        );
        let p = parse_chunk(&s, b'\t', &chunk(&text), "t0").unwrap();
        assert_eq!(p.lines, 7);
        assert_eq!(p.batch.num_rows(), 2);
        let ids = p.batch.column(1).as_primitive::<Int32Type>();
        assert_eq!(ids.values(), &[1, 7]);
        assert!(p.batch.column(2).is_null(0));
        let w = p
            .batch
            .column(3)
            .as_any()
            .downcast_ref::<Int16Array>()
            .unwrap();
        assert_eq!(w.value(1), -32768);
        let lines: Vec<i64> = p
            .batch
            .column(4)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .values()
            .to_vec();
        assert_eq!(lines, vec![2, 8]);
        let got: Vec<(u64, ErrorClass)> = p.dead.iter().map(|d| (d.line, d.class)).collect();
        assert_eq!(
            got,
            vec![
                (3, ErrorClass::CastOverflow),
                (4, ErrorClass::CastInvalidInput),
                (5, ErrorClass::InvalidUuid),
                (6, ErrorClass::MalformedRecord),
                (7, ErrorClass::NotNullAssertViolation),
            ]
        );
        assert_eq!(p.dead[0].raw, format!("{u}\t2\t7\t70000"));
        assert!(
            p.dead[0]
                .message
                .contains("photos.csv line 3: column width"),
            "{}",
            p.dead[0].message
        );
        assert!(p.dead[3].message.contains("expected 4 fields, found 3"));
    }

    #[test]
    fn dates_and_invalid_utf8() {
        let s = RecordSchema::parse("d date, b boolean, x double").unwrap();
        let mut data = b"1970-01-02\tTRUE\t1.5\n2024-02-30\ttrue\t1\n".to_vec();
        data.extend_from_slice(b"2024-02-29\tfalse\t\xff\n");
        let c = Chunk {
            file: "f".into(),
            first_line: 10,
            data,
            has_header: false,
        };
        let p = parse_chunk(&s, b'\t', &c, "t").unwrap();
        assert_eq!(p.batch.num_rows(), 1);
        assert_eq!(
            p.batch
                .column(0)
                .as_primitive::<arrow::datatypes::Date32Type>()
                .value(0),
            1
        );
        assert_eq!(p.dead.len(), 2);
        assert_eq!(
            (p.dead[0].line, p.dead[0].class),
            (11, ErrorClass::CastInvalidInput)
        );
        assert_eq!(
            (p.dead[1].line, p.dead[1].class),
            (12, ErrorClass::MalformedRecord)
        );
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
    }
}
