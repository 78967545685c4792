"""Operations job on flights: cleaning with na.fill / na.drop / na.replace and dropDuplicates, a cached and a
DISK_ONLY-persisted working set (storage levels printed before / after, unpersist), data-quality metrics with
Observation, localCheckpoint to cut the lineage before further transformations, a global temp view read back
through SQL, withWatermark on a batch frame, and the statistics helpers approxQuantile / corr / cov."""
import argparse
import os

from pyspark import StorageLevel
from pyspark.sql import Observation, SparkSession
from pyspark.sql import functions as F

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("cache-observe-clean").getOrCreate()
d = os.path.join(args.data, "nycflights13")
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")
planes = spark.read.csv(os.path.join(d, "planes.csv.gz"), header=True, inferSchema=True, nullValue="NA")

# --- cleaning -----------------------------------------------------------------------------------------
dec = flights.filter("month = 1 AND day = 13").select("carrier", "flight", "tailnum", "origin", "dest",
                                                        "dep_time", "dep_delay", "arr_delay", "air_time")
print("rows:", dec.count(), "any-null dropped:", dec.na.drop().count(),
      "all-null dropped:", dec.na.drop(how="all", subset=["dep_delay", "arr_delay"]).count(),
      "thresh=8:", dec.dropna(thresh=8).count())
filled = (dec.na.fill(0, subset=["dep_delay", "arr_delay"])
          .na.fill({"tailnum": "UNKNOWN", "air_time": -1})
          .na.replace(["EWR", "LGA"], ["Newark", "LaGuardia"], subset=["origin"]))
(filled.filter("dep_time IS NULL").select("carrier", "flight", "tailnum", "origin", "dep_delay", "arr_delay",
                                          "air_time").orderBy("carrier", "flight").show())
print(sorted(r.origin for r in filled.select("origin").distinct().collect()))
print(dec.fillna("?").filter("tailnum = '?'").count(), dec.replace("UA", "United", "carrier")
      .filter("carrier = 'United'").count())
routes = dec.dropDuplicates(["origin", "dest"])
print("distinct routes:", routes.count())
(dec.dropDuplicates(["carrier", "origin"]).select("carrier", "origin")
 .groupBy("origin").agg(F.count("*").alias("carriers")).orderBy("origin").show())
print("planes without speed:", planes.na.drop(subset=["speed"]).count(), "of", planes.count())
print(planes.dropDuplicates(["manufacturer"]).count(), planes.drop_duplicates().count(), planes.distinct().count())

# --- cache / persist ----------------------------------------------------------------------------------
late = flights.filter("arr_delay > 60").select("month", "carrier", "origin", "dest", "arr_delay", "distance")
print("before cache:", late.storageLevel, late.is_cached)
late.cache()
print("after cache:", late.storageLevel, late.is_cached)
print("late flights:", late.count())
late.groupBy("origin").agg(F.count("*").alias("n"), F.max("arr_delay").alias("worst")).orderBy("origin").show()
late.unpersist()
print("after unpersist:", late.storageLevel, late.is_cached)

routes_disk = flights.groupBy("origin", "dest").agg(F.count("*").alias("flights"), F.avg("distance").alias("miles"))
routes_disk.persist(StorageLevel.DISK_ONLY)
print("disk only:", routes_disk.storageLevel, routes_disk.is_cached, routes_disk.storageLevel == StorageLevel.DISK_ONLY)
print("routes:", routes_disk.count(), "busiest:", routes_disk.orderBy(F.desc("flights"), "origin", "dest").first())
routes_disk.unpersist(blocking=True)
print("after unpersist:", routes_disk.storageLevel, routes_disk.is_cached)
mem = flights.select("carrier").distinct().persist(StorageLevel.MEMORY_ONLY)
print("memory only:", mem.storageLevel, mem.count())
mem.unpersist()

# --- Observation --------------------------------------------------------------------------------------
jan_obs = Observation("january")
jan = flights.filter("month = 1").observe(
    jan_obs, F.count(F.lit(1)).alias("rows"), F.max("dep_delay").alias("max_dep_delay"),
    F.sum("distance").alias("total_miles"), F.count("dep_time").alias("departed"),
    F.sum(F.when(F.col("arr_delay") > 15, 1).otherwise(0)).alias("late"))
jan.groupBy("origin").agg(F.count("*").alias("flights")).orderBy("origin").show()
print(sorted(jan_obs.get.items()))

null_obs = Observation("nulls")
checked = planes.observe(null_obs, F.count(F.lit(1)).alias("planes"), F.sum(F.col("year").isNull().cast("int")).alias(
    "no_year"), F.max("seats").alias("max_seats"), F.round(F.avg("seats"), 2).alias("avg_seats"))
print("big planes:", checked.filter("seats > 300").count())
print(sorted(null_obs.get.items()))

# --- localCheckpoint ----------------------------------------------------------------------------------
per_carrier = (flights.groupBy("carrier")
               .agg(F.count("*").alias("flights"), F.sum(F.col("dep_time").isNull().cast("int")).alias("cancelled"),
                    F.round(F.avg("arr_delay"), 2).alias("avg_arr_delay"))
               .localCheckpoint())
ranked = (per_carrier.withColumn("cancel_pct", F.round(F.col("cancelled") * 100 / F.col("flights"), 2))
          .filter("flights > 10000").orderBy(F.desc("cancel_pct"), "carrier"))
ranked.show()
lazy = flights.filter("origin = 'JFK' AND month = 2").select("carrier", "dep_delay").localCheckpoint(eager=False)
lazy.groupBy("carrier").agg(F.max("dep_delay").alias("worst")).filter("worst > 300").orderBy("carrier").show()
print("checkpointed rows:", lazy.count(), "columns:", lazy.columns)

# --- global temp view ---------------------------------------------------------------------------------
per_carrier.createOrReplaceGlobalTempView("carrier_stats")
spark.sql("SELECT carrier, flights, cancelled FROM global_temp.carrier_stats "
          "WHERE cancelled > 1000 ORDER BY cancelled DESC").show()
spark.sql("SELECT count(*) AS carriers, sum(flights) AS flights FROM global_temp.carrier_stats").show()
ranked.limit(3).createOrReplaceGlobalTempView("carrier_stats")  # replaces the first definition
print([r.carrier for r in spark.sql("SELECT carrier FROM global_temp.carrier_stats ORDER BY carrier").collect()])
print("dropped:", spark.catalog.dropGlobalTempView("carrier_stats"),
      "again:", spark.catalog.dropGlobalTempView("carrier_stats"))

# --- withWatermark on a batch frame (no effect) ------------------------------------------------------
events = (flights.filter("month = 3 AND origin = 'LGA'")
          .withColumn("event_time", F.to_timestamp("time_hour"))
          .withWatermark("event_time", "2 hours"))
print(events.isStreaming, events.count())
(events.groupBy(F.window("event_time", "1 day").alias("day"))
 .agg(F.count("*").alias("flights"), F.max("dep_delay").alias("worst"))
 .select(F.col("day.start").alias("start"), F.col("day.end").alias("end"), "flights", "worst")
 .orderBy("start").show(5))

# --- statistics ---------------------------------------------------------------------------------------
seats = planes.select("seats", "engines", "year").na.drop()
print("quartiles:", seats.approxQuantile("seats", [0.0, 0.25, 0.5, 0.75, 1.0], 0.0))
print("multi:", seats.approxQuantile(["seats", "year"], [0.1, 0.9], 0.0))
print("corr seats/engines:", round(seats.corr("seats", "engines"), 6), "cov:", round(seats.cov("seats", "engines"), 6))
print("corr seats/year:", round(seats.stat.corr("seats", "year", "pearson"), 6),
      "cov:", round(seats.stat.cov("seats", "year"), 4))
dist = flights.filter("month = 7").na.drop(subset=["air_time"])
print("air_time vs distance:", round(dist.corr("air_time", "distance"), 6))
spark.stop()
