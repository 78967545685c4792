//! The photos nearest to a given one in an ingested Lance table (cosine distance on
//! the `embedding` column; exact search unless the job built an ANN index).
//!
//! Usage: `cargo run -p ember-ingest --example nearest_photos -- DB_DIR TABLE PHOTO_ID [K]`
//! e.g. after `ember ingest examples/inaturalist/job.toml`:
//! `cargo run -p ember-ingest --example nearest_photos -- examples/inaturalist/out/lancedb photos 10314159 5`
//! Prints `photo_id`, `license`, distance and the photo's URL in the open-data bucket.

use arrow::array::AsArray;
use arrow::datatypes::{Float32Type, Int32Type};
use arrow::util::display::array_value_to_string;
use ember_ingest::sink::lance::{nearest, read_table};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: nearest_photos DB_DIR TABLE PHOTO_ID [K]");
        std::process::exit(2);
    }
    let (db, table) = (&args[1], &args[2]);
    let id: i32 = args[3].parse()?;
    let k: usize = args.get(4).and_then(|v| v.parse().ok()).unwrap_or(5);
    // The query photo's own vector.
    let mut query = None;
    for b in read_table(db, table).await? {
        let ids = b
            .column_by_name("photo_id")
            .ok_or("no photo_id column")?
            .as_primitive::<Int32Type>();
        if let Some(i) = (0..b.num_rows()).find(|i| ids.value(*i) == id) {
            let v = b
                .column_by_name("embedding")
                .ok_or("no embedding column")?
                .as_fixed_size_list()
                .value(i);
            query = Some(v.as_primitive::<Float32Type>().values().to_vec());
            break;
        }
    }
    let Some(vector) = query else {
        eprintln!("photo_id {id} is not in {db}/{table}");
        std::process::exit(1);
    };
    println!(
        "{:>12}  {:<12} {:>9}  url",
        "photo_id", "license", "distance"
    );
    for b in nearest(db, table, vector, k).await? {
        let col = |n: &str| b.column_by_name(n).cloned();
        let (ids, lic, ext, dist) = (
            col("photo_id"),
            col("license"),
            col("extension"),
            col("_distance"),
        );
        for i in 0..b.num_rows() {
            let s = |c: &Option<arrow::array::ArrayRef>| {
                c.as_ref()
                    .map(|c| array_value_to_string(c, i).unwrap_or_default())
                    .unwrap_or_default()
            };
            let pid = s(&ids);
            println!(
                "{pid:>12}  {:<12} {:>9}  https://inaturalist-open-data.s3.amazonaws.com/photos/{pid}/medium.{}",
                s(&lic),
                dist.as_ref().map(|d| format!("{:.4}", d.as_primitive::<Float32Type>().value(i))).unwrap_or_default(),
                s(&ext)
            );
        }
    }
    Ok(())
}
