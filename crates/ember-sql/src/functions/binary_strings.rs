//! Spark's string functions over `binary` values. Each wraps the session's function
//! of the same name: when its first argument is `binary` Spark's byte semantics apply,
//! otherwise the wrapped function runs unchanged.
//!
//! - `lpad(b, len[, pad])` / `rpad`: padded with `pad` (default `x'00'`) or cut to
//!   `len` bytes, as Spark's `BinaryPad`.
//! - `left(b, n)`: the first `n` bytes; `octet_length(b)`: the byte count;
//!   `reverse(b)`: the bytes reversed; `contains(b, sub)`: a byte substring test;
//!   `overlay(b, replace, pos[, len])`: bytes `pos..pos+len` (1-based; `len` defaults to
//!   the replacement's length) replaced.
//! - `btrim`, `ltrim`, `rtrim`: a `binary` argument is read as a UTF-8 string
//!   (Spark's implicit cast), the result is a string.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BinaryBuilder, BooleanBuilder, Int32Builder,
};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

/// What a binary first argument means for the wrapped function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Lpad,
    Rpad,
    Left,
    OctetLength,
    Reverse,
    Contains,
    Overlay,
    /// Binary arguments are cast to strings, then the wrapped function runs.
    AsText,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct BinaryAware {
    kind: Kind,
    inner: Arc<ScalarUDF>,
    signature: Signature,
}

/// The types the wrapped function's signature coerces `args` to.
fn coerced_by(inner: &ScalarUDF, args: &[DataType]) -> Result<Vec<DataType>> {
    let fields: Vec<FieldRef> = args
        .iter()
        .map(|t| Arc::new(Field::new("a", t.clone(), true)))
        .collect();
    Ok(fields_with_udf(&fields, inner)?
        .iter()
        .map(|f| f.data_type().clone())
        .collect())
}

fn as_text(t: &DataType) -> DataType {
    if is_binary(t) {
        DataType::Utf8
    } else {
        t.clone()
    }
}

fn text_field(f: &FieldRef) -> FieldRef {
    if is_binary(f.data_type()) {
        Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8))
    } else {
        f.clone()
    }
}

fn is_binary(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
    )
}

impl BinaryAware {
    fn bytes_in(&self, args: &[DataType]) -> bool {
        self.kind != Kind::AsText && args.first().is_some_and(is_binary)
    }
}

impl ScalarUDFImpl for BinaryAware {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    // No aliases: `btrim`'s alias `trim` is Spark's `trim(trimStr, str)`, another
    // function (see `forms`); other aliases keep the function they named.
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if self.kind == Kind::AsText && args.iter().any(is_binary) {
            // Binary stays binary here and is decoded as UTF-8 when invoked.
            let text: Vec<DataType> = args.iter().map(as_text).collect();
            let coerced = coerced_by(&self.inner, &text)?;
            return Ok(args
                .iter()
                .zip(coerced)
                .map(|(t, c)| if is_binary(t) { DataType::Binary } else { c })
                .collect());
        }
        if !self.bytes_in(args) {
            return coerced_by(&self.inner, args);
        }
        let n = args.len();
        let want = match (self.kind, n) {
            (Kind::Lpad | Kind::Rpad, 2) => vec![DataType::Binary, DataType::Int64],
            (Kind::Lpad | Kind::Rpad, 3) => {
                vec![DataType::Binary, DataType::Int64, DataType::Binary]
            }
            (Kind::Left, 2) => vec![DataType::Binary, DataType::Int64],
            (Kind::OctetLength | Kind::Reverse, 1) => vec![DataType::Binary],
            (Kind::Contains, 2) => vec![DataType::Binary, DataType::Binary],
            (Kind::Overlay, 3) => vec![DataType::Binary, DataType::Binary, DataType::Int64],
            (Kind::Overlay, 4) => vec![
                DataType::Binary,
                DataType::Binary,
                DataType::Int64,
                DataType::Int64,
            ],
            _ => return coerced_by(&self.inner, args),
        };
        Ok(want)
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if self.kind == Kind::AsText {
            let text: Vec<DataType> = args.iter().map(as_text).collect();
            return self.inner.return_type(&text);
        }
        if !self.bytes_in(args) {
            return self.inner.return_type(args);
        }
        Ok(match self.kind {
            Kind::OctetLength => DataType::Int32,
            Kind::Contains => DataType::Boolean,
            _ => DataType::Binary,
        })
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        if self.kind == Kind::AsText && types.iter().any(is_binary) {
            let fields: Vec<FieldRef> = args.arg_fields.iter().map(|f| text_field(f)).collect();
            return self.inner.return_field_from_args(ReturnFieldArgs {
                arg_fields: &fields,
                scalar_arguments: args.scalar_arguments,
            });
        }
        if !self.bytes_in(&types) {
            return self.inner.return_field_from_args(args);
        }
        Ok(Arc::new(Field::new(
            self.name(),
            self.return_type(&types)?,
            true,
        )))
    }
    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let types = args
            .iter()
            .map(|a| a.get_type(info.schema()))
            .collect::<Result<Vec<_>>>()?;
        if self.bytes_in(&types) || (self.kind == Kind::AsText && types.iter().any(is_binary)) {
            return Ok(ExprSimplifyResult::Original(args));
        }
        self.inner.simplify(args, info)
    }
    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        if self.kind == Kind::AsText && types.iter().any(is_binary) {
            // Spark's implicit cast of binary to string: the bytes as UTF-8.
            for (v, t) in args.args.iter_mut().zip(&types) {
                if is_binary(t) {
                    *v = v.cast_to(&DataType::Utf8, None)?;
                }
            }
            args.arg_fields = args.arg_fields.iter().map(|f| text_field(f)).collect();
            return self.inner.invoke_with_args(args);
        }
        if !self.bytes_in(&types) {
            return self.inner.invoke_with_args(args);
        }
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let a = ColumnarValue::values_to_arrays(&args.args)?;
        let out = match self.kind {
            Kind::Lpad => pad(&a, true)?,
            Kind::Rpad => pad(&a, false)?,
            Kind::Left => left(&a)?,
            Kind::OctetLength => octet_length(&a)?,
            Kind::Reverse => reverse(&a)?,
            Kind::Contains => contains(&a)?,
            Kind::Overlay => overlay(&a)?,
            Kind::AsText => return exec_err!("{} reads binary as text", self.name()),
        };
        Ok(if scalar {
            ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

fn bin(a: &ArrayRef) -> &BinaryArray {
    a.as_binary::<i32>()
}

/// The value of row `i` of every argument, or `None` when one is NULL.
fn row_ok(a: &[ArrayRef], i: usize) -> bool {
    a.iter().all(|x| !x.is_null(i))
}

fn pad(a: &[ArrayRef], left: bool) -> Result<ArrayRef> {
    let (b, len) = (bin(&a[0]), a[1].as_primitive::<Int64Type>());
    let padding = a.get(2).map(bin);
    let mut out = BinaryBuilder::new();
    for i in 0..b.len() {
        if !row_ok(a, i) {
            out.append_null();
            continue;
        }
        let (v, n) = (b.value(i), len.value(i).max(0) as usize);
        let p: &[u8] = padding.map(|p| p.value(i)).unwrap_or(&[0u8]);
        if n <= v.len() || p.is_empty() {
            out.append_value(&v[..n.min(v.len())]);
            continue;
        }
        let fill: Vec<u8> = p.iter().copied().cycle().take(n - v.len()).collect();
        let mut r = Vec::with_capacity(n);
        if left {
            r.extend_from_slice(&fill);
            r.extend_from_slice(v);
        } else {
            r.extend_from_slice(v);
            r.extend_from_slice(&fill);
        }
        out.append_value(r);
    }
    Ok(Arc::new(out.finish()))
}

fn left(a: &[ArrayRef]) -> Result<ArrayRef> {
    let (b, n) = (bin(&a[0]), a[1].as_primitive::<Int64Type>());
    let mut out = BinaryBuilder::new();
    for i in 0..b.len() {
        if !row_ok(a, i) {
            out.append_null();
            continue;
        }
        let v = b.value(i);
        out.append_value(&v[..(n.value(i).max(0) as usize).min(v.len())]);
    }
    Ok(Arc::new(out.finish()))
}

fn octet_length(a: &[ArrayRef]) -> Result<ArrayRef> {
    let b = bin(&a[0]);
    let mut out = Int32Builder::new();
    for i in 0..b.len() {
        if b.is_null(i) {
            out.append_null();
        } else {
            out.append_value(b.value(i).len() as i32);
        }
    }
    Ok(Arc::new(out.finish()))
}

fn reverse(a: &[ArrayRef]) -> Result<ArrayRef> {
    let b = bin(&a[0]);
    let mut out = BinaryBuilder::new();
    for i in 0..b.len() {
        if b.is_null(i) {
            out.append_null();
        } else {
            let mut v = b.value(i).to_vec();
            v.reverse();
            out.append_value(v);
        }
    }
    Ok(Arc::new(out.finish()))
}

fn contains(a: &[ArrayRef]) -> Result<ArrayRef> {
    let (b, sub) = (bin(&a[0]), bin(&a[1]));
    let mut out = BooleanBuilder::new();
    for i in 0..b.len() {
        if !row_ok(a, i) {
            out.append_null();
            continue;
        }
        let (v, s) = (b.value(i), sub.value(i));
        out.append_value(s.is_empty() || v.windows(s.len()).any(|w| w == s));
    }
    Ok(Arc::new(out.finish()))
}

/// Spark's `Overlay` of bytes: `input[..pos-1] + replace + input[pos-1+len..]`.
fn overlay(a: &[ArrayRef]) -> Result<ArrayRef> {
    let (b, r, pos) = (bin(&a[0]), bin(&a[1]), a[2].as_primitive::<Int64Type>());
    let len = a.get(3).map(|l| l.as_primitive::<Int64Type>());
    let mut out = BinaryBuilder::new();
    for i in 0..b.len() {
        if !row_ok(a, i) {
            out.append_null();
            continue;
        }
        let (v, rep) = (b.value(i), r.value(i));
        let n = match len.map(|l| l.value(i)) {
            Some(l) if l >= 0 => l as usize,
            _ => rep.len(),
        };
        let start = ((pos.value(i) - 1).max(0) as usize).min(v.len());
        let end = start.saturating_add(n).min(v.len());
        let mut o = Vec::with_capacity(v.len() + rep.len());
        o.extend_from_slice(&v[..start]);
        o.extend_from_slice(rep);
        o.extend_from_slice(&v[end..]);
        out.append_value(o);
    }
    Ok(Arc::new(out.finish()))
}

/// Wraps the session's `lpad`, `rpad`, `left`, `octet_length`, `reverse`, `contains`,
/// `overlay`, `btrim`, `ltrim`, `rtrim` (`previous` looks them up).
pub fn wrap(previous: impl Fn(&str) -> Option<Arc<ScalarUDF>>) -> Vec<ScalarUDF> {
    [
        ("lpad", Kind::Lpad),
        ("rpad", Kind::Rpad),
        ("left", Kind::Left),
        ("octet_length", Kind::OctetLength),
        ("reverse", Kind::Reverse),
        ("contains", Kind::Contains),
        ("overlay", Kind::Overlay),
        ("btrim", Kind::AsText),
        ("ltrim", Kind::AsText),
        ("rtrim", Kind::AsText),
    ]
    .into_iter()
    .filter_map(|(name, kind)| {
        let inner = previous(name)?;
        Some(ScalarUDF::new_from_impl(BinaryAware {
            kind,
            inner,
            signature: Signature::user_defined(Volatility::Immutable),
        }))
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;

    fn bytes(v: &[&[u8]]) -> ArrayRef {
        Arc::new(BinaryArray::from_vec(v.to_vec()))
    }

    #[test]
    fn pads_cut_and_overlay_as_spark() {
        let b = bytes(&[&[0xaa, 0xbb]]);
        let five: ArrayRef = Arc::new(Int64Array::from(vec![5]));
        let out = pad(&[b.clone(), five.clone()], true).unwrap();
        assert_eq!(bin(&out).value(0), &[0, 0, 0, 0xaa, 0xbb]);
        let p = bytes(&[&[0x11, 0x22]]);
        let out = pad(&[b.clone(), five, p], false).unwrap();
        assert_eq!(bin(&out).value(0), &[0xaa, 0xbb, 0x11, 0x22, 0x11]);
        let one: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        let out = pad(&[b, one], true).unwrap();
        assert_eq!(bin(&out).value(0), &[0xaa]);
        let s = bytes(&[b"Spark SQL"]);
        let r = bytes(&[b"_"]);
        let six: ArrayRef = Arc::new(Int64Array::from(vec![6]));
        let out = overlay(&[s, r, six]).unwrap();
        assert_eq!(bin(&out).value(0), b"Spark_SQL");
    }
}
