//! Results in partition order, as Spark's `collect()`, `take(n)` and `show()` return
//! them: all rows of partition 0, then of partition 1, and so on, so that
//! `df1.union(df2).collect()` lists df1's rows first and a local relation comes back
//! in the order it was given. DataFusion's own `collect` merges partitions in the
//! order their batches happen to arrive, which changes from run to run.
//!
//! All partitions still run at once (one task each); the batches of a partition
//! that is not yet being read wait in memory until the ones before it are done.

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::runtime::SpawnedTask;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::limit::GlobalLimitExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::Partitioning;
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, SendableRecordBatchStream,
};
use futures::stream::{self, StreamExt};
use tokio::sync::mpsc;

type Batch = std::result::Result<RecordBatch, DataFusionError>;

/// Executes `plan` and streams its rows in partition order.
///
/// A plan whose root merges partitions without an order (`CoalescePartitionsExec`,
/// possibly under a `GlobalLimitExec`, which is how DataFusion plans `limit(n)` on a
/// partitioned input) is executed below that merge instead, and the limit (`skip`,
/// `fetch`, in rows) is applied to the ordered rows. A sorted result is already one
/// partition and is streamed as is.
///
/// Errors: the plan's own execution errors, in the stream; a partition task that
/// panicked ends the stream with a `DataFusionError::Execution`.
pub fn execute_stream_ordered(
    plan: Arc<dyn ExecutionPlan>,
    task: Arc<TaskContext>,
) -> Result<SendableRecordBatchStream, DataFusionError> {
    let schema = plan.schema();
    let (input, skip, fetch) = below_unordered_merge(plan);
    let n = input.output_partitioning().partition_count();
    let rows: SendableRecordBatchStream = if n <= 1 {
        if n == 0 {
            Box::pin(RecordBatchStreamAdapter::new(
                schema.clone(),
                stream::empty(),
            ))
        } else {
            input.execute(0, task)?
        }
    } else {
        let mut parts = Vec::with_capacity(n);
        for i in 0..n {
            let (tx, rx) = mpsc::unbounded_channel::<Batch>();
            let part = input.clone();
            let ctx = task.clone();
            let job = SpawnedTask::spawn(async move {
                let mut s = match part.execute(i, ctx) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                while let Some(b) = s.next().await {
                    let stop = b.is_err();
                    // The reader went away (the query was dropped): stop early.
                    if tx.send(b).is_err() || stop {
                        return;
                    }
                }
            });
            parts.push((rx, job));
        }
        // The tasks are owned by the stream: dropping it aborts the ones not yet
        // joined. After a partition's channel closes, its task is joined so that a
        // panic ends the stream with an error instead of a silent short result.
        let ordered = stream::iter(parts).flat_map(|(mut rx, job)| {
            let batches = stream::poll_fn(move |cx| rx.poll_recv(cx));
            let joined = stream::once(job.join()).filter_map(|r| async move {
                r.err().map(|e| {
                    Err(DataFusionError::Execution(format!(
                        "a partition task failed: {e}"
                    )))
                })
            });
            batches.chain(joined)
        });
        Box::pin(RecordBatchStreamAdapter::new(input.schema(), ordered))
    };
    if skip == 0 && fetch.is_none() {
        return Ok(rows);
    }
    Ok(Box::pin(RecordBatchStreamAdapter::new(
        schema,
        limit(rows, skip, fetch),
    )))
}

/// `plan` without a root `[GlobalLimitExec] [ProjectionExec | round-robin RepartitionExec...]
/// CoalescePartitionsExec` (the projections are kept and run per partition), with
/// the rows that root would skip and keep.
fn below_unordered_merge(
    plan: Arc<dyn ExecutionPlan>,
) -> (Arc<dyn ExecutionPlan>, usize, Option<usize>) {
    let (under_limit, skip, fetch) = match plan.downcast_ref::<GlobalLimitExec>() {
        Some(l) => (l.input().clone(), l.skip(), l.fetch()),
        None => (plan.clone(), 0, None),
    };
    // Row-wise projections the optimizer placed above the merge (a `select` after a
    // `limit`) keep the row count and can run on each partition; a round-robin
    // repartition it added for them only spreads batches, in no set order, and is
    // dropped.
    let mut projections = Vec::new();
    let mut node = under_limit;
    loop {
        if let Some(p) = node.downcast_ref::<ProjectionExec>() {
            let input = p.input().clone();
            projections.push(node);
            node = input;
        } else if let Some(r) = node.downcast_ref::<RepartitionExec>() {
            if !matches!(r.partitioning(), Partitioning::RoundRobinBatch(_)) {
                break;
            }
            node = r.input().clone();
        } else {
            break;
        }
    }
    match node.downcast_ref::<CoalescePartitionsExec>() {
        Some(c) => {
            // A fetch on the merge itself counts rows before the limit's skip.
            let fetch = match (fetch, c.fetch()) {
                (Some(f), Some(cf)) => Some(f.min(cf.saturating_sub(skip))),
                (None, Some(cf)) => Some(cf.saturating_sub(skip)),
                (f, None) => f,
            };
            let mut input = c.input().clone();
            for p in projections.into_iter().rev() {
                input = match p.with_new_children(vec![input]) {
                    Ok(x) => x,
                    Err(_) => return (plan, 0, None),
                };
            }
            (input, skip, fetch)
        }
        None => (plan, 0, None),
    }
}

/// Skips `skip` rows, then keeps at most `fetch`.
fn limit(
    rows: SendableRecordBatchStream,
    skip: usize,
    fetch: Option<usize>,
) -> impl futures::Stream<Item = Batch> + Send {
    stream::unfold(
        (rows, skip, fetch.unwrap_or(usize::MAX)),
        |(mut rows, mut skip, mut left)| async move {
            loop {
                if left == 0 {
                    return None;
                }
                let b = match rows.next().await? {
                    Ok(b) => b,
                    Err(e) => return Some((Err(e), (rows, 0, 0))),
                };
                let n = b.num_rows();
                if skip >= n {
                    skip -= n;
                    continue;
                }
                let take = (n - skip).min(left);
                let out = b.slice(skip, take);
                skip = 0;
                left -= take;
                return Some((Ok(out), (rows, skip, left)));
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, Int64Array};
    use datafusion::prelude::SessionContext;

    async fn ids(sql: &str, partitions: usize) -> Vec<i64> {
        let cfg = datafusion::prelude::SessionConfig::new().with_target_partitions(partitions);
        let ctx = SessionContext::new_with_config(cfg);
        let df = ctx.sql(sql).await.unwrap();
        let plan = df.clone().create_physical_plan().await.unwrap();
        let s = execute_stream_ordered(plan, Arc::new(df.task_ctx())).unwrap();
        let batches: Vec<RecordBatch> = s.map(|b| b.unwrap()).collect().await;
        batches
            .iter()
            .flat_map(|b| {
                let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                (0..a.len()).map(|i| a.value(i)).collect::<Vec<_>>()
            })
            .collect()
    }

    #[tokio::test]
    async fn union_rows_come_in_partition_order() {
        // Each VALUES list is one partition; the union keeps them in order.
        let q = "SELECT * FROM (VALUES (1), (2), (3)) UNION ALL SELECT * FROM (VALUES (4), (5)) \
                 UNION ALL SELECT * FROM (VALUES (6))";
        for _ in 0..20 {
            assert_eq!(ids(q, 4).await, vec![1, 2, 3, 4, 5, 6]);
        }
    }

    #[tokio::test]
    async fn projection_above_the_merge_runs_per_partition() {
        let cfg = datafusion::prelude::SessionConfig::new().with_target_partitions(4);
        let ctx = SessionContext::new_with_config(cfg);
        let df = ctx
            .sql("SELECT * FROM (VALUES (1), (2), (3)) UNION ALL SELECT * FROM (VALUES (4), (5))")
            .await
            .unwrap()
            .limit(0, Some(3))
            .unwrap()
            .select(vec![
                datafusion::prelude::col("column1") * datafusion::prelude::lit(10),
            ])
            .unwrap();
        let plan = df.create_physical_plan().await.unwrap();
        // DataFusion moves the limit and the merge below the projection.
        assert!(plan.downcast_ref::<ProjectionExec>().is_some(), "{plan:?}");
        let (below, skip, fetch) = below_unordered_merge(plan);
        assert!(below.downcast_ref::<ProjectionExec>().is_some());
        assert_eq!(below.output_partitioning().partition_count(), 2);
        assert_eq!((skip, fetch), (0, Some(3)));
    }

    #[tokio::test]
    async fn round_robin_above_the_merge_is_dropped() {
        // A range has no row count estimate, so DataFusion spreads the merged rows
        // over a round-robin repartition for the projection above a limit.
        // (ember turns DataFusion's round-robin insertion off; an expert may turn it on.)
        let spark = crate::SparkSession::builder()
            .master("local[2]")
            .config(
                "datafusion.optimizer.enable_round_robin_repartition",
                "true",
            )
            .get_or_create()
            .unwrap();
        let df = spark
            .sql("SELECT id, id * 2 AS d FROM range(0, 4, 1, 2)")
            .await
            .unwrap();
        let limited = df.inner().clone().limit(0, Some(21)).unwrap();
        let plan = limited.create_physical_plan().await.unwrap();
        let text = datafusion::physical_plan::displayable(plan.as_ref())
            .indent(false)
            .to_string();
        assert!(text.contains("RoundRobinBatch"), "{text}");
        let (below, skip, fetch) = below_unordered_merge(plan);
        let below_text = datafusion::physical_plan::displayable(below.as_ref())
            .indent(false)
            .to_string();
        assert!(!below_text.contains("RoundRobinBatch"), "{below_text}");
        assert!(
            !below_text.contains("CoalescePartitionsExec"),
            "{below_text}"
        );
        assert_eq!(below.output_partitioning().partition_count(), 2);
        assert_eq!((skip, fetch), (0, Some(21)));
    }

    #[tokio::test]
    async fn limit_over_partitions_takes_the_first_rows_in_order() {
        let q = "SELECT * FROM ((SELECT * FROM (VALUES (1), (2), (3))) UNION ALL \
                 (SELECT * FROM (VALUES (4), (5)))) LIMIT 4";
        for _ in 0..20 {
            assert_eq!(ids(q, 4).await, vec![1, 2, 3, 4]);
        }
        let q = "SELECT * FROM ((SELECT * FROM (VALUES (1), (2), (3))) UNION ALL \
                 (SELECT * FROM (VALUES (4), (5)))) LIMIT 2 OFFSET 2";
        assert_eq!(ids(q, 4).await, vec![3, 4]);
    }

    #[test]
    fn limit_counts_skip_and_fetch_in_rows() {
        let b = RecordBatch::try_from_iter(vec![(
            "id",
            Arc::new(Int64Array::from(vec![1, 2, 3])) as Arc<dyn Array>,
        )])
        .unwrap();
        let schema = b.schema();
        let src = stream::iter(vec![Ok(b.clone()), Ok(b)]);
        let rows: SendableRecordBatchStream = Box::pin(RecordBatchStreamAdapter::new(schema, src));
        let out: Vec<RecordBatch> = futures::executor::block_on(
            limit(rows, 2, Some(3))
                .map(|b| b.unwrap())
                .collect::<Vec<_>>(),
        );
        let got: Vec<i64> = out
            .iter()
            .flat_map(|b| {
                let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                (0..a.len()).map(|i| a.value(i)).collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(got, vec![3, 1, 2]);
    }
}
