//! `typeof(x)`: Spark's `simpleString` of the argument's type (`int`,
//! `array<string>`, `interval hour` — the column's field, so an ANSI interval's
//! range shows; see [`crate::types::field_simple_string`]).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The `typeof` function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TypeOf {
    signature: Signature,
}

impl TypeOf {
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(TypeOf {
            signature: Signature::any(1, Volatility::Immutable),
        })
    }
}

impl ScalarUDFImpl for TypeOf {
    fn name(&self) -> &str {
        "typeof"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if args.len() != 1 {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `typeof` requires 1 parameters but the actual number is {}.",
                args.len()
            );
        }
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = args
            .arg_fields
            .first()
            .map(|f| crate::types::field_simple_string(f))
            .unwrap_or_default();
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(name))))
    }
}

/// Spark's `typeof` for the registry.
pub fn udf() -> Arc<ScalarUDF> {
    Arc::new(TypeOf::udf())
}
