//! `SparkSession`: the entry point, as in Spark. It owns a DataFusion
//! `SessionContext` configured for Spark's semantics (dialect, decimal literals,
//! null ordering, session time zone, memory pool with spilling, Spark functions) and
//! the catalog of temporary views.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use chrono_tz::Tz;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::{FunctionRegistry, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_spark::SessionStateBuilderSpark;

use crate::config;
use crate::dataframe::DataFrame;
use crate::error::{EmberError, Result};
use crate::reader::DataFrameReader;
use ember_datasource::storage::StorageRegistry;

/// Builder for [`SparkSession`], as `SparkSession.builder` in Spark.
#[derive(Clone, Default)]
pub struct SparkSessionBuilder {
    conf: BTreeMap<String, String>,
    planners: Vec<Arc<dyn datafusion::physical_planner::ExtensionPlanner + Send + Sync>>,
}

impl std::fmt::Debug for SparkSessionBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparkSessionBuilder")
            .field("conf", &self.conf)
            .field("planners", &self.planners.len())
            .finish()
    }
}

impl SparkSessionBuilder {
    /// `spark.master`: `local`, `local[n]` or `local[*]`.
    pub fn master(mut self, master: &str) -> Self {
        self.conf.insert("spark.master".into(), master.into());
        self
    }
    /// `spark.app.name`.
    pub fn app_name(mut self, name: &str) -> Self {
        self.conf.insert("spark.app.name".into(), name.into());
        self
    }
    /// Sets any configuration key (see [`crate::config::ENTRIES`]).
    pub fn config(mut self, key: &str, value: &str) -> Self {
        self.conf.insert(key.into(), value.into());
        self
    }
    /// Plans a front end's own logical plan nodes (`LogicalPlan::Extension`) that
    /// ember-core does not know, e.g. the Spark Connect server's Python map nodes.
    pub fn extension_planner(
        mut self,
        planner: Arc<dyn datafusion::physical_planner::ExtensionPlanner + Send + Sync>,
    ) -> Self {
        self.planners.push(planner);
        self
    }
    /// Creates the session.
    ///
    /// Errors: `INVALID_CONF_VALUE`-style analysis errors for a bad `spark.master`,
    /// time zone or memory size.
    pub fn get_or_create(self) -> Result<SparkSession> {
        SparkSession::new(self.conf, self.planners)
    }
}

pub(crate) struct Inner {
    pub ctx: SessionContext,
    pub conf: RwLock<BTreeMap<String, String>>,
    /// The session time zone; `spark.conf.set("spark.sql.session.timeZone", ..)` changes it.
    pub tz: RwLock<Tz>,
    pub views: RwLock<HashMap<String, ViewInfo>>,
    pub array_index: Arc<datafusion::logical_expr::ScalarUDF>,
    pub nullable_fn: Arc<datafusion::logical_expr::ScalarUDF>,
    pub not_null_fn: Arc<datafusion::logical_expr::ScalarUDF>,
    pub to_string_fn: Arc<datafusion::logical_expr::ScalarUDF>,
    pub divide_fn: Arc<datafusion::logical_expr::ScalarUDF>,
    pub storage: Arc<StorageRegistry>,
    /// `spark.default.parallelism` (else the `local[n]` thread count): partitions of
    /// a `range` that names none.
    pub default_parallelism: usize,
}

/// What ember knows of a temporary view beyond DataFusion's catalog.
#[derive(Clone)]
pub(crate) struct ViewInfo {
    /// Malformed-row report of the view's source, when it is a CSV/JSON source.
    pub report: Option<ember_datasource::report::ReadReport>,
}

/// A Spark session: configuration, temporary views and query execution.
/// Cheap to clone (shared state).
#[derive(Clone)]
pub struct SparkSession {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for SparkSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparkSession")
            .field("tz", &self.time_zone())
            .finish()
    }
}

fn machine_tz() -> String {
    iana_time_zone::get_timezone().unwrap_or_else(|_| "UTC".into())
}

impl SparkSession {
    /// `SparkSession.builder`.
    pub fn builder() -> SparkSessionBuilder {
        SparkSessionBuilder::default()
    }

    fn new(
        mut conf: BTreeMap<String, String>,
        planners: Vec<Arc<dyn datafusion::physical_planner::ExtensionPlanner + Send + Sync>>,
    ) -> Result<SparkSession> {
        let master = conf
            .entry("spark.master".into())
            .or_insert_with(|| "local[*]".into())
            .clone();
        let threads = config::parse_master(&master).ok_or_else(|| {
            EmberError::analysis("INVALID_CONF_VALUE", format!("Invalid value '{master}' for spark.master: use local, local[n] or local[*] (cluster mode: `ember master`/`ember worker`)."))
        })?;
        let tz_name = conf
            .get("spark.sql.session.timeZone")
            .cloned()
            .unwrap_or_else(machine_tz);
        let tz: Tz = tz_name.parse().map_err(|_| {
            EmberError::analysis("INVALID_CONF_VALUE.TIME_ZONE", format!("The value '{tz_name}' in the config \"spark.sql.session.timeZone\" is an invalid time zone."))
        })?;
        conf.insert("spark.sql.session.timeZone".into(), tz_name.clone());
        let typed = config::Conf::new(&conf);
        let parallelism = typed
            .int("spark.default.parallelism")?
            .map(|n| n.max(1) as usize)
            .unwrap_or(threads);
        // Spark's default of 200 applies only when the user set it (see below).
        let shuffle = match conf.contains_key("spark.sql.shuffle.partitions") {
            true => typed
                .int("spark.sql.shuffle.partitions")?
                .map(|n| n.max(1) as usize),
            false => None,
        };
        // One DataFusion partition count drives scans and shuffles; Spark's default of
        // 200 shuffle partitions is tuned for clusters, so ember uses the thread count
        // unless the user set it.
        let target = shuffle
            .map(|s| s.min(parallelism.max(threads) * 4).max(1))
            .unwrap_or(parallelism)
            .max(1);
        let broadcast = typed
            .bytes("spark.sql.autoBroadcastJoinThreshold")?
            .unwrap_or(10 << 20)
            .max(0) as u64;
        let memory = typed
            .bytes("spark.driver.memory")?
            .unwrap_or(1 << 30)
            .max(1) as u64;

        let mut cfg = SessionConfig::new()
            .with_target_partitions(target)
            .with_batch_size(8192)
            .with_information_schema(true)
            .with_create_default_catalog_and_schema(true);
        let opts = cfg.options_mut();
        opts.sql_parser.dialect = datafusion::common::config::Dialect::Databricks;
        opts.sql_parser.parse_float_as_decimal = true;
        opts.sql_parser.default_null_ordering = "nulls_min".into();
        opts.sql_parser.map_string_types_to_utf8view = false;
        opts.execution.time_zone = Some(tz_name.clone());
        opts.execution.enable_ansi_mode = typed.bool("spark.sql.ansi.enabled")?;
        opts.execution.parquet.schema_force_view_types = false;
        opts.optimizer.hash_join_single_partition_threshold = broadcast as usize;
        // Sorts reserve memory for their spill merge: half the pool, so that a sort
        // of one large partition (Spark's one task per file) can merge its in-memory
        // run with every spill file instead of failing.
        opts.execution.sort_spill_reservation_bytes =
            ((memory / 2) as usize).clamp(256 << 10, 64 << 20);
        opts.optimizer.hash_join_single_partition_threshold_rows = usize::MAX / 2;
        // Spark runs one task per input partition and never deals a partition's rows
        // out to other tasks on its own: a one-file CSV aggregates in file order, so
        // `avg`/`stddev` of doubles round exactly as Spark's. DataFusion's round-robin
        // insertion would split it and merge partial sums in arrival order.
        opts.optimizer.enable_round_robin_repartition = false;
        // Spark's column metadata (`withMetadata`) rides on logical fields; physical
        // projections drop field metadata, which DataFusion's aggregate planning would
        // otherwise refuse as a schema difference.
        opts.execution.skip_physical_aggregate_schema_check = true;

        // Expert escape hatch: `datafusion.*` keys set DataFusion options directly.
        for (k, v) in conf.iter().filter(|(k, _)| k.starts_with("datafusion.")) {
            cfg.options_mut().set(k, v).map_err(|e| {
                EmberError::analysis(
                    "INVALID_CONF_VALUE",
                    format!("Invalid value '{v}' for {k}: {e}"),
                )
            })?;
        }
        let storage = Arc::new(StorageRegistry::new(conf.clone()));
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(memory as usize)))
            .with_object_store_registry(storage.clone())
            // Every `spark.read` lists its paths afresh, as Spark's InMemoryFileIndex:
            // no listing cache shared across reads (an overwrite must be seen).
            .with_cache_manager(
                datafusion::execution::cache::cache_manager::CacheManagerConfig::default()
                    .with_list_files_cache_limit(0),
            )
            .build_arc()?;
        let state = SessionStateBuilder::new()
            .with_default_features()
            .with_config(cfg)
            .with_runtime_env(runtime)
            .with_spark_features()
            .with_optimizer_rules(optimizer_rules())
            .with_query_planner(Arc::new(crate::planner::EmberQueryPlanner {
                extra: planners,
            }))
            .build();
        let mut ctx = SessionContext::new_with_state(state);
        // Spark's interval operators, planned before DataFusion's would refuse them.
        ctx.register_expr_planner(Arc::new(ember_sql::sql::interval_rules::IntervalPlanner))?;
        ember_sql::registry::register(&ctx, &conf, &tz_name, parallelism)?;
        let ansi = typed.bool("spark.sql.ansi.enabled")?;
        let index_fn = ctx
            .udf(if ansi { "spark_array_index" } else { "get" })
            .map_err(EmberError::from)?;
        let nullable_fn = ctx.udf("ember_nullable")?;
        let not_null_fn = ctx.udf("ember_not_null")?;
        let to_string_fn = ctx.udf("spark_to_string")?;
        let divide_fn = ctx.udf("spark_divide")?;
        Ok(SparkSession {
            inner: Arc::new(Inner {
                ctx,
                conf: RwLock::new(conf),
                tz: RwLock::new(tz),
                views: RwLock::new(HashMap::new()),
                array_index: index_fn,
                nullable_fn,
                not_null_fn,
                to_string_fn,
                divide_fn,
                storage,
                default_parallelism: parallelism.max(1),
            }),
        })
    }

    /// The session time zone (`spark.sql.session.timeZone`).
    pub fn time_zone(&self) -> Tz {
        self.inner.tz.read().map(|t| *t).unwrap_or(chrono_tz::UTC)
    }

    /// The object stores of this session, configured from its `spark.hadoop.*` keys
    /// (see [`ember_datasource::storage::options`]).
    pub fn storage(&self) -> &Arc<StorageRegistry> {
        &self.inner.storage
    }

    /// The underlying DataFusion context (for advanced use).
    pub fn context(&self) -> &SessionContext {
        &self.inner.ctx
    }

    /// `spark.default.parallelism` (else the `local[n]` thread count): the partitions of
    /// `range`, and Spark's `leafNodeDefaultParallelism` for file scans.
    pub fn default_parallelism(&self) -> usize {
        self.inner.default_parallelism
    }

    /// Runs `read` over this session's settings through their typed declarations
    /// ([`config::Conf`]).
    ///
    /// Errors: those of `read` (`INVALID_CONF_VALUE.TYPE_MISMATCH` for a value of the
    /// wrong type); `INTERNAL_ERROR` if the settings lock is poisoned.
    pub fn with_conf<R>(&self, read: impl FnOnce(config::Conf<'_>) -> Result<R>) -> Result<R> {
        let conf = self
            .inner
            .conf
            .read()
            .map_err(|_| EmberError::internal("session configuration lock poisoned"))?;
        read(config::Conf::new(&conf))
    }

    /// Current value of a configuration key (`spark.conf.get`): the value set, else
    /// the declared default (none for defaults computed elsewhere).
    pub fn conf_get(&self, key: &str) -> Option<String> {
        let conf = self.inner.conf.read().ok()?;
        conf.get(key).cloned().or_else(|| {
            // A default computed elsewhere (`<...>`) or none (empty) is no value.
            config::entry(key)
                .filter(|e| !e.default.is_empty() && !e.default.starts_with('<'))
                .map(|e| e.default.to_string())
        })
    }

    /// Sets a runtime configuration key (`spark.conf.set`, SQL `SET k=v`).
    /// Keys fixed at start-up (`spark.master`, `spark.driver.memory`) are recorded but
    /// take effect in a new session; `spark.sql.session.timeZone` applies at once.
    ///
    /// Errors: `INVALID_CONF_VALUE.TIME_ZONE` when `spark.sql.session.timeZone` is set to
    /// a name that is not an IANA zone (as Spark's SQLConf check); nothing is changed then.
    pub fn conf_set(&self, key: &str, value: &str) -> Result<()> {
        if key == "spark.sql.session.timeZone" {
            self.set_time_zone(value)?;
        }
        if let Ok(mut c) = self.inner.conf.write() {
            c.insert(key.to_string(), value.to_string());
        }
        self.inner.storage.set_conf(key, Some(value));
        if key == crate::functions::maps::MAP_KEY_DEDUP_POLICY {
            for f in crate::functions::maps::functions(value) {
                self.inner.ctx.register_udf(f);
            }
        }
        if key == "spark.sql.shuffle.partitions" {
            if let Ok(n) = value.parse::<usize>() {
                let state = self.inner.ctx.state_ref();
                let mut st = state.write();
                st.config_mut().options_mut().execution.target_partitions = n.max(1);
            }
        }
        Ok(())
    }

    /// Switches the session time zone: timestamps render in it, and the zone-dependent
    /// functions (`hour`, `date_format`, `from_unixtime`, ...) and DataFusion's
    /// `datafusion.execution.time_zone` follow it from the next query on, as in Spark
    /// where `spark.sql.session.timeZone` is a runtime key.
    fn set_time_zone(&self, name: &str) -> Result<()> {
        let tz: Tz = name.parse().map_err(|_| {
            EmberError::analysis(
                "INVALID_CONF_VALUE.TIME_ZONE",
                format!("The value '{name}' in the config \"spark.sql.session.timeZone\" is an invalid time zone."),
            )
        })?;
        if let Ok(mut t) = self.inner.tz.write() {
            *t = tz;
        }
        {
            let state = self.inner.ctx.state_ref();
            let mut st = state.write();
            st.config_mut().options_mut().execution.time_zone = Some(name.to_string());
            // DataFusion's zone-aware functions (`to_timestamp`, `now`, ..) are rebuilt
            // from the new options, as its own `SET` statement does.
            let options = st.config().options().clone();
            let updated: Vec<_> = st
                .scalar_functions()
                .values()
                .filter_map(|f| f.inner().with_updated_config(&options).map(Arc::new))
                .collect();
            for f in updated {
                st.register_udf(f)?;
            }
        }
        for f in crate::functions::spark_functions(name) {
            self.inner.ctx.register_udf(f);
        }
        Ok(())
    }

    /// Removes a runtime configuration key (`spark.conf.unset`): it reads its default
    /// again, as Spark's `SQLConf.unsetConf`. `spark.sql.session.timeZone` returns to
    /// the machine's zone (Spark's default, the JVM zone) at once: display and the
    /// zone-dependent functions follow it from the next query on.
    pub fn conf_unset(&self, key: &str) {
        if key == "spark.sql.session.timeZone" {
            let zone = machine_tz();
            if self.set_time_zone(&zone).is_ok() {
                if let Ok(mut c) = self.inner.conf.write() {
                    c.insert(key.to_string(), zone);
                }
                return;
            }
        }
        if let Ok(mut c) = self.inner.conf.write() {
            c.remove(key);
        }
        self.inner.storage.set_conf(key, None);
        if key == crate::functions::maps::MAP_KEY_DEDUP_POLICY {
            for f in crate::functions::maps::functions("EXCEPTION") {
                self.inner.ctx.register_udf(f);
            }
        }
    }

    /// All explicitly set configuration, sorted by key.
    pub fn conf_all(&self) -> BTreeMap<String, String> {
        self.inner
            .conf
            .read()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// `spark.range(start, end, step, numPartitions)`: one non-null `bigint` column `id`
    /// split into `num_partitions` (default `spark.default.parallelism`) partitions of
    /// consecutive elements, as Spark's (see [`crate::functions::table`]).
    ///
    /// Errors: `FAILED_FUNCTION_CALL` for a zero `step`.
    pub fn range(
        &self,
        start: i64,
        end: i64,
        step: i64,
        num_partitions: Option<usize>,
    ) -> Result<DataFrame> {
        if step == 0 {
            return Err(EmberError::analysis(
                "FAILED_FUNCTION_CALL",
                "The step of range must not be 0.",
            ));
        }
        let n = num_partitions.unwrap_or(self.inner.default_parallelism);
        let table = crate::functions::table::RangeTable::try_new(start, end, step, n)?;
        let df = self.inner.ctx.read_table(Arc::new(table))?;
        Ok(DataFrame::new(self.clone(), df))
    }

    /// `spark.read`.
    pub fn read(&self) -> DataFrameReader {
        DataFrameReader::new(self.clone())
    }

    /// `spark.sql(text)`: runs one statement; queries return a lazy DataFrame, commands
    /// run eagerly and return their result (often empty).
    ///
    /// Errors: `PARSE_SYNTAX_ERROR` with position, analysis errors with Spark's class.
    pub async fn sql(&self, text: &str) -> Result<DataFrame> {
        crate::sql::execute(self, text).await
    }

    /// `spark.table(name)`.
    pub async fn table(&self, name: &str) -> Result<DataFrame> {
        let df = self.inner.ctx.table(name).await?;
        Ok(DataFrame::new(self.clone(), df))
    }

    /// Registers `df` as a temporary view (`createOrReplaceTempView`).
    pub fn create_or_replace_temp_view(&self, name: &str, df: &DataFrame) -> Result<()> {
        let view = df.inner().clone().into_view();
        let _ = self.inner.ctx.deregister_table(name)?;
        self.inner.ctx.register_table(name, view)?;
        if let Ok(mut v) = self.inner.views.write() {
            v.insert(
                name.to_lowercase(),
                ViewInfo {
                    report: df.source_report(),
                },
            );
        }
        Ok(())
    }

    /// Registers a table provider as a temporary view with an optional read report.
    pub(crate) fn register_view(
        &self,
        name: &str,
        provider: Arc<dyn datafusion::catalog::TableProvider>,
        report: Option<ember_datasource::report::ReadReport>,
    ) -> Result<()> {
        let _ = self.inner.ctx.deregister_table(name)?;
        self.inner.ctx.register_table(name, provider)?;
        if let Ok(mut v) = self.inner.views.write() {
            v.insert(name.to_lowercase(), ViewInfo { report });
        }
        Ok(())
    }

    /// Drops a temporary view; returns whether it existed.
    pub fn drop_temp_view(&self, name: &str) -> Result<bool> {
        let existed = self.inner.ctx.deregister_table(name)?.is_some();
        if let Ok(mut v) = self.inner.views.write() {
            v.remove(&name.to_lowercase());
        }
        Ok(existed)
    }

    /// Names of the temporary views, sorted.
    pub fn list_tables(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .inner
            .views
            .read()
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The malformed-row report of a view's most recent scan (CSV/JSON sources).
    pub fn view_report(&self, name: &str) -> Option<ember_datasource::report::ReadReport> {
        self.inner
            .views
            .read()
            .ok()?
            .get(&name.to_lowercase())?
            .report
            .clone()
    }

    pub(crate) fn rule_functions(&self) -> crate::sql::rules::RuleFunctions {
        crate::sql::rules::RuleFunctions {
            array_index: self.inner.array_index.clone(),
            nullable: self.inner.nullable_fn.clone(),
            not_null: self.inner.not_null_fn.clone(),
            to_string: self.inner.to_string_fn.clone(),
            divide: self.inner.divide_fn.clone(),
            time_type: self
                .with_conf(|c| c.bool("spark.sql.timeType.enabled"))
                .unwrap_or(false),
        }
    }

    /// Formatting options for `show()`.
    pub fn format_options(&self) -> crate::format::FormatOptions {
        crate::format::FormatOptions {
            session_tz: self.time_zone(),
        }
    }
}

/// DataFusion's logical optimizer rules without `eliminate_duplicated_expr`, which
/// drops sort keys it believes determined by earlier ones through functional
/// dependencies: DataFusion 54 derives wrong ones for a window or a DISTINCT over a
/// cross join, so `grid.exceptAll(x).orderBy("origin", "carrier")` sorted by `origin`
/// only. A sort keeps every key the user gave, as Spark's does.
fn optimizer_rules() -> Vec<Arc<dyn datafusion::optimizer::OptimizerRule + Send + Sync>> {
    datafusion::optimizer::Optimizer::new()
        .rules
        .into_iter()
        .filter(|r| r.name() != "eliminate_duplicated_expr")
        // Pulling struct-field reads out into their own projection named the
        // aggregate's output twice (`select("sum(v)", col("window").getField("end"))`
        // over a grouped window failed with COLUMN_ALREADY_EXISTS).
        .filter(|r| {
            !matches!(
                r.name(),
                "extract_leaf_expressions" | "push_down_leaf_projections"
            )
        })
        .collect()
}
