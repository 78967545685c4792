//! Spark's DataSketches functions (Spark 4.1+), on the Apache DataSketches Rust
//! library (`datasketches`, the same algorithms and binary formats as the Java
//! library Spark uses):
//!
//! - HyperLogLog ([`hll`]): `hll_sketch_agg`, `hll_union_agg`, `hll_sketch_estimate`,
//!   `hll_union`.
//! - Theta ([`theta`]): `theta_sketch_agg`, `theta_union_agg`,
//!   `theta_intersection_agg`, `theta_sketch_estimate`, `theta_union`,
//!   `theta_intersection`, `theta_difference`.
//! - KLL quantiles ([`kll`]), in `bigint`, `float` and `double` flavours:
//!   `kll_sketch_agg_*`, `kll_merge_agg_*`, `kll_sketch_get_n_*`,
//!   `kll_sketch_get_quantile_*`, `kll_sketch_get_rank_*`, `kll_sketch_merge_*`,
//!   `kll_sketch_to_string_*`.
//!
//! A sketch is a `binary` value. Aggregates skip NULL rows and give the sketch of no
//! rows (not NULL) for an empty input; scalar functions give NULL for a NULL sketch.
//! Bytes that are not a sketch of the expected family fail the query with
//! `[..._INVALID_SKETCH_BUFFER]` naming the function, as Spark.

mod hll;
mod kll;
mod theta;
mod tuple;

use std::fmt::Debug;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryArray};
use datafusion::arrow::compute::kernels::cast::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};
use datafusion::physical_expr::PhysicalExpr;

/// The sketch aggregates, to register in a session.
pub fn udafs() -> Vec<AggregateUDF> {
    let mut v: Vec<Box<dyn AggSpec>> = Vec::new();
    v.extend(hll::aggregates());
    v.extend(theta::aggregates());
    v.extend(kll::aggregates());
    v.extend(tuple::aggregates());
    v.into_iter()
        .map(|spec| {
            AggregateUDF::new_from_impl(SketchAgg {
                spec: Arc::from(spec),
                signature: Signature::user_defined(Volatility::Immutable),
            })
        })
        .collect()
}

/// The sketch scalar functions, to register in a session.
pub fn functions() -> Vec<ScalarUDF> {
    let mut v: Vec<Box<dyn FnSpec>> = Vec::new();
    v.extend(hll::functions());
    v.extend(theta::functions());
    v.extend(kll::functions());
    v.extend(tuple::functions());
    v.into_iter()
        .map(|spec| {
            ScalarUDF::new_from_impl(SketchFn {
                spec: Arc::from(spec),
                signature: Signature::user_defined(Volatility::Immutable),
            })
        })
        .collect()
}

/// The state of one sketch aggregate: rows go in, a serialized sketch comes out.
trait SketchBuffer: Debug + Send + Sync {
    /// Adds the rows of the input columns (the aggregate's non-constant arguments).
    fn update(&mut self, columns: &[ArrayRef]) -> Result<()>;
    /// Merges a partial state written by [`SketchBuffer::bytes`] with `partial = true`.
    fn merge(&mut self, bytes: &[u8]) -> Result<()>;
    /// The serialized sketch; `None` (a NULL state) only for a partial state that
    /// has seen nothing where "nothing" differs from an empty sketch (intersections).
    fn bytes(&self, partial: bool) -> Result<Option<Vec<u8>>>;
    /// Bytes held, for DataFusion's memory accounting.
    fn size(&self) -> usize;
}

/// What distinguishes one sketch aggregate: its name, argument checks and buffer.
trait AggSpec: Debug + Send + Sync {
    fn name(&self) -> &'static str;
    /// Checks the argument types (Spark's `inputTypes`) and returns the types the
    /// arguments are cast to.
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>>;
    /// A new buffer for the coerced input type and the constant parameters (the
    /// arguments after the first, as literals).
    fn buffer(&self, input: &DataType, params: &[ScalarValue]) -> Result<Box<dyn SketchBuffer>>;
    /// How many leading arguments are row inputs (the rest are constant parameters).
    fn inputs(&self) -> usize {
        1
    }
}

/// What distinguishes one sketch scalar function.
trait FnSpec: Debug + Send + Sync {
    fn name(&self) -> &'static str;
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>>;
    fn return_type(&self, t: &[DataType]) -> Result<DataType>;
    /// Evaluates over `rows` rows; the arguments are arrays of the coerced types.
    fn eval(&self, args: &[ArrayRef], rows: usize) -> Result<ArrayRef>;
}

#[derive(Debug)]
struct SketchAgg {
    spec: Arc<dyn AggSpec>,
    signature: Signature,
}

impl PartialEq for SketchAgg {
    fn eq(&self, o: &Self) -> bool {
        self.spec.name() == o.spec.name()
    }
}
impl Eq for SketchAgg {}
impl std::hash::Hash for SketchAgg {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.spec.name().hash(h)
    }
}

impl AggregateUDFImpl for SketchAgg {
    fn name(&self) -> &str {
        self.spec.name()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        self.spec.coerce(t)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }
    fn is_nullable(&self) -> bool {
        false
    }
    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new("sketch", DataType::Binary, true))])
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let schema = args.schema;
        let input = args.exprs[0].data_type(schema)?;
        let inputs = self.spec.inputs();
        let params = args.exprs[inputs.min(args.exprs.len())..]
            .iter()
            .map(|e| literal_arg(self.spec.name(), e))
            .collect::<Result<Vec<_>>>()?;
        Ok(Box::new(SketchAcc {
            buffer: self.spec.buffer(&input, &params)?,
        }))
    }
}

#[derive(Debug)]
struct SketchAcc {
    buffer: Box<dyn SketchBuffer>,
}

impl Accumulator for SketchAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.buffer.update(values)
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let b = binary(&states[0])?;
        for s in b.iter().flatten() {
            self.buffer.merge(s)?;
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Binary(self.buffer.bytes(true)?)])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Binary(self.buffer.bytes(false)?))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.buffer.size()
    }
}

#[derive(Debug)]
struct SketchFn {
    spec: Arc<dyn FnSpec>,
    signature: Signature,
}

impl PartialEq for SketchFn {
    fn eq(&self, o: &Self) -> bool {
        self.spec.name() == o.spec.name()
    }
}
impl Eq for SketchFn {}
impl std::hash::Hash for SketchFn {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.spec.name().hash(h)
    }
}

impl ScalarUDFImpl for SketchFn {
    fn name(&self) -> &str {
        self.spec.name()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        self.spec.coerce(t)
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        self.spec.return_type(t)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let out = self.spec.eval(&arrays, rows)?;
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// `<family>_sketch_estimate(sketch)`: each sketch's estimate rounded to a BIGINT
/// (`Math.round`), NULL for a NULL sketch.
#[derive(Debug)]
struct RoundedEstimate {
    name: &'static str,
    /// Reads one sketch (failing with the family's invalid-buffer error) and
    /// returns its estimate.
    estimate: fn(&str, &[u8]) -> Result<f64>,
}

impl FnSpec for RoundedEstimate {
    fn name(&self) -> &'static str {
        self.name
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name, t, 1, 1)?;
        Ok(vec![sketch_arg(self.name, 1, &t[0])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn eval(&self, args: &[ArrayRef], _: usize) -> Result<ArrayRef> {
        let out = binary(&args[0])?
            .iter()
            .map(|b| {
                b.map(|b| (self.estimate)(self.name, b).map(|e| e.round() as i64))
                    .transpose()
            })
            .collect::<Result<datafusion::arrow::array::Int64Array>>()?;
        Ok(Arc::new(out))
    }
}

/// Calls `merge` with each non-NULL sketch of a binary column (the aggregates whose
/// input rows are sketches).
fn merge_each(col: &ArrayRef, mut merge: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
    for b in binary(col)?.iter().flatten() {
        merge(b)?;
    }
    Ok(())
}

/// The value of a constant argument (a sketch parameter such as `lgConfigK`).
fn literal_arg(name: &str, e: &Arc<dyn PhysicalExpr>) -> Result<ScalarValue> {
    use datafusion::arrow::datatypes::Schema;
    use datafusion::arrow::record_batch::RecordBatch;
    let batch = RecordBatch::new_empty(Arc::new(Schema::empty()));
    match e.evaluate(&batch) {
        Ok(ColumnarValue::Scalar(s)) => Ok(s),
        Ok(ColumnarValue::Array(a)) if a.len() == 1 => ScalarValue::try_from_array(&a, 0),
        _ => plan_err!(
            "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] Cannot resolve \"{name}\": the parameters of {name} must be constants."
        ),
    }
}

/// A column of sketches as `binary`.
fn binary(a: &ArrayRef) -> Result<BinaryArray> {
    let b = match a.data_type() {
        DataType::Binary => a.clone(),
        _ => cast(a, &DataType::Binary)?,
    };
    Ok(b.as_binary::<i32>().clone())
}

/// An integer parameter (NULL is an error, as Spark's non-null parameter checks).
fn int_param(name: &str, what: &str, v: Option<&ScalarValue>, default: i64) -> Result<i64> {
    match v {
        None => Ok(default),
        Some(s) => match s.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(Some(x)) => Ok(x),
            _ => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_NULL] Cannot resolve \"{name}\": the {what} must not be null."
            ),
        },
    }
}

/// `true` for Spark's integral types (`BYTE` .. `BIGINT`).
fn is_integral(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    )
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_binary(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
    )
}

/// Spark's upper-case type name, for messages.
fn sql_type(t: &DataType) -> String {
    format!("\"{}\"", crate::types::simple_string(t).to_uppercase())
}

/// `[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE]` for parameter `ordinal` (1-based).
fn type_error<T>(name: &str, ordinal: usize, required: &str, t: &DataType) -> Result<T> {
    let nth = match ordinal {
        1 => "first",
        2 => "second",
        3 => "third",
        _ => "fourth",
    };
    plan_err!(
        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{name}\" due to data type mismatch: the {nth} parameter requires {required}, however it has the type {}.",
        sql_type(t)
    )
}

/// Checks the argument count.
fn arity(name: &str, t: &[DataType], min: usize, max: usize) -> Result<()> {
    if t.len() < min || t.len() > max {
        let expected = if min == max {
            min.to_string()
        } else {
            format!("[{min}, {max}]")
        };
        return plan_err!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires {expected} parameters but the actual number is {}.",
            t.len()
        );
    }
    Ok(())
}

/// The sketch arguments of a scalar function: binary, NULL as binary.
fn sketch_arg(name: &str, ordinal: usize, t: &DataType) -> Result<DataType> {
    if is_binary(t) || matches!(t, DataType::Null) {
        Ok(DataType::Binary)
    } else {
        type_error(name, ordinal, "the \"BINARY\" type", t)
    }
}

/// The error for bytes that are not a sketch of the family (`family`: "HLL",
/// "Theta", "KLL"; `producer`: the aggregate that makes such sketches), as Spark's
/// `<FAMILY>_INVALID_INPUT_SKETCH_BUFFER`.
fn invalid_sketch<T>(
    class: &str,
    name: &str,
    family: &str,
    producer: &str,
    state: &str,
) -> Result<T> {
    datafusion::common::exec_err!(
        "[{class}] Invalid call to `{name}`; only valid {family} sketch buffers are supported as inputs (such as those produced by the `{producer}` function). SQLSTATE: {state}"
    )
}

/// One input value as the DataSketches Java library hashes it (`update(long)`,
/// `update(double)`, `update(String)`, `update(byte[])`).
#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    Long(i64),
    Double(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
}

/// The key column of a theta or tuple sketch, read row by row.
enum Keys {
    Long(datafusion::arrow::array::Int64Array),
    Double(datafusion::arrow::array::Float64Array),
    Str(datafusion::arrow::array::StringArray),
    Bytes(BinaryArray),
    /// `ARRAY<INT>` / `ARRAY<BIGINT>` rows as their little-endian bytes.
    Arrays(Vec<Option<Vec<u8>>>),
    Null,
}

impl Keys {
    fn new(col: &ArrayRef) -> Result<Keys> {
        use datafusion::arrow::datatypes::{Int32Type, Int64Type};
        let t = col.data_type();
        Ok(if is_integral(t) {
            Keys::Long(
                cast(col, &DataType::Int64)?
                    .as_primitive::<Int64Type>()
                    .clone(),
            )
        } else if matches!(t, DataType::Float32 | DataType::Float64) {
            Keys::Double(
                cast(col, &DataType::Float64)?
                    .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                    .clone(),
            )
        } else if is_string(t) {
            Keys::Str(cast(col, &DataType::Utf8)?.as_string::<i32>().clone())
        } else if is_binary(t) {
            Keys::Bytes(binary(col)?)
        } else if let DataType::List(item) = t {
            let l = col.as_list::<i32>();
            let mut rows = Vec::with_capacity(l.len());
            for v in l.iter() {
                rows.push(match v {
                    Some(v) if !v.is_empty() => {
                        let mut buf = Vec::new();
                        if matches!(item.data_type(), DataType::Int32) {
                            v.as_primitive::<Int32Type>()
                                .values()
                                .iter()
                                .for_each(|x| buf.extend_from_slice(&x.to_le_bytes()));
                        } else {
                            cast(&v, &DataType::Int64)?
                                .as_primitive::<Int64Type>()
                                .values()
                                .iter()
                                .for_each(|x| buf.extend_from_slice(&x.to_le_bytes()));
                        }
                        Some(buf)
                    }
                    _ => None,
                });
            }
            Keys::Arrays(rows)
        } else if matches!(t, DataType::Null) {
            Keys::Null
        } else {
            return plan_err!("unsupported sketch key type {t}");
        })
    }

    /// The key of row `i`; `None` for NULL, an empty string, binary or array (skipped,
    /// as the Java library's `update`).
    fn get(&self, i: usize) -> Option<Item<'_>> {
        match self {
            Keys::Long(a) => a.is_valid(i).then(|| Item::Long(a.value(i))),
            Keys::Double(a) => a.is_valid(i).then(|| Item::Double(a.value(i))),
            Keys::Str(a) => {
                (a.is_valid(i) && !a.value(i).is_empty()).then(|| Item::Str(a.value(i)))
            }
            Keys::Bytes(a) => {
                (a.is_valid(i) && !a.value(i).is_empty()).then(|| Item::Bytes(a.value(i)))
            }
            Keys::Arrays(v) => v[i].as_deref().map(Item::Bytes),
            Keys::Null => None,
        }
    }
}

/// Calls `f` for each non-NULL value of an integral, floating-point, string or
/// binary column; empty strings and byte arrays are skipped, as the Java library's
/// `update` ignores them.
fn for_each_item(col: &ArrayRef, mut f: impl FnMut(Item<'_>)) -> Result<()> {
    use datafusion::arrow::datatypes::{Float64Type, Int64Type};
    let t = col.data_type();
    if is_integral(t) {
        let c = cast(col, &DataType::Int64)?;
        c.as_primitive::<Int64Type>()
            .iter()
            .flatten()
            .for_each(|v| f(Item::Long(v)));
    } else if matches!(t, DataType::Float32 | DataType::Float64) {
        let c = cast(col, &DataType::Float64)?;
        c.as_primitive::<Float64Type>()
            .iter()
            .flatten()
            .for_each(|v| f(Item::Double(v)));
    } else if is_string(t) {
        let c = cast(col, &DataType::Utf8)?;
        c.as_string::<i32>()
            .iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .for_each(|v| f(Item::Str(v)));
    } else if is_binary(t) {
        let c = binary(col)?;
        c.iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .for_each(|v| f(Item::Bytes(v)));
    } else if let DataType::List(item) = t {
        // `ARRAY<INT>` / `ARRAY<BIGINT>` hash as Java's `update(int[])` /
        // `update(long[])`: the little-endian bytes of the items, no widening.
        let l = col.as_list::<i32>();
        let mut buf = Vec::new();
        for v in l.iter().flatten() {
            if v.is_empty() {
                continue;
            }
            buf.clear();
            match item.data_type() {
                DataType::Int32 => v
                    .as_primitive::<datafusion::arrow::datatypes::Int32Type>()
                    .values()
                    .iter()
                    .for_each(|x| buf.extend_from_slice(&x.to_le_bytes())),
                _ => cast(&v, &DataType::Int64)?
                    .as_primitive::<Int64Type>()
                    .values()
                    .iter()
                    .for_each(|x| buf.extend_from_slice(&x.to_le_bytes())),
            }
            f(Item::Bytes(&buf));
        }
    } else if !matches!(t, DataType::Null) {
        return plan_err!("unsupported sketch input type {t}");
    }
    Ok(())
}
