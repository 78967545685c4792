//! Spark's arithmetic where DataFusion's differs.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Spark's `/` on doubles: division by zero raises `DIVIDE_BY_ZERO` under ANSI mode
/// (`spark.sql.ansi.enabled`, DataFusion's `enable_ansi_mode`) and is NULL otherwise.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkDivide {
    signature: Signature,
}

impl SparkDivide {
    /// The `spark_divide(double, double)` function.
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(SparkDivide {
            signature: Signature::exact(
                vec![DataType::Float64, DataType::Float64],
                Volatility::Immutable,
            ),
        })
    }
}

impl ScalarUDFImpl for SparkDivide {
    fn name(&self) -> &str {
        "spark_divide"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use datafusion::arrow::array::Float64Array;
        let ansi = args.config_options.execution.enable_ansi_mode;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (l, r) = (
            arrays[0].as_primitive::<datafusion::arrow::datatypes::Float64Type>(),
            arrays[1].as_primitive::<datafusion::arrow::datatypes::Float64Type>(),
        );
        let mut out = Vec::with_capacity(l.len());
        for i in 0..l.len() {
            if l.is_null(i) || r.is_null(i) {
                out.push(None);
            } else if r.value(i) == 0.0 {
                if ansi {
                    return exec_err!("[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012");
                }
                out.push(None);
            } else {
                out.push(Some(l.value(i) / r.value(i)));
            }
        }
        Ok(ColumnarValue::Array(Arc::new(Float64Array::from(out))))
    }
}
