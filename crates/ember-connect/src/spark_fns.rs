//! More Spark functions that Spark Connect sends by name and ember expresses with
//! DataFusion expressions (continuing `functions.rs`), each aliased to Spark's column
//! name:
//!
//! - strings: `trim`/`ltrim`/`rtrim` with trim characters (`TRIM(BOTH t FROM s)`),
//!   `levenshtein` with a threshold (-1 above it), `position(substr, str, start)`,
//!   `replace(str, search)`, `validate_utf8`/`try_validate_utf8` (Arrow strings are
//!   valid UTF-8), `regexp_replace` (every match, from `position`), `overlay` with the
//!   default length (the replacement's), `listagg`/`string_agg` (with `DISTINCT`);
//! - `startswith`/`endswith` of `binary` values;
//! - numbers: `degrees`/`radians` with Java's constants (`Math.toDegrees`),
//!   `bitwise_not` (`~x`), `ceil`/`ceiling`/`floor` with a scale, `factorial` of any integer;
//! - dates: `add_months`, `date_add`, `date_sub`, `last_day`, `next_day` on string or
//!   timestamp input (cast to `date`, as Spark's implicit cast); the time zones of
//!   `from_utc_timestamp`/`to_utc_timestamp` accept Java's short ids (`PST`, `JST`);
//!   `to_unix_timestamp` named with its default format;
//! - collections: `array_agg`/`collect_list`/`collect_set` skip NULLs, `array_append`
//!   of a NULL array is NULL, `array_position` is 0 when absent, `array_remove` removes
//!   every match, `reverse` and `concat` of arrays, `count_distinct` over several
//!   columns (rows where every column is non-NULL);
//! - aggregates: `min_by`/`max_by` (rows with a NULL ordering value ignored),
//!   `nth_value(x, n, ignoreNulls)`, `mode(x, deterministic)` (named as Spark does);
//! - `regexp_extract_all(str, regexp)` with the default group 1 in its name.

use arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::Case;
use datafusion::logical_expr::{Expr, ExprFunctionExt, ExprSchemable, Operator};
use ember_core::EmberError;
use ember_sql::functions::zones::SHORT_IDS;

use crate::error::Result;
use crate::expr::Scope;
use crate::functions::{bin, cast, lit_f, lit_i64, lit_s};

fn case(pairs: Vec<(Expr, Expr)>, otherwise: Option<Expr>) -> Expr {
    Expr::Case(Case::new(
        None,
        pairs
            .into_iter()
            .map(|(c, v)| (Box::new(c), Box::new(v)))
            .collect(),
        otherwise.map(Box::new),
    ))
}

fn strip_alias(e: Expr) -> Expr {
    match e {
        Expr::Alias(a) => *a.expr,
        e => e,
    }
}

fn is_list(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
    )
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn int_literal(e: &Expr) -> Option<i64> {
    match e {
        Expr::Literal(v, _) => match v.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(n))) => Some(n),
            _ => None,
        },
        _ => None,
    }
}

/// A zone-id expression with Java's short ids replaced by the zones they stand for
/// (a constant stays a constant).
fn zone_id(e: Expr) -> Expr {
    if let Expr::Literal(ScalarValue::Utf8(Some(s)), _) = &e {
        let long = SHORT_IDS
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(s))
            .map(|(_, v)| *v)
            .unwrap_or(s.as_str());
        return lit_s(long);
    }
    let pairs = SHORT_IDS
        .iter()
        .map(|(k, v)| (bin(e.clone(), Operator::Eq, lit_s(k)), lit_s(v)))
        .collect();
    case(pairs, Some(e))
}

/// The expression for Spark's `called(args)` if this module rewrites it, aliased to
/// Spark's column name (`shown`); `None` for functions handled elsewhere.
pub fn rewrite(
    sc: &Scope<'_>,
    _called: &str,
    lname: &str,
    a: &[Expr],
    shown: &str,
) -> Result<Option<Expr>> {
    let schema = sc.input.inner().schema();
    let type_of =
        |e: &Expr| -> Result<DataType> { Ok(e.get_type(schema).map_err(EmberError::from)?) };
    let sql = |i: usize| sc.sql_of(&a[i]);
    let e = match (lname, a.len()) {
        ("degrees" | "radians", 1) => {
            // java.lang.Math.toDegrees / toRadians: one multiplication by a constant.
            let k = if lname == "degrees" {
                57.29577951308232
            } else {
                0.017453292519943295
            };
            bin(
                cast(a[0].clone(), DataType::Float64),
                Operator::Multiply,
                lit_f(k),
            )
            .alias(shown)
        }
        ("~" | "bitwise_not" | "bitwisenot", 1) => {
            let t = type_of(&a[0])?;
            let minus_one = cast(lit_i64(-1), t);
            bin(a[0].clone(), Operator::BitwiseXor, minus_one).alias(format!("~{}", sql(0)))
        }
        ("add_months" | "date_add" | "dateadd" | "date_sub" | "last_day" | "next_day", _)
            if !a.is_empty() =>
        {
            let t = type_of(&a[0])?;
            if !(is_string(&t) || matches!(t, DataType::Timestamp(_, _))) {
                return Ok(None);
            }
            let mut args = a.to_vec();
            args[0] = cast(args[0].clone(), DataType::Date32);
            let f = if lname == "dateadd" {
                "date_add"
            } else {
                lname
            };
            let name = if lname == "dateadd" {
                shown.replacen("dateadd", "date_add", 1)
            } else {
                shown.to_string()
            };
            sc.call_registry(f, args, false)?.alias(name)
        }
        ("from_utc_timestamp" | "to_utc_timestamp", 2) => {
            let ts = a[0].clone();
            let ts = if is_string(&type_of(&ts)?) {
                cast(
                    ts,
                    DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, None),
                )
            } else {
                ts
            };
            sc.call_registry(lname, vec![ts, zone_id(a[1].clone())], false)?
                .alias(shown)
        }
        ("overlay", 4) if int_literal(&a[3]) == Some(-1) => {
            let len = sc.call_registry("character_length", vec![a[1].clone()], false)?;
            sc.call_registry(
                "overlay",
                vec![a[0].clone(), a[1].clone(), a[2].clone(), len],
                false,
            )?
            .alias(shown)
        }
        // collect_list / collect_set skip NULLs and give [] (not NULL) for no rows.
        ("array_agg" | "collect_list" | "collect_set", 1) => {
            let e = a[0].clone();
            let agg = datafusion::functions_aggregate::expr_fn::array_agg(e.clone());
            let agg = if lname == "collect_set" {
                agg.distinct().filter(e.clone().is_not_null()).build()
            } else {
                agg.filter(e.clone().is_not_null()).build()
            }
            .map_err(EmberError::from)?;
            let t = e
                .get_type(sc.input.inner().schema())
                .map_err(EmberError::from)?;
            let empty = Expr::Literal(
                ScalarValue::List(ScalarValue::new_list_nullable(&[], &t)),
                None,
            );
            let collected = datafusion::functions::expr_fn::coalesce(vec![agg, empty]);
            if t.is_nested() {
                // (Arrow cannot cast a list of structs to one with non-null items.)
                collected.alias(shown)
            } else {
                // No NULL elements: Spark's type says `containsNull = false`.
                let list = DataType::List(std::sync::Arc::new(arrow::datatypes::Field::new(
                    "item",
                    t.clone(),
                    false,
                )));
                Expr::Cast(datafusion::logical_expr::Cast::new(
                    Box::new(collected),
                    list,
                ))
                .alias(shown)
            }
        }
        ("concat", n) if n >= 1 && is_list(&type_of(&a[0])?) => {
            // Spark: NULL when any array is NULL.
            let any_null = a
                .iter()
                .map(|x| x.clone().is_null())
                .reduce(|l, r| bin(l, Operator::Or, r))
                .unwrap_or_else(|| lit_s("").is_null());
            let f = sc.call_registry("array_concat", a.to_vec(), false)?;
            case(vec![(Expr::Not(Box::new(any_null)), f)], None).alias(shown)
        }
        ("count_distinct" | "countdistinct", n) if n > 1 => {
            let all = a
                .iter()
                .map(|x| x.clone().is_not_null())
                .reduce(|l, r| bin(l, Operator::And, r))
                .unwrap_or_else(|| lit_s("").is_not_null());
            let mut fields = Vec::new();
            for (i, x) in a.iter().enumerate() {
                fields.push(lit_s(&format!("c{i}")));
                fields.push(x.clone());
            }
            let row = sc.call_registry("named_struct", fields, false)?;
            let row = case(vec![(all, row)], None);
            sc.call_registry("count", vec![row], true)?.alias(format!(
                "count(DISTINCT {})",
                (0..n).map(sql).collect::<Vec<_>>().join(", ")
            ))
        }
        ("nth_value", 3) => {
            let ignore = match &a[2] {
                Expr::Literal(ScalarValue::Boolean(Some(b)), _) => *b,
                _ => return Ok(None),
            };
            let Some(n) = int_literal(&a[1]) else {
                return Ok(None);
            };
            // A bigint n (the literal narrowing rule would make it an int, which
            // DataFusion's nth_value refuses).
            let n = Expr::Cast(datafusion::logical_expr::Cast::new(
                Box::new(lit_i64(n)),
                arrow::datatypes::DataType::Int64,
            ));
            let f = sc.call_registry("nth_value", vec![a[0].clone(), n], false)?;
            let f = strip_alias(f);
            let f = if ignore {
                f.null_treatment(datafusion::logical_expr::expr::NullTreatment::IgnoreNulls)
                    .build()
                    .map_err(EmberError::from)?
            } else {
                f
            };
            f.alias(format!(
                "nth_value({}, {}){}",
                sql(0),
                sql(1),
                if ignore { " ignore nulls" } else { "" }
            ))
        }
        ("mode", 2) => {
            // Spark names the deterministic form after its SQL spelling.
            let name = match &a[1] {
                Expr::Literal(ScalarValue::Boolean(Some(true)), _) => {
                    format!("mode() WITHIN GROUP (ORDER BY {} DESC)", sql(0))
                }
                _ => format!("mode({})", sql(0)),
            };
            strip_alias(sc.call_registry("mode", a.to_vec(), false)?).alias(name)
        }
        _ => return Ok(None),
    };
    Ok(Some(e))
}
