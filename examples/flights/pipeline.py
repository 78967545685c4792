"""ember main job as a PySpark program: the nycflights13 lakehouse
(landing -> trusted -> curated -> report), the same job as pipeline.sql, written
with the DataFrame API. Unmodified PySpark: only the `remote(...)` URL points at
ember.

Run from the repository root, with `ember connect` listening:
    ember connect --conf spark.sql.session.timeZone=UTC &
    python examples/flights/pipeline.py sc://127.0.0.1:15002
Output zones are written under target/flights-lake/ (as pipeline.sql writes them).
"""

import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

url = sys.argv[1] if len(sys.argv) > 1 else "sc://127.0.0.1:15002"
spark = SparkSession.builder.remote(url).getOrCreate()
DATA = "examples/flights/data"
LAKE = os.path.abspath("target/flights-lake")


def landing(name):
    # The CSVs exactly as shipped ("NA" = missing).
    return (
        spark.read.option("header", "true")
        .option("inferSchema", "true")
        .option("nullValue", "NA")
        .csv(f"{DATA}/{name}.csv.gz")
    )


# Trusted: typed Parquet, flights partitioned by month; no reserved-word column names.
flights = landing("flights").select(
    F.col("year").alias("flight_year"), F.col("month").alias("flight_month"), F.col("day").alias("flight_day"),
    "dep_time", "sched_dep_time", "dep_delay", "arr_time", "sched_arr_time", "arr_delay", "carrier",
    F.col("flight").alias("flight_number"), "tailnum", "origin", "dest", "air_time", "distance",
    F.col("hour").alias("sched_hour"), F.col("minute").alias("sched_minute"), "time_hour",
)
flights.write.mode("overwrite").partitionBy("flight_month").parquet(f"{LAKE}/trusted/flights")
landing("airlines").select("carrier", F.col("name").alias("airline_name")).write.mode("overwrite").parquet(f"{LAKE}/trusted/airlines")
landing("airports").select(
    "faa", F.col("name").alias("airport_name"), "lat", "lon", "alt", F.col("tz").alias("tz_offset"), "dst", "tzone"
).write.mode("overwrite").parquet(f"{LAKE}/trusted/airports")
landing("planes").select(
    "tailnum", F.col("year").alias("plane_year"), F.col("type").alias("plane_type"), "manufacturer", "model", "engines", "seats"
).write.mode("overwrite").parquet(f"{LAKE}/trusted/planes")
landing("weather").select(
    "origin", "time_hour", "temp", "dewp", "humid", "wind_speed", "wind_gust", "precip", "pressure", "visib"
).write.mode("overwrite").parquet(f"{LAKE}/trusted/weather")

# Curated: flights with airlines, destination airports, planes and the hourly weather
# at the origin; delay and on-time figures by carrier, month and origin.
f = spark.read.parquet(f"{LAKE}/trusted/flights").alias("f")
al = spark.read.parquet(f"{LAKE}/trusted/airlines").alias("al")
ap = spark.read.parquet(f"{LAKE}/trusted/airports").alias("ap")
p = spark.read.parquet(f"{LAKE}/trusted/planes").alias("p")
w = spark.read.parquet(f"{LAKE}/trusted/weather").alias("w")
curated = (
    f.join(al, F.col("f.carrier") == F.col("al.carrier"))
    .join(ap, F.col("f.dest") == F.col("ap.faa"), "left")
    .join(p, F.col("f.tailnum") == F.col("p.tailnum"), "left")
    .join(w, (F.col("f.origin") == F.col("w.origin")) & (F.col("f.time_hour") == F.col("w.time_hour")), "left")
    .groupBy("al.airline_name", "f.carrier", "f.flight_month", "f.origin")
    .agg(
        F.count(F.lit(1)).alias("flights"),
        F.count("f.dep_delay").alias("departed"),
        F.round(F.avg("f.dep_delay"), 2).alias("avg_dep_delay"),
        F.round(F.avg("f.arr_delay"), 2).alias("avg_arr_delay"),
        F.round(
            F.lit(100.0) * F.sum(F.when(F.col("f.arr_delay") <= 15, 1).otherwise(0)) / F.count("f.arr_delay"), 1
        ).alias("on_time_pct"),
        F.round(F.avg("w.visib"), 2).alias("avg_visibility"),
        F.countDistinct("ap.faa").alias("destinations"),
        F.round(F.avg("p.seats"), 1).alias("avg_seats"),
    )
)
curated.write.mode("overwrite").parquet(f"{LAKE}/curated/delays")

# Report: yearly figures per carrier, worst on-time first.
delays = spark.read.parquet(f"{LAKE}/curated/delays")
report = (
    delays.groupBy("airline_name")
    .agg(
        F.sum("flights").alias("flights"),
        F.round(F.sum(F.col("avg_dep_delay") * F.col("departed")) / F.sum("departed"), 2).alias("avg_dep_delay"),
        F.round(F.min("on_time_pct"), 1).alias("worst_month_on_time_pct"),
        F.round(F.max("on_time_pct"), 1).alias("best_month_on_time_pct"),
    )
    .orderBy("worst_month_on_time_pct", "airline_name")
)
report.show(truncate=False)
spark.stop()
