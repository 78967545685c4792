//! Spark's `encode(str, charset)` and `decode(bin, charset)` (the charsets Spark's
//! `encode`/`decode` accept: `US-ASCII`, `ISO-8859-1`, `UTF-8`, `UTF-16BE`, `UTF-16LE`,
//! `UTF-16` (big-endian with a byte-order mark), `UTF-32`), and `decode(expr, search,
//! result, ..., [default])`, Spark's `CASE` shorthand (NULL matches NULL).
//!
//! Errors: `INVALID_PARAMETER_VALUE.CHARSET` for another charset; with
//! `spark.sql.legacy.codingErrorAction` off (Spark's default) a character the charset
//! cannot hold fails with `MALFORMED_CHARACTER_CODING`.

use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::{Expr, ScalarUDF};

use super::udf_coerced;

fn charset(name: &str, func: &str) -> Result<&'static str> {
    Ok(match name.to_ascii_uppercase().replace('_', "-").as_str() {
        "UTF-8" | "UTF8" => "UTF-8",
        "US-ASCII" | "ASCII" => "US-ASCII",
        "ISO-8859-1" | "LATIN1" => "ISO-8859-1",
        "UTF-16BE" => "UTF-16BE",
        "UTF-16LE" => "UTF-16LE",
        "UTF-16" => "UTF-16",
        "UTF-32" => "UTF-32",
        _ => {
            return exec_err!(
                "[INVALID_PARAMETER_VALUE.CHARSET] The value of parameter(s) `charset` in `{func}` is invalid: expects one of the charsets 'us-ascii', 'iso-8859-1', 'utf-8', 'utf-16be', 'utf-16le', 'utf-16', 'utf-32', but got {name}."
            )
        }
    })
}

fn malformed(cs: &str) -> datafusion::common::DataFusionError {
    datafusion::common::DataFusionError::Execution(format!(
        "[MALFORMED_CHARACTER_CODING] Invalid value found when performing `encode` with `{cs}`"
    ))
}

fn encode_one(s: &str, cs: &str) -> Result<Vec<u8>> {
    Ok(match cs {
        "UTF-8" => s.as_bytes().to_vec(),
        "US-ASCII" | "ISO-8859-1" => {
            let max = if cs == "US-ASCII" { 0x7F } else { 0xFF };
            s.chars()
                .map(|c| u8::try_from(c as u32).ok().filter(|b| *b as u32 <= max))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| malformed(cs))?
        }
        "UTF-16BE" => s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect(),
        "UTF-16LE" => s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect(),
        "UTF-16" => [0xFE, 0xFF]
            .into_iter()
            .chain(s.encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect(),
        _ => s.chars().flat_map(|c| (c as u32).to_be_bytes()).collect(),
    })
}

fn decode_one(b: &[u8], cs: &str) -> Result<String> {
    let utf16 = |units: Vec<u16>| String::from_utf16(&units).map_err(|_| malformed(cs));
    Ok(match cs {
        "UTF-8" => String::from_utf8_lossy(b).into_owned(),
        "US-ASCII" => b
            .iter()
            .map(|x| if *x < 0x80 { *x as char } else { '\u{FFFD}' })
            .collect(),
        "ISO-8859-1" => b.iter().map(|x| *x as char).collect(),
        "UTF-16BE" => utf16(
            b.chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect(),
        )?,
        "UTF-16LE" => utf16(
            b.chunks(2)
                .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect(),
        )?,
        "UTF-16" => {
            let (le, body) = match b {
                [0xFF, 0xFE, rest @ ..] => (true, rest),
                [0xFE, 0xFF, rest @ ..] => (false, rest),
                _ => (false, b),
            };
            utf16(
                body.chunks(2)
                    .map(|c| {
                        let pair = [c[0], *c.get(1).unwrap_or(&0)];
                        if le {
                            u16::from_le_bytes(pair)
                        } else {
                            u16::from_be_bytes(pair)
                        }
                    })
                    .collect(),
            )?
        }
        _ => b
            .chunks(4)
            .map(|c| {
                let mut w = [0u8; 4];
                w[..c.len()].copy_from_slice(c);
                char::from_u32(u32::from_be_bytes(w)).unwrap_or('\u{FFFD}')
            })
            .collect(),
    })
}

fn encode_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let (s, cs) = (a[0].as_string::<i32>(), a[1].as_string::<i32>());
    let mut out = BinaryBuilder::new();
    for i in 0..s.len() {
        if s.is_null(i) || cs.is_null(i) {
            out.append_null();
        } else {
            out.append_value(encode_one(s.value(i), charset(cs.value(i), "encode")?)?);
        }
    }
    Ok(Arc::new(out.finish()))
}

fn decode_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let b = cast(&a[0], &DataType::Binary)?;
    let (b, cs) = (b.as_binary::<i32>(), a[1].as_string::<i32>());
    let mut out = StringBuilder::new();
    for i in 0..b.len() {
        if b.is_null(i) || cs.is_null(i) {
            out.append_null();
        } else {
            out.append_value(decode_one(b.value(i), charset(cs.value(i), "decode")?)?);
        }
    }
    Ok(Arc::new(out.finish()))
}

fn coerce_pair(first: DataType) -> impl Fn(&[DataType]) -> Result<Vec<DataType>> {
    move |args| {
        if args.len() != 2 {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The function requires 2 parameters but the actual number is {}.",
                args.len()
            );
        }
        Ok(vec![first.clone(), DataType::Utf8])
    }
}

/// `encode` and the charset form of `decode` (as `ember_charset_decode`, which
/// [`decode_rewrite`] calls).
pub(super) fn functions(tz: &str) -> Vec<ScalarUDF> {
    vec![
        udf_coerced(
            "encode",
            |a| coerce_pair(DataType::Utf8)(a),
            |_| Ok(DataType::Binary),
            encode_impl,
            tz,
        ),
        udf_coerced(
            "ember_charset_decode",
            |a| coerce_pair(DataType::Binary)(a),
            |_| Ok(DataType::Utf8),
            decode_impl,
            tz,
        ),
    ]
}

/// `decode(bin, charset)` or `decode(expr, search1, result1, ..., [default])`.
pub(super) fn decode_rewrite(
    args: Vec<Expr>,
    fields: &[datafusion::arrow::datatypes::FieldRef],
) -> Result<Expr> {
    if args.len() == 2 {
        let f = super::udf_coerced(
            "ember_charset_decode",
            |a| coerce_pair(DataType::Binary)(a),
            |_| Ok(DataType::Utf8),
            decode_impl,
            "UTC",
        );
        let bin = Expr::Cast(datafusion::logical_expr::Cast::new(
            Box::new(args[0].clone()),
            DataType::Binary,
        ));
        let cs = Expr::Cast(datafusion::logical_expr::Cast::new(
            Box::new(args[1].clone()),
            DataType::Utf8,
        ));
        return Ok(Arc::new(f).call(vec![bin, cs]));
    }
    if args.len() < 3 {
        return plan_err!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `decode` requires at least 2 parameters but the actual number is {}.",
            args.len()
        );
    }
    use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
    let mut key_type = fields[0].data_type().clone();
    for f in fields.iter().skip(1).step_by(2).take((args.len() - 1) / 2) {
        key_type = comparison_coercion(&key_type, f.data_type()).unwrap_or(DataType::Utf8);
    }
    let results: Vec<&DataType> = fields
        .iter()
        .skip(2)
        .step_by(2)
        .map(|f| f.data_type())
        .chain((args.len() % 2 == 0).then(|| fields[args.len() - 1].data_type()))
        .collect();
    let mut result_type = DataType::Null;
    for t in results {
        result_type = if result_type == DataType::Null {
            t.clone()
        } else if t == &DataType::Null {
            result_type
        } else {
            comparison_coercion(&result_type, t).unwrap_or(DataType::Utf8)
        };
    }
    let c = |e: &Expr, t: &DataType| {
        Expr::Cast(datafusion::logical_expr::Cast::new(
            Box::new(e.clone()),
            t.clone(),
        ))
    };
    let key = c(&args[0], &key_type);
    let mut whens = Vec::new();
    let mut i = 1;
    while i + 1 < args.len() {
        let cond = Expr::BinaryExpr(datafusion::logical_expr::BinaryExpr::new(
            Box::new(key.clone()),
            datafusion::logical_expr::Operator::IsNotDistinctFrom,
            Box::new(c(&args[i], &key_type)),
        ));
        whens.push((Box::new(cond), Box::new(c(&args[i + 1], &result_type))));
        i += 2;
    }
    let otherwise = (args.len() % 2 == 0).then(|| Box::new(c(&args[args.len() - 1], &result_type)));
    Ok(Expr::Case(datafusion::logical_expr::expr::Case::new(
        None, whens, otherwise,
    )))
}
