//! Spark SQL front end: statement splitting (Spark CLI's rules), ember's handling of
//! Spark-only statements (`CREATE TEMPORARY VIEW ... USING ... OPTIONS`, `CREATE
//! TABLE ... USING parquet ... AS SELECT`, `INSERT OVERWRITE DIRECTORY`, `SET`,
//! `SHOW TABLES`, `DESCRIBE`), and queries planned by DataFusion's SQL planner with
//! Spark's dialect settings and the [`rules`](ember_sql::sql::rules) that give Spark's semantics.

pub mod statements;

pub use ember_sql::sql::*;

use crate::dataframe::DataFrame;
use crate::error::Result;
use crate::session::SparkSession;

/// Runs one statement (see [`statements`]).
pub async fn execute(session: &SparkSession, text: &str) -> Result<DataFrame> {
    statements::execute(session, text).await
}
