//! Spark's arithmetic on ANSI intervals (see [`crate::interval`]), as a rewrite of the
//! logical plan before DataFusion's type coercion:
//!
//! - `a + b`, `a - b` of two intervals of one kind keep Arrow's operator; the result's
//!   range is the union of the operands' (`INTERVAL '1' HOUR + INTERVAL '1' SECOND` is
//!   `interval hour to second`); a year-month and a day-time interval do not mix
//!   (`DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE`).
//! - `- a` keeps `a`'s range (`abs` of intervals: [`crate::functions::intervals`]).
//! - `a * n`, `n * a`, `a / n` are `ember_interval_mul`/`ember_interval_div` (Spark's
//!   rounding and errors; the full range).
//! - `date ± interval` of days (`interval day`) is a date, as Spark's `date_add`.
//! - aggregates of intervals (`sum`, `avg`, `min`, `max`, `median`, the
//!   percentiles, `mode`) run over the months or microseconds and are typed back.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, IntervalUnit};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{plan_err, DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::{Cast, ScalarFunction};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{
    Aggregate, BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator, Projection,
};

use crate::functions::intervals::{arith_type, IntervalArith, IntervalLiteral, IntervalNumber};
use crate::interval::{Qualifier, Unit};

fn qualifier(e: &Expr, schema: &DFSchema) -> Option<Qualifier> {
    let (_, f) = e.to_field(schema).ok()?;
    Qualifier::of_field(&f)
}

/// `e` typed with range `q` (the identity when `q` is its type's full range).
fn ranged(e: Expr, q: Qualifier) -> Expr {
    if q == q.full() {
        return e;
    }
    Expr::ScalarFunction(ScalarFunction::new_udf(
        Arc::new(IntervalLiteral::udf()),
        vec![e, Expr::Literal(ScalarValue::Utf8(Some(q.sql())), None)],
    ))
}

fn rewrite(x: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    match x {
        Expr::BinaryExpr(b) => {
            let (lq, rq) = (qualifier(&b.left, schema), qualifier(&b.right, schema));
            if lq.is_none() && rq.is_none() {
                return Ok(Transformed::no(Expr::BinaryExpr(b)));
            }
            let lt = b.left.get_type(schema)?;
            let rt = b.right.get_type(schema)?;
            match (b.op, lq, rq) {
                (Operator::Plus | Operator::Minus, Some(l), Some(r)) => {
                    let Some(u) = l.union(r) else {
                        return plan_err!(
                            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: a {} and a {} do not add. SQLSTATE: 42K09",
                            Expr::BinaryExpr(b.clone()),
                            l.type_name().to_uppercase(),
                            r.type_name().to_uppercase()
                        );
                    };
                    Ok(Transformed::yes(ranged(Expr::BinaryExpr(b), u)))
                }
                (Operator::Multiply | Operator::Divide, _, _)
                    if arith_type(b.op, &lt, &rt).is_some() =>
                {
                    Ok(Transformed::yes(Expr::ScalarFunction(
                        ScalarFunction::new_udf(
                            Arc::new(IntervalArith::udf(b.op)),
                            vec![*b.left, *b.right],
                        ),
                    )))
                }
                // date ± interval day: a date (the days added, as a calendar interval).
                (Operator::Plus | Operator::Minus, None, Some(q))
                    if lt == DataType::Date32 && !q.year_month() && q.end == Unit::Day =>
                {
                    let days = Expr::Cast(Cast::new(
                        b.right,
                        DataType::Interval(IntervalUnit::MonthDayNano),
                    ));
                    Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                        b.left,
                        b.op,
                        Box::new(days),
                    ))))
                }
                (Operator::Plus, Some(q), None)
                    if rt == DataType::Date32 && !q.year_month() && q.end == Unit::Day =>
                {
                    let days = Expr::Cast(Cast::new(
                        b.left,
                        DataType::Interval(IntervalUnit::MonthDayNano),
                    ));
                    Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                        b.right,
                        b.op,
                        Box::new(days),
                    ))))
                }
                _ => Ok(Transformed::no(Expr::BinaryExpr(b))),
            }
        }
        // -interval: times -1 (Arrow does not negate durations), same range.
        Expr::Negative(inner) => match qualifier(&inner, schema) {
            Some(q) => {
                let minus_one = Expr::Literal(ScalarValue::Int32(Some(-1)), None);
                let e = Expr::ScalarFunction(ScalarFunction::new_udf(
                    Arc::new(IntervalArith::udf(Operator::Multiply)),
                    vec![*inner, minus_one],
                ));
                Ok(Transformed::yes(ranged(e, q)))
            }
            None => Ok(Transformed::no(Expr::Negative(inner))),
        },
        other => Ok(Transformed::no(other)),
    }
}

/// `l op r` with Spark's semantics (see the module docs) when one side is an ANSI
/// interval; the plain operator otherwise. Both front doors build binary operators
/// here: the SQL planner through [`IntervalPlanner`], Spark Connect directly.
pub fn plan_binary(op: Operator, l: Expr, r: Expr, schema: &DFSchema) -> Result<Expr> {
    let e = Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r)));
    Ok(rewrite(e, schema)?.data)
}

/// The SQL planner's hook for [`plan_binary`] (DataFusion would refuse `interval *
/// number` while building the plan, before any analyzer rule runs).
#[derive(Debug, Default)]
pub struct IntervalPlanner;

impl ExprPlanner for IntervalPlanner {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        use datafusion::sql::sqlparser::ast::BinaryOperator as B;
        let op = match expr.op {
            B::Plus => Operator::Plus,
            B::Minus => Operator::Minus,
            B::Multiply => Operator::Multiply,
            B::Divide => Operator::Divide,
            _ => return Ok(PlannerResult::Original(expr)),
        };
        let RawBinaryExpr {
            op: raw,
            left,
            right,
        } = expr;
        let e = Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right)));
        let t = rewrite(e, schema)?;
        if t.transformed {
            return Ok(PlannerResult::Planned(t.data));
        }
        match t.data {
            Expr::BinaryExpr(b) => Ok(PlannerResult::Original(RawBinaryExpr {
                op: raw,
                left: *b.left,
                right: *b.right,
            })),
            other => Ok(PlannerResult::Planned(other)),
        }
    }
}

/// How an aggregate of intervals is typed: `Some(true)` keeps the input's range
/// (`sum`, `min`, `max`, `mode`, the approximate percentiles), `Some(false)` gives the
/// type's full range (`avg`, `median`, `percentile`...), `None` for aggregates that
/// take intervals as they are.
fn aggregate_range(name: &str) -> Option<bool> {
    match name {
        "sum" | "try_sum" | "min" | "max" | "mode" | "percentile_approx" | "approx_percentile" => {
            Some(true)
        }
        "avg" | "try_avg" | "median" | "percentile" | "percentile_cont" | "percentile_disc" => {
            Some(false)
        }
        _ => None,
    }
}

/// Aggregates of intervals (Spark's `Sum`, `Average`, percentiles... of
/// `interval` columns): computed over the intervals' months or microseconds, the
/// results typed back (`avg` rounds half up, the percentiles truncate, as Spark).
/// The aggregate's output columns keep their names.
fn interval_aggregates(agg: &Aggregate) -> Result<Option<LogicalPlan>> {
    let schema = agg.input.schema();
    let mut changed = false;
    let mut back: Vec<Option<(Qualifier, bool)>> = Vec::new();
    let mut exprs = Vec::new();
    for e in &agg.aggr_expr {
        let inner = match e {
            Expr::Alias(a) => a.expr.as_ref(),
            other => other,
        };
        if let Expr::AggregateFunction(af) = inner {
            let name = af.func.name().to_string();
            let q = af.params.args.first().and_then(|a| qualifier(a, schema));
            if let (Some(keep), Some(q)) = (aggregate_range(&name), q) {
                let out_name = e.schema_name().to_string();
                let mut f = af.clone();
                f.params.args[0] = IntervalNumber::call(f.params.args[0].clone());
                exprs.push(Expr::AggregateFunction(f).alias(out_name));
                let round = name == "avg" || name == "try_avg";
                back.push(Some((if keep { q } else { q.full() }, round)));
                changed = true;
                continue;
            }
        }
        exprs.push(e.clone());
        back.push(None);
    }
    if !changed {
        return Ok(None);
    }
    let new = LogicalPlan::Aggregate(Aggregate::try_new(
        agg.input.clone(),
        agg.group_expr.clone(),
        exprs,
    )?);
    let out = new.schema().clone();
    let prefix = out.fields().len() - back.len();
    let columns: Vec<Expr> = out
        .columns()
        .into_iter()
        .enumerate()
        .map(|(i, c)| match i.checked_sub(prefix).and_then(|k| back[k]) {
            Some((q, round)) => {
                let name = c.name.clone();
                let mut args = vec![
                    Expr::Column(c),
                    Expr::Literal(ScalarValue::Utf8(Some(q.sql())), None),
                ];
                if round {
                    args.push(Expr::Literal(ScalarValue::Utf8(Some("round".into())), None));
                }
                Expr::ScalarFunction(ScalarFunction::new_udf(
                    Arc::new(IntervalLiteral::udf()),
                    args,
                ))
                .alias(name)
            }
            None => Expr::Column(c),
        })
        .collect();
    Ok(Some(LogicalPlan::Projection(Projection::try_new(
        columns,
        Arc::new(new),
    )?)))
}

/// Applies the module's rewrites to every expression of `plan` (see the module docs).
pub fn interval_arithmetic(plan: LogicalPlan) -> Result<LogicalPlan> {
    Ok(plan
        .transform_up_with_subqueries(|p| {
            if p.inputs().is_empty() {
                return Ok(Transformed::no(p));
            }
            if let LogicalPlan::Aggregate(agg) = &p {
                if let Some(new) = interval_aggregates(agg)? {
                    return Ok(Transformed::yes(new));
                }
            }
            let schema = datafusion::logical_expr::utils::merge_schema(&p.inputs());
            let names = NamePreserver::new(&p);
            let t = p.map_expressions(|e| {
                let saved = names.save(&e);
                Ok(e.transform_up(|x| rewrite(x, &schema))?
                    .update_data(|e| saved.restore(e)))
            })?;
            if t.transformed {
                Ok(Transformed::yes(t.data.recompute_schema()?))
            } else {
                Ok(t)
            }
        })?
        .data)
}
