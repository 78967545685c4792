//! Spark-only statements ember executes itself; everything else goes to
//! DataFusion's planner.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{BooleanArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use regex::Regex;

use crate::dataframe::DataFrame;
use crate::error::{EmberError, Result};
use crate::session::SparkSession;

// The Spark statements ember runs itself, compiled once.
static VIEW_USING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^CREATE\s+(?:OR\s+REPLACE\s+)?(?:GLOBAL\s+)?TEMP(?:ORARY)?\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(`[^`]+`|[\w.]+)\s*(?:\((.*)\))?\s*USING\s+(\w+)\s*(?:OPTIONS\s*\((.*)\))?\s*$").expect("valid regex")
});
static VIEW_AS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^CREATE\s+(?:OR\s+REPLACE\s+)?(?:GLOBAL\s+)?TEMP(?:ORARY)?\s+VIEW\s+(`[^`]+`|[\w.]+)\s+AS\s+(.*)$").expect("valid regex")
});
static CTAS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^CREATE\s+(OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(`[^`]+`|[\w.]+)\s+USING\s+(\w+)\s*(?:OPTIONS\s*\((.*?)\))?\s*(?:PARTITIONED\s+BY\s*\(([^)]*)\))?\s*LOCATION\s+'([^']+)'\s*(?:AS\s+)?(.*)$").expect("valid regex")
});
static INSERT_DIRECTORY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^INSERT\s+OVERWRITE\s+(?:LOCAL\s+)?DIRECTORY\s+'([^']+)'\s+USING\s+(\w+)\s*(?:OPTIONS\s*\((.*?)\))?\s*(SELECT.*|WITH.*|FROM.*)$").expect("valid regex")
});

fn strip(text: &str) -> &str {
    text.trim().trim_end_matches(';').trim()
}

fn table_df(
    session: &SparkSession,
    fields: Vec<(&str, DataType)>,
    cols: Vec<Arc<dyn datafusion::arrow::array::Array>>,
) -> Result<DataFrame> {
    let schema = Arc::new(Schema::new(
        fields
            .into_iter()
            .map(|(n, t)| Field::new(n, t, false))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), cols)?;
    let t = MemTable::try_new(schema, vec![vec![batch]])?;
    Ok(DataFrame::new(
        session.clone(),
        session.context().read_table(Arc::new(t))?,
    ))
}

fn empty_df(session: &SparkSession) -> Result<DataFrame> {
    Ok(DataFrame::new(
        session.clone(),
        session.context().read_empty()?,
    ))
}

/// Parses `OPTIONS (k 'v', k2 = "v2", path '...')` bodies.
pub fn parse_options(body: &str) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && (chars[*i].is_whitespace() || chars[*i] == ',') {
            *i += 1;
        }
    };
    let read_token = |i: &mut usize| -> Option<String> {
        if *i >= chars.len() {
            return None;
        }
        let c = chars[*i];
        if c == '\'' || c == '"' || c == '`' {
            *i += 1;
            let mut s = String::new();
            while *i < chars.len() && chars[*i] != c {
                if chars[*i] == '\\' && *i + 1 < chars.len() && c != '`' {
                    s.push('\\');
                    s.push(chars[*i + 1]);
                    *i += 2;
                    continue;
                }
                s.push(chars[*i]);
                *i += 1;
            }
            *i += 1;
            Some(s)
        } else {
            let mut s = String::new();
            while *i < chars.len()
                && !chars[*i].is_whitespace()
                && chars[*i] != '='
                && chars[*i] != ','
            {
                s.push(chars[*i]);
                *i += 1;
            }
            Some(s)
        }
    };
    loop {
        skip_ws(&mut i);
        let Some(k) = read_token(&mut i) else { break };
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == '=') {
            i += 1;
        }
        let v = read_token(&mut i).ok_or_else(|| {
            EmberError::parse(
                "PARSE_SYNTAX_ERROR",
                format!("Syntax error in OPTIONS: missing value for '{k}'."),
            )
        })?;
        out.insert(k, v);
    }
    Ok(out)
}

/// Executes one statement.
pub async fn execute(session: &SparkSession, text: &str) -> Result<DataFrame> {
    let sql = strip(text);
    let upper: String = sql
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();

    if words.first() == Some(&"SET") {
        return set(session, sql);
    }
    if words.len() >= 2 && words[0] == "SHOW" && words[1] == "TABLES" {
        let names = session.list_tables();
        let n = names.len();
        return table_df(
            session,
            vec![
                ("namespace", DataType::Utf8),
                ("tableName", DataType::Utf8),
                ("isTemporary", DataType::Boolean),
            ],
            vec![
                Arc::new(StringArray::from(vec![""; n])),
                Arc::new(StringArray::from(names)),
                Arc::new(BooleanArray::from(vec![true; n])),
            ],
        );
    }
    if matches!(words.first(), Some(&"DESCRIBE") | Some(&"DESC")) {
        return describe(session, sql).await;
    }
    if let Some(c) = VIEW_USING.captures(sql) {
        let name = c[1].trim_matches('`').to_string();
        let mut options = c
            .get(4)
            .map(|m| parse_options(m.as_str()))
            .transpose()?
            .unwrap_or_default();
        let path = options
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("path"))
            .map(|(_, v)| v.clone());
        options.retain(|k, _| !k.eq_ignore_ascii_case("path"));
        let Some(path) = path else {
            return Err(EmberError::analysis(
                "REQUIRED_OPTION_NOT_FOUND",
                "The option `path` is required for a view over files.",
            ));
        };
        let mut reader = session.read().format(&c[3]).options(&options);
        if let Some(schema) = c.get(2) {
            reader = reader.schema_ddl(schema.as_str());
        }
        let (provider, report) = reader.provider(&[path]).await?;
        session.register_view(&name, provider, report)?;
        return empty_df(session);
    }
    if let Some(c) = VIEW_AS.captures(sql) {
        let name = c[1].trim_matches('`').to_string();
        let df = Box::pin(execute(session, &c[2])).await?;
        session.create_or_replace_temp_view(&name, &df)?;
        return empty_df(session);
    }
    if let Some(c) = CTAS.captures(sql) {
        let replace = c.get(1).is_some();
        let name = c[2].trim_matches('`').to_string();
        let format = c[3].to_string();
        let options = c
            .get(4)
            .map(|m| parse_options(m.as_str()))
            .transpose()?
            .unwrap_or_default();
        let parts: Vec<String> = c
            .get(5)
            .map(|m| {
                m.as_str()
                    .split(',')
                    .map(|s| s.trim().trim_matches('`').to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let location = c[6].to_string();
        let df = Box::pin(execute(session, &c[7])).await?;
        let mode = if replace {
            crate::writer::SaveMode::Overwrite
        } else {
            crate::writer::SaveMode::ErrorIfExists
        };
        let mut w = df.write().format(&format).mode(mode);
        for (k, v) in &options {
            w = w.option(k, v);
        }
        let refs: Vec<&str> = parts.iter().map(|s| s.as_str()).collect();
        w.partition_by(&refs).save(&location).await?;
        let (provider, report) = session.read().format(&format).provider(&[location]).await?;
        session.register_view(&name, provider, report)?;
        return empty_df(session);
    }
    if let Some(c) = INSERT_DIRECTORY.captures(sql) {
        let options = c
            .get(3)
            .map(|m| parse_options(m.as_str()))
            .transpose()?
            .unwrap_or_default();
        let df = Box::pin(execute(session, &c[4])).await?;
        let mut w = df
            .write()
            .format(&c[2])
            .mode(crate::writer::SaveMode::Overwrite);
        for (k, v) in &options {
            w = w.option(k, v);
        }
        w.save(&c[1]).await?;
        return empty_df(session);
    }
    if words.len() >= 3 && words[0] == "DROP" && words[1] == "VIEW"
        || words.len() >= 4 && words[0] == "DROP" && words[2] == "VIEW"
    {
        let name = sql
            .split_whitespace()
            .last()
            .unwrap_or("")
            .trim_matches('`');
        session.drop_temp_view(name)?;
        return empty_df(session);
    }
    // Queries: give unaliased items Spark's names, then plan.
    let dialect = crate::sql::dialect::SparkDialect;
    let unescaped = crate::sql::unescape_string_literals(sql);
    let mut parsed =
        datafusion::sql::parser::DFParser::parse_sql_with_dialect(&unescaped, &dialect)?;
    if parsed.len() == 1 {
        if let Some(datafusion::sql::parser::Statement::Statement(st)) = parsed.front_mut() {
            if matches!(
                st.as_ref(),
                datafusion::sql::sqlparser::ast::Statement::Query(_)
            ) {
                crate::sql::generators::rewrite(session.context(), st).await?;
                crate::sql::naming::alias_select_items(st);
                crate::sql::naming::rename_functions(st);
                resolve_column_case(session, st).await;
                crate::sql::struct_star::expand(session.context(), st).await;
                let stmt = parsed
                    .pop_front()
                    .ok_or_else(|| EmberError::internal("empty statement"))?;
                let state = session.context().state();
                let plan = state.statement_to_plan(stmt).await?;
                let df = datafusion::prelude::DataFrame::new(state, plan);
                return DataFrame::try_new(session.clone(), df);
            }
        }
    }
    let df = session.context().sql(sql).await?;
    DataFrame::try_new(session.clone(), df)
}

/// `spark.sql.caseSensitive=false` for columns spelled with capitals: DataFusion
/// lower-cases unquoted identifiers and then matches exactly, so `Origin` (a column
/// made by `select("Origin")` or a CSV header) would never match. Every unquoted
/// identifier part that equals, ignoring case, a column name of a table the query
/// reads is rewritten to that exact name, quoted. Names with two spellings among the
/// tables read are left alone.
async fn resolve_column_case(
    session: &SparkSession,
    st: &mut datafusion::sql::sqlparser::ast::Statement,
) {
    use datafusion::sql::sqlparser::ast::{visit_expressions_mut, visit_relations, Expr as A};
    use std::collections::HashMap;
    let mut tables = Vec::new();
    let _ = visit_relations(&*st, |name| {
        tables.push(name.to_string());
        std::ops::ControlFlow::<()>::Continue(())
    });
    // lower-case name -> exact spelling (None when spellings conflict)
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    for t in tables {
        let Ok(provider) = session.context().table_provider(t.as_str()).await else {
            continue;
        };
        for f in provider.schema().fields() {
            let exact = f.name().clone();
            let e = names
                .entry(exact.to_lowercase())
                .or_insert(Some(exact.clone()));
            if e.as_deref() != Some(exact.as_str()) {
                *e = None;
            }
        }
    }
    names.retain(|k, v| v.as_deref().is_some_and(|x| x != k));
    if names.is_empty() {
        return;
    }
    let fix = |i: &mut datafusion::sql::sqlparser::ast::Ident| {
        if i.quote_style.is_none() {
            if let Some(Some(exact)) = names.get(&i.value.to_lowercase()) {
                i.value = exact.clone();
                i.quote_style = Some('`');
            }
        }
    };
    let _ = visit_expressions_mut(st, |e| {
        match e {
            A::Identifier(i) => fix(i),
            A::CompoundIdentifier(parts) => parts.iter_mut().for_each(fix),
            _ => {}
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

fn set(session: &SparkSession, sql: &str) -> Result<DataFrame> {
    let body = sql[3..].trim();
    if body.is_empty() || body == "-v" {
        let all = session.conf_all();
        let keys: Vec<String> = all.keys().cloned().collect();
        let vals: Vec<String> = all.values().cloned().collect();
        return table_df(
            session,
            vec![("key", DataType::Utf8), ("value", DataType::Utf8)],
            vec![
                Arc::new(StringArray::from(keys)),
                Arc::new(StringArray::from(vals)),
            ],
        );
    }
    let (k, v) = match body.split_once('=') {
        Some((k, v)) => {
            let (k, v) = (
                k.trim().trim_matches('`'),
                v.trim().trim_matches('\'').trim_matches('"'),
            );
            session.conf_set(k, v)?;
            (k.to_string(), v.to_string())
        }
        None => {
            let k = body.trim_matches('`');
            (
                k.to_string(),
                session.conf_get(k).unwrap_or_else(|| "<undefined>".into()),
            )
        }
    };
    table_df(
        session,
        vec![("key", DataType::Utf8), ("value", DataType::Utf8)],
        vec![
            Arc::new(StringArray::from(vec![k])),
            Arc::new(StringArray::from(vec![v])),
        ],
    )
}

async fn describe(session: &SparkSession, sql: &str) -> Result<DataFrame> {
    let mut rest = sql
        .split_once(char::is_whitespace)
        .map(|x| x.1)
        .unwrap_or("")
        .trim();
    for kw in ["TABLE ", "EXTENDED ", "FORMATTED ", "QUERY "] {
        if rest.len() >= kw.len() && rest[..kw.len()].eq_ignore_ascii_case(kw) {
            rest = rest[kw.len()..].trim();
        }
    }
    let up = rest.to_ascii_uppercase();
    let df = if up.starts_with("SELECT") || up.starts_with("WITH") {
        Box::pin(execute(session, rest)).await?
    } else {
        session.table(rest.trim_matches('`')).await?
    };
    let schema = df.schema();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let types: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| crate::types::simple_string(f.data_type()))
        .collect();
    let comments: Vec<Option<String>> = vec![None; names.len()];
    let fields = vec![
        Field::new("col_name", DataType::Utf8, false),
        Field::new("data_type", DataType::Utf8, false),
        Field::new("comment", DataType::Utf8, true),
    ];
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(names)),
            Arc::new(StringArray::from(types)),
            Arc::new(StringArray::from(comments)),
        ],
    )?;
    let t = MemTable::try_new(schema, vec![vec![batch]])?;
    Ok(DataFrame::new(
        session.clone(),
        session.context().read_table(Arc::new(t))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn options_bodies() {
        let o =
            parse_options("path '/d/f.csv', header 'true', inferSchema = \"true\", nullValue 'NA'")
                .unwrap();
        assert_eq!(o["path"], "/d/f.csv");
        assert_eq!(o["inferSchema"], "true");
        assert_eq!(o["nullValue"], "NA");
    }
}
