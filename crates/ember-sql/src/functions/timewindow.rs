//! Spark's time windows: `window(timeColumn, windowDuration[, slideDuration[,
//! startTime]])`, the struct `{start, end}` (both of the time column's timestamp type)
//! of the window a row falls in. Windows are aligned on the Unix epoch in UTC plus
//! `startTime`, as Spark's `TimeWindowing` rule: `start = ts - (ts - startTime) mod
//! slide`, `end = start + windowDuration`, in microseconds.
//!
//! - `window(...)`: a tumbling window (slide = window duration); with a shorter
//!   slide a row belongs to several windows, so this function fails with
//!   `UNSUPPORTED_FEATURE` and callers that can expand rows use
//!   `ember_time_windows` instead.
//! - `ember_time_windows(...)`: the list of every window containing the row, latest
//!   start first (Spark's `Expand` order), for sliding windows: a grouping by
//!   `window(ts, '10 minutes', '5 minutes')` unnests it.
//!
//! Durations are Spark interval strings (`'1 day'`, `'2 hours 30 minutes'`,
//! `'interval 10 seconds'`, `'500 milliseconds'`, `'1 week'`); months and years are
//! refused as Spark refuses them.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListArray, StructArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::kernels::cast::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Int64Type, TimeUnit};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// A Spark interval string as microseconds. Errors with Spark's messages for text
/// that is not an interval or one that has months.
pub fn interval_micros(text: &str) -> Result<i64> {
    let lower = text.trim().to_ascii_lowercase();
    let body = lower.strip_prefix("interval").unwrap_or(&lower).trim();
    let words: Vec<&str> = body.split_whitespace().collect();
    let bad = || -> Result<i64> {
        plan_err!("[CANNOT_PARSE_INTERVAL] Unable to parse '{text}'. Please ensure that the value provided is in a valid format for defining an interval.")
    };
    if words.is_empty() || words.len() % 2 != 0 {
        return bad();
    }
    let mut total: i128 = 0;
    for pair in words.chunks(2) {
        let Ok(n) = pair[0].parse::<f64>() else {
            return bad();
        };
        let unit = pair[1].trim_end_matches('s');
        let per: f64 = match unit {
            "week" => 7.0 * MICROS_PER_DAY as f64,
            "day" => MICROS_PER_DAY as f64,
            "hour" => 3_600.0 * MICROS_PER_SECOND as f64,
            "minute" => 60.0 * MICROS_PER_SECOND as f64,
            "second" => MICROS_PER_SECOND as f64,
            "millisecond" => 1_000.0,
            "microsecond" => 1.0,
            "month" | "year" => {
                return plan_err!("Intervals greater than a month is not supported ({text}).")
            }
            _ => return bad(),
        };
        total += (n * per).round() as i128;
    }
    i64::try_from(total).or_else(|_| bad())
}

/// Window duration, slide and start (µs), checked as Spark's `TimeWindow`.
fn spec(args: &[ColumnarValue]) -> Result<(i64, i64, i64)> {
    let text = |i: usize| -> Result<Option<String>> {
        match args.get(i) {
            None => Ok(None),
            Some(ColumnarValue::Scalar(s)) => match s {
                ScalarValue::Utf8(Some(t)) | ScalarValue::LargeUtf8(Some(t)) | ScalarValue::Utf8View(Some(t)) => {
                    Ok(Some(t.clone()))
                }
                _ => plan_err!("[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] the durations of window must be string literals"),
            },
            Some(_) => plan_err!("[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] the durations of window must be string literals"),
        }
    };
    let Some(w) = text(1)? else {
        return plan_err!("window requires a time column and a window duration");
    };
    let window = interval_micros(&w)?;
    let slide = match text(2)? {
        Some(s) => interval_micros(&s)?,
        None => window,
    };
    let start = match text(3)? {
        Some(s) => interval_micros(&s)?,
        None => 0,
    };
    if window <= 0 {
        return plan_err!("[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] The window duration ({window}) must be greater than 0.");
    }
    if slide <= 0 {
        return plan_err!("[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] The slide duration ({slide}) must be greater than 0.");
    }
    if slide > window {
        return plan_err!("[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] The slide duration ({slide}) must be less than or equal to the windowDuration ({window}).");
    }
    if start.abs() >= slide {
        return plan_err!("[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] The absolute value of start time ({start}) must be less than the slideDuration ({slide}).");
    }
    Ok((window, slide, start))
}

/// The `{start, end}` struct type for a time column of type `ts`.
fn window_type(ts: &DataType) -> DataType {
    DataType::Struct(window_fields(ts))
}

fn window_fields(ts: &DataType) -> Fields {
    Fields::from(vec![
        Field::new("start", ts.clone(), true),
        Field::new("end", ts.clone(), true),
    ])
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TimeWindow {
    /// `ember_time_windows`: all windows as a list.
    all: bool,
    signature: Signature,
}

/// `window(timeColumn, windowDuration[, slideDuration[, startTime]])`.
pub fn window_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(TimeWindow {
        all: false,
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

/// `ember_time_windows(...)`: every window containing the row (sliding windows).
pub fn time_windows_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(TimeWindow {
        all: true,
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

/// Whether `window(...)`'s durations (literal strings) make a sliding window.
pub fn is_sliding(window: &str, slide: &str) -> Result<bool> {
    Ok(interval_micros(slide)? != interval_micros(window)?)
}

impl ScalarUDFImpl for TimeWindow {
    fn name(&self) -> &str {
        if self.all {
            "ember_time_windows"
        } else {
            "window"
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=4).contains(&t.len()) {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `window` requires [2, 4] parameters but the actual number is {}.",
                t.len()
            );
        }
        let ts = match &t[0] {
            DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            DataType::Date32 | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
                DataType::Timestamp(TimeUnit::Microsecond, None)
            }
            other => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve window: the first parameter requires the \"TIMESTAMP\" or \"TIMESTAMP_NTZ\" type, however it has the type \"{other}\"."
                )
            }
        };
        let mut out = vec![ts];
        out.extend(std::iter::repeat_n(DataType::Utf8, t.len() - 1));
        Ok(out)
    }
    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        // Spark's window struct is not nullable (rows without a time are dropped;
        // where they are not, the struct holds NULL start and end).
        Ok(Arc::new(Field::new(
            self.name(),
            self.return_type(&types)?,
            self.all,
        )))
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        let w = window_type(&t[0]);
        Ok(if self.all {
            DataType::List(Arc::new(Field::new_list_field(w, true)))
        } else {
            w
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (window, slide, start) = spec(&args.args)?;
        let ts_type = args.args[0].data_type();
        let ts = args.args[0].to_array(args.number_rows)?;
        let micros = cast(&ts, &DataType::Int64)?;
        let micros = micros.as_primitive::<Int64Type>();
        let last_start = |t: i64| t - (t - start).rem_euclid(slide);
        let fields = window_fields(&ts_type);
        let to_ts = |v: Int64Array| cast(&v, &ts_type);
        if !self.all {
            if slide != window {
                return exec_err!(
                    "[UNSUPPORTED_FEATURE] window() with a slide duration shorter than the window duration is supported in groupBy only"
                );
            }
            let starts: Int64Array = micros.iter().map(|t| t.map(last_start)).collect();
            let ends: Int64Array = starts.iter().map(|s| s.map(|s| s + window)).collect();
            let s = StructArray::try_new(fields, vec![to_ts(starts)?, to_ts(ends)?], None)?;
            return Ok(ColumnarValue::Array(Arc::new(s)));
        }
        let n = (window + slide - 1) / slide;
        let (mut starts, mut ends, mut offsets) = (Vec::new(), Vec::new(), vec![0i32]);
        for t in micros.iter() {
            if let Some(t) = t {
                let last = last_start(t);
                for i in 0..n {
                    let s = last - i * slide;
                    if t >= s && t < s + window {
                        starts.push(s);
                        ends.push(s + window);
                    }
                }
            }
            offsets.push(starts.len() as i32);
        }
        let s = StructArray::try_new(
            fields.clone(),
            vec![
                to_ts(Int64Array::from(starts))?,
                to_ts(Int64Array::from(ends))?,
            ],
            None,
        )?;
        let item = Arc::new(Field::new_list_field(DataType::Struct(fields), true));
        let nulls: Option<NullBuffer> = micros.nulls().cloned();
        let list = ListArray::try_new(
            item,
            OffsetBuffer::new(offsets.into()),
            Arc::new(s) as ArrayRef,
            nulls,
        )?;
        Ok(ColumnarValue::Array(Arc::new(list)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spark_interval_strings() {
        assert_eq!(interval_micros("1 day").unwrap(), MICROS_PER_DAY);
        assert_eq!(
            interval_micros("interval 2 hours 30 minutes").unwrap(),
            9_000 * MICROS_PER_SECOND
        );
        assert_eq!(interval_micros("500 milliseconds").unwrap(), 500_000);
        assert_eq!(interval_micros("1 week").unwrap(), 7 * MICROS_PER_DAY);
        assert!(interval_micros("1 month")
            .unwrap_err()
            .to_string()
            .contains("greater than a month"));
        assert!(interval_micros("soon").is_err());
    }

    #[test]
    fn checks_durations_as_spark() {
        let s = |v: &str| ColumnarValue::Scalar(ScalarValue::Utf8(Some(v.into())));
        let ts = ColumnarValue::Scalar(ScalarValue::Null);
        assert_eq!(
            spec(&[ts.clone(), s("10 minutes"), s("5 minutes")]).unwrap(),
            (600_000_000, 300_000_000, 0)
        );
        let e = spec(&[ts.clone(), s("5 minutes"), s("10 minutes")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("must be less than or equal to the windowDuration"),
            "{e}"
        );
        let e = spec(&[ts, s("10 minutes"), s("5 minutes"), s("6 minutes")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("absolute value of start time"), "{e}");
    }
}
