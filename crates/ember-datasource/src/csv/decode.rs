//! Turns CSV text into Arrow record batches of a given schema, applying Spark's
//! null rules, value syntax and malformed-record modes, and counting what failed.

use std::io::Read;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder, Float64Builder,
    Int16Builder, Int32Builder, Int64Builder, Int8Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};

use super::options::{CsvOptions, ParseMode};
use super::tokenizer::{Record, Tokenizer};
use crate::error::{DataSourceError, Result};
use crate::report::{FileReport, MalformedSample, MAX_SAMPLES_PER_FILE};
use crate::values;

/// What one scan of a file must produce.
#[derive(Debug, Clone)]
pub struct DecodePlan {
    /// Spark options.
    pub opts: Arc<CsvOptions>,
    /// The data columns of the file, in file order (no corrupt column, no partitions).
    pub data_types: Vec<DataType>,
    /// Output columns: `Some(i)` = data column `i`, `None` = the corrupt-record column.
    pub output: Vec<Option<usize>>,
    /// Output schema (types match `output`).
    pub schema: SchemaRef,
    /// Convert every data column to detect malformed rows (DROPMALFORMED, FAILFAST, or
    /// the corrupt column is requested); otherwise only the output columns.
    pub validate_all: bool,
    /// Rows per batch.
    pub batch_size: usize,
}

enum Builder {
    Bool(BooleanBuilder),
    I8(Int8Builder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    Str(StringBuilder),
    Date(Date32Builder),
    Ts(TimestampMicrosecondBuilder, Option<Arc<str>>),
    Dec(Decimal128Builder, u8, i8),
}

/// A parsed value waiting for the row's verdict.
#[derive(Debug, Clone, Copy)]
enum Val {
    Null,
    I(i64),
    F(f64),
    B(bool),
    D(i128),
    /// String: range in the record buffer, or the emptyValue.
    S(u32, u32),
    Empty,
}

impl Builder {
    fn new(dt: &DataType, cap: usize) -> Result<Builder> {
        Ok(match dt {
            DataType::Boolean => Builder::Bool(BooleanBuilder::with_capacity(cap)),
            DataType::Int8 => Builder::I8(Int8Builder::with_capacity(cap)),
            DataType::Int16 => Builder::I16(Int16Builder::with_capacity(cap)),
            DataType::Int32 => Builder::I32(Int32Builder::with_capacity(cap)),
            DataType::Int64 => Builder::I64(Int64Builder::with_capacity(cap)),
            DataType::Float32 => Builder::F32(Float32Builder::with_capacity(cap)),
            DataType::Float64 => Builder::F64(Float64Builder::with_capacity(cap)),
            DataType::Utf8 => Builder::Str(StringBuilder::with_capacity(cap, cap * 8)),
            DataType::Date32 => Builder::Date(Date32Builder::with_capacity(cap)),
            DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                Builder::Ts(TimestampMicrosecondBuilder::with_capacity(cap), tz.clone())
            }
            DataType::Decimal128(p, s) => Builder::Dec(
                Decimal128Builder::with_capacity(cap).with_precision_and_scale(*p, *s)?,
                *p,
                *s,
            ),
            other => {
                return Err(DataSourceError::InvalidOption(format!(
                    "CSV data source does not support {other} columns"
                )))
            }
        })
    }

    fn append(&mut self, v: Val, rec: &Record, empty: &str) {
        match (self, v) {
            (Builder::Bool(b), Val::B(x)) => b.append_value(x),
            (Builder::I8(b), Val::I(x)) => b.append_value(x as i8),
            (Builder::I16(b), Val::I(x)) => b.append_value(x as i16),
            (Builder::I32(b), Val::I(x)) => b.append_value(x as i32),
            (Builder::I64(b), Val::I(x)) => b.append_value(x),
            (Builder::F32(b), Val::F(x)) => b.append_value(x as f32),
            (Builder::F64(b), Val::F(x)) => b.append_value(x),
            (Builder::Str(b), Val::S(s, e)) => {
                let bytes = &rec.buf[s as usize..e as usize];
                match std::str::from_utf8(bytes) {
                    Ok(t) => b.append_value(t),
                    Err(_) => b.append_value(String::from_utf8_lossy(bytes)),
                }
            }
            (Builder::Str(b), Val::Empty) => b.append_value(empty),
            (Builder::Date(b), Val::I(x)) => b.append_value(x as i32),
            (Builder::Ts(b, _), Val::I(x)) => b.append_value(x),
            (Builder::Dec(b, _, _), Val::D(x)) => b.append_value(x),
            (b, _) => b.append_null(),
        }
    }

    fn append_null(&mut self) {
        match self {
            Builder::Bool(b) => b.append_null(),
            Builder::I8(b) => b.append_null(),
            Builder::I16(b) => b.append_null(),
            Builder::I32(b) => b.append_null(),
            Builder::I64(b) => b.append_null(),
            Builder::F32(b) => b.append_null(),
            Builder::F64(b) => b.append_null(),
            Builder::Str(b) => b.append_null(),
            Builder::Date(b) => b.append_null(),
            Builder::Ts(b, _) => b.append_null(),
            Builder::Dec(b, _, _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::I8(b) => Arc::new(b.finish()),
            Builder::I16(b) => Arc::new(b.finish()),
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::F32(b) => Arc::new(b.finish()),
            Builder::F64(b) => Arc::new(b.finish()),
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Ts(b, tz) => Arc::new(b.finish().with_timezone_opt(tz.clone())),
            Builder::Dec(b, p, s) => match b.finish().with_precision_and_scale(*p, *s) {
                Ok(a) => Arc::new(a),
                Err(_) => Arc::new(Decimal128Builder::new().finish()),
            },
        }
    }
}

/// Parses a decimal literal to an unscaled i128 at `scale`, rounding HALF_UP, as
/// Spark's `Decimal` from `java.math.BigDecimal`. `None` if it does not fit `precision`.
pub fn parse_decimal(s: &str, precision: u8, scale: i8) -> Option<i128> {
    let s = s.trim();
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part
        .bytes()
        .chain(frac_part.bytes())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let digits: String = format!("{int_part}{frac_part}");
    // value = digits * 10^(exp - frac_len); want unscaled at `scale`
    let shift = exp - frac_part.len() as i32 + scale as i32;
    let digits = digits.trim_start_matches('0');
    let mut v: i128 = 0;
    if shift >= 0 {
        for c in digits.bytes() {
            v = v.checked_mul(10)?.checked_add((c - b'0') as i128)?;
        }
        for _ in 0..shift {
            v = v.checked_mul(10)?;
        }
    } else {
        let cut = (-shift) as usize;
        let keep = digits.len().saturating_sub(cut);
        for c in digits[..keep].bytes() {
            v = v.checked_mul(10)?.checked_add((c - b'0') as i128)?;
        }
        let first_dropped = if cut <= digits.len() {
            digits.as_bytes().get(keep).copied()
        } else {
            None
        };
        if matches!(first_dropped, Some(d) if d >= b'5') {
            v = v.checked_add(1)?;
        }
    }
    if v >= 10i128.pow(precision as u32) {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// Decodes the CSV files of one task into batches, sending each to `emit`.
pub struct FileDecoder<'a> {
    plan: &'a DecodePlan,
    tok: Tokenizer,
    date_fmt: Option<String>,
    ts_fmt: Option<String>,
    needed: Vec<bool>,
    builders: Vec<Builder>,
    corrupt: Option<StringBuilder>,
    rows_in_batch: usize,
    scratch: Vec<Val>,
}

impl<'a> FileDecoder<'a> {
    /// Prepares a decoder for `plan`.
    pub fn new(plan: &'a DecodePlan) -> Result<FileDecoder<'a>> {
        let o = &plan.opts;
        let n = plan.data_types.len();
        let mut needed = vec![plan.validate_all; n];
        for i in plan.output.iter().flatten() {
            needed[*i] = true;
        }
        let mut d = FileDecoder {
            plan,
            tok: Tokenizer {
                sep: o.sep,
                quote: o.quote,
                escape: o.escape,
                ignore_leading_ws: o.ignore_leading_ws,
                ignore_trailing_ws: o.ignore_trailing_ws,
                multi_line: o.multi_line,
            },
            date_fmt: o.date_format.as_deref().map(values::java_pattern_to_chrono),
            ts_fmt: o
                .timestamp_format
                .as_deref()
                .map(values::java_pattern_to_chrono),
            needed,
            builders: Vec::new(),
            corrupt: None,
            rows_in_batch: 0,
            scratch: vec![Val::Null; n],
        };
        d.reset_builders()?;
        Ok(d)
    }

    fn reset_builders(&mut self) -> Result<()> {
        let cap = self.plan.batch_size;
        self.builders = self
            .plan
            .output
            .iter()
            .filter_map(|o| o.map(|i| Builder::new(&self.plan.data_types[i], cap)))
            .collect::<Result<Vec<_>>>()?;
        self.corrupt = if self.plan.output.iter().any(|o| o.is_none()) {
            Some(StringBuilder::with_capacity(cap, 0))
        } else {
            None
        };
        self.rows_in_batch = 0;
        Ok(())
    }

    fn flush(&mut self, extra: &dyn Fn(usize) -> Vec<ArrayRef>) -> Result<RecordBatch> {
        let mut data: Vec<ArrayRef> = self.builders.iter_mut().map(|b| b.finish()).collect();
        let corrupt = self
            .corrupt
            .as_mut()
            .map(|c| Arc::new(c.finish()) as ArrayRef);
        let mut cols = Vec::with_capacity(self.plan.output.len());
        let mut di = data.drain(..);
        for o in &self.plan.output {
            match o {
                Some(_) => cols.push(
                    di.next()
                        .ok_or_else(|| DataSourceError::InvalidOption("column mismatch".into()))?,
                ),
                None => cols.push(
                    corrupt
                        .clone()
                        .ok_or_else(|| DataSourceError::InvalidOption("corrupt column".into()))?,
                ),
            }
        }
        let rows = self.rows_in_batch;
        cols.extend(extra(rows));
        let batch = RecordBatch::try_new_with_options(
            self.plan.schema.clone(),
            cols,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?;
        self.reset_builders()?;
        Ok(batch)
    }

    /// Converts field `j` of `rec` to a value of `dt`. `Err(reason)` when malformed.
    fn convert(&self, rec: &Record, j: usize, dt: &DataType) -> std::result::Result<Val, String> {
        let o = &self.plan.opts;
        if j >= rec.fields.len() {
            return Ok(Val::Null);
        }
        let f = rec.fields[j];
        let bytes = rec.bytes(j);
        let text = rec.text(j, &o.null_value, &o.empty_value);
        if *text == *o.null_value {
            return Ok(Val::Null);
        }
        let bad = |t: &str| -> String {
            let shown: String = t.chars().take(40).collect();
            format!(
                "column {} ('{shown}') is not a valid {}",
                j + 1,
                spark_name(dt)
            )
        };
        let t: &str = &text;
        Ok(match dt {
            DataType::Utf8 => {
                if bytes.is_empty() {
                    Val::Empty
                } else {
                    Val::S(f.start, f.end)
                }
            }
            DataType::Int32 => Val::I(values::parse_int(t).ok_or_else(|| bad(t))? as i64),
            DataType::Int64 => Val::I(values::parse_long(t).ok_or_else(|| bad(t))?),
            DataType::Int16 => Val::I(
                values::parse_int(t)
                    .and_then(|v| i16::try_from(v).ok())
                    .ok_or_else(|| bad(t))? as i64,
            ),
            DataType::Int8 => Val::I(
                values::parse_int(t)
                    .and_then(|v| i8::try_from(v).ok())
                    .ok_or_else(|| bad(t))? as i64,
            ),
            DataType::Float64 | DataType::Float32 => {
                if t == o.nan_value {
                    Val::F(f64::NAN)
                } else if t == o.positive_inf {
                    Val::F(f64::INFINITY)
                } else if t == o.negative_inf {
                    Val::F(f64::NEG_INFINITY)
                } else {
                    Val::F(values::parse_double(t).ok_or_else(|| bad(t))?)
                }
            }
            DataType::Boolean => Val::B(values::parse_bool(t).ok_or_else(|| bad(t))?),
            DataType::Date32 => {
                let d = match &self.date_fmt {
                    Some(fmt) => values::parse_date_with_pattern(t, fmt),
                    None => values::parse_date_lenient(t),
                };
                Val::I(d.ok_or_else(|| bad(t))? as i64)
            }
            DataType::Timestamp(_, _) => {
                let v = match &self.ts_fmt {
                    Some(fmt) => values::parse_timestamp_with_pattern(t, fmt, &o.time_zone),
                    None => values::parse_timestamp_lenient(t, &o.time_zone).map(|p| p.micros),
                };
                Val::I(v.ok_or_else(|| bad(t))?)
            }
            DataType::Decimal128(p, s) => Val::D(parse_decimal(t, *p, *s).ok_or_else(|| bad(t))?),
            _ => Val::Null,
        })
    }

    /// Decodes one file, or the split `range` = `(start, end)` bytes of an uncompressed
    /// file with Hadoop's line-split rule (a split owns the records starting in
    /// `(start, end]`, or `[0, end]` for the first). `extra(rows)` returns the constant
    /// partition columns for a batch.
    pub fn decode_file(
        &mut self,
        path: &crate::storage::Location,
        range: Option<(u64, u64)>,
        extra: &dyn Fn(usize) -> Vec<ArrayRef>,
        emit: &mut dyn FnMut(RecordBatch) -> bool,
    ) -> Result<FileReport> {
        let file_name = path.display();
        let split_start = range.map(|r| r.0).unwrap_or(0);
        let split_end = range.map(|r| r.1);
        let mut reader = if split_start > 0 {
            crate::compression::open_at(path, split_start)?
        } else {
            crate::compression::open(path)?
        };
        // Absolute offset of buf[0]; lines are counted only from the file start.
        let mut base = split_start;
        let mut skip_partial = split_start > 0;
        let lines_known = split_start == 0;
        let io_err = |e: std::io::Error| DataSourceError::Io {
            path: path.display(),
            source: e,
        };
        let mut report = FileReport::default();
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 22);
        let mut eof = false;
        let mut line_no: u64 = 1;
        let mut header_pending = self.plan.opts.header && split_start == 0;
        let mut rec = Record::default();
        let chunk = 1 << 22;
        let mut start = 0usize;
        loop {
            // Refill: keep unconsumed bytes, read more.
            if !eof {
                buf.drain(..start);
                base += start as u64;
                start = 0;
                if self.plan.opts.multi_line {
                    reader.read_to_end(&mut buf).map_err(io_err)?;
                    eof = true;
                } else {
                    eof = crate::compression::fill(&mut reader, &mut buf, chunk).map_err(io_err)?;
                }
            }
            // Process complete records (up to the last newline unless at eof).
            let limit = if eof {
                buf.len()
            } else {
                match buf[start..].iter().rposition(|&b| b == b'\n') {
                    Some(p) => start + p + 1,
                    None => {
                        continue;
                    }
                }
            };
            if skip_partial {
                // The first (partial) line of a split belongs to the previous split.
                match buf[start..limit].iter().position(|&b| b == b'\n') {
                    Some(p) => {
                        start += p + 1;
                        skip_partial = false;
                    }
                    None => {
                        start = limit;
                        if eof {
                            break;
                        }
                        continue;
                    }
                }
            }
            while start < limit {
                if split_end.is_some_and(|e| base + start as u64 > e) {
                    // Records starting after the split's end belong to the next split.
                    eof = true;
                    buf.truncate(start);
                    break;
                }
                let slice = &buf[start..limit];
                // Skip blank lines and comments as Spark does.
                let line_end = slice
                    .iter()
                    .position(|&b| b == b'\n')
                    .map(|p| p + 1)
                    .unwrap_or(slice.len());
                let line = &slice[..line_end];
                if super::tokenizer::is_skipped_line(line, self.plan.opts.comment) {
                    start += line_end;
                    line_no += line.iter().filter(|&&b| b == b'\n').count() as u64;
                    continue;
                }
                let (used, lines) = self.tok.next_record(slice, &mut rec);
                let rec_line = if lines_known { Some(line_no) } else { None };
                let rec_offset = base + start as u64;
                let raw_end = {
                    let mut e = used;
                    while e > 0 && (slice[e - 1] == b'\n' || slice[e - 1] == b'\r') {
                        e -= 1;
                    }
                    e
                };
                let raw = &slice[..raw_end];
                start += used.max(1);
                line_no += lines;
                if header_pending {
                    header_pending = false;
                    continue;
                }
                report.rows += 1;
                if std::str::from_utf8(&rec.buf).is_err() {
                    report.invalid_utf8 += 1;
                }
                let n = self.plan.data_types.len();
                let mut reason: Option<String> = None;
                if rec.fields.len() != n {
                    reason = Some(format!("expected {n} fields, found {}", rec.fields.len()));
                }
                for j in 0..n {
                    if !self.needed[j] {
                        continue;
                    }
                    match self.convert(&rec, j, &self.plan.data_types[j]) {
                        Ok(v) => self.scratch[j] = v,
                        Err(r) => {
                            self.scratch[j] = Val::Null;
                            if reason.is_none() {
                                reason = Some(r);
                            }
                        }
                    }
                }
                if let Some(r) = &reason {
                    report.malformed += 1;
                    let raw_text = String::from_utf8_lossy(raw).into_owned();
                    if report.samples.len() < MAX_SAMPLES_PER_FILE {
                        tracing::warn!(file = %file_name, line = ?rec_line, offset = rec_offset, reason = %r, "malformed CSV record");
                        report.samples.push(MalformedSample {
                            line: rec_line,
                            offset: rec_offset,
                            reason: r.clone(),
                            raw: raw_text.chars().take(200).collect(),
                        });
                    }
                    match self.plan.opts.mode {
                        ParseMode::DropMalformed => continue,
                        ParseMode::FailFast => {
                            return Err(DataSourceError::MalformedRecord {
                                path: file_name,
                                location: match rec_line {
                                    Some(l) => format!("line {l}"),
                                    None => format!("byte offset {rec_offset}"),
                                },
                                record: raw_text,
                                reason: r.clone(),
                            })
                        }
                        ParseMode::Permissive => {}
                    }
                }
                let mut bi = 0;
                for o in &self.plan.output {
                    match o {
                        Some(j) => {
                            let v = self.scratch[*j];
                            self.builders[bi].append(v, &rec, &self.plan.opts.empty_value);
                            bi += 1;
                        }
                        None => {
                            if let Some(c) = self.corrupt.as_mut() {
                                if reason.is_some() {
                                    c.append_value(String::from_utf8_lossy(raw));
                                } else {
                                    c.append_null();
                                }
                            }
                        }
                    }
                }
                self.rows_in_batch += 1;
                if self.rows_in_batch >= self.plan.batch_size {
                    let b = self.flush(extra)?;
                    if !emit(b) {
                        return Ok(report);
                    }
                }
            }
            if eof && start >= buf.len() {
                break;
            }
        }
        if self.rows_in_batch > 0 {
            let b = self.flush(extra)?;
            emit(b);
        }
        Ok(report)
    }
}

/// Spark's `simpleString` of an Arrow type, for messages.
pub fn spark_name(dt: &DataType) -> String {
    match dt {
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Utf8 => "string".into(),
        DataType::Date32 => "date".into(),
        DataType::Timestamp(_, _) => "timestamp".into(),
        DataType::Decimal128(p, s) => format!("decimal({p},{s})"),
        other => other.to_string().to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_half_up() {
        assert_eq!(parse_decimal("227", 10, 2), Some(22700));
        assert_eq!(parse_decimal("1.005", 10, 2), Some(101));
        assert_eq!(parse_decimal("-1.004", 10, 2), Some(-100));
        assert_eq!(parse_decimal("1e2", 10, 0), Some(100));
        assert_eq!(parse_decimal("123456789012", 10, 2), None);
        assert_eq!(parse_decimal("abc", 10, 2), None);
    }
}
