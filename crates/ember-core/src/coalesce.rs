//! Spark's `coalesce(n)`: fewer partitions without a shuffle. Output partition `i` of
//! `n` reads the input partitions `[i * m / n, (i + 1) * m / n)` of the `m` one after
//! another, in order (Spark's `CoalescedRDD` with no preferred locations), so rows
//! keep their partition order (`coalesce(1)` before a write gives one file whose rows
//! come in the input's order) and partition-local expressions above it see Spark's
//! partition indexes. Asking for more partitions than the input has keeps the
//! input's count, as Spark does.

use std::fmt;
use std::sync::Arc;

use datafusion::common::{DFSchemaRef, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use futures::StreamExt;

/// Logical `coalesce(n)` (see the module docs). Schema: the input's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SparkCoalesce {
    input: LogicalPlan,
    partitions: usize,
}

impl SparkCoalesce {
    /// `coalesce(partitions)` of `input`.
    pub fn new(input: LogicalPlan, partitions: usize) -> Self {
        SparkCoalesce {
            input,
            partitions: partitions.max(1),
        }
    }
}

impl PartialOrd for SparkCoalesce {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.partitions.partial_cmp(&other.partitions)
    }
}

impl UserDefinedLogicalNodeCore for SparkCoalesce {
    fn name(&self) -> &str {
        "Coalesce"
    }
    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }
    fn schema(&self) -> &DFSchemaRef {
        self.input.schema()
    }
    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }
    fn prevent_predicate_push_down_columns(&self) -> std::collections::HashSet<String> {
        // Filtering before or after concatenating partitions keeps the same rows.
        Default::default()
    }
    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Coalesce: partitions={}", self.partitions)
    }
    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let input = crate::planner::only_input(inputs, "Coalesce")?;
        Ok(SparkCoalesce::new(input, self.partitions))
    }
    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        // Output columns are the input's, one for one.
        Some(vec![output_columns.to_vec()])
    }
}

impl SparkCoalesce {
    /// The physical operator over the planned `input`.
    pub(crate) fn plan(&self, input: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        Arc::new(SparkCoalesceExec::new(input, self.partitions))
    }
}

/// Physical `coalesce(n)`: output partition `i` chains its group of input partitions.
#[derive(Debug)]
pub struct SparkCoalesceExec {
    input: Arc<dyn ExecutionPlan>,
    partitions: usize,
    props: Arc<PlanProperties>,
}

impl SparkCoalesceExec {
    fn new(input: Arc<dyn ExecutionPlan>, partitions: usize) -> Self {
        let n = partitions
            .min(input.output_partitioning().partition_count())
            .max(1);
        let p = input.properties();
        let props = Arc::new(PlanProperties::new(
            // Concatenated partitions are no longer sorted as a whole.
            EquivalenceProperties::new(input.schema()),
            Partitioning::UnknownPartitioning(n),
            p.emission_type,
            p.boundedness,
        ));
        SparkCoalesceExec {
            input,
            partitions,
            props,
        }
    }

    fn output_count(&self) -> usize {
        self.props.output_partitioning().partition_count()
    }
}

impl DisplayAs for SparkCoalesceExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SparkCoalesceExec: partitions={}", self.output_count())
    }
}

impl ExecutionPlan for SparkCoalesceExec {
    fn name(&self) -> &str {
        "SparkCoalesceExec"
    }
    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = crate::planner::only_input(children, "SparkCoalesceExec")?;
        Ok(Arc::new(SparkCoalesceExec::new(input, self.partitions)))
    }
    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let m = self.input.output_partitioning().partition_count();
        let n = self.output_count();
        let (from, to) = (partition * m / n, (partition + 1) * m / n);
        let input = self.input.clone();
        // Each input partition starts when the one before it is exhausted.
        let stream = futures::stream::iter(from..to)
            .map(move |p| match input.execute(p, context.clone()) {
                Ok(s) => s.boxed(),
                Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
            })
            .flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.input.schema(),
            stream,
        )))
    }
}
