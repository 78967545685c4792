//! Where the parse stage's time goes, on one core: gzip decompression alone, then
//! parsing alone (tab splitting, UUID/number checks, Arrow building) over the
//! decompressed bytes in memory.
//!
//! Usage: `cargo run --release -p ember-ingest --example parse_bench -- photos.csv.gz [TASK_ROWS]`
//! Prints `decompress_mb_s=… parse_mb_s=… parse_rows_s=…` (MB = 10^6 bytes of
//! decompressed text).

use std::io::Read;
use std::time::Instant;

use ember_ingest::parse::{parse_chunk, Chunk, RecordSchema};
use ember_ingest::spec::INATURALIST_PHOTOS_SCHEMA;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: parse_bench photos.csv.gz [TASK_ROWS]");
        std::process::exit(2);
    };
    let task_rows: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let t = Instant::now();
    let mut text = Vec::new();
    let file = std::fs::File::open(path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    flate2::read::GzDecoder::new(std::io::BufReader::with_capacity(1 << 20, file))
        .read_to_end(&mut text)
        .unwrap_or_else(|e| {
            eprintln!("{path}: {e}");
            std::process::exit(1)
        });
    let dec = t.elapsed().as_secs_f64();
    // Cut into chunks of task_rows lines, as the job does.
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut first_line = 1u64;
    let mut count = 0;
    for pos in memchr::memchr_iter(b'\n', &text) {
        count += 1;
        if count == task_rows {
            chunks.push((first_line, start, pos + 1));
            first_line += count as u64;
            start = pos + 1;
            count = 0;
        }
    }
    if start < text.len() {
        chunks.push((first_line, start, text.len()));
    }
    let schema = RecordSchema::parse(INATURALIST_PHOTOS_SCHEMA).expect("schema");
    let t = Instant::now();
    let (mut rows, mut bad) = (0usize, 0usize);
    for (i, (first, a, b)) in chunks.iter().enumerate() {
        let chunk = Chunk {
            file: path.clone(),
            first_line: *first,
            data: text[*a..*b].to_vec(),
            has_header: i == 0,
        };
        let p = parse_chunk(&schema, b'\t', &chunk, "bench").expect("parse");
        rows += p.batch.num_rows();
        bad += p.dead.len();
    }
    let parse = t.elapsed().as_secs_f64();
    let mb = text.len() as f64 / 1e6;
    println!(
        "bytes={} rows={rows} bad={bad} decompress_s={dec:.3} decompress_mb_s={:.0} parse_s={parse:.3} parse_mb_s={:.0} parse_rows_s={:.0}",
        text.len(),
        mb / dec,
        mb / parse,
        (rows + bad) as f64 / parse
    );
}
