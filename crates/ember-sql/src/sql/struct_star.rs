//! `SELECT s.* FROM t` where `s` is a struct column (not a relation): Spark expands it
//! into the struct's fields, named as the fields (`s.x AS x`, ...). DataFusion reads
//! `s.*` as a table qualifier only, so such items are rewritten before planning: the
//! query is planned once with `s` in place of `s.*` to learn its type, and the star
//! becomes one `s.<field> AS <field>` item per field. Items whose qualifier names a
//! relation of the query, or that do not plan, are left to the planner.

use datafusion::sql::sqlparser::ast;

use datafusion::prelude::SessionContext;

/// Expands struct stars in the top-level `SELECT` of `st` (a query).
pub async fn expand(session: &SessionContext, st: &mut ast::Statement) {
    let ast::Statement::Query(q) = st else {
        return;
    };
    let ast::SetExpr::Select(select) = q.body.as_ref() else {
        return;
    };
    let relations = relation_names(select);
    let stars: Vec<(usize, ast::Expr)> = select
        .projection
        .iter()
        .enumerate()
        .filter_map(|(i, item)| match item {
            ast::SelectItem::QualifiedWildcard(
                ast::SelectItemQualifiedWildcardKind::ObjectName(name),
                _,
            ) => {
                let parts: Vec<ast::Ident> = name
                    .0
                    .iter()
                    .filter_map(|p| p.as_ident().cloned())
                    .collect();
                let first = parts.first()?.value.to_ascii_lowercase();
                if parts.len() == 1 && relations.contains(&first) {
                    return None;
                }
                Some((i, compound(parts)))
            }
            ast::SelectItem::QualifiedWildcard(
                ast::SelectItemQualifiedWildcardKind::Expr(e),
                _,
            ) => Some((i, e.clone())),
            _ => None,
        })
        .collect();
    if stars.is_empty() {
        return;
    }
    let mut expansions = Vec::new();
    for (i, e) in stars {
        if let Some(fields) = struct_fields(session, st, &e).await {
            expansions.push((i, e, fields));
        }
    }
    let ast::Statement::Query(q) = st else {
        return;
    };
    let ast::SetExpr::Select(select) = q.body.as_mut() else {
        return;
    };
    // Back to front so earlier positions stay valid.
    for (i, e, fields) in expansions.into_iter().rev() {
        let items: Vec<ast::SelectItem> = fields
            .into_iter()
            .map(|f| ast::SelectItem::ExprWithAlias {
                expr: field_of(&e, &f),
                alias: ast::Ident::with_quote('`', f),
            })
            .collect();
        select.projection.splice(i..=i, items);
    }
}

fn compound(parts: Vec<ast::Ident>) -> ast::Expr {
    if parts.len() == 1 {
        ast::Expr::Identifier(parts[0].clone())
    } else {
        ast::Expr::CompoundIdentifier(parts)
    }
}

fn field_of(e: &ast::Expr, field: &str) -> ast::Expr {
    let f = ast::Ident::with_quote('`', field);
    match e {
        ast::Expr::Identifier(i) => ast::Expr::CompoundIdentifier(vec![i.clone(), f]),
        ast::Expr::CompoundIdentifier(parts) => {
            let mut parts = parts.clone();
            parts.push(f);
            ast::Expr::CompoundIdentifier(parts)
        }
        other => ast::Expr::CompoundFieldAccess {
            root: Box::new(ast::Expr::Nested(Box::new(other.clone()))),
            access_chain: vec![ast::AccessExpr::Dot(ast::Expr::Identifier(f))],
        },
    }
}

/// Lower-cased names and aliases of the relations a `SELECT` reads.
fn relation_names(select: &ast::Select) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |t: &ast::TableFactor| match t {
        ast::TableFactor::Table { name, alias, .. } => {
            if let Some(a) = alias {
                out.push(a.name.value.to_ascii_lowercase());
            }
            if let Some(last) = name.0.last().and_then(|p| p.as_ident()) {
                out.push(last.value.to_ascii_lowercase());
            }
        }
        ast::TableFactor::Derived { alias, .. }
        | ast::TableFactor::TableFunction { alias, .. }
        | ast::TableFactor::Function { alias, .. }
        | ast::TableFactor::UNNEST { alias, .. }
        | ast::TableFactor::NestedJoin { alias, .. } => {
            if let Some(a) = alias {
                out.push(a.name.value.to_ascii_lowercase());
            }
        }
        _ => {}
    };
    for t in &select.from {
        add(&t.relation);
        for j in &t.joins {
            add(&j.relation);
        }
    }
    out
}

/// The field names of `e` when it is a struct: the query planned with `e` as its only
/// item (no ORDER BY / LIMIT).
async fn struct_fields(
    session: &SessionContext,
    st: &ast::Statement,
    e: &ast::Expr,
) -> Option<Vec<String>> {
    let mut probe = st.clone();
    let ast::Statement::Query(q) = &mut probe else {
        return None;
    };
    q.order_by = None;
    q.limit_clause = None;
    let ast::SetExpr::Select(select) = q.body.as_mut() else {
        return None;
    };
    select.projection = vec![ast::SelectItem::UnnamedExpr(e.clone())];
    let state = session.state();
    let plan = state
        .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
            probe,
        )))
        .await
        .ok()?;
    match plan.schema().field(0).data_type() {
        datafusion::arrow::datatypes::DataType::Struct(fields) => {
            Some(fields.iter().map(|f| f.name().clone()).collect())
        }
        _ => None,
    }
}
