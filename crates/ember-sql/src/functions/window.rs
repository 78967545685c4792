//! Spark's ranking functions return `int`: wrappers over DataFusion's `row_number`,
//! `rank`, `dense_rank` and `ntile` (which return unsigned 64-bit integers) casting
//! their results to Int32.

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{
    ExpressionArgs, PartitionEvaluatorArgs, WindowUDFFieldArgs,
};
use datafusion::logical_expr::window_state::WindowAggState;
use datafusion::logical_expr::{
    LimitEffect, PartitionEvaluator, ReversedUDWF, Signature, WindowUDF, WindowUDFImpl,
};
use datafusion::physical_expr::PhysicalExpr;

/// A window function whose unsigned integer results are returned as Spark `int`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntRanking {
    inner: Arc<WindowUDF>,
}

impl IntRanking {
    /// Wraps `inner`.
    pub fn new(inner: Arc<WindowUDF>) -> WindowUDF {
        WindowUDF::new_from_impl(IntRanking { inner })
    }
}

impl WindowUDFImpl for IntRanking {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }
    fn signature(&self) -> &Signature {
        self.inner.signature()
    }
    fn expressions(&self, expr_args: ExpressionArgs) -> Vec<Arc<dyn PhysicalExpr>> {
        self.inner.expressions(expr_args)
    }
    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(IntEvaluator {
            inner: self.inner.partition_evaluator_factory(args)?,
        }))
    }
    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        let f = self.inner.field(field_args)?;
        let dt = if f.data_type().is_integer() {
            DataType::Int32
        } else {
            f.data_type().clone()
        };
        Ok(Arc::new(Field::new(f.name(), dt, f.is_nullable())))
    }
    fn sort_options(&self) -> Option<datafusion::arrow::compute::SortOptions> {
        self.inner.sort_options()
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }
    fn reverse_expr(&self) -> ReversedUDWF {
        match self.inner.reverse_expr() {
            ReversedUDWF::Reversed(r) => ReversedUDWF::Reversed(Arc::new(IntRanking::new(r))),
            other => other,
        }
    }
    fn limit_effect(&self, args: &[Arc<dyn PhysicalExpr>]) -> LimitEffect {
        self.inner.inner().limit_effect(args)
    }
}

#[derive(Debug)]
struct IntEvaluator {
    inner: Box<dyn PartitionEvaluator>,
}

fn to_int(a: ArrayRef) -> Result<ArrayRef> {
    if a.data_type().is_integer() && a.data_type() != &DataType::Int32 {
        Ok(datafusion::arrow::compute::cast(&a, &DataType::Int32)?)
    } else {
        Ok(a)
    }
}

impl PartitionEvaluator for IntEvaluator {
    fn memoize(&mut self, state: &mut WindowAggState) -> Result<()> {
        self.inner.memoize(state)
    }
    fn get_range(&self, idx: usize, n_rows: usize) -> Result<Range<usize>> {
        self.inner.get_range(idx, n_rows)
    }
    fn is_causal(&self) -> bool {
        self.inner.is_causal()
    }
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        to_int(self.inner.evaluate_all(values, num_rows)?)
    }
    fn evaluate(&mut self, values: &[ArrayRef], range: &Range<usize>) -> Result<ScalarValue> {
        let v = self.inner.evaluate(values, range)?;
        if v.data_type().is_integer() && v.data_type() != DataType::Int32 {
            v.cast_to(&DataType::Int32)
        } else {
            Ok(v)
        }
    }
    fn evaluate_all_with_rank(&self, num_rows: usize, ranks: &[Range<usize>]) -> Result<ArrayRef> {
        to_int(self.inner.evaluate_all_with_rank(num_rows, ranks)?)
    }
    fn supports_bounded_execution(&self) -> bool {
        self.inner.supports_bounded_execution()
    }
    fn uses_window_frame(&self) -> bool {
        self.inner.uses_window_frame()
    }
    fn include_rank(&self) -> bool {
        self.inner.include_rank()
    }
}

/// Replaces the session's ranking functions with `int`-returning wrappers.
pub fn register(ctx: &datafusion::prelude::SessionContext) -> crate::error::Result<()> {
    use datafusion::execution::FunctionRegistry;
    for name in ["row_number", "rank", "dense_rank", "ntile"] {
        if let Ok(f) = ctx.udwf(name) {
            ctx.register_udwf(IntRanking::new(f));
        }
    }
    Ok(())
}

/// A scalar identity whose result nullability is fixed: `nullable = true` mirrors
/// Spark's `Cast.nullable` for string casts that may fail; `false` mirrors
/// `concat_ws` with a non-null separator. Identity on values.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Nullability {
    name: &'static str,
    nullable: bool,
    signature: Signature,
}

impl Nullability {
    /// `ember_nullable` (true) or `ember_not_null` (false).
    pub fn udf(nullable: bool) -> datafusion::logical_expr::ScalarUDF {
        datafusion::logical_expr::ScalarUDF::new_from_impl(Nullability {
            name: if nullable {
                "ember_nullable"
            } else {
                "ember_not_null"
            },
            nullable,
            signature: Signature::any(1, datafusion::logical_expr::Volatility::Immutable),
        })
    }
}

impl datafusion::logical_expr::ScalarUDFImpl for Nullability {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Null))
    }
    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<FieldRef> {
        let dt = args
            .arg_fields
            .first()
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Null);
        Ok(Arc::new(Field::new(self.name, dt, self.nullable)))
    }
    fn invoke_with_args(
        &self,
        args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> Result<datafusion::logical_expr::ColumnarValue> {
        args.args
            .into_iter()
            .next()
            .ok_or_else(|| datafusion::common::DataFusionError::Internal("missing argument".into()))
    }
}
