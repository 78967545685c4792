//! Spark's names for unaliased output columns. Spark names a column by the SQL text
//! of its expression without qualifiers — `avg(dep_delay)`, `count(1)`,
//! `(dep_delay + arr_delay)`, `CAST(x AS INT)`, `upper(carrier)` — where DataFusion
//! uses its own forms (`avg(flights.dep_delay)`, `count(*)`, `CAST(x AS Int32)`).
//! [`alias_select_items`] gives unaliased SELECT items Spark's names before planning; [`spark_sql`] gives
//! the same form for DataFrame API expressions.

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, Operator};
use datafusion::sql::sqlparser::ast;

use crate::types::simple_string;

fn op_text(op: &Operator) -> &'static str {
    match op {
        Operator::Eq => "=",
        Operator::NotEq => "!=",
        Operator::Lt => "<",
        Operator::LtEq => "<=",
        Operator::Gt => ">",
        Operator::GtEq => ">=",
        Operator::Plus => "+",
        Operator::Minus => "-",
        Operator::Multiply => "*",
        Operator::Divide => "/",
        Operator::Modulo => "%",
        Operator::And => "AND",
        Operator::Or => "OR",
        Operator::IsNotDistinctFrom => "<=>",
        Operator::StringConcat => "||",
        _ => "?",
    }
}

fn lit_text(v: &ScalarValue) -> String {
    if v.is_null() {
        return "NULL".into();
    }
    match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => s.clone(),
        ScalarValue::Int64(Some(i)) if i32::try_from(*i).is_err() => format!("{i}L"),
        ScalarValue::Float64(Some(f)) => crate::format::java_double(*f),
        ScalarValue::Date32(Some(d)) => format!("DATE '{}'", crate::format::format_date(*d)),
        ScalarValue::Decimal128(Some(v), _, s) => decimal_text(*v, *s),
        other => other.to_string(),
    }
}

/// A decimal's digits with its scale (`1250`, scale 2 → `12.50`).
pub(crate) fn decimal_text(v: i128, scale: i8) -> String {
    if scale <= 0 {
        return v.to_string();
    }
    let digits = v.unsigned_abs().to_string();
    let s = scale as usize;
    let padded = format!("{digits:0>width$}", width = s + 1);
    let (int, frac) = padded.split_at(padded.len() - s);
    format!("{}{int}.{frac}", if v < 0 { "-" } else { "" })
}

/// Spark's SQL text of an expression (Spark's `Expression.sql` / `prettyName` forms).
#[recursive::recursive]
pub fn spark_sql(e: &Expr) -> String {
    match e {
        Expr::Alias(a) => a.name.clone(),
        Expr::Column(c) => c.name.clone(),
        Expr::Literal(v, _) => lit_text(v),
        Expr::BinaryExpr(b) => format!(
            "({} {} {})",
            spark_sql(&b.left),
            op_text(&b.op),
            spark_sql(&b.right)
        ),
        Expr::Not(x) => format!("(NOT {})", spark_sql(x)),
        Expr::Negative(x) => format!("(- {})", spark_sql(x)),
        Expr::IsNull(x) => format!("({} IS NULL)", spark_sql(x)),
        Expr::IsNotNull(x) => format!("({} IS NOT NULL)", spark_sql(x)),
        Expr::Cast(c) => format!(
            "CAST({} AS {})",
            spark_sql(&c.expr),
            simple_string(c.field.data_type()).to_uppercase()
        ),
        Expr::TryCast(c) => format!(
            "TRY_CAST({} AS {})",
            spark_sql(&c.expr),
            simple_string(c.field.data_type()).to_uppercase()
        ),
        Expr::Between(b) => format!(
            "({} {}BETWEEN {} AND {})",
            spark_sql(&b.expr),
            if b.negated { "NOT " } else { "" },
            spark_sql(&b.low),
            spark_sql(&b.high)
        ),
        Expr::Like(l) => format!(
            "{}{} {} {}",
            if l.negated { "NOT " } else { "" },
            spark_sql(&l.expr),
            if l.case_insensitive { "ILIKE" } else { "LIKE" },
            spark_sql(&l.pattern)
        ),
        Expr::InList(i) => format!(
            "({} {}IN ({}))",
            spark_sql(&i.expr),
            if i.negated { "NOT " } else { "" },
            i.list.iter().map(spark_sql).collect::<Vec<_>>().join(", ")
        ),
        Expr::Case(c) => {
            let mut s = String::from("CASE");
            if let Some(b) = &c.expr {
                s.push_str(&format!(" {}", spark_sql(b)));
            }
            for (w, t) in &c.when_then_expr {
                s.push_str(&format!(" WHEN {} THEN {}", spark_sql(w), spark_sql(t)));
            }
            if let Some(x) = &c.else_expr {
                s.push_str(&format!(" ELSE {}", spark_sql(x)));
            }
            s.push_str(" END");
            s
        }
        Expr::ScalarFunction(f) => {
            let name = f.func.name();
            // Spark names a time window column `window` (TimeWindowing's alias).
            if matches!(name, "window" | "ember_time_windows") {
                return "window".into();
            }
            if name == "assert_true" && f.args.len() == 1 {
                let c = spark_sql(&f.args[0]);
                return format!("assert_true({c}, '{c}' is not true!)");
            }
            // Spark shows only the value of these (not the schema or options).
            if matches!(
                name,
                "from_json" | "to_json" | "schema_of_json" | "from_csv" | "to_csv"
            ) {
                if let Some(a) = f.args.first() {
                    return format!("{name}({})", spark_sql(a));
                }
            }
            // ember's internal wrappers are transparent.
            if matches!(
                name,
                "ember_nullable" | "ember_not_null" | "spark_to_string" | "ember_lambda_body"
            ) {
                if let Some(a) = f.args.first() {
                    return if name == "spark_to_string" {
                        format!("CAST({} AS STRING)", spark_sql(a))
                    } else {
                        spark_sql(a)
                    };
                }
            }
            format!(
                "{}({})",
                name,
                f.args.iter().map(spark_sql).collect::<Vec<_>>().join(", ")
            )
        }
        Expr::AggregateFunction(a) => {
            let name = a.func.name();
            let args: Vec<String> = if a.params.args.is_empty() {
                vec!["1".into()]
            } else {
                a.params.args.iter().map(spark_sql).collect()
            };
            let name = match name {
                "var_samp" => "variance",
                "stddev_samp" => "stddev",
                "array_agg" => "collect_list",
                other => other,
            };
            format!(
                "{}({}{})",
                name,
                if a.params.distinct { "DISTINCT " } else { "" },
                args.join(", ")
            )
        }
        // Spark prints a lambda as `lambdafunction(body, x, y)` and its variables as
        // `namedlambdavariable()`.
        Expr::Lambda(l) => format!(
            "lambdafunction({}, {})",
            spark_sql(&l.body),
            l.params.join(", ")
        ),
        Expr::LambdaVariable(_) => "namedlambdavariable()".to_string(),
        Expr::HigherOrderFunction(f) => format!(
            "{}({})",
            f.name(),
            f.args.iter().map(spark_sql).collect::<Vec<_>>().join(", ")
        ),
        other => other.schema_name().to_string(),
    }
}

/// Spark's name of an unaliased SELECT item, from the SQL text as parsed.
#[recursive::recursive]
pub fn ast_name(e: &ast::Expr) -> String {
    use ast::Expr as A;
    match e {
        A::Identifier(i) if i.quote_style.is_none() && suffixed_number(&i.value).is_some() => {
            suffixed_number(&i.value)
                .map(|(n, _)| n.to_string())
                .unwrap_or_default()
        }
        A::Identifier(i) => i.value.clone(),
        A::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()).unwrap_or_default(),
        A::Nested(x) => ast_name(x),
        A::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
            ast::Value::Number(n, _) => number_name(n),
            ast::Value::Boolean(b) => b.to_string(),
            ast::Value::Null => "NULL".into(),
            ast::Value::HexStringLiteral(h) => format!("X'{}'", h.to_ascii_uppercase()),
            other => other.to_string(),
        },
        A::Lambda(l) => lambda_name(l),
        // Inside a lambda, a parenthesised tuple is a struct (`(y, x)`): Spark names it
        // `named_struct(y, <y>, x, <x>)`, fields named by the variables or `col<n>`.
        A::Tuple(items) => format!(
            "named_struct({})",
            items
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let field = match x {
                        A::Function(f) if f.name.to_string() == LAMBDA_VAR => match &f.args {
                            ast::FunctionArguments::List(l) => {
                                l.args.first().map(|a| a.to_string()).unwrap_or_default()
                            }
                            _ => String::new(),
                        },
                        A::Identifier(id) => id.value.clone(),
                        _ => format!("col{}", i + 1),
                    };
                    format!("{field}, {}", ast_name(x))
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        A::Function(f) if f.name.to_string() == LAMBDA_VAR => "namedlambdavariable()".into(),
        A::BinaryOp { left, op, right } => match op {
            ast::BinaryOperator::NotEq => {
                format!("(NOT ({} = {}))", ast_name(left), ast_name(right))
            }
            ast::BinaryOperator::StringConcat => {
                format!("concat({}, {})", ast_name(left), ast_name(right))
            }
            op => format!("({} {} {})", ast_name(left), op, ast_name(right)),
        },
        A::UnaryOp {
            op: ast::UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            A::Value(_) => format!("-{}", ast_name(expr)),
            other => format!("(- {})", ast_name(other)),
        },
        A::UnaryOp {
            op: ast::UnaryOperator::Not,
            expr,
        } => format!("(NOT {})", ast_name(expr)),
        // A TIMESTAMP literal shows at most microseconds (TIMESTAMP_NTZ all its digits,
        // as Spark 4.3 prints them).
        A::TypedString(t)
            if matches!(
                t.data_type,
                ast::DataType::Timestamp(_, _) | ast::DataType::TimestampNtz(_)
            ) =>
        {
            let v = match &t.value.value {
                ast::Value::SingleQuotedString(v) => v.clone(),
                other => other.to_string(),
            };
            let ntz = matches!(t.data_type, ast::DataType::TimestampNtz(_));
            let v = match v.split_once('.') {
                Some((a, f)) if !ntz && f.len() > 6 && f.chars().all(|c| c.is_ascii_digit()) => {
                    format!("{a}.{}", &f[..6])
                }
                _ => v,
            };
            let ty = if matches!(t.data_type, ast::DataType::TimestampNtz(_)) {
                "TIMESTAMP_NTZ"
            } else {
                "TIMESTAMP"
            };
            format!("{ty} '{v}'")
        }
        A::IsNull(x) => format!("({} IS NULL)", ast_name(x)),
        A::IsNotNull(x) => format!("({} IS NOT NULL)", ast_name(x)),
        A::Cast {
            expr, data_type, ..
        } => {
            let t = crate::types::parse_data_type(&data_type.to_string(), "UTC")
                .map(|t| simple_string(&t).to_uppercase())
                .unwrap_or_else(|_| data_type.to_string().to_uppercase());
            format!("CAST({} AS {})", ast_name(expr), t)
        }
        A::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let call = format!(
                "between({}, {}, {})",
                ast_name(expr),
                ast_name(low),
                ast_name(high)
            );
            if *negated {
                format!("(NOT {call})")
            } else {
                call
            }
        }
        // Spark names these SQL forms by the function they are.
        A::Substring {
            expr,
            substring_from,
            substring_for,
            special,
            shorthand,
        } => format!(
            "{}({}, {}, {})",
            if *special && *shorthand {
                "substr"
            } else {
                "substring"
            },
            ast_name(expr),
            substring_from
                .as_deref()
                .map(ast_name)
                .unwrap_or_else(|| "1".into()),
            substring_for
                .as_deref()
                .map(ast_name)
                .unwrap_or_else(|| "2147483647".into())
        ),
        A::Overlay {
            expr,
            overlay_what,
            overlay_from,
            overlay_for,
        } => format!(
            "overlay({}, {}, {}, {})",
            ast_name(expr),
            ast_name(overlay_what),
            ast_name(overlay_from),
            overlay_for
                .as_deref()
                .map(ast_name)
                .unwrap_or_else(|| "-1".into())
        ),
        A::Position { expr, r#in } => {
            format!("locate({}, {}, 1)", ast_name(expr), ast_name(r#in))
        }
        A::Ceil {
            expr,
            field: ast::CeilFloorKind::Scale(s),
        } => format!("ceil({}, {})", ast_name(expr), s.value),
        A::Floor {
            expr,
            field: ast::CeilFloorKind::Scale(s),
        } => format!("floor({}, {})", ast_name(expr), s.value),
        A::Trim {
            expr,
            trim_where,
            trim_what,
            trim_characters,
        } => match (trim_where, trim_what, trim_characters) {
            (None, None, None) => format!("trim({})", ast_name(expr)),
            (w, Some(what), _) => format!(
                "TRIM({} {} FROM {})",
                w.as_ref()
                    .map(|w| w.to_string())
                    .unwrap_or_else(|| "BOTH".into()),
                ast_name(what),
                ast_name(expr)
            ),
            (_, None, Some(chars)) => format!(
                "TRIM(BOTH {} FROM {})",
                chars.iter().map(ast_name).collect::<Vec<_>>().join(", "),
                ast_name(expr)
            ),
            (Some(w), None, None) => {
                let f = match w {
                    ast::TrimWhereField::Leading => "ltrim",
                    ast::TrimWhereField::Trailing => "rtrim",
                    ast::TrimWhereField::Both => "trim",
                };
                format!("{f}({})", ast_name(expr))
            }
        },
        A::Struct { values, .. } => format!(
            "struct({})",
            values.iter().map(ast_name).collect::<Vec<_>>().join(", ")
        ),
        A::Interval(i) if i.last_field.is_none() && i.leading_field.is_some() => {
            let v = match i.value.as_ref() {
                A::Value(v) => match &v.value {
                    ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => {
                        s.clone()
                    }
                    ast::Value::Number(n, _) => n.clone(),
                    other => other.to_string(),
                },
                other => ast_name(other),
            };
            let unit = i
                .leading_field
                .as_ref()
                .map(|f| f.to_string().to_uppercase())
                .unwrap_or_default();
            let unit = unit.trim_end_matches('S');
            format!("INTERVAL '{v}' {unit}")
        }
        A::InList {
            expr,
            list,
            negated,
        } => format!(
            "({} {}IN ({}))",
            ast_name(expr),
            if *negated { "NOT " } else { "" },
            list.iter().map(ast_name).collect::<Vec<_>>().join(", ")
        ),
        A::Like {
            negated,
            expr,
            pattern,
            ..
        } => {
            format!(
                "{}{} LIKE {}",
                if *negated { "NOT " } else { "" },
                ast_name(expr),
                ast_name(pattern)
            )
        }
        A::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            let mut s = String::from("CASE");
            if let Some(o) = operand {
                s.push_str(&format!(" {}", ast_name(o)));
            }
            for w in conditions {
                s.push_str(&format!(
                    " WHEN {} THEN {}",
                    ast_name(&w.condition),
                    ast_name(&w.result)
                ));
            }
            if let Some(x) = else_result {
                s.push_str(&format!(" ELSE {}", ast_name(x)));
            }
            s.push_str(" END");
            s
        }
        A::Function(f)
            if f.over.is_none() && f.name.to_string().eq_ignore_ascii_case("explode") =>
        {
            "col".into()
        }
        // An interval literal (the dialect's canonical form): `INTERVAL '01' HOUR`.
        A::Function(f) if f.name.to_string() == crate::functions::intervals::LITERAL => {
            match &f.args {
                ast::FunctionArguments::List(l) if l.args.len() == 2 => {
                    let text = |a: &ast::FunctionArg| match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => ast_name(x),
                        _ => String::new(),
                    };
                    format!("INTERVAL '{}' {}", text(&l.args[0]), text(&l.args[1]))
                }
                _ => "INTERVAL".into(),
            }
        }
        A::Function(f) if matches!(f.over, Some(ast::WindowType::WindowSpec(_))) => window_name(f),
        A::Function(f) if f.over.is_none() => {
            let name = f.name.to_string().to_lowercase();
            let name = name.rsplit('.').next().unwrap_or(&name).to_string();
            match &f.args {
                ast::FunctionArguments::List(l) => {
                    let distinct = matches!(
                        l.duplicate_treatment,
                        Some(ast::DuplicateTreatment::Distinct)
                    );
                    let args: Vec<String> = l
                        .args
                        .iter()
                        .map(|a| match a {
                            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => ast_name(x),
                            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) => "1".into(),
                            other => other.to_string(),
                        })
                        .collect();
                    let mut args = if args.is_empty() && name == "count" {
                        vec!["1".to_string()]
                    } else {
                        args
                    };
                    if let Some(d) = shown_defaults(&name, args.len()) {
                        args.push(d.to_string());
                    }
                    // Spark's try_make_timestamp with a time zone shows only the fields.
                    if name == "try_make_timestamp" && args.len() == 7 {
                        args.truncate(6);
                    }
                    // Spark prints some calls as operators, some by their canonical
                    // name, math functions in upper case.
                    if let ("to_char" | "to_varchar", [x, fmt]) = (name.as_str(), args.as_slice()) {
                        if let Some(shown) = to_char_name(&name, f, x, fmt) {
                            return shown;
                        }
                    }
                    if let Some(shown) = call_form(&name, &args) {
                        return shown;
                    }
                    let name = match name.as_str() {
                        "array_agg" => "collect_list".to_string(),
                        "dateadd" => "date_add".to_string(),
                        "to_varchar" => "to_char".to_string(),
                        // `pow` keeps its name; `power` is upper case.
                        "pow" => name,
                        n if UPPER_NAMES.contains(&n) => n.to_ascii_uppercase(),
                        _ => name,
                    };
                    let mut shown = format!(
                        "{name}({}{})",
                        if distinct { "DISTINCT " } else { "" },
                        args.join(", ")
                    );
                    // `percentile_cont(0.25) WITHIN GROUP (ORDER BY col)`
                    if !f.within_group.is_empty() {
                        let keys: Vec<String> = f
                            .within_group
                            .iter()
                            .map(|o| {
                                format!(
                                    "{}{}",
                                    ast_name(&o.expr),
                                    if o.options.asc == Some(false) {
                                        " DESC"
                                    } else {
                                        ""
                                    }
                                )
                            })
                            .collect();
                        shown.push_str(&format!(" WITHIN GROUP (ORDER BY {})", keys.join(", ")));
                    }
                    shown
                }
                ast::FunctionArguments::None => format!("{name}()"),
                other => format!("{name}{other}"),
            }
        }
        other => other.to_string(),
    }
}

/// Spark's column name for a call of function `name` (lower case) whose arguments
/// are shown as `args` (defaults included), where Spark prints it other than as
/// `name(args)`: as an operator (`(+ x)`, `(x div y)`, `a LIKE b`), a SQL form
/// (`TRIM(LEADING t FROM s)`, `LOG(E(), x)`), without some arguments or under its
/// canonical name. `None` otherwise. Shared by both front doors.
pub fn call_form(name: &str, args: &[String]) -> Option<String> {
    Some(match (name, args) {
        ("isnotnull", [x]) => format!("({x} IS NOT NULL)"),
        ("isnull", [x]) => format!("({x} IS NULL)"),
        ("positive", [x]) => format!("(+ {x})"),
        ("bitwise_not", [x]) => format!("~{x}"),
        ("div", [x, y]) => format!("({x} div {y})"),
        ("variant_get" | "try_variant_get", [v, p, _]) => format!("{name}({v}, {p})"),
        ("shiftrightunsigned", [x, y]) => format!("({x} >>> {y})"),
        ("if", [c, a, b]) => format!("(IF({c}, {a}, {b}))"),
        // `ignoreNulls` is not part of the name.
        ("first" | "last" | "first_value" | "last_value" | "any_value", [x, _]) => {
            format!("{name}({x})")
        }
        ("like", [a, b]) => format!("{a} LIKE {b}"),
        ("ltrim", [t, x]) => format!("TRIM(LEADING {t} FROM {x})"),
        ("rtrim", [t, x]) => format!("TRIM(TRAILING {t} FROM {x})"),
        ("trim", [t, x]) => format!("TRIM(BOTH {t} FROM {x})"),
        ("log", [x]) => format!("LOG(E(), {x})"),
        ("log", [b, x]) => format!("LOG({b}, {x})"),
        ("ceil" | "ceiling" | "floor", [x, d]) => format!("{name}({x}, {d})"),
        ("mode", [x, d]) if d.eq_ignore_ascii_case("true") => {
            format!("mode() WITHIN GROUP (ORDER BY {x} DESC)")
        }
        ("mode", [x, _]) => format!("mode({x})"),
        ("current_database", []) => "current_schema()".to_string(),
        ("datepart" | "extract", [f, x]) => format!("{name}({f} FROM {x})"),
        ("from_json" | "to_json", [x, ..]) => format!("{name}({x})"),
        // Function-style casts (`date('2008-02-20')`) show their argument.
        (
            "date" | "timestamp" | "string" | "int" | "bigint" | "double" | "float" | "boolean"
            | "smallint" | "tinyint" | "decimal" | "binary",
            [x],
        ) => x.clone(),
        _ => return None,
    })
}

/// Functions whose Spark column names are upper case (`ACOS(x)`, `CEIL(x)`: Spark's
/// math expressions print their names so).
pub const UPPER_NAMES: &[&str] = &[
    "spark_partition_id",
    "acos",
    "asin",
    "atan",
    "acosh",
    "asinh",
    "atanh",
    "atan2",
    "cbrt",
    "ceil",
    "cos",
    "cosh",
    "cot",
    "csc",
    "sec",
    "degrees",
    "radians",
    "exp",
    "expm1",
    "floor",
    "log10",
    "log1p",
    "log2",
    "signum",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
    "hypot",
    "pow",
    "power",
    "pi",
    "e",
    "rlike",
    "regexp",
    "regexp_like",
];

/// Spark's name of a windowed call: the function (ranking functions as `RANK()`,
/// `lead`/`lag` with their offset and default) and the window with Spark's default
/// ordering (`ASC NULLS FIRST`, `DESC NULLS LAST`) and frame (`ROWS BETWEEN UNBOUNDED
/// PRECEDING AND CURRENT ROW` for ranking functions, `n FOLLOWING` for `lead`/`lag`,
/// `RANGE ... CURRENT ROW` for aggregates over an ordered window, the whole partition
/// otherwise).
fn window_name(f: &ast::Function) -> String {
    let Some(ast::WindowType::WindowSpec(w)) = &f.over else {
        return ast::Expr::Function(f.clone()).to_string();
    };
    let name = f.name.to_string().to_ascii_lowercase();
    let args: Vec<String> = match &f.args {
        ast::FunctionArguments::List(l) => l
            .args
            .iter()
            .map(|a| match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => ast_name(x),
                other => other.to_string(),
            })
            .collect(),
        _ => vec![],
    };
    let mut plain = f.clone();
    plain.over = None;
    let (call, ranking) = match name.as_str() {
        "rank" | "dense_rank" | "percent_rank" => {
            (format!("{}()", name.to_ascii_uppercase()), true)
        }
        "row_number" | "cume_dist" => (format!("{name}()"), true),
        "ntile" => (ast_name(&ast::Expr::Function(plain)), true),
        "lead" | "lag" => {
            let x = args.first().cloned().unwrap_or_default();
            let off = args.get(1).cloned().unwrap_or_else(|| "1".into());
            let off = if name == "lag" {
                match off.strip_prefix('-') {
                    Some(p) => p.to_string(),
                    None => format!("-{off}"),
                }
            } else {
                off
            };
            let default = args.get(2).cloned().unwrap_or_else(|| "NULL".into());
            (format!("{name}({x}, {off}, {default})"), false)
        }
        // `nth_value(x, n, ignoreNulls)`: the flag shows as `ignore nulls`.
        "nth_value" if args.len() == 3 => {
            let ignore = if args[2].eq_ignore_ascii_case("true") {
                " ignore nulls"
            } else {
                ""
            };
            (
                format!("nth_value({}, {}){ignore}", args[0], args[1]),
                false,
            )
        }
        _ => (ast_name(&ast::Expr::Function(plain)), false),
    };
    let mut spec: Vec<String> = Vec::new();
    if !w.partition_by.is_empty() {
        spec.push(format!(
            "PARTITION BY {}",
            w.partition_by
                .iter()
                .map(ast_name)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !w.order_by.is_empty() {
        let keys: Vec<String> = w
            .order_by
            .iter()
            .map(|o| {
                let asc = o.options.asc != Some(false);
                let nulls_first = o.options.nulls_first.unwrap_or(asc);
                format!(
                    "{} {} NULLS {}",
                    ast_name(&o.expr),
                    if asc { "ASC" } else { "DESC" },
                    if nulls_first { "FIRST" } else { "LAST" }
                )
            })
            .collect();
        spec.push(format!("ORDER BY {}", keys.join(", ")));
    }
    let bound = |b: &ast::WindowFrameBound| match b {
        ast::WindowFrameBound::CurrentRow => "CURRENT ROW".to_string(),
        ast::WindowFrameBound::Preceding(None) => "UNBOUNDED PRECEDING".to_string(),
        ast::WindowFrameBound::Following(None) => "UNBOUNDED FOLLOWING".to_string(),
        ast::WindowFrameBound::Preceding(Some(e)) => format!("-{} FOLLOWING", ast_name(e)),
        ast::WindowFrameBound::Following(Some(e)) => format!("{} FOLLOWING", ast_name(e)),
    };
    let frame = match &w.window_frame {
        Some(fr) => format!(
            "{} BETWEEN {} AND {}",
            fr.units.to_string().to_uppercase(),
            bound(&fr.start_bound),
            fr.end_bound
                .as_ref()
                .map(bound)
                .unwrap_or_else(|| "CURRENT ROW".into())
        ),
        None if ranking => "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW".into(),
        None if name == "lead" || name == "lag" => {
            let off = call
                .trim_end_matches(')')
                .split(", ")
                .nth(1)
                .unwrap_or("1")
                .to_string();
            format!("ROWS BETWEEN {off} FOLLOWING AND {off} FOLLOWING")
        }
        None if !w.order_by.is_empty() => {
            "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW".into()
        }
        None => "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING".into(),
    };
    spec.push(frame);
    format!("{call} OVER ({})", spec.join(" "))
}

/// Spark's name of `to_char`/`to_varchar(x, fmt)` when Spark rewrote the call: a date
/// or timestamp (`date_format(x, fmt)`) or binary value (`base64(x)`, `hex(x)`,
/// `decode(x, utf-8)`; `to_varchar` hides base64/hex), told from the argument's form.
fn to_char_name(name: &str, f: &ast::Function, x: &str, fmt: &str) -> Option<String> {
    let ast::FunctionArguments::List(l) = &f.args else {
        return None;
    };
    let first = match l.args.first()? {
        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => e,
        _ => return None,
    };
    let call_name = |e: &ast::Expr| match e {
        ast::Expr::Function(g) => g.name.to_string().to_ascii_lowercase(),
        _ => String::new(),
    };
    let datetime = matches!(first, ast::Expr::TypedString(t) if matches!(t.data_type, ast::DataType::Date | ast::DataType::Timestamp(_, _) | ast::DataType::TimestampNtz(_)))
        || matches!(
            call_name(first).as_str(),
            "date"
                | "timestamp"
                | "to_date"
                | "to_timestamp"
                | "current_date"
                | "current_timestamp"
                | "make_date"
                | "make_timestamp"
        );
    if datetime {
        return Some(format!("date_format({x}, {fmt})"));
    }
    let binary = matches!(first, ast::Expr::Value(v) if matches!(v.value, ast::Value::HexStringLiteral(_)))
        || matches!(
            call_name(first).as_str(),
            "unhex" | "encode" | "to_binary" | "binary" | "aes_encrypt"
        );
    if !binary {
        return None;
    }
    let lower = fmt.to_ascii_lowercase();
    Some(match (name, lower.as_str()) {
        ("to_varchar", "base64" | "hex") => format!("to_varchar({x})"),
        ("to_varchar", _) => format!("to_varchar({x}, {fmt})"),
        (_, "base64") => format!("base64({x})"),
        (_, "hex") => format!("hex({x})"),
        _ => format!("decode({x}, {fmt})"),
    })
}

/// Marks a lambda's variable while naming its body (see [`lambda_name`]).
const LAMBDA_VAR: &str = "__ember_lambda_var";

/// Spark's name of a lambda, `lambdafunction(<body>, namedlambdavariable(), ...)`: the
/// body's name with each variable shown as `namedlambdavariable()`.
fn lambda_name(l: &ast::LambdaFunction) -> String {
    let params: Vec<String> = l.params.iter().map(|p| p.name.value.clone()).collect();
    let mut body = (*l.body).clone();
    let _ = ast::visit_expressions_mut(&mut body, |x| {
        if let ast::Expr::Identifier(id) = x {
            if params.iter().any(|p| p.eq_ignore_ascii_case(&id.value)) {
                let var = ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(
                    ast::Expr::Identifier(id.clone()),
                ));
                *x = call_of(LAMBDA_VAR, vec![var]);
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    let mut out = format!("lambdafunction({}", ast_name(&body));
    for _ in &params {
        out.push_str(", namedlambdavariable()");
    }
    out.push(')');
    out
}

/// The defaults of omitted arguments that Spark shows in a function's column name
/// (`hll_sketch_agg(x)` is column `hll_sketch_agg(x, 12)`), for a call of `name`
/// (lower case) with `n` arguments; several are joined with `, `.
pub fn shown_defaults(name: &str, n: usize) -> Option<&'static str> {
    let tuple_set_op = |p: &str| name.starts_with(p) && !name.contains("_agg_");
    // The interval constructors show every omitted field (`make_dt_interval(2)` is
    // `make_dt_interval(2, 0, 0, 0.000000)`).
    const MAKE_INTERVAL: &str = "0, 0, 0, 0, 0, 0, 0.000000";
    const MAKE_DT_INTERVAL: &str = "0, 0, 0, 0.000000";
    const MAKE_YM_INTERVAL: &str = "0, 0";
    Some(match (name, n) {
        ("make_interval" | "try_make_interval", 0..=6) => &MAKE_INTERVAL[3 * n..],
        ("make_dt_interval", 0..=3) => &MAKE_DT_INTERVAL[3 * n..],
        ("make_ym_interval", 0..=1) => &MAKE_YM_INTERVAL[3 * n..],
        ("time_bucket", 2) => "TIMESTAMP '1970-01-01 00:00:00'",
        ("hmac", 2) => "SHA-256",
        // sentences(s[, language[, country]]): the omitted ones are empty strings.
        ("sentences", 1) => ", ",
        ("sentences", 2) => "",
        ("hll_sketch_agg" | "theta_sketch_agg" | "theta_union_agg", 1) => "12",
        ("theta_union", 2) => "12",
        ("hll_union_agg", 1) | ("hll_union", 2) => "false",
        ("percentile", 2) => "1",
        ("listagg" | "string_agg", 1) => "NULL",
        ("instr", 3) => "1",
        ("replace", 2) => "",
        ("regexp_extract" | "regexp_extract_all", 2) => "1",
        ("to_unix_timestamp" | "unix_timestamp", 1) => "yyyy-MM-dd HH:mm:ss",
        ("round" | "bround", 1) => "0",
        ("substr" | "substring", 2) => "2147483647",
        ("overlay", 3) => "-1",
        ("regexp_replace", 3) => "1",
        ("regexp_instr", 2) => "0",
        ("locate" | "position", 2) => "1",
        ("split", 2) => "-1",
        ("str_to_map", 1) => ",, :",
        ("str_to_map", 2) => ":",
        ("from_unixtime", 1) => "yyyy-MM-dd HH:mm:ss",
        ("lpad" | "rpad", 2) => " ",
        ("mask", 1) => "X, x, n, NULL",
        ("mask", 2) => "x, n, NULL",
        ("mask", 3) => "n, NULL",
        ("mask", 4) => "NULL",
        ("sort_array", 1) => "true",
        ("variant_set" | "try_variant_set", 3) | ("variant_strip_nulls", 1) => "true",
        // The identity finish function of `aggregate`/`reduce` and `array_sort`'s
        // default comparator (nulls last).
        ("aggregate" | "reduce", 3) => "lambdafunction(namedlambdavariable(), namedlambdavariable())",
        ("array_sort", 1) => "lambdafunction((IF(((namedlambdavariable() IS NULL) AND (namedlambdavariable() IS NULL)), 0, (IF((namedlambdavariable() IS NULL), 1, (IF((namedlambdavariable() IS NULL), -1, (IF((namedlambdavariable() < namedlambdavariable()), -1, (IF((namedlambdavariable() > namedlambdavariable()), 1, 0)))))))))), namedlambdavariable(), namedlambdavariable())",
        (n_, 2) if n_.starts_with("tuple_sketch_agg_") => "12, sum",
        (n_, 3) if n_.starts_with("tuple_sketch_agg_") => "sum",
        (n_, 1) if n_.starts_with("tuple_union_agg_") => "12, sum",
        (n_, 2) if n_.starts_with("tuple_union_agg_") => "sum",
        (n_, 1)
            if n_.starts_with("tuple_intersection_agg_")
                || n_.starts_with("tuple_sketch_summary_") =>
        {
            "sum"
        }
        (_, 2) if tuple_set_op("tuple_union_") => "12, sum",
        (_, 3) if tuple_set_op("tuple_union_") => "sum",
        (_, 2) if tuple_set_op("tuple_intersection_") => "sum",
        _ => return None,
    })
}

/// A number literal as Spark names it: its value, so leading zeros go (`01.50` is
/// `1.50`, `.5` is `0.5`); other forms (exponents) as written.
fn number_name(n: &str) -> String {
    let plain = n.chars().all(|c| c.is_ascii_digit() || c == '.') && n.matches('.').count() <= 1;
    if !plain || n.is_empty() {
        return n.to_string();
    }
    let (int, frac) = match n.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (n, None),
    };
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    match frac {
        Some(f) if !f.is_empty() => format!("{int}.{f}"),
        _ => int.to_string(),
    }
}

/// A Spark numeric literal with a type suffix (`10L`, `2S`, `1Y`, `1.5D`, `2.5F`,
/// `1.50BD`), which the SQL tokenizer reads as one word: the number and the SQL type
/// it stands for. `None` for anything else.
pub fn suffixed_number(word: &str) -> Option<(&str, &'static str)> {
    let upper = word.to_ascii_uppercase();
    let (cut, ty) = if upper.ends_with("BD") {
        (2, "DECIMAL")
    } else {
        match upper.chars().last()? {
            'L' => (1, "BIGINT"),
            'S' => (1, "SMALLINT"),
            'Y' => (1, "TINYINT"),
            'D' => (1, "DOUBLE"),
            'F' => (1, "FLOAT"),
            _ => return None,
        }
    };
    let num = &word[..word.len() - cut];
    let starts_ok = num
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '.');
    if !starts_ok || num.parse::<f64>().is_err() {
        return None;
    }
    let integral = num.chars().all(|c| c.is_ascii_digit());
    match ty {
        "BIGINT" | "SMALLINT" | "TINYINT" if !integral => return None,
        "DECIMAL" if num.contains(['e', 'E']) => return None,
        _ => {}
    }
    Some((num, ty))
}

/// A plain call `name(args)` in the SQL syntax tree.
fn call_of(name: &str, args: Vec<ast::FunctionArg>) -> ast::Expr {
    ast::Expr::Function(ast::Function {
        name: ast::ObjectName::from(vec![ast::Ident::new(name)]),
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
    })
}

/// Spark function names that DataFusion spells differently in SQL (planner-level
/// functions that cannot be registered as aliases): `explode` is `unnest`.
pub fn rename_functions(stmt: &mut ast::Statement) {
    use datafusion::sql::sqlparser::ast::VisitMut;
    use datafusion::sql::sqlparser::ast::{visit_expressions_mut, visit_relations_mut, Expr as A};
    let _ = stmt.visit(&mut EmptyMapsInValues);
    let _ = stmt.visit(&mut IntervalsInValues);
    crate::sql::grouping::rewrite_grouping_id(stmt);
    // Table-valued functions resolve case-insensitively (`FROM RANGE(5)`).
    let _ = visit_relations_mut(stmt, |name| {
        if let [ast::ObjectNamePart::Identifier(i)] = name.0.as_mut_slice() {
            if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("range") {
                i.value = i.value.to_ascii_lowercase();
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    let _ = visit_expressions_mut(stmt, |e| {
        // Interval literals in `RANGE` frame bounds: the planner's interval form.
        if let A::Function(f) = e {
            if let Some(ast::WindowType::WindowSpec(spec)) = &mut f.over {
                if let Some(frame) = &mut spec.window_frame {
                    let bounds =
                        std::iter::once(&mut frame.start_bound).chain(frame.end_bound.as_mut());
                    for b in bounds {
                        if let ast::WindowFrameBound::Preceding(Some(x))
                        | ast::WindowFrameBound::Following(Some(x)) = b
                        {
                            if let Some(iv) = frame_interval(x) {
                                **x = iv;
                            }
                        }
                    }
                }
            }
        }
        if let A::Function(f) = e {
            let n = f.name.to_string().to_ascii_lowercase();
            if let ast::FunctionArguments::List(l) = &mut f.args {
                // Spark's other names for aggregates (renamed here, after naming: a
                // re-registered aggregate would lose its sliding-window support).
                let canonical = match n.as_str() {
                    "any_value" => Some("first_value"),
                    "try_avg" => Some("avg"),
                    _ => None,
                };
                if let Some(c) = canonical {
                    f.name = ast::ObjectName::from(vec![ast::Ident::new(c)]);
                }
                match n.as_str() {
                    // `first(x, true)`: the ignoreNulls flag as IGNORE NULLS.
                    "first" | "last" | "first_value" | "last_value" | "any_value"
                        if l.args.len() == 2 =>
                    {
                        let flag = match &l.args[1] {
                            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(A::Value(v))) => {
                                match v.value {
                                    ast::Value::Boolean(b) => Some(b),
                                    _ => None,
                                }
                            }
                            _ => None,
                        };
                        if let Some(b) = flag {
                            l.args.truncate(1);
                            if b {
                                f.null_treatment = Some(ast::NullTreatment::IgnoreNulls);
                            }
                        }
                    }
                    // `nth_value(x, n, true)`: the ignoreNulls flag as IGNORE NULLS.
                    "nth_value" if l.args.len() == 3 => {
                        let flag = match &l.args[2] {
                            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(A::Value(v))) => {
                                match v.value {
                                    ast::Value::Boolean(b) => Some(b),
                                    _ => None,
                                }
                            }
                            _ => None,
                        };
                        if let Some(b) = flag {
                            l.args.truncate(2);
                            if b {
                                f.null_treatment = Some(ast::NullTreatment::IgnoreNulls);
                            }
                        }
                    }
                    // Spark's ranking functions accept (and ignore) arguments.
                    "rank" | "dense_rank" | "percent_rank" | "cume_dist" if f.over.is_some() => {
                        l.args.clear();
                    }
                    _ => {}
                }
            }
        }
        // `OVERLAY(a PLACING b FROM p [FOR n])` is the registry's `overlay` (binary too).
        if let A::Overlay {
            expr,
            overlay_what,
            overlay_from,
            overlay_for,
        } = e
        {
            let arg = |x: &A| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x.clone()));
            let mut args = vec![arg(expr), arg(overlay_what), arg(overlay_from)];
            if let Some(n) = overlay_for {
                args.push(arg(n));
            }
            *e = call_of("overlay", args);
        }
        // `TRIM(LEADING t FROM s)` is Spark's `ltrim(t, s)` (trim string first), and so
        // for TRAILING (`rtrim`); BOTH is `btrim(s, t)`.
        if let A::Trim {
            trim_where,
            trim_what: Some(what),
            expr,
            trim_characters: None,
        } = e
        {
            let arg = |x: A| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x));
            let (what, s) = (what.as_ref().clone(), expr.as_ref().clone());
            *e = match trim_where {
                Some(ast::TrimWhereField::Leading) => call_of("ltrim", vec![arg(what), arg(s)]),
                Some(ast::TrimWhereField::Trailing) => call_of("rtrim", vec![arg(what), arg(s)]),
                _ => call_of("btrim", vec![arg(s), arg(what)]),
            };
        }
        // `ceil(x, d)` / `floor(x, d)`: Spark's functions with a scale (DataFusion's
        // SQL planner refuses the scale form).
        let ceil = matches!(e, A::Ceil { .. });
        if let A::Ceil {
            expr,
            field: ast::CeilFloorKind::Scale(v),
        }
        | A::Floor {
            expr,
            field: ast::CeilFloorKind::Scale(v),
        } = e
        {
            let name = if ceil { "ceil" } else { "floor" };
            let arg = |x: A| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x));
            let args = vec![arg(expr.as_ref().clone()), arg(A::Value(v.clone()))];
            *e = call_of(name, args);
        }
        // `TIMESTAMP_NTZ '...'`: the wall-clock time, no zone (`to_timestamp_ntz`).
        if let A::TypedString(t) = e {
            if matches!(t.data_type, ast::DataType::TimestampNtz(_)) {
                if let ast::Value::SingleQuotedString(v) = &t.value.value {
                    let arg = ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(A::Value(
                        ast::Value::SingleQuotedString(v.clone()).into(),
                    )));
                    *e = call_of("to_timestamp_ntz", vec![arg]);
                    return std::ops::ControlFlow::<()>::Continue(());
                }
            }
        }
        // `10L`, `1.5D`...: Spark's typed numeric literals, as casts of the number
        // (the column keeps the number as its name: `alias_select_items` ran first).
        if let A::Identifier(i) = e {
            if i.quote_style.is_none() {
                if let Some((num, ty)) = suffixed_number(&i.value) {
                    let data_type = match ty {
                        "BIGINT" => ast::DataType::BigInt(None),
                        "SMALLINT" => ast::DataType::SmallInt(None),
                        "TINYINT" => ast::DataType::TinyInt(None),
                        "DOUBLE" => ast::DataType::Double(ast::ExactNumberInfo::None),
                        "FLOAT" => ast::DataType::Float(ast::ExactNumberInfo::None),
                        _ => {
                            let scale = num.split_once('.').map_or(0, |(_, f)| f.len() as i64);
                            let digits = num.chars().filter(|c| c.is_ascii_digit()).count() as u64;
                            ast::DataType::Decimal(ast::ExactNumberInfo::PrecisionAndScale(
                                digits.max(scale as u64).max(1),
                                scale,
                            ))
                        }
                    };
                    *e = A::Cast {
                        kind: ast::CastKind::Cast,
                        expr: Box::new(A::Value(ast::Value::Number(num.to_string(), false).into())),
                        data_type,
                        array: false,
                        format: None,
                    };
                    return std::ops::ControlFlow::<()>::Continue(());
                }
            }
        }
        // Spark's `BINARY` type is DataFusion's `BYTEA`.
        if let A::Cast { data_type, .. } = e {
            if matches!(
                data_type,
                ast::DataType::Binary(_) | ast::DataType::Varbinary(_)
            ) {
                *data_type = ast::DataType::Bytea;
            }
        }
        // `EXTRACT(field FROM x)` is `date_part('field', x)` (ember's, with Spark's
        // fractional SECOND; DataFusion's planner would call its own directly).
        if let A::Extract { field, expr, .. } = e {
            let args = vec![
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(A::Value(
                    ast::Value::SingleQuotedString(field.to_string()).into(),
                ))),
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(expr.as_ref().clone())),
            ];
            *e = call_of("date_part", args);
            return std::ops::ControlFlow::<()>::Continue(());
        }
        // `struct(a, 1 AS b)` (parsed as a struct literal): Spark names the fields
        // after the columns given, the `AS` names, else `col<n>` (1-based).
        if let A::Struct { values, fields } = e {
            if fields.is_empty() && !values.is_empty() {
                let mut args = Vec::new();
                for (i, v) in values.iter().enumerate() {
                    let (name, x) = match v {
                        A::Named { expr, name } => (name.value.clone(), expr.as_ref().clone()),
                        A::Identifier(id) => (id.value.clone(), v.clone()),
                        A::CompoundIdentifier(ids) => (
                            ids.last().map(|id| id.value.clone()).unwrap_or_default(),
                            v.clone(),
                        ),
                        other => (format!("col{}", i + 1), other.clone()),
                    };
                    args.push(ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(
                        A::Value(ast::Value::SingleQuotedString(name).into()),
                    )));
                    args.push(ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)));
                }
                *e = call_of("named_struct", args);
                return std::ops::ControlFlow::<()>::Continue(());
            }
        }
        if let A::Function(f) = e {
            let n = f.name.to_string().to_ascii_lowercase();
            if n == "explode" {
                f.name = ast::ObjectName::from(vec![ast::Ident::new("unnest")]);
            }
            // Spark's `map(k1, v1, ...)` (also with no arguments), not DataFusion's
            // `map([keys], [values])`.
            if n == "map" {
                f.name = ast::ObjectName::from(vec![ast::Ident::new("create_map")]);
            }
            // (`struct(...)` parsed as a function call.)
            // Spark's `struct(a, 1)` names its fields after the columns it is given and
            // `col<n>` (1-based) otherwise: DataFusion's `struct` says `c0`, `c1`.
            if n == "struct" {
                if let ast::FunctionArguments::List(l) = &mut f.args {
                    let mut pairs = Vec::new();
                    for (i, a) in l.args.iter().enumerate() {
                        let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) = a else {
                            pairs.clear();
                            break;
                        };
                        let name = match x {
                            A::Identifier(id) => id.value.clone(),
                            A::CompoundIdentifier(ids) => {
                                ids.last().map(|id| id.value.clone()).unwrap_or_default()
                            }
                            _ => format!("col{}", i + 1),
                        };
                        pairs.push(ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(
                            A::Value(ast::Value::SingleQuotedString(name).into()),
                        )));
                        pairs.push(a.clone());
                    }
                    if !pairs.is_empty() {
                        l.args = pairs;
                        f.name = ast::ObjectName::from(vec![ast::Ident::new("named_struct")]);
                    }
                }
            }
            // Spark's type-named cast functions: `float('NaN')` is `CAST('NaN' AS FLOAT)`.
            if CAST_FUNCTIONS.contains(&n.as_str()) {
                if let Some(cast) = cast_function(&n, f) {
                    *e = cast;
                }
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

/// In `VALUES`, an empty `map()` takes the type of a `map(k, v, ...)` in another row
/// of its column (Spark widens `map<void,void>`; DataFusion's VALUES typing cannot
/// unify map types): it becomes `ember_empty_map_like(<that map>)`.
struct EmptyMapsInValues;

fn map_call_args(e: &ast::Expr) -> Option<usize> {
    let ast::Expr::Function(f) = e else {
        return None;
    };
    if !f.name.to_string().eq_ignore_ascii_case("map") {
        return None;
    }
    match &f.args {
        ast::FunctionArguments::List(l) => Some(l.args.len()),
        ast::FunctionArguments::None => Some(0),
        ast::FunctionArguments::Subquery(_) => None,
    }
}

/// The qualifier of an interval literal (the dialect's `ember_interval('text', 'Q')`).
fn interval_literal_qualifier(e: &ast::Expr) -> Option<crate::interval::Qualifier> {
    let ast::Expr::Function(f) = e else {
        return None;
    };
    if f.name.to_string() != crate::functions::intervals::LITERAL {
        return None;
    }
    let ast::FunctionArguments::List(l) = &f.args else {
        return None;
    };
    match l.args.as_slice() {
        [_, ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(ast::Expr::Value(v)))] => {
            match &v.value {
                ast::Value::SingleQuotedString(q) => crate::interval::Qualifier::parse_sql(q),
                _ => None,
            }
        }
        _ => None,
    }
}

/// An interval literal (the dialect's `ember_interval('text', 'Q')`) as the
/// `INTERVAL 'n unit'` form DataFusion's planner reads in a window frame bound.
fn frame_interval(e: &ast::Expr) -> Option<ast::Expr> {
    let q = interval_literal_qualifier(e)?;
    let ast::Expr::Function(f) = e else {
        return None;
    };
    let ast::FunctionArguments::List(l) = &f.args else {
        return None;
    };
    let text = match l.args.first()? {
        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(ast::Expr::Value(v))) => {
            match &v.value {
                ast::Value::SingleQuotedString(t) => t.clone(),
                _ => return None,
            }
        }
        _ => return None,
    };
    let v = q.parse_value(&text).ok()?;
    let s = if q.year_month() {
        format!("{v} months")
    } else {
        format!("{v} microseconds")
    };
    Some(ast::Expr::Interval(ast::Interval {
        value: Box::new(ast::Expr::Value(ast::Value::SingleQuotedString(s).into())),
        leading_field: None,
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    }))
}

/// A `VALUES` column of interval literals takes the union of their ranges, as Spark
/// types it (`VALUES (INTERVAL '1' DAY), (INTERVAL '2' HOUR)` is `interval day to
/// hour`); its NULLs are NULLs of that type.
struct IntervalsInValues;

impl ast::VisitorMut for IntervalsInValues {
    type Break = ();
    fn pre_visit_query(&mut self, q: &mut ast::Query) -> std::ops::ControlFlow<()> {
        if let ast::SetExpr::Values(v) = q.body.as_mut() {
            let width = v.rows.first().map(|r| r.content.len()).unwrap_or(0);
            for c in 0..width {
                let union = v
                    .rows
                    .iter()
                    .filter_map(|r| r.content.get(c).and_then(interval_literal_qualifier))
                    .try_fold(None::<crate::interval::Qualifier>, |acc, q| match acc {
                        None => Some(Some(q)),
                        Some(a) => a.union(q).map(Some),
                    });
                let Some(Some(u)) = union else { continue };
                for r in v.rows.iter_mut() {
                    let Some(e) = r.content.get_mut(c) else {
                        continue;
                    };
                    let is_null = matches!(e, ast::Expr::Value(v) if v.value == ast::Value::Null);
                    let retype = is_null || interval_literal_qualifier(e).is_some_and(|q| q != u);
                    if retype {
                        let arg =
                            |x: ast::Expr| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x));
                        *e = call_of(
                            crate::functions::intervals::LITERAL,
                            vec![
                                arg(e.clone()),
                                arg(ast::Expr::Value(
                                    ast::Value::SingleQuotedString(u.sql()).into(),
                                )),
                            ],
                        );
                    }
                }
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

impl ast::VisitorMut for EmptyMapsInValues {
    type Break = ();
    fn pre_visit_query(&mut self, q: &mut ast::Query) -> std::ops::ControlFlow<()> {
        if let ast::SetExpr::Values(v) = q.body.as_mut() {
            let width = v.rows.first().map(|r| r.content.len()).unwrap_or(0);
            for c in 0..width {
                let template = v
                    .rows
                    .iter()
                    .filter_map(|r| r.content.get(c))
                    .find(|e| map_call_args(e).is_some_and(|n| n > 0))
                    .cloned();
                let Some(t) = template else { continue };
                for r in v.rows.iter_mut() {
                    if let Some(e) = r.content.get_mut(c) {
                        if map_call_args(e) == Some(0) {
                            *e = ast::Expr::Function(ast::Function {
                                name: ast::ObjectName::from(vec![ast::Ident::new(
                                    "ember_empty_map_like",
                                )]),
                                uses_odbc_syntax: false,
                                parameters: ast::FunctionArguments::None,
                                args: ast::FunctionArguments::List(ast::FunctionArgumentList {
                                    duplicate_treatment: None,
                                    args: vec![ast::FunctionArg::Unnamed(
                                        ast::FunctionArgExpr::Expr(t.clone()),
                                    )],
                                    clauses: vec![],
                                }),
                                filter: None,
                                null_treatment: None,
                                over: None,
                                within_group: vec![],
                            });
                        }
                    }
                }
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// Spark's functions named after a type, each a cast of its one argument.
const CAST_FUNCTIONS: &[&str] = &[
    "boolean",
    "tinyint",
    "smallint",
    "int",
    "bigint",
    "float",
    "double",
    "decimal",
    "string",
    "binary",
    "date",
    "timestamp",
];

fn cast_function(name: &str, f: &ast::Function) -> Option<ast::Expr> {
    let ast::FunctionArguments::List(list) = &f.args else {
        return None;
    };
    let [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(arg))] = list.args.as_slice() else {
        return None;
    };
    let dialect = crate::sql::dialect::SparkDialect;
    let data_type = datafusion::sql::sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(name)
        .ok()?
        .parse_data_type()
        .ok()?;
    Some(ast::Expr::Cast {
        kind: ast::CastKind::Cast,
        expr: Box::new(arg.clone()),
        data_type,
        array: false,
        format: None,
    })
}

/// Gives every unaliased, computed item of the leftmost SELECT of `stmt` Spark's
/// name as an explicit alias (`SELECT count(*)` → `SELECT count(*) AS `count(1)``).
/// Items whose Spark name repeats another output name keep DataFusion's name, since
/// DataFusion needs unique names.
/// The column a top-level cast (`CAST(x AS T)`, `x::T`, nested casts) converts,
/// whose name the cast takes.
fn cast_source_name(e: &ast::Expr) -> Option<String> {
    fn source(e: &ast::Expr) -> Option<String> {
        match e {
            ast::Expr::Identifier(i) => Some(i.value.clone()),
            ast::Expr::CompoundIdentifier(p) => p.last().map(|i| i.value.clone()),
            ast::Expr::Nested(x) => source(x),
            ast::Expr::Cast { expr, .. } => source(expr),
            _ => None,
        }
    }
    match e {
        ast::Expr::Cast { expr, .. } => source(expr),
        _ => None,
    }
}

pub fn alias_select_items(stmt: &mut ast::Statement) {
    let ast::Statement::Query(q) = stmt else {
        return;
    };
    let mut body = q.body.as_mut();
    loop {
        match body {
            ast::SetExpr::SetOperation { left, .. } => body = left.as_mut(),
            ast::SetExpr::Query(q) => body = q.body.as_mut(),
            ast::SetExpr::Select(s) => {
                let mut taken: Vec<String> = s
                    .projection
                    .iter()
                    .filter_map(|item| match item {
                        ast::SelectItem::ExprWithAlias { alias, .. } => {
                            Some(alias.value.to_lowercase())
                        }
                        ast::SelectItem::UnnamedExpr(ast::Expr::Identifier(i)) => {
                            Some(i.value.to_lowercase())
                        }
                        ast::SelectItem::UnnamedExpr(ast::Expr::CompoundIdentifier(p)) => {
                            p.last().map(|i| i.value.to_lowercase())
                        }
                        _ => None,
                    })
                    .collect();
                for item in s.projection.iter_mut() {
                    // `count(*) AS N` is column `N`: Spark keeps an alias as written.
                    if let ast::SelectItem::ExprWithAlias { alias, .. } = item {
                        if alias.quote_style.is_none() {
                            alias.quote_style = Some('`');
                        }
                        continue;
                    }
                    let ast::SelectItem::UnnamedExpr(e) = item else {
                        continue;
                    };
                    // An unquoted column spelled with capitals keeps the user's
                    // spelling as its name (`SELECT ORIGIN` is column `ORIGIN`),
                    // as Spark's case-insensitive resolution does.
                    if let ast::Expr::Identifier(i) = e {
                        if i.quote_style.is_none() && i.value.chars().any(|c| c.is_uppercase()) {
                            let alias = ast::Ident::with_quote('`', i.value.clone());
                            *item = ast::SelectItem::ExprWithAlias {
                                expr: e.clone(),
                                alias,
                            };
                        }
                        continue;
                    }
                    if matches!(e, ast::Expr::CompoundIdentifier(_)) {
                        continue;
                    }
                    // A cast of a column keeps the column's name (Spark's
                    // `ResolveAliases`: `CAST(id AS STRING)` is column `id`).
                    let name = cast_source_name(e).unwrap_or_else(|| ast_name(e));
                    if taken.contains(&name.to_lowercase()) {
                        continue;
                    }
                    taken.push(name.to_lowercase());
                    let alias = ast::Ident::with_quote('`', name);
                    *item = ast::SelectItem::ExprWithAlias {
                        expr: e.clone(),
                        alias,
                    };
                }
                return;
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    #[test]
    fn aliases_in_the_ast() {
        use crate::sql::dialect::SparkDialect;
        use datafusion::sql::sqlparser::parser::Parser;
        let mut st = Parser::parse_sql(&SparkDialect, "SELECT a, COUNT(*), a + 1 AS b, 'x' FROM t")
            .unwrap()
            .remove(0);
        alias_select_items(&mut st);
        assert_eq!(
            st.to_string(),
            "SELECT a, COUNT(*) AS `count(1)`, a + 1 AS `b`, 'x' AS `x` FROM t"
        );
    }

    #[test]
    fn select_item_names() {
        use crate::sql::dialect::SparkDialect;
        use datafusion::sql::sqlparser::parser::Parser;
        let sql = "SELECT carrier, COUNT(*), AVG(f.dep_delay), SUM(distance) / 2, -1, CAST(flight AS STRING), COUNT(DISTINCT dest), address.city, ROUND(AVG(x), 3), x IS NULL FROM t f";
        let st = Parser::parse_sql(&SparkDialect, sql).unwrap().remove(0);
        let ast::Statement::Query(q) = st else {
            panic!("query")
        };
        let ast::SetExpr::Select(s) = q.body.as_ref() else {
            panic!("select")
        };
        let names: Vec<String> = s
            .projection
            .iter()
            .map(|i| match i {
                ast::SelectItem::UnnamedExpr(e) => ast_name(e),
                other => other.to_string(),
            })
            .collect();
        assert_eq!(
            names,
            vec![
                "carrier",
                "count(1)",
                "avg(dep_delay)",
                "(sum(distance) / 2)",
                "-1",
                "CAST(flight AS STRING)",
                "count(DISTINCT dest)",
                "city",
                "round(avg(x), 3)",
                "(x IS NULL)"
            ]
        );
    }

    #[test]
    fn spark_texts() {
        assert_eq!(spark_sql(&(col("a") + lit(1))), "(a + 1)");
        assert_eq!(spark_sql(&col("t.b").is_null()), "(b IS NULL)");
        assert_eq!(
            spark_sql(&datafusion::functions_aggregate::expr_fn::count(lit(1))),
            "count(1)"
        );
        assert_eq!(
            spark_sql(&datafusion::functions_aggregate::expr_fn::avg(col(
                "flights.dep_delay"
            ))),
            "avg(dep_delay)"
        );
    }
}
