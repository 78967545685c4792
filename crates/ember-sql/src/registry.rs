//! The function registry: every Spark built-in ember serves, registered on a
//! DataFusion [`SessionContext`] (datafusion-spark's where its result matches
//! Spark's, ember's own from [`crate::functions`] otherwise), with Spark's aliases.
//! Both front doors (SQL text and Spark Connect) resolve functions here.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::execution::FunctionRegistry;
use datafusion::prelude::SessionContext;

use crate::error::Result;

/// Registers Spark's functions on `ctx` (after DataFusion's and datafusion-spark's
/// defaults, which some of them replace).
///
/// `conf`: the session's `spark.*` settings (`spark.sql.mapKeyDedupPolicy` is read
/// here); `tz_name`: the session time zone; `parallelism`: the partitions of a
/// `range()` that names none.
///
/// Errors: a DataFusion error if a base function ember aliases is missing.
pub fn register(
    ctx: &SessionContext,
    conf: &BTreeMap<String, String>,
    tz_name: &str,
    parallelism: usize,
) -> Result<()> {
    for f in crate::functions::spark_functions(tz_name) {
        ctx.register_udf(f);
    }
    crate::functions::register_aggregate_aliases(ctx)?;
    for f in crate::functions::agg_forms::functions() {
        ctx.register_udaf(f);
    }
    for f in crate::functions::counter_diff::functions() {
        ctx.register_udwf(f);
    }
    let dedup = conf
        .get(crate::functions::maps::MAP_KEY_DEDUP_POLICY)
        .cloned()
        .unwrap_or_else(|| "EXCEPTION".into());
    for f in crate::functions::maps::functions(&dedup) {
        ctx.register_udf(f);
    }
    ctx.register_udtf(
        "range",
        Arc::new(crate::functions::table::SparkRange::new(parallelism)),
    );
    // After DataFusion's `random`/`rand`: Spark's per-partition streams replace them.
    for f in crate::partition_local::PartitionLocalFn::udfs() {
        ctx.register_udf(f);
    }
    ctx.register_udf(crate::functions::lambda::LambdaBody::udf());
    for f in crate::functions::generator::SparkGenerator::udfs() {
        ctx.register_udf(f);
    }
    // Spark's `array_sort` takes a comparator: ember's higher-order function
    // replaces DataFusion's scalar one (scalar functions shadow higher-order ones).
    ctx.deregister_udf("array_sort");
    ctx.register_udf(crate::functions::lambda::sort_array_udf());
    for f in crate::functions::lambda::higher_order_functions() {
        ctx.register_higher_order_function(Arc::new(f));
    }
    {
        use datafusion::execution::FunctionRegistry;
        // Spark's `exists` is DataFusion's `array_any_match` (same three-valued result).
        if let Ok(any) = ctx.higher_order_function("array_any_match") {
            ctx.register_higher_order_function(Arc::new(
                any.as_ref().clone().with_aliases(["exists"]),
            ));
        }
    }
    crate::functions::window::register(ctx)?;
    crate::functions::coerce::register(ctx);
    {
        use datafusion::execution::FunctionRegistry;
        // Spark's other names for functions that behave the same.
        for (base, alias) in [
            ("starts_with", "startswith"),
            ("ends_with", "endswith"),
            ("lower", "lcase"),
            ("upper", "ucase"),
            ("regexp_like", "rlike"),
            ("regexp_like", "regexp"),
            ("date_add", "dateadd"),
        ] {
            if let Ok(f) = ctx.udf(base) {
                // Registering re-inserts every alias the function had; keep the
                // functions ember registered under those names since.
                let kept: Vec<_> = f.aliases().iter().filter_map(|a| ctx.udf(a).ok()).collect();
                ctx.register_udf(f.as_ref().clone().with_aliases([alias]));
                for k in kept {
                    if k.name() != f.name() {
                        ctx.register_udf(k.as_ref().clone());
                    }
                }
            }
        }
        for (base, aliases) in [
            ("bool_or", &["any", "some"][..]),
            ("bool_and", &["every"][..]),
        ] {
            if let Ok(f) = ctx.udaf(base) {
                let kept: Vec<_> = f
                    .aliases()
                    .iter()
                    .filter_map(|a| ctx.udaf(a).ok())
                    .collect();
                ctx.register_udaf(f.as_ref().clone().with_aliases(aliases.iter().copied()));
                for k in kept {
                    if k.name() != f.name() {
                        ctx.register_udaf(k.as_ref().clone());
                    }
                }
            }
        }
    }
    if let Ok(prev) = ctx.udf("element_at") {
        ctx.register_udf(crate::functions::ElementAt::try_udf(prev.clone()));
        ctx.register_udf(crate::functions::ElementAt::udf(prev));
    }
    use crate::functions::round::{Mode, SparkRound};
    ctx.register_udf(SparkRound::udf(Mode::HalfUp));
    ctx.register_udf(SparkRound::udf(Mode::HalfEven));
    ctx.register_udf(crate::functions::round::CeilFloor::udf(true));
    ctx.register_udf(crate::functions::round::CeilFloor::udf(false));
    ctx.register_udf(crate::functions::sequence::udf());
    ctx.register_udf(crate::functions::window::Nullability::udf(true));
    ctx.register_udf(crate::functions::window::Nullability::udf(false));
    ctx.register_udf(crate::functions::SparkDivide::udf());
    ctx.register_udf(crate::functions::timewindow::window_udf());
    ctx.register_udf(crate::functions::timewindow::time_windows_udf());
    for f in crate::functions::intervals::udfs() {
        ctx.register_udf(f);
    }
    if let Ok(abs) = ctx.udf("abs") {
        ctx.register_udf(crate::functions::intervals::IntervalAbs::udf(abs));
    }
    // Byte semantics for string functions given binary values (after every string
    // function above is registered: they wrap them).
    for f in crate::functions::binary_strings::wrap(|n| ctx.udf(n).ok()) {
        ctx.register_udf(f);
    }
    Ok(())
}
