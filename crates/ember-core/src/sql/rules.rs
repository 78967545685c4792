//! Analyzer rules that give DataFusion plans Spark's semantics where the two differ:
//! - `/` on integral operands is fractional division (Spark's `Divide` returns
//!   `double`), not integer division;
//! - array subscripts `a[i]` are 0-based and, under ANSI mode, fail with
//!   `INVALID_ARRAY_INDEX` out of bounds (DataFusion's are 1-based, NULL out of bounds).

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator, ScalarUDF};
use datafusion::arrow::datatypes::DataType;
use datafusion::optimizer::AnalyzerRule;

/// The Spark-semantics analyzer rule (runs after DataFusion's type coercion).
#[derive(Debug)]
pub struct SparkSemantics {
    /// `spark_array_index` (ANSI) or `get` (non-ANSI).
    pub array_index: Arc<ScalarUDF>,
}

fn is_integral(t: &DataType) -> bool {
    t.is_integer()
}

fn rewrite(e: Expr, schema: &DFSchema, idx: &Arc<ScalarUDF>) -> Result<Transformed<Expr>> {
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Divide, right }) => {
            let lt = left.get_type(schema)?;
            let rt = right.get_type(schema)?;
            if is_integral(&lt) && is_integral(&rt) {
                let l = Expr::Cast(Cast::new(left, DataType::Float64));
                let r = Expr::Cast(Cast::new(right, DataType::Float64));
                Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(Box::new(l), Operator::Divide, Box::new(r)))))
            } else {
                Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr { left, op: Operator::Divide, right })))
            }
        }
        Expr::ScalarFunction(sf) if sf.func.name() == "array_element" => {
            Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(idx.clone(), sf.args))))
        }
        other => Ok(Transformed::no(other)),
    }
}

impl AnalyzerRule for SparkSemantics {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        let out = plan.transform_up_with_subqueries(|p| {
            let inputs = p.inputs();
            let schema: Arc<DFSchema> = if inputs.len() == 1 { inputs[0].schema().clone() } else { p.schema().clone() };
            let t = p.map_expressions(|e| e.transform_up(|x| rewrite(x, &schema, &self.array_index)))?;
            let changed = t.transformed;
            let p = t.data.recompute_schema()?;
            Ok(if changed { Transformed::yes(p) } else { Transformed::no(p) })
        })?;
        Ok(out.data)
    }

    fn name(&self) -> &str {
        "spark_semantics"
    }
}
