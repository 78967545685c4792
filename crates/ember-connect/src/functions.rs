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
use datafusion::logical_expr::expr::Cast;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprFunctionExt, Operator};
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
    let e = match (lname, a.len()) {
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
        ("try_avg", 1) => sc.call_registry("avg", vec![arg(0)?], false)?.alias(shown),
        ("try_sum", 1) => sc.call_registry("sum", vec![arg(0)?], false)?.alias(shown),
        _ => return crate::spark_fns::rewrite(sc, called, lname, a, shown),
    };
    Ok(Some(e))
}
