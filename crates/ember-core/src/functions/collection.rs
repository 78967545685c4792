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
}

impl ElementAt {
    /// Wraps the session's previous `element_at`.
    pub fn udf(inner: Arc<ScalarUDF>) -> ScalarUDF {
        ScalarUDF::new_from_impl(ElementAt {
            inner,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for ElementAt {
    fn name(&self) -> &str {
        "element_at"
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
        let ansi = args.config_options.execution.enable_ansi_mode;
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
