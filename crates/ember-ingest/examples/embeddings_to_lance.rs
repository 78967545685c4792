//! Copies an embeddings Parquet file into a Lance table (to compare the two formats as
//! the lookup source of an ingestion job).
//!
//! Usage: `embeddings_to_lance EMBEDDINGS.parquet DB_DIR TABLE` — the dataset is then
//! `DB_DIR/TABLE.lance`; prints rows and seconds.

use std::sync::Arc;

use arrow::array::{RecordBatchIterator, RecordBatchReader};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: embeddings_to_lance EMBEDDINGS.parquet DB_DIR TABLE");
        std::process::exit(2);
    }
    let t = std::time::Instant::now();
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&args[1])?)?
        .with_batch_size(65_536)
        .build()?;
    let schema = reader.schema();
    let batches: Vec<_> = reader.collect();
    let rows: usize = batches
        .iter()
        .map(|b| b.as_ref().map_or(0, |b| b.num_rows()))
        .sum();
    let iter = RecordBatchIterator::new(batches, Arc::clone(&schema));
    let db = lancedb::connect(&args[2]).execute().await?;
    let boxed: Box<dyn arrow::array::RecordBatchReader + Send> = Box::new(iter);
    db.create_table(&args[3], boxed).execute().await?;
    println!("rows={rows} seconds={:.2}", t.elapsed().as_secs_f64());
    Ok(())
}
