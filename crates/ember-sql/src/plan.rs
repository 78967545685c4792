//! Helpers shared by ember's plan nodes (here and in `ember-core`).

use datafusion::common::{plan_err, Result};

/// The single input of one of ember's plan nodes (logical or physical), from the
/// inputs DataFusion hands back when it rebuilds the node.
///
/// Errors: a plan error naming `node` when there is none.
pub fn only_input<T>(inputs: Vec<T>, node: &str) -> Result<T> {
    match inputs.into_iter().next() {
        Some(input) => Ok(input),
        None => plan_err!("{node} takes one input"),
    }
}
