//! ember-core owns ember's Spark API: [`SparkSession`], [`DataFrame`], the
//! [`DataFrameReader`](reader::DataFrameReader) / [`DataFrameWriter`](writer::DataFrameWriter),
//! Spark SQL statements and Spark's functions, types and text formats, on top of
//! DataFusion. Front ends (the `ember` CLI, the Spark Connect server, Rust programs)
//! call it; it calls `ember-datasource` for Spark-compatible file reading.
//!
//! Crate organisation:
//! - [`session`]: `SparkSession` and its builder; configuration ([`config`]).
//! - [`dataframe`]: `DataFrame` transformations and actions; [`column`]: `Column`,
//!   `Window`; [`grouped`]: `groupBy`, `na`, `describe`; [`row`]: `Row`.
//! - [`reader`], [`writer`]: `spark.read` and `df.write` with Spark's options and layout.
//! - [`sql`]: statement handling, Spark-semantics analyzer rules, error translation.
//! - [`functions`]: Spark functions missing from DataFusion and datafusion-spark.
//! - [`types`]: Spark type names, DDL schemas, `printSchema()`.
//! - [`format`]: `show()` text and Spark's string forms of values.
//! - [`error`]: errors with Spark's error classes.
//!
//! ```no_run
//! # async fn demo() -> ember_core::Result<()> {
//! use ember_core::SparkSession;
//! let spark = SparkSession::builder().master("local[2]").app_name("demo").get_or_create()?;
//! let df = spark.read().option("header", "true").option("inferSchema", "true").csv(&["flights.csv.gz"]).await?;
//! df.create_or_replace_temp_view("flights")?;
//! spark.sql("SELECT carrier, COUNT(*) AS n FROM flights GROUP BY carrier").await?.show(20, 20).await?;
//! # Ok(()) }
//! ```

pub mod column;
pub mod config;
pub mod dataframe;
pub mod error;
pub mod format;
pub mod functions;
pub mod grouped;
pub mod reader;
pub mod row;
pub mod session;
pub mod sql;
pub mod types;
pub mod writer;

pub use column::{col, lit, Column, SortOrder, Window, WindowSpec};
pub use dataframe::DataFrame;
pub use row::Row;
pub use error::{EmberError, ErrorKind, Result};
pub use session::{SparkSession, SparkSessionBuilder};
pub use writer::SaveMode;
