//! Spark 4.3's `counter_diff(value[, start])` window function: the increase of a
//! monotonic counter since the previous row of the window's order, NULL on the first
//! row and where the counter was reset (the value went down, or the counter's `start`
//! time differs from the previous row's). The result has the value's type.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::compute::kernels::{cmp, numeric};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{plan_err, Result};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};

#[derive(Debug, PartialEq, Eq, Hash)]
struct CounterDiff {
    signature: Signature,
}

impl WindowUDFImpl for CounterDiff {
    fn name(&self) -> &str {
        "counter_diff"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [v] | [v, _] if v.is_numeric() => Ok(args.to_vec()),
            [other] | [other, _] => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"counter_diff\" due to data type mismatch: the first parameter requires the \"NUMERIC\" type, however it has the type \"{other}\"."
            ),
            _ => plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `counter_diff` requires [1, 2] parameters but the actual number is {}.",
                args.len()
            ),
        }
    }
    fn partition_evaluator(
        &self,
        _: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(Evaluator))
    }
    fn field(&self, args: WindowUDFFieldArgs) -> Result<FieldRef> {
        let t = args
            .input_fields()
            .first()
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Null);
        Ok(Arc::new(Field::new(args.name(), t, true)))
    }
}

#[derive(Debug)]
struct Evaluator;

impl PartitionEvaluator for Evaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let Some(v) = values.first() else {
            return plan_err!("counter_diff takes a value");
        };
        if num_rows == 0 {
            return Ok(v.slice(0, 0));
        }
        // Row i against row i - 1 (the first row has none: NULL).
        let cur = v.slice(1, num_rows - 1);
        let prev = v.slice(0, num_rows - 1);
        let diff = numeric::sub_wrapping(&cur, &prev)?;
        let mut keep = cmp::gt_eq(&cur, &prev)?;
        if let Some(s) = values.get(1) {
            let same_start =
                cmp::not_distinct(&s.slice(1, num_rows - 1), &s.slice(0, num_rows - 1))?;
            keep = datafusion::arrow::compute::and(&keep, &same_start)?;
        }
        let diff =
            datafusion::arrow::compute::nullif(&diff, &datafusion::arrow::compute::not(&keep)?)?;
        let first = datafusion::arrow::array::new_null_array(v.data_type(), 1);
        Ok(datafusion::arrow::compute::concat(&[
            first.as_ref(),
            diff.as_ref(),
        ])?)
    }
}

/// The window functions of this module.
pub fn functions() -> Vec<WindowUDF> {
    vec![WindowUDF::new_from_impl(CounterDiff {
        signature: Signature::user_defined(Volatility::Immutable),
    })]
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int32Array;

    #[test]
    fn resets_give_null() {
        let v: ArrayRef = Arc::new(Int32Array::from(vec![100, 200, 400, 50, 100]));
        let out = Evaluator.evaluate_all(&[v], 5).unwrap();
        let out = out.as_any().downcast_ref::<Int32Array>().unwrap();
        let got: Vec<Option<i32>> = out.iter().collect();
        assert_eq!(got, vec![None, Some(100), Some(200), None, Some(50)]);
        let v: ArrayRef = Arc::new(Int32Array::from(vec![100, 200, 500, 600]));
        let s: ArrayRef = Arc::new(Int32Array::from(vec![0, 0, 1, 1]));
        let out = Evaluator.evaluate_all(&[v, s], 4).unwrap();
        let out = out.as_any().downcast_ref::<Int32Array>().unwrap();
        let got: Vec<Option<i32>> = out.iter().collect();
        assert_eq!(got, vec![None, Some(100), None, Some(100)]);
    }
}
