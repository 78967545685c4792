//! Spark aggregates DataFusion lacks: `skewness` and `kurtosis` (Spark's
//! `CentralMomentAgg`: one pass over `double`s with running central moments, merged
//! pairwise; NULL for no rows or zero variance, as Spark 3+), and `product` (the
//! `double` product of the non-NULL values, NULL when there are none).
//!
//! Input: any numeric column (cast to `double`). Output: `double`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};

/// Which statistic a [`MomentAgg`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Moment {
    Skewness,
    Kurtosis,
}

/// `skewness(x)` / `kurtosis(x)` (excess kurtosis), as Spark computes them.
#[derive(Debug, PartialEq, Eq, Hash)]
struct MomentAgg {
    moment: Moment,
    signature: Signature,
}

impl AggregateUDFImpl for MomentAgg {
    fn name(&self) -> &str {
        match self.moment {
            Moment::Skewness => "skewness",
            Moment::Kurtosis => "kurtosis",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(MomentAcc {
            kurtosis: self.moment == Moment::Kurtosis,
            ..Default::default()
        }))
    }
    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(["n", "avg", "m2", "m3", "m4"]
            .iter()
            .map(|n| Arc::new(Field::new(*n, DataType::Float64, true)))
            .collect())
    }
}

#[derive(Debug, Default)]
struct MomentAcc {
    /// Kurtosis when true, skewness otherwise.
    kurtosis: bool,
    n: f64,
    avg: f64,
    m2: f64,
    m3: f64,
    m4: f64,
}

impl MomentAcc {
    fn add(&mut self, x: f64) {
        let n1 = self.n;
        self.n += 1.0;
        let n = self.n;
        let delta = x - self.avg;
        let delta_n = delta / n;
        let delta_n2 = delta_n * delta_n;
        let term1 = delta * delta_n * n1;
        self.avg += delta_n;
        self.m4 += term1 * delta_n2 * (n * n - 3.0 * n + 3.0) + 6.0 * delta_n2 * self.m2
            - 4.0 * delta_n * self.m3;
        self.m3 += term1 * delta_n * (n - 2.0) - 3.0 * delta_n * self.m2;
        self.m2 += term1;
    }

    fn merge(&mut self, n2: f64, avg2: f64, m2b: f64, m3b: f64, m4b: f64) {
        if n2 == 0.0 {
            return;
        }
        let n1 = self.n;
        let n = n1 + n2;
        let delta = avg2 - self.avg;
        let delta_n = delta / n;
        let (m2a, m3a, m4a) = (self.m2, self.m3, self.m4);
        self.avg += delta_n * n2;
        self.m2 = m2a + m2b + delta * delta_n * n1 * n2;
        self.m3 = m3a
            + m3b
            + delta_n * delta_n * delta * n1 * n2 * (n1 - n2)
            + 3.0 * delta_n * (n1 * m2b - n2 * m2a);
        self.m4 = m4a
            + m4b
            + delta_n * delta_n * delta_n * delta * n1 * n2 * (n1 * n1 - n1 * n2 + n2 * n2)
            + 6.0 * delta_n * delta_n * (n1 * n1 * m2b + n2 * n2 * m2a)
            + 4.0 * delta_n * (n1 * m3b - n2 * m3a);
        self.n = n;
    }
}

fn as_f64(a: &ArrayRef) -> Result<ArrayRef> {
    Ok(cast(a, &DataType::Float64)?)
}

impl Accumulator for MomentAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let v = as_f64(&values[0])?;
        for x in v.as_primitive::<Float64Type>().iter().flatten() {
            self.add(x);
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let col = |i: usize| -> Result<Float64Array> {
            Ok(as_f64(&states[i])?.as_primitive::<Float64Type>().clone())
        };
        let (n, avg, m2, m3, m4) = (col(0)?, col(1)?, col(2)?, col(3)?, col(4)?);
        for i in 0..n.len() {
            if n.is_valid(i) {
                self.merge(
                    n.value(i),
                    avg.value(i),
                    m2.value(i),
                    m3.value(i),
                    m4.value(i),
                );
            }
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok([self.n, self.avg, self.m2, self.m3, self.m4]
            .iter()
            .map(|v| ScalarValue::Float64(Some(*v)))
            .collect())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.n == 0.0 || self.m2 == 0.0 {
            return Ok(ScalarValue::Float64(None));
        }
        let v = if self.kurtosis {
            self.n * self.m4 / (self.m2 * self.m2) - 3.0
        } else {
            self.n.sqrt() * self.m3 / (self.m2 * self.m2 * self.m2).sqrt()
        };
        Ok(ScalarValue::Float64(Some(v)))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

/// `product(x)`: the `double` product of the non-NULL values.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ProductAgg {
    signature: Signature,
}

#[derive(Debug)]
struct ProductAcc {
    product: Option<f64>,
}

impl ProductAcc {
    fn mul(&mut self, x: f64) {
        self.product = Some(self.product.unwrap_or(1.0) * x);
    }
}

impl AggregateUDFImpl for ProductAgg {
    fn name(&self) -> &str {
        "product"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(ProductAcc { product: None }))
    }
    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            "product",
            DataType::Float64,
            true,
        ))])
    }
}

impl Accumulator for ProductAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let v = as_f64(&values[0])?;
        for x in v.as_primitive::<Float64Type>().iter().flatten() {
            self.mul(x);
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Float64(self.product)])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(self.product))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

fn numeric() -> Signature {
    Signature::numeric(1, Volatility::Immutable)
}

/// `skewness`, `kurtosis` and `product` as DataFusion aggregates.
pub fn udafs() -> Vec<AggregateUDF> {
    vec![
        AggregateUDF::new_from_impl(MomentAgg {
            moment: Moment::Skewness,
            signature: numeric(),
        }),
        AggregateUDF::new_from_impl(MomentAgg {
            moment: Moment::Kurtosis,
            signature: numeric(),
        }),
        AggregateUDF::new_from_impl(ProductAgg {
            signature: numeric(),
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(xs: &[f64]) -> MomentAcc {
        let mut a = MomentAcc::default();
        for x in xs {
            a.add(*x);
        }
        a
    }

    #[test]
    fn skewness_and_kurtosis_of_spark_doc_example() {
        // pyspark.sql.functions.skewness / kurtosis doc examples: [1, 1, 2].
        let mut s = moments(&[1.0, 1.0, 2.0]);
        let ScalarValue::Float64(Some(v)) = s.evaluate().unwrap() else {
            panic!()
        };
        assert!((v - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12, "{v}");
        let mut k = moments(&[1.0, 1.0, 2.0]);
        k.kurtosis = true;
        assert_eq!(k.evaluate().unwrap(), ScalarValue::Float64(Some(-1.5)));
    }

    #[test]
    fn merged_moments_equal_one_pass() {
        let xs = [3.0, -1.5, 8.25, 0.0, 2.0, 7.0, -4.0];
        let all = moments(&xs);
        let mut left = moments(&xs[..3]);
        let right = moments(&xs[3..]);
        left.merge(right.n, right.avg, right.m2, right.m3, right.m4);
        for (a, b) in [
            (all.m2, left.m2),
            (all.m3, left.m3),
            (all.m4, left.m4),
            (all.avg, left.avg),
        ] {
            assert!((a - b).abs() < 1e-9 * a.abs().max(1.0), "{a} vs {b}");
        }
    }

    #[test]
    fn zero_variance_and_no_rows_are_null() {
        assert_eq!(
            moments(&[2.0, 2.0]).evaluate().unwrap(),
            ScalarValue::Float64(None)
        );
        assert_eq!(moments(&[]).evaluate().unwrap(), ScalarValue::Float64(None));
    }
}
