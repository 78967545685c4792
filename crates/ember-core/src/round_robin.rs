//! Spark's `repartition(n)`: a shuffle that deals rows, one at a time, to `n`
//! partitions. Input partition `p` starts at position
//! `XORShiftRandom(p).nextInt(n)` and sends its `k`-th row (0-based, in order) to
//! partition `(start + 1 + k) mod n`, as Spark's `ShuffleExchangeExec` for
//! `RoundRobinPartitioning`. Every output partition gets rows (given at least `n`
//! rows), so `repartition(6).write.partitionBy(c)` writes six files per value of `c`,
//! as Spark does; DataFusion's own round robin deals whole batches instead.
//!
//! Spark also sorts each input partition before dealing
//! (`spark.sql.execution.sortBeforeRepartition`, by the rows' binary form), which
//! decides *which* rows land together; ember deals in input order.

use std::fmt;
use std::sync::{Arc, Mutex};

use arrow::array::{RecordBatch, UInt32Array};
use datafusion::common::{DFSchemaRef, DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan, UserDefinedLogicalNodeCore};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning,
    PlanProperties,
};
use futures::StreamExt;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::functions::random::XorShiftRandom;

/// Logical `repartition(n)` (see the module docs). Schema: the input's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SparkRoundRobin {
    input: LogicalPlan,
    partitions: usize,
}

impl SparkRoundRobin {
    /// `repartition(partitions)` of `input`.
    pub fn new(input: LogicalPlan, partitions: usize) -> Self {
        SparkRoundRobin {
            input,
            partitions: partitions.max(1),
        }
    }
}

impl PartialOrd for SparkRoundRobin {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.partitions.partial_cmp(&other.partitions)
    }
}

impl UserDefinedLogicalNodeCore for SparkRoundRobin {
    fn name(&self) -> &str {
        "RoundRobinRepartition"
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
        // A filter keeps the same rows on either side of the shuffle.
        Default::default()
    }
    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "RoundRobinRepartition: partitions={}", self.partitions)
    }
    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let input = crate::planner::only_input(inputs, "RoundRobinRepartition")?;
        Ok(SparkRoundRobin::new(input, self.partitions))
    }
    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        Some(vec![output_columns.to_vec()])
    }
}

impl SparkRoundRobin {
    /// The physical operator over the planned `input`.
    pub(crate) fn plan(&self, input: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        Arc::new(RoundRobinExec::new(input, self.partitions))
    }
}

/// The dealing tasks of one execution and the receivers not yet handed out.
struct Exchange {
    receivers: Vec<Option<UnboundedReceiver<Result<RecordBatch>>>>,
    /// Aborted when the last output stream (or the plan) lets go of the exchange.
    _tasks: Vec<AbortOnDrop>,
}

/// A dealing task, aborted when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Physical `repartition(n)` (see the module docs).
#[derive(Debug)]
pub struct RoundRobinExec {
    input: Arc<dyn ExecutionPlan>,
    partitions: usize,
    props: Arc<PlanProperties>,
    exchange: Mutex<Option<Arc<Mutex<Exchange>>>>,
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Exchange({} outputs)", self.receivers.len())
    }
}

impl RoundRobinExec {
    fn new(input: Arc<dyn ExecutionPlan>, partitions: usize) -> Self {
        let p = input.properties();
        let props = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(input.schema()),
            Partitioning::UnknownPartitioning(partitions),
            p.emission_type,
            p.boundedness,
        ));
        RoundRobinExec {
            input,
            partitions,
            props,
            exchange: Mutex::new(None),
        }
    }

    /// Starts dealing every input partition (once per execution).
    fn start(&self, context: &Arc<TaskContext>) -> Result<Arc<Mutex<Exchange>>> {
        let n = self.partitions;
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..n).map(|_| unbounded_channel()).unzip();
        let m = self.input.output_partitioning().partition_count();
        let mut tasks = Vec::with_capacity(m);
        for p in 0..m {
            let stream = self.input.execute(p, context.clone())?;
            let senders = senders.clone();
            tasks.push(AbortOnDrop(tokio::spawn(deal(stream, p, senders))));
        }
        Ok(Arc::new(Mutex::new(Exchange {
            receivers: receivers.into_iter().map(Some).collect(),
            _tasks: tasks,
        })))
    }
}

/// `new XORShiftRandom(partitionId).nextInt(n)`: where input partition `p` starts.
pub fn start_position(partition: usize, n: usize) -> usize {
    XorShiftRandom::new(partition as i64).next_int_below(n as i32) as usize
}

/// Deals the rows of one input partition (see the module docs).
async fn deal(
    mut stream: SendableRecordBatchStream,
    partition: usize,
    senders: Vec<UnboundedSender<Result<RecordBatch>>>,
) {
    let n = senders.len();
    let mut position = start_position(partition, n);
    while let Some(batch) = stream.next().await {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                // Every output fails with the input's error.
                let msg = e.to_string();
                for s in &senders {
                    let _ = s.send(Err(DataFusionError::Execution(msg.clone())));
                }
                return;
            }
        };
        let mut indices: Vec<Vec<u32>> = vec![Vec::new(); n];
        for row in 0..batch.num_rows() {
            position = (position + 1) % n;
            indices[position].push(row as u32);
        }
        let mut alive = false;
        for (target, idx) in indices.into_iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            let part = if batch.num_columns() == 0 {
                // `count()` over a repartition reads no column: rows without columns.
                RecordBatch::try_new_with_options(
                    batch.schema(),
                    vec![],
                    &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(idx.len())),
                )
            } else {
                arrow::compute::take_record_batch(&batch, &UInt32Array::from(idx))
            }
            .map_err(DataFusionError::from);
            alive |= senders[target].send(part).is_ok();
        }
        if !alive && senders.iter().all(|s| s.is_closed()) {
            return;
        }
    }
}

impl DisplayAs for RoundRobinExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "RoundRobinExec: partitions={}", self.partitions)
    }
}

impl ExecutionPlan for RoundRobinExec {
    fn name(&self) -> &str {
        "RoundRobinExec"
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
    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = crate::planner::only_input(children, "RoundRobinExec")?;
        Ok(Arc::new(RoundRobinExec::new(input, self.partitions)))
    }
    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let exchange = {
            let mut guard = self
                .exchange
                .lock()
                .map_err(|_| DataFusionError::Internal("round robin state poisoned".into()))?;
            // A new execution starts once every output of the previous one was taken.
            let reuse = guard.as_ref().is_some_and(|x| {
                x.lock()
                    .map(|e| e.receivers.get(partition).is_some_and(Option::is_some))
                    .unwrap_or(false)
            });
            if !reuse {
                *guard = Some(self.start(&context)?);
            }
            guard
                .clone()
                .ok_or_else(|| DataFusionError::Internal("round robin not started".into()))?
        };
        let rx = exchange
            .lock()
            .map_err(|_| DataFusionError::Internal("round robin state poisoned".into()))?
            .receivers
            .get_mut(partition)
            .and_then(Option::take)
            .ok_or_else(|| {
                DataFusionError::Internal(format!("round robin partition {partition} out of range"))
            })?;
        // The stream keeps the exchange (and so its dealing tasks) alive.
        let stream = futures::stream::unfold((rx, exchange), |(mut rx, ex)| async move {
            rx.recv().await.map(|b| (b, (rx, ex)))
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.input.schema(),
            stream,
        )))
    }
}
