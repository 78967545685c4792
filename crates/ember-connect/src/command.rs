//! Commands (`ExecutePlan` with a `Command`): `spark.sql` statements, temporary
//! views, `df.write`, and UDF registration.

use std::sync::Arc;

use ember_core::{EmberError, SaveMode};
use futures::stream::StreamExt;
use spark_connect_proto::command::CommandType;
use spark_connect_proto::execute_plan_response::{ResponseType, SqlCommandResult};
use spark_connect_proto::relation::RelType;
use spark_connect_proto::write_operation::{
    save_table::TableSaveMethod, SaveMode as PbMode, SaveType,
};
use spark_connect_proto::{Command, LocalRelation, Relation, WriteOperation};

use crate::error::{ConnectError, Result};
use crate::execute::{response, ResponseSource};
use crate::relation::Planner;
use crate::session::ConnectSession;

fn done(items: Vec<spark_connect_proto::ExecutePlanResponse>) -> ResponseSource {
    futures::stream::iter(items.into_iter().map(Ok)).boxed()
}

/// True when a statement is a query (planned lazily, as `spark.sql` returns a lazy
/// DataFrame for queries and runs commands at once).
pub fn is_query(sql: &str) -> bool {
    let mut t = sql.trim_start();
    // Skip leading comments.
    loop {
        if let Some(rest) = t.strip_prefix("--") {
            t = rest
                .split_once('\n')
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else if let Some(rest) = t.strip_prefix("/*") {
            t = rest
                .split_once("*/")
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else {
            break;
        }
    }
    let word: String = t
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    t.starts_with('(')
        || matches!(
            word.as_str(),
            "SELECT" | "WITH" | "VALUES" | "FROM" | "TABLE"
        )
}

/// Runs a command; the responses (before `ResultComplete`).
pub async fn run(cs: &Arc<ConnectSession>, cmd: &Command) -> Result<ResponseSource> {
    let t = cmd
        .command_type
        .as_ref()
        .ok_or_else(|| ConnectError::invalid("Command without a type"))?;
    match t {
        CommandType::SqlCommand(s) => {
            #[allow(deprecated)]
            let rel = match &s.input {
                Some(r) => r.clone(),
                None => Relation {
                    common: None,
                    rel_type: Some(RelType::Sql(spark_connect_proto::Sql {
                        query: s.sql.clone(),
                        args: s.args.clone(),
                        pos_args: s.pos_args.clone(),
                        named_arguments: s.named_arguments.clone(),
                        pos_arguments: s.pos_arguments.clone(),
                    })),
                },
            };
            let query = match &rel.rel_type {
                Some(RelType::Sql(q)) => is_query(&q.query),
                _ => true,
            };
            let generation = cs.generation();
            let mut p = Planner::new(cs);
            if query {
                // Planning checks the statement now (errors surface at spark.sql()).
                let df = p.relation(&rel).await?;
                // The client sends this relation back to run it: plan it once.
                if let Some(RelType::Sql(q)) = &rel.rel_type {
                    let text = crate::read::bind_parameters(&p, q)?;
                    cs.keep_planned(generation, &text, df);
                }
                // No `sql_command_result` for a query: PySpark then runs its own SQL
                // relation (the same one), and one response fewer saves the client a
                // message and a `ReleaseExecute` call per `spark.sql`.
                return Ok(done(vec![]));
            }
            // A statement that is not a query runs now and may change the session.
            let ran = async {
                let df = p.relation(&rel).await?;
                let batches = df.collect().await?;
                Ok::<_, ConnectError>((df, batches))
            }
            .await;
            cs.state_changed();
            let (df, batches) = ran?;
            let relation = {
                let schema = df.schema();
                let mut buf = Vec::new();
                {
                    let wire = Arc::new(crate::types::wire_schema(&schema));
                    let mut w = arrow::ipc::writer::StreamWriter::try_new(&mut buf, &wire)?;
                    for b in &batches {
                        let cols = b
                            .columns()
                            .iter()
                            .zip(wire.fields())
                            .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
                            .collect::<std::result::Result<Vec<_>, _>>()?;
                        let opts = arrow::array::RecordBatchOptions::new()
                            .with_row_count(Some(b.num_rows()));
                        w.write(&arrow::record_batch::RecordBatch::try_new_with_options(
                            wire.clone(),
                            cols,
                            &opts,
                        )?)?;
                    }
                    w.finish()?;
                }
                Relation {
                    common: None,
                    rel_type: Some(RelType::LocalRelation(LocalRelation {
                        data: Some(buf.into()),
                        schema: None,
                    })),
                }
            };
            Ok(sql_command_result(relation))
        }
        _ => {
            // Views, writes and functions change what later statements mean.
            let out = run_other(cs, t).await;
            cs.state_changed();
            out
        }
    }
}

/// The response of a `SqlCommand`: the relation the client runs for the result.
fn sql_command_result(relation: Relation) -> ResponseSource {
    done(vec![response(ResponseType::SqlCommandResult(
        SqlCommandResult {
            relation: Some(relation),
        },
    ))])
}

/// The commands other than `SqlCommand`.
async fn run_other(cs: &Arc<ConnectSession>, t: &CommandType) -> Result<ResponseSource> {
    match t {
        CommandType::CreateDataframeView(v) => {
            let input = v
                .input
                .as_ref()
                .ok_or_else(|| ConnectError::invalid("view without an input"))?;
            let df = Planner::new(cs).relation(input).await?;
            if v.is_global {
                return create_global_temp_view(cs, v, &df);
            }
            let exists = cs
                .spark
                .list_tables()
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&v.name));
            if exists && !v.replace {
                return Err(EmberError::analysis(
                    "TEMP_TABLE_OR_VIEW_ALREADY_EXISTS",
                    format!("Cannot create the temporary view `{}` because it already exists.\nChoose a different name, drop or replace the existing view, or add the IF NOT EXISTS clause to tolerate pre-existing views.", v.name),
                )
                .into());
            }
            cs.spark.create_or_replace_temp_view(&v.name, &df)?;
            Ok(done(vec![]))
        }
        CommandType::WriteOperation(w) => {
            write(cs, w).await?;
            Ok(done(vec![]))
        }
        CommandType::RegisterFunction(f) => {
            crate::udf::register(cs, f)?;
            Ok(done(vec![]))
        }
        CommandType::RegisterTableFunction(u) => {
            crate::udtf::register(cs, u)?;
            Ok(done(vec![]))
        }
        CommandType::CheckpointCommand(c) => {
            let id = crate::persist::checkpoint(cs, c).await?;
            Ok(done(vec![response(ResponseType::CheckpointCommandResult(
                spark_connect_proto::CheckpointCommandResult {
                    relation: Some(spark_connect_proto::CachedRemoteRelation { relation_id: id }),
                },
            ))]))
        }
        CommandType::RemoveCachedRemoteRelationCommand(c) => {
            if let Some(r) = &c.relation {
                crate::persist::remove_cached_remote(cs, &r.relation_id);
            }
            Ok(done(vec![]))
        }
        other => {
            let debug = format!("{other:?}");
            let name = debug.split('(').next().unwrap_or("command").to_string();
            Err(ConnectError::unsupported(format!("the command '{name}'")))
        }
    }
}

/// `createGlobalTempView` / `createOrReplaceGlobalTempView`: a view in the server's
/// `global_temp` database, visible to every session as `global_temp.name`.
fn create_global_temp_view(
    cs: &Arc<ConnectSession>,
    v: &spark_connect_proto::CreateDataFrameViewCommand,
    df: &ember_core::DataFrame,
) -> Result<ResponseSource> {
    use datafusion::catalog::SchemaProvider;
    let name = v.name.to_ascii_lowercase();
    if cs.global_temp.table_exist(&name) && !v.replace {
        return Err(EmberError::analysis(
            "TEMP_TABLE_OR_VIEW_ALREADY_EXISTS",
            format!("Cannot create the temporary view `global_temp`.`{}` because it already exists.\nChoose a different name, drop or replace the existing view, or add the IF NOT EXISTS clause to tolerate pre-existing views.", v.name),
        )
        .into());
    }
    cs.global_temp
        .deregister_table(&name)
        .map_err(EmberError::from)?;
    cs.global_temp
        .register_table(name, df.inner().clone().into_view())
        .map_err(EmberError::from)?;
    Ok(done(vec![]))
}

/// `df.write.format(f).mode(m).options(o).partitionBy(cols).save(path)` and
/// `saveAsTable(name)` / `insertInto(name)`: tables are Parquet directories under
/// `spark.sql.warehouse.dir` (`spark-warehouse`), registered as views of the session.
async fn write(cs: &Arc<ConnectSession>, w: &WriteOperation) -> Result<()> {
    let input = w
        .input
        .as_ref()
        .ok_or_else(|| ConnectError::invalid("write without an input"))?;
    let df = Planner::executing(cs).relation(input).await?;
    if w.bucket_by.is_some() {
        return Err(ConnectError::unsupported("bucketBy"));
    }
    if !w.sort_column_names.is_empty() {
        return Err(ConnectError::unsupported("sortBy"));
    }
    let mode = match PbMode::try_from(w.mode).unwrap_or(PbMode::Unspecified) {
        PbMode::Append => SaveMode::Append,
        PbMode::Overwrite => SaveMode::Overwrite,
        PbMode::Ignore => SaveMode::Ignore,
        PbMode::ErrorIfExists | PbMode::Unspecified => SaveMode::ErrorIfExists,
    };
    let format = w
        .source
        .clone()
        .or_else(|| cs.spark.conf_get("spark.sql.sources.default"))
        .unwrap_or_else(|| "parquet".into());
    let mut writer = df.write().format(&format).mode(mode);
    for (k, v) in &w.options {
        writer = writer.option(k, v);
    }
    let parts: Vec<&str> = w.partitioning_columns.iter().map(|s| s.as_str()).collect();
    if !parts.is_empty() {
        writer = writer.partition_by(&parts);
    }
    match w.save_type.as_ref() {
        Some(SaveType::Path(p)) => Ok(writer.save(p).await?),
        Some(SaveType::Table(t)) => {
            let warehouse = cs
                .spark
                .conf_get("spark.sql.warehouse.dir")
                .unwrap_or_else(|| "spark-warehouse".into());
            let name = crate::expr::parse_identifier(&t.table_name)
                .last()
                .cloned()
                .unwrap_or_default();
            let path = format!(
                "{}/{}",
                warehouse.trim_end_matches('/'),
                name.to_ascii_lowercase()
            );
            let method =
                TableSaveMethod::try_from(t.save_method).unwrap_or(TableSaveMethod::SaveAsTable);
            let writer = if method == TableSaveMethod::InsertInto {
                writer.mode(SaveMode::Append)
            } else {
                writer
            };
            writer.save(&path).await?;
            let table = cs
                .spark
                .read()
                .format(&format)
                .load(&[path.as_str()])
                .await?;
            cs.spark.create_or_replace_temp_view(&name, &table)?;
            Ok(())
        }
        None => {
            let path = w
                .options
                .get("path")
                .cloned()
                .ok_or_else(|| ConnectError::invalid("write without a path or table"))?;
            Ok(writer.save(&path).await?)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn queries_and_commands() {
        assert!(super::is_query("  -- c\nSELECT 1"));
        assert!(super::is_query("with x as (select 1) select * from x"));
        assert!(!super::is_query("CREATE TEMP VIEW v AS SELECT 1"));
        assert!(!super::is_query("SHOW TABLES"));
    }
}
