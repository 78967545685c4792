//! Spark's `sample(withReplacement = true, fraction, seed)`: each row is repeated a
//! Poisson(`fraction`) number of times (Spark's `PoissonSampler` without gap
//! sampling). Partition `i` draws from commons-math3's `PoissonDistribution`
//! reseeded with the `(i + 1)`-th `nextLong()` of `java.util.Random(seed)`, as Spark's
//! `SampleExec` seeds it, so a seeded sample repeats the rows Spark repeats for the
//! same partitioning. (Sampling without replacement is a filter on `rand(seed)`:
//! see [`crate::DataFrame::sample_range`].)

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, UInt32Array};
use datafusion::common::{plan_err, DFSchemaRef, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

use crate::functions::random::{JavaRandom, Well19937c};

/// Largest fraction sampled with replacement (commons-math3 switches to another
/// Poisson algorithm from a mean of 40, which ember does not reproduce).
pub const MAX_FRACTION: f64 = 40.0;

/// Logical sample with replacement. Schema and partitioning: the input's.
#[derive(Debug, Clone, PartialEq)]
pub struct PoissonSample {
    input: LogicalPlan,
    fraction: f64,
    seed: i64,
}

impl PoissonSample {
    /// Rows of `input` repeated Poisson(`fraction`) times, seeded with `seed`.
    ///
    /// Errors: a fraction that is negative, not finite or from [`MAX_FRACTION`] on.
    pub fn try_new(input: LogicalPlan, fraction: f64, seed: i64) -> Result<Self> {
        if !(0.0..MAX_FRACTION).contains(&fraction) {
            return plan_err!(
                "[INVALID_SAMPLE_FRACTION] sample(withReplacement = true) takes a fraction in [0, {MAX_FRACTION}), not {fraction}."
            );
        }
        Ok(PoissonSample {
            input,
            fraction,
            seed,
        })
    }
}

impl Eq for PoissonSample {}

impl std::hash::Hash for PoissonSample {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.input.hash(state);
        self.fraction.to_bits().hash(state);
        self.seed.hash(state);
    }
}

impl PartialOrd for PoissonSample {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        (self.fraction, self.seed).partial_cmp(&(other.fraction, other.seed))
    }
}

impl UserDefinedLogicalNodeCore for PoissonSample {
    fn name(&self) -> &str {
        "Sample"
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
    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "Sample: withReplacement=true, fraction={}, seed={}",
            self.fraction, self.seed
        )
    }
    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let input = crate::planner::only_input(inputs, "Sample")?;
        PoissonSample::try_new(input, self.fraction, self.seed)
    }
    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        Some(vec![output_columns.to_vec()])
    }
}

impl PoissonSample {
    /// The physical operator over the planned `input`.
    pub(crate) fn plan(&self, input: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        Arc::new(PoissonSampleExec::new(input, self.fraction, self.seed))
    }
}

/// Physical [`PoissonSample`]: partition `i` of the input, rows repeated in place.
#[derive(Debug)]
pub struct PoissonSampleExec {
    input: Arc<dyn ExecutionPlan>,
    fraction: f64,
    seed: i64,
    props: Arc<PlanProperties>,
}

impl PoissonSampleExec {
    fn new(input: Arc<dyn ExecutionPlan>, fraction: f64, seed: i64) -> Self {
        let props = input.properties().clone();
        PoissonSampleExec {
            input,
            fraction,
            seed,
            props,
        }
    }
}

impl DisplayAs for PoissonSampleExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "PoissonSampleExec: fraction={}, seed={}",
            self.fraction, self.seed
        )
    }
}

impl ExecutionPlan for PoissonSampleExec {
    fn name(&self) -> &str {
        "PoissonSampleExec"
    }
    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        // The draws belong to partitions: repartitioning would change the sample.
        vec![false]
    }
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = crate::planner::only_input(children, "PoissonSampleExec")?;
        Ok(Arc::new(PoissonSampleExec::new(
            input,
            self.fraction,
            self.seed,
        )))
    }
    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let mut seeds = JavaRandom::new(self.seed);
        let mut seed = seeds.next_long();
        for _ in 0..partition {
            seed = seeds.next_long();
        }
        let mut rng = Well19937c::new(seed);
        let fraction = self.fraction;
        let schema = self.input.schema();
        let stream = input.map(move |batch| {
            let batch = batch?;
            let mut take = Vec::new();
            if fraction > 0.0 {
                for row in 0..batch.num_rows() as u32 {
                    for _ in 0..rng.poisson(fraction) {
                        take.push(row);
                    }
                }
            }
            let idx = UInt32Array::from(take);
            let cols = batch
                .columns()
                .iter()
                .map(|c| datafusion::arrow::compute::take(c.as_ref(), &idx, None))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let opts =
                datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(idx.len()));
            Ok(RecordBatch::try_new_with_options(
                batch.schema(),
                cols,
                &opts,
            )?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }
}
