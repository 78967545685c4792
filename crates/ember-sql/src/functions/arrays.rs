//! Spark's `arrays_overlap` and `flatten`, whose NULL rules differ from DataFusion's
//! `array_has_any` and `flatten` (as Spark's `ArraysOverlap` and `Flatten`
//! expressions).

use std::collections::HashSet;
use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{
    make_array, Array, ArrayRef, BooleanArray, ListArray, MutableArrayData,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
use datafusion::logical_expr::ScalarUDF;

use super::collection::list_of;

/// `arrays_overlap` and `flatten` for a session in time zone `tz`.
pub(super) fn functions(tz: &str) -> Vec<ScalarUDF> {
    vec![
        super::udf_coerced(
            "arrays_overlap",
            coerce_overlap,
            |_| Ok(DataType::Boolean),
            overlap_impl,
            tz,
        ),
        super::udf_coerced(
            "flatten",
            coerce_flatten,
            |args| {
                Ok(match args.first() {
                    Some(DataType::List(outer)) => outer.data_type().clone(),
                    _ => DataType::Null,
                })
            },
            flatten_impl,
            tz,
        ),
    ]
}

fn element(t: &DataType) -> Option<&DataType> {
    match t {
        DataType::List(f) => Some(f.data_type()),
        _ => None,
    }
}

fn list(elem: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", elem, true)))
}

/// Both arrays to arrays of their common element type (a NULL argument becomes an
/// array of the other's type).
fn coerce_overlap(args: &[DataType]) -> Result<Vec<DataType>> {
    super::args_between("arrays_overlap", args, 2, 2)?;
    let common = match (element(&args[0]), element(&args[1]), &args[0], &args[1]) {
        (Some(a), Some(b), _, _) => comparison_coercion(a, b),
        (Some(a), None, _, DataType::Null) => Some(a.clone()),
        (None, Some(b), DataType::Null, _) => Some(b.clone()),
        (None, None, DataType::Null, DataType::Null) => Some(DataType::Null),
        _ => None,
    };
    match common {
        Some(e) => Ok(vec![list(e.clone()), list(e)]),
        None => plan_err!(
            "[DATATYPE_MISMATCH.BINARY_ARRAY_DIFF_TYPES] Cannot resolve \"arrays_overlap\": input to function arrays_overlap should have been two ARRAYs with same element type, but it's [{}, {}].",
            args[0],
            args[1]
        ),
    }
}

/// Spark's `arrays_overlap(a, b)`: true when a non-NULL element of `a` is also in
/// `b`; otherwise NULL when both are non-empty and either holds a NULL, else false.
/// A NULL array gives NULL.
fn overlap_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    if a[0].data_type() == &DataType::Null || a[1].data_type() == &DataType::Null {
        return Ok(Arc::new(BooleanArray::new_null(a[0].len())));
    }
    let (x, y) = (list_of(&a[0])?, list_of(&a[1])?);
    let conv = RowConverter::new(vec![SortField::new(x.value_type())])?;
    let xr = conv.convert_columns(&[x.values().clone()])?;
    let yr = conv.convert_columns(&[y.values().clone()])?;
    let (xv, yv) = (x.values(), y.values());
    let mut out = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        if x.is_null(i) || y.is_null(i) {
            out.push(None);
            continue;
        }
        let (xs, xe) = (
            x.value_offsets()[i] as usize,
            x.value_offsets()[i + 1] as usize,
        );
        let (ys, ye) = (
            y.value_offsets()[i] as usize,
            y.value_offsets()[i + 1] as usize,
        );
        let mut has_null = false;
        let mut seen = HashSet::with_capacity(xe - xs);
        for j in xs..xe {
            if xv.is_null(j) {
                has_null = true;
            } else {
                seen.insert(xr.row(j));
            }
        }
        let mut found = false;
        for j in ys..ye {
            if yv.is_null(j) {
                has_null = true;
            } else if seen.contains(&yr.row(j)) {
                found = true;
                break;
            }
        }
        out.push(if found {
            Some(true)
        } else if has_null && xe > xs && ye > ys {
            None
        } else {
            Some(false)
        });
    }
    Ok(Arc::new(BooleanArray::from(out)))
}

fn coerce_flatten(args: &[DataType]) -> Result<Vec<DataType>> {
    super::args_between("flatten", args, 1, 1)?;
    match element(&args[0]) {
        Some(DataType::List(_)) | Some(DataType::Null) => Ok(args.to_vec()),
        _ if args[0] == DataType::Null => Ok(args.to_vec()),
        _ => plan_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"flatten\": the input should be an ARRAY of ARRAYs, but it's {}.",
            args[0]
        ),
    }
}

/// Spark's `flatten(array<array<T>>)`: the inner arrays joined in order; NULL when
/// the array or any of its inner arrays is NULL.
fn flatten_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let outer = match a[0].data_type() {
        DataType::List(f) if matches!(f.data_type(), DataType::List(_)) => list_of(&a[0])?,
        DataType::List(_) | DataType::Null => {
            return Ok(datafusion::arrow::array::new_null_array(
                a[0].data_type(),
                a[0].len(),
            ))
        }
        other => return exec_err!("flatten expects an array of arrays, got {other}"),
    };
    let inner = list_of(outer.values())?;
    let DataType::List(field) = inner.data_type() else {
        return exec_err!("flatten expects an array of arrays");
    };
    let data = inner.values().to_data();
    let mut m = MutableArrayData::new(vec![&data], false, data.len());
    let mut offsets: Vec<i32> = Vec::with_capacity(outer.len() + 1);
    offsets.push(0);
    let mut valid = Vec::with_capacity(outer.len());
    let mut len = 0i32;
    for i in 0..outer.len() {
        let (s, e) = (
            outer.value_offsets()[i] as usize,
            outer.value_offsets()[i + 1] as usize,
        );
        let ok = outer.is_valid(i) && (s..e).all(|j| inner.is_valid(j));
        if ok {
            for j in s..e {
                let (is, ie) = (
                    inner.value_offsets()[j] as usize,
                    inner.value_offsets()[j + 1] as usize,
                );
                m.extend(0, is, ie);
                len += (ie - is) as i32;
            }
        }
        valid.push(ok);
        offsets.push(len);
    }
    Ok(Arc::new(ListArray::try_new(
        field.clone(),
        OffsetBuffer::new(offsets.into()),
        make_array(m.freeze()),
        Some(NullBuffer::from(valid)),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int32Array, StringArray};
    use datafusion::arrow::datatypes::Int32Type;

    fn strings(rows: Vec<Option<Vec<Option<&str>>>>) -> ArrayRef {
        let mut offsets = vec![0i32];
        let mut vals: Vec<Option<&str>> = vec![];
        let mut valid = vec![];
        for r in rows {
            valid.push(r.is_some());
            vals.extend(r.unwrap_or_default());
            offsets.push(vals.len() as i32);
        }
        Arc::new(
            ListArray::try_new(
                Arc::new(Field::new("element", DataType::Utf8, true)),
                OffsetBuffer::new(offsets.into()),
                Arc::new(StringArray::from(vals)),
                Some(NullBuffer::from(valid)),
            )
            .unwrap(),
        )
    }

    #[test]
    fn overlap_follows_spark_null_rules() {
        let x = strings(vec![
            Some(vec![Some("a"), Some("b")]),
            Some(vec![Some("a")]),
            Some(vec![Some("a"), None]),
            Some(vec![]),
            None,
        ]);
        let y = strings(vec![
            Some(vec![Some("b"), Some("c")]),
            Some(vec![Some("b"), Some("c")]),
            Some(vec![Some("b"), None]),
            Some(vec![None]),
            Some(vec![Some("a")]),
        ]);
        let r = overlap_impl(&[x, y], &chrono_tz::UTC).unwrap();
        let r = r.as_any().downcast_ref::<BooleanArray>().unwrap();
        let got: Vec<Option<bool>> = r.iter().collect();
        assert_eq!(got, vec![Some(true), Some(false), None, Some(false), None]);
    }

    #[test]
    fn flatten_is_null_when_an_inner_array_is_null() {
        let inner = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), Some(2)]),
            Some(vec![Some(3)]),
            None,
            Some(vec![Some(4)]),
        ]);
        let outer: ArrayRef = Arc::new(
            ListArray::try_new(
                Arc::new(Field::new("element", inner.data_type().clone(), true)),
                OffsetBuffer::new(vec![0, 2, 4].into()),
                Arc::new(inner),
                None,
            )
            .unwrap(),
        );
        let r = flatten_impl(&[outer], &chrono_tz::UTC).unwrap();
        let r = list_of(&r).unwrap();
        assert!(r.is_valid(0) && r.is_null(1));
        let first = r.value(0);
        let v = first.as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!(v.values(), &[1, 2, 3]);
    }
}
