//! Spark's map constructors with Spark's key rules (`ArrayBasedMapBuilder`):
//! `map(k1, v1, k2, v2, ...)` (SQL `map`, DataFrame `create_map`; no arguments give an
//! empty map) and `map_concat(m1, m2, ...)` (NULL when any input is NULL). Keys may not
//! be NULL (`NULL_MAP_KEY`); a repeated key fails with `DUPLICATED_MAP_KEY` under
//! `spark.sql.mapKeyDedupPolicy=EXCEPTION` (Spark's default) and, under `LAST_WIN`,
//! keeps the key's first position with the value given last.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{new_empty_array, Array, ArrayRef, AsArray, MapArray, StructArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::interleave;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::{exec_err, plan_err, Result, ScalarValue};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The configuration key that picks what a repeated map key does.
pub const MAP_KEY_DEDUP_POLICY: &str = "spark.sql.mapKeyDedupPolicy";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    /// `map(k1, v1, ...)`.
    Create,
    /// `map_concat(m1, m2, ...)`.
    Concat,
    /// `ember_empty_map_like(m)`: an empty map of `m`'s type (see `sql::naming`).
    EmptyLike,
}

/// `map`/`create_map` or `map_concat` under one dedup policy.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SparkMap {
    kind: Kind,
    /// `LAST_WIN` (else `EXCEPTION`).
    last_win: bool,
    signature: Signature,
}

/// The map functions for a session whose `spark.sql.mapKeyDedupPolicy` is `policy`
/// (`EXCEPTION` or `LAST_WIN`, case-insensitive; anything else reads as `EXCEPTION`).
/// Registered as `create_map` (SQL `map(...)` is renamed to it) and `map_concat`.
pub fn functions(policy: &str) -> Vec<ScalarUDF> {
    let last_win = policy.eq_ignore_ascii_case("LAST_WIN");
    [Kind::Create, Kind::Concat, Kind::EmptyLike]
        .into_iter()
        .map(|kind| {
            ScalarUDF::new_from_impl(SparkMap {
                kind,
                last_win,
                signature: Signature::user_defined(Volatility::Immutable),
            })
        })
        .collect()
}

/// The Arrow map type with these key and value types (field names as DataFusion's).
pub fn map_type(key: DataType, value: DataType) -> DataType {
    let fields = Fields::from(vec![
        Field::new("key", key, false),
        Field::new("value", value, true),
    ]);
    DataType::Map(
        Arc::new(Field::new("entries", DataType::Struct(fields), false)),
        false,
    )
}

fn key_value(t: &DataType) -> Option<(DataType, DataType)> {
    match t {
        DataType::Map(f, _) => match f.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                Some((kv[0].data_type().clone(), kv[1].data_type().clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

fn common(name: &str, what: &str, types: &[DataType]) -> Result<DataType> {
    if types.is_empty() {
        return Ok(DataType::Null);
    }
    type_union_resolution(types).ok_or_else(|| {
        datafusion::common::DataFusionError::Plan(format!(
            "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] Cannot resolve \"{name}\" due to data type mismatch: the {what} should all be the same type, but they are {types:?}."
        ))
    })
}

impl SparkMap {
    fn name_str(&self) -> &'static str {
        match self.kind {
            Kind::Create => "create_map",
            Kind::Concat => "map_concat",
            Kind::EmptyLike => "ember_empty_map_like",
        }
    }
}

impl ScalarUDFImpl for SparkMap {
    fn name(&self) -> &str {
        self.name_str()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match self.kind {
            Kind::EmptyLike => Ok(arg_types.to_vec()),
            Kind::Create => {
                if arg_types.len() % 2 != 0 {
                    return plan_err!(
                        "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `map` requires an even number of parameters but the actual number is {}.",
                        arg_types.len()
                    );
                }
                let keys: Vec<DataType> = arg_types.iter().step_by(2).cloned().collect();
                let values: Vec<DataType> = arg_types.iter().skip(1).step_by(2).cloned().collect();
                let k = common("map", "keys", &keys)?;
                let v = common("map", "values", &values)?;
                Ok(arg_types
                    .iter()
                    .enumerate()
                    .map(|(i, _)| if i % 2 == 0 { k.clone() } else { v.clone() })
                    .collect())
            }
            Kind::Concat => {
                let mut keys = Vec::new();
                let mut values = Vec::new();
                for t in arg_types {
                    match t {
                        DataType::Null => {}
                        t => {
                            let Some((k, v)) = key_value(t) else {
                                return plan_err!(
                                    "[DATATYPE_MISMATCH.MAP_CONCAT_DIFF_TYPES] Cannot resolve \"map_concat\" due to data type mismatch: the arguments should all be maps, but one is {t}."
                                );
                            };
                            keys.push(k);
                            values.push(v);
                        }
                    }
                }
                let t = map_type(
                    common("map_concat", "map keys", &keys)?,
                    common("map_concat", "map values", &values)?,
                );
                Ok(vec![t; arg_types.len()])
            }
        }
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match self.kind {
            Kind::Create => {
                let k = arg_types.first().cloned().unwrap_or(DataType::Null);
                let v = arg_types.get(1).cloned().unwrap_or(DataType::Null);
                Ok(map_type(k, v))
            }
            Kind::Concat | Kind::EmptyLike => Ok(arg_types
                .first()
                .cloned()
                .unwrap_or_else(|| map_type(DataType::Null, DataType::Null))),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let rows = if all_scalar { 1 } else { args.number_rows };
        let rows = arrays.first().map(|a| a.len()).unwrap_or(rows);
        let out_type = args.return_field.data_type().clone();
        let out = match self.kind {
            Kind::Create => create(&arrays, rows, &out_type, self.last_win)?,
            Kind::Concat => concat(&arrays, rows, &out_type, self.last_win)?,
            Kind::EmptyLike => build(
                Entries {
                    keys: vec![],
                    values: vec![],
                    rows: vec![Some(vec![]); rows],
                },
                &out_type,
                false,
            )?,
        };
        if all_scalar && out.len() == 1 {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}

/// Key and value arrays the entries point into, and per output row the entries
/// as (source, index) before deduplication; `None` for a NULL output row.
struct Entries {
    keys: Vec<ArrayRef>,
    values: Vec<ArrayRef>,
    rows: Vec<Option<Vec<(usize, usize)>>>,
}

fn create(arrays: &[ArrayRef], rows: usize, out: &DataType, last_win: bool) -> Result<ArrayRef> {
    let keys: Vec<ArrayRef> = arrays.iter().step_by(2).cloned().collect();
    let values: Vec<ArrayRef> = arrays.iter().skip(1).step_by(2).cloned().collect();
    let per_row = (0..rows)
        .map(|r| Some((0..keys.len()).map(|p| (p, r)).collect()))
        .collect();
    build(
        Entries {
            keys,
            values,
            rows: per_row,
        },
        out,
        last_win,
    )
}

fn concat(arrays: &[ArrayRef], rows: usize, out: &DataType, last_win: bool) -> Result<ArrayRef> {
    let mut keys = Vec::new();
    let mut values = Vec::new();
    let mut maps = Vec::new();
    for a in arrays {
        if a.data_type() == &DataType::Null {
            // A NULL literal argument: every row is NULL.
            return Ok(datafusion::arrow::array::new_null_array(out, rows));
        }
        let m = a.as_map_opt().ok_or_else(|| {
            datafusion::common::DataFusionError::Execution(format!(
                "map_concat expects maps, got {}",
                a.data_type()
            ))
        })?;
        keys.push(m.keys().clone());
        values.push(m.values().clone());
        maps.push(m.clone());
    }
    let per_row = (0..rows)
        .map(|r| {
            if maps.iter().any(|m| m.is_null(r)) {
                return None;
            }
            let mut v = Vec::new();
            for (s, m) in maps.iter().enumerate() {
                let o = m.value_offsets();
                for i in o[r] as usize..o[r + 1] as usize {
                    v.push((s, i));
                }
            }
            Some(v)
        })
        .collect();
    build(
        Entries {
            keys,
            values,
            rows: per_row,
        },
        out,
        last_win,
    )
}

fn build(e: Entries, out: &DataType, last_win: bool) -> Result<ArrayRef> {
    let Some((key_type, value_type)) = key_value(out) else {
        return exec_err!("map function expects a map result type, got {out}");
    };
    let DataType::Map(entries_field, ordered) = out else {
        return exec_err!("map function expects a map result type, got {out}");
    };
    // Byte-comparable keys, so equality is exact for every key type (arrays, structs).
    let converter = RowConverter::new(vec![SortField::new(key_type.clone())])?;
    let key_rows = e
        .keys
        .iter()
        .map(|k| converter.convert_columns(std::slice::from_ref(k)))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut picked: Vec<(usize, usize)> = Vec::new();
    let mut offsets: Vec<i32> = vec![0];
    let mut valid: Vec<bool> = Vec::with_capacity(e.rows.len());
    for row in &e.rows {
        let Some(entries) = row else {
            valid.push(false);
            offsets.push(picked.len() as i32);
            continue;
        };
        valid.push(true);
        let mut seen: HashMap<&[u8], usize> = HashMap::new();
        for &(s, i) in entries {
            if e.keys[s].is_null(i) {
                return exec_err!("[NULL_MAP_KEY] Cannot use null as map key.");
            }
            let bytes = key_rows[s].row(i).data();
            match seen.get(bytes) {
                Some(&at) if last_win => picked[at] = (s, i),
                Some(_) => {
                    let shown =
                        ArrayFormatter::try_new(e.keys[s].as_ref(), &FormatOptions::default())
                            .map(|f| f.value(i).to_string())
                            .unwrap_or_default();
                    return exec_err!(
                        "[DUPLICATED_MAP_KEY] Duplicate map key {shown} was found, please check the input data. If you want to remove the duplicated keys, you can set \"spark.sql.mapKeyDedupPolicy\" to \"LAST_WIN\" so that the key inserted at last takes precedence."
                    );
                }
                None => {
                    seen.insert(bytes, picked.len());
                    picked.push((s, i));
                }
            }
        }
        offsets.push(picked.len() as i32);
    }
    let gather = |sources: &[ArrayRef], t: &DataType| -> Result<ArrayRef> {
        if picked.is_empty() || sources.is_empty() {
            return Ok(new_empty_array(t));
        }
        let refs: Vec<&dyn Array> = sources.iter().map(|a| a.as_ref()).collect();
        Ok(interleave(&refs, &picked)?)
    };
    let keys = gather(&e.keys, &key_type)?;
    let values = gather(&e.values, &value_type)?;
    let DataType::Struct(fields) = entries_field.data_type() else {
        return exec_err!("map entries must be a struct");
    };
    let entries = StructArray::try_new(fields.clone(), vec![keys, values], None)?;
    let nulls = if valid.iter().all(|v| *v) {
        None
    } else {
        Some(NullBuffer::from(valid))
    };
    let field: FieldRef = entries_field.clone();
    Ok(Arc::new(MapArray::try_new(
        field,
        OffsetBuffer::new(offsets.into()),
        entries,
        nulls,
        *ordered,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int32Array, StringArray};

    fn show(a: &ArrayRef) -> Vec<String> {
        let f = ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default().with_null("NULL"))
            .unwrap();
        (0..a.len()).map(|i| f.value(i).to_string()).collect()
    }

    #[test]
    fn create_keeps_first_position_under_last_win() {
        let k1: ArrayRef = Arc::new(Int32Array::from(vec![1, 1]));
        let v1: ArrayRef = Arc::new(StringArray::from(vec!["a", "x"]));
        let k2: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
        let v2: ArrayRef = Arc::new(StringArray::from(vec!["b", "y"]));
        let t = map_type(DataType::Int32, DataType::Utf8);
        let args = [k1.clone(), v1.clone(), k2.clone(), v2.clone()];
        let m = create(&args, 2, &t, true).unwrap();
        assert_eq!(show(&m), vec!["{1: b}", "{1: x, 2: y}"]);
        let err = create(&args, 2, &t, false).unwrap_err().to_string();
        assert!(
            err.contains("DUPLICATED_MAP_KEY") && err.contains("key 1 "),
            "{err}"
        );
    }

    #[test]
    fn empty_map_and_null_key() {
        let m = create(&[], 3, &map_type(DataType::Null, DataType::Null), false).unwrap();
        assert_eq!(show(&m), vec!["{}", "{}", "{}"]);
        let k: ArrayRef = Arc::new(Int32Array::from(vec![None, Some(1)]));
        let v: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
        let err = create(
            &[k, v],
            2,
            &map_type(DataType::Int32, DataType::Int32),
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("NULL_MAP_KEY"), "{err}");
    }

    #[test]
    fn concat_is_null_when_an_input_is_null() {
        let t = map_type(DataType::Int32, DataType::Utf8);
        let k: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
        let v: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
        let m1 = create(&[k, v], 2, &t, false).unwrap();
        // Row 0 repeats key 1 across the two maps; row 1 does not.
        let k: ArrayRef = Arc::new(Int32Array::from(vec![1, 3]));
        let v: ArrayRef = Arc::new(StringArray::from(vec!["c", "d"]));
        let m2 = create(&[k, v], 2, &t, false).unwrap();
        let both = concat(&[m1.clone(), m2.clone()], 2, &t, true).unwrap();
        assert_eq!(show(&both), vec!["{1: c}", "{2: b, 3: d}"]);
        assert!(concat(&[m1.clone(), m2], 2, &t, false).is_err());
        let nulls = datafusion::arrow::array::new_null_array(&DataType::Null, 2);
        let n = concat(&[m1, nulls], 2, &t, false).unwrap();
        assert_eq!(n.null_count(), 2);
    }
}
