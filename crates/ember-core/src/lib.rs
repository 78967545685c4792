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
//! - [`sql`]: statement handling on a session.
//! - [`functions`]: the Rust `functions` API over Spark's function library.
//! - Re-exported from `ember-sql`, where Spark's semantics live (function library and
//!   registry, dialect, naming, analyzer rules): [`partition_local`], [`types`],
//!   [`format`], [`config`], [`error`].
//!
//! ```no_run
//! // The README's Rust example (kept compiling by `cargo test --doc`).
//! use ember_core::functions::{avg, count, row_number};
//! use ember_core::{col, lit, SparkSession, Window};
//!
//! # async fn demo() -> ember_core::Result<()> {
//! let spark = SparkSession::builder().master("local[2]").app_name("demo")
//!     .config("spark.sql.session.timeZone", "UTC").get_or_create()?;
//! let flights = spark.read().option("header", "true").option("inferSchema", "true")
//!     .option("nullValue", "NA").csv(&["examples/flights/data/flights.csv.gz"]).await?;
//! flights.print_schema();
//! let by_origin = flights.filter(col("dep_delay").gt(lit(0)))?
//!     .group_by(vec![col("origin"), col("carrier")])
//!     .agg(vec![count(lit(1)).alias("late"), avg("dep_delay")])?;
//! let w = Window::partition_by(vec![col("origin")]).order_by(vec![col("late").desc()]);
//! by_origin.with_column("rank", row_number().over(&w)?)?.filter(col("rank").le(lit(3)))?
//!     .show(20, 20).await?;
//! flights.create_or_replace_temp_view("flights")?;
//! spark.sql("SELECT origin, COUNT(*) FROM flights GROUP BY origin").await?.show(20, 20).await?;
//! flights.write().mode_str("overwrite")?.partition_by(&["month"]).parquet("target/flights").await?;
//! # Ok(()) }
//! ```
//!
//! ```no_run
//! // The README's object-storage example.
//! async fn to_lake() -> ember_core::Result<()> {
//!     let spark = ember_core::SparkSession::builder()
//!         .config("spark.hadoop.fs.s3a.endpoint", "http://127.0.0.1:9000")
//!         .config("spark.hadoop.fs.s3a.path.style.access", "true")
//!         .config("spark.hadoop.fs.s3a.access.key", "AKID")
//!         .config("spark.hadoop.fs.s3a.secret.key", "SECRET")
//!         .get_or_create()?;
//!     let flights = spark.read().option("header", "true")
//!         .csv(&["s3a://lake/landing/flights/*.csv.gz"]).await?;
//!     flights.write().mode_str("overwrite")?.partition_by(&["month"])
//!         .parquet("s3a://lake/trusted/flights").await?;
//!     Ok(())
//! }
//! ```

pub mod coalesce;
pub mod column;
pub mod dataframe;
pub mod functions;
pub mod grouped;
pub mod nullable;
pub mod ordered;
pub mod planner;
pub mod reader;
pub mod round_robin;
pub mod row;
pub mod sample;
pub mod session;
pub mod sql;
pub mod writer;

// Spark's semantics live in `ember-sql`; these paths stay `ember_core::..` for callers.
pub use ember_sql::{config, error, format, partition_local, registry, types};

pub use column::{col, lit, Column, SortOrder, Window, WindowSpec};
pub use dataframe::DataFrame;
pub use error::{EmberError, ErrorKind, Result};
pub use row::Row;
pub use session::{SparkSession, SparkSessionBuilder};
pub use writer::SaveMode;
