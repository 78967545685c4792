//! Spark's `range`: the SQL table function `range(end)`, `range(start, end[, step[,
//! numPartitions]])` and `spark.range(...)`, one non-null `bigint` column `id`, split
//! into partitions as Spark's `RangeExec` splits it: partition `i` of `n` holds the
//! elements `[i * N / n, (i + 1) * N / n)` of the `N` in the range, in order. Without
//! `numPartitions` there are `spark.default.parallelism` partitions (Spark's
//! `leafNodeDefaultParallelism`), so `spark_partition_id()` and
//! `monotonically_increasing_id()` over a range give Spark's values.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Int64Array, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
};

/// Spark's `range` table function (see the module docs).
#[derive(Debug)]
pub struct SparkRange {
    default_partitions: usize,
}

impl SparkRange {
    /// `range` with `default_partitions` partitions when the call gives none.
    pub fn new(default_partitions: usize) -> Self {
        SparkRange { default_partitions }
    }
}

/// A constant integer argument of `range`.
fn int_arg(e: &Expr) -> Result<i64> {
    match e {
        Expr::Literal(v, _) if !v.is_null() => match v.cast_to(&DataType::Int64) {
            Ok(ScalarValue::Int64(Some(x))) => Ok(x),
            _ => plan_err!("[INVALID_SQL_ARGUMENTS] The arguments of `range` must be integers, not {v}."),
        },
        Expr::Negative(x) => Ok(int_arg(x)?.wrapping_neg()),
        Expr::Cast(c) => int_arg(&c.expr),
        other => plan_err!(
            "[INVALID_SQL_ARGUMENTS] The arguments of `range` must be integer constants, not {other}."
        ),
    }
}

impl TableFunctionImpl for SparkRange {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let v = args
            .exprs()
            .iter()
            .map(int_arg)
            .collect::<Result<Vec<i64>>>()?;
        let (start, end, step, parts) = match v.as_slice() {
            [end] => (0, *end, 1, None),
            [start, end] => (*start, *end, 1, None),
            [start, end, step] => (*start, *end, *step, None),
            [start, end, step, n] => (*start, *end, *step, Some(*n)),
            _ => {
                return plan_err!(
                    "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `range` requires [1, 2, 3, 4] parameters but the actual number is {}.",
                    v.len()
                )
            }
        };
        let parts = match parts {
            Some(n) if n <= 0 => {
                return plan_err!(
                "[INVALID_SQL_ARGUMENTS] The numPartitions of `range` must be positive, not {n}."
            )
            }
            Some(n) => n as usize,
            None => self.default_partitions,
        };
        Ok(Arc::new(RangeTable::try_new(start, end, step, parts)?))
    }
}

/// The rows of a Spark range as a table (see the module docs).
#[derive(Debug, Clone)]
pub struct RangeTable {
    start: i64,
    step: i64,
    /// Number of elements (Spark's `Range.numElements`; 0 for an empty range).
    count: i128,
    partitions: usize,
    schema: SchemaRef,
}

impl RangeTable {
    /// `range(start, end, step, partitions)`. Errors: a zero `step`
    /// (`FAILED_FUNCTION_CALL`).
    pub fn try_new(start: i64, end: i64, step: i64, partitions: usize) -> Result<Self> {
        if step == 0 {
            return plan_err!("[FAILED_FUNCTION_CALL] The step of range must not be 0.");
        }
        let (s, e, st) = (start as i128, end as i128, step as i128);
        let count = if (e - s) % st == 0 || (e > s) != (st > 0) {
            (e - s) / st
        } else {
            (e - s) / st + 1
        };
        Ok(RangeTable {
            start,
            step,
            count: count.max(0),
            partitions: partitions.max(1),
            schema: Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)])),
        })
    }
}

#[async_trait]
impl TableProvider for RangeTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn table_type(&self) -> TableType {
        TableType::Temporary
    }
    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        let props = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(self.partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Ok(Arc::new(RangeExec {
            table: self.clone(),
            schema,
            batch_size: state.config().batch_size(),
            props,
        }))
    }
}

/// Physical range: partition `i` yields its slice of the range in batches.
#[derive(Debug)]
pub struct RangeExec {
    table: RangeTable,
    schema: SchemaRef,
    batch_size: usize,
    props: Arc<PlanProperties>,
}

impl DisplayAs for RangeExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "SparkRange: start={}, step={}, elements={}, partitions={}",
            self.table.start, self.table.step, self.table.count, self.table.partitions
        )
    }
}

impl ExecutionPlan for RangeExec {
    fn name(&self) -> &str {
        "SparkRange"
    }
    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }
    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }
    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let t = &self.table;
        let n = t.partitions as i128;
        let i = partition as i128;
        // Element positions [first, last) of this partition (Spark's RangeExec slicing).
        let first = i * t.count / n;
        let last = (i + 1) * t.count / n;
        let (start, step) = (t.start as i128, t.step as i128);
        let batch = self.batch_size.max(1) as i128;
        let schema = self.schema.clone();
        let with_id = !schema.fields().is_empty();
        let stream =
            futures::stream::iter((first..last).step_by(batch as usize).map(move |from| {
                let to = (from + batch).min(last);
                let rows = (to - from) as usize;
                let cols: Vec<Arc<dyn datafusion::arrow::array::Array>> = if with_id {
                    vec![Arc::new(Int64Array::from_iter_values(
                        (from..to).map(|k| (start + k * step) as i64),
                    ))]
                } else {
                    vec![]
                };
                let opts = RecordBatchOptions::new().with_row_count(Some(rows));
                Ok(RecordBatch::try_new_with_options(
                    schema.clone(),
                    cols,
                    &opts,
                )?)
            }));
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_follow_spark() {
        assert_eq!(RangeTable::try_new(0, 10, 1, 1).unwrap().count, 10);
        assert_eq!(RangeTable::try_new(0, 10, 3, 1).unwrap().count, 4);
        assert_eq!(RangeTable::try_new(10, 0, -3, 1).unwrap().count, 4);
        assert_eq!(RangeTable::try_new(10, 0, 1, 1).unwrap().count, 0);
        assert_eq!(
            RangeTable::try_new(i64::MIN, i64::MAX, 1, 1).unwrap().count,
            u64::MAX as i128
        );
        assert!(RangeTable::try_new(0, 1, 0, 1).is_err());
    }
}
