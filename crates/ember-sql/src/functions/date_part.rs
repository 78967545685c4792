//! `date_part(field, source)` / `datepart` / `extract(field FROM source)` with Spark's
//! `SECOND` field: the seconds with their fraction as `DECIMAL(8, 6)` (`15.000000`,
//! `59.123456`), as Spark's `SecondWithFraction`; DataFusion's `date_part` (which this
//! wraps for every other field) gives whole seconds as `INT`.
//!
//! Spark spells the field `SECOND`, `S`, `SEC`, `SECONDS` or `SECS`, in any case.
//!
//! Of an interval (Spark's `ExtractIntervalPart`): `YEAR` (`int`) and `MONTH`
//! (`tinyint`) of year-month and calendar intervals, `DAY` (`int`), `HOUR`, `MINUTE`
//! (`tinyint`) and `SECOND` (`decimal(8, 6)`) of day-time and calendar intervals;
//! each part keeps the interval's sign.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Decimal128Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

/// Spark's `date_part` (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkDatePart {
    inner: Arc<ScalarUDF>,
    aliases: Vec<String>,
}

impl SparkDatePart {
    /// The function, under DataFusion's name `date_part` (aliases `datepart`,
    /// `extract`).
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(SparkDatePart {
            inner: datafusion::functions::datetime::date_part(),
            aliases: vec!["datepart".into(), "extract".into()],
        })
    }
}

const SECOND: DataType = DataType::Decimal128(8, 6);

fn is_second(field: &str) -> bool {
    matches!(
        field.trim().to_ascii_uppercase().as_str(),
        "SECOND" | "S" | "SEC" | "SECONDS" | "SECS"
    )
}

fn field_of(v: Option<&ScalarValue>) -> Option<String> {
    v.and_then(|s| s.try_as_str().flatten().map(str::to_string))
}

impl ScalarUDFImpl for SparkDatePart {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        self.inner.signature()
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let field = args.scalar_arguments.first().copied().flatten();
        if let Some(src) = args
            .arg_fields
            .get(1)
            .filter(|f| is_interval(f.data_type()))
        {
            let name = field_of(field).unwrap_or_default();
            let part = interval_part(&name, src.data_type())?;
            return Ok(Arc::new(Field::new(self.name(), part.data_type(), true)));
        }
        if field_of(field).is_some_and(|f| is_second(&f)) {
            let nullable = args.arg_fields.get(1).is_none_or(|f| f.is_nullable());
            return Ok(Arc::new(Field::new(self.name(), SECOND, nullable)));
        }
        self.inner.return_field_from_args(args)
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.get(1).is_some_and(is_interval) {
            return Ok(arg_types.to_vec());
        }
        self.inner.coerce_types(arg_types)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let field = match args.args.first() {
            Some(ColumnarValue::Scalar(s)) => field_of(Some(s)),
            _ => None,
        };
        if let Some(src) = args.args.get(1).filter(|a| is_interval(&a.data_type())) {
            let part = interval_part(field.as_deref().unwrap_or(""), &src.data_type())?;
            let scalar = matches!(src, ColumnarValue::Scalar(_));
            let out = part.extract(&src.to_array(args.number_rows)?)?;
            return Ok(if scalar && out.len() == 1 {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
            } else {
                ColumnarValue::Array(out)
            });
        }
        if !field.is_some_and(|f| is_second(&f)) {
            return self.inner.invoke_with_args(args);
        }
        let Some(source) = args.args.get(1) else {
            return exec_err!("date_part takes a field and a source");
        };
        let scalar = matches!(source, ColumnarValue::Scalar(_));
        let arr = source.to_array(args.number_rows)?;
        let micros = match arr.data_type() {
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 | DataType::Utf8 => {
                cast(&arr, &DataType::Timestamp(TimeUnit::Microsecond, None))?
            }
            other => return exec_err!("date_part(SECOND, ...) of {other}"),
        };
        let micros = micros.as_primitive::<TimestampMicrosecondType>();
        let out: Decimal128Array = micros
            .iter()
            .map(|v| v.map(|m| i128::from(m.rem_euclid(60_000_000))))
            .collect::<Decimal128Array>()
            .with_precision_and_scale(8, 6)?;
        Ok(if scalar && out.len() == 1 {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(Arc::new(out))
        })
    }
}

fn is_interval(t: &DataType) -> bool {
    matches!(t, DataType::Duration(_) | DataType::Interval(_))
}

/// A part of an interval that `extract` reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IntervalPart {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

/// The part `name` (Spark's spellings) of an interval of type `t`. Errors: Spark's
/// `INVALID_EXTRACT_FIELD` for a part the type lacks.
fn interval_part(name: &str, t: &DataType) -> Result<IntervalPart> {
    use IntervalPart as P;
    let part = match name.trim().to_ascii_uppercase().as_str() {
        "YEAR" | "Y" | "YEARS" | "YR" | "YRS" => Some(P::Year),
        "MONTH" | "MON" | "MONS" | "MONTHS" => Some(P::Month),
        "DAY" | "D" | "DAYS" => Some(P::Day),
        "HOUR" | "H" | "HOURS" | "HR" | "HRS" => Some(P::Hour),
        "MINUTE" | "M" | "MIN" | "MINS" | "MINUTES" => Some(P::Minute),
        "SECOND" | "S" | "SEC" | "SECONDS" | "SECS" => Some(P::Second),
        _ => None,
    };
    let fits = |p: IntervalPart| match t {
        DataType::Interval(datafusion::arrow::datatypes::IntervalUnit::YearMonth) => {
            matches!(p, P::Year | P::Month)
        }
        DataType::Duration(_) => !matches!(p, P::Year | P::Month),
        _ => true,
    };
    match part {
        Some(p) if fits(p) => Ok(p),
        _ => datafusion::common::plan_err!(
            "[INVALID_EXTRACT_FIELD] Cannot extract {name} from {}. SQLSTATE: 42601",
            crate::types::simple_string(t)
        ),
    }
}

impl IntervalPart {
    fn data_type(self) -> DataType {
        match self {
            IntervalPart::Year | IntervalPart::Day => DataType::Int32,
            IntervalPart::Second => SECOND,
            _ => DataType::Int8,
        }
    }

    /// The part of each interval in `arr` (months, days and microseconds read from
    /// the interval's own representation).
    fn extract(self, arr: &dyn Array) -> Result<datafusion::arrow::array::ArrayRef> {
        use crate::interval::{MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE};
        use datafusion::arrow::array::{Int32Array, Int8Array};
        use datafusion::arrow::datatypes::{
            DurationMicrosecondType, IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType,
        };
        // (months, days, micros) of each value.
        let parts: Vec<Option<(i64, i64, i64)>> = match arr.data_type() {
            DataType::Interval(IntervalUnit::YearMonth) => arr
                .as_primitive::<IntervalYearMonthType>()
                .iter()
                .map(|v| v.map(|m| (m as i64, 0, 0)))
                .collect(),
            DataType::Interval(IntervalUnit::MonthDayNano) => arr
                .as_primitive::<IntervalMonthDayNanoType>()
                .iter()
                .map(|v| v.map(|v| (v.months as i64, v.days as i64, v.nanoseconds / 1_000)))
                .collect(),
            DataType::Duration(_) => {
                let a = cast(arr, &DataType::Duration(TimeUnit::Microsecond))?;
                a.as_primitive::<DurationMicrosecondType>()
                    .iter()
                    .map(|v| v.map(|us| (0, us / MICROS_PER_DAY, us % MICROS_PER_DAY)))
                    .collect()
            }
            other => return exec_err!("extract from {other}"),
        };
        Ok(match self {
            IntervalPart::Year => Arc::new(
                parts
                    .iter()
                    .map(|p| p.map(|(m, _, _)| (m / 12) as i32))
                    .collect::<Int32Array>(),
            ),
            IntervalPart::Month => Arc::new(
                parts
                    .iter()
                    .map(|p| p.map(|(m, _, _)| (m % 12) as i8))
                    .collect::<Int8Array>(),
            ),
            IntervalPart::Day => Arc::new(
                parts
                    .iter()
                    .map(|p| p.map(|(_, d, _)| d as i32))
                    .collect::<Int32Array>(),
            ),
            IntervalPart::Hour => Arc::new(
                parts
                    .iter()
                    .map(|p| p.map(|(_, _, us)| (us / MICROS_PER_HOUR) as i8))
                    .collect::<Int8Array>(),
            ),
            IntervalPart::Minute => Arc::new(
                parts
                    .iter()
                    .map(|p| p.map(|(_, _, us)| ((us % MICROS_PER_HOUR) / MICROS_PER_MINUTE) as i8))
                    .collect::<Int8Array>(),
            ),
            IntervalPart::Second => Arc::new(
                parts
                    .iter()
                    .map(|p| p.map(|(_, _, us)| i128::from(us % MICROS_PER_MINUTE)))
                    .collect::<Decimal128Array>()
                    .with_precision_and_scale(8, 6)?,
            ),
        })
    }
}
