//! `spark.catalog`: ember's catalog holds the session's temporary views (and the
//! tables `saveAsTable` registered), in Spark's `spark_catalog.default` namespace.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, ListBuilder, StringArray, StringBuilder};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use ember_core::{DataFrame, EmberError};
use spark_connect_proto::catalog::CatType;
use spark_connect_proto::Catalog;

use crate::error::{ConnectError, Result};
use crate::session::ConnectSession;

fn frame(cs: &ConnectSession, cols: Vec<(&str, ArrayRef)>) -> Result<DataFrame> {
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let b = RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, a)| a).collect())?;
    crate::local::from_batches(&cs.spark, schema, vec![b])
}

fn strings(v: Vec<Option<String>>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}

fn bools(v: Vec<bool>) -> ArrayRef {
    Arc::new(BooleanArray::from(v))
}

fn one_bool(cs: &ConnectSession, name: &str, v: bool) -> Result<DataFrame> {
    frame(cs, vec![(name, bools(vec![v]))])
}

fn empty(cs: &ConnectSession) -> Result<DataFrame> {
    let schema = Arc::new(Schema::empty());
    crate::local::from_batches(&cs.spark, schema, vec![])
}

fn find(cs: &ConnectSession, name: &str) -> Option<String> {
    let parts = crate::expr::parse_identifier(name);
    let last = parts.last()?.clone();
    cs.spark
        .list_tables()
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(&last))
}

/// `LIKE`-style pattern of `listTables(pattern=...)` (`*` any, `|` alternatives).
fn matches(pattern: &str, name: &str) -> bool {
    pattern.split('|').any(|p| {
        let re = format!("^(?i){}$", regex::escape(p.trim()).replace("\\*", ".*"));
        regex::Regex::new(&re)
            .map(|r| r.is_match(name))
            .unwrap_or(false)
    })
}

/// Runs a catalog request; the result is a DataFrame in the shape PySpark's
/// `Catalog` methods read.
///
/// Errors: `TABLE_OR_VIEW_NOT_FOUND` for unknown tables, `UNSUPPORTED_FEATURE` for
/// requests about databases and functions ember does not keep.
pub async fn catalog(cs: &ConnectSession, c: &Catalog) -> Result<DataFrame> {
    let t = c
        .cat_type
        .as_ref()
        .ok_or_else(|| ConnectError::invalid("Catalog without a request"))?;
    match t {
        CatType::CurrentDatabase(_) => frame(
            cs,
            vec![("current_database()", strings(vec![Some("default".into())]))],
        ),
        CatType::CurrentCatalog(_) => frame(
            cs,
            vec![(
                "current_catalog()",
                strings(vec![Some("spark_catalog".into())]),
            )],
        ),
        CatType::SetCurrentDatabase(d) if d.db_name.eq_ignore_ascii_case("default") => empty(cs),
        CatType::SetCurrentCatalog(d) if d.catalog_name.eq_ignore_ascii_case("spark_catalog") => {
            empty(cs)
        }
        CatType::DatabaseExists(d) => {
            one_bool(cs, "exists", d.db_name.eq_ignore_ascii_case("default"))
        }
        CatType::ListDatabases(_) => frame(
            cs,
            vec![
                ("name", strings(vec![Some("default".into())])),
                ("catalog", strings(vec![Some("spark_catalog".into())])),
                (
                    "description",
                    strings(vec![Some("default database".into())]),
                ),
                ("locationUri", strings(vec![None])),
            ],
        ),
        CatType::ListCatalogs(_) => frame(
            cs,
            vec![
                ("name", strings(vec![Some("spark_catalog".into())])),
                ("description", strings(vec![None])),
            ],
        ),
        CatType::ListTables(l) => {
            let mut names: Vec<String> = cs.spark.list_tables();
            names.sort();
            if let Some(p) = &l.pattern {
                names.retain(|n| matches(p, n));
            }
            let n = names.len();
            let mut ns = ListBuilder::new(StringBuilder::new());
            for _ in 0..n {
                ns.append(true);
            }
            frame(
                cs,
                vec![
                    ("name", strings(names.into_iter().map(Some).collect())),
                    ("catalog", strings(vec![None; n])),
                    ("namespace", Arc::new(ns.finish())),
                    ("description", strings(vec![None; n])),
                    ("tableType", strings(vec![Some("TEMPORARY".into()); n])),
                    ("isTemporary", bools(vec![true; n])),
                ],
            )
        }
        CatType::GetTable(g) => {
            let name = find(cs, &g.table_name).ok_or_else(|| not_found(&g.table_name))?;
            let mut ns = ListBuilder::new(StringBuilder::new());
            ns.append(true);
            frame(
                cs,
                vec![
                    ("name", strings(vec![Some(name)])),
                    ("catalog", strings(vec![None])),
                    ("namespace", Arc::new(ns.finish())),
                    ("description", strings(vec![None])),
                    ("tableType", strings(vec![Some("TEMPORARY".into())])),
                    ("isTemporary", bools(vec![true])),
                ],
            )
        }
        CatType::ListColumns(l) => {
            let name = find(cs, &l.table_name).ok_or_else(|| not_found(&l.table_name))?;
            let df = cs.spark.table(&name).await?;
            let schema = df.schema();
            let n = schema.fields().len();
            frame(
                cs,
                vec![
                    (
                        "name",
                        strings(
                            schema
                                .fields()
                                .iter()
                                .map(|f| Some(f.name().clone()))
                                .collect(),
                        ),
                    ),
                    ("description", strings(vec![None; n])),
                    (
                        "dataType",
                        strings(
                            schema
                                .fields()
                                .iter()
                                .map(|f| Some(ember_sql::types::simple_string(f.data_type())))
                                .collect(),
                        ),
                    ),
                    (
                        "nullable",
                        bools(schema.fields().iter().map(|f| f.is_nullable()).collect()),
                    ),
                    ("isPartition", bools(vec![false; n])),
                    ("isBucket", bools(vec![false; n])),
                    ("isCluster", bools(vec![false; n])),
                ],
            )
        }
        CatType::TableExists(t) => one_bool(cs, "exists", find(cs, &t.table_name).is_some()),
        CatType::DropTempView(d) => {
            let dropped = match find(cs, &d.view_name) {
                Some(n) => cs.spark.drop_temp_view(&n)?,
                None => false,
            };
            one_bool(cs, "dropped", dropped)
        }
        CatType::DropGlobalTempView(d) => {
            use datafusion::catalog::SchemaProvider;
            let dropped = cs
                .global_temp
                .deregister_table(&d.view_name.to_ascii_lowercase())
                .map_err(EmberError::from)?
                .is_some();
            one_bool(cs, "dropped", dropped)
        }
        CatType::IsCached(i) => {
            find(cs, &i.table_name).ok_or_else(|| not_found(&i.table_name))?;
            one_bool(cs, "cached", false)
        }
        CatType::CacheTable(_)
        | CatType::UncacheTable(_)
        | CatType::ClearCache(_)
        | CatType::RefreshTable(_)
        | CatType::RefreshByPath(_) => empty(cs),
        CatType::FunctionExists(f) => {
            use datafusion::execution::FunctionRegistry;
            let ctx = cs.spark.context();
            let n = f.function_name.to_ascii_lowercase();
            one_bool(
                cs,
                "exists",
                ctx.udf(&n).is_ok() || ctx.udaf(&n).is_ok() || ctx.udwf(&n).is_ok(),
            )
        }
        other => {
            let debug = format!("{other:?}");
            let name = debug.split('(').next().unwrap_or("request");
            Err(ConnectError::unsupported(format!(
                "the catalog operation '{name}'"
            )))
        }
    }
}

fn not_found(name: &str) -> ConnectError {
    ember_core::EmberError::analysis(
        "TABLE_OR_VIEW_NOT_FOUND",
        format!("The table or view `{name}` cannot be found. Verify the spelling and correctness of the schema and catalog."),
    )
    .into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_patterns() {
        assert!(super::matches("fl*", "flights"));
        assert!(super::matches("x|flights", "FLIGHTS"));
        assert!(!super::matches("a*", "flights"));
    }
}
