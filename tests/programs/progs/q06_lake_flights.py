"""Lake job: raw flights CSV -> typed, cleaned Parquet partitioned by month (overwrite), read back,
broadcast join with the airlines dimension, monthly aggregates; plus a multiLine JSON array feed."""
import argparse
import json
import os

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("flights-lake").getOrCreate()
d = os.path.join(args.data, "nycflights13")
raw = spark.read.option("header", True).option("inferSchema", True).option("nullValue", "NA") \
    .csv(os.path.join(d, "flights.csv.gz"))

clean = (raw
         .withColumn("time_hour", F.to_timestamp("time_hour"))
         .withColumn("month_start", F.date_trunc("month", "time_hour"))
         .withColumn("cancelled", F.when(F.col("dep_time").isNull(), True).otherwise(False))
         .withColumn("late", F.when(F.col("arr_delay") > 15, True).when(F.col("arr_delay").isNull(), None)
                     .otherwise(False))
         .withColumn("distance_km", F.round(F.col("distance") * 1.609344, 1))
         .drop("year", "day", "hour", "minute", "sched_dep_time", "sched_arr_time"))

lake = os.path.join(args.out, "lake", "flights")
clean.filter("month <= 6").write.mode("overwrite").partitionBy("month").parquet(lake)
clean.write.mode("overwrite").partitionBy("month").parquet(lake)  # the full reload replaces the first
print("partitions:", sorted(p for p in os.listdir(lake) if p.startswith("month="))[:3], "...",
      len([p for p in os.listdir(lake) if p.startswith("month=")]))

back = spark.read.parquet(lake)
print("rows:", back.count())
back.printSchema()

airlines = spark.read.csv(os.path.join(d, "airlines.csv.gz"), header=True, inferSchema=True)
monthly = (back.filter(~F.col("cancelled"))
           .join(F.broadcast(airlines), "carrier")
           .groupBy("name", "month_start")
           .agg(F.count("*").alias("flights"), F.round(F.avg(F.col("late").cast("int")) * 100, 1).alias("pct_late"),
                F.round(F.sum("distance_km") / 1000, 1).alias("thousand_km")))
monthly.filter("month_start = '2013-12-01'").orderBy(F.desc("flights"), "name").show(truncate=False)
(back.join(airlines.hint("broadcast"), "carrier").groupBy("name")
 .agg(F.sum(F.col("cancelled").cast("int")).alias("cancelled"), F.count("*").alias("scheduled"))
 .orderBy(F.desc("cancelled"), "name").show(5, truncate=20))

feed = os.path.join(args.out, "feed", "delays.json")
os.makedirs(os.path.dirname(feed), exist_ok=True)
with open(feed, "w") as f:
    json.dump([{"carrier": "UA", "reported": "2013-12-24", "delay_min": 95, "reason": {"code": "WX", "text": "snow"}},
               {"carrier": "AA", "reported": "2013-12-24", "delay_min": None, "reason": {"code": "MX"}},
               {"carrier": "B6", "reported": "2013-12-25", "delay_min": 12.5, "tags": ["holiday", "ground stop"]}],
              f, indent=2)
reports = spark.read.option("multiLine", True).json(feed)
reports.printSchema()
(reports.join(F.broadcast(airlines), "carrier", "left")
 .select("carrier", "name", F.to_date("reported").alias("reported"), "delay_min", "reason.code",
         F.size("tags").alias("n_tags"))
 .orderBy("carrier").show(truncate=False))
spark.stop()
