//! Spark Connect expressions → DataFusion expressions over one input DataFrame.
//!
//! Columns resolve as Spark resolves them: case-insensitively, by qualifier
//! (`df.alias("f")` then `col("f.x")`), by the DataFrame a PySpark `Column` came from
//! (`df1.id == df2.id` carries each side's `plan_id`), and into struct fields
//! (`col("s.a")`). Functions resolve by Spark name in the session's registry (ember's
//! and datafusion-spark's functions), operators (`+`, `==`, `and`, `<=>`...) and
//! Spark's planner-level forms (`when`, `in`, `like`, `isnull`) map to DataFusion
//! expressions. Unknown names fail with Spark's `UNRESOLVED_COLUMN` (with Spark's
//! suggestions) or `UNRESOLVED_ROUTINE`.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, ScalarValue, TableReference};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::expr::{Case, Cast, InList, Like, TryCast, WindowFunction};
use datafusion::logical_expr::{
    BinaryExpr, Expr, ExprFunctionExt, ExprSchemable, Operator, WindowFrame, WindowFrameBound,
    WindowFrameUnits, WindowFunctionDefinition,
};
use ember_core::{DataFrame, EmberError};
use spark_connect_proto::expression::{self as pe, ExprType};
use spark_connect_proto::Expression;

use crate::error::{ConnectError, Result};

/// The output schemas of the relations translated so far, by PySpark `plan_id`, for
/// resolving `df["col"]` references to the DataFrame they came from.
pub type PlanSchemas = HashMap<i64, Arc<DFSchema>>;

/// Translates expressions against one input DataFrame.
pub struct Scope<'a> {
    /// The input the expressions are evaluated on.
    pub input: &'a DataFrame,
    /// Schemas of translated relations by plan id.
    pub plans: &'a PlanSchemas,
    /// Lambda variables in scope (higher-order functions), with their fields.
    pub lambda_vars: Vec<(String, arrow::datatypes::FieldRef)>,
    /// The client session (for Python UDFs: their Python and shipped files).
    pub cs: Option<&'a crate::session::ConnectSession>,
    /// Columns the user spelled in another case than the input's (`arr_delay` for a
    /// column `ARR_DELAY`): (resolved name, user's spelling). Spark names computed
    /// columns after the user's spelling (`avg(arr_delay)`).
    spellings: std::cell::RefCell<Vec<(String, String)>>,
}

/// Splits a Spark multi-part identifier (`a.b`, `` `a.b`.c ``) into its parts.
pub fn parse_identifier(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '`' if quoted && chars.peek() == Some(&'`') => {
                cur.push('`');
                chars.next();
            }
            '`' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

fn missing(what: &str) -> ConnectError {
    ConnectError::invalid(format!("{what} is missing"))
}

fn binary(l: Expr, op: Operator, r: Expr) -> Expr {
    Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r)))
}

impl<'a> Scope<'a> {
    /// A scope over `input`.
    pub fn new(input: &'a DataFrame, plans: &'a PlanSchemas) -> Scope<'a> {
        Scope {
            input,
            plans,
            lambda_vars: Vec::new(),
            cs: None,
            spellings: Default::default(),
        }
    }

    /// Translates one output item and, when it is computed and refers to columns
    /// spelled in another case, names it as Spark does: after the user's spelling
    /// (`agg({"arr_delay": "avg"})` on `ARR_DELAY` is `avg(arr_delay)`).
    pub fn expr_named(&self, e: &Expression) -> Result<Expr> {
        self.spellings.borrow_mut().clear();
        let x = self.expr(e)?;
        Ok(self.spelled(x))
    }

    fn spelled(&self, x: Expr) -> Expr {
        if self.spellings.borrow().is_empty() || matches!(x, Expr::Column(_) | Expr::Alias(_)) {
            return x;
        }
        let name = self.sql_of(&x);
        if name != ember_sql::sql::naming::spark_sql(&x) {
            x.alias(name)
        } else {
            x
        }
    }

    /// Spark's SQL text of `x` (its column name when unaliased), with columns in the
    /// user's spelling where it differs in case from the input's.
    pub fn sql_of(&self, x: &Expr) -> String {
        let map = self.spellings.borrow();
        if map.is_empty() {
            return ember_sql::sql::naming::spark_sql(x);
        }
        let respelled = x
            .clone()
            .transform_up(|node| match node {
                Expr::Column(c) => match map.iter().rev().find(|(r, _)| *r == c.name) {
                    Some((_, user)) => Ok(Transformed::yes(Expr::Column(Column::new(
                        c.relation.clone(),
                        user.clone(),
                    )))),
                    None => Ok(Transformed::no(Expr::Column(c))),
                },
                other => Ok(Transformed::no(other)),
            })
            .map(|t| t.data);
        match respelled {
            Ok(r) => ember_sql::sql::naming::spark_sql(&r),
            Err(_) => ember_sql::sql::naming::spark_sql(x),
        }
    }

    fn schema(&self) -> &DFSchema {
        self.input.inner().schema()
    }

    fn tz(&self) -> String {
        self.input.session().time_zone().name().to_string()
    }

    /// Translates one expression.
    pub fn expr(&self, e: &Expression) -> Result<Expr> {
        let t = e
            .expr_type
            .as_ref()
            .ok_or_else(|| missing("expression type"))?;
        match t {
            ExprType::Literal(l) => Ok(Expr::Literal(
                crate::literal::to_scalar(l, &self.tz())?,
                None,
            )),
            ExprType::UnresolvedAttribute(a) => self.attribute(&a.unparsed_identifier, a.plan_id),
            ExprType::UnresolvedFunction(f) => {
                self.function(&f.function_name, &f.arguments, f.is_distinct)
            }
            ExprType::CallFunction(f) => self.function(&f.function_name, &f.arguments, false),
            ExprType::ExpressionString(s) => Ok(self.input.parse_expr(&s.expression)?),
            ExprType::Alias(a) => {
                let inner = self.expr(a.expr.as_deref().ok_or_else(|| missing("alias input"))?)?;
                match a.name.as_slice() {
                    // Spark's column metadata (`alias(name, metadata=...)`,
                    // `withMetadata`) rides on the field as its JSON text.
                    [name] => Ok(match spark_metadata(a.metadata.as_deref()) {
                        Some(meta) => strip_alias(inner).alias_with_metadata(name, Some(meta)),
                        None => strip_alias(inner).alias(name),
                    }),
                    names => Err(ConnectError::unsupported(format!(
                        "an alias with {} names ({})",
                        names.len(),
                        names.join(", ")
                    ))),
                }
            }
            ExprType::Cast(c) => self.cast(c),
            ExprType::SortOrder(_) => Err(ConnectError::unsupported(
                "a sort order outside orderBy, sortWithinPartitions or a window",
            )),
            ExprType::Window(w) => self.window(w),
            ExprType::UnresolvedExtractValue(x) => {
                let child =
                    self.expr(x.child.as_deref().ok_or_else(|| missing("extract child"))?)?;
                let key = self.expr(
                    x.extraction
                        .as_deref()
                        .ok_or_else(|| missing("extraction"))?,
                )?;
                extract(self, child, key)
            }
            ExprType::UnresolvedStar(_) => Err(ConnectError::unsupported(
                "'*' outside a select list or count(*)",
            )),
            ExprType::UnresolvedNamedLambdaVariable(v) => {
                let name = v.name_parts.join(".");
                self.lambda_var(&name).ok_or_else(|| {
                    EmberError::analysis(
                        "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
                        format!("A lambda variable `{name}` outside its lambda function."),
                    )
                    .into()
                })
            }
            ExprType::CommonInlineUserDefinedFunction(u) => match self.cs {
                Some(cs) => crate::udf::python_udf_expr(self, cs, u),
                None => Err(ConnectError::unsupported(format!(
                    "the UDF `{}` here",
                    u.function_name
                ))),
            },
            ExprType::UnresolvedRegex(r) => Err(ConnectError::unsupported(format!(
                "the column regex `{}` outside a select list",
                r.col_name
            ))),
            other => Err(ConnectError::unsupported(format!(
                "the expression type '{}'",
                expr_type_name(other)
            ))),
        }
    }

    /// Expands a select-list item: `*`, `t.*` and column regexes become many columns.
    pub fn select_item(&self, e: &Expression) -> Result<Vec<Expr>> {
        self.spellings.borrow_mut().clear();
        match &e.expr_type {
            Some(ExprType::UnresolvedStar(s)) => self.star(s.unparsed_target.as_deref(), s.plan_id),
            // `selectExpr("s.*")`: a struct's fields or a relation's columns.
            Some(ExprType::ExpressionString(s))
                if s.expression.trim().ends_with(".*") && s.expression.trim().len() > 2 =>
            {
                self.star(Some(s.expression.trim()), None)
            }
            Some(ExprType::UnresolvedRegex(r)) => {
                let pat = r.col_name.trim_matches('`');
                let re = regex_lite(pat)?;
                Ok(self
                    .schema()
                    .iter()
                    .filter(|(_, f)| re.is_match(f.name()))
                    .map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name())))
                    .collect())
            }
            Some(ExprType::UnresolvedAttribute(a)) if a.unparsed_identifier != "*" => {
                // Spark names a selected attribute as the user spelled it (`Origin`
                // for a column `origin`) and a struct field path by its last part
                // (`reason.code` is `code`).
                let x = self.expr(e)?;
                let parts = parse_identifier(&a.unparsed_identifier);
                let last = parts.last().cloned().unwrap_or_default();
                Ok(vec![match x {
                    Expr::Column(c) if c.name == last || !c.name.eq_ignore_ascii_case(&last) => {
                        Expr::Column(c)
                    }
                    Expr::Column(c) => Expr::Column(c).alias(last),
                    other if parts.len() > 1 => other.alias(last),
                    other => other,
                }])
            }
            _ => Ok(vec![self.expr_named(e)?]),
        }
    }

    fn star(&self, target: Option<&str>, plan_id: Option<i64>) -> Result<Vec<Expr>> {
        let schema = self.schema();
        let target = target.map(|t| {
            t.trim_end_matches(".*")
                .trim_end_matches('*')
                .trim_end_matches('.')
        });
        let mut out = Vec::new();
        match (target, plan_id.and_then(|p| self.plans.get(&p))) {
            (None, Some(ps)) => {
                for (q, f) in ps.iter() {
                    out.push(self.resolve_in_input(q, f.name())?);
                }
            }
            (None, None) => {
                for (q, f) in schema.iter() {
                    out.push(Expr::Column(Column::new(q.cloned(), f.name())));
                }
            }
            (Some(t), _) => {
                let parts = parse_identifier(t);
                for (q, f) in schema.iter() {
                    if q.map(|q| q.table().eq_ignore_ascii_case(&parts[parts.len() - 1]))
                        .unwrap_or(false)
                    {
                        out.push(Expr::Column(Column::new(q.cloned(), f.name())));
                    }
                }
                if out.is_empty() {
                    // `s.*` on a struct column: its fields.
                    let base = self.attribute(t, None)?;
                    let dt = base.get_type(schema).map_err(EmberError::from)?;
                    if let arrow::datatypes::DataType::Struct(fs) = dt {
                        for f in fs.iter() {
                            out.push(get_field(base.clone(), f.name()).alias(f.name()));
                        }
                    } else {
                        return Err(EmberError::analysis(
                            "CANNOT_RESOLVE_STAR_EXPAND",
                            format!(
                                "Cannot resolve `{t}`.* given input columns {}.",
                                self.column_list()
                            ),
                        )
                        .into());
                    }
                }
            }
        }
        Ok(out)
    }

    fn column_list(&self) -> String {
        self.schema()
            .fields()
            .iter()
            .map(|f| format!("`{}`", f.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn resolve_in_input(&self, q: Option<&TableReference>, name: &str) -> Result<Expr> {
        let schema = self.schema();
        let hits: Vec<_> = schema
            .iter()
            .filter(|(fq, f)| f.name() == name && (q.is_none() || *fq == q))
            .collect();
        match hits.as_slice() {
            [(fq, f)] => Ok(Expr::Column(Column::new(fq.cloned(), f.name()))),
            _ => self.attribute(name, None),
        }
    }

    /// Resolves `ident` (possibly qualified or a struct path) in the input, using the
    /// plan the PySpark column came from when given.
    pub fn attribute(&self, ident: &str, plan_id: Option<i64>) -> Result<Expr> {
        if ident == "*" {
            return Err(ConnectError::unsupported("'*' in this position"));
        }
        let parts = parse_identifier(ident);
        if let Some(v) = self.lambda_var(&parts[0]) {
            return Ok(nested(v, &parts[1..]));
        }
        let schema = self.schema();
        let fields: Vec<(Option<&TableReference>, &str)> =
            schema.iter().map(|(q, f)| (q, f.name().as_str())).collect();
        // 1. The DataFrame the column came from.
        if let Some(ps) = plan_id.and_then(|p| self.plans.get(&p)) {
            let origin: Vec<_> = ps
                .iter()
                .filter(|(_, f)| f.name().eq_ignore_ascii_case(&parts[0]))
                .collect();
            if let [(oq, of)] = origin.as_slice() {
                let hits: Vec<_> = fields
                    .iter()
                    .filter(|(q, n)| *n == of.name() && q == oq)
                    .collect();
                if let [(q, n)] = hits.as_slice() {
                    if **n != parts[0] {
                        self.spellings
                            .borrow_mut()
                            .push((n.to_string(), parts[0].clone()));
                    }
                    return Ok(nested(
                        Expr::Column(Column::new(q.cloned(), *n)),
                        &parts[1..],
                    ));
                }
            }
        }
        // 2. The whole identifier as one column name (names with dots).
        if parts.len() > 1 {
            if let Some(e) = self.by_name(&fields, None, ident)? {
                return Ok(e);
            }
        }
        // 3. qualifier.column[.field...]
        if parts.len() > 1 {
            if let Some(e) = self.by_name(&fields, Some(&parts[0]), &parts[1])? {
                return Ok(nested(e, &parts[2..]));
            }
        }
        // 4. column[.field...]
        if let Some(e) = self.by_name(&fields, None, &parts[0])? {
            return Ok(nested(e, &parts[1..]));
        }
        let names: Vec<String> = fields.iter().map(|(_, n)| format!("`{n}`")).collect();
        let shown = parts
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(".");
        let mut err = ember_sql::sql::errors::unresolved_column(&shown, &names);
        // unresolved_column quotes the name itself; keep Spark's one level of backticks.
        err.message = err.message.replace(&format!("`{shown}`"), &shown);
        Err(err.into())
    }

    fn by_name(
        &self,
        fields: &[(Option<&TableReference>, &str)],
        qualifier: Option<&str>,
        name: &str,
    ) -> Result<Option<Expr>> {
        let matches = |exact: bool| -> Vec<&(Option<&TableReference>, &str)> {
            fields
                .iter()
                .filter(|(q, n)| {
                    let name_ok = if exact {
                        *n == name
                    } else {
                        n.eq_ignore_ascii_case(name)
                    };
                    let q_ok = match qualifier {
                        None => true,
                        Some(want) => q
                            .map(|q| q.table().eq_ignore_ascii_case(want))
                            .unwrap_or(false),
                    };
                    name_ok && q_ok
                })
                .collect()
        };
        let mut hits = matches(true);
        if hits.is_empty() {
            hits = matches(false);
        }
        match hits.as_slice() {
            [] => Ok(None),
            [(q, n)] => {
                if *n != name && n.eq_ignore_ascii_case(name) {
                    self.spellings
                        .borrow_mut()
                        .push((n.to_string(), name.to_string()));
                }
                Ok(Some(Expr::Column(Column::new(q.cloned(), *n))))
            }
            many => {
                let names: Vec<String> = many
                    .iter()
                    .map(|(q, n)| match q {
                        Some(q) => format!("`{}`.`{n}`", q.table()),
                        None => format!("`{n}`"),
                    })
                    .collect();
                Err(EmberError::analysis(
                    "AMBIGUOUS_REFERENCE",
                    format!(
                        "Reference `{name}` is ambiguous, could be: [{}].",
                        names.join(", ")
                    ),
                )
                .into())
            }
        }
    }

    /// Function arguments; `*` (`hash("*")`) stands for all the input's columns.
    fn args(&self, args: &[Expression]) -> Result<Vec<Expr>> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            match &a.expr_type {
                Some(ExprType::UnresolvedStar(_)) => out.extend(self.select_item(a)?),
                _ => out.push(self.expr(a)?),
            }
        }
        Ok(out)
    }

    fn cast(&self, c: &pe::Cast) -> Result<Expr> {
        use pe::cast::CastToType;
        let inner = self.expr(c.expr.as_deref().ok_or_else(|| missing("cast input"))?)?;
        let tz = self.tz();
        let t = match c
            .cast_to_type
            .as_ref()
            .ok_or_else(|| missing("cast type"))?
        {
            CastToType::Type(t) => crate::types::from_proto(t, &tz)?,
            CastToType::TypeStr(s) => ember_sql::types::parse_data_type(s, &tz)?,
        };
        let try_mode = c.eval_mode == pe::cast::EvalMode::Try as i32;
        Ok(if try_mode {
            Expr::TryCast(TryCast::new(Box::new(inner), t))
        } else {
            Expr::Cast(Cast::new(Box::new(inner), t))
        })
    }

    /// The DataFusion sort of a sort order (`asc`, `desc_nulls_last`...); Spark's
    /// defaults: ascending puts nulls first, descending puts them last.
    pub fn sort_expr(&self, s: &pe::SortOrder) -> Result<datafusion::logical_expr::SortExpr> {
        let child = self.expr(s.child.as_deref().ok_or_else(|| missing("sort input"))?)?;
        let asc = s.direction != pe::sort_order::SortDirection::Descending as i32;
        let nulls_first = match s.null_ordering {
            x if x == pe::sort_order::NullOrdering::SortNullsFirst as i32 => true,
            x if x == pe::sort_order::NullOrdering::SortNullsLast as i32 => false,
            _ => asc,
        };
        Ok(child.sort(asc, nulls_first))
    }

    /// Sort orders of a relation or window; plain expressions sort ascending.
    pub fn sort_exprs(
        &self,
        items: &[Expression],
    ) -> Result<Vec<datafusion::logical_expr::SortExpr>> {
        items
            .iter()
            .map(|e| match &e.expr_type {
                Some(ExprType::SortOrder(s)) => self.sort_expr(s),
                _ => Ok(self.expr(e)?.sort(true, true)),
            })
            .collect()
    }

    fn window(&self, w: &pe::Window) -> Result<Expr> {
        let f = self.expr(
            w.window_function
                .as_deref()
                .ok_or_else(|| missing("window function"))?,
        )?;
        let partition = self.args(&w.partition_spec)?;
        let order: Vec<_> = w
            .order_spec
            .iter()
            .map(|s| self.sort_expr(s))
            .collect::<Result<_>>()?;
        // The alias inside is the function's display name (PySpark puts a user's
        // alias outside the window), so it is dropped.
        let f = strip_alias(f);
        let e = match f {
            Expr::AggregateFunction(af) => Expr::from(WindowFunction::new(
                WindowFunctionDefinition::AggregateUDF(af.func.clone()),
                af.params.args.clone(),
            )),
            e @ Expr::WindowFunction(_) => e,
            other => {
                return Err(EmberError::analysis(
                    "UNSUPPORTED_EXPR_FOR_WINDOW",
                    format!(
                        "Expression {} not supported within a window function.",
                        ember_sql::sql::naming::spark_sql(&other)
                    ),
                )
                .into())
            }
        };
        let unordered = order.is_empty();
        // RANGE offsets take the type of the (single) ORDER BY key.
        let key_type = order
            .first()
            .and_then(|s| s.expr.get_type(self.input.inner().schema()).ok());
        let mut b = e.partition_by(partition);
        // No ORDER BY: the default frame is the whole partition (DataFusion picks a
        // RANGE frame as soon as an ORDER BY list is given, even an empty one).
        if !unordered {
            b = b.order_by(order);
        }
        if let Some(frame) = &w.frame_spec {
            let mut frame = self.frame(frame, key_type)?;
            if unordered && frame.units == WindowFrameUnits::Range {
                // Without ORDER BY every row is a peer of every other: a RANGE frame
                // bounded by UNBOUNDED/CURRENT ROW is the whole partition (Spark);
                // one with value offsets is an error, as in Spark.
                let peer = |b: &WindowFrameBound| match b {
                    WindowFrameBound::CurrentRow => true,
                    WindowFrameBound::Preceding(v) | WindowFrameBound::Following(v) => v.is_null(),
                };
                if !(peer(&frame.start_bound) && peer(&frame.end_bound)) {
                    return Err(EmberError::analysis(
                        "DATATYPE_MISMATCH.RANGE_FRAME_WITHOUT_ORDER",
                        "Cannot resolve the window frame due to data type mismatch: A range window frame cannot be used in an unordered window specification.",
                    )
                    .into());
                }
                frame = WindowFrame::new(None);
            }
            b = b.window_frame(frame);
        }
        Ok(b.build().map_err(EmberError::from)?)
    }

    fn frame(
        &self,
        f: &pe::window::WindowFrame,
        key_type: Option<arrow::datatypes::DataType>,
    ) -> Result<WindowFrame> {
        use pe::window::window_frame::{frame_boundary::Boundary, FrameType};
        let units = if f.frame_type == FrameType::Row as i32 {
            WindowFrameUnits::Rows
        } else {
            WindowFrameUnits::Range
        };
        let bound = |b: &Option<Box<pe::window::window_frame::FrameBoundary>>,
                     lower: bool|
         -> Result<WindowFrameBound> {
            let b = b
                .as_ref()
                .and_then(|b| b.boundary.as_ref())
                .ok_or_else(|| missing("window frame boundary"))?;
            Ok(match b {
                Boundary::CurrentRow(_) => WindowFrameBound::CurrentRow,
                Boundary::Unbounded(_) if lower => WindowFrameBound::Preceding(ScalarValue::Null),
                Boundary::Unbounded(_) => WindowFrameBound::Following(ScalarValue::Null),
                Boundary::Value(v) => {
                    let v = match self.expr(v)? {
                        Expr::Literal(s, _) => s,
                        other => {
                            return Err(ConnectError::unsupported(format!(
                                "a window frame boundary that is not a literal ({other})"
                            )))
                        }
                    };
                    let n = match &v {
                        ScalarValue::Int32(Some(x)) => *x as i64,
                        ScalarValue::Int64(Some(x)) => *x,
                        _ => 0,
                    };
                    let abs = |n: i64| match units {
                        WindowFrameUnits::Rows => ScalarValue::UInt64(Some(n.unsigned_abs())),
                        _ => {
                            let v = ScalarValue::Int64(Some(n.abs()));
                            match &key_type {
                                Some(t) if t.is_integer() || t.is_floating() => {
                                    v.cast_to(t).unwrap_or(v)
                                }
                                _ => v,
                            }
                        }
                    };
                    if n == 0 && !matches!(v, ScalarValue::Int32(_) | ScalarValue::Int64(_)) {
                        WindowFrameBound::Preceding(v)
                    } else if n < 0 {
                        WindowFrameBound::Preceding(abs(n))
                    } else if n == 0 {
                        WindowFrameBound::CurrentRow
                    } else {
                        WindowFrameBound::Following(abs(n))
                    }
                }
            })
        };
        Ok(WindowFrame::new_bounds(
            units,
            bound(&f.lower, true)?,
            bound(&f.upper, false)?,
        ))
    }

    /// A function call by Spark name.
    pub fn function(&self, name: &str, args: &[Expression], distinct: bool) -> Result<Expr> {
        let lname = name.to_ascii_lowercase();
        // count(*) → count(1), as Spark names it.
        if (lname == "count") && args.len() == 1 {
            // `count(col("*"))`, or `count(expr("*"))` which arrives as the text `*`.
            let star = match &args[0].expr_type {
                Some(ExprType::UnresolvedStar(s)) => s.unparsed_target.is_none(),
                Some(ExprType::ExpressionString(s)) => s.expression.trim() == "*",
                _ => false,
            };
            if star {
                let one = Expr::Literal(ScalarValue::Int32(Some(1)), None);
                return self.call_registry("count", vec![one], distinct);
            }
        }
        if let Some(e) = self.lambda_call(name, &lname, args)? {
            return Ok(e);
        }
        let mut a = self.args(args)?;
        // from_json's schema may come as Spark's JSON form of a type (PySpark sends
        // `schema.json()` for a DataType): the function takes DDL.
        if lname == "from_json" {
            if let Some(Expr::Literal(ScalarValue::Utf8(Some(s)), _)) = a.get(1) {
                if s.trim_start().starts_with('{') {
                    let tz = self.input.session().time_zone().name().to_string();
                    let ddl = crate::schema_json::to_type_string(s, &tz)?;
                    a[1] = Expr::Literal(ScalarValue::Utf8(Some(ddl)), None);
                }
            }
        }
        let a = a;
        let arity = |n: usize| -> Result<()> {
            if a.len() == n {
                Ok(())
            } else {
                Err(EmberError::analysis(
                    "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
                    format!(
                        "The `{name}` requires {n} parameters but the actual number is {}.",
                        a.len()
                    ),
                )
                .into())
            }
        };
        let op = match lname.as_str() {
            "==" => Some(Operator::Eq),
            "!=" | "<>" => Some(Operator::NotEq),
            "<" => Some(Operator::Lt),
            "<=" => Some(Operator::LtEq),
            ">" => Some(Operator::Gt),
            ">=" => Some(Operator::GtEq),
            "+" => Some(Operator::Plus),
            "-" if a.len() == 2 => Some(Operator::Minus),
            "*" => Some(Operator::Multiply),
            "/" => Some(Operator::Divide),
            "%" | "mod" => Some(Operator::Modulo),
            "and" => Some(Operator::And),
            "or" => Some(Operator::Or),
            "<=>" | "equal_null" => Some(Operator::IsNotDistinctFrom),
            "&" | "bitwiseand" => Some(Operator::BitwiseAnd),
            "|" | "bitwiseor" => Some(Operator::BitwiseOr),
            "^" | "bitwisexor" => Some(Operator::BitwiseXor),
            "||" => Some(Operator::StringConcat),
            _ => None,
        };
        if let Some(op) = op {
            arity(2)?;
            let shown =
                (lname == "equal_null").then(|| display_call(self, name, &lname, &a, false));
            let mut it = a.into_iter();
            let (l, r) = (
                it.next().unwrap_or_else(null),
                it.next().unwrap_or_else(null),
            );
            // Spark's operators on intervals (ranges, `interval * n`) as the SQL door plans them.
            let e = ember_sql::sql::interval_rules::plan_binary(op, l, r, self.schema())
                .map_err(EmberError::from)?;
            return Ok(match shown {
                Some(n) => e.alias(n),
                None => e,
            });
        }
        if crate::generate::generator_call_name(&lname) {
            return Err(EmberError::analysis(
                "UNSUPPORTED_GENERATOR.NESTED_IN_EXPRESSIONS",
                format!("The generator is not supported: nested in expressions \"{name}\"."),
            )
            .into());
        }
        {
            let shown = display_call(self, name, &lname, &a, distinct);
            // DISTINCT forms the rewrites know by their own names.
            let rname = match (lname.as_str(), distinct) {
                ("count", true) if a.len() > 1 => "count_distinct".to_string(),
                ("listagg" | "string_agg", true) => format!("{lname}_distinct"),
                _ => lname.clone(),
            };
            if let Some(e) = crate::functions::rewrite(self, name, &rname, &a, &shown)? {
                return Ok(e);
            }
        }
        let mut it = a.clone().into_iter();
        let mut next = || it.next().unwrap_or_else(null);
        Ok(match lname.as_str() {
            "not" | "!" => {
                arity(1)?;
                Expr::Not(Box::new(next()))
            }
            "negative" | "-" => {
                arity(1)?;
                let shown =
                    (lname == "negative").then(|| display_call(self, name, &lname, &a, false));
                let e = Expr::Negative(Box::new(next()));
                match shown {
                    Some(n) => e.alias(n),
                    None => e,
                }
            }
            "positive" => {
                arity(1)?;
                next()
            }
            "isnull" => {
                arity(1)?;
                Expr::IsNull(Box::new(next()))
            }
            "isnotnull" => {
                arity(1)?;
                Expr::IsNotNull(Box::new(next()))
            }
            "isnan" if a.len() == 1 => self.call_registry("isnan", a, false)?,
            "in" => {
                let e = next();
                let list: Vec<Expr> = a.into_iter().skip(1).collect();
                Expr::InList(InList::new(Box::new(e), list, false))
            }
            "like" | "ilike" => {
                let (e, mut p) = (next(), next());
                let mut escape = match a.get(2) {
                    Some(Expr::Literal(ScalarValue::Utf8(Some(s)), _)) => s.chars().next(),
                    _ => None,
                };
                // DataFusion's LIKE escapes with `\` only: another escape character
                // is rewritten into the pattern.
                if let (Some(c), Some(esc)) = (escape, a.get(2)) {
                    if c != '\\' {
                        p = match p {
                            Expr::Literal(ScalarValue::Utf8(Some(s)), m) => Expr::Literal(
                                ScalarValue::Utf8(Some(ember_sql::functions::more::like_escape(
                                    &s, c,
                                ))),
                                m,
                            ),
                            p => {
                                let ctx = self.input.session().context();
                                ctx.udf("ember_like_escape")?.call(vec![p, esc.clone()])
                            }
                        };
                        escape = Some('\\');
                    }
                }
                Expr::Like(Like::new(
                    false,
                    Box::new(e),
                    Box::new(p),
                    escape,
                    lname == "ilike",
                ))
            }
            "rlike" | "regexp" | "regexp_like" => {
                arity(2)?;
                let shown = display_call(self, name, &lname, &a, false);
                binary(next(), Operator::RegexMatch, next()).alias(shown)
            }
            "when" | "case_when" => {
                let mut pairs = Vec::new();
                let mut rest = a.into_iter();
                let mut otherwise = None;
                loop {
                    match (rest.next(), rest.next()) {
                        (Some(c), Some(v)) => pairs.push((Box::new(c), Box::new(v))),
                        (Some(o), None) => {
                            otherwise = Some(Box::new(o));
                            break;
                        }
                        _ => break,
                    }
                }
                Expr::Case(Case::new(None, pairs, otherwise))
            }
            // The session's time zone, known at analysis.
            "current_timezone" if a.is_empty() => {
                let shown = display_call(self, name, &lname, &[], false);
                Expr::Literal(ScalarValue::Utf8(Some(self.tz())), None).alias(shown)
            }
            "array_size" | "approx_count_distinct" | "any_value" => {
                let shown = display_call(self, name, &lname, &a, distinct);
                let e = match lname.as_str() {
                    "array_size" => {
                        arity(1)?;
                        self.call_registry("array_size", vec![next()], false)?
                    }
                    "approx_count_distinct" => {
                        self.call_registry("approx_count_distinct", a.clone(), false)?
                    }
                    _ => self.call_registry("first_value", vec![next()], false)?,
                };
                e.alias(shown)
            }
            // distributed_sequence_id() (zipWithIndex, pandas_api): 0, 1, 2, ... over the
            // rows in partition order, as Spark's AttachDistributedSequence.
            "distributed_sequence_id" => {
                use datafusion::logical_expr::ExprFunctionExt;
                // pandas-on-Spark passes a flag (whether to cache): the sequence is
                // the same either way.
                if a.len() > 1 {
                    arity(1)?;
                }
                let ctx = self.input.session().context();
                let mono = ctx
                    .udf("monotonically_increasing_id")
                    .map_err(EmberError::from)?
                    .call(vec![]);
                let rn = datafusion::functions_window::expr_fn::row_number()
                    .order_by(vec![mono.sort(true, false)])
                    .build()
                    .map_err(EmberError::from)?;
                Expr::Cast(Cast::new(
                    Box::new(rn - Expr::Literal(ScalarValue::UInt64(Some(1)), None)),
                    arrow::datatypes::DataType::Int64,
                ))
                .alias("distributed_sequence_id()")
            }
            // typeof(x): the Spark type name, known at analysis (a constant).
            "typeof" => {
                arity(1)?;
                let e = next();
                let t = e.get_type(self.schema()).map_err(EmberError::from)?;
                let shown = display_call(self, name, &lname, std::slice::from_ref(&e), false);
                Expr::Literal(
                    ScalarValue::Utf8(Some(ember_sql::types::simple_string(&t))),
                    None,
                )
                .alias(shown)
            }
            // sort_array / array_sort (ember-core's functions): the name shows the
            // defaults Spark shows.
            "sort_array" | "array_sort" if a.len() <= 1 => {
                let shown = display_call(self, name, &lname, &a, false);
                self.call_registry(&lname, a, false)?.alias(shown)
            }
            // struct(cols): fields named as the columns are (Spark's CreateStruct).
            "struct" => {
                let shown = display_call(self, name, &lname, &a, false);
                let mut named_args = Vec::new();
                for (i, e) in a.into_iter().enumerate() {
                    let name = match &e {
                        Expr::Alias(al) => al.name.clone(),
                        Expr::Column(c) => c.name.clone(),
                        // `struct("s.x")`: the field is named `x`.
                        Expr::ScalarFunction(f) if f.name() == "get_field" => match f.args.last() {
                            Some(Expr::Literal(ScalarValue::Utf8(Some(n)), _)) => n.clone(),
                            _ => format!("col{}", i + 1),
                        },
                        _ => format!("col{}", i + 1),
                    };
                    named_args.push(Expr::Literal(ScalarValue::Utf8(Some(name)), None));
                    named_args.push(strip_alias(e));
                }
                self.call_registry("named_struct", named_args, false)?
                    .alias(shown)
            }
            // grouping_id(): the grouping columns' bits, known once the aggregate is
            // planned (crate::aggregate replaces the marker).
            "grouping_id" => {
                let shown = display_call(self, name, &lname, &a, false);
                if a.is_empty() {
                    Expr::Column(datafusion::common::Column::from_name(
                        crate::aggregate::GROUPING_ID_ALL,
                    ))
                    .alias(shown)
                } else {
                    crate::functions::cast(
                        self.call_registry("grouping", a, false)?,
                        arrow::datatypes::DataType::Int64,
                    )
                    .alias(shown)
                }
            }
            "between" => {
                arity(3)?;
                let (e, lo, hi) = (next(), next(), next());
                Expr::Between(datafusion::logical_expr::Between::new(
                    Box::new(e),
                    false,
                    Box::new(lo),
                    Box::new(hi),
                ))
            }
            _ => {
                let shown = display_call(self, name, &lname, &a, distinct);
                self.call_registry(&lname, a, distinct)?.alias(shown)
            }
        })
    }

    /// Calls the session's function `name` (a Spark name; see `spark_alias`): scalar,
    /// aggregate or window. Errors: Spark's `UNRESOLVED_ROUTINE` when there is none.
    pub fn call_registry(&self, name: &str, args: Vec<Expr>, distinct: bool) -> Result<Expr> {
        let ctx = self.input.session().context();
        let name = spark_alias(name);
        if let Ok(f) = ctx.udf(name) {
            let args = self.implicit_strings(f.name(), args);
            return Ok(f.call(args));
        }
        if let Ok(f) = ctx.udaf(name) {
            let args = self.void_as_double(f.name(), args);
            let e = f.call(args);
            return Ok(if distinct {
                e.distinct().build().map_err(EmberError::from)?
            } else {
                e
            });
        }
        if let Ok(f) = ctx.udwf(name) {
            return Ok(f.call(args));
        }
        if let Ok(f) = ctx.higher_order_function(name) {
            return Ok(Expr::HigherOrderFunction(
                datafusion::logical_expr::expr::HigherOrderFunction::new(f, args),
            ));
        }
        Err(EmberError::analysis(
            "UNRESOLVED_ROUTINE",
            format!("Cannot resolve routine `{name}` on search path [`system`.`builtin`, `system`.`session`]."),
        )
        .into())
    }

    /// Spark's implicit cast of a `void` (untyped NULL) column to `double` for the
    /// numeric aggregates (`avg(x)` over `VALUES (1, null) AS t(y, x)` is NULL).
    fn void_as_double(&self, name: &str, args: Vec<Expr>) -> Vec<Expr> {
        use datafusion::logical_expr::ExprSchemable;
        let numeric = matches!(
            name,
            "avg"
                | "sum"
                | "stddev"
                | "stddev_samp"
                | "stddev_pop"
                | "var_samp"
                | "var_pop"
                | "variance"
                | "corr"
                | "covar_samp"
                | "covar_pop"
                | "skewness"
                | "kurtosis"
        ) || name.starts_with("regr_");
        if !numeric {
            return args;
        }
        let schema = self.schema();
        args.into_iter()
            .map(|a| match a.get_type(schema) {
                Ok(arrow::datatypes::DataType::Null) => {
                    Expr::Cast(Cast::new(Box::new(a), arrow::datatypes::DataType::Float64))
                }
                _ => a,
            })
            .collect()
    }

    /// Spark's implicit cast to `string` of the string arguments of a string function
    /// (`upper(age)` on a bigint): the arguments at the positions
    /// `ember_sql::sql::rules::string_positions` names that are numbers, booleans,
    /// dates or timestamps go through `spark_to_string`.
    fn implicit_strings(&self, name: &str, args: Vec<Expr>) -> Vec<Expr> {
        use datafusion::logical_expr::ExprSchemable;
        let Some(pos) = ember_sql::sql::rules::string_positions(name) else {
            return args;
        };
        let Ok(to_string) = self.input.session().context().udf("spark_to_string") else {
            return args;
        };
        let schema = self.schema();
        args.into_iter()
            .enumerate()
            .map(|(i, a)| {
                let castable = pos.is_none_or(|p| p.contains(&i))
                    && a.get_type(schema).is_ok_and(|t| {
                        t.is_numeric()
                            || matches!(
                                t,
                                arrow::datatypes::DataType::Boolean
                                    | arrow::datatypes::DataType::Date32
                                    | arrow::datatypes::DataType::Timestamp(..)
                            )
                    });
                if castable {
                    to_string.call(vec![a])
                } else {
                    a
                }
            })
            .collect()
    }

    /// The lambda variable `name` in scope (innermost first).
    fn lambda_var(&self, name: &str) -> Option<Expr> {
        self.lambda_vars
            .iter()
            .rev()
            .find(|(v, _)| v == name)
            .map(|(v, f)| {
                Expr::LambdaVariable(datafusion::logical_expr::expr::LambdaVariable::new(
                    v.clone(),
                    Some(Arc::new(f.as_ref().clone().with_name(v.clone()))),
                ))
            })
    }

    /// Higher-order functions (`transform`, `filter`, `exists`, `forall`, `aggregate`,
    /// `zip_with`, `map_filter`, `transform_keys`, `transform_values`): the value
    /// arguments are translated first, their types give the lambda parameters' types
    /// (the function's `lambda_parameters`), then each lambda body is translated with
    /// its parameters in scope.
    fn lambda_call(&self, called: &str, name: &str, args: &[Expression]) -> Result<Option<Expr>> {
        use datafusion::logical_expr::expr::{HigherOrderFunction, Lambda};
        use datafusion::logical_expr::{LambdaParametersProgress, ValueOrLambda};
        if !args
            .iter()
            .any(|a| matches!(a.expr_type, Some(ExprType::LambdaFunction(_))))
        {
            return Ok(None);
        }
        let ctx = self.input.session().context();
        let func = ctx.higher_order_function(name).map_err(|_| {
            ConnectError::unsupported(format!("the higher-order function `{name}` with a lambda"))
        })?;
        let mut values: Vec<Option<Expr>> = Vec::with_capacity(args.len());
        let mut fields = Vec::with_capacity(args.len());
        for a in args {
            if let Some(ExprType::LambdaFunction(_)) = &a.expr_type {
                values.push(None);
                fields.push(ValueOrLambda::Lambda(None));
            } else {
                let e = self.expr(a)?;
                let (_, f) = e.to_field(self.schema()).map_err(EmberError::from)?;
                fields.push(ValueOrLambda::Value(f));
                values.push(Some(e));
            }
        }
        let params = match func
            .lambda_parameters(0, &fields)
            .map_err(EmberError::from)?
        {
            LambdaParametersProgress::Complete(p) => p,
            LambdaParametersProgress::Partial(_) => {
                return Err(ConnectError::unsupported(format!(
                    "the lambda parameters of `{name}`"
                )))
            }
        };
        let mut params = params.into_iter();
        let mut out = Vec::with_capacity(args.len());
        for (a, v) in args.iter().zip(values) {
            match (v, &a.expr_type) {
                (Some(e), _) => out.push(e),
                (None, Some(ExprType::LambdaFunction(lf))) => {
                    let names: Vec<String> = lf
                        .arguments
                        .iter()
                        .map(|v| v.name_parts.join("."))
                        .collect();
                    let types = params.next().unwrap_or_default();
                    if names.len() > types.len() {
                        return Err(EmberError::analysis(
                            "INVALID_LAMBDA_FUNCTION_CALL.NUM_ARGS_MISMATCH",
                            format!(
                                "A higher order function expects {} arguments, but got {}.",
                                types.len(),
                                names.len()
                            ),
                        )
                        .into());
                    }
                    let mut inner = Scope {
                        input: self.input,
                        plans: self.plans,
                        lambda_vars: self.lambda_vars.clone(),
                        cs: self.cs,
                        spellings: Default::default(),
                    };
                    inner.lambda_vars.extend(names.iter().cloned().zip(types));
                    let body = lf
                        .function
                        .as_deref()
                        .ok_or_else(|| missing("lambda body"))?;
                    let body = keep_params(ctx, strip_alias(inner.expr(body)?), &names)?;
                    out.push(Expr::Lambda(Lambda::new(names, body)));
                }
                (None, _) => return Err(missing("lambda function").into()),
            }
        }
        let shown = format!(
            "{}({})",
            called,
            out.iter()
                .map(ember_sql::sql::naming::spark_sql)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let e = Expr::HigherOrderFunction(HigherOrderFunction::new(func, out));
        let e = e
            .resolve_lambda_variables(self.schema())
            .map_err(EmberError::from)?
            .data;
        Ok(Some(e.alias(shown)))
    }
}

/// `body`, wrapped in `ember_lambda_body(body, unused..)` when it leaves some of the
/// lambda's parameters unused (see [`ember_sql::functions::lambda::LambdaBody`]).
fn keep_params(
    ctx: &datafusion::prelude::SessionContext,
    body: Expr,
    names: &[String],
) -> Result<Expr> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    let mut used = std::collections::HashSet::new();
    body.apply(|e| {
        if let Expr::LambdaVariable(v) = e {
            used.insert(v.name.clone());
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map_err(EmberError::from)?;
    let unused: Vec<&String> = names.iter().filter(|n| !used.contains(*n)).collect();
    if unused.is_empty() {
        return Ok(body);
    }
    let f = ctx.udf("ember_lambda_body").map_err(EmberError::from)?;
    let mut args = vec![body];
    args.extend(unused.into_iter().map(|n| {
        Expr::LambdaVariable(datafusion::logical_expr::expr::LambdaVariable::new(
            n.clone(),
            None,
        ))
    }));
    Ok(f.call(args))
}

use ember_sql::sql::naming::UPPER_NAMES;

/// Spark's column name of a function call: the name the program called (Spark keeps
/// the alias used, `lcase(x)`), upper case for math functions, arguments by their
/// SQL text, `DISTINCT` for distinct aggregates.
fn display_call(
    scope: &Scope<'_>,
    called: &str,
    lname: &str,
    args: &[Expr],
    distinct: bool,
) -> String {
    let shown = if UPPER_NAMES.contains(&lname) {
        called.to_ascii_uppercase()
    } else if lname == "countdistinct" || lname == "count_distinct" {
        "count".to_string()
    } else {
        called.to_string()
    };
    let mut args: Vec<String> = args.iter().map(|a| scope.sql_of(a)).collect();
    // Spark shows the defaults of omitted arguments.
    let default = ember_sql::sql::naming::shown_defaults(lname, args.len());
    args.extend(default.map(String::from));
    if lname == "current_database" {
        return "current_schema()".to_string();
    }
    // Spark hides the seed of `uuid` and `shuffle` in their names.
    if lname == "uuid" {
        return "uuid()".to_string();
    }
    if matches!(
        lname,
        "shuffle" | "from_json" | "to_json" | "schema_of_json" | "from_csv" | "to_csv"
    ) {
        args.truncate(1);
    }
    // Spark's try_make_timestamp with a time zone shows only the six fields.
    if lname == "try_make_timestamp" && args.len() == 7 {
        args.truncate(6);
    }
    if lname == "window" {
        return "window".to_string();
    }
    if !distinct {
        if let Some(shown) = ember_sql::sql::naming::call_form(lname, &args) {
            return shown;
        }
    }
    if lname == "assert_true" && args.len() == 1 {
        let c = args[0].clone();
        args.push(format!("'{c}' is not true!"));
    }
    let distinct = if distinct || lname == "countdistinct" || lname == "count_distinct" {
        "DISTINCT "
    } else {
        ""
    };
    format!("{shown}({distinct}{})", args.join(", "))
}

/// Spark function names DataFusion registers under another name.
fn spark_alias(name: &str) -> &str {
    match name {
        "mean" => "avg",
        "std" => "stddev",
        "stddev_samp" => "stddev",
        "var_samp" | "variance" => "var_samp",
        "ceiling" => "ceil",
        "power" | "pow" => "power",
        "sign" => "signum",
        "substr" => "substr",
        "char_length" | "character_length" => "character_length",
        "lcase" => "lower",
        "ucase" => "upper",
        "startswith" => "starts_with",
        "endswith" => "ends_with",
        "countdistinct" | "count_distinct" => "count",
        "map" => "create_map",
        other => other,
    }
}

fn null() -> Expr {
    Expr::Literal(ScalarValue::Null, None)
}

/// A column's Spark metadata (the JSON object of `alias(..., metadata=)` and
/// `withMetadata`) as Arrow field metadata; `None` when absent or empty.
pub(crate) fn spark_metadata(
    json: Option<&str>,
) -> Option<datafusion::common::metadata::FieldMetadata> {
    let m = json
        .map(str::trim)
        .filter(|m| !m.is_empty() && *m != "{}")?;
    let meta = std::collections::BTreeMap::from([(
        crate::types::SPARK_METADATA.to_string(),
        m.to_string(),
    )]);
    Some(datafusion::common::metadata::FieldMetadata::from(meta))
}

fn strip_alias(e: Expr) -> Expr {
    match e {
        Expr::Alias(a) => *a.expr,
        e => e,
    }
}

/// `get_field(base, name)`.
pub fn get_field(base: Expr, name: &str) -> Expr {
    datafusion::functions::core::expr_fn::get_field(base, name)
}

fn nested(mut e: Expr, fields: &[String]) -> Expr {
    for f in fields {
        e = get_field(e, f);
    }
    e
}

/// `col[key]`: a struct field by name, a map value by key, an array element by
/// 0-based index (Spark's `GetArrayItem`).
fn extract(scope: &Scope<'_>, child: Expr, key: Expr) -> Result<Expr> {
    let t = child.get_type(scope.schema()).map_err(EmberError::from)?;
    use arrow::datatypes::DataType as D;
    Ok(match (&t, &key) {
        (D::Struct(_), Expr::Literal(ScalarValue::Utf8(Some(n)), _)) => get_field(child, n.as_str()),
        // ember's analyzer gives array_element Spark's 0-based index and
        // INVALID_ARRAY_INDEX error (as for SQL `arr[i]`).
        (D::List(_) | D::LargeList(_) | D::FixedSizeList(..), _) => {
            let idx = Expr::Cast(Cast::new(Box::new(key), D::Int64));
            datafusion::functions_nested::expr_fn::array_element(child, idx)
        }
        (D::Map(..), _) => datafusion::functions_nested::expr_fn::array_element(
            datafusion::functions_nested::expr_fn::map_extract(child, key),
            Expr::Literal(ScalarValue::Int64(Some(1)), None),
        ),
        _ => {
            return Err(EmberError::analysis(
                "INVALID_EXTRACT_BASE_FIELD_TYPE",
                format!(
                    "Can't extract a value from {}. Need a complex type [STRUCT, ARRAY, MAP] but got \"{}\".",
                    ember_sql::sql::naming::spark_sql(&child),
                    ember_sql::types::simple_string(&t).to_uppercase()
                ),
            )
            .into())
        }
    })
}

/// A Java-style column regex (`colRegex("`(a|b)?`")`), anchored as Spark anchors it.
fn regex_lite(p: &str) -> Result<regex::Regex> {
    regex::Regex::new(&format!("^(?:{p})$"))
        .map_err(|e| ConnectError::invalid(format!("invalid column regex {p}: {e}")))
}

fn expr_type_name(t: &ExprType) -> &'static str {
    match t {
        ExprType::LambdaFunction(_) => "LambdaFunction",
        ExprType::UpdateFields(_) => "UpdateFields (withField/dropFields)",
        ExprType::NamedArgumentExpression(_) => "NamedArgumentExpression",
        ExprType::MergeAction(_) => "MergeAction",
        ExprType::TypedAggregateExpression(_) => "TypedAggregateExpression",
        ExprType::SubqueryExpression(_) => "SubqueryExpression",
        ExprType::DirectShufflePartitionId(_) => "DirectShufflePartitionID",
        ExprType::Extension(_) => "Extension",
        _ => "expression",
    }
}
