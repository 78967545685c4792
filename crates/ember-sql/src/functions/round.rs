//! Spark's `round(x[, d])` (HALF_UP) and `bround(x[, d])` (HALF_EVEN), as Spark's
//! `RoundBase`:
//! - `double`: rounded as the decimal Java prints (`BigDecimal(Double.toString(x))`),
//!   so `round(1.005, 2)` is `1.01` and `bround(2.345, 2)` is `2.34` (the binary
//!   values are slightly below / above); NaN and infinities unchanged; never `-0.0`.
//!   `float` goes through its `double` value the same way.
//! - `tinyint`..`bigint`: unchanged for `d >= 0`; for `d < 0` rounded to a multiple
//!   of `10^-d` keeping the type (wrapping on overflow, as Java's `intValue`).
//! - `decimal(p, s)`: `decimal(min(p - s + 1 + min(s, d), 38), min(s, d))` for
//!   `d >= 0`, `decimal(min(max(p - s + 1, 1 - d), 38), 0)` for `d < 0`; NULL when
//!   the rounded value does not fit 38 digits.
//! - strings are cast to `double` first; `d` must be a constant integer
//!   (`DATATYPE_MISMATCH.NON_FOLDABLE_INPUT` otherwise).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray};
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Decimal128Type, Field, FieldRef, Float32Type, Float64Type,
    Int16Type, Int32Type, Int64Type, Int8Type,
};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// Rounding of a half: HALF_UP (`round`) or HALF_EVEN (`bround`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Halves away from zero (`round`).
    HalfUp,
    /// Halves to the even neighbour (`bround`, banker's rounding).
    HalfEven,
    /// Toward positive infinity (`ceil(x, d)`).
    Ceiling,
    /// Toward negative infinity (`floor(x, d)`).
    Floor,
}

/// `round` or `bround` with Spark's types and values.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkRound {
    mode: Mode,
    signature: Signature,
}

impl SparkRound {
    /// The `round` (`Mode::HalfUp`) or `bround` (`Mode::HalfEven`) function.
    pub fn udf(mode: Mode) -> ScalarUDF {
        ScalarUDF::new_from_impl(SparkRound {
            mode,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

/// Spark's result type of `round(decimal(p, s), scale)`.
pub fn decimal_round_type(p: u8, s: i8, scale: i32) -> DataType {
    let integral = p as i32 - s as i32 + 1;
    if scale < 0 {
        let np = integral.max(-scale + 1).min(38);
        DataType::Decimal128(np as u8, 0)
    } else {
        let ns = (s as i32).min(scale);
        DataType::Decimal128((integral + ns).min(38) as u8, ns as i8)
    }
}

fn scale_of(v: Option<&ScalarValue>) -> Option<i32> {
    match v {
        None => Some(0),
        Some(ScalarValue::Int8(Some(x))) => Some(*x as i32),
        Some(ScalarValue::Int16(Some(x))) => Some(*x as i32),
        Some(ScalarValue::Int32(Some(x))) => Some(*x),
        Some(ScalarValue::Int64(Some(x))) => Some(*x as i32),
        _ => None,
    }
}

fn result_type(input: &DataType, scale: i32) -> DataType {
    match input {
        DataType::Decimal128(p, s) => decimal_round_type(*p, *s, scale),
        DataType::Null => DataType::Float64,
        other => other.clone(),
    }
}

impl ScalarUDFImpl for SparkRound {
    fn name(&self) -> &str {
        match self.mode {
            Mode::HalfUp => "round",
            Mode::HalfEven => "bround",
            Mode::Ceiling => "ceil",
            Mode::Floor => "floor",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if args.is_empty() || args.len() > 2 {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires [1, 2] parameters but the actual number is {}.",
                self.name(),
                args.len()
            );
        }
        let x = match &args[0] {
            t @ (DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(..)) => t.clone(),
            DataType::UInt8 | DataType::UInt16 => DataType::Int32,
            DataType::UInt32 | DataType::UInt64 => DataType::Int64,
            DataType::Float16 => DataType::Float32,
            DataType::Decimal256(p, s) => DataType::Decimal128((*p).min(38), *s),
            DataType::Null | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                DataType::Float64
            }
            other => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: the first parameter requires the \"NUMERIC\" type, however it has the type \"{other}\".",
                    self.name()
                )
            }
        };
        let mut out = vec![x];
        if args.len() == 2 {
            out.push(DataType::Int32);
        }
        Ok(out)
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(result_type(arg_types.first().unwrap_or(&DataType::Null), 0))
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let input = args
            .arg_fields
            .first()
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Null);
        let scale = match args.arg_fields.len() {
            1 => 0,
            _ => match args.scalar_arguments.get(1).copied().flatten() {
                Some(v) if v.is_null() => 0,
                Some(v) => scale_of(Some(v)).unwrap_or(0),
                None => {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] Cannot resolve \"{}\" due to data type mismatch: the input `scale` should be a foldable \"INT\" expression.",
                        self.name()
                    )
                }
            },
        };
        // Spark's `RoundBase` is always nullable (a decimal that overflows is NULL).
        Ok(Arc::new(Field::new(
            self.name(),
            result_type(&input, scale),
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scale = match args.args.get(1) {
            None => Some(0),
            Some(ColumnarValue::Scalar(s)) => {
                if s.is_null() {
                    None
                } else {
                    scale_of(Some(s))
                }
            }
            Some(ColumnarValue::Array(_)) => {
                return exec_err!("the scale of {} must be a constant", self.name())
            }
        };
        let target = args.return_field.data_type().clone();
        let rows = args.number_rows;
        let x = args.args[0].to_array(rows)?;
        let Some(scale) = scale else {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from(&target)?));
        };
        let out = round_array(&x, scale, self.mode, &target)?;
        Ok(match &args.args[0] {
            ColumnarValue::Scalar(_) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
            }
            ColumnarValue::Array(_) => ColumnarValue::Array(out),
        })
    }
}

/// Spark's `ceil`/`ceiling` and `floor`: with one argument datafusion-spark's
/// (`bigint` for integers and doubles, `decimal(p - s + 1, 0)` for decimals); with a
/// constant `scale` Spark's `RoundCeil`/`RoundFloor`: the input is cast to a decimal
/// (`int` as `decimal(10, 0)`, `bigint` `decimal(20, 0)`, `double` `decimal(30, 15)`)
/// and rounded toward +∞ (−∞) to `scale` digits, typed as `round` types it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CeilFloor {
    mode: Mode,
    one_arg: Arc<ScalarUDF>,
    signature: Signature,
}

impl CeilFloor {
    /// `ceil` (`ceiling`) or `floor`.
    pub fn udf(ceil: bool) -> ScalarUDF {
        let (mode, one_arg, aliases): (Mode, Arc<ScalarUDF>, &[&str]) = if ceil {
            (
                Mode::Ceiling,
                datafusion_spark::function::math::ceil(),
                &["ceiling"],
            )
        } else {
            (Mode::Floor, datafusion_spark::function::math::floor(), &[])
        };
        ScalarUDF::new_from_impl(CeilFloor {
            mode,
            one_arg,
            signature: Signature::user_defined(Volatility::Immutable),
        })
        .with_aliases(aliases.iter().copied())
    }
}

/// The decimal Spark casts `t` to for `ceil`/`floor` with a scale.
fn decimal_for(t: &DataType) -> DataType {
    match t {
        DataType::Int8 | DataType::UInt8 => DataType::Decimal128(3, 0),
        DataType::Int16 | DataType::UInt16 => DataType::Decimal128(5, 0),
        DataType::Int32 | DataType::UInt32 => DataType::Decimal128(10, 0),
        DataType::Int64 | DataType::UInt64 => DataType::Decimal128(20, 0),
        DataType::Float16 | DataType::Float32 => DataType::Decimal128(14, 7),
        DataType::Decimal128(p, s) => DataType::Decimal128(*p, *s),
        DataType::Decimal256(p, s) => DataType::Decimal128((*p).min(38), *s),
        _ => DataType::Decimal128(30, 15),
    }
}

impl ScalarUDFImpl for CeilFloor {
    fn name(&self) -> &str {
        if self.mode == Mode::Ceiling {
            "ceil"
        } else {
            "floor"
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [t] if t.is_numeric() => Ok(vec![t.clone()]),
            [DataType::Null | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View] => {
                Ok(vec![DataType::Float64])
            }
            [t, _] if t.is_numeric() || t.is_null() || t.is_string() => {
                Ok(vec![decimal_for(t), DataType::Int32])
            }
            [other] | [other, _] => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: the first parameter requires the \"NUMERIC\" type, however it has the type \"{other}\".",
                self.name()
            ),
            _ => plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires [1, 2] parameters but the actual number is {}.",
                self.name(),
                args.len()
            ),
        }
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(result_type(arg_types.first().unwrap_or(&DataType::Null), 0))
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if args.arg_fields.len() == 1 {
            return self.one_arg.return_field_from_args(args);
        }
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let scale = match args.scalar_arguments.get(1).copied().flatten() {
            Some(v) if v.is_null() => 0,
            Some(v) => scale_of(Some(v)).unwrap_or(0),
            None => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] Cannot resolve \"{}\" due to data type mismatch: the input `scale` should be a foldable \"INT\" expression.",
                    self.name()
                )
            }
        };
        Ok(Arc::new(Field::new(
            self.name(),
            result_type(&types[0], scale),
            true,
        )))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.args.len() == 1 {
            return self.one_arg.invoke_with_args(args);
        }
        let Some(ColumnarValue::Scalar(s)) = args.args.get(1) else {
            return exec_err!("the scale of {} must be a constant", self.name());
        };
        let target = args.return_field.data_type().clone();
        let Some(scale) = (!s.is_null()).then(|| scale_of(Some(s))).flatten() else {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from(&target)?));
        };
        let x = args.args[0].to_array(args.number_rows)?;
        let out = round_array(&x, scale, self.mode, &target)?;
        Ok(match &args.args[0] {
            ColumnarValue::Scalar(_) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
            }
            ColumnarValue::Array(_) => ColumnarValue::Array(out),
        })
    }
}

fn map_prim<T: ArrowPrimitiveType>(
    x: &ArrayRef,
    f: impl Fn(T::Native) -> Option<T::Native>,
) -> ArrayRef {
    let a = x.as_primitive::<T>();
    let out: PrimitiveArray<T> = a.iter().map(|v| v.and_then(&f)).collect();
    Arc::new(out)
}

fn round_array(x: &ArrayRef, scale: i32, mode: Mode, target: &DataType) -> Result<ArrayRef> {
    Ok(match x.data_type() {
        DataType::Float64 => map_prim::<Float64Type>(x, |v| Some(round_f64(v, scale, mode))),
        DataType::Float32 => {
            map_prim::<Float32Type>(x, |v| Some(round_f64(v as f64, scale, mode) as f32))
        }
        DataType::Int8 => {
            map_prim::<Int8Type>(x, |v| Some(round_int(v as i128, scale, mode) as i8))
        }
        DataType::Int16 => {
            map_prim::<Int16Type>(x, |v| Some(round_int(v as i128, scale, mode) as i16))
        }
        DataType::Int32 => {
            map_prim::<Int32Type>(x, |v| Some(round_int(v as i128, scale, mode) as i32))
        }
        DataType::Int64 => {
            map_prim::<Int64Type>(x, |v| Some(round_int(v as i128, scale, mode) as i64))
        }
        DataType::Decimal128(_, s) => {
            let DataType::Decimal128(tp, ts) = target else {
                return exec_err!("round: decimal input with result type {target}");
            };
            let s = *s as i32;
            let (tp, ts) = (*tp, *ts);
            let a = x.as_primitive::<Decimal128Type>();
            let out: PrimitiveArray<Decimal128Type> = a
                .iter()
                .map(|v| v.and_then(|v| round_decimal(v, s, scale, mode, tp)))
                .collect();
            Arc::new(out.with_precision_and_scale(tp, ts)?)
        }
        DataType::Null => datafusion::arrow::array::new_null_array(target, x.len()),
        other => return exec_err!("round: unsupported input type {other}"),
    })
}

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// Whether dropping remainder `r` (0 <= |r| < unit) of a value whose kept part is
/// `q` rounds away from zero.
fn rounds_up(q: i128, r: i128, unit: i128, mode: Mode) -> bool {
    match mode {
        Mode::Ceiling => return r > 0,
        Mode::Floor => return r < 0,
        Mode::HalfUp | Mode::HalfEven => {}
    }
    let twice = r.unsigned_abs() * 2;
    let unit = unit.unsigned_abs();
    match twice.cmp(&unit) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => mode == Mode::HalfUp || q % 2 != 0,
    }
}

/// `v` rounded to a multiple of `10^-scale` (integers: only `scale < 0` changes).
fn round_int(v: i128, scale: i32, mode: Mode) -> i128 {
    if scale >= 0 {
        return v;
    }
    let Some(unit) = pow10((-scale) as u32) else {
        return 0;
    };
    let (q, r) = (v / unit, v % unit);
    let q = if rounds_up(q, r, unit, mode) {
        q + v.signum()
    } else {
        q
    };
    q.wrapping_mul(unit)
}

/// An unscaled decimal `v` (scale `s`) rounded to `scale` digits, as an unscaled
/// value of the result scale (`min(s, scale)`, or 0 for `scale < 0`); `None` when it
/// needs more than `precision` digits.
fn round_decimal(v: i128, s: i32, scale: i32, mode: Mode, precision: u8) -> Option<i128> {
    if scale >= s {
        return Some(v);
    }
    let drop = (s - scale) as u32;
    let out = match pow10(drop) {
        None => 0,
        Some(unit) => {
            let (q, r) = (v / unit, v % unit);
            let q = if rounds_up(q, r, unit, mode) {
                q + v.signum()
            } else {
                q
            };
            if scale < 0 {
                q.checked_mul(pow10((-scale) as u32)?)?
            } else {
                q
            }
        }
    };
    let limit = pow10(precision as u32)?;
    (out.abs() < limit).then_some(out)
}

/// A double rounded as Java's `BigDecimal(Double.toString(v)).setScale(scale, mode)
/// .doubleValue()`.
pub fn round_f64(v: f64, scale: i32, mode: Mode) -> f64 {
    if !v.is_finite() {
        return v;
    }
    if v == 0.0 {
        return 0.0;
    }
    // Shortest digits that read back as `v`: d1.d2d3...e<exp>.
    let text = format!("{:e}", v.abs());
    let Some((mantissa, exp)) = text.split_once('e') else {
        return v;
    };
    let Ok(exp) = exp.parse::<i64>() else {
        return v;
    };
    let digits: Vec<u8> = mantissa.bytes().filter(|b| b.is_ascii_digit()).collect();
    // Digits before the decimal point, and how many digits the result keeps.
    let point = exp + 1;
    let keep = point + scale as i64;
    if keep >= digits.len() as i64 {
        return v;
    }
    if keep < 0 {
        return 0.0;
    }
    let keep = keep as usize;
    let mut kept: Vec<u8> = digits[..keep].to_vec();
    let first = digits[keep] - b'0';
    let rest_nonzero = digits[keep + 1..].iter().any(|d| *d != b'0');
    let last_odd = kept.last().is_some_and(|d| (d - b'0') % 2 == 1);
    let up = first > 5 || (first == 5 && (rest_nonzero || mode == Mode::HalfUp || last_odd));
    if up {
        let mut i = kept.len();
        loop {
            if i == 0 {
                kept.insert(0, b'1');
                break;
            }
            i -= 1;
            if kept[i] == b'9' {
                kept[i] = b'0';
            } else {
                kept[i] += 1;
                break;
            }
        }
        // A carry out of the first digit adds one: the exponent counts from the end.
    }
    if kept.iter().all(|d| *d == b'0') {
        return 0.0;
    }
    let int: String = kept.iter().map(|d| *d as char).collect();
    let text = format!("{int}e{}", -(scale as i64));
    let magnitude: f64 = text.parse().unwrap_or(v.abs());
    if v < 0.0 {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_decimal_round_types() {
        assert_eq!(decimal_round_type(10, 2, 1), DataType::Decimal128(10, 1));
        assert_eq!(decimal_round_type(38, 20, 1), DataType::Decimal128(20, 1));
        assert_eq!(decimal_round_type(10, 2, 5), DataType::Decimal128(11, 2));
        assert_eq!(decimal_round_type(5, 2, -1), DataType::Decimal128(4, 0));
    }

    #[test]
    fn doubles_round_their_printed_decimal() {
        use Mode::*;
        assert_eq!(round_f64(1.005, 2, HalfUp), 1.01);
        assert_eq!(round_f64(2.345, 2, HalfUp), 2.35);
        assert_eq!(round_f64(2.345, 2, HalfEven), 2.34);
        assert_eq!(round_f64(2.355, 2, HalfEven), 2.36);
        assert_eq!(round_f64(2.5, 0, HalfEven), 2.0);
        assert_eq!(round_f64(-2.5, 0, HalfUp), -3.0);
        assert_eq!(round_f64(9.995, 2, HalfUp), 10.0);
        assert_eq!(round_f64(0.5, 0, HalfEven), 0.0);
        assert_eq!(round_f64(125.0, -1, HalfEven), 120.0);
        assert_eq!(round_f64(155.0, -2, HalfUp), 200.0);
        assert_eq!(round_f64(1234.5, -5, HalfUp), 0.0);
        assert_eq!(round_f64(0.000123456, 5, HalfUp), 0.00012);
        assert_eq!(round_f64(1e300, 2, HalfUp), 1e300);
        assert!(round_f64(f64::NAN, 2, HalfUp).is_nan());
        // Never a negative zero.
        let z = round_f64(-0.125, 0, HalfUp);
        assert!(z == 0.0 && z.is_sign_positive());
        let z = round_f64(-0.0, 1, HalfUp);
        assert!(z.is_sign_positive());
    }

    #[test]
    fn integers_round_at_negative_scales() {
        assert_eq!(round_int(125, -1, Mode::HalfUp), 130);
        assert_eq!(round_int(125, -1, Mode::HalfEven), 120);
        assert_eq!(round_int(-125, -1, Mode::HalfUp), -130);
        assert_eq!(round_int(-135, -1, Mode::HalfEven), -140);
        assert_eq!(round_int(7, 2, Mode::HalfUp), 7);
        assert_eq!(round_int(7, -40, Mode::HalfUp), 0);
    }

    #[test]
    fn decimals_round_in_their_digits() {
        // 2.345 (scale 3) to 2 digits.
        assert_eq!(round_decimal(2345, 3, 2, Mode::HalfUp, 5), Some(235));
        assert_eq!(round_decimal(2345, 3, 2, Mode::HalfEven, 5), Some(234));
        assert_eq!(round_decimal(-2345, 3, 2, Mode::HalfUp, 5), Some(-235));
        // 125 (scale 0) to tens.
        assert_eq!(round_decimal(125, 0, -1, Mode::HalfUp, 4), Some(130));
        assert_eq!(round_decimal(125, 0, -1, Mode::HalfEven, 4), Some(120));
        // Too wide for the result precision.
        assert_eq!(round_decimal(999, 1, 0, Mode::HalfUp, 2), None);
        // ceil/floor: 3.1411 to 3 digits, -3.1411 to 3 digits, 15 to tens.
        assert_eq!(round_decimal(31411, 4, 3, Mode::Ceiling, 5), Some(3142));
        assert_eq!(round_decimal(31411, 4, 3, Mode::Floor, 5), Some(3141));
        assert_eq!(round_decimal(-31411, 4, 3, Mode::Ceiling, 5), Some(-3141));
        assert_eq!(round_decimal(-31411, 4, 3, Mode::Floor, 5), Some(-3142));
        assert_eq!(round_decimal(15, 0, -1, Mode::Floor, 11), Some(10));
        assert_eq!(round_decimal(31411, 4, -3, Mode::Ceiling, 4), Some(1000));
    }
}
