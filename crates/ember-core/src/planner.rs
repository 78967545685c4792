//! ember's query planner: DataFusion's physical planner with ember's own plan nodes,
//! each with one input: [`PartitionLocal`] (partition-local expressions),
//! [`SparkCoalesce`] (`coalesce(n)`), [`SparkRoundRobin`] (`repartition(n)`) and
//! [`PoissonSample`] (`sample` with replacement). Installed on every session's state by [`crate::SparkSession`].

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::Result;
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{LogicalPlan, UserDefinedLogicalNode};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

use crate::coalesce::SparkCoalesce;
use crate::partition_local::PartitionLocal;
use crate::round_robin::SparkRoundRobin;
use crate::sample::PoissonSample;

/// Plans ember's extension nodes (see the module docs).
#[derive(Debug)]
pub struct EmberExtensionPlanner;

#[async_trait]
impl ExtensionPlanner for EmberExtensionPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session_state: &SessionState,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let any = node.as_any();
        let known = any.is::<PartitionLocal>()
            || any.is::<SparkCoalesce>()
            || any.is::<PoissonSample>()
            || any.is::<SparkRoundRobin>();
        if !known {
            return Ok(None);
        }
        let input = only_input(physical_inputs.to_vec(), node.name())?;
        Ok(if let Some(n) = any.downcast_ref::<PartitionLocal>() {
            Some(n.plan(input))
        } else if let Some(n) = any.downcast_ref::<SparkCoalesce>() {
            Some(n.plan(input))
        } else if let Some(n) = any.downcast_ref::<SparkRoundRobin>() {
            Some(n.plan(input))
        } else {
            any.downcast_ref::<PoissonSample>().map(|n| n.plan(input))
        })
    }
}

/// DataFusion's physical planner with [`EmberExtensionPlanner`] and the planners of
/// front ends' own nodes (the Spark Connect server's Python map nodes), given to
/// [`crate::SparkSessionBuilder::extension_planner`].
#[derive(Default)]
pub struct EmberQueryPlanner {
    pub(crate) extra: Vec<Arc<dyn ExtensionPlanner + Send + Sync>>,
}

impl std::fmt::Debug for EmberQueryPlanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmberQueryPlanner")
            .field("extra", &self.extra.len())
            .finish()
    }
}

#[async_trait]
impl QueryPlanner for EmberQueryPlanner {
    async fn create_physical_plan(
        &self,
        plan: &LogicalPlan,
        state: &SessionState,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut planners: Vec<Arc<dyn ExtensionPlanner + Send + Sync>> =
            vec![Arc::new(EmberExtensionPlanner)];
        planners.extend(self.extra.iter().cloned());
        DefaultPhysicalPlanner::with_extension_planners(planners)
            .create_physical_plan(plan, state)
            .await
    }
}

pub(crate) use ember_sql::plan::only_input;
