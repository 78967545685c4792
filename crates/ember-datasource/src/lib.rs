//! ember-datasource owns the *sources* layer of ember: reading lake files the way
//! Apache Spark's `DataFrameReader` does, and handing them to DataFusion as Arrow
//! record batches.
//!
//! It is called by `ember-core` (the `DataFrameReader` and `CREATE TEMPORARY VIEW ...
//! USING csv|json` statements) and knows nothing of sessions, SQL text or front ends.
//!
//! Crate organisation:
//! - [`listing`]: expands paths (files, directories, globs, lists) into input files and
//!   discovers `key=value/` partition directories as columns, as Spark does.
//! - [`storage`]: object stores (`s3://`, `gs://`, `az://`, `http(s)://`) configured
//!   from Spark's `spark.hadoop.fs.s3a.*` keys; local paths stay on `std::fs`.
//! - [`compression`]: opens `.gz`, `.bz2`, `.zst` files transparently by extension.
//! - [`csv`]: a Spark-compatible CSV scanner (univocity's quoting rules, Spark's
//!   schema inference, PERMISSIVE / DROPMALFORMED / FAILFAST, corrupt-record column),
//!   exposed to DataFusion as a [`datafusion::catalog::TableProvider`].
//! - [`json`]: JSON-lines reading with Spark's schema inference (fields sorted by name,
//!   integers as `long`).
//! - [`text`]: lines (or whole files) as Spark's text source and `textFile`, split
//!   and partitioned by Spark's file-partition or Hadoop's input-split rule.
//! - [`report`]: per-file counts of malformed rows with file, line and reason — what
//!   Spark cannot tell its users.
//! - [`values`]: Spark's text-to-value rules (Java number syntax, lenient dates and
//!   timestamps) shared by the readers.

pub mod compression;
pub mod csv;
pub mod error;
pub mod json;
pub mod listing;
pub mod report;
pub mod storage;
pub mod text;
pub mod values;

pub use error::{DataSourceError, Result};
