//! Spark's XPath functions (`xpath`, `xpath_boolean`, `xpath_string`, `xpath_int`,
//! `xpath_long`, `xpath_short`, `xpath_float`, `xpath_double`, `xpath_number`), as
//! Spark's `XPathExtract` expressions over Hive's `UDFXPathUtil`: XPath 1.0 evaluated
//! against the parsed document (the context node is the document root).
//!
//! Arguments are `(xml STRING, path STRING)`. Either NULL or empty gives NULL. The
//! results, row by row:
//!
//! - `xpath`: `ARRAY<STRING>`, the node value of each node the path selects, in
//!   document order (Java's `Node.getNodeValue`: the text of text, attribute and
//!   comment nodes, NULL for elements); an expression that is not a node set raises
//!   `Invalid XML document: ... Can not convert #NUMBER to a NodeList!`.
//! - `xpath_boolean`: the XPath `boolean()` of the result.
//! - `xpath_string`: the XPath `string()` of the result (`""` for an empty node set).
//! - `xpath_int` / `xpath_long` / `xpath_short` / `xpath_float` / `xpath_double` /
//!   `xpath_number`: the XPath `number()` of the result (NaN for text that is not an
//!   XPath number), then Java's `Double.intValue` / `longValue` / `shortValue` /
//!   `floatValue` (NaN is 0, out-of-range values saturate; `shortValue` wraps the
//!   saturated `int`).
//!
//! Malformed XML raises `Error loading expression 'PATH'` (Spark's text) with the
//! parser's byte offset; a malformed path raises `Invalid XPath 'PATH'`.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float32Array, Float64Array, Int16Array, Int32Array,
    Int64Array, ListBuilder, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{exec_err, DataFusionError, Result};
use datafusion::logical_expr::ScalarUDF;
use sxd_xpath::nodeset::Node;
use sxd_xpath::{Context, Factory, Value, XPath};

use super::{args_between, udf_coerced};

/// The result kind of one XPath function.
#[derive(Clone, Copy)]
enum Kind {
    Nodes,
    Boolean,
    String,
    Int,
    Long,
    Short,
    Float,
    Double,
}

/// The functions of this module (`tz` is the session zone, unused).
pub fn functions(tz: &str) -> Vec<ScalarUDF> {
    vec![
        udf_coerced(
            "xpath",
            coerce,
            |_| Ok(list_type()),
            |a, _| run(a, Kind::Nodes),
            tz,
        ),
        udf_coerced(
            "xpath_boolean",
            coerce,
            |_| Ok(DataType::Boolean),
            |a, _| run(a, Kind::Boolean),
            tz,
        ),
        udf_coerced(
            "xpath_string",
            coerce,
            |_| Ok(DataType::Utf8),
            |a, _| run(a, Kind::String),
            tz,
        ),
        udf_coerced(
            "xpath_int",
            coerce,
            |_| Ok(DataType::Int32),
            |a, _| run(a, Kind::Int),
            tz,
        ),
        udf_coerced(
            "xpath_long",
            coerce,
            |_| Ok(DataType::Int64),
            |a, _| run(a, Kind::Long),
            tz,
        ),
        udf_coerced(
            "xpath_short",
            coerce,
            |_| Ok(DataType::Int16),
            |a, _| run(a, Kind::Short),
            tz,
        ),
        udf_coerced(
            "xpath_float",
            coerce,
            |_| Ok(DataType::Float32),
            |a, _| run(a, Kind::Float),
            tz,
        ),
        udf_coerced(
            "xpath_double",
            coerce,
            |_| Ok(DataType::Float64),
            |a, _| run(a, Kind::Double),
            tz,
        )
        .with_aliases(["xpath_number"]),
    ]
}

fn list_type() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

fn coerce(args: &[DataType]) -> Result<Vec<DataType>> {
    args_between("xpath", args, 2, 2)?;
    Ok(vec![DataType::Utf8, DataType::Utf8])
}

/// One row's outcome: NULL (NULL or empty input), or the XPath value converted.
enum Out {
    Null,
    Nodes(Vec<Option<String>>),
    Bool(bool),
    Str(String),
    Num(f64),
}

fn run(a: &[ArrayRef], kind: Kind) -> Result<ArrayRef> {
    let xml = a[0].as_string::<i32>();
    let path = a[1].as_string::<i32>();
    let mut compiled: Option<(String, XPath)> = None;
    let mut outs = Vec::with_capacity(xml.len());
    for i in 0..xml.len() {
        if xml.is_null(i) || path.is_null(i) || xml.value(i).is_empty() || path.value(i).is_empty()
        {
            outs.push(Out::Null);
            continue;
        }
        let p = path.value(i);
        if compiled.as_ref().map(|(s, _)| s.as_str()) != Some(p) {
            compiled = Some((p.to_string(), compile(p)?));
        }
        let Some((_, xp)) = compiled.as_ref() else {
            return exec_err!("Invalid XPath '{p}'");
        };
        outs.push(eval(xml.value(i), p, xp, kind)?);
    }
    Ok(match kind {
        Kind::Nodes => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for o in outs {
                match o {
                    Out::Nodes(v) => {
                        for s in v {
                            b.values().append_option(s);
                        }
                        b.append(true);
                    }
                    _ => b.append(false),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Boolean => Arc::new(
            outs.iter()
                .map(|o| match o {
                    Out::Bool(b) => Some(*b),
                    _ => None,
                })
                .collect::<BooleanArray>(),
        ),
        Kind::String => Arc::new(
            outs.into_iter()
                .map(|o| match o {
                    Out::Str(s) => Some(s),
                    _ => None,
                })
                .collect::<datafusion::arrow::array::StringArray>(),
        ),
        Kind::Int => Arc::new(
            nums(&outs)
                .map(|d| d.map(|d| d as i32))
                .collect::<Int32Array>(),
        ),
        Kind::Long => Arc::new(
            nums(&outs)
                .map(|d| d.map(|d| d as i64))
                .collect::<Int64Array>(),
        ),
        // Java's Double.shortValue: (short) (int) value.
        Kind::Short => Arc::new(
            nums(&outs)
                .map(|d| d.map(|d| d as i32 as i16))
                .collect::<Int16Array>(),
        ),
        Kind::Float => Arc::new(
            nums(&outs)
                .map(|d| d.map(|d| d as f32))
                .collect::<Float32Array>(),
        ),
        Kind::Double => Arc::new(nums(&outs).collect::<Float64Array>()),
    })
}

fn nums(outs: &[Out]) -> impl Iterator<Item = Option<f64>> + '_ {
    outs.iter().map(|o| match o {
        Out::Num(d) => Some(*d),
        _ => None,
    })
}

fn compile(path: &str) -> Result<XPath> {
    match Factory::new().build(path) {
        Ok(Some(xp)) => Ok(xp),
        Ok(None) => exec_err!("Invalid XPath '{path}': the expression is empty"),
        Err(e) => exec_err!("Invalid XPath '{path}': {e}"),
    }
}

fn eval(xml: &str, path: &str, xp: &XPath, kind: Kind) -> Result<Out> {
    let package = sxd_document::parser::parse(xml).map_err(|e| {
        DataFusionError::Execution(format!(
            "Error loading expression '{path}': invalid XML at byte offset {}: {e}",
            e.location()
        ))
    })?;
    let doc = package.as_document();
    let context = Context::new();
    let value = xp
        .evaluate(&context, doc.root())
        .map_err(|e| DataFusionError::Execution(format!("Invalid XPath '{path}': {e}")))?;
    Ok(match kind {
        Kind::Nodes => match value {
            Value::Nodeset(ns) => {
                Out::Nodes(ns.document_order().into_iter().map(node_value).collect())
            }
            other => {
                let what = match other {
                    Value::Boolean(_) => "#BOOLEAN",
                    Value::Number(_) => "#NUMBER",
                    _ => "#STRING",
                };
                return exec_err!(
                    "Invalid XML document: Can not convert {what} to a NodeList!\n{xml}"
                );
            }
        },
        Kind::Boolean => Out::Bool(value.boolean()),
        Kind::String => Out::Str(string_of(&value)),
        _ => Out::Num(number_of(&value)),
    })
}

/// Java's `Node.getNodeValue`: NULL for elements and the document.
fn node_value(n: Node<'_>) -> Option<String> {
    match n {
        Node::Root(_) | Node::Element(_) => None,
        other => Some(other.string_value()),
    }
}

/// XPath 1.0 `string()`: numbers without a fraction print as integers, NaN and the
/// infinities by name.
fn string_of(v: &Value<'_>) -> String {
    match v {
        Value::Number(n) => number_text(*n),
        other => other.string(),
    }
}

fn number_text(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if n == 0.0 {
        "0".into()
    } else {
        n.to_string()
    }
}

/// XPath 1.0 `number()`: text is read with the XPath `Number` grammar (optional
/// whitespace, optional `-`, digits with an optional `.`); anything else is NaN.
fn number_of(v: &Value<'_>) -> f64 {
    match v {
        Value::Number(n) => *n,
        Value::Boolean(b) => f64::from(u8::from(*b)),
        other => parse_number(&other.string()),
    }
}

fn parse_number(s: &str) -> f64 {
    let t = s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    let body = t.strip_prefix('-').unwrap_or(t);
    let mut parts = body.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    let ok = digits(int)
        && frac.is_none_or(digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    if ok {
        t.parse().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;

    fn one(kind: Kind, xml: &str, path: &str) -> Result<ArrayRef> {
        let a: ArrayRef = Arc::new(StringArray::from(vec![xml]));
        let p: ArrayRef = Arc::new(StringArray::from(vec![path]));
        run(&[a, p], kind)
    }

    #[test]
    fn node_values_in_document_order() {
        let out = one(Kind::Nodes, "<a><b>1</b><b>2</b></a>", "a/b/text() | a/b").unwrap();
        let list = out.as_list::<i32>().value(0);
        let s = list.as_string::<i32>();
        let got: Vec<Option<&str>> = (0..s.len())
            .map(|i| s.is_valid(i).then(|| s.value(i)))
            .collect();
        assert_eq!(got, vec![None, Some("1"), None, Some("2")]);
    }

    #[test]
    fn numbers_convert_as_java() {
        let int = one(Kind::Int, "<a><b>99999999999</b></a>", "a/b").unwrap();
        assert_eq!(
            int.as_primitive::<datafusion::arrow::datatypes::Int32Type>()
                .value(0),
            i32::MAX
        );
        let short = one(Kind::Short, "<a><b>40000</b></a>", "a/b").unwrap();
        assert_eq!(
            short
                .as_primitive::<datafusion::arrow::datatypes::Int16Type>()
                .value(0),
            -25536
        );
        let nan = one(Kind::Double, "<a><b>1e30</b></a>", "a/b").unwrap();
        assert!(nan
            .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
            .value(0)
            .is_nan());
        assert_eq!(parse_number("  42 "), 42.0);
        assert_eq!(parse_number("-1.5"), -1.5);
        assert!(parse_number(".").is_nan());
        assert!(parse_number("+1").is_nan());
    }

    #[test]
    fn strings_and_errors() {
        let s = one(Kind::String, "<a><b>1</b></a>", "10 div 2").unwrap();
        assert_eq!(s.as_string::<i32>().value(0), "5");
        let e = one(Kind::Nodes, "<a><b>1</b></a>", "count(a/b)").unwrap_err();
        assert!(
            e.to_string()
                .contains("Can not convert #NUMBER to a NodeList!"),
            "{e}"
        );
        let e = one(Kind::String, "<a><b>1</b>", "a/b").unwrap_err();
        assert!(
            e.to_string().contains("Error loading expression 'a/b'"),
            "{e}"
        );
        let e = one(Kind::String, "<a/>", "a/b[").unwrap_err();
        assert!(e.to_string().contains("Invalid XPath 'a/b['"), "{e}");
        assert!(one(Kind::Boolean, "", "a").unwrap().is_null(0));
    }
}
