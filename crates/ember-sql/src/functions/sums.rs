//! `sum` and `avg` over `double`s summed the way Spark sums them.
//!
//! Spark's `Sum` and `Average` add `double` values one at a time in row order
//! (`sum = coalesce(sum, 0) + x`) and merge partial buffers by adding their sums.
//! DataFusion's global (ungrouped) accumulators add a batch with arrow's lane-wise
//! `sum` kernel instead, which rounds differently: `describe()` or `agg(avg(x))` over
//! 26k doubles then differ from Spark in the last digits. These wrappers keep
//! DataFusion's `sum`/`avg` for everything (types, coercion, grouped and sliding-window
//! accumulators, which already add row by row) and replace only the plain `double`
//! accumulator with a sequential one. State layout is DataFusion's (`sum`: `[sum]`;
//! `avg`: `[count: UInt64, sum]`), so partial and final stages agree whichever path
//! produced them.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, FieldRef, Float64Type, UInt64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, GroupsAccumulator, ReversedUDAF, SetMonotonicity,
    Signature,
};

/// DataFusion's `sum` or `avg` with Spark's sequential `double` accumulator.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SequentialDouble {
    inner: AggregateUDF,
    avg: bool,
    /// User-defined: [`Self::coerce_types`] types a NULL column as Spark does, then
    /// applies the inner function's signature.
    signature: Signature,
}

impl SequentialDouble {
    fn coerce_numbers(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        // Spark reads an untyped NULL column as `double` here (`sum(NULL)` is NULL).
        let typed: Vec<FieldRef> = arg_types
            .iter()
            .map(|t| {
                let t = if t.is_null() {
                    DataType::Float64
                } else {
                    t.clone()
                };
                std::sync::Arc::new(datafusion::arrow::datatypes::Field::new("x", t, true))
            })
            .collect();
        Ok(
            datafusion::logical_expr::type_coercion::functions::fields_with_udf(
                &typed,
                &self.inner,
            )?
            .iter()
            .map(|f| f.data_type().clone())
            .collect(),
        )
    }
}

impl AggregateUDFImpl for SequentialDouble {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        crate::functions::intervals::agg_return(arg_types, |t| self.inner.inner().return_type(t))
    }
    fn return_field(&self, arg_fields: &[FieldRef]) -> Result<FieldRef> {
        // Of intervals: typed as the interval until the analyzer computes it over
        // numbers (`sql::interval_rules`).
        if let Some(f) = arg_fields.first() {
            if crate::interval::Qualifier::of_type(f.data_type()).is_some() {
                return Ok(Arc::new(datafusion::arrow::datatypes::Field::new(
                    self.name(),
                    f.data_type().clone(),
                    true,
                )));
            }
        }
        self.inner.inner().return_field(arg_fields)
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        crate::functions::intervals::agg_coerce(arg_types, |t| self.coerce_numbers(t))
    }
    fn is_nullable(&self) -> bool {
        self.inner.inner().is_nullable()
    }
    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        self.inner.inner().default_value(data_type)
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.inner().state_fields(args)
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let doubles = !args.is_distinct
            && args.return_field.data_type() == &DataType::Float64
            && args
                .expr_fields
                .first()
                .is_some_and(|f| f.data_type() == &DataType::Float64);
        if doubles {
            Ok(Box::new(SequentialAcc {
                avg: self.avg,
                sum: 0.0,
                count: 0,
            }))
        } else {
            self.inner.inner().accumulator(args)
        }
    }
    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.inner.inner().groups_accumulator_supported(args)
    }
    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        self.inner.inner().create_groups_accumulator(args)
    }
    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        self.inner.inner().create_sliding_accumulator(args)
    }
    fn reverse_expr(&self) -> ReversedUDAF {
        self.inner.inner().reverse_expr()
    }
    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        self.inner.inner().order_sensitivity()
    }
    fn set_monotonicity(&self, data_type: &DataType) -> SetMonotonicity {
        self.inner.inner().set_monotonicity(data_type)
    }
}

/// Row-order `double` sum (and count, for `avg`).
#[derive(Debug)]
struct SequentialAcc {
    avg: bool,
    sum: f64,
    count: u64,
}

impl Accumulator for SequentialAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for x in values[0].as_primitive::<Float64Type>().iter().flatten() {
            self.sum += x;
            self.count += 1;
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if self.avg {
            let counts = states[0].as_primitive::<UInt64Type>();
            let sums = states[1].as_primitive::<Float64Type>();
            for i in 0..counts.len() {
                if counts.is_valid(i) && counts.value(i) > 0 {
                    self.count += counts.value(i);
                    self.sum += sums.value(i);
                }
            }
        } else {
            for x in states[0].as_primitive::<Float64Type>().iter().flatten() {
                self.sum += x;
                self.count += 1;
            }
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        if self.avg {
            Ok(vec![
                ScalarValue::UInt64(Some(self.count)),
                ScalarValue::Float64(Some(self.sum)),
            ])
        } else {
            Ok(vec![ScalarValue::Float64(
                (self.count > 0).then_some(self.sum),
            )])
        }
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64((self.count > 0).then(|| {
            if self.avg {
                self.sum / self.count as f64
            } else {
                self.sum
            }
        })))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

/// `sum(x)`: DataFusion's, with Spark's row-order `double` accumulator.
pub fn sum_udaf() -> Arc<AggregateUDF> {
    static F: OnceLock<Arc<AggregateUDF>> = OnceLock::new();
    F.get_or_init(|| {
        Arc::new(AggregateUDF::new_from_impl(SequentialDouble {
            inner: datafusion::functions_aggregate::sum::sum_udaf()
                .as_ref()
                .clone(),
            avg: false,
            signature: Signature::user_defined(datafusion::logical_expr::Volatility::Immutable),
        }))
    })
    .clone()
}

/// `avg(x)` / `mean(x)`: DataFusion's, with Spark's row-order `double` accumulator.
pub fn avg_udaf() -> Arc<AggregateUDF> {
    static F: OnceLock<Arc<AggregateUDF>> = OnceLock::new();
    F.get_or_init(|| {
        Arc::new(AggregateUDF::new_from_impl(SequentialDouble {
            inner: datafusion::functions_aggregate::average::avg_udaf()
                .as_ref()
                .clone(),
            avg: true,
            signature: Signature::user_defined(datafusion::logical_expr::Volatility::Immutable),
        }))
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Float64Array;

    /// Values whose row-order sum differs from a pairwise or lane-wise one.
    fn values() -> Vec<f64> {
        (0..1000)
            .map(|i| 0.1 * i as f64 + 1e-3 / (i as f64 + 1.0))
            .collect()
    }

    #[test]
    fn sums_in_row_order() {
        let v = values();
        let mut acc = SequentialAcc {
            avg: false,
            sum: 0.0,
            count: 0,
        };
        let arr: ArrayRef = Arc::new(Float64Array::from(v.clone()));
        acc.update_batch(&[arr]).unwrap();
        let expected = v.iter().fold(0.0, |s, x| s + x);
        assert_eq!(
            acc.evaluate().unwrap(),
            ScalarValue::Float64(Some(expected))
        );
    }

    #[test]
    fn avg_merges_partial_states_and_is_null_when_empty() {
        let v = values();
        let (a, b) = v.split_at(400);
        let mut parts = Vec::new();
        for part in [a, b] {
            let mut acc = SequentialAcc {
                avg: true,
                sum: 0.0,
                count: 0,
            };
            acc.update_batch(&[Arc::new(Float64Array::from(part.to_vec())) as ArrayRef])
                .unwrap();
            parts.push(acc.state().unwrap());
        }
        let mut fin = SequentialAcc {
            avg: true,
            sum: 0.0,
            count: 0,
        };
        let counts = ScalarValue::iter_to_array(parts.iter().map(|s| s[0].clone())).unwrap();
        let sums = ScalarValue::iter_to_array(parts.iter().map(|s| s[1].clone())).unwrap();
        fin.merge_batch(&[counts, sums]).unwrap();
        let sa = a.iter().fold(0.0, |s, x| s + x);
        let sb = b.iter().fold(0.0, |s, x| s + x);
        assert_eq!(
            fin.evaluate().unwrap(),
            ScalarValue::Float64(Some((0.0 + sa + sb) / 1000.0))
        );
        let mut empty = SequentialAcc {
            avg: true,
            sum: 0.0,
            count: 0,
        };
        assert_eq!(empty.evaluate().unwrap(), ScalarValue::Float64(None));
    }
}
