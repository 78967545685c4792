//! Spark's timestamp constructors, as Spark 4's `MakeTimestamp` family:
//!
//! - `make_timestamp(year, month, day, hour, min, sec[, timezone])` and
//!   `make_timestamp(date, time[, timezone])`: a `TIMESTAMP` (session zone) for the
//!   wall-clock time read in `timezone` (the session zone when absent);
//!   `make_timestamp_ltz` is the same function (`TIMESTAMP` is `TIMESTAMP_LTZ` under
//!   Spark's default `spark.sql.timestampType`).
//! - `make_timestamp_ntz(year, month, day, hour, min, sec)` and
//!   `make_timestamp_ntz(date, time)`: a `TIMESTAMP_NTZ` (no zone).
//! - `try_make_timestamp`, `try_make_timestamp_ltz`, `try_make_timestamp_ntz`: NULL
//!   where the plain forms raise an error.
//!
//! Fields are `INT`s; `sec` is `DECIMAL(16, 6)` (microseconds kept, more digits
//! rounded by the cast, as Spark's implicit cast). `sec = 60` with no fraction carries
//! into the next minute, as Spark does. Out-of-range fields raise
//! `DATETIME_FIELD_OUT_OF_BOUNDS` (ANSI mode, Spark 4's default) naming the field as
//! Java's `ChronoField` does (`MonthOfYear`, `DayOfMonth`, ...); an unknown zone
//! raises `INVALID_TIMEZONE`.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Decimal128Array, StringArray, Time64MicrosecondArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Int32Type, TimeUnit};
use datafusion::common::{exec_err, DataFusionError, Result};
use datafusion::logical_expr::ScalarUDF;

use super::{args_between, udf_coerced, SESSION_TZ};

/// The functions of this module for a session in time zone `tz`.
pub fn functions(tz: &str) -> Vec<ScalarUDF> {
    let ltz = |_: &[DataType]| {
        Ok(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some(Arc::from(SESSION_TZ)),
        ))
    };
    let ntz = |_: &[DataType]| Ok(DataType::Timestamp(TimeUnit::Microsecond, None));
    vec![
        udf_coerced("make_timestamp", coerce_ltz, ltz, make_ltz, tz)
            .with_aliases(["make_timestamp_ltz"]),
        udf_coerced("try_make_timestamp", coerce_ltz, ltz, try_make_ltz, tz)
            .with_aliases(["try_make_timestamp_ltz"]),
        udf_coerced("make_timestamp_ntz", coerce_ntz, ntz, make_ntz, tz),
        udf_coerced("try_make_timestamp_ntz", coerce_ntz, ntz, try_make_ntz, tz),
    ]
}

const SEC: DataType = DataType::Decimal128(16, 6);

/// Six fields and an optional zone, or a date, a time and an optional zone.
fn coerce_ltz(args: &[DataType]) -> Result<Vec<DataType>> {
    args_between("make_timestamp", args, 2, 7)?;
    match args.len() {
        2 | 3 => Ok([
            vec![DataType::Date32, DataType::Time64(TimeUnit::Microsecond)],
            vec![DataType::Utf8; args.len() - 2],
        ]
        .concat()),
        6 | 7 => Ok([
            vec![DataType::Int32; 5],
            vec![SEC],
            vec![DataType::Utf8; args.len() - 6],
        ]
        .concat()),
        n => exec_err!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `make_timestamp` requires [2, 3, 6, 7] parameters but the actual number is {n}."
        ),
    }
}

/// Six fields, or a date and a time.
fn coerce_ntz(args: &[DataType]) -> Result<Vec<DataType>> {
    match args.len() {
        2 => Ok(vec![DataType::Date32, DataType::Time64(TimeUnit::Microsecond)]),
        6 => Ok([vec![DataType::Int32; 5], vec![SEC]].concat()),
        n => exec_err!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `make_timestamp_ntz` requires [2, 6] parameters but the actual number is {n}."
        ),
    }
}

fn make_ltz(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    build(a, Some(tz), false)
}
fn try_make_ltz(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    build(a, Some(tz), true)
}
fn make_ntz(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    build(a, None, false)
}
fn try_make_ntz(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    build(a, None, true)
}

/// Row by row: the local date-time of the arguments, then (for a zoned result) the
/// instant of that wall-clock time in the row's zone. `session` is `None` for NTZ.
fn build(a: &[ArrayRef], session: Option<&Tz>, try_: bool) -> Result<ArrayRef> {
    let fields = a.len() >= 6;
    let zone_arg = if fields { a.get(6) } else { a.get(2) };
    let zones: Option<&StringArray> = zone_arg.map(|z| z.as_string::<i32>());
    let n = a.first().map(|x| x.len()).unwrap_or(0);
    let mut out: Vec<Option<i64>> = Vec::with_capacity(n);
    for i in 0..n {
        if a.iter().any(|x| x.is_null(i)) {
            out.push(None);
            continue;
        }
        let local = if fields {
            let ints: Vec<i32> = a[..5]
                .iter()
                .map(|x| x.as_primitive::<Int32Type>().value(i))
                .collect();
            let sec = a[5]
                .as_any()
                .downcast_ref::<Decimal128Array>()
                .map(|d| d.value(i))
                .unwrap_or_default();
            local_of_fields(ints[0], ints[1], ints[2], ints[3], ints[4], sec)
        } else {
            local_of_date_time(&a[0], &a[1], i)
        };
        let dt = match local {
            Ok(dt) => dt,
            Err(_) if try_ => {
                out.push(None);
                continue;
            }
            Err(e) => return Err(e),
        };
        // An unknown zone fails even the try_ forms, as Spark's.
        out.push(Some(match (session, zones) {
            (None, _) => dt.and_utc().timestamp_micros(),
            (Some(_), Some(z)) => parse_zone(z.value(i))?.instant_micros(&dt),
            (Some(stz), None) => Zone::Named(*stz).instant_micros(&dt),
        }));
    }
    let arr = TimestampMicrosecondArray::from(out);
    Ok(Arc::new(match session {
        Some(tz) => arr.with_timezone(tz.name().to_string()),
        None => arr,
    }))
}

fn out_of_bounds(field: &str, range: &str, v: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!(
        "[DATETIME_FIELD_OUT_OF_BOUNDS.WITHOUT_SUGGESTION] Invalid value for {field} (valid values {range}): {v}.  SQLSTATE: 22023"
    ))
}

/// The local date-time of Spark's six fields; `sec_micros` is the seconds in
/// microseconds (`DECIMAL(16, 6)` unscaled).
fn local_of_fields(
    year: i32,
    month: i32,
    day: i32,
    hour: i32,
    min: i32,
    sec_micros: i128,
) -> Result<NaiveDateTime> {
    if !(1..=12).contains(&month) {
        return Err(out_of_bounds("MonthOfYear", "1 - 12", month));
    }
    if !(1..=31).contains(&day) {
        return Err(out_of_bounds("DayOfMonth", "1 - 28/31", day));
    }
    if !(0..=23).contains(&hour) {
        return Err(out_of_bounds("HourOfDay", "0 - 23", hour));
    }
    if !(0..=59).contains(&min) {
        return Err(out_of_bounds("MinuteOfHour", "0 - 59", min));
    }
    let whole = sec_micros.div_euclid(1_000_000);
    let frac = sec_micros.rem_euclid(1_000_000);
    let carry = whole == 60 && frac == 0;
    if !(0..=59).contains(&whole) && !carry {
        let shown = format!("{}", sec_micros as f64 / 1e6);
        return Err(if whole == 60 {
            DataFusionError::Execution(format!(
                "[INVALID_FRACTION_OF_SECOND] Valid range for seconds is [0, 60] (inclusive), but the provided value is {shown}. To avoid this error, use `try_make_timestamp`, which returns NULL on error. SQLSTATE: 22023"
            ))
        } else {
            out_of_bounds("SecondOfMinute", "0 - 59", whole)
        });
    }
    let date = NaiveDate::from_ymd_opt(year, month as u32, day as u32).ok_or_else(|| {
        DataFusionError::Execution(format!(
            "[DATETIME_FIELD_OUT_OF_BOUNDS.WITHOUT_SUGGESTION] Invalid date '{} {day}'.  SQLSTATE: 22023",
            month_name(month)
        ))
    })?;
    let secs = if carry { 0 } else { whole as u32 };
    let time = NaiveTime::from_hms_micro_opt(hour as u32, min as u32, secs, frac as u32)
        .ok_or_else(|| out_of_bounds("SecondOfMinute", "0 - 59", whole))?;
    let dt = date.and_time(time);
    Ok(if carry {
        dt + chrono::Duration::minutes(1)
    } else {
        dt
    })
}

fn month_name(m: i32) -> &'static str {
    const NAMES: [&str; 12] = [
        "JANUARY",
        "FEBRUARY",
        "MARCH",
        "APRIL",
        "MAY",
        "JUNE",
        "JULY",
        "AUGUST",
        "SEPTEMBER",
        "OCTOBER",
        "NOVEMBER",
        "DECEMBER",
    ];
    NAMES.get((m - 1) as usize).copied().unwrap_or("?")
}

fn local_of_date_time(date: &ArrayRef, time: &ArrayRef, i: usize) -> Result<NaiveDateTime> {
    let days = date
        .as_any()
        .downcast_ref::<Date32Array>()
        .map(|d| d.value(i))
        .unwrap_or_default();
    let micros = time
        .as_any()
        .downcast_ref::<Time64MicrosecondArray>()
        .map(|t| t.value(i))
        .unwrap_or_default();
    let d = NaiveDate::from_num_days_from_ce_opt(days + 719_163)
        .ok_or_else(|| DataFusionError::Execution(format!("date out of range: {days}")))?;
    let t = NaiveTime::from_num_seconds_from_midnight_opt(
        (micros / 1_000_000) as u32,
        ((micros % 1_000_000) * 1000) as u32,
    )
    .ok_or_else(|| DataFusionError::Execution(format!("time out of range: {micros}")))?;
    Ok(d.and_time(t))
}

/// A zone as Spark's `timezone` argument names it: a region (`CET`,
/// `America/Los_Angeles`) or a fixed offset (`+08:00`, `-0530`, `UTC+1`, `GMT-08:00`).
enum Zone {
    Named(Tz),
    Fixed(chrono::FixedOffset),
}

impl Zone {
    /// The instant (µs since the epoch) of wall-clock time `dt` here; in a gap the
    /// time moves forward by the gap, in an overlap the earlier instant wins (as
    /// `java.time.ZonedDateTime.of`).
    fn instant_micros(&self, dt: &NaiveDateTime) -> i64 {
        match self {
            Zone::Fixed(o) => (*dt - *o).and_utc().timestamp_micros(),
            Zone::Named(tz) => match tz.from_local_datetime(dt) {
                chrono::LocalResult::Single(t) => t.timestamp_micros(),
                chrono::LocalResult::Ambiguous(a, _) => a.timestamp_micros(),
                chrono::LocalResult::None => {
                    let shifted = *dt + chrono::Duration::hours(1);
                    tz.from_local_datetime(&shifted)
                        .earliest()
                        .map(|t| t.timestamp_micros())
                        .unwrap_or_else(|| dt.and_utc().timestamp_micros())
                }
            },
        }
    }
}

fn parse_zone(s: &str) -> Result<Zone> {
    let t = super::zones::long_id(s.trim());
    if let Ok(tz) = t.parse::<Tz>() {
        return Ok(Zone::Named(tz));
    }
    let rest = ["UTC", "GMT", "UT"]
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .unwrap_or(t);
    if let Some(o) = parse_offset(rest) {
        return Ok(Zone::Fixed(o));
    }
    exec_err!(
        "[INVALID_TIMEZONE] The timezone: {s} is invalid. The timezone must be either a region-based zone ID or a zone offset. Region IDs must have the form 'area/city', such as 'America/Los_Angeles'. Zone offsets must be in the format '(+|-)HH', '(+|-)HH:mm’ or '(+|-)HH:mm:ss', e.g '-08' , '+01:00' or '-13:33:33', and must be in the range from -18:00 to +18:00. 'Z' and 'UTC' are accepted as synonyms for '+00:00'. SQLSTATE: 22009"
    )
}

/// `+8`, `+08`, `+08:00`, `-0530`, `+08:00:30`, `Z`.
fn parse_offset(s: &str) -> Option<chrono::FixedOffset> {
    if s == "Z" || s.is_empty() {
        return chrono::FixedOffset::east_opt(0);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = &s[1..];
    let parts: Vec<&str> = if body.contains(':') {
        body.split(':').collect()
    } else if body.len() > 2 {
        let (h, m) = body.split_at(body.len() - 2);
        vec![h, m]
    } else {
        vec![body]
    };
    let mut secs = 0i32;
    for (p, mul) in parts.iter().zip([3600, 60, 1]) {
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        secs += p.parse::<i32>().ok()? * mul;
    }
    if secs > 18 * 3600 {
        return None;
    }
    chrono::FixedOffset::east_opt(sign * secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_spark_rules() {
        let ok = local_of_fields(2014, 12, 28, 6, 30, 45_887_000).unwrap();
        assert_eq!(ok.to_string(), "2014-12-28 06:30:45.887");
        let carry = local_of_fields(2019, 6, 30, 23, 59, 60_000_000).unwrap();
        assert_eq!(carry.to_string(), "2019-07-01 00:00:00");
        let month = local_of_fields(2014, 13, 28, 6, 30, 0).unwrap_err();
        assert!(month.to_string().contains("MonthOfYear"), "{month}");
        let feb = local_of_fields(2014, 2, 30, 6, 30, 0).unwrap_err();
        assert!(
            feb.to_string().contains("Invalid date 'FEBRUARY 30'"),
            "{feb}"
        );
        assert!(local_of_fields(2014, 2, 3, 4, 5, 60_500_000).is_err());
        assert!(local_of_fields(2014, 2, 3, 4, 5, -1_000_000).is_err());
    }

    #[test]
    fn zones_by_region_and_offset() {
        let dt = local_of_fields(2014, 12, 28, 6, 30, 45_887_000).unwrap();
        let cet = parse_zone("CET").unwrap().instant_micros(&dt);
        let plus1 = parse_zone("+01:00").unwrap().instant_micros(&dt);
        assert_eq!(cet, plus1);
        assert_eq!(
            parse_zone("-0530").unwrap().instant_micros(&dt)
                - parse_zone("Z").unwrap().instant_micros(&dt),
            (5 * 3600 + 1800) * 1_000_000
        );
        assert!(parse_zone("Nowhere/Zone").is_err());
    }
}
