//! Spark's JSON form of a schema (`StructType.json()`), which PySpark sends for
//! `createDataFrame(..., schema)` and `spark.read.schema(...)`:
//! `{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}}]}`.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema};
use serde_json::Value;

use crate::error::{ConnectError, Result};

/// Parses a JSON schema; `None` when `text` is not JSON (then it is DDL).
pub fn parse(text: &str, tz: &str) -> Option<Result<Schema>> {
    let t = text.trim_start();
    if !t.starts_with('{') {
        return None;
    }
    Some(
        serde_json::from_str::<Value>(t)
            .map_err(|e| ConnectError::invalid(format!("schema JSON does not parse: {e}")))
            .and_then(|v| match data_type(&v, tz)? {
                DataType::Struct(fs) => Ok(Schema::new(fs)),
                other => Ok(Schema::new(vec![Field::new("value", other, true)])),
            }),
    )
}

fn bad(v: &Value) -> ConnectError {
    ConnectError::invalid(format!("unknown type in schema JSON: {v}"))
}

/// The Arrow type of a JSON type value.
pub fn data_type(v: &Value, tz: &str) -> Result<DataType> {
    match v {
        Value::String(s) => Ok(ember_sql::types::parse_data_type(&primitive_ddl(s), tz)?),
        Value::Object(o) => match o.get("type").and_then(|t| t.as_str()) {
            Some("struct") => {
                let fields = o
                    .get("fields")
                    .and_then(|f| f.as_array())
                    .ok_or_else(|| bad(v))?;
                let fs = fields
                    .iter()
                    .map(|f| {
                        let name = f
                            .get("name")
                            .and_then(|n| n.as_str())
                            .ok_or_else(|| bad(f))?;
                        let t = data_type(f.get("type").ok_or_else(|| bad(f))?, tz)?;
                        let nullable = f.get("nullable").and_then(|n| n.as_bool()).unwrap_or(true);
                        Ok(Field::new(name, t, nullable))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(DataType::Struct(Fields::from(fs)))
            }
            Some("array") => {
                let e = data_type(o.get("elementType").ok_or_else(|| bad(v))?, tz)?;
                let n = o
                    .get("containsNull")
                    .and_then(|n| n.as_bool())
                    .unwrap_or(true);
                Ok(DataType::List(Arc::new(Field::new("element", e, n))))
            }
            Some("map") => {
                let k = data_type(o.get("keyType").ok_or_else(|| bad(v))?, tz)?;
                let val = data_type(o.get("valueType").ok_or_else(|| bad(v))?, tz)?;
                let n = o
                    .get("valueContainsNull")
                    .and_then(|n| n.as_bool())
                    .unwrap_or(true);
                let entries = Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", k, false),
                        Field::new("value", val, n),
                    ])),
                    false,
                );
                Ok(DataType::Map(Arc::new(entries), false))
            }
            Some("udt") => data_type(o.get("sqlType").ok_or_else(|| bad(v))?, tz),
            _ => Err(bad(v)),
        },
        _ => Err(bad(v)),
    }
}

/// JSON primitive names that differ from DDL names.
fn primitive_ddl(s: &str) -> String {
    match s {
        "integer" => "int".into(),
        "null" => "void".into(),
        other => other.to_string(),
    }
}

/// The DDL of a JSON schema (`a BIGINT, b ARRAY<STRING>`), for `AnalyzePlan.JsonToDDL`.
pub fn to_ddl(text: &str, tz: &str) -> Result<String> {
    let schema = parse(text, tz).ok_or_else(|| ConnectError::invalid("not a JSON schema"))??;
    Ok(schema
        .fields()
        .iter()
        .map(|f| {
            let nn = if f.is_nullable() { "" } else { " NOT NULL" };
            format!(
                "{} {}{nn}",
                f.name(),
                ember_sql::types::simple_string(f.data_type()).to_uppercase()
            )
        })
        .collect::<Vec<_>>()
        .join(", "))
}

/// A JSON type (`StructType.json()`, `ArrayType.json()`...) as a type string the DDL
/// parser takes: `a int, b array<string>` for a struct, `array<int>` otherwise.
pub fn to_type_string(text: &str, tz: &str) -> Result<String> {
    let v: Value = serde_json::from_str(text.trim())
        .map_err(|e| ConnectError::invalid(format!("schema JSON does not parse: {e}")))?;
    Ok(match data_type(&v, tz)? {
        DataType::Struct(fs) => fs
            .iter()
            .map(|f| {
                let nn = if f.is_nullable() { "" } else { " NOT NULL" };
                format!(
                    "`{}` {}{nn}",
                    f.name().replace('`', "``"),
                    ember_sql::types::simple_string(f.data_type())
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => ember_sql::types::simple_string(&other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_json_schemas() {
        let j = r#"{"type":"struct","fields":[{"name":"a","type":"integer","nullable":false,"metadata":{}},
            {"name":"b","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}},
            {"name":"c","type":"decimal(10,2)","nullable":true,"metadata":{}}]}"#;
        let s = parse(j, "UTC").unwrap().unwrap();
        assert_eq!(s.field(0).data_type(), &DataType::Int32);
        assert!(!s.field(0).is_nullable());
        assert!(matches!(s.field(1).data_type(), DataType::List(_)));
        assert_eq!(s.field(2).data_type(), &DataType::Decimal128(10, 2));
        assert!(parse("a INT", "UTC").is_none());
    }
}
