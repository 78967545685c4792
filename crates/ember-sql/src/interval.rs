//! Spark's interval types on Arrow, their literals and their text forms.
//!
//! Spark has three interval types; ember stores them as Arrow types:
//!
//! | Spark type                                   | Arrow type                  | value            |
//! |----------------------------------------------|-----------------------------|------------------|
//! | `YearMonthIntervalType(start, end)`          | `Interval(YearMonth)`       | months (`i32`)   |
//! | `DayTimeIntervalType(start, end)`            | `Duration(Microsecond)`     | microseconds     |
//! | `CalendarIntervalType` (`make_interval`)     | `Interval(MonthDayNano)`    | months, days, ns |
//!
//! An ANSI interval type also has a range of fields — `interval month`, `interval
//! year to month`, `interval hour to second` — which decides how its values print
//! (`INTERVAL '1' MONTH` vs `INTERVAL '0-1' YEAR TO MONTH`). Arrow has no room for it,
//! so the range travels as field metadata: key [`TYPE_KEY`], value Spark's type name
//! (`interval hour to second`). A field without it has the type's full range
//! (`year to month`, `day to second`), which is also Spark's result type of most
//! interval arithmetic.
//!
//! Literals follow Spark's `IntervalUtils`: the ANSI forms (`INTERVAL '1-2' YEAR TO
//! MONTH`, `INTERVAL '1 02:03:04.5' DAY TO SECOND`, `INTERVAL '90' MINUTE`) and the
//! multi-unit forms (`INTERVAL 5 DAYS 3 HOURS`, `INTERVAL '2 years 3 months'`), which
//! Spark turns into the ANSI type whose range spans the units written.

use std::collections::HashMap;

use datafusion::arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};

/// The field-metadata key that carries a column's Spark type name where the Arrow
/// type cannot (the range of an ANSI interval type).
pub const TYPE_KEY: &str = "spark.type";

/// Microseconds per second, minute, hour and day.
pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
pub const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
pub const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// A field of an interval (Spark's `YEAR` ... `SECOND`), in order of size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

impl Unit {
    /// Spark's upper-case name (`DAY`).
    pub fn name(self) -> &'static str {
        match self {
            Unit::Year => "YEAR",
            Unit::Month => "MONTH",
            Unit::Day => "DAY",
            Unit::Hour => "HOUR",
            Unit::Minute => "MINUTE",
            Unit::Second => "SECOND",
        }
    }

    /// A field name as written in SQL, case-insensitive, singular or plural.
    pub fn parse(s: &str) -> Option<Unit> {
        let u = s.to_ascii_uppercase();
        let u = u.strip_suffix('S').unwrap_or(&u);
        Some(match u {
            "YEAR" => Unit::Year,
            "MONTH" => Unit::Month,
            "DAY" => Unit::Day,
            "HOUR" => Unit::Hour,
            "MINUTE" => Unit::Minute,
            "SECOND" => Unit::Second,
            _ => return None,
        })
    }

    /// Whether this is a field of year-month intervals.
    pub fn year_month(self) -> bool {
        matches!(self, Unit::Year | Unit::Month)
    }

    /// The size of one unit: months for year-month fields, microseconds otherwise.
    pub fn size(self) -> i64 {
        match self {
            Unit::Year => 12,
            Unit::Month => 1,
            Unit::Day => MICROS_PER_DAY,
            Unit::Hour => MICROS_PER_HOUR,
            Unit::Minute => MICROS_PER_MINUTE,
            Unit::Second => MICROS_PER_SECOND,
        }
    }
}

/// The range of an ANSI interval type: `start TO end` (`start == end` for one field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Qualifier {
    pub start: Unit,
    pub end: Unit,
}

impl Qualifier {
    /// `YEAR TO MONTH`, the range of `YearMonthIntervalType()`.
    pub const YEAR_TO_MONTH: Qualifier = Qualifier {
        start: Unit::Year,
        end: Unit::Month,
    };
    /// `DAY TO SECOND`, the range of `DayTimeIntervalType()`.
    pub const DAY_TO_SECOND: Qualifier = Qualifier {
        start: Unit::Day,
        end: Unit::Second,
    };

    /// `start TO end`; `None` when the two belong to different interval types or
    /// `end` is larger than `start` (Spark's `_LEGACY_ERROR_TEMP_0028`).
    pub fn new(start: Unit, end: Unit) -> Option<Qualifier> {
        (start.year_month() == end.year_month() && start <= end).then_some(Qualifier { start, end })
    }

    /// One field.
    pub fn single(u: Unit) -> Qualifier {
        Qualifier { start: u, end: u }
    }

    /// Whether this is a year-month interval type.
    pub fn year_month(self) -> bool {
        self.start.year_month()
    }

    /// The full range of this qualifier's interval type.
    pub fn full(self) -> Qualifier {
        if self.year_month() {
            Self::YEAR_TO_MONTH
        } else {
            Self::DAY_TO_SECOND
        }
    }

    /// As written in SQL: `MONTH`, `DAY TO SECOND`.
    pub fn sql(self) -> String {
        if self.start == self.end {
            self.start.name().to_string()
        } else {
            format!("{} TO {}", self.start.name(), self.end.name())
        }
    }

    /// Spark's type name: `interval month`, `interval day to second`.
    pub fn type_name(self) -> String {
        format!("interval {}", self.sql().to_ascii_lowercase())
    }

    /// The qualifier of a Spark type name (`interval hour to second`, case-insensitive).
    pub fn from_type_name(s: &str) -> Option<Qualifier> {
        let rest = s.trim().to_ascii_lowercase();
        let rest = rest.strip_prefix("interval")?.trim().to_string();
        Self::parse_sql(&rest)
    }

    /// `DAY TO SECOND`, `month` (case-insensitive).
    pub fn parse_sql(s: &str) -> Option<Qualifier> {
        let words: Vec<&str> = s.split_whitespace().collect();
        match words.as_slice() {
            [u] => Some(Self::single(Unit::parse(u)?)),
            [a, to, b] if to.eq_ignore_ascii_case("to") => {
                Self::new(Unit::parse(a)?, Unit::parse(b)?)
            }
            _ => None,
        }
    }

    /// The Arrow type that holds values of this qualifier.
    pub fn data_type(self) -> DataType {
        if self.year_month() {
            DataType::Interval(IntervalUnit::YearMonth)
        } else {
            DataType::Duration(TimeUnit::Microsecond)
        }
    }

    /// The default range of an Arrow type that holds an ANSI interval.
    pub fn of_type(t: &DataType) -> Option<Qualifier> {
        match t {
            DataType::Interval(IntervalUnit::YearMonth) => Some(Self::YEAR_TO_MONTH),
            DataType::Duration(_) => Some(Self::DAY_TO_SECOND),
            _ => None,
        }
    }

    /// The range of a field: from its metadata ([`TYPE_KEY`]) when that fits its
    /// type, else the type's full range; `None` for a field that holds no ANSI
    /// interval.
    pub fn of_field(f: &Field) -> Option<Qualifier> {
        Self::of_parts(f.data_type(), f.metadata())
    }

    /// [`Qualifier::of_field`] from a type and its metadata.
    pub fn of_parts(t: &DataType, metadata: &HashMap<String, String>) -> Option<Qualifier> {
        let full = Self::of_type(t)?;
        Some(
            metadata
                .get(TYPE_KEY)
                .and_then(|n| Self::from_type_name(n))
                .filter(|q| q.year_month() == full.year_month())
                .unwrap_or(full),
        )
    }

    /// Field metadata that records this range (empty for the full range).
    pub fn metadata(self) -> HashMap<String, String> {
        if self == self.full() {
            HashMap::new()
        } else {
            HashMap::from([(TYPE_KEY.to_string(), self.type_name())])
        }
    }

    /// The smallest range that holds both (Spark's type of `a + b`, of a `VALUES`
    /// column); `None` across year-month and day-time.
    pub fn union(self, other: Qualifier) -> Option<Qualifier> {
        Self::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// A value (months or microseconds) as Spark's literal: `INTERVAL '1-2' YEAR TO MONTH`.
    pub fn format(self, v: i64) -> String {
        format!("INTERVAL '{}' {}", self.format_value(v), self.sql())
    }

    /// The quoted part of [`Qualifier::format`] (Spark's `toYearMonthIntervalString` and
    /// `toDayTimeIntervalString` in ANSI style).
    pub fn format_value(self, v: i64) -> String {
        let sign = if v < 0 { "-" } else { "" };
        let abs = v.unsigned_abs();
        if self.year_month() {
            return match (self.start, self.end) {
                (Unit::Year, Unit::Year) => format!("{sign}{}", abs / 12),
                (Unit::Month, _) => format!("{sign}{abs}"),
                _ => format!("{sign}{}-{}", abs / 12, abs % 12),
            };
        }
        let mut rest = abs;
        let mut out = String::from(sign);
        let units = [Unit::Day, Unit::Hour, Unit::Minute, Unit::Second];
        for u in units {
            if u < self.start || u > self.end {
                continue;
            }
            let size = u.size() as u64;
            let n = rest / size;
            rest %= size;
            if u == self.start {
                if u == Unit::Day {
                    out.push_str(&n.to_string());
                } else {
                    out.push_str(&format!("{n:02}"));
                }
            } else {
                out.push(if u == Unit::Hour { ' ' } else { ':' });
                out.push_str(&format!("{n:02}"));
            }
            if u == Unit::Second && rest > 0 {
                let frac = format!("{rest:06}");
                out.push('.');
                out.push_str(frac.trim_end_matches('0'));
            }
        }
        out
    }

    /// The value of `text` under this qualifier (Spark's ANSI interval strings:
    /// `[+|-]y-m`, `[+|-]d h:m:s.f`, one number for one field, a decimal number of
    /// seconds): months or microseconds. Errors name the expected form.
    pub fn parse_value(self, text: &str) -> Result<i64, String> {
        let bad = || {
            format!(
                "Interval string does not match {} format of `{}` when cast to {}: {}",
                if self.year_month() {
                    "year-month"
                } else {
                    "day-time"
                },
                self.pattern(),
                self.type_name(),
                text.trim()
            )
        };
        let t = text.trim();
        let (neg, t) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        // The fields in order, separated by '-' (year-month), ' ' (day hour) or ':'.
        let seps: Vec<char> = if self.year_month() {
            vec!['-']
        } else {
            vec![' ', ':', ':']
        };
        let fields: Vec<Unit> = [
            Unit::Year,
            Unit::Month,
            Unit::Day,
            Unit::Hour,
            Unit::Minute,
            Unit::Second,
        ]
        .into_iter()
        .filter(|u| *u >= self.start && *u <= self.end)
        .collect();
        let mut parts: Vec<&str> = Vec::new();
        let mut rest = t;
        for (i, _) in fields.iter().enumerate() {
            if i + 1 == fields.len() {
                parts.push(rest);
                break;
            }
            let sep = if self.year_month() {
                seps[0]
            } else {
                // Separator before field i + 1: ' ' after DAY, ':' otherwise.
                if fields[i] == Unit::Day {
                    ' '
                } else {
                    ':'
                }
            };
            let (a, b) = rest.split_once(sep).ok_or_else(bad)?;
            parts.push(a);
            rest = b;
        }
        let mut total: i128 = 0;
        for (i, (u, p)) in fields.iter().zip(&parts).enumerate() {
            let p = p.trim();
            let v: i128 = if *u == Unit::Second {
                let (whole, frac) = p.split_once('.').unwrap_or((p, ""));
                if whole.is_empty() && frac.is_empty()
                    || !whole.chars().all(|c| c.is_ascii_digit())
                    || !frac.chars().all(|c| c.is_ascii_digit())
                    || frac.len() > 9
                {
                    return Err(bad());
                }
                let w: i128 = if whole.is_empty() {
                    0
                } else {
                    whole.parse().map_err(|_| bad())?
                };
                let f: i128 = format!("{frac:0<6}")[..6].parse().map_err(|_| bad())?;
                w * MICROS_PER_SECOND as i128 + f
            } else {
                if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
                    return Err(bad());
                }
                let n: i128 = p.parse().map_err(|_| bad())?;
                // Inner fields are bounded (hour < 24, minute/second < 60, month < 12).
                let limit = match u {
                    Unit::Month if self.start == Unit::Year => Some(12),
                    Unit::Hour if i > 0 => Some(24),
                    Unit::Minute if i > 0 => Some(60),
                    _ => None,
                };
                if limit.is_some_and(|l| n >= l) {
                    return Err(bad());
                }
                n * u.size() as i128
            };
            if *u == Unit::Second && i > 0 && v >= 60 * MICROS_PER_SECOND as i128 {
                return Err(bad());
            }
            total += v;
        }
        let total = if neg { -total } else { total };
        let max = if self.year_month() {
            i32::MAX as i128
        } else {
            i64::MAX as i128
        };
        if total > max || total < -max {
            return Err(format!(
                "Interval value is out of range of {}: {}",
                self.type_name(),
                text.trim()
            ));
        }
        Ok(total as i64)
    }

    /// Spark's pattern of this qualifier's strings (`[+|-]d h:m:s.n`), for errors.
    fn pattern(self) -> String {
        let parts: Vec<&str> = [
            (Unit::Year, "y"),
            (Unit::Month, "m"),
            (Unit::Day, "d"),
            (Unit::Hour, "h"),
            (Unit::Minute, "m"),
            (Unit::Second, "s.n"),
        ]
        .iter()
        .filter(|(u, _)| *u >= self.start && *u <= self.end)
        .map(|(_, p)| *p)
        .collect();
        let mut out = String::from("[+|-]");
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push(if self.year_month() {
                    '-'
                } else if i == 1 && self.start == Unit::Day {
                    ' '
                } else {
                    ':'
                });
            }
            out.push_str(p);
        }
        out
    }
}

/// A unit of Spark's multi-unit interval syntax (`5 DAYS 3 HOURS`): the ANSI fields
/// plus `WEEK`, `MILLISECOND` and `MICROSECOND`.
fn multi_unit(s: &str) -> Option<(Unit, i64)> {
    let u = s.to_ascii_uppercase();
    let u = u.strip_suffix('S').unwrap_or(&u);
    Some(match u {
        "WEEK" => (Unit::Day, 7 * MICROS_PER_DAY),
        "MILLISECOND" => (Unit::Second, 1_000),
        "MICROSECOND" => (Unit::Second, 1),
        _ => {
            let unit = Unit::parse(u)?;
            (unit, unit.size())
        }
    })
}

/// A multi-unit interval (`[(value, unit)]`, e.g. `5 days 3 hours 7 minutes`) as
/// Spark types it: the ANSI interval whose range spans the units written, and its
/// value (months or microseconds). Values may be decimal for seconds and smaller
/// units. Errors: Spark's messages for an unknown unit or a mix of year-month and
/// day-time units.
pub fn from_units(parts: &[(String, String)], text: &str) -> Result<(Qualifier, i64), String> {
    let mut q: Option<Qualifier> = None;
    let mut total: i128 = 0;
    for (value, unit) in parts {
        let (u, size) =
            multi_unit(unit).ok_or_else(|| format!("Error parsing ' {text}' to interval"))?;
        let this = Qualifier::single(u);
        q = match q {
            None => Some(this),
            Some(prev) => Some(
                prev.union(this)
                    .ok_or_else(|| format!("Cannot mix year-month and day-time fields: {text}."))?,
            ),
        };
        let v = value.trim();
        let (neg, v) = match v.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, v.strip_prefix('+').unwrap_or(v)),
        };
        let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
        if whole.is_empty() && frac.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
            || (!frac.is_empty() && u.year_month())
        {
            return Err(format!("Error parsing ' {text}' to interval"));
        }
        let w: i128 = if whole.is_empty() {
            0
        } else {
            whole
                .parse()
                .map_err(|_| format!("Error parsing ' {text}' to interval"))?
        };
        let mut n = w * size as i128;
        if !frac.is_empty() {
            // The fraction of one unit, in microseconds (Spark keeps microseconds).
            let digits = frac.len().min(18);
            let f: i128 = frac[..digits].parse().unwrap_or(0);
            n += f * size as i128 / 10i128.pow(digits as u32);
        }
        total += if neg { -n } else { n };
    }
    let q = q.ok_or_else(|| format!("Error parsing ' {text}' to interval"))?;
    let max = if q.year_month() {
        i32::MAX as i128
    } else {
        i64::MAX as i128
    };
    if total.abs() > max {
        return Err(format!("Interval value is out of range: {text}"));
    }
    Ok((q, total as i64))
}

/// The words of a multi-unit interval string (`'2 years 3 months'`) as pairs of
/// value and unit; `None` when the words do not pair up.
pub fn split_units(s: &str) -> Option<Vec<(String, String)>> {
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.is_empty() || words.len() % 2 != 0 {
        return None;
    }
    Some(
        words
            .chunks(2)
            .map(|c| (c[0].to_string(), c[1].to_string()))
            .collect(),
    )
}

/// A calendar interval (months, days, nanoseconds) as Spark's `CalendarInterval.toString`:
/// `1 years 2 months 25 days 5 hours 6 minutes 7.5 seconds`, `0 seconds` when empty.
pub fn format_calendar(months: i32, days: i32, nanos: i64) -> String {
    let micros = nanos / 1_000;
    if months == 0 && days == 0 && micros == 0 {
        return "0 seconds".into();
    }
    let mut parts: Vec<String> = Vec::new();
    let mut unit = |v: i64, name: &str| {
        if v != 0 {
            parts.push(format!("{v} {name}"));
        }
    };
    unit((months / 12) as i64, "years");
    unit((months % 12) as i64, "months");
    unit(days as i64, "days");
    let mut rest = micros;
    unit(rest / MICROS_PER_HOUR, "hours");
    rest %= MICROS_PER_HOUR;
    unit(rest / MICROS_PER_MINUTE, "minutes");
    rest %= MICROS_PER_MINUTE;
    if rest != 0 {
        let sign = if rest < 0 { "-" } else { "" };
        let a = rest.unsigned_abs();
        let whole = a / 1_000_000;
        let frac = a % 1_000_000;
        let s = if frac == 0 {
            format!("{sign}{whole}")
        } else {
            format!(
                "{sign}{whole}.{}",
                format!("{frac:06}").trim_end_matches('0')
            )
        };
        parts.push(format!("{s} seconds"));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Qualifier {
        Qualifier::parse_sql(s).unwrap()
    }

    #[test]
    fn formats_as_spark() {
        // Spark 4.3's answers (recorded in tests/spark_cases/intervals.slt).
        assert_eq!(q("SECOND").format(1_000_000), "INTERVAL '01' SECOND");
        assert_eq!(q("SECOND").format(1_500_000), "INTERVAL '01.5' SECOND");
        assert_eq!(q("SECOND").format(-1_250_000), "INTERVAL '-01.25' SECOND");
        assert_eq!(
            q("MINUTE").format(90 * MICROS_PER_MINUTE),
            "INTERVAL '90' MINUTE"
        );
        assert_eq!(q("DAY").format(3 * MICROS_PER_DAY), "INTERVAL '3' DAY");
        let v = -(MICROS_PER_DAY + 2 * MICROS_PER_HOUR + 3 * MICROS_PER_MINUTE + 4_500_000);
        assert_eq!(
            q("DAY TO SECOND").format(v),
            "INTERVAL '-1 02:03:04.5' DAY TO SECOND"
        );
        assert_eq!(
            q("YEAR TO MONTH").format(-11),
            "INTERVAL '-0-11' YEAR TO MONTH"
        );
        assert_eq!(q("YEAR").format(12), "INTERVAL '1' YEAR");
        assert_eq!(q("MONTH").format(-13), "INTERVAL '-13' MONTH");
        assert_eq!(
            q("DAY TO SECOND").format(i64::MAX),
            "INTERVAL '106751991 04:00:54.775807' DAY TO SECOND"
        );
    }

    #[test]
    fn parses_ansi_strings() {
        assert_eq!(q("YEAR TO MONTH").parse_value("-1-1"), Ok(-13));
        assert_eq!(q("HOUR TO SECOND").parse_value("2:3:4"), Ok(7_384_000_000));
        assert_eq!(q("SECOND").parse_value("1.5"), Ok(1_500_000));
        assert_eq!(
            q("MINUTE TO SECOND").parse_value("3:4.000001"),
            Ok(184_000_001)
        );
        assert!(q("DAY TO HOUR").parse_value("1 25").is_err());
        assert!(q("DAY").parse_value("x").is_err());
    }

    #[test]
    fn multi_units_take_the_range_they_span() {
        let p = split_units("5 days 3 hours 7 minutes").unwrap();
        let (qq, v) = from_units(&p, "interval 5 days 3 hours 7 minutes").unwrap();
        assert_eq!(qq.format(v), "INTERVAL '5 03:07' DAY TO MINUTE");
        let p = split_units("5 hours 30 seconds 1 milliseconds 1 microseconds").unwrap();
        let (qq, v) = from_units(&p, "").unwrap();
        assert_eq!(qq.format(v), "INTERVAL '05:00:30.001001' HOUR TO SECOND");
        let p = split_units("1 year 2 days").unwrap();
        assert!(from_units(&p, "").unwrap_err().contains("Cannot mix"));
    }

    #[test]
    fn calendar_text() {
        let nanos = (5 * MICROS_PER_HOUR + 6 * MICROS_PER_MINUTE + 7_500_000) * 1_000;
        assert_eq!(
            format_calendar(14, 25, nanos),
            "1 years 2 months 25 days 5 hours 6 minutes 7.5 seconds"
        );
        assert_eq!(format_calendar(0, 0, 0), "0 seconds");
        assert_eq!(format_calendar(-14, -3, 0), "-1 years -2 months -3 days");
        assert_eq!(format_calendar(0, 0, -500_000_000), "-0.5 seconds");
    }
}
