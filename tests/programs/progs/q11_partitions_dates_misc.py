"""Flights housekeeping job: hash repartitioning checked with spark_partition_id(), zipWithIndex after a sort,
column metadata (withMetadata, alias(metadata=...)), timestamps and dates rebuilt from the year / month / day / hour
/ minute columns and time_hour (make_timestamp, make_date, unix_timestamp, from_unixtime, to_utc_timestamp /
from_utc_timestamp, date_add / date_sub, months_between, trunc, weekofyear, quarter, date_format patterns),
tumbling and sliding F.window counts, null ordering, dropDuplicates, seeded sample / sampleBy counts, set
operations, na.fill on mixed types, describe(), and Parquet written with partitionBy and read back per directory."""
import argparse
import os

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("partitions-dates-misc").getOrCreate()
d = os.path.join(args.data, "nycflights13")
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")
planes = spark.read.csv(os.path.join(d, "planes.csv.gz"), header=True, inferSchema=True, nullValue="NA")
weather = spark.read.csv(os.path.join(d, "weather.csv.gz"), header=True, inferSchema=True, nullValue="NA")
airlines = spark.read.csv(os.path.join(d, "airlines.csv.gz"), header=True, inferSchema=True)

# --- hash partitioning --------------------------------------------------------------------------------
by_origin = flights.repartition(4, "origin").withColumn("pid", F.spark_partition_id())
(by_origin.groupBy("pid").agg(F.count("*").alias("rows"), F.sort_array(F.collect_set("origin")).alias("origins"))
 .orderBy("pid").show())
(flights.repartition(4, "origin").groupBy(F.spark_partition_id().alias("pid")).count().orderBy("pid").show())
by_cm = flights.repartition(3, "carrier", "month").withColumn("pid", F.spark_partition_id())
by_cm.groupBy("pid").count().orderBy("pid").show()
(by_cm.filter("carrier IN ('AA', 'HA') AND month IN (1, 2, 12)").groupBy("carrier", "month")
 .agg(F.min("pid").alias("pid"), F.max("pid").alias("pid_max"), F.count("*").alias("rows"))
 .orderBy("carrier", "month").show())
print("rows per partition:", sorted(r["count"] for r in by_cm.groupBy("pid").count().collect()))

# --- zipWithIndex -------------------------------------------------------------------------------------
airlines.orderBy("name").zipWithIndex().show(5, truncate=False)
print([(r.i, r.carrier) for r in airlines.zipWithIndex("i").filter("i % 5 = 0").orderBy("i").collect()])
late = (flights.filter("month = 6 AND day = 1 AND dep_delay IS NOT NULL")
        .select("carrier", "flight", "origin", "dest", "dep_delay")
        .orderBy(F.desc("dep_delay"), "carrier", "flight", "origin", "dest").zipWithIndex("rank"))
print(late.columns)
late.filter("rank < 6 OR rank = 700").show()
print(late.agg(F.min("rank"), F.max("rank"), F.count("*")).first())

# --- column metadata ----------------------------------------------------------------------------------
meta = (flights.select("carrier", "dep_delay", F.col("distance").alias("dist", metadata={"unit": "miles", "max": 5000}))
        .withMetadata("dep_delay", {"unit": "minutes", "nullable_reason": "cancelled"}))
print(meta.schema["dist"].metadata)
print(sorted(meta.schema["dep_delay"].metadata.items()))
print(meta.schema["carrier"].metadata)
print(meta.select("dist").schema["dist"].metadata, meta.filter("dist > 4000").schema["dist"].metadata)
print(meta.withColumnRenamed("dist", "miles").schema["miles"].metadata)
print(meta.select(F.col("dist").alias("d2")).schema["d2"].metadata,
      meta.select(F.col("dist").alias("d3", metadata={"unit": "km"})).schema["d3"].metadata)

# --- timestamps and dates -----------------------------------------------------------------------------
ts = flights.select(
    "year", "month", "day", "hour", "minute", "time_hour", "origin", "carrier", "flight",
    F.make_timestamp("year", "month", "day", "hour", "minute", F.lit(0)).alias("sched"),
    F.make_date("year", "month", "day").alias("date"),
    F.from_utc_timestamp("time_hour", "America/New_York").alias("local_hour"))
ts.select("time_hour", "sched", "date", "local_hour").printSchema()
print("local hour != sched hour:",
      ts.filter(F.date_trunc("hour", "sched") != F.col("local_hour")).count())
pick = ts.filter("origin = 'JFK' AND carrier = 'B6' AND flight = 1")
pick = pick.filter("(month, day) IN ((1, 1), (3, 10), (3, 11), (6, 30), (11, 3), (12, 31))")
(pick.select("date", "sched", "time_hour", "local_hour",
             F.to_utc_timestamp("sched", "America/New_York").alias("back_utc"),
             F.unix_timestamp("time_hour").alias("unix"))
 .orderBy("date").show(truncate=False))
(pick.select("date", F.from_unixtime(F.unix_timestamp("time_hour")).alias("fu"),
             F.from_unixtime(F.unix_timestamp("sched"), "yyyy/MM/dd HH:mm").alias("fu2"),
             F.unix_timestamp(F.concat_ws(" ", F.col("date").cast("string"), F.lit("23:59")), "yyyy-MM-dd HH:mm")
             .alias("unix_eod"))
 .orderBy("date").show(truncate=False))
(pick.select("date", F.date_add("date", 30).alias("plus30"), F.date_sub("date", 45).alias("minus45"),
             F.months_between(F.lit("2013-12-31").cast("date"), "date").alias("mb"),
             F.months_between("sched", F.lit("2013-01-15 12:00:00").cast("timestamp"), False).alias("mb_raw"),
             F.trunc("date", "month").alias("tm"), F.trunc("date", "quarter").alias("tq"),
             F.trunc("date", "year").alias("ty"), F.weekofyear("date").alias("woy"), F.quarter("date").alias("q"))
 .orderBy("date").show(truncate=False))
(pick.select("date", F.date_format("sched", "yyyy-MM-dd HH:mm").alias("f1"),
             F.date_format("sched", "MMM d, yyyy h:mm a").alias("f2"), F.date_format("date", "EEE").alias("f3"),
             F.date_format("date", "D").alias("doy"), F.date_format("sched", "yy-MM-dd'T'HH:mm:ss").alias("f4"),
             F.date_format("time_hour", "yyyy-MM-dd HH:mm:ss XXX").alias("f5"),
             F.date_format("date", "QQQ LLLL").alias("f6"))
 .orderBy("date").show(truncate=False))
print(ts.filter("month = 2").select(F.min("sched"), F.max("sched"), F.min("date"), F.max("local_hour")).first())

# --- time windows -------------------------------------------------------------------------------------
jfk = flights.filter("origin = 'JFK' AND month = 1 AND day = 2")
(jfk.groupBy(F.window("time_hour", "6 hours")).agg(F.count("*").alias("n"))
 .select(F.col("window.start").alias("start"), F.col("window.end").alias("end"), "n").orderBy("start").show())
(jfk.groupBy(F.window("time_hour", "1 day", "12 hours")).count().orderBy("window").show(truncate=False))
(jfk.filter("hour BETWEEN 6 AND 8").groupBy(F.window("time_hour", "2 hours", "1 hour").alias("w"), "carrier")
 .count().filter("count >= 3").orderBy("w.start", "carrier").show(truncate=False))

# --- null ordering, dropDuplicates, sampling ----------------------------------------------------------
few = planes.filter("manufacturer = 'CESSNA' OR manufacturer LIKE 'BELL%' OR model LIKE 'PA-32%' "
                    "OR tailnum IN ('N315AT', 'N14558', 'N272AT')")
few.select("tailnum", "year", "speed").sort(F.col("speed").asc_nulls_last(), "tailnum").show(6)
few.select("tailnum", "year", "speed").sort(F.col("year").desc_nulls_first(), F.asc("tailnum")).show(6)
few.select("tailnum", "year", "speed").sort(F.desc_nulls_last("year"), F.asc_nulls_first("speed"), "tailnum").show(30)
routes = flights.dropDuplicates(["origin", "dest"])
print("routes:", routes.count())
routes.select("origin", "dest").sort("origin", "dest").show(5)
routes.select("origin", "dest").filter("dest LIKE 'S%'").sort(F.desc("dest"), "origin").show()
print("sample 10%:", flights.sample(fraction=0.1, seed=42).count(),
      "sample 1% with replacement:", flights.sample(True, 0.01, seed=7).count(),
      "planes 50%:", planes.sample(fraction=0.5, seed=3).count())
strat = flights.sampleBy("origin", {"EWR": 0.05, "JFK": 0.1}, seed=11)
strat.groupBy("origin").count().orderBy("origin").show()

# --- set operations -----------------------------------------------------------------------------------
jan = flights.filter("month = 1 AND day = 1").select("carrier", "origin")
feb = flights.filter("month = 2 AND day = 1").select("origin", "carrier")
print(jan.unionByName(feb).count(), jan.unionByName(feb).distinct().count())
jan.unionByName(feb).distinct().filter("carrier IN ('AS', 'HA', 'VX')").sort("carrier", "origin").show()
jan.intersect(feb.select("carrier", "origin")).sort("origin", "carrier").show(5)
jan.exceptAll(feb.select("carrier", "origin")).groupBy("carrier", "origin").count().sort(F.desc("count"), "carrier",
                                                                                           "origin").show(5)
print(jan.exceptAll(feb.select("carrier", "origin")).count(), jan.subtract(feb.select("carrier", "origin")).count())

# --- na.fill, describe --------------------------------------------------------------------------------
gaps = (flights.filter("month = 4 AND day = 10 AND dep_time IS NULL")
        .select("carrier", "flight", "tailnum", "dep_time", "dep_delay", "air_time", "time_hour",
                (F.col("dep_delay") > 0).alias("late"), (F.col("air_time") / 60).alias("hours")))
print("cancelled:", gaps.count())
gaps.na.fill(0).orderBy("carrier", "flight").show(4)
gaps.na.fill("?").orderBy("carrier", "flight").show(4)
gaps.na.fill(0.5).select("carrier", "flight", "dep_time", "hours").orderBy("carrier", "flight").show(4)
gaps.na.fill(False).select("carrier", "flight", "late").orderBy("carrier", "flight").show(4)
(gaps.na.fill({"tailnum": "NOPLANE", "dep_delay": -1, "hours": 1.25, "late": True})
 .select("carrier", "flight", "tailnum", "dep_delay", "hours", "late").orderBy("carrier", "flight").show(4))
weather.describe("temp", "humid", "wind_gust", "origin").show(truncate=False)

# --- Parquet partitionBy ------------------------------------------------------------------------------
path = os.path.join(args.out, "flights_by_origin")
(flights.filter("month = 5").select("carrier", "flight", "dest", "dep_delay", "origin")
 .write.mode("overwrite").partitionBy("origin").parquet(path))
dirs = sorted(n for n in os.listdir(path) if n.startswith("origin="))
print(dirs)
for n in dirs:
    part = spark.read.parquet(os.path.join(path, n))
    print(n, part.count(), part.columns)
back = spark.read.parquet(path)
back.printSchema()
back.groupBy("origin").count().orderBy("origin").show()
back.filter("origin = 'LGA' AND dest = 'ATL'").agg(F.count("*"), F.max("dep_delay")).show()
spark.stop()
