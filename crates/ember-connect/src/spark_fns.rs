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
use ember_sql::functions::zones::SHORT_IDS;
use ember_core::EmberError;

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
    called: &str,
    lname: &str,
    a: &[Expr],
    shown: &str,
) -> Result<Option<Expr>> {
    let schema = sc.input.inner().schema();
    let type_of =
        |e: &Expr| -> Result<DataType> { Ok(e.get_type(schema).map_err(EmberError::from)?) };
    let sql = |i: usize| sc.sql_of(&a[i]);
    let e = match (lname, a.len()) {
        ("trim" | "btrim" | "ltrim" | "rtrim", 2) => {
            // The client sends `trim(trimStr, str)` but `btrim(str, trimStr)`.
            let (t, s) = if lname == "btrim" {
                (a[1].clone(), a[0].clone())
            } else {
                (a[0].clone(), a[1].clone())
            };
            let (f, side) = match lname {
                "ltrim" => (
                    datafusion::functions::string::expr_fn::ltrim(vec![s, t]),
                    "LEADING",
                ),
                "rtrim" => (
                    datafusion::functions::string::expr_fn::rtrim(vec![s, t]),
                    "TRAILING",
                ),
                _ => (
                    datafusion::functions::string::expr_fn::btrim(vec![s, t]),
                    "BOTH",
                ),
            };
            if lname == "btrim" {
                f.alias(shown)
            } else {
                f.alias(format!("TRIM({side} {} FROM {})", sql(0), sql(1)))
            }
        }
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
        ("ceil" | "ceiling" | "floor", 2) => {
            let Some(scale) = int_literal(&a[1]) else {
                return Err(EmberError::analysis(
                    "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
                    format!("The `scale` argument of `{called}` must be a constant integer."),
                )
                .into());
            };
            let f = if lname == "floor" { "floor" } else { "ceil" };
            let k = 10f64.powi(scale.clamp(-300, 300) as i32);
            let x = bin(
                cast(a[0].clone(), DataType::Float64),
                Operator::Multiply,
                lit_f(k),
            );
            bin(
                sc.call_registry(f, vec![x], false)?,
                Operator::Divide,
                lit_f(k),
            )
            .alias(format!("{lname}({}, {})", sql(0), sql(1)))
        }
        // Column.startsWith/endsWith arrive camel-cased; Spark names them in lower case.
        ("startswith" | "endswith", 2) => {
            let f = if lname == "startswith" {
                "starts_with"
            } else {
                "ends_with"
            };
            let (t0, t1) = (type_of(&a[0])?, type_of(&a[1])?);
            let args = if matches!(t0, DataType::Binary | DataType::LargeBinary)
                && matches!(t1, DataType::Binary | DataType::LargeBinary)
            {
                // Bytes as hex digits: a byte prefix (suffix) is exactly a prefix
                // (suffix) of the hex text, two digits per byte.
                vec![
                    sc.call_registry("hex", vec![a[0].clone()], false)?,
                    sc.call_registry("hex", vec![a[1].clone()], false)?,
                ]
            } else if is_string(&t0) {
                a.to_vec()
            } else {
                return Ok(None);
            };
            sc.call_registry(f, args, false)?
                .alias(format!("{lname}({}, {})", sql(0), sql(1)))
        }
        ("factorial", 1) => sc
            .call_registry(
                "factorial",
                vec![cast(a[0].clone(), DataType::Int32)],
                false,
            )?
            .alias(shown),
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
        ("to_unix_timestamp", 1) => sc
            .call_registry("unix_timestamp", a.to_vec(), false)?
            .alias(format!(
                "to_unix_timestamp({}, yyyy-MM-dd HH:mm:ss)",
                sql(0)
            )),
        ("levenshtein", 3) => {
            let d = sc.call_registry("levenshtein", vec![a[0].clone(), a[1].clone()], false)?;
            case(
                vec![(
                    bin(d.clone(), Operator::Gt, cast(a[2].clone(), DataType::Int32)),
                    cast(lit_i64(-1), DataType::Int32),
                )],
                Some(d),
            )
            .alias(shown)
        }
        ("position", 3) => sc.call_registry("locate", a.to_vec(), false)?.alias(shown),
        ("position", 2) => sc
            .call_registry(
                "locate",
                vec![a[0].clone(), a[1].clone(), lit_i64(1)],
                false,
            )?
            .alias(format!("position({}, {}, 1)", sql(0), sql(1))),
        ("replace", 2) => sc
            .call_registry(
                "replace",
                vec![a[0].clone(), a[1].clone(), lit_s("")],
                false,
            )?
            .alias(shown),
        ("validate_utf8" | "try_validate_utf8" | "make_valid_utf8", 1)
            if is_string(&type_of(&a[0])?) =>
        {
            a[0].clone().alias(shown)
        }
        ("regexp_replace", 3 | 4) => {
            let pos = match a.get(3) {
                None => 1,
                Some(p) => match int_literal(p) {
                    Some(n) => n,
                    None => return Ok(None),
                },
            };
            let (s, p, r) = (a[0].clone(), a[1].clone(), a[2].clone());
            let name = format!("regexp_replace({}, {}, {}, {pos})", sql(0), sql(1), sql(2));
            if pos <= 1 {
                sc.call_registry("regexp_replace", vec![s, p, r, lit_s("g")], false)?
                    .alias(name)
            } else {
                // Matches are searched from `pos` on; the part before is kept as is.
                let head = sc.call_registry(
                    "substr",
                    vec![s.clone(), lit_i64(1), lit_i64(pos - 1)],
                    false,
                )?;
                let tail = sc.call_registry("substr", vec![s, lit_i64(pos)], false)?;
                let tail =
                    sc.call_registry("regexp_replace", vec![tail, p, r, lit_s("g")], false)?;
                sc.call_registry("concat", vec![head, tail], false)?
                    .alias(name)
            }
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
        ("listagg" | "string_agg" | "listagg_distinct" | "string_agg_distinct", 1 | 2) => {
            let distinct = lname.ends_with("_distinct");
            let base = lname.trim_end_matches("_distinct");
            let x = a[0].clone();
            if !is_string(&type_of(&x)?) {
                return Ok(None);
            }
            let delim = a.get(1).cloned().unwrap_or_else(|| lit_s(""));
            let f = sc.call_registry(
                "string_agg",
                vec![cast(x.clone(), DataType::LargeUtf8), delim],
                false,
            )?;
            let f = if distinct {
                f.distinct().filter(x.is_not_null())
            } else {
                f.filter(x.is_not_null())
            };
            let f = f.build().map_err(EmberError::from)?;
            let d = if a.len() == 2 {
                sql(1)
            } else {
                "NULL".to_string()
            };
            let dn = if distinct { "DISTINCT " } else { "" };
            cast(f, DataType::Utf8).alias(format!("{base}({dn}{}, {d})", sql(0)))
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
        ("array_append", 2) => case(
            vec![(
                a[0].clone().is_not_null(),
                sc.call_registry("array_append", a.to_vec(), false)?,
            )],
            None,
        )
        .alias(shown),
        // Spark's argument order is (array, element), DataFusion's (element, array);
        // a NULL array gives NULL.
        ("array_prepend", 2) => case(
            vec![(
                a[0].clone().is_not_null(),
                sc.call_registry("array_prepend", vec![a[1].clone(), a[0].clone()], false)?,
            )],
            None,
        )
        .alias(shown),
        ("array_position", 2) => {
            let p = sc.call_registry("array_position", a.to_vec(), false)?;
            case(
                vec![(
                    a[0].clone().is_not_null(),
                    datafusion::functions::expr_fn::coalesce(vec![
                        cast(p, DataType::Int64),
                        lit_i64(0),
                    ]),
                )],
                None,
            )
            .alias(shown)
        }
        ("array_remove", 2) => sc
            .call_registry("array_remove_all", a.to_vec(), false)?
            .alias(shown),
        ("reverse", 1) if is_list(&type_of(&a[0])?) => sc
            .call_registry("array_reverse", a.to_vec(), false)?
            .alias(shown),
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
        ("min_by" | "max_by", 2) => {
            let (x, ord) = (a[0].clone(), a[1].clone());
            let asc = lname == "min_by";
            datafusion::functions_aggregate::expr_fn::first_value(x, vec![])
                .order_by(vec![ord.clone().sort(asc, false)])
                .filter(ord.is_not_null())
                .build()
                .map_err(EmberError::from)?
                .alias(shown)
        }
        // max_by(x, y, k) / min_by(x, y, k): x of the k rows with the largest
        // (smallest) y, in that order; rows with a NULL y are skipped.
        ("min_by" | "max_by", 3) => {
            let Some(k) = int_literal(&a[2]) else {
                return Ok(None);
            };
            let (x, ord) = (a[0].clone(), a[1].clone());
            let asc = lname == "min_by";
            let all = datafusion::functions_aggregate::expr_fn::array_agg(x)
                .order_by(vec![ord.clone().sort(asc, false)])
                .filter(ord.is_not_null())
                .build()
                .map_err(EmberError::from)?;
            datafusion::functions_nested::expr_fn::array_slice(all, lit_i64(1), lit_i64(k), None)
                .alias(shown)
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
        ("regexp_extract_all", 2) => {
            // The group index defaults to 1 and shows in the name.
            let args = vec![a[0].clone(), a[1].clone(), lit_i64(1)];
            sc.call_registry("regexp_extract_all", args, false)?
                .alias(format!("regexp_extract_all({}, {}, 1)", sql(0), sql(1)))
        }
        _ => return Ok(None),
    };
    Ok(Some(e))
}
