//! Spark SQL functions that DataFusion and `datafusion-spark` lack or implement with
//! other semantics. Each follows Spark 4's documented behaviour (ANSI mode on):
//! `size` (NULL for NULL), `get` (0-based, NULL out of bounds), array subscripts
//! `a[i]` (0-based, `INVALID_ARRAY_INDEX` out of bounds), `hour`/`minute`/`second`
//! and `date_format` in the session time zone, `dayofweek` (1 = Sunday),
//! `weekofyear` (ISO week), `dayofmonth`, `dayofyear`, `regexp_extract`, `to_date`.

pub mod agg_forms;
pub mod arithmetic;
mod arrays;
pub mod binary_strings;
mod charset;
pub mod coerce;
pub mod collection;
pub mod counter_diff;
mod date_part;
mod forms;
pub mod generator;
pub mod hllpp;
pub mod intervals;
pub mod json;
mod json_path;
pub mod lambda;
mod make_ts;
pub mod maps;
pub mod mode;
pub mod moments;
pub mod more;
pub mod named_struct;
pub mod numfmt;
pub mod percentile;
pub mod quantile;
pub mod random;
pub mod rewrite;
pub mod round;
pub mod sequence;
pub mod sketches;
mod strict_math;
pub mod sums;
pub mod table;
pub mod text;
mod time;
pub mod timestampadd;
pub mod timewindow;
mod to_char;
pub mod try_ops;
pub mod type_of;
pub mod variant;
pub mod variant_json;
pub mod vectors;
pub mod window;
mod xpath;
pub mod zones;

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, Timelike};
use chrono_tz::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Int32Array, Int32Builder, Int64Array, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Date32Type, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{exec_err, plan_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Placeholder zone a [`RetFn`] returns for "a timestamp in the session time zone";
/// [`SparkFn`] replaces it with its zone.
const SESSION_TZ: &str = "$session";

type RetFn = fn(&[DataType]) -> Result<DataType>;
type ImplFn = fn(&[ArrayRef], &Tz) -> Result<ArrayRef>;
type CoerceFn = fn(&[DataType]) -> Result<Vec<DataType>>;

/// A Spark function implemented over whole arrays. Identity is its name and zone.
#[derive(Debug)]
struct SparkFn {
    name: &'static str,
    signature: Signature,
    ret: RetFn,
    imp: ImplFn,
    tz: String,
    /// For `Signature::user_defined` functions: the argument types to cast to.
    coerce: Option<CoerceFn>,
}

impl PartialEq for SparkFn {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.tz == other.tz
    }
}
impl Eq for SparkFn {}
impl std::hash::Hash for SparkFn {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.tz.hash(state);
    }
}

impl ScalarUDFImpl for SparkFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match (self.ret)(arg_types)? {
            DataType::Timestamp(u, Some(z)) if z.as_ref() == SESSION_TZ => {
                DataType::Timestamp(u, Some(Arc::from(self.tz.as_str())))
            }
            t => t,
        })
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match self.coerce {
            Some(c) => c(arg_types),
            None => plan_err!("{} has no user-defined coercion", self.name),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let tz: Tz = self.tz.parse().unwrap_or(chrono_tz::UTC);
        let out = (self.imp)(&arrays, &tz)?;
        if all_scalar && out.len() == 1 {
            return Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&out, 0)?,
            ));
        }
        Ok(ColumnarValue::Array(out))
    }
}

fn udf(name: &'static str, signature: Signature, ret: RetFn, imp: ImplFn, tz: &str) -> ScalarUDF {
    ScalarUDF::new_from_impl(SparkFn {
        name,
        signature,
        ret,
        imp,
        tz: tz.to_string(),
        coerce: None,
    })
}

/// A function whose arguments are cast as `coerce` says (Spark's implicit casts:
/// any integer to `int`, any number to `double`, ...).
fn udf_coerced(
    name: &'static str,
    coerce: CoerceFn,
    ret: RetFn,
    imp: ImplFn,
    tz: &str,
) -> ScalarUDF {
    ScalarUDF::new_from_impl(SparkFn {
        name,
        signature: Signature::user_defined(Volatility::Immutable),
        ret,
        imp,
        tz: tz.to_string(),
        coerce: Some(coerce),
    })
}

fn args_between(name: &str, args: &[DataType], min: usize, max: usize) -> Result<()> {
    if args.len() < min || args.len() > max {
        return plan_err!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires {} parameters but the actual number is {}.",
            if min == max { min.to_string() } else { format!("[{min}, {max}]") },
            args.len()
        );
    }
    Ok(())
}

/// `split(string, string[, int])`.
fn coerce_split(args: &[DataType]) -> Result<Vec<DataType>> {
    args_between("split", args, 2, 3)?;
    let mut v = vec![DataType::Utf8, DataType::Utf8];
    if args.len() == 3 {
        v.push(DataType::Int32);
    }
    Ok(v)
}

fn date_sig(ts: &DataType) -> Signature {
    Signature::one_of(
        vec![
            datafusion::logical_expr::TypeSignature::Exact(vec![DataType::Date32]),
            datafusion::logical_expr::TypeSignature::Exact(vec![ts.clone()]),
        ],
        Volatility::Immutable,
    )
}

/// Local dates (days since the epoch) of dates or timestamps (in `tz`).
fn local_dates(a: &ArrayRef, tz: &Tz) -> Result<Date32Array> {
    match a.data_type() {
        DataType::Date32 => Ok(a.as_primitive::<Date32Type>().clone()),
        DataType::Timestamp(_, _) => {
            let micros = datafusion::arrow::compute::cast(
                a,
                &DataType::Timestamp(TimeUnit::Microsecond, None),
            )?;
            let m = micros.as_primitive::<TimestampMicrosecondType>();
            Ok(m.iter()
                .map(|v| {
                    v.and_then(chrono::DateTime::from_timestamp_micros)
                        .map(|t| t.with_timezone(tz).date_naive().num_days_from_ce() - 719_163)
                })
                .collect())
        }
        DataType::Utf8 => Ok(a
            .as_string::<i32>()
            .iter()
            .map(|v| v.and_then(ember_datasource::values::parse_date_lenient))
            .collect()),
        other => exec_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] expected a DATE or TIMESTAMP, got {other}"
        ),
    }
}

/// Registers Spark's names for DataFusion aggregates with the same semantics:
/// `variance` (= `var_samp`), `std` (= `stddev_samp`), `first`/`last`
/// (= `first_value`/`last_value`). `percentile_approx` is Spark's own ([`quantile`]): Spark returns a value of
/// the data, DataFusion's `approx_percentile_cont` interpolates.
pub fn register_aggregate_aliases(
    ctx: &datafusion::prelude::SessionContext,
) -> crate::error::Result<()> {
    use datafusion::execution::FunctionRegistry;
    for (base, alias) in [("first_value", "first"), ("last_value", "last")] {
        let f = ctx.udaf(base)?;
        ctx.register_udaf(f.as_ref().clone().with_aliases([alias]));
    }
    for f in moments::udafs() {
        ctx.register_udaf(f);
    }
    ctx.register_udaf(sums::sum_udaf().as_ref().clone());
    ctx.register_udaf(sums::avg_udaf().as_ref().clone());
    ctx.register_udaf(mode::udaf());
    ctx.register_udaf(variant::schema_agg_udaf());
    for f in vectors::udafs() {
        ctx.register_udaf(f);
    }
    ctx.register_udaf(hllpp::udaf());
    ctx.register_udaf(percentile::udaf());
    ctx.register_udaf(percentile::median_udaf());
    ctx.register_udaf(quantile::percentile_approx_udaf());
    ctx.register_udaf(quantile::approx_quantile_udaf());
    for f in sketches::udafs() {
        ctx.register_udaf(f);
    }
    Ok(())
}

fn date_int_sig(ts: &DataType) -> Signature {
    use datafusion::logical_expr::TypeSignature::Exact;
    let mut v = Vec::new();
    for d in [DataType::Date32, ts.clone(), DataType::Utf8] {
        for n in [
            DataType::Int32,
            DataType::Int64,
            DataType::Int16,
            DataType::Int8,
        ] {
            v.push(Exact(vec![d.clone(), n]));
        }
    }
    Signature::one_of(v, Volatility::Immutable)
}

/// `to_timestamp`-like inputs: a string, a string and a format, or a timestamp.
fn to_timestamp_sig(ts: &DataType) -> Signature {
    use datafusion::logical_expr::TypeSignature::Exact;
    Signature::one_of(
        vec![
            Exact(vec![DataType::Utf8]),
            Exact(vec![DataType::Utf8, DataType::Utf8]),
            Exact(vec![ts.clone()]),
        ],
        Volatility::Immutable,
    )
}

fn ts_type(tz: &str) -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(tz)))
}

/// `timestamp_seconds`/`_millis`/`_micros(n)`: the instant `n` units after the epoch,
/// as a TIMESTAMP in the session zone; seconds may have a fraction (to microseconds).
fn epoch_units(a: &[ArrayRef], per: i128, tz: &Tz) -> Result<ArrayRef> {
    let d = datafusion::arrow::compute::cast(&a[0], &DataType::Decimal128(38, 6))?;
    let d = d.as_primitive::<datafusion::arrow::datatypes::Decimal128Type>();
    let mut out = Vec::with_capacity(d.len());
    for v in d.iter() {
        out.push(match v {
            None => None,
            // `v` is the value times 10^6; micros = value * per.
            Some(v) => {
                let micros = v.checked_mul(per).map(|x| x / 1_000_000);
                match micros.and_then(|m| i64::try_from(m).ok()) {
                    Some(m) => Some(m),
                    None => {
                        return exec_err!(
                            "[ARITHMETIC_OVERFLOW] long overflow. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error."
                        )
                    }
                }
            }
        });
    }
    Ok(Arc::new(
        datafusion::arrow::array::TimestampMicrosecondArray::from(out).with_timezone(tz.name()),
    ))
}

fn coerce_epoch(args: &[DataType]) -> Result<Vec<DataType>> {
    args_between("timestamp_seconds", args, 1, 1)?;
    if !(args[0].is_numeric() || args[0] == DataType::Null) {
        return plan_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] requires a numeric argument, got {}",
            args[0]
        );
    }
    Ok(args.to_vec())
}

/// All of ember's Spark functions for a session in time zone `tz`.
pub fn spark_functions(tz: &str) -> Vec<ScalarUDF> {
    let ts = ts_type(tz);
    let imm = Volatility::Immutable;
    let mut v = vec![
        udf(
            "size",
            Signature::any(1, imm),
            |_| Ok(DataType::Int32),
            size_impl,
            tz,
        ),
        udf(
            "spark_to_string",
            Signature::any(1, imm),
            |_| Ok(DataType::Utf8),
            to_string_impl,
            tz,
        ),
        udf(
            "array_size",
            Signature::any(1, imm),
            |_| Ok(DataType::Int32),
            size_impl,
            tz,
        ),
        udf(
            "cardinality",
            Signature::any(1, imm),
            |_| Ok(DataType::Int32),
            size_impl,
            tz,
        ),
        udf("get", Signature::any(2, imm), elem_type, get_impl, tz),
        udf(
            "spark_array_index",
            Signature::any(2, imm),
            elem_type,
            ansi_index_impl,
            tz,
        ),
        udf(
            "hour",
            Signature::exact(vec![ts.clone()], imm),
            |_| Ok(DataType::Int32),
            hour_impl,
            tz,
        ),
        udf(
            "minute",
            Signature::exact(vec![ts.clone()], imm),
            |_| Ok(DataType::Int32),
            minute_impl,
            tz,
        ),
        udf(
            "second",
            Signature::exact(vec![ts.clone()], imm),
            |_| Ok(DataType::Int32),
            second_impl,
            tz,
        ),
        udf(
            "dayofweek",
            date_sig(&ts),
            |_| Ok(DataType::Int32),
            dayofweek_impl,
            tz,
        ),
        udf(
            "weekday",
            date_sig(&ts),
            |_| Ok(DataType::Int32),
            weekday_impl,
            tz,
        ),
        udf(
            "dayofmonth",
            date_sig(&ts),
            |_| Ok(DataType::Int32),
            dayofmonth_impl,
            tz,
        ),
        udf(
            "day",
            date_sig(&ts),
            |_| Ok(DataType::Int32),
            dayofmonth_impl,
            tz,
        ),
        udf(
            "dayofyear",
            date_sig(&ts),
            |_| Ok(DataType::Int32),
            dayofyear_impl,
            tz,
        ),
        udf(
            "weekofyear",
            date_sig(&ts),
            |_| Ok(DataType::Int32),
            weekofyear_impl,
            tz,
        ),
        udf(
            "month",
            date_sig(&ts),
            |_| Ok(DataType::Int32),
            month_impl,
            tz,
        ),
        udf(
            "year",
            date_sig(&ts),
            |_| Ok(DataType::Int32),
            year_impl,
            tz,
        ),
        udf(
            "quarter",
            date_sig(&ts),
            |_| Ok(DataType::Int32),
            quarter_impl,
            tz,
        ),
        udf_coerced(
            "split",
            coerce_split,
            |_| {
                Ok(DataType::List(Arc::new(
                    datafusion::arrow::datatypes::Field::new("item", DataType::Utf8, true),
                )))
            },
            split_impl,
            tz,
        ),
        udf(
            "months_between",
            Signature::one_of(
                vec![
                    datafusion::logical_expr::TypeSignature::Exact(vec![ts.clone(), ts.clone()]),
                    datafusion::logical_expr::TypeSignature::Exact(vec![
                        ts.clone(),
                        ts.clone(),
                        DataType::Boolean,
                    ]),
                ],
                imm,
            ),
            |_| Ok(DataType::Float64),
            months_between_impl,
            tz,
        ),
        udf(
            "unix_timestamp",
            Signature::one_of(
                vec![
                    datafusion::logical_expr::TypeSignature::Exact(vec![ts.clone()]),
                    datafusion::logical_expr::TypeSignature::Exact(vec![
                        DataType::Utf8,
                        DataType::Utf8,
                    ]),
                ],
                imm,
            ),
            |_| Ok(DataType::Int64),
            unix_timestamp_impl,
            tz,
        )
        .with_aliases(["to_unix_timestamp"]),
        udf(
            "from_unixtime",
            Signature::one_of(
                vec![
                    datafusion::logical_expr::TypeSignature::Exact(vec![DataType::Int64]),
                    datafusion::logical_expr::TypeSignature::Exact(vec![
                        DataType::Int64,
                        DataType::Utf8,
                    ]),
                ],
                imm,
            ),
            |_| Ok(DataType::Utf8),
            from_unixtime_impl,
            tz,
        ),
        udf(
            "to_timestamp",
            to_timestamp_sig(&ts),
            ret_session_ts,
            to_timestamp_impl,
            tz,
        ),
        udf(
            "date_add",
            date_int_sig(&ts),
            |_| Ok(DataType::Date32),
            date_add_impl,
            tz,
        ),
        udf(
            "date_sub",
            date_int_sig(&ts),
            |_| Ok(DataType::Date32),
            date_sub_impl,
            tz,
        ),
        udf(
            "date_format",
            Signature::exact(vec![ts.clone(), DataType::Utf8], imm),
            |_| Ok(DataType::Utf8),
            date_format_impl,
            tz,
        ),
        udf(
            "regexp_extract",
            Signature::one_of(
                vec![
                    datafusion::logical_expr::TypeSignature::Exact(vec![
                        DataType::Utf8,
                        DataType::Utf8,
                        DataType::Int32,
                    ]),
                    datafusion::logical_expr::TypeSignature::Exact(vec![
                        DataType::Utf8,
                        DataType::Utf8,
                        DataType::Int64,
                    ]),
                    datafusion::logical_expr::TypeSignature::Exact(vec![
                        DataType::Utf8,
                        DataType::Utf8,
                    ]),
                ],
                imm,
            ),
            |_| Ok(DataType::Utf8),
            regexp_extract_impl,
            tz,
        ),
        udf(
            "to_date",
            Signature::one_of(
                vec![
                    datafusion::logical_expr::TypeSignature::Exact(vec![DataType::Date32]),
                    datafusion::logical_expr::TypeSignature::Exact(vec![ts.clone()]),
                    datafusion::logical_expr::TypeSignature::Exact(vec![DataType::Utf8]),
                    datafusion::logical_expr::TypeSignature::Exact(vec![
                        DataType::Utf8,
                        DataType::Utf8,
                    ]),
                ],
                imm,
            ),
            |_| Ok(DataType::Date32),
            to_date_impl,
            tz,
        ),
    ];
    v.extend(more::functions(tz));
    v.extend(numfmt::functions(tz));
    v.extend(make_ts::functions(tz));
    v.extend(time::functions(tz));
    for (name, per) in [
        ("timestamp_seconds", 1_000_000i128),
        ("timestamp_millis", 1_000),
        ("timestamp_micros", 1),
    ] {
        let imp: ImplFn = match per {
            1_000_000 => |a, tz| epoch_units(a, 1_000_000, tz),
            1_000 => |a, tz| epoch_units(a, 1_000, tz),
            _ => |a, tz| epoch_units(a, 1, tz),
        };
        v.push(udf_coerced(
            name,
            coerce_epoch,
            |_| {
                Ok(DataType::Timestamp(
                    TimeUnit::Microsecond,
                    Some(Arc::from(SESSION_TZ)),
                ))
            },
            imp,
            tz,
        ));
    }
    v.push(udf(
        "current_timezone",
        Signature::nullary(Volatility::Stable),
        |_| Ok(DataType::Utf8),
        |_, tz| {
            Ok(Arc::new(datafusion::arrow::array::StringArray::from(vec![
                tz.name(),
            ])))
        },
        tz,
    ));
    v.extend(rewrite::functions());
    v.extend(rewrite::more_functions());
    v.extend(forms::functions());
    v.extend(text::functions(tz));
    v.extend(try_ops::functions());
    v.extend(variant::functions());
    v.extend(vectors::functions(tz));
    v.extend(to_char::functions(tz));
    v.extend(charset::functions(tz));
    v.extend(xpath::functions(tz));
    v.push(named_struct::SparkNamedStruct::udf());
    v.push(date_part::SparkDatePart::udf());
    v.extend(json_path::functions(tz));
    v.extend(strict_math::functions(tz));
    v.push(type_of::TypeOf::udf());
    v.extend(collection::functions(tz));
    v.extend(arrays::functions(tz));
    v.extend(json::functions(tz));
    v.extend(sketches::functions());
    v.extend(more::error_functions(tz));
    v.push(udf_coerced(
        "timestampadd",
        timestampadd::coerce_add,
        timestampadd::add_type,
        timestampadd::add_impl,
        tz,
    ));
    v.push(udf_coerced(
        "timestampdiff",
        timestampadd::coerce_diff,
        |_| Ok(DataType::Int64),
        timestampadd::diff_impl,
        tz,
    ));
    v.push(udf(
        "to_timestamp_ntz",
        to_timestamp_sig(&ts),
        |_| Ok(DataType::Timestamp(TimeUnit::Microsecond, None)),
        to_timestamp_ntz_impl,
        tz,
    ));
    // Spark's `try_` forms return NULL where these already do (unparsable text), and
    // `to_timestamp_ltz` is `to_timestamp` under the default timestamp type.
    v.into_iter()
        .map(|f| match f.name() {
            "to_timestamp" => f.with_aliases(["to_timestamp_ltz", "try_to_timestamp"]),
            "to_date" => f.with_aliases(["try_to_date"]),
            _ => f,
        })
        .collect()
}

/// Spark's `to_timestamp_ntz(s[, fmt])`: the wall-clock time written in `s`, with no
/// zone (text is read as if in UTC and kept as is); a zoned timestamp gives its
/// wall-clock time in the session zone `tz`.
fn to_timestamp_ntz_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    use datafusion::arrow::array::TimestampMicrosecondArray;
    if matches!(a[0].data_type(), DataType::Timestamp(_, _)) {
        let m = micros_of(&a[0])?;
        let out: TimestampMicrosecondArray = m
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .map(|v| {
                v.and_then(chrono::DateTime::from_timestamp_micros)
                    .map(|t| {
                        t.with_timezone(tz)
                            .naive_local()
                            .and_utc()
                            .timestamp_micros()
                    })
            })
            .collect();
        return Ok(Arc::new(out));
    }
    let utc = to_timestamp_impl(a, &chrono_tz::UTC)?;
    let m = utc.as_primitive::<TimestampMicrosecondType>();
    Ok(Arc::new(m.clone().with_timezone_opt(None::<&str>)))
}

/// Spark's `CAST(x AS STRING)` for types whose text differs from Arrow's cast:
/// timestamps in the session zone (`yyyy-MM-dd HH:mm:ss[.f]`), doubles as Java
/// prints them (`1.0E7`), arrays `[a, b]`, structs `{a, b}`, binary `[0A 0B]`.
fn to_string_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    let fo = crate::format::FormatOptions { session_tz: *tz };
    let arr = &a[0];
    let out: datafusion::arrow::array::StringArray = (0..arr.len())
        .map(|i| crate::format::value_string(arr.as_ref(), i, &fo))
        .collect();
    Ok(Arc::new(out))
}

/// The return type of `to_timestamp`: Spark's `timestamp` in the session zone,
/// taken from the session's timestamp argument type when there is one.
fn ret_session_ts(args: &[DataType]) -> Result<DataType> {
    Ok(args
        .iter()
        .find(|t| matches!(t, DataType::Timestamp(_, Some(_))))
        .cloned()
        .unwrap_or(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some(Arc::from(SESSION_TZ)),
        )))
}

fn micros_of(a: &ArrayRef) -> Result<ArrayRef> {
    Ok(datafusion::arrow::compute::cast(
        a,
        &DataType::Timestamp(TimeUnit::Microsecond, None),
    )?)
}

/// `split(str, regex[, limit])`: Java's `String.split` with Spark's limit rule
/// (limit > 0: at most `limit` parts; otherwise all, keeping trailing empty strings).
fn split_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    use datafusion::arrow::array::{ListBuilder, StringBuilder as SB};
    let s = a[0].as_string::<i32>();
    let p = a[1].as_string::<i32>();
    let limit = a.get(2).map(|x| {
        x.as_primitive::<datafusion::arrow::datatypes::Int32Type>()
            .clone()
    });
    let mut b = ListBuilder::new(SB::new()).with_field(Arc::new(
        datafusion::arrow::datatypes::Field::new("item", DataType::Utf8, true),
    ));
    let mut cache: Option<(String, regex::Regex)> = None;
    for i in 0..s.len() {
        if s.is_null(i) || p.is_null(i) {
            b.append_null();
            continue;
        }
        let pat = p.value(i);
        if cache.as_ref().map(|c| c.0 != pat).unwrap_or(true) {
            let re = regex::Regex::new(pat).map_err(|e| datafusion::common::DataFusionError::Execution(format!("[INVALID_PARAMETER_VALUE.PATTERN] The value of parameter(s) `regex` in `split` is invalid: {e}")))?;
            cache = Some((pat.to_string(), re));
        }
        let Some((_, re)) = cache.as_ref() else {
            b.append_null();
            continue;
        };
        let lim = limit.as_ref().map(|l| l.value(i)).unwrap_or(-1);
        let parts: Vec<&str> = if lim > 0 {
            re.splitn(s.value(i), lim as usize).collect()
        } else {
            re.split(s.value(i)).collect()
        };
        for part in parts {
            b.values().append_value(part);
        }
        b.append(true);
    }
    Ok(Arc::new(b.finish()))
}

/// Spark's `months_between(t1, t2[, roundOff])`: whole months when both days are the
/// same or both are month ends, else months plus the day-time difference / 31 days;
/// rounded to 8 digits unless `roundOff` is false.
fn months_between_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    use datafusion::arrow::array::Float64Array;
    let (x, y) = (micros_of(&a[0])?, micros_of(&a[1])?);
    let (x, y) = (
        x.as_primitive::<TimestampMicrosecondType>(),
        y.as_primitive::<TimestampMicrosecondType>(),
    );
    let round = a.get(2).map(|r| r.as_boolean().clone());
    let local = |m: i64| {
        chrono::DateTime::from_timestamp_micros(m).map(|t| t.with_timezone(tz).naive_local())
    };
    let out: Float64Array = (0..x.len())
        .map(|i| {
            if x.is_null(i) || y.is_null(i) {
                return None;
            }
            let (t1, t2) = (local(x.value(i))?, local(y.value(i))?);
            let last = |d: chrono::NaiveDate| {
                d.checked_add_months(chrono::Months::new(1))
                    .map(|n| n.with_day(1).unwrap_or(n))
                    .and_then(|n| n.pred_opt())
                    .map(|l| l == d)
                    .unwrap_or(false)
            };
            let months =
                (t1.year() - t2.year()) as f64 * 12.0 + (t1.month() as f64 - t2.month() as f64);
            if t1.day() == t2.day() || (last(t1.date()) && last(t2.date())) {
                return Some(months);
            }
            let secs = |t: chrono::NaiveDateTime| {
                t.day() as f64 * 86400.0 + t.num_seconds_from_midnight() as f64
            };
            let v = months + (secs(t1) - secs(t2)) / (31.0 * 86400.0);
            let r = round
                .as_ref()
                .map(|r| r.is_null(i) || r.value(i))
                .unwrap_or(true);
            Some(if r { (v * 1e8).round() / 1e8 } else { v })
        })
        .collect();
    Ok(Arc::new(out))
}

fn unix_timestamp_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    if a.len() == 1 {
        let m = micros_of(&a[0])?;
        let out: Int64Array = m
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .map(|v| v.map(|v| v.div_euclid(1_000_000)))
            .collect();
        return Ok(Arc::new(out));
    }
    let s = a[0].as_string::<i32>();
    let f = a[1].as_string::<i32>();
    let out: Int64Array = (0..s.len())
        .map(|i| {
            if s.is_null(i) || f.is_null(i) {
                return None;
            }
            let cf = ember_datasource::values::java_pattern_to_chrono(f.value(i));
            ember_datasource::values::parse_timestamp_with_pattern(s.value(i), &cf, tz)
                .map(|m| m.div_euclid(1_000_000))
        })
        .collect();
    Ok(Arc::new(out))
}

fn from_unixtime_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    let secs = a[0].as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    let fmts = a.get(1).map(|f| f.as_string::<i32>().clone());
    let mut b = StringBuilder::new();
    for i in 0..secs.len() {
        if secs.is_null(i) || fmts.as_ref().is_some_and(|f| f.is_null(i)) {
            b.append_null();
            continue;
        }
        let pattern = fmts
            .as_ref()
            .map(|f| f.value(i).to_string())
            .unwrap_or_else(|| "yyyy-MM-dd HH:mm:ss".into());
        let cf = ember_datasource::values::java_pattern_to_chrono(&pattern);
        match chrono::DateTime::from_timestamp(secs.value(i), 0) {
            Some(t) => b.append_value(t.with_timezone(tz).format(&cf).to_string()),
            None => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

fn to_timestamp_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    use datafusion::arrow::array::TimestampMicrosecondArray;
    if matches!(a[0].data_type(), DataType::Timestamp(_, _)) {
        let m = micros_of(&a[0])?;
        return Ok(Arc::new(
            m.as_primitive::<TimestampMicrosecondType>()
                .clone()
                .with_timezone(tz.name()),
        ));
    }
    let s = a[0].as_string::<i32>();
    let f = a.get(1).map(|x| x.as_string::<i32>().clone());
    let out: TimestampMicrosecondArray = (0..s.len())
        .map(|i| {
            if s.is_null(i) || f.as_ref().is_some_and(|f| f.is_null(i)) {
                return None;
            }
            match &f {
                Some(f) => {
                    let cf = ember_datasource::values::java_pattern_to_chrono(f.value(i));
                    ember_datasource::values::parse_timestamp_with_pattern(s.value(i), &cf, tz)
                }
                None => ember_datasource::values::parse_timestamp_lenient(s.value(i), tz)
                    .map(|p| p.micros),
            }
        })
        .collect();
    Ok(Arc::new(out.with_timezone(tz.name())))
}

fn shift_days(a: &[ArrayRef], tz: &Tz, sign: i64) -> Result<ArrayRef> {
    let d = local_dates(&a[0], tz)?;
    let n = datafusion::arrow::compute::cast(&a[1], &DataType::Int64)?;
    let n = n.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    let out: Date32Array = (0..d.len())
        .map(|i| {
            if d.is_null(i) || n.is_null(i) {
                None
            } else {
                i32::try_from(d.value(i) as i64 + sign * n.value(i)).ok()
            }
        })
        .collect();
    Ok(Arc::new(out))
}

/// `date_add(start, days)`: the date `days` after `start` (dates, timestamps and
/// date strings accepted, as Spark casts them to date).
fn date_add_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    shift_days(a, tz, 1)
}

/// `date_sub(start, days)`.
fn date_sub_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    shift_days(a, tz, -1)
}

fn map_ts(a: &ArrayRef, tz: &Tz, f: impl Fn(chrono::DateTime<Tz>) -> i32) -> Result<ArrayRef> {
    let micros =
        datafusion::arrow::compute::cast(a, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    let m = micros.as_primitive::<TimestampMicrosecondType>();
    let out: Int32Array = m
        .iter()
        .map(|v| {
            v.and_then(|v| chrono::DateTime::from_timestamp_micros(v))
                .map(|t| f(t.with_timezone(tz)))
        })
        .collect();
    Ok(Arc::new(out))
}

fn hour_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    map_ts(&a[0], tz, |t| t.hour() as i32)
}
fn minute_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    map_ts(&a[0], tz, |t| t.minute() as i32)
}
fn second_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    map_ts(&a[0], tz, |t| t.second() as i32)
}

fn map_date(a: &ArrayRef, tz: &Tz, f: impl Fn(NaiveDate) -> i32) -> Result<ArrayRef> {
    let d = local_dates(a, tz)?;
    let mut b = Int32Builder::with_capacity(d.len());
    for v in d.iter() {
        b.append_option(
            v.and_then(|v| NaiveDate::from_num_days_from_ce_opt(v + 719_163))
                .map(&f),
        );
    }
    Ok(Arc::new(b.finish()))
}

fn dayofweek_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    map_date(&a[0], tz, |d| d.weekday().num_days_from_sunday() as i32 + 1)
}
fn weekday_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    map_date(&a[0], tz, |d| d.weekday().num_days_from_monday() as i32)
}
fn dayofmonth_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    map_date(&a[0], tz, |d| d.day() as i32)
}
fn dayofyear_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    map_date(&a[0], tz, |d| d.ordinal() as i32)
}
fn weekofyear_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    map_date(&a[0], tz, |d| d.iso_week().week() as i32)
}
fn month_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    map_date(&a[0], tz, |d| d.month() as i32)
}
fn year_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    map_date(&a[0], tz, |d| d.year())
}
fn quarter_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    map_date(&a[0], tz, |d| (d.month0() / 3 + 1) as i32)
}

fn date_format_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    let micros =
        datafusion::arrow::compute::cast(&a[0], &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    let m = micros.as_primitive::<TimestampMicrosecondType>();
    let fmts = a[1].as_string::<i32>();
    let mut b = StringBuilder::new();
    let mut cache: Option<(String, Vec<FormatPiece>)> = None;
    for i in 0..m.len() {
        if m.is_null(i) || fmts.is_null(i) {
            b.append_null();
            continue;
        }
        let f = fmts.value(i);
        if cache.as_ref().map(|c| c.0 != f).unwrap_or(true) {
            cache = Some((f.to_string(), format_pieces(f)));
        }
        let pieces = cache.as_ref().map(|c| c.1.as_slice()).unwrap_or_default();
        match chrono::DateTime::from_timestamp_micros(m.value(i)) {
            Some(t) => {
                let t = t.with_timezone(tz);
                let mut out = String::new();
                for p in pieces {
                    p.write(&t, &mut out);
                }
                b.append_value(out)
            }
            None => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

/// A piece of a Java datetime pattern as `date_format` prints it: chrono's text for
/// what chrono spells the same, ember's own for what it lacks — quarters (`Q`..`QQQQ`),
/// day of year with Java's padding (`D`, `DDD`), and ISO offsets that print `Z` for
/// UTC (`X`, `XX`, `XXX`).
enum FormatPiece {
    Chrono(String),
    Quarter(usize),
    DayOfYear(usize),
    OffsetX(usize),
}

impl FormatPiece {
    fn write(&self, t: &chrono::DateTime<Tz>, out: &mut String) {
        use chrono::Offset;
        match self {
            FormatPiece::Chrono(f) => out.push_str(&t.format(f).to_string()),
            FormatPiece::Quarter(n) => {
                let q = (t.month() - 1) / 3 + 1;
                out.push_str(&match n {
                    1 => q.to_string(),
                    2 => format!("{q:02}"),
                    3 => format!("Q{q}"),
                    _ => format!(
                        "{q}{} quarter",
                        ["st", "nd", "rd", "th"][(q as usize - 1).min(3)]
                    ),
                })
            }
            FormatPiece::DayOfYear(n) => out.push_str(&format!("{:0w$}", t.ordinal(), w = *n)),
            FormatPiece::OffsetX(n) => {
                let secs = t.offset().fix().local_minus_utc();
                if secs == 0 {
                    out.push('Z');
                    return;
                }
                let sign = if secs < 0 { '-' } else { '+' };
                let (h, mi) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
                out.push_str(&match n {
                    1 if mi == 0 => format!("{sign}{h:02}"),
                    1 | 2 => format!("{sign}{h:02}{mi:02}"),
                    _ => format!("{sign}{h:02}:{mi:02}"),
                })
            }
        }
    }
}

/// `pattern` split into [`FormatPiece`]s (quoted text stays with chrono's pieces).
fn format_pieces(pattern: &str) -> Vec<FormatPiece> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut pieces = Vec::new();
    let mut plain = String::new();
    let mut i = 0;
    let mut quoted = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            quoted = !quoted;
            plain.push(c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while !quoted && i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let special = match c {
            _ if quoted => None,
            'Q' | 'q' => Some(FormatPiece::Quarter(n)),
            'D' => Some(FormatPiece::DayOfYear(n)),
            'X' => Some(FormatPiece::OffsetX(n)),
            _ => None,
        };
        match special {
            Some(p) => {
                if !plain.is_empty() {
                    pieces.push(FormatPiece::Chrono(
                        ember_datasource::values::java_pattern_to_chrono(&plain),
                    ));
                    plain.clear();
                }
                pieces.push(p);
            }
            None => plain.extend(std::iter::repeat_n(c, n)),
        }
        i += n;
    }
    if !plain.is_empty() {
        pieces.push(FormatPiece::Chrono(
            ember_datasource::values::java_pattern_to_chrono(&plain),
        ));
    }
    pieces
}

/// The compiled `pat` (kept in `cache` while rows repeat it), checked to have group
/// `g`. Errors name `func`: `INVALID_PARAMETER_VALUE.PATTERN` for a bad pattern,
/// `INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX` for a group it lacks (as Spark).
pub(super) fn regex_for_group<'c>(
    cache: &'c mut Option<(String, regex::Regex)>,
    pat: &str,
    g: i32,
    func: &str,
) -> Result<&'c regex::Regex> {
    if cache.as_ref().map(|c| c.0 != pat).unwrap_or(true) {
        match regex::Regex::new(pat) {
            Ok(r) => *cache = Some((pat.to_string(), r)),
            Err(e) => return exec_err!("[INVALID_PARAMETER_VALUE.PATTERN] The value of parameter(s) `regexp` in `{func}` is invalid: {e}"),
        }
    }
    let Some((_, re)) = cache.as_ref() else {
        return exec_err!("regex cache is empty");
    };
    if g < 0 || g as usize >= re.captures_len() {
        return exec_err!(
            "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] The value of parameter(s) `idx` in `{func}` is invalid: Expects group index between 0 and {}, but got {g}.",
            re.captures_len() - 1
        );
    }
    Ok(re)
}

fn regexp_extract_impl(a: &[ArrayRef], _: &Tz) -> Result<ArrayRef> {
    let s = a[0].as_string::<i32>();
    let p = a[1].as_string::<i32>();
    let idx_arr = a
        .get(2)
        .map(|x| datafusion::arrow::compute::cast(x, &DataType::Int32))
        .transpose()?;
    let idx: Option<&Int32Array> = idx_arr.as_ref().map(|x| x.as_primitive());
    let mut b = StringBuilder::new();
    let mut cache: Option<(String, regex::Regex)> = None;
    for i in 0..s.len() {
        if s.is_null(i) || p.is_null(i) || idx.is_some_and(|x| x.is_null(i)) {
            b.append_null();
            continue;
        }
        let g = idx.map(|x| x.value(i)).unwrap_or(1);
        let re = regex_for_group(&mut cache, p.value(i), g, "regexp_extract")?;
        match re.captures(s.value(i)) {
            Some(c) => b.append_value(c.get(g as usize).map(|m| m.as_str()).unwrap_or("")),
            None => b.append_value(""),
        }
    }
    Ok(Arc::new(b.finish()))
}

fn to_date_impl(a: &[ArrayRef], tz: &Tz) -> Result<ArrayRef> {
    if a.len() == 1 {
        return Ok(Arc::new(local_dates(&a[0], tz)?));
    }
    let s = a[0].as_string::<i32>();
    let f = a[1].as_string::<i32>();
    let out: Date32Array = (0..s.len())
        .map(|i| {
            if s.is_null(i) || f.is_null(i) {
                None
            } else {
                let cf = ember_datasource::values::java_pattern_to_chrono(f.value(i));
                ember_datasource::values::parse_date_with_pattern(s.value(i), &cf)
            }
        })
        .collect();
    Ok(Arc::new(out))
}

pub use arithmetic::SparkDivide;
pub use collection::ElementAt;
use collection::{ansi_index_impl, elem_type, get_impl, size_impl};
