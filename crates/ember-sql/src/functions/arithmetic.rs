//! Spark's arithmetic where DataFusion's differs.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

/// Spark's `/` on doubles and on decimals: division by zero raises `DIVIDE_BY_ZERO`
/// under ANSI mode (`spark.sql.ansi.enabled`, DataFusion's `enable_ansi_mode`) and is
/// NULL otherwise. `decimal(p1, s1) / decimal(p2, s2)` has Spark's result type
/// ([`decimal_divide_type`]) and rounds half up, as Spark's `Divide` (DataFusion's
/// keeps `s1 + 4` digits and truncates).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkDivide {
    signature: Signature,
}

impl SparkDivide {
    /// The `spark_divide(double, double)` / `spark_divide(decimal, decimal)` function.
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(SparkDivide {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Exact(vec![DataType::Float64, DataType::Float64]),
                    TypeSignature::Any(2),
                ],
                Volatility::Immutable,
            ),
        })
    }
}

/// Spark's result type of `decimal(p1, s1) / decimal(p2, s2)` (DecimalPrecision with
/// `spark.sql.decimalOperations.allowPrecisionLoss=true`, its default): scale
/// `max(6, s1 + p2 + 1)`, precision `p1 - s1 + s2 + scale`, then reduced to at most 38
/// digits keeping at least `min(scale, 6)` of scale.
pub fn decimal_divide_type(p1: u8, s1: i8, p2: u8, s2: i8) -> (u8, i8) {
    let (p1, s1, p2, s2) = (p1 as i32, s1 as i32, p2 as i32, s2 as i32);
    let scale = 6.max(s1 + p2 + 1);
    let prec = p1 - s1 + s2 + scale;
    if prec <= 38 {
        return (prec as u8, scale as i8);
    }
    let int_digits = prec - scale;
    let min_scale = scale.min(6);
    let adjusted = (38 - int_digits).max(min_scale);
    (38, adjusted as i8)
}

fn decimal_args(args: &[DataType]) -> Option<(u8, i8, u8, i8)> {
    match args {
        [DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)] => Some((*p1, *s1, *p2, *s2)),
        _ => None,
    }
}

/// `l / r` on decimals with Spark's result type and HALF_UP rounding. Computes with at
/// least one digit more than the result scale (truncated), then rounds: exact HALF_UP.
fn divide_decimal(
    l: &dyn Array,
    r: &dyn Array,
    (p1, s1, p2, s2): (u8, i8, u8, i8),
    ansi: bool,
) -> Result<datafusion::arrow::array::ArrayRef> {
    use datafusion::arrow::compute::kernels::{cast::cast, nullif::nullif, numeric::div};
    use datafusion::arrow::datatypes::Decimal128Type;
    let (p, s) = decimal_divide_type(p1, s1, p2, s2);
    let r = r.as_primitive::<Decimal128Type>();
    let zero: datafusion::arrow::array::BooleanArray =
        r.iter().map(|v| v.map(|x| x == 0)).collect();
    if ansi && zero.true_count() > 0 {
        return exec_err!("[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012");
    }
    let r = nullif(r, &zero)?;
    // Arrow's quotient keeps the dividend's scale + 4 digits.
    let work_scale = (s as i32 + 1 - 4).max(s1 as i32).min(38) as i8;
    let l = cast(l, &DataType::Decimal128(38, work_scale))?;
    let q = div(&l, &r)?;
    Ok(cast(&q, &DataType::Decimal128(p, s))?)
}

impl ScalarUDFImpl for SparkDivide {
    fn name(&self) -> &str {
        "spark_divide"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(match decimal_args(args) {
            Some((p1, s1, p2, s2)) => {
                let (p, s) = decimal_divide_type(p1, s1, p2, s2);
                DataType::Decimal128(p, s)
            }
            None => DataType::Float64,
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use datafusion::arrow::array::Float64Array;
        let ansi = args.config_options.execution.enable_ansi_mode;
        let types: Vec<DataType> = args.args.iter().map(|a| a.data_type()).collect();
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        if let Some(d) = decimal_args(&types) {
            return Ok(ColumnarValue::Array(divide_decimal(
                &arrays[0], &arrays[1], d, ansi,
            )?));
        }
        if types.iter().any(|t| t != &DataType::Float64) {
            return exec_err!("spark_divide expects two doubles or two decimals, got {types:?}");
        }
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
