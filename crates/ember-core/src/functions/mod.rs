//! Spark's functions. The library itself (every Spark built-in ember defines, with
//! Spark's coercion, result types and errors) lives in [`ember_sql::functions`] and
//! is re-exported here; this module adds the Rust DataFrame API over it ([`api`]:
//! `sum`, `avg`, `row_number`, ... returning [`crate::Column`]s).

pub use ember_sql::functions::*;

pub mod api;
pub use api::*;
