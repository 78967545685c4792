//! `get_json_object(json, path)` as Spark's `GetJsonObject`: the value at a JSONPath
//! (`$`, `.name`, `['name']`, `[index]`, `[*]`) of a JSON string: a string value
//! unquoted, numbers, booleans, objects and arrays as their JSON text (compact
//! input keeps its text; keys keep their order); NULL for a missing path, a JSON
//! `null`, invalid JSON, an invalid path or NULL arguments. `[*]` over an array gives
//! the matches as a JSON array (the single match itself when there is one).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::{args_between, udf_coerced};

/// The functions of this module.
pub fn functions(tz: &str) -> Vec<ScalarUDF> {
    vec![udf_coerced(
        "get_json_object",
        |args| {
            args_between("get_json_object", args, 2, 2)?;
            Ok(vec![DataType::Utf8, DataType::Utf8])
        },
        |_| Ok(DataType::Utf8),
        get_json_object_impl,
        tz,
    )]
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    All,
}

/// The steps of a Spark JSONPath, `None` when it is not one.
fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut rest = path.trim().strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            if key.is_empty() {
                return None;
            }
            steps.push(if key == "*" {
                Step::All
            } else {
                Step::Key(key.to_string())
            });
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = r[..end].trim();
            steps.push(if inner == "*" {
                Step::All
            } else if let Some(q) = inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                Step::Key(q.to_string())
            } else {
                Step::Index(inner.parse().ok()?)
            });
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

/// Where the JSON value starting at `i` (after whitespace) ends: one past its last
/// byte. The document was checked valid first, so this only skips.
fn value_end(b: &[u8], mut i: usize) -> usize {
    i = ws(b, i);
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = string_end(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            i
        }
        _ => {
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            {
                i += 1;
            }
            i
        }
    }
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// One past the closing quote of the string starting at `i`.
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// The members of the object `v` as (key, value text), or its elements (key `None`)
/// when it is an array; empty for anything else.
fn members(v: &str) -> Vec<(Option<String>, &str)> {
    let b = v.as_bytes();
    let mut out = Vec::new();
    let (open, close) = match b.first() {
        Some(b'{') => (b'{', b'}'),
        Some(b'[') => (b'[', b']'),
        _ => return out,
    };
    let mut i = 1;
    loop {
        i = ws(b, i);
        if i >= b.len() || b[i] == close {
            break;
        }
        let key = if open == b'{' {
            let end = string_end(b, i);
            let k = serde_json::from_str::<String>(&v[i..end]).ok();
            i = ws(b, end);
            i += 1; // ':'
            k
        } else {
            None
        };
        let start = ws(b, i);
        let end = value_end(b, start);
        out.push((key, &v[start..end]));
        i = ws(b, end);
        if i < b.len() && b[i] == b',' {
            i += 1;
        }
    }
    out
}

/// The JSON values (as text) at `steps` under `v` (several after a `[*]`).
fn select<'a>(v: &'a str, steps: &[Step], out: &mut Vec<&'a str>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(v);
        return;
    };
    let is_array = v.starts_with('[');
    match step {
        Step::Key(k) => {
            if let Some((_, x)) = members(v)
                .into_iter()
                .find(|(key, _)| key.as_deref() == Some(k))
            {
                select(x, rest, out);
            }
        }
        Step::Index(i) if is_array => {
            if let Some((_, x)) = members(v).into_iter().nth(*i) {
                select(x, rest, out);
            }
        }
        Step::Index(_) => {}
        Step::All => {
            for (_, x) in members(v) {
                select(x, rest, out);
            }
        }
    }
}

/// A value as Spark returns it: strings unquoted, JSON `null` as NULL.
fn text_of(v: &str) -> Option<String> {
    let t = v.trim();
    if t == "null" {
        return None;
    }
    if t.starts_with('"') {
        return serde_json::from_str::<String>(t).ok();
    }
    Some(t.to_string())
}

fn get_json_object_impl(a: &[ArrayRef], _: &chrono_tz::Tz) -> Result<ArrayRef> {
    let json = a[0].as_string::<i32>();
    let path = a[1].as_string::<i32>();
    let mut b = StringBuilder::new();
    let mut cached: Option<(String, Option<Vec<Step>>)> = None;
    for i in 0..json.len() {
        if json.is_null(i) || path.is_null(i) {
            b.append_null();
            continue;
        }
        let p = path.value(i);
        if cached.as_ref().map(|c| c.0.as_str()) != Some(p) {
            cached = Some((p.to_string(), parse_path(p)));
        }
        let Some(steps) = cached.as_ref().and_then(|c| c.1.as_ref()) else {
            b.append_null();
            continue;
        };
        let text = json.value(i);
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
            b.append_null();
            continue;
        }
        let root = text.trim();
        let mut found = Vec::new();
        select(root, steps, &mut found);
        let wildcard = steps.contains(&Step::All);
        let value = match found.as_slice() {
            [] => None,
            [one] => text_of(one),
            many if wildcard => Some(format!(
                "[{}]",
                many.iter().map(|v| v.trim()).collect::<Vec<_>>().join(",")
            )),
            _ => None,
        };
        b.append_option(value);
    }
    Ok(Arc::new(b.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;

    fn get(json: &str, path: &str) -> Option<String> {
        let a: ArrayRef = Arc::new(StringArray::from(vec![json]));
        let p: ArrayRef = Arc::new(StringArray::from(vec![path]));
        let out = get_json_object_impl(&[a, p], &chrono_tz::UTC).ok()?;
        let s = out.as_string::<i32>();
        s.is_valid(0).then(|| s.value(0).to_string())
    }

    #[test]
    fn paths_as_spark() {
        let j = r#"{"a":"b","n":1.50,"o":{"z":1,"a":[1,2,{"k":"v"}]},"x":null}"#;
        assert_eq!(get(j, "$.a").as_deref(), Some("b"));
        assert_eq!(get(j, "$.n").as_deref(), Some("1.50"));
        assert_eq!(
            get(j, "$.o").as_deref(),
            Some(r#"{"z":1,"a":[1,2,{"k":"v"}]}"#)
        );
        assert_eq!(get(j, "$.o.a[2].k").as_deref(), Some("v"));
        assert_eq!(get(j, "$['o']['a'][0]").as_deref(), Some("1"));
        assert_eq!(get(j, "$.o.a[*]").as_deref(), Some(r#"[1,2,{"k":"v"}]"#));
        assert_eq!(get(j, "$.x"), None);
        assert_eq!(get(j, "$.nope"), None);
        assert_eq!(get("not json", "$.a"), None);
        assert_eq!(get(j, "a"), None);
    }
}
