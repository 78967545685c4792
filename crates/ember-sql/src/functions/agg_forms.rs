//! Spark aggregates DataFusion lacks or spells differently, defined once for both
//! front doors:
//!
//! - `count_if(cond)`: the rows where `cond` is true, `bigint`, never NULL.
//! - `min_by(x, y)` / `max_by(x, y)`: the `x` of the row with the smallest (largest)
//!   `y`; rows with a NULL `y` are skipped; NULL for no rows. With a third argument
//!   `k` (a constant): an array of the `x` of the `k` rows with the smallest
//!   (largest) `y`, in that order.
//! - `listagg(x[, delim])` / `string_agg(x[, delim])`: the non-NULL strings joined
//!   by `delim` (default: none), DataFusion's `string_agg` (DISTINCT and
//!   `WITHIN GROUP (ORDER BY ..)` as it has them).

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, GroupsAccumulator, Signature, Volatility,
};
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_expr::PhysicalExpr;

// ---- count_if ----------------------------------------------------------------------

/// `count_if(cond)` (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
struct CountIf {
    signature: Signature,
}

impl AggregateUDFImpl for CountIf {
    fn name(&self) -> &str {
        "count_if"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [DataType::Boolean | DataType::Null] => Ok(vec![DataType::Boolean]),
            [other] => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"count_if\" due to data type mismatch: the first parameter requires the \"BOOLEAN\" type, however it has the type \"{other}\"."
            ),
            _ => plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `count_if` requires 1 parameters but the actual number is {}.",
                args.len()
            ),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn is_nullable(&self) -> bool {
        false
    }
    fn default_value(&self, _: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(0)))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[count]", args.name),
            DataType::Int64,
            false,
        ))])
    }
    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(CountIfAcc(0)))
    }
    fn create_sliding_accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(CountIfAcc(0)))
    }
}

#[derive(Debug)]
struct CountIfAcc(i64);

fn trues(a: &ArrayRef) -> i64 {
    match a.as_any().downcast_ref::<BooleanArray>() {
        Some(b) => b.iter().filter(|v| *v == Some(true)).count() as i64,
        None => 0,
    }
}

impl Accumulator for CountIfAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0 += values.first().map(trues).unwrap_or(0);
        Ok(())
    }
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0 -= values.first().map(trues).unwrap_or(0);
        Ok(())
    }
    fn supports_retract_batch(&self) -> bool {
        true
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if let Some(s) = states.first() {
            let s: &Int64Array = s.as_primitive();
            self.0 += s.iter().flatten().sum::<i64>();
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(Some(self.0))])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(self.0)))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

// ---- min_by / max_by ---------------------------------------------------------------

/// `min_by` / `max_by` with two or three arguments (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ByOrdering {
    max: bool,
    signature: Signature,
}

impl ByOrdering {
    fn name_str(&self) -> &'static str {
        if self.max {
            "max_by"
        } else {
            "min_by"
        }
    }
}

/// The constant `k` of `min_by(x, y, k)` from the physical argument.
fn k_of(exprs: &[Arc<dyn PhysicalExpr>], name: &str) -> Result<Option<usize>> {
    let Some(e) = exprs.get(2) else {
        return Ok(None);
    };
    let k = e
        .downcast_ref::<Literal>()
        .and_then(|l| l.value().cast_to(&DataType::Int64).ok())
        .and_then(|v| match v {
            ScalarValue::Int64(Some(k)) => Some(k),
            _ => None,
        });
    match k {
        Some(k) if k > 0 => Ok(Some(k as usize)),
        Some(k) => plan_err!(
            "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] The `k` argument of `{name}` must be positive, got {k}."
        ),
        None => plan_err!(
            "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] The `k` argument of `{name}` must be a constant integer."
        ),
    }
}

impl AggregateUDFImpl for ByOrdering {
    fn name(&self) -> &str {
        self.name_str()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [x, y] => Ok(vec![x.clone(), y.clone()]),
            [x, y, _] => Ok(vec![x.clone(), y.clone(), DataType::Int64]),
            _ => plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires [2, 3] parameters but the actual number is {}.",
                self.name_str(),
                args.len()
            ),
        }
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let x = args.first().cloned().unwrap_or(DataType::Null);
        Ok(if args.len() == 3 {
            DataType::new_list(x, true)
        } else {
            x
        })
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let x = args.input_fields[0].data_type().clone();
        let y = args.input_fields[1].data_type().clone();
        Ok(vec![
            Arc::new(Field::new(
                format!("{}[x]", args.name),
                DataType::new_list(x, true),
                true,
            )),
            Arc::new(Field::new(
                format!("{}[y]", args.name),
                DataType::new_list(y, true),
                true,
            )),
        ])
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let k = k_of(args.exprs, self.name_str())?;
        Ok(Box::new(ByAcc {
            max: self.max,
            k: k.unwrap_or(1),
            as_array: k.is_some(),
            x_type: args.expr_fields[0].data_type().clone(),
            y_type: args.expr_fields[1].data_type().clone(),
            best: Vec::new(),
        }))
    }
}

/// The best `k` rows seen, as (y, x), best first.
#[derive(Debug)]
struct ByAcc {
    max: bool,
    k: usize,
    as_array: bool,
    x_type: DataType,
    y_type: DataType,
    best: Vec<(ScalarValue, ScalarValue)>,
}

impl ByAcc {
    /// Keeps `(y, x)` if it is among the best `k`; a tie keeps the earlier row first.
    fn offer(&mut self, y: ScalarValue, x: ScalarValue) {
        if y.is_null() {
            return;
        }
        let better = |a: &ScalarValue, b: &ScalarValue| {
            let o = a.partial_cmp(b).unwrap_or(Ordering::Equal);
            if self.max {
                o == Ordering::Greater
            } else {
                o == Ordering::Less
            }
        };
        let at = self
            .best
            .iter()
            .position(|(by, _)| better(&y, by))
            .unwrap_or(self.best.len());
        if at < self.k {
            self.best.insert(at, (y, x));
            self.best.truncate(self.k);
        }
    }

    fn offer_arrays(&mut self, xs: &ArrayRef, ys: &ArrayRef) -> Result<()> {
        for i in 0..ys.len() {
            if ys.is_null(i) {
                continue;
            }
            self.offer(
                ScalarValue::try_from_array(ys, i)?,
                ScalarValue::try_from_array(xs, i)?,
            );
        }
        Ok(())
    }
}

impl Accumulator for ByAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        match values {
            [xs, ys, ..] => self.offer_arrays(xs, ys),
            _ => plan_err!("min_by/max_by take two arrays"),
        }
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [xs, ys] = states else {
            return plan_err!("min_by/max_by states are two lists");
        };
        let (xs, ys) = (xs.as_list::<i32>(), ys.as_list::<i32>());
        for i in 0..xs.len() {
            if xs.is_null(i) || ys.is_null(i) {
                continue;
            }
            self.offer_arrays(&xs.value(i), &ys.value(i))?;
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let ys: Vec<ScalarValue> = self.best.iter().map(|(y, _)| y.clone()).collect();
        let xs: Vec<ScalarValue> = self.best.iter().map(|(_, x)| x.clone()).collect();
        Ok(vec![
            ScalarValue::List(ScalarValue::new_list_nullable(&xs, &self.x_type)),
            ScalarValue::List(ScalarValue::new_list_nullable(&ys, &self.y_type)),
        ])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.as_array {
            if self.best.is_empty() {
                return ScalarValue::try_from(&DataType::new_list(self.x_type.clone(), true));
            }
            let xs: Vec<ScalarValue> = self.best.iter().map(|(_, x)| x.clone()).collect();
            return Ok(ScalarValue::List(ScalarValue::new_list_nullable(
                &xs,
                &self.x_type,
            )));
        }
        match self.best.first() {
            Some((_, x)) => Ok(x.clone()),
            None => ScalarValue::try_from(&self.x_type),
        }
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self
                .best
                .iter()
                .map(|(y, x)| y.size() + x.size())
                .sum::<usize>()
    }
}

// ---- listagg / string_agg ----------------------------------------------------------

/// Spark's `listagg`/`string_agg`: DataFusion's `string_agg` with the delimiter
/// optional (an omitted one is no delimiter).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ListAgg {
    name: &'static str,
    inner: Arc<AggregateUDF>,
    signature: Signature,
}

impl ListAgg {
    fn with_delimiter<R>(
        &self,
        args: AccumulatorArgs,
        f: impl FnOnce(AccumulatorArgs) -> Result<R>,
    ) -> Result<R> {
        if args.exprs.len() >= 2 {
            return f(args);
        }
        let mut exprs = args.exprs.to_vec();
        exprs.push(Arc::new(Literal::new(ScalarValue::Utf8(Some(
            String::new(),
        )))));
        let mut fields = args.expr_fields.to_vec();
        fields.push(Arc::new(Field::new("delimiter", DataType::Utf8, true)));
        f(AccumulatorArgs {
            exprs: &exprs,
            expr_fields: &fields,
            ..args
        })
    }
}

impl AggregateUDFImpl for ListAgg {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let text = |t: &DataType| match t {
            DataType::LargeUtf8 => DataType::LargeUtf8,
            _ => DataType::Utf8,
        };
        match args {
            [x] => Ok(vec![text(x)]),
            [x, _] => Ok(vec![text(x), DataType::Utf8]),
            _ => plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires [1, 2] parameters but the actual number is {}.",
                self.name,
                args.len()
            ),
        }
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::LargeUtf8)
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.state_fields(args)
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        self.with_delimiter(args, |a| self.inner.accumulator(a))
    }
    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.with_delimiter(args, |a| Ok(self.inner.groups_accumulator_supported(a)))
            .unwrap_or(false)
    }
    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        self.with_delimiter(args, |a| self.inner.create_groups_accumulator(a))
    }
    fn order_sensitivity(&self) -> datafusion::logical_expr::utils::AggregateOrderSensitivity {
        self.inner.inner().order_sensitivity()
    }
    fn supports_within_group_clause(&self) -> bool {
        true
    }
}

/// The aggregates of this module.
pub fn functions() -> Vec<AggregateUDF> {
    let sig = || Signature::user_defined(Volatility::Immutable);
    let inner = datafusion::functions_aggregate::string_agg::string_agg_udaf();
    vec![
        AggregateUDF::new_from_impl(CountIf { signature: sig() }),
        AggregateUDF::new_from_impl(ByOrdering {
            max: true,
            signature: sig(),
        }),
        AggregateUDF::new_from_impl(ByOrdering {
            max: false,
            signature: sig(),
        }),
        AggregateUDF::new_from_impl(ListAgg {
            name: "listagg",
            inner: inner.clone(),
            signature: sig(),
        }),
        AggregateUDF::new_from_impl(ListAgg {
            name: "string_agg",
            inner,
            signature: sig(),
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(max: bool, k: usize) -> ByAcc {
        ByAcc {
            max,
            k,
            as_array: k > 1,
            x_type: DataType::Utf8,
            y_type: DataType::Int64,
            best: vec![],
        }
    }

    #[test]
    fn by_keeps_the_best_rows_skipping_null_orderings() {
        let mut a = acc(true, 1);
        for (x, y) in [
            ("a", Some(10)),
            ("b", Some(50)),
            ("n", None),
            ("c", Some(20)),
        ] {
            a.offer(ScalarValue::Int64(y), ScalarValue::from(x));
        }
        assert_eq!(a.evaluate().unwrap(), ScalarValue::from("b"));
        let mut m = acc(false, 2);
        for (x, y) in [("a", 10), ("b", 50), ("c", 20), ("d", 10)] {
            m.offer(ScalarValue::Int64(Some(y)), ScalarValue::from(x));
        }
        let got: Vec<_> = m.best.iter().map(|(_, x)| x.to_string()).collect();
        assert_eq!(got, vec!["a", "d"]);
    }

    #[test]
    fn count_if_counts_true_only() {
        let mut c = CountIfAcc(0);
        let v: ArrayRef = Arc::new(BooleanArray::from(vec![
            Some(true),
            None,
            Some(false),
            Some(true),
        ]));
        c.update_batch(&[v]).unwrap();
        assert_eq!(c.evaluate().unwrap(), ScalarValue::Int64(Some(2)));
    }
}
