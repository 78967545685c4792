//! Spark's rules for turning text into typed values, shared by the CSV and JSON
//! readers: Java's number syntax (`Integer.parseInt`, `Double.parseDouble`), Scala's
//! `toBoolean`, and Spark's `stringToDate` / `stringToTimestamp` (the lenient
//! ISO-8601 forms Spark accepts when no `dateFormat`/`timestampFormat` is given).
//! Dates are days since 1970-01-01; timestamps are microseconds since the epoch (UTC).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

/// Parses like Java's `Integer.parseInt`: optional sign, ASCII digits, no spaces.
pub fn parse_int(s: &str) -> Option<i32> {
    parse_long(s).and_then(|v| i32::try_from(v).ok())
}

/// Parses like Java's `Long.parseLong`.
pub fn parse_long(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (neg, digits) = match b[0] {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = (c - b'0') as i64;
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

/// Parses like Java's `Double.parseDouble`: surrounding whitespace (chars <= ' ')
/// ignored, optional `d`/`D`/`f`/`F` suffix, `NaN` and `[+-]Infinity` spelled exactly.
pub fn parse_double(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c <= ' ');
    if t.is_empty() {
        return None;
    }
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if body == "NaN" {
        return Some(f64::NAN);
    }
    if body == "Infinity" {
        return Some(if t.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    // Rust accepts "inf"/"nan" spellings Java rejects; Java accepts only digits here.
    if !t
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Parses like Scala's `String.toBoolean`: `true`/`false`, any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

const EPOCH_DAYS_CE: i32 = 719_163;

fn days_of(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - EPOCH_DAYS_CE
}

/// Strict `yyyy-MM-dd` (Spark's Iso8601DateFormatter with the default pattern,
/// used for CSV date inference): exactly 4-2-2 digits.
pub fn parse_date_strict(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i32 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    if !s[0..4]
        .bytes()
        .chain(s[5..7].bytes())
        .chain(s[8..10].bytes())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d).map(days_of)
}

/// Splits Spark's date part `[+-]yyyy[-[m]m[-[d]d]]`; returns (date, rest after the date).
fn split_date(s: &str) -> Option<(NaiveDate, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    let neg = matches!(b.first(), Some(b'-'));
    if matches!(b.first(), Some(b'-' | b'+')) {
        i = 1;
    }
    let mut parts = [1i64, 1, 1];
    let mut idx = 0;
    let mut digits = 0;
    let mut cur: i64 = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            cur = cur * 10 + (c - b'0') as i64;
            digits += 1;
            if (idx == 0 && digits > 7) || (idx > 0 && digits > 2) {
                return None;
            }
            i += 1;
        } else if c == b'-' && idx < 2 {
            if (idx == 0 && digits < 4) || (idx > 0 && digits == 0) {
                return None;
            }
            parts[idx] = cur;
            idx += 1;
            cur = 0;
            digits = 0;
            i += 1;
        } else if (c == b' ' || c == b'T') && idx == 2 {
            break;
        } else {
            return None;
        }
    }
    if (idx == 0 && digits < 4) || (idx > 0 && digits == 0) {
        return None;
    }
    parts[idx] = cur;
    let y = if neg { -parts[0] } else { parts[0] };
    let d = NaiveDate::from_ymd_opt(y as i32, parts[1] as u32, parts[2] as u32)?;
    Some((d, &s[i..]))
}

/// Spark's lenient `stringToDate`: `yyyy`, `yyyy-[m]m`, `yyyy-[m]m-[d]d`, optionally
/// followed by `T` or a space and anything. Surrounding whitespace is ignored.
pub fn parse_date_lenient(s: &str) -> Option<i32> {
    let (d, _) = split_date(s.trim())?;
    Some(days_of(d))
}

/// Parses a zone suffix as Spark does: `Z`, `UTC`, `GMT`, `[+-]h[h][:mm[:ss]]`,
/// `UTC+..`/`GMT+..`, or a region id such as `America/New_York`.
fn parse_zone(z: &str) -> Option<ZoneSpec> {
    let z = z.trim();
    if z.is_empty() {
        return None;
    }
    if z == "Z" || z == "UTC" || z == "GMT" || z == "UT" {
        return Some(ZoneSpec::Fixed(0));
    }
    for p in ["UTC", "GMT", "UT"] {
        if let Some(rest) = z.strip_prefix(p) {
            if rest.starts_with(['+', '-']) {
                return parse_offset(rest).map(ZoneSpec::Fixed);
            }
        }
    }
    if z.starts_with(['+', '-']) {
        return parse_offset(z).map(ZoneSpec::Fixed);
    }
    z.parse::<Tz>().ok().map(ZoneSpec::Region)
}

fn parse_offset(s: &str) -> Option<i32> {
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let body = &s[1..];
    let (h, m, sec) = if let Some((h, rest)) = body.split_once(':') {
        let (m, sec) = rest.split_once(':').unwrap_or((rest, "0"));
        (
            h.parse::<i32>().ok()?,
            m.parse::<i32>().ok()?,
            sec.parse::<i32>().ok()?,
        )
    } else if body.len() <= 2 {
        (body.parse::<i32>().ok()?, 0, 0)
    } else if body.len() == 4 {
        (body[0..2].parse().ok()?, body[2..4].parse().ok()?, 0)
    } else {
        return None;
    };
    if h > 18 || m > 59 || sec > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + sec))
}

enum ZoneSpec {
    Fixed(i32),
    Region(Tz),
}

/// Result of lenient timestamp parsing: microseconds since the epoch (UTC) and whether
/// the text carried its own zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedTimestamp {
    /// Microseconds since 1970-01-01T00:00:00Z.
    pub micros: i64,
    /// The text named a zone or offset (so it is not a TIMESTAMP_NTZ candidate).
    pub has_zone: bool,
}

/// Spark's lenient `stringToTimestamp`: a date as in [`parse_date_lenient`], then
/// optionally `T` or space and `[h]h:[m]m[:[s]s[.fraction]]`, then an optional zone.
/// Text without a zone is read in `default_tz` (the session time zone).
pub fn parse_timestamp_lenient(s: &str, default_tz: &Tz) -> Option<ParsedTimestamp> {
    let s = s.trim();
    let (date, rest) = split_date(s)?;
    let mut time = NaiveTime::MIN;
    let mut zone: Option<ZoneSpec> = None;
    if !rest.is_empty() {
        let rest = &rest[1..]; // the 'T' or ' ' separator
                               // time digits
        let b = rest.as_bytes();
        let mut i = 0;
        let mut fields = [0u32; 3];
        let mut fi = 0;
        let mut nd = 0;
        while i < b.len() && fi < 3 {
            let c = b[i];
            if c.is_ascii_digit() {
                fields[fi] = fields[fi] * 10 + (c - b'0') as u32;
                nd += 1;
                if nd > 2 {
                    return None;
                }
                i += 1;
            } else if c == b':' && fi < 2 && nd > 0 {
                fi += 1;
                nd = 0;
                i += 1;
            } else {
                break;
            }
        }
        if i == 0 {
            // only a zone after the date, e.g. "2020-01-01 UTC"? Spark rejects; mirror that
            if rest.is_empty() {
                return Some(finish(date, time, None, default_tz));
            }
            return None;
        }
        if nd == 0 || fi == 0 {
            return None;
        }
        let mut nanos: u32 = 0;
        if i < b.len() && b[i] == b'.' && fi == 2 {
            i += 1;
            let mut digits = 0;
            while i < b.len() && b[i].is_ascii_digit() {
                if digits < 9 {
                    nanos = nanos * 10 + (b[i] - b'0') as u32;
                }
                digits += 1;
                i += 1;
            }
            for _ in digits.min(9)..9 {
                nanos *= 10;
            }
        }
        time = NaiveTime::from_hms_nano_opt(fields[0], fields[1], fields[2], nanos)?;
        let z = &rest[i..];
        if !z.is_empty() {
            zone = Some(parse_zone(z)?);
        }
    }
    Some(finish(date, time, zone, default_tz))
}

fn finish(
    date: NaiveDate,
    time: NaiveTime,
    zone: Option<ZoneSpec>,
    default_tz: &Tz,
) -> ParsedTimestamp {
    let naive = NaiveDateTime::new(date, time);
    let has_zone = zone.is_some();
    let micros = match zone {
        Some(ZoneSpec::Fixed(off)) => naive.and_utc().timestamp_micros() - off as i64 * 1_000_000,
        Some(ZoneSpec::Region(tz)) => local_to_utc_micros(&naive, &tz),
        None => local_to_utc_micros(&naive, default_tz),
    };
    ParsedTimestamp { micros, has_zone }
}

/// Interprets a wall-clock time in `tz` (earlier offset on overlaps, shifted forward
/// across gaps, as java.time does).
pub fn local_to_utc_micros(naive: &NaiveDateTime, tz: &Tz) -> i64 {
    match tz.from_local_datetime(naive) {
        chrono::LocalResult::Single(t) => t.timestamp_micros(),
        chrono::LocalResult::Ambiguous(a, _) => a.timestamp_micros(),
        chrono::LocalResult::None => {
            let shifted = *naive + chrono::Duration::hours(1);
            match tz.from_local_datetime(&shifted) {
                chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
                    t.timestamp_micros()
                }
                chrono::LocalResult::None => naive.and_utc().timestamp_micros(),
            }
        }
    }
}

/// Translates a Java `DateTimeFormatter` pattern (Spark's datetime patterns) to a
/// chrono `strftime` format. Supports the letters data engineers use: y, M, d, H, h,
/// m, s, S (fraction), a, E, z/Z/X/x (zone), and quoted literals.
pub fn java_pattern_to_chrono(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // quoted literal; '' is a single quote
            let mut j = i + 1;
            if j < chars.len() && chars[j] == '\'' {
                out.push('\'');
                i += 2;
                continue;
            }
            while j < chars.len() {
                if chars[j] == '\'' {
                    if j + 1 < chars.len() && chars[j + 1] == '\'' {
                        out.push('\'');
                        j += 2;
                        continue;
                    }
                    break;
                }
                if chars[j] == '%' {
                    out.push_str("%%");
                } else {
                    out.push(chars[j]);
                }
                j += 1;
            }
            i = j + 1;
            continue;
        }
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let piece = match (c, n) {
            ('y', 2) => "%y".to_string(),
            ('y', _) | ('u', _) => "%Y".to_string(),
            ('M', 1) | ('L', 1) => "%-m".to_string(),
            ('M', 2) | ('L', 2) => "%m".to_string(),
            ('M', 3) | ('L', 3) => "%b".to_string(),
            ('M', _) | ('L', _) => "%B".to_string(),
            ('d', 1) => "%-d".to_string(),
            ('d', _) => "%d".to_string(),
            ('D', _) => "%j".to_string(),
            ('H', 1) => "%-H".to_string(),
            ('H', _) => "%H".to_string(),
            ('h', 1) => "%-I".to_string(),
            ('h', _) => "%I".to_string(),
            ('m', 1) => "%-M".to_string(),
            ('m', _) => "%M".to_string(),
            ('s', 1) => "%-S".to_string(),
            ('s', _) => "%S".to_string(),
            ('S', k) => format!("%{}f", k.min(9)),
            ('a', _) => "%p".to_string(),
            ('E', 4..) => "%A".to_string(),
            ('E', _) => "%a".to_string(),
            ('z', _) => "%Z".to_string(),
            ('Z', _) | ('x', _) => "%z".to_string(),
            ('X', _) => "%:z".to_string(),
            ('%', _) => "%%".repeat(n),
            _ => std::iter::repeat_n(c, n).collect(),
        };
        out.push_str(&piece);
        i += n;
    }
    out
}

/// Parses `s` with a Java datetime pattern as a date (days since the epoch).
pub fn parse_date_with_pattern(s: &str, chrono_fmt: &str) -> Option<i32> {
    NaiveDate::parse_from_str(s, chrono_fmt)
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, chrono_fmt)
                .ok()
                .map(|t| t.date())
        })
        .map(days_of)
}

/// Parses `s` with a Java datetime pattern as a timestamp in `tz` (when the pattern
/// has no zone). Returns microseconds since the epoch.
pub fn parse_timestamp_with_pattern(s: &str, chrono_fmt: &str, tz: &Tz) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_str(s, chrono_fmt) {
        return Some(t.timestamp_micros());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, chrono_fmt) {
        return Some(local_to_utc_micros(&t, tz));
    }
    NaiveDate::parse_from_str(s, chrono_fmt)
        .ok()
        .map(|d| local_to_utc_micros(&d.and_time(NaiveTime::MIN), tz))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_numbers() {
        assert_eq!(parse_int("+42"), Some(42));
        assert_eq!(parse_int("2147483648"), None);
        assert_eq!(parse_long("2147483648"), Some(2147483648));
        assert_eq!(parse_int(" 1"), None);
        assert_eq!(parse_double("-7.5e2"), Some(-750.0));
        assert_eq!(parse_double(" 1.5d "), Some(1.5));
        assert_eq!(parse_double("inf"), None);
        assert!(parse_double("NaN").unwrap().is_nan());
        assert_eq!(parse_double("not_a_number"), None);
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date_strict("1970-01-02"), Some(1));
        assert_eq!(parse_date_strict("2024/05/01"), None);
        assert_eq!(parse_date_strict("2024-5-01"), None);
        assert_eq!(
            parse_date_lenient("2024-5-1"),
            parse_date_strict("2024-05-01")
        );
        assert_eq!(
            parse_date_lenient("2024-05-01T10:00:00Z"),
            parse_date_strict("2024-05-01")
        );
        assert_eq!(parse_date_lenient("2024/05/01"), None);
    }

    #[test]
    fn timestamps() {
        let utc: Tz = "UTC".parse().unwrap();
        let ny: Tz = "America/New_York".parse().unwrap();
        let t = parse_timestamp_lenient("2013-01-01T10:00:00Z", &ny).unwrap();
        assert_eq!(t.micros, 1_357_034_400_000_000);
        assert!(t.has_zone);
        let t = parse_timestamp_lenient("2013-01-01 05:00:00", &ny).unwrap();
        assert_eq!(t.micros, 1_357_034_400_000_000);
        assert!(!t.has_zone);
        let t = parse_timestamp_lenient("2013-01-01 10:00:00.5+01:00", &utc).unwrap();
        assert_eq!(t.micros, 1_357_030_800_500_000);
        assert!(parse_timestamp_lenient("2013/01/01", &utc).is_none());
        assert!(parse_timestamp_lenient("hello", &utc).is_none());
    }

    #[test]
    fn patterns() {
        assert_eq!(java_pattern_to_chrono("yyyy-MM-dd HH:mm"), "%Y-%m-%d %H:%M");
        assert_eq!(java_pattern_to_chrono("dd/MM/yyyy'T'"), "%d/%m/%YT");
        assert_eq!(
            parse_date_with_pattern("26/08/2015", "%d/%m/%Y"),
            parse_date_strict("2015-08-26")
        );
    }
}
