//! Spark's `CentralMomentAgg` family — `var_samp`/`variance`, `var_pop`,
//! `stddev`/`stddev_samp`/`std`, `stddev_pop`, `skewness`, `kurtosis` — computed with
//! Spark's own update and merge formulas (one pass over `double`s with running central
//! moments, partial buffers merged pairwise), so results agree with Spark to the last
//! digit: NULL for no rows, and NULL where Spark divides by zero (`n = 1` for the sample
//! statistics, zero variance for skewness/kurtosis; `spark.sql.legacy
//! .statisticalAggregate=false`). Also `product` (the `double` product of the non-NULL
//! values, NULL when there are none).
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
    VarSamp,
    VarPop,
    StddevSamp,
    StddevPop,
}

impl Moment {
    /// Spark's name and the other names it answers to.
    fn names(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Moment::Skewness => ("skewness", &[]),
            Moment::Kurtosis => ("kurtosis", &[]),
            Moment::VarSamp => ("var_samp", &["variance", "var", "var_sample"]),
            Moment::VarPop => ("var_pop", &["var_population"]),
            Moment::StddevSamp => ("stddev", &["stddev_samp", "std"]),
            Moment::StddevPop => ("stddev_pop", &[]),
        }
    }
}

/// `skewness(x)` / `kurtosis(x)` (excess kurtosis), as Spark computes them.
#[derive(Debug, PartialEq, Eq, Hash)]
struct MomentAgg {
    moment: Moment,
    signature: Signature,
    aliases: Vec<String>,
}

impl AggregateUDFImpl for MomentAgg {
    fn name(&self) -> &str {
        self.moment.names().0
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(MomentAcc {
            moment: self.moment,
            n: 0.0,
            avg: 0.0,
            m2: 0.0,
            m3: 0.0,
            m4: 0.0,
        }))
    }
    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(["n", "avg", "m2", "m3", "m4"]
            .iter()
            .map(|n| Arc::new(Field::new(*n, DataType::Float64, true)))
            .collect())
    }
}

#[derive(Debug)]
struct MomentAcc {
    moment: Moment,
    n: f64,
    avg: f64,
    m2: f64,
    m3: f64,
    m4: f64,
}

impl MomentAcc {
    /// Spark's `updateExpressions`, term for term (the rounding is part of the answer).
    fn add(&mut self, x: f64) {
        let n = self.n + 1.0;
        let delta = x - self.avg;
        let delta_n = delta / n;
        let m2 = self.m2 + delta * (delta - delta_n);
        let delta2 = delta * delta;
        let delta_n2 = delta_n * delta_n;
        let m3 = self.m3 - 3.0 * delta_n * m2 + delta * (delta2 - delta_n2);
        let m4 = self.m4 - 4.0 * delta_n * m3 - 6.0 * delta_n2 * m2
            + delta * (delta * delta2 - delta_n * delta_n2);
        self.n = n;
        self.avg += delta_n;
        self.m2 = m2;
        self.m3 = m3;
        self.m4 = m4;
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
        let (n, m2) = (self.n, self.m2);
        let v = match self.moment {
            _ if n == 0.0 => None,
            Moment::VarPop => Some(m2 / n),
            Moment::StddevPop => Some((m2 / n).sqrt()),
            Moment::VarSamp | Moment::StddevSamp if n == 1.0 => None,
            Moment::VarSamp => Some(m2 / (n - 1.0)),
            Moment::StddevSamp => Some((m2 / (n - 1.0)).sqrt()),
            Moment::Skewness | Moment::Kurtosis if m2 == 0.0 => None,
            Moment::Kurtosis => Some(n * self.m4 / (m2 * m2) - 3.0),
            Moment::Skewness => Some(n.sqrt() * self.m3 / (m2 * m2 * m2).sqrt()),
        };
        Ok(ScalarValue::Float64(v))
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

fn moment(moment: Moment) -> AggregateUDF {
    AggregateUDF::new_from_impl(MomentAgg {
        moment,
        signature: numeric(),
        aliases: moment.names().1.iter().map(|a| a.to_string()).collect(),
    })
}

/// `stddev(x)` / `stddev_samp(x)`: Spark's sample standard deviation (`double`).
pub fn stddev_udaf() -> Arc<AggregateUDF> {
    static F: std::sync::OnceLock<Arc<AggregateUDF>> = std::sync::OnceLock::new();
    F.get_or_init(|| Arc::new(moment(Moment::StddevSamp)))
        .clone()
}

/// `variance(x)` / `var_samp(x)`: Spark's sample variance (`double`).
pub fn variance_udaf() -> Arc<AggregateUDF> {
    static F: std::sync::OnceLock<Arc<AggregateUDF>> = std::sync::OnceLock::new();
    F.get_or_init(|| Arc::new(moment(Moment::VarSamp))).clone()
}

/// The central-moment aggregates and `product` as DataFusion aggregates; registering
/// them replaces DataFusion's `stddev`/`var*` (whose rounding differs from Spark's).
pub fn udafs() -> Vec<AggregateUDF> {
    vec![
        moment(Moment::Skewness),
        moment(Moment::Kurtosis),
        stddev_udaf().as_ref().clone(),
        variance_udaf().as_ref().clone(),
        moment(Moment::StddevPop),
        moment(Moment::VarPop),
        AggregateUDF::new_from_impl(ProductAgg {
            signature: numeric(),
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(xs: &[f64]) -> MomentAcc {
        let mut a = MomentAcc {
            moment: Moment::Skewness,
            n: 0.0,
            avg: 0.0,
            m2: 0.0,
            m3: 0.0,
            m4: 0.0,
        };
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
        // One pass over one partition, as Spark 4.3 prints it (local[1]).
        assert_eq!(v, 0.7071067811865469);
        let mut k = moments(&[1.0, 1.0, 2.0]);
        k.moment = Moment::Kurtosis;
        assert_eq!(
            k.evaluate().unwrap(),
            ScalarValue::Float64(Some(-1.499999999999999))
        );
        k.moment = Moment::StddevSamp;
        assert_eq!(
            k.evaluate().unwrap(),
            ScalarValue::Float64(Some(0.5773502691896258))
        );
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
