//! Spark 4.3's TIME functions over `TIME(6)` values (Arrow `Time64(µs)`, micros since
//! midnight): `make_time(hour, minute, second)`, `time_from_micros`, `time_from_millis`,
//! `time_from_seconds`, `time_to_micros`, `time_to_millis`, `time_to_seconds`,
//! `try_to_time(str[, pattern])` and `time_diff(unit, start, end)`.
//!
//! Spark 4.3 disables the TIME type by default (`spark.sql.timeType.enabled=false`):
//! then any TIME value fails analysis with `UNSUPPORTED_TIME_TYPE` (see
//! `sql::rules`), so these functions answer only when the type is enabled.

use std::sync::Arc;

use chrono::{NaiveTime, Timelike};
use chrono_tz::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Array, Int64Array, Time64MicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::ScalarUDF;

use super::{args_between, udf_coerced};

const MICROS_PER_DAY: i64 = 86_400_000_000;

fn time_type() -> DataType {
    DataType::Time64(TimeUnit::Microsecond)
}

/// The TIME functions for a session in time zone `tz`.
pub(super) fn functions(tz: &str) -> Vec<ScalarUDF> {
    vec![
        udf_coerced(
            "make_time",
            coerce_make_time,
            |_| Ok(time_type()),
            make_time,
            tz,
        ),
        udf_coerced(
            "time_from_micros",
            |a| one_of("time_from_micros", a, DataType::Int64),
            |_| Ok(time_type()),
            |a, _| from_units(a, 1, "time_from_micros"),
            tz,
        ),
        udf_coerced(
            "time_from_millis",
            |a| one_of("time_from_millis", a, DataType::Int64),
            |_| Ok(time_type()),
            |a, _| from_units(a, 1_000, "time_from_millis"),
            tz,
        ),
        udf_coerced(
            "time_from_seconds",
            |a| one_of("time_from_seconds", a, DataType::Decimal128(38, 6)),
            |_| Ok(time_type()),
            from_seconds,
            tz,
        ),
        udf_coerced(
            "time_to_micros",
            |a| one_of("time_to_micros", a, time_type()),
            |_| Ok(DataType::Int64),
            |a, _| to_units(a, 1),
            tz,
        ),
        udf_coerced(
            "time_to_millis",
            |a| one_of("time_to_millis", a, time_type()),
            |_| Ok(DataType::Int64),
            |a, _| to_units(a, 1_000),
            tz,
        ),
        udf_coerced(
            "time_to_seconds",
            |a| one_of("time_to_seconds", a, time_type()),
            |_| Ok(DataType::Decimal128(14, 6)),
            to_seconds,
            tz,
        ),
        udf_coerced(
            "try_to_time",
            coerce_strings,
            |_| Ok(time_type()),
            try_to_time,
            tz,
        ),
        udf_coerced(
            "time_diff",
            coerce_time_diff,
            |_| Ok(DataType::Int64),
            time_diff,
            tz,
        ),
    ]
}

fn one_of(name: &str, args: &[DataType], to: DataType) -> Result<Vec<DataType>> {
    args_between(name, args, 1, 1)?;
    Ok(vec![to])
}

fn coerce_make_time(args: &[DataType]) -> Result<Vec<DataType>> {
    args_between("make_time", args, 3, 3)?;
    Ok(vec![
        DataType::Int32,
        DataType::Int32,
        DataType::Decimal128(16, 6),
    ])
}

fn coerce_strings(args: &[DataType]) -> Result<Vec<DataType>> {
    args_between("try_to_time", args, 1, 2)?;
    Ok(vec![DataType::Utf8; args.len()])
}

fn coerce_time_diff(args: &[DataType]) -> Result<Vec<DataType>> {
    args_between("time_diff", args, 3, 3)?;
    Ok(vec![DataType::Utf8, time_type(), time_type()])
}

fn out_of_range(what: &str, v: impl std::fmt::Display) -> datafusion::common::DataFusionError {
    datafusion::common::DataFusionError::Execution(format!(
        "[DATETIME_FIELD_OUT_OF_BOUNDS] Invalid value for {what}: {v}; a TIME is within [00:00:00, 23:59:59.999999]."
    ))
}

fn make_time(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let h = a[0].as_primitive::<datafusion::arrow::datatypes::Int32Type>();
    let m = a[1].as_primitive::<datafusion::arrow::datatypes::Int32Type>();
    let s = a[2].as_primitive::<datafusion::arrow::datatypes::Decimal128Type>();
    let mut out = Vec::with_capacity(h.len());
    for i in 0..h.len() {
        if h.is_null(i) || m.is_null(i) || s.is_null(i) {
            out.push(None);
            continue;
        }
        let (h, m, micros) = (h.value(i), m.value(i), s.value(i));
        if !(0..24).contains(&h) {
            return Err(out_of_range("HourOfDay", h));
        }
        if !(0..60).contains(&m) {
            return Err(out_of_range("MinuteOfHour", m));
        }
        if !(0..60_000_000).contains(&micros) {
            return Err(out_of_range("SecondOfMinute", micros as f64 / 1e6));
        }
        out.push(Some(
            (h as i64 * 3600 + m as i64 * 60) * 1_000_000 + micros as i64,
        ));
    }
    Ok(Arc::new(Time64MicrosecondArray::from(out)))
}

fn from_units(a: &[ArrayRef], scale: i64, name: &str) -> Result<ArrayRef> {
    let v = a[0].as_primitive::<Int64Type>();
    let mut out = Vec::with_capacity(v.len());
    for x in v.iter() {
        out.push(match x {
            None => None,
            Some(x) => {
                let micros = x
                    .checked_mul(scale)
                    .filter(|m| (0..MICROS_PER_DAY).contains(m));
                Some(micros.ok_or_else(|| out_of_range(name, x))?)
            }
        });
    }
    Ok(Arc::new(Time64MicrosecondArray::from(out)))
}

fn from_seconds(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let v = a[0].as_primitive::<datafusion::arrow::datatypes::Decimal128Type>();
    let mut out = Vec::with_capacity(v.len());
    for x in v.iter() {
        out.push(match x {
            None => None,
            Some(micros) if (0..MICROS_PER_DAY as i128).contains(&micros) => Some(micros as i64),
            Some(micros) => return Err(out_of_range("time_from_seconds", micros as f64 / 1e6)),
        });
    }
    Ok(Arc::new(Time64MicrosecondArray::from(out)))
}

fn micros_of(a: &ArrayRef) -> Result<Int64Array> {
    let t = cast(a, &time_type())?;
    let t = cast(&t, &DataType::Int64)?;
    Ok(t.as_primitive::<Int64Type>().clone())
}

fn to_units(a: &[ArrayRef], scale: i64) -> Result<ArrayRef> {
    let v = micros_of(&a[0])?;
    Ok(Arc::new(
        v.iter()
            .map(|x| x.map(|m| m / scale))
            .collect::<Int64Array>(),
    ))
}

fn to_seconds(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let v = micros_of(&a[0])?;
    let out: Decimal128Array = v.iter().map(|x| x.map(i128::from)).collect();
    Ok(Arc::new(out.with_precision_and_scale(14, 6)?))
}

/// A TIME from text: Spark's default `HH:mm[:ss[.SSSSSS]]`, or a Java pattern.
fn parse_time(s: &str, pattern: Option<&str>) -> Option<i64> {
    let t = match pattern {
        None => ["%H:%M:%S%.f", "%H:%M"]
            .iter()
            .find_map(|f| NaiveTime::parse_from_str(s.trim(), f).ok())?,
        Some(p) => {
            let f = ember_datasource::values::java_pattern_to_chrono(p);
            NaiveTime::parse_from_str(s, &f).ok()?
        }
    };
    Some(t.num_seconds_from_midnight() as i64 * 1_000_000 + (t.nanosecond() / 1_000) as i64)
}

fn try_to_time(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let s = a[0].as_string::<i32>();
    let p = a.get(1).map(|p| p.as_string::<i32>());
    let out: Time64MicrosecondArray = (0..s.len())
        .map(|i| {
            if s.is_null(i) || p.is_some_and(|p| p.is_null(i)) {
                return None;
            }
            parse_time(s.value(i), p.map(|p| p.value(i)))
        })
        .collect();
    Ok(Arc::new(out))
}

fn time_diff(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let unit = a[0].as_string::<i32>();
    let (start, end) = (micros_of(&a[1])?, micros_of(&a[2])?);
    let mut out = Vec::with_capacity(unit.len());
    for i in 0..unit.len() {
        if unit.is_null(i) || start.is_null(i) || end.is_null(i) {
            out.push(None);
            continue;
        }
        let d = end.value(i) - start.value(i);
        let per = match unit.value(i).to_ascii_uppercase().as_str() {
            "HOUR" => 3_600_000_000,
            "MINUTE" => 60_000_000,
            "SECOND" => 1_000_000,
            "MILLISECOND" => 1_000,
            "MICROSECOND" => 1,
            other => {
                return exec_err!(
                    "[INVALID_PARAMETER_VALUE.TIME_UNIT] The value of parameter `unit` in `time_diff` is invalid: '{other}'."
                )
            }
        };
        out.push(Some(d / per));
    }
    Ok(Arc::new(Int64Array::from(out)))
}
