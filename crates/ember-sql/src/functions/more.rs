//! More of Spark's scalar functions, as Spark 4 documents them:
//! `hash` (Murmur3 x86_32, seed 42, chained over the arguments like Spark's
//! `Murmur3Hash`), `log1p` (NULL at or below -1), `locate(substr, str[, pos])`
//! (1-based, 0 when absent or `pos < 1`), `mask(str[, upper, lower, digit, other])`,
//! `monthname`/`dayname` (`Apr`, `Wed`, of dates, timestamps or date strings),
//! `json_array_length` (NULL for NULL or invalid JSON or a non-array).

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, Int32Builder, StringBuilder};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    TimestampMicrosecondType,
};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{Signature, TypeSignature, Volatility};

use super::{local_dates, udf, udf_coerced};

/// The functions of this module for a session in time zone `tz`.
pub fn functions(tz: &str) -> Vec<datafusion::logical_expr::ScalarUDF> {
    let imm = Volatility::Immutable;
    let ts = super::ts_type(tz);
    let date_or_string = Signature::one_of(
        vec![
            TypeSignature::Exact(vec![DataType::Date32]),
            TypeSignature::Exact(vec![ts]),
            TypeSignature::Exact(vec![DataType::Utf8]),
        ],
        imm,
    );
    vec![
        udf(
            "ember_like_escape",
            Signature::exact(vec![DataType::Utf8, DataType::Utf8], imm),
            |_| Ok(DataType::Utf8),
            like_escape_impl,
            tz,
        ),
        udf(
            "hash",
            Signature::variadic_any(imm),
            |_| Ok(DataType::Int32),
            hash_impl,
            tz,
        ),
        udf_coerced(
            "locate",
            coerce_locate,
            |_| Ok(DataType::Int32),
            locate_impl,
            tz,
        )
        .with_aliases(["position"]),
        udf_coerced(
            "mask",
            coerce_strings,
            |_| Ok(DataType::Utf8),
            mask_impl,
            tz,
        ),
        udf(
            "monthname",
            date_or_string.clone(),
            |_| Ok(DataType::Utf8),
            monthname_impl,
            tz,
        ),
        udf(
            "dayname",
            date_or_string,
            |_| Ok(DataType::Utf8),
            dayname_impl,
            tz,
        ),
        udf(
            "json_array_length",
            Signature::exact(vec![DataType::Utf8], imm),
            |_| Ok(DataType::Int32),
            json_array_length_impl,
            tz,
        ),
        udf_coerced(
            "regexp_extract_all",
            coerce_regexp_extract_all,
            |_| {
                Ok(DataType::List(Arc::new(
                    datafusion::arrow::datatypes::Field::new_list_field(DataType::Utf8, true),
                )))
            },
            regexp_extract_all_impl,
            tz,
        ),
    ]
}

fn coerce_regexp_extract_all(args: &[DataType]) -> Result<Vec<DataType>> {
    super::args_between("regexp_extract_all", args, 2, 3)?;
    let mut out = vec![DataType::Utf8, DataType::Utf8];
    if args.len() == 3 {
        out.push(DataType::Int32);
    }
    Ok(out)
}

/// Spark's `regexp_extract_all(str, regexp[, idx])`: group `idx` (default 1; 0 is the
/// whole match) of every match, `""` for a group that did not take part; NULL input
/// gives NULL; an index past the groups is `INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX`.
fn regexp_extract_all_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    use datafusion::arrow::array::ListBuilder;
    let s = a[0].as_string::<i32>();
    let p = a[1].as_string::<i32>();
    let idx = a.get(2).map(|x| x.as_primitive::<Int32Type>());
    let mut b = ListBuilder::new(StringBuilder::new());
    let mut cache: Option<(String, regex::Regex)> = None;
    for i in 0..s.len() {
        if s.is_null(i) || p.is_null(i) || idx.is_some_and(|x| x.is_null(i)) {
            b.append_null();
            continue;
        }
        let g = idx.map(|x| x.value(i)).unwrap_or(1);
        let re = super::regex_for_group(&mut cache, p.value(i), g, "regexp_extract_all")?;
        for c in re.captures_iter(s.value(i)) {
            b.values()
                .append_value(c.get(g as usize).map(|m| m.as_str()).unwrap_or(""));
        }
        b.append(true);
    }
    Ok(Arc::new(b.finish()))
}

fn coerce_locate(args: &[DataType]) -> Result<Vec<DataType>> {
    super::args_between("locate", args, 2, 3)?;
    let mut out = vec![DataType::Utf8, DataType::Utf8];
    if args.len() == 3 {
        out.push(DataType::Int32);
    }
    Ok(out)
}

fn coerce_strings(args: &[DataType]) -> Result<Vec<DataType>> {
    super::args_between("mask", args, 1, 5)?;
    Ok(vec![DataType::Utf8; args.len()])
}

// ---- Murmur3 x86_32 as Spark's `Murmur3_x86_32` --------------------------------

fn mix_k1(k1: i32) -> i32 {
    let k1 = k1.wrapping_mul(0xcc9e2d51_u32 as i32);
    let k1 = k1.rotate_left(15);
    k1.wrapping_mul(0x1b873593)
}

fn mix_h1(h1: i32, k1: i32) -> i32 {
    let h1 = (h1 ^ k1).rotate_left(13);
    h1.wrapping_mul(5).wrapping_add(0xe6546b64_u32 as i32)
}

fn fmix(h1: i32, len: i32) -> i32 {
    let mut h = (h1 ^ len) as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85ebca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2ae35);
    h ^= h >> 16;
    h as i32
}

/// Spark's `Murmur3_x86_32.hashInt`.
pub fn murmur3_int(v: i32, seed: i32) -> i32 {
    fmix(mix_h1(seed, mix_k1(v)), 4)
}

/// Spark's `Murmur3_x86_32.hashLong`.
pub fn murmur3_long(v: i64, seed: i32) -> i32 {
    let h1 = mix_h1(seed, mix_k1(v as i32));
    let h1 = mix_h1(h1, mix_k1((v >> 32) as i32));
    fmix(h1, 8)
}

/// Spark's `Murmur3_x86_32.hashUnsafeBytes`: 4-byte little-endian words, then each
/// remaining byte (sign-extended) mixed as a word of its own.
pub fn murmur3_bytes(b: &[u8], seed: i32) -> i32 {
    let aligned = b.len() - b.len() % 4;
    let mut h1 = seed;
    for w in b[..aligned].chunks_exact(4) {
        h1 = mix_h1(h1, mix_k1(i32::from_le_bytes([w[0], w[1], w[2], w[3]])));
    }
    for &x in &b[aligned..] {
        h1 = mix_h1(h1, mix_k1(x as i8 as i32));
    }
    fmix(h1, b.len() as i32)
}

/// `hash(e1, e2, ...)`: each non-NULL value's hash seeds the next (first seed 42).
fn hash_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let rows = a.first().map(|x| x.len()).unwrap_or(1);
    let mut h = vec![42i32; rows];
    for col in a {
        hash_column(col, &mut h)?;
    }
    Ok(Arc::new(Int32Array::from(h)))
}

fn hash_column(col: &ArrayRef, h: &mut [i32]) -> Result<()> {
    macro_rules! each {
        ($arr:expr, $f:expr) => {{
            let arr = $arr;
            for (i, hv) in h.iter_mut().enumerate() {
                if arr.is_valid(i) {
                    *hv = $f(arr.value(i), *hv);
                }
            }
        }};
    }
    match col.data_type() {
        DataType::Null => {}
        DataType::Boolean => each!(col.as_boolean(), |v: bool, s| murmur3_int(v as i32, s)),
        DataType::Int8 => each!(col.as_primitive::<Int8Type>(), |v: i8, s| murmur3_int(
            v as i32, s
        )),
        DataType::Int16 => each!(col.as_primitive::<Int16Type>(), |v: i16, s| murmur3_int(
            v as i32, s
        )),
        DataType::Int32 => each!(col.as_primitive::<Int32Type>(), murmur3_int),
        DataType::Date32 => each!(col.as_primitive::<Date32Type>(), murmur3_int),
        DataType::Int64 => each!(col.as_primitive::<Int64Type>(), murmur3_long),
        DataType::Timestamp(_, _) => {
            let us = datafusion::arrow::compute::cast(
                col,
                &DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, None),
            )?;
            each!(us.as_primitive::<TimestampMicrosecondType>(), murmur3_long)
        }
        // Spark normalizes -0.0 to 0.0 before hashing floating point values.
        DataType::Float32 => each!(col.as_primitive::<Float32Type>(), |v: f32, s| {
            murmur3_int(if v == 0.0 { 0 } else { v.to_bits() as i32 }, s)
        }),
        DataType::Float64 => each!(col.as_primitive::<Float64Type>(), |v: f64, s| {
            murmur3_long(if v == 0.0 { 0 } else { v.to_bits() as i64 }, s)
        }),
        DataType::Utf8 => each!(col.as_string::<i32>(), |v: &str, s| murmur3_bytes(
            v.as_bytes(),
            s
        )),
        DataType::LargeUtf8 => each!(col.as_string::<i64>(), |v: &str, s| murmur3_bytes(
            v.as_bytes(),
            s
        )),
        DataType::Utf8View => each!(col.as_string_view(), |v: &str, s| murmur3_bytes(
            v.as_bytes(),
            s
        )),
        DataType::Binary => each!(col.as_binary::<i32>(), |v: &[u8], s| murmur3_bytes(v, s)),
        DataType::Decimal128(p, _) if *p <= 18 => each!(
            col.as_primitive::<datafusion::arrow::datatypes::Decimal128Type>(),
            |v: i128, s| murmur3_long(v as i64, s)
        ),
        DataType::Decimal128(_, _) => each!(
            col.as_primitive::<datafusion::arrow::datatypes::Decimal128Type>(),
            |v: i128, s| murmur3_bytes(&java_big_integer_bytes(v), s)
        ),
        DataType::List(_) => {
            let l = col.as_list::<i32>();
            for (i, hv) in h.iter_mut().enumerate() {
                if l.is_valid(i) {
                    let vals = l.value(i);
                    for k in 0..vals.len() {
                        let mut one = [*hv];
                        hash_column(&vals.slice(k, 1), &mut one)?;
                        *hv = one[0];
                    }
                }
            }
        }
        DataType::Struct(_) => {
            let s = col.as_struct();
            for (i, hv) in h.iter_mut().enumerate() {
                if s.is_valid(i) {
                    for c in s.columns() {
                        let mut one = [*hv];
                        hash_column(&c.slice(i, 1), &mut one)?;
                        *hv = one[0];
                    }
                }
            }
        }
        other => return exec_err!("[DATATYPE_MISMATCH] hash does not support {other}"),
    }
    Ok(())
}

/// Java's `BigInteger.toByteArray()`: minimal big-endian two's complement.
fn java_big_integer_bytes(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 15 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

/// `ember_like_escape(pattern, escape)`: a LIKE pattern written with the escape
/// character `escape` (Spark's `like(str, pattern, escapeChar)`) rewritten with `\`
/// as the escape, the only one DataFusion's LIKE takes: `escape` + `%` or `_` becomes
/// `\%` or `\_`, `escape` + any other char that char, a plain `\` becomes `\\`.
pub fn like_escape(pattern: &str, escape: char) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == escape {
            match chars.next() {
                Some(n @ ('%' | '_')) => {
                    out.push('\\');
                    out.push(n);
                }
                Some('\\') => out.push_str("\\\\"),
                Some(n) => out.push(n),
                None => {}
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

fn like_escape_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let p = a[0].as_string::<i32>();
    let e = a[1].as_string::<i32>();
    let mut b = StringBuilder::with_capacity(p.len(), 0);
    for i in 0..p.len() {
        if p.is_null(i) || e.is_null(i) {
            b.append_null();
            continue;
        }
        let mut esc = e.value(i).chars();
        match (esc.next(), esc.next()) {
            (Some(c), None) => b.append_value(like_escape(p.value(i), c)),
            _ => {
                return exec_err!(
                    "[INVALID_ESCAPE_CHAR] The escape character must be a string literal of length one, but got '{}'.",
                    e.value(i)
                )
            }
        }
    }
    Ok(Arc::new(b.finish()))
}

/// `locate(substr, str, pos)` as Spark's `StringLocate` (character positions).
fn locate_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let sub = a[0].as_string::<i32>();
    let s = a[1].as_string::<i32>();
    let pos = a.get(2).map(|p| p.as_primitive::<Int32Type>());
    let mut b = Int32Builder::with_capacity(s.len());
    for i in 0..s.len() {
        let p = match pos {
            Some(p) if p.is_null(i) => {
                b.append_null();
                continue;
            }
            Some(p) => p.value(i),
            None => 1,
        };
        if sub.is_null(i) || s.is_null(i) {
            b.append_null();
            continue;
        }
        if p < 1 {
            b.append_value(0);
            continue;
        }
        let hay = s.value(i);
        let start = hay.char_indices().nth((p - 1) as usize).map(|(o, _)| o);
        let found = start.and_then(|o| hay[o..].find(sub.value(i)).map(|f| o + f));
        b.append_value(match found {
            Some(byte) => hay[..byte].chars().count() as i32 + 1,
            None => 0,
        });
    }
    Ok(Arc::new(b.finish()))
}

/// `mask(str, upperChar='X', lowerChar='x', digitChar='n', otherChar=NULL)`: a NULL
/// replacement keeps those characters.
fn mask_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let s = a[0].as_string::<i32>();
    let repl = |k: usize, i: usize, default: Option<char>| -> Option<char> {
        match a.get(k) {
            None => default,
            Some(arr) => {
                let arr = arr.as_string::<i32>();
                if arr.is_null(i) {
                    None
                } else {
                    arr.value(i).chars().next()
                }
            }
        }
    };
    let mut b = StringBuilder::new();
    for i in 0..s.len() {
        if s.is_null(i) {
            b.append_null();
            continue;
        }
        let (u, l, d, o) = (
            repl(1, i, Some('X')),
            repl(2, i, Some('x')),
            repl(3, i, Some('n')),
            repl(4, i, None),
        );
        let out: String = s
            .value(i)
            .chars()
            .map(|c| {
                let r = if c.is_uppercase() {
                    u
                } else if c.is_lowercase() {
                    l
                } else if c.is_ascii_digit() {
                    d
                } else {
                    o
                };
                r.unwrap_or(c)
            })
            .collect();
        b.append_value(out);
    }
    Ok(Arc::new(b.finish()))
}

fn date_names(a: &ArrayRef, tz: &Tz, f: impl Fn(NaiveDate) -> String) -> Result<ArrayRef> {
    let days = local_dates(a, tz)?;
    let mut b = StringBuilder::new();
    for d in days.iter() {
        match d.and_then(|d| NaiveDate::from_num_days_from_ce_opt(d + 719_163)) {
            Some(date) => b.append_value(f(date)),
            None => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

fn monthname_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    date_names(&a[0], tz, |d| d.format("%b").to_string())
}

fn dayname_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    date_names(&a[0], tz, |d| d.weekday().to_string())
}

fn json_array_length_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let s = a[0].as_string::<i32>();
    Ok(Arc::new(
        s.iter()
            .map(|v| {
                v.and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
                    .and_then(|j| j.as_array().map(|a| a.len() as i32))
            })
            .collect::<Int32Array>(),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_with_another_escape_character() {
        assert_eq!(
            super::like_escape("/%SystemDrive/%//Users%", '/'),
            "\\%SystemDrive\\%/Users%"
        );
        assert_eq!(super::like_escape("a\\b#_", '#'), "a\\\\b\\_");
    }

    use super::*;

    #[test]
    fn murmur3_matches_spark() {
        // Spark: SELECT hash('ABC') = -757602832, hash('ABC', 'DEF') = 599895104.
        let abc = murmur3_bytes(b"ABC", 42);
        assert_eq!(abc, -757602832);
        assert_eq!(murmur3_bytes(b"DEF", abc), 599895104);
    }

    #[test]
    fn locate_and_mask() {
        let strs = |v: Vec<Option<&str>>| -> ArrayRef {
            Arc::new(datafusion::arrow::array::StringArray::from(v))
        };
        let tz = chrono_tz::UTC;
        let out = locate_impl(
            &[
                strs(vec![Some("b"), Some("b"), Some("é"), None]),
                strs(vec![Some("abcd"), Some("abcd"), Some("aébé"), Some("x")]),
                Arc::new(Int32Array::from(vec![1, 3, 3, 1])),
            ],
            &tz,
        )
        .unwrap();
        let out = out.as_primitive::<Int32Type>();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some(2), Some(0), Some(4), None]
        );
        let m = mask_impl(&[strs(vec![Some("AbCD123-@$#")])], &tz).unwrap();
        assert_eq!(m.as_string::<i32>().value(0), "XxXXnnn-@$#");
    }
}

/// `raise_error(message)`: fails the query with Spark's `USER_RAISED_EXCEPTION` and
/// the message (a NULL message raises "null"); its type is `void`.
fn raise_error_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let msg = datafusion::arrow::compute::cast(&a[0], &DataType::Utf8)?;
    let m = msg.as_string::<i32>();
    if !m.is_empty() {
        let text = if m.is_null(0) { "null" } else { m.value(0) };
        return exec_err!("[USER_RAISED_EXCEPTION] {text} SQLSTATE: P0001");
    }
    Ok(datafusion::arrow::array::new_null_array(&DataType::Null, 0))
}

/// `assert_true(condition, message)`: NULL where the condition is true, else fails as
/// `raise_error(message)` (Spark's `If(cond, null, raise_error(msg))`). The one-argument
/// form gets Spark's message `'<condition>' is not true!` from the analyzer rule.
fn assert_true_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    let c = a[0].as_boolean();
    for i in 0..c.len() {
        if c.is_null(i) || !c.value(i) {
            let msg = a.get(1).map(|m| m.slice(i, 1));
            return match msg {
                Some(m) => raise_error_impl(&[m], tz),
                None => exec_err!("[USER_RAISED_EXCEPTION] assertion failed SQLSTATE: P0001"),
            };
        }
    }
    Ok(datafusion::arrow::array::new_null_array(
        &DataType::Null,
        c.len(),
    ))
}

/// `raise_error` and `assert_true`.
pub fn error_functions(tz: &str) -> Vec<datafusion::logical_expr::ScalarUDF> {
    vec![
        udf_coerced(
            "raise_error",
            |t| {
                super::args_between("raise_error", t, 1, 1)?;
                Ok(vec![DataType::Utf8])
            },
            |_| Ok(DataType::Null),
            raise_error_impl,
            tz,
        ),
        udf_coerced(
            "assert_true",
            |t| {
                super::args_between("assert_true", t, 1, 2)?;
                let mut v = vec![DataType::Boolean];
                if t.len() == 2 {
                    v.push(DataType::Utf8);
                }
                Ok(v)
            },
            |_| Ok(DataType::Null),
            assert_true_impl,
            tz,
        ),
    ]
}
