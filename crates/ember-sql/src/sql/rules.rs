//! Analyzer rules that give DataFusion plans Spark's semantics where the two differ:
//! - `/` on integral or floating operands is `double` division (Spark's `Divide`),
//!   not integer division, and division by zero raises `DIVIDE_BY_ZERO` under ANSI;
//! - array subscripts `a[i]` are 0-based and, under ANSI mode, fail with
//!   `INVALID_ARRAY_INDEX` out of bounds (DataFusion's are 1-based, NULL out of bounds);
//! - integer literals are `int` when they fit (Spark), not `bigint` (DataFusion);
//! - `row_number`, `rank`, `dense_rank`, `ntile` return `int`, not unsigned `bigint`.
//!
//! [`analyze`] runs them around DataFusion's analyzer, eagerly, as Spark analyzes
//! eagerly: schemas and analysis errors are known before any action.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::ScalarValue;
use datafusion::common::{DFSchema, Result};
use datafusion::execution::SessionState;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator, ScalarUDF,
};
use datafusion::optimizer::AnalyzerRule;

/// The Spark-semantics analyzer rule (runs after DataFusion's type coercion).
#[derive(Debug)]
pub struct SparkSemantics {
    /// `spark_array_index` (ANSI) or `get` (non-ANSI).
    pub array_index: Arc<ScalarUDF>,
    /// Identity with a nullable result.
    pub nullable: Arc<ScalarUDF>,
    /// Identity with a non-nullable result.
    pub not_null: Arc<ScalarUDF>,
    /// Spark's string cast for timestamps, floating point and nested values.
    pub to_string: Arc<ScalarUDF>,
    /// Spark's `/` on doubles (ANSI division by zero).
    pub divide: Arc<ScalarUDF>,
}

fn is_integral(t: &DataType) -> bool {
    t.is_integer()
}

fn r_divide(r: &SparkSemantics) -> Arc<ScalarUDF> {
    r.divide.clone()
}

fn rewrite(e: Expr, schema: &DFSchema, r: &SparkSemantics) -> Result<Transformed<Expr>> {
    let idx = &r.array_index;
    let rr = r;
    match e {
        // Collapse repeated wrappers (plans are re-analyzed as DataFrames grow).
        Expr::ScalarFunction(sf)
            if (sf.func.name() == "ember_nullable" || sf.func.name() == "ember_not_null")
                && matches!(sf.args.first(), Some(Expr::ScalarFunction(inner)) if inner.func.name() == sf.func.name()) =>
        {
            Ok(Transformed::yes(
                sf.args
                    .into_iter()
                    .next()
                    .unwrap_or(Expr::Literal(ScalarValue::Null, None)),
            ))
        }
        // Spark's text for timestamps, doubles and nested values.
        Expr::Cast(c)
            if c.field.data_type() == &DataType::Utf8
                && matches!(
                    c.expr.get_type(schema)?,
                    DataType::Timestamp(_, _)
                        | DataType::Float64
                        | DataType::Float32
                        | DataType::List(_)
                        | DataType::Struct(_)
                        | DataType::Map(_, _)
                        | DataType::Binary
                ) =>
        {
            Ok(Transformed::yes(Expr::ScalarFunction(
                ScalarFunction::new_udf(r.to_string.clone(), vec![*c.expr]),
            )))
        }
        // Spark: a cast from string to another type may fail, so it is nullable.
        Expr::Cast(c)
            if c.field.data_type() != &DataType::Utf8
                && c.expr.get_type(schema)? == DataType::Utf8
                && !c.expr.nullable(schema)? =>
        {
            Ok(Transformed::yes(Expr::ScalarFunction(
                ScalarFunction::new_udf(r.nullable.clone(), vec![Expr::Cast(c)]),
            )))
        }
        // Spark's `concat` of strings with other scalar types: those become strings
        // (Spark's implicit cast; all-binary stays binary, arrays are concatenated).
        Expr::ScalarFunction(mut sf) if sf.func.name() == "concat" => {
            let types = sf
                .args
                .iter()
                .map(|a| a.get_type(schema))
                .collect::<Result<Vec<_>>>()?;
            let stringy = |t: &DataType| {
                matches!(
                    t,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
                )
            };
            let binary = |t: &DataType| {
                matches!(
                    t,
                    DataType::Binary
                        | DataType::LargeBinary
                        | DataType::BinaryView
                        | DataType::Null
                )
            };
            let nested = |t: &DataType| {
                matches!(
                    t,
                    DataType::List(_)
                        | DataType::LargeList(_)
                        | DataType::FixedSizeList(..)
                        | DataType::Struct(_)
                        | DataType::Map(..)
                )
            };
            if types.iter().any(nested) || types.iter().all(stringy) || types.iter().all(binary) {
                return Ok(Transformed::no(Expr::ScalarFunction(sf)));
            }
            sf.args = sf
                .args
                .into_iter()
                .zip(types)
                .map(|(a, t)| match t {
                    t if stringy(&t) => a,
                    // Spark's text for these (`1.0E10`, session-zone timestamps).
                    DataType::Float32 | DataType::Float64 | DataType::Timestamp(_, _) => {
                        Expr::Case(datafusion::logical_expr::Case::new(
                            None,
                            vec![(
                                Box::new(a.clone().is_not_null()),
                                Box::new(Expr::ScalarFunction(ScalarFunction::new_udf(
                                    rr.to_string.clone(),
                                    vec![a],
                                ))),
                            )],
                            None,
                        ))
                    }
                    _ => Expr::Cast(Cast::new(Box::new(a), DataType::Utf8)),
                })
                .collect();
            Ok(Transformed::yes(Expr::ScalarFunction(sf)))
        }
        // Spark: concat_ws is null only when its separator is.
        Expr::ScalarFunction(sf)
            if sf.func.name() == "concat_ws"
                && sf
                    .args
                    .first()
                    .is_some_and(|a| !a.nullable(schema).unwrap_or(true)) =>
        {
            Ok(Transformed::yes(Expr::ScalarFunction(
                ScalarFunction::new_udf(r.not_null.clone(), vec![Expr::ScalarFunction(sf)]),
            )))
        }
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Divide,
            right,
        }) => {
            let lt = left.get_type(schema)?;
            let rt = right.get_type(schema)?;
            let fractional =
                |t: &DataType| is_integral(t) || matches!(t, DataType::Float64 | DataType::Float32);
            if fractional(&lt) && fractional(&rt) {
                let l = Expr::Cast(Cast::new(left, DataType::Float64));
                let r = Expr::Cast(Cast::new(right, DataType::Float64));
                Ok(Transformed::yes(Expr::ScalarFunction(
                    ScalarFunction::new_udf(r_divide(rr), vec![l, r]),
                )))
            } else if matches!(lt, DataType::Decimal128(..))
                && matches!(rt, DataType::Decimal128(..))
            {
                // Spark's decimal quotient type and rounding (DataFusion keeps s1 + 4);
                // an integer literal counts with its own digits (`DecimalType.fromLiteral`).
                Ok(Transformed::yes(Expr::ScalarFunction(
                    ScalarFunction::new_udf(
                        r_divide(rr),
                        vec![literal_decimal(*left), literal_decimal(*right)],
                    ),
                )))
            } else {
                Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr {
                    left,
                    op: Operator::Divide,
                    right,
                })))
            }
        }
        // assert_true(c): Spark's message names the condition.
        Expr::ScalarFunction(mut sf) if sf.func.name() == "assert_true" && sf.args.len() == 1 => {
            let msg = format!(
                "'{}' is not true!",
                crate::sql::naming::spark_sql(&sf.args[0])
            );
            sf.args
                .push(Expr::Literal(ScalarValue::Utf8(Some(msg)), None));
            Ok(Transformed::yes(Expr::ScalarFunction(sf)))
        }
        Expr::ScalarFunction(sf) if sf.func.name() == "array_element" => Ok(Transformed::yes(
            Expr::ScalarFunction(ScalarFunction::new_udf(idx.clone(), sf.args)),
        )),
        other => Ok(Transformed::no(other)),
    }
}

/// An integer literal cast to a decimal (type coercion's `CAST(4 AS DECIMAL(10,0))`)
/// as Spark types it in decimal arithmetic: `DECIMAL(digits, 0)`.
fn literal_decimal(e: Expr) -> Expr {
    if let Expr::Cast(c) = &e {
        if let (Expr::Literal(v, _), DataType::Decimal128(..)) =
            (c.expr.as_ref(), c.field.data_type())
        {
            // Only the cast type coercion adds (an explicit CAST keeps its type).
            let n: Option<i128> = match (v, c.field.data_type()) {
                (ScalarValue::Int8(Some(x)), DataType::Decimal128(3, 0)) => Some(*x as i128),
                (ScalarValue::Int16(Some(x)), DataType::Decimal128(5, 0)) => Some(*x as i128),
                (ScalarValue::Int32(Some(x)), DataType::Decimal128(10, 0)) => Some(*x as i128),
                (ScalarValue::Int64(Some(x)), DataType::Decimal128(20, 0)) => Some(*x as i128),
                _ => None,
            };
            if let Some(n) = n {
                let digits = n
                    .unsigned_abs()
                    .checked_ilog10()
                    .map(|d| d + 1)
                    .unwrap_or(1) as u8;
                return Expr::Cast(Cast::new(
                    c.expr.clone(),
                    DataType::Decimal128(digits.max(1), 0),
                ));
            }
        }
    }
    e
}

impl AnalyzerRule for SparkSemantics {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        let out = plan.transform_up_with_subqueries(|p| {
            let inputs = p.inputs();
            let schema: Arc<DFSchema> = if inputs.len() == 1 {
                inputs[0].schema().clone()
            } else {
                p.schema().clone()
            };
            let names = NamePreserver::new(&p);
            let t = p.map_expressions(|e| {
                let saved = names.save(&e);
                Ok(e.transform_up(|x| rewrite(x, &schema, self))?
                    .update_data(|e| saved.restore(e)))
            })?;
            let changed = t.transformed;
            let p = t.data.recompute_schema()?;
            Ok(if changed {
                Transformed::yes(p)
            } else {
                Transformed::no(p)
            })
        })?;
        Ok(out.data)
    }

    fn name(&self) -> &str {
        "spark_semantics"
    }
}

/// Spark: an integer literal is `int` when it fits, else `bigint`. Runs before type
/// coercion. `LIMIT`/`OFFSET` values keep DataFusion's `bigint`.
pub fn narrow_literals(plan: LogicalPlan) -> Result<LogicalPlan> {
    Ok(plan
        .transform_up_with_subqueries(|p| {
            if matches!(p, LogicalPlan::Limit(_)) {
                return Ok(Transformed::no(p));
            }
            let narrow = |e: Expr| {
                e.transform_up(|x| match x {
                    Expr::Literal(ScalarValue::Int64(Some(v)), m) if i32::try_from(v).is_ok() => {
                        Ok(Transformed::yes(Expr::Literal(
                            ScalarValue::Int32(Some(v as i32)),
                            m,
                        )))
                    }
                    other => Ok(Transformed::no(other)),
                })
            };
            if let LogicalPlan::Values(v) = p {
                // VALUES rows: rebuild so the schema follows the narrowed types.
                let rows = v
                    .values
                    .into_iter()
                    .map(|row| {
                        row.into_iter()
                            .map(|e| narrow(e).map(|t| t.data))
                            .collect::<Result<Vec<_>>>()
                    })
                    .collect::<Result<Vec<_>>>()?;
                let rows = widen_decimal_with_double(untyped_nulls(rows));
                let built = datafusion::logical_expr::LogicalPlanBuilder::values(rows)?.build()?;
                return Ok(Transformed::yes(values_nullability(built)?));
            }
            let names = NamePreserver::new(&p);
            // Lambda variables carry the element type they were planned with
            // (`x -> x + 1` over `array(1, 2)`: bigint); narrowed, they follow the
            // arrays' new element types.
            let inputs = datafusion::logical_expr::utils::merge_schema(&p.inputs());
            p.map_expressions(|e| {
                let saved = names.save(&e);
                let narrowed = narrow(e)?;
                let changed = narrowed.transformed;
                let e = narrowed.data;
                let e = if changed && has_lambda(&e) {
                    e.resolve_lambda_variables(&inputs)?.data
                } else {
                    e
                };
                Ok(Transformed::new_transformed(saved.restore(e), changed))
            })
        })?
        .data)
}

fn has_lambda(e: &Expr) -> bool {
    e.exists(|x| Ok(matches!(x, Expr::Lambda(_))))
        .unwrap_or(false)
}

/// A VALUES column is nullable only when one of its rows can be NULL, as Spark's
/// `LocalRelation` of an inline table (`VALUES (1), (2)` is `int NOT NULL`);
/// DataFusion marks every column nullable.
fn values_nullability(plan: LogicalPlan) -> Result<LogicalPlan> {
    let LogicalPlan::Values(v) = plan else {
        return Ok(plan);
    };
    let empty = DFSchema::empty();
    let fields = v
        .schema
        .iter()
        .enumerate()
        .map(|(c, (q, f))| {
            let mut nullable = false;
            for row in &v.values {
                if let Some(e) = row.get(c) {
                    nullable |= datafusion::logical_expr::ExprSchemable::nullable(e, &empty)?;
                }
            }
            Ok((
                q.cloned(),
                Arc::new(f.as_ref().clone().with_nullable(nullable)),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let schema = Arc::new(DFSchema::new_with_metadata(
        fields,
        v.schema.metadata().clone(),
    )?);
    Ok(LogicalPlan::Values(datafusion::logical_expr::Values {
        schema,
        values: v.values,
    }))
}

/// The SQL planner typed the NULL rows of VALUES with the column's type before
/// literals were narrowed; in a column with other values they become untyped NULLs
/// again, so the column takes the narrowed type of the others (`VALUES (1), (NULL)`
/// is an `int` column, and a map of `int`s stays one).
fn untyped_nulls(mut rows: Vec<Vec<Expr>>) -> Vec<Vec<Expr>> {
    let is_null = |e: &Expr| match e {
        Expr::Literal(v, _) => v.is_null(),
        Expr::Cast(c) => matches!(c.expr.as_ref(), Expr::Literal(v, _) if v.is_null()),
        _ => false,
    };
    let width = rows.first().map(|r| r.len()).unwrap_or(0);
    for c in 0..width {
        if !rows.iter().any(|r| r.get(c).is_some_and(|e| !is_null(e))) {
            continue;
        }
        for r in rows.iter_mut() {
            if let Some(e) = r.get_mut(c) {
                if is_null(e) {
                    *e = Expr::Literal(ScalarValue::Null, None);
                }
            }
        }
    }
    rows
}

/// VALUES columns mixing `decimal` and `double` rows are `double` (Spark's type
/// widening: `VALUES (0.0), (PI())` is a `double` column; DataFusion would pick a
/// decimal and lose the double's digits or fail on NaN).
fn widen_decimal_with_double(mut rows: Vec<Vec<Expr>>) -> Vec<Vec<Expr>> {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::logical_expr::ExprSchemable;
    let empty = datafusion::common::DFSchema::empty();
    let width = rows.first().map(|r| r.len()).unwrap_or(0);
    // The SQL planner has already cast every row to its common type: look through
    // casts to a decimal.
    let uncast = |e: &Expr| -> Expr {
        match e {
            Expr::Cast(c)
                if matches!(
                    c.field.data_type(),
                    DataType::Decimal128(_, _) | DataType::Decimal256(_, _)
                ) =>
            {
                (*c.expr).clone()
            }
            other => other.clone(),
        }
    };
    for c in 0..width {
        let types: Vec<Option<DataType>> = rows
            .iter()
            .map(|r| r.get(c).and_then(|e| uncast(e).get_type(&empty).ok()))
            .collect();
        let has = |f: fn(&DataType) -> bool| types.iter().flatten().any(f);
        let is_float = |t: &DataType| matches!(t, DataType::Float64 | DataType::Float32);
        let is_decimal =
            |t: &DataType| matches!(t, DataType::Decimal128(_, _) | DataType::Decimal256(_, _));
        if !(has(is_float) && has(is_decimal)) {
            continue;
        }
        for (row, t) in rows.iter_mut().zip(&types) {
            if let (Some(e), Some(t)) = (row.get_mut(c), t) {
                let inner = uncast(e);
                *e = if matches!(t, DataType::Float64) {
                    inner
                } else {
                    Expr::Cast(datafusion::logical_expr::expr::Cast::new(
                        Box::new(inner),
                        DataType::Float64,
                    ))
                };
            }
        }
    }
    rows
}

/// Analyzes `plan` with Spark's semantics: literal narrowing, DataFusion's analyzer
/// (type coercion), then [`SparkSemantics`] and ranking-function types.
pub fn analyze(
    state: &SessionState,
    plan: LogicalPlan,
    fns: &RuleFunctions,
) -> Result<LogicalPlan> {
    if !fns.time_type {
        // TIME literals and casts, before coercion could fail on them first.
        reject_time(&plan, false)?;
    }
    let plan = narrow_literals(plan)?;
    let plan = string_arguments(plan, &fns.to_string)?;
    let plan = crate::sql::interval_rules::interval_arithmetic(plan)?;
    let plan = state
        .analyzer()
        .execute_and_check(plan, state.config_options(), |_, _| {})?;
    let rule = SparkSemantics {
        array_index: fns.array_index.clone(),
        nullable: fns.nullable.clone(),
        not_null: fns.not_null.clone(),
        to_string: fns.to_string.clone(),
        divide: fns.divide.clone(),
    };
    let plan = rule.analyze(plan, state.config_options())?;
    if !fns.time_type {
        reject_time(&plan, true)?;
    }
    let plan = ordered_first_last(plan)?;
    crate::partition_local::rewrite(plan)
}

fn is_time(t: &DataType) -> bool {
    matches!(t, DataType::Time32(_) | DataType::Time64(_))
}

/// Spark 4.3 with `spark.sql.timeType.enabled=false` (its default): a TIME literal,
/// cast, column or function result fails with `UNSUPPORTED_TIME_TYPE`. Before type
/// coercion (`analyzed` false) only literals and casts are looked at.
fn reject_time(plan: &LogicalPlan, analyzed: bool) -> Result<()> {
    use datafusion::common::tree_node::TreeNodeRecursion;
    let unsupported = || {
        datafusion::common::DataFusionError::Plan(
            "[UNSUPPORTED_TIME_TYPE] The data type TIME is not supported.".into(),
        )
    };
    plan.apply_with_subqueries(|p| {
        if analyzed && p.schema().fields().iter().any(|f| is_time(f.data_type())) {
            return Err(unsupported());
        }
        let schema = datafusion::logical_expr::utils::merge_schema(&p.inputs());
        for e in p.expressions() {
            if time_in(&e, &schema, analyzed) {
                return Err(unsupported());
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(())
}

/// Whether `e` holds a TIME value Spark 4.3 refuses by default. A TIME literal as
/// the time of `make_timestamp` (and its `_ltz`/`_ntz`/`try_` forms) is accepted, as
/// Spark accepts it there.
fn time_in(e: &Expr, schema: &DFSchema, analyzed: bool) -> bool {
    use datafusion::common::tree_node::TreeNodeRecursion;
    let mut found = false;
    let _ = e.apply(|x| {
        if let Expr::ScalarFunction(f) = x {
            if f.func.name().contains("make_timestamp") {
                found = f.args.iter().any(|a| {
                    // A literal, under any casts and nullability wrappers (analysis
                    // adds them).
                    let mut inner = a;
                    loop {
                        inner = match inner {
                            Expr::Cast(c) => &c.expr,
                            Expr::ScalarFunction(w)
                                if matches!(w.func.name(), "ember_nullable" | "ember_not_null")
                                    && w.args.len() == 1 =>
                            {
                                &w.args[0]
                            }
                            _ => break,
                        };
                    }
                    !matches!(inner, Expr::Literal(..)) && time_in(a, schema, analyzed)
                });
                return Ok(if found {
                    TreeNodeRecursion::Stop
                } else {
                    TreeNodeRecursion::Jump
                });
            }
        }
        let time = match x {
            Expr::Literal(v, _) => is_time(&v.data_type()),
            Expr::Cast(c) => is_time(c.field.data_type()),
            Expr::TryCast(c) => is_time(c.field.data_type()),
            Expr::ScalarFunction(_) if analyzed => x.get_type(schema).is_ok_and(|t| is_time(&t)),
            _ => false,
        };
        if time {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// `first`/`last` of an aggregation over sorted rows take the sort's order, as Spark's
/// aggregation reads its input in order (`orderBy(desc("ts")).groupBy("id")
/// .agg(first("x"))` keeps the latest `x`): DataFusion would otherwise drop the sort,
/// since `first_value` without `ORDER BY` does not ask for one. The sort is the
/// aggregation's input, or below projections, filters and aliases of it; only sort
/// keys that are columns of the aggregation's input are used.
fn ordered_first_last(plan: LogicalPlan) -> Result<LogicalPlan> {
    use datafusion::logical_expr::expr::AggregateFunction;
    Ok(plan
        .transform_up_with_subqueries(|p| {
            let LogicalPlan::Aggregate(agg) = &p else {
                return Ok(Transformed::no(p));
            };
            let mut below = agg.input.as_ref();
            let sort = loop {
                match below {
                    LogicalPlan::Sort(s) => break Some(s),
                    LogicalPlan::Projection(x) => below = x.input.as_ref(),
                    LogicalPlan::Filter(x) => below = x.input.as_ref(),
                    LogicalPlan::SubqueryAlias(x) => below = x.input.as_ref(),
                    _ => break None,
                }
            };
            let Some(sort) = sort else {
                return Ok(Transformed::no(p));
            };
            let schema = agg.input.schema();
            let keys: Vec<datafusion::logical_expr::SortExpr> = sort
                .expr
                .iter()
                .filter(|k| k.expr.column_refs().iter().all(|c| schema.has_column(c)))
                .cloned()
                .collect();
            if keys.is_empty() {
                return Ok(Transformed::no(p));
            }
            let order_free = |e: &Expr| {
                matches!(e, Expr::AggregateFunction(AggregateFunction { func, params })
                    if matches!(func.name(), "first_value" | "last_value")
                        && params.order_by.is_empty())
            };
            let touches = agg.aggr_expr.iter().any(|e| match e {
                Expr::Alias(a) => order_free(&a.expr),
                e => order_free(e),
            });
            if !touches {
                return Ok(Transformed::no(p));
            }
            let names = NamePreserver::new(&p);
            p.map_expressions(|e| {
                let saved = names.save(&e);
                let out = e.transform_up(|x| {
                    if !order_free(&x) {
                        return Ok(Transformed::no(x));
                    }
                    let Expr::AggregateFunction(mut af) = x else {
                        return Ok(Transformed::no(x));
                    };
                    af.params.order_by = keys.clone();
                    Ok(Transformed::yes(Expr::AggregateFunction(af)))
                })?;
                Ok(out.update_data(|e| saved.restore(e)))
            })
        })?
        .data)
}

/// The argument positions of string functions that Spark fills by an implicit cast
/// to `string` (ImplicitCastInputTypes): `upper(14)` is `'14'`, `lpad(5, 3, 0)` is
/// `'005'`. `None`: every argument.
pub fn string_positions(name: &str) -> Option<Option<&'static [usize]>> {
    Some(match name {
        "upper" | "lower" | "initcap" | "trim" | "ltrim" | "rtrim" | "btrim" | "ascii"
        | "length" | "char_length" | "character_length" | "octet_length" | "bit_length"
        | "soundex" | "substr" | "substring" | "left" | "right" | "repeat" | "regexp_replace"
        | "regexp_extract" | "regexp_extract_all" | "regexp_like" | "split_part" => Some(&[0]),
        "lpad" | "rpad" => Some(&[0, 2]),
        "instr" | "locate" | "split" | "starts_with" | "ends_with" | "levenshtein" => Some(&[0, 1]),
        "replace" | "translate" => Some(&[0, 1, 2]),
        "concat_ws" => None,
        _ => return None,
    })
}

/// Spark's implicit cast of numbers, booleans, dates and timestamps to `string` for
/// the string arguments of string functions. Runs before type coercion; a value that
/// already is a string is left alone, so the rule can run again on a grown plan.
pub fn string_arguments(plan: LogicalPlan, to_string: &Arc<ScalarUDF>) -> Result<LogicalPlan> {
    let castable = |t: &DataType| {
        t.is_numeric()
            || matches!(
                t,
                DataType::Boolean | DataType::Date32 | DataType::Timestamp(..)
            )
    };
    Ok(plan
        .transform_up_with_subqueries(|p| {
            let inputs = p.inputs();
            if inputs.len() != 1 {
                return Ok(Transformed::no(p));
            }
            let schema = inputs[0].schema().clone();
            let names = NamePreserver::new(&p);
            let t = p.map_expressions(|e| {
                let saved = names.save(&e);
                Ok(e.transform_up(|x| match x {
                    Expr::ScalarFunction(mut sf) => {
                        let Some(pos) = string_positions(sf.func.name()) else {
                            return Ok(Transformed::no(Expr::ScalarFunction(sf)));
                        };
                        let mut changed = false;
                        for (i, a) in sf.args.iter_mut().enumerate() {
                            if pos.is_some_and(|p| !p.contains(&i)) {
                                continue;
                            }
                            if a.get_type(&schema).is_ok_and(|t| castable(&t)) {
                                let inner =
                                    std::mem::replace(a, Expr::Literal(ScalarValue::Null, None));
                                *a = Expr::ScalarFunction(ScalarFunction::new_udf(
                                    to_string.clone(),
                                    vec![inner],
                                ));
                                changed = true;
                            }
                        }
                        Ok(if changed {
                            Transformed::yes(Expr::ScalarFunction(sf))
                        } else {
                            Transformed::no(Expr::ScalarFunction(sf))
                        })
                    }
                    other => Ok(Transformed::no(other)),
                })?
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

/// The functions the Spark rules insert.
#[derive(Debug, Clone)]
pub struct RuleFunctions {
    /// `spark_array_index` (ANSI) or `get`.
    pub array_index: Arc<ScalarUDF>,
    /// `ember_nullable`.
    pub nullable: Arc<ScalarUDF>,
    /// `ember_not_null`.
    pub not_null: Arc<ScalarUDF>,
    /// `spark_to_string`.
    pub to_string: Arc<ScalarUDF>,
    /// `spark_divide`.
    pub divide: Arc<ScalarUDF>,
    /// `spark.sql.timeType.enabled` (default `false`, as Spark 4.3): when off, any TIME
    /// value fails analysis with `UNSUPPORTED_TIME_TYPE`.
    pub time_type: bool,
}
