//! Spark's exact `percentile(col, percentage [, frequency])`: the value at position
//! `percentage * (n - 1)` of the sorted non-NULL values (each counted `frequency`
//! times, default 1), interpolated linearly between the two neighbouring ranks as
//! Spark 4.3's `Percentile.getPercentile`:
//! `lowerValue + (pos - lower) * (higherValue - lowerValue)`. A `double`, or an
//! `array<double>` when `percentage` is an array; NULL when there is no row.
//! `median(col)` is `percentile(col, 0.5)`, as in Spark.
//!
//! Errors: a percentage outside [0, 1] or a negative frequency fail the query (as
//! Spark's `DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE` / `NEGATIVE_VALUES`).
//!
//! State per group: the values seen and their counts, as two lists.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, Signature, Volatility,
};

/// `percentile`, as an aggregate UDF.
pub fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(Percentile {
        signature: Signature::user_defined(Volatility::Immutable),
        median: false,
    })
}

/// `median(col)` (`percentile(col, 0.5)`), as an aggregate UDF.
pub fn median_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(Percentile {
        signature: Signature::user_defined(Volatility::Immutable),
        median: true,
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Percentile {
    signature: Signature,
    /// `median`: one argument, percentage 0.5.
    median: bool,
}

fn is_array(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)
    )
}

impl Percentile {
    fn coerce_numbers(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let pct = |p: &DataType| {
            if is_array(p) {
                DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
            } else {
                DataType::Float64
            }
        };
        match t {
            [x] if self.median && (x.is_numeric() || x.is_null()) => Ok(vec![DataType::Float64]),
            [x, p] if !self.median && x.is_numeric() || x.is_null() => Ok(vec![DataType::Float64, pct(p)]),
            [x, p, f] if !self.median && (x.is_numeric() || x.is_null()) && (f.is_integer() || f.is_null()) => {
                Ok(vec![DataType::Float64, pct(p), DataType::Int64])
            }
            _ => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"percentile\": it requires a numeric column, a percentage (or an array of them) and an optional integral frequency, got {t:?}."
            ),
        }
    }
    fn number_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(match t.get(1) {
            Some(p) if is_array(p) => {
                DataType::List(Arc::new(Field::new_list_field(DataType::Float64, false)))
            }
            _ => DataType::Float64,
        })
    }
}

impl AggregateUDFImpl for Percentile {
    fn name(&self) -> &str {
        if self.median {
            "median"
        } else {
            "percentile"
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        crate::functions::intervals::agg_coerce(t, |t| self.coerce_numbers(t))
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        crate::functions::intervals::agg_return(t, |t| self.number_type(t))
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let batch = datafusion::arrow::record_batch::RecordBatch::new_empty(Arc::new(
            datafusion::arrow::datatypes::Schema::empty(),
        ));
        let p = match args.exprs.get(1) {
            Some(p) => p.evaluate(&batch)?,
            None if self.median => ColumnarValue::Scalar(ScalarValue::Float64(Some(0.5))),
            None => return plan_err!("percentile needs a percentage"),
        };
        let (percentages, array) = match p {
            ColumnarValue::Scalar(ScalarValue::Float64(Some(v))) => (vec![v], false),
            ColumnarValue::Scalar(ScalarValue::List(l)) => {
                let vals = l.value(0);
                let vals = vals.as_primitive::<Float64Type>();
                (vals.iter().map(|v| v.unwrap_or(f64::NAN)).collect(), true)
            }
            _ => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] the percentage of percentile must be a constant"
                )
            }
        };
        for p in &percentages {
            if !(0.0..=1.0).contains(p) {
                return plan_err!(
                    "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] Cannot resolve \"percentile\": the percentage(s) must be between 0.0 and 1.0, but got {p}."
                );
            }
        }
        Ok(Box::new(PercentileAcc {
            median: self.median,
            percentages,
            array,
            counts: BTreeMap::new(),
        }))
    }
    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let list = |t: DataType| DataType::List(Arc::new(Field::new_list_field(t, true)));
        Ok(vec![
            Arc::new(Field::new("values", list(DataType::Float64), true)),
            Arc::new(Field::new("counts", list(DataType::Int64), true)),
        ])
    }
}

/// A double ordered as Spark sorts them (NaN last, -0.0 = 0.0).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key(f64);

impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Key {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        let norm = |v: f64| if v == 0.0 { 0.0 } else { v };
        norm(self.0).total_cmp(&norm(o.0))
    }
}

#[derive(Debug)]
struct PercentileAcc {
    median: bool,
    percentages: Vec<f64>,
    array: bool,
    counts: BTreeMap<Key, i64>,
}

impl PercentileAcc {
    fn add(&mut self, v: f64, n: i64) -> Result<()> {
        if n < 0 {
            return exec_err!(
                "[DATATYPE_MISMATCH.NEGATIVE_VALUES] Negative values found in the frequency expression: {n}"
            );
        }
        if n > 0 {
            let v = if v == 0.0 { 0.0 } else { v };
            *self.counts.entry(Key(v)).or_insert(0) += n;
        }
        Ok(())
    }

    /// The value at `position` among the sorted values (accumulated counts).
    fn at(acc: &[(f64, i64)], position: f64) -> f64 {
        let lower = position.floor() as i64;
        let higher = position.ceil() as i64;
        // First index whose accumulated count reaches rank `r + 1`.
        let find = |r: i64| acc.partition_point(|(_, c)| *c < r + 1).min(acc.len() - 1);
        let lower_key = acc[find(lower)].0;
        if higher == lower {
            return lower_key;
        }
        let higher_key = acc[find(higher)].0;
        if higher_key == lower_key {
            return lower_key;
        }
        // Spark 4.3's arithmetic (`lower + (higher - lower) * fraction`): 5.800000000000001
        // for the 0.9 percentile of -5 and 7.
        lower_key + (position - lower as f64) * (higher_key - lower_key)
    }
}

impl Accumulator for PercentileAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let x = values[0].as_primitive::<Float64Type>();
        let freq = if self.median {
            None
        } else {
            values.get(2).map(|f| f.as_primitive::<Int64Type>())
        };
        for i in 0..x.len() {
            if x.is_null(i) {
                continue;
            }
            let n = match freq {
                Some(f) if f.is_null(i) => continue,
                Some(f) => f.value(i),
                None => 1,
            };
            self.add(x.value(i), n)?;
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let values = states[0].as_list::<i32>();
        let counts = states[1].as_list::<i32>();
        for i in 0..values.len() {
            if values.is_null(i) {
                continue;
            }
            let v = values.value(i);
            let c = counts.value(i);
            let (v, c) = (
                v.as_primitive::<Float64Type>(),
                c.as_primitive::<Int64Type>(),
            );
            for j in 0..v.len() {
                self.add(v.value(j), c.value(j))?;
            }
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (v, c): (Vec<ScalarValue>, Vec<ScalarValue>) = self
            .counts
            .iter()
            .map(|(k, n)| {
                (
                    ScalarValue::Float64(Some(k.0)),
                    ScalarValue::Int64(Some(*n)),
                )
            })
            .unzip();
        Ok(vec![
            ScalarValue::List(ScalarValue::new_list_nullable(&v, &DataType::Float64)),
            ScalarValue::List(ScalarValue::new_list_nullable(&c, &DataType::Int64)),
        ])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut acc = Vec::with_capacity(self.counts.len());
        let mut total = 0i64;
        for (k, n) in &self.counts {
            total += n;
            acc.push((k.0, total));
        }
        if total == 0 {
            let t = if self.array {
                DataType::List(Arc::new(Field::new_list_field(DataType::Float64, false)))
            } else {
                DataType::Float64
            };
            return ScalarValue::try_from(&t);
        }
        let results: Vec<f64> = self
            .percentages
            .iter()
            .map(|p| Self::at(&acc, (total - 1) as f64 * p))
            .collect();
        if !self.array {
            return Ok(ScalarValue::Float64(results.first().copied()));
        }
        let arr = datafusion::arrow::array::ListArray::new(
            Arc::new(Field::new_list_field(DataType::Float64, false)),
            datafusion::arrow::buffer::OffsetBuffer::from_lengths([results.len()]),
            Arc::new(datafusion::arrow::array::Float64Array::from(results)),
            None,
        );
        Ok(ScalarValue::List(Arc::new(arr)))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.counts.len() * 32 + self.percentages.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(values: &[f64]) -> Vec<(f64, i64)> {
        let mut a = PercentileAcc {
            median: false,
            percentages: vec![],
            array: false,
            counts: BTreeMap::new(),
        };
        for v in values {
            a.add(*v, 1).unwrap();
        }
        let mut out = Vec::new();
        let mut t = 0;
        for (k, n) in &a.counts {
            t += n;
            out.push((k.0, t));
        }
        out
    }

    #[test]
    fn interpolates_between_ranks() {
        // Spark: percentile(col, 0.5) over 0, 10 is 5.0; over 1..4, 0.25 is 1.75.
        assert_eq!(PercentileAcc::at(&acc(&[0.0, 10.0]), 0.5), 5.0);
        assert_eq!(
            PercentileAcc::at(&acc(&[1.0, 2.0, 3.0, 4.0]), 3.0 * 0.25),
            1.75
        );
        // Repeated values count once per row.
        assert_eq!(
            PercentileAcc::at(&acc(&[1.0, 1.0, 1.0, 9.0]), 3.0 * 0.5),
            1.0
        );
        assert_eq!(PercentileAcc::at(&acc(&[7.0]), 0.0), 7.0);
        // Spark 4.3: the 0.9 percentile of -5 and 7.
        assert_eq!(
            PercentileAcc::at(&acc(&[-5.0, 7.0]), 0.9),
            5.800000000000001
        );
    }
}
