//! `spark.read` (`Read` relations) and `spark.sql` (`SQL` relations with arguments).

use std::collections::HashMap;

use datafusion::common::ScalarValue;
use ember_core::{DataFrame, EmberError};
use spark_connect_proto::read::ReadType;
use spark_connect_proto::{expression::ExprType, Expression, Read};

use crate::error::{ConnectError, Result};
use crate::relation::Planner;
use crate::session::ConnectSession;

/// `spark.read.format(f).schema(s).options(o).load(paths)` and `spark.read.table(t)`.
///
/// Errors: `PATH_NOT_FOUND` naming the path, `TABLE_OR_VIEW_NOT_FOUND` for unknown
/// tables, `UNSUPPORTED_FEATURE` for streaming reads and JDBC-style predicates.
pub async fn read(cs: &ConnectSession, r: &Read) -> Result<DataFrame> {
    if r.is_streaming {
        return Err(ConnectError::unsupported("streaming reads (readStream)"));
    }
    match r
        .read_type
        .as_ref()
        .ok_or_else(|| ConnectError::invalid("Read without a type"))?
    {
        ReadType::NamedTable(t) => table(cs, &t.unparsed_identifier).await,
        ReadType::DataSource(d) => {
            if !d.predicates.is_empty() {
                return Err(ConnectError::unsupported("JDBC reads with predicates"));
            }
            let format = d
                .format
                .clone()
                .or_else(|| cs.spark.conf_get("spark.sql.sources.default"))
                .unwrap_or_else(|| "parquet".into());
            let mut reader = cs.spark.read().format(&format);
            let opts: HashMap<String, String> = d
                .options
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            reader = reader.options(&opts);
            if let Some(s) = &d.schema {
                if !s.trim().is_empty() {
                    reader = match crate::schema_json::parse(s, cs.spark.time_zone().name()) {
                        Some(schema) => reader.schema(std::sync::Arc::new(schema?)),
                        None => reader.schema_ddl(s),
                    };
                }
            }
            let paths: Vec<&str> = d.paths.iter().map(|p| p.as_str()).collect();
            Ok(reader.load(&paths).await?)
        }
    }
}

/// `spark.table(name)`, resolving names case-insensitively and stripping the
/// `spark_catalog.default.` / `default.` prefixes Spark accepts.
pub async fn table(cs: &ConnectSession, ident: &str) -> Result<DataFrame> {
    let parts = crate::expr::parse_identifier(ident);
    let name = match parts.as_slice() {
        [.., n] => n.clone(),
        [] => ident.to_string(),
    };
    if parts.len() == 2 && parts[0].eq_ignore_ascii_case("global_temp") {
        use datafusion::catalog::SchemaProvider;
        let view = cs
            .global_temp
            .table(&name.to_ascii_lowercase())
            .await
            .map_err(EmberError::from)?;
        if let Some(v) = view {
            let frame = cs.spark.context().read_table(v).map_err(EmberError::from)?;
            return Ok(DataFrame::from_datafusion(&cs.spark, frame));
        }
    }
    let known = cs.spark.list_tables();
    let actual = known
        .iter()
        .find(|t| t.eq_ignore_ascii_case(&name))
        .cloned();
    match actual {
        Some(n) => Ok(cs.spark.table(&n).await?),
        None => Err(EmberError::analysis(
            "TABLE_OR_VIEW_NOT_FOUND",
            format!("The table or view `{}` cannot be found. Verify the spelling and correctness of the schema and catalog.\nIf you did not qualify the name with a schema, verify the current_schema() output, or qualify the name with the correct schema and catalog.\nTo tolerate the error on drop use DROP VIEW IF EXISTS or DROP TABLE IF EXISTS.", parts.join("`.`")),
        )
        .into()),
    }
}

/// `spark.sql(query, args)`: named (`:name`) and positional (`?`) parameters are
/// bound to the literal values the client sent, then the statement runs as
/// `spark.sql` does.
pub async fn sql(p: &mut Planner<'_>, s: &spark_connect_proto::Sql) -> Result<DataFrame> {
    let text = bind_parameters(p, s)?;
    if let Some(df) = p.cs.take_planned(&text) {
        return Ok(df);
    }
    Ok(p.cs.spark.sql(&text).await?)
}

fn literal_sql(e: &Expression, tz: &str) -> Result<String> {
    let l = match &e.expr_type {
        Some(ExprType::Literal(l)) => l,
        _ => {
            return Err(ConnectError::unsupported(
                "SQL parameters that are not literals",
            ))
        }
    };
    Ok(scalar_sql(&crate::literal::to_scalar(l, tz)?))
}

fn scalar_sql(v: &ScalarValue) -> String {
    if v.is_null() {
        return "NULL".into();
    }
    match v {
        ScalarValue::Utf8(Some(s)) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        ScalarValue::Boolean(Some(b)) => b.to_string().to_uppercase(),
        ScalarValue::Int8(Some(x)) => format!("{x}Y"),
        ScalarValue::Int16(Some(x)) => format!("{x}S"),
        ScalarValue::Int64(Some(x)) => format!("{x}L"),
        ScalarValue::Float32(Some(x)) => format!("CAST({x} AS FLOAT)"),
        ScalarValue::Float64(Some(x)) => format!("{x:?}D"),
        ScalarValue::Date32(Some(d)) => format!("DATE '{}'", ember_sql::format::format_date(*d)),
        ScalarValue::Decimal128(Some(_), _, _) => format!("{v}BD"),
        ScalarValue::TimestampMicrosecond(Some(us), tz) => {
            let t = ember_sql::format::format_timestamp_micros(*us, None);
            if tz.is_some() {
                format!("TIMESTAMP '{t}Z'")
            } else {
                format!("TIMESTAMP_NTZ '{t}'")
            }
        }
        ScalarValue::List(_) => {
            let items: Vec<String> = match v {
                ScalarValue::List(a) => {
                    datafusion::common::ScalarValue::convert_array_to_scalar_vec(a.as_ref())
                        .ok()
                        .and_then(|mut rows| rows.pop().flatten())
                        .unwrap_or_default()
                        .iter()
                        .map(scalar_sql)
                        .collect()
                }
                _ => Vec::new(),
            };
            format!("array({})", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// Replaces `:name` and `?` markers outside quotes, identifiers and comments.
pub(crate) fn bind_parameters(p: &Planner<'_>, s: &spark_connect_proto::Sql) -> Result<String> {
    let tz = p.cs.spark.time_zone().name().to_string();
    let mut named: HashMap<String, String> = HashMap::new();
    for (k, v) in &s.named_arguments {
        named.insert(k.clone(), literal_sql(v, &tz)?);
    }
    #[allow(deprecated)]
    for (k, v) in &s.args {
        named.insert(k.clone(), scalar_sql(&crate::literal::to_scalar(v, &tz)?));
    }
    let mut positional: Vec<String> = s
        .pos_arguments
        .iter()
        .map(|e| literal_sql(e, &tz))
        .collect::<Result<_>>()?;
    #[allow(deprecated)]
    for v in &s.pos_args {
        positional.push(scalar_sql(&crate::literal::to_scalar(v, &tz)?));
    }
    if named.is_empty() && positional.is_empty() {
        return Ok(s.query.clone());
    }
    let chars: Vec<char> = s.query.chars().collect();
    let mut out = String::with_capacity(s.query.len());
    let mut i = 0;
    let mut pos = positional.into_iter();
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' | '`' => {
                let q = c;
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == '\\' && q != '`' && i + 1 < chars.len() {
                        out.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if chars[i - 1] == q {
                        break;
                    }
                }
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            '?' => {
                let v = pos.next().ok_or_else(|| {
                    EmberError::analysis("UNBOUND_SQL_PARAMETER", "Found the unbound parameter: _16. Please, fix `args` and provide a mapping of the parameter to either a SQL literal or collection constructor functions such as `map()`, `array()`, `struct()`.")
                })?;
                out.push_str(&v);
                i += 1;
            }
            ':' if chars
                .get(i + 1)
                .map(|c| c.is_alphabetic() || *c == '_')
                .unwrap_or(false)
                && !(i > 0 && chars[i - 1] == ':') =>
            {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let name: String = chars[start..j].iter().collect();
                match named.get(&name) {
                    Some(v) => out.push_str(v),
                    None => {
                        return Err(EmberError::analysis(
                            "UNBOUND_SQL_PARAMETER",
                            format!("Found the unbound parameter: {name}. Please, fix `args` and provide a mapping of the parameter to either a SQL literal or collection constructor functions such as `map()`, `array()`, `struct()`."),
                        )
                        .into())
                    }
                }
                i = j;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}
