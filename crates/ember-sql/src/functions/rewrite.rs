//! Spark functions defined by other expressions, registered once for both front doors
//! (SQL text and Spark Connect): `equal_null(a, b)` (`a <=> b` after Spark's comparison
//! coercion), `nullifzero(x)`, `zeroifnull(x)`, `positive(x)`, `isnotnull(x)`,
//! `date_from_unix_date(days)`, `hypot(x, y)`, `e()`, `decode` (a charset or Spark's
//! `CASE` shorthand, see `charset`), `div(a, b)` (`a DIV b`: the
//! quotient truncated toward zero, as `bigint`).
//!
//! Each is a [`SparkRewrite`]: its result type is the type of the expression it stands
//! for, the optimizer replaces the call by that expression (`simplify`), and a call that
//! reaches execution unsimplified evaluates the same expression over its arguments.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::common::{plan_err, DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::Cast;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    col, ColumnarValue, Expr, ExprSchemable, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

/// Builds the expression a call stands for from its arguments and their fields.
type RewriteFn = fn(Vec<Expr>, &[FieldRef]) -> Result<Expr>;

/// A Spark function that is another expression (see the module docs).
#[derive(Debug)]
pub struct SparkRewrite {
    name: &'static str,
    min_args: usize,
    max_args: usize,
    rewrite: RewriteFn,
    signature: Signature,
}

impl PartialEq for SparkRewrite {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for SparkRewrite {}
impl std::hash::Hash for SparkRewrite {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl SparkRewrite {
    /// The function `name` taking `min_args..=max_args` arguments, standing for
    /// what `rewrite` builds from them.
    pub(crate) fn udf(
        name: &'static str,
        min_args: usize,
        max_args: usize,
        rewrite: RewriteFn,
    ) -> ScalarUDF {
        ScalarUDF::new_from_impl(SparkRewrite {
            name,
            min_args,
            max_args,
            rewrite,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    }

    /// The expression over placeholder columns `a0..an` of the arguments' fields (or
    /// the constant arguments themselves), with the schema those columns live in.
    fn over_placeholders(
        &self,
        fields: &[FieldRef],
        scalars: &[Option<&ScalarValue>],
    ) -> Result<(Expr, DFSchema)> {
        let schema = placeholder_schema(fields);
        let args = (0..fields.len())
            .map(|i| match scalars.get(i).copied().flatten() {
                Some(v) => Expr::Literal(v.clone(), None),
                None => col(format!("a{i}")),
            })
            .collect();
        Ok(((self.rewrite)(args, fields)?, DFSchema::try_from(schema)?))
    }
}

fn placeholder_schema(fields: &[FieldRef]) -> Schema {
    Schema::new(
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| f.as_ref().clone().with_name(format!("a{i}")))
            .collect::<Vec<Field>>(),
    )
}

impl ScalarUDFImpl for SparkRewrite {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() < self.min_args || arg_types.len() > self.max_args {
            let want = if self.min_args == self.max_args {
                self.min_args.to_string()
            } else {
                format!("[{}, {}]", self.min_args, self.max_args)
            };
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires {want} parameters but the actual number is {}.",
                self.name,
                arg_types.len()
            );
        }
        Ok(arg_types.to_vec())
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        plan_err!("{} computes its type from its arguments' fields", self.name)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let (e, schema) = self.over_placeholders(args.arg_fields, args.scalar_arguments)?;
        let (_, f) = e.to_field(&schema)?;
        Ok(Arc::new(f.as_ref().clone().with_name(self.name)))
    }
    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let fields = args
            .iter()
            .map(|a| a.to_field(info.schema()).map(|(_, f)| f))
            .collect::<Result<Vec<_>>>()?;
        Ok(ExprSimplifyResult::Simplified((self.rewrite)(
            args, &fields,
        )?))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (e, schema) = self.over_placeholders(&args.arg_fields, &[])?;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let batch = if arrays.is_empty() {
            RecordBatch::try_new_with_options(
                Arc::new(Schema::empty()),
                vec![],
                &datafusion::arrow::array::RecordBatchOptions::new()
                    .with_row_count(Some(args.number_rows)),
            )?
        } else {
            RecordBatch::try_new(Arc::new(placeholder_schema(&args.arg_fields)), arrays)?
        };
        let physical = datafusion::physical_expr::create_physical_expr(
            &e,
            &schema,
            &datafusion::execution::context::ExecutionProps::new(),
        )?;
        // The promised type, exactly (list fields named `item` by one function and
        // `element` by another are the same Spark type).
        let want = args.return_field.data_type();
        match physical.evaluate(&batch)? {
            ColumnarValue::Array(a) if a.data_type() != want => Ok(ColumnarValue::Array(
                datafusion::arrow::compute::cast(&a, want)?,
            )),
            ColumnarValue::Scalar(v) if &v.data_type() != want => {
                Ok(ColumnarValue::Scalar(v.cast_to(want)?))
            }
            other => Ok(other),
        }
    }
}

fn cast(e: Expr, t: &DataType) -> Expr {
    Expr::Cast(Cast::new(Box::new(e), t.clone()))
}

fn zero_of(t: &DataType) -> Result<Expr> {
    let zero = match t {
        DataType::Null => ScalarValue::Int32(Some(0)),
        t if t.is_numeric() => ScalarValue::Int32(Some(0)).cast_to(t)?,
        other => {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] requires a numeric argument, got {other}"
            )
        }
    };
    Ok(Expr::Literal(zero, None))
}

fn first(args: Vec<Expr>) -> Expr {
    args.into_iter()
        .next()
        .unwrap_or(Expr::Literal(ScalarValue::Null, None))
}

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        SparkRewrite::udf("equal_null", 2, 2, |args, fields| {
            use datafusion::logical_expr::type_coercion::binary::comparison_coercion;
            let (l, r) = (fields[0].data_type(), fields[1].data_type());
            let t = comparison_coercion(l, r).unwrap_or(DataType::Utf8);
            let mut it = args.into_iter();
            let (a, b) = (first(it.by_ref().take(1).collect()), first(it.collect()));
            Ok(Expr::BinaryExpr(datafusion::logical_expr::BinaryExpr::new(
                Box::new(cast(a, &t)),
                datafusion::logical_expr::Operator::IsNotDistinctFrom,
                Box::new(cast(b, &t)),
            )))
        }),
        SparkRewrite::udf("nullifzero", 1, 1, |args, fields| {
            let t = fields[0].data_type().clone();
            let t = if t == DataType::Null {
                DataType::Int32
            } else {
                t
            };
            let x = cast(first(args), &t);
            Ok(datafusion::functions::expr_fn::nullif(x, zero_of(&t)?))
        }),
        SparkRewrite::udf("zeroifnull", 1, 1, |args, fields| {
            let t = fields[0].data_type().clone();
            let t = if t == DataType::Null {
                DataType::Int32
            } else {
                t
            };
            let x = cast(first(args), &t);
            Ok(datafusion::functions::expr_fn::coalesce(vec![
                x,
                zero_of(&t)?,
            ]))
        }),
        SparkRewrite::udf("positive", 1, 1, |args, fields| {
            let t = fields[0].data_type();
            if !(t.is_numeric()
                || matches!(
                    t,
                    DataType::Null | DataType::Interval(_) | DataType::Duration(_)
                ))
            {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `positive` requires a numeric or interval argument, got {t}"
                );
            }
            Ok(first(args))
        }),
        SparkRewrite::udf("isnotnull", 1, 1, |args, _| Ok(first(args).is_not_null())),
        SparkRewrite::udf("e", 0, 0, |_, _| {
            Ok(Expr::Literal(
                ScalarValue::Float64(Some(std::f64::consts::E)),
                None,
            ))
        }),
        SparkRewrite::udf("date_from_unix_date", 1, 1, |args, _| {
            Ok(cast(cast(first(args), &DataType::Int32), &DataType::Date32))
        }),
        // Spark's `a DIV b`: the quotient truncated toward zero, as a bigint (of two
        // intervals of one kind: of their months or microseconds).
        SparkRewrite::udf("div", 2, 2, |args, fields| {
            let intervals = fields
                .iter()
                .all(|f| crate::interval::Qualifier::of_type(f.data_type()).is_some())
                && fields
                    .iter()
                    .map(|f| f.data_type())
                    .collect::<std::collections::HashSet<_>>()
                    .len()
                    == 1;
            let integral = intervals
                || fields
                    .iter()
                    .all(|f| f.data_type().is_integer() || f.data_type() == &DataType::Null);
            let mut it = args.into_iter();
            let (a, b) = (first(it.by_ref().take(1).collect()), first(it.collect()));
            let (a, b) = if intervals {
                use crate::functions::intervals::IntervalNumber;
                (IntervalNumber::call(a), IntervalNumber::call(b))
            } else {
                (a, b)
            };
            let q = if integral {
                Expr::BinaryExpr(datafusion::logical_expr::BinaryExpr::new(
                    Box::new(cast(a, &DataType::Int64)),
                    datafusion::logical_expr::Operator::Divide,
                    Box::new(cast(b, &DataType::Int64)),
                ))
            } else {
                // Arrow's decimal-to-integer cast truncates toward zero.
                let t = DataType::Decimal128(38, 6);
                Expr::BinaryExpr(datafusion::logical_expr::BinaryExpr::new(
                    Box::new(cast(a, &t)),
                    datafusion::logical_expr::Operator::Divide,
                    Box::new(cast(b, &t)),
                ))
            };
            Ok(cast(q, &DataType::Int64))
        }),
        SparkRewrite::udf("decode", 2, usize::MAX, super::charset::decode_rewrite),
        SparkRewrite::udf("hypot", 2, 2, |args, _| {
            let mut it = args.into_iter().map(|a| cast(a, &DataType::Float64));
            let (x, y) = (first(it.by_ref().take(1).collect()), first(it.collect()));
            Ok(datafusion::functions::math::expr_fn::sqrt(
                x.clone() * x + y.clone() * y,
            ))
        }),
    ]
}

/// Spark functions defined by other expressions that need no session state (more of
/// them): `quote(s)` (`'...'` with `\` and `'` escaped), `map_contains_key(m, k)`,
/// `validate_utf8`/`try_validate_utf8` (Arrow strings are valid UTF-8; a binary is
/// read as UTF-8).
pub fn more_functions() -> Vec<ScalarUDF> {
    use datafusion::functions::expr_fn as f;
    vec![
        SparkRewrite::udf("quote", 1, 1, |args, _| {
            let lit = |s: &str| Expr::Literal(ScalarValue::Utf8(Some(s.to_string())), None);
            let s = cast(first(args), &DataType::Utf8);
            let s = f::replace(s, lit("\\"), lit("\\\\"));
            let s = f::replace(s, lit("'"), lit("\\'"));
            Ok(f::concat(vec![lit("'"), s, lit("'")]))
        }),
        SparkRewrite::udf("map_contains_key", 2, 2, |args, _| {
            let mut it = args.into_iter();
            let (m, k) = (first(it.by_ref().take(1).collect()), first(it.collect()));
            Ok(datafusion::functions_nested::expr_fn::array_has(
                datafusion::functions_nested::expr_fn::map_keys(m),
                k,
            ))
        }),
        SparkRewrite::udf("validate_utf8", 1, 1, |args, _| {
            Ok(cast(first(args), &DataType::Utf8))
        }),
        SparkRewrite::udf("try_validate_utf8", 1, 1, |args, _| {
            Ok(cast(first(args), &DataType::Utf8))
        }),
    ]
}
