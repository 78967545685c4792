//! `DataFrame.observe(name_or_Observation, *metrics)` (Spark's `CollectMetrics`):
//! aggregate metrics over the rows that pass through a point of the plan, reported
//! to the client after the action as `ObservedMetrics` (`Observation.get` reads them:
//! `{"cnt": 10, "mx": 18}`).
//!
//! The observed DataFrame itself is unchanged. ember computes the metrics with a
//! second, aggregate-only query over the same input once the action's rows are sent:
//! the same values as Spark's for deterministic inputs (a metric over `rand()` sees
//! other draws than the rows did).

use datafusion::common::ScalarValue;
use ember_core::DataFrame;
use spark_connect_proto as pb;
use spark_connect_proto::expression::literal::LiteralType;
use spark_connect_proto::expression::Literal;

use crate::error::{ConnectError, Result};
use crate::relation::Planner;

/// One `observe` of a plan: its name and the aggregate that computes its metrics
/// (one row, one column per metric named as Spark names it).
pub struct Observed {
    /// The observation's name (`Observation("m")` or `observe("m", ...)`).
    pub name: String,
    /// `metrics` aggregated over the observed input.
    pub aggregate: DataFrame,
}

/// Plans the metrics of `m` over `input`.
///
/// Errors: a metric that is not an aggregate (Spark's
/// `INVALID_OBSERVED_METRICS.NON_AGGREGATE_FUNC_ARG_IS_ATTRIBUTE` family) or does not
/// resolve.
pub fn plan(p: &Planner<'_>, input: &DataFrame, m: &pb::CollectMetrics) -> Result<Observed> {
    let sc = p.scope(input);
    let items = m
        .metrics
        .iter()
        .map(|e| sc.expr_named(e))
        .collect::<Result<Vec<_>>>()?;
    if items.is_empty() {
        return Err(ConnectError::from(ember_core::EmberError::analysis(
            "INVALID_OBSERVED_METRICS.MISSING_NAME",
            "observe() needs at least one metric.",
        )));
    }
    let aggregate = crate::aggregate::aggregate_exprs(p, input, vec![], items, None)?;
    Ok(Observed {
        name: m.name.clone(),
        aggregate,
    })
}

/// Runs the metrics of `o`: the `ObservedMetrics` of its one row.
///
/// Errors: the metrics query's error.
pub async fn collect(o: &Observed) -> Result<pb::execute_plan_response::ObservedMetrics> {
    let batches = o.aggregate.collect().await?;
    let schema = o.aggregate.schema();
    let keys: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut values = Vec::with_capacity(keys.len());
    let batch = batches.iter().find(|b| b.num_rows() > 0);
    for i in 0..keys.len() {
        let v = match batch {
            Some(b) => ScalarValue::try_from_array(b.column(i).as_ref(), 0)
                .map_err(ember_core::EmberError::from)?,
            None => ScalarValue::Null,
        };
        values.push(to_literal(&v)?);
    }
    Ok(pb::execute_plan_response::ObservedMetrics {
        name: o.name.clone(),
        values,
        keys,
        ..Default::default()
    })
}

/// A metric value as a Spark Connect literal.
///
/// Errors: a type observations cannot carry here (nested values).
pub fn to_literal(v: &ScalarValue) -> Result<Literal> {
    use ScalarValue as S;
    let null = |t: &arrow::datatypes::DataType| -> Literal {
        Literal {
            literal_type: Some(LiteralType::Null(crate::types::to_proto(t))),
            ..Default::default()
        }
    };
    if v.is_null() {
        return Ok(null(&v.data_type()));
    }
    let lt = match v {
        S::Boolean(Some(b)) => LiteralType::Boolean(*b),
        S::Int8(Some(x)) => LiteralType::Byte(*x as i32),
        S::Int16(Some(x)) => LiteralType::Short(*x as i32),
        S::Int32(Some(x)) => LiteralType::Integer(*x),
        S::Int64(Some(x)) => LiteralType::Long(*x),
        S::UInt8(Some(x)) => LiteralType::Short(*x as i32),
        S::UInt16(Some(x)) => LiteralType::Integer(*x as i32),
        S::UInt32(Some(x)) => LiteralType::Long(*x as i64),
        S::UInt64(Some(x)) => LiteralType::Long(*x as i64),
        S::Float32(Some(x)) => LiteralType::Float(*x),
        S::Float64(Some(x)) => LiteralType::Double(*x),
        S::Utf8(Some(s)) | S::LargeUtf8(Some(s)) | S::Utf8View(Some(s)) => {
            LiteralType::String(s.clone())
        }
        S::Binary(Some(b)) | S::LargeBinary(Some(b)) | S::BinaryView(Some(b)) => {
            LiteralType::Binary(bytes::Bytes::from(b.clone()))
        }
        S::Decimal128(Some(_), p, s) => {
            LiteralType::Decimal(spark_connect_proto::expression::literal::Decimal {
                value: v.to_string(),
                precision: Some(*p as i32),
                scale: Some(*s as i32),
            })
        }
        S::Date32(Some(d)) => LiteralType::Date(*d),
        S::TimestampMicrosecond(Some(t), tz) => match tz {
            Some(_) => LiteralType::Timestamp(*t),
            None => LiteralType::TimestampNtz(*t),
        },
        other => {
            return Err(ConnectError::unsupported(format!(
                "an observed metric of type {}",
                other.data_type()
            )))
        }
    };
    Ok(Literal {
        literal_type: Some(lt),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_of_metric_values() {
        let l = to_literal(&ScalarValue::Int64(Some(7))).unwrap();
        assert_eq!(l.literal_type, Some(LiteralType::Long(7)));
        let l = to_literal(&ScalarValue::Float64(None)).unwrap();
        assert!(matches!(l.literal_type, Some(LiteralType::Null(_))));
        let l = to_literal(&ScalarValue::Utf8(Some("a".into()))).unwrap();
        assert_eq!(l.literal_type, Some(LiteralType::String("a".into())));
    }
}
