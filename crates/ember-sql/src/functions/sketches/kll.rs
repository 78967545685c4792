//! KLL quantile sketches, as Spark's `kll_sketch_*` functions: one family per item
//! type, `bigint` (DataSketches' `KllLongsSketch`), `float` (`KllFloatsSketch`) and
//! `double` (`KllDoublesSketch`); `k` 200 by default (8 to 65535); ranks and
//! quantiles with the INCLUSIVE search criteria (rank = fraction of items `<=`).

use std::fmt::Write as _;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, Float32Array, Float64Array, Int64Array, ListArray,
    StringBuilder, UInt64Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::kernels::cast::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float32Type, Float64Type, Int64Type};
use datafusion::common::{exec_err, Result, ScalarValue};
use datasketches::common::SearchCriteria;
use datasketches::kll::{KllFloat, KllSketch};

use super::{
    arity, binary, int_param, invalid_sketch, is_integral, sketch_arg, type_error, AggSpec, FnSpec,
    SketchBuffer,
};

const DEFAULT_K: i64 = 200;
const INVALID: &str = "KLL_INVALID_INPUT_SKETCH_BUFFER";

/// The item type of a KLL family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    Bigint,
    Float,
    Double,
}

const ELEMS: [Elem; 3] = [Elem::Bigint, Elem::Float, Elem::Double];

impl Elem {
    fn data_type(self) -> DataType {
        match self {
            Elem::Bigint => DataType::Int64,
            Elem::Float => DataType::Float32,
            Elem::Double => DataType::Float64,
        }
    }
    /// The input types Spark's `kll_sketch_agg_*` takes.
    fn accepts(self, t: &DataType) -> bool {
        match self {
            Elem::Bigint => is_integral(t),
            Elem::Float => matches!(t, DataType::Float32),
            Elem::Double => matches!(t, DataType::Float32 | DataType::Float64),
        }
    }
    fn required(self) -> &'static str {
        match self {
            Elem::Bigint => "(\"TINYINT\" or \"INT\" or \"BIGINT\" or \"SMALLINT\") type",
            Elem::Float => "the \"FLOAT\" type",
            Elem::Double => "(\"FLOAT\" or \"DOUBLE\") type",
        }
    }
    fn java_name(self) -> &'static str {
        match self {
            Elem::Bigint => "Longs",
            Elem::Float => "Floats",
            Elem::Double => "Doubles",
        }
    }
}

/// The KLL operations, each in three flavours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Agg,
    MergeAgg,
    GetN,
    GetQuantile,
    GetRank,
    Merge,
    ToString,
}

/// The function name of `op` for `elem` (static: DataFusion keeps `&str` names).
fn name(op: Op, elem: Elem) -> &'static str {
    use Elem::*;
    use Op::*;
    match (op, elem) {
        (Agg, Bigint) => "kll_sketch_agg_bigint",
        (Agg, Float) => "kll_sketch_agg_float",
        (Agg, Double) => "kll_sketch_agg_double",
        (MergeAgg, Bigint) => "kll_merge_agg_bigint",
        (MergeAgg, Float) => "kll_merge_agg_float",
        (MergeAgg, Double) => "kll_merge_agg_double",
        (GetN, Bigint) => "kll_sketch_get_n_bigint",
        (GetN, Float) => "kll_sketch_get_n_float",
        (GetN, Double) => "kll_sketch_get_n_double",
        (GetQuantile, Bigint) => "kll_sketch_get_quantile_bigint",
        (GetQuantile, Float) => "kll_sketch_get_quantile_float",
        (GetQuantile, Double) => "kll_sketch_get_quantile_double",
        (GetRank, Bigint) => "kll_sketch_get_rank_bigint",
        (GetRank, Float) => "kll_sketch_get_rank_float",
        (GetRank, Double) => "kll_sketch_get_rank_double",
        (Merge, Bigint) => "kll_sketch_merge_bigint",
        (Merge, Float) => "kll_sketch_merge_float",
        (Merge, Double) => "kll_sketch_merge_double",
        (ToString, Bigint) => "kll_sketch_to_string_bigint",
        (ToString, Float) => "kll_sketch_to_string_float",
        (ToString, Double) => "kll_sketch_to_string_double",
    }
}

pub(super) fn aggregates() -> Vec<Box<dyn AggSpec>> {
    let mut v: Vec<Box<dyn AggSpec>> = Vec::new();
    for e in ELEMS {
        v.push(Box::new(KllAgg {
            op: Op::Agg,
            elem: e,
        }));
        v.push(Box::new(KllAgg {
            op: Op::MergeAgg,
            elem: e,
        }));
    }
    v
}

pub(super) fn functions() -> Vec<Box<dyn FnSpec>> {
    let mut v: Vec<Box<dyn FnSpec>> = Vec::new();
    for e in ELEMS {
        for op in [
            Op::GetN,
            Op::GetQuantile,
            Op::GetRank,
            Op::Merge,
            Op::ToString,
        ] {
            v.push(Box::new(KllFn { op, elem: e }));
        }
    }
    v
}

/// A KLL sketch of one of the three item types.
#[derive(Debug, Clone)]
enum AnyKll {
    Long(KllSketch<i64>),
    Float(KllSketch<KllFloat<f32>>),
    Double(KllSketch<KllFloat<f64>>),
}

fn lib_err<T>(e: impl std::fmt::Display) -> Result<T> {
    exec_err!("{e}")
}

impl AnyKll {
    fn new(elem: Elem, k: u16) -> Result<AnyKll> {
        Ok(match elem {
            Elem::Bigint => AnyKll::Long(KllSketch::new(k).or_else(lib_err)?),
            Elem::Float => AnyKll::Float(KllSketch::new(k).or_else(lib_err)?),
            Elem::Double => AnyKll::Double(KllSketch::new(k).or_else(lib_err)?),
        })
    }
    fn read(elem: Elem, fname: &str, bytes: &[u8]) -> Result<AnyKll> {
        let r = match elem {
            Elem::Bigint => KllSketch::deserialize(bytes).map(AnyKll::Long),
            Elem::Float => KllSketch::deserialize(bytes).map(AnyKll::Float),
            Elem::Double => KllSketch::deserialize(bytes).map(AnyKll::Double),
        };
        r.or_else(|_| invalid_sketch(INVALID, fname, "KLL", "kll_sketch_agg", "22000"))
    }
    fn serialize(&self) -> Vec<u8> {
        match self {
            AnyKll::Long(s) => s.serialize(),
            AnyKll::Float(s) => s.serialize(),
            AnyKll::Double(s) => s.serialize(),
        }
    }
    /// Adds the non-NULL, non-NaN values of a column (the Java sketches ignore NaN).
    fn update(&mut self, col: &ArrayRef) -> Result<()> {
        match self {
            AnyKll::Long(s) => {
                let c = cast(col, &DataType::Int64)?;
                c.as_primitive::<Int64Type>()
                    .iter()
                    .flatten()
                    .for_each(|v| s.update(v));
            }
            AnyKll::Float(s) => {
                let c = cast(col, &DataType::Float32)?;
                for v in c.as_primitive::<Float32Type>().iter().flatten() {
                    if let Ok(v) = KllFloat::<f32>::new(v) {
                        s.update(v);
                    }
                }
            }
            AnyKll::Double(s) => {
                let c = cast(col, &DataType::Float64)?;
                for v in c.as_primitive::<Float64Type>().iter().flatten() {
                    if let Ok(v) = KllFloat::<f64>::new(v) {
                        s.update(v);
                    }
                }
            }
        }
        Ok(())
    }
    fn merge(&mut self, other: &AnyKll) -> Result<()> {
        match (self, other) {
            (AnyKll::Long(a), AnyKll::Long(b)) => a.merge(b).or_else(lib_err),
            (AnyKll::Float(a), AnyKll::Float(b)) => a.merge(b).or_else(lib_err),
            (AnyKll::Double(a), AnyKll::Double(b)) => a.merge(b).or_else(lib_err),
            _ => exec_err!("KLL sketches of different item types"),
        }
    }
    fn n(&self) -> u64 {
        match self {
            AnyKll::Long(s) => s.n(),
            AnyKll::Float(s) => s.n(),
            AnyKll::Double(s) => s.n(),
        }
    }
    /// The quantiles at `ranks` as an array of the item type (NULL for an empty sketch).
    fn quantiles(&self, fname: &str, ranks: &[f64]) -> Result<ArrayRef> {
        for r in ranks {
            if !(0.0..=1.0).contains(r) {
                return exec_err!(
                    "[KLL_SKETCH_INVALID_QUANTILE_RANGE] For function `{fname}`, the quantile value must be between 0.0 and 1.0 (inclusive). SQLSTATE: 22003"
                );
            }
        }
        let c = SearchCriteria::Inclusive;
        Ok(match self {
            AnyKll::Long(s) => Arc::new(
                ranks
                    .iter()
                    .map(|r| s.quantile(*r, c).or_else(lib_err))
                    .collect::<Result<Int64Array>>()?,
            ),
            AnyKll::Float(s) => Arc::new(
                ranks
                    .iter()
                    .map(|r| Ok(s.quantile(*r, c).or_else(lib_err)?.map(|v| v.into_inner())))
                    .collect::<Result<Float32Array>>()?,
            ),
            AnyKll::Double(s) => Arc::new(
                ranks
                    .iter()
                    .map(|r| Ok(s.quantile(*r, c).or_else(lib_err)?.map(|v| v.into_inner())))
                    .collect::<Result<Float64Array>>()?,
            ),
        })
    }
    /// The normalized ranks of `items` (an array of the item type).
    fn ranks(&self, items: &ArrayRef) -> Result<Vec<Option<f64>>> {
        let c = SearchCriteria::Inclusive;
        Ok(match self {
            AnyKll::Long(s) => cast(items, &DataType::Int64)?
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.and_then(|v| s.rank(&v, c)))
                .collect(),
            AnyKll::Float(s) => cast(items, &DataType::Float32)?
                .as_primitive::<Float32Type>()
                .iter()
                .map(|v| {
                    v.and_then(|v| KllFloat::<f32>::new(v).ok())
                        .and_then(|v| s.rank(&v, c))
                })
                .collect(),
            AnyKll::Double(s) => cast(items, &DataType::Float64)?
                .as_primitive::<Float64Type>()
                .iter()
                .map(|v| {
                    v.and_then(|v| KllFloat::<f64>::new(v).ok())
                        .and_then(|v| s.rank(&v, c))
                })
                .collect(),
        })
    }
    /// The summary DataSketches' `KllSketch.toString()` prints (the fields the Rust
    /// library exposes: the level layout and updatable size are left out).
    fn summary(&self, elem: Elem) -> String {
        fn body<T: Clone + Ord>(
            s: &KllSketch<T>,
            kind: &str,
            compact_bytes: usize,
            show: impl Fn(&T) -> String,
        ) -> String {
            let mut o = String::new();
            let _ = writeln!(o, "\n### KllKll{kind}Sketch Summary:");
            let mut line = |label: &str, v: String| {
                let _ = writeln!(o, "   {label:<23}: {v}");
            };
            line("K", s.k().to_string());
            line("Dynamic min K", s.min_k().to_string());
            line("M", "8".to_string());
            line("N", s.n().to_string());
            line(
                "Epsilon",
                format!("{:.3}%", s.normalized_rank_error() * 100.0),
            );
            line(
                "Epsilon PMF",
                format!("{:.3}%", s.normalized_pmf_error() * 100.0),
            );
            line("Empty", s.is_empty().to_string());
            line("Estimation Mode", s.is_estimation_mode().to_string());
            line("Retained Items", s.num_retained().to_string());
            line("Compact Storage Bytes", compact_bytes.to_string());
            line("Min Item", s.min_item().map_or("NaN".to_string(), &show));
            line("Max Item", s.max_item().map_or("NaN".to_string(), &show));
            o.push_str("### End sketch summary\n");
            o
        }
        let kind = elem.java_name();
        let size = self.serialize().len();
        match self {
            AnyKll::Long(s) => body(s, kind, size, |v| v.to_string()),
            AnyKll::Float(s) => body(s, kind, size, |v| java_double(f64::from(**v))),
            AnyKll::Double(s) => body(s, kind, size, |v| java_double(**v)),
        }
    }
}

/// A double as Java's `Double.toString` prints it in the common range (`1.0`, `2.5`).
fn java_double(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e7 {
        format!("{v:.1}")
    } else {
        v.to_string()
    }
}

fn check_k(fname: &str, k: i64) -> Result<u16> {
    if !(8..=65535).contains(&k) {
        return datafusion::common::plan_err!(
            "[DATATYPE_MISMATCH.TYPE_CHECK_FAILURE_WITH_HINT] Cannot resolve \"{fname}\" due to data type mismatch: [KLL_SKETCH_K_OUT_OF_RANGE] For function `{fname}`, the k parameter must be between 8 and 65535 (inclusive), but got {k}. SQLSTATE: 42K09"
        );
    }
    Ok(k as u16)
}

/// `kll_sketch_agg_*(expr [, k])` and `kll_merge_agg_*(sketch [, k])`.
#[derive(Debug)]
struct KllAgg {
    op: Op,
    elem: Elem,
}

impl AggSpec for KllAgg {
    fn name(&self) -> &'static str {
        name(self.op, self.elem)
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let fname = self.name();
        arity(fname, t, 1, 2)?;
        let x = &t[0];
        let first = match self.op {
            Op::Agg if self.elem.accepts(x) || matches!(x, DataType::Null) => self.elem.data_type(),
            Op::Agg => return type_error(fname, 1, self.elem.required(), x),
            _ => sketch_arg(fname, 1, x)?,
        };
        let mut out = vec![first];
        if let Some(k) = t.get(1) {
            if !is_integral(k) {
                return type_error(fname, 2, "the \"INT\" type", k);
            }
            out.push(DataType::Int32);
        }
        Ok(out)
    }
    fn buffer(&self, _: &DataType, params: &[ScalarValue]) -> Result<Box<dyn SketchBuffer>> {
        let fname = self.name();
        let k = match params.first() {
            Some(_) => Some(check_k(
                fname,
                int_param(fname, "k", params.first(), DEFAULT_K)?,
            )?),
            None => None,
        };
        let merging = self.op == Op::MergeAgg;
        // `kll_sketch_agg_*` starts empty with `k`; `kll_merge_agg_*` without `k`
        // takes the first sketch's `k`, as Spark.
        let sketch = match (merging, k) {
            (true, None) => None,
            (_, k) => Some(AnyKll::new(self.elem, k.unwrap_or(DEFAULT_K as u16))?),
        };
        Ok(Box::new(KllBuf {
            fname,
            elem: self.elem,
            merging,
            sketch,
        }))
    }
}

#[derive(Debug)]
struct KllBuf {
    fname: &'static str,
    elem: Elem,
    /// Input rows are sketches (`kll_merge_agg_*`).
    merging: bool,
    /// `None` until the first sketch of a `kll_merge_agg_*` without `k`.
    sketch: Option<AnyKll>,
}

impl SketchBuffer for KllBuf {
    fn update(&mut self, columns: &[ArrayRef]) -> Result<()> {
        let column = &columns[0];
        if !self.merging {
            return match &mut self.sketch {
                Some(s) => s.update(column),
                None => exec_err!("{}: no sketch", self.fname),
            };
        }
        super::merge_each(column, |b| self.merge(b))
    }
    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let other = AnyKll::read(self.elem, self.fname, bytes)?;
        match &mut self.sketch {
            Some(s) => s.merge(&other),
            None => {
                self.sketch = Some(other);
                Ok(())
            }
        }
    }
    fn bytes(&self, partial: bool) -> Result<Option<Vec<u8>>> {
        match &self.sketch {
            Some(s) => Ok(Some(s.serialize())),
            None if partial => Ok(None),
            None => Ok(Some(AnyKll::new(self.elem, DEFAULT_K as u16)?.serialize())),
        }
    }
    fn size(&self) -> usize {
        self.sketch.as_ref().map_or(0, |s| {
            std::mem::size_of_val(s) + s.n().min(4096) as usize * 8
        })
    }
}

/// The KLL scalar functions.
#[derive(Debug)]
struct KllFn {
    op: Op,
    elem: Elem,
}

impl FnSpec for KllFn {
    fn name(&self) -> &'static str {
        name(self.op, self.elem)
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let fname = self.name();
        let n = if matches!(self.op, Op::GetQuantile | Op::GetRank | Op::Merge) {
            2
        } else {
            1
        };
        arity(fname, t, n, n)?;
        let mut out = vec![sketch_arg(fname, 1, &t[0])?];
        match self.op {
            Op::Merge => out.push(sketch_arg(fname, 2, &t[1])?),
            Op::GetQuantile => out.push(match &t[1] {
                DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
                    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
                }
                x if x.is_numeric() || matches!(x, DataType::Null) => DataType::Float64,
                x => return type_error(fname, 2, "(\"DOUBLE\" or \"ARRAY<DOUBLE>\") type", x),
            }),
            Op::GetRank => {
                let item = self.elem.data_type();
                out.push(match &t[1] {
                    DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
                        DataType::List(Arc::new(Field::new_list_field(item, true)))
                    }
                    x if x.is_numeric() || matches!(x, DataType::Null) => item,
                    x => return type_error(fname, 2, "a numeric type or an array of it", x),
                })
            }
            _ => {}
        }
        Ok(out)
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        let list = |d: DataType| DataType::List(Arc::new(Field::new_list_field(d, true)));
        let is_list = matches!(t.get(1), Some(DataType::List(_)));
        Ok(match self.op {
            Op::GetN => DataType::Int64,
            Op::Merge => DataType::Binary,
            Op::ToString => DataType::Utf8,
            Op::GetQuantile if is_list => list(self.elem.data_type()),
            Op::GetQuantile => self.elem.data_type(),
            Op::GetRank if is_list => list(DataType::Float64),
            Op::GetRank => DataType::Float64,
            Op::Agg | Op::MergeAgg => DataType::Binary,
        })
    }
    fn eval(&self, args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
        let fname = self.name();
        let sketches = binary(&args[0])?;
        let get = |i: usize| -> Result<Option<AnyKll>> {
            if sketches.is_null(i) {
                return Ok(None);
            }
            AnyKll::read(self.elem, fname, sketches.value(i)).map(Some)
        };
        match self.op {
            Op::GetN => {
                let out = (0..rows)
                    .map(|i| Ok(get(i)?.map(|s| s.n())))
                    .collect::<Result<UInt64Array>>()?;
                Ok(cast(&(Arc::new(out) as ArrayRef), &DataType::Int64)?)
            }
            Op::ToString => {
                let mut out = StringBuilder::new();
                for i in 0..rows {
                    match get(i)? {
                        Some(s) => out.append_value(s.summary(self.elem)),
                        None => out.append_null(),
                    }
                }
                Ok(Arc::new(out.finish()))
            }
            Op::Merge => {
                let other = binary(&args[1])?;
                let mut out = BinaryBuilder::new();
                for i in 0..rows {
                    match get(i)? {
                        Some(mut s) if !other.is_null(i) => {
                            let o = AnyKll::read(self.elem, fname, other.value(i))?;
                            s.merge(&o)?;
                            out.append_value(s.serialize());
                        }
                        _ => out.append_null(),
                    }
                }
                Ok(Arc::new(out.finish()))
            }
            Op::GetQuantile | Op::GetRank => self.query(args, rows, &get),
            Op::Agg | Op::MergeAgg => exec_err!("{fname} is an aggregate"),
        }
    }
}

impl KllFn {
    /// `get_quantile` / `get_rank` with a scalar or an array second argument.
    fn query(
        &self,
        args: &[ArrayRef],
        rows: usize,
        get: &dyn Fn(usize) -> Result<Option<AnyKll>>,
    ) -> Result<ArrayRef> {
        let fname = self.name();
        let arg = &args[1];
        let list = match arg.data_type() {
            DataType::List(_) => Some(arg.as_list::<i32>().clone()),
            _ => None,
        };
        // One result array per row (one value for a scalar argument).
        let mut parts: Vec<Option<ArrayRef>> = Vec::with_capacity(rows);
        for i in 0..rows {
            let values: ArrayRef = match &list {
                Some(l) if l.is_null(i) => {
                    parts.push(None);
                    continue;
                }
                Some(l) => l.value(i),
                None if arg.is_null(i) => {
                    parts.push(None);
                    continue;
                }
                None => arg.slice(i, 1),
            };
            let Some(s) = get(i)? else {
                parts.push(None);
                continue;
            };
            // Spark's sketches refuse queries on an empty sketch.
            if s.n() == 0 {
                return invalid_sketch(INVALID, fname, "KLL", "kll_sketch_agg", "22000");
            }
            let out: ArrayRef = match self.op {
                Op::GetQuantile => {
                    let ranks = cast(&values, &DataType::Float64)?;
                    let ranks: Vec<f64> = ranks
                        .as_primitive::<Float64Type>()
                        .iter()
                        .map(|r| r.unwrap_or(f64::NAN))
                        .collect();
                    s.quantiles(fname, &ranks)?
                }
                _ => Arc::new(Float64Array::from(s.ranks(&values)?)),
            };
            parts.push(Some(out));
        }
        let item = match self.op {
            Op::GetQuantile => self.elem.data_type(),
            _ => DataType::Float64,
        };
        if list.is_none() {
            let scalars = parts
                .iter()
                .map(|p| match p {
                    Some(a) if !a.is_empty() => ScalarValue::try_from_array(a, 0),
                    _ => ScalarValue::try_from(&item),
                })
                .collect::<Result<Vec<_>>>()?;
            if scalars.is_empty() {
                return Ok(datafusion::arrow::array::new_empty_array(&item));
            }
            return ScalarValue::iter_to_array(scalars);
        }
        let lens = parts.iter().map(|p| p.as_ref().map_or(0, |a| a.len()));
        let offsets = OffsetBuffer::from_lengths(lens);
        let nulls: Vec<bool> = parts.iter().map(|p| p.is_some()).collect();
        let pieces: Vec<&dyn Array> = parts.iter().flatten().map(|a| a.as_ref()).collect();
        let values = if pieces.is_empty() {
            datafusion::arrow::array::new_empty_array(&item)
        } else {
            datafusion::arrow::compute::concat(&pieces)?
        };
        let field = Arc::new(Field::new_list_field(item, true));
        Ok(Arc::new(ListArray::try_new(
            field,
            offsets,
            values,
            Some(nulls.into()),
        )?))
    }
}
