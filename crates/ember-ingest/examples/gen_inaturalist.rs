//! Writes synthetic iNaturalist export data (see `ember_ingest::generator`).
//!
//! Usage: `gen_inaturalist DIR ROWS [DIM] [MALFORMED_SHARE] [REPEAT_SHARE] [SEED]
//! [MISSING_EMBEDDING_SHARE]` (defaults: 512, 0.006, 0.001, 42, 0). Prints the summary
//! (rows, valid rows, distinct ids, repeats, malformed rows, embeddings, missing
//! embeddings) as `key=value` lines.
//!
//! `gen_inaturalist --embeddings-for PHOTOS.csv.gz OUT.parquet [DIM] [SEED]` writes the
//! embeddings of the photo_ids of an existing export file (the shipped sample's
//! `embeddings.parquet` was made so).

use ember_ingest::generator::{generate, write_embeddings, GenOptions};

fn embeddings_for(args: &[String]) -> Result<u64, String> {
    use std::io::BufRead;
    let (photos, out) =
        match args {
            [p, o, ..] => (p, o),
            _ => return Err(
                "usage: gen_inaturalist --embeddings-for PHOTOS.csv.gz OUT.parquet [DIM] [SEED]"
                    .into(),
            ),
        };
    let dim = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(512);
    let seed = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(42);
    let file = std::fs::File::open(photos).map_err(|e| format!("{photos}: {e}"))?;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let mut ids = Vec::new();
    for line in reader.lines().skip(1) {
        let line = line.map_err(|e| format!("{photos}: {e}"))?;
        if let Some(id) = line.split('\t').nth(1).and_then(|v| v.parse::<i64>().ok()) {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    write_embeddings(std::path::Path::new(out), &ids, dim, seed, 65_536).map_err(|e| e.to_string())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--embeddings-for") {
        match embeddings_for(&args[2..]) {
            Ok(n) => println!("embeddings={n}"),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if args.len() < 3 {
        eprintln!("usage: gen_inaturalist DIR ROWS [DIM] [MALFORMED_SHARE] [REPEAT_SHARE] [SEED] [MISSING_EMBEDDING_SHARE]");
        std::process::exit(2);
    }
    let d = GenOptions::default();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let opts = GenOptions {
        rows: arg(2).and_then(|v| v.parse().ok()).unwrap_or(d.rows),
        dim: arg(3).and_then(|v| v.parse().ok()).unwrap_or(d.dim),
        malformed_share: arg(4)
            .and_then(|v| v.parse().ok())
            .unwrap_or(d.malformed_share),
        repeat_share: arg(5)
            .and_then(|v| v.parse().ok())
            .unwrap_or(d.repeat_share),
        seed: arg(6).and_then(|v| v.parse().ok()).unwrap_or(d.seed),
        missing_embedding_share: arg(7)
            .and_then(|v| v.parse().ok())
            .unwrap_or(d.missing_embedding_share),
        row_group_rows: d.row_group_rows,
    };
    let t0 = std::time::Instant::now();
    match generate(std::path::Path::new(&args[1]), &opts) {
        Ok(s) => {
            println!("rows={}", s.rows);
            println!("valid_rows={}", s.valid_rows);
            println!("distinct_ids={}", s.distinct_ids);
            println!("repeats={}", s.repeats);
            println!("malformed={}", s.malformed_lines.len());
            println!("embeddings={}", s.embeddings);
            println!("missing_embeddings={}", s.missing_embedding_ids.len());
            println!("seconds={:.2}", t0.elapsed().as_secs_f64());
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
