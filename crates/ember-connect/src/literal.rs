//! Spark Connect literals (`Expression.Literal`) → DataFusion scalars, with Spark's
//! types: `byte` = Int8, `decimal` = Decimal128(p, s), `timestamp` = µs in the session
//! zone, `timestamp_ntz` = µs without zone, `date` = days since the epoch, arrays as
//! lists and structs as structs.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, IntervalMonthDayNano};
use datafusion::common::ScalarValue;
use spark_connect_proto::expression::literal::{LiteralType, SpecializedArray};
use spark_connect_proto::expression::Literal;

use crate::error::{ConnectError, Result};
use crate::types::from_proto;

/// The scalar of a literal; `tz` is the session time zone for `timestamp` values.
///
/// Errors: [`ConnectError::Invalid`] for a literal without a value or a decimal that
/// does not parse; [`ConnectError::Unsupported`] for map literals.
pub fn to_scalar(l: &Literal, tz: &str) -> Result<ScalarValue> {
    let t = l
        .literal_type
        .as_ref()
        .ok_or_else(|| ConnectError::invalid("literal without a value"))?;
    Ok(match t {
        LiteralType::Null(dt) => ScalarValue::try_from(from_proto(dt, tz)?)?,
        LiteralType::Binary(b) => ScalarValue::Binary(Some(b.to_vec())),
        LiteralType::Boolean(b) => ScalarValue::Boolean(Some(*b)),
        LiteralType::Byte(v) => ScalarValue::Int8(Some(*v as i8)),
        LiteralType::Short(v) => ScalarValue::Int16(Some(*v as i16)),
        LiteralType::Integer(v) => ScalarValue::Int32(Some(*v)),
        LiteralType::Long(v) => ScalarValue::Int64(Some(*v)),
        LiteralType::Float(v) => ScalarValue::Float32(Some(*v)),
        LiteralType::Double(v) => ScalarValue::Float64(Some(*v)),
        // Spark builds the literal from the text (`Decimal(value)`): precision and
        // scale are the text's, whatever the client declared.
        LiteralType::Decimal(d) => decimal(&d.value, None, None)?,
        LiteralType::String(s) => ScalarValue::Utf8(Some(s.clone())),
        LiteralType::Date(d) => ScalarValue::Date32(Some(*d)),
        LiteralType::Timestamp(us) => {
            ScalarValue::TimestampMicrosecond(Some(*us), Some(Arc::from(tz)))
        }
        LiteralType::TimestampNtz(us) => ScalarValue::TimestampMicrosecond(Some(*us), None),
        LiteralType::CalendarInterval(c) => ScalarValue::IntervalMonthDayNano(Some(
            IntervalMonthDayNano::new(c.months, c.days, c.microseconds * 1000),
        )),
        LiteralType::YearMonthInterval(m) => ScalarValue::IntervalYearMonth(Some(*m)),
        LiteralType::DayTimeInterval(us) => ScalarValue::DurationMicrosecond(Some(*us)),
        LiteralType::Array(a) => {
            let elems = a
                .elements
                .iter()
                .map(|e| to_scalar(e, tz))
                .collect::<Result<Vec<_>>>()?;
            let declared = l.data_type.as_ref().and_then(|t| match &t.kind {
                Some(spark_connect_proto::data_type::Kind::Array(a)) => a.element_type.as_deref(),
                _ => None,
            });
            let elem_type = match (declared, elems.first()) {
                (Some(t), _) => from_proto(t, tz)?,
                (None, Some(v)) => v.data_type(),
                (None, None) => DataType::Null,
            };
            list(elems, &elem_type)?
        }
        LiteralType::SpecializedArray(s) => specialized(s)?,
        LiteralType::Struct(s) => {
            let names: Vec<String> = match l.data_type.as_ref().and_then(|t| t.kind.as_ref()) {
                Some(spark_connect_proto::data_type::Kind::Struct(st)) => {
                    st.fields.iter().map(|f| f.name.clone()).collect()
                }
                _ => (0..s.elements.len())
                    .map(|i| format!("col{}", i + 1))
                    .collect(),
            };
            let mut b = datafusion::common::scalar::ScalarStructBuilder::new();
            for (name, e) in names.iter().zip(&s.elements) {
                let v = to_scalar(e, tz)?;
                b = b.with_scalar(Field::new(name, v.data_type(), true), v);
            }
            b.build()?
        }
        LiteralType::Map(_) => return Err(ConnectError::unsupported("map literals")),
        LiteralType::Time(t) => ScalarValue::Time64Nanosecond(Some(t.nano)),
        LiteralType::TimestampNtzNanos(t) => ScalarValue::TimestampNanosecond(
            Some(t.epoch_micros * 1000 + t.nanos_within_micro as i64),
            None,
        ),
        LiteralType::TimestampLtzNanos(t) => ScalarValue::TimestampNanosecond(
            Some(t.epoch_micros * 1000 + t.nanos_within_micro as i64),
            Some(Arc::from(tz)),
        ),
    })
}

fn list(elems: Vec<ScalarValue>, elem_type: &DataType) -> Result<ScalarValue> {
    let elems = elems
        .into_iter()
        .map(|v| {
            if &v.data_type() == elem_type {
                Ok(v)
            } else {
                v.cast_to(elem_type)
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(ScalarValue::List(ScalarValue::new_list_nullable(
        &elems, elem_type,
    )))
}

fn specialized(s: &SpecializedArray) -> Result<ScalarValue> {
    use spark_connect_proto::expression::literal::specialized_array::ValueType as V;
    let v = s
        .value_type
        .as_ref()
        .ok_or_else(|| ConnectError::invalid("specialized array without values"))?;
    let (vals, t): (Vec<ScalarValue>, DataType) = match v {
        V::Bools(b) => (
            b.values
                .iter()
                .map(|x| ScalarValue::Boolean(Some(*x)))
                .collect(),
            DataType::Boolean,
        ),
        V::Ints(b) => (
            b.values
                .iter()
                .map(|x| ScalarValue::Int32(Some(*x)))
                .collect(),
            DataType::Int32,
        ),
        V::Longs(b) => (
            b.values
                .iter()
                .map(|x| ScalarValue::Int64(Some(*x)))
                .collect(),
            DataType::Int64,
        ),
        V::Floats(b) => (
            b.values
                .iter()
                .map(|x| ScalarValue::Float32(Some(*x)))
                .collect(),
            DataType::Float32,
        ),
        V::Doubles(b) => (
            b.values
                .iter()
                .map(|x| ScalarValue::Float64(Some(*x)))
                .collect(),
            DataType::Float64,
        ),
        V::Strings(b) => (
            b.values
                .iter()
                .map(|x| ScalarValue::Utf8(Some(x.clone())))
                .collect(),
            DataType::Utf8,
        ),
    };
    list(vals, &t)
}

/// A decimal literal from its text (`"12.50"`), with the declared precision and scale
/// or those of the text (Spark's `Decimal(value)`).
fn decimal(text: &str, precision: Option<i32>, scale: Option<i32>) -> Result<ScalarValue> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    let text_scale = frac_part.len() as i32;
    let s = scale.unwrap_or(text_scale);
    let mut frac = frac_part.to_string();
    while (frac.len() as i32) < s {
        frac.push('0');
    }
    frac.truncate(s.max(0) as usize);
    let all = format!("{int_part}{frac}");
    let bad = || ConnectError::invalid(format!("decimal literal '{text}' does not parse"));
    let mut v: i128 = if all.is_empty() {
        0
    } else {
        all.parse().map_err(|_| bad())?
    };
    if neg {
        v = -v;
    }
    let p = precision
        .unwrap_or_else(|| (int_part.trim_start_matches('0').len() as i32 + s).clamp(1, 38));
    Ok(ScalarValue::Decimal128(
        Some(v),
        p.max(s).clamp(1, 38) as u8,
        s as i8,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_keep_their_scale() {
        assert_eq!(
            decimal("12.50", None, None).unwrap(),
            ScalarValue::Decimal128(Some(1250), 4, 2)
        );
        assert_eq!(
            decimal("-0.5", Some(10), Some(3)).unwrap(),
            ScalarValue::Decimal128(Some(-500), 10, 3)
        );
        assert!(decimal("1x", None, None).is_err());
    }
}
