//! Python functions over whole partitions and groups, run in ember's Python workers:
//! `mapInPandas` / `mapInArrow` (and `foreachPartition`, which the client builds on
//! `mapInArrow`), `groupBy().applyInPandas` / `applyInArrow` and
//! `groupBy().cogroup(..).applyInPandas` / `applyInArrow` — Spark Connect's
//! `MapPartitions`, `GroupMap` and `CoGroupMap` relations.
//!
//! Shapes, as Spark's `MapInPandasExec`, `FlatMapGroupsInPandasExec` and
//! `FlatMapCoGroupsInPandasExec`:
//! - map: one task per input partition; the function gets the partition's rows as an
//!   iterator of batches (at most `spark.sql.execution.arrow.maxRecordsPerBatch`
//!   rows) and yields any number of rows; the output keeps the input's partitioning.
//! - group / cogroup: the input (each input) is hash-partitioned on the grouping keys
//!   into the session's shuffle partitions; within a partition the groups go to the
//!   function in ascending key order (nulls first), one call per group, with the key
//!   as a tuple when the function takes it; a cogroup calls the function once per key
//!   present on either side, the other side's frame empty.
//! The output schema is the one the program declared; a function result that does not
//! fit it fails the task with Spark's error class.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::row::{RowConverter, SortField};
use datafusion::common::{DFSchema, DFSchemaRef, Result};
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, SessionState, TaskContext};
use datafusion::logical_expr::{
    Expr, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore,
};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::expressions::Column as PhysColumn;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties,
    Partitioning, PlanProperties,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};
use futures::StreamExt;

use crate::worker::{frame, py_err, read_response, Pool, Worker};

/// `PythonEvalType.SQL_GROUPED_MAP_PANDAS_UDF` (`applyInPandas`).
pub const SQL_GROUPED_MAP_PANDAS_UDF: i32 = 201;
/// `PythonEvalType.SQL_MAP_PANDAS_ITER_UDF` (`mapInPandas`).
pub const SQL_MAP_PANDAS_ITER_UDF: i32 = 205;
/// `PythonEvalType.SQL_COGROUPED_MAP_PANDAS_UDF` (`cogroup().applyInPandas`).
pub const SQL_COGROUPED_MAP_PANDAS_UDF: i32 = 206;
/// `PythonEvalType.SQL_MAP_ARROW_ITER_UDF` (`mapInArrow`, `foreachPartition`).
pub const SQL_MAP_ARROW_ITER_UDF: i32 = 207;
/// `PythonEvalType.SQL_GROUPED_MAP_ARROW_UDF` (`applyInArrow`).
pub const SQL_GROUPED_MAP_ARROW_UDF: i32 = 209;
/// `PythonEvalType.SQL_COGROUPED_MAP_ARROW_UDF` (`cogroup().applyInArrow`).
pub const SQL_COGROUPED_MAP_ARROW_UDF: i32 = 210;

/// A pickled Python function and where it runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PythonFunction {
    /// The function's name, for errors.
    pub name: String,
    /// Spark's `PythonEvalType`.
    pub eval_type: i32,
    /// cloudpickled `(function, returnType)`, as the client sends it.
    pub command: Arc<Vec<u8>>,
    /// Identifies the command in a worker's cache.
    pub fn_id: u64,
    /// The Python executable.
    pub python: String,
    /// Directories and archives put on the worker's `sys.path`.
    pub paths: Vec<String>,
    /// Session time zone (timestamps to and from pandas).
    pub tz: String,
    /// For a Python UDTF (whose command is the pickled class alone): its return type
    /// in Spark's JSON form.
    pub udtf_type: Option<String>,
}

impl PythonFunction {
    /// A function with its command's hash as id.
    pub fn new(
        name: &str,
        eval_type: i32,
        command: Vec<u8>,
        python: String,
        paths: Vec<String>,
        tz: String,
    ) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        command.hash(&mut h);
        eval_type.hash(&mut h);
        PythonFunction {
            name: name.to_string(),
            eval_type,
            command: Arc::new(command),
            fn_id: h.finish(),
            python,
            paths,
            tz,
            udtf_type: None,
        }
    }

    /// The same function as a Python UDTF returning `hex_type` (see `udtf_type`).
    pub fn with_udtf_type(mut self, hex_type: String) -> Self {
        self.udtf_type = Some(hex_type);
        self
    }
}

/// What a [`PythonMap`] hands the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd)]
pub enum MapKind {
    /// Each partition's rows (`mapInPandas`, `mapInArrow`).
    Partitions,
    /// Each group of rows; the input's last `keys` columns are the key.
    Group {
        /// Number of key columns at the end of the input.
        keys: usize,
    },
    /// Each key's groups of two inputs; each input ends with its key columns.
    CoGroup {
        /// Key columns at the end of the first input.
        left_keys: usize,
        /// Key columns at the end of the second input.
        right_keys: usize,
    },
}

impl MapKind {
    fn mode(&self) -> &'static str {
        match self {
            MapKind::Partitions => "map",
            MapKind::Group { .. } => "group",
            MapKind::CoGroup { .. } => "cogroup",
        }
    }
}

/// Logical plan node running a Python function over partitions or groups (see the
/// module docs). Schema: the declared output schema, unqualified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PythonMap {
    kind: MapKind,
    inputs: Vec<LogicalPlan>,
    schema: DFSchemaRef,
    func: PythonFunction,
}

impl PartialOrd for PythonMap {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.func.fn_id.partial_cmp(&other.func.fn_id)
    }
}

impl PythonMap {
    /// A node over `inputs` (one, or two for a cogroup) producing `output` rows.
    ///
    /// Errors: a plan error when the number of inputs does not fit `kind`.
    pub fn try_new(
        kind: MapKind,
        inputs: Vec<LogicalPlan>,
        output: Schema,
        func: PythonFunction,
    ) -> Result<Self> {
        let want = if matches!(kind, MapKind::CoGroup { .. }) {
            2
        } else {
            1
        };
        if inputs.len() != want {
            return datafusion::common::plan_err!("PythonMap {:?} takes {want} inputs", kind);
        }
        Ok(PythonMap {
            kind,
            inputs,
            schema: Arc::new(DFSchema::try_from(output)?),
            func,
        })
    }

    /// As a logical plan.
    pub fn into_plan(self) -> LogicalPlan {
        LogicalPlan::Extension(datafusion::logical_expr::Extension {
            node: Arc::new(self),
        })
    }
}

impl UserDefinedLogicalNodeCore for PythonMap {
    fn name(&self) -> &str {
        "PythonMap"
    }
    fn inputs(&self) -> Vec<&LogicalPlan> {
        self.inputs.iter().collect()
    }
    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }
    fn expressions(&self) -> Vec<Expr> {
        vec![]
    }
    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "PythonMap: {} {} eval_type={}",
            self.kind.mode(),
            self.func.name,
            self.func.eval_type
        )
    }
    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        Ok(PythonMap {
            kind: self.kind,
            inputs,
            schema: self.schema.clone(),
            func: self.func.clone(),
        })
    }
}

/// Plans [`PythonMap`] nodes; installed on every Spark Connect session.
#[derive(Debug)]
pub struct PythonMapPlanner;

#[async_trait::async_trait]
impl ExtensionPlanner for PythonMapPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session_state: &SessionState,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(n) = node.as_any().downcast_ref::<PythonMap>() else {
            return Ok(None);
        };
        let schema: SchemaRef = Arc::new(n.schema.as_arrow().clone());
        Ok(Some(Arc::new(PythonMapExec::try_new(
            n.kind,
            physical_inputs.to_vec(),
            schema,
            n.func.clone(),
        )?)))
    }
}

/// Physical [`PythonMap`]: one task per partition of its (co-partitioned) inputs.
#[derive(Debug)]
pub struct PythonMapExec {
    kind: MapKind,
    children: Vec<Arc<dyn ExecutionPlan>>,
    schema: SchemaRef,
    func: PythonFunction,
    props: Arc<PlanProperties>,
}

impl PythonMapExec {
    fn try_new(
        kind: MapKind,
        children: Vec<Arc<dyn ExecutionPlan>>,
        schema: SchemaRef,
        func: PythonFunction,
    ) -> Result<Self> {
        let first = children
            .first()
            .ok_or_else(|| DataFusionError::Plan("PythonMapExec without an input".into()))?;
        let n = first.output_partitioning().partition_count();
        let p = first.properties();
        let props = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(n),
            p.emission_type,
            p.boundedness,
        ));
        Ok(PythonMapExec {
            kind,
            children,
            schema,
            func,
            props,
        })
    }

    /// Key columns (the last `keys`) of child `i`, as hash partitioning expressions.
    fn key_exprs(&self, i: usize, keys: usize) -> Vec<Arc<dyn PhysicalExpr>> {
        let s = self.children[i].schema();
        let n = s.fields().len();
        (n.saturating_sub(keys)..n)
            .map(|j| Arc::new(PhysColumn::new(s.field(j).name(), j)) as Arc<dyn PhysicalExpr>)
            .collect()
    }
}

impl DisplayAs for PythonMapExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PythonMapExec: {} {}", self.kind.mode(), self.func.name)
    }
}

impl ExecutionPlan for PythonMapExec {
    fn name(&self) -> &str {
        "PythonMapExec"
    }
    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.children.iter().collect()
    }
    fn required_input_distribution(&self) -> Vec<Distribution> {
        match self.kind {
            MapKind::Partitions => vec![Distribution::UnspecifiedDistribution],
            MapKind::Group { keys } => vec![Distribution::HashPartitioned(self.key_exprs(0, keys))],
            MapKind::CoGroup {
                left_keys,
                right_keys,
            } => vec![
                Distribution::HashPartitioned(self.key_exprs(0, left_keys)),
                Distribution::HashPartitioned(self.key_exprs(1, right_keys)),
            ],
        }
    }
    fn maintains_input_order(&self) -> Vec<bool> {
        // A partition map reads its partition's rows in order and writes its output in
        // order, so `df.orderBy(...).rdd` / `.mapInPandas` keep the sort (the optimizer
        // would otherwise drop a sort no operator above requires).
        vec![matches!(self.kind, MapKind::Partitions); self.children.len()]
    }
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        // A map runs once per partition the plan gives it, as Spark's.
        vec![false; self.children.len()]
    }
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(PythonMapExec::try_new(
            self.kind,
            children,
            self.schema.clone(),
            self.func.clone(),
        )?))
    }
    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let counts: Vec<usize> = self
            .children
            .iter()
            .map(|c| c.output_partitioning().partition_count())
            .collect();
        if counts.windows(2).any(|w| w[0] != w[1]) {
            return Err(DataFusionError::Internal(format!(
                "cogroup inputs are not co-partitioned ({counts:?} partitions)"
            )));
        }
        let batch_rows = context.session_config().batch_size();
        // Each input is pulled on the runtime and handed to the worker's feeding thread.
        let mut receivers = Vec::new();
        for child in &self.children {
            let mut stream = child.execute(partition, context.clone())?;
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<RecordBatch>>(2);
            tokio::spawn(async move {
                while let Some(b) = stream.next().await {
                    if tx.send(b).await.is_err() {
                        return;
                    }
                }
            });
            receivers.push(rx);
        }
        let (out_tx, out_rx) = tokio::sync::mpsc::channel::<Result<RecordBatch>>(2);
        let task = Task {
            kind: self.kind,
            func: self.func.clone(),
            schema: self.schema.clone(),
            partition,
            batch_rows,
        };
        tokio::task::spawn_blocking(move || {
            if let Err(e) = task.run(receivers, &out_tx) {
                let _ = out_tx.blocking_send(Err(e));
            }
        });
        let stream = tokio_stream::wrappers::ReceiverStream::new(out_rx);
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream,
        )))
    }
}

/// Workers for partition and group functions: a pool of their own, apart from the
/// scalar UDFs' (a map task holds its worker while its input, which may call scalar
/// UDFs or run another map, is computed), allowed to grow with concurrent tasks.
fn stream_pool(python: &str) -> Arc<Pool> {
    crate::worker::pool_with(&format!("{python}\u{0}stream"), python, 64)
}

/// One partition's run of a [`PythonMapExec`].
struct Task {
    kind: MapKind,
    func: PythonFunction,
    schema: SchemaRef,
    partition: usize,
    batch_rows: usize,
}

/// What the feeding thread sends: IPC frames, then the end frame.
enum Feed {
    /// Stream every batch of input 0 as it comes.
    Stream(tokio::sync::mpsc::Receiver<Result<RecordBatch>>),
    /// Precomputed frames (groups).
    Frames(Vec<Vec<u8>>),
}

impl Task {
    fn run(
        self,
        mut inputs: Vec<tokio::sync::mpsc::Receiver<Result<RecordBatch>>>,
        out: &tokio::sync::mpsc::Sender<Result<RecordBatch>>,
    ) -> Result<()> {
        let feed = match self.kind {
            MapKind::Partitions => Feed::Stream(inputs.remove(0)),
            MapKind::Group { keys } => {
                let batch = collect(&mut inputs[0])?;
                let groups = group_indices(&batch, keys, None)?;
                let mut frames = Vec::with_capacity(groups.len());
                for g in groups {
                    frames.push(ipc(&take(&batch, &g.0)?)?);
                }
                Feed::Frames(frames)
            }
            MapKind::CoGroup {
                left_keys,
                right_keys,
            } => {
                let left = collect(&mut inputs[0])?;
                let right = collect(&mut inputs[1])?;
                let pairs = cogroup_indices(&left, left_keys, &right, right_keys)?;
                let mut frames = Vec::with_capacity(pairs.len() * 2);
                for (l, r) in pairs {
                    frames.push(ipc(&take(&left, &l)?)?);
                    frames.push(ipc(&take(&right, &r)?)?);
                }
                Feed::Frames(frames)
            }
        };
        let pool = stream_pool(&self.func.python);
        let mut w = pool.checkout()?;
        match self.exchange(&mut w, feed, out) {
            Ok(()) => {
                pool.checkin(w);
                Ok(())
            }
            Err((e, in_step)) => {
                if in_step {
                    pool.checkin(w);
                } else {
                    let tail = w.stderr_tail();
                    drop(w);
                    pool.forget();
                    if !tail.is_empty() {
                        return Err(py_err(format!("{e}\n{tail}")));
                    }
                }
                Err(e)
            }
        }
    }

    /// Sends the request and its input while reading the output; the error says
    /// whether the worker is still in step (reusable).
    fn exchange(
        &self,
        w: &mut Worker,
        feed: Feed,
        out: &tokio::sync::mpsc::Sender<Result<RecordBatch>>,
    ) -> std::result::Result<(), (DataFusionError, bool)> {
        let first = w.seen.insert(self.func.fn_id);
        let (keys, right_keys) = match self.kind {
            MapKind::Partitions => (0, 0),
            MapKind::Group { keys } => (keys, 0),
            MapKind::CoGroup {
                left_keys,
                right_keys,
            } => (left_keys, right_keys),
        };
        let header = serde_json::json!({
            "fn": self.func.fn_id.to_string(),
            "eval_type": self.func.eval_type,
            "command": first,
            "path": self.func.paths,
            "mode": self.kind.mode(),
            "tz": self.func.tz,
            "keys": keys,
            "right_keys": right_keys,
            "batch_rows": self.batch_rows,
            "udtf_type": self.func.udtf_type,
            "task": {"partitionId": self.partition, "stageId": 0, "attemptNumber": 0,
                     "taskAttemptId": self.partition},
        });
        let name = &self.func.name;
        let io = |e: std::io::Error| (py_err(format!("`{name}`: worker pipe: {e}")), false);
        frame(&mut w.stdin, header.to_string().as_bytes()).map_err(io)?;
        if first {
            frame(&mut w.stdin, &self.func.command).map_err(io)?;
        }
        w.stdin.flush().map_err(io)?;
        let stop = AtomicBool::new(false);
        let Worker { stdin, stdout, .. } = w;
        std::thread::scope(|s| {
            let writer = s.spawn(
                || -> std::result::Result<Option<DataFusionError>, std::io::Error> {
                    let mut input_error = None;
                    match feed {
                        Feed::Frames(frames) => {
                            for f in frames {
                                if stop.load(Ordering::Relaxed) {
                                    break;
                                }
                                frame(stdin, &f)?;
                            }
                        }
                        Feed::Stream(mut rx) => {
                            while let Some(b) = rx.blocking_recv() {
                                if stop.load(Ordering::Relaxed) {
                                    break;
                                }
                                match b.and_then(|b| ipc(&b)) {
                                    Ok(f) => frame(stdin, &f)?,
                                    Err(e) => {
                                        input_error = Some(e);
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    frame(stdin, &[])?;
                    stdin.flush()?;
                    Ok(input_error)
                },
            );
            let mut result: std::result::Result<(), (DataFusionError, bool)> = Ok(());
            let mut consumer_gone = false;
            loop {
                let (kind, payload) = match read_response(stdout) {
                    Ok(r) => r,
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        result = Err(io(e));
                        break;
                    }
                };
                match kind {
                    b'B' => {
                        if consumer_gone {
                            continue;
                        }
                        match decode(&payload, &self.schema) {
                            Ok(batches) => {
                                for b in batches {
                                    if out.blocking_send(Ok(b)).is_err() {
                                        // The query stopped reading (a limit, a cancel):
                                        // end the input and read the rest in step.
                                        consumer_gone = true;
                                        stop.store(true, Ordering::Relaxed);
                                        break;
                                    }
                                }
                            }
                            Err(e) => {
                                stop.store(true, Ordering::Relaxed);
                                result = Err((e, true));
                                consumer_gone = true;
                            }
                        }
                    }
                    b'Z' => break,
                    b'E' => {
                        stop.store(true, Ordering::Relaxed);
                        result = Err((python_exception(&payload), true));
                        break;
                    }
                    other => {
                        stop.store(true, Ordering::Relaxed);
                        result = Err((
                            py_err(format!("`{name}`: unexpected worker response {other}")),
                            false,
                        ));
                        break;
                    }
                }
            }
            let wrote = writer.join();
            match wrote {
                Ok(Ok(None)) => result,
                Ok(Ok(Some(input_error))) => result.and(Err((input_error, true))),
                Ok(Err(e)) => result.and(Err(io(e))),
                Err(_) => result.and(Err((py_err("the worker's feeding thread panicked"), false))),
            }
        })
    }
}

/// A Python traceback as Spark reports it (`PythonException`).
fn python_exception(payload: &[u8]) -> DataFusionError {
    py_err(String::from_utf8_lossy(payload).into_owned())
}

/// Every batch of a partition, concatenated.
fn collect(rx: &mut tokio::sync::mpsc::Receiver<Result<RecordBatch>>) -> Result<RecordBatch> {
    let mut batches = Vec::new();
    let mut schema = None;
    while let Some(b) = rx.blocking_recv() {
        let b = b?;
        schema.get_or_insert_with(|| b.schema());
        batches.push(b);
    }
    match schema {
        Some(s) => Ok(arrow::compute::concat_batches(&s, &batches)?),
        None => Ok(RecordBatch::new_empty(Arc::new(Schema::empty()))),
    }
}

/// Row indices of each group of `batch` (key: its last `keys` columns), groups in
/// ascending key order with nulls first; with `converter`, keys are encoded by it.
fn group_indices(
    batch: &RecordBatch,
    keys: usize,
    converter: Option<&RowConverter>,
) -> Result<Vec<(Vec<u32>, Vec<u8>)>> {
    let n = batch.num_columns();
    if batch.num_rows() == 0 || n < keys {
        return Ok(Vec::new());
    }
    let key_cols: Vec<ArrayRef> = batch.columns()[n - keys..].to_vec();
    let own;
    let conv = match converter {
        Some(c) => c,
        None => {
            own = RowConverter::new(
                key_cols
                    .iter()
                    .map(|c| SortField::new(c.data_type().clone()))
                    .collect(),
            )?;
            &own
        }
    };
    let rows = conv.convert_columns(&key_cols)?;
    let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
    order.sort_by(|a, b| rows.row(*a as usize).cmp(&rows.row(*b as usize)));
    let mut groups: Vec<(Vec<u32>, Vec<u8>)> = Vec::new();
    for i in order {
        let r = rows.row(i as usize);
        match groups.last_mut() {
            Some((idx, key)) if key.as_slice() == r.as_ref() => idx.push(i),
            _ => groups.push((vec![i], r.as_ref().to_vec())),
        }
    }
    Ok(groups)
}

/// The groups of both inputs by key, in key order: (left rows, right rows).
fn cogroup_indices(
    left: &RecordBatch,
    lk: usize,
    right: &RecordBatch,
    rk: usize,
) -> Result<Vec<(Vec<u32>, Vec<u32>)>> {
    let types = |b: &RecordBatch, k: usize| -> Vec<DataType> {
        let n = b.num_columns();
        b.schema().fields()[n.saturating_sub(k)..]
            .iter()
            .map(|f| f.data_type().clone())
            .collect()
    };
    let (lt, rt) = (types(left, lk), types(right, rk));
    let key_types = if left.num_rows() > 0 || rt.is_empty() {
        lt
    } else {
        rt
    };
    let conv = RowConverter::new(key_types.into_iter().map(SortField::new).collect())?;
    let lg = group_indices(left, lk, Some(&conv))?;
    let rg = group_indices(right, rk, Some(&conv))?;
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < lg.len() || j < rg.len() {
        let ord = match (lg.get(i), rg.get(j)) {
            (Some(l), Some(r)) => l.1.cmp(&r.1),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match ord {
            std::cmp::Ordering::Less => {
                out.push((lg[i].0.clone(), Vec::new()));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push((Vec::new(), rg[j].0.clone()));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((lg[i].0.clone(), rg[j].0.clone()));
                i += 1;
                j += 1;
            }
        }
    }
    Ok(out)
}

fn take(batch: &RecordBatch, idx: &[u32]) -> Result<RecordBatch> {
    let indices = UInt32Array::from(idx.to_vec());
    Ok(arrow::compute::take_record_batch(batch, &indices)?)
}

/// One batch as an Arrow IPC stream, in the types the Python side reads (plain
/// strings and binaries, not views).
fn ipc(batch: &RecordBatch) -> Result<Vec<u8>> {
    let fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| Field::new(f.name(), crate::types::wire_type(f.data_type()), true))
        .collect();
    let cols = batch
        .columns()
        .iter()
        .zip(&fields)
        .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let batch = RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        cols,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )?;
    let mut buf = Vec::new();
    {
        let mut w = arrow::ipc::writer::StreamWriter::try_new(&mut buf, &batch.schema())?;
        w.write(&batch)?;
        w.finish()?;
    }
    Ok(buf)
}

/// Output batches of one response frame, in the declared schema.
fn decode(payload: &[u8], schema: &SchemaRef) -> Result<Vec<RecordBatch>> {
    let reader = arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(payload), None)?;
    let mut out = Vec::new();
    for b in reader {
        let b = b?;
        if b.num_columns() != schema.fields().len() {
            return Err(py_err(format!(
                "the function returned {} columns where the schema has {}",
                b.num_columns(),
                schema.fields().len()
            )));
        }
        out.push(crate::types::cast_batch(&b, schema)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};

    fn batch(keys: Vec<Option<&str>>) -> RecordBatch {
        let n = keys.len() as i64;
        RecordBatch::try_from_iter(vec![
            (
                "v",
                Arc::new(Int64Array::from((0..n).collect::<Vec<_>>())) as ArrayRef,
            ),
            ("k", Arc::new(StringArray::from(keys)) as ArrayRef),
        ])
        .unwrap()
    }

    #[test]
    fn groups_in_key_order_nulls_first() {
        let b = batch(vec![Some("b"), None, Some("a"), Some("b"), None]);
        let g = group_indices(&b, 1, None).unwrap();
        let idx: Vec<Vec<u32>> = g.into_iter().map(|(i, _)| i).collect();
        assert_eq!(idx, vec![vec![1, 4], vec![2], vec![0, 3]]);
    }

    #[test]
    fn cogroups_pair_keys_of_either_side() {
        let l = batch(vec![Some("b"), Some("a"), Some("b")]);
        let r = batch(vec![Some("c"), Some("b")]);
        let pairs = cogroup_indices(&l, 1, &r, 1).unwrap();
        assert_eq!(
            pairs,
            vec![(vec![1], vec![]), (vec![0, 2], vec![1]), (vec![], vec![0])]
        );
        let empty = batch(vec![]);
        let only_right = cogroup_indices(&empty, 1, &r, 1).unwrap();
        assert_eq!(only_right, vec![(vec![], vec![1]), (vec![], vec![0])]);
    }

    #[test]
    fn output_frames_take_the_declared_types() {
        let b = batch(vec![Some("x")]);
        let bytes = ipc(&b).unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("v", DataType::Float64, true),
            Field::new("k", DataType::Utf8, true),
        ]));
        let out = decode(&bytes, &schema).unwrap();
        assert_eq!(out[0].schema(), schema);
        assert_eq!(out[0].num_rows(), 1);
        let wrong = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, true)]));
        assert!(decode(&bytes, &wrong).is_err());
    }
}

/// The Python function and declared output schema of a Connect UDF message.
fn function_of(
    cs: &crate::session::ConnectSession,
    u: &spark_connect_proto::CommonInlineUserDefinedFunction,
    allowed: &[i32],
    what: &str,
) -> crate::error::Result<(PythonFunction, Schema)> {
    use spark_connect_proto::common_inline_user_defined_function::Function;
    let Some(Function::PythonUdf(py)) = &u.function else {
        return Err(crate::error::ConnectError::unsupported(format!(
            "{what} with a non-Python function"
        )));
    };
    if !allowed.contains(&py.eval_type) {
        return Err(crate::error::ConnectError::unsupported(format!(
            "{what} with Python eval type {}",
            py.eval_type
        )));
    }
    let tz = cs.spark.time_zone().name().to_string();
    let out = crate::types::from_proto(
        py.output_type.as_ref().ok_or_else(|| {
            crate::error::ConnectError::invalid(format!("{what} without a schema"))
        })?,
        &tz,
    )?;
    let DataType::Struct(fields) = out else {
        return Err(crate::error::ConnectError::invalid(format!(
            "{what}: the schema must be a StructType, not {out}"
        )));
    };
    let name = if u.function_name.is_empty() {
        what.to_string()
    } else {
        u.function_name.clone()
    };
    let f = PythonFunction::new(
        &name,
        py.eval_type,
        py.command.to_vec(),
        crate::udf::python_of(cs),
        crate::udf::python_paths(cs),
        tz,
    );
    Ok((f, Schema::new(fields)))
}

fn wrap(cs: &crate::session::ConnectSession, plan: LogicalPlan) -> ember_core::DataFrame {
    let df = datafusion::prelude::DataFrame::new(cs.spark.context().state(), plan);
    ember_core::DataFrame::from_datafusion(&cs.spark, df)
}

/// `input` with the function's argument columns (all of its columns when none are
/// named) followed by `keys` as `__ember_key<i>`.
fn with_keys(
    sc: &crate::expr::Scope<'_>,
    input: &ember_core::DataFrame,
    args: &[spark_connect_proto::Expression],
    keys: &[Expr],
) -> crate::error::Result<ember_core::DataFrame> {
    let mut exprs = if args.is_empty() {
        input
            .inner()
            .schema()
            .columns()
            .into_iter()
            .map(Expr::Column)
            .collect::<Vec<_>>()
    } else {
        args.iter()
            .map(|a| sc.expr(a).map(crate::relation::named))
            .collect::<crate::error::Result<Vec<_>>>()?
    };
    for (i, k) in keys.iter().enumerate() {
        exprs.push(k.clone().alias(format!("__ember_key{i}")));
    }
    Ok(input.select_exprs(crate::relation::distinct_names(exprs))?)
}

/// `MapPartitions`: `mapInPandas` / `mapInArrow` (`barrier` accepted: local tasks all
/// run at once anyway).
pub(crate) async fn map_partitions(
    p: &mut crate::relation::Planner<'_>,
    m: &spark_connect_proto::MapPartitions,
) -> crate::error::Result<ember_core::DataFrame> {
    let input = p.input(&m.input).await?;
    let u = m
        .func
        .as_ref()
        .ok_or_else(|| crate::error::ConnectError::invalid("MapPartitions without a function"))?;
    let (f, schema) = function_of(
        p.cs,
        u,
        &[SQL_MAP_PANDAS_ITER_UDF, SQL_MAP_ARROW_ITER_UDF],
        "mapInPandas/mapInArrow",
    )?;
    let sc = p.scope(&input);
    let projected = with_keys(&sc, &input, &u.arguments, &[])?;
    let plan = PythonMap::try_new(
        MapKind::Partitions,
        vec![projected.inner().logical_plan().clone()],
        schema,
        f,
    )?;
    Ok(wrap(p.cs, plan.into_plan()))
}

/// `GroupMap`: `groupBy(..).applyInPandas` / `applyInArrow`.
pub(crate) async fn group_map(
    p: &mut crate::relation::Planner<'_>,
    g: &spark_connect_proto::GroupMap,
) -> crate::error::Result<ember_core::DataFrame> {
    if g.is_map_groups_with_state.unwrap_or(false)
        || g.initial_input.is_some()
        || g.transform_with_state_info.is_some()
    {
        return Err(crate::error::ConnectError::unsupported(
            "stateful group functions (applyInPandasWithState, transformWithState)",
        ));
    }
    let input = p.input(&g.input).await?;
    let u = g
        .func
        .as_ref()
        .ok_or_else(|| crate::error::ConnectError::invalid("GroupMap without a function"))?;
    let (f, schema) = function_of(
        p.cs,
        u,
        &[SQL_GROUPED_MAP_PANDAS_UDF, SQL_GROUPED_MAP_ARROW_UDF],
        "applyInPandas/applyInArrow",
    )?;
    let sc = p.scope(&input);
    let keys = g
        .grouping_expressions
        .iter()
        .map(|e| sc.expr(e))
        .collect::<crate::error::Result<Vec<_>>>()?;
    let projected = with_keys(&sc, &input, &u.arguments, &keys)?;
    let plan = PythonMap::try_new(
        MapKind::Group { keys: keys.len() },
        vec![projected.inner().logical_plan().clone()],
        schema,
        f,
    )?;
    Ok(wrap(p.cs, plan.into_plan()))
}

/// `CoGroupMap`: `groupBy(..).cogroup(other.groupBy(..)).applyInPandas` /
/// `applyInArrow`. Keys of the second input are cast to the first's types, so that
/// equal keys meet in the same partition.
pub(crate) async fn cogroup_map(
    p: &mut crate::relation::Planner<'_>,
    c: &spark_connect_proto::CoGroupMap,
) -> crate::error::Result<ember_core::DataFrame> {
    let left = p.input(&c.input).await?;
    let right = p.input(&c.other).await?;
    let u = c
        .func
        .as_ref()
        .ok_or_else(|| crate::error::ConnectError::invalid("CoGroupMap without a function"))?;
    let (f, schema) = function_of(
        p.cs,
        u,
        &[SQL_COGROUPED_MAP_PANDAS_UDF, SQL_COGROUPED_MAP_ARROW_UDF],
        "cogroup().applyInPandas/applyInArrow",
    )?;
    if c.input_grouping_expressions.len() != c.other_grouping_expressions.len() {
        return Err(crate::error::ConnectError::invalid(format!(
            "cogroup: {} grouping columns on one side and {} on the other",
            c.input_grouping_expressions.len(),
            c.other_grouping_expressions.len()
        )));
    }
    let lsc = p.scope(&left);
    let lkeys = c
        .input_grouping_expressions
        .iter()
        .map(|e| lsc.expr(e))
        .collect::<crate::error::Result<Vec<_>>>()?;
    let lproj = with_keys(&lsc, &left, &[], &lkeys)?;
    let rsc = p.scope(&right);
    let ltypes: Vec<DataType> = {
        let s = lproj.inner().schema();
        let n = s.fields().len();
        s.fields()[n - lkeys.len()..]
            .iter()
            .map(|f| f.data_type().clone())
            .collect()
    };
    let rkeys = c
        .other_grouping_expressions
        .iter()
        .zip(&ltypes)
        .map(|(e, t)| {
            rsc.expr(e)
                .map(|x| Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(x), t.clone())))
        })
        .collect::<crate::error::Result<Vec<_>>>()?;
    let rproj = with_keys(&rsc, &right, &[], &rkeys)?;
    let plan = PythonMap::try_new(
        MapKind::CoGroup {
            left_keys: lkeys.len(),
            right_keys: rkeys.len(),
        },
        vec![
            lproj.inner().logical_plan().clone(),
            rproj.inner().logical_plan().clone(),
        ],
        schema,
        f,
    )?;
    Ok(wrap(p.cs, plan.into_plan()))
}
