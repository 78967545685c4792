//! `Column`: a Spark column expression (a DataFusion [`Expr`] underneath), with
//! Spark's method names: `alias`, `cast`, comparisons, `is_null`, `isin`, `between`,
//! `like`, sort orders (`asc`, `desc_nulls_last`...) and `over(WindowSpec)`.
//! Arithmetic uses Rust's operators (`+ - * / %`, `!` for NOT).

use std::ops;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::{Sort, WindowFunction};
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, WindowFrame, WindowFrameBound, WindowFrameUnits,
    WindowFunctionDefinition,
};
use datafusion::prelude::SessionContext;

use crate::error::{EmberError, Result};

/// A column expression, as Spark's `Column`.
#[derive(Debug, Clone, PartialEq)]
pub struct Column(pub Expr);

/// A sort order (`col.asc()`, `col.desc_nulls_last()`), as Spark's `SortOrder`.
#[derive(Debug, Clone)]
pub struct SortOrder(pub Sort);

impl From<Column> for Expr {
    fn from(c: Column) -> Expr {
        c.0
    }
}

impl From<Expr> for Column {
    fn from(e: Expr) -> Column {
        Column(e)
    }
}

impl From<&str> for Column {
    fn from(name: &str) -> Column {
        col(name)
    }
}

impl From<Column> for SortOrder {
    /// Ascending, nulls first (Spark's default).
    fn from(c: Column) -> SortOrder {
        c.asc()
    }
}

impl From<&str> for SortOrder {
    fn from(name: &str) -> SortOrder {
        col(name).asc()
    }
}

/// `col(name)`: a column by name; `a.b` is a struct field or a qualified column,
/// backquotes quote names holding dots (`` `req.id` ``).
pub fn col(name: &str) -> Column {
    if let Some(inner) = name.strip_prefix('`').and_then(|n| n.strip_suffix('`')) {
        return Column(Expr::Column(datafusion::common::Column::new_unqualified(
            inner.replace("``", "`"),
        )));
    }
    Column(datafusion::prelude::col(name))
}

/// `lit(value)`: a literal (Rust integers, floats, bools, strings, `ScalarValue`).
pub fn lit<T: datafusion::logical_expr::Literal>(v: T) -> Column {
    Column(datafusion::prelude::lit(v))
}

/// `expr("sql text")` is [`crate::DataFrame::parse_expr`]: it needs a schema.
impl Column {
    /// `alias(name)` / `as`.
    pub fn alias(self, name: &str) -> Column {
        Column(self.0.alias(name))
    }
    /// `cast("int")`: Spark type names (`int`, `bigint`, `double`, `string`,
    /// `date`, `timestamp`, `decimal(p,s)`, `array<...>`...). Timestamps use UTC as
    /// their Arrow zone tag here; values are instants either way.
    pub fn cast(self, spark_type: &str) -> Result<Column> {
        let t = crate::types::parse_data_type(spark_type, "UTC")?;
        Ok(Column(datafusion::logical_expr::cast(self.0, t)))
    }
    /// `=`.
    pub fn eq(self, other: impl Into<Column>) -> Column {
        Column(self.0.eq(other.into().0))
    }
    /// `!=`.
    pub fn ne(self, other: impl Into<Column>) -> Column {
        Column(self.0.not_eq(other.into().0))
    }
    /// `>`.
    pub fn gt(self, other: impl Into<Column>) -> Column {
        Column(self.0.gt(other.into().0))
    }
    /// `>=`.
    pub fn ge(self, other: impl Into<Column>) -> Column {
        Column(self.0.gt_eq(other.into().0))
    }
    /// `<`.
    pub fn lt(self, other: impl Into<Column>) -> Column {
        Column(self.0.lt(other.into().0))
    }
    /// `<=`.
    pub fn le(self, other: impl Into<Column>) -> Column {
        Column(self.0.lt_eq(other.into().0))
    }
    /// `<=>`: null-safe equality.
    pub fn eq_null_safe(self, other: impl Into<Column>) -> Column {
        Column(Expr::BinaryExpr(datafusion::logical_expr::BinaryExpr::new(
            Box::new(self.0),
            datafusion::logical_expr::Operator::IsNotDistinctFrom,
            Box::new(other.into().0),
        )))
    }
    /// `AND`.
    pub fn and(self, other: impl Into<Column>) -> Column {
        Column(self.0.and(other.into().0))
    }
    /// `OR`.
    pub fn or(self, other: impl Into<Column>) -> Column {
        Column(self.0.or(other.into().0))
    }
    /// `isNull`.
    pub fn is_null(self) -> Column {
        Column(self.0.is_null())
    }
    /// `isNotNull`.
    pub fn is_not_null(self) -> Column {
        Column(self.0.is_not_null())
    }
    /// `isin(values)`.
    pub fn isin(self, values: Vec<Column>) -> Column {
        Column(
            self.0
                .in_list(values.into_iter().map(|c| c.0).collect(), false),
        )
    }
    /// `between(low, high)` (inclusive).
    pub fn between(self, low: impl Into<Column>, high: impl Into<Column>) -> Column {
        Column(self.0.between(low.into().0, high.into().0))
    }
    /// `like(pattern)` (SQL LIKE, `%` and `_`).
    pub fn like(self, pattern: &str) -> Column {
        Column(self.0.like(datafusion::prelude::lit(pattern)))
    }
    /// `rlike(regex)`.
    pub fn rlike(self, regex: &str) -> Column {
        Column(datafusion::functions::expr_fn::regexp_like(
            self.0,
            datafusion::prelude::lit(regex),
            None,
        ))
    }
    /// `getField(name)` / `col("a.b")` for structs.
    pub fn get_field(self, name: &str) -> Column {
        Column(datafusion::functions::core::expr_fn::get_field(
            self.0, name,
        ))
    }
    /// `asc` (nulls first, as Spark).
    pub fn asc(self) -> SortOrder {
        SortOrder(self.0.sort(true, true))
    }
    /// `asc_nulls_last`.
    pub fn asc_nulls_last(self) -> SortOrder {
        SortOrder(self.0.sort(true, false))
    }
    /// `desc` (nulls last, as Spark).
    pub fn desc(self) -> SortOrder {
        SortOrder(self.0.sort(false, false))
    }
    /// `desc_nulls_first`.
    pub fn desc_nulls_first(self) -> SortOrder {
        SortOrder(self.0.sort(false, true))
    }
    /// `over(window)`: an aggregate or ranking function over a [`WindowSpec`].
    pub fn over(self, w: &WindowSpec) -> Result<Column> {
        let e = match self.0 {
            Expr::AggregateFunction(af) => Expr::from(WindowFunction::new(
                WindowFunctionDefinition::AggregateUDF(af.func.clone()),
                af.params.args.clone(),
            )),
            Expr::Alias(a) => return Column(*a.expr).over(w).map(|c| c.alias(&a.name)),
            other @ Expr::WindowFunction(_) => other,
            other => {
                return Err(EmberError::analysis(
                    "UNSUPPORTED_EXPR_FOR_WINDOW",
                    format!("Expression {other} not supported within a window function."),
                ))
            }
        };
        let mut b = e
            .partition_by(w.partition_by.clone())
            .order_by(w.order_by.iter().map(|s| s.0.clone()).collect());
        if let Some(f) = &w.frame {
            b = b.window_frame(f.clone());
        }
        Ok(Column(b.build()?))
    }
}

impl ops::Add for Column {
    type Output = Column;
    fn add(self, rhs: Column) -> Column {
        Column(self.0 + rhs.0)
    }
}
impl ops::Sub for Column {
    type Output = Column;
    fn sub(self, rhs: Column) -> Column {
        Column(self.0 - rhs.0)
    }
}
impl ops::Mul for Column {
    type Output = Column;
    fn mul(self, rhs: Column) -> Column {
        Column(self.0 * rhs.0)
    }
}
impl ops::Div for Column {
    type Output = Column;
    /// Spark's `/`: fractional for integral operands (applied at analysis).
    fn div(self, rhs: Column) -> Column {
        Column(self.0 / rhs.0)
    }
}
impl ops::Rem for Column {
    type Output = Column;
    fn rem(self, rhs: Column) -> Column {
        Column(self.0 % rhs.0)
    }
}
impl ops::Neg for Column {
    type Output = Column;
    fn neg(self) -> Column {
        Column(Expr::Negative(Box::new(self.0)))
    }
}
impl ops::Not for Column {
    type Output = Column;
    fn not(self) -> Column {
        Column(Expr::Not(Box::new(self.0)))
    }
}

/// Spark's `Window` builder: `Window::partition_by(..).order_by(..).rows_between(..)`.
pub struct Window;

/// `Window.unboundedPreceding`.
pub const UNBOUNDED_PRECEDING: i64 = i64::MIN;
/// `Window.unboundedFollowing`.
pub const UNBOUNDED_FOLLOWING: i64 = i64::MAX;
/// `Window.currentRow`.
pub const CURRENT_ROW: i64 = 0;

impl Window {
    /// `Window.partitionBy(cols)`.
    pub fn partition_by(cols: Vec<Column>) -> WindowSpec {
        WindowSpec::default().partition_by(cols)
    }
    /// `Window.orderBy(cols)`.
    pub fn order_by(orders: Vec<SortOrder>) -> WindowSpec {
        WindowSpec::default().order_by(orders)
    }
}

/// A window specification (partitioning, ordering, frame), as Spark's `WindowSpec`.
#[derive(Debug, Clone, Default)]
pub struct WindowSpec {
    partition_by: Vec<Expr>,
    order_by: Vec<SortOrder>,
    frame: Option<WindowFrame>,
}

fn bound(v: i64, start: bool) -> WindowFrameBound {
    match v {
        i64::MIN => WindowFrameBound::Preceding(ScalarValue::UInt64(None)),
        i64::MAX => WindowFrameBound::Following(ScalarValue::UInt64(None)),
        0 => WindowFrameBound::CurrentRow,
        v if v < 0 => WindowFrameBound::Preceding(ScalarValue::UInt64(Some(v.unsigned_abs()))),
        v => {
            let _ = start;
            WindowFrameBound::Following(ScalarValue::UInt64(Some(v as u64)))
        }
    }
}

impl WindowSpec {
    /// `partitionBy`.
    pub fn partition_by(mut self, cols: Vec<Column>) -> Self {
        self.partition_by = cols.into_iter().map(|c| c.0).collect();
        self
    }
    /// `orderBy`.
    pub fn order_by(mut self, orders: Vec<SortOrder>) -> Self {
        self.order_by = orders;
        self
    }
    /// `rowsBetween(start, end)`: offsets from the current row;
    /// [`UNBOUNDED_PRECEDING`], [`CURRENT_ROW`], [`UNBOUNDED_FOLLOWING`] as Spark.
    pub fn rows_between(mut self, start: i64, end: i64) -> Self {
        self.frame = Some(WindowFrame::new_bounds(
            WindowFrameUnits::Rows,
            bound(start, true),
            bound(end, false),
        ));
        self
    }
    /// `rangeBetween(start, end)` over the ordering value.
    pub fn range_between(mut self, start: i64, end: i64) -> Self {
        let b = |v: i64| match v {
            i64::MIN => WindowFrameBound::Preceding(ScalarValue::Int64(None)),
            i64::MAX => WindowFrameBound::Following(ScalarValue::Int64(None)),
            0 => WindowFrameBound::CurrentRow,
            v if v < 0 => WindowFrameBound::Preceding(ScalarValue::Int64(Some(-v))),
            v => WindowFrameBound::Following(ScalarValue::Int64(Some(v))),
        };
        self.frame = Some(WindowFrame::new_bounds(
            WindowFrameUnits::Range,
            b(start),
            b(end),
        ));
        self
    }
}

/// Resolves a function by Spark name in a session (scalar UDFs registered there,
/// including ember's and datafusion-spark's), for [`crate::functions::call`].
pub(crate) fn resolve_scalar(ctx: &SessionContext, name: &str, args: Vec<Expr>) -> Result<Expr> {
    use datafusion::execution::FunctionRegistry;
    if let Ok(f) = ctx.udf(name) {
        return Ok(f.call(args));
    }
    if let Ok(f) = ctx.udaf(name) {
        return Ok(f.call(args));
    }
    Err(EmberError::analysis(
        "UNRESOLVED_ROUTINE",
        format!("Cannot resolve routine `{name}` on search path [`system`.`builtin`, `system`.`session`]."),
    ))
}
