//! `named_struct(name1, value1, ...)` (and so `struct(...)`) with Spark's nullability,
//! as Spark's `CreateNamedStruct`: the struct itself is never NULL and each field is
//! nullable exactly when its value expression is (`struct(lit(1))` prints
//! `nullable = false` for the struct and the field). DataFusion's own function, which
//! this wraps, marks every field and the struct nullable.

use std::sync::Arc;

use datafusion::arrow::array::{Array, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    StructFieldMapping,
};

/// Spark's `named_struct` (see the module docs). Shape: `struct<name1: type1, ...>`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkNamedStruct {
    inner: Arc<ScalarUDF>,
}

impl SparkNamedStruct {
    /// The function, registered under DataFusion's name `named_struct`.
    pub fn udf() -> ScalarUDF {
        ScalarUDF::new_from_impl(SparkNamedStruct {
            inner: datafusion::functions::core::named_struct(),
        })
    }
}

impl ScalarUDFImpl for SparkNamedStruct {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn signature(&self) -> &Signature {
        self.inner.signature()
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let values: Vec<bool> = args
            .arg_fields
            .iter()
            .skip(1)
            .step_by(2)
            .map(|f| f.is_nullable())
            .collect();
        let field = self.inner.return_field_from_args(args)?;
        let DataType::Struct(fields) = field.data_type() else {
            return Ok(field);
        };
        let fields: Fields = fields
            .iter()
            .zip(values.iter().chain(std::iter::repeat(&true)))
            .map(|(f, nullable)| Arc::new(f.as_ref().clone().with_nullable(*nullable)))
            .collect::<Vec<FieldRef>>()
            .into();
        Ok(Arc::new(Field::new(
            field.name(),
            DataType::Struct(fields),
            false,
        )))
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let DataType::Struct(want) = args.return_field.data_type().clone() else {
            return exec_err!("named_struct without a struct type");
        };
        // DataFusion's function builds the array with every field nullable (a value
        // that breaks a non-null claim is then an error here, never a panic).
        let relaxed: Fields = want
            .iter()
            .map(|f| Arc::new(f.as_ref().clone().with_nullable(true)))
            .collect::<Vec<FieldRef>>()
            .into();
        let mut args = args;
        args.return_field = Arc::new(Field::new(
            args.return_field.name(),
            DataType::Struct(relaxed),
            true,
        ));
        let with_fields = |a: &StructArray| -> Result<StructArray> {
            Ok(StructArray::try_new(
                want.clone(),
                a.columns().to_vec(),
                a.nulls().cloned(),
            )?)
        };
        Ok(match self.inner.invoke_with_args(args)? {
            ColumnarValue::Array(a) => match a.as_any().downcast_ref::<StructArray>() {
                Some(s) => ColumnarValue::Array(Arc::new(with_fields(s)?)),
                None => ColumnarValue::Array(a),
            },
            ColumnarValue::Scalar(ScalarValue::Struct(s)) => {
                ColumnarValue::Scalar(ScalarValue::Struct(Arc::new(with_fields(&s)?)))
            }
            other => other,
        })
    }
    fn struct_field_mapping(
        &self,
        literal_args: &[Option<ScalarValue>],
    ) -> Option<StructFieldMapping> {
        self.inner.struct_field_mapping(literal_args)
    }
}
