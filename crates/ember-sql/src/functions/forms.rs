//! Spark functions that are DataFusion functions in another form (argument order,
//! defaults, NULL and "not found" conventions), defined once for both front doors:
//!
//! - `regexp_substr(s, p)`: the first match of `p`, NULL when none.
//! - `regexp_replace(s, p, r[, pos])`: every match replaced, searching from the
//!   1-based `pos` (a constant) on.
//! - `levenshtein(a, b[, threshold])`: `-1` when the distance exceeds `threshold`.
//! - `replace(s, search[, replacement])`: the replacement defaults to `''`.
//! - `position`/`locate(substr, s[, pos])`: 1-based, 0 when not found.
//! - `startswith`/`endswith` of two binaries (a byte prefix/suffix).
//! - `array_append(a, x)`, `array_prepend(a, x)` (Spark's order: array first): NULL
//!   for a NULL array; `array_position(a, x)`: `bigint`, 0 when absent;
//!   `array_remove(a, x)`: every occurrence; `reverse` of an array.
//! - `current_database()`/`current_schema()` (`default`), `current_catalog()`
//!   (`spark_catalog`).
//! - `to_binary(s[, fmt])` / `try_to_binary`: `hex` (default), `utf-8`, `base64`.
//! - `ltrim(trimStr, s)`, `rtrim(trimStr, s)`, `trim(trimStr, s)`: Spark's argument
//!   order (the SQL forms `TRIM(LEADING t FROM s)` are rewritten to these).
//!
//! The scalar forms are [`SparkRewrite`]s (see `rewrite`).

use std::sync::Arc;

use base64::Engine;
use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::functions::expr_fn as f;
use datafusion::functions_nested::expr_fn as nested;
use datafusion::logical_expr::{when, Expr, ScalarUDF};

use super::rewrite::SparkRewrite;

fn lit_str(s: &str) -> Expr {
    Expr::Literal(ScalarValue::Utf8(Some(s.to_string())), None)
}

fn lit_i64(v: i64) -> Expr {
    Expr::Literal(ScalarValue::Int64(Some(v)), None)
}

fn cast(e: Expr, t: DataType) -> Expr {
    Expr::Cast(datafusion::logical_expr::expr::Cast::new(Box::new(e), t))
}

/// The integer value of a constant argument (after Spark's literal narrowing it may
/// be any integer type or a cast of one).
pub(crate) fn int_constant(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(v, _) => match v {
            ScalarValue::Int8(Some(x)) => Some(*x as i64),
            ScalarValue::Int16(Some(x)) => Some(*x as i64),
            ScalarValue::Int32(Some(x)) => Some(*x as i64),
            ScalarValue::Int64(Some(x)) => Some(*x),
            _ => None,
        },
        Expr::Cast(c) => int_constant(&c.expr),
        Expr::Negative(x) => int_constant(x).map(|v| -v),
        _ => None,
    }
}

fn is_binary(f: &FieldRef) -> bool {
    matches!(
        f.data_type(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
    )
}

fn is_list(f: &FieldRef) -> bool {
    matches!(
        f.data_type(),
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)
    )
}

/// DataFusion's array functions promise their input's list type but build lists
/// with an `item` field: a list argument is given to them as `list<item>` and the
/// result is cast back to `t` (the Spark-side type, whatever its field name).
fn item_list(e: Expr, t: &DataType) -> Expr {
    match t {
        DataType::List(f) if f.name() != "item" => cast(
            e,
            DataType::List(Arc::new(f.as_ref().clone().with_name("item"))),
        ),
        _ => e,
    }
}

/// An untyped NULL element as the element type of list type `t`.
fn element_of(x: Expr, t: &DataType, field: &FieldRef) -> Expr {
    match (t, field.data_type()) {
        (DataType::List(f), DataType::Null) => cast(x, f.data_type().clone()),
        _ => x,
    }
}

fn back_to(e: Expr, t: &DataType) -> Expr {
    match t {
        DataType::List(f) if f.name() != "item" => cast(e, t.clone()),
        _ => e,
    }
}

/// `args` as exactly `N` expressions (the arity was checked by the rewrite's bounds).
fn take<const N: usize>(args: Vec<Expr>) -> Result<[Expr; N]> {
    let n = args.len();
    match <[Expr; N]>::try_from(args) {
        Ok(a) => Ok(a),
        Err(_) => plan_err!("expected {N} arguments, got {n}"),
    }
}

/// `startswith`/`endswith`: strings as DataFusion's; two binaries compare bytes
/// (a byte prefix is exactly a prefix of the hex text, two digits per byte).
fn prefix_form(args: Vec<Expr>, fields: &[FieldRef], suffix: bool) -> Result<Expr> {
    let [a, b] = take::<2>(args)?;
    let (a, b) = if fields.iter().all(is_binary) {
        (f::encode(a, lit_str("hex")), f::encode(b, lit_str("hex")))
    } else {
        (cast(a, DataType::Utf8), cast(b, DataType::Utf8))
    };
    Ok(if suffix {
        f::ends_with(a, b)
    } else {
        f::starts_with(a, b)
    })
}

/// `trim(s)` or Spark's `trim(chars, s)` as DataFusion's `trim(s[, chars])`.
fn trim_form(mut args: Vec<Expr>, trim: fn(Vec<Expr>) -> Expr) -> Expr {
    args.reverse();
    trim(args)
}

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    let mut v = vec![
        SparkRewrite::udf("regexp_substr", 2, 2, |args, _| {
            let [s, p] = take::<2>(args)?;
            let whole = f::concat(vec![lit_str("("), p, lit_str(")")]);
            Ok(nested::array_element(
                f::regexp_match(s, whole, None),
                lit_i64(1),
            ))
        }),
        SparkRewrite::udf("regexp_replace", 3, 4, |args, _| {
            let pos = match args.get(3) {
                None => 1,
                Some(p) => match int_constant(p) {
                    Some(n) => n,
                    None => {
                        return plan_err!(
                            "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] The `position` argument of `regexp_replace` must be a constant integer."
                        )
                    }
                },
            };
            if pos < 1 {
                return plan_err!(
                    "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] The `position` argument of `regexp_replace` must be positive, got {pos}."
                );
            }
            let mut it = args.into_iter();
            let (s, p, r) = match (it.next(), it.next(), it.next()) {
                (Some(s), Some(p), Some(r)) => (s, p, r),
                _ => return plan_err!("regexp_replace takes 3 or 4 arguments"),
            };
            let all = |x: Expr| f::regexp_replace(x, p.clone(), r.clone(), Some(lit_str("g")));
            if pos == 1 {
                return Ok(all(s));
            }
            // Matches are searched from `pos` on; the part before is kept as is.
            let head = f::left(s.clone(), lit_i64(pos - 1));
            let tail = f::substr(s, lit_i64(pos));
            Ok(f::concat(vec![head, all(tail)]))
        }),
        SparkRewrite::udf("levenshtein", 2, 3, |args, _| {
            let mut it = args.into_iter();
            let (a, b, limit) = (it.next(), it.next(), it.next());
            let (Some(a), Some(b)) = (a, b) else {
                return plan_err!("levenshtein takes 2 or 3 arguments");
            };
            let d = f::levenshtein(a, b);
            Ok(match limit {
                None => d,
                Some(k) => when(
                    d.clone().gt(cast(k, DataType::Int32)),
                    cast(lit_i64(-1), DataType::Int32),
                )
                .otherwise(d)?,
            })
        }),
        SparkRewrite::udf("replace", 2, 3, |args, _| {
            let mut it = args.into_iter();
            match (it.next(), it.next(), it.next()) {
                (Some(s), Some(from), to) => Ok(f::replace(s, from, to.unwrap_or(lit_str("")))),
                _ => plan_err!("replace takes 2 or 3 arguments"),
            }
        }),
        SparkRewrite::udf("startswith", 2, 2, |a, fs| prefix_form(a, fs, false)),
        SparkRewrite::udf("starts_with", 2, 2, |a, fs| prefix_form(a, fs, false)),
        SparkRewrite::udf("endswith", 2, 2, |a, fs| prefix_form(a, fs, true)),
        SparkRewrite::udf("ends_with", 2, 2, |a, fs| prefix_form(a, fs, true)),
        SparkRewrite::udf("array_append", 2, 2, |args, fields| {
            let [a, x] = take::<2>(args)?;
            let t = fields[0].data_type();
            let x = element_of(x, t, &fields[1]);
            let appended = nested::array_append(item_list(a.clone(), t), x);
            Ok(when(a.is_not_null(), back_to(appended, t)).end()?)
        }),
        SparkRewrite::udf("array_prepend", 2, 2, |args, fields| {
            let [a, x] = take::<2>(args)?;
            let t = fields[0].data_type();
            let x = element_of(x, t, &fields[1]);
            let prepended = nested::array_prepend(x, item_list(a.clone(), t));
            Ok(when(a.is_not_null(), back_to(prepended, t)).end()?)
        }),
        SparkRewrite::udf("array_position", 2, 2, |args, _| {
            let [a, x] = take::<2>(args)?;
            let p = cast(
                nested::array_position(a.clone(), x, lit_i64(1)),
                DataType::Int64,
            );
            Ok(when(a.is_not_null(), f::coalesce(vec![p, lit_i64(0)])).end()?)
        }),
        SparkRewrite::udf("array_remove", 2, 2, |args, fields| {
            let [a, x] = take::<2>(args)?;
            let t = fields[0].data_type();
            Ok(back_to(nested::array_remove_all(item_list(a, t), x), t))
        }),
        SparkRewrite::udf("reverse", 1, 1, |args, fields| {
            let [x] = take::<1>(args)?;
            Ok(if fields.first().is_some_and(is_list) {
                let t = fields[0].data_type();
                back_to(nested::array_reverse(item_list(x, t)), t)
            } else {
                f::reverse(cast(x, DataType::Utf8))
            })
        }),
        // Spark's `ltrim(trimStr, str)` / `rtrim` / `trim`: the characters to trim first.
        SparkRewrite::udf("ltrim", 1, 2, |args, _| Ok(trim_form(args, f::ltrim))),
        SparkRewrite::udf("rtrim", 1, 2, |args, _| Ok(trim_form(args, f::rtrim))),
        SparkRewrite::udf("trim", 1, 2, |args, _| Ok(trim_form(args, f::btrim))),
        // Spark's regexp_count / regexp_instr are `int`.
        SparkRewrite::udf("regexp_count", 2, 2, |args, _| {
            let [s, p] = take::<2>(args)?;
            let n = datafusion::functions::regex::regexp_count()
                .call(vec![cast(s, DataType::Utf8), cast(p, DataType::Utf8)]);
            Ok(cast(n, DataType::Int32))
        }),
        SparkRewrite::udf("regexp_instr", 2, 3, |args, _| {
            let mut it = args.into_iter();
            let (Some(s), Some(p)) = (it.next(), it.next()) else {
                return plan_err!("regexp_instr takes 2 or 3 arguments");
            };
            let group = it.next().unwrap_or(lit_i64(0));
            let at = datafusion::functions::regex::regexp_instr().call(vec![
                cast(s, DataType::Utf8),
                cast(p, DataType::Utf8),
                lit_i64(1),
                lit_i64(1),
                lit_str(""),
                cast(group, DataType::Int64),
            ]);
            Ok(cast(at, DataType::Int32))
        }),
        SparkRewrite::udf("current_database", 0, 0, |_, _| Ok(lit_str("default"))),
        SparkRewrite::udf("current_schema", 0, 0, |_, _| Ok(lit_str("default"))),
        SparkRewrite::udf("current_catalog", 0, 0, |_, _| Ok(lit_str("spark_catalog"))),
    ];
    for (name, try_) in [("to_binary", false), ("try_to_binary", true)] {
        v.push(super::udf_coerced(
            name,
            |args| {
                super::args_between("to_binary", args, 1, 2)?;
                Ok(vec![DataType::Utf8; args.len()])
            },
            |_| Ok(DataType::Binary),
            if try_ {
                try_to_binary_impl
            } else {
                to_binary_impl
            },
            "UTC",
        ));
    }
    v
}

fn to_binary_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    binary_of(a, false)
}

fn try_to_binary_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    binary_of(a, true)
}

/// Spark's `ToBinary`: the bytes `s` spells in `fmt` (`hex`, `utf-8`/`utf8`,
/// `base64`, any case). Hex of odd length has an implicit leading `0`. Invalid input
/// is `CONVERSION_INVALID_INPUT` and an unknown format
/// `INVALID_PARAMETER_VALUE.BINARY_FORMAT` (both NULL for `try_to_binary`).
fn binary_of(a: &[ArrayRef], try_: bool) -> Result<ArrayRef> {
    let s = a[0].as_string::<i32>();
    let fmt = a.get(1).map(|f| f.as_string::<i32>());
    let mut out = BinaryBuilder::with_capacity(s.len(), 0);
    for i in 0..s.len() {
        let format = match fmt {
            Some(f) if f.is_null(i) => {
                out.append_null();
                continue;
            }
            Some(f) => f.value(i).to_ascii_lowercase(),
            None => "hex".to_string(),
        };
        if s.is_null(i) {
            out.append_null();
            continue;
        }
        let text = s.value(i);
        let bytes = match format.as_str() {
            "hex" => hex_bytes(text),
            "utf-8" | "utf8" => Some(text.as_bytes().to_vec()),
            "base64" => base64::engine::general_purpose::STANDARD
                .decode(text.trim_end_matches('\n'))
                .ok(),
            _ if try_ => None,
            other => {
                return exec_err!(
                    "[INVALID_PARAMETER_VALUE.BINARY_FORMAT] The value of parameter(s) `format` in `to_binary` is invalid: expects one of the binary formats 'base64', 'hex', 'utf-8', but got '{other}'. SQLSTATE: 22023"
                )
            }
        };
        match bytes {
            Some(b) => out.append_value(b),
            None if try_ => out.append_null(),
            None => {
                return exec_err!(
                    "[CONVERSION_INVALID_INPUT] The value '{text}' (STRING) cannot be converted to BINARY because it is malformed. Correct the value as per the syntax, or change its format. Use 'try_to_binary' to tolerate malformed input and return NULL instead. SQLSTATE: 22018"
                )
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text
        .chars()
        .map(|c| c.to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(digits.len() / 2 + 1);
    let mut rest = digits.as_slice();
    if digits.len() % 2 == 1 {
        out.push(digits[0]);
        rest = &digits[1..];
    }
    for pair in rest.chunks(2) {
        out.push(pair[0] << 4 | pair[1]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_with_odd_length_and_bad_digits() {
        assert_eq!(hex_bytes("6162"), Some(vec![0x61, 0x62]));
        assert_eq!(hex_bytes("abc"), Some(vec![0x0a, 0xbc]));
        assert_eq!(hex_bytes("zz"), None);
        assert_eq!(hex_bytes(""), Some(vec![]));
    }

    #[test]
    fn constants_through_casts() {
        assert_eq!(int_constant(&cast(lit_i64(4), DataType::Int32)), Some(4));
        assert_eq!(int_constant(&lit_str("4")), None);
    }
}
