//! Spark's `round`/`bround` result type for decimals: `round(decimal(p,s), d)` is
//! `decimal(min(p - s + 1 + min(s,d), 38), min(s,d))` (for d >= 0), as Spark's
//! `RoundBase.dataType`; values are rounded HALF_UP by `datafusion-spark`'s `round`,
//! then cast to that type. Other input types keep `datafusion-spark`'s behaviour.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

/// Decimal-aware wrapper over a `round` implementation.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkRound {
    inner: Arc<ScalarUDF>,
}

impl SparkRound {
    /// Wraps `inner` (datafusion-spark's `round`).
    pub fn udf(inner: Arc<ScalarUDF>) -> ScalarUDF {
        ScalarUDF::new_from_impl(SparkRound { inner })
    }
}

/// Spark's result type of `round(decimal(p, s), scale)`.
pub fn decimal_round_type(p: u8, s: i8, scale: i32) -> DataType {
    let integral = p as i32 - s as i32 + 1;
    if scale < 0 {
        let np = integral.max(-scale + 1).min(38);
        DataType::Decimal128(np as u8, 0)
    } else {
        let ns = (s as i32).min(scale);
        DataType::Decimal128((integral + ns).min(38) as u8, ns as i8)
    }
}

fn scale_of(v: Option<&ScalarValue>) -> i32 {
    match v {
        Some(ScalarValue::Int8(Some(x))) => *x as i32,
        Some(ScalarValue::Int16(Some(x))) => *x as i32,
        Some(ScalarValue::Int32(Some(x))) => *x,
        Some(ScalarValue::Int64(Some(x))) => *x as i32,
        _ => 0,
    }
}

impl ScalarUDFImpl for SparkRound {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn signature(&self) -> &Signature {
        self.inner.signature()
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let nullable = args.arg_fields.iter().any(|f| f.is_nullable());
        if let Some(DataType::Decimal128(p, s)) = args.arg_fields.first().map(|f| f.data_type()) {
            let scale = scale_of(args.scalar_arguments.get(1).copied().flatten());
            return Ok(Arc::new(Field::new(
                self.name(),
                decimal_round_type(*p, *s, scale),
                nullable,
            )));
        }
        self.inner.return_field_from_args(args)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let target = args.return_field.data_type().clone();
        let input_type = args.arg_fields.first().map(|f| f.data_type().clone());
        let mut inner_args = args;
        if let Some(t) = input_type {
            inner_args.return_field = Arc::new(Field::new("round", t, true));
        }
        let out = self.inner.invoke_with_args(inner_args)?;
        if out.data_type() == target {
            return Ok(out);
        }
        out.cast_to(&target, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn spark_decimal_round_types() {
        assert_eq!(decimal_round_type(10, 2, 1), DataType::Decimal128(10, 1));
        assert_eq!(decimal_round_type(38, 20, 1), DataType::Decimal128(20, 1));
        assert_eq!(decimal_round_type(10, 2, 5), DataType::Decimal128(11, 2));
        assert_eq!(decimal_round_type(5, 2, -1), DataType::Decimal128(4, 0));
    }
}
