//! Spark's VARIANT functions: `parse_json`, `try_parse_json`, `is_variant_null`,
//! `is_valid_variant`, `schema_of_variant`, `schema_of_variant_agg`, `variant_get`,
//! `try_variant_get`, `variant_set`, `variant_insert`, `variant_delete`,
//! `variant_array_append` (and their `try_` forms: NULL where the plain form fails),
//! `variant_strip_nulls`, `to_variant_object` (a struct, map or array as a variant).
//!
//! A VARIANT value is carried as its canonical JSON text ([`variant_json`]: keys
//! sorted, Spark's number kinds) in a `Utf8` column whose field is marked
//! [`VARIANT_KEY`] = `variant`, so `show()` prints what Spark prints and the functions
//! tell a variant argument from a string. A SQL NULL argument gives NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, StringArray};
use datafusion::arrow::compute::{cast_with_options, CastOptions};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{exec_err, plan_err, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::variant_json::{self as vj, EditError, Num, J};

/// Field metadata key marking a `Utf8` column as Spark's VARIANT (value `variant`).
pub const VARIANT_KEY: &str = "ember.spark_type";

/// Whether a field holds VARIANT values.
pub fn is_variant(f: &Field) -> bool {
    f.metadata()
        .get(VARIANT_KEY)
        .is_some_and(|v| v == "variant")
}

/// A VARIANT field named `name`.
pub fn variant_field(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true).with_metadata(
        [(VARIANT_KEY.to_string(), "variant".to_string())]
            .into_iter()
            .collect(),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Parse,
    IsNull,
    IsValid,
    Schema,
    Get,
    Set,
    Insert,
    Delete,
    Append,
    Strip,
    ToObject,
}

/// One VARIANT function (see the module docs); `try_` forms answer NULL for failures.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct VariantFn {
    name: &'static str,
    kind: Kind,
    try_: bool,
    signature: Signature,
}

/// The scalar VARIANT functions.
pub fn functions() -> Vec<ScalarUDF> {
    use Kind::*;
    [
        ("parse_json", Parse, false),
        ("try_parse_json", Parse, true),
        ("is_variant_null", IsNull, false),
        ("is_valid_variant", IsValid, false),
        ("schema_of_variant", Schema, false),
        ("variant_get", Get, false),
        ("try_variant_get", Get, true),
        ("variant_set", Set, false),
        ("try_variant_set", Set, true),
        ("variant_insert", Insert, false),
        ("try_variant_insert", Insert, true),
        ("variant_delete", Delete, false),
        ("variant_array_append", Append, false),
        ("try_variant_array_append", Append, true),
        ("variant_strip_nulls", Strip, false),
        ("to_variant_object", ToObject, false),
    ]
    .into_iter()
    .map(|(name, kind, try_)| {
        ScalarUDF::new_from_impl(VariantFn {
            name,
            kind,
            try_,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    })
    .collect()
}

fn arity(name: &str, n: usize, min: usize, max: usize) -> Result<()> {
    if n < min || n > max {
        let want = if min == max {
            min.to_string()
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("[{min}, {max}]")
        };
        return plan_err!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires {want} parameters but the actual number is {n}."
        );
    }
    Ok(())
}

fn string_like(t: &DataType) -> DataType {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            DataType::Utf8
        }
        other => other.clone(),
    }
}

impl VariantFn {
    fn arities(&self) -> (usize, usize) {
        match self.kind {
            Kind::Parse | Kind::IsNull | Kind::IsValid | Kind::Schema | Kind::ToObject => (1, 1),
            Kind::Get => (2, 3),
            Kind::Set => (3, 4),
            Kind::Insert | Kind::Append => (3, 3),
            Kind::Delete => (2, usize::MAX),
            Kind::Strip => (1, 2),
        }
    }

    fn fail(&self, msg: String) -> Result<Option<J>> {
        if self.try_ {
            Ok(None)
        } else {
            Err(DataFusionError::Execution(msg))
        }
    }

    fn edit_error(&self, e: EditError, path: &str) -> Result<Option<J>> {
        let msg = match e {
            EditError::TypeMismatch => format!(
                "[VARIANT_PATH_TYPE_MISMATCH] `{}` cannot follow the path '{path}': a step meets a value of another kind.",
                self.name
            ),
            EditError::Exists => format!(
                "[VARIANT_DUPLICATE_KEY] `{}` cannot insert at '{path}': a value exists there.",
                self.name
            ),
        };
        self.fail(msg)
    }
}

/// A SQL value as a variant value (`None` for SQL NULL).
fn to_j(v: &ScalarValue, variant: bool) -> Result<Option<J>> {
    if v.is_null() {
        return Ok(None);
    }
    Ok(Some(match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => {
            if variant {
                vj::parse_canonical(s)
                    .map_err(|e| DataFusionError::Execution(format!("[MALFORMED_VARIANT] {e}")))?
            } else {
                J::Str(s.clone())
            }
        }
        ScalarValue::Boolean(Some(b)) => J::Bool(*b),
        ScalarValue::Int8(Some(x)) => J::Num(Num::Int(*x as i64)),
        ScalarValue::Int16(Some(x)) => J::Num(Num::Int(*x as i64)),
        ScalarValue::Int32(Some(x)) => J::Num(Num::Int(*x as i64)),
        ScalarValue::Int64(Some(x)) => J::Num(Num::Int(*x)),
        ScalarValue::Float32(Some(x)) => J::Num(Num::Double(*x as f64)),
        ScalarValue::Float64(Some(x)) => J::Num(Num::Double(*x)),
        ScalarValue::Decimal128(Some(x), _, s) => {
            match vj::parse(&crate::sql::naming::decimal_text(*x, *s)) {
                Ok(j) => j,
                Err(e) => return Err(DataFusionError::Execution(e)),
            }
        }
        ScalarValue::List(a) => {
            let inner = a.value(0);
            let mut items = Vec::with_capacity(inner.len());
            for i in 0..inner.len() {
                items.push(
                    to_j(&ScalarValue::try_from_array(&inner, i)?, false)?.unwrap_or(J::Null),
                );
            }
            J::Arr(items)
        }
        ScalarValue::Map(m) => {
            let mut fields: Vec<(String, J)> = Vec::new();
            if !m.is_null(0) {
                let entries = m.value(0);
                let keys =
                    cast_with_options(entries.column(0), &DataType::Utf8, &CastOptions::default())?;
                for k in 0..entries.len() {
                    let key = match ScalarValue::try_from_array(&keys, k)? {
                        ScalarValue::Utf8(Some(s)) => s,
                        _ => continue,
                    };
                    let x = to_j(&ScalarValue::try_from_array(entries.column(1), k)?, false)?
                        .unwrap_or(J::Null);
                    match fields.binary_search_by(|(n, _)| n.as_str().cmp(&key)) {
                        Ok(pos) => fields[pos].1 = x,
                        Err(pos) => fields.insert(pos, (key, x)),
                    }
                }
            }
            J::Obj(fields)
        }
        ScalarValue::Struct(s) => {
            let mut fields: Vec<(String, J)> = Vec::new();
            for (f, c) in s.fields().iter().zip(s.columns()) {
                let x =
                    to_j(&ScalarValue::try_from_array(c, 0)?, is_variant(f))?.unwrap_or(J::Null);
                match fields.binary_search_by(|(k, _)| k.as_str().cmp(f.name())) {
                    Ok(pos) => fields[pos].1 = x,
                    Err(pos) => fields.insert(pos, (f.name().clone(), x)),
                }
            }
            J::Obj(fields)
        }
        other => {
            let text = ScalarValue::try_from_array(
                &cast_with_options(&other.to_array()?, &DataType::Utf8, &CastOptions::default())?,
                0,
            )?;
            match text {
                ScalarValue::Utf8(Some(s)) => J::Str(s),
                _ => J::Null,
            }
        }
    }))
}

fn text_of(v: &ScalarValue) -> Option<String> {
    match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

fn bool_of(v: &ScalarValue) -> Option<bool> {
    match v {
        ScalarValue::Boolean(b) => *b,
        _ => None,
    }
}

/// The type `variant_get(v, path, type)` asks for (a constant type name).
fn get_type(args: &ReturnFieldArgs) -> Result<Option<DataType>> {
    match args.scalar_arguments.get(2) {
        None => Ok(None),
        Some(Some(v)) => match text_of(v) {
            Some(t) => Ok(Some(crate::types::parse_data_type(&t, "UTC").map_err(|e| {
                DataFusionError::Plan(format!("[INVALID_VARIANT_GET_TYPE] {e}"))
            })?)),
            None => plan_err!("[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] the type of `variant_get` must be a constant string"),
        },
        Some(None) => plan_err!("[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] the type of `variant_get` must be a constant string"),
    }
}

impl ScalarUDFImpl for VariantFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let (min, max) = self.arities();
        arity(self.name, arg_types.len(), min, max)?;
        Ok(arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| match (self.kind, i) {
                (Kind::Set | Kind::Insert | Kind::Append, 2) | (Kind::ToObject, 0) => t.clone(),
                (Kind::Set, 3) | (Kind::Strip, 1) => DataType::Boolean,
                _ => string_like(t),
            })
            .collect())
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        plan_err!("{} computes its field from its arguments", self.name)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let f = match self.kind {
            Kind::IsNull | Kind::IsValid => Field::new(self.name, DataType::Boolean, true),
            Kind::Schema => Field::new(self.name, DataType::Utf8, true),
            Kind::Get => match get_type(&args)? {
                Some(t) => Field::new(self.name, t, true),
                None => variant_field(self.name),
            },
            _ => variant_field(self.name),
        };
        Ok(Arc::new(f))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let variant_arg: Vec<bool> = args.arg_fields.iter().map(|f| is_variant(f)).collect();
        let rows = if scalar { 1 } else { n };
        let out: ArrayRef = match self.kind {
            Kind::IsNull | Kind::IsValid => {
                let mut v = Vec::with_capacity(rows);
                for i in 0..rows {
                    let x = ScalarValue::try_from_array(&arrays[0], i)?;
                    v.push(match (self.kind, text_of(&x)) {
                        (Kind::IsNull, None) => Some(false),
                        (Kind::IsNull, Some(t)) => Some(t == "null"),
                        (_, None) => None,
                        (_, Some(t)) => Some(vj::parse_canonical(&t).is_ok()),
                    });
                }
                Arc::new(BooleanArray::from(v))
            }
            Kind::Get if args.arg_fields.len() == 3 => {
                let target = args.return_field.data_type().clone();
                let mut texts: Vec<Option<String>> = Vec::with_capacity(rows);
                for i in 0..rows {
                    let got = self.get(&arrays, i, &variant_arg)?;
                    // A number read as an integral type is truncated (1.5 as int is 1).
                    let integral = target.is_integer();
                    texts.push(got.map(|j| match j {
                        J::Str(s) => s,
                        J::Num(Num::Decimal { text, .. }) if integral => {
                            text.split('.').next().unwrap_or("0").to_string()
                        }
                        J::Num(Num::Double(d)) if integral && d.is_finite() => {
                            format!("{}", d.trunc() as i128)
                        }
                        other => vj::to_text(&other),
                    }));
                }
                let strings: ArrayRef = Arc::new(StringArray::from(texts));
                let opts = CastOptions {
                    safe: self.try_,
                    ..Default::default()
                };
                cast_with_options(&strings, &target, &opts).map_err(|e| {
                    DataFusionError::Execution(format!("[INVALID_VARIANT_CAST] {e}"))
                })?
            }
            _ => {
                let mut v: Vec<Option<String>> = Vec::with_capacity(rows);
                for i in 0..rows {
                    v.push(self.row(&arrays, i, &variant_arg)?);
                }
                Arc::new(StringArray::from(v))
            }
        };
        if scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}

impl VariantFn {
    fn arg(&self, arrays: &[ArrayRef], k: usize, i: usize) -> Result<ScalarValue> {
        ScalarValue::try_from_array(&arrays[k], i)
    }

    fn base(&self, arrays: &[ArrayRef], i: usize) -> Result<Option<J>> {
        match text_of(&self.arg(arrays, 0, i)?) {
            None => Ok(None),
            Some(t) => vj::parse_canonical(&t)
                .map(Some)
                .map_err(|e| DataFusionError::Execution(format!("[MALFORMED_VARIANT] {e}"))),
        }
    }

    fn path(
        &self,
        arrays: &[ArrayRef],
        k: usize,
        i: usize,
    ) -> Result<Option<(String, Vec<vj::Seg>)>> {
        let Some(p) = text_of(&self.arg(arrays, k, i)?) else {
            return Ok(None);
        };
        match vj::parse_path(&p) {
            Some(segs) => Ok(Some((p, segs))),
            None if self.kind == Kind::Get => exec_err!(
                "[INVALID_VARIANT_GET_PATH] The path `{p}` is not a valid variant extraction path in `{}`.",
                self.name
            ),
            None => exec_err!(
                "[INVALID_VARIANT_PATH] The path `{p}` is not a valid variant path in `{}`.",
                self.name
            ),
        }
    }

    fn get(&self, arrays: &[ArrayRef], i: usize, _variant: &[bool]) -> Result<Option<J>> {
        let (Some(v), Some((_, path))) = (self.base(arrays, i)?, self.path(arrays, 1, i)?) else {
            return Ok(None);
        };
        Ok(vj::get(&v, &path).cloned())
    }

    /// One row of a function with a VARIANT (text) result.
    fn row(&self, arrays: &[ArrayRef], i: usize, variant: &[bool]) -> Result<Option<String>> {
        let out = match self.kind {
            Kind::Parse => match text_of(&self.arg(arrays, 0, i)?) {
                None => None,
                Some(t) => match vj::parse(&t) {
                    Ok(j) => Some(j),
                    Err(e) => self.fail(format!(
                        "[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected in record parsing: {e}. Parse Mode: FAILFAST."
                    ))?,
                },
            },
            Kind::Schema => {
                return Ok(self
                    .base(arrays, i)?
                    .map(|v| vj::schema_text(&vj::schema_of(&v))))
            }
            Kind::Get => self.get(arrays, i, variant)?,
            Kind::Strip => {
                let recursive = match arrays.get(1) {
                    Some(_) => match bool_of(&self.arg(arrays, 1, i)?) {
                        Some(b) => b,
                        None => return Ok(None),
                    },
                    None => true,
                };
                self.base(arrays, i)?.map(|mut v| {
                    vj::strip_nulls(&mut v, recursive);
                    v
                })
            }
            Kind::Delete => {
                let Some(mut v) = self.base(arrays, i)? else {
                    return Ok(None);
                };
                for k in 1..arrays.len() {
                    if let Some((_, path)) = self.path(arrays, k, i)? {
                        vj::delete(&mut v, &path);
                    }
                }
                Some(v)
            }
            Kind::Set | Kind::Insert | Kind::Append => {
                let (Some(mut v), Some((text, path))) = (self.base(arrays, i)?, self.path(arrays, 1, i)?)
                else {
                    return Ok(None);
                };
                let Some(val) = to_j(&self.arg(arrays, 2, i)?, variant[2])? else {
                    return Ok(None);
                };
                let done = match self.kind {
                    Kind::Set => {
                        let create = match arrays.get(3) {
                            Some(_) => match bool_of(&self.arg(arrays, 3, i)?) {
                                Some(b) => b,
                                None => return Ok(None),
                            },
                            None => true,
                        };
                        vj::set(&mut v, &path, val, create)
                    }
                    Kind::Insert => vj::insert(&mut v, &path, val),
                    _ => vj::array_append(&mut v, &path, val),
                };
                match done {
                    Ok(()) => Some(v),
                    Err(e) => self.edit_error(e, &text)?,
                }
            }
            Kind::ToObject => to_j(&self.arg(arrays, 0, i)?, variant[0])?,
            Kind::IsNull | Kind::IsValid => None,
        };
        Ok(out.map(|j| vj::to_text(&j)))
    }
}

/// `schema_of_variant_agg(v)`: the merged schema of all rows' values.
pub fn schema_agg_udaf() -> datafusion::logical_expr::AggregateUDF {
    datafusion::logical_expr::AggregateUDF::new_from_impl(SchemaAgg {
        signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SchemaAgg {
    signature: Signature,
}

impl datafusion::logical_expr::AggregateUDFImpl for SchemaAgg {
    fn name(&self) -> &str {
        "schema_of_variant_agg"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn state_fields(
        &self,
        _: datafusion::logical_expr::function::StateFieldsArgs,
    ) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new("schema", DataType::Utf8, true))])
    }
    fn accumulator(
        &self,
        _: datafusion::logical_expr::function::AccumulatorArgs,
    ) -> Result<Box<dyn datafusion::logical_expr::Accumulator>> {
        Ok(Box::new(SchemaAcc { t: None }))
    }
}

/// The merged schema so far; `None` before any non-NULL row.
#[derive(Debug)]
struct SchemaAcc {
    t: Option<vj::VType>,
}

/// A schema as a JSON value (for the aggregation's state).
fn vtype_to_j(t: &vj::VType) -> J {
    use vj::VType::*;
    match t {
        Array(e) => J::Arr(vec![vtype_to_j(e)]),
        Object(f) => J::Obj(f.iter().map(|(k, t)| (k.clone(), vtype_to_j(t))).collect()),
        other => J::Str(vj::schema_text(other)),
    }
}

fn vtype_of_j(j: &J) -> vj::VType {
    use vj::VType::*;
    match j {
        J::Arr(e) => Array(Box::new(e.first().map(vtype_of_j).unwrap_or(Void))),
        J::Obj(f) => Object(f.iter().map(|(k, x)| (k.clone(), vtype_of_j(x))).collect()),
        J::Str(s) => match s.as_str() {
            "VOID" => Void,
            "BOOLEAN" => Boolean,
            "BIGINT" => Bigint,
            "DOUBLE" => Double,
            "STRING" => String,
            s if s.starts_with("DECIMAL(") => {
                let inner = s.trim_start_matches("DECIMAL(").trim_end_matches(')');
                let (p, sc) = inner.split_once(',').unwrap_or(("38", "0"));
                Decimal(
                    p.trim().parse().unwrap_or(38),
                    sc.trim().parse().unwrap_or(0),
                )
            }
            _ => Variant,
        },
        _ => Variant,
    }
}

impl SchemaAcc {
    fn add(&mut self, t: vj::VType) {
        self.t = Some(match self.t.take() {
            None => t,
            Some(prev) => vj::merge(&prev, &t),
        });
    }
}

impl datafusion::logical_expr::Accumulator for SchemaAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for i in 0..values[0].len() {
            if let Some(t) = text_of(&ScalarValue::try_from_array(&values[0], i)?) {
                let j = vj::parse_canonical(&t)
                    .map_err(|e| DataFusionError::Execution(format!("[MALFORMED_VARIANT] {e}")))?;
                self.add(vj::schema_of(&j));
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for i in 0..states[0].len() {
            if let Some(t) = text_of(&ScalarValue::try_from_array(&states[0], i)?) {
                if let Ok(j) = vj::parse_canonical(&t) {
                    self.add(vtype_of_j(&j));
                }
            }
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Utf8(
            self.t.as_ref().map(|t| vj::to_text(&vtype_to_j(t))),
        )])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Utf8(Some(vj::schema_text(
            self.t.as_ref().unwrap_or(&vj::VType::Void),
        ))))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}
