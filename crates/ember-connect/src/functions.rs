//! Spark functions that Spark Connect sends by name and ember expresses with other
//! DataFusion expressions, each named as Spark names its column:
//! `ln`/`log`/`log10`/`log2` (NULL for a non-positive argument, `LOG(base, x)`),
//! `positive` (`(+ x)`), `every`/`some`/`any`/`bool_and`/`bool_or`,
//! `first_value`/`last_value`/`first`/`last` with `ignoreNulls`, `to_binary`/`try_to_binary` (`hex`, `utf-8`, `base64`),
//! `to_unix_timestamp`, `try_element_at`, `regexp_substr`, `sequence`, `try_avg`,
//! `window_time`,
//! `try_sum`.

use arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::{Case, Cast};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprFunctionExt, ExprSchemable, Operator};
use ember_core::EmberError;

use crate::error::Result;
use crate::expr::Scope;

pub(crate) fn lit_f(v: f64) -> Expr {
    Expr::Literal(ScalarValue::Float64(Some(v)), None)
}

pub(crate) fn lit_i64(v: i64) -> Expr {
    Expr::Literal(ScalarValue::Int64(Some(v)), None)
}

pub(crate) fn lit_s(v: &str) -> Expr {
    Expr::Literal(ScalarValue::Utf8(Some(v.to_string())), None)
}

pub(crate) fn cast(e: Expr, t: DataType) -> Expr {
    Expr::Cast(Cast::new(Box::new(e), t))
}

pub(crate) fn bin(l: Expr, op: Operator, r: Expr) -> Expr {
    Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r)))
}

fn when(cond: Expr, then: Expr) -> Expr {
    Expr::Case(Case::new(
        None,
        vec![(Box::new(cond), Box::new(then))],
        None,
    ))
}

fn wrong_args(name: &str, n: usize) -> crate::error::ConnectError {
    EmberError::analysis(
        "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
        format!("The `{name}` does not take {n} parameters."),
    )
    .into()
}

/// The expression for Spark's `called(args)` if this module rewrites it, aliased to
/// Spark's column name (`shown`); `None` for functions handled elsewhere.
pub fn rewrite(
    sc: &Scope<'_>,
    called: &str,
    lname: &str,
    a: &[Expr],
    shown: &str,
) -> Result<Option<Expr>> {
    let arg = |i: usize| a.get(i).cloned().ok_or_else(|| wrong_args(called, a.len()));
    let ln = |x: Expr| -> Result<Expr> {
        sc.call_registry("ln", vec![cast(x, DataType::Float64)], false)
    };
    let e = match (lname, a.len()) {
        ("ln", 1) | ("log", 1) => {
            let x = arg(0)?;
            when(bin(x.clone(), Operator::Gt, lit_f(0.0)), ln(x)?)
                .alias(format!("ln({})", sc.sql_of(&a[0])))
        }
        ("log10", 1) | ("log2", 1) => {
            let x = arg(0)?;
            let f = sc.call_registry(lname, vec![cast(x.clone(), DataType::Float64)], false)?;
            when(bin(x, Operator::Gt, lit_f(0.0)), f).alias(shown)
        }
        ("log", 2) => {
            let (base, x) = (arg(0)?, arg(1)?);
            let cond = bin(
                bin(x.clone(), Operator::Gt, lit_f(0.0)),
                Operator::And,
                bin(base.clone(), Operator::Gt, lit_f(0.0)),
            );
            when(cond, bin(ln(x)?, Operator::Divide, ln(base)?)).alias(format!(
                "LOG({}, {})",
                sc.sql_of(&a[0]),
                sc.sql_of(&a[1])
            ))
        }
        ("positive", 1) => arg(0)?.alias(format!("(+ {})", sc.sql_of(&a[0]))),
        ("every" | "bool_and", 1) => sc
            .call_registry("bool_and", vec![arg(0)?], false)?
            .alias(shown),
        ("some" | "any" | "bool_or", 1) => sc
            .call_registry("bool_or", vec![arg(0)?], false)?
            .alias(shown),
        ("first_value" | "last_value" | "first" | "last" | "any_value", 2) => {
            let ignore = match &a[1] {
                Expr::Literal(ScalarValue::Boolean(Some(b)), _) => *b,
                _ => {
                    return Err(EmberError::analysis(
                        "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
                        format!(
                            "The `ignoreNulls` argument of `{called}` must be a constant boolean."
                        ),
                    )
                    .into())
                }
            };
            let base = if lname.starts_with("last") {
                "last_value"
            } else {
                "first_value"
            };
            let f = sc.call_registry(base, vec![arg(0)?], false)?;
            let f = if ignore {
                f.null_treatment(datafusion::logical_expr::expr::NullTreatment::IgnoreNulls)
                    .build()
                    .map_err(EmberError::from)?
            } else {
                f
            };
            let shown = format!("{called}({})", sc.sql_of(&a[0]));
            f.alias(shown)
        }
        ("to_binary" | "try_to_binary", 1 | 2) => {
            let fmt = match a.get(1) {
                None => "hex".to_string(),
                Some(Expr::Literal(ScalarValue::Utf8(Some(f)), _)) => f.to_ascii_lowercase(),
                Some(_) => {
                    return Err(EmberError::analysis(
                        "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
                        format!("The format of `{called}` must be a constant string."),
                    )
                    .into())
                }
            };
            let s = cast(arg(0)?, DataType::Utf8);
            let e = match fmt.as_str() {
                "hex" => sc.call_registry("unhex", vec![s], false)?,
                "utf-8" | "utf8" => cast(s, DataType::Binary),
                "base64" => sc.call_registry("unbase64", vec![s], false)?,
                other => {
                    return Err(EmberError::analysis(
                        "INVALID_PARAMETER_VALUE.BINARY_FORMAT",
                        format!("The value of parameter(s) `format` in `{called}` is invalid: expects one of the binary formats 'base64', 'hex', 'utf-8', but got '{other}'."),
                    )
                    .into())
                }
            };
            e.alias(shown)
        }
        ("to_unix_timestamp", 2) => sc
            .call_registry("unix_timestamp", a.to_vec(), false)?
            .alias(shown),
        ("try_element_at", 2) => {
            let x = arg(0)?;
            let is_list = matches!(
                x.get_type(sc.input.inner().schema())
                    .map_err(EmberError::from)?,
                DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
            );
            let e = if is_list {
                // 1-based, negative from the end, NULL out of bounds (and for 0).
                let i = cast(arg(1)?, DataType::Int64);
                when(
                    bin(i.clone(), Operator::NotEq, lit_i64(0)),
                    sc.call_registry("array_element", vec![x, i], false)?,
                )
            } else {
                sc.call_registry("element_at", vec![x, arg(1)?], false)?
            };
            e.alias(shown)
        }
        ("window_time", 1) => {
            // The event time of a window: its end minus one microsecond (Spark's
            // `WindowTime`), typed as the window's timestamps.
            let end = crate::expr::get_field(arg(0)?, "end");
            let one_micro = Expr::Literal(
                ScalarValue::IntervalMonthDayNano(Some(
                    arrow::datatypes::IntervalMonthDayNano::new(0, 0, 1_000),
                )),
                None,
            );
            bin(end, Operator::Minus, one_micro).alias(shown)
        }
        ("regexp_substr", 2) => {
            // The first match of the whole pattern, NULL when none.
            let pat = sc.call_registry("concat", vec![lit_s("("), arg(1)?, lit_s(")")], false)?;
            let m = sc.call_registry("regexp_match", vec![arg(0)?, pat], false)?;
            sc.call_registry("array_element", vec![m, lit_i64(1)], false)?
                .alias(shown)
        }
        ("sequence", 2 | 3) => {
            let (start, stop) = (arg(0)?, arg(1)?);
            let schema = sc.input.inner().schema();
            let t = start.get_type(schema).map_err(EmberError::from)?;
            if !t.is_integer() {
                return Ok(None);
            }
            let step = match a.get(2) {
                Some(s) => cast(s.clone(), DataType::Int64),
                None => Expr::Case(Case::new(
                    None,
                    vec![(
                        Box::new(bin(start.clone(), Operator::LtEq, stop.clone())),
                        Box::new(lit_i64(1)),
                    )],
                    Some(Box::new(lit_i64(-1))),
                )),
            };
            let series = sc.call_registry(
                "generate_series",
                vec![
                    cast(start, DataType::Int64),
                    cast(stop, DataType::Int64),
                    step,
                ],
                false,
            )?;
            let elem = match t {
                DataType::Int64 | DataType::UInt64 => series,
                other => cast(
                    series,
                    DataType::List(std::sync::Arc::new(arrow::datatypes::Field::new(
                        "item", other, true,
                    ))),
                ),
            };
            elem.alias(shown)
        }
        ("try_avg", 1) => sc.call_registry("avg", vec![arg(0)?], false)?.alias(shown),
        ("try_sum", 1) => sc.call_registry("sum", vec![arg(0)?], false)?.alias(shown),
        _ => return crate::spark_fns::rewrite(sc, called, lname, a, shown),
    };
    Ok(Some(e))
}
