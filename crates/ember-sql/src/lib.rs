//! ember-sql is the one place where Spark's SQL semantics live, under every front
//! door (the `ember sql` text door and the Spark Connect door through `ember-core`,
//! and Rust programs):
//!
//! - [`registry`]: the function registry — every Spark built-in ember serves, with
//!   Spark's aliases, registered on a DataFusion session.
//! - [`functions`]: the Spark functions DataFusion and datafusion-spark lack or get
//!   wrong (argument coercion, result types, ANSI and non-ANSI behaviour, Spark's
//!   error classes).
//! - [`sql`]: Spark's SQL dialect on sqlparser, Spark's result column names, the
//!   analyzer rules that give Spark's semantics (name resolution, coercion), and the
//!   translation of engine errors to Spark's error classes.
//! - [`partition_local`]: `spark_partition_id()`, `monotonically_increasing_id()` and
//!   seeded random functions, computed per partition as Spark does.
//! - [`types`]: Spark type names, DDL schemas, `printSchema()`; [`format`]: `show()`
//!   text and Spark's string forms of values; [`config`]: `spark.*` settings;
//!   [`error`]: errors with Spark's error classes.
//!
//! Dependencies point one way: `ember-datasource` ← `ember-sql` ← `ember-core` ←
//! front ends.

pub mod config;
pub mod error;
pub mod format;
pub mod functions;
pub mod interval;
pub mod partition_local;
pub mod plan;
pub mod registry;
pub mod sql;
pub mod types;

pub use error::{EmberError, ErrorKind, Result};
