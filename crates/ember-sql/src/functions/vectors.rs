//! Spark 4.3's vector functions over `ARRAY<FLOAT>` embeddings (accumulated in double,
//! results in float, which gives Spark's last digits): `vector_inner_product(a, b)`, `vector_cosine_similarity(a, b)`,
//! `vector_l2_distance(a, b)`, `vector_norm(v, p)` (p = 1, 2, `inf` or any p > 0),
//! `vector_normalize(v, p)` (v divided by its p-norm; a zero vector stays zero), and
//! the aggregates `vector_sum(v)` and `vector_avg(v)` (element-wise). A NULL array
//! gives NULL; arrays of different lengths fail with `VECTOR_DIMENSION_MISMATCH`.

use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float32Array, Float32Builder, ListArray, ListBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float32Type};
use datafusion::common::{exec_err, plan_err, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ScalarUDF, Signature, Volatility,
};

use super::udf_coerced;

fn float_list() -> DataType {
    DataType::List(Arc::new(Field::new("element", DataType::Float32, true)))
}

fn coerce_vectors(
    name: &str,
    args: &[DataType],
    vectors: usize,
    scalars: usize,
) -> Result<Vec<DataType>> {
    super::args_between(name, args, vectors + scalars, vectors + scalars)?;
    for t in &args[..vectors] {
        let ok = match t {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                f.data_type().is_numeric() || f.data_type() == &DataType::Null
            }
            DataType::Null => true,
            _ => false,
        };
        if !ok {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` requires ARRAY<FLOAT> arguments, got {t}"
            );
        }
    }
    let mut out = vec![float_list(); vectors];
    out.extend(std::iter::repeat_n(DataType::Float32, scalars));
    Ok(out)
}

/// The scalar vector functions.
pub(super) fn functions(tz: &str) -> Vec<ScalarUDF> {
    vec![
        udf_coerced(
            "vector_inner_product",
            |a| coerce_vectors("vector_inner_product", a, 2, 0),
            |_| Ok(DataType::Float32),
            |a, _| pairwise(a, "vector_inner_product", |x, y| dot(x, y)),
            tz,
        ),
        udf_coerced(
            "vector_cosine_similarity",
            |a| coerce_vectors("vector_cosine_similarity", a, 2, 0),
            |_| Ok(DataType::Float32),
            |a, _| {
                pairwise(a, "vector_cosine_similarity", |x, y| {
                    let d: f64 = x.iter().zip(y).map(|(p, q)| *p as f64 * *q as f64).sum();
                    (d / (norm64(x, 2.0) * norm64(y, 2.0))) as f32
                })
            },
            tz,
        ),
        udf_coerced(
            "vector_l2_distance",
            |a| coerce_vectors("vector_l2_distance", a, 2, 0),
            |_| Ok(DataType::Float32),
            |a, _| {
                pairwise(a, "vector_l2_distance", |x, y| {
                    x.iter()
                        .zip(y)
                        .map(|(p, q)| (*p as f64 - *q as f64).powi(2))
                        .sum::<f64>()
                        .sqrt() as f32
                })
            },
            tz,
        ),
        udf_coerced(
            "vector_norm",
            |a| coerce_vectors("vector_norm", a, 1, 1),
            |_| Ok(DataType::Float32),
            vector_norm,
            tz,
        ),
        udf_coerced(
            "vector_normalize",
            |a| coerce_vectors("vector_normalize", a, 1, 1),
            |_| Ok(float_list()),
            vector_normalize,
            tz,
        ),
    ]
}

fn dot(x: &[f32], y: &[f32]) -> f32 {
    x.iter()
        .zip(y)
        .map(|(p, q)| *p as f64 * *q as f64)
        .sum::<f64>() as f32
}

fn norm64(x: &[f32], p: f32) -> f64 {
    let p = p as f64;
    if p == 1.0 {
        x.iter().map(|v| (*v as f64).abs()).sum()
    } else if p == 2.0 {
        x.iter().map(|v| *v as f64 * *v as f64).sum::<f64>().sqrt()
    } else if p.is_infinite() {
        x.iter().fold(0.0f64, |m, v| m.max((*v as f64).abs()))
    } else {
        x.iter()
            .map(|v| (*v as f64).abs().powf(p))
            .sum::<f64>()
            .powf(1.0 / p)
    }
}

fn norm(x: &[f32], p: f32) -> f32 {
    norm64(x, p) as f32
}

/// Row `i` of a float list column (`None` for NULL).
fn row(l: &ListArray, i: usize) -> Option<Vec<f32>> {
    if l.is_null(i) {
        return None;
    }
    let v = l.value(i);
    let v = v.as_primitive::<Float32Type>();
    Some(v.iter().map(|x| x.unwrap_or(f32::NAN)).collect())
}

fn pairwise(a: &[ArrayRef], name: &str, f: impl Fn(&[f32], &[f32]) -> f32) -> Result<ArrayRef> {
    let (l, r) = (a[0].as_list::<i32>(), a[1].as_list::<i32>());
    let mut out = Float32Builder::with_capacity(l.len());
    for i in 0..l.len() {
        match (row(l, i), row(r, i)) {
            (Some(x), Some(y)) => {
                if x.len() != y.len() {
                    return exec_err!(
                        "[VECTOR_DIMENSION_MISMATCH] `{name}` needs vectors of one dimension, got {} and {}.",
                        x.len(),
                        y.len()
                    );
                }
                out.append_value(f(&x, &y));
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn vector_norm(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let (l, p) = (a[0].as_list::<i32>(), a[1].as_primitive::<Float32Type>());
    let out: Float32Array = (0..l.len())
        .map(|i| match (row(l, i), p.is_valid(i)) {
            (Some(x), true) => Some(norm(&x, p.value(i))),
            _ => None,
        })
        .collect();
    Ok(Arc::new(out))
}

fn vector_normalize(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let (l, p) = (a[0].as_list::<i32>(), a[1].as_primitive::<Float32Type>());
    let mut out = ListBuilder::new(Float32Builder::new()).with_field(Arc::new(Field::new(
        "element",
        DataType::Float32,
        true,
    )));
    for i in 0..l.len() {
        match (row(l, i), p.is_valid(i)) {
            (Some(x), true) => {
                let n = norm64(&x, p.value(i));
                for v in x {
                    out.values()
                        .append_value(if n == 0.0 { v } else { (v as f64 / n) as f32 });
                }
                out.append(true);
            }
            _ => out.append(false),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `vector_sum` (`avg` false) or `vector_avg` (`avg` true).
pub fn udafs() -> Vec<AggregateUDF> {
    [("vector_sum", false), ("vector_avg", true)]
        .into_iter()
        .map(|(name, avg)| {
            AggregateUDF::new_from_impl(VectorAgg {
                name,
                avg,
                signature: Signature::user_defined(Volatility::Immutable),
            })
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct VectorAgg {
    name: &'static str,
    avg: bool,
    signature: Signature,
}

impl AggregateUDFImpl for VectorAgg {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_vectors(self.name, arg_types, 1, 0)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(float_list())
    }
    fn state_fields(
        &self,
        _: datafusion::logical_expr::function::StateFieldsArgs,
    ) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                "sum",
                DataType::List(Arc::new(Field::new("element", DataType::Float64, true))),
                true,
            )),
            Arc::new(Field::new("count", DataType::Int64, true)),
        ])
    }
    fn accumulator(
        &self,
        _: datafusion::logical_expr::function::AccumulatorArgs,
    ) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(VectorAcc {
            name: self.name,
            avg: self.avg,
            sum: None,
            count: 0,
        }))
    }
}

/// Element-wise sums (in double, rounded to float at the end) and the row count.
#[derive(Debug)]
struct VectorAcc {
    name: &'static str,
    avg: bool,
    sum: Option<Vec<f64>>,
    count: i64,
}

impl VectorAcc {
    fn add(&mut self, v: &[f64], n: i64) -> Result<()> {
        match &mut self.sum {
            None => self.sum = Some(v.to_vec()),
            Some(s) => {
                if s.len() != v.len() {
                    return Err(DataFusionError::Execution(format!(
                        "[VECTOR_DIMENSION_MISMATCH] `{}` needs vectors of one dimension, got {} and {}.",
                        self.name,
                        s.len(),
                        v.len()
                    )));
                }
                for (a, b) in s.iter_mut().zip(v) {
                    *a += b;
                }
            }
        }
        self.count += n;
        Ok(())
    }
}

impl Accumulator for VectorAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let l = values[0].as_list::<i32>();
        for i in 0..l.len() {
            if let Some(x) = row(l, i) {
                let x: Vec<f64> = x.iter().map(|v| *v as f64).collect();
                self.add(&x, 1)?;
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let sums = states[0].as_list::<i32>();
        let counts = states[1].as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        for i in 0..sums.len() {
            if sums.is_null(i) {
                continue;
            }
            let v = cast(&sums.value(i), &DataType::Float64)?;
            let v: Vec<f64> = v
                .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                .iter()
                .map(|x| x.unwrap_or(0.0))
                .collect();
            self.add(&v, counts.value(i))?;
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let sum = match &self.sum {
            None => ScalarValue::try_from(&DataType::List(Arc::new(Field::new(
                "element",
                DataType::Float64,
                true,
            ))))?,
            Some(s) => ScalarValue::List(ScalarValue::new_list_nullable(
                &s.iter()
                    .map(|v| ScalarValue::Float64(Some(*v)))
                    .collect::<Vec<_>>(),
                &DataType::Float64,
            )),
        };
        Ok(vec![sum, ScalarValue::Int64(Some(self.count))])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        match &self.sum {
            None => ScalarValue::try_from(&float_list()),
            Some(s) => {
                let n = self.count.max(1) as f64;
                let vals: Float32Array = s
                    .iter()
                    .map(|v| Some((if self.avg { v / n } else { *v }) as f32))
                    .collect();
                let list = ListArray::try_new(
                    Arc::new(Field::new("element", DataType::Float32, true)),
                    datafusion::arrow::buffer::OffsetBuffer::from_lengths([vals.len()]),
                    Arc::new(vals),
                    None,
                )?;
                Ok(ScalarValue::List(Arc::new(list)))
            }
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.sum.as_ref().map_or(0, |s| s.len() * 8)
    }
}
