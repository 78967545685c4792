//! Spark's higher-order functions: `transform`, `filter`, `forall`, `aggregate`
//! (= `reduce`), `zip_with`, `map_filter`, `transform_keys` and `transform_values`,
//! as DataFusion [`HigherOrderUDF`]s. Each evaluates its lambda once per batch over
//! the flattened elements of all rows (columns the lambda captures are repeated per
//! element); `aggregate` evaluates its merge lambda once per element position.
//! `exists` is DataFusion's `array_any_match`, which has Spark's three-valued result.
//! `array_sort(a[, (l, r) -> int])` sorts each array ascending with NULLs last, or by
//! the comparator (negative: `l` first); `sort_array(a[, asc])` is a plain function
//! ([`sort_array_udf`]: NULLs first ascending, last descending).
//!
//! Semantics follow Spark 4 (`HigherOrderFunctions.scala`): a NULL array or map gives
//! NULL; `transform`/`filter` lambdas may take the element's 0-based index as a second
//! parameter; `filter` keeps elements whose predicate is `true` (not NULL); `forall` is
//! `false` if any predicate is `false`, else NULL if any is NULL, else `true`;
//! `aggregate`'s accumulator has the type of its initial value; `zip_with` pads the
//! shorter array with NULLs.

use std::sync::Arc;

use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, BooleanArray, Int32Array, ListArray, MapArray,
    StructArray, UInt32Array,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::{
    cast, filter, interleave, prep_null_mask_filter, take, take_arrays,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature,
    HigherOrderUDF, HigherOrderUDFImpl, LambdaArgument, LambdaParametersProgress, ValueOrLambda,
    Volatility,
};

/// Which of Spark's higher-order functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Transform,
    Filter,
    Forall,
    Aggregate,
    ZipWith,
    MapFilter,
    TransformKeys,
    TransformValues,
    ArraySort,
}

/// One of Spark's higher-order functions (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
struct SparkHigherOrder {
    name: &'static str,
    kind: Kind,
    signature: HigherOrderSignature,
}

/// ember's higher-order functions, registered under Spark's names.
pub fn higher_order_functions() -> Vec<HigherOrderUDF> {
    [
        ("transform", Kind::Transform),
        ("filter", Kind::Filter),
        ("forall", Kind::Forall),
        ("aggregate", Kind::Aggregate),
        ("reduce", Kind::Aggregate),
        ("zip_with", Kind::ZipWith),
        ("map_filter", Kind::MapFilter),
        ("transform_keys", Kind::TransformKeys),
        ("transform_values", Kind::TransformValues),
        ("array_sort", Kind::ArraySort),
    ]
    .into_iter()
    .map(|(name, kind)| {
        HigherOrderUDF::new_from_impl(SparkHigherOrder {
            name,
            kind,
            signature: HigherOrderSignature::variadic_any(Volatility::Immutable),
        })
    })
    .collect()
}

fn list_element(name: &str, f: &FieldRef) -> Result<FieldRef> {
    match f.data_type() {
        DataType::List(e) | DataType::LargeList(e) | DataType::FixedSizeList(e, _) => Ok(e.clone()),
        DataType::Null => Ok(Arc::new(Field::new("element", DataType::Null, true))),
        other => plan_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` requires an ARRAY argument, got {other}"
        ),
    }
}

/// The key and value fields of a map type.
fn map_fields(name: &str, f: &FieldRef) -> Result<(FieldRef, FieldRef)> {
    match f.data_type() {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => Ok((kv[0].clone(), kv[1].clone())),
            other => plan_err!("map entries of {other}"),
        },
        other => plan_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` requires a MAP argument, got {other}"
        ),
    }
}

fn index_field() -> FieldRef {
    Arc::new(Field::new("index", DataType::Int32, false))
}

fn values_of<'a, V, L>(fields: &'a [ValueOrLambda<V, L>]) -> Vec<&'a V> {
    fields
        .iter()
        .filter_map(|f| match f {
            ValueOrLambda::Value(v) => Some(v),
            ValueOrLambda::Lambda(_) => None,
        })
        .collect()
}

fn lambdas_of<'a, V, L>(fields: &'a [ValueOrLambda<V, L>]) -> Vec<&'a L> {
    fields
        .iter()
        .filter_map(|f| match f {
            ValueOrLambda::Lambda(l) => Some(l),
            ValueOrLambda::Value(_) => None,
        })
        .collect()
}

impl SparkHigherOrder {
    fn arity(&self, values: usize, lambdas: usize) -> Result<()> {
        let ok = match self.kind {
            Kind::Aggregate => values == 2 && (lambdas == 1 || lambdas == 2),
            Kind::ZipWith => values == 2 && lambdas == 1,
            Kind::ArraySort => values == 1 && lambdas <= 1,
            _ => values == 1 && lambdas == 1,
        };
        if ok {
            Ok(())
        } else {
            plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] `{}` got {values} values and {lambdas} lambda functions",
                self.name
            )
        }
    }
}

impl HigherOrderUDFImpl for SparkHigherOrder {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let values = values_of(fields);
        self.arity(values.len(), lambdas_of(fields).len())?;
        let params = match self.kind {
            Kind::Transform | Kind::Filter => {
                vec![vec![list_element(self.name, values[0])?, index_field()]]
            }
            Kind::Forall => vec![vec![list_element(self.name, values[0])?]],
            Kind::ArraySort if lambdas_of(fields).is_empty() => vec![],
            Kind::ArraySort => {
                let e = list_element(self.name, values[0])?;
                let e = Arc::new(e.as_ref().clone().with_nullable(true));
                vec![vec![e.clone(), e]]
            }
            Kind::Aggregate => {
                let acc = Arc::new(Field::new("acc", values[1].data_type().clone(), true));
                let mut p = vec![vec![acc.clone(), list_element(self.name, values[0])?]];
                if lambdas_of(fields).len() == 2 {
                    p.push(vec![acc]);
                }
                p
            }
            Kind::ZipWith => {
                let nullable = |f: FieldRef| Arc::new(f.as_ref().clone().with_nullable(true));
                vec![vec![
                    nullable(list_element(self.name, values[0])?),
                    nullable(list_element(self.name, values[1])?),
                ]]
            }
            Kind::MapFilter | Kind::TransformKeys | Kind::TransformValues => {
                let (k, v) = map_fields(self.name, values[0])?;
                vec![vec![k, v]]
            }
        };
        Ok(LambdaParametersProgress::Complete(params))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let values = values_of(args.arg_fields);
        let lambdas = lambdas_of(args.arg_fields);
        self.arity(values.len(), lambdas.len())?;
        let first = values[0];
        let dt = match self.kind {
            Kind::Transform | Kind::ZipWith => DataType::List(Arc::new(Field::new(
                "element",
                lambdas[0].data_type().clone(),
                true,
            ))),
            Kind::Filter | Kind::MapFilter | Kind::ArraySort => first.data_type().clone(),
            Kind::Forall => DataType::Boolean,
            Kind::Aggregate => match lambdas.get(1) {
                Some(finish) => finish.data_type().clone(),
                None => values[1].data_type().clone(),
            },
            Kind::TransformKeys | Kind::TransformValues => {
                let (k, v) = map_fields(self.name, first)?;
                let (k, v) = if self.kind == Kind::TransformKeys {
                    (
                        Field::new(k.name(), lambdas[0].data_type().clone(), false),
                        v.as_ref().clone(),
                    )
                } else {
                    (
                        k.as_ref().clone(),
                        Field::new(v.name(), lambdas[0].data_type().clone(), true),
                    )
                };
                let entries = match first.data_type() {
                    DataType::Map(e, _) => e.name().clone(),
                    _ => "entries".to_string(),
                };
                DataType::Map(
                    Arc::new(Field::new(
                        entries,
                        DataType::Struct(Fields::from(vec![k, v])),
                        false,
                    )),
                    false,
                )
            }
        };
        Ok(Arc::new(Field::new(self.name, dt, true)))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let mut values = Vec::new();
        let mut lambdas = Vec::new();
        for a in &args.args {
            match a {
                ValueOrLambda::Value(v) => values.push(v.to_array(n)?),
                ValueOrLambda::Lambda(l) => lambdas.push(l),
            }
        }
        self.arity(values.len(), lambdas.len())?;
        let ret = args.return_field.data_type();
        let out = match self.kind {
            Kind::Transform => transform(&values[0], lambdas[0], ret)?,
            Kind::Filter => filter_list(&values[0], lambdas[0])?,
            Kind::Forall => forall(&values[0], lambdas[0])?,
            Kind::Aggregate => {
                aggregate(&values[0], &values[1], lambdas[0], lambdas.get(1).copied())?
            }
            Kind::ZipWith => zip_with(&values[0], &values[1], lambdas[0], ret)?,
            Kind::ArraySort => match lambdas.first() {
                Some(cmp) => sort_by_comparator(&values[0], cmp)?,
                None => sort_lists(&values[0], SortOrder::AscNullsLast)?,
            },
            Kind::MapFilter | Kind::TransformKeys | Kind::TransformValues => {
                map_function(self.kind, &values[0], lambdas[0], ret)?
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// A list column flattened: its (0-based) offsets, values, and for every value the
/// row it belongs to and its index in that row.
struct Flat {
    list: ListArray,
    offsets: OffsetBuffer<i32>,
    values: ArrayRef,
    rows: UInt32Array,
    pos: Int32Array,
}

fn flatten(a: &ArrayRef) -> Result<Flat> {
    let a = match a.data_type() {
        DataType::List(_) => a.clone(),
        DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            cast(a, &DataType::List(f.clone()))?
        }
        DataType::Null => cast(
            a,
            &DataType::List(Arc::new(Field::new("element", DataType::Null, true))),
        )?,
        other => return exec_err!("expected an ARRAY, got {other}"),
    };
    let list = a.as_list::<i32>().clone();
    let first = list.value_offsets().first().copied().unwrap_or(0);
    let last = list.value_offsets().last().copied().unwrap_or(0);
    let values = list.values().slice(first as usize, (last - first) as usize);
    let offsets = OffsetBuffer::new(list.value_offsets().iter().map(|o| o - first).collect());
    let mut rows = Vec::with_capacity(values.len());
    let mut pos = Vec::with_capacity(values.len());
    for (r, w) in offsets.windows(2).enumerate() {
        for k in 0..(w[1] - w[0]) {
            rows.push(r as u32);
            pos.push(k);
        }
    }
    Ok(Flat {
        list,
        offsets,
        values,
        rows: UInt32Array::from(rows),
        pos: Int32Array::from(pos),
    })
}

/// Evaluates `lambda` over `params` (one array per parameter, all of `len` rows), the
/// captured columns taken at `rows`.
fn eval(
    lambda: &LambdaArgument,
    params: &[ArrayRef],
    rows: &UInt32Array,
    len: usize,
) -> Result<ArrayRef> {
    let closures: Vec<Box<dyn Fn() -> Result<ArrayRef>>> = params
        .iter()
        .map(|p| {
            let p = p.clone();
            Box::new(move || Ok(p.clone())) as Box<dyn Fn() -> Result<ArrayRef>>
        })
        .collect();
    let refs: Vec<&dyn Fn() -> Result<ArrayRef>> = closures.iter().map(|c| c.as_ref()).collect();
    lambda
        .evaluate(&refs, |captured| Ok(take_arrays(captured, rows, None)?))?
        .into_array(len)
}

/// The mask of `true` predicates (NULL counts as not `true`).
fn true_only(b: &BooleanArray) -> BooleanArray {
    if b.null_count() > 0 {
        prep_null_mask_filter(b)
    } else {
        b.clone()
    }
}

fn element_field(ret: &DataType) -> Result<FieldRef> {
    match ret {
        DataType::List(f) => Ok(f.clone()),
        other => exec_err!("expected a list result type, got {other}"),
    }
}

fn transform(list: &ArrayRef, lambda: &LambdaArgument, ret: &DataType) -> Result<ArrayRef> {
    let f = flatten(list)?;
    let pos: ArrayRef = Arc::new(f.pos.clone());
    let out = eval(lambda, &[f.values.clone(), pos], &f.rows, f.values.len())?;
    let field = element_field(ret)?;
    let out = if out.data_type() == field.data_type() {
        out
    } else {
        cast(&out, field.data_type())?
    };
    Ok(Arc::new(ListArray::try_new(
        field,
        f.offsets,
        out,
        f.list.nulls().cloned(),
    )?))
}

fn filter_list(list: &ArrayRef, lambda: &LambdaArgument) -> Result<ArrayRef> {
    let f = flatten(list)?;
    let pos: ArrayRef = Arc::new(f.pos.clone());
    let keep = eval(lambda, &[f.values.clone(), pos], &f.rows, f.values.len())?;
    let keep = keep.as_boolean_opt().ok_or_else(|| {
        datafusion::common::DataFusionError::Execution(
            "the `filter` lambda must return a BOOLEAN".into(),
        )
    })?;
    let keep = true_only(keep);
    let values = filter(&f.values, &keep)?;
    let mut offsets = Vec::with_capacity(f.offsets.len());
    offsets.push(0i32);
    let mut total = 0i32;
    for w in f.offsets.windows(2) {
        total += (w[0]..w[1]).filter(|&i| keep.value(i as usize)).count() as i32;
        offsets.push(total);
    }
    let field = match f.list.data_type() {
        DataType::List(e) => e.clone(),
        other => return exec_err!("expected a list, got {other}"),
    };
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::new(offsets.into()),
        values,
        f.list.nulls().cloned(),
    )?))
}

fn forall(list: &ArrayRef, lambda: &LambdaArgument) -> Result<ArrayRef> {
    let f = flatten(list)?;
    let pred = eval(
        lambda,
        std::slice::from_ref(&f.values),
        &f.rows,
        f.values.len(),
    )?;
    let pred = pred.as_boolean_opt().ok_or_else(|| {
        datafusion::common::DataFusionError::Execution(
            "the `forall` lambda must return a BOOLEAN".into(),
        )
    })?;
    let out: BooleanArray = f
        .offsets
        .windows(2)
        .enumerate()
        .map(|(r, w)| {
            if f.list.is_null(r) {
                return None;
            }
            let range = w[0] as usize..w[1] as usize;
            if range.clone().any(|i| pred.is_valid(i) && !pred.value(i)) {
                Some(false)
            } else if range.clone().any(|i| pred.is_null(i)) {
                None
            } else {
                Some(true)
            }
        })
        .collect();
    Ok(Arc::new(out))
}

fn aggregate(
    list: &ArrayRef,
    zero: &ArrayRef,
    merge: &LambdaArgument,
    finish: Option<&LambdaArgument>,
) -> Result<ArrayRef> {
    let f = flatten(list)?;
    let n = f.list.len();
    let acc_type = zero.data_type().clone();
    let mut acc = zero.clone();
    let lens: Vec<i32> = f.offsets.windows(2).map(|w| w[1] - w[0]).collect();
    let max_len = lens.iter().copied().max().unwrap_or(0);
    for k in 0..max_len {
        let active: Vec<u32> = (0..n as u32).filter(|&r| lens[r as usize] > k).collect();
        let rows = UInt32Array::from(active.clone());
        let elems = UInt32Array::from(
            active
                .iter()
                .map(|&r| (f.offsets[r as usize] + k) as u32)
                .collect::<Vec<_>>(),
        );
        let acc_now = take(&acc, &rows, None)?;
        let x = take(&f.values, &elems, None)?;
        let next = eval(merge, &[acc_now, x], &rows, active.len())?;
        let next = if next.data_type() == &acc_type {
            next
        } else {
            cast(&next, &acc_type)?
        };
        let mut slot = 0usize;
        let picks: Vec<(usize, usize)> = (0..n)
            .map(|r| {
                if lens[r] > k {
                    slot += 1;
                    (1, slot - 1)
                } else {
                    (0, r)
                }
            })
            .collect();
        acc = interleave(&[acc.as_ref(), next.as_ref()], &picks)?;
    }
    let out = match finish {
        Some(fin) => {
            let rows = UInt32Array::from((0..n as u32).collect::<Vec<_>>());
            eval(fin, &[acc], &rows, n)?
        }
        None => acc,
    };
    with_nulls_of(out, f.list.nulls())
}

/// How [`sort_lists`] orders each array's elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// `array_sort(a)`: ascending, NULLs last.
    AscNullsLast,
    /// `sort_array(a, true)`: ascending, NULLs first.
    AscNullsFirst,
    /// `sort_array(a, false)`: descending, NULLs last.
    DescNullsLast,
}

/// Each array of a list column sorted by `order` (NaN above every other number, as
/// Spark orders doubles); NULL arrays stay NULL.
pub fn sort_lists(list: &ArrayRef, order: SortOrder) -> Result<ArrayRef> {
    let orders = vec![order; list.len()];
    sort_lists_per_row(list, &orders)
}

/// [`sort_lists`] with an order per row (`sort_array(a, asc)` with a column `asc`).
pub fn sort_lists_per_row(list: &ArrayRef, orders: &[SortOrder]) -> Result<ArrayRef> {
    use datafusion::arrow::compute::{sort_to_indices, SortOptions};
    let f = flatten(list)?;
    let mut picks: Vec<u32> = Vec::with_capacity(f.values.len());
    for (r, w) in f.offsets.windows(2).enumerate() {
        let (s, e) = (w[0] as usize, w[1] as usize);
        let opts = match orders.get(r).copied().unwrap_or(SortOrder::AscNullsLast) {
            SortOrder::AscNullsLast => SortOptions {
                descending: false,
                nulls_first: false,
            },
            SortOrder::AscNullsFirst => SortOptions {
                descending: false,
                nulls_first: true,
            },
            SortOrder::DescNullsLast => SortOptions {
                descending: true,
                nulls_first: false,
            },
        };
        let slice = f.values.slice(s, e - s);
        match sort_to_indices(&slice, Some(opts), None) {
            Ok(idx) => picks.extend(idx.values().iter().map(|i| i + s as u32)),
            // Nested elements (structs, arrays): compare their row encodings.
            Err(_) => {
                use datafusion::arrow::row::{RowConverter, SortField};
                let conv = RowConverter::new(vec![SortField::new_with_options(
                    slice.data_type().clone(),
                    opts,
                )])?;
                let rows = conv.convert_columns(&[slice.clone()])?;
                let mut idx: Vec<u32> = (0..slice.len() as u32).collect();
                idx.sort_by(|a, b| rows.row(*a as usize).cmp(&rows.row(*b as usize)));
                picks.extend(idx.iter().map(|i| i + s as u32));
            }
        }
    }
    let values = take(&f.values, &UInt32Array::from(picks), None)?;
    let field = match f.list.data_type() {
        DataType::List(e) => e.clone(),
        other => return exec_err!("expected a list, got {other}"),
    };
    Ok(Arc::new(ListArray::try_new(
        field,
        f.offsets,
        values,
        f.list.nulls().cloned(),
    )?))
}

/// `array_sort(a, (l, r) -> int)`: each array sorted (stably) by the comparator. The
/// comparator runs once per batch over every ordered pair of elements of each array
/// (n² pairs for an array of n); a NULL comparison fails as Spark's does.
fn sort_by_comparator(list: &ArrayRef, cmp: &LambdaArgument) -> Result<ArrayRef> {
    let f = flatten(list)?;
    let (mut left, mut right, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    for (r, w) in f.offsets.windows(2).enumerate() {
        for i in w[0]..w[1] {
            for j in w[0]..w[1] {
                left.push(i as u32);
                right.push(j as u32);
                rows.push(r as u32);
            }
        }
    }
    let l = take(&f.values, &UInt32Array::from(left), None)?;
    let rgt = take(&f.values, &UInt32Array::from(right), None)?;
    let rows = UInt32Array::from(rows);
    let out = eval(cmp, &[l, rgt], &rows, rows.len())?;
    let out = cast(&out, &DataType::Int64)?;
    let out = out.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    if out.null_count() > 0 {
        return exec_err!(
            "[COMPARATOR_RETURNS_NULL] The comparator has returned a NULL for a comparison between elements."
        );
    }
    let mut picks: Vec<u32> = Vec::with_capacity(f.values.len());
    let mut base = 0usize;
    for w in f.offsets.windows(2) {
        let n = (w[1] - w[0]) as usize;
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by(|&a, &b| out.value(base + a * n + b).cmp(&0));
        picks.extend(idx.iter().map(|&i| w[0] as u32 + i as u32));
        base += n * n;
    }
    let values = take(&f.values, &UInt32Array::from(picks), None)?;
    let field = match f.list.data_type() {
        DataType::List(e) => e.clone(),
        other => return exec_err!("expected a list, got {other}"),
    };
    Ok(Arc::new(ListArray::try_new(
        field,
        f.offsets,
        values,
        f.list.nulls().cloned(),
    )?))
}

/// Spark's `sort_array(a[, asc])` (`SortArray`): ascending (default) puts NULLs first,
/// descending puts them last. `asc` must be a BOOLEAN; a NULL `asc` sorts ascending.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SortArray {
    signature: datafusion::logical_expr::Signature,
}

/// The `sort_array` function.
pub fn sort_array_udf() -> datafusion::logical_expr::ScalarUDF {
    datafusion::logical_expr::ScalarUDF::new_from_impl(SortArray {
        signature: datafusion::logical_expr::Signature::user_defined(Volatility::Immutable),
    })
}

impl datafusion::logical_expr::ScalarUDFImpl for SortArray {
    fn name(&self) -> &str {
        "sort_array"
    }
    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [a] | [a, DataType::Boolean] if matches!(a, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) | DataType::Null) => Ok(arg_types.to_vec()),
            [_] | [_, _] => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `sort_array` requires (ARRAY, BOOLEAN), got ({})",
                arg_types.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
            ),
            _ => plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `sort_array` requires [1, 2] parameters but the actual number is {}.",
                arg_types.len()
            ),
        }
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Null))
    }
    fn invoke_with_args(
        &self,
        args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let list = args.args[0].to_array(n)?;
        let orders: Vec<SortOrder> = match args.args.get(1) {
            None => vec![SortOrder::AscNullsFirst; n],
            Some(v) => {
                let asc = v.to_array(n)?;
                let asc = asc.as_boolean_opt().ok_or_else(|| {
                    datafusion::common::DataFusionError::Execution(
                        "`sort_array` expects a BOOLEAN order".into(),
                    )
                })?;
                (0..n)
                    .map(|i| {
                        if asc.is_valid(i) && !asc.value(i) {
                            SortOrder::DescNullsLast
                        } else {
                            SortOrder::AscNullsFirst
                        }
                    })
                    .collect()
            }
        };
        Ok(ColumnarValue::Array(sort_lists_per_row(&list, &orders)?))
    }
}

/// `a` with the rows that are NULL in `nulls` set to NULL.
fn with_nulls_of(a: ArrayRef, nulls: Option<&NullBuffer>) -> Result<ArrayRef> {
    let Some(nulls) = nulls else { return Ok(a) };
    if nulls.null_count() == 0 {
        return Ok(a);
    }
    let picks: Vec<(usize, usize)> = (0..a.len())
        .map(|r| if nulls.is_valid(r) { (0, r) } else { (1, 0) })
        .collect();
    let null = new_null_array(a.data_type(), 1);
    Ok(interleave(&[a.as_ref(), null.as_ref()], &picks)?)
}

fn zip_with(
    a: &ArrayRef,
    b: &ArrayRef,
    lambda: &LambdaArgument,
    ret: &DataType,
) -> Result<ArrayRef> {
    let (fa, fb) = (flatten(a)?, flatten(b)?);
    let n = fa.list.len();
    let mut ia = Vec::new();
    let mut ib = Vec::new();
    let mut rows = Vec::new();
    let mut offsets = vec![0i32];
    let nulls = NullBuffer::union(fa.list.nulls(), fb.list.nulls());
    for r in 0..n {
        let (sa, ea) = (fa.offsets[r], fa.offsets[r + 1]);
        let (sb, eb) = (fb.offsets[r], fb.offsets[r + 1]);
        let len = if nulls.as_ref().is_some_and(|x| x.is_null(r)) {
            0
        } else {
            (ea - sa).max(eb - sb)
        };
        for k in 0..len {
            ia.push((sa + k < ea).then_some((sa + k) as u32));
            ib.push((sb + k < eb).then_some((sb + k) as u32));
            rows.push(r as u32);
        }
        offsets.push(offsets[r] + len);
    }
    let xa = take(&fa.values, &UInt32Array::from(ia), None)?;
    let xb = take(&fb.values, &UInt32Array::from(ib), None)?;
    let rows = UInt32Array::from(rows);
    let out = eval(lambda, &[xa, xb], &rows, rows.len())?;
    let field = element_field(ret)?;
    let out = if out.data_type() == field.data_type() {
        out
    } else {
        cast(&out, field.data_type())?
    };
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::new(offsets.into()),
        out,
        nulls,
    )?))
}

fn map_function(
    kind: Kind,
    m: &ArrayRef,
    lambda: &LambdaArgument,
    ret: &DataType,
) -> Result<ArrayRef> {
    let Some(map) = m.as_map_opt() else {
        return exec_err!("expected a MAP, got {}", m.data_type());
    };
    let first = map.value_offsets().first().copied().unwrap_or(0);
    let last = map.value_offsets().last().copied().unwrap_or(0);
    let entries = map.entries().slice(first as usize, (last - first) as usize);
    let offsets: Vec<i32> = map.value_offsets().iter().map(|o| o - first).collect();
    let mut rows = Vec::with_capacity(entries.len());
    for (r, w) in offsets.windows(2).enumerate() {
        rows.extend(std::iter::repeat_n(r as u32, (w[1] - w[0]) as usize));
    }
    let rows = UInt32Array::from(rows);
    let (keys, vals) = (entries.column(0).clone(), entries.column(1).clone());
    let out = eval(lambda, &[keys.clone(), vals.clone()], &rows, entries.len())?;
    let DataType::Map(entries_field, ordered) = ret else {
        return exec_err!("expected a map result type, got {ret}");
    };
    let DataType::Struct(kv) = entries_field.data_type() else {
        return exec_err!("expected map entries, got {}", entries_field.data_type());
    };
    let (new_entries, new_offsets) = match kind {
        Kind::MapFilter => {
            let keep = out.as_boolean_opt().ok_or_else(|| {
                datafusion::common::DataFusionError::Execution(
                    "the `map_filter` lambda must return a BOOLEAN".into(),
                )
            })?;
            let keep = true_only(keep);
            let filtered = filter(&entries, &keep)?;
            let mut o = vec![0i32];
            for w in offsets.windows(2) {
                let kept = (w[0]..w[1]).filter(|&i| keep.value(i as usize)).count() as i32;
                o.push(o[o.len() - 1] + kept);
            }
            (filtered.as_struct().clone(), o)
        }
        _ => {
            let cast_to = |a: ArrayRef, f: &FieldRef| -> Result<ArrayRef> {
                Ok(if a.data_type() == f.data_type() {
                    a
                } else {
                    cast(&a, f.data_type())?
                })
            };
            let (k, v) = if kind == Kind::TransformKeys {
                if out.null_count() > 0 {
                    return exec_err!("[NULL_MAP_KEY] Cannot use null as map key.");
                }
                (cast_to(out, &kv[0])?, vals)
            } else {
                (keys, cast_to(out, &kv[1])?)
            };
            (StructArray::try_new(kv.clone(), vec![k, v], None)?, offsets)
        }
    };
    Ok(Arc::new(MapArray::try_new(
        entries_field.clone(),
        OffsetBuffer::new(new_offsets.into()),
        new_entries,
        map.nulls().cloned(),
        *ordered,
    )?))
}

/// `ember_lambda_body(body, p1, ..)`: returns `body` unchanged. The Spark Connect
/// translation wraps a lambda body in it to mention parameters the body does not use
/// (`lambda _, v: v > 1`): DataFusion 54's physical lambda compacts its input to the
/// columns the body reads, so an unused leading parameter would shift the others.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LambdaBody {
    signature: datafusion::logical_expr::Signature,
}

impl LambdaBody {
    /// The UDF, registered as `ember_lambda_body`.
    pub fn udf() -> datafusion::logical_expr::ScalarUDF {
        datafusion::logical_expr::ScalarUDF::new_from_impl(LambdaBody {
            signature: datafusion::logical_expr::Signature::variadic_any(Volatility::Immutable),
        })
    }
}

impl datafusion::logical_expr::ScalarUDFImpl for LambdaBody {
    fn name(&self) -> &str {
        "ember_lambda_body"
    }
    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(t) => Ok(t.clone()),
            None => plan_err!("ember_lambda_body needs a body"),
        }
    }
    fn invoke_with_args(
        &self,
        args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> Result<ColumnarValue> {
        match args.args.into_iter().next() {
            Some(v) => Ok(v),
            None => exec_err!("ember_lambda_body needs a body"),
        }
    }
}
