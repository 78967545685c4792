//! `DataFrame.stat` relations computed on the server from a scan of the input:
//! `crosstab` and `freqItems` (Spark's `StatFunctions`).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Cast, Expr};
use ember_core::{DataFrame, EmberError};

use crate::error::{ConnectError, Result};
use crate::relation::Planner;

/// Spark's limit on the distinct values of `crosstab`'s second column.
const MAX_CROSSTAB_COLUMNS: usize = 10_000;

/// `df.stat.crosstab(col1, col2)`: one row per distinct value of `col1` and one
/// `LongType` column per distinct value of `col2`, holding how many rows have that
/// pair (0 when none). The first column is `{col1}_{col2}` (string); the other
/// columns are named by the values of `col2` as strings, sorted (`null` for null).
/// As Spark's `StatFunctions.crossTabulate`; row order is unspecified.
///
/// Errors: `UNRESOLVED_COLUMN` for an unknown column; `INVALID_PARAMETER_VALUE`
/// when `col2` has 10,000 distinct values or more (Spark's limit).
pub async fn crosstab(p: &Planner<'_>, input: &DataFrame, c1: &str, c2: &str) -> Result<DataFrame> {
    let sc = p.scope(input);
    let text = |e: Expr| Expr::Cast(Cast::new(Box::new(e), DataType::Utf8));
    let a = text(sc.attribute(c1, None)?).alias("__a");
    let b = text(sc.attribute(c2, None)?).alias("__b");
    let n = datafusion::functions_aggregate::expr_fn::count(Expr::Literal(
        ScalarValue::Int32(Some(1)),
        None,
    ))
    .alias("__n");
    let batches = input.group_by_agg(vec![a, b], vec![n])?.collect().await?;
    let mut pairs: Vec<(String, String, i64)> = Vec::new();
    for batch in &batches {
        let s = |i: usize| -> Result<StringArray> {
            let c = arrow::compute::cast(batch.column(i), &DataType::Utf8)?;
            c.as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .ok_or_else(|| ConnectError::invalid("crosstab: a value is not a string"))
        };
        let (xs, ys) = (s(0)?, s(1)?);
        let ns = arrow::compute::cast(batch.column(2), &DataType::Int64)?;
        let ns = ns
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| ConnectError::invalid("crosstab: a count is not a long"))?;
        for i in 0..batch.num_rows() {
            let v = |a: &StringArray| {
                if a.is_null(i) {
                    "null".to_string()
                } else {
                    a.value(i).to_string()
                }
            };
            pairs.push((v(&xs), v(&ys), ns.value(i)));
        }
    }
    let mut names: Vec<String> = pairs.iter().map(|(_, y, _)| y.clone()).collect();
    names.sort();
    names.dedup();
    if names.len() >= MAX_CROSSTAB_COLUMNS {
        return Err(EmberError::analysis(
            "INVALID_PARAMETER_VALUE",
            format!(
                "The number of distinct values for {c2} can't exceed {MAX_CROSSTAB_COLUMNS}. \
                 Currently {}",
                names.len()
            ),
        )
        .into());
    }
    let column_of: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut row_of: HashMap<String, usize> = HashMap::new();
    let mut keys: Vec<String> = Vec::new();
    let mut counts: Vec<Vec<i64>> = vec![Vec::new(); names.len()];
    for (x, y, n) in &pairs {
        let r = *row_of.entry(x.clone()).or_insert_with(|| {
            keys.push(x.clone());
            for c in counts.iter_mut() {
                c.push(0);
            }
            keys.len() - 1
        });
        if let Some(&c) = column_of.get(y.as_str()) {
            counts[c][r] += n;
        }
    }
    // Backquotes cannot appear in column names (Spark drops them).
    let clean = |s: &str| s.replace('`', "");
    let mut fields = vec![Field::new(format!("{c1}_{c2}"), DataType::Utf8, true)];
    fields.extend(
        names
            .iter()
            .map(|n| Field::new(clean(n), DataType::Int64, true)),
    );
    let schema = Arc::new(Schema::new(fields));
    let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(keys))];
    columns.extend(
        counts
            .into_iter()
            .map(|c| Arc::new(Int64Array::from(c)) as ArrayRef),
    );
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    crate::local::from_batches(p.spark(), schema, vec![batch])
}

/// Spark's `FreqItemCounter`: at most `size` candidate items with their counts
/// (Karp, Schenker and Papadimitriou's frequent-items algorithm).
struct FreqItemCounter {
    size: usize,
    /// Item → (count, first seen), the order the items are reported in.
    items: HashMap<ScalarValue, (i64, usize)>,
    seen: usize,
}

impl FreqItemCounter {
    fn new(size: usize) -> Self {
        FreqItemCounter {
            size,
            items: HashMap::new(),
            seen: 0,
        }
    }

    fn add(&mut self, key: ScalarValue) {
        self.seen += 1;
        if let Some((c, _)) = self.items.get_mut(&key) {
            *c += 1;
            return;
        }
        if self.items.len() < self.size {
            self.items.insert(key, (1, self.seen));
            return;
        }
        let min = self.items.values().map(|(c, _)| *c).min().unwrap_or(0);
        if 1 >= min {
            // Something is kicked out: the new item enters, then every item at
            // the minimum leaves and the rest are lowered by it.
            self.items.insert(key, (1, self.seen));
            self.items.retain(|_, (c, _)| *c > min);
            for (c, _) in self.items.values_mut() {
                *c -= min;
            }
        } else {
            for (c, _) in self.items.values_mut() {
                *c -= 1;
            }
        }
    }

    fn items(self) -> Vec<ScalarValue> {
        let mut v: Vec<(ScalarValue, usize)> =
            self.items.into_iter().map(|(k, (_, at))| (k, at)).collect();
        v.sort_by_key(|(_, at)| *at);
        v.into_iter().map(|(k, _)| k).collect()
    }
}

/// `df.stat.freqItems(cols, support)`: one row with, per column, an array
/// `{col}_freqItems` of the column's items that may occur in more than `support`
/// (default 1%) of the rows: every such item is there, and items that are not may
/// be too. As Spark's `StatFunctions.singlePassFreqItems` (`1 / support`
/// candidates per column, the rows read in partition order); the order of the
/// items in an array is unspecified.
///
/// Errors: `UNRESOLVED_COLUMN` for an unknown column; `INVALID_PARAMETER_VALUE`
/// when `support` is below 1e-4.
pub async fn freq_items(
    p: &Planner<'_>,
    input: &DataFrame,
    cols: &[String],
    support: Option<f64>,
) -> Result<DataFrame> {
    let support = support.unwrap_or(0.01);
    if support < 1e-4 || support.is_nan() {
        return Err(EmberError::analysis(
            "INVALID_PARAMETER_VALUE",
            format!("Support must be at least 1.0E-4, but got {support}."),
        )
        .into());
    }
    let size = (1.0 / support) as usize;
    let sc = p.scope(input);
    let exprs = cols
        .iter()
        .enumerate()
        .map(|(i, c)| Ok(sc.attribute(c, None)?.alias(format!("__c{i}"))))
        .collect::<Result<Vec<_>>>()?;
    let selected = input.select_exprs(exprs)?;
    let types: Vec<DataType> = selected
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    let mut counters: Vec<FreqItemCounter> =
        cols.iter().map(|_| FreqItemCounter::new(size)).collect();
    for batch in selected.collect().await? {
        for (i, counter) in counters.iter_mut().enumerate() {
            let column = batch.column(i);
            for r in 0..batch.num_rows() {
                counter.add(ScalarValue::try_from_array(column, r)?);
            }
        }
    }
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for ((c, counter), t) in cols.iter().zip(counters).zip(types) {
        let list = ScalarValue::new_list_nullable(&counter.items(), &t);
        fields.push(Field::new(
            format!("{c}_freqItems"),
            list.data_type().clone(),
            true,
        ));
        columns.push(list);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    crate::local::from_batches(p.spark(), schema, vec![batch])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(size: usize, xs: &[i64]) -> Vec<i64> {
        let mut c = FreqItemCounter::new(size);
        for x in xs {
            c.add(ScalarValue::Int64(Some(*x)));
        }
        let mut v: Vec<i64> = c
            .items()
            .into_iter()
            .map(|s| match s {
                ScalarValue::Int64(Some(x)) => x,
                _ => unreachable!(),
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn every_item_when_they_fit() {
        assert_eq!(counted(100, &[1, 1, 3, 4, 4]), vec![1, 3, 4]);
    }

    #[test]
    fn rare_items_are_evicted_frequent_ones_stay() {
        // Two candidates: 7 occurs in more than half the rows and must survive.
        let xs = [7, 1, 7, 2, 7, 3, 7, 4, 7];
        let got = counted(2, &xs);
        assert!(got.contains(&7), "{got:?}");
        assert!(got.len() <= 2, "{got:?}");
    }
}

/// `df.approxQuantile(cols, probabilities, relativeError)` (StatApproxQuantile): one
/// row, one column `approx_quantile` of `array<array<double>>`, a list of quantiles
/// per column in the order asked. Runs `ember_approx_quantile` (Spark's
/// `QuantileSummaries`, see `ember_sql::functions::quantile`) over each column cast
/// to `double`; NULL and NaN are skipped and a column with no other value gives an
/// empty list, as Spark's `StatFunctions.multipleApproxQuantiles`.
///
/// Errors: `UNRESOLVED_COLUMN` for an unknown column; `INVALID_PARAMETER_VALUE` for a
/// non-numeric column, a probability outside `[0, 1]` or a negative relative error
/// (Spark's `requirement failed` messages).
pub fn approx_quantile(
    p: &Planner<'_>,
    input: &DataFrame,
    cols: &[String],
    probabilities: &[f64],
    relative_error: f64,
) -> Result<DataFrame> {
    use datafusion::execution::FunctionRegistry;
    use datafusion::logical_expr::ExprSchemable;
    let invalid = |m: String| {
        EmberError::analysis(
            "INVALID_PARAMETER_VALUE",
            format!("requirement failed: {m}"),
        )
    };
    if relative_error < 0.0 || relative_error.is_nan() {
        return Err(invalid(format!(
            "Relative Error must be non-negative but got {relative_error}"
        ))
        .into());
    }
    if probabilities.iter().any(|q| !(0.0..=1.0).contains(q)) {
        return Err(invalid("percentile should be in the range [0.0, 1.0]".into()).into());
    }
    let sc = p.scope(input);
    let agg = p
        .spark()
        .context()
        .udaf("ember_approx_quantile")
        .map_err(EmberError::from)?;
    let probs: Vec<ScalarValue> = probabilities
        .iter()
        .map(|q| ScalarValue::Float64(Some(*q)))
        .collect();
    let probs = Expr::Literal(
        ScalarValue::List(ScalarValue::new_list_nullable(&probs, &DataType::Float64)),
        None,
    );
    let mut aggs = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        let e = sc.attribute(c, None)?;
        let t = e
            .get_type(input.inner().schema())
            .map_err(EmberError::from)?;
        if !t.is_numeric() {
            return Err(invalid(format!(
                "Quantile calculation for column {c} with data type {} is not supported.",
                ember_sql::types::simple_string(&t)
            ))
            .into());
        }
        let x = Expr::Cast(Cast::new(Box::new(e), DataType::Float64));
        let rel = Expr::Literal(ScalarValue::Float64(Some(relative_error)), None);
        aggs.push(
            agg.call(vec![x, probs.clone(), rel])
                .alias(format!("__q{i}")),
        );
    }
    let per_col = input.group_by_agg(vec![], aggs)?;
    let make_array = p
        .spark()
        .context()
        .udf("make_array")
        .map_err(EmberError::from)?;
    let cols: Vec<Expr> = (0..cols.len())
        .map(|i| datafusion::prelude::col(format!("__q{i}")))
        .collect();
    Ok(per_col.select_exprs(vec![make_array.call(cols).alias("approx_quantile")])?)
}
