//! Spark's table-valued functions in SQL. `range(end)`, `range(start, end[, step[,
//! numPartitions]])` gives one `bigint` column `id`, as Spark's `range` (DataFusion's
//! own `range` names its column `value`; ember wraps it).

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;
use datafusion::datasource::{provider_as_source, ViewTable};
use datafusion::logical_expr::{col, Expr, LogicalPlanBuilder};

/// Spark's `range` table function over DataFusion's (see the module docs).
#[derive(Debug)]
pub struct SparkRange {
    inner: Arc<dyn TableFunctionImpl>,
}

impl SparkRange {
    /// Wraps DataFusion's `range` table function `inner`.
    pub fn new(inner: Arc<dyn TableFunctionImpl>) -> Self {
        SparkRange { inner }
    }
}

impl TableFunctionImpl for SparkRange {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        // The fourth argument (numPartitions) has no meaning for one generator.
        let exprs: Vec<Expr> = args.exprs().iter().take(3).cloned().collect();
        let provider = self
            .inner
            .call_with_args(TableFunctionArgs::new(&exprs, args.session()))?;
        let plan = LogicalPlanBuilder::scan("range", provider_as_source(provider), None)?
            .project(vec![col("value").alias("id")])?
            .build()?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}
