//! Theta sketches, as Spark's `ThetaSketchAgg`, `ThetaUnionAgg`,
//! `ThetaIntersectionAgg`, `ThetaSketchEstimate`, `ThetaUnion`, `ThetaIntersection`
//! and `ThetaDifference`: compact ordered sketches, `lgNomEntries` 12 by default
//! (4 to 26).

use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::array::{Array, ArrayRef, BinaryBuilder, Int64Builder};
use datafusion::arrow::compute::kernels::cast::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{exec_err, Result, ScalarValue};
use datasketches::hash::value::{canonical_float, raw_bytes};
use datasketches::theta::{
    CompactThetaSketch, ThetaANotB, ThetaIntersection, ThetaSketch, ThetaSketchBuilder, ThetaUnion,
    ThetaUnionBuilder,
};

use super::{
    arity, binary, for_each_item, int_param, invalid_sketch, is_binary, is_integral, is_string,
    sketch_arg, type_error, AggSpec, FnSpec, Item, SketchBuffer,
};

const DEFAULT_LG_K: i64 = 12;
const INVALID: &str = "THETA_INVALID_INPUT_SKETCH_BUFFER";

pub(super) fn aggregates() -> Vec<Box<dyn AggSpec>> {
    vec![
        Box::new(AggKind::Sketch),
        Box::new(AggKind::Union),
        Box::new(AggKind::Intersection),
    ]
}

pub(super) fn functions() -> Vec<Box<dyn FnSpec>> {
    vec![
        Box::new(super::RoundedEstimate {
            name: "theta_sketch_estimate",
            estimate: |n, b| read(n, b).map(|s| s.estimate()),
        }),
        Box::new(SetOp::Union),
        Box::new(SetOp::Intersection),
        Box::new(SetOp::Difference),
    ]
}

fn check_lg_k(name: &str, k: i64) -> Result<u8> {
    if !(4..=26).contains(&k) {
        return exec_err!(
            "[SKETCH_INVALID_LG_NOM_ENTRIES] Invalid call to `{name}`; the `lgNomEntries` value must be between 4 and 26, inclusive: {k}. SQLSTATE: 22003"
        );
    }
    // The Rust library's smallest table is 2^5; Spark's is 2^4 (results for 4 are
    // those of 5).
    Ok((k as u8).max(5))
}

fn read(name: &str, bytes: &[u8]) -> Result<CompactThetaSketch> {
    // DataSketches' family ids: 3 compact theta (what Spark writes), 2 update theta.
    if let Some(family) = bytes.get(2).and_then(|f| match f {
        7 => Some("HLL"),
        9 => Some("TUPLE"),
        15 => Some("KLL"),
        _ => None,
    }) {
        return exec_err!(
            "[THETA_INVALID_INPUT_SKETCH_BUFFER_FAMILY] Invalid call to `{name}`: expected COMPACT sketch family but received {family}. Only valid Theta sketch buffers (produced by `theta_sketch_agg`) are supported as inputs. SQLSTATE: 22000"
        );
    }
    CompactThetaSketch::deserialize(bytes)
        .or_else(|_| invalid_sketch(INVALID, name, "Theta", "theta_sketch_agg", "22000"))
}

fn new_union(k: u8) -> Result<ThetaUnion> {
    ThetaUnionBuilder::default()
        .lg_k(k)
        .build()
        .or_else(|e| exec_err!("{e}"))
}

fn empty_bytes() -> Result<Vec<u8>> {
    let s = ThetaSketchBuilder::default()
        .build()
        .or_else(|e| exec_err!("{e}"))?;
    Ok(s.compact(true).spark_bytes())
}

/// The bytes Spark writes for a compact sketch (`toByteArrayCompressed`): compressed
/// when ordered with two or more entries, else the compact form; a single entry
/// carries DataSketches Java's single-item flag (0x20).
trait SparkBytes {
    fn spark_bytes(&self) -> Vec<u8>;
}

impl SparkBytes for CompactThetaSketch {
    fn spark_bytes(&self) -> Vec<u8> {
        let mut b = self.serialize_compressed();
        if b.len() == 16 && b[0] == 1 && b[1] == 3 && b[2] == 3 && self.num_retained() == 1 {
            b[5] |= 0x20;
        }
        b
    }
}

fn update(sketch: &mut ThetaSketch, item: Item<'_>) {
    match item {
        Item::Long(v) => sketch.update(v),
        Item::Double(v) => sketch.update(canonical_float::from_f64(v)),
        Item::Str(v) => sketch.update(raw_bytes::from_str(v)),
        Item::Bytes(v) => sketch.update(raw_bytes::from_slice(v)),
    }
}

/// The three theta aggregates.
#[derive(Debug, Clone, Copy)]
enum AggKind {
    /// `theta_sketch_agg(expr [, lgNomEntries])`.
    Sketch,
    /// `theta_union_agg(sketch [, lgNomEntries])`.
    Union,
    /// `theta_intersection_agg(sketch)`.
    Intersection,
}

impl AggSpec for AggKind {
    fn name(&self) -> &'static str {
        match self {
            AggKind::Sketch => "theta_sketch_agg",
            AggKind::Union => "theta_union_agg",
            AggKind::Intersection => "theta_intersection_agg",
        }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        let max = if matches!(self, AggKind::Intersection) {
            1
        } else {
            2
        };
        arity(name, t, 1, max)?;
        let x = &t[0];
        let first = match self {
            AggKind::Sketch => {
                if matches!(x, DataType::Int32 | DataType::Int64) {
                    x.clone()
                } else if let DataType::List(f)
                | DataType::LargeList(f)
                | DataType::FixedSizeList(f, _) = x
                {
                    let item = match f.data_type() {
                        DataType::Int64 => DataType::Int64,
                        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Null => DataType::Int32,
                        _ => return type_error(name, 1, "(\"ARRAY<INT>\" or \"ARRAY<BIGINT>\" or \"BINARY\" or \"DOUBLE\" or \"FLOAT\" or \"INT\" or \"BIGINT\" or \"STRING\") type", x),
                    };
                    DataType::List(std::sync::Arc::new(
                        datafusion::arrow::datatypes::Field::new_list_field(item, true),
                    ))
                } else if matches!(x, DataType::Float32 | DataType::Float64)
                    || is_string(x)
                    || is_binary(x)
                    || matches!(x, DataType::Null)
                {
                    x.clone()
                } else {
                    return type_error(
                        name,
                        1,
                        "(\"ARRAY<INT>\" or \"ARRAY<BIGINT>\" or \"BINARY\" or \"DOUBLE\" or \"FLOAT\" or \"INT\" or \"BIGINT\" or \"STRING\") type",
                        x,
                    );
                }
            }
            _ => sketch_arg(name, 1, x)?,
        };
        let mut out = vec![first];
        if let Some(k) = t.get(1) {
            if !is_integral(k) {
                return type_error(name, 2, "the \"INT\" type", k);
            }
            out.push(DataType::Int32);
        }
        Ok(out)
    }
    fn buffer(&self, _: &DataType, params: &[ScalarValue]) -> Result<Box<dyn SketchBuffer>> {
        let k = int_param(self.name(), "lgNomEntries", params.first(), DEFAULT_LG_K)?;
        let k = check_lg_k(self.name(), k)?;
        Ok(match self {
            AggKind::Sketch => Box::new(SketchBuf {
                sketch: ThetaSketchBuilder::default()
                    .lg_k(k)
                    .build()
                    .or_else(|e| exec_err!("{e}"))?,
                union: new_union(k)?,
            }),
            AggKind::Union => Box::new(UnionBuf {
                union: new_union(k)?,
            }),
            AggKind::Intersection => Box::new(IntersectionBuf {
                inter: ThetaIntersection::default(),
            }),
        })
    }
}

/// Rows go into an update sketch; partial sketches merged in go into a union.
#[derive(Debug)]
struct SketchBuf {
    sketch: ThetaSketch,
    union: ThetaUnion,
}

impl SketchBuffer for SketchBuf {
    fn update(&mut self, columns: &[ArrayRef]) -> Result<()> {
        let column = &columns[0];
        let sketch = &mut self.sketch;
        for_each_item(column, |item| update(sketch, item))
    }
    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let s = read("theta_sketch_agg", bytes)?;
        self.union.update(&s).or_else(|e| exec_err!("{e}"))
    }
    fn bytes(&self, _: bool) -> Result<Option<Vec<u8>>> {
        let own = self.sketch.compact(true);
        let merged = self.union.to_sketch(true);
        if merged.is_empty() {
            return Ok(Some(own.spark_bytes()));
        }
        let mut k = ThetaUnionBuilder::default()
            .lg_k(self.sketch.lg_k())
            .build()
            .or_else(|e| exec_err!("{e}"))?;
        k.update(&merged).or_else(|e| exec_err!("{e}"))?;
        k.update(&own).or_else(|e| exec_err!("{e}"))?;
        Ok(Some(k.to_sketch(true).spark_bytes()))
    }
    fn size(&self) -> usize {
        self.sketch.estimated_size() + self.union.estimated_size()
    }
}

#[derive(Debug)]
struct UnionBuf {
    union: ThetaUnion,
}

impl SketchBuffer for UnionBuf {
    fn update(&mut self, columns: &[ArrayRef]) -> Result<()> {
        let column = &columns[0];
        for b in binary(column)?.iter().flatten() {
            self.merge_named("theta_union_agg", b)?;
        }
        Ok(())
    }
    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        self.merge_named("theta_union_agg", bytes)
    }
    fn bytes(&self, _: bool) -> Result<Option<Vec<u8>>> {
        Ok(Some(self.union.to_sketch(true).spark_bytes()))
    }
    fn size(&self) -> usize {
        self.union.estimated_size()
    }
}

impl UnionBuf {
    fn merge_named(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let s = read(name, bytes)?;
        self.union.update(&s).or_else(|e| exec_err!("{e}"))
    }
}

/// An intersection; a partial state that saw no sketch is NULL (the universe, not
/// the empty set).
#[derive(Debug)]
struct IntersectionBuf {
    inter: ThetaIntersection,
}

impl SketchBuffer for IntersectionBuf {
    fn update(&mut self, columns: &[ArrayRef]) -> Result<()> {
        let column = &columns[0];
        super::merge_each(column, |b| self.merge(b))
    }
    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let s = read("theta_intersection_agg", bytes)?;
        self.inter.update(&s).or_else(|e| exec_err!("{e}"))
    }
    fn bytes(&self, partial: bool) -> Result<Option<Vec<u8>>> {
        match self.inter.to_sketch(true) {
            Some(s) => Ok(Some(s.spark_bytes())),
            None if partial => Ok(None),
            None => empty_bytes().map(Some),
        }
    }
    fn size(&self) -> usize {
        self.inter.estimated_size()
    }
}

/// The two-sketch set operations.
#[derive(Debug, Clone, Copy)]
enum SetOp {
    /// `theta_union(first, second [, lgNomEntries])`.
    Union,
    /// `theta_intersection(first, second)`.
    Intersection,
    /// `theta_difference(first, second)`: first A-not-B second.
    Difference,
}

impl FnSpec for SetOp {
    fn name(&self) -> &'static str {
        match self {
            SetOp::Union => "theta_union",
            SetOp::Intersection => "theta_intersection",
            SetOp::Difference => "theta_difference",
        }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        let max = if matches!(self, SetOp::Union) { 3 } else { 2 };
        arity(name, t, 2, max)?;
        let mut out = vec![sketch_arg(name, 1, &t[0])?, sketch_arg(name, 2, &t[1])?];
        if let Some(k) = t.get(2) {
            if !is_integral(k) && !matches!(k, DataType::Null) {
                return type_error(name, 3, "the \"INT\" type", k);
            }
            out.push(DataType::Int64);
        }
        Ok(out)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }
    fn eval(&self, args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
        let name = self.name();
        let a = binary(&args[0])?;
        let b = binary(&args[1])?;
        let ks = match args.get(2) {
            Some(c) => cast(c, &DataType::Int64)?
                .as_primitive::<Int64Type>()
                .clone(),
            None => {
                let mut k = Int64Builder::new();
                (0..rows).for_each(|_| k.append_value(DEFAULT_LG_K));
                k.finish()
            }
        };
        let mut out = BinaryBuilder::new();
        for i in 0..rows {
            if a.is_null(i) || b.is_null(i) || ks.is_null(i) {
                out.append_null();
                continue;
            }
            let x = read(name, a.value(i))?;
            let y = read(name, b.value(i))?;
            let result = match self {
                SetOp::Union => {
                    let k = check_lg_k(
                        name,
                        int_param(
                            name,
                            "lgNomEntries",
                            Some(&ScalarValue::Int64(Some(ks.value(i)))),
                            DEFAULT_LG_K,
                        )?,
                    )?;
                    let mut u = new_union(k)?;
                    u.update(&x).or_else(|e| exec_err!("{e}"))?;
                    u.update(&y).or_else(|e| exec_err!("{e}"))?;
                    u.to_sketch(true)
                }
                SetOp::Intersection => {
                    let mut inter = ThetaIntersection::default();
                    inter.update(&x).or_else(|e| exec_err!("{e}"))?;
                    inter.update(&y).or_else(|e| exec_err!("{e}"))?;
                    match inter.to_sketch(true) {
                        Some(s) => s,
                        None => read(name, &empty_bytes()?)?,
                    }
                }
                SetOp::Difference => ThetaANotB::default()
                    .compute(&x, &y, true)
                    .or_else(|e| exec_err!("{e}"))?,
            };
            out.append_value(result.spark_bytes());
        }
        Ok(Arc::new(out.finish()))
    }
}
