//! ember-ingest will own ember's ingestion subsystem (the iNaturalist export into a
//! vector store, resumable, with a dead-letter table; issue 5). So far it holds the
//! data side of that work:
//!
//! - [`generator`]: synthetic `photos.csv.gz` in the export's exact format with
//!   repeated photos and malformed rows, and a matching embeddings Parquet table.
//!
//! Run it with `cargo run --release -p ember-ingest --example gen_inaturalist -- DIR ROWS`.

pub mod generator;
