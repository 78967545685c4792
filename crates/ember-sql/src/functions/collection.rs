//! Spark's array and map functions with Spark 4 semantics: `size` (NULL for NULL),
//! `get` (0-based, NULL out of bounds), subscripts `a[i]` (0-based,
//! `INVALID_ARRAY_INDEX` under ANSI) and `element_at` (1-based, negative from the end).

use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, Int32Array, Int64Array, ListArray, UInt32Array,
};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Spark's `element_at`: for arrays, 1-based (negative counts from the end) with
/// `INVALID_ARRAY_INDEX_IN_ELEMENT_AT` out of bounds under ANSI; other inputs (maps)
/// go to the wrapped implementation.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ElementAt {
    inner: Arc<ScalarUDF>,
    signature: Signature,
    /// `try_element_at`: NULL out of bounds whatever `spark.sql.ansi.enabled` says
    /// (index 0 still fails, as Spark's).
    try_: bool,
}

impl ElementAt {
    /// Wraps the session's previous `element_at`.
    pub fn udf(inner: Arc<ScalarUDF>) -> ScalarUDF {
        ScalarUDF::new_from_impl(ElementAt {
            inner,
            signature: Signature::user_defined(Volatility::Immutable),
            try_: false,
        })
    }

    /// `try_element_at` over the session's previous `element_at` (for maps).
    pub fn try_udf(inner: Arc<ScalarUDF>) -> ScalarUDF {
        ScalarUDF::new_from_impl(ElementAt {
            inner,
            signature: Signature::user_defined(Volatility::Immutable),
            try_: true,
        })
    }
}

impl ScalarUDFImpl for ElementAt {
    fn name(&self) -> &str {
        if self.try_ {
            "try_element_at"
        } else {
            "element_at"
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types.first() {
            Some(DataType::List(_)) => Ok(vec![arg_types[0].clone(), DataType::Int64]),
            _ => self.inner.coerce_types(arg_types),
        }
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(DataType::List(f)) => Ok(f.data_type().clone()),
            Some(DataType::Map(f, _)) => match f.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => Ok(kv[1].data_type().clone()),
                _ => self.inner.return_type(arg_types),
            },
            _ => self.inner.return_type(arg_types),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !matches!(
            args.arg_fields.first().map(|f| f.data_type()),
            Some(DataType::List(_))
        ) {
            // Maps: the wrapped map_extract returns a one-element list per row; Spark
            // returns the value itself.
            let mut inner_args = args;
            let inner_ret = self.inner.return_type(
                &inner_args
                    .arg_fields
                    .iter()
                    .map(|f| f.data_type().clone())
                    .collect::<Vec<_>>(),
            )?;
            inner_args.return_field = Arc::new(datafusion::arrow::datatypes::Field::new(
                "element_at",
                inner_ret,
                true,
            ));
            let out = self.inner.invoke_with_args(inner_args)?;
            let arr = out.into_array(1)?;
            if let DataType::List(_) = arr.data_type() {
                let l = arr.as_list::<i32>();
                let offsets = l.value_offsets();
                let idx: UInt32Array = (0..l.len())
                    .map(|i| {
                        if l.is_null(i) || l.value_length(i) == 0 {
                            None
                        } else {
                            Some(offsets[i] as u32)
                        }
                    })
                    .collect();
                return Ok(ColumnarValue::Array(take(l.values().as_ref(), &idx, None)?));
            }
            return Ok(ColumnarValue::Array(arr));
        }
        let ansi = args.config_options.execution.enable_ansi_mode && !self.try_;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out = take_elements(&arrays[0], &arrays[1], |n, k| {
            if k == 0 {
                return exec_err!("[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1). SQLSTATE: 22003");
            }
            let pos = if k > 0 { k - 1 } else { n + k };
            if pos < 0 || pos >= n {
                if ansi {
                    return exec_err!("[INVALID_ARRAY_INDEX_IN_ELEMENT_AT] The index {k} is out of bounds. The array has {n} elements. Use `try_element_at` to tolerate accessing element at invalid index and return NULL instead. SQLSTATE: 22003");
                }
                return Ok(None);
            }
            Ok(Some(pos))
        })?;
        Ok(ColumnarValue::Array(out))
    }
}

pub(super) fn list_of(a: &ArrayRef) -> Result<&ListArray> {
    match a.data_type() {
        DataType::List(_) => Ok(a.as_list::<i32>()),
        other => {
            exec_err!("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] expected an ARRAY, got {other}")
        }
    }
}

pub(super) fn elem_type(args: &[DataType]) -> Result<DataType> {
    match args.first() {
        Some(DataType::List(f)) | Some(DataType::LargeList(f)) => Ok(f.data_type().clone()),
        Some(DataType::Null) => Ok(DataType::Null),
        Some(other) => plan_err!("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot index a value of type {other}: an ARRAY is required."),
        None => plan_err!("missing argument"),
    }
}

pub(super) fn size_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let arr = &a[0];
    if arr.data_type() == &DataType::Null {
        return Ok(new_null_array(&DataType::Int32, arr.len()));
    }
    let out: Int32Array = match arr.data_type() {
        DataType::List(_) => {
            let l = arr.as_list::<i32>();
            (0..l.len())
                .map(|i| {
                    if l.is_null(i) {
                        None
                    } else {
                        Some(l.value_length(i))
                    }
                })
                .collect()
        }
        DataType::Map(_, _) => {
            let m = arr.as_map();
            (0..m.len())
                .map(|i| {
                    if m.is_null(i) {
                        None
                    } else {
                        Some(m.value_length(i))
                    }
                })
                .collect()
        }
        other => {
            return exec_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] size() expects an ARRAY or MAP, got {other}"
        )
        }
    };
    Ok(Arc::new(out))
}

/// Takes one element per list row: `pick(length, index)` gives the 0-based position
/// to take, `None` for NULL, or an error; NULL lists or indexes give NULL.
fn take_elements(
    list: &ArrayRef,
    index: &ArrayRef,
    pick: impl Fn(i64, i64) -> Result<Option<i64>>,
) -> Result<ArrayRef> {
    let l = list_of(list)?;
    let idx = datafusion::arrow::compute::cast(index, &DataType::Int64)?;
    let idx: &Int64Array = idx.as_primitive();
    let offsets = l.value_offsets();
    let mut take_idx: Vec<Option<u32>> = Vec::with_capacity(l.len());
    for i in 0..l.len() {
        if l.is_null(i) || idx.is_null(i) {
            take_idx.push(None);
            continue;
        }
        let pos = pick(l.value_length(i) as i64, idx.value(i))?;
        take_idx.push(pos.map(|p| (offsets[i] as i64 + p) as u32));
    }
    Ok(take(
        l.values().as_ref(),
        &UInt32Array::from(take_idx),
        None,
    )?)
}

/// 0-based subscripts: `INVALID_ARRAY_INDEX` out of bounds when `ansi`, else NULL.
fn indices(a: &[ArrayRef], ansi: bool) -> Result<ArrayRef> {
    take_elements(&a[0], &a[1], |n, k| {
        if k < 0 || k >= n {
            if ansi {
                return exec_err!(
                    "[INVALID_ARRAY_INDEX] The index {k} is out of bounds. The array has {n} elements. Use the SQL function `get()` to tolerate accessing element at invalid index and return NULL instead. SQLSTATE: 22003"
                );
            }
            return Ok(None);
        }
        Ok(Some(k))
    })
}

pub(super) fn get_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    indices(a, false)
}

pub(super) fn ansi_index_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    indices(a, true)
}

/// More array functions for a session in time zone `tz`: `array_insert`.
pub(super) fn functions(tz: &str) -> Vec<ScalarUDF> {
    vec![super::udf_coerced(
        "array_insert",
        coerce_array_insert,
        |args| {
            Ok(match args.first() {
                Some(DataType::List(f)) => DataType::List(f.clone()),
                _ => DataType::Null,
            })
        },
        array_insert_impl,
        tz,
    )]
}

fn coerce_array_insert(args: &[DataType]) -> Result<Vec<DataType>> {
    super::args_between("array_insert", args, 3, 3)?;
    let elem = elem_type(args)?;
    let common = datafusion::logical_expr::type_coercion::binary::type_union_resolution(&[
        elem.clone(),
        args[2].clone(),
    ])
    .ok_or_else(|| {
        datafusion::common::DataFusionError::Plan(format!(
            "[DATATYPE_MISMATCH.ARRAY_FUNCTION_DIFF_TYPES] Cannot resolve \"array_insert\": the value to insert ({}) does not match the array's elements ({elem}).",
            args[2]
        ))
    })?;
    let list = DataType::List(Arc::new(
        datafusion::arrow::datatypes::Field::new_list_field(common.clone(), true),
    ));
    Ok(vec![list, DataType::Int32, common])
}

/// Spark's `array_insert(arr, pos, value)`: `pos` is 1-based; past the end the gap
/// is filled with NULLs; negative counts from the end (-1 appends), and past the
/// start the value comes first, then NULLs; 0 is `INVALID_INDEX_OF_ZERO`. NULL array
/// or position gives NULL.
fn array_insert_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    use datafusion::arrow::array::{make_array, MutableArrayData};
    if a[0].data_type() == &DataType::Null {
        return Ok(new_null_array(&DataType::Null, a[0].len()));
    }
    let l = list_of(&a[0])?;
    let pos = a[1].as_primitive::<datafusion::arrow::datatypes::Int32Type>();
    let child = l.values().to_data();
    let value = a[2].to_data();
    let mut m = MutableArrayData::new(vec![&child, &value], true, child.len() + l.len());
    let offsets = l.value_offsets();
    let mut out_offsets: Vec<i32> = vec![0];
    let mut valid = Vec::with_capacity(l.len());
    let mut len: i64 = 0;
    for i in 0..l.len() {
        if l.is_null(i) || pos.is_null(i) {
            valid.push(false);
            out_offsets.push(len as i32);
            continue;
        }
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        let n = (end - start) as i64;
        let p = pos.value(i) as i64;
        if p == 0 {
            return exec_err!("[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1). SQLSTATE: 22003");
        }
        let at = if p > 0 { p - 1 } else { n + p + 1 };
        if at < 0 {
            m.extend(1, i, i + 1);
            m.extend_nulls((-at) as usize);
            m.extend(0, start, end);
            len += 1 - at + n;
        } else if at >= n {
            m.extend(0, start, end);
            m.extend_nulls((at - n) as usize);
            m.extend(1, i, i + 1);
            len += at + 1;
        } else {
            m.extend(0, start, start + at as usize);
            m.extend(1, i, i + 1);
            m.extend(0, start + at as usize, end);
            len += n + 1;
        }
        valid.push(true);
        out_offsets.push(len as i32);
    }
    let values = make_array(m.freeze());
    let DataType::List(field) = a[0].data_type() else {
        return exec_err!("array_insert expects an array");
    };
    Ok(Arc::new(ListArray::try_new(
        field.clone(),
        datafusion::arrow::buffer::OffsetBuffer::new(out_offsets.into()),
        values,
        Some(datafusion::arrow::buffer::NullBuffer::from(valid)),
    )?))
}
