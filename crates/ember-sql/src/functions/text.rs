//! More of Spark's string functions:
//!
//! - `instr(str, substr[, pos[, occurrence]])`: the 1-based position of the
//!   `occurrence`-th match of `substr` searching from character `pos` (negative:
//!   backwards from that many characters before the end); 0 when there is none.
//! - `to_base32(str|binary)` / `from_base32(str)`: RFC 4648 base32 with padding.
//! - `hmac(key, message[, algorithm])`: HMAC with `SHA-224`, `SHA-256` (default),
//!   `SHA-384` or `SHA-512`; `INVALID_PARAMETER_VALUE.HMAC_ALGORITHM` otherwise.
//! - `sentences(str[, lang[, country]])`: the words of each sentence, as Spark's
//!   `BreakIterator` splits them (sentences end at `.`, `!`, `?`; words are runs of
//!   letters, digits, inner apostrophes and decimal points).
//! - `convert_timezone([sourceTz, ]targetTz, ts)`: the wall-clock `timestamp_ntz` `ts`
//!   read in `sourceTz` (default: the session time zone), shown in `targetTz`.

use std::sync::Arc;

use chrono::TimeZone;
use chrono_tz::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, Int32Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Int32Type, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::ScalarUDF;

use super::{args_between, udf_coerced};

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 of `b`, padded with `=`.
pub fn base32_encode(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(5) * 8);
    for chunk in b.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let v = buf.iter().fold(0u64, |acc, x| acc << 8 | *x as u64);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(B32[((v >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes of RFC 4648 base32 text (padding optional, case-insensitive); `None`
/// for other characters.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut acc, mut bits) = (0u64, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = B32.iter().position(|x| *x == c.to_ascii_uppercase())? as u64;
        acc = acc << 5 | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn hmac_with<D: sha2::Digest + sha2::digest::core_api::BlockSizeUser>(
    key: &[u8],
    msg: &[u8],
) -> Vec<u8> {
    let block = D::block_size();
    let mut k = if key.len() > block {
        D::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(block, 0);
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let mut inner = D::new();
    inner.update(&ipad);
    inner.update(msg);
    let ih = inner.finalize();
    let mut outer = D::new();
    outer.update(&opad);
    outer.update(ih);
    outer.finalize().to_vec()
}

/// HMAC of `msg` under `key` with Spark's algorithm name; `None` for an unknown one.
pub fn hmac(algorithm: &str, key: &[u8], msg: &[u8]) -> Option<Vec<u8>> {
    Some(
        match algorithm.to_ascii_uppercase().replace('-', "").as_str() {
            "SHA224" => hmac_with::<sha2::Sha224>(key, msg),
            "SHA256" => hmac_with::<sha2::Sha256>(key, msg),
            "SHA384" => hmac_with::<sha2::Sha384>(key, msg),
            "SHA512" => hmac_with::<sha2::Sha512>(key, msg),
            _ => return None,
        },
    )
}

/// Spark's `instr` with a start and an occurrence (see the module docs).
pub fn instr(s: &str, sub: &str, pos: i64, occurrence: i64) -> i32 {
    let chars: Vec<char> = s.chars().collect();
    let needle: Vec<char> = sub.chars().collect();
    let n = chars.len() as i64;
    let matches_at =
        |i: usize| i + needle.len() <= chars.len() && chars[i..i + needle.len()] == needle[..];
    if occurrence < 1 || pos == 0 {
        return 0;
    }
    let mut left = occurrence;
    if pos > 0 {
        let mut i = (pos - 1) as usize;
        while (i as i64) < n || (needle.is_empty() && i as i64 == n) {
            if matches_at(i) {
                left -= 1;
                if left == 0 {
                    return i as i32 + 1;
                }
            }
            i += 1;
        }
    } else {
        let mut i = n + pos;
        while i >= 0 {
            if matches_at(i as usize) {
                left -= 1;
                if left == 0 {
                    return i as i32 + 1;
                }
            }
            i -= 1;
        }
    }
    0
}

/// The sentences of `s` and their words (see the module docs).
pub fn sentences(s: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut sentence: Vec<String> = Vec::new();
    let mut word = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let inner_apostrophe =
            c == '\'' && !word.is_empty() && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        let inner_number_sep = matches!(c, '.' | ',')
            && word.chars().last().is_some_and(|p| p.is_ascii_digit())
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if c.is_alphanumeric() || inner_apostrophe || inner_number_sep {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            sentence.push(std::mem::take(&mut word));
        }
        let ends =
            matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if ends && !sentence.is_empty() {
            out.push(std::mem::take(&mut sentence));
        }
    }
    if !word.is_empty() {
        sentence.push(word);
    }
    if !sentence.is_empty() {
        out.push(sentence);
    }
    out
}

fn instr_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let (s, sub) = (a[0].as_string::<i32>(), a[1].as_string::<i32>());
    let pos = a.get(2).map(|p| p.as_primitive::<Int32Type>());
    let occ = a.get(3).map(|p| p.as_primitive::<Int32Type>());
    let mut out = Int32Builder::with_capacity(s.len());
    for i in 0..s.len() {
        if a.iter().any(|x| x.is_null(i)) {
            out.append_null();
            continue;
        }
        let p = pos.map(|p| p.value(i) as i64).unwrap_or(1);
        let o = occ.map(|o| o.value(i) as i64).unwrap_or(1);
        out.append_value(instr(s.value(i), sub.value(i), p, o));
    }
    Ok(Arc::new(out.finish()))
}

fn to_base32_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let b = a[0].as_binary::<i32>();
    let mut out = StringBuilder::new();
    for v in b.iter() {
        out.append_option(v.map(base32_encode));
    }
    Ok(Arc::new(out.finish()))
}

fn from_base32_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let s = a[0].as_string::<i32>();
    let mut out = BinaryBuilder::new();
    for v in s.iter() {
        match v {
            None => out.append_null(),
            Some(t) => match base32_decode(t) {
                Some(b) => out.append_value(b),
                None => {
                    return exec_err!(
                        "[CONVERSION_INVALID_INPUT] The value '{t}' (STRING) cannot be converted to BINARY because it is malformed. SQLSTATE: 22018"
                    )
                }
            },
        }
    }
    Ok(Arc::new(out.finish()))
}

fn hmac_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let (k, m) = (a[0].as_binary::<i32>(), a[1].as_binary::<i32>());
    let alg = a.get(2).map(|x| x.as_string::<i32>());
    let mut out = BinaryBuilder::new();
    for i in 0..k.len() {
        if a.iter().any(|x| x.is_null(i)) {
            out.append_null();
            continue;
        }
        let name = alg.map(|x| x.value(i)).unwrap_or("SHA-256");
        match hmac(name, k.value(i), m.value(i)) {
            Some(h) => out.append_value(h),
            None => {
                return exec_err!(
                    "[INVALID_PARAMETER_VALUE.HMAC_ALGORITHM] The value of parameter(s) `algorithm` in `hmac` is invalid: expects one of 'SHA-224', 'SHA-256', 'SHA-384', 'SHA-512', but got '{name}'. SQLSTATE: 22023"
                )
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

fn sentences_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let s = a[0].as_string::<i32>();
    let mut out = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
    for v in s.iter() {
        match v {
            None => out.append(false),
            Some(t) => {
                for sentence in sentences(t) {
                    for w in sentence {
                        out.values().values().append_value(w);
                    }
                    out.values().append(true);
                }
                out.append(true);
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

fn zone(name: &str) -> Result<Tz> {
    match name.parse::<Tz>() {
        Ok(z) => Ok(z),
        Err(_) => exec_err!(
            "[INVALID_TIMEZONE] The timezone: {name} is invalid. The timezone must be either a region-based zone ID or a zone offset. SQLSTATE: 22009"
        ),
    }
}

fn convert_timezone_impl(a: &[ArrayRef], session: &Tz) -> Result<ArrayRef> {
    let (src, dst, ts) = match a {
        [dst, ts] => (None, dst.as_string::<i32>(), ts),
        [src, dst, ts] => (Some(src.as_string::<i32>()), dst.as_string::<i32>(), ts),
        _ => return exec_err!("convert_timezone takes 2 or 3 arguments"),
    };
    let ts = ts.as_primitive::<TimestampMicrosecondType>();
    let mut out = TimestampMicrosecondBuilder::with_capacity(ts.len());
    for i in 0..ts.len() {
        if ts.is_null(i) || dst.is_null(i) || src.is_some_and(|s| s.is_null(i)) {
            out.append_null();
            continue;
        }
        let from = match src {
            Some(s) => zone(s.value(i))?,
            None => *session,
        };
        let to = zone(dst.value(i))?;
        let Some(wall) = chrono::DateTime::from_timestamp_micros(ts.value(i)) else {
            out.append_null();
            continue;
        };
        let local = from
            .from_local_datetime(&wall.naive_utc())
            .earliest()
            .map(|t| t.with_timezone(&to).naive_local());
        match local {
            Some(t) => out.append_value(t.and_utc().timestamp_micros()),
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// The functions of this module (`tz`: the session time zone).
pub fn functions(tz: &str) -> Vec<ScalarUDF> {
    vec![
        udf_coerced(
            "instr",
            |args| {
                args_between("instr", args, 2, 4)?;
                let mut t = vec![DataType::Utf8, DataType::Utf8];
                t.extend(std::iter::repeat_n(DataType::Int32, args.len() - 2));
                Ok(t)
            },
            |_| Ok(DataType::Int32),
            instr_impl,
            tz,
        ),
        udf_coerced(
            "to_base32",
            |args| {
                args_between("to_base32", args, 1, 1)?;
                Ok(vec![DataType::Binary])
            },
            |_| Ok(DataType::Utf8),
            to_base32_impl,
            tz,
        ),
        udf_coerced(
            "from_base32",
            |args| {
                args_between("from_base32", args, 1, 1)?;
                Ok(vec![DataType::Utf8])
            },
            |_| Ok(DataType::Binary),
            from_base32_impl,
            tz,
        ),
        udf_coerced(
            "hmac",
            |args| {
                args_between("hmac", args, 2, 3)?;
                let mut t: Vec<DataType> = vec![DataType::Binary, DataType::Binary];
                if args.len() == 3 {
                    t.push(DataType::Utf8);
                }
                Ok(t)
            },
            |_| Ok(DataType::Binary),
            hmac_impl,
            tz,
        ),
        udf_coerced(
            "sentences",
            |args| {
                args_between("sentences", args, 1, 3)?;
                Ok(vec![DataType::Utf8; args.len()])
            },
            |_| {
                Ok(DataType::new_list(
                    DataType::new_list(DataType::Utf8, true),
                    true,
                ))
            },
            sentences_impl,
            tz,
        ),
        udf_coerced(
            "convert_timezone",
            |args| {
                args_between("convert_timezone", args, 2, 3)?;
                let mut t = vec![DataType::Utf8; args.len() - 1];
                t.push(DataType::Timestamp(TimeUnit::Microsecond, None));
                Ok(t)
            },
            |_| Ok(DataType::Timestamp(TimeUnit::Microsecond, None)),
            convert_timezone_impl,
            tz,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_round_trips() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI======");
        assert_eq!(base32_encode(b"f"), "MY======");
        assert_eq!(
            base32_decode("MZXW6YTBOI======").as_deref(),
            Some(&b"foobar"[..])
        );
        assert_eq!(base32_decode("M1"), None);
    }

    #[test]
    fn hmac_known_answer() {
        // RFC 4231 test case 2.
        let h = hmac("SHA-256", b"Jefe", b"what do ya want for nothing?").unwrap();
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hmac("MD5", b"k", b"m").is_none());
    }

    #[test]
    fn instr_positions_and_occurrences() {
        assert_eq!(instr("abcabc", "b", 1, 1), 2);
        assert_eq!(instr("abcabc", "b", 1, 2), 5);
        assert_eq!(instr("abcabc", "b", -1, 1), 5);
        assert_eq!(instr("abcabc", "b", -1, 2), 2);
        assert_eq!(instr("abcabc", "z", 1, 1), 0);
        assert_eq!(instr("abcabc", "b", 3, 1), 5);
    }

    #[test]
    fn sentences_and_words() {
        assert_eq!(
            sentences("Hi there! Good morning."),
            vec![vec!["Hi", "there"], vec!["Good", "morning"]]
        );
        assert_eq!(
            sentences("It's 3.5 o'clock"),
            vec![vec!["It's", "3.5", "o'clock"]]
        );
    }
}
