//! `groupBy().agg()`, `rollup`, `cube`, `groupingSets`, `pivot`, global aggregates
//! (`df.select(sum("x"))`) and `unpivot`, with Spark's output columns: the grouping
//! columns, then one column per aggregate item named as Spark names it
//! (`sum(x)`, `(sum(x) + 1)`, pivot values, `value_agg` for several aggregates).

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::Case;
use datafusion::logical_expr::{Expr, ExprSchemable, GroupingSet};
use ember_core::{DataFrame, EmberError};
use spark_connect_proto::aggregate::GroupType;
use spark_connect_proto::{Aggregate, Unpivot};

use crate::error::{ConnectError, Result};
use crate::relation::{output_name, Planner};

/// How grouping expressions combine.
pub enum Grouping {
    /// `rollup(cols)`.
    Rollup,
    /// `cube(cols)`.
    Cube,
    /// `groupingSets(sets, cols)`.
    Sets(Vec<Vec<Expr>>),
}

/// Aggregates `items` (expressions containing aggregate functions, or grouping
/// expressions) over `group`.
pub fn aggregate_exprs(
    p: &Planner<'_>,
    input: &DataFrame,
    group: Vec<Expr>,
    items: Vec<Expr>,
    grouping: Option<Grouping>,
) -> Result<DataFrame> {
    let _ = p;
    let input = &drop_null_window_times(input, &group)?;
    let (input, group) = &expand_sliding_windows(input, group)?;
    let group = group.clone();
    let items = with_grouping_id(input, &group, items)?;
    let aggs: Vec<Expr> = datafusion::logical_expr::utils::find_aggregate_exprs(items.iter());
    let group_by = match grouping {
        None => group.clone(),
        Some(Grouping::Rollup) => vec![Expr::GroupingSet(GroupingSet::Rollup(group.clone()))],
        Some(Grouping::Cube) => vec![Expr::GroupingSet(GroupingSet::Cube(group.clone()))],
        Some(Grouping::Sets(sets)) => vec![Expr::GroupingSet(GroupingSet::GroupingSets(sets))],
    };
    // DataFusion names `count(CAST(id AS INT))` like `count(id)`: aggregates whose
    // planner names repeat get unique ones (the output columns are named below).
    let mut seen = std::collections::HashSet::new();
    let named: Vec<Expr> = aggs
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let n = a.schema_name().to_string();
            if seen.insert(n.clone()) {
                a.clone()
            } else {
                a.clone().alias(format!("{n}#{i}"))
            }
        })
        .collect();
    let agg_df = input.inner().clone().aggregate(group_by, named)?;
    let out_schema = agg_df.schema().clone();
    let n_out = out_schema.fields().len();
    let col_at = |i: usize| {
        let (q, f) = out_schema.qualified_field(i);
        Expr::Column(datafusion::common::Column::new(q.cloned(), f.name()))
    };
    // Aggregates are the last columns, grouping expressions the first ones.
    let mut replace: Vec<(Expr, Expr)> = Vec::new();
    for (i, a) in aggs.iter().enumerate() {
        replace.push((a.clone(), col_at(n_out - aggs.len() + i)));
    }
    for (i, g) in group.iter().enumerate() {
        replace.push((strip(g.clone()), col_at(i)));
    }
    let rewrite = |e: Expr| -> Result<Expr> {
        Ok(e.transform_down(|node| {
            for (from, to) in &replace {
                if &node == from {
                    return Ok(Transformed::yes(to.clone()));
                }
            }
            Ok(Transformed::no(node))
        })?
        .data)
    };
    let mut out = Vec::new();
    for (i, g) in group.iter().enumerate() {
        let name = output_name(g);
        // `day AS day` would make a second, unqualified `day` when a later projection
        // reads a field of it (`day.start`).
        out.push(match col_at(i) {
            Expr::Column(c) if c.name == name => Expr::Column(c),
            c => c.alias(name),
        });
    }
    for it in items {
        let name = output_name(&it);
        out.push(rewrite(strip(it))?.alias(name));
    }
    let df = DataFrame::from_datafusion(input.session(), agg_df);
    Ok(df.select_exprs(out)?)
}

/// The column `grouping_id()` (no arguments) stands for until the grouping columns
/// are known.
pub const GROUPING_ID_ALL: &str = "__ember_grouping_id";

/// `grouping_id()` is `grouping_id(<all grouping columns>)`: Spark's bit vector, the
/// first grouping column in the highest bit, 1 where a column is aggregated away.
fn with_grouping_id(input: &DataFrame, group: &[Expr], items: Vec<Expr>) -> Result<Vec<Expr>> {
    use datafusion::execution::FunctionRegistry;
    let grouping = input
        .session()
        .context()
        .udaf("grouping")
        .map_err(EmberError::from)?;
    let all = Expr::Cast(datafusion::logical_expr::Cast::new(
        Box::new(grouping.call(group.iter().cloned().map(strip).collect())),
        datafusion::arrow::datatypes::DataType::Int64,
    ));
    items
        .into_iter()
        .map(|it| {
            Ok(it
                .transform_down(|node| match node {
                    Expr::Column(c) if c.name == GROUPING_ID_ALL && c.relation.is_none() => {
                        Ok(Transformed::yes(all.clone()))
                    }
                    other => Ok(Transformed::no(other)),
                })
                .map_err(EmberError::from)?
                .data)
        })
        .collect()
}

const SLIDING_WINDOW: &str = "__ember_window";

/// Rows whose time column is NULL belong to no time window: Spark's TimeWindowing
/// filters them out of a plan that computes `window(ts, ...)` (a select or a grouping).
pub fn drop_null_window_times(input: &DataFrame, exprs: &[Expr]) -> Result<DataFrame> {
    use datafusion::common::tree_node::TreeNodeRecursion;
    let mut times: Vec<Expr> = Vec::new();
    for e in exprs {
        e.apply(|node| {
            if let Expr::ScalarFunction(f) = node {
                if f.func.name() == "window" {
                    if let Some(t) = f.args.first() {
                        times.push(t.clone());
                    }
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .map_err(EmberError::from)?;
    }
    let Some(cond) = times
        .into_iter()
        .map(|t| t.is_not_null())
        .reduce(|a, b| a.and(b))
    else {
        return Ok(input.clone());
    };
    Ok(input.filter(cond)?)
}

/// A grouping by a sliding time window (`window(ts, '10 minutes', '5 minutes')`)
/// counts each row in every window containing it, as Spark's TimeWindowing expands
/// the rows: the input gets one row per (row, window) and the grouping uses that
/// window column, named as the original expression.
fn expand_sliding_windows(input: &DataFrame, group: Vec<Expr>) -> Result<(DataFrame, Vec<Expr>)> {
    let sliding = |e: &Expr| -> Result<bool> {
        let Expr::ScalarFunction(f) = strip(e.clone()) else {
            return Ok(false);
        };
        if f.func.name() != "window" || f.args.len() < 3 {
            return Ok(false);
        }
        match (&f.args[1], &f.args[2]) {
            (
                Expr::Literal(ScalarValue::Utf8(Some(w)), _),
                Expr::Literal(ScalarValue::Utf8(Some(s)), _),
            ) => Ok(ember_sql::functions::timewindow::is_sliding(w, s).map_err(EmberError::from)?),
            _ => Ok(false),
        }
    };
    let Some(i) = group.iter().position(|g| sliding(g).unwrap_or(false)) else {
        return Ok((input.clone(), group));
    };
    if group.iter().filter(|g| sliding(g).unwrap_or(false)).count() > 1 {
        return Err(EmberError::analysis(
            "MULTIPLE_TIME_TRAVEL_SPEC",
            "Multiple time/session window expressions would result in a cartesian product of rows, therefore they are currently not supported.",
        )
        .into());
    }
    let g = &group[i];
    let name = output_name(g);
    let Expr::ScalarFunction(f) = strip(g.clone()) else {
        return Ok((input.clone(), group));
    };
    let all = ember_sql::functions::timewindow::time_windows_udf();
    let expanded = input
        .inner()
        .clone()
        .with_column(
            SLIDING_WINDOW,
            Expr::ScalarFunction(datafusion::logical_expr::expr::ScalarFunction::new_udf(
                std::sync::Arc::new(all),
                f.args,
            )),
        )?
        .unnest_columns(&[SLIDING_WINDOW])?;
    let mut group = group;
    group[i] = datafusion::prelude::col(SLIDING_WINDOW).alias(name);
    Ok((DataFrame::from_datafusion(input.session(), expanded), group))
}

fn strip(e: Expr) -> Expr {
    match e {
        Expr::Alias(a) => *a.expr,
        e => e,
    }
}

/// The `Aggregate` relation.
pub async fn aggregate(p: &Planner<'_>, input: &DataFrame, a: &Aggregate) -> Result<DataFrame> {
    let sc = p.scope(input);
    let mut group = Vec::new();
    for g in &a.grouping_expressions {
        group.extend(sc.select_item(g)?);
    }
    let items = a
        .aggregate_expressions
        .iter()
        .map(|e| sc.expr_named(e))
        .collect::<Result<Vec<_>>>()?;
    match GroupType::try_from(a.group_type).unwrap_or(GroupType::Groupby) {
        GroupType::Unspecified | GroupType::Groupby => {
            aggregate_exprs(p, input, group, items, None)
        }
        GroupType::Rollup => aggregate_exprs(p, input, group, items, Some(Grouping::Rollup)),
        GroupType::Cube => aggregate_exprs(p, input, group, items, Some(Grouping::Cube)),
        GroupType::GroupingSets => {
            let sets = a
                .grouping_sets
                .iter()
                .map(|s| {
                    s.grouping_set
                        .iter()
                        .map(|e| sc.expr(e))
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<Vec<_>>>()?;
            aggregate_exprs(p, input, group, items, Some(Grouping::Sets(sets)))
        }
        GroupType::Pivot => {
            let pv = a
                .pivot
                .as_ref()
                .ok_or_else(|| ConnectError::invalid("pivot without a column"))?;
            let pcol = sc.expr(
                pv.col
                    .as_ref()
                    .ok_or_else(|| ConnectError::invalid("pivot without a column"))?,
            )?;
            let tz = input.session().time_zone().name().to_string();
            let values: Vec<ScalarValue> = if pv.values.is_empty() {
                distinct_values(input, &pcol).await?
            } else {
                pv.values
                    .iter()
                    .map(|l| crate::literal::to_scalar(l, &tz))
                    .collect::<Result<_>>()?
            };
            let mut pivoted = Vec::new();
            for v in &values {
                for it in &items {
                    let label = pivot_label(v);
                    let name = if items.len() == 1 {
                        label
                    } else {
                        format!("{label}_{}", output_name(it))
                    };
                    let e = strip(it.clone());
                    let two_phase = is_two_phase(&e, input)?;
                    let e = for_value(e, &pcol, v, two_phase)?;
                    let e = if two_phase {
                        null_when_absent(e, &pcol, v)
                    } else {
                        e
                    };
                    pivoted.push(e.alias(name));
                }
            }
            aggregate_exprs(p, input, group, pivoted, None)
        }
    }
}

fn pivot_label(v: &ScalarValue) -> String {
    if v.is_null() {
        return "null".into();
    }
    match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => s.clone(),
        other => other.to_string(),
    }
}

/// The condition selecting the rows of pivot value `v`.
fn pivot_cond(pcol: &Expr, v: &ScalarValue) -> Expr {
    if v.is_null() {
        pcol.clone().is_null()
    } else {
        pcol.clone().eq(Expr::Literal(v.clone(), None))
    }
}

/// Spark pivots an aggregate whose result is numeric or boolean (PivotFirst's types)
/// in two phases, grouping by the pivot column first: each aggregate sees only the
/// rows of its pivot value, and a group with no such row has NULL (`count` too, not
/// 0). Other result types aggregate `if(pivot = v, x, null)` over all rows.
fn is_two_phase(e: &Expr, input: &DataFrame) -> Result<bool> {
    use datafusion::arrow::datatypes::DataType as T;
    let t = e
        .get_type(input.inner().schema())
        .map_err(EmberError::from)?;
    Ok(t.is_numeric() || matches!(t, T::Boolean))
}

/// `e` where the group has a row of pivot value `v`, else NULL.
fn null_when_absent(e: Expr, pcol: &Expr, v: &ScalarValue) -> Expr {
    let present = datafusion::functions_aggregate::expr_fn::count(Expr::Case(Case::new(
        None,
        vec![(
            Box::new(pivot_cond(pcol, v)),
            Box::new(Expr::Literal(ScalarValue::Int32(Some(1)), None)),
        )],
        None,
    )))
    .gt(Expr::Literal(ScalarValue::Int64(Some(0)), None));
    Expr::Case(Case::new(
        None,
        vec![(Box::new(present), Box::new(e))],
        None,
    ))
}

/// Rewrites every aggregate in `e` to aggregate only the rows where `pcol` = `v`:
/// with a FILTER (two-phase pivots: the aggregate sees only those rows) or by
/// replacing its arguments with `CASE WHEN pcol = v THEN arg END`.
fn for_value(e: Expr, pcol: &Expr, v: &ScalarValue, filter: bool) -> Result<Expr> {
    let cond = pivot_cond(pcol, v);
    Ok(e.transform_down(|node| match node {
        Expr::AggregateFunction(mut af) if filter => {
            af.params.filter = Some(Box::new(match af.params.filter.take() {
                Some(f) => f.and(cond.clone()),
                None => cond.clone(),
            }));
            Ok(Transformed::new(
                Expr::AggregateFunction(af),
                true,
                datafusion::common::tree_node::TreeNodeRecursion::Jump,
            ))
        }
        Expr::AggregateFunction(mut af) => {
            let only = |a: Expr| {
                Expr::Case(Case::new(
                    None,
                    vec![(Box::new(cond.clone()), Box::new(a))],
                    None,
                ))
            };
            // A filter on an argument (collect_list's `x IS NOT NULL`) tests the
            // rewritten argument.
            if let Some(f) = af.params.filter.take() {
                let args = af.params.args.clone();
                let f = f
                    .transform_down(|n| {
                        if args.contains(&n) {
                            Ok(Transformed::new(
                                only(n),
                                true,
                                datafusion::common::tree_node::TreeNodeRecursion::Jump,
                            ))
                        } else {
                            Ok(Transformed::no(n))
                        }
                    })?
                    .data;
                af.params.filter = Some(Box::new(f));
            }
            af.params.args = af.params.args.into_iter().map(only).collect();
            Ok(Transformed::new(
                Expr::AggregateFunction(af),
                true,
                datafusion::common::tree_node::TreeNodeRecursion::Jump,
            ))
        }
        other => Ok(Transformed::no(other)),
    })?
    .data)
}

/// The sorted distinct values of the pivot column (Spark computes them when
/// `pivot(col)` is given no values).
async fn distinct_values(input: &DataFrame, pcol: &Expr) -> Result<Vec<ScalarValue>> {
    let df = input
        .inner()
        .clone()
        .select(vec![pcol.clone().alias("__pivot")])?
        .distinct()?
        .sort(vec![datafusion::prelude::col("__pivot").sort(true, true)])?;
    let batches = df.collect().await.map_err(EmberError::from)?;
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            out.push(ScalarValue::try_from_array(b.column(0), i)?);
        }
    }
    if out.len() > 10_000 {
        return Err(EmberError::analysis(
            "PIVOT_VALUE_DATA_TYPE_MISMATCH",
            format!("The pivot column has {} distinct values, more than the limit of 10000 (spark.sql.pivotMaxValues).", out.len()),
        )
        .into());
    }
    Ok(out)
}

/// `unpivot(ids, values, variableColumnName, valueColumnName)` / `melt`: one output
/// row per input row and value column, in input-row order.
pub fn unpivot(p: &Planner<'_>, input: &DataFrame, u: &Unpivot) -> Result<DataFrame> {
    use datafusion::logical_expr::expr::Cast;
    let sc = p.scope(input);
    let mut ids = Vec::new();
    for e in &u.ids {
        ids.extend(sc.select_item(e)?);
    }
    let values: Vec<Expr> = match &u.values {
        Some(v) => {
            let mut out = Vec::new();
            for e in &v.values {
                out.extend(sc.select_item(e)?);
            }
            out
        }
        None => {
            let id_names: Vec<String> = ids.iter().map(output_name).collect();
            input
                .inner()
                .schema()
                .columns()
                .into_iter()
                .filter(|c| !id_names.contains(&c.name))
                .map(Expr::Column)
                .collect()
        }
    };
    if values.is_empty() {
        return Err(EmberError::analysis(
            "UNPIVOT_REQUIRES_VALUE_COLUMNS",
            "At least one value column needs to be specified for UNPIVOT, all columns specified as ids.",
        )
        .into());
    }
    let schema = input.inner().schema();
    let mut value_type = values[0].get_type(schema).map_err(EmberError::from)?;
    for v in &values[1..] {
        let t = v.get_type(schema).map_err(EmberError::from)?;
        value_type =
            datafusion::logical_expr::type_coercion::binary::comparison_coercion(&value_type, &t)
                .ok_or_else(|| {
                EmberError::analysis(
                    "UNPIVOT_VALUE_DATA_TYPE_MISMATCH",
                    "Unpivot value columns must share a least common type, some types do not.",
                )
            })?;
    }
    let numbered = input.inner().clone().with_column(
        "__ember_row",
        datafusion::functions_window::expr_fn::row_number(),
    )?;
    let mut parts: Option<datafusion::prelude::DataFrame> = None;
    for (j, v) in values.iter().enumerate() {
        let mut sel: Vec<Expr> = ids
            .iter()
            .map(|e| e.clone().alias(output_name(e)))
            .collect();
        sel.push(
            Expr::Literal(ScalarValue::Utf8(Some(output_name(v))), None)
                .alias(&u.variable_column_name),
        );
        sel.push(
            Expr::Cast(Cast::new(Box::new(v.clone()), value_type.clone()))
                .alias(&u.value_column_name),
        );
        sel.push(datafusion::prelude::col("__ember_row"));
        sel.push(Expr::Literal(ScalarValue::Int64(Some(j as i64)), None).alias("__ember_pos"));
        let part = numbered.clone().select(sel)?;
        parts = Some(match parts {
            None => part,
            Some(acc) => acc.union(part)?,
        });
    }
    let all = parts.ok_or_else(|| ConnectError::invalid("unpivot without values"))?;
    let sorted = all
        .sort(vec![
            datafusion::prelude::col("__ember_row").sort(true, true),
            datafusion::prelude::col("__ember_pos").sort(true, true),
        ])?
        .drop_columns(&["__ember_row", "__ember_pos"])?;
    Ok(DataFrame::from_datafusion(input.session(), sorted))
}
