//! Spark's approximate quantiles: the Greenwald-Khanna summary Spark keeps
//! (`QuantileSummaries`: a 50,000-value head buffer, compression at 10,000 samples,
//! merge of per-partition summaries) and the aggregates built on it:
//!
//! - `percentile_approx(col, percentage [, accuracy])` / `approx_percentile`: relative
//!   error `1 / accuracy` (accuracy 10,000 by default); a value of the data, of the
//!   column's type (numeric, date, timestamp), or an array of them when `percentage`
//!   is an array; NULLs skipped; NULL when there is no row.
//! - `ember_approx_quantile(col, probabilities, relativeError)`: what
//!   `DataFrame.approxQuantile` runs (Spark's `StatFunctions.multipleApproxQuantiles`):
//!   the column cast to `double`, NULL and NaN skipped, an empty array when nothing is
//!   left.
//!
//! The answers are Spark's where the partial summaries are the same (Spark merges one
//! summary per partition); with a relative error of 0 or few rows they are exact:
//! the value at rank `ceil(q * n)`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryArray, Float64Array};
use datafusion::arrow::compute::kernels::cast::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, Signature, Volatility,
};
use datafusion::physical_expr::PhysicalExpr;

/// Samples kept before the summary compresses (Spark's `defaultCompressThreshold`).
const COMPRESS_THRESHOLD: usize = 10_000;
/// Values buffered before they are merged into the samples (`defaultHeadSize`).
const HEAD_SIZE: usize = 50_000;
/// `percentile_approx`'s default accuracy (`ApproximatePercentile.DEFAULT_PERCENTILE_ACCURACY`).
const DEFAULT_ACCURACY: i64 = 10_000;

/// One G-K tuple: a sampled value, the rank gap from the previous sample, and the
/// uncertainty of its rank.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stats {
    value: f64,
    g: i64,
    delta: i64,
}

/// Spark's `QuantileSummaries` (same insert, compress, merge and query rules).
#[derive(Debug, Clone)]
pub struct QuantileSummaries {
    relative_error: f64,
    sampled: Vec<Stats>,
    /// Values in `sampled` (the head buffer excluded).
    count: i64,
    head: Vec<f64>,
    /// Compressed since the last insert (Spark's `PercentileDigest.isCompressed`).
    compressed: bool,
}

impl QuantileSummaries {
    /// An empty summary with the given relative error (0 keeps every value).
    pub fn new(relative_error: f64) -> Self {
        QuantileSummaries {
            relative_error,
            sampled: Vec::new(),
            count: 0,
            head: Vec::new(),
            compressed: true,
        }
    }

    /// Adds one value.
    pub fn insert(&mut self, x: f64) {
        self.head.push(x);
        self.compressed = false;
        if self.head.len() >= HEAD_SIZE {
            self.insert_head();
            if self.sampled.len() >= COMPRESS_THRESHOLD {
                self.compress();
            }
        }
    }

    fn insert_head(&mut self) {
        if self.head.is_empty() {
            return;
        }
        let mut sorted = std::mem::take(&mut self.head);
        sorted.sort_by(f64::total_cmp);
        let mut out = Vec::with_capacity(self.sampled.len() + sorted.len());
        let mut count = self.count;
        let mut si = 0;
        let n = sorted.len();
        for (oi, &x) in sorted.iter().enumerate() {
            while si < self.sampled.len() && self.sampled[si].value <= x {
                out.push(self.sampled[si]);
                si += 1;
            }
            count += 1;
            let delta = if out.is_empty() || (si == self.sampled.len() && oi == n - 1) {
                0
            } else {
                (2.0 * self.relative_error * count as f64).floor() as i64
            };
            out.push(Stats {
                value: x,
                g: 1,
                delta,
            });
        }
        out.extend_from_slice(&self.sampled[si..]);
        self.sampled = out;
        self.count = count;
    }

    /// Inserts the head buffer and merges samples whose rank ranges allow it (once:
    /// a compressed summary is left as it is).
    pub fn compress(&mut self) {
        if self.compressed {
            return;
        }
        self.compressed = true;
        self.insert_head();
        let threshold = 2.0 * self.relative_error * self.count as f64;
        self.sampled = compress_samples(&self.sampled, threshold);
    }

    /// Merges another summary into this one (both compressed first, as Spark does).
    pub fn merge(&mut self, mut other: QuantileSummaries) {
        self.compress();
        other.compress();
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other;
            return;
        }
        let rel = self.relative_error.max(other.relative_error);
        let count = self.count + other.count;
        let add_self = (2.0 * other.relative_error * other.count as f64).floor() as i64;
        let add_other = (2.0 * self.relative_error * self.count as f64).floor() as i64;
        let (a, b) = (&self.sampled, &other.sampled);
        let mut merged = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let (s, extra) = if a[i].value < b[j].value {
                i += 1;
                (a[i - 1], if j > 0 { add_self } else { 0 })
            } else {
                j += 1;
                (b[j - 1], if i > 0 { add_other } else { 0 })
            };
            merged.push(Stats {
                delta: s.delta + extra,
                ..s
            });
        }
        merged.extend_from_slice(&a[i..]);
        merged.extend_from_slice(&b[j..]);
        self.sampled = compress_samples(&merged, 2.0 * rel * count as f64);
        self.relative_error = rel;
        self.count = count;
        self.compressed = true;
    }

    /// The approximate quantiles (each in `[0, 1]`), in the order asked; `None` when
    /// the summary holds no value.
    pub fn query(&mut self, quantiles: &[f64]) -> Option<Vec<f64>> {
        self.compress();
        let s = &self.sampled;
        let (first, last) = (s.first()?.value, s.last()?.value);
        let target = (s.iter().map(|t| t.delta + t.g).max().unwrap_or(0) / 2) as f64;
        let mut order: Vec<usize> = (0..quantiles.len()).collect();
        order.sort_by(|&a, &b| quantiles[a].total_cmp(&quantiles[b]));
        let mut out = vec![0.0; quantiles.len()];
        let mut index = 0usize;
        let mut min_rank = s[0].g;
        for pos in order {
            let q = quantiles[pos];
            out[pos] = if q <= self.relative_error {
                first
            } else if q >= 1.0 - self.relative_error {
                last
            } else {
                let rank = (q * self.count as f64).ceil() as i64;
                let mut i = index;
                let mut mr = min_rank;
                let mut found = None;
                while i < s.len() - 1 {
                    let max_rank = mr + s[i].delta;
                    if (max_rank as f64) - target <= rank as f64
                        && rank as f64 <= mr as f64 + target
                    {
                        found = Some(s[i].value);
                        break;
                    }
                    i += 1;
                    mr += s[i].g;
                }
                match found {
                    Some(v) => {
                        index = i;
                        min_rank = mr;
                        v
                    }
                    None => {
                        index = s.len() - 1;
                        min_rank = 0;
                        last
                    }
                }
            };
        }
        Some(out)
    }

    /// The summary as bytes (relative error, count, then the samples), for the
    /// aggregate's partial state. The head buffer is compressed in first.
    fn to_bytes(&mut self) -> Vec<u8> {
        self.compress();
        let mut b = Vec::with_capacity(16 + self.sampled.len() * 24);
        b.extend_from_slice(&self.relative_error.to_le_bytes());
        b.extend_from_slice(&self.count.to_le_bytes());
        for s in &self.sampled {
            b.extend_from_slice(&s.value.to_le_bytes());
            b.extend_from_slice(&s.g.to_le_bytes());
            b.extend_from_slice(&s.delta.to_le_bytes());
        }
        b
    }

    fn from_bytes(b: &[u8]) -> Result<Self> {
        if b.len() < 16 || (b.len() - 16) % 24 != 0 {
            return exec_err!("corrupt quantile summary state ({} bytes)", b.len());
        }
        let f = |o: usize| f64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
        let i = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
        let sampled = (16..b.len())
            .step_by(24)
            .map(|o| Stats {
                value: f(o),
                g: i(o + 8),
                delta: i(o + 16),
            })
            .collect();
        Ok(QuantileSummaries {
            relative_error: f(0),
            count: i(8),
            sampled,
            head: Vec::new(),
            compressed: true,
        })
    }
}

/// Spark's `compressImmut`: from the end, folds a sample into the next kept one while
/// `g + g_next + delta_next < threshold`; the first and last samples always stay.
fn compress_samples(s: &[Stats], threshold: f64) -> Vec<Stats> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut rev = Vec::new();
    let mut head = s[s.len() - 1];
    let mut i = s.len() as isize - 2;
    while i >= 1 {
        let cur = s[i as usize];
        if ((cur.g + head.g + head.delta) as f64) < threshold {
            head.g += cur.g;
        } else {
            rev.push(head);
            head = cur;
        }
        i -= 1;
    }
    rev.push(head);
    if s[0].value <= head.value && s.len() > 1 {
        rev.push(s[0]);
    }
    rev.reverse();
    rev
}

/// Which of the two aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    /// `percentile_approx` / `approx_percentile`.
    Percentile,
    /// `ember_approx_quantile` (`DataFrame.approxQuantile`).
    Stat,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct QuantileAgg {
    kind: Kind,
    signature: Signature,
}

/// `percentile_approx` (alias `approx_percentile`), as an aggregate UDF.
pub fn percentile_approx_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(QuantileAgg {
        kind: Kind::Percentile,
        signature: Signature::user_defined(Volatility::Immutable),
    })
    .with_aliases(["approx_percentile"])
}

/// `ember_approx_quantile(col, probabilities, relativeError)`, as an aggregate UDF.
pub fn approx_quantile_udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(QuantileAgg {
        kind: Kind::Stat,
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

fn list_of(t: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(t, true)))
}

fn is_valid_input(t: &DataType) -> bool {
    t.is_numeric()
        || matches!(
            t,
            DataType::Date32 | DataType::Timestamp(..) | DataType::Null
        )
}

/// The literal value of an argument (evaluated on no rows).
fn literal_arg(e: &Arc<dyn PhysicalExpr>) -> Result<ScalarValue> {
    use datafusion::arrow::datatypes::Schema;
    use datafusion::arrow::record_batch::RecordBatch;
    let batch = RecordBatch::new_empty(Arc::new(Schema::empty()));
    match e.evaluate(&batch)? {
        ColumnarValue::Scalar(s) => Ok(s),
        ColumnarValue::Array(a) if a.len() == 1 => ScalarValue::try_from_array(&a, 0),
        _ => plan_err!("[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] the percentage and accuracy of percentile_approx must be constants"),
    }
}

fn percentages(v: &ScalarValue) -> Result<(Vec<f64>, bool)> {
    let as_f64 = |s: &ScalarValue| -> Result<f64> {
        match s.cast_to(&DataType::Float64)? {
            ScalarValue::Float64(Some(x)) => Ok(x),
            _ => plan_err!("[DATATYPE_MISMATCH.UNEXPECTED_NULL] The percentage must not be null."),
        }
    };
    let (ps, array) = match v {
        ScalarValue::List(l) => {
            let inner = l.value(0);
            let mut out = Vec::with_capacity(inner.len());
            for i in 0..inner.len() {
                out.push(as_f64(&ScalarValue::try_from_array(&inner, i)?)?);
            }
            (out, true)
        }
        other => (vec![as_f64(other)?], false),
    };
    if let Some(p) = ps.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return plan_err!(
            "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] Cannot resolve percentile_approx: the percentage must be between 0.0 and 1.0, but got {p}."
        );
    }
    Ok((ps, array))
}

impl QuantileAgg {
    fn coerce_numbers(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let pct = |p: &DataType| match p {
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
                list_of(DataType::Float64)
            }
            _ => DataType::Float64,
        };
        match (self.kind, t) {
            (Kind::Percentile, [x, p, rest @ ..]) if rest.len() <= 1 => {
                if !is_valid_input(x) {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve percentile_approx: the first parameter requires a numeric, DATE or TIMESTAMP type, however it has the type \"{x}\"."
                    );
                }
                let x = if matches!(x, DataType::Null) { DataType::Float64 } else { x.clone() };
                let mut out = vec![x, pct(p)];
                if let Some(a) = rest.first() {
                    if !a.is_integer() {
                        return plan_err!(
                            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve percentile_approx: the accuracy requires an INTEGRAL type, however it has the type \"{a}\"."
                        );
                    }
                    out.push(DataType::Int64);
                }
                Ok(out)
            }
            (Kind::Stat, [_, p, _]) => Ok(vec![DataType::Float64, pct(p), DataType::Float64]),
            _ => plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires 2 or 3 parameters but the actual number is {}.",
                self.name(),
                t.len()
            ),
        }
    }
}

impl AggregateUDFImpl for QuantileAgg {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Percentile => "percentile_approx",
            Kind::Stat => "ember_approx_quantile",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        crate::functions::intervals::agg_coerce(t, |t| self.coerce_numbers(t))
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        let item = match self.kind {
            Kind::Percentile => t.first().cloned().unwrap_or(DataType::Float64),
            Kind::Stat => DataType::Float64,
        };
        Ok(match t.get(1) {
            Some(DataType::List(_)) => list_of(item),
            _ => item,
        })
    }
    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            "summary",
            DataType::Binary,
            true,
        ))])
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let (ps, _) = percentages(&literal_arg(&args.exprs[1])?)?;
        let relative_error = match self.kind {
            Kind::Percentile => {
                let accuracy = match args.exprs.get(2) {
                    Some(e) => match literal_arg(e)?.cast_to(&DataType::Int64)? {
                        ScalarValue::Int64(Some(a)) => a,
                        _ => {
                            return plan_err!(
                            "[DATATYPE_MISMATCH.UNEXPECTED_NULL] The accuracy must not be null."
                        )
                        }
                    },
                    None => DEFAULT_ACCURACY,
                };
                if accuracy <= 0 || accuracy > i32::MAX as i64 {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] Cannot resolve percentile_approx: the accuracy must be between 1 and {}, but got {accuracy}.",
                        i32::MAX
                    );
                }
                1.0 / accuracy as f64
            }
            Kind::Stat => match literal_arg(&args.exprs[2])?.cast_to(&DataType::Float64)? {
                ScalarValue::Float64(Some(e)) if e >= 0.0 => e,
                other => return plan_err!("Relative Error must be non-negative but got {other}"),
            },
        };
        Ok(Box::new(QuantileAcc {
            kind: self.kind,
            percentages: ps,
            out_type: args.return_field.data_type().clone(),
            summary: QuantileSummaries::new(relative_error),
        }))
    }
}

#[derive(Debug)]
struct QuantileAcc {
    kind: Kind,
    percentages: Vec<f64>,
    out_type: DataType,
    summary: QuantileSummaries,
}

impl Accumulator for QuantileAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let v = &values[0];
        let doubles = match v.data_type() {
            DataType::Float64 => v.clone(),
            DataType::Date32 => cast(&cast(v, &DataType::Int32)?, &DataType::Float64)?,
            DataType::Timestamp(..) => cast(&cast(v, &DataType::Int64)?, &DataType::Float64)?,
            _ => cast(v, &DataType::Float64)?,
        };
        let d = doubles.as_primitive::<Float64Type>();
        for x in d.iter().flatten() {
            if self.kind == Kind::Stat && x.is_nan() {
                continue;
            }
            self.summary.insert(x);
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let b: &BinaryArray = states[0].as_binary();
        for s in b.iter().flatten() {
            self.summary.merge(QuantileSummaries::from_bytes(s)?);
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(Some(self.summary.to_bytes()))])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        let item = match &self.out_type {
            DataType::List(f) => f.data_type().clone(),
            t => t.clone(),
        };
        let values = self.summary.query(&self.percentages);
        let Some(values) = values else {
            return match (self.kind, &self.out_type) {
                (Kind::Stat, _) => Ok(ScalarValue::List(ScalarValue::new_list_nullable(
                    &[],
                    &item,
                ))),
                (Kind::Percentile, t) => ScalarValue::try_from(t),
            };
        };
        let arr: ArrayRef = Arc::new(Float64Array::from(values));
        let typed = to_input_type(&arr, &item)?;
        match &self.out_type {
            DataType::List(_) => {
                let scalars = (0..typed.len())
                    .map(|i| ScalarValue::try_from_array(&typed, i))
                    .collect::<Result<Vec<_>>>()?;
                Ok(ScalarValue::List(ScalarValue::new_list_nullable(
                    &scalars, &item,
                )))
            }
            _ => ScalarValue::try_from_array(&typed, 0),
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self.summary.sampled.capacity() * std::mem::size_of::<Stats>()
            + self.summary.head.capacity() * 8
    }
}

/// Doubles back to the column's type as Spark does (`toInt`/`toLong`: truncation).
fn to_input_type(a: &ArrayRef, t: &DataType) -> Result<ArrayRef> {
    Ok(match t {
        DataType::Float64 => a.clone(),
        DataType::Date32 => cast(&cast(&trunc(a), &DataType::Int32)?, t)?,
        DataType::Timestamp(..) => cast(&cast(&trunc(a), &DataType::Int64)?, t)?,
        t if t.is_integer() => cast(&trunc(a), t)?,
        t => cast(a, t)?,
    })
}

fn trunc(a: &ArrayRef) -> ArrayRef {
    let d = a.as_primitive::<Float64Type>();
    Arc::new(d.unary::<_, Float64Type>(f64::trunc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(values: impl IntoIterator<Item = f64>, err: f64) -> QuantileSummaries {
        let mut s = QuantileSummaries::new(err);
        for v in values {
            s.insert(v);
        }
        s
    }

    #[test]
    fn exact_with_zero_error_is_value_at_rank_ceil_qn() {
        let mut s = summary((1..=10).rev().map(f64::from), 0.0);
        let q = s.query(&[0.0, 0.25, 0.5, 0.75, 1.0, 0.31]).unwrap();
        // ranks ceil(q * 10): 0 -> min, 3, 5, 8, max, 4
        assert_eq!(q, vec![1.0, 3.0, 5.0, 8.0, 10.0, 4.0]);
    }

    #[test]
    fn empty_summary_has_no_answer() {
        assert_eq!(QuantileSummaries::new(0.01).query(&[0.5]), None);
    }

    #[test]
    fn merged_partitions_answer_like_one() {
        let mut a = summary((0..500).map(|i| (i * 2) as f64), 0.0);
        let b = summary((0..500).map(|i| (i * 2 + 1) as f64), 0.0);
        a.merge(b);
        assert_eq!(a.query(&[0.5, 0.1]).unwrap(), vec![499.0, 99.0]);
    }

    #[test]
    fn large_input_stays_within_error_and_compresses() {
        let n = 200_000;
        let mut s = summary((0..n).map(|i| ((i * 7919) % n) as f64), 0.01);
        let q = s.query(&[0.5, 0.9]).unwrap();
        assert!((q[0] - 100_000.0).abs() <= 0.01 * n as f64, "{q:?}");
        assert!((q[1] - 180_000.0).abs() <= 0.01 * n as f64, "{q:?}");
        assert!(s.sampled.len() < 2_000, "{} samples kept", s.sampled.len());
    }

    #[test]
    fn state_round_trips() {
        let mut s = summary([3.0, 1.0, 2.0], 0.001);
        let mut back = QuantileSummaries::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back.query(&[0.5]), s.query(&[0.5]));
        assert_eq!(back.count, 3);
    }
}
