//! Spark's `sequence(start, stop[, step])`: the array from `start` to `stop`
//! (inclusive) by `step`.
//!
//! - Integers (`tinyint`..`bigint`, the wider of the two bounds' types): `step`
//!   defaults to 1, or -1 when `start > stop`.
//! - Dates: `step` defaults to one day (or minus one); an interval step
//!   (`interval 1 month`, `interval 2 days`) moves by months then days.
//! - Timestamps: `step` is an interval (months, days, microseconds).
//!
//! NULL when any argument is NULL. A step of the wrong sign (or zero while
//! `start != stop`) fails with Spark's `Illegal sequence boundaries`; more than
//! 2^31 - 15 elements fail with `COLLECTION_SIZE_LIMIT_EXCEEDED`.

use std::sync::Arc;

use chrono::{Duration, Months, NaiveDate};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Builder, Int64Builder, ListBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Field, Int64Type, IntervalMonthDayNanoType, TimeUnit,
    TimestampMicrosecondType,
};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

const MAX_ELEMENTS: i64 = i32::MAX as i64 - 15;

/// `sequence`, as a scalar UDF.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Sequence {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Sequence {
    signature: Signature,
}

fn int_rank(t: &DataType) -> Option<u8> {
    Some(match t {
        DataType::Int8 => 1,
        DataType::Int16 | DataType::UInt8 => 2,
        DataType::Int32 | DataType::UInt16 => 3,
        DataType::Int64 | DataType::UInt32 => 4,
        DataType::Null => 0,
        _ => return None,
    })
}

fn element_type(args: &[DataType]) -> Option<DataType> {
    let (a, b) = (&args[0], &args[1]);
    let is_ts = |t: &DataType| matches!(t, DataType::Timestamp(..));
    if is_ts(a) || is_ts(b) {
        let tz = match (a, b) {
            (DataType::Timestamp(_, tz), _) | (_, DataType::Timestamp(_, tz)) => tz.clone(),
            _ => None,
        };
        return Some(DataType::Timestamp(TimeUnit::Microsecond, tz));
    }
    if matches!(a, DataType::Date32 | DataType::Utf8)
        && matches!(b, DataType::Date32 | DataType::Utf8)
        && (a == &DataType::Date32 || b == &DataType::Date32)
    {
        return Some(DataType::Date32);
    }
    let r = int_rank(a)?.max(int_rank(b)?);
    Some(match r {
        0..=1 => DataType::Int8,
        2 => DataType::Int16,
        3 => DataType::Int32,
        _ => DataType::Int64,
    })
}

impl ScalarUDFImpl for Sequence {
    fn name(&self) -> &str {
        "sequence"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&args.len()) {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `sequence` requires [2, 3] parameters but the actual number is {}.",
                args.len()
            );
        }
        let Some(t) = element_type(args) else {
            return plan_err!(
                "[DATATYPE_MISMATCH.SEQUENCE_WRONG_INPUT_TYPES] Cannot resolve \"sequence\": `sequence` uses the wrong parameter type. The parameter type must conform to: 1. The start and stop expressions must resolve to the same type. 2. If start and stop expressions resolve to the \"DATE\" or \"TIMESTAMP\" type then the step expression must resolve to the \"INTERVAL\" type, otherwise to the same type as the start and stop expressions. Got {args:?}."
            );
        };
        let mut out = vec![t.clone(), t.clone()];
        if args.len() == 3 {
            out.push(match t {
                DataType::Date32 | DataType::Timestamp(..) => {
                    DataType::Interval(datafusion::arrow::datatypes::IntervalUnit::MonthDayNano)
                }
                other => other,
            });
        }
        Ok(out)
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new_list_field(
            args[0].clone(),
            false,
        ))))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(n))
            .collect::<Result<_>>()?;
        let t = arrays[0].data_type().clone();
        let out: ArrayRef = match &t {
            DataType::Date32 => dates(&arrays)?,
            DataType::Timestamp(_, tz) => timestamps(&arrays, tz.clone())?,
            _ => ints(&arrays, &t)?,
        };
        Ok(ColumnarValue::Array(out))
    }
}

fn illegal(
    start: impl std::fmt::Display,
    stop: impl std::fmt::Display,
    step: impl std::fmt::Display,
) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::Execution(format!(
        "Illegal sequence boundaries: {start} to {stop} by {step}"
    ))
}

fn too_long(n: i64) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::Execution(format!(
        "[COLLECTION_SIZE_LIMIT_EXCEEDED.PARAMETER] Can't create array with {n} elements which exceeding the array size limit 2147483632."
    ))
}

fn ints(a: &[ArrayRef], t: &DataType) -> Result<ArrayRef> {
    let cast = |x: &ArrayRef| datafusion::arrow::compute::cast(x, &DataType::Int64);
    let start = cast(&a[0])?;
    let stop = cast(&a[1])?;
    let step = a.get(2).map(cast).transpose()?;
    let (start, stop) = (
        start.as_primitive::<Int64Type>(),
        stop.as_primitive::<Int64Type>(),
    );
    let step = step.as_ref().map(|s| s.as_primitive::<Int64Type>());
    let mut b = ListBuilder::new(Int64Builder::new())
        .with_field(Arc::new(Field::new_list_field(DataType::Int64, false)));
    for i in 0..start.len() {
        if start.is_null(i) || stop.is_null(i) || step.is_some_and(|s| s.is_null(i)) {
            b.append_null();
            continue;
        }
        let (x, y) = (start.value(i), stop.value(i));
        let s = step
            .map(|s| s.value(i))
            .unwrap_or(if x <= y { 1 } else { -1 });
        if (s == 0 && x != y) || (s > 0 && x > y) || (s < 0 && x < y) {
            return Err(illegal(x, y, s));
        }
        let count = if s == 0 {
            1
        } else {
            (y as i128 - x as i128) / s as i128 + 1
        };
        if count > MAX_ELEMENTS as i128 {
            return Err(too_long(count as i64));
        }
        let mut v = x as i128;
        for _ in 0..count {
            b.values().append_value(v as i64);
            v += s as i128;
        }
        b.append(true);
    }
    let list: ArrayRef = Arc::new(b.finish());
    Ok(datafusion::arrow::compute::cast(
        &list,
        &DataType::List(Arc::new(Field::new_list_field(t.clone(), false))),
    )?)
}

/// A month/day/microsecond step of an interval argument.
fn step_of(a: Option<&ArrayRef>, i: usize) -> Option<(i32, i32, i64)> {
    let s = a?.as_primitive::<IntervalMonthDayNanoType>();
    if s.is_null(i) {
        return None;
    }
    let v = s.value(i);
    Some((v.months, v.days, v.nanoseconds / 1000))
}

fn dates(a: &[ArrayRef]) -> Result<ArrayRef> {
    let start = a[0].as_primitive::<Date32Type>();
    let stop = a[1].as_primitive::<Date32Type>();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let mut b = ListBuilder::new(Date32Builder::new())
        .with_field(Arc::new(Field::new_list_field(DataType::Date32, false)));
    for i in 0..start.len() {
        if start.is_null(i) || stop.is_null(i) || (a.len() > 2 && a[2].is_null(i)) {
            b.append_null();
            continue;
        }
        let (x, y) = (start.value(i), stop.value(i));
        let (months, days, micros) =
            step_of(a.get(2), i).unwrap_or((0, if x <= y { 1 } else { -1 }, 0));
        let days = days as i64 + micros / 86_400_000_000;
        let forward = months > 0 || (months == 0 && days > 0);
        let backward = months < 0 || (months == 0 && days < 0);
        if (!forward && !backward && x != y) || (forward && x > y) || (backward && x < y) {
            return Err(illegal(x, y, format!("{months} months {days} days")));
        }
        let start_date = epoch + Duration::days(x as i64);
        let mut k: i64 = 0;
        loop {
            let m = months as i64 * k;
            let shifted = if m >= 0 {
                start_date.checked_add_months(Months::new(m as u32))
            } else {
                start_date.checked_sub_months(Months::new((-m) as u32))
            };
            let Some(d) = shifted.and_then(|d| d.checked_add_signed(Duration::days(days * k)))
            else {
                break;
            };
            let v = (d - epoch).num_days() as i32;
            if (forward && v > y) || (backward && v < y) || (!forward && !backward && k > 0) {
                break;
            }
            b.values().append_value(v);
            k += 1;
            if k > MAX_ELEMENTS {
                return Err(too_long(k));
            }
        }
        b.append(true);
    }
    Ok(Arc::new(b.finish()))
}

fn timestamps(a: &[ArrayRef], tz: Option<Arc<str>>) -> Result<ArrayRef> {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, tz.clone());
    let start = datafusion::arrow::compute::cast(&a[0], &ts)?;
    let stop = datafusion::arrow::compute::cast(&a[1], &ts)?;
    let (start, stop) = (
        start.as_primitive::<TimestampMicrosecondType>(),
        stop.as_primitive::<TimestampMicrosecondType>(),
    );
    let zone: chrono_tz::Tz = tz
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let mut b = ListBuilder::new(TimestampMicrosecondBuilder::new().with_timezone_opt(tz.clone()))
        .with_field(Arc::new(Field::new_list_field(ts.clone(), false)));
    for i in 0..start.len() {
        if start.is_null(i) || stop.is_null(i) || a.len() < 3 || a[2].is_null(i) {
            if a.len() < 3 && !start.is_null(i) && !stop.is_null(i) {
                return exec_err!("sequence of timestamps needs an interval step");
            }
            b.append_null();
            continue;
        }
        let (x, y) = (start.value(i), stop.value(i));
        let Some((months, days, micros)) = step_of(a.get(2), i) else {
            b.append_null();
            continue;
        };
        let forward = months > 0 || (months == 0 && (days > 0 || (days == 0 && micros > 0)));
        let backward = months < 0 || (months == 0 && (days < 0 || (days == 0 && micros < 0)));
        if (!forward && !backward && x != y) || (forward && x > y) || (backward && x < y) {
            return Err(illegal(
                x,
                y,
                format!("{months} months {days} days {micros} us"),
            ));
        }
        let Some(t0) = chrono::DateTime::from_timestamp_micros(x) else {
            b.append_null();
            continue;
        };
        let local = t0.with_timezone(&zone).naive_local();
        let mut k: i64 = 0;
        loop {
            let m = months as i64 * k;
            let shifted = if m >= 0 {
                local.checked_add_months(Months::new(m as u32))
            } else {
                local.checked_sub_months(Months::new((-m) as u32))
            };
            let Some(l) =
                shifted.and_then(|l| l.checked_add_signed(Duration::days(days as i64 * k)))
            else {
                break;
            };
            let Some(utc) = l.and_local_timezone(zone).earliest() else {
                break;
            };
            let v = utc.timestamp_micros() + micros * k;
            if (forward && v > y) || (backward && v < y) || (!forward && !backward && k > 0) {
                break;
            }
            b.values().append_value(v);
            k += 1;
            if k > MAX_ELEMENTS {
                return Err(too_long(k));
            }
        }
        b.append(true);
    }
    Ok(Arc::new(b.finish()))
}
