//! Spark's text forms of values: `show()` tables (byte-identical to
//! `Dataset.showString`), the string cast of each type (Java's `Double.toString`,
//! `yyyy-MM-dd HH:mm:ss[.ffffff]` timestamps in the session zone, `[a, b]` arrays,
//! `{a, b}` structs, `NULL`), and JSON/CSV renderings of rows for the CLI.

use crate::interval::{format_calendar, Qualifier};
use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, DurationMicrosecondType, DurationMillisecondType,
    DurationNanosecondType, DurationSecondType, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, Int8Type, IntervalDayTimeType, IntervalMonthDayNanoType, IntervalUnit,
    IntervalYearMonthType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};

/// Java's `Double.toString` (shortest round-trip digits; scientific notation outside
/// [1e-3, 1e7)), which Spark uses to show doubles.
pub fn java_double(v: f64) -> String {
    java_repr(format!("{:e}", v), v)
}

/// Java's `Float.toString` (shortest digits of the `f32`).
pub fn java_float(v: f32) -> String {
    java_repr(format!("{:e}", v), v as f64)
}

/// Java's layout of a value given its shortest scientific digits `sci` (Rust's `{:e}`)
/// and the value widened to `f64` (for NaN, infinity, sign and zero).
fn java_repr(sci: String, v: f64) -> String {
    java_float_repr(
        v.is_nan(),
        v.is_infinite(),
        v.is_sign_negative(),
        v == 0.0,
        sci,
    )
}

fn java_float_repr(nan: bool, inf: bool, neg: bool, zero: bool, sci: String) -> String {
    if nan {
        return "NaN".into();
    }
    if inf {
        return if neg {
            "-Infinity".into()
        } else {
            "Infinity".into()
        };
    }
    if zero {
        return if neg { "-0.0".into() } else { "0.0".into() };
    }
    // sci looks like "-3.333e-2" or "1e7"
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mant) = if let Some(m) = mant.strip_prefix('-') {
        ("-", m)
    } else {
        ("", mant)
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let mut out = String::from(sign);
    if (-3..7).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.push_str(&"0".repeat(int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.push_str(&"0".repeat((-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        out.push_str(&exp.to_string());
    }
    out
}

/// Formats microseconds since the epoch in `tz` as Spark does:
/// `yyyy-MM-dd HH:mm:ss` plus the fraction without trailing zeros.
pub fn format_timestamp_micros(micros: i64, tz: Option<&Tz>) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let Some(utc) = DateTime::from_timestamp(secs, 0) else {
        return micros.to_string();
    };
    let base = match tz {
        Some(tz) => utc
            .with_timezone(tz)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => utc.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string(),
    };
    if frac == 0 {
        base
    } else {
        let f = format!("{frac:06}");
        format!("{base}.{}", f.trim_end_matches('0'))
    }
}

/// Formats days since the epoch as `yyyy-MM-dd`.
pub fn format_date(days: i32) -> String {
    NaiveDate::from_num_days_from_ce_opt(days + 719_163)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| days.to_string())
}

/// Context for value rendering.
#[derive(Debug, Clone)]
pub struct FormatOptions {
    /// Session time zone for `timestamp` values.
    pub session_tz: Tz,
}

fn ts_micros(arr: &dyn Array, unit: &TimeUnit, i: usize) -> i64 {
    match unit {
        TimeUnit::Second => arr.as_primitive::<TimestampSecondType>().value(i) * 1_000_000,
        TimeUnit::Millisecond => arr.as_primitive::<TimestampMillisecondType>().value(i) * 1_000,
        TimeUnit::Microsecond => arr.as_primitive::<TimestampMicrosecondType>().value(i),
        TimeUnit::Nanosecond => arr
            .as_primitive::<TimestampNanosecondType>()
            .value(i)
            .div_euclid(1_000),
    }
}

/// Spark's string form of value `i` of `arr` (`None` for null).
/// Nested nulls print as `NULL`, as Spark 4's `show()` does. ANSI intervals print
/// with their type's full range (`INTERVAL '0-1' YEAR TO MONTH`); see
/// [`field_value_string`] for a column's own range.
pub fn value_string(arr: &dyn Array, i: usize, o: &FormatOptions) -> Option<String> {
    value_in(arr, None, i, o)
}

/// [`value_string`] of a value of column `field`, whose metadata gives an ANSI
/// interval's range (`INTERVAL '1' MONTH` for an `interval month` column; see
/// [`crate::interval`]).
pub fn field_value_string(
    field: &datafusion::arrow::datatypes::Field,
    arr: &dyn Array,
    i: usize,
    o: &FormatOptions,
) -> Option<String> {
    value_in(arr, Qualifier::of_field(field), i, o)
}

fn value_in(arr: &dyn Array, q: Option<Qualifier>, i: usize, o: &FormatOptions) -> Option<String> {
    // A `void` column (NullArray) has no null buffer: every value is NULL.
    if arr.is_null(i) || arr.data_type() == &DataType::Null {
        return None;
    }
    Some(match arr.data_type() {
        DataType::Duration(unit) => {
            let v = match unit {
                TimeUnit::Second => arr
                    .as_primitive::<DurationSecondType>()
                    .value(i)
                    .saturating_mul(1_000_000),
                TimeUnit::Millisecond => arr
                    .as_primitive::<DurationMillisecondType>()
                    .value(i)
                    .saturating_mul(1_000),
                TimeUnit::Microsecond => arr.as_primitive::<DurationMicrosecondType>().value(i),
                TimeUnit::Nanosecond => {
                    arr.as_primitive::<DurationNanosecondType>().value(i) / 1_000
                }
            };
            q.unwrap_or(Qualifier::DAY_TO_SECOND).format(v)
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            let v = arr.as_primitive::<IntervalYearMonthType>().value(i);
            q.unwrap_or(Qualifier::YEAR_TO_MONTH).format(v as i64)
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = arr.as_primitive::<IntervalMonthDayNanoType>().value(i);
            format_calendar(v.months, v.days, v.nanoseconds)
        }
        DataType::Interval(IntervalUnit::DayTime) => {
            let v = arr.as_primitive::<IntervalDayTimeType>().value(i);
            format_calendar(0, v.days, v.milliseconds as i64 * 1_000_000)
        }
        DataType::Boolean => arr.as_boolean().value(i).to_string(),
        DataType::Int8 => arr.as_primitive::<Int8Type>().value(i).to_string(),
        DataType::Int16 => arr.as_primitive::<Int16Type>().value(i).to_string(),
        DataType::Int32 => arr.as_primitive::<Int32Type>().value(i).to_string(),
        DataType::Int64 => arr.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::UInt8 => arr.as_primitive::<UInt8Type>().value(i).to_string(),
        DataType::UInt16 => arr.as_primitive::<UInt16Type>().value(i).to_string(),
        DataType::UInt32 => arr.as_primitive::<UInt32Type>().value(i).to_string(),
        DataType::UInt64 => arr.as_primitive::<UInt64Type>().value(i).to_string(),
        DataType::Float32 => java_float(arr.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => java_double(arr.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 => arr.as_string::<i32>().value(i).to_string(),
        DataType::LargeUtf8 => arr.as_string::<i64>().value(i).to_string(),
        DataType::Utf8View => arr.as_string_view().value(i).to_string(),
        DataType::Date32 => format_date(arr.as_primitive::<Date32Type>().value(i)),
        DataType::Timestamp(unit, tz) => {
            let m = ts_micros(arr, unit, i);
            if tz.is_some() {
                format_timestamp_micros(m, Some(&o.session_tz))
            } else {
                format_timestamp_micros(m, None)
            }
        }
        DataType::Decimal128(_, _) => arr.as_primitive::<Decimal128Type>().value_as_string(i),
        DataType::Binary => {
            let b = arr.as_binary::<i32>().value(i);
            format!(
                "[{}]",
                b.iter()
                    .map(|x| format!("{x:02X}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }
        DataType::List(f) => {
            let l = arr.as_list::<i32>().value(i);
            list_string(l.as_ref(), Qualifier::of_field(f), o)
        }
        DataType::LargeList(f) => {
            let l = arr.as_list::<i64>().value(i);
            list_string(l.as_ref(), Qualifier::of_field(f), o)
        }
        DataType::FixedSizeList(f, _) => {
            let l = arr.as_fixed_size_list().value(i);
            list_string(l.as_ref(), Qualifier::of_field(f), o)
        }
        DataType::Struct(fields) => {
            let s = arr.as_struct();
            let parts: Vec<String> = s
                .columns()
                .iter()
                .zip(fields.iter())
                .map(|(c, f)| {
                    value_in(c.as_ref(), Qualifier::of_field(f), i, o)
                        .unwrap_or_else(|| "NULL".into())
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        DataType::Map(_, _) => {
            let m = arr.as_map();
            let entries = m.value(i);
            let (kq, vq) = (
                Qualifier::of_field(&entries.fields()[0]),
                Qualifier::of_field(&entries.fields()[1]),
            );
            let (k, v) = (entries.column(0), entries.column(1));
            let parts: Vec<String> = (0..entries.len())
                .map(|j| {
                    format!(
                        "{} -> {}",
                        value_in(k.as_ref(), kq, j, o).unwrap_or_else(|| "NULL".into()),
                        value_in(v.as_ref(), vq, j, o).unwrap_or_else(|| "NULL".into())
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        DataType::Dictionary(_, _) => {
            let d = arr.as_any_dictionary();
            let key = d.normalized_keys()[i];
            return value_in(d.values().as_ref(), q, key, o);
        }
        _ => datafusion::arrow::util::display::array_value_to_string(arr, i).unwrap_or_default(),
    })
}

fn list_string(l: &dyn Array, q: Option<Qualifier>, o: &FormatOptions) -> String {
    let parts: Vec<String> = (0..l.len())
        .map(|j| value_in(l, q, j, o).unwrap_or_else(|| "NULL".into()))
        .collect();
    format!("[{}]", parts.join(", "))
}

fn escape_meta(s: &str) -> String {
    if !s.chars().any(|c| {
        matches!(
            c,
            '\n' | '\r' | '\t' | '\u{0B}' | '\u{0C}' | '\u{08}' | '\u{07}'
        )
    }) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            '\u{0C}' => out.push_str("\\f"),
            '\u{08}' => out.push_str("\\b"),
            '\u{07}' => out.push_str("\\a"),
            c => out.push(c),
        }
    }
    out
}

/// Display width as Spark's `Utils.stringHalfWidth`: East Asian full-width
/// characters count 2.
fn half_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            if (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u)
            {
                2
            } else {
                1
            }
        })
        .sum()
}

fn truncate_cell(s: String, truncate: usize) -> String {
    if truncate > 0 && s.chars().count() > truncate {
        if truncate < 4 {
            s.chars().take(truncate).collect()
        } else {
            let mut t: String = s.chars().take(truncate - 3).collect();
            t.push_str("...");
            t
        }
    } else {
        s
    }
}

/// `Dataset.showString(numRows, truncate)`: `batches` hold at least `num_rows + 1`
/// rows when more exist (the extra row only triggers the footer). `truncate` = 0
/// disables truncation and left-aligns, as Spark. The footer line has no final newline.
pub fn show_string(
    names: &[String],
    batches: &[RecordBatch],
    num_rows: usize,
    truncate: usize,
    o: &FormatOptions,
) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    // Column names are never truncated; only cells are (Spark's `getRows`).
    rows.push(names.iter().map(|n| escape_meta(n)).collect());
    let mut total = 0usize;
    'outer: for b in batches {
        for i in 0..b.num_rows() {
            if total >= num_rows {
                total += 1;
                break 'outer;
            }
            let schema = b.schema();
            rows.push(
                b.columns()
                    .iter()
                    .zip(schema.fields().iter())
                    .map(|(c, f)| {
                        let v = field_value_string(f, c.as_ref(), i, o)
                            .unwrap_or_else(|| "NULL".into());
                        truncate_cell(escape_meta(&v), truncate)
                    })
                    .collect(),
            );
            total += 1;
        }
    }
    let has_more = total > num_rows;
    let ncols = names.len();
    let mut widths = vec![3usize; ncols];
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(half_width(c));
        }
    }
    // As Spark's `mkString("+", "+", "+\n")`: zero columns give "++".
    let sep: String = format!(
        "+{}+\n",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("+")
    );
    let mut out = String::new();
    out.push_str(&sep);
    for (ri, r) in rows.iter().enumerate() {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let pad = " ".repeat(w.saturating_sub(half_width(c)));
                if truncate > 0 {
                    format!("{pad}{c}")
                } else {
                    format!("{c}{pad}")
                }
            })
            .collect();
        out.push_str(&format!("|{}|\n", cells.join("|")));
        if ri == 0 {
            out.push_str(&sep);
        }
    }
    out.push_str(&sep);
    if has_more {
        out.push_str(&format!(
            "only showing top {num_rows} {}",
            if num_rows == 1 { "row" } else { "rows" }
        ));
    }
    out
}

/// A value as JSON, as the golden `rows.json` and `--output json` write it: numbers
/// as numbers, decimals/dates/timestamps as strings, arrays as lists, structs as
/// objects, null as null.
pub fn value_json(arr: &dyn Array, i: usize, o: &FormatOptions) -> serde_json::Value {
    use serde_json::Value;
    if arr.is_null(i) {
        return Value::Null;
    }
    match arr.data_type() {
        DataType::Boolean => Value::Bool(arr.as_boolean().value(i)),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => value_string(arr, i, o)
            .and_then(|s| s.parse::<i64>().ok())
            .map(Value::from)
            .unwrap_or(Value::Null),
        DataType::UInt64 => Value::from(arr.as_primitive::<UInt64Type>().value(i)),
        DataType::Float64 => {
            let v = arr.as_primitive::<Float64Type>().value(i);
            serde_json::Number::from_f64(v)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(java_double(v)))
        }
        DataType::Float32 => {
            let v = arr.as_primitive::<Float32Type>().value(i) as f64;
            serde_json::Number::from_f64(v)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(java_double(v)))
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
            let l = match arr.data_type() {
                DataType::List(_) => arr.as_list::<i32>().value(i),
                DataType::LargeList(_) => arr.as_list::<i64>().value(i),
                _ => arr.as_fixed_size_list().value(i),
            };
            Value::Array((0..l.len()).map(|j| value_json(l.as_ref(), j, o)).collect())
        }
        DataType::Struct(fields) => {
            let s = arr.as_struct();
            let mut m = serde_json::Map::new();
            for (f, c) in fields.iter().zip(s.columns()) {
                m.insert(f.name().clone(), value_json(c.as_ref(), i, o));
            }
            Value::Object(m)
        }
        _ => value_string(arr, i, o)
            .map(Value::String)
            .unwrap_or(Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_doubles() {
        assert_eq!(java_double(10.357019999999999), "10.357019999999999");
        assert_eq!(java_double(0.03333333333333333), "0.03333333333333333");
        assert_eq!(java_double(-750.0), "-750.0");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(12345678.9), "1.23456789E7");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(1012.0), "1012.0");
        assert_eq!(java_double(-0.016666666666666666), "-0.016666666666666666");
        assert_eq!(java_float(1.5), "1.5");
    }

    #[test]
    fn timestamps_and_dates() {
        let utc: Tz = "UTC".parse().unwrap();
        assert_eq!(
            format_timestamp_micros(1_357_034_400_000_000, Some(&utc)),
            "2013-01-01 10:00:00"
        );
        assert_eq!(
            format_timestamp_micros(1_357_034_400_500_000, Some(&utc)),
            "2013-01-01 10:00:00.5"
        );
        let ny: Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            format_timestamp_micros(1_357_034_400_000_000, Some(&ny)),
            "2013-01-01 05:00:00"
        );
        assert_eq!(format_date(0), "1970-01-01");
    }

    #[test]
    fn empty_schema_table() {
        let fo = FormatOptions {
            session_tz: "UTC".parse().unwrap(),
        };
        assert_eq!(show_string(&[], &[], 20, 20, &fo), "++\n||\n++\n++\n");
    }

    #[test]
    fn truncation() {
        assert_eq!(
            truncate_cell("-0.016666666666666666".into(), 20),
            "-0.01666666666666..."
        );
        assert_eq!(truncate_cell("abcdef".into(), 3), "abc");
    }
}
