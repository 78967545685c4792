//! Spark SQL's `grouping_id(...)`: Spark's bit vector over the grouping columns (the
//! first column in the highest bit, 1 where the column is aggregated away in the
//! row's grouping set), a `bigint`. DataFusion's multi-argument `grouping(...)` is
//! the same vector; `grouping_id()` without arguments stands for all grouping
//! columns of its `SELECT`, in `GROUP BY` order with repeats dropped (as Spark's
//! `Aggregate.groupingExpressions` of a ROLLUP / CUBE / GROUPING SETS).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast;

/// Rewrites every `grouping_id(...)` of `stmt` into `CAST(grouping(...) AS BIGINT)`.
/// Column names were given before (the output column keeps Spark's name).
pub fn rewrite_grouping_id(stmt: &mut ast::Statement) {
    use ast::VisitMut;
    let _ = stmt.visit(&mut GroupingId);
}

struct GroupingId;

fn is_grouping_id(e: &ast::Expr) -> Option<&ast::Function> {
    match e {
        ast::Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("grouping_id") => Some(f),
        _ => None,
    }
}

fn args_of(f: &ast::Function) -> Vec<ast::FunctionArg> {
    match &f.args {
        ast::FunctionArguments::List(l) => l.args.clone(),
        _ => vec![],
    }
}

/// The distinct grouping expressions of a `GROUP BY`, in order.
fn grouping_columns(g: &ast::GroupByExpr) -> Vec<ast::Expr> {
    let ast::GroupByExpr::Expressions(exprs, _) = g else {
        return vec![];
    };
    let mut out: Vec<ast::Expr> = Vec::new();
    let mut push = |e: &ast::Expr| {
        if !out.contains(e) {
            out.push(e.clone());
        }
    };
    for e in exprs {
        match e {
            ast::Expr::Rollup(sets) | ast::Expr::Cube(sets) | ast::Expr::GroupingSets(sets) => {
                sets.iter().flatten().for_each(&mut push)
            }
            ast::Expr::Nested(inner) => push(inner),
            other => push(other),
        }
    }
    out
}

fn cast_grouping(args: Vec<ast::FunctionArg>) -> ast::Expr {
    let call = ast::Expr::Function(ast::Function {
        name: ast::ObjectName::from(vec![ast::Ident::new("grouping")]),
        uses_odbc_syntax: false,
        parameters: ast::FunctionArguments::None,
        args: ast::FunctionArguments::List(ast::FunctionArgumentList {
            duplicate_treatment: None,
            args,
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    });
    ast::Expr::Cast {
        kind: ast::CastKind::Cast,
        expr: Box::new(call),
        data_type: ast::DataType::BigInt(None),
        array: false,
        format: None,
    }
}

fn rewrite(e: &mut ast::Expr, all: &[ast::Expr]) {
    let _ = ast::visit_expressions_mut(e, |x| {
        if let Some(f) = is_grouping_id(x) {
            let mut args = args_of(f);
            if args.is_empty() {
                args = all
                    .iter()
                    .map(|c| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(c.clone())))
                    .collect();
            }
            *x = cast_grouping(args);
        }
        ControlFlow::<()>::Continue(())
    });
}

impl ast::VisitorMut for GroupingId {
    type Break = ();
    fn pre_visit_query(&mut self, q: &mut ast::Query) -> ControlFlow<()> {
        if let ast::SetExpr::Select(s) = q.body.as_mut() {
            let all = grouping_columns(&s.group_by);
            for item in s.projection.iter_mut() {
                match item {
                    ast::SelectItem::UnnamedExpr(e)
                    | ast::SelectItem::ExprWithAlias { expr: e, .. } => rewrite(e, &all),
                    _ => {}
                }
            }
            if let Some(h) = s.having.as_mut() {
                rewrite(h, &all);
            }
            if let Some(ast::OrderBy {
                kind: ast::OrderByKind::Expressions(keys),
                ..
            }) = q.order_by.as_mut()
            {
                for k in keys {
                    rewrite(&mut k.expr, &all);
                }
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn rewritten(sql: &str) -> String {
        let mut st = Parser::parse_sql(&GenericDialect {}, sql)
            .unwrap()
            .remove(0);
        rewrite_grouping_id(&mut st);
        st.to_string()
    }

    #[test]
    fn no_arguments_mean_every_grouping_column_once() {
        assert_eq!(
            rewritten("SELECT a, grouping_id() AS g FROM t GROUP BY GROUPING SETS ((a), (b, a), ())"),
            "SELECT a, CAST(grouping(a, b) AS BIGINT) AS g FROM t GROUP BY GROUPING SETS ((a), (b, a), ())"
        );
        assert_eq!(
            rewritten("SELECT grouping_id() FROM t GROUP BY ROLLUP (x, y) ORDER BY grouping_id()"),
            "SELECT CAST(grouping(x, y) AS BIGINT) FROM t GROUP BY ROLLUP (x, y) ORDER BY CAST(grouping(x, y) AS BIGINT)"
        );
    }

    #[test]
    fn arguments_are_kept() {
        assert_eq!(
            rewritten("SELECT grouping_id(b, a) FROM t GROUP BY CUBE (a, b)"),
            "SELECT CAST(grouping(b, a) AS BIGINT) FROM t GROUP BY CUBE (a, b)"
        );
    }
}
