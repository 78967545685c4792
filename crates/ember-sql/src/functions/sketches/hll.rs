//! HyperLogLog sketches, as Spark's `HllSketchAgg`, `HllUnionAgg`, `HllSketchEstimate`
//! and `HllUnion`: HLL_8 sketches, `lgConfigK` 12 by default (4 to 21).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BinaryBuilder, BooleanArray};
use datafusion::arrow::compute::kernels::cast::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datasketches::hash::value::{canonical_float, raw_bytes};
use datasketches::hll::{HllSketch, HllType, HllUnion};

use super::{
    arity, binary, for_each_item, int_param, invalid_sketch, is_binary, is_integral, is_string,
    sketch_arg, type_error, AggSpec, FnSpec, Item, SketchBuffer,
};

const DEFAULT_LG_K: i64 = 12;
const INVALID: &str = "HLL_INVALID_INPUT_SKETCH_BUFFER";

pub(super) fn aggregates() -> Vec<Box<dyn AggSpec>> {
    vec![Box::new(SketchAggSpec), Box::new(UnionAggSpec)]
}

pub(super) fn functions() -> Vec<Box<dyn FnSpec>> {
    vec![
        Box::new(super::RoundedEstimate {
            name: "hll_sketch_estimate",
            estimate: |n, b| read(n, b).map(|s| s.estimate()),
        }),
        Box::new(Union),
    ]
}

fn check_lg_k(name: &str, k: i64) -> Result<u8> {
    if !(4..=21).contains(&k) {
        return exec_err!(
            "[HLL_INVALID_LG_K] Invalid call to `{name}`; the `lgConfigK` value must be between 4 and 21, inclusive: {k}. SQLSTATE: 22546"
        );
    }
    Ok(k as u8)
}

fn read(name: &str, bytes: &[u8]) -> Result<HllSketch> {
    HllSketch::deserialize(bytes)
        .or_else(|_| invalid_sketch(INVALID, name, "HLL", "hll_sketch_agg", "22546"))
}

fn different_lg_k<T>(name: &str, a: u8, b: u8) -> Result<T> {
    exec_err!(
        "[HLL_UNION_DIFFERENT_LG_K] Sketches have different `lgConfigK` values: {a} and {b}. Set the `allowDifferentLgConfigK` parameter to true to call `{name}` with different `lgConfigK` values. SQLSTATE: 22000"
    )
}

fn update(sketch: &mut HllSketch, item: Item<'_>) {
    match item {
        Item::Long(v) => sketch.update(v),
        Item::Double(v) => sketch.update(canonical_float::from_f64(v)),
        Item::Str(v) => sketch.update(raw_bytes::from_str(v)),
        Item::Bytes(v) => sketch.update(raw_bytes::from_slice(v)),
    }
}

/// `hll_sketch_agg(expr [, lgConfigK])`: INT, BIGINT, STRING or BINARY values.
#[derive(Debug)]
struct SketchAggSpec;

impl AggSpec for SketchAggSpec {
    fn name(&self) -> &'static str {
        "hll_sketch_agg"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        arity(name, t, 1, 2)?;
        let x = &t[0];
        // No implicit cast (Spark's inputTypes): TINYINT, SMALLINT and DOUBLE fail.
        let x = if matches!(x, DataType::Int32 | DataType::Int64) {
            x.clone()
        } else if is_string(x) || is_binary(x) || matches!(x, DataType::Null) {
            x.clone()
        } else {
            return type_error(
                name,
                1,
                "(\"INT\" or \"BIGINT\" or \"STRING\" or \"BINARY\") type",
                x,
            );
        };
        let mut out = vec![x];
        if let Some(k) = t.get(1) {
            if !is_integral(k) {
                return type_error(name, 2, "the \"INT\" type", k);
            }
            out.push(DataType::Int32);
        }
        Ok(out)
    }
    fn buffer(&self, _: &DataType, params: &[ScalarValue]) -> Result<Box<dyn SketchBuffer>> {
        let k = int_param(self.name(), "lgConfigK", params.first(), DEFAULT_LG_K)?;
        let k = check_lg_k(self.name(), k)?;
        let sketch = HllSketch::new(k, HllType::Hll8).or_else(|e| exec_err!("{e}"))?;
        Ok(Box::new(SketchBuf {
            k,
            sketch,
            union: None,
        }))
    }
}

#[derive(Debug)]
struct SketchBuf {
    k: u8,
    sketch: HllSketch,
    /// Partial sketches merged in (a union keeps the HLL_8 result exact).
    union: Option<HllUnion>,
}

impl SketchBuffer for SketchBuf {
    fn update(&mut self, columns: &[ArrayRef]) -> Result<()> {
        let column = &columns[0];
        let sketch = &mut self.sketch;
        for_each_item(column, |item| update(sketch, item))
    }
    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let other = read("hll_sketch_agg", bytes)?;
        let k = self.k;
        let union = match &mut self.union {
            Some(u) => u,
            None => self
                .union
                .insert(HllUnion::new(k).or_else(|e| exec_err!("{e}"))?),
        };
        union.update(&other);
        Ok(())
    }
    fn bytes(&self, _: bool) -> Result<Option<Vec<u8>>> {
        Ok(Some(match &self.union {
            None => self.sketch.serialize(),
            Some(u) => {
                let mut u = u.clone();
                u.update(&self.sketch);
                u.to_sketch(HllType::Hll8).serialize()
            }
        }))
    }
    fn size(&self) -> usize {
        self.sketch.estimated_size() + self.union.as_ref().map_or(0, |u| u.estimated_size())
    }
}

/// `hll_union_agg(sketch [, allowDifferentLgConfigK])`.
#[derive(Debug)]
struct UnionAggSpec;

impl AggSpec for UnionAggSpec {
    fn name(&self) -> &'static str {
        "hll_union_agg"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        arity(name, t, 1, 2)?;
        let mut out = vec![sketch_arg(name, 1, &t[0])?];
        if let Some(b) = t.get(1) {
            if !matches!(b, DataType::Boolean) {
                return type_error(name, 2, "the \"BOOLEAN\" type", b);
            }
            out.push(DataType::Boolean);
        }
        Ok(out)
    }
    fn buffer(&self, _: &DataType, params: &[ScalarValue]) -> Result<Box<dyn SketchBuffer>> {
        let allow = match params.first() {
            None => false,
            Some(ScalarValue::Boolean(Some(b))) => *b,
            Some(_) => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_NULL] Cannot resolve \"hll_union_agg\": allowDifferentLgConfigK must not be null."
                )
            }
        };
        Ok(Box::new(UnionBuf { allow, union: None }))
    }
}

/// A union created at the first sketch, with its `lgConfigK`; smaller sketches
/// shrink it when allowed.
#[derive(Debug)]
struct UnionBuf {
    allow: bool,
    union: Option<(u8, HllUnion)>,
}

impl UnionBuf {
    fn add(&mut self, sketch: &HllSketch) -> Result<()> {
        let k = sketch.lg_config_k();
        match &mut self.union {
            None => {
                let mut u = HllUnion::new(k).or_else(|e| exec_err!("{e}"))?;
                u.update(sketch);
                self.union = Some((k, u));
            }
            Some((uk, u)) => {
                if k != *uk && !self.allow {
                    return different_lg_k("hll_union_agg", *uk, k);
                }
                u.update(sketch);
            }
        }
        Ok(())
    }
}

impl SketchBuffer for UnionBuf {
    fn update(&mut self, columns: &[ArrayRef]) -> Result<()> {
        let column = &columns[0];
        for b in binary(column)?.iter().flatten() {
            let s = read("hll_union_agg", b)?;
            self.add(&s)?;
        }
        Ok(())
    }
    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let s = read("hll_union_agg", bytes)?;
        self.add(&s)
    }
    fn bytes(&self, partial: bool) -> Result<Option<Vec<u8>>> {
        match &self.union {
            Some((_, u)) => Ok(Some(u.to_sketch(HllType::Hll8).serialize())),
            None if partial => Ok(None),
            None => {
                let empty = HllSketch::new(DEFAULT_LG_K as u8, HllType::Hll8)
                    .or_else(|e| exec_err!("{e}"))?;
                Ok(Some(empty.serialize()))
            }
        }
    }
    fn size(&self) -> usize {
        self.union.as_ref().map_or(0, |(_, u)| u.estimated_size())
    }
}

/// `hll_union(first, second [, allowDifferentLgConfigK])`: the union at the smaller
/// `lgConfigK` of the two.
#[derive(Debug)]
struct Union;

impl FnSpec for Union {
    fn name(&self) -> &'static str {
        "hll_union"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        arity(name, t, 2, 3)?;
        let mut out = vec![sketch_arg(name, 1, &t[0])?, sketch_arg(name, 2, &t[1])?];
        if let Some(b) = t.get(2) {
            if !matches!(b, DataType::Boolean | DataType::Null) {
                return type_error(name, 3, "the \"BOOLEAN\" type", b);
            }
            out.push(DataType::Boolean);
        }
        Ok(out)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }
    fn eval(&self, args: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
        let a = binary(&args[0])?;
        let b = binary(&args[1])?;
        let allow = match args.get(2) {
            Some(c) => cast(c, &DataType::Boolean)?
                .as_any()
                .downcast_ref::<BooleanArray>()
                .cloned(),
            None => None,
        };
        let mut out = BinaryBuilder::new();
        for i in 0..rows {
            use datafusion::arrow::array::Array;
            if a.is_null(i) || b.is_null(i) || allow.as_ref().is_some_and(|x| x.is_null(i)) {
                out.append_null();
                continue;
            }
            let x = read(self.name(), a.value(i))?;
            let y = read(self.name(), b.value(i))?;
            let allowed = allow.as_ref().is_some_and(|x| x.value(i));
            let (kx, ky) = (x.lg_config_k(), y.lg_config_k());
            if kx != ky && !allowed {
                return different_lg_k(self.name(), kx, ky);
            }
            let mut u = HllUnion::new(kx.min(ky)).or_else(|e| exec_err!("{e}"))?;
            u.update(&x);
            u.update(&y);
            out.append_value(u.to_sketch(HllType::Hll8).serialize());
        }
        Ok(Arc::new(out.finish()))
    }
}
