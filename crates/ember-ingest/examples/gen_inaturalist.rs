//! Writes synthetic iNaturalist export data (see `ember_ingest::generator`).
//!
//! Usage: `gen_inaturalist DIR ROWS [DIM] [MALFORMED_SHARE] [REPEAT_SHARE] [SEED]`
//! (defaults: 512, 0.006, 0.001, 42). Prints the summary (rows, valid rows, distinct
//! ids, repeats, malformed rows, embeddings) as `key=value` lines.

use ember_ingest::generator::{generate, GenOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen_inaturalist DIR ROWS [DIM] [MALFORMED_SHARE] [REPEAT_SHARE] [SEED]");
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
            println!("seconds={:.2}", t0.elapsed().as_secs_f64());
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
