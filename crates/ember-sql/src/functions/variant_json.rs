//! The JSON model behind ember's VARIANT values: a parsed value with Spark's number
//! kinds (`parse_json` reads an integer that fits a `long` as BIGINT, other numbers
//! without an exponent as DECIMAL when they fit 38 digits, the rest as DOUBLE),
//! object keys sorted and unique (as Spark's `VariantBuilder` stores them), and the
//! canonical text Spark's `to_json` prints (no spaces, keys sorted, doubles as Java
//! prints them). Paths are Spark's variant paths: `$`, `.key`, `['key']`, `[n]`.

use std::fmt::Write;

/// A number's kind in the variant.
#[derive(Debug, Clone, PartialEq)]
pub enum Num {
    /// BIGINT.
    Int(i64),
    /// DECIMAL(precision, scale) with its digits as written (`1.50`).
    Decimal {
        text: String,
        precision: u8,
        scale: u8,
    },
    /// DOUBLE.
    Double(f64),
}

/// A variant value.
#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Num(Num),
    Str(String),
    Arr(Vec<J>),
    /// Fields sorted by key, keys unique.
    Obj(Vec<(String, J)>),
}

/// A step of a variant path.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(String),
    Idx(i64),
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
    /// Reading ember's canonical text back (see [`parse_canonical`]).
    canonical: bool,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at character {}", self.i))
    }
    fn value(&mut self, depth: usize) -> Result<J, String> {
        if depth > 1000 {
            return self.err("nesting too deep");
        }
        self.ws();
        match self.s.get(self.i) {
            None => self.err("unexpected end of input"),
            Some(b'{') => {
                self.i += 1;
                let mut fields: Vec<(String, J)> = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(J::Obj(fields));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return self.err("expected a field name");
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return self.err("expected ':'");
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    match fields.binary_search_by(|(x, _)| x.as_str().cmp(&k)) {
                        Ok(_) => return Err(format!("duplicate key \"{k}\"")),
                        Err(pos) => fields.insert(pos, (k, v)),
                    }
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(J::Obj(fields));
                        }
                        _ => return self.err("expected ',' or '}'"),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(J::Arr(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(J::Arr(items));
                        }
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            Some(b'"') => Ok(J::Str(self.string()?)),
            Some(b't') if self.s[self.i..].starts_with(b"true") => {
                self.i += 4;
                Ok(J::Bool(true))
            }
            Some(b'f') if self.s[self.i..].starts_with(b"false") => {
                self.i += 5;
                Ok(J::Bool(false))
            }
            Some(b'n') if self.s[self.i..].starts_with(b"null") => {
                self.i += 4;
                Ok(J::Null)
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => self.number(),
            Some(_) => self.err("unexpected character"),
        }
    }
    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return self.err("unterminated string");
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let e = self.s.get(self.i + 1).copied();
                    self.i += 2;
                    match e {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let hex = |p: &Self, at: usize| -> Result<u32, String> {
                                let h = p.s.get(at..at + 4).ok_or("bad \\u escape")?;
                                u32::from_str_radix(
                                    std::str::from_utf8(h).map_err(|e| e.to_string())?,
                                    16,
                                )
                                .map_err(|_| "bad \\u escape".to_string())
                            };
                            let hi = hex(self, self.i)?;
                            self.i += 4;
                            let ch = if (0xD800..0xDC00).contains(&hi)
                                && self.s.get(self.i..self.i + 2) == Some(b"\\u")
                            {
                                let lo = hex(self, self.i + 2)?;
                                self.i += 6;
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(ch.unwrap_or('\u{FFFD}'));
                        }
                        _ => return self.err("bad escape"),
                    }
                }
                c if c < 0x20 => return self.err("control character in string"),
                _ => {
                    // Copy one UTF-8 character.
                    let start = self.i;
                    self.i += 1;
                    while self.i < self.s.len() && (self.s[self.i] & 0xC0) == 0x80 {
                        self.i += 1;
                    }
                    out.push_str(
                        std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?,
                    );
                }
            }
        }
    }
    fn number(&mut self) -> Result<J, String> {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        let digits_from = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i == digits_from {
            return self.err("bad number");
        }
        let mut frac = false;
        let mut exp = false;
        if self.s.get(self.i) == Some(&b'.') {
            frac = true;
            self.i += 1;
            let f = self.i;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
            if self.i == f {
                return self.err("bad number");
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            exp = true;
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            let f = self.i;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
            if self.i == f {
                return self.err("bad number");
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
        // In canonical text a fraction ending in 0 is a double's (`100.0`): decimals
        // are written without trailing zeros.
        let exp = exp || (self.canonical && frac && text.ends_with('0'));
        Ok(J::Num(number_of(text, frac, exp)))
    }
}

/// Spark's kind for a JSON number's text.
fn number_of(text: &str, frac: bool, exp: bool) -> Num {
    let double = || Num::Double(text.parse::<f64>().unwrap_or(f64::NAN));
    if exp {
        return double();
    }
    if !frac {
        if let Ok(v) = text.parse::<i64>() {
            return Num::Int(v);
        }
    }
    let neg = text.starts_with('-');
    let body = text.trim_start_matches('-');
    let (int, fr) = body.split_once('.').unwrap_or((body, ""));
    // Spark stores the decimal with trailing fraction zeros dropped (`2.50` is 2.5,
    // DECIMAL(2,1); `2.0` is 2).
    let fr = fr.trim_end_matches('0');
    let int = int.trim_start_matches('0');
    let neg = neg && !(int.is_empty() && fr.is_empty());
    let digits = int.len() + fr.len();
    let scale = fr.len();
    let precision = digits.max(scale).max(1);
    if precision > 38 {
        return double();
    }
    let int = if int.is_empty() { "0" } else { int };
    let text = format!(
        "{}{int}{}{fr}",
        if neg { "-" } else { "" },
        if fr.is_empty() { "" } else { "." }
    );
    Num::Decimal {
        text,
        precision: precision as u8,
        scale: scale as u8,
    }
}

/// Parses JSON text into a variant value (the first JSON value of the text, as Spark's
/// `parse_json`); errors name the reason and character offset.
pub fn parse(text: &str) -> Result<J, String> {
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
        canonical: false,
    };
    // As Spark (Jackson) reads it: the first value; text after it is ignored.
    p.value(0)
}

/// Reads back a value's canonical text ([`to_text`]): as [`parse`], except that a
/// number like `100.0` is the double it was written from. (A double with a short
/// fraction, `1.5`, reads back as a decimal: the text cannot tell them apart.)
pub fn parse_canonical(text: &str) -> Result<J, String> {
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
        canonical: true,
    };
    // As Spark (Jackson) reads it: the first value; text after it is ignored.
    p.value(0)
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The canonical JSON text of a value (Spark's `to_json` of a variant).
pub fn to_text(v: &J) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &J, out: &mut String) {
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Num(Num::Int(i)) => {
            let _ = write!(out, "{i}");
        }
        J::Num(Num::Decimal { text, .. }) => out.push_str(text),
        J::Num(Num::Double(d)) => out.push_str(&crate::format::java_double(*d)),
        J::Str(s) => write_str(s, out),
        J::Arr(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, out);
            }
            out.push(']');
        }
        J::Obj(fields) => {
            out.push('{');
            for (i, (k, x)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write(x, out);
            }
            out.push('}');
        }
    }
}

/// Parses a variant path (`$`, `$.a.b`, `$['a b']`, `$[0]`). `None` if malformed.
pub fn parse_path(path: &str) -> Option<Vec<Seg>> {
    let b = path.as_bytes();
    if b.first() != Some(&b'$') {
        return None;
    }
    let mut i = 1;
    let mut out = Vec::new();
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                if j == start {
                    return None;
                }
                out.push(Seg::Key(path[start..j].to_string()));
                i = j;
            }
            b'[' => {
                let close = path[i..].find(']')? + i;
                let inner = path[i + 1..close].trim();
                if (inner.starts_with('\'') && inner.ends_with('\'')
                    || inner.starts_with('"') && inner.ends_with('"'))
                    && inner.len() >= 2
                {
                    out.push(Seg::Key(inner[1..inner.len() - 1].to_string()));
                } else {
                    out.push(Seg::Idx(inner.parse().ok().filter(|n: &i64| *n >= 0)?));
                }
                i = close + 1;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The value at `path`, `None` when the path leads nowhere.
pub fn get<'a>(v: &'a J, path: &[Seg]) -> Option<&'a J> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Seg::Key(k), J::Obj(f)) => &f.iter().find(|(x, _)| x == k)?.1,
            (Seg::Idx(n), J::Arr(a)) if *n >= 0 => a.get(*n as usize)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The structure `path` describes, holding `val` at its end (`$.a[1]` → `{"a":[null,v]}`).
fn build(path: &[Seg], val: J) -> J {
    match path.split_first() {
        None => val,
        Some((Seg::Key(k), rest)) => J::Obj(vec![(k.clone(), build(rest, val))]),
        Some((Seg::Idx(n), rest)) => {
            let mut a = vec![J::Null; (*n).max(0) as usize];
            a.push(build(rest, val));
            J::Arr(a)
        }
    }
}

fn obj_insert(fields: &mut Vec<(String, J)>, k: &str, v: J) {
    match fields.binary_search_by(|(x, _)| x.as_str().cmp(k)) {
        Ok(pos) => fields[pos].1 = v,
        Err(pos) => fields.insert(pos, (k.to_string(), v)),
    }
}

/// How a path edit failed.
#[derive(Debug, PartialEq)]
pub enum EditError {
    /// A step met a value of another kind (a key into a number, an index into an object).
    TypeMismatch,
    /// `variant_insert` at a path that exists.
    Exists,
}

/// `variant_set`: `val` at `path`, creating what is missing when `create_missing`.
pub fn set(v: &mut J, path: &[Seg], val: J, create_missing: bool) -> Result<(), EditError> {
    let Some((first, rest)) = path.split_first() else {
        *v = val;
        return Ok(());
    };
    match (first, v) {
        (Seg::Key(k), J::Obj(fields)) => match fields.iter_mut().find(|(x, _)| x == k) {
            Some((_, child)) => set(child, rest, val, create_missing),
            None if create_missing => {
                obj_insert(fields, k, build(rest, val));
                Ok(())
            }
            None => Ok(()),
        },
        (Seg::Idx(n), J::Arr(items)) if *n >= 0 => {
            let n = *n as usize;
            if n < items.len() {
                set(&mut items[n], rest, val, create_missing)
            } else if create_missing {
                items.resize(n, J::Null);
                items.push(build(rest, val));
                Ok(())
            } else {
                Ok(())
            }
        }
        _ => Err(EditError::TypeMismatch),
    }
}

/// `variant_insert`: a new value at `path` (an object key that must not exist, or an
/// array position, shifting later elements); missing objects on the way are created.
pub fn insert(v: &mut J, path: &[Seg], val: J) -> Result<(), EditError> {
    let Some((first, rest)) = path.split_first() else {
        return Err(EditError::Exists);
    };
    match (first, v) {
        (Seg::Key(k), J::Obj(fields)) => match fields.iter_mut().find(|(x, _)| x == k) {
            Some(_) if rest.is_empty() => Err(EditError::Exists),
            Some((_, child)) => insert(child, rest, val),
            None => {
                obj_insert(fields, k, build(rest, val));
                Ok(())
            }
        },
        (Seg::Idx(n), J::Arr(items)) if *n >= 0 => {
            let n = *n as usize;
            if !rest.is_empty() {
                return match items.get_mut(n) {
                    Some(child) => insert(child, rest, val),
                    None => {
                        items.resize(n, J::Null);
                        items.push(build(rest, val));
                        Ok(())
                    }
                };
            }
            if n <= items.len() {
                items.insert(n, val);
            } else {
                items.resize(n, J::Null);
                items.push(val);
            }
            Ok(())
        }
        _ => Err(EditError::TypeMismatch),
    }
}

/// `variant_delete`: removes the value at `path`; a missing path changes nothing.
pub fn delete(v: &mut J, path: &[Seg]) {
    let Some((last, init)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for s in init {
        let next = match (s, cur) {
            (Seg::Key(k), J::Obj(f)) => f.iter_mut().find(|(x, _)| x == k).map(|(_, c)| c),
            (Seg::Idx(n), J::Arr(a)) if *n >= 0 => a.get_mut(*n as usize),
            _ => None,
        };
        match next {
            Some(c) => cur = c,
            None => return,
        }
    }
    match (last, cur) {
        (Seg::Key(k), J::Obj(f)) => f.retain(|(x, _)| x != k),
        (Seg::Idx(n), J::Arr(a)) if *n >= 0 && (*n as usize) < a.len() => {
            a.remove(*n as usize);
        }
        _ => {}
    }
}

/// `variant_array_append`: `val` appended to the array at `path`; a missing path
/// changes nothing; a value there that is not an array fails.
pub fn array_append(v: &mut J, path: &[Seg], val: J) -> Result<(), EditError> {
    if path.is_empty() {
        return match v {
            J::Arr(a) => {
                a.push(val);
                Ok(())
            }
            _ => Err(EditError::TypeMismatch),
        };
    }
    let (last, init) = match path.split_last() {
        Some(x) => x,
        None => return Ok(()),
    };
    let mut cur = v;
    for s in init.iter().chain(std::iter::once(last)) {
        if !matches!(cur, J::Obj(_) | J::Arr(_)) {
            return Err(EditError::TypeMismatch);
        }
        let next = match (s, cur) {
            (Seg::Key(k), J::Obj(f)) => f.iter_mut().find(|(x, _)| x == k).map(|(_, c)| c),
            (Seg::Idx(n), J::Arr(a)) if *n >= 0 => a.get_mut(*n as usize),
            _ => None,
        };
        match next {
            Some(c) => cur = c,
            None => return Ok(()),
        }
    }
    match cur {
        J::Arr(a) => {
            a.push(val);
            Ok(())
        }
        _ => Err(EditError::TypeMismatch),
    }
}

/// `variant_strip_nulls`: null object fields and array elements removed, in nested
/// values too when `recursive`.
pub fn strip_nulls(v: &mut J, recursive: bool) {
    match v {
        J::Obj(f) => {
            f.retain(|(_, x)| *x != J::Null);
            if recursive {
                for (_, x) in f.iter_mut() {
                    strip_nulls(x, true);
                }
            }
        }
        J::Arr(a) => {
            a.retain(|x| *x != J::Null);
            if recursive {
                for x in a.iter_mut() {
                    strip_nulls(x, true);
                }
            }
        }
        _ => {}
    }
}

/// A variant schema type (`schema_of_variant`).
#[derive(Debug, Clone, PartialEq)]
pub enum VType {
    Void,
    Boolean,
    Bigint,
    Decimal(u8, u8),
    Double,
    String,
    Variant,
    Array(Box<VType>),
    Object(Vec<(String, VType)>),
}

/// The schema of a value.
pub fn schema_of(v: &J) -> VType {
    match v {
        J::Null => VType::Void,
        J::Bool(_) => VType::Boolean,
        J::Num(Num::Int(_)) => VType::Bigint,
        J::Num(Num::Decimal {
            precision, scale, ..
        }) => VType::Decimal(*precision, *scale),
        J::Num(Num::Double(_)) => VType::Double,
        J::Str(_) => VType::String,
        J::Arr(items) => VType::Array(Box::new(
            items
                .iter()
                .map(schema_of)
                .fold(VType::Void, |a, b| merge(&a, &b)),
        )),
        J::Obj(fields) => VType::Object(
            fields
                .iter()
                .map(|(k, x)| (k.clone(), schema_of(x)))
                .collect(),
        ),
    }
}

fn as_decimal(t: &VType) -> Option<(u8, u8)> {
    match t {
        VType::Bigint => Some((20, 0)),
        VType::Decimal(p, s) => Some((*p, *s)),
        _ => None,
    }
}

/// Two schemas merged as Spark's `schema_of_variant` merges array elements and rows:
/// VOID yields to the other, numbers widen (BIGINT and DECIMAL to a DECIMAL that holds
/// both, with DOUBLE to DOUBLE), objects merge by key, anything else is VARIANT.
pub fn merge(a: &VType, b: &VType) -> VType {
    use VType::*;
    match (a, b) {
        (Void, x) | (x, Void) => x.clone(),
        (x, y) if x == y => x.clone(),
        (Double, x) | (x, Double) if as_decimal(x).is_some() => Double,
        (x, y) if as_decimal(x).is_some() && as_decimal(y).is_some() => {
            let ((p1, s1), (p2, s2)) = (
                as_decimal(x).unwrap_or((0, 0)),
                as_decimal(y).unwrap_or((0, 0)),
            );
            let scale = s1.max(s2);
            let int = (p1 - s1).max(p2 - s2);
            let p = (int as u16 + scale as u16).min(38) as u8;
            Decimal(p, scale.min(p))
        }
        (Array(x), Array(y)) => Array(Box::new(merge(x, y))),
        (Object(x), Object(y)) => {
            let mut out = x.clone();
            for (k, t) in y {
                match out.binary_search_by(|(n, _)| n.as_str().cmp(k)) {
                    Ok(pos) => out[pos].1 = merge(&out[pos].1, t),
                    Err(pos) => out.insert(pos, (k.clone(), t.clone())),
                }
            }
            Object(out)
        }
        _ => Variant,
    }
}

/// Spark's text of a schema (`OBJECT<a: BIGINT, b: ARRAY<STRING>>`).
pub fn schema_text(t: &VType) -> String {
    match t {
        VType::Void => "VOID".into(),
        VType::Boolean => "BOOLEAN".into(),
        VType::Bigint => "BIGINT".into(),
        VType::Decimal(p, s) => format!("DECIMAL({p},{s})"),
        VType::Double => "DOUBLE".into(),
        VType::String => "STRING".into(),
        VType::Variant => "VARIANT".into(),
        VType::Array(e) => format!("ARRAY<{}>", schema_text(e)),
        VType::Object(f) => format!(
            "OBJECT<{}>",
            f.iter()
                .map(|(k, t)| format!("{k}: {}", schema_text(t)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_and_kinds() {
        let v = parse(
            r#" {"b": true, "a": [1, 0.8, 1e3, -0.50, 12345678901234567890, -0.0], "c": null} "#,
        )
        .unwrap();
        assert_eq!(
            to_text(&v),
            r#"{"a":[1,0.8,1000.0,-0.5,12345678901234567890,0],"b":true,"c":null}"#
        );
        assert_eq!(
            schema_text(&schema_of(&v)),
            "OBJECT<a: ARRAY<DOUBLE>, b: BOOLEAN, c: VOID>"
        );
        assert!(parse(r#"{"a":1,"a":2}"#).is_err());
        assert!(parse(r#"{"a":1,"#).is_err());
        assert!(parse("").is_err());
        assert_eq!(to_text(&parse(r#"{"a":1}x"#).unwrap()), r#"{"a":1}"#);
        assert_eq!(
            schema_text(&schema_of(&parse("[1, 2.50]").unwrap())),
            "ARRAY<DECIMAL(21,1)>"
        );
        assert_eq!(
            schema_text(&schema_of(&parse("[1, 1.5, \"a\"]").unwrap())),
            "ARRAY<VARIANT>"
        );
        assert_eq!(
            to_text(&parse(r#""q\"\n\u00e9""#).unwrap()),
            "\"q\\\"\\né\""
        );
    }

    #[test]
    fn path_edits() {
        let p = |s: &str| parse_path(s).unwrap();
        let mut v = parse(r#"{"a": {"b": 1}}"#).unwrap();
        set(&mut v, &p("$.a.c.d"), J::Num(Num::Int(2)), true).unwrap();
        assert_eq!(to_text(&v), r#"{"a":{"b":1,"c":{"d":2}}}"#);
        let mut v = parse(r#"["a","b"]"#).unwrap();
        insert(&mut v, &p("$[5]"), J::Str("z".into())).unwrap();
        assert_eq!(to_text(&v), r#"["a","b",null,null,null,"z"]"#);
        let mut v = parse(r#"{"a": 1}"#).unwrap();
        assert_eq!(insert(&mut v, &p("$.a"), J::Null), Err(EditError::Exists));
        assert_eq!(
            set(&mut v, &p("$.a.b"), J::Null, true),
            Err(EditError::TypeMismatch)
        );
        let mut v = parse(r#"{"items": [1, 2, 3]}"#).unwrap();
        delete(&mut v, &p("$.items[0]"));
        delete(&mut v, &p("$.items[0]"));
        assert_eq!(to_text(&v), r#"{"items":[3]}"#);
        assert_eq!(p("$['b c'][2]"), vec![Seg::Key("b c".into()), Seg::Idx(2)]);
        assert!(parse_path("a").is_none());
    }
}

/// Bytes needed for an unsigned value (1 to 4).
fn width(max: usize) -> usize {
    match max {
        0..=0xFF => 1,
        0x100..=0xFFFF => 2,
        0x1_0000..=0xFF_FFFF => 3,
        _ => 4,
    }
}

fn put(out: &mut Vec<u8>, v: usize, n: usize) {
    out.extend_from_slice(&(v as u32).to_le_bytes()[..n]);
}

/// The value in Spark's variant binary encoding (`common/variant/README.md` of Apache
/// Spark): the `(value, metadata)` pair a VARIANT column holds in Parquet and Arrow.
pub fn encode(v: &J) -> (Vec<u8>, Vec<u8>) {
    let mut keys: Vec<String> = Vec::new();
    collect_keys(v, &mut keys);
    keys.sort();
    keys.dedup();
    let mut value = Vec::new();
    encode_value(v, &keys, &mut value);
    let total: usize = keys.iter().map(|k| k.len()).sum();
    let off = width(total.max(keys.len()));
    // version 1, sorted and unique keys, offset size
    let mut meta = vec![1u8 | (1 << 4) | (((off - 1) as u8) << 6)];
    put(&mut meta, keys.len(), off);
    let mut at = 0;
    put(&mut meta, 0, off);
    for k in &keys {
        at += k.len();
        put(&mut meta, at, off);
    }
    for k in &keys {
        meta.extend_from_slice(k.as_bytes());
    }
    (value, meta)
}

fn collect_keys(v: &J, keys: &mut Vec<String>) {
    match v {
        J::Obj(f) => {
            for (k, x) in f {
                keys.push(k.clone());
                collect_keys(x, keys);
            }
        }
        J::Arr(a) => a.iter().for_each(|x| collect_keys(x, keys)),
        _ => {}
    }
}

fn encode_value(v: &J, keys: &[String], out: &mut Vec<u8>) {
    let prim = |id: u8| id << 2;
    match v {
        J::Null => out.push(prim(0)),
        J::Bool(true) => out.push(prim(1)),
        J::Bool(false) => out.push(prim(2)),
        J::Num(Num::Int(i)) => {
            let i = *i;
            if let Ok(x) = i8::try_from(i) {
                out.push(prim(3));
                out.extend_from_slice(&x.to_le_bytes());
            } else if let Ok(x) = i16::try_from(i) {
                out.push(prim(4));
                out.extend_from_slice(&x.to_le_bytes());
            } else if let Ok(x) = i32::try_from(i) {
                out.push(prim(5));
                out.extend_from_slice(&x.to_le_bytes());
            } else {
                out.push(prim(6));
                out.extend_from_slice(&i.to_le_bytes());
            }
        }
        J::Num(Num::Double(d)) => {
            out.push(prim(7));
            out.extend_from_slice(&d.to_le_bytes());
        }
        J::Num(Num::Decimal {
            text,
            precision,
            scale,
        }) => {
            let unscaled: i128 = text.replace('.', "").parse().unwrap_or(0);
            let (id, n) = match precision {
                0..=9 => (8, 4),
                10..=18 => (9, 8),
                _ => (10, 16),
            };
            out.push(prim(id));
            out.push(*scale);
            out.extend_from_slice(&unscaled.to_le_bytes()[..n]);
        }
        J::Str(s) if s.len() < 64 => {
            out.push(((s.len() as u8) << 2) | 1);
            out.extend_from_slice(s.as_bytes());
        }
        J::Str(s) => {
            out.push(prim(16));
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        J::Arr(items) => {
            let parts: Vec<Vec<u8>> = items
                .iter()
                .map(|x| {
                    let mut b = Vec::new();
                    encode_value(x, keys, &mut b);
                    b
                })
                .collect();
            let total: usize = parts.iter().map(|p| p.len()).sum();
            let off = width(total);
            let large = items.len() > 0xFF;
            out.push(((((large as u8) << 2) | (off as u8 - 1)) << 2) | 3);
            put(out, items.len(), if large { 4 } else { 1 });
            let mut at = 0;
            put(out, 0, off);
            for p in &parts {
                at += p.len();
                put(out, at, off);
            }
            for p in parts {
                out.extend_from_slice(&p);
            }
        }
        J::Obj(fields) => {
            let parts: Vec<Vec<u8>> = fields
                .iter()
                .map(|(_, x)| {
                    let mut b = Vec::new();
                    encode_value(x, keys, &mut b);
                    b
                })
                .collect();
            let total: usize = parts.iter().map(|p| p.len()).sum();
            let off = width(total);
            let idw = width(keys.len());
            let large = fields.len() > 0xFF;
            out.push(((((large as u8) << 4) | ((idw as u8 - 1) << 2) | (off as u8 - 1)) << 2) | 2);
            put(out, fields.len(), if large { 4 } else { 1 });
            for (k, _) in fields {
                put(out, keys.binary_search(k).unwrap_or(0), idw);
            }
            let mut at = 0;
            put(out, 0, off);
            for p in &parts {
                at += p.len();
                put(out, at, off);
            }
            for p in parts {
                out.extend_from_slice(&p);
            }
        }
    }
}
