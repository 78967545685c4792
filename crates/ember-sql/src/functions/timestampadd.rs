//! Spark's `timestampadd(unit, quantity, ts)` and `timestampdiff(unit, start, end)`
//! (PySpark `timestamp_add` / `timestamp_diff`), as `DateTimeUtils.timestampAdd` /
//! `timestampDiff`: units up to `HOUR` are exact microsecond arithmetic; `DAY`,
//! `DAYOFYEAR`, `WEEK`, `MONTH`, `QUARTER` and `YEAR` work on the local date-time in
//! the session time zone (months clamp the day: Jan 31 + 1 month = Feb 28/29), and a
//! difference counts whole units between the two local date-times (`ChronoUnit.between`).
//! Units are case-insensitive; others fail with Spark's `INVALID_PARAMETER_VALUE.DATETIME_UNIT`.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Months, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::compute::kernels::cast::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit};
use datafusion::common::{exec_err, plan_err, Result};

const MICROS: [(&str, i64); 5] = [
    ("MICROSECOND", 1),
    ("MILLISECOND", 1_000),
    ("SECOND", 1_000_000),
    ("MINUTE", 60_000_000),
    ("HOUR", 3_600_000_000),
];

fn unit_of(u: &str, func: &str) -> Result<String> {
    let up = u.trim().to_ascii_uppercase();
    let known = MICROS.iter().any(|(n, _)| *n == up)
        || matches!(
            up.as_str(),
            "DAY" | "DAYOFYEAR" | "WEEK" | "MONTH" | "QUARTER" | "YEAR"
        );
    if !known {
        return exec_err!(
            "[INVALID_PARAMETER_VALUE.DATETIME_UNIT] The value of parameter(s) `unit` in `{func}` is invalid: expects one of the units without quotes YEAR, QUARTER, MONTH, WEEK, DAY, DAYOFYEAR, HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND, but got the string literal '{u}'."
        );
    }
    Ok(up)
}

fn local(micros: i64, tz: &Tz) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(micros).map(|t| t.with_timezone(tz).naive_local())
}

fn to_micros(t: NaiveDateTime, tz: &Tz) -> Option<i64> {
    // A wall-clock time in a gap or overlap resolves as java.time does: the earlier offset.
    let z = tz.from_local_datetime(&t);
    z.earliest()
        .or_else(|| {
            tz.from_local_datetime(&(t + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|d| d.timestamp_micros())
}

/// `ts` plus `n` units, in microseconds; `None` on overflow.
pub fn add(unit: &str, n: i64, ts: i64, tz: &Tz) -> Option<i64> {
    if let Some((_, m)) = MICROS.iter().find(|(u, _)| *u == unit) {
        return ts.checked_add(n.checked_mul(*m)?);
    }
    let t = local(ts, tz)?;
    let months = |k: i64| -> Option<NaiveDateTime> {
        if k >= 0 {
            t.checked_add_months(Months::new(u32::try_from(k).ok()?))
        } else {
            t.checked_sub_months(Months::new(u32::try_from(-k).ok()?))
        }
    };
    let out = match unit {
        "DAY" | "DAYOFYEAR" => t.checked_add_signed(chrono::Duration::try_days(n)?)?,
        "WEEK" => t.checked_add_signed(chrono::Duration::try_days(n.checked_mul(7)?)?)?,
        "MONTH" => months(n)?,
        "QUARTER" => months(n.checked_mul(3)?)?,
        "YEAR" => months(n.checked_mul(12)?)?,
        _ => return None,
    };
    to_micros(out, tz)
}

/// Whole months from `a` to `b` (java.time's `ChronoUnit.MONTHS.between`).
fn months_between(a: NaiveDateTime, b: NaiveDateTime) -> i64 {
    let total = |t: NaiveDateTime| t.year() as i64 * 12 + t.month0() as i64;
    let mut m = total(b) - total(a);
    // The rest of the date-time (day, time of day) decides whether the last month is whole.
    let rest = |t: NaiveDateTime| (t.day(), t.time());
    if m > 0 && rest(b) < rest(a) {
        m -= 1;
    } else if m < 0 && rest(b) > rest(a) {
        m += 1;
    }
    m
}

/// Whole units from `start` to `end` (µs).
pub fn diff(unit: &str, start: i64, end: i64, tz: &Tz) -> Option<i64> {
    if let Some((_, m)) = MICROS.iter().find(|(u, _)| *u == unit) {
        return Some((end - start) / m);
    }
    let (a, b) = (local(start, tz)?, local(end, tz)?);
    let days = || {
        let d = (b - a).num_microseconds().unwrap_or(0);
        d / 86_400_000_000
    };
    Some(match unit {
        "DAY" | "DAYOFYEAR" => days(),
        "WEEK" => days() / 7,
        "MONTH" => months_between(a, b),
        "QUARTER" => months_between(a, b) / 3,
        "YEAR" => months_between(a, b) / 12,
        _ => return None,
    })
}

/// Argument types: `(string, bigint, timestamp)` / `(string, timestamp, timestamp)`.
pub(super) fn coerce_add(t: &[DataType]) -> Result<Vec<DataType>> {
    super::args_between("timestampadd", t, 3, 3)?;
    Ok(vec![DataType::Utf8, DataType::Int64, ts_of(&t[2])])
}

pub(super) fn coerce_diff(t: &[DataType]) -> Result<Vec<DataType>> {
    super::args_between("timestampdiff", t, 3, 3)?;
    Ok(vec![DataType::Utf8, ts_of(&t[1]), ts_of(&t[2])])
}

fn ts_of(t: &DataType) -> DataType {
    match t {
        DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
        // A date or a string is read as a wall-clock time.
        _ => DataType::Timestamp(TimeUnit::Microsecond, None),
    }
}

pub(super) fn add_type(t: &[DataType]) -> Result<DataType> {
    match t.get(2) {
        Some(t @ DataType::Timestamp(..)) => Ok(t.clone()),
        _ => plan_err!("timestampadd takes a timestamp"),
    }
}

fn micros(a: &ArrayRef) -> Result<ArrayRef> {
    Ok(cast(
        &cast(a, &DataType::Timestamp(TimeUnit::Microsecond, None))?,
        &DataType::Int64,
    )?)
}

pub(super) fn add_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    let units = a[0].as_string::<i32>();
    let n = a[1].as_primitive::<Int64Type>();
    let ts = micros(&a[2])?;
    let ts = ts.as_primitive::<Int64Type>();
    let mut out = Vec::with_capacity(ts.len());
    for i in 0..ts.len() {
        if units.is_null(i) || n.is_null(i) || ts.is_null(i) {
            out.push(None);
            continue;
        }
        let unit = unit_of(units.value(i), "timestampadd")?;
        match add(&unit, n.value(i), ts.value(i), tz) {
            Some(v) => out.push(Some(v)),
            None => {
                return exec_err!(
                    "[DATETIME_OVERFLOW] Datetime operation overflow: add {} {unit} to TIMESTAMP.",
                    n.value(i)
                )
            }
        }
    }
    let arr = TimestampMicrosecondArray::from(out);
    Ok(cast(&arr, a[2].data_type())?)
}

pub(super) fn diff_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    let units = a[0].as_string::<i32>();
    let (s, e) = (micros(&a[1])?, micros(&a[2])?);
    let (s, e) = (s.as_primitive::<Int64Type>(), e.as_primitive::<Int64Type>());
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        if units.is_null(i) || s.is_null(i) || e.is_null(i) {
            out.push(None);
            continue;
        }
        let unit = unit_of(units.value(i), "timestampdiff")?;
        out.push(diff(&unit, s.value(i), e.value(i), tz));
    }
    Ok(Arc::new(Int64Array::from(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .unwrap()
            .and_utc()
            .timestamp_micros()
    }

    #[test]
    fn adds_as_spark() {
        let utc = chrono_tz::UTC;
        assert_eq!(
            add("YEAR", 2, ts("2016-03-11 09:00:07"), &utc),
            Some(ts("2018-03-11 09:00:07"))
        );
        assert_eq!(
            add("WEEK", 5, ts("2016-03-11 09:00:07"), &utc),
            Some(ts("2016-04-15 09:00:07"))
        );
        assert_eq!(
            add("DAY", -5, ts("2024-04-02 09:00:07"), &utc),
            Some(ts("2024-03-28 09:00:07"))
        );
        assert_eq!(
            add("MONTH", 1, ts("2024-01-31 00:00:00"), &utc),
            Some(ts("2024-02-29 00:00:00"))
        );
        assert_eq!(
            add("HOUR", 25, ts("2024-01-31 00:00:00"), &utc),
            Some(ts("2024-02-01 01:00:00"))
        );
    }

    #[test]
    fn diffs_as_spark() {
        let utc = chrono_tz::UTC;
        let (a, b) = (ts("2016-03-11 09:00:07"), ts("2024-04-02 09:00:07"));
        assert_eq!(diff("YEAR", a, b, &utc), Some(8));
        assert_eq!(diff("WEEK", a, b, &utc), Some(420));
        assert_eq!(diff("DAY", b, a, &utc), Some(-2944));
        assert_eq!(
            diff(
                "MONTH",
                ts("2024-01-31 00:00:00"),
                ts("2024-02-29 00:00:00"),
                &utc
            ),
            Some(0)
        );
        assert_eq!(
            diff(
                "MONTH",
                ts("2024-01-29 00:00:00"),
                ts("2024-02-29 00:00:00"),
                &utc
            ),
            Some(1)
        );
    }

    #[test]
    fn refuses_unknown_units() {
        assert!(unit_of("fortnight", "timestampadd")
            .unwrap_err()
            .to_string()
            .contains("DATETIME_UNIT"));
    }
}
