//! Spark's generators — `explode`, `posexplode`, `inline`, `stack` and their `_outer`
//! forms — as scalar functions that return, for each input row, the rows the generator
//! makes: a `List<Struct>` whose struct fields are the generator's output columns
//! (`col`; `key`, `value`; `pos` first for `posexplode`; the struct's fields for
//! `inline`; `col0`..`colN` for `stack`). The planner unnests that list (dropping rows
//! whose list is empty) and projects the struct's fields, as Spark's `Generate` does.
//!
//! The `_outer` forms return one all-NULL row for a NULL or empty input, so that the
//! input row is kept (Spark's `outer = true`). Registered under internal names
//! (`ember_explode`, ...): called directly they would return lists, not rows.

use std::sync::Arc;

use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, ListArray, StructArray, UInt32Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::{cast, interleave, take};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// Which of Spark's generators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeneratorKind {
    /// `explode(array | map)`: a row per element (`col`) or entry (`key`, `value`).
    Explode,
    /// `posexplode(array | map)`: as `explode` with the 0-based position `pos` first.
    PosExplode,
    /// `inline(array<struct>)`: a row per struct, its fields as columns.
    Inline,
    /// `stack(n, e1, ..., ek)`: `n` rows of `ceil(k / n)` columns `col0`...
    Stack,
    /// `json_tuple(json, k1, ..., kn)`: one row of string columns `c0`... holding the
    /// top-level fields `k1`... of the JSON object (NULL when absent, for invalid
    /// JSON or a NULL input; nested values as JSON text).
    JsonTuple,
}

/// One generator as a scalar UDF returning `List<Struct>` (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkGenerator {
    kind: GeneratorKind,
    outer: bool,
    name: String,
    signature: Signature,
}

/// The Spark generator names ember supports.
pub const GENERATORS: [&str; 8] = [
    "explode",
    "explode_outer",
    "posexplode",
    "posexplode_outer",
    "inline",
    "inline_outer",
    "stack",
    "json_tuple",
];

impl SparkGenerator {
    /// The generator Spark calls `spark_name` (`explode_outer`, ...), if it is one.
    pub fn for_spark_name(spark_name: &str) -> Option<SparkGenerator> {
        let lower = spark_name.to_ascii_lowercase();
        let (base, outer) = match lower.strip_suffix("_outer") {
            Some(b) => (b.to_string(), true),
            None => (lower.clone(), false),
        };
        let kind = match base.as_str() {
            "explode" => GeneratorKind::Explode,
            "posexplode" => GeneratorKind::PosExplode,
            "inline" => GeneratorKind::Inline,
            "stack" if !outer => GeneratorKind::Stack,
            "json_tuple" if !outer => GeneratorKind::JsonTuple,
            _ => return None,
        };
        let signature = match kind {
            GeneratorKind::Stack | GeneratorKind::JsonTuple => {
                Signature::user_defined(Volatility::Immutable)
            }
            _ => Signature::any(1, Volatility::Immutable),
        };
        Some(SparkGenerator {
            kind,
            outer,
            name: format!("ember_{lower}"),
            signature,
        })
    }

    /// All generators, as UDFs named `ember_<spark name>`.
    pub fn udfs() -> Vec<ScalarUDF> {
        GENERATORS
            .iter()
            .filter_map(|n| SparkGenerator::for_spark_name(n))
            .map(ScalarUDF::new_from_impl)
            .collect()
    }

    fn row_fields(&self, args: &[FieldRef], scalars: &[Option<&ScalarValue>]) -> Result<Fields> {
        let pos = Field::new("pos", DataType::Int32, self.outer);
        let with_pos = |mut v: Vec<Field>| {
            if self.kind == GeneratorKind::PosExplode {
                v.insert(0, pos.clone());
            }
            Fields::from(v)
        };
        match self.kind {
            GeneratorKind::Explode | GeneratorKind::PosExplode => match args.first().map(|f| f.data_type()) {
                Some(DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)) => {
                    // Spark: `col` is NULL only where the array holds NULLs (or outer).
                    Ok(with_pos(vec![Field::new(
                        "col",
                        f.data_type().clone(),
                        f.is_nullable() || self.outer,
                    )]))
                }
                Some(DataType::Map(entries, _)) => match entries.data_type() {
                    DataType::Struct(kv) if kv.len() == 2 => Ok(with_pos(vec![
                        Field::new("key", kv[0].data_type().clone(), self.outer),
                        Field::new(
                            "value",
                            kv[1].data_type().clone(),
                            kv[1].is_nullable() || self.outer,
                        ),
                    ])),
                    other => plan_err!("map entries of type {other}"),
                },
                Some(other) => plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: the input should be of \"ARRAY\" or \"MAP\" type, however it is of {other} type.",
                    self.spark_name()
                ),
                None => plan_err!("{} takes one argument", self.spark_name()),
            },
            GeneratorKind::Inline => match args.first().map(|f| f.data_type()) {
                Some(DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)) => {
                    match f.data_type() {
                        DataType::Struct(fs) => Ok(fs
                            .iter()
                            .map(|f| f.as_ref().clone().with_nullable(true))
                            .collect()),
                        other => plan_err!(
                            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] inline needs an array of structs, not of {other}"
                        ),
                    }
                }
                Some(other) => plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] inline needs an array of structs, not {other}"
                ),
                None => plan_err!("inline takes one argument"),
            },
            GeneratorKind::JsonTuple => Ok((1..args.len())
                .map(|j| Field::new(format!("c{}", j - 1), DataType::Utf8, true))
                .collect()),
            GeneratorKind::Stack => {
                let n = stack_rows(scalars.first().copied().flatten())?;
                let k = args.len() - 1;
                let m = k.div_ceil(n).max(1);
                // Each column's type: the common type of its values (Spark requires
                // the values of a column to share one).
                Ok((0..m)
                    .map(|j| {
                        let types: Vec<DataType> = (0..n)
                            .filter_map(|s| args.get(1 + s * m + j))
                            .map(|f| f.data_type().clone())
                            .filter(|t| *t != DataType::Null)
                            .collect();
                        let t = type_union_resolution(&types)
                            .or_else(|| types.first().cloned())
                            .unwrap_or(DataType::Null);
                        Field::new(format!("col{j}"), t, true)
                    })
                    .collect())
            }
        }
    }

    fn spark_name(&self) -> &str {
        self.name.trim_start_matches("ember_")
    }
}

fn stack_rows(n: Option<&ScalarValue>) -> Result<usize> {
    let n = match n.map(|v| v.cast_to(&DataType::Int64)) {
        Some(Ok(ScalarValue::Int64(Some(n)))) => n,
        _ => return plan_err!("[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] The first argument of stack must be a constant integer."),
    };
    if n < 1 {
        return plan_err!("[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] The number of rows of stack must be positive, got {n}.");
    }
    Ok(n as usize)
}

fn list_of(fields: Fields) -> DataType {
    DataType::List(Arc::new(Field::new(
        "item",
        DataType::Struct(fields),
        false,
    )))
}

impl ScalarUDFImpl for SparkGenerator {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("{} is typed from its arguments", self.name)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let fields = self.row_fields(args.arg_fields, args.scalar_arguments)?;
        Ok(Arc::new(Field::new(&self.name, list_of(fields), true)))
    }
    /// `stack`: `n` as `int`, the values of each output column to their common type.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if self.kind == GeneratorKind::JsonTuple {
            if arg_types.len() < 2 {
                return plan_err!(
                    "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `json_tuple` requires > 1 parameters but the actual number is {}.",
                    arg_types.len()
                );
            }
            return Ok(vec![DataType::Utf8; arg_types.len()]);
        }
        if arg_types.len() < 2 {
            return plan_err!("[WRONG_NUM_ARGS] stack needs at least 2 arguments");
        }
        // The values keep their types: each output column is cast to the common type
        // of its own values (`return_field_from_args`, which knows `n`).
        let mut out = arg_types.to_vec();
        out[0] = DataType::Int32;
        Ok(out)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let fields = match args.return_field.data_type() {
            DataType::List(f) => match f.data_type() {
                DataType::Struct(fs) => fs.clone(),
                _ => return exec_err!("{}: unexpected return type", self.name),
            },
            _ => return exec_err!("{}: unexpected return type", self.name),
        };
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<_>>()?;
        let out = match self.kind {
            GeneratorKind::Stack => {
                let n = match &args.args[0] {
                    ColumnarValue::Scalar(s) => stack_rows(Some(s))?,
                    _ => return exec_err!("stack: the number of rows must be a constant"),
                };
                stack(&arrays[1..], n, &fields, rows)?
            }
            GeneratorKind::JsonTuple => json_tuple(&arrays, &fields, rows)?,
            _ => self.explode(&arrays[0], &fields)?,
        };
        Ok(ColumnarValue::Array(out))
    }
}

impl SparkGenerator {
    fn explode(&self, input: &ArrayRef, fields: &Fields) -> Result<ArrayRef> {
        let (offsets, values): (Vec<(bool, usize, usize)>, ArrayRef) = match input.data_type() {
            DataType::Map(_, _) => {
                let m = input.as_map();
                let o = m.value_offsets();
                let spans = (0..m.len())
                    .map(|i| (m.is_valid(i), o[i] as usize, (o[i + 1] - o[i]) as usize))
                    .collect();
                (spans, Arc::new(m.entries().clone()))
            }
            DataType::List(_) => spans_of(input.as_list::<i32>()),
            DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                let as_list = cast(input, &DataType::List(f.clone()))?;
                spans_of(as_list.as_list::<i32>())
            }
            other => return exec_err!("{}: unsupported input type {other}", self.name),
        };
        let mut idx: Vec<Option<u32>> = Vec::new();
        let mut pos: Vec<Option<i32>> = Vec::new();
        let mut out_offsets: Vec<i32> = Vec::with_capacity(offsets.len() + 1);
        out_offsets.push(0);
        for (valid, start, len) in offsets {
            if valid && len > 0 {
                for k in 0..len {
                    idx.push(Some((start + k) as u32));
                    pos.push(Some(k as i32));
                }
            } else if self.outer {
                idx.push(None);
                pos.push(None);
            }
            out_offsets.push(idx.len() as i32);
        }
        let taken = take(values.as_ref(), &UInt32Array::from(idx), None)?;
        let mut columns: Vec<ArrayRef> = Vec::new();
        if self.kind == GeneratorKind::PosExplode {
            columns.push(Arc::new(datafusion::arrow::array::Int32Array::from(pos)));
        }
        let item_nulls = match (self.kind, input.data_type()) {
            (GeneratorKind::Inline, _) => {
                let s = taken.as_struct();
                columns.extend(s.columns().iter().cloned());
                s.nulls().cloned()
            }
            (_, DataType::Map(_, _)) => {
                let s = taken.as_struct();
                columns.extend(s.columns().iter().cloned());
                None
            }
            _ => {
                columns.push(taken);
                None
            }
        };
        let rows = StructArray::try_new(fields.clone(), columns, item_nulls)?;
        let list = ListArray::try_new(
            Arc::new(Field::new("item", DataType::Struct(fields.clone()), false)),
            OffsetBuffer::new(out_offsets.into()),
            Arc::new(rows),
            None,
        )?;
        Ok(Arc::new(list))
    }
}

fn spans_of(l: &ListArray) -> (Vec<(bool, usize, usize)>, ArrayRef) {
    let o = l.value_offsets();
    let spans = (0..l.len())
        .map(|i| (l.is_valid(i), o[i] as usize, (o[i + 1] - o[i]) as usize))
        .collect();
    (spans, l.values().clone())
}

/// `json_tuple(json, keys...)`: one row per input row (as Spark's `JsonTuple`, a
/// NULL or invalid document gives a row of NULLs).
fn json_tuple(args: &[ArrayRef], fields: &Fields, rows: usize) -> Result<ArrayRef> {
    use datafusion::arrow::array::StringBuilder;
    let json = args[0].as_string::<i32>();
    let keys: Vec<_> = args[1..].iter().map(|a| a.as_string::<i32>()).collect();
    let mut cols: Vec<StringBuilder> = keys.iter().map(|_| StringBuilder::new()).collect();
    for r in 0..rows {
        let doc = if json.is_null(r) {
            None
        } else {
            serde_json::from_str::<serde_json::Value>(json.value(r)).ok()
        };
        for (j, k) in keys.iter().enumerate() {
            let v = match (&doc, k.is_null(r)) {
                (Some(serde_json::Value::Object(m)), false) => m.get(k.value(r)),
                _ => None,
            };
            match v {
                None | Some(serde_json::Value::Null) => cols[j].append_null(),
                Some(serde_json::Value::String(s)) => cols[j].append_value(s),
                Some(other) => cols[j].append_value(other.to_string()),
            }
        }
    }
    let columns: Vec<ArrayRef> = cols
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    let rows_array = StructArray::try_new(fields.clone(), columns, None)?;
    let offsets: Vec<i32> = (0..=rows as i32).collect();
    Ok(Arc::new(ListArray::try_new(
        Arc::new(Field::new("item", DataType::Struct(fields.clone()), false)),
        OffsetBuffer::new(offsets.into()),
        Arc::new(rows_array),
        None,
    )?))
}

/// `stack(n, values...)`: for each input row, `n` rows; value `s * m + j` goes to row
/// `s`, column `j` (`m` columns), NULL past the last value.
fn stack(values: &[ArrayRef], n: usize, fields: &Fields, rows: usize) -> Result<ArrayRef> {
    let m = fields.len();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(m);
    for (j, f) in fields.iter().enumerate() {
        // The values of column j (row s's is value s * m + j), as the column's type.
        let mut owned: Vec<ArrayRef> = Vec::with_capacity(n + 1);
        for s in 0..n {
            if let Some(v) = values.get(s * m + j) {
                owned.push(if v.data_type() == f.data_type() {
                    v.clone()
                } else {
                    cast(v, f.data_type())?
                });
            }
        }
        let present = owned.len();
        owned.push(new_null_array(f.data_type(), 1));
        let sources: Vec<&dyn Array> = owned.iter().map(|a| a.as_ref()).collect();
        let mut idx = Vec::with_capacity(rows * n);
        for r in 0..rows {
            for s in 0..n {
                idx.push(if s < present { (s, r) } else { (present, 0) });
            }
        }
        let col = interleave(&sources, &idx)?;
        columns.push(if col.data_type() == f.data_type() {
            col
        } else {
            cast(&col, f.data_type())?
        });
    }
    let offsets: Vec<i32> = (0..=rows).map(|r| (r * n) as i32).collect();
    let rows_arr = StructArray::try_new(fields.clone(), columns, None)?;
    Ok(Arc::new(ListArray::try_new(
        Arc::new(Field::new("item", DataType::Struct(fields.clone()), false)),
        OffsetBuffer::new(offsets.into()),
        Arc::new(rows_arr),
        None,
    )?))
}
