//! Spark's math functions computed as Spark computes them: Java's `StrictMath`
//! (fdlibm), which Spark's `mathExpressions` call directly (`exp`, `expm1`, `ln`,
//! `log10`, `log1p`, `log2` as `log(x) / log(2)`, `pow`) or through `java.lang.Math`
//! methods that delegate to it (`cosh`, `sinh`, `tanh`, `acos`, `asin`, `atan`,
//! `atan2`, `cbrt`). The `libm` crate is a port of the same fdlibm routines, so the
//! last digit agrees with Spark (`exp(1)` is `2.7182818284590455`, not the
//! correctly rounded `2.718281828459045` of the C library).
//!
//! Arguments are cast to `double`; the result is `double`. NULL in, NULL out. The
//! logarithms are NULL where Spark's are (`ln(x)`, `log10(x)`, `log2(x)` for `x <= 0`, NaN for NaN;
//! `log1p(x)` for `x <= -1`), as Spark's `UnaryLogExpression`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::{args_between, udf_coerced};

/// One unary function: its value, or `None` (NULL) outside its domain.
type Unary = fn(f64) -> Option<f64>;

fn unary(name: &'static str, imp: Impl, tz: &str) -> ScalarUDF {
    udf_coerced(
        name,
        |args| {
            args_between("math function", args, 1, 1)?;
            Ok(vec![DataType::Float64])
        },
        |_| Ok(DataType::Float64),
        imp,
        tz,
    )
    .with_aliases(aliases(name))
}

fn aliases(name: &str) -> Vec<&'static str> {
    match name {
        "pow" => vec!["power"],
        _ => vec![],
    }
}

fn map1(a: &[ArrayRef], f: Unary) -> Result<ArrayRef> {
    let x = a[0].as_primitive::<Float64Type>();
    Ok(Arc::new(
        x.iter().map(|v| v.and_then(f)).collect::<Float64Array>(),
    ))
}

fn map2(a: &[ArrayRef], f: fn(f64, f64) -> f64) -> Result<ArrayRef> {
    let x = a[0].as_primitive::<Float64Type>();
    let y = a[1].as_primitive::<Float64Type>();
    Ok(Arc::new(
        x.iter()
            .zip(y.iter())
            .map(|(x, y)| Some(f(x?, y?)))
            .collect::<Float64Array>(),
    ))
}

fn ln(x: f64) -> Option<f64> {
    (!(x <= 0.0)).then(|| libm::log(x))
}
fn log10(x: f64) -> Option<f64> {
    (!(x <= 0.0)).then(|| libm::log10(x))
}
fn log2(x: f64) -> Option<f64> {
    (!(x <= 0.0)).then(|| libm::log(x) / libm::log(2.0))
}
fn log1p(x: f64) -> Option<f64> {
    (!(x <= -1.0)).then(|| libm::log1p(x))
}

macro_rules! impls {
    ($($name:ident => $f:expr),* $(,)?) => {
        $(fn $name(a: &[ArrayRef], _: &chrono_tz::Tz) -> Result<ArrayRef> { map1(a, $f) })*
    };
}

impls! {
    ln_impl => ln,
    log10_impl => log10,
    log2_impl => log2,
    log1p_impl => log1p,
    exp_impl => |x| Some(libm::exp(x)),
    expm1_impl => |x| Some(libm::expm1(x)),
    cosh_impl => |x| Some(libm::cosh(x)),
    sinh_impl => |x| Some(libm::sinh(x)),
    tanh_impl => |x| Some(libm::tanh(x)),
    acos_impl => |x| Some(libm::acos(x)),
    asin_impl => |x| Some(libm::asin(x)),
    atan_impl => |x| Some(libm::atan(x)),
    cbrt_impl => |x| Some(libm::cbrt(x)),
}

type Impl = fn(&[ArrayRef], &chrono_tz::Tz) -> Result<ArrayRef>;

const UNARY_IMPLS: [(&str, Impl); 13] = [
    ("ln", ln_impl),
    ("log10", log10_impl),
    ("log2", log2_impl),
    ("log1p", log1p_impl),
    ("exp", exp_impl),
    ("expm1", expm1_impl),
    ("cosh", cosh_impl),
    ("sinh", sinh_impl),
    ("tanh", tanh_impl),
    ("acos", acos_impl),
    ("asin", asin_impl),
    ("atan", atan_impl),
    ("cbrt", cbrt_impl),
];

/// `atan2(y, x)`: Spark adds `0.0` to both first (so `-0.0` is `0.0`).
fn atan2_impl(a: &[ArrayRef], _: &chrono_tz::Tz) -> Result<ArrayRef> {
    map2(a, |y, x| libm::atan2(y + 0.0, x + 0.0))
}

fn log_impl(a: &[ArrayRef], tz: &chrono_tz::Tz) -> Result<ArrayRef> {
    if a.len() == 1 {
        return ln_impl(a, tz);
    }
    let b = a[0].as_primitive::<Float64Type>();
    let x = a[1].as_primitive::<Float64Type>();
    Ok(Arc::new(
        b.iter()
            .zip(x.iter())
            .map(|(b, x)| {
                let (b, x) = (b?, x?);
                (!(b <= 0.0 || x <= 0.0)).then(|| libm::log(x) / libm::log(b))
            })
            .collect::<Float64Array>(),
    ))
}

/// `pow(x, y)`: `StrictMath.pow`.
fn pow_impl(a: &[ArrayRef], _: &chrono_tz::Tz) -> Result<ArrayRef> {
    map2(a, libm::pow)
}

fn binary(name: &'static str, imp: Impl, tz: &str) -> ScalarUDF {
    udf_coerced(
        name,
        |args| {
            args_between("math function", args, 2, 2)?;
            Ok(vec![DataType::Float64, DataType::Float64])
        },
        |_| Ok(DataType::Float64),
        imp,
        tz,
    )
    .with_aliases(aliases(name))
}

/// The functions of this module (they replace DataFusion's of the same names).
pub fn functions(tz: &str) -> Vec<ScalarUDF> {
    let mut v: Vec<ScalarUDF> = UNARY_IMPLS
        .iter()
        .map(|(n, imp)| unary(n, *imp, tz))
        .collect();
    v.push(binary("atan2", atan2_impl, tz));
    // `log(x)` is `ln(x)`; `log(base, x)` is NULL unless both are positive (Spark's
    // `Logarithm`: `StrictMath.log(x) / StrictMath.log(base)`).
    v.push(udf_coerced(
        "log",
        |args| {
            args_between("log", args, 1, 2)?;
            Ok(vec![DataType::Float64; args.len()])
        },
        |_| Ok(DataType::Float64),
        log_impl,
        tz,
    ));
    v.push(binary("pow", pow_impl, tz));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_digits_as_java_strict_math() {
        // Values Spark 4.3 prints (StrictMath / fdlibm).
        assert_eq!(format!("{:?}", libm::exp(1.0)), "2.7182818284590455");
        assert_eq!(format!("{:?}", libm::cosh(1.0)), "1.543080634815244");
        assert_eq!(
            format!("{:?}", log2(9.0).unwrap_or_default()),
            "3.1699250014423126"
        );
        assert_eq!(log2(0.0), None);
        assert_eq!(log1p(-1.0), None);
        // NaN is not <= 0: its logarithm is NaN, as Spark's.
        assert!(ln(f64::NAN).is_some_and(f64::is_nan));
    }
}
