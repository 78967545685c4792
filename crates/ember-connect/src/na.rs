//! `df.na.fill`, `df.na.replace` and `df.summary()`.

use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::{Case, Cast};
use datafusion::logical_expr::Expr;
use ember_core::{DataFrame, EmberError};
use spark_connect_proto::{NaFill, NaReplace};

use crate::error::{ConnectError, Result};
use crate::session::ConnectSession;

fn col(name: &str) -> Expr {
    Expr::Column(datafusion::common::Column::new_unqualified(name))
}

fn resolve(df: &DataFrame, name: &str) -> Result<String> {
    df.columns()
        .into_iter()
        .find(|c| c.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            EmberError::analysis(
                "UNRESOLVED_COLUMN_AMONG_FIELD_NAMES",
                format!(
                    "Cannot resolve column name \"{name}\" among ({}).",
                    df.columns().join(", ")
                ),
            )
            .into()
        })
}

/// `na.fill(value, subset)` / `na.fill({col: value})`.
pub fn fill(cs: &ConnectSession, input: &DataFrame, f: &NaFill) -> Result<DataFrame> {
    let tz = cs.spark.time_zone().name().to_string();
    let values = f
        .values
        .iter()
        .map(|l| crate::literal::to_scalar(l, &tz))
        .collect::<Result<Vec<_>>>()?;
    let cols = f
        .cols
        .iter()
        .map(|c| resolve(input, c))
        .collect::<Result<Vec<_>>>()?;
    match values.as_slice() {
        [] => Err(ConnectError::invalid("na.fill without a value")),
        [v] => {
            let subset: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
            Ok(input.na().fill(v.clone(), &subset)?)
        }
        many if many.len() == cols.len() => {
            let pairs: Vec<(&str, ScalarValue)> = cols
                .iter()
                .map(|s| s.as_str())
                .zip(many.iter().cloned())
                .collect();
            Ok(input.na().fill_map(&pairs)?)
        }
        _ => Err(ConnectError::invalid(
            "na.fill: values and columns differ in number",
        )),
    }
}

fn kind(t: &DataType) -> u8 {
    match t {
        t if t.is_numeric() => 1,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => 2,
        DataType::Boolean => 3,
        _ => 0,
    }
}

/// `na.replace(to_replace, value, subset)`: in columns whose type matches the values'
/// (numeric, string or boolean), equal values are replaced.
pub fn replace(cs: &ConnectSession, input: &DataFrame, r: &NaReplace) -> Result<DataFrame> {
    let tz = cs.spark.time_zone().name().to_string();
    let mut pairs = Vec::new();
    for rep in &r.replacements {
        let old = rep
            .old_value
            .as_ref()
            .ok_or_else(|| ConnectError::invalid("replacement without an old value"))?;
        let new = rep
            .new_value
            .as_ref()
            .ok_or_else(|| ConnectError::invalid("replacement without a new value"))?;
        pairs.push((
            crate::literal::to_scalar(old, &tz)?,
            crate::literal::to_scalar(new, &tz)?,
        ));
    }
    let subset = r
        .cols
        .iter()
        .map(|c| resolve(input, c))
        .collect::<Result<Vec<_>>>()?;
    let key_kind = pairs
        .iter()
        .find(|(o, _)| !o.is_null())
        .map(|(o, _)| kind(&o.data_type()))
        .unwrap_or(0);
    let schema = input.schema();
    let exprs: Vec<Expr> = schema
        .fields()
        .iter()
        .map(|f| {
            let c = col(f.name());
            let targeted = (subset.is_empty() || subset.contains(f.name()))
                && kind(f.data_type()) == key_kind
                && key_kind != 0;
            if !targeted || pairs.is_empty() {
                return c;
            }
            let whens = pairs
                .iter()
                .map(|(o, n)| {
                    let cond = if o.is_null() {
                        c.clone().is_null()
                    } else {
                        c.clone().eq(Expr::Cast(Cast::new(
                            Box::new(Expr::Literal(o.clone(), None)),
                            f.data_type().clone(),
                        )))
                    };
                    let v = Expr::Cast(Cast::new(
                        Box::new(Expr::Literal(n.clone(), None)),
                        f.data_type().clone(),
                    ));
                    (Box::new(cond), Box::new(v))
                })
                .collect();
            Expr::Case(Case::new(None, whens, Some(Box::new(c)))).alias(f.name())
        })
        .collect();
    Ok(input.select_exprs(exprs)?)
}

/// `summary(statistics)`: `count`, `mean`, `stddev`, `min`, `max`, percentiles
/// (`25%`...; the smallest value with at least that share of values at or below
/// it, as Spark's `percentile_approx` at full accuracy), `count_distinct`, as strings.
///
/// Errors: `UNSUPPORTED_FEATURE` for unknown statistics.
pub async fn summary(
    cs: &ConnectSession,
    input: &DataFrame,
    stats: &[String],
) -> Result<DataFrame> {
    let default = ["count", "mean", "stddev", "min", "25%", "50%", "75%", "max"];
    let stats: Vec<String> = if stats.is_empty() {
        default.iter().map(|s| s.to_string()).collect()
    } else {
        stats.to_vec()
    };
    let schema = input.schema();
    let names: Vec<(String, bool)> = schema
        .fields()
        .iter()
        .filter(|f| f.data_type().is_numeric() || kind(f.data_type()) == 2)
        .map(|f| (f.name().clone(), f.data_type().is_numeric()))
        .collect();
    let fo = cs.spark.format_options();
    use datafusion::functions_aggregate::expr_fn as af;
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); names.len()];
    for s in &stats {
        let percentile_row = s.ends_with('%');
        let mut aggs = Vec::new();
        for (n, numeric) in &names {
            let c = col(n);
            let f64c = Expr::Cast(Cast::new(Box::new(c.clone()), DataType::Float64));
            let null = Expr::Cast(Cast::new(
                Box::new(Expr::Literal(ScalarValue::Null, None)),
                DataType::Float64,
            ));
            let e = match s.as_str() {
                "count" => af::count(c),
                // Spark's own average and CentralMomentAgg stddev, as describe.
                "mean" if *numeric => ember_sql::functions::sums::avg_udaf().call(vec![f64c]),
                "stddev" if *numeric => {
                    ember_sql::functions::moments::stddev_udaf().call(vec![f64c])
                }
                "mean" | "stddev" => null,
                "min" => af::min(c),
                "max" => af::max(c),
                "count_distinct" => af::count_distinct(c),
                p if p.ends_with('%') => null,
                other => {
                    return Err(ConnectError::unsupported(format!(
                        "the summary statistic '{other}'"
                    )))
                }
            };
            aggs.push(e);
        }
        let aggs: Vec<Expr> = aggs
            .into_iter()
            .enumerate()
            .map(|(i, e)| e.alias(format!("__s{i}")))
            .collect();
        let batches = if percentile_row || aggs.is_empty() {
            Vec::new()
        } else {
            input.group_by_agg(vec![], aggs)?.collect().await?
        };
        for (i, (n, numeric)) in names.iter().enumerate() {
            let v = if let (Some(p), true) = (s.strip_suffix('%'), *numeric) {
                let q: f64 = p.parse().map_err(|_| {
                    ConnectError::unsupported(format!("the summary statistic '{s}'"))
                })?;
                percentile(input, n, q / 100.0, &fo).await?
            } else {
                batches
                    .first()
                    .and_then(|b| ember_sql::format::value_string(b.column(i).as_ref(), 0, &fo))
            };
            columns[i].push(v);
        }
    }
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(stats.clone()))];
    arrays.extend(
        columns
            .into_iter()
            .map(|c| Arc::new(StringArray::from(c)) as ArrayRef),
    );
    let mut fields = vec![Field::new("summary", DataType::Utf8, true)];
    fields.extend(
        names
            .iter()
            .map(|(n, _)| Field::new(n, DataType::Utf8, true)),
    );
    let schema = Arc::new(Schema::new(fields));
    let b = RecordBatch::try_new(schema.clone(), arrays)?;
    crate::local::from_batches(&cs.spark, schema, vec![b])
}

async fn percentile(
    input: &DataFrame,
    name: &str,
    q: f64,
    fo: &ember_sql::format::FormatOptions,
) -> Result<Option<String>> {
    let sorted = input
        .inner()
        .clone()
        .select(vec![col(name)])?
        .filter(col(name).is_not_null())?
        .sort(vec![col(name).sort(true, true)])?
        .collect()
        .await
        .map_err(EmberError::from)?;
    let n: usize = sorted.iter().map(|b| b.num_rows()).sum();
    if n == 0 {
        return Ok(None);
    }
    let mut k = ((q * n as f64).ceil() as usize).max(1) - 1;
    for b in &sorted {
        if k < b.num_rows() {
            return Ok(ember_sql::format::value_string(b.column(0).as_ref(), k, fo));
        }
        k -= b.num_rows();
    }
    Ok(None)
}
