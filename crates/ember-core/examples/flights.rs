//! The flights lakehouse job with the Rust API (same zones and report as
//! `examples/flights/pipeline.sql`): `cargo run --example flights` from the repository root.
//! Writes under `target/flights-lake-rs/`.

use datafusion::prelude::{col, lit};
use ember_core::{SaveMode, SparkSession};

const DATA: &str = "examples/flights/data";
const LAKE: &str = "target/flights-lake-rs";

#[tokio::main]
async fn main() -> ember_core::Result<()> {
    let spark = SparkSession::builder()
        .master("local[*]")
        .app_name("flights")
        .config("spark.sql.session.timeZone", "UTC")
        .get_or_create()?;
    let read = |name: &str| {
        spark
            .read()
            .option("header", "true")
            .option("inferSchema", "true")
            .option("nullValue", "NA")
            .csv_owned(format!("{DATA}/{name}.csv.gz"))
    };

    // Landing -> trusted: typed Parquet, warehouse-safe names, flights by month.
    let flights = read("flights").await?;
    let trusted_flights = flights.with_columns_renamed(&[
        ("year", "flight_year"),
        ("month", "flight_month"),
        ("day", "flight_day"),
        ("flight", "flight_number"),
        ("hour", "sched_hour"),
        ("minute", "sched_minute"),
    ])?;
    trusted_flights
        .write()
        .mode(SaveMode::Overwrite)
        .partition_by(&["flight_month"])
        .parquet(&format!("{LAKE}/trusted/flights"))
        .await?;
    if let Some(r) = flights.source_report() {
        eprint!("{}", r.render());
    }
    read("airlines")
        .await?
        .with_column_renamed("name", "airline_name")?
        .write()
        .mode(SaveMode::Overwrite)
        .parquet(&format!("{LAKE}/trusted/airlines"))
        .await?;
    read("airports")
        .await?
        .with_column_renamed("name", "airport_name")?
        .write()
        .mode(SaveMode::Overwrite)
        .parquet(&format!("{LAKE}/trusted/airports"))
        .await?;
    read("planes")
        .await?
        .with_columns_renamed(&[("year", "plane_year"), ("type", "plane_type")])?
        .write()
        .mode(SaveMode::Overwrite)
        .parquet(&format!("{LAKE}/trusted/planes"))
        .await?;
    read("weather")
        .await?
        .select(&[
            "origin",
            "time_hour",
            "temp",
            "dewp",
            "humid",
            "wind_speed",
            "wind_gust",
            "precip",
            "pressure",
            "visib",
        ])?
        .write()
        .mode(SaveMode::Overwrite)
        .parquet(&format!("{LAKE}/trusted/weather"))
        .await?;

    // Trusted -> curated.
    for t in ["flights", "airlines", "airports", "planes", "weather"] {
        spark
            .read()
            .parquet(&[&format!("{LAKE}/trusted/{t}")])
            .await?
            .create_or_replace_temp_view(&format!("trusted_{t}"))?;
    }
    let curated = spark
        .sql(
            "SELECT al.airline_name, f.carrier, f.flight_month, f.origin, COUNT(*) AS flights, COUNT(f.dep_delay) AS departed,
                    ROUND(AVG(f.dep_delay), 2) AS avg_dep_delay, ROUND(AVG(f.arr_delay), 2) AS avg_arr_delay,
                    ROUND(100.0 * SUM(CASE WHEN f.arr_delay <= 15 THEN 1 ELSE 0 END) / COUNT(f.arr_delay), 1) AS on_time_pct,
                    ROUND(AVG(w.visib), 2) AS avg_visibility, COUNT(DISTINCT ap.faa) AS destinations, ROUND(AVG(p.seats), 1) AS avg_seats
             FROM trusted_flights f JOIN trusted_airlines al ON f.carrier = al.carrier
             LEFT JOIN trusted_airports ap ON f.dest = ap.faa LEFT JOIN trusted_planes p ON f.tailnum = p.tailnum
             LEFT JOIN trusted_weather w ON f.origin = w.origin AND f.time_hour = w.time_hour
             GROUP BY al.airline_name, f.carrier, f.flight_month, f.origin",
        )
        .await?;
    curated
        .write()
        .mode(SaveMode::Overwrite)
        .parquet(&format!("{LAKE}/curated/delays"))
        .await?;
    spark
        .read()
        .parquet(&[&format!("{LAKE}/curated/delays")])
        .await?
        .create_or_replace_temp_view("curated_delays")?;

    // Report.
    let report = spark
        .sql(
            "SELECT airline_name, SUM(flights) AS flights, ROUND(SUM(avg_dep_delay * departed) / SUM(departed), 2) AS avg_dep_delay,
                    ROUND(MIN(on_time_pct), 1) AS worst_month_on_time_pct, ROUND(MAX(on_time_pct), 1) AS best_month_on_time_pct
             FROM curated_delays GROUP BY airline_name ORDER BY worst_month_on_time_pct, airline_name",
        )
        .await?;
    report.show(100, 0).await?;
    let busiest = report
        .filter(col("flights").gt(lit(50000)))?
        .count()
        .await?;
    println!("carriers with more than 50,000 flights: {busiest}");
    Ok(())
}
