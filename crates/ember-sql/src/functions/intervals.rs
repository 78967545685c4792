//! Spark's ANSI interval values (see [`crate::interval`] for the types):
//!
//! - `ember_interval(text, qualifier)`: the value of an interval literal — the SQL
//!   parser turns `INTERVAL '1 02' DAY TO HOUR` (and the multi-unit forms) into this
//!   call; its field carries the qualifier's range, so the column prints as Spark's
//!   `interval day to hour` does. Given an interval value instead of text it is the
//!   identity with that range (the analyzer types `a + b` of intervals so).
//! - `make_ym_interval([years[, months]])` → `interval year to month`;
//!   `make_dt_interval([days[, hours[, mins[, secs]]]])` → `interval day to second`
//!   (secs a `decimal(18, 6)`), NULL when an argument is NULL, Spark's
//!   `ARITHMETIC_OVERFLOW` when the value does not fit.
//! - `make_interval([years[, months[, weeks[, days[, hours[, mins[, secs]]]]]]])` →
//!   `interval` (a calendar interval: months, days and microseconds kept apart);
//!   `try_make_interval` gives NULL where `make_interval` fails on overflow.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, DurationMicrosecondArray, IntervalMonthDayNanoArray,
    IntervalYearMonthArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, Field, FieldRef, Int64Type, IntervalMonthDayNano, IntervalUnit,
    TimeUnit,
};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Operator, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};

use crate::interval::{Qualifier, MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE};

/// The name of the literal function (not a Spark function; the parser's target).
pub const LITERAL: &str = "ember_interval";

fn qualifier_arg(v: Option<&ScalarValue>) -> Result<Qualifier> {
    match v {
        Some(ScalarValue::Utf8(Some(s))) => match Qualifier::parse_sql(s) {
            Some(q) => Ok(q),
            None => plan_err!("not an interval qualifier: {s}"),
        },
        _ => plan_err!("{LITERAL}: the qualifier must be a constant string"),
    }
}

/// `ember_interval(text, qualifier)`: see the module doc.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntervalLiteral {
    signature: Signature,
}

impl IntervalLiteral {
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(IntervalLiteral {
            signature: Signature::variadic_any(Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for IntervalLiteral {
    fn name(&self) -> &str {
        LITERAL
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        plan_err!("{LITERAL}: return_field_from_args is used")
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let q = qualifier_arg(args.scalar_arguments.get(1).copied().flatten())?;
        if let Some(from) = args
            .arg_fields
            .first()
            .and_then(|f| Qualifier::of_type(f.data_type()))
        {
            if from.year_month() != q.year_month() {
                return plan_err!(
                    "{LITERAL}: cannot type {} as {}",
                    from.type_name(),
                    q.type_name()
                );
            }
        }
        if let Some(DataType::List(_)) = args.arg_fields.first().map(|f| f.data_type()) {
            let item = Field::new("item", q.data_type(), true).with_metadata(q.metadata());
            return Ok(Arc::new(Field::new(
                self.name(),
                DataType::List(Arc::new(item)),
                true,
            )));
        }
        Ok(Arc::new(
            Field::new(self.name(), q.data_type(), true).with_metadata(q.metadata()),
        ))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let q = match args.args.get(1) {
            Some(ColumnarValue::Scalar(s)) => qualifier_arg(Some(s))?,
            _ => return exec_err!("{LITERAL}: the qualifier must be a constant string"),
        };
        // An interval value: the same value, typed with this range.
        if Qualifier::of_type(&args.args[0].data_type()).is_some() {
            return Ok(args.args[0].clone());
        }
        // Numbers (months or microseconds; lists of them): intervals of this range.
        let t0 = args.args[0].data_type();
        if t0.is_numeric() || matches!(t0, DataType::List(_)) {
            let round = matches!(args.args.get(2), Some(ColumnarValue::Scalar(ScalarValue::Utf8(Some(m)))) if m == "round");
            let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
            let a = args.args[0].to_array(args.number_rows)?;
            let out = from_numbers(&a, q, round)?;
            return Ok(if scalar {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
            } else {
                ColumnarValue::Array(out)
            });
        }
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let text = cast(&args.args[0].to_array(args.number_rows)?, &DataType::Utf8)?;
        let text = text.as_string::<i32>();
        let mut values: Vec<Option<i64>> = Vec::with_capacity(text.len());
        for s in text.iter() {
            values.push(match s {
                None => None,
                Some(s) => Some(q.parse_value(s).or_else(|e| {
                    exec_err!("[INVALID_INTERVAL_FORMAT.UNMATCHED_FORMAT_STRING] {e}")
                })?),
            });
        }
        let out: ArrayRef = if q.year_month() {
            Arc::new(IntervalYearMonthArray::from(
                values
                    .iter()
                    .map(|v| v.map(|v| v as i32))
                    .collect::<Vec<_>>(),
            ))
        } else {
            Arc::new(DurationMicrosecondArray::from(values))
        };
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

/// Numbers (months or microseconds, `Float64` rounded half up when `round`, else
/// truncated) or lists of them as intervals of `q`'s type (NULL where a value does
/// not fit).
fn from_numbers(a: &ArrayRef, q: Qualifier, round: bool) -> Result<ArrayRef> {
    if let DataType::List(_) = a.data_type() {
        let l = a.as_list::<i32>();
        let values = from_numbers(l.values(), q, round)?;
        let item = Arc::new(Field::new("item", q.data_type(), true).with_metadata(q.metadata()));
        return Ok(Arc::new(datafusion::arrow::array::ListArray::try_new(
            item,
            l.offsets().clone(),
            values,
            l.nulls().cloned(),
        )?));
    }
    let f = cast(a, &DataType::Float64)?;
    let f = f.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
    let ints: Option<ArrayRef> = if a.data_type().is_integer() {
        Some(cast(a, &DataType::Int64)?)
    } else {
        None
    };
    let mut out: Vec<Option<i64>> = Vec::with_capacity(a.len());
    for i in 0..a.len() {
        if a.is_null(i) {
            out.push(None);
            continue;
        }
        let v = match &ints {
            Some(x) => Some(x.as_primitive::<Int64Type>().value(i)),
            None => {
                let x = f.value(i);
                let x = if round { x.round() } else { x.trunc() };
                (x.is_finite() && x.abs() < 9.2e18).then_some(x as i64)
            }
        };
        let v = v.filter(|v| !q.year_month() || i32::try_from(*v).is_ok());
        out.push(v);
    }
    Ok(if q.year_month() {
        Arc::new(IntervalYearMonthArray::from(
            out.into_iter()
                .map(|v| v.map(|v| v as i32))
                .collect::<Vec<_>>(),
        ))
    } else {
        Arc::new(DurationMicrosecondArray::from(out))
    })
}

/// `make_ym_interval` (`year_month` true) or `make_dt_interval`: see the module doc.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MakeAnsiInterval {
    year_month: bool,
    signature: Signature,
}

impl MakeAnsiInterval {
    pub fn udf(year_month: bool) -> ScalarUDF {
        ScalarUDF::new_from_impl(MakeAnsiInterval {
            year_month,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

/// Spark's implicit casts for the interval constructors: integer fields as `int`,
/// the seconds (argument `secs_at`) as `decimal(18, 6)`; at most `max` arguments.
fn coerce_fields(
    name: &str,
    args: &[DataType],
    max: usize,
    secs_at: usize,
) -> Result<Vec<DataType>> {
    if args.len() > max {
        return plan_err!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires [0, {max}] parameters but the actual number is {}.",
            args.len()
        );
    }
    args.iter()
        .enumerate()
        .map(|(i, t)| {
            let numeric = t.is_numeric() || t.is_null() || matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
            if !numeric {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{name}\": argument {} requires a number, however it has the type \"{t}\".",
                    i + 1
                );
            }
            Ok(if i == secs_at {
                DataType::Decimal128(18, 6)
            } else {
                DataType::Int32
            })
        })
        .collect()
}

impl ScalarUDFImpl for MakeAnsiInterval {
    fn name(&self) -> &str {
        if self.year_month {
            "make_ym_interval"
        } else {
            "make_dt_interval"
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if self.year_month {
            coerce_fields(self.name(), arg_types, 2, usize::MAX)
        } else {
            coerce_fields(self.name(), arg_types, 4, 3)
        }
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.year_month {
            Qualifier::YEAR_TO_MONTH.data_type()
        } else {
            Qualifier::DAY_TO_SECOND.data_type()
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = if scalar { 1 } else { rows };
        let cols: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(n))
            .collect::<Result<_>>()?;
        let overflow = || {
            exec_err!(
                "[ARITHMETIC_OVERFLOW] {} overflow. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003",
                self.name()
            )
        };
        let int = |c: usize, i: usize| -> Option<Option<i64>> {
            match cols.get(c) {
                None => Some(Some(0)),
                Some(a) if a.is_null(i) => None,
                Some(a) => {
                    let a = cast(a, &DataType::Int64).ok()?;
                    Some(Some(a.as_primitive::<Int64Type>().value(i)))
                }
            }
        };
        let out: ArrayRef = if self.year_month {
            let mut v: Vec<Option<i32>> = Vec::with_capacity(n);
            for i in 0..n {
                match (int(0, i).flatten(), int(1, i).flatten()) {
                    (Some(y), Some(m)) => {
                        let total = y.checked_mul(12).and_then(|x| x.checked_add(m));
                        match total.and_then(|t| i32::try_from(t).ok()) {
                            Some(t) => v.push(Some(t)),
                            None => return overflow(),
                        }
                    }
                    _ => v.push(None),
                }
            }
            Arc::new(IntervalYearMonthArray::from(v))
        } else {
            let mut v: Vec<Option<i64>> = Vec::with_capacity(n);
            for i in 0..n {
                let secs = match cols.get(3) {
                    None => Some(0i128),
                    Some(a) if a.is_null(i) => None,
                    Some(a) => Some(a.as_primitive::<Decimal128Type>().value(i)),
                };
                match (
                    int(0, i).flatten(),
                    int(1, i).flatten(),
                    int(2, i).flatten(),
                    secs,
                ) {
                    (Some(d), Some(h), Some(m), Some(s)) => {
                        let total = d as i128 * MICROS_PER_DAY as i128
                            + h as i128 * MICROS_PER_HOUR as i128
                            + m as i128 * MICROS_PER_MINUTE as i128
                            + s;
                        match i64::try_from(total) {
                            Ok(t) => v.push(Some(t)),
                            Err(_) => return overflow(),
                        }
                    }
                    _ => v.push(None),
                }
            }
            Arc::new(DurationMicrosecondArray::from(v))
        };
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

/// `make_interval` (`try_` false) or `try_make_interval`: see the module doc.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MakeInterval {
    try_: bool,
    signature: Signature,
}

impl MakeInterval {
    pub fn udf(try_: bool) -> ScalarUDF {
        ScalarUDF::new_from_impl(MakeInterval {
            try_,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for MakeInterval {
    fn name(&self) -> &str {
        if self.try_ {
            "try_make_interval"
        } else {
            "make_interval"
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_fields(self.name(), arg_types, 7, 6)
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = if scalar { 1 } else { args.number_rows };
        let cols: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(n))
            .collect::<Result<_>>()?;
        let mut out: Vec<Option<IntervalMonthDayNano>> = Vec::with_capacity(n);
        'rows: for i in 0..n {
            let mut v = [0i128; 7];
            for (k, c) in cols.iter().enumerate() {
                if c.is_null(i) {
                    out.push(None);
                    continue 'rows;
                }
                v[k] = if k == 6 {
                    c.as_primitive::<Decimal128Type>().value(i)
                } else {
                    let c = cast(c, &DataType::Int64)?;
                    c.as_primitive::<Int64Type>().value(i) as i128
                };
            }
            let months = v[0] * 12 + v[1];
            let days = v[2] * 7 + v[3];
            let micros = v[4] * MICROS_PER_HOUR as i128 + v[5] * MICROS_PER_MINUTE as i128 + v[6];
            match (
                i32::try_from(months),
                i32::try_from(days),
                i64::try_from(micros).ok().and_then(|m| m.checked_mul(1_000)),
            ) {
                (Ok(m), Ok(d), Some(ns)) => out.push(Some(IntervalMonthDayNano::new(m, d, ns))),
                _ if self.try_ => out.push(None),
                _ => {
                    return exec_err!(
                        "[ARITHMETIC_OVERFLOW] integer overflow. Use 'try_make_interval' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003"
                    )
                }
            }
        }
        let out: ArrayRef = Arc::new(IntervalMonthDayNanoArray::from(out));
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

/// The functions of this module, for the registry.
pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        IntervalLiteral::udf(),
        MakeAnsiInterval::udf(true),
        MakeAnsiInterval::udf(false),
        MakeInterval::udf(false),
        MakeInterval::udf(true),
        IntervalArith::udf(Operator::Multiply),
        IntervalArith::udf(Operator::Divide),
        TimeBucket::udf(),
    ]
}

/// Spark's `interval * number`, `number * interval` and `interval / number`
/// (`MultiplyYMInterval`, `MultiplyDTInterval`, `DivideYMInterval`,
/// `DivideDTInterval`): the interval's months or microseconds times (divided by) the
/// number, rounded half up; the result has the interval type's full range.
/// `None` when `op` on these types is not one of them.
pub fn arith_type(op: Operator, l: &DataType, r: &DataType) -> Option<DataType> {
    let interval = |t: &DataType| Qualifier::of_type(t).is_some();
    let number = |t: &DataType| t.is_numeric() || t == &DataType::Null;
    match op {
        Operator::Multiply if interval(l) && number(r) => Some(l.clone()),
        Operator::Multiply if number(l) && interval(r) => Some(r.clone()),
        Operator::Divide if interval(l) && number(r) => Some(l.clone()),
        _ => None,
    }
}

/// Evaluates [`arith_type`]'s operations. Errors: Spark's `INTERVAL_DIVIDED_BY_ZERO`,
/// `ARITHMETIC_OVERFLOW` (the `try_` functions turn them into NULL).
pub fn arith_eval(op: Operator, l: &ArrayRef, r: &ArrayRef) -> Result<ArrayRef> {
    let (iv, num) = if Qualifier::of_type(l.data_type()).is_some() {
        (l, r)
    } else {
        (r, l)
    };
    let year_month = Qualifier::of_type(iv.data_type()).is_some_and(|q| q.year_month());
    let values: Vec<Option<i64>> = if year_month {
        iv.as_primitive::<datafusion::arrow::datatypes::IntervalYearMonthType>()
            .iter()
            .map(|v| v.map(i64::from))
            .collect()
    } else {
        let a = cast(iv, &DataType::Duration(TimeUnit::Microsecond))?;
        a.as_primitive::<datafusion::arrow::datatypes::DurationMicrosecondType>()
            .iter()
            .collect()
    };
    // The number as a ratio p / 10^s (integers and decimals, exact) or a double.
    enum Num {
        Exact(i128, u32),
        Float(f64),
        Null,
    }
    let nums: Vec<Num> = match num.data_type() {
        DataType::Decimal128(_, s) => {
            let s = *s as u32;
            num.as_primitive::<Decimal128Type>()
                .iter()
                .map(|v| v.map_or(Num::Null, |v| Num::Exact(v, s)))
                .collect()
        }
        t if t.is_integer() || t == &DataType::Null => {
            let a = cast(num, &DataType::Int64)?;
            a.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map_or(Num::Null, |v| Num::Exact(v as i128, 0)))
                .collect()
        }
        _ => {
            let a = cast(num, &DataType::Float64)?;
            a.as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .iter()
                .map(|v| v.map_or(Num::Null, Num::Float))
                .collect()
        }
    };
    let overflow = || {
        datafusion::common::DataFusionError::Execution(
            "[ARITHMETIC_OVERFLOW] Interval value overflow. Use 'try_multiply' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003".into(),
        )
    };
    let zero = || {
        datafusion::common::DataFusionError::Execution(
            "[INTERVAL_DIVIDED_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. SQLSTATE: 22012".into(),
        )
    };
    // a / b rounded half up (away from zero at .5).
    let div_half_up = |a: i128, b: i128| -> i128 {
        let q = a / b;
        let r = a % b;
        if 2 * r.abs() >= b.abs() {
            q + if (a < 0) != (b < 0) { -1 } else { 1 }
        } else {
            q
        }
    };
    let limit = if year_month {
        i32::MAX as i128
    } else {
        i64::MAX as i128
    };
    let mut out: Vec<Option<i64>> = Vec::with_capacity(values.len());
    for (v, n) in values.iter().zip(nums) {
        let (Some(v), n) = (v, n) else {
            out.push(None);
            continue;
        };
        let v = *v as i128;
        let res: i128 = match (op, n) {
            (_, Num::Null) => {
                out.push(None);
                continue;
            }
            (Operator::Divide, Num::Exact(0, _)) => return Err(zero()),
            (Operator::Divide, Num::Float(f)) if f == 0.0 => return Err(zero()),
            (Operator::Multiply, Num::Exact(p, s)) => {
                let prod = v.checked_mul(p).ok_or_else(overflow)?;
                div_half_up(prod, 10i128.pow(s))
            }
            (_, Num::Exact(p, s)) => {
                let scaled = v.checked_mul(10i128.pow(s)).ok_or_else(overflow)?;
                div_half_up(scaled, p)
            }
            (Operator::Multiply, Num::Float(f)) => (v as f64 * f).round() as i128,
            (_, Num::Float(f)) => (v as f64 / f).round() as i128,
        };
        if res > limit || res < -limit - 1 {
            return Err(overflow());
        }
        out.push(Some(res as i64));
    }
    Ok(if year_month {
        Arc::new(IntervalYearMonthArray::from(
            out.into_iter()
                .map(|v| v.map(|v| v as i32))
                .collect::<Vec<_>>(),
        ))
    } else {
        Arc::new(DurationMicrosecondArray::from(out))
    })
}

/// `ember_interval_mul(a, b)` / `ember_interval_div(a, b)`: the SQL operators `*`
/// and `/` on intervals ([`arith_type`], [`arith_eval`]), which the analyzer puts in
/// place of the operator.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntervalArith {
    op: Operator,
    signature: Signature,
}

impl IntervalArith {
    pub fn udf(op: Operator) -> ScalarUDF {
        ScalarUDF::new_from_impl(IntervalArith {
            op,
            signature: Signature::any(2, Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for IntervalArith {
    fn name(&self) -> &str {
        if self.op == Operator::Multiply {
            "ember_interval_mul"
        } else {
            "ember_interval_div"
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [l, r] => match arith_type(self.op, l, r) {
                Some(t) => Ok(t),
                None => plan_err!("{}: not an interval and a number: {l}, {r}", self.name()),
            },
            _ => plan_err!("{} takes 2 arguments", self.name()),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = if scalar { 1 } else { args.number_rows };
        let l = args.args[0].to_array(n)?;
        let r = args.args[1].to_array(n)?;
        let out = arith_eval(self.op, &l, &r)?;
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

/// Spark 4.3's `time_bucket(width, ts[, origin])`: the start of the bucket of
/// `width` (an ANSI interval) that holds `ts`, buckets counted from `origin`
/// (default `1970-01-01 00:00:00`): `origin + floor((ts - origin) / width) * width`;
/// year-month widths count calendar months (in UTC wall-clock time). The result has
/// `ts`'s type; NULL when an argument is NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TimeBucket {
    signature: Signature,
}

impl TimeBucket {
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(TimeBucket {
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

fn months_of(micros: i64) -> Option<(i64, i64)> {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::from_timestamp_micros(micros)?.naive_utc();
    let months = t.year() as i64 * 12 + t.month0() as i64;
    let in_month = (t.day0() as i64) * crate::interval::MICROS_PER_DAY
        + t.num_seconds_from_midnight() as i64 * 1_000_000
        + (t.nanosecond() / 1_000) as i64;
    Some((months, in_month))
}

fn add_months(micros: i64, months: i64) -> Option<i64> {
    let t = chrono::DateTime::from_timestamp_micros(micros)?.naive_utc();
    let t = if months >= 0 {
        t.checked_add_months(chrono::Months::new(u32::try_from(months).ok()?))?
    } else {
        t.checked_sub_months(chrono::Months::new(u32::try_from(-months).ok()?))?
    };
    Some(t.and_utc().timestamp_micros())
}

impl ScalarUDFImpl for TimeBucket {
    fn name(&self) -> &str {
        "time_bucket"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&arg_types.len()) {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `time_bucket` requires [2, 3] parameters but the actual number is {}.",
                arg_types.len()
            );
        }
        if Qualifier::of_type(&arg_types[0]).is_none() {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] The first parameter of `time_bucket` requires the \"INTERVAL\" type, however it has the type \"{}\".",
                arg_types[0]
            );
        }
        let ts = match &arg_types[1] {
            t @ DataType::Timestamp(TimeUnit::Microsecond, _) => t.clone(),
            DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            _ => DataType::Timestamp(TimeUnit::Microsecond, None),
        };
        let mut out = vec![arg_types[0].clone(), ts.clone()];
        if arg_types.len() == 3 {
            out.push(ts);
        }
        Ok(out)
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.get(1).cloned().unwrap_or(DataType::Null))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use datafusion::arrow::array::TimestampMicrosecondArray;
        use datafusion::arrow::datatypes::{
            DurationMicrosecondType, IntervalYearMonthType, TimestampMicrosecondType,
        };
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = if scalar { 1 } else { args.number_rows };
        let width = args.args[0].to_array(n)?;
        let ts = args.args[1].to_array(n)?;
        let out_type = ts.data_type().clone();
        let origin = match args.args.get(2) {
            Some(o) => Some(o.to_array(n)?),
            None => None,
        };
        let ts = ts.as_primitive::<TimestampMicrosecondType>();
        let year_month = Qualifier::of_type(width.data_type()).is_some_and(|q| q.year_month());
        let mut out: Vec<Option<i64>> = Vec::with_capacity(n);
        for i in 0..n {
            let o = match &origin {
                Some(o) if o.is_null(i) => {
                    out.push(None);
                    continue;
                }
                Some(o) => o.as_primitive::<TimestampMicrosecondType>().value(i),
                None => 0,
            };
            if width.is_null(i) || ts.is_null(i) {
                out.push(None);
                continue;
            }
            let t = ts.value(i);
            let v = if year_month {
                let w = width.as_primitive::<IntervalYearMonthType>().value(i) as i64;
                if w <= 0 {
                    return exec_err!(
                        "[INVALID_BUCKET_WIDTH] time_bucket's width must be positive"
                    );
                }
                let (tm, t_in) = months_of(t).unwrap_or((0, 0));
                let (om, o_in) = months_of(o).unwrap_or((0, 0));
                let mut diff = tm - om;
                if t_in < o_in {
                    diff -= 1;
                }
                add_months(o, diff.div_euclid(w) * w)
            } else {
                let w = cast(
                    &width.slice(i, 1),
                    &DataType::Duration(TimeUnit::Microsecond),
                )?
                .as_primitive::<DurationMicrosecondType>()
                .value(0);
                if w <= 0 {
                    return exec_err!(
                        "[INVALID_BUCKET_WIDTH] time_bucket's width must be positive"
                    );
                }
                (t - o).checked_div_euclid(w).map(|k| o + k * w)
            };
            out.push(v);
        }
        let arr = TimestampMicrosecondArray::from(out);
        let arr: ArrayRef = cast(&arr, &out_type)?;
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&arr, 0)?)
        } else {
            ColumnarValue::Array(arr)
        })
    }
}

/// `abs`: the registry's `abs` of numbers, and of ANSI intervals (Spark's `Abs` on
/// `interval` types: the value without its sign, typed with the argument's range;
/// `ARITHMETIC_OVERFLOW` for the smallest value).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntervalAbs {
    inner: Arc<ScalarUDF>,
    signature: Signature,
}

impl IntervalAbs {
    /// `abs` over the existing `inner` one.
    pub fn udf(inner: Arc<ScalarUDF>) -> ScalarUDF {
        ScalarUDF::new_from_impl(IntervalAbs {
            inner,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for IntervalAbs {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() == 1 && Qualifier::of_type(&arg_types[0]).is_some() {
            return Ok(arg_types.to_vec());
        }
        let fields: Vec<FieldRef> = arg_types
            .iter()
            .map(|t| Arc::new(Field::new("x", t.clone(), true)))
            .collect();
        Ok(
            datafusion::logical_expr::type_coercion::functions::fields_with_udf(
                &fields,
                self.inner.as_ref(),
            )?
            .iter()
            .map(|f| f.data_type().clone())
            .collect(),
        )
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [t] if Qualifier::of_type(t).is_some() => Ok(t.clone()),
            _ => self.inner.return_type(arg_types),
        }
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        match args.arg_fields {
            [f] if Qualifier::of_type(f.data_type()).is_some() => Ok(Arc::new(
                Field::new(self.name(), f.data_type().clone(), f.is_nullable())
                    .with_metadata(f.metadata().clone()),
            )),
            _ => self.inner.return_field_from_args(args),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let t = args.args.first().map(|a| a.data_type());
        if !t.as_ref().is_some_and(|t| Qualifier::of_type(t).is_some()) {
            return self.inner.invoke_with_args(args);
        }
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let n = if scalar { 1 } else { args.number_rows };
        let a = args.args[0].to_array(n)?;
        let overflow = || {
            exec_err!(
                "[ARITHMETIC_OVERFLOW] Interval value overflow. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003"
            )
        };
        let out: ArrayRef = match a.data_type() {
            DataType::Interval(IntervalUnit::YearMonth) => {
                let mut v = Vec::with_capacity(n);
                for x in a
                    .as_primitive::<datafusion::arrow::datatypes::IntervalYearMonthType>()
                    .iter()
                {
                    v.push(match x {
                        Some(x) => Some(match x.checked_abs() {
                            Some(y) => y,
                            None => return overflow(),
                        }),
                        None => None,
                    });
                }
                Arc::new(IntervalYearMonthArray::from(v))
            }
            _ => {
                let a = cast(&a, &DataType::Duration(TimeUnit::Microsecond))?;
                let mut v = Vec::with_capacity(n);
                for x in a
                    .as_primitive::<datafusion::arrow::datatypes::DurationMicrosecondType>()
                    .iter()
                {
                    v.push(match x {
                        Some(x) => Some(match x.checked_abs() {
                            Some(y) => y,
                            None => return overflow(),
                        }),
                        None => None,
                    });
                }
                Arc::new(DurationMicrosecondArray::from(v))
            }
        };
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

/// An aggregate's `coerce_types` that also takes an ANSI interval first argument
/// (Spark's `sum`, `avg`, percentiles... of intervals): the interval is kept and the
/// other arguments coerced as `coerce` would for a `bigint` first argument. The
/// analyzer then computes the aggregate over the months or microseconds
/// (`sql::interval_rules`).
pub fn agg_coerce(
    args: &[DataType],
    coerce: impl FnOnce(&[DataType]) -> Result<Vec<DataType>>,
) -> Result<Vec<DataType>> {
    match args.first() {
        Some(t) if Qualifier::of_type(t).is_some() => {
            let mut a = args.to_vec();
            a[0] = DataType::Int64;
            let mut out = coerce(&a)?;
            if let Some(first) = out.first_mut() {
                *first = t.clone();
            }
            Ok(out)
        }
        _ => coerce(args),
    }
}

/// An aggregate's result type with an ANSI interval first argument: `ret` of a
/// `bigint` argument with its numbers (or lists of numbers) typed as the interval.
pub fn agg_return(
    args: &[DataType],
    ret: impl FnOnce(&[DataType]) -> Result<DataType>,
) -> Result<DataType> {
    match args.first() {
        Some(t) if Qualifier::of_type(t).is_some() => {
            let mut a = args.to_vec();
            a[0] = DataType::Int64;
            Ok(match ret(&a)? {
                DataType::List(f) => {
                    DataType::List(Arc::new(Field::new(f.name(), t.clone(), f.is_nullable())))
                }
                _ => t.clone(),
            })
        }
        _ => ret(args),
    }
}

/// `ember_interval_number(x)`: an ANSI interval's months or microseconds as a
/// `bigint` (Arrow casts year-month intervals to no integer type).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntervalNumber {
    signature: Signature,
}

impl IntervalNumber {
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(IntervalNumber {
            signature: Signature::any(1, Volatility::Immutable),
        })
    }

    /// `ember_interval_number(e)` as an expression.
    pub fn call(e: datafusion::logical_expr::Expr) -> datafusion::logical_expr::Expr {
        datafusion::logical_expr::Expr::ScalarFunction(
            datafusion::logical_expr::expr::ScalarFunction::new_udf(Arc::new(Self::udf()), vec![e]),
        )
    }
}

impl ScalarUDFImpl for IntervalNumber {
    fn name(&self) -> &str {
        "ember_interval_number"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [t] if Qualifier::of_type(t).is_some() || t.is_null() => Ok(DataType::Int64),
            _ => plan_err!("ember_interval_number takes one ANSI interval"),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let a = args.args[0].to_array(if scalar { 1 } else { args.number_rows })?;
        let out: ArrayRef = match a.data_type() {
            DataType::Interval(IntervalUnit::YearMonth) => Arc::new(
                a.as_primitive::<datafusion::arrow::datatypes::IntervalYearMonthType>()
                    .iter()
                    .map(|v| v.map(i64::from))
                    .collect::<datafusion::arrow::array::Int64Array>(),
            ),
            _ => cast(
                &cast(&a, &DataType::Duration(TimeUnit::Microsecond))?,
                &DataType::Int64,
            )?,
        };
        Ok(if scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}
