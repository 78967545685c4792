//! Spark's `repartition(n)`: a shuffle that deals rows, one at a time, to `n`
//! partitions. Input partition `p` starts at position
//! `XORShiftRandom(p).nextInt(n)` and sends its `k`-th row (0-based, in order) to
//! partition `(start + 1 + k) mod n`, as Spark's `ShuffleExchangeExec` for
//! `RoundRobinPartitioning`. Every output partition gets rows (given at least `n`
//! rows), so `repartition(6).write.partitionBy(c)` writes six files per value of `c`,
//! as Spark does; DataFusion's own round robin deals whole batches instead.
//!
//! `repartition(n, cols)` is the keyed form: the input carries one more column, last,
//! with the target partition of each row (`pmod(hash(cols), n)`, Spark's
//! `HashPartitioning`, computed by [`crate::DataFrame::repartition_by`]); rows go where
//! it says and the column is dropped. DataFusion's own hash repartition is not used:
//! its optimizer removes and re-places repartitions as its operators need, so
//! `spark_partition_id()` and the number of files written would not follow the
//! program.
//!
//! Every output partition reads the rows of input partition 0 first, then of input
//! partition 1, and so on, each in its own order: a Spark shuffle reads its map
//! outputs in map order, and PySpark's `reduceByKey` / `groupByKey` results keep the
//! order in which their keys arrive (the dealing itself runs for every input at once).
//!
//! Spark also sorts each input partition before dealing
//! (`spark.sql.execution.sortBeforeRepartition`, by the rows' binary form), which
//! decides *which* rows land together; ember deals in input order.

use std::fmt;
use std::sync::{Arc, Mutex};

use arrow::array::{Array, AsArray};
use arrow::array::{RecordBatch, UInt32Array};
use arrow::datatypes::{Int32Type, Schema, SchemaRef};
use datafusion::common::{DFSchema, DFSchemaRef, DataFusionError, Result};
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

/// Logical `repartition(n)` and, keyed, `repartition(n, cols)` (see the module
/// docs). Schema: the input's (keyed: without its last column, the target partition).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SparkRoundRobin {
    input: LogicalPlan,
    partitions: usize,
    keyed: bool,
    schema: DFSchemaRef,
}

impl SparkRoundRobin {
    /// `repartition(partitions)` of `input`.
    pub fn new(input: LogicalPlan, partitions: usize) -> Self {
        let schema = input.schema().clone();
        SparkRoundRobin {
            input,
            partitions: partitions.max(1),
            keyed: false,
            schema,
        }
    }

    /// Rows of `input` sent to the partition its last column (`INT`, in
    /// `0..partitions`) names; that column is dropped.
    ///
    /// Errors: a plan error when `input` has no columns.
    pub fn keyed(input: LogicalPlan, partitions: usize) -> Result<Self> {
        let all = input.schema();
        let n = all.fields().len();
        if n == 0 {
            return datafusion::common::plan_err!("a keyed repartition needs a key column");
        }
        let fields = all
            .iter()
            .take(n - 1)
            .map(|(q, f)| (q.cloned(), f.clone()))
            .collect();
        let schema = Arc::new(DFSchema::new_with_metadata(fields, all.metadata().clone())?);
        Ok(SparkRoundRobin {
            input,
            partitions: partitions.max(1),
            keyed: true,
            schema,
        })
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
        &self.schema
    }
    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }
    fn prevent_predicate_push_down_columns(&self) -> std::collections::HashSet<String> {
        // A filter keeps the same rows on either side of the shuffle.
        Default::default()
    }
    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.keyed {
            write!(f, "HashRepartition: partitions={}", self.partitions)
        } else {
            write!(f, "RoundRobinRepartition: partitions={}", self.partitions)
        }
    }
    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let input = crate::planner::only_input(inputs, "RoundRobinRepartition")?;
        if self.keyed {
            SparkRoundRobin::keyed(input, self.partitions)
        } else {
            Ok(SparkRoundRobin::new(input, self.partitions))
        }
    }
    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        let mut cols = output_columns.to_vec();
        if self.keyed {
            // The key column always flows in.
            cols.push(self.schema.fields().len());
        }
        Some(vec![cols])
    }
}

impl SparkRoundRobin {
    /// The physical operator over the planned `input`.
    pub(crate) fn plan(&self, input: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        Arc::new(RoundRobinExec::new(input, self.partitions, self.keyed))
    }
}

/// The dealing tasks of one execution and the receivers not yet handed out.
struct Exchange {
    /// Per output partition: one receiver per input partition, in input order.
    receivers: Vec<Option<Vec<UnboundedReceiver<Result<RecordBatch>>>>>,
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
    /// Rows go to the partition in the input's last column, which is dropped.
    keyed: bool,
    schema: SchemaRef,
    props: Arc<PlanProperties>,
    exchange: Mutex<Option<Arc<Mutex<Exchange>>>>,
}

impl fmt::Debug for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Exchange({} outputs)", self.receivers.len())
    }
}

impl RoundRobinExec {
    fn new(input: Arc<dyn ExecutionPlan>, partitions: usize, keyed: bool) -> Self {
        let p = input.properties();
        let all = input.schema();
        let schema = if keyed {
            let n = all.fields().len().saturating_sub(1);
            Arc::new(Schema::new_with_metadata(
                all.fields()[..n].to_vec(),
                all.metadata().clone(),
            ))
        } else {
            all
        };
        let props = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            p.emission_type,
            p.boundedness,
        ));
        RoundRobinExec {
            input,
            partitions,
            keyed,
            schema,
            props,
            exchange: Mutex::new(None),
        }
    }

    /// Starts dealing every input partition (once per execution).
    fn start(&self, context: &Arc<TaskContext>) -> Result<Arc<Mutex<Exchange>>> {
        let n = self.partitions;
        let m = self.input.output_partitioning().partition_count();
        let mut receivers: Vec<Vec<_>> = (0..n).map(|_| Vec::with_capacity(m)).collect();
        let mut tasks = Vec::with_capacity(m);
        for p in 0..m {
            let stream = self.input.execute(p, context.clone())?;
            let mut senders = Vec::with_capacity(n);
            for r in receivers.iter_mut() {
                let (tx, rx) = unbounded_channel();
                senders.push(tx);
                r.push(rx);
            }
            let keyed = self.keyed.then(|| self.schema.clone());
            tasks.push(AbortOnDrop(tokio::spawn(deal(stream, p, senders, keyed))));
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

/// Sends the error `msg` to every output.
fn fail_all(senders: &[UnboundedSender<Result<RecordBatch>>], msg: &str) {
    for s in senders {
        let _ = s.send(Err(DataFusionError::Execution(msg.to_string())));
    }
}

/// Deals the rows of one input partition (see the module docs); `keyed` is the
/// output schema when rows go where their last column says.
async fn deal(
    mut stream: SendableRecordBatchStream,
    partition: usize,
    senders: Vec<UnboundedSender<Result<RecordBatch>>>,
    keyed: Option<SchemaRef>,
) {
    let n = senders.len();
    let mut position = start_position(partition, n);
    while let Some(batch) = stream.next().await {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                // Every output fails with the input's error.
                fail_all(&senders, &e.to_string());
                return;
            }
        };
        let mut indices: Vec<Vec<u32>> = vec![Vec::new(); n];
        let batch = match &keyed {
            None => {
                for row in 0..batch.num_rows() {
                    position = (position + 1) % n;
                    indices[position].push(row as u32);
                }
                batch
            }
            Some(out) => {
                let last = batch.num_columns().saturating_sub(1);
                let Some(keys) = batch.columns().get(last) else {
                    return;
                };
                let keys = keys.as_primitive::<Int32Type>();
                for row in 0..batch.num_rows() {
                    let k = if keys.is_valid(row) {
                        keys.value(row)
                    } else {
                        0
                    };
                    indices[(k.rem_euclid(n as i32)) as usize].push(row as u32);
                }
                let cols = batch.columns()[..last].to_vec();
                match RecordBatch::try_new_with_options(
                    out.clone(),
                    cols,
                    &arrow::record_batch::RecordBatchOptions::new()
                        .with_row_count(Some(batch.num_rows())),
                ) {
                    Ok(b) => b,
                    Err(e) => {
                        fail_all(&senders, &e.to_string());
                        return;
                    }
                }
            }
        };
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
        if self.keyed {
            write!(f, "HashRepartitionExec: partitions={}", self.partitions)
        } else {
            write!(f, "RoundRobinExec: partitions={}", self.partitions)
        }
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
        Ok(Arc::new(RoundRobinExec::new(
            input,
            self.partitions,
            self.keyed,
        )))
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
        let rxs = exchange
            .lock()
            .map_err(|_| DataFusionError::Internal("round robin state poisoned".into()))?
            .receivers
            .get_mut(partition)
            .and_then(Option::take)
            .ok_or_else(|| {
                DataFusionError::Internal(format!("round robin partition {partition} out of range"))
            })?;
        // The stream keeps the exchange (and so its dealing tasks) alive; it drains
        // the inputs' channels one after the other.
        let rxs: std::collections::VecDeque<_> = rxs.into();
        let stream = futures::stream::unfold((rxs, exchange), |(mut rxs, ex)| async move {
            loop {
                let rx = rxs.front_mut()?;
                match rx.recv().await {
                    Some(b) => return Some((b, (rxs, ex))),
                    None => {
                        rxs.pop_front();
                    }
                }
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream,
        )))
    }
}
