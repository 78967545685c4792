//! Spark's number-to-text functions:
//! `format_number(x, d)` (as Spark's `FormatNumber`: Java's `DecimalFormat`
//! `#,###,##0.00…` with `d` decimals, HALF_EVEN rounding of the exact value, NULL for
//! `d < 0`) and `conv(num, from_base, to_base)` (as Spark's `NumberConverter`: the
//! digits read as an unsigned 64-bit number up to the first character that is not a
//! digit of `from_base`; a negative `to_base` prints a signed result; NULL for a base
//! outside 2..=36 or an empty string; `ARITHMETIC_OVERFLOW` past 64 bits, as ANSI mode).

use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use datafusion::common::{exec_err, plan_err, Result};

use super::udf_coerced;

/// The functions of this module for a session in time zone `tz`.
pub fn functions(tz: &str) -> Vec<datafusion::logical_expr::ScalarUDF> {
    vec![
        udf_coerced(
            "format_number",
            coerce_format_number,
            |_| Ok(DataType::Utf8),
            format_number_impl,
            tz,
        ),
        udf_coerced("conv", coerce_conv, |_| Ok(DataType::Utf8), conv_impl, tz),
    ]
}

fn coerce_format_number(args: &[DataType]) -> Result<Vec<DataType>> {
    super::args_between("format_number", args, 2, 2)?;
    let x = match &args[0] {
        DataType::Decimal128(p, s) => DataType::Decimal128(*p, *s),
        t if t.is_integer() => DataType::Int64,
        t if t.is_floating() || t == &DataType::Null => DataType::Float64,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DataType::Float64,
        t => {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"format_number\": the first parameter requires a numeric type, but got {t}."
            )
        }
    };
    match &args[1] {
        t if t.is_integer() || t == &DataType::Null => Ok(vec![x, DataType::Int32]),
        t => plan_err!(
            "[UNSUPPORTED_FEATURE] format_number with a {t} format (a DecimalFormat pattern) is not supported by ember; give the number of decimal places."
        ),
    }
}

/// Inserts `,` every three digits of the integer part of a plain decimal string.
fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(s.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

/// Rounds a plain decimal string (`-123.4565`) to `d` decimals, HALF_EVEN.
fn round_decimal_text(s: &str, d: usize) -> String {
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let mut digits: Vec<u8> = int.bytes().map(|b| b - b'0').collect();
    let fr: Vec<u8> = frac.bytes().map(|b| b - b'0').collect();
    for k in 0..d {
        digits.push(fr.get(k).copied().unwrap_or(0));
    }
    let rest_digits = fr.get(d..).unwrap_or(&[]);
    let round_up = match rest_digits.first() {
        Some(b) if *b > 5 => true,
        Some(5) => {
            rest_digits[1..].iter().any(|b| *b != 0)
                || digits.last().is_some_and(|last| last % 2 == 1)
        }
        _ => false,
    };
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let n_int = digits.len() - d;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let int_part: String = digits[..n_int].iter().map(|v| (b'0' + v) as char).collect();
    out.push_str(if int_part.is_empty() { "0" } else { &int_part });
    if d > 0 {
        out.push('.');
        out.extend(digits[n_int..].iter().map(|v| (b'0' + v) as char));
    }
    out
}

fn format_number_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let places = a[1].as_primitive::<Int32Type>();
    let mut out = StringBuilder::new();
    let x = &a[0];
    for i in 0..x.len() {
        if x.is_null(i) || places.is_null(i) || places.value(i) < 0 {
            out.append_null();
            continue;
        }
        let d = places.value(i) as usize;
        let text = match x.data_type() {
            DataType::Int64 => format!(
                "{}.{}",
                x.as_primitive::<Int64Type>().value(i),
                "0".repeat(d)
            )
            .trim_end_matches('.')
            .to_string(),
            DataType::Float64 => {
                let v = x.as_primitive::<Float64Type>().value(i);
                if v.is_nan() {
                    out.append_value("NaN");
                    continue;
                }
                if v.is_infinite() {
                    out.append_value(if v > 0.0 { "∞" } else { "-∞" });
                    continue;
                }
                // Rust rounds the exact binary value, ties to even: as Java 8+'s
                // DecimalFormat under HALF_EVEN.
                format!("{v:.d$}")
            }
            DataType::Decimal128(_, s) => {
                let v = x
                    .as_primitive::<datafusion::arrow::datatypes::Decimal128Type>()
                    .value(i);
                let text = <datafusion::arrow::datatypes::Decimal128Type as datafusion::arrow::datatypes::DecimalType>::format_decimal(v, 38, *s);
                round_decimal_text(&text, d)
            }
            t => return exec_err!("format_number got {t}"),
        };
        out.append_value(group_thousands(&text));
    }
    Ok(std::sync::Arc::new(out.finish()))
}

fn coerce_conv(args: &[DataType]) -> Result<Vec<DataType>> {
    super::args_between("conv", args, 3, 3)?;
    Ok(vec![DataType::Utf8, DataType::Int32, DataType::Int32])
}

/// One `conv`; `Ok(None)` is NULL.
pub(crate) fn conv_one(n: &str, from: i32, to: i32) -> std::result::Result<Option<String>, String> {
    if !(2..=36).contains(&from) || !(2..=36).contains(&to.unsigned_abs()) || n.is_empty() {
        return Ok(None);
    }
    let (mut negative, digits) = match n.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, n),
    };
    let radix = from as u64;
    let mut v: u64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(from as u32) else {
            break;
        };
        v = v
            .checked_mul(radix)
            .and_then(|x| x.checked_add(d as u64))
            .ok_or_else(|| "[ARITHMETIC_OVERFLOW] Overflow in function conv(). If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error.".to_string())?;
    }
    let mut signed = v as i64;
    if negative && to > 0 {
        signed = if signed < 0 { -1 } else { -signed };
    }
    if to < 0 && signed < 0 {
        signed = signed.wrapping_neg();
        negative = true;
    }
    let mut u = signed as u64;
    let base = to.unsigned_abs() as u64;
    let mut out = Vec::new();
    loop {
        let d = (u % base) as u32;
        out.push(
            std::char::from_digit(d, base as u32)
                .unwrap_or('0')
                .to_ascii_uppercase(),
        );
        u /= base;
        if u == 0 {
            break;
        }
    }
    if negative && to < 0 {
        out.push('-');
    }
    Ok(Some(out.into_iter().rev().collect()))
}

fn conv_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let n = a[0].as_string::<i32>();
    let from = a[1].as_primitive::<Int32Type>();
    let to = a[2].as_primitive::<Int32Type>();
    let mut out = StringBuilder::new();
    for i in 0..n.len() {
        if n.is_null(i) || from.is_null(i) || to.is_null(i) {
            out.append_null();
            continue;
        }
        match conv_one(n.value(i), from.value(i), to.value(i)) {
            Ok(Some(s)) => out.append_value(s),
            Ok(None) => out.append_null(),
            Err(e) => return exec_err!("{e}"),
        }
    }
    Ok(std::sync::Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_follows_spark() {
        assert_eq!(conv_one("010101", 2, 16).unwrap().as_deref(), Some("15"));
        assert_eq!(conv_one("100", 2, 10).unwrap().as_deref(), Some("4"));
        assert_eq!(conv_one("-10", 16, -10).unwrap().as_deref(), Some("-16"));
        assert_eq!(
            conv_one("-1", 10, 16).unwrap().as_deref(),
            Some("FFFFFFFFFFFFFFFF")
        );
        assert_eq!(conv_one("12z", 10, 10).unwrap().as_deref(), Some("12"));
        assert_eq!(conv_one("1", 1, 10).unwrap(), None);
        assert!(conv_one("FFFFFFFFFFFFFFFFF", 16, 10).is_err());
    }

    #[test]
    fn decimal_rounding_and_grouping() {
        assert_eq!(round_decimal_text("1234.5665", 3), "1234.566");
        assert_eq!(round_decimal_text("1234.5675", 3), "1234.568");
        assert_eq!(round_decimal_text("9.995", 2), "10.00");
        assert_eq!(round_decimal_text("-0.5", 0), "-0");
        assert_eq!(round_decimal_text("12", 2), "12.00");
        assert_eq!(group_thousands("-1234567.891"), "-1,234,567.891");
        assert_eq!(group_thousands("123"), "123");
    }
}
