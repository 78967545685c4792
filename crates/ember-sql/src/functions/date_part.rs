//! `date_part(field, source)` / `datepart` / `extract(field FROM source)` with Spark's
//! `SECOND` field: the seconds with their fraction as `DECIMAL(8, 6)` (`15.000000`,
//! `59.123456`), as Spark's `SecondWithFraction`; DataFusion's `date_part` (which this
//! wraps for every other field) gives whole seconds as `INT`.
//!
//! Spark spells the field `SECOND`, `S`, `SEC`, `SECONDS` or `SECS`, in any case.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Decimal128Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

/// Spark's `date_part` (see the module docs).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkDatePart {
    inner: Arc<ScalarUDF>,
    aliases: Vec<String>,
}

impl SparkDatePart {
    /// The function, under DataFusion's name `date_part` (aliases `datepart`,
    /// `extract`).
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(SparkDatePart {
            inner: datafusion::functions::datetime::date_part(),
            aliases: vec!["datepart".into(), "extract".into()],
        })
    }
}

const SECOND: DataType = DataType::Decimal128(8, 6);

fn is_second(field: &str) -> bool {
    matches!(
        field.trim().to_ascii_uppercase().as_str(),
        "SECOND" | "S" | "SEC" | "SECONDS" | "SECS"
    )
}

fn field_of(v: Option<&ScalarValue>) -> Option<String> {
    v.and_then(|s| s.try_as_str().flatten().map(str::to_string))
}

impl ScalarUDFImpl for SparkDatePart {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        self.inner.signature()
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let field = args.scalar_arguments.first().copied().flatten();
        if field_of(field).is_some_and(|f| is_second(&f)) {
            let nullable = args.arg_fields.get(1).is_none_or(|f| f.is_nullable());
            return Ok(Arc::new(Field::new(self.name(), SECOND, nullable)));
        }
        self.inner.return_field_from_args(args)
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let field = match args.args.first() {
            Some(ColumnarValue::Scalar(s)) => field_of(Some(s)),
            _ => None,
        };
        if !field.is_some_and(|f| is_second(&f)) {
            return self.inner.invoke_with_args(args);
        }
        let Some(source) = args.args.get(1) else {
            return exec_err!("date_part takes a field and a source");
        };
        let scalar = matches!(source, ColumnarValue::Scalar(_));
        let arr = source.to_array(args.number_rows)?;
        let micros = match arr.data_type() {
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 | DataType::Utf8 => {
                cast(&arr, &DataType::Timestamp(TimeUnit::Microsecond, None))?
            }
            other => return exec_err!("date_part(SECOND, ...) of {other}"),
        };
        let micros = micros.as_primitive::<TimestampMicrosecondType>();
        let out: Decimal128Array = micros
            .iter()
            .map(|v| v.map(|m| i128::from(m.rem_euclid(60_000_000))))
            .collect::<Decimal128Array>()
            .with_precision_and_scale(8, 6)?;
        Ok(if scalar && out.len() == 1 {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(Arc::new(out))
        })
    }
}
