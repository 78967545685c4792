//! Spark SQL's generators in queries: `LATERAL VIEW [OUTER] gen(args) v AS c1, ...`
//! and a generator as a select item (`SELECT id, posexplode(arr) FROM t`), for
//! `explode`, `posexplode`, `inline` (and their `_outer` forms), `stack` and
//! `json_tuple`, as Spark's `Generate`: one output row per generated row, joined to
//! its input row; none for a NULL or empty input unless `OUTER` / `_outer`.
//!
//! DataFusion's SQL planner knows neither form, so the statement is rewritten before
//! planning. The generator is ember's `ember_<name>` function (a `List<Struct>` of the
//! generated rows, see [`crate::functions::generator`]); its output columns are read
//! by planning a probe `SELECT ember_<name>(args) FROM <relation>`; then
//!
//! ```text
//! FROM rel LATERAL VIEW posexplode(arr) v AS p, x
//!   =>  FROM (SELECT * EXCEPT (__ember_g), get_field(__ember_g, 'pos') AS p,
//!                    get_field(__ember_g, 'col') AS x
//!             FROM (SELECT *, unnest(ember_posexplode(arr)) AS __ember_g FROM rel) AS rel
//!            ) AS rel
//! ```
//!
//! and references `v.x` become `x`. A select-list generator is the same with the
//! query's `WHERE` moved inside (Spark filters before generating) and the generator's
//! columns (Spark's names `col`, `pos`, `key`, `value`, the struct's fields, `col0`...;
//! or the item's alias for a one-column generator) in the item's place.
//!
//! Only a `FROM` of one relation (a table, view or subquery, aliased or not) is
//! rewritten: with joins the relation's qualifiers could not be kept, and the
//! statement is left to DataFusion (which refuses it).

use crate::sql::dialect::SparkDialect;
use datafusion::sql::sqlparser::ast::{
    self, Expr as A, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName,
    ObjectNamePart, Query, SelectItem, SetExpr, Statement, TableFactor, TableWithJoins,
};
use datafusion::sql::sqlparser::parser::Parser;

use crate::error::{EmberError, Result};
use crate::functions::generator::SparkGenerator;
use datafusion::prelude::SessionContext;

const GEN: &str = "__ember_g";
const ONE: &str = "__ember_one";
const ONE_REL: &str = "__ember_one_row";

/// Rewrites the generators of `st` (see the module docs). Statements without any are
/// left untouched.
///
/// Errors: `UDTF_ALIAS_NUMBER_MISMATCH` when a lateral view names another number of
/// columns than the generator makes; planning errors of the generator's arguments.
pub async fn rewrite(session: &SessionContext, st: &mut Statement) -> Result<()> {
    if let Statement::Query(q) = st {
        rewrite_query(session, q).await?;
    }
    Ok(())
}

fn rewrite_query<'a>(
    session: &'a SessionContext,
    q: &'a mut Query,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
    Box::pin(async move {
        if let Some(with) = q.with.as_mut() {
            for cte in with.cte_tables.iter_mut() {
                rewrite_query(session, &mut cte.query).await?;
            }
        }
        rewrite_set_expr(session, &mut q.body).await
    })
}

fn rewrite_set_expr<'a>(
    session: &'a SessionContext,
    body: &'a mut SetExpr,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
    Box::pin(async move {
        match body {
            SetExpr::Select(s) => rewrite_select(session, s).await,
            SetExpr::Query(q) => rewrite_query(session, q).await,
            SetExpr::SetOperation { left, right, .. } => {
                rewrite_set_expr(session, left).await?;
                rewrite_set_expr(session, right).await
            }
            _ => Ok(()),
        }
    })
}

/// The generator a select item or lateral view calls: its ember function name and
/// arguments, when `e` is such a call.
fn generator_of(e: &A, outer: bool) -> Option<(String, Vec<String>)> {
    let A::Function(f) = e else { return None };
    let name = f.name.to_string().to_ascii_lowercase();
    let name = if outer && !name.ends_with("_outer") {
        format!("{name}_outer")
    } else {
        name
    };
    SparkGenerator::for_spark_name(&name)?;
    let args = match &f.args {
        FunctionArguments::List(l) => l
            .args
            .iter()
            .map(|a| match a {
                // Named arguments (`collection => arr`, `input => arr`) by position.
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x))
                | FunctionArg::Named {
                    arg: FunctionArgExpr::Expr(x),
                    ..
                }
                | FunctionArg::ExprNamed {
                    arg: FunctionArgExpr::Expr(x),
                    ..
                } => Some(x.to_string()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?,
        FunctionArguments::None => vec![],
        FunctionArguments::Subquery(_) => return None,
    };
    Some((format!("ember_{name}"), args))
}

/// The one relation of a `FROM` without joins, and the name its columns are
/// qualified by (its alias, else the table's last name part).
fn single_relation(from: &[TableWithJoins]) -> Option<(String, String)> {
    let [t] = from else { return None };
    if !t.joins.is_empty() {
        return None;
    }
    let qualifier = match &t.relation {
        TableFactor::Table { alias: Some(a), .. } | TableFactor::Derived { alias: Some(a), .. } => {
            a.name.value.clone()
        }
        TableFactor::Table { name, .. } => last_part(name)?,
        _ => return None,
    };
    let mut relation = t.relation.clone();
    // The relation keeps its qualifier (`t a`: `a.arr` in the generator's arguments).
    match &mut relation {
        TableFactor::Table { alias, .. } | TableFactor::Derived { alias, .. } => *alias = None,
        _ => return None,
    }
    Some((format!("{relation} AS {}", quote(&qualifier)), qualifier))
}

fn last_part(name: &ObjectName) -> Option<String> {
    match name.0.last()? {
        ObjectNamePart::Identifier(i) => Some(i.value.clone()),
        _ => None,
    }
}

fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The output column names of `gen(args)` over `relation`, from a planned probe.
async fn generated_names(
    session: &SessionContext,
    gen: &str,
    args: &[String],
    relation: &str,
) -> Result<Vec<String>> {
    let sql = format!("SELECT {gen}({}) AS g FROM {relation}", args.join(", "));
    let mut st = parse_statement(&sql)?;
    // As the statement itself will be (`struct(...)` field names, typed literals).
    crate::sql::naming::rename_functions(&mut st);
    let state = session.state();
    let plan = state
        .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(st)))
        .await?;
    let schema = plan.schema();
    match schema.fields().first().map(|f| f.data_type()) {
        Some(arrow::datatypes::DataType::List(item)) => match item.data_type() {
            arrow::datatypes::DataType::Struct(fs) => {
                Ok(fs.iter().map(|f| f.name().clone()).collect())
            }
            _ => Err(EmberError::internal("a generator's rows are not structs")),
        },
        _ => Err(EmberError::internal("a generator did not return rows")),
    }
}

fn parse_statement(sql: &str) -> Result<Statement> {
    Parser::parse_sql(&SparkDialect, sql)
        .map_err(|e| EmberError::internal(format!("generator rewrite: {e}: {sql}")))?
        .pop()
        .ok_or_else(|| EmberError::internal("generator rewrite: no statement"))
}

/// `FROM (<inner generating rows>) AS qualifier` with the generated columns named
/// `names` (and, when `filter` is given, the rows filtered before generating).
fn generating_relation(
    relation: &str,
    qualifier: &str,
    gen: &str,
    args: &[String],
    fields: &[String],
    names: &[String],
    filter: Option<&A>,
) -> Result<TableFactor> {
    let cols: Vec<String> = fields
        .iter()
        .zip(names)
        .map(|(f, n)| {
            format!(
                "get_field({GEN}, '{}') AS {}",
                f.replace('\'', "''"),
                quote(n)
            )
        })
        .collect();
    let filter = filter.map(|w| format!(" WHERE {w}")).unwrap_or_default();
    let q = quote(qualifier);
    let sql = format!(
        "SELECT * FROM (SELECT * EXCEPT ({GEN}), {} FROM (SELECT *, unnest({gen}({})) AS {GEN} FROM {relation}{filter}) AS {q}) AS {q}",
        cols.join(", "),
        args.join(", ")
    );
    let st = parse_statement(&sql)?;
    let Statement::Query(q) = st else {
        return Err(EmberError::internal("generator rewrite: not a query"));
    };
    let SetExpr::Select(s) = *q.body else {
        return Err(EmberError::internal("generator rewrite: not a select"));
    };
    s.from
        .into_iter()
        .next()
        .map(|t| t.relation)
        .ok_or_else(|| EmberError::internal("generator rewrite: no relation"))
}

/// A generator called as a table function (`FROM explode(array(1, 2)) t`) becomes the
/// subquery `(SELECT explode(array(1, 2))) t`, as Spark's table-valued generators.
fn table_generator(tf: &mut TableFactor) -> Result<()> {
    let TableFactor::Table {
        name,
        args: Some(args),
        alias,
        ..
    } = tf
    else {
        return Ok(());
    };
    let Some(fname) = last_part(name) else {
        return Ok(());
    };
    let call = A::Function(ast::Function {
        name: name.clone(),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: args.args.clone(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    });
    if SparkGenerator::for_spark_name(&fname.to_ascii_lowercase()).is_none()
        || generator_of(&call, false).is_none()
    {
        return Ok(());
    }
    let Statement::Query(q) = parse_statement(&format!("SELECT {call}"))? else {
        return Ok(());
    };
    *tf = TableFactor::Derived {
        lateral: false,
        subquery: q,
        alias: alias.take(),
        sample: None,
    };
    Ok(())
}

async fn rewrite_select(session: &SessionContext, s: &mut ast::Select) -> Result<()> {
    for t in s.from.iter_mut() {
        table_generator(&mut t.relation)?;
    }
    // Subqueries in FROM first.
    for t in s.from.iter_mut() {
        if let TableFactor::Derived { subquery, .. } = &mut t.relation {
            rewrite_query(session, subquery).await?;
        }
    }
    let item_gens: Vec<usize> = s
        .projection
        .iter()
        .enumerate()
        .filter(|(_, it)| match it {
            SelectItem::UnnamedExpr(e)
            | SelectItem::ExprWithAlias { expr: e, .. }
            | SelectItem::ExprWithAliases { expr: e, .. } => generator_of(e, false).is_some(),
            _ => false,
        })
        .map(|(i, _)| i)
        .collect();
    if s.lateral_views.is_empty() && item_gens.is_empty() {
        return Ok(());
    }
    // No FROM: one row with no columns (Spark's OneRowRelation).
    let no_from = s.from.is_empty();
    let found = if no_from {
        Some((
            format!("(SELECT 1 AS {ONE}) AS {ONE_REL}"),
            ONE_REL.to_string(),
        ))
    } else {
        single_relation(&s.from)
    };
    let Some((mut relation, qualifier)) = found else {
        return Ok(());
    };
    // 1. Lateral views, each around the relation built so far.
    let mut views = std::mem::take(&mut s.lateral_views);
    let view_names: Vec<String> = views
        .iter()
        .filter_map(|v| last_part(&v.lateral_view_name))
        .map(|n| n.to_ascii_lowercase())
        .collect();
    // A later view's arguments may name an earlier view's columns (`v.x`).
    for v in views.iter_mut() {
        unqualify(&mut v.lateral_view, &view_names);
    }
    for v in &views {
        let Some((gen, args)) = generator_of(&v.lateral_view, v.outer) else {
            return Err(EmberError::analysis(
                "UNSUPPORTED_FEATURE",
                format!("LATERAL VIEW of `{}` (not a generator)", v.lateral_view),
            ));
        };
        let fields = generated_names(session, &gen, &args, &relation).await?;
        let names: Vec<String> = if v.lateral_col_alias.is_empty() {
            fields.clone()
        } else if v.lateral_col_alias.len() == fields.len() {
            v.lateral_col_alias
                .iter()
                .map(|i| i.value.clone())
                .collect()
        } else {
            return Err(alias_mismatch(fields.len(), &v.lateral_col_alias));
        };
        let factor =
            generating_relation(&relation, &qualifier, &gen, &args, &fields, &names, None)?;
        relation = factor.to_string();
    }
    // 2. A generator in the select list (Spark allows one).
    if let Some(&at) = item_gens.first() {
        if item_gens.len() > 1 {
            return Err(EmberError::analysis(
                "UNSUPPORTED_GENERATOR.MULTI_GENERATOR",
                format!(
                    "The generator is not supported: only one generator allowed per SELECT clause but found {}.",
                    item_gens.len()
                ),
            ));
        }
        let (expr, aliases) = match &s.projection[at] {
            SelectItem::UnnamedExpr(e) => (e.clone(), vec![]),
            SelectItem::ExprWithAlias { expr, alias } => (expr.clone(), vec![alias.clone()]),
            SelectItem::ExprWithAliases { expr, aliases } => (expr.clone(), aliases.clone()),
            _ => return Ok(()),
        };
        let Some((gen, args)) = generator_of(&expr, false) else {
            return Ok(());
        };
        let has_group = !matches!(&s.group_by, ast::GroupByExpr::Expressions(v, _) if v.is_empty());
        if has_group || s.having.is_some() {
            // Generating after aggregation is left to DataFusion.
            return Ok(());
        }
        let fields = generated_names(session, &gen, &args, &relation).await?;
        let names: Vec<String> = if aliases.is_empty() {
            fields.clone()
        } else if aliases.len() == fields.len() {
            aliases.iter().map(|i| i.value.clone()).collect()
        } else {
            return Err(alias_mismatch(fields.len(), &aliases));
        };
        let filter = s.selection.take();
        let factor = generating_relation(
            &relation,
            &qualifier,
            &gen,
            &args,
            &fields,
            &names,
            filter.as_ref(),
        )?;
        relation = factor.to_string();
        let cols: Vec<SelectItem> = names
            .iter()
            .map(|n| SelectItem::UnnamedExpr(A::Identifier(Ident::with_quote('`', n.clone()))))
            .collect();
        s.projection.splice(at..=at, cols);
    }
    let relation = if no_from {
        format!("(SELECT * EXCEPT ({ONE}) FROM {relation}) AS {ONE_REL}")
    } else {
        relation
    };
    let st = parse_statement(&format!("SELECT * FROM {relation}"))?;
    let Statement::Query(q) = st else {
        return Err(EmberError::internal("generator rewrite: not a query"));
    };
    let SetExpr::Select(sel) = *q.body else {
        return Err(EmberError::internal("generator rewrite: not a select"));
    };
    s.from = sel.from;
    // `v.x` of a lateral view `v` is the column `x` now.
    if !view_names.is_empty() {
        let _ = ast::visit_expressions_mut(s, |e| {
            unqualify(e, &view_names);
            std::ops::ControlFlow::<()>::Continue(())
        });
    }
    Ok(())
}

/// `v.x` (for a lateral view `v` in `views`, lower case) as `x`, throughout `e`.
fn unqualify(e: &mut A, views: &[String]) {
    let _ = ast::visit_expressions_mut(e, |x| {
        if let A::CompoundIdentifier(parts) = x {
            if parts.len() == 2 && views.contains(&parts[0].value.to_ascii_lowercase()) {
                *x = A::Identifier(parts[1].clone());
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

fn alias_mismatch(expected: usize, got: &[Ident]) -> EmberError {
    EmberError::analysis(
        "UDTF_ALIAS_NUMBER_MISMATCH",
        format!(
            "The number of aliases supplied in the AS clause does not match the number of columns output by the UDTF. Expected {expected} aliases, but got {}.",
            got.iter().map(|i| i.value.clone()).collect::<Vec<_>>().join(", ")
        ),
    )
}
