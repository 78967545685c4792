//! Spark's CSV schema inference (`CSVInferSchema`): every value of every column is
//! tried against the type ladder int → bigint → decimal(p,0) → double → date →
//! timestamp → boolean → string, starting from the type found so far, and merged
//! with Spark's compatibility rules. Columns with no value at all become `string`.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, TimeUnit};

use super::options::CsvOptions;
use crate::values;

/// Inference state per column: Arrow types standing for Spark's types
/// (`Null` = no value seen yet).
#[derive(Debug, Clone)]
pub struct Inferrer {
    opts: CsvOptions,
    date_fmt: Option<String>,
    ts_fmt: Option<String>,
    tz_name: Arc<str>,
}

/// Spark's `timestamp` (TIMESTAMP_LTZ) as Arrow: microseconds with the session zone.
pub fn timestamp_type(tz: &str) -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(tz)))
}

impl Inferrer {
    /// Creates an inferrer for the given options.
    pub fn new(opts: &CsvOptions) -> Inferrer {
        Inferrer {
            opts: opts.clone(),
            date_fmt: opts
                .date_format
                .as_deref()
                .map(values::java_pattern_to_chrono),
            ts_fmt: opts
                .timestamp_format
                .as_deref()
                .map(values::java_pattern_to_chrono),
            tz_name: Arc::from(opts.time_zone.name()),
        }
    }

    /// Folds one field into the type found so far (Spark's `inferField`).
    /// `field` is `None` for null values (empty or `nullValue`).
    pub fn infer_field(&self, so_far: &DataType, field: Option<&str>) -> DataType {
        let f = match field {
            None => return so_far.clone(),
            Some(f) if f.is_empty() || f == self.opts.null_value => return so_far.clone(),
            Some(f) => f,
        };
        let elem = match so_far {
            DataType::Null | DataType::Int32 => self.try_int(f),
            DataType::Int64 => self.try_long(f),
            DataType::Decimal128(_, _) => self.try_decimal(f),
            DataType::Float64 => self.try_double(f),
            DataType::Date32 => self.try_date(f),
            DataType::Timestamp(_, _) => self.try_timestamp(f),
            DataType::Boolean => self.try_bool(f),
            _ => DataType::Utf8,
        };
        compatible(so_far, &elem).unwrap_or(DataType::Utf8)
    }

    fn try_int(&self, f: &str) -> DataType {
        if values::parse_int(f).is_some() {
            DataType::Int32
        } else {
            self.try_long(f)
        }
    }
    fn try_long(&self, f: &str) -> DataType {
        if values::parse_long(f).is_some() {
            DataType::Int64
        } else {
            self.try_decimal(f)
        }
    }
    fn try_decimal(&self, f: &str) -> DataType {
        // java.math.BigDecimal syntax with scale <= 0: integers too big for a long.
        let digits = f.strip_prefix(['+', '-']).unwrap_or(f);
        if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
            let p = digits.trim_start_matches('0').len().max(1);
            if p <= 38 {
                return DataType::Decimal128(p as u8, 0);
            }
        }
        self.try_double(f)
    }
    fn try_double(&self, f: &str) -> DataType {
        if values::parse_double(f).is_some()
            || f == self.opts.nan_value
            || f == self.opts.positive_inf
            || f == self.opts.negative_inf
        {
            DataType::Float64
        } else if self.opts.prefer_date {
            self.try_date(f)
        } else {
            self.try_timestamp(f)
        }
    }
    fn try_date(&self, f: &str) -> DataType {
        let ok = match &self.date_fmt {
            Some(fmt) => values::parse_date_with_pattern(f, fmt).is_some(),
            None => values::parse_date_strict(f).is_some(),
        };
        if ok {
            DataType::Date32
        } else {
            self.try_timestamp(f)
        }
    }
    fn try_timestamp(&self, f: &str) -> DataType {
        let ok = match &self.ts_fmt {
            Some(fmt) => {
                values::parse_timestamp_with_pattern(f, fmt, &self.opts.time_zone).is_some()
            }
            None => values::parse_timestamp_lenient(f, &self.opts.time_zone).is_some(),
        };
        if ok {
            timestamp_type(&self.tz_name)
        } else {
            self.try_bool(f)
        }
    }
    fn try_bool(&self, f: &str) -> DataType {
        if values::parse_bool(f).is_some() {
            DataType::Boolean
        } else {
            DataType::Utf8
        }
    }
}

fn numeric_rank(t: &DataType) -> Option<u8> {
    match t {
        DataType::Int32 => Some(1),
        DataType::Int64 => Some(2),
        DataType::Float64 => Some(4),
        _ => None,
    }
}

fn decimal_for(t: &DataType) -> Option<(u8, i8)> {
    match t {
        DataType::Int32 => Some((10, 0)),
        DataType::Int64 => Some((20, 0)),
        DataType::Decimal128(p, s) => Some((*p, *s)),
        _ => None,
    }
}

/// Spark's `compatibleType` for CSV inference: the tightest common type, then the
/// CSV-specific promotions; `None` when only `string` fits.
pub fn compatible(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    match (a, b) {
        (x, y) if x == y => Some(x.clone()),
        (Null, x) | (x, Null) => Some(x.clone()),
        (Date32, Timestamp(..)) | (Timestamp(..), Date32) => Some(Utf8),
        (Utf8, _) | (_, Utf8) => Some(Utf8),
        (Float64, Decimal128(..)) | (Decimal128(..), Float64) => Some(Float64),
        (Decimal128(..), _) | (_, Decimal128(..)) => {
            let (p1, s1) = decimal_for(a)?;
            let (p2, s2) = decimal_for(b)?;
            let scale = s1.max(s2);
            let range = (p1 as i16 - s1 as i16).max(p2 as i16 - s2 as i16);
            if range + scale as i16 > 38 {
                Some(Float64)
            } else {
                Some(Decimal128((range + scale as i16) as u8, scale))
            }
        }
        _ => match (numeric_rank(a), numeric_rank(b)) {
            (Some(x), Some(y)) => Some(if x >= y { a.clone() } else { b.clone() }),
            _ => None,
        },
    }
}

/// Final column type: `Null` (no value seen) becomes `string`.
pub fn finish(t: DataType) -> DataType {
    if t == DataType::Null {
        DataType::Utf8
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn infer(values: &[&str]) -> DataType {
        let o = CsvOptions::from_map(&HashMap::new(), "UTC".parse().unwrap()).unwrap();
        let inf = Inferrer::new(&o);
        finish(
            values
                .iter()
                .fold(DataType::Null, |t, v| inf.infer_field(&t, Some(v))),
        )
    }

    #[test]
    fn spark_ladder() {
        assert_eq!(infer(&["1", "2"]), DataType::Int32);
        assert_eq!(infer(&["1", "3000000000"]), DataType::Int64);
        assert_eq!(infer(&["10.5", "20", "-7.5e2"]), DataType::Float64);
        assert_eq!(infer(&["10.5", "not_a_number"]), DataType::Utf8);
        assert_eq!(infer(&["2024-01-15", "2024-02-29"]), DataType::Date32);
        assert_eq!(infer(&["2024-01-15", "2024/05/01"]), DataType::Utf8);
        assert_eq!(infer(&["2013-01-01T10:00:00Z"]), timestamp_type("UTC"));
        assert_eq!(
            infer(&["2024-01-15", "2013-01-01T10:00:00Z"]),
            DataType::Utf8
        );
        assert_eq!(infer(&["true", "TRUE", "false"]), DataType::Boolean);
        assert_eq!(infer(&["1", "true"]), DataType::Utf8);
        assert_eq!(
            infer(&["99999999999999999999"]),
            DataType::Decimal128(20, 0)
        );
        assert_eq!(infer(&["99999999999999999999", "1.5"]), DataType::Float64);
        assert_eq!(infer(&[]), DataType::Utf8);
    }
}
