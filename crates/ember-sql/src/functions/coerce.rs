//! Spark's implicit casts for functions whose DataFusion implementation takes exact
//! types: a string or timestamp where Spark's function takes a DATE (`add_months`,
//! `last_day`, `next_day`), any integer where it takes an INT (`factorial`, `space`).
//! [`Coerced`] wraps the registered function under its own name: the arguments are
//! cast as Spark casts them, then the function runs unchanged.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{plan_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// What Spark casts an argument to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Want {
    /// DATE (from a string, a timestamp or a date).
    Date,
    /// INT (from any integer).
    Int,
    /// STRING.
    Str,
}

/// A registered function with Spark's implicit casts of its arguments.
#[derive(Debug)]
pub struct Coerced {
    inner: Arc<ScalarUDF>,
    wants: Vec<Want>,
    signature: Signature,
}

impl PartialEq for Coerced {
    fn eq(&self, o: &Self) -> bool {
        self.inner == o.inner && self.wants == o.wants
    }
}
impl Eq for Coerced {}
impl std::hash::Hash for Coerced {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.name().hash(state);
        self.wants.hash(state);
    }
}

impl Coerced {
    /// `inner` taking `wants` (one per argument).
    pub fn udf(inner: Arc<ScalarUDF>, wants: Vec<Want>) -> ScalarUDF {
        ScalarUDF::new_from_impl(Coerced {
            inner,
            wants,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for Coerced {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != self.wants.len() {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires {} parameters but the actual number is {}.",
                self.name(),
                self.wants.len(),
                arg_types.len()
            );
        }
        arg_types
            .iter()
            .zip(&self.wants)
            .map(|(t, w)| match (w, t) {
                (Want::Date, DataType::Date32 | DataType::Date64 | DataType::Timestamp(..))
                | (
                    Want::Date,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null,
                ) => Ok(DataType::Date32),
                (Want::Int, t) if t.is_integer() || t == &DataType::Null => Ok(DataType::Int32),
                (Want::Str, _) => Ok(DataType::Utf8),
                (w, t) => plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{}` requires {} arguments, got {t}",
                    self.name(),
                    if *w == Want::Date { "DATE" } else { "INT" }
                ),
            })
            .collect()
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        #[allow(deprecated)]
        self.inner.return_type(arg_types)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }
    fn simplify(
        &self,
        args: Vec<datafusion::logical_expr::Expr>,
        info: &datafusion::logical_expr::simplify::SimplifyContext,
    ) -> Result<datafusion::logical_expr::simplify::ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }
}

/// Wraps the functions of `ctx` that need Spark's implicit casts.
pub fn register(ctx: &datafusion::prelude::SessionContext) {
    use datafusion::execution::FunctionRegistry;
    use Want::*;
    for (name, wants) in [
        ("add_months", vec![Date, Int]),
        ("last_day", vec![Date]),
        ("next_day", vec![Date, Str]),
        ("factorial", vec![Int]),
        ("space", vec![Int]),
    ] {
        if let Ok(f) = ctx.udf(name) {
            ctx.register_udf(Coerced::udf(f, wants));
        }
    }
}
