//! Spark's `functions` for the Rust DataFrame API (`pyspark.sql.functions` names):
//! aggregates, ranking and offset window functions, conditionals and common scalar
//! functions. Functions that depend on the session (time zone) are reached with
//! [`call`] on a session.

use std::sync::Arc;

use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{Expr, WindowFunctionDefinition};

use crate::column::Column;
use crate::error::Result;
use crate::session::SparkSession;

pub use crate::column::{col, lit};

/// `sum(col)`: bigint for integral input, as Spark.
pub fn sum(c: impl Into<Column>) -> Column {
    Column(super::sums::sum_udaf().call(vec![c.into().0]))
}
/// `avg(col)` / `mean`.
pub fn avg(c: impl Into<Column>) -> Column {
    Column(super::sums::avg_udaf().call(vec![c.into().0]))
}
/// `count(col)`; `count(lit(1))` counts rows.
pub fn count(c: impl Into<Column>) -> Column {
    Column(datafusion::functions_aggregate::expr_fn::count(c.into().0))
}
/// `countDistinct(col)`.
pub fn count_distinct(c: impl Into<Column>) -> Column {
    Column(datafusion::functions_aggregate::expr_fn::count_distinct(
        c.into().0,
    ))
}
/// `min(col)`.
pub fn min(c: impl Into<Column>) -> Column {
    Column(datafusion::functions_aggregate::expr_fn::min(c.into().0))
}
/// `max(col)`.
pub fn max(c: impl Into<Column>) -> Column {
    Column(datafusion::functions_aggregate::expr_fn::max(c.into().0))
}
/// `stddev(col)` (sample standard deviation).
pub fn stddev(c: impl Into<Column>) -> Column {
    Column(super::moments::stddev_udaf().call(vec![c.into().0]))
}
/// `variance(col)` (sample variance).
pub fn variance(c: impl Into<Column>) -> Column {
    Column(super::moments::variance_udaf().call(vec![c.into().0]))
}
/// `collect_list(col)`: the values of the group (nulls skipped, as Spark).
pub fn collect_list(c: impl Into<Column>) -> Column {
    let e = c.into().0;
    Column(datafusion::functions_aggregate::expr_fn::array_agg(e.clone()).filter_not_null(e))
}
/// `collect_set(col)`: distinct values of the group (nulls skipped).
pub fn collect_set(c: impl Into<Column>) -> Column {
    let e = c.into().0;
    Column(datafusion::functions_aggregate::expr_fn::array_agg(e.clone()).distinct_not_null(e))
}
/// `first(col)`: the first value of the group.
pub fn first(c: impl Into<Column>) -> Column {
    Column(datafusion::functions_aggregate::expr_fn::first_value(
        c.into().0,
        vec![],
    ))
}
/// `last(col)`: the last value of the group.
pub fn last(c: impl Into<Column>) -> Column {
    Column(datafusion::functions_aggregate::expr_fn::last_value(
        c.into().0,
        vec![],
    ))
}

trait AggExt {
    fn filter_not_null(self, e: Expr) -> Expr;
    fn distinct_not_null(self, e: Expr) -> Expr;
}

impl AggExt for Expr {
    fn filter_not_null(self, e: Expr) -> Expr {
        use datafusion::logical_expr::ExprFunctionExt;
        self.clone().filter(e.is_not_null()).build().unwrap_or(self)
    }
    fn distinct_not_null(self, e: Expr) -> Expr {
        use datafusion::logical_expr::ExprFunctionExt;
        self.clone()
            .distinct()
            .filter(e.is_not_null())
            .build()
            .unwrap_or(self)
    }
}

fn ranking(f: Arc<datafusion::logical_expr::WindowUDF>) -> Column {
    let wrapped = Arc::new(crate::functions::window::IntRanking::new(f));
    Column(Expr::from(WindowFunction::new(
        WindowFunctionDefinition::WindowUDF(wrapped),
        vec![],
    )))
}

/// `row_number()` (an `int`), used with `.over(window)`.
pub fn row_number() -> Column {
    ranking(datafusion::functions_window::row_number::row_number_udwf())
}
/// `rank()` (an `int`).
pub fn rank() -> Column {
    ranking(datafusion::functions_window::rank::rank_udwf())
}
/// `dense_rank()` (an `int`).
pub fn dense_rank() -> Column {
    ranking(datafusion::functions_window::rank::dense_rank_udwf())
}
/// `lag(col, offset)`.
pub fn lag(c: impl Into<Column>, offset: i64) -> Column {
    Column(datafusion::functions_window::expr_fn::lag(
        c.into().0,
        Some(offset),
        None,
    ))
}
/// `lead(col, offset)`.
pub fn lead(c: impl Into<Column>, offset: i64) -> Column {
    Column(datafusion::functions_window::expr_fn::lead(
        c.into().0,
        Some(offset),
        None,
    ))
}

/// `when(cond, value)`: start of a CASE; finish with [`When::otherwise`] or
/// [`When::end`] (NULL otherwise).
pub fn when(cond: Column, value: impl Into<Column>) -> When {
    When {
        branches: vec![(cond.0, value.into().0)],
    }
}

/// A CASE expression under construction.
pub struct When {
    branches: Vec<(Expr, Expr)>,
}

impl When {
    /// Another `when` branch.
    pub fn when(mut self, cond: Column, value: impl Into<Column>) -> When {
        self.branches.push((cond.0, value.into().0));
        self
    }
    /// `otherwise(value)`.
    pub fn otherwise(self, value: impl Into<Column>) -> Result<Column> {
        let mut b =
            datafusion::logical_expr::when(self.branches[0].0.clone(), self.branches[0].1.clone());
        for (c, v) in &self.branches[1..] {
            b = b.when(c.clone(), v.clone());
        }
        Ok(Column(b.otherwise(value.into().0)?))
    }
    /// No `otherwise`: NULL when no branch matches.
    pub fn end(self) -> Result<Column> {
        let mut b =
            datafusion::logical_expr::when(self.branches[0].0.clone(), self.branches[0].1.clone());
        for (c, v) in &self.branches[1..] {
            b = b.when(c.clone(), v.clone());
        }
        Ok(Column(b.end()?))
    }
}

/// `coalesce(cols)`.
pub fn coalesce(cols: Vec<Column>) -> Column {
    Column(datafusion::functions::expr_fn::coalesce(
        cols.into_iter().map(|c| c.0).collect(),
    ))
}
/// `upper(col)`.
pub fn upper(c: impl Into<Column>) -> Column {
    Column(datafusion::functions::expr_fn::upper(c.into().0))
}
/// `lower(col)`.
pub fn lower(c: impl Into<Column>) -> Column {
    Column(datafusion::functions::expr_fn::lower(c.into().0))
}
/// `trim(col)`.
pub fn trim(c: impl Into<Column>) -> Column {
    Column(datafusion::functions::expr_fn::btrim(vec![c.into().0]))
}
/// `length(col)` (characters).
pub fn length(c: impl Into<Column>) -> Column {
    Column(datafusion::functions::expr_fn::character_length(c.into().0))
}
/// `concat_ws(sep, cols)`: skips nulls.
pub fn concat_ws(sep: &str, cols: Vec<Column>) -> Column {
    Column(datafusion::functions::expr_fn::concat_ws(
        datafusion::prelude::lit(sep),
        cols.into_iter().map(|c| c.0).collect(),
    ))
}
/// `date_trunc(unit, col)` in the session zone (unit: year, quarter, month, week, day,
/// hour, minute, second).
pub fn date_trunc(unit: &str, c: impl Into<Column>) -> Column {
    Column(datafusion::functions::expr_fn::date_trunc(
        datafusion::prelude::lit(unit.to_ascii_lowercase()),
        c.into().0,
    ))
}

/// Any Spark SQL function by name with the session's semantics (`hour`, `to_date`,
/// `date_format`, `regexp_extract`, `size`, `get`...), as `expr("name(args)")`.
///
/// Errors: `UNRESOLVED_ROUTINE` for unknown names.
pub fn call(spark: &SparkSession, name: &str, args: Vec<Column>) -> Result<Column> {
    crate::column::resolve_scalar(
        spark.context(),
        name,
        args.into_iter().map(|c| c.0).collect(),
    )
    .map(Column)
}

/// `broadcast(df)`: marks a DataFrame as small enough to broadcast in joins. DataFusion
/// chooses broadcast (collect-left) joins by size against
/// `spark.sql.autoBroadcastJoinThreshold`; the hint is accepted for compatibility.
pub fn broadcast(df: &crate::DataFrame) -> crate::DataFrame {
    df.clone()
}
