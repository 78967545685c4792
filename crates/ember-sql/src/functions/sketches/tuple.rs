//! Tuple sketches, as Spark's `tuple_*` functions: theta sketches whose keys carry a
//! summary, a `double` (`*_double`, DataSketches' `DoubleSummary`) or an `int`
//! (`*_integer`, `IntegerSummary`), combined per key by a mode: `sum` (default),
//! `min`, `max` or `alwaysone` (case-insensitive). `lgNomEntries` 12 by default
//! (4 to 26). The `*_theta_*` forms take a theta sketch as their second argument,
//! whose keys get the mode's default summary (0, +inf / `Int.MAX`, -inf /
//! `Int.MIN`, 1).

use std::fmt::Debug;
use std::marker::PhantomData;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, Float64Array, Int64Array, StringArray,
};
use datafusion::arrow::compute::kernels::cast::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datasketches::codec::{SketchBytes, SketchSlice};
use datasketches::hash::value::{canonical_float, raw_bytes};
use datasketches::theta::CompactThetaSketch;
use datasketches::tuple::{
    CompactTupleSketch, SummaryCombinePolicy, SummaryPolicy, SummaryUpdatePolicy, TupleANotB,
    TupleIntersection, TupleSketch, TupleSketchBuilder, TupleSummaryValue, TupleUnion,
    TupleUnionBuilder,
};

use super::{
    arity, binary, int_param, is_binary, is_integral, is_string, sketch_arg, type_error, AggSpec,
    FnSpec, Item, Keys, SketchBuffer,
};

const DEFAULT_LG_K: i64 = 12;

/// How a key's summaries combine (DataSketches' `DoubleSummary.Mode` /
/// `IntegerSummary.Mode`, serialized as its ordinal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Sum,
    Min,
    Max,
    AlwaysOne,
}

impl Mode {
    fn parse(fname: &str, v: Option<&ScalarValue>) -> Result<Mode> {
        let text = match v {
            None => return Ok(Mode::Sum),
            Some(ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s))) => s.clone(),
            Some(s) if s.is_null() => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_NULL] Cannot resolve \"{fname}\" due to data type mismatch: The mode must not be null."
                )
            }
            Some(s) => s.to_string(),
        };
        Ok(match text.to_ascii_lowercase().as_str() {
            "sum" => Mode::Sum,
            "min" => Mode::Min,
            "max" => Mode::Max,
            "alwaysone" => Mode::AlwaysOne,
            _ => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.TYPE_CHECK_FAILURE_WITH_HINT] Cannot resolve \"{fname}\" due to data type mismatch: [TUPLE_INVALID_SKETCH_MODE] Invalid call to `{fname}`: mode '{text}' is not supported. Valid modes are: sum, min, max, alwaysone."
                )
            }
        })
    }
    fn ordinal(self) -> u8 {
        self as u8
    }
    fn from_ordinal(b: u8) -> Option<Mode> {
        [Mode::Sum, Mode::Min, Mode::Max, Mode::AlwaysOne]
            .get(b as usize)
            .copied()
    }
}

/// A summary value: `f64` or `i32`.
trait Val: Copy + Debug + PartialOrd + Send + Sync + 'static {
    const SIZE: usize;
    /// The summary of a key before any value (and of theta keys in `*_theta_*`).
    fn identity(mode: Mode) -> Self;
    fn add(self, other: Self) -> Self;
    fn write(self, b: &mut SketchBytes);
    fn read(c: &mut SketchSlice<'_>) -> std::io::Result<Self>;
    fn to_f64(self) -> f64;
}

impl Val for f64 {
    const SIZE: usize = 8;
    fn identity(mode: Mode) -> f64 {
        match mode {
            Mode::Sum => 0.0,
            Mode::Min => f64::INFINITY,
            Mode::Max => f64::NEG_INFINITY,
            Mode::AlwaysOne => 1.0,
        }
    }
    fn add(self, o: f64) -> f64 {
        self + o
    }
    fn write(self, b: &mut SketchBytes) {
        b.write_f64_le(self);
    }
    fn read(c: &mut SketchSlice<'_>) -> std::io::Result<f64> {
        c.read_f64_le()
    }
    fn to_f64(self) -> f64 {
        self
    }
}

impl Val for i32 {
    const SIZE: usize = 4;
    fn identity(mode: Mode) -> i32 {
        match mode {
            Mode::Sum => 0,
            Mode::Min => i32::MAX,
            Mode::Max => i32::MIN,
            Mode::AlwaysOne => 1,
        }
    }
    /// Java `int` addition (wraps).
    fn add(self, o: i32) -> i32 {
        self.wrapping_add(o)
    }
    fn write(self, b: &mut SketchBytes) {
        b.write_i32_le(self);
    }
    fn read(c: &mut SketchSlice<'_>) -> std::io::Result<i32> {
        c.read_i32_le()
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

fn combine<V: Val>(mode: Mode, a: V, b: V) -> V {
    match mode {
        Mode::Sum => a.add(b),
        Mode::Min => {
            if b < a {
                b
            } else {
                a
            }
        }
        Mode::Max => {
            if b > a {
                b
            } else {
                a
            }
        }
        Mode::AlwaysOne => V::identity(Mode::AlwaysOne),
    }
}

/// One key's summary: the value and its mode, serialized as the value then the
/// mode's ordinal byte.
#[derive(Debug, Clone, Copy)]
struct Summary<V> {
    value: V,
    mode: Mode,
}

impl<V: Val> TupleSummaryValue for Summary<V> {
    fn serialize_size(&self) -> usize {
        V::SIZE + 1
    }
    fn serialize_value(&self, bytes: &mut SketchBytes) {
        self.value.write(bytes);
        bytes.write_u8(self.mode.ordinal());
    }
    fn deserialize_value(
        cursor: &mut SketchSlice<'_>,
    ) -> std::result::Result<Self, datasketches::error::Error> {
        use datasketches::error::{Error, ErrorKind};
        let short =
            |e: std::io::Error| Error::new(ErrorKind::InvalidData, format!("tuple summary: {e}"));
        let value = V::read(cursor).map_err(short)?;
        let mode = cursor.read_u8().map_err(short)?;
        let mode = Mode::from_ordinal(mode).unwrap_or(Mode::Sum);
        Ok(Summary { value, mode })
    }
}

/// The update and combine policy of a mode.
#[derive(Debug, Clone, Copy)]
struct Policy<V> {
    mode: Mode,
    marker: PhantomData<fn() -> V>,
}

impl<V: Val> Policy<V> {
    fn new(mode: Mode) -> Self {
        Policy {
            mode,
            marker: PhantomData,
        }
    }
}

impl<V: Val> SummaryPolicy for Policy<V> {
    type Summary = Summary<V>;
    fn create(&self) -> Summary<V> {
        Summary {
            value: V::identity(self.mode),
            mode: self.mode,
        }
    }
}

impl<V: Val> SummaryUpdatePolicy<V> for Policy<V> {
    fn update(&self, summary: &mut Summary<V>, value: V) {
        summary.value = combine(self.mode, summary.value, value);
    }
}

impl<V: Val> SummaryCombinePolicy for Policy<V> {
    fn combine(&self, summary: &mut Summary<V>, other: &Summary<V>) {
        summary.value = combine(self.mode, summary.value, other.value);
    }
}

/// The summary type of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    Double,
    Integer,
}

/// The tuple operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Agg,
    UnionAgg,
    IntersectionAgg,
    Estimate,
    Summary,
    Theta,
    Union,
    UnionTheta,
    Intersection,
    IntersectionTheta,
    Difference,
    DifferenceTheta,
}

fn name(op: Op, e: Elem) -> &'static str {
    use Elem::*;
    use Op::*;
    match (op, e) {
        (Agg, Double) => "tuple_sketch_agg_double",
        (Agg, Integer) => "tuple_sketch_agg_integer",
        (UnionAgg, Double) => "tuple_union_agg_double",
        (UnionAgg, Integer) => "tuple_union_agg_integer",
        (IntersectionAgg, Double) => "tuple_intersection_agg_double",
        (IntersectionAgg, Integer) => "tuple_intersection_agg_integer",
        (Estimate, Double) => "tuple_sketch_estimate_double",
        (Estimate, Integer) => "tuple_sketch_estimate_integer",
        (Summary, Double) => "tuple_sketch_summary_double",
        (Summary, Integer) => "tuple_sketch_summary_integer",
        (Theta, Double) => "tuple_sketch_theta_double",
        (Theta, Integer) => "tuple_sketch_theta_integer",
        (Union, Double) => "tuple_union_double",
        (Union, Integer) => "tuple_union_integer",
        (UnionTheta, Double) => "tuple_union_theta_double",
        (UnionTheta, Integer) => "tuple_union_theta_integer",
        (Intersection, Double) => "tuple_intersection_double",
        (Intersection, Integer) => "tuple_intersection_integer",
        (IntersectionTheta, Double) => "tuple_intersection_theta_double",
        (IntersectionTheta, Integer) => "tuple_intersection_theta_integer",
        (Difference, Double) => "tuple_difference_double",
        (Difference, Integer) => "tuple_difference_integer",
        (DifferenceTheta, Double) => "tuple_difference_theta_double",
        (DifferenceTheta, Integer) => "tuple_difference_theta_integer",
    }
}

pub(super) fn aggregates() -> Vec<Box<dyn AggSpec>> {
    let mut v: Vec<Box<dyn AggSpec>> = Vec::new();
    for op in [Op::Agg, Op::UnionAgg, Op::IntersectionAgg] {
        v.push(Box::new(TupleAgg::<f64> {
            op,
            elem: Elem::Double,
            marker: PhantomData,
        }));
        v.push(Box::new(TupleAgg::<i32> {
            op,
            elem: Elem::Integer,
            marker: PhantomData,
        }));
    }
    v
}

pub(super) fn functions() -> Vec<Box<dyn FnSpec>> {
    let mut v: Vec<Box<dyn FnSpec>> = Vec::new();
    for op in [
        Op::Estimate,
        Op::Summary,
        Op::Theta,
        Op::Union,
        Op::UnionTheta,
        Op::Intersection,
        Op::IntersectionTheta,
        Op::Difference,
        Op::DifferenceTheta,
    ] {
        v.push(Box::new(TupleFn::<f64> {
            op,
            elem: Elem::Double,
            marker: PhantomData,
        }));
        v.push(Box::new(TupleFn::<i32> {
            op,
            elem: Elem::Integer,
            marker: PhantomData,
        }));
    }
    v
}

fn lib_err<T>(e: impl std::fmt::Display) -> Result<T> {
    exec_err!("{e}")
}

fn check_lg_k(fname: &str, k: i64) -> Result<u8> {
    if !(4..=26).contains(&k) {
        return plan_err!(
            "[DATATYPE_MISMATCH.TYPE_CHECK_FAILURE_WITH_HINT] Cannot resolve \"{fname}\" due to data type mismatch: [SKETCH_INVALID_LG_NOM_ENTRIES] Invalid call to `{fname}`; the `lgNomEntries` value must be between 4 and 26, inclusive: {k}."
        );
    }
    // The Rust library's smallest table is 2^5 (Spark's 2^4).
    Ok((k as u8).max(5))
}

fn read<V: Val>(fname: &str, bytes: &[u8]) -> Result<CompactTupleSketch<Summary<V>>> {
    CompactTupleSketch::deserialize(bytes).or_else(|_| {
        let family = match bytes.get(2) {
            Some(3) => "COMPACT",
            Some(7) => "HLL",
            Some(15) => "KLL",
            _ => "UNKNOWN",
        };
        exec_err!(
            "[TUPLE_INVALID_INPUT_SKETCH_BUFFER_FAMILY] Invalid call to `{fname}`: expected TUPLE sketch family but received {family}. Only valid Tuple sketch buffers (produced by `tuple_sketch_agg_*` functions) are supported as inputs. SQLSTATE: 22000"
        )
    })
}

/// A theta sketch as a tuple sketch whose keys carry `mode`'s default summary.
fn from_theta<V: Val>(
    fname: &str,
    bytes: &[u8],
    mode: Mode,
) -> Result<CompactTupleSketch<Summary<V>>> {
    let theta = CompactThetaSketch::deserialize(bytes).or_else(|_| {
        exec_err!(
            "[THETA_INVALID_INPUT_SKETCH_BUFFER] Invalid call to `{fname}`; only valid Theta sketch buffers are supported as inputs (such as those produced by the `theta_sketch_agg` function). SQLSTATE: 22000"
        )
    })?;
    let mut hashes: Vec<u64> = theta.iter().map(|e| e.hash()).collect();
    hashes.sort_unstable();
    let mut b = SketchBytes::with_capacity(24 + hashes.len() * (9 + V::SIZE));
    let estimation = theta.is_estimation_mode();
    if theta.is_empty() {
        // DataSketches' empty compact tuple sketch.
        return read(fname, &[1, 3, 9, 1, 0, 0x1e, 0, 0]);
    }
    b.write_u8(if estimation { 3 } else { 2 });
    b.write_u8(3); // serial version
    b.write_u8(9); // TUPLE family
    b.write_u8(1); // sketch type
    b.write_u8(0);
    b.write_u8(0x02 | 0x08 | 0x10); // read-only, compact, ordered
    b.write_u16_le(theta.seed_hash());
    b.write_u32_le(hashes.len() as u32);
    b.write_u32_le(0);
    if estimation {
        b.write_u64_le(theta.theta64());
    }
    let summary = Summary {
        value: V::identity(mode),
        mode,
    };
    for h in hashes {
        b.write_u64_le(h);
        summary.serialize_value(&mut b);
    }
    read(fname, &b.into_bytes())
}

fn new_union<V: Val>(k: u8, mode: Mode) -> Result<TupleUnion<Policy<V>>> {
    TupleUnionBuilder::new(Policy::<V>::new(mode))
        .lg_k(k)
        .build()
        .or_else(lib_err)
}

fn update_key<V: Val>(s: &mut TupleSketch<Policy<V>>, key: Item<'_>, v: V) {
    match key {
        Item::Long(x) => s.update(x, v),
        Item::Double(x) => s.update(canonical_float::from_f64(x), v),
        Item::Str(x) => s.update(raw_bytes::from_str(x), v),
        Item::Bytes(x) => s.update(raw_bytes::from_slice(x), v),
    }
}

/// The summary column of `tuple_sketch_agg_*` as values of the family's type.
trait Column: Val {
    fn values(col: &ArrayRef) -> Result<Vec<Option<Self>>>;
}

impl Column for f64 {
    fn values(col: &ArrayRef) -> Result<Vec<Option<f64>>> {
        Ok(cast(col, &DataType::Float64)?
            .as_primitive::<Float64Type>()
            .iter()
            .collect())
    }
}

impl Column for i32 {
    fn values(col: &ArrayRef) -> Result<Vec<Option<i32>>> {
        Ok(cast(col, &DataType::Int32)?
            .as_primitive::<Int32Type>()
            .iter()
            .collect())
    }
}

/// The three tuple aggregates of a family.
#[derive(Debug)]
struct TupleAgg<V> {
    op: Op,
    elem: Elem,
    marker: PhantomData<fn() -> V>,
}

impl<V: Column> AggSpec for TupleAgg<V> {
    fn name(&self) -> &'static str {
        name(self.op, self.elem)
    }
    fn inputs(&self) -> usize {
        if self.op == Op::Agg {
            2
        } else {
            1
        }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let fname = self.name();
        let mut out = Vec::new();
        let params: &[DataType] = match self.op {
            Op::Agg => {
                arity(fname, t, 2, 4)?;
                out.push(key_type(fname, &t[0])?);
                let v = &t[1];
                out.push(match self.elem {
                    Elem::Double if v.is_numeric() || matches!(v, DataType::Null) => {
                        DataType::Float64
                    }
                    Elem::Integer if is_integral(v) || matches!(v, DataType::Null) => {
                        DataType::Int32
                    }
                    Elem::Double => return type_error(fname, 2, "the \"DOUBLE\" type", v),
                    Elem::Integer => return type_error(fname, 2, "the \"INT\" type", v),
                });
                &t[2..]
            }
            Op::UnionAgg => {
                arity(fname, t, 1, 3)?;
                out.push(sketch_arg(fname, 1, &t[0])?);
                &t[1..]
            }
            _ => {
                arity(fname, t, 1, 2)?;
                out.push(sketch_arg(fname, 1, &t[0])?);
                // Only the mode follows.
                if let Some(m) = t.get(1) {
                    if !is_string(m) && !matches!(m, DataType::Null) {
                        return type_error(fname, 2, "the \"STRING\" type", m);
                    }
                    out.push(DataType::Utf8);
                }
                return Ok(out);
            }
        };
        let first = out.len() + 1;
        if let Some(k) = params.first() {
            if !is_integral(k) {
                return type_error(fname, first, "the \"INT\" type", k);
            }
            out.push(DataType::Int32);
        }
        if let Some(m) = params.get(1) {
            if !is_string(m) && !matches!(m, DataType::Null) {
                return type_error(fname, first + 1, "the \"STRING\" type", m);
            }
            out.push(DataType::Utf8);
        }
        Ok(out)
    }
    fn buffer(&self, _: &DataType, params: &[ScalarValue]) -> Result<Box<dyn SketchBuffer>> {
        let fname = self.name();
        let (k, mode) = match self.op {
            Op::IntersectionAgg => (DEFAULT_LG_K as u8, Mode::parse(fname, params.first())?),
            _ => (
                check_lg_k(
                    fname,
                    int_param(fname, "lgNomEntries", params.first(), DEFAULT_LG_K)?,
                )?,
                Mode::parse(fname, params.get(1))?,
            ),
        };
        Ok(match self.op {
            Op::Agg => Box::new(AggBuf::<V> {
                fname,
                sketch: TupleSketchBuilder::new(Policy::<V>::new(mode))
                    .lg_k(k)
                    .build()
                    .or_else(lib_err)?,
                union: new_union::<V>(k, mode)?,
                k,
                mode,
            }),
            Op::UnionAgg => Box::new(UnionBuf::<V> {
                fname,
                union: new_union::<V>(k, mode)?,
            }),
            _ => Box::new(InterBuf::<V> {
                fname,
                inter: TupleIntersection::new(Policy::<V>::new(mode)),
            }),
        })
    }
}

fn key_type(fname: &str, x: &DataType) -> Result<DataType> {
    Ok(if is_integral(x) {
        if matches!(x, DataType::Int64) {
            DataType::Int64
        } else {
            DataType::Int32
        }
    } else if matches!(x, DataType::Float32 | DataType::Float64)
        || is_string(x)
        || is_binary(x)
        || matches!(x, DataType::Null)
    {
        x.clone()
    } else if let DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) = x {
        let item = if matches!(f.data_type(), DataType::Int64) {
            DataType::Int64
        } else {
            DataType::Int32
        };
        DataType::List(Arc::new(
            datafusion::arrow::datatypes::Field::new_list_field(item, true),
        ))
    } else {
        return type_error(
            fname,
            1,
            "(\"ARRAY<INT>\" or \"ARRAY<BIGINT>\" or \"BINARY\" or \"DOUBLE\" or \"FLOAT\" or \"INT\" or \"BIGINT\" or \"STRING\") type",
            x,
        );
    })
}

#[derive(Debug)]
struct AggBuf<V: Val> {
    fname: &'static str,
    sketch: TupleSketch<Policy<V>>,
    union: TupleUnion<Policy<V>>,
    k: u8,
    mode: Mode,
}

impl<V: Column> SketchBuffer for AggBuf<V> {
    fn update(&mut self, columns: &[ArrayRef]) -> Result<()> {
        let keys = Keys::new(&columns[0])?;
        let values = V::values(&columns[1])?;
        for (i, v) in values.into_iter().enumerate() {
            if let (Some(key), Some(v)) = (keys.get(i), v) {
                update_key(&mut self.sketch, key, v);
            }
        }
        Ok(())
    }
    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let s = read::<V>(self.fname, bytes)?;
        self.union.update(&s).or_else(lib_err)
    }
    fn bytes(&self, _: bool) -> Result<Option<Vec<u8>>> {
        let own = self.sketch.compact(true);
        let merged = self.union.to_sketch(true);
        if merged.is_empty() {
            return Ok(Some(own.serialize()));
        }
        let mut u = new_union::<V>(self.k, self.mode)?;
        u.update(&merged).or_else(lib_err)?;
        u.update(&own).or_else(lib_err)?;
        Ok(Some(u.to_sketch(true).serialize()))
    }
    fn size(&self) -> usize {
        self.sketch.estimated_size() + self.union.estimated_size()
    }
}

#[derive(Debug)]
struct UnionBuf<V: Val> {
    fname: &'static str,
    union: TupleUnion<Policy<V>>,
}

impl<V: Val> SketchBuffer for UnionBuf<V> {
    fn update(&mut self, columns: &[ArrayRef]) -> Result<()> {
        super::merge_each(&columns[0], |b| self.merge(b))
    }
    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let s = read::<V>(self.fname, bytes)?;
        self.union.update(&s).or_else(lib_err)
    }
    fn bytes(&self, _: bool) -> Result<Option<Vec<u8>>> {
        Ok(Some(self.union.to_sketch(true).serialize()))
    }
    fn size(&self) -> usize {
        self.union.estimated_size()
    }
}

#[derive(Debug)]
struct InterBuf<V: Val> {
    fname: &'static str,
    inter: TupleIntersection<Policy<V>>,
}

impl<V: Val> SketchBuffer for InterBuf<V> {
    fn update(&mut self, columns: &[ArrayRef]) -> Result<()> {
        super::merge_each(&columns[0], |b| self.merge(b))
    }
    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let s = read::<V>(self.fname, bytes)?;
        self.inter.update(&s).or_else(lib_err)
    }
    fn bytes(&self, partial: bool) -> Result<Option<Vec<u8>>> {
        match self.inter.to_sketch(true) {
            Some(s) => Ok(Some(s.serialize())),
            None if partial => Ok(None),
            None => Ok(Some(vec![1, 3, 9, 1, 0, 0x1e, 0, 0])),
        }
    }
    fn size(&self) -> usize {
        self.inter.estimated_size()
    }
}

/// The tuple scalar functions of a family.
#[derive(Debug)]
struct TupleFn<V> {
    op: Op,
    elem: Elem,
    marker: PhantomData<fn() -> V>,
}

impl<V: Column> TupleFn<V> {
    /// The trailing constant parameters: (lgNomEntries, mode) positions.
    fn params(&self) -> (Option<usize>, Option<usize>) {
        match self.op {
            Op::Summary => (None, Some(1)),
            Op::Union | Op::UnionTheta => (Some(2), Some(3)),
            Op::Intersection | Op::IntersectionTheta => (None, Some(2)),
            _ => (None, None),
        }
    }
}

impl<V: Column> FnSpec for TupleFn<V> {
    fn name(&self) -> &'static str {
        name(self.op, self.elem)
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let fname = self.name();
        let sketches = match self.op {
            Op::Estimate | Op::Summary | Op::Theta => 1,
            _ => 2,
        };
        let (k, m) = self.params();
        let max = [Some(sketches - 1), k, m]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0)
            + 1;
        arity(fname, t, sketches, max)?;
        let mut out = Vec::new();
        for (i, x) in t.iter().enumerate() {
            out.push(if i < sketches {
                sketch_arg(fname, i + 1, x)?
            } else if Some(i) == k {
                if !is_integral(x) {
                    return type_error(fname, i + 1, "the \"INT\" type", x);
                }
                DataType::Int32
            } else {
                if !is_string(x) && !matches!(x, DataType::Null) {
                    return type_error(fname, i + 1, "the \"STRING\" type", x);
                }
                DataType::Utf8
            });
        }
        Ok(out)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match (self.op, self.elem) {
            (Op::Estimate | Op::Theta, _) => DataType::Float64,
            (Op::Summary, Elem::Double) => DataType::Float64,
            (Op::Summary, Elem::Integer) => DataType::Int64,
            _ => DataType::Binary,
        })
    }
    fn eval(&self, args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
        let fname = self.name();
        let a = binary(&args[0])?;
        let (kpos, mpos) = self.params();
        let ks = kpos
            .and_then(|p| args.get(p))
            .map(|c| cast(c, &DataType::Int64))
            .transpose()?;
        let modes = mpos
            .and_then(|p| args.get(p))
            .map(|c| cast(c, &DataType::Utf8))
            .transpose()?;
        let param = |i: usize| -> Result<(u8, Mode)> {
            let k = match &ks {
                Some(c) if c.is_valid(i) => {
                    let v = c
                        .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                        .value(i);
                    check_lg_k(fname, v)?
                }
                _ => DEFAULT_LG_K as u8,
            };
            let mode = match &modes {
                Some(c) => {
                    let s: &StringArray = c.as_string::<i32>();
                    let v = if s.is_valid(i) {
                        ScalarValue::Utf8(Some(s.value(i).to_string()))
                    } else {
                        ScalarValue::Utf8(None)
                    };
                    Mode::parse(fname, Some(&v))?
                }
                None => Mode::Sum,
            };
            Ok((k, mode))
        };
        match self.op {
            Op::Estimate | Op::Theta => {
                let out = (0..rows)
                    .map(|i| {
                        if a.is_null(i) {
                            return Ok(None);
                        }
                        let s = read::<V>(fname, a.value(i))?;
                        Ok(Some(if self.op == Op::Estimate {
                            s.estimate()
                        } else {
                            s.theta()
                        }))
                    })
                    .collect::<Result<Float64Array>>()?;
                Ok(Arc::new(out))
            }
            Op::Summary => {
                let mut doubles: Vec<Option<f64>> = Vec::with_capacity(rows);
                for i in 0..rows {
                    if a.is_null(i) {
                        doubles.push(None);
                        continue;
                    }
                    let (_, mode) = param(i)?;
                    let s = read::<V>(fname, a.value(i))?;
                    doubles.push(Some(summarize::<V>(&s, mode)));
                }
                Ok(match self.elem {
                    Elem::Double => Arc::new(Float64Array::from(doubles)),
                    Elem::Integer => Arc::new(
                        doubles
                            .into_iter()
                            .map(|v| v.map(|v| v as i64))
                            .collect::<Int64Array>(),
                    ),
                })
            }
            _ => {
                let b = binary(&args[1])?;
                let theta = matches!(
                    self.op,
                    Op::UnionTheta | Op::IntersectionTheta | Op::DifferenceTheta
                );
                let mut out = BinaryBuilder::new();
                for i in 0..rows {
                    if a.is_null(i) || b.is_null(i) {
                        out.append_null();
                        continue;
                    }
                    let (k, mode) = param(i)?;
                    let x = read::<V>(fname, a.value(i))?;
                    let y = if theta {
                        from_theta::<V>(fname, b.value(i), mode)?
                    } else {
                        read::<V>(fname, b.value(i))?
                    };
                    let r = match self.op {
                        Op::Union | Op::UnionTheta => {
                            let mut u = new_union::<V>(k, mode)?;
                            u.update(&x).or_else(lib_err)?;
                            u.update(&y).or_else(lib_err)?;
                            u.to_sketch(true)
                        }
                        Op::Intersection | Op::IntersectionTheta => {
                            let mut inter = TupleIntersection::new(Policy::<V>::new(mode));
                            inter.update(&x).or_else(lib_err)?;
                            inter.update(&y).or_else(lib_err)?;
                            match inter.to_sketch(true) {
                                Some(s) => s,
                                None => read::<V>(fname, &[1, 3, 9, 1, 0, 0x1e, 0, 0])?,
                            }
                        }
                        _ => TupleANotB::default()
                            .compute(&x, &y, true)
                            .or_else(lib_err)?,
                    };
                    out.append_value(r.serialize());
                }
                Ok(Arc::new(out.finish()))
            }
        }
    }
}

/// `tuple_sketch_summary_*`: the retained keys' summaries combined by `mode` (the
/// count of keys for `alwaysone`, 0 for an empty sketch; integer sums are exact).
fn summarize<V: Val>(s: &CompactTupleSketch<Summary<V>>, mode: Mode) -> f64 {
    let values: Vec<f64> = s.iter().map(|e| e.summary().value.to_f64()).collect();
    if values.is_empty() {
        return 0.0;
    }
    match mode {
        Mode::Sum => values.iter().sum(),
        Mode::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
        Mode::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Mode::AlwaysOne => values.len() as f64,
    }
}
