//! TPC-H benchmark driver used by `bench/tpch.sh`: runs the 22 queries against
//! Parquet files, one warm-up then `runs` timed runs each, and prints one line per
//! query (`qNN <median seconds>`) and the total of medians. When DATA_DIR is an
//! object-store URL it also prints the bytes and GET requests one run of each query
//! fetched (`qNN_bytes N`, `qNN_requests N`).
//!
//! Usage: `cargo run --release -p ember-core --example tpch_bench -- DATA_DIR QUERIES_DIR [RUNS] [MASTER]`
//! (`EMBER_CONF="k=v,..."` adds configuration, e.g. `spark.hadoop.fs.s3a.endpoint`).

use std::time::Instant;

use ember_core::SparkSession;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: tpch_bench DATA_DIR QUERIES_DIR [RUNS] [MASTER]");
        std::process::exit(2);
    }
    let (data, queries) = (&args[1], &args[2]);
    let runs: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3);
    let master = args.get(4).cloned().unwrap_or_else(|| "local[2]".into());
    let mut builder = SparkSession::builder()
        .master(&master)
        .config("spark.sql.session.timeZone", "UTC");
    // EMBER_CONF="k=v,k2=v2": extra configuration (e.g. DataFusion tuning keys).
    for kv in std::env::var("EMBER_CONF")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
    {
        if let Some((k, v)) = kv.split_once('=') {
            builder = builder.config(k.trim(), v.trim());
        }
    }
    let spark = builder.get_or_create()?;
    for t in [
        "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier",
    ] {
        spark
            .sql(&format!(
                "CREATE TEMPORARY VIEW {t} USING parquet OPTIONS (path '{data}/{t}.parquet')"
            ))
            .await?;
    }
    let mut total = 0.0;
    for q in 1..=22 {
        let sql = std::fs::read_to_string(format!("{queries}/q{q:02}.sql"))?;
        let stmts = ember_core::sql::split_statements(&sql);
        let mut times = Vec::new();
        let mut fetched = (0, 0);
        for run in 0..=runs {
            let before = spark.storage().read_metrics();
            let t0 = Instant::now();
            let mut rows = 0;
            for s in &stmts {
                let df = spark.sql(s).await?;
                rows = df
                    .collect()
                    .await?
                    .iter()
                    .map(|b| b.num_rows())
                    .sum::<usize>();
            }
            let dt = t0.elapsed().as_secs_f64();
            if run > 0 {
                times.push(dt);
            }
            let after = spark.storage().read_metrics();
            fetched = (after.0 - before.0, after.1 - before.1);
            let _ = rows;
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let median = times[times.len() / 2];
        total += median;
        println!("q{q:02} {median:.4}");
        if ember_datasource::storage::is_remote(data) {
            println!("q{q:02}_bytes {}", fetched.1);
            println!("q{q:02}_requests {}", fetched.0);
        }
    }
    println!("total {total:.4}");
    Ok(())
}
