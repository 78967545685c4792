//! Spark's `mode(col[, deterministic])` aggregate: the most frequent non-NULL value
//! of any type (NULL when there is none). Among values equally frequent Spark returns
//! any one, or the lowest when `deterministic` is true; ember always returns the
//! lowest, which satisfies both.
//!
//! State per group: the distinct values seen (a list of the input type) and their
//! counts (a list of `bigint`).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};

/// `mode`, as an aggregate UDF.
pub fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(ModeAgg {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ModeAgg {
    signature: Signature,
}

impl AggregateUDFImpl for ModeAgg {
    fn name(&self) -> &str {
        "mode"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] => Ok(vec![t.clone()]),
            [t, d] if matches!(d, DataType::Boolean | DataType::Null) => {
                Ok(vec![t.clone(), DataType::Boolean])
            }
            _ => plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `mode` requires 1 or 2 parameters (col, deterministic boolean) but got {arg_types:?}."
            ),
        }
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Null))
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(ModeAcc {
            data_type: args.return_field.data_type().clone(),
            counts: HashMap::new(),
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let t = args.return_field.data_type().clone();
        Ok(vec![
            Arc::new(Field::new(
                "values",
                DataType::List(Arc::new(Field::new_list_field(t, true))),
                true,
            )),
            Arc::new(Field::new(
                "counts",
                DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
                true,
            )),
        ])
    }
}

#[derive(Debug)]
struct ModeAcc {
    data_type: DataType,
    counts: HashMap<ScalarValue, i64>,
}

impl ModeAcc {
    fn add(&mut self, values: &ArrayRef, counts: Option<&Int64Array>) -> Result<()> {
        for i in 0..values.len() {
            if values.is_null(i) {
                continue;
            }
            let n = counts.map(|c| c.value(i)).unwrap_or(1);
            *self
                .counts
                .entry(ScalarValue::try_from_array(values, i)?)
                .or_insert(0) += n;
        }
        Ok(())
    }
}

impl Accumulator for ModeAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.add(&values[0], None)
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
            self.add(&v, Some(c.as_primitive()))?;
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (values, counts): (Vec<ScalarValue>, Vec<ScalarValue>) = self
            .counts
            .iter()
            .map(|(v, c)| (v.clone(), ScalarValue::Int64(Some(*c))))
            .unzip();
        Ok(vec![
            ScalarValue::List(ScalarValue::new_list_nullable(&values, &self.data_type)),
            ScalarValue::List(ScalarValue::new_list_nullable(&counts, &DataType::Int64)),
        ])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut best: Option<(&ScalarValue, i64)> = None;
        for (v, c) in &self.counts {
            best = match best {
                None => Some((v, *c)),
                Some((bv, bc)) => {
                    let lower = v.partial_cmp(bv) == Some(std::cmp::Ordering::Less);
                    if *c > bc || (*c == bc && lower) {
                        Some((v, *c))
                    } else {
                        Some((bv, bc))
                    }
                }
            };
        }
        match best {
            Some((v, _)) => Ok(v.clone()),
            None => ScalarValue::try_from(&self.data_type),
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.counts.keys().map(|k| k.size() + 8).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int32Array;

    #[test]
    fn most_frequent_then_lowest() {
        let mut a = ModeAcc {
            data_type: DataType::Int32,
            counts: HashMap::new(),
        };
        let v: ArrayRef = Arc::new(Int32Array::from(vec![Some(10), Some(-10), None, Some(0)]));
        a.update_batch(&[v]).unwrap();
        assert_eq!(a.evaluate().unwrap(), ScalarValue::Int32(Some(-10)));
        // Merging a partial state where 0 appears twice makes 0 the mode.
        let mut b = ModeAcc {
            data_type: DataType::Int32,
            counts: HashMap::new(),
        };
        let w: ArrayRef = Arc::new(Int32Array::from(vec![0, 0]));
        b.update_batch(&[w]).unwrap();
        let state: Vec<ArrayRef> = b
            .state()
            .unwrap()
            .iter()
            .map(|s| s.to_array().unwrap())
            .collect();
        a.merge_batch(&state).unwrap();
        assert_eq!(a.evaluate().unwrap(), ScalarValue::Int32(Some(0)));
        let mut empty = ModeAcc {
            data_type: DataType::Int32,
            counts: HashMap::new(),
        };
        assert_eq!(empty.evaluate().unwrap(), ScalarValue::Int32(None));
    }
}
