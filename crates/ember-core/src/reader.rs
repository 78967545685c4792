//! `DataFrameReader` (`spark.read`): `format`, `option(s)`, `schema`, and `csv`,
//! `json`, `parquet`, `text`, `load`, with Spark's options.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::prelude::ParquetReadOptions;

use crate::dataframe::DataFrame;
use crate::error::{EmberError, Result};
use crate::session::SparkSession;

/// Spark's `DataFrameReader`.
#[derive(Debug, Clone)]
pub struct DataFrameReader {
    session: SparkSession,
    format: String,
    options: HashMap<String, String>,
    schema: Option<SchemaRef>,
    schema_ddl: Option<String>,
}

impl DataFrameReader {
    pub(crate) fn new(session: SparkSession) -> DataFrameReader {
        DataFrameReader {
            session,
            format: "parquet".into(),
            options: HashMap::new(),
            schema: None,
            schema_ddl: None,
        }
    }
    /// `format("csv" | "json" | "parquet" | "text")`.
    pub fn format(mut self, f: &str) -> Self {
        self.format = f.to_ascii_lowercase();
        self
    }
    /// `option(key, value)`; keys are case-insensitive as in Spark.
    pub fn option(mut self, k: &str, v: &str) -> Self {
        self.options.insert(k.to_string(), v.to_string());
        self
    }
    /// `options(map)`.
    pub fn options(mut self, opts: &HashMap<String, String>) -> Self {
        self.options
            .extend(opts.iter().map(|(k, v)| (k.clone(), v.clone())));
        self
    }
    /// `schema(StructType)`.
    pub fn schema(mut self, s: SchemaRef) -> Self {
        self.schema = Some(s);
        self
    }
    /// `schema("id INT, name STRING")`.
    pub fn schema_ddl(mut self, ddl: &str) -> Self {
        self.schema_ddl = Some(ddl.to_string());
        self
    }

    fn resolved_schema(&self) -> Result<Option<SchemaRef>> {
        if let Some(s) = &self.schema {
            return Ok(Some(s.clone()));
        }
        match &self.schema_ddl {
            Some(d) => Ok(Some(Arc::new(crate::types::parse_ddl_schema(
                d,
                self.session.time_zone().name(),
            )?))),
            None => Ok(None),
        }
    }

    /// `csv(paths)`.
    pub async fn csv(self, paths: &[&str]) -> Result<DataFrame> {
        self.format("csv").load(paths).await
    }
    /// `csv(path)` taking an owned path (convenient in closures).
    pub async fn csv_owned(self, path: String) -> Result<DataFrame> {
        self.format("csv").load(&[path.as_str()]).await
    }
    /// `json(paths)` (JSON lines).
    pub async fn json(self, paths: &[&str]) -> Result<DataFrame> {
        self.format("json").load(paths).await
    }
    /// `parquet(paths)`.
    pub async fn parquet(self, paths: &[&str]) -> Result<DataFrame> {
        self.format("parquet").load(paths).await
    }
    /// `text(paths)`: one `value: string` row per line.
    pub async fn text(self, paths: &[&str]) -> Result<DataFrame> {
        self.format("text").load(paths).await
    }

    /// `load(paths)` with the configured format.
    ///
    /// Errors: `PATH_NOT_FOUND` naming the path; `UNABLE_TO_INFER_SCHEMA`;
    /// `INVALID_OPTION` for bad option values.
    pub async fn load(self, paths: &[&str]) -> Result<DataFrame> {
        let paths: Vec<String> = if paths.is_empty() {
            self.options
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("path"))
                .map(|(_, v)| vec![v.clone()])
                .unwrap_or_default()
        } else {
            paths.iter().map(|p| p.to_string()).collect()
        };
        let (provider, report) = self.provider(&paths).await?;
        let df = self.session.context().read_table(provider)?;
        Ok(DataFrame::new(self.session.clone(), df).with_report(report))
    }

    /// Builds the table provider for `paths` (used by `CREATE VIEW ... USING`).
    pub(crate) async fn provider(
        &self,
        paths: &[String],
    ) -> Result<(
        Arc<dyn datafusion::catalog::TableProvider>,
        Option<ember_datasource::report::ReadReport>,
    )> {
        let schema = self.resolved_schema()?;
        match self.format.as_str() {
            "csv" => {
                let opts = ember_datasource::csv::CsvOptions::from_map(
                    &self.options,
                    self.session.time_zone(),
                )?;
                let paths = paths.to_vec();
                let max_split = self.session.with_conf(|c| {
                    Ok(c.bytes("spark.sql.files.maxPartitionBytes")?
                        .unwrap_or(128 << 20)
                        .max(1) as u64)
                })?;
                let storage = self.session.storage().clone();
                let table = blocking(move || {
                    ember_datasource::csv::CsvTable::try_new(&storage, &paths, opts, schema)
                })
                .await?
                .with_max_partition_bytes(max_split);
                let report = table.report();
                Ok((Arc::new(table), Some(report)))
            }
            "json" => {
                let opts = ember_datasource::json::JsonOptions::from_map(&self.options);
                let paths = paths.to_vec();
                let storage = self.session.storage().clone();
                let (schema, batches, report) = blocking(move || {
                    ember_datasource::json::read_json(&storage, &paths, &opts, schema)
                })
                .await?;
                let parts = if batches.is_empty() {
                    vec![vec![]]
                } else {
                    vec![batches]
                };
                Ok((Arc::new(MemTable::try_new(schema, parts)?), Some(report)))
            }
            "text" => {
                let opts = ember_datasource::text::TextOptions::from_map(&self.options)?;
                let parallelism = self.session.default_parallelism();
                let conf = self.session.with_conf(|c| {
                    let bytes =
                        |key: &str| -> Result<u64> { Ok(c.bytes(key)?.unwrap_or(0).max(0) as u64) };
                    Ok(ember_datasource::text::FileScanConf {
                        max_partition_bytes: bytes("spark.sql.files.maxPartitionBytes")?.max(1),
                        open_cost_bytes: bytes("spark.sql.files.openCostInBytes")?,
                        min_partition_num: c
                            .int("spark.sql.files.minPartitionNum")?
                            .map(|n| n.max(1) as usize)
                            .or(Some(parallelism)),
                    })
                })?;
                let storage = self.session.storage().clone();
                let paths = paths.to_vec();
                let table = blocking(move || {
                    ember_datasource::text::TextTable::try_new(&storage, &paths, opts, conf)
                })
                .await?;
                Ok((Arc::new(table), None))
            }
            "parquet" => {
                let storage = self.session.storage().clone();
                let owned = paths.to_vec();
                let listing =
                    blocking(move || ember_datasource::listing::list(&storage, &owned)).await?;
                let ctx = self.session.context();
                let flag = |k: &str| {
                    self.options.iter().any(|(key, v)| {
                        key.eq_ignore_ascii_case(k) && v.eq_ignore_ascii_case("true")
                    })
                };
                // As Spark's Parquet source: without `mergeSchema` the schema is the first
                // file's (files lacking a column read NULL, extra columns are dropped);
                // `recursiveFileLookup` turns partition discovery off.
                let merge = flag("mergeSchema")
                    || self
                        .session
                        .with_conf(|c| c.bool("spark.sql.parquet.mergeSchema"))?;
                let recursive = flag("recursiveFileLookup");
                let files: Vec<String> = listing.files.iter().map(|f| f.path.display()).collect();
                let file_schema = match (merge, files.first()) {
                    (false, Some(first)) => Some(
                        ctx.read_parquet(first.clone(), ParquetReadOptions::default())
                            .await?
                            .schema()
                            .as_arrow()
                            .clone(),
                    ),
                    _ => None,
                };
                if paths.len() == 1 && !listing.partition_columns.is_empty() && !recursive {
                    let cols: Vec<(String, DataType)> = listing.partition_columns.clone();
                    let mut opts = ParquetReadOptions::default().table_partition_cols(cols);
                    if let Some(s) = &file_schema {
                        opts = opts.schema(s);
                    }
                    let mut dir = paths[0].clone();
                    if ember_datasource::storage::is_remote(&dir) && !dir.ends_with('/') {
                        dir.push('/');
                    }
                    let df = ctx.read_parquet(dir, opts).await?;
                    return Ok((crate::nullable::nullable_table(df.into_view()), None));
                }
                let mut opts = ParquetReadOptions::default();
                if let Some(s) = &file_schema {
                    opts = opts.schema(s);
                }
                let df = ctx.read_parquet(files, opts).await?;
                Ok((crate::nullable::nullable_table(df.into_view()), None))
            }
            other => Err(EmberError::analysis(
                "DATA_SOURCE_NOT_FOUND",
                format!(
                    "Failed to find the data source: {other}. Supported: csv, json, parquet, text."
                ),
            )),
        }
    }
}

/// Runs `f` on a blocking thread: listing and reading inputs (local or object store)
/// is synchronous I/O.
///
/// Errors: `f`'s error, or an internal error if the thread panicked.
async fn blocking<T: Send + 'static, E: Into<EmberError> + Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, E> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EmberError::internal(e.to_string()))?
        .map_err(Into::into)
}
