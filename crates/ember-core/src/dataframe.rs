//! `DataFrame`: a lazy, partitioned query, with Spark's method names in snake_case.
//! Transformations build a DataFusion logical plan; actions (`show`, `collect`,
//! `count`, `take`, `first`, writes) execute it.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::logical_expr::{col, Expr, JoinType};

use crate::column::{Column, SortOrder};
use datafusion::prelude::DataFrame as DfFrame;

use crate::error::{EmberError, Result};
use crate::session::SparkSession;

/// A Spark DataFrame over a DataFusion plan.
#[derive(Clone)]
pub struct DataFrame {
    session: SparkSession,
    df: DfFrame,
    report: Option<ember_datasource::report::ReadReport>,
    /// Exact output partition count requested by `repartition`/`coalesce` (Spark
    /// guarantees it; DataFusion's optimizer may change it, so it is enforced on the
    /// physical plan by [`DataFrame::execute_partitioned`]).
    partitions: Option<usize>,
}

impl std::fmt::Debug for DataFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataFrame[{}]", self.schema_simple_string())
    }
}

fn analyzed(session: &SparkSession, df: DfFrame) -> DfFrame {
    let state = session.context().state();
    match crate::sql::rules::analyze(&state, df.logical_plan().clone(), &session.rule_functions()) {
        Ok(plan) => DfFrame::new(state, plan),
        Err(_) => df,
    }
}

/// Join types by Spark's names (`inner`, `left`, `left_outer`, `right`, `full`,
/// `outer`, `left_semi`, `semi`, `left_anti`, `anti`, `cross`).
pub fn parse_join_type(how: &str) -> Result<JoinType> {
    Ok(match how.to_ascii_lowercase().replace('_', "").as_str() {
        "inner" | "cross" => JoinType::Inner,
        "left" | "leftouter" => JoinType::Left,
        "right" | "rightouter" => JoinType::Right,
        "full" | "outer" | "fullouter" => JoinType::Full,
        "leftsemi" | "semi" => JoinType::LeftSemi,
        "leftanti" | "anti" => JoinType::LeftAnti,
        other => {
            return Err(EmberError::analysis(
                "UNSUPPORTED_JOIN_TYPE",
                format!("Unsupported join type '{other}'. Supported join types include: 'inner', 'outer', 'full', 'fullouter', 'full_outer', 'leftouter', 'left', 'left_outer', 'rightouter', 'right', 'right_outer', 'leftsemi', 'left_semi', 'semi', 'leftanti', 'left_anti', 'anti', 'cross'."),
            ))
        }
    })
}

impl DataFrame {
    /// Wraps a DataFusion DataFrame, analyzing its plan with Spark's semantics
    /// (see [`crate::sql::rules::analyze`]). Panics never; analysis errors are
    /// reported by the first action if they cannot be reported here.
    pub(crate) fn new(session: SparkSession, df: DfFrame) -> DataFrame {
        let df = analyzed(&session, df);
        DataFrame {
            session,
            df,
            report: None,
            partitions: None,
        }
    }

    /// Wraps a DataFusion DataFrame built by a front end (the Spark Connect plan
    /// translation) on this session, analyzing its plan with Spark's semantics as
    /// every ember transformation does.
    pub fn from_datafusion(session: &SparkSession, df: DfFrame) -> DataFrame {
        DataFrame::new(session.clone(), df)
    }

    /// Wraps a query just planned from SQL, analyzing it with Spark's semantics in the
    /// session state it was planned with (no copy of the state is made).
    pub(crate) fn try_new(session: SparkSession, df: DfFrame) -> Result<DataFrame> {
        let (state, plan) = df.into_parts();
        let plan = crate::sql::rules::analyze(&state, plan, &session.rule_functions())?;
        Ok(DataFrame {
            df: DfFrame::new(state, plan),
            session,
            report: None,
            partitions: None,
        })
    }

    pub(crate) fn with_report(
        mut self,
        r: Option<ember_datasource::report::ReadReport>,
    ) -> DataFrame {
        self.report = r;
        self
    }

    fn wrap(&self, df: DfFrame) -> DataFrame {
        DataFrame {
            session: self.session.clone(),
            df: analyzed(&self.session, df),
            report: self.report.clone(),
            partitions: None,
        }
    }

    fn with_partitions(mut self, n: usize) -> DataFrame {
        self.partitions = Some(n.max(1));
        self
    }

    /// Executes the plan and returns one stream per output partition; the count is
    /// exactly the one asked by `repartition(n)`/`coalesce(n)` when they are the last
    /// transformation (Spark's contract that writers rely on for file counts).
    pub async fn execute_partitioned(
        &self,
    ) -> Result<Vec<datafusion::physical_plan::SendableRecordBatchStream>> {
        use datafusion::physical_plan::{
            coalesce_partitions::CoalescePartitionsExec, repartition::RepartitionExec,
            ExecutionPlan, ExecutionPlanProperties,
        };
        let task = std::sync::Arc::new(self.df.task_ctx());
        let mut plan: std::sync::Arc<dyn ExecutionPlan> =
            self.df.clone().create_physical_plan().await?;
        if let Some(n) = self.partitions {
            if plan.output_partitioning().partition_count() != n {
                plan = if n == 1 {
                    std::sync::Arc::new(CoalescePartitionsExec::new(plan))
                } else {
                    std::sync::Arc::new(RepartitionExec::try_new(
                        plan,
                        datafusion::physical_plan::Partitioning::RoundRobinBatch(n),
                    )?)
                };
            }
        }
        Ok(datafusion::physical_plan::execute_stream_partitioned(
            plan, task,
        )?)
    }

    /// The DataFusion DataFrame underneath.
    pub fn inner(&self) -> &DfFrame {
        &self.df
    }

    /// The session this DataFrame belongs to.
    pub fn session(&self) -> &SparkSession {
        &self.session
    }

    /// Malformed-row report of the source this DataFrame was read from (CSV/JSON),
    /// filled in when an action runs.
    pub fn source_report(&self) -> Option<ember_datasource::report::ReadReport> {
        self.report.clone()
    }

    /// Arrow schema (Spark `StructType`).
    pub fn schema(&self) -> SchemaRef {
        self.df.schema().inner().clone()
    }

    /// Column names.
    pub fn columns(&self) -> Vec<String> {
        self.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn schema_simple_string(&self) -> String {
        self.schema()
            .fields()
            .iter()
            .map(|f| {
                format!(
                    "{}: {}",
                    f.name(),
                    crate::types::simple_string(f.data_type())
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `printSchema()` text (`root\n |-- name: type (nullable = ...)`).
    pub fn tree_string(&self) -> String {
        crate::types::tree_string(&self.schema())
    }

    /// Prints the schema as `printSchema()` does.
    pub fn print_schema(&self) {
        print!("{}", self.tree_string());
    }

    /// `select(cols)` by names (`*` allowed).
    pub fn select(&self, cols: &[&str]) -> Result<DataFrame> {
        if cols == ["*"] {
            return Ok(self.clone());
        }
        Ok(self.wrap(self.df.clone().select_columns(cols)?))
    }

    /// `select` with expressions.
    pub fn select_exprs(&self, exprs: Vec<Expr>) -> Result<DataFrame> {
        Ok(self.wrap(self.df.clone().select(exprs)?))
    }

    /// `selectExpr("a + 1 AS b", ...)`: Spark SQL expression strings.
    pub fn select_expr(&self, exprs: &[&str]) -> Result<DataFrame> {
        let parsed = exprs
            .iter()
            .map(|e| self.parse_expr(e))
            .collect::<Result<Vec<_>>>()?;
        self.select_exprs(parsed)
    }

    /// Parses a Spark SQL expression against this DataFrame's schema.
    pub fn parse_expr(&self, text: &str) -> Result<Expr> {
        Ok(self.df.parse_sql_expr(text)?)
    }

    /// `filter(condition)` / `where`.
    pub fn filter(&self, condition: impl Into<Expr>) -> Result<DataFrame> {
        Ok(self.wrap(self.df.clone().filter(condition.into())?))
    }

    /// `select(cols)` with [`Column`]s.
    pub fn select_cols(&self, cols: Vec<Column>) -> Result<DataFrame> {
        self.select_exprs(cols.into_iter().map(|c| c.0).collect())
    }

    /// `groupBy(cols)`: returns [`crate::grouped::GroupedData`] for `agg`, `count`...
    pub fn group_by(&self, cols: Vec<Column>) -> crate::grouped::GroupedData {
        crate::grouped::GroupedData::new(self.clone(), cols.into_iter().map(|c| c.0).collect())
    }

    /// `na`: missing-value functions (`fill`, `drop`).
    pub fn na(&self) -> crate::grouped::NaFunctions {
        crate::grouped::NaFunctions::new(self.clone())
    }

    /// `describe(cols)`: count, mean, stddev, min, max of each column as strings
    /// (all numeric and string columns when `cols` is empty), as Spark.
    pub async fn describe(&self, cols: &[&str]) -> Result<DataFrame> {
        crate::grouped::describe(self, cols).await
    }

    /// `collect()` as [`crate::row::Row`]s.
    pub async fn collect_rows(&self) -> Result<Vec<crate::row::Row>> {
        let batches = self.collect().await?;
        crate::row::rows_of(&batches)
    }

    /// `take(n)` as rows.
    pub async fn take_rows(&self, n: usize) -> Result<Vec<crate::row::Row>> {
        let batches = self.take(n).await?;
        crate::row::rows_of(&batches)
    }

    /// `first()`: the first row, or `None` for an empty DataFrame.
    pub async fn first(&self) -> Result<Option<crate::row::Row>> {
        Ok(self.take_rows(1).await?.into_iter().next())
    }

    /// `filter("sql text")`.
    pub fn filter_sql(&self, condition: &str) -> Result<DataFrame> {
        let e = self.parse_expr(condition)?;
        self.filter(e)
    }

    /// `where` (Rust keyword, hence the underscore).
    pub fn where_(&self, condition: impl Into<Expr>) -> Result<DataFrame> {
        self.filter(condition)
    }

    /// `withColumn(name, expr)`: adds or replaces a column.
    pub fn with_column(&self, name: &str, e: impl Into<Expr>) -> Result<DataFrame> {
        Ok(self.wrap(self.df.clone().with_column(name, e.into())?))
    }

    /// `withColumnRenamed(existing, new)`: a no-op when `existing` is absent, as Spark.
    pub fn with_column_renamed(&self, existing: &str, new: &str) -> Result<DataFrame> {
        let schema = self.df.schema();
        let hit = |name: &str| name.eq_ignore_ascii_case(existing);
        if !schema.fields().iter().any(|f| hit(f.name())) {
            return Ok(self.clone());
        }
        // By position, not by parsing `existing`: a name with dots, dashes or
        // backticks is one column name here, as Spark's resolver compares it.
        let exprs: Vec<Expr> = schema
            .iter()
            .map(|(q, f)| {
                let c = Expr::Column(datafusion::common::Column::new(q.cloned(), f.name()));
                if hit(f.name()) {
                    c.alias(new)
                } else {
                    c
                }
            })
            .collect();
        Ok(self.wrap(self.df.clone().select(exprs)?))
    }

    /// `withColumnsRenamed({existing: new})`.
    pub fn with_columns_renamed(&self, renames: &[(&str, &str)]) -> Result<DataFrame> {
        let mut out = self.clone();
        for (a, b) in renames {
            out = out.with_column_renamed(a, b)?;
        }
        Ok(out)
    }

    /// `drop(cols)`: absent names are ignored, as Spark.
    pub fn drop(&self, cols: &[&str]) -> Result<DataFrame> {
        let names = self.columns();
        let present: Vec<&str> = names
            .iter()
            .filter(|x| cols.iter().any(|c| c.eq_ignore_ascii_case(x)))
            .map(|x| x.as_str())
            .collect();
        Ok(self.wrap(self.df.clone().drop_columns(&present)?))
    }

    /// `groupBy(cols).agg(aggs)`.
    pub fn group_by_agg(&self, group: Vec<Expr>, aggs: Vec<Expr>) -> Result<DataFrame> {
        Ok(self.wrap(self.df.clone().aggregate(group, aggs)?))
    }

    /// `orderBy` / `sort`.
    pub fn order_by(&self, sort: Vec<SortOrder>) -> Result<DataFrame> {
        let out = self.wrap(
            self.df
                .clone()
                .sort(sort.into_iter().map(|s| s.0).collect())?,
        );
        // A global sort yields one ordered partition (Spark: range partitions read in order).
        Ok(match self.partitions {
            Some(1) => out.with_partitions(1),
            _ => out,
        })
    }

    /// `limit(n)`.
    pub fn limit(&self, n: usize) -> Result<DataFrame> {
        Ok(self.wrap(self.df.clone().limit(0, Some(n))?))
    }

    /// `distinct()`.
    pub fn distinct(&self) -> Result<DataFrame> {
        Ok(self.wrap(self.df.clone().distinct()?))
    }

    /// `dropDuplicates(subset)`: keeps the first row of each group of `subset`.
    pub fn drop_duplicates(&self, subset: &[&str]) -> Result<DataFrame> {
        if subset.is_empty() {
            return self.distinct();
        }
        let on: Vec<Expr> = subset.iter().map(|c| col(*c)).collect();
        Ok(self.wrap(self.df.clone().distinct_on(
            on,
            self.columns().iter().map(|c| col(c.as_str())).collect(),
            None,
        )?))
    }

    /// `union` / `unionAll` (by position, keeps duplicates, as Spark).
    pub fn union(&self, other: &DataFrame) -> Result<DataFrame> {
        Ok(self.wrap(self.df.clone().union(other.df.clone())?))
    }

    /// `unionByName`.
    pub fn union_by_name(&self, other: &DataFrame) -> Result<DataFrame> {
        Ok(self.wrap(self.df.clone().union_by_name(other.df.clone())?))
    }

    /// `join(other, on=[names], how)`.
    pub fn join(&self, other: &DataFrame, on: &[&str], how: &str) -> Result<DataFrame> {
        let jt = parse_join_type(how)?;
        Ok(self.wrap(self.df.clone().join(other.df.clone(), jt, on, on, None)?))
    }

    /// `join(other, on=expr, how)`.
    pub fn join_on(&self, other: &DataFrame, on: impl Into<Expr>, how: &str) -> Result<DataFrame> {
        let jt = parse_join_type(how)?;
        Ok(self.wrap(self.df.clone().join_on(other.df.clone(), jt, [on.into()])?))
    }

    /// `crossJoin(other)`.
    pub fn cross_join(&self, other: &DataFrame) -> Result<DataFrame> {
        Ok(self.wrap(
            self.df
                .clone()
                .join_on(other.df.clone(), JoinType::Inner, [])?,
        ))
    }

    /// `alias(name)`: a qualifier for the columns (`df.alias("f")` then `col("f.x")`).
    pub fn alias(&self, name: &str) -> Result<DataFrame> {
        Ok(self.wrap(self.df.clone().alias(name)?))
    }

    /// `unpersist()`: drops a cached result (a no-op for uncached DataFrames).
    pub fn unpersist(&self) -> DataFrame {
        self.clone()
    }

    /// `repartition(n)`: rows dealt one by one to `n` partitions, as Spark's
    /// round-robin shuffle (see [`crate::round_robin`]).
    pub fn repartition(&self, n: usize) -> Result<DataFrame> {
        let node = crate::round_robin::SparkRoundRobin::new(self.df.logical_plan().clone(), n);
        let plan =
            datafusion::logical_expr::LogicalPlan::Extension(datafusion::logical_expr::Extension {
                node: std::sync::Arc::new(node),
            });
        let df = DfFrame::new(self.session.context().state(), plan);
        Ok(self.wrap(df).with_partitions(n))
    }

    /// `repartition(n, cols)`: each row goes to partition `pmod(hash(cols), n)` (Spark's
    /// murmur3 `hash` with seed 42, as Spark's `HashPartitioning`), so
    /// `spark_partition_id()`, `foreachPartition` and the files written follow Spark.
    /// Schema and order within a partition: the input's.
    ///
    /// Errors: as the projection of `cols` (an unknown column).
    pub fn repartition_by(&self, n: usize, cols: Vec<Expr>) -> Result<DataFrame> {
        let n = n.max(1);
        let hash = datafusion::execution::FunctionRegistry::udf(self.session.context(), "hash")?;
        let m = datafusion::logical_expr::lit(n as i32);
        let h = hash.call(cols);
        let key = ((h % m.clone()) + m.clone()) % m;
        self.keyed_exchange(n, key)
    }

    /// `repartitionById(n, expr)` (Spark's `DirectShufflePartitionID`): each row goes to
    /// the partition `expr` names (an integer, taken modulo `n`; null goes to 0). Within
    /// a partition the rows come in the order of the input partitions, each in its own
    /// order, as a Spark shuffle reads its map outputs. Schema: the input's.
    ///
    /// Errors: as the projection of `expr` (an unknown column, a non-integer type).
    pub fn repartition_by_id(&self, n: usize, expr: Expr) -> Result<DataFrame> {
        let n = n.max(1);
        let key =
            datafusion::logical_expr::cast(expr, datafusion::arrow::datatypes::DataType::Int32);
        self.keyed_exchange(n, key)
    }

    /// The keyed exchange of [`crate::round_robin`]: `key` (an `INT` in `0..n`) names
    /// each row's partition.
    fn keyed_exchange(&self, n: usize, key: Expr) -> Result<DataFrame> {
        let mut exprs: Vec<Expr> = self
            .df
            .schema()
            .columns()
            .into_iter()
            .map(Expr::Column)
            .collect();
        exprs.push(key.alias("__ember_shuffle_partition"));
        let keyed = self.df.clone().select(exprs)?;
        let node = crate::round_robin::SparkRoundRobin::keyed(keyed.logical_plan().clone(), n)?;
        let plan =
            datafusion::logical_expr::LogicalPlan::Extension(datafusion::logical_expr::Extension {
                node: std::sync::Arc::new(node),
            });
        let df = DfFrame::new(self.session.context().state(), plan);
        Ok(self.wrap(df).with_partitions(n))
    }

    /// `sample(fraction, seed)` without replacement: keeps each row with probability
    /// `fraction`, as Spark's `Dataset.sample` (see [`DataFrame::sample_range`]).
    pub fn sample(&self, fraction: f64, seed: Option<i64>) -> Result<DataFrame> {
        self.sample_range(0.0, fraction, seed)
    }

    /// `sample(withReplacement = true, fraction, seed)`: each row repeated a
    /// Poisson(`fraction`) number of times, drawn as Spark draws them (see
    /// [`crate::sample`]). Without a seed, a random one is chosen.
    ///
    /// Errors: `INVALID_SAMPLE_FRACTION` for a fraction outside [0, 40).
    pub fn sample_with_replacement(&self, fraction: f64, seed: Option<i64>) -> Result<DataFrame> {
        let seed = seed.unwrap_or_else(|| {
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(fraction.to_bits()) as i64
        });
        if !(0.0..crate::sample::MAX_FRACTION).contains(&fraction) {
            return Err(EmberError::analysis(
                "INVALID_SAMPLE_FRACTION",
                format!(
                    "sample(withReplacement = true) takes a fraction in [0, {}), not {fraction}.",
                    crate::sample::MAX_FRACTION
                ),
            ));
        }
        let node =
            crate::sample::PoissonSample::try_new(self.df.logical_plan().clone(), fraction, seed)?;
        let plan =
            datafusion::logical_expr::LogicalPlan::Extension(datafusion::logical_expr::Extension {
                node: std::sync::Arc::new(node),
            });
        Ok(self.wrap(DfFrame::new(self.session.context().state(), plan)))
    }

    /// Keeps the rows whose draw of `XORShiftRandom(seed + partitionIndex)` (one per
    /// row, in partition order) falls in `[lower, upper)`: Spark's
    /// `BernoulliCellSampler`, so a seeded sample keeps the rows Spark keeps for the
    /// same partitioning. Without a seed, a random one is chosen.
    pub fn sample_range(&self, lower: f64, upper: f64, seed: Option<i64>) -> Result<DataFrame> {
        use datafusion::execution::FunctionRegistry;
        let rand = self.session.context().udf("rand")?;
        let r = rand.call(seed.map(datafusion::prelude::lit).into_iter().collect());
        let keep = r
            .clone()
            .gt_eq(datafusion::prelude::lit(lower))
            .and(r.lt(datafusion::prelude::lit(upper)));
        Ok(self.wrap(self.df.clone().filter(keep)?))
    }

    /// `stat.sampleBy(col, fractions, seed)`: keeps a row when the draw of `rand(seed)`
    /// for it (as [`DataFrame::sample_range`]) is below the fraction of its stratum
    /// (the value of `stratum`; strata not listed keep no rows; no seed: a random
    /// one), as Spark's
    /// `DataFrameStatFunctions.sampleBy`.
    ///
    /// Errors: a fraction outside `[0, 1]` (Spark's requirement).
    pub fn sample_by(
        &self,
        stratum: Expr,
        fractions: &[(Expr, f64)],
        seed: Option<i64>,
    ) -> Result<DataFrame> {
        use datafusion::execution::FunctionRegistry;
        use datafusion::prelude::lit;
        if let Some((_, f)) = fractions.iter().find(|(_, f)| !(0.0..=1.0).contains(f)) {
            return Err(crate::EmberError::new(
                crate::ErrorKind::Runtime,
                "ILLEGAL_ARGUMENT",
                format!("requirement failed: Fractions must be in [0, 1], but got {f}."),
                None,
            ));
        }
        let rand = self.session.context().udf("rand")?;
        // Without a seed `rand()` picks one, as for `sample`.
        let r = rand.call(seed.map(lit).into_iter().collect());
        let mut case = datafusion::logical_expr::case(stratum);
        let mut any = false;
        for (value, f) in fractions {
            case = case.when(value.clone(), lit(*f));
            any = true;
        }
        let fraction = if any {
            case.otherwise(lit(0.0f64))?
        } else {
            lit(0.0f64)
        };
        Ok(self.wrap(self.df.clone().filter(r.lt(fraction))?))
    }

    /// `coalesce(n)`: at most `n` partitions without a shuffle, each the concatenation
    /// of consecutive input partitions in order (see [`crate::coalesce`]).
    pub fn coalesce(&self, n: usize) -> Result<DataFrame> {
        let node = crate::coalesce::SparkCoalesce::new(self.df.logical_plan().clone(), n);
        let plan =
            datafusion::logical_expr::LogicalPlan::Extension(datafusion::logical_expr::Extension {
                node: std::sync::Arc::new(node),
            });
        let df = DfFrame::new(self.session.context().state(), plan);
        Ok(self.wrap(df))
    }

    /// `persist()`: as [`DataFrame::cache`] (memory only).
    pub async fn persist(&self) -> Result<DataFrame> {
        self.cache().await
    }

    /// `cache()` / `persist()`: materialises the result in memory.
    pub async fn cache(&self) -> Result<DataFrame> {
        Ok(self.wrap(self.df.clone().cache().await?))
    }

    /// `explain()` text in Spark's layout: `== Physical Plan ==` and the plan
    /// (DataFusion's operators); `extended` adds the parsed, analyzed and optimized
    /// logical plans before it, as Spark's `explain(True)`.
    ///
    /// Errors: planning errors of the query.
    pub async fn explain_string(&self, extended: bool) -> Result<String> {
        let physical = self.df.clone().create_physical_plan().await?;
        let physical = datafusion::physical_plan::displayable(physical.as_ref())
            .indent(false)
            .to_string();
        let physical = physical.trim_end();
        if !extended {
            return Ok(format!("== Physical Plan ==\n{physical}\n"));
        }
        let parsed = self.df.logical_plan().display_indent().to_string();
        let optimized = self.df.clone().into_optimized_plan()?;
        Ok(format!(
            "== Parsed Logical Plan ==\n{parsed}\n\n== Analyzed Logical Plan ==\n{parsed}\n\n\
             == Optimized Logical Plan ==\n{}\n\n== Physical Plan ==\n{physical}\n",
            optimized.display_indent()
        ))
    }

    /// Executes and returns Arrow batches (`collect`), in partition order as Spark's
    /// `collect()` (see [`crate::ordered`]).
    pub async fn collect(&self) -> Result<Vec<RecordBatch>> {
        collect_ordered(self.df.clone()).await
    }

    /// Executes and streams the rows in partition order, as Spark's `collect()` and
    /// `toLocalIterator()` return them (see [`crate::ordered`]).
    ///
    /// Errors: planning errors here; execution errors in the stream.
    pub async fn execute_stream_ordered(
        &self,
    ) -> Result<datafusion::physical_plan::SendableRecordBatchStream> {
        stream_ordered(self.df.clone()).await
    }

    /// As [`DataFrame::execute_stream_ordered`], consuming the DataFrame (no copy of
    /// its session state is made).
    pub async fn into_stream_ordered(
        self,
    ) -> Result<datafusion::physical_plan::SendableRecordBatchStream> {
        stream_ordered(self.df).await
    }

    /// `count()`.
    pub async fn count(&self) -> Result<usize> {
        Ok(self.df.clone().count().await?)
    }

    /// `take(n)` as batches.
    pub async fn take(&self, n: usize) -> Result<Vec<RecordBatch>> {
        collect_ordered(self.df.clone().limit(0, Some(n))?).await
    }

    /// `showString(n, truncate)`: the exact text of Spark's `show()`.
    pub async fn show_string(&self, n: usize, truncate: usize) -> Result<String> {
        let batches = self.take(n + 1).await?;
        Ok(crate::format::show_string(
            &self.columns(),
            &batches,
            n,
            truncate,
            &self.session.format_options(),
        ))
    }

    /// `show(n, truncate)`: prints the table.
    pub async fn show(&self, n: usize, truncate: usize) -> Result<()> {
        println!("{}", self.show_string(n, truncate).await?);
        Ok(())
    }

    /// `createOrReplaceTempView(name)`.
    pub fn create_or_replace_temp_view(&self, name: &str) -> Result<()> {
        self.session.create_or_replace_temp_view(name, self)
    }

    /// `df.write`.
    pub fn write(&self) -> crate::writer::DataFrameWriter {
        crate::writer::DataFrameWriter::new(self.clone())
    }
}

async fn stream_ordered(
    df: DfFrame,
) -> Result<datafusion::physical_plan::SendableRecordBatchStream> {
    let task = std::sync::Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    Ok(crate::ordered::execute_stream_ordered(plan, task)?)
}

async fn collect_ordered(df: DfFrame) -> Result<Vec<RecordBatch>> {
    use futures::TryStreamExt;
    Ok(stream_ordered(df).await?.try_collect().await?)
}
