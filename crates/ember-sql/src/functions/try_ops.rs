//! Spark's `try_add`, `try_subtract`, `try_multiply`, `try_divide` and `try_mod`: the
//! operator (`+ - * / %`) with Spark's operand types, NULL where the operator would
//! fail (integer or decimal overflow, division by zero) instead of an error, as Spark's
//! `TryEval`. `try_divide` of numbers is `double` division (Spark's `/`); a date plus
//! or minus an integer counts days (`date_add`); dates, timestamps and intervals follow
//! the operator's interval arithmetic.

use std::sync::Arc;

use datafusion::arrow::array::{new_null_array, Array, ArrayRef, AsArray, Date32Array};
use datafusion::arrow::compute::kernels::{cmp, numeric};
use datafusion::arrow::compute::{cast_with_options, concat, nullif, CastOptions};
use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::common::{plan_err, Result, ScalarValue};
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::{
    ColumnarValue, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// One of the `try_` arithmetic functions.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TryArithmetic {
    name: &'static str,
    op: Operator,
    signature: Signature,
}

/// The five functions.
pub fn functions() -> Vec<ScalarUDF> {
    [
        ("try_add", Operator::Plus),
        ("try_subtract", Operator::Minus),
        ("try_multiply", Operator::Multiply),
        ("try_divide", Operator::Divide),
        ("try_mod", Operator::Modulo),
    ]
    .into_iter()
    .map(|(name, op)| {
        ScalarUDF::new_from_impl(TryArithmetic {
            name,
            op,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    })
    .collect()
}

fn is_date_days(l: &DataType, r: &DataType) -> bool {
    l == &DataType::Date32 && (r.is_integer() || r == &DataType::Null)
}

impl TryArithmetic {
    /// Operand types after Spark's coercion, and the result type.
    fn types(&self, l: &DataType, r: &DataType) -> Result<(DataType, DataType, DataType)> {
        let l = if l == &DataType::Null { r } else { l };
        let r = if r == &DataType::Null { l } else { r };
        if matches!(self.op, Operator::Plus | Operator::Minus) && is_date_days(l, r) {
            return Ok((DataType::Date32, DataType::Int32, DataType::Date32));
        }
        if self.op == Operator::Plus && is_date_days(r, l) {
            return Ok((DataType::Int32, DataType::Date32, DataType::Date32));
        }
        if let Some(t) = crate::functions::intervals::arith_type(self.op, l, r) {
            return Ok((l.clone(), r.clone(), t));
        }
        let numeric_only = |t: &DataType| t.is_integer() || t.is_floating();
        if self.op == Operator::Divide && numeric_only(l) && numeric_only(r) {
            return Ok((DataType::Float64, DataType::Float64, DataType::Float64));
        }
        let c = BinaryTypeCoercer::new(l, &self.op, r);
        let (lt, rt) = c.get_input_types()?;
        let out = c.get_result_type()?;
        Ok((lt, rt, out))
    }

    fn apply(&self, l: &ArrayRef, r: &ArrayRef, out: &DataType) -> Result<ArrayRef> {
        if crate::functions::intervals::arith_type(self.op, l.data_type(), r.data_type()).is_some()
        {
            return crate::functions::intervals::arith_eval(self.op, l, r);
        }
        let v = match (self.op, l.data_type(), r.data_type()) {
            (_, DataType::Date32, DataType::Int32) | (_, DataType::Int32, DataType::Date32) => {
                let (d, n) = if l.data_type() == &DataType::Date32 {
                    (l, r)
                } else {
                    (r, l)
                };
                let days = cast_with_options(d, &DataType::Int32, &CastOptions::default())?;
                let (days, n) = (
                    days.as_primitive::<Int32Type>(),
                    n.as_primitive::<Int32Type>(),
                );
                let mut res = Vec::with_capacity(days.len());
                for i in 0..days.len() {
                    if days.is_null(i) || n.is_null(i) {
                        res.push(None);
                        continue;
                    }
                    let v = if self.op == Operator::Minus {
                        days.value(i).checked_sub(n.value(i))
                    } else {
                        days.value(i).checked_add(n.value(i))
                    };
                    res.push(Some(v.ok_or_else(|| {
                        datafusion::common::DataFusionError::Execution("overflow".into())
                    })?));
                }
                Arc::new(Date32Array::from(res)) as ArrayRef
            }
            (Operator::Plus, _, _) => numeric::add(l, r)?,
            (Operator::Minus, _, _) => numeric::sub(l, r)?,
            (Operator::Multiply, _, _) => numeric::mul(l, r)?,
            (Operator::Divide, _, _) => numeric::div(l, r)?,
            _ => numeric::rem(l, r)?,
        };
        if v.data_type() == out {
            return Ok(v);
        }
        let strict = CastOptions {
            safe: false,
            ..Default::default()
        };
        Ok(cast_with_options(&v, out, &strict)?)
    }
}

impl ScalarUDFImpl for TryArithmetic {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [l, r] = arg_types else {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires 2 parameters but the actual number is {}.",
                self.name,
                arg_types.len()
            );
        };
        let (lt, rt, _) = self.types(l, r).map_err(|_| {
            datafusion::common::DataFusionError::Plan(format!(
                "[DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES] Cannot resolve `{}` due to data type mismatch: the operands are {l} and {r}.",
                self.name
            ))
        })?;
        Ok(vec![lt, rt])
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [l, r] => Ok(self.types(l, r)?.2),
            _ => plan_err!("`{}` takes 2 arguments", self.name),
        }
    }
    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        use crate::interval::Qualifier;
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let t = self.return_type(&types)?;
        let mut field = datafusion::arrow::datatypes::Field::new(self.name, t, true);
        // Of two intervals, + and - span both ranges (`interval day to hour`).
        if let [l, r] = args.arg_fields {
            if let (Some(a), Some(b), Operator::Plus | Operator::Minus) =
                (Qualifier::of_field(l), Qualifier::of_field(r), self.op)
            {
                if let Some(u) = a.union(b) {
                    field = field.with_metadata(u.metadata());
                }
            }
        }
        Ok(Arc::new(field))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let out = args.return_field.data_type().clone();
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let l = args.args[0].to_array(n)?;
        let mut r = args.args[1].to_array(n)?;
        if matches!(self.op, Operator::Divide | Operator::Modulo)
            && r.data_type().is_numeric()
            && crate::functions::intervals::arith_type(self.op, l.data_type(), r.data_type())
                .is_none()
        {
            // A zero divisor gives NULL.
            let zero = ScalarValue::Int32(Some(0))
                .cast_to(r.data_type())?
                .to_array_of_size(1)?;
            let is_zero = cmp::eq(&r, &datafusion::arrow::array::Scalar::new(zero))?;
            r = nullif(&r, &is_zero)?;
        }
        let result = match self.apply(&l, &r, &out) {
            Ok(v) => v,
            // Some row failed: evaluate row by row, NULL where the operator fails.
            Err(_) => {
                let rows = (0..n)
                    .map(|i| {
                        self.apply(&l.slice(i, 1), &r.slice(i, 1), &out)
                            .unwrap_or_else(|_| new_null_array(&out, 1))
                    })
                    .collect::<Vec<_>>();
                let refs: Vec<&dyn Array> = rows.iter().map(|a| a.as_ref()).collect();
                if refs.is_empty() {
                    new_null_array(&out, 0)
                } else {
                    concat(&refs)?
                }
            }
        };
        if scalar && result.len() == 1 {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?));
        }
        Ok(ColumnarValue::Array(result))
    }
}
