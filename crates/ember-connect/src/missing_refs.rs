//! Sort and filter keys that name a column an earlier `select` dropped, resolved as
//! Spark's analyzer rule `ResolveMissingReferences` does:
//! `df.select("a", "b").orderBy("c")` sorts by the input's `c`, then drops it again.
//!
//! The missing columns are taken from the input of the projection (through further
//! projections, filters and sorts, recursively), carried through the projection, used
//! by the sort or filter, and projected away afterwards, so the output schema is the
//! projection's. Names the projection already outputs shadow the input's; a name the
//! input has twice (after a join) is not carried.

use std::future::Future;
use std::pin::Pin;

use datafusion::common::Column;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use ember_core::DataFrame;
use spark_connect_proto::expression::{ExprType, UnresolvedAttribute};
use spark_connect_proto::relation::RelType;
use spark_connect_proto::{Expression, Relation};

use crate::error::Result;
use crate::relation::Planner;

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Whether `r` is a relation through which missing references are looked up.
pub(crate) fn carries(r: &Option<Box<Relation>>) -> bool {
    matches!(
        r.as_deref().and_then(|r| r.rel_type.as_ref()),
        Some(RelType::Project(_) | RelType::Filter(_) | RelType::Sort(_))
    )
}

fn attr(name: &str) -> Expression {
    Expression {
        expr_type: Some(ExprType::UnresolvedAttribute(UnresolvedAttribute {
            unparsed_identifier: format!("`{}`", name.replace('`', "``")),
            ..Default::default()
        })),
        ..Default::default()
    }
}

/// `r` translated with the columns its projections dropped appended after its own
/// output columns (which come first, in order). `None` when `r` is not a projection,
/// filter or sort.
pub(crate) fn extended<'s>(
    p: &'s mut Planner<'_>,
    r: &'s Relation,
) -> BoxFut<'s, Option<DataFrame>> {
    Box::pin(async move {
        let Some(rel) = r.rel_type.as_ref() else {
            return Ok(None);
        };
        let (input, inner) = match rel {
            RelType::Project(x) => (&x.input, None),
            RelType::Filter(x) => (&x.input, Some(rel)),
            RelType::Sort(x) => (&x.input, Some(rel)),
            _ => return Ok(None),
        };
        let Some(input) = input.as_deref() else {
            return Ok(None);
        };
        let base = match extended(p, input).await? {
            Some(df) => df,
            None => p.relation(input).await?,
        };
        match (rel, inner) {
            (RelType::Project(x), _) => {
                let own = p.project(&base, &x.expressions)?.columns();
                let mut counts = std::collections::HashMap::<String, usize>::new();
                for c in base.columns() {
                    *counts.entry(c.to_ascii_lowercase()).or_default() += 1;
                }
                let mut items = x.expressions.clone();
                for c in base.columns() {
                    let key = c.to_ascii_lowercase();
                    if counts.get(&key) == Some(&1)
                        && !own.iter().any(|o| o.eq_ignore_ascii_case(&c))
                    {
                        items.push(attr(&c));
                    }
                }
                Ok(Some(p.project(&base, &items)?))
            }
            (_, Some(RelType::Filter(f))) => Ok(Some(p.filter(base, f)?)),
            (_, Some(RelType::Sort(s))) => Ok(Some(p.sort(base, s)?)),
            _ => Ok(None),
        }
    })
}

/// The first `width` columns of `df` (drops the carried columns again).
pub(crate) fn first_columns(p: &Planner<'_>, df: DataFrame, width: usize) -> Result<DataFrame> {
    let plan = df.inner().logical_plan().clone();
    if plan.schema().fields().len() == width {
        return Ok(df);
    }
    let cols: Vec<Expr> = (0..width)
        .map(|i| Expr::Column(Column::from(plan.schema().qualified_field(i))))
        .collect();
    let plan = LogicalPlanBuilder::from(plan).project(cols)?.build()?;
    Ok(p.wrap_plan(plan))
}
