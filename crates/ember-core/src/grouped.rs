//! `GroupedData` (`df.groupBy(...)`), `DataFrameNaFunctions` (`df.na`) and
//! `describe`, with Spark's result column names and semantics.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{cast, lit, Expr};
use datafusion::prelude::col as df_col;

use crate::column::Column;
use crate::dataframe::DataFrame;
use crate::error::{EmberError, Result};

/// The result of `groupBy`: call [`GroupedData::agg`] or a shortcut.
#[derive(Debug, Clone)]
pub struct GroupedData {
    df: DataFrame,
    keys: Vec<Expr>,
}

/// Spark's default name of an aggregate column: `sum(x)`, `avg(x)`, `count(x)`.
fn spark_name(e: &Expr) -> String {
    match e {
        Expr::Alias(a) => a.name.clone(),
        other => crate::sql::naming::spark_sql(other),
    }
}

impl GroupedData {
    pub(crate) fn new(df: DataFrame, keys: Vec<Expr>) -> GroupedData {
        GroupedData { df, keys }
    }
    /// `agg(exprs)`: grouping columns then the aggregates, named as Spark names them.
    pub fn agg(&self, aggs: Vec<Column>) -> Result<DataFrame> {
        let aggs: Vec<Expr> = aggs
            .into_iter()
            .map(|c| {
                let n = spark_name(&c.0);
                match c.0 {
                    e @ Expr::Alias(_) => e,
                    e => e.alias(n),
                }
            })
            .collect();
        self.df.group_by_agg(self.keys.clone(), aggs)
    }
    /// `count()`: a `count` column with the rows per group.
    pub fn count(&self) -> Result<DataFrame> {
        self.agg(vec![Column(
            datafusion::functions_aggregate::expr_fn::count(lit(1)).alias("count"),
        )])
    }
    fn each(&self, cols: &[&str], f: fn(Column) -> Column) -> Result<DataFrame> {
        self.agg(cols.iter().map(|c| f(crate::column::col(c))).collect())
    }
    /// `sum(cols)`.
    pub fn sum(&self, cols: &[&str]) -> Result<DataFrame> {
        self.each(cols, crate::functions::sum)
    }
    /// `avg(cols)` / `mean`.
    pub fn avg(&self, cols: &[&str]) -> Result<DataFrame> {
        self.each(cols, crate::functions::avg)
    }
    /// `min(cols)`.
    pub fn min(&self, cols: &[&str]) -> Result<DataFrame> {
        self.each(cols, crate::functions::min)
    }
    /// `max(cols)`.
    pub fn max(&self, cols: &[&str]) -> Result<DataFrame> {
        self.each(cols, crate::functions::max)
    }
}

/// `df.na`: Spark's `DataFrameNaFunctions`.
#[derive(Debug, Clone)]
pub struct NaFunctions {
    df: DataFrame,
}

fn is_numeric(t: &DataType) -> bool {
    t.is_numeric()
}

impl NaFunctions {
    pub(crate) fn new(df: DataFrame) -> NaFunctions {
        NaFunctions { df }
    }

    /// `fill(value, subset)`: replaces nulls in columns whose type matches the value
    /// (numbers fill numeric columns, cast to the column type; strings fill string
    /// columns; booleans fill boolean columns), in `subset` or all columns.
    pub fn fill(&self, value: ScalarValue, subset: &[&str]) -> Result<DataFrame> {
        let schema = self.df.schema();
        let exprs: Vec<Expr> = schema
            .fields()
            .iter()
            .map(|f| {
                let c = Expr::Column(datafusion::common::Column::new_unqualified(f.name()));
                let in_subset = subset.is_empty() || subset.iter().any(|s| s == f.name());
                let matches = match &value {
                    v if v.data_type().is_numeric() => is_numeric(f.data_type()),
                    ScalarValue::Utf8(_) | ScalarValue::LargeUtf8(_) => {
                        f.data_type() == &DataType::Utf8
                    }
                    ScalarValue::Boolean(_) => f.data_type() == &DataType::Boolean,
                    _ => false,
                };
                if in_subset && matches {
                    datafusion::functions::expr_fn::coalesce(vec![
                        c.clone(),
                        cast(lit(value.clone()), f.data_type().clone()),
                    ])
                    .alias(f.name())
                } else {
                    c
                }
            })
            .collect();
        self.df.select_exprs(exprs)
    }

    /// `fill({col: value})`.
    pub fn fill_map(&self, values: &[(&str, ScalarValue)]) -> Result<DataFrame> {
        let mut out = self.df.clone();
        for (c, v) in values {
            out = out.na().fill(v.clone(), &[c])?;
        }
        Ok(out)
    }

    /// `drop(how, thresh, subset)`: `how` = `any` (default) drops rows with any null
    /// in `subset`; `all` drops rows where all are null; `thresh` keeps rows with at
    /// least that many non-null values (overrides `how`). NaN counts as null, as
    /// Spark's `DataFrameNaFunctions.drop`.
    pub fn drop(&self, how: &str, thresh: Option<usize>, subset: &[&str]) -> Result<DataFrame> {
        let cols: Vec<String> = if subset.is_empty() {
            self.df.columns()
        } else {
            subset.iter().map(|s| s.to_string()).collect()
        };
        if cols.is_empty() {
            return Ok(self.df.clone());
        }
        // Spark's `AtLeastNNonNulls`: NaN counts as null in FLOAT and DOUBLE columns.
        let schema = self.df.schema();
        let non_null: Vec<Expr> = cols
            .iter()
            .map(|c| {
                let e = Expr::Column(datafusion::common::Column::new_unqualified(c));
                let nan = match schema.field_with_name(c).map(|f| f.data_type()) {
                    Ok(DataType::Float64) => Some(ScalarValue::Float64(Some(f64::NAN))),
                    Ok(DataType::Float32) => Some(ScalarValue::Float32(Some(f32::NAN))),
                    _ => None,
                };
                match nan {
                    // NaN = NaN in Spark's and Arrow's float ordering.
                    Some(nan) => e.clone().is_not_null().and(e.not_eq(lit(nan))),
                    None => e.is_not_null(),
                }
            })
            .collect();
        let cond = match (thresh, how.to_ascii_lowercase().as_str()) {
            (Some(t), _) => {
                let n = non_null
                    .iter()
                    .map(|e| {
                        datafusion::logical_expr::when(e.clone(), lit(1i64)).otherwise(lit(0i64))
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()?
                    .into_iter()
                    .reduce(|a, b| a + b)
                    .unwrap_or(lit(0i64));
                n.gt_eq(lit(t as i64))
            }
            (None, "any") => non_null
                .into_iter()
                .reduce(|a, b| a.and(b))
                .unwrap_or(lit(true)),
            (None, "all") => non_null
                .into_iter()
                .reduce(|a, b| a.or(b))
                .unwrap_or(lit(true)),
            (None, other) => {
                return Err(EmberError::analysis(
                    "INVALID_PARAMETER_VALUE",
                    format!("how ('{other}') should be 'any' or 'all'"),
                ))
            }
        };
        self.df.filter(cond)
    }
}

/// Spark's `describe`: rows `count`, `mean`, `stddev`, `min`, `max`, all as strings.
pub async fn describe(df: &DataFrame, cols: &[&str]) -> Result<DataFrame> {
    let schema = df.schema();
    let names: Vec<String> = if cols.is_empty() {
        schema
            .fields()
            .iter()
            .filter(|f| f.data_type().is_numeric() || f.data_type() == &DataType::Utf8)
            .map(|f| f.name().clone())
            .collect()
    } else {
        cols.iter().map(|c| c.to_string()).collect()
    };
    let mut aggs = Vec::new();
    for n in &names {
        let f = schema
            .field_with_name(n)
            .map_err(|_| crate::sql::errors::unresolved_in_schema(n, &schema))?;
        let c = df_col(format!("\"{}\"", n.replace('"', "\"\"")));
        let numeric = f.data_type().is_numeric();
        aggs.push(datafusion::functions_aggregate::expr_fn::count(c.clone()));
        if numeric {
            aggs.push(
                crate::functions::sums::avg_udaf().call(vec![cast(c.clone(), DataType::Float64)]),
            );
            aggs.push(
                crate::functions::moments::stddev_udaf()
                    .call(vec![cast(c.clone(), DataType::Float64)]),
            );
        } else {
            aggs.push(cast(lit(ScalarValue::Null), DataType::Float64));
            aggs.push(cast(lit(ScalarValue::Null), DataType::Float64));
        }
        aggs.push(datafusion::functions_aggregate::expr_fn::min(c.clone()));
        aggs.push(datafusion::functions_aggregate::expr_fn::max(c));
    }
    let aggs: Vec<Expr> = aggs
        .into_iter()
        .enumerate()
        .map(|(i, e)| e.alias(format!("__d{i}")))
        .collect();
    let stats = df.group_by_agg(vec![], aggs)?.collect().await?;
    let fo = df.session().format_options();
    let labels = ["count", "mean", "stddev", "min", "max"];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from(labels.to_vec()))];
    for (ci, _) in names.iter().enumerate() {
        let vals: Vec<Option<String>> = (0..5)
            .map(|k| {
                stats.first().and_then(|b| {
                    crate::format::value_string(b.column(ci * 5 + k).as_ref(), 0, &fo)
                })
            })
            .collect();
        columns.push(Arc::new(StringArray::from(vals)));
    }
    let mut fields = vec![Field::new("summary", DataType::Utf8, true)];
    fields.extend(names.iter().map(|n| Field::new(n, DataType::Utf8, true)));
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let t = MemTable::try_new(schema, vec![vec![batch]])?;
    Ok(DataFrame::new(
        df.session().clone(),
        df.session().context().read_table(Arc::new(t))?,
    ))
}
