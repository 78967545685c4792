//! Spark's `approx_count_distinct(col[, relativeSD])` (default `relativeSD` 0.05): a
//! HyperLogLog++ count of the distinct non-NULL values, as Spark's
//! `HyperLogLogPlusPlus` aggregate, a `bigint` (0 for no rows).
//!
//! - `p = ceil(2 * log2(1.106 / relativeSD))` (at least 4) selects `m = 2^p` 6-bit
//!   registers; each value is hashed with XXH64 (seed 42) of Spark's bytes for its
//!   type (`int`-like values and dates as 4 little-endian bytes, `bigint`, timestamps
//!   and doubles as 8, strings and binary as their bytes, decimals up to 18 digits as
//!   their unscaled `bigint`), the top `p` bits pick the register, the leading zeros
//!   of the rest (+1) are its candidate value.
//! - The estimate is linear counting `m * ln(m / V)` (`V` empty registers) while that
//!   is at most Spark's threshold for `p`, else the raw estimate
//!   `alpha_m * m^2 / sum(2^-M[j])`, rounded half up.
//!
//! Spark subtracts an empirical bias (the tables of the HLL++ paper) from raw
//! estimates below `5 * m`; ember does not carry those tables and uses linear
//! counting there while any register is empty. Counts up to the threshold
//! (`relativeSD` 0.05: about 400 distinct values) and above `5 * m` (2,560) are
//! Spark's exactly; in between they differ from Spark's by the bias correction.
//!
//! State per group: the registers, one byte each, as `binary`; merged by maximum.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Field, FieldRef, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type,
};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, Signature, Volatility,
};
use twox_hash::XxHash64;

/// `approx_count_distinct`, as an aggregate UDF.
pub fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(ApproxCountDistinct {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ApproxCountDistinct {
    signature: Signature,
}

/// Linear counting is used up to these estimates, for p = 4..=18 (HLL++ paper).
const THRESHOLDS: [f64; 15] = [
    10.0, 20.0, 40.0, 80.0, 220.0, 400.0, 900.0, 1800.0, 3100.0, 6500.0, 11500.0, 20000.0, 50000.0,
    120000.0, 350000.0,
];

/// Register-index bits for a relative standard deviation, as Spark.
pub fn precision(relative_sd: f64) -> Result<u32> {
    let p = (2.0 * (1.106 / relative_sd).ln() / 2f64.ln()).ceil();
    if !(p >= 4.0) {
        return plan_err!(
            "HLL++ requires at least 4 bits for addressing. Use a lower error, at most 39%."
        );
    }
    Ok(p.min(25.0) as u32)
}

impl AggregateUDFImpl for ApproxCountDistinct {
    fn name(&self) -> &str {
        "approx_count_distinct"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let value = |t: &DataType| match t {
            DataType::UInt8 | DataType::UInt16 => DataType::Int32,
            DataType::UInt32 | DataType::UInt64 => DataType::Int64,
            DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
            DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
            other => other.clone(),
        };
        match arg_types {
            [t] => Ok(vec![value(t)]),
            [t, _] => Ok(vec![value(t), DataType::Float64]),
            _ => plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `approx_count_distinct` requires [1, 2] parameters but the actual number is {}.",
                arg_types.len()
            ),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn is_nullable(&self) -> bool {
        false
    }
    fn default_value(&self, _: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(0)))
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let rsd = match args.exprs.get(1) {
            None => 0.05,
            Some(e) => {
                let batch = datafusion::arrow::record_batch::RecordBatch::new_empty(Arc::new(
                    datafusion::arrow::datatypes::Schema::empty(),
                ));
                match e.evaluate(&batch)? {
                    ColumnarValue::Scalar(ScalarValue::Float64(Some(v))) => v,
                    _ => {
                        return plan_err!(
                            "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] the relativeSD of approx_count_distinct must be a constant double"
                        )
                    }
                }
            }
        };
        Ok(Box::new(Hllpp::new(precision(rsd)?)))
    }
    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            "registers",
            DataType::Binary,
            true,
        ))])
    }
}

/// HyperLogLog++ registers (one byte each).
#[derive(Debug)]
pub struct Hllpp {
    p: u32,
    registers: Vec<u8>,
}

impl Hllpp {
    /// Empty registers for `p` index bits.
    pub fn new(p: u32) -> Self {
        Hllpp {
            p,
            registers: vec![0; 1 << p],
        }
    }

    /// Adds one hashed value.
    pub fn add_hash(&mut self, x: u64) {
        let idx = (x >> (64 - self.p)) as usize;
        let w = (x << self.p) | (1u64 << (self.p - 1));
        let rank = w.leading_zeros() as u8 + 1;
        if let Some(r) = self.registers.get_mut(idx) {
            *r = (*r).max(rank);
        }
    }

    /// The estimated number of distinct values.
    pub fn estimate(&self) -> i64 {
        let m = self.registers.len() as f64;
        let alpha = match self.p {
            4 => 0.673,
            5 => 0.697,
            6 => 0.709,
            _ => 0.7213 / (1.0 + 1.079 / m),
        };
        let mut z_inverse = 0.0;
        let mut zeros = 0usize;
        for r in &self.registers {
            z_inverse += 1.0 / (1u64 << *r) as f64;
            if *r == 0 {
                zeros += 1;
            }
        }
        let e = alpha * m * m / z_inverse;
        let estimate = if zeros > 0 {
            let h = m * (m / zeros as f64).ln();
            let threshold = THRESHOLDS.get(self.p as usize - 4).copied().unwrap_or(0.0);
            // Below 5m Spark corrects `e` by the paper's empirical bias; linear
            // counting stands in for it (see the module doc).
            if h <= threshold || e < 5.0 * m {
                h
            } else {
                e
            }
        } else {
            e
        };
        (estimate + 0.5).floor() as i64
    }

    fn merge(&mut self, other: &[u8]) {
        for (a, b) in self.registers.iter_mut().zip(other) {
            *a = (*a).max(*b);
        }
    }
}

const SEED: u64 = 42;

fn hash_int(v: i32) -> u64 {
    XxHash64::oneshot(SEED, &v.to_le_bytes())
}

fn hash_long(v: i64) -> u64 {
    XxHash64::oneshot(SEED, &v.to_le_bytes())
}

/// Spark's XXH64 (seed 42) of row `i` of `a`, or `None` for NULL.
fn spark_hash(a: &ArrayRef, i: usize) -> Result<Option<u64>> {
    if a.is_null(i) {
        return Ok(None);
    }
    Ok(Some(match a.data_type() {
        DataType::Boolean => hash_int(a.as_boolean().value(i) as i32),
        DataType::Int8 => hash_int(a.as_primitive::<Int8Type>().value(i) as i32),
        DataType::Int16 => hash_int(a.as_primitive::<Int16Type>().value(i) as i32),
        DataType::Int32 => hash_int(a.as_primitive::<Int32Type>().value(i)),
        DataType::Date32 => hash_int(a.as_primitive::<Date32Type>().value(i)),
        DataType::Int64 => hash_long(a.as_primitive::<Int64Type>().value(i)),
        DataType::Float32 => {
            let f = a.as_primitive::<Float32Type>().value(i);
            let bits = if f.is_nan() {
                0x7fc0_0000
            } else {
                f.to_bits() as i32
            };
            hash_int(bits)
        }
        DataType::Float64 => {
            let f = a.as_primitive::<Float64Type>().value(i);
            let bits = if f.is_nan() {
                0x7ff8_0000_0000_0000
            } else {
                f.to_bits() as i64
            };
            hash_long(bits)
        }
        DataType::Timestamp(..) => match ScalarValue::try_from_array(a, i)? {
            ScalarValue::TimestampMicrosecond(Some(v), _) => hash_long(v),
            ScalarValue::TimestampNanosecond(Some(v), _) => hash_long(v / 1000),
            ScalarValue::TimestampMillisecond(Some(v), _) => hash_long(v * 1000),
            ScalarValue::TimestampSecond(Some(v), _) => hash_long(v * 1_000_000),
            _ => return Ok(None),
        },
        DataType::Utf8 => XxHash64::oneshot(SEED, a.as_string::<i32>().value(i).as_bytes()),
        DataType::Binary => XxHash64::oneshot(SEED, a.as_binary::<i32>().value(i)),
        DataType::Decimal128(p, _) => {
            let v = a.as_primitive::<Decimal128Type>().value(i);
            if *p <= 18 {
                hash_long(v as i64)
            } else {
                XxHash64::oneshot(SEED, &java_big_integer_bytes(v))
            }
        }
        _ => {
            // Nested values: the hash of their text form (not Spark's hash).
            let s = datafusion::arrow::util::display::array_value_to_string(a, i)?;
            XxHash64::oneshot(SEED, s.as_bytes())
        }
    }))
}

/// `BigInteger.toByteArray()`: minimal big-endian two's complement.
fn java_big_integer_bytes(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 15 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        let redundant = (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes[start..].to_vec()
}

impl Accumulator for Hllpp {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let a = &values[0];
        for i in 0..a.len() {
            if let Some(h) = spark_hash(a, i)? {
                self.add_hash(h);
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let b = states[0].as_binary::<i32>();
        for i in 0..b.len() {
            if b.is_null(i) {
                continue;
            }
            let regs = b.value(i);
            if regs.len() != self.registers.len() {
                return exec_err!(
                    "approx_count_distinct: partial state of {} registers, expected {}",
                    regs.len(),
                    self.registers.len()
                );
            }
            self.merge(regs);
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(Some(self.registers.clone()))])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(self.estimate())))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.registers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_follows_relative_sd() {
        assert_eq!(precision(0.05).unwrap(), 9);
        assert_eq!(precision(0.01).unwrap(), 14);
        assert!(precision(0.5).is_err());
    }

    #[test]
    fn estimates_are_sparks_and_merging_is_idempotent() {
        // Spark 4.3: `approx_count_distinct(id)` over `range(100)` is 103.
        let mut a = Hllpp::new(9);
        for v in 0..100 {
            a.add_hash(hash_long(v));
        }
        assert_eq!(a.estimate(), 103);
        let mut b = Hllpp::new(9);
        for v in 50..100 {
            b.add_hash(hash_long(v));
        }
        a.merge(&b.registers.clone());
        assert_eq!(a.estimate(), 103);
        assert_eq!(Hllpp::new(9).estimate(), 0);
    }

    #[test]
    fn big_integer_bytes_are_minimal() {
        assert_eq!(java_big_integer_bytes(0), vec![0]);
        assert_eq!(java_big_integer_bytes(127), vec![0x7f]);
        assert_eq!(java_big_integer_bytes(128), vec![0x00, 0x80]);
        assert_eq!(java_big_integer_bytes(-1), vec![0xff]);
        assert_eq!(java_big_integer_bytes(-129), vec![0xff, 0x7f]);
    }
}
