//! Generators in a select list (`select("*", explode("a"))`), as Spark's `Generate`:
//! the other items are evaluated on the input row, the generator's rows are joined
//! to it (none for an empty or NULL input unless `_outer`), and the generator's output
//! columns take its place in the list (`col`; `key`, `value`; `pos`; the struct fields
//! for `inline`; `col0`... for `stack`; or the names given by `alias("a", "b")`).
//!
//! The generator itself is ember-core's `ember_<name>` function returning the rows
//! as `List<Struct>`; this module unnests it with DataFusion's `Unnest`.

use datafusion::common::UnnestOptions;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{col, Expr, ExprSchemable};
use ember_core::{DataFrame, EmberError};
use ember_sql::functions::generator::SparkGenerator;
use spark_connect_proto::expression::ExprType;
use spark_connect_proto::Expression;

use crate::error::{ConnectError, Result};
use crate::expr::Scope;

const GEN_COL: &str = "__ember_generated";

/// A generator call found in a select list: its function, arguments and the output
/// names given by an alias (empty when none).
pub struct GeneratorCall<'e> {
    generator: SparkGenerator,
    args: &'e [Expression],
    aliases: Vec<String>,
}

/// Whether `lname` (lower case) is one of Spark's generators.
pub fn generator_call_name(lname: &str) -> bool {
    SparkGenerator::for_spark_name(lname).is_some()
}

/// The generator `e` calls at its top (under at most one alias), if any.
pub fn generator_call(e: &Expression) -> Option<GeneratorCall<'_>> {
    let (inner, aliases) = match &e.expr_type {
        Some(ExprType::Alias(a)) => (a.expr.as_deref()?, a.name.clone()),
        _ => (e, Vec::new()),
    };
    match &inner.expr_type {
        Some(ExprType::UnresolvedFunction(f)) => {
            let generator = SparkGenerator::for_spark_name(&f.function_name)?;
            Some(GeneratorCall {
                generator,
                args: &f.arguments,
                aliases,
            })
        }
        _ => None,
    }
}

/// `select(items)` where one item is a generator. Errors: Spark's
/// `UNSUPPORTED_GENERATOR.MULTI_GENERATOR` for two generators in one list, and
/// `UNSUPPORTED_GENERATOR.NESTED_IN_EXPRESSIONS`-like analysis errors from the
/// generator's argument types.
pub fn project_with_generator(
    sc: &Scope<'_>,
    input: &DataFrame,
    items: &[Expression],
) -> Result<DataFrame> {
    let gens: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, e)| generator_call(e).is_some())
        .map(|(i, _)| i)
        .collect();
    if gens.len() > 1 {
        return Err(EmberError::analysis(
            "UNSUPPORTED_GENERATOR.MULTI_GENERATOR",
            "The generator is not supported: only one generator allowed per SELECT clause but found 2.",
        )
        .into());
    }
    let at = gens[0];
    let call = generator_call(&items[at]).ok_or_else(|| ConnectError::invalid("generator"))?;
    let mut args = Vec::with_capacity(call.args.len());
    for a in call.args {
        args.push(sc.expr(a)?);
    }
    use datafusion::execution::FunctionRegistry;
    let udf = input
        .session()
        .context()
        .udf(&format!("ember_{}", call_name(&call)))
        .map_err(EmberError::from)?;
    let generated = Expr::ScalarFunction(ScalarFunction::new_udf(udf, args));

    // 1. The input row's items (under internal names) and the generated rows.
    let mut pre = Vec::new();
    let mut names: Vec<Option<String>> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if i == at {
            pre.push(generated.clone().alias(GEN_COL));
            names.push(None);
            continue;
        }
        for e in sc.select_item(it)? {
            let name = crate::relation::output_name(&e);
            pre.push(strip(e).alias(format!("__ember_item{}", names.len())));
            names.push(Some(name));
        }
    }
    let pre = input.select_exprs(pre)?;
    let fields = match generated_fields(&pre)? {
        Some(f) => f,
        None => return Err(ConnectError::invalid("generator without output fields")),
    };
    // 2. One row per generated row.
    // The list, then the struct of each row into its fields (`GEN_COL.<field>`):
    // plain columns, so no optimizer rule moves a field access below the Unnest
    // (DataFusion 54's `push_down_leaf_projections` does that with `get_field`).
    let unnested = pre
        .inner()
        .clone()
        .unnest_columns_with_options(&[GEN_COL], UnnestOptions::new().with_preserve_nulls(false))
        .and_then(|df| df.unnest_columns_with_options(&[GEN_COL], UnnestOptions::new()))
        .map_err(EmberError::from)?;
    let unnested = DataFrame::from_datafusion(input.session(), unnested);
    // 3. The select list's columns in order, the generator's in its place.
    if !call.aliases.is_empty() && call.aliases.len() != fields.len() {
        return Err(EmberError::analysis(
            "UDTF_ALIAS_NUMBER_MISMATCH",
            format!(
                "The number of aliases supplied in the AS clause does not match the number of columns output by the UDTF. Expected {} aliases, but got {}.",
                fields.len(),
                call.aliases.join(", ")
            ),
        )
        .into());
    }
    let mut post = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match name {
            Some(n) => post.push(col(format!("__ember_item{i}")).alias(n)),
            None => {
                for (k, f) in fields.iter().enumerate() {
                    let out = call.aliases.get(k).cloned().unwrap_or_else(|| f.clone());
                    let field = Expr::Column(datafusion::common::Column::from_name(format!(
                        "{GEN_COL}.{f}"
                    )));
                    post.push(field.alias(out));
                }
            }
        }
    }
    Ok(unnested.select_exprs(crate::relation::distinct_names(post))?)
}

fn call_name(call: &GeneratorCall<'_>) -> String {
    use datafusion::logical_expr::ScalarUDFImpl;
    call.generator
        .name()
        .trim_start_matches("ember_")
        .to_string()
}

fn strip(e: Expr) -> Expr {
    match e {
        Expr::Alias(a) => *a.expr,
        e => e,
    }
}

/// The output column names of the generated rows (the struct fields of `GEN_COL`).
fn generated_fields(pre: &DataFrame) -> Result<Option<Vec<String>>> {
    let schema = pre.inner().schema();
    let t = col(GEN_COL).get_type(schema).map_err(EmberError::from)?;
    Ok(match t {
        arrow::datatypes::DataType::List(f) => match f.data_type() {
            arrow::datatypes::DataType::Struct(fs) => {
                Some(fs.iter().map(|f| f.name().clone()).collect())
            }
            _ => None,
        },
        _ => None,
    })
}
