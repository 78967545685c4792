//! Spark Connect relations → ember DataFrames (lazy plans on ember-core).
//!
//! Each relation becomes the ember-core / DataFusion operation Spark's planner would
//! use; output columns get Spark's names (`sum(x)`, `(a + 1)`). Relations ember does
//! not translate fail with `UNSUPPORTED_FEATURE` naming the relation type.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use datafusion::common::{DFSchema, TableReference};
use datafusion::logical_expr::{Expr, JoinType, LogicalPlanBuilder};
use datafusion::prelude::DataFrame as DfFrame;
use ember_core::{DataFrame, EmberError, SparkSession};
use ember_sql::sql::naming::spark_sql;
use spark_connect_proto::relation::RelType;
use spark_connect_proto::{expression::ExprType, Expression, Relation};

use crate::error::{ConnectError, Result};
use crate::expr::{PlanSchemas, Scope};
use crate::session::ConnectSession;

/// Translates the relations of one plan; remembers each relation's output schema by
/// plan id so later `df["col"]` references resolve to the right side of a join.
pub struct Planner<'a> {
    /// The client's session.
    pub cs: &'a ConnectSession,
    /// Output schemas by plan id.
    pub plans: PlanSchemas,
    alias_seq: usize,
    /// The plan is about to run (an action): persisted relations in it are computed
    /// and kept. False for analysis (schema, explain).
    pub executing: bool,
    /// `observe(...)` metrics found in the plan, reported after it runs.
    pub observations: Vec<crate::observe::Observed>,
}

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

fn missing(what: &str) -> ConnectError {
    ConnectError::invalid(format!("{what} is missing"))
}

/// The Spark name of an output expression: its alias, column name or SQL text.
pub fn output_name(e: &Expr) -> String {
    match e {
        Expr::Alias(a) => a.name.clone(),
        Expr::Column(c) => c.name.clone(),
        other => spark_sql(other),
    }
}

/// Spark allows a select list to repeat a column name (`select("a", "a")`,
/// `select(nanvl(a, b), nanvl(a, b))`); DataFusion does not, unless the qualifiers
/// differ, and refuses an unqualified name beside a qualified one. So every unqualified
/// occurrence of a repeated name, and every repeat of a (qualifier, name), gets a
/// qualifier of its own (`__dup<i>`), keeping the name. A later reference to the bare
/// name is then ambiguous, as in Spark (`AMBIGUOUS_REFERENCE`).
pub fn distinct_names(exprs: Vec<Expr>) -> Vec<Expr> {
    let key = |e: &Expr| match e {
        Expr::Column(c) => (c.relation.clone(), c.name.clone()),
        Expr::Alias(a) => (a.relation.clone(), a.name.clone()),
        other => (None, output_name(other)),
    };
    let mut count: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for e in &exprs {
        *count.entry(key(e).1).or_default() += 1;
    }
    let mut seen = std::collections::HashSet::new();
    exprs
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let k = key(&e);
            let repeated = count.get(&k.1).is_some_and(|n| *n > 1);
            if seen.insert(k.clone()) && !(repeated && k.0.is_none()) {
                return e;
            }
            let inner = match e {
                Expr::Alias(a) => *a.expr,
                e => e,
            };
            inner.alias_qualified(Some(TableReference::bare(format!("__dup{i}"))), k.1)
        })
        .collect()
}

/// Gives an unaliased computed expression its Spark name. A cast of a column or
/// of an aliased expression (through nested casts) keeps that name, as Spark's
/// `ResolveAliases` (`CAST(age AS STRING)` in a select list is column `age`).
pub fn named(e: Expr) -> Expr {
    match e {
        e @ (Expr::Alias(_) | Expr::Column(_)) => e,
        e => {
            let n = cast_source_name(&e).unwrap_or_else(|| spark_sql(&e));
            e.alias(n)
        }
    }
}

/// The name a top-level cast takes from what it casts: a column or an alias.
fn cast_source_name(e: &Expr) -> Option<String> {
    let inner = match e {
        Expr::Cast(c) => c.expr.as_ref(),
        Expr::TryCast(c) => c.expr.as_ref(),
        _ => return None,
    };
    match inner {
        Expr::Column(c) => Some(c.name.clone()),
        // A function call carries its display name as an alias: not a user alias.
        Expr::Alias(a) if spark_sql(&a.expr) == a.name => None,
        Expr::Alias(a) => Some(a.name.clone()),
        other => cast_source_name(other),
    }
}

impl<'a> Planner<'a> {
    /// A planner for one request of `cs`.
    pub fn new(cs: &'a ConnectSession) -> Planner<'a> {
        Planner {
            cs,
            plans: PlanSchemas::new(),
            alias_seq: 0,
            executing: false,
            observations: Vec::new(),
        }
    }

    /// A planner for a plan an action runs (see [`Planner::executing`]).
    pub fn executing(cs: &'a ConnectSession) -> Planner<'a> {
        let mut p = Planner::new(cs);
        p.executing = true;
        p
    }

    pub(crate) fn spark(&self) -> &SparkSession {
        &self.cs.spark
    }

    fn wrap(&self, df: DfFrame) -> DataFrame {
        DataFrame::from_datafusion(self.spark(), df)
    }

    pub(crate) fn wrap_plan(&self, plan: datafusion::logical_expr::LogicalPlan) -> DataFrame {
        self.wrap(DfFrame::new(self.spark().context().state(), plan))
    }

    /// `filter(condition)` over `input`.
    pub(crate) fn filter(
        &self,
        input: DataFrame,
        f: &spark_connect_proto::Filter,
    ) -> Result<DataFrame> {
        let cond = self.scope(&input).expr(
            f.condition
                .as_ref()
                .ok_or_else(|| missing("filter condition"))?,
        )?;
        Ok(input.filter(cond)?)
    }

    /// `orderBy(keys)` / `sortWithinPartitions(keys)` over `input`.
    pub(crate) fn sort(
        &self,
        input: DataFrame,
        s: &spark_connect_proto::Sort,
    ) -> Result<DataFrame> {
        let sc = self.scope(&input);
        let orders = s
            .order
            .iter()
            .map(|o| sc.sort_expr(o))
            .collect::<Result<Vec<_>>>()?;
        Ok(self.wrap(input.inner().clone().sort(orders)?))
    }

    /// Retries `op` (a filter or sort that failed with `err` over `input`) with the
    /// columns earlier projections dropped carried through them, as Spark's
    /// `ResolveMissingReferences`; the output keeps `input`'s columns. `err` is
    /// returned when the retry fails too.
    async fn with_missing_refs(
        &mut self,
        rel: &Option<Box<Relation>>,
        input: DataFrame,
        err: ConnectError,
        op: impl Fn(&Self, DataFrame) -> Result<DataFrame>,
    ) -> Result<DataFrame> {
        let Some(r) = rel.as_deref() else {
            return Err(err);
        };
        let width = input.columns().len();
        let Ok(Some(ext)) = crate::missing_refs::extended(self, r).await else {
            return Err(err);
        };
        match op(self, ext) {
            Ok(done) => crate::missing_refs::first_columns(self, done, width),
            Err(_) => Err(err),
        }
    }

    /// An expression scope over `input` in this plan.
    pub fn scope<'s>(&'s self, input: &'s DataFrame) -> Scope<'s> {
        let mut s = Scope::new(input, &self.plans);
        s.cs = Some(self.cs);
        s
    }

    /// Translates a relation (and its inputs).
    pub fn relation<'s>(&'s mut self, r: &'s Relation) -> BoxFut<'s, DataFrame> {
        Box::pin(async move {
            let rel = r
                .rel_type
                .as_ref()
                .ok_or_else(|| missing("relation type"))?;
            let df = match crate::persist::lookup(self.cs, r) {
                Some((_, crate::persist::Persisted { data: Some(d), .. })) => d,
                Some((k, _)) if self.executing => {
                    let computed = self.rel(rel).await?;
                    let data = crate::persist::materialize(&computed).await?;
                    crate::persist::store(self.cs, k, data.clone());
                    data
                }
                _ => self.rel(rel).await?,
            };
            if let Some(id) = r.common.as_ref().and_then(|c| c.plan_id) {
                self.plans.insert(id, Arc::new(df.inner().schema().clone()));
            }
            Ok(df)
        })
    }

    pub(crate) async fn input(&mut self, r: &Option<Box<Relation>>) -> Result<DataFrame> {
        match r {
            Some(r) => self.relation(r).await,
            None => Err(missing("input relation")),
        }
    }

    async fn rel(&mut self, rel: &RelType) -> Result<DataFrame> {
        match rel {
            RelType::Read(r) => crate::read::read(self.cs, r).await,
            RelType::Sql(s) => crate::read::sql(self, s).await,
            RelType::Project(p) => {
                let input = match &p.input {
                    Some(i) => self.relation(i).await?,
                    None => self.wrap(DfFrame::new(
                        self.spark().context().state(),
                        LogicalPlanBuilder::empty(true).build()?,
                    )),
                };
                self.project(&input, &p.expressions)
            }
            RelType::Filter(f) => {
                let input = self.input(&f.input).await?;
                match self.filter(input.clone(), f) {
                    Err(e) if crate::missing_refs::carries(&f.input) => {
                        self.with_missing_refs(&f.input, input, e, |p, df| p.filter(df, f))
                            .await
                    }
                    r => r,
                }
            }
            RelType::Join(j) => self.join(j).await,
            RelType::SetOp(s) => self.set_op(s).await,
            RelType::Sort(s) => {
                let input = self.input(&s.input).await?;
                match self.sort(input.clone(), s) {
                    Err(e) if crate::missing_refs::carries(&s.input) => {
                        self.with_missing_refs(&s.input, input, e, |p, df| p.sort(df, s))
                            .await
                    }
                    r => r,
                }
            }
            RelType::Limit(l) => {
                let input = self.input(&l.input).await?;
                Ok(input.limit(l.limit.max(0) as usize)?)
            }
            RelType::Offset(o) => {
                let input = self.input(&o.input).await?;
                Ok(self.wrap(
                    input
                        .inner()
                        .clone()
                        .limit(o.offset.max(0) as usize, None)?,
                ))
            }
            RelType::Tail(t) => {
                let input = self.input(&t.input).await?;
                let n = input.count().await?;
                let skip = n.saturating_sub(t.limit.max(0) as usize);
                Ok(self.wrap(input.inner().clone().limit(skip, None)?))
            }
            RelType::Aggregate(a) => {
                let input = self.input(&a.input).await?;
                crate::aggregate::aggregate(self, &input, a).await
            }
            RelType::LocalRelation(l) => crate::local::local_relation(self.cs, l),
            RelType::CachedLocalRelation(c) => {
                crate::local::cached_local_relation(self.cs, &c.hash)
            }
            RelType::Range(r) => {
                let parts = r.num_partitions.filter(|n| *n > 0).map(|n| n as usize);
                Ok(self
                    .spark()
                    .range(r.start.unwrap_or(0), r.end, r.step, parts)?)
            }
            RelType::SubqueryAlias(s) => {
                let input = self.input(&s.input).await?;
                Ok(input.alias(&s.alias)?)
            }
            RelType::Deduplicate(d) => {
                let input = self.input(&d.input).await?;
                if d.all_columns_as_keys.unwrap_or(false) || d.column_names.is_empty() {
                    return Ok(input.distinct()?);
                }
                let cols = input.columns();
                let mut subset = Vec::new();
                for n in &d.column_names {
                    match cols.iter().find(|c| c.eq_ignore_ascii_case(n)) {
                        Some(c) => subset.push(c.clone()),
                        None => {
                            return Err(EmberError::analysis(
                                "UNRESOLVED_COLUMN_AMONG_FIELD_NAMES",
                                format!(
                                    "Cannot resolve column name \"{n}\" among ({}).",
                                    cols.join(", ")
                                ),
                            )
                            .into())
                        }
                    }
                }
                let subset: Vec<&str> = subset.iter().map(|s| s.as_str()).collect();
                Ok(input.drop_duplicates(&subset)?)
            }
            RelType::MapPartitions(m) => crate::python_map::map_partitions(self, m).await,
            RelType::GroupMap(g) => crate::python_map::group_map(self, g).await,
            RelType::CoGroupMap(c) => crate::python_map::cogroup_map(self, c).await,
            RelType::Repartition(r) => {
                let input = self.input(&r.input).await?;
                let n = r.num_partitions.max(1) as usize;
                Ok(if r.shuffle.unwrap_or(true) {
                    input.repartition(n)?
                } else {
                    input.coalesce(n)?
                })
            }
            RelType::RepartitionByExpression(r) => {
                let input = self.input(&r.input).await?;
                let sc = self.scope(&input);
                // repartitionById: rows go to the partition their expression names.
                if let [Expression {
                    expr_type: Some(ExprType::DirectShufflePartitionId(d)),
                    ..
                }] = r.partition_exprs.as_slice()
                {
                    let child = d
                        .child
                        .as_deref()
                        .ok_or_else(|| missing("partition id expression"))?;
                    let n = match r.num_partitions {
                        Some(n) if n > 0 => n as usize,
                        _ => self.shuffle_partitions(),
                    };
                    return Ok(input.repartition_by_id(n, sc.expr(child)?)?);
                }
                let mut exprs = Vec::new();
                for e in &r.partition_exprs {
                    match &e.expr_type {
                        // repartitionByRange: hash partitioning gives the same row set.
                        Some(ExprType::SortOrder(s)) => exprs.push(
                            sc.expr(s.child.as_deref().ok_or_else(|| missing("sort input"))?)?,
                        ),
                        _ => exprs.push(sc.expr(e)?),
                    }
                }
                let n = match r.num_partitions {
                    Some(n) if n > 0 => n as usize,
                    _ => self.shuffle_partitions(),
                };
                Ok(if exprs.is_empty() {
                    input.repartition(n)?
                } else {
                    input.repartition_by(n, exprs)?
                })
            }
            RelType::ToDf(t) => {
                let input = self.input(&t.input).await?;
                let cols = input.inner().schema().columns();
                if cols.len() != t.column_names.len() {
                    return Err(EmberError::analysis(
                        "INVALID_COLUMN_NAME_AS_PATH",
                        format!(
                            "The number of columns doesn't match.\nOld column names ({}): {}\nNew column names ({}): {}",
                            cols.len(),
                            input.columns().join(", "),
                            t.column_names.len(),
                            t.column_names.join(", ")
                        ),
                    )
                    .into());
                }
                let exprs = cols
                    .into_iter()
                    .zip(&t.column_names)
                    .map(|(c, n)| Expr::Column(c).alias(n))
                    .collect();
                Ok(input.select_exprs(exprs)?)
            }
            RelType::WithColumnsRenamed(w) => {
                let input = self.input(&w.input).await?;
                let mut pairs: Vec<(String, String)> = w
                    .renames
                    .iter()
                    .map(|r| (r.col_name.clone(), r.new_col_name.clone()))
                    .collect();
                #[allow(deprecated)]
                pairs.extend(
                    w.rename_columns_map
                        .iter()
                        .map(|(a, b)| (a.clone(), b.clone())),
                );
                let mut out = input;
                for (a, b) in pairs {
                    let actual = out
                        .columns()
                        .into_iter()
                        .find(|c| c.eq_ignore_ascii_case(&a));
                    if let Some(actual) = actual {
                        out = out.with_column_renamed(&actual, &b)?;
                    }
                }
                Ok(out)
            }
            RelType::WithColumns(w) => {
                let input = self.input(&w.input).await?;
                let mut out = input;
                for a in &w.aliases {
                    let e = a
                        .expr
                        .as_deref()
                        .ok_or_else(|| missing("withColumn expression"))?;
                    let name = a.name.first().ok_or_else(|| missing("withColumn name"))?;
                    if crate::generate::generator_call(e).is_some() {
                        // `withColumn("x", explode(...))`: the generator's column replaces
                        // `x` where it is, or comes last.
                        out = self.with_generated_column(&out, e, name)?;
                        continue;
                    }
                    let v = self.scope(&out).expr(e)?;
                    let v = match v {
                        Expr::Alias(al) => *al.expr,
                        v => v,
                    };
                    let v = match crate::expr::spark_metadata(a.metadata.as_deref()) {
                        Some(meta) => v.alias_with_metadata(name, Some(meta)),
                        None => v,
                    };
                    let existing = out
                        .columns()
                        .into_iter()
                        .find(|c| c.eq_ignore_ascii_case(name));
                    out = out.with_column(existing.as_deref().unwrap_or(name), v)?;
                    if let Some(old) = existing {
                        if &old != name {
                            out = out.with_column_renamed(&old, name)?;
                        }
                    }
                }
                Ok(out)
            }
            RelType::Drop(d) => {
                let input = self.input(&d.input).await?;
                let mut names: Vec<String> = Vec::new();
                for n in &d.column_names {
                    names.extend(
                        input
                            .columns()
                            .into_iter()
                            .filter(|c| c.eq_ignore_ascii_case(n)),
                    );
                }
                let mut qualified = Vec::new();
                for e in &d.columns {
                    match self.scope(&input).expr(e) {
                        Ok(Expr::Column(c)) => qualified.push(c),
                        Ok(_) => {}
                        // Spark ignores columns that do not resolve.
                        Err(_) => {}
                    }
                }
                let keep: Vec<Expr> = input
                    .inner()
                    .schema()
                    .columns()
                    .into_iter()
                    .filter(|c| !names.contains(&c.name) && !qualified.contains(c))
                    .map(Expr::Column)
                    .collect();
                Ok(input.select_exprs(keep)?)
            }
            RelType::ShowString(s) => {
                let input = self.input(&s.input).await?;
                let text =
                    crate::show::show_string(&input, s.num_rows, s.truncate, s.vertical).await?;
                crate::local::single_string(self.spark(), "show_string", text)
            }
            RelType::HtmlString(s) => {
                let input = self.input(&s.input).await?;
                let text = crate::show::html_string(&input, s.num_rows, s.truncate).await?;
                crate::local::single_string(self.spark(), "html_string", text)
            }
            RelType::CommonInlineUserDefinedTableFunction(u) => crate::udtf::inline(self, u).await,
            RelType::SampleBy(sb) => {
                let input = self.input(&sb.input).await?;
                let sc = self.scope(&input);
                let col = sc.expr(sb.col.as_ref().ok_or_else(|| missing("sampleBy column"))?)?;
                let tz = self.spark().time_zone().name().to_string();
                let mut fractions = Vec::new();
                for f in &sb.fractions {
                    let s = f
                        .stratum
                        .as_ref()
                        .ok_or_else(|| missing("sampleBy stratum"))?;
                    let v = crate::literal::to_scalar(s, &tz)?;
                    fractions.push((Expr::Literal(v, None), f.fraction));
                }
                Ok(input.sample_by(col, &fractions, sb.seed)?)
            }
            RelType::CachedRemoteRelation(c) => {
                crate::persist::cached_remote(self.cs, &c.relation_id)
            }
            RelType::WithWatermark(w) => {
                // An event-time watermark only matters to streaming queries; on a
                // batch DataFrame Spark leaves the plan's results unchanged.
                self.input(&w.input).await
            }
            RelType::CollectMetrics(m) => {
                let input = self.input(&m.input).await?;
                let obs = crate::observe::plan(self, &input, m)?;
                self.observations.push(obs);
                Ok(input)
            }
            RelType::Hint(h) => {
                // Hints (broadcast, repartition, coalesce...) do not change results;
                // DataFusion picks broadcast joins by size.
                self.input(&h.input).await
            }
            RelType::Sample(s) => {
                let input = self.input(&s.input).await?;
                if s.with_replacement.unwrap_or(false) {
                    return Ok(
                        input.sample_with_replacement(s.upper_bound - s.lower_bound, s.seed)?
                    );
                }
                Ok(input.sample_range(s.lower_bound, s.upper_bound, s.seed)?)
            }
            RelType::Unpivot(u) => {
                let input = self.input(&u.input).await?;
                crate::aggregate::unpivot(self, &input, u)
            }
            RelType::ToSchema(t) => {
                let input = self.input(&t.input).await?;
                let schema = t
                    .schema
                    .as_ref()
                    .ok_or_else(|| missing("toSchema schema"))?;
                let tz = self.spark().time_zone().name().to_string();
                let target = crate::types::schema_from_proto(schema, &tz)?;
                let mut exprs = Vec::new();
                for f in target.fields() {
                    let e = self.scope(&input).attribute(f.name(), None)?;
                    exprs.push(
                        Expr::Cast(datafusion::logical_expr::Cast::new(
                            Box::new(e),
                            f.data_type().clone(),
                        ))
                        .alias(f.name()),
                    );
                }
                Ok(input.select_exprs(exprs)?)
            }
            RelType::FillNa(f) => {
                let input = self.input(&f.input).await?;
                crate::na::fill(self.cs, &input, f)
            }
            RelType::DropNa(d) => {
                let input = self.input(&d.input).await?;
                let cols: Vec<&str> = d.cols.iter().map(|s| s.as_str()).collect();
                let thresh = d.min_non_nulls.map(|n| n.max(0) as usize);
                Ok(input.na().drop("any", thresh, &cols)?)
            }
            RelType::Replace(r) => {
                let input = self.input(&r.input).await?;
                crate::na::replace(self.cs, &input, r)
            }
            RelType::Describe(d) => {
                let input = self.input(&d.input).await?;
                let cols: Vec<&str> = d.cols.iter().map(|s| s.as_str()).collect();
                Ok(input.describe(&cols).await?)
            }
            RelType::Summary(s) => {
                let input = self.input(&s.input).await?;
                crate::na::summary(self.cs, &input, &s.statistics).await
            }
            RelType::Corr(c) => {
                let input = self.input(&c.input).await?;
                if c.method.as_deref().is_some_and(|m| m != "pearson") {
                    return Err(ConnectError::unsupported(format!(
                        "the correlation method '{}'",
                        c.method.as_deref().unwrap_or("")
                    )));
                }
                self.stat2(&input, &c.col1, &c.col2, "corr")
            }
            RelType::Cov(c) => {
                let input = self.input(&c.input).await?;
                self.stat2(&input, &c.col1, &c.col2, "covar_samp")
            }
            RelType::ApproxQuantile(q) => {
                let input = self.input(&q.input).await?;
                crate::stat::approx_quantile(
                    self,
                    &input,
                    &q.cols,
                    &q.probabilities,
                    q.relative_error,
                )
            }
            RelType::Crosstab(_) | RelType::FreqItems(_) => {
                // Boxed, in its own function: keeps this recursive future small.
                Box::pin(self.stat(rel)).await
            }
            RelType::Catalog(c) => {
                // dropTempView, setCurrentDatabase...: later statements may differ.
                let out = crate::catalog::catalog(self.cs, c).await;
                self.cs.state_changed();
                out
            }
            RelType::WithRelations(w) => {
                // Sub-relations referenced by id (SQL with DataFrame arguments).
                for r in &w.references {
                    self.relation(r).await?;
                }
                self.input(&w.root).await
            }
            other => Err(ConnectError::unsupported(format!(
                "the relation type '{}'",
                rel_name(other)
            ))),
        }
    }

    /// `crosstab` and `freqItems` (see [`crate::stat`]).
    async fn stat(&mut self, rt: &RelType) -> Result<DataFrame> {
        match rt {
            RelType::Crosstab(c) => {
                let input = self.input(&c.input).await?;
                crate::stat::crosstab(self, &input, &c.col1, &c.col2).await
            }
            RelType::FreqItems(f) => {
                let input = self.input(&f.input).await?;
                crate::stat::freq_items(self, &input, &f.cols, f.support).await
            }
            other => Err(ConnectError::unsupported(format!(
                "the relation type '{}'",
                rel_name(other)
            ))),
        }
    }

    /// `df.stat.corr(a, b)` / `cov(a, b)`: one row with the statistic as a double.
    fn stat2(&self, input: &DataFrame, a: &str, b: &str, f: &str) -> Result<DataFrame> {
        let sc = self.scope(input);
        let cast = |e: Expr| {
            Expr::Cast(datafusion::logical_expr::Cast::new(
                Box::new(e),
                arrow::datatypes::DataType::Float64,
            ))
        };
        let (x, y) = (cast(sc.attribute(a, None)?), cast(sc.attribute(b, None)?));
        use datafusion::execution::FunctionRegistry;
        let agg = self.spark().context().udaf(f).map_err(EmberError::from)?;
        let e = agg.call(vec![x, y]).alias(format!("{f}({a}, {b})"));
        Ok(input.group_by_agg(vec![], vec![e])?)
    }

    fn shuffle_partitions(&self) -> usize {
        self.spark()
            .conf_get("spark.sql.shuffle.partitions")
            .and_then(|v| v.parse().ok())
            .unwrap_or(200)
    }

    /// `select(exprs)`: stars expanded, computed columns named as Spark names them;
    /// aggregates without grouping make a global aggregate (`df.select(sum("x"))`).
    pub fn project(&self, input: &DataFrame, items: &[Expression]) -> Result<DataFrame> {
        let sc = self.scope(input);
        if items
            .iter()
            .any(|e| crate::generate::generator_call(e).is_some())
        {
            return crate::generate::project_with_generator(&sc, input, items);
        }
        let mut exprs = Vec::new();
        for it in items {
            exprs.extend(sc.select_item(it)?);
        }
        let has_agg =
            !datafusion::logical_expr::utils::find_aggregate_exprs(exprs.iter()).is_empty();
        if has_agg {
            return crate::aggregate::aggregate_exprs(self, input, vec![], exprs, None);
        }
        let input = &crate::aggregate::drop_null_window_times(input, &exprs)?;
        Ok(input.select_exprs(distinct_names(exprs.into_iter().map(named).collect()))?)
    }

    fn with_generated_column(
        &self,
        input: &DataFrame,
        e: &Expression,
        name: &str,
    ) -> Result<DataFrame> {
        use spark_connect_proto::expression::{Alias, UnresolvedAttribute};
        let attr = |c: &str| Expression {
            expr_type: Some(ExprType::UnresolvedAttribute(UnresolvedAttribute {
                unparsed_identifier: format!("`{}`", c.replace('`', "``")),
                ..Default::default()
            })),
            ..Default::default()
        };
        let generated = Expression {
            expr_type: Some(ExprType::Alias(Box::new(Alias {
                expr: Some(Box::new(e.clone())),
                name: vec![name.to_string()],
                ..Default::default()
            }))),
            ..Default::default()
        };
        let mut items = Vec::new();
        let mut replaced = false;
        for c in input.columns() {
            if c.eq_ignore_ascii_case(name) {
                items.push(generated.clone());
                replaced = true;
            } else {
                items.push(attr(&c));
            }
        }
        if !replaced {
            items.push(generated);
        }
        self.project(input, &items)
    }

    async fn join(&mut self, j: &spark_connect_proto::Join) -> Result<DataFrame> {
        use spark_connect_proto::join::JoinType as J;
        let before: std::collections::HashSet<i64> = self.plans.keys().copied().collect();
        let mut left = self.input(&j.left).await?;
        let mid: std::collections::HashSet<i64> = self.plans.keys().copied().collect();
        let mut right = self.input(&j.right).await?;
        let left_ids: Vec<i64> = mid.difference(&before).copied().collect();
        let right_ids: Vec<i64> = self
            .plans
            .keys()
            .filter(|k| !mid.contains(k))
            .copied()
            .collect();
        // Two inputs with the same qualified names (a self-join, two unnamed sources)
        // get distinct aliases so both sides stay addressable.
        if collide(left.inner().schema(), right.inner().schema()) {
            left = self.requalify(left, &left_ids)?;
            right = self.requalify(right, &right_ids)?;
        }
        let jt = J::try_from(j.join_type).unwrap_or(J::Inner);
        let how = match jt {
            J::Unspecified | J::Inner => "inner",
            J::FullOuter => "full",
            J::LeftOuter => "left",
            J::RightOuter => "right",
            J::LeftAnti => "left_anti",
            J::LeftSemi => "left_semi",
            J::Cross => "cross",
        };
        if !j.using_columns.is_empty() {
            return using_join(&left, &right, &j.using_columns, how);
        }
        match &j.join_condition {
            None => {
                if matches!(jt, J::LeftAnti | J::LeftSemi) {
                    return Err(ConnectError::unsupported(
                        "a semi/anti join without a condition",
                    ));
                }
                Ok(left.cross_join(&right)?)
            }
            Some(c) => {
                let both = left.cross_join(&right)?;
                let cond = self.scope(&both).expr(c)?;
                Ok(left.join_on(&right, cond, if how == "cross" { "inner" } else { how })?)
            }
        }
    }

    fn requalify(&mut self, df: DataFrame, ids: &[i64]) -> Result<DataFrame> {
        self.alias_seq += 1;
        let alias = format!("__ember_side_{}", self.alias_seq);
        let out = df.alias(&alias)?;
        for id in ids {
            if let Some(s) = self.plans.get(id) {
                let arrow = s.inner().clone();
                let q = DFSchema::try_from_qualified_schema(
                    TableReference::bare(alias.clone()),
                    &arrow,
                )?;
                self.plans.insert(*id, Arc::new(q));
            }
        }
        Ok(out)
    }

    async fn set_op(&mut self, s: &spark_connect_proto::SetOperation) -> Result<DataFrame> {
        use spark_connect_proto::set_operation::SetOpType as S;
        let left = self.input(&s.left_input).await?;
        let right = self.input(&s.right_input).await?;
        let all = s.is_all.unwrap_or(false);
        let by_name = s.by_name.unwrap_or(false);
        let (l, r) = (left.inner().clone(), right.inner().clone());
        let op = S::try_from(s.set_op_type).unwrap_or(S::Unspecified);
        if !by_name
            && !matches!(op, S::Unspecified)
            && l.schema().fields().len() != r.schema().fields().len()
        {
            return Err(EmberError::analysis(
                "NUM_COLUMNS_MISMATCH",
                format!(
                    "{} can only be performed on inputs with the same number of columns, but the first input has {} columns and the second input has {} columns.",
                    match op { S::Union => "UNION", S::Intersect => "INTERSECT", _ => "EXCEPT" },
                    l.schema().fields().len(),
                    r.schema().fields().len()
                ),
            )
            .into());
        }
        let out = match op {
            S::Union if by_name => {
                let u = same_nullability(l.union_by_name(r)?)?;
                if all {
                    u
                } else {
                    u.distinct()?
                }
            }
            S::Union => {
                let u = same_nullability(l.union(r)?)?;
                if all {
                    u
                } else {
                    u.distinct()?
                }
            }
            // ALL keeps min(m, n) / max(m - n, 0) copies of a row (Spark): number
            // the copies of each row on both sides, then compare (row, copy) pairs.
            S::Intersect if all => {
                drop_copy_number(numbered(l)?.intersect_distinct(numbered(r)?)?)?
            }
            S::Intersect => l.intersect_distinct(r)?,
            S::Except if all => drop_copy_number(numbered(l)?.except_distinct(numbered(r)?)?)?,
            S::Except => l.except_distinct(r)?,
            S::Unspecified => return Err(missing("set operation type")),
        };
        Ok(self.wrap(out))
    }
}

/// Gives every input of a union the union's nullability: a column that is non-null
/// on one side and NULL-filled (or nullable) on another is nullable in all inputs.
/// DataFusion may interleave the inputs' batches under operators that assume one
/// schema (a sort over hash-partitioned inputs), which then fail with "declared as
/// non-nullable but contains null values".
fn same_nullability(df: DfFrame) -> Result<DfFrame> {
    use datafusion::logical_expr::{LogicalPlan, Union};
    let (state, plan) = df.into_parts();
    let LogicalPlan::Union(u) = plan else {
        return Ok(DfFrame::new(state, plan));
    };
    let nullable = state
        .scalar_functions()
        .get("ember_nullable")
        .cloned()
        .ok_or_else(|| ConnectError::invalid("ember_nullable is not registered"))?;
    let mut inputs = Vec::with_capacity(u.inputs.len());
    for input in &u.inputs {
        // The nullability the input's expressions give (DataFusion's by-name union
        // labels its projections with the union's schema).
        let input = &Arc::new(input.as_ref().clone().recompute_schema()?);
        let mut changed = false;
        let exprs: Vec<Expr> = input
            .schema()
            .iter()
            .zip(u.schema.fields())
            .map(|((q, f), uf)| {
                let c = Expr::Column(datafusion::common::Column::new(q.cloned(), f.name()));
                if uf.is_nullable() && !f.is_nullable() {
                    changed = true;
                    nullable.call(vec![c]).alias_qualified(q.cloned(), f.name())
                } else {
                    c
                }
            })
            .collect();
        inputs.push(if changed {
            Arc::new(
                LogicalPlanBuilder::from(input.as_ref().clone())
                    .project(exprs)?
                    .build()?,
            )
        } else {
            input.clone()
        });
    }
    let plan = LogicalPlan::Union(Union {
        inputs,
        schema: u.schema.clone(),
    });
    Ok(DfFrame::new(state, plan))
}

const COPY: &str = "__ember_copy";

/// Adds the copy number of each row among its equal rows.
fn numbered(df: DfFrame) -> Result<DfFrame> {
    use datafusion::logical_expr::ExprFunctionExt;
    let cols: Vec<Expr> = df
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let rn = datafusion::functions_window::expr_fn::row_number()
        .partition_by(cols)
        .build()
        .map_err(EmberError::from)?;
    Ok(df.with_column(COPY, rn)?)
}

fn drop_copy_number(df: DfFrame) -> Result<DfFrame> {
    Ok(df.drop_columns(&[COPY])?)
}

/// Whether a column of `a` and one of `b` would be the same reference in the joined
/// schema: same name (case-insensitively, as `spark.sql.caseSensitive=false`) and same
/// qualifier, or either one unqualified (an unqualified name matches any qualifier).
fn collide(a: &DFSchema, b: &DFSchema) -> bool {
    a.iter().any(|(qa, fa)| {
        b.iter().any(|(qb, fb)| {
            fa.name().eq_ignore_ascii_case(fb.name()) && (qa == qb || qa.is_none() || qb.is_none())
        })
    })
}

/// `join(other, on=[names], how)`: Spark's USING join. The keys come first, once
/// (the left side's for inner/left/semi/anti, the right's for right, coalesced for
/// full), then the other left columns, then the other right columns.
fn using_join(
    left: &DataFrame,
    right: &DataFrame,
    keys: &[String],
    how: &str,
) -> Result<DataFrame> {
    let find = |df: &DataFrame, k: &str, side: &str| -> Result<datafusion::common::Column> {
        df.inner()
            .schema()
            .columns()
            .into_iter()
            .find(|c| c.name.eq_ignore_ascii_case(k))
            .ok_or_else(|| {
                EmberError::analysis(
                    "UNRESOLVED_USING_COLUMN_FOR_JOIN",
                    format!(
                        "USING column `{k}` cannot be resolved on the {side} side of the join. The {side}-side columns: [{}].",
                        df.columns().iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
                .into()
            })
    };
    let lk = keys
        .iter()
        .map(|k| find(left, k, "left"))
        .collect::<Result<Vec<_>>>()?;
    let rk = keys
        .iter()
        .map(|k| find(right, k, "right"))
        .collect::<Result<Vec<_>>>()?;
    let jt = ember_core::dataframe::parse_join_type(how)?;
    let on: Vec<Expr> = lk
        .iter()
        .zip(&rk)
        .map(|(l, r)| Expr::Column(l.clone()).eq(Expr::Column(r.clone())))
        .collect();
    let joined = left
        .inner()
        .clone()
        .join_on(right.inner().clone(), jt, on)?;
    let mut out = Vec::new();
    for (l, r) in lk.iter().zip(&rk) {
        let e = match jt {
            JoinType::Right => Expr::Column(r.clone()),
            JoinType::Full => datafusion::functions::expr_fn::coalesce(vec![
                Expr::Column(l.clone()),
                Expr::Column(r.clone()),
            ]),
            // The left key as it is (qualified): an alias would make it an
            // unqualified column that DataFusion's projection merging can confuse
            // with the right side's key.
            _ => {
                out.push(Expr::Column(l.clone()));
                continue;
            }
        };
        out.push(e.alias(&l.name));
    }
    for c in left.inner().schema().columns() {
        if !lk.contains(&c) {
            out.push(Expr::Column(c));
        }
    }
    if !matches!(jt, JoinType::LeftSemi | JoinType::LeftAnti) {
        for c in right.inner().schema().columns() {
            if !rk.contains(&c) {
                out.push(Expr::Column(c));
            }
        }
    }
    let df = DataFrame::from_datafusion(left.session(), joined);
    Ok(df.select_exprs(out)?)
}

fn rel_name(r: &RelType) -> &'static str {
    match r {
        RelType::CollectMetrics(_) => "CollectMetrics (observe)",
        RelType::Parse(_) => "Parse (from_csv/from_json on a Dataset)",
        RelType::WithWatermark(_) => "WithWatermark",
        RelType::ApplyInPandasWithState(_) => "ApplyInPandasWithState",
        RelType::CachedRemoteRelation(_) => "CachedRemoteRelation",
        RelType::CommonInlineUserDefinedTableFunction(_) => {
            "CommonInlineUserDefinedTableFunction (Python UDTF)"
        }
        RelType::AsOfJoin(_) => "AsOfJoin",
        RelType::CommonInlineUserDefinedDataSource(_) => "CommonInlineUserDefinedDataSource",
        RelType::Transpose(_) => "Transpose",
        RelType::UnresolvedTableValuedFunction(_) => "UnresolvedTableValuedFunction",
        RelType::LateralJoin(_) => "LateralJoin",
        RelType::ChunkedCachedLocalRelation(_) => "ChunkedCachedLocalRelation",
        RelType::Crosstab(_) => "StatCrosstab (crosstab)",
        RelType::ApproxQuantile(_) => "StatApproxQuantile (approxQuantile)",
        RelType::FreqItems(_) => "StatFreqItems (freqItems)",
        RelType::SampleBy(_) => "StatSampleBy (sampleBy)",
        RelType::MlRelation(_) => "MlRelation",
        RelType::Extension(_) => "Extension",
        RelType::Unknown(_) => "Unknown",
        _ => "relation",
    }
}
