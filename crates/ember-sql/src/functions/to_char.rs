//! Spark's `to_char(expr, format)` (= `to_varchar`), `to_number(str, format)` and
//! `try_to_number`, as Spark's `ToCharacter` / `ToNumber` and their number-format
//! parser: `0`/`9` digit positions (a sequence starting with `0` before the decimal
//! point pads with zeros, otherwise with spaces), `.`/`D` the decimal point, `,`/`G`
//! grouping, `$` a currency sign, `S` (`+`/`-`) or `MI` (`-`/space) a sign at the start
//! or end, `PR` angle brackets around a negative value. `to_char` of a date or
//! timestamp is `date_format`; of a binary value with `base64`, `hex`, `utf-8` its
//! text in that encoding. `to_number` answers `DECIMAL(digits, fraction digits)`.

use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Builder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// A parsed number format.
#[derive(Debug, Clone, PartialEq)]
struct NumberFormat {
    /// Digit and grouping characters before the decimal point (`0`, `9`, `,`).
    int: Vec<char>,
    /// Digit characters after it.
    frac: usize,
    point: bool,
    dollar_first: bool,
    dollar_last: bool,
    /// `S`, `MI` or `PR`, and whether at the start.
    sign: Option<(&'static str, bool)>,
}

fn invalid(fmt: &str, why: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "[INVALID_FORMAT.{why}] The format is invalid: '{fmt}'."
    ))
}

fn parse_format(fmt: &str) -> Result<NumberFormat> {
    let up = fmt.to_ascii_uppercase();
    let mut s = up.as_str();
    let mut f = NumberFormat {
        int: vec![],
        frac: 0,
        point: false,
        dollar_first: false,
        dollar_last: false,
        sign: None,
    };
    for (tok, name) in [("MI", "MI"), ("S", "S")] {
        if let Some(rest) = s.strip_prefix(tok) {
            f.sign = Some((name, true));
            s = rest;
            break;
        }
    }
    if let Some(rest) = s.strip_prefix('$') {
        f.dollar_first = true;
        s = rest;
    }
    for (tok, name) in [("PR", "PR"), ("MI", "MI"), ("S", "S")] {
        if let Some(rest) = s.strip_suffix(tok) {
            if f.sign.is_some() {
                return Err(invalid(fmt, "WRONG_NUM_TOKEN"));
            }
            f.sign = Some((name, false));
            s = rest;
            break;
        }
    }
    if let Some(rest) = s.strip_suffix('$') {
        if f.dollar_first {
            return Err(invalid(fmt, "WRONG_NUM_TOKEN"));
        }
        f.dollar_last = true;
        s = rest;
    }
    for c in s.chars() {
        match c {
            '0' | '9' if f.point => f.frac += 1,
            '0' | '9' => f.int.push(c),
            ',' | 'G' if !f.point => f.int.push(','),
            '.' | 'D' if !f.point => f.point = true,
            _ => return Err(invalid(fmt, "UNEXPECTED_TOKEN")),
        }
    }
    if f.int.iter().all(|c| *c == ',') && f.frac == 0 {
        return Err(invalid(fmt, "CONT_THOUSANDS_SEPS"));
    }
    Ok(f)
}

impl NumberFormat {
    fn int_digits(&self) -> usize {
        self.int.iter().filter(|c| **c != ',').count()
    }

    /// The text of a number given as its sign and decimal digits (`int`, `frac`).
    fn render(&self, neg: bool, int: &str, frac: &str) -> String {
        let total = self.int_digits();
        let int = int.trim_start_matches('0');
        let mut body = String::new();
        if int.len() > total {
            // Too many digits: Spark prints `#` in every position.
            let n = self.int.len() + usize::from(self.point) + self.frac;
            body = "#".repeat(n);
        } else {
            let zero_pad = self.int.first() == Some(&'0');
            let digits: Vec<char> = int.chars().collect();
            let mut k = digits.len();
            let mut out: Vec<char> = Vec::with_capacity(self.int.len());
            // Right to left over the format's integer positions.
            let positions: Vec<char> = self.int.clone();
            let mut left_of_digits = false;
            for (idx, c) in positions.iter().enumerate().rev() {
                if *c == ',' {
                    let more = k > 0 || (zero_pad && positions[..idx].iter().any(|c| *c != ','));
                    out.push(if more && !left_of_digits { ',' } else { ' ' });
                    continue;
                }
                if k > 0 {
                    k -= 1;
                    out.push(digits[k]);
                } else if zero_pad || (idx + 1 == positions.len() && !self.point) {
                    out.push('0');
                } else {
                    out.push(' ');
                    left_of_digits = true;
                }
            }
            out.reverse();
            body.extend(out);
            if self.point {
                body.push('.');
                let mut fr: String = frac.chars().take(self.frac).collect();
                while fr.len() < self.frac {
                    fr.push('0');
                }
                body.push_str(&fr);
            }
        }
        let trimmed_lead = body.len() - body.trim_start().len();
        let (pad, body) = body.split_at(trimmed_lead);
        let body = body.to_string();
        let dollar = |b: String| -> String {
            if self.dollar_first {
                format!("${b}")
            } else if self.dollar_last {
                format!("{b}$")
            } else {
                b
            }
        };
        let body = dollar(body);
        let signed = match self.sign {
            Some(("S", true)) => format!("{}{body}", if neg { '-' } else { '+' }),
            Some(("S", false)) => format!("{body}{}", if neg { '-' } else { '+' }),
            Some(("MI", true)) => format!("{}{body}", if neg { '-' } else { ' ' }),
            Some(("MI", false)) => format!("{body}{}", if neg { '-' } else { ' ' }),
            Some(("PR", _)) if neg => format!("<{body}>"),
            Some(("PR", _)) => format!(" {body} "),
            _ if neg => format!("-{body}"),
            _ => body,
        };
        format!("{pad}{signed}")
    }

    /// Parses `s` as this format describes; `None` when it does not match.
    fn parse(&self, s: &str) -> Option<(i128, u8)> {
        let mut t = s.trim();
        let mut neg = false;
        match self.sign {
            Some(("S", true)) | Some(("MI", true)) => {
                if let Some(r) = t.strip_prefix('-') {
                    neg = true;
                    t = r;
                } else if let Some(r) = t.strip_prefix('+') {
                    t = r;
                }
            }
            Some(("S", false)) | Some(("MI", false)) => {
                if let Some(r) = t.strip_suffix('-') {
                    neg = true;
                    t = r;
                } else if let Some(r) = t.strip_suffix('+') {
                    t = r;
                }
            }
            Some(("PR", _)) => {
                if let Some(r) = t.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
                    neg = true;
                    t = r;
                }
            }
            _ => {}
        }
        if self.dollar_first {
            t = t.strip_prefix('$')?;
        } else if self.dollar_last {
            t = t.strip_suffix('$')?;
        }
        let (int, frac) = match t.split_once('.') {
            Some((a, b)) if self.point => (a, b),
            Some(_) => return None,
            None => (t, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        // Grouping separators only where the format has them (aligned from the right).
        let fmt_int: Vec<char> = self.int.clone();
        if int.chars().count() > fmt_int.len() {
            return None;
        }
        let offset = fmt_int.len() - int.chars().count();
        let mut digits = String::new();
        for (i, c) in int.chars().enumerate() {
            let f = fmt_int[offset + i];
            match (c, f) {
                (',', ',') => {}
                (d, '0' | '9') if d.is_ascii_digit() => digits.push(d),
                _ => return None,
            }
        }
        if frac.len() > self.frac || !frac.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut unscaled: i128 = 0;
        for d in digits.chars().chain(frac.chars()) {
            unscaled = unscaled
                .checked_mul(10)?
                .checked_add(d.to_digit(10)? as i128)?;
        }
        for _ in frac.len()..self.frac {
            unscaled = unscaled.checked_mul(10)?;
        }
        Some((if neg { -unscaled } else { unscaled }, self.frac as u8))
    }
}

/// A number's sign and decimal digits rounded (half up) to `scale` fraction digits.
fn digits_of(v: &ScalarValue, scale: usize) -> Option<(bool, String, String)> {
    let text = match v {
        ScalarValue::Decimal128(Some(x), _, s) => crate::sql::naming::decimal_text(*x, *s),
        ScalarValue::Float64(Some(f)) => format!("{f}"),
        ScalarValue::Float32(Some(f)) => format!("{f}"),
        other if other.is_null() => return None,
        other => other.to_string(),
    };
    let neg = text.starts_with('-');
    let body = text.trim_start_matches('-');
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    // Round half up at `scale` digits.
    let mut all: Vec<u8> = int
        .bytes()
        .chain(frac.bytes().chain(std::iter::repeat(b'0')).take(scale))
        .collect();
    let round_up = frac.as_bytes().get(scale).is_some_and(|d| *d >= b'5');
    if round_up {
        let mut i = all.len();
        loop {
            if i == 0 {
                all.insert(0, b'1');
                break;
            }
            i -= 1;
            if all[i] == b'9' {
                all[i] = b'0';
            } else {
                all[i] += 1;
                break;
            }
        }
    }
    let s = String::from_utf8(all).ok()?;
    let (i, f) = s.split_at(s.len() - scale);
    Some((
        neg && s.bytes().any(|b| b != b'0'),
        i.to_string(),
        f.to_string(),
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    ToChar,
    ToNumber,
    TryToNumber,
}

/// `to_char`/`to_varchar`, `to_number`, `try_to_number` (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NumberText {
    name: &'static str,
    kind: Kind,
    tz: String,
    signature: Signature,
}

/// The functions for a session in time zone `tz`.
pub(super) fn functions(tz: &str) -> Vec<ScalarUDF> {
    [
        ("to_char", Kind::ToChar),
        ("to_varchar", Kind::ToChar),
        ("to_number", Kind::ToNumber),
        ("try_to_number", Kind::TryToNumber),
    ]
    .into_iter()
    .map(|(name, kind)| {
        ScalarUDF::new_from_impl(NumberText {
            name,
            kind,
            tz: tz.to_string(),
            signature: Signature::user_defined(Volatility::Immutable),
        })
    })
    .collect()
}

fn constant_format(args: &ReturnFieldArgs, name: &str) -> Result<String> {
    match args.scalar_arguments.get(1) {
        Some(Some(ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)))) => {
            Ok(s.clone())
        }
        _ => plan_err!(
            "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] The format of `{name}` must be a constant string."
        ),
    }
}

impl ScalarUDFImpl for NumberText {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::args_between(self.name, t, 2, 2)?;
        let first = match (self.kind, &t[0]) {
            (Kind::ToChar, x) if x.is_integer() => DataType::Decimal128(38, 0),
            (Kind::ToChar, DataType::Float32 | DataType::Float64) => DataType::Float64,
            (Kind::ToChar, x) => x.clone(),
            (_, _) => DataType::Utf8,
        };
        Ok(vec![first, DataType::Utf8])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("{} computes its type from its format", self.name)
    }
    fn return_field_from_args(
        &self,
        args: ReturnFieldArgs,
    ) -> Result<arrow_schema_field::FieldRef> {
        let t = match self.kind {
            Kind::ToChar => DataType::Utf8,
            _ => {
                let f = parse_format(&constant_format(&args, self.name)?)?;
                let p = (f.int_digits() + f.frac).clamp(1, 38) as u8;
                DataType::Decimal128(p, f.frac.min(38) as i8)
            }
        };
        Ok(Arc::new(arrow_schema_field::Field::new(self.name, t, true)))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if scalar { 1 } else { n };
        let a = args.args[0].to_array(rows)?;
        let fmts = args.args[1].to_array(rows)?;
        let fmts = fmts.as_string::<i32>();
        let out: ArrayRef = match self.kind {
            Kind::ToChar => match a.data_type() {
                DataType::Date32 | DataType::Date64 => {
                    let ts = cast(
                        &a,
                        &DataType::Timestamp(
                            datafusion::arrow::datatypes::TimeUnit::Microsecond,
                            None,
                        ),
                    )?;
                    super::date_format_impl(&[ts, args.args[1].to_array(rows)?], &chrono_tz::UTC)?
                }
                DataType::Timestamp(_, _) => {
                    let tz: Tz = self.tz.parse().unwrap_or(chrono_tz::UTC);
                    super::date_format_impl(&[a.clone(), args.args[1].to_array(rows)?], &tz)?
                }
                DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
                    binary_text(&cast(&a, &DataType::Binary)?, fmts)?
                }
                _ => {
                    let mut b = StringBuilder::new();
                    for i in 0..rows {
                        let v = ScalarValue::try_from_array(&a, i)?;
                        if v.is_null() || fmts.is_null(i) {
                            b.append_null();
                            continue;
                        }
                        let f = parse_format(fmts.value(i))?;
                        match digits_of(&v, f.frac) {
                            Some((neg, int, frac)) => b.append_value(f.render(neg, &int, &frac)),
                            None => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
            },
            Kind::ToNumber | Kind::TryToNumber => {
                let DataType::Decimal128(p, s) = args.return_field.data_type().clone() else {
                    return exec_err!("{} returns a decimal", self.name);
                };
                let strs = cast(&a, &DataType::Utf8)?;
                let strs = strs.as_string::<i32>();
                let mut b = Decimal128Builder::with_capacity(rows);
                for i in 0..rows {
                    if strs.is_null(i) || fmts.is_null(i) {
                        b.append_null();
                        continue;
                    }
                    let f = parse_format(fmts.value(i))?;
                    match f.parse(strs.value(i)) {
                        Some((v, _)) => b.append_value(v),
                        None if self.kind == Kind::TryToNumber => b.append_null(),
                        None => {
                            return exec_err!(
                                "[INVALID_FORMAT.MISMATCH_INPUT] The input '{}' does not match the format '{}'.",
                                strs.value(i),
                                fmts.value(i)
                            )
                        }
                    }
                }
                Arc::new(b.finish().with_precision_and_scale(p, s)?)
            }
        };
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}

use datafusion::arrow::datatypes as arrow_schema_field;

/// `to_char(binary, 'base64' | 'hex' | 'utf-8')`.
fn binary_text(a: &ArrayRef, fmts: &datafusion::arrow::array::StringArray) -> Result<ArrayRef> {
    use base64::Engine;
    let bin = a.as_binary::<i32>();
    let mut b = StringBuilder::new();
    for i in 0..bin.len() {
        if bin.is_null(i) || fmts.is_null(i) {
            b.append_null();
            continue;
        }
        let v = bin.value(i);
        match fmts.value(i).to_ascii_lowercase().as_str() {
            "base64" => b.append_value(base64::engine::general_purpose::STANDARD.encode(v)),
            "hex" => b.append_value(v.iter().map(|x| format!("{x:02X}")).collect::<String>()),
            "utf-8" | "utf8" => b.append_value(String::from_utf8_lossy(v)),
            other => {
                return exec_err!(
                    "[INVALID_PARAMETER_VALUE.BINARY_FORMAT] The value of parameter `format` in `to_char` is invalid: expects one of base64, hex, utf-8, but got '{other}'."
                )
            }
        }
    }
    Ok(Arc::new(b.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(v: &str, f: &str) -> String {
        let f = parse_format(f).unwrap();
        let neg = v.starts_with('-');
        let body = v.trim_start_matches('-');
        let (i, fr) = body.split_once('.').unwrap_or((body, ""));
        let (_, i, fr) = digits_of(
            &ScalarValue::Utf8(Some(format!("{}{i}.{fr}", if neg { "-" } else { "" }))),
            f.frac,
        )
        .unwrap();
        f.render(neg, &i, &fr)
    }

    #[test]
    fn spark_examples() {
        assert_eq!(fmt("454", "999"), "454");
        assert_eq!(fmt("454.00", "000D00"), "454.00");
        assert_eq!(fmt("12454", "99G999"), "12,454");
        assert_eq!(fmt("78.12", "$99.99"), "$78.12");
        assert_eq!(fmt("-12454.8", "99G999D9S"), "12,454.8-");
        let p = |s: &str, f: &str| parse_format(f).unwrap().parse(s);
        assert_eq!(p("454", "999"), Some((454, 0)));
        assert_eq!(p("454.00", "000.00"), Some((45400, 2)));
        assert_eq!(p("12,454", "99,999"), Some((12454, 0)));
        assert_eq!(p("$78.12", "$99.99"), Some((7812, 2)));
        assert_eq!(p("12,454.8-", "99,999.9S"), Some((-124548, 1)));
        assert_eq!(p("12a", "999"), None);
    }
}
