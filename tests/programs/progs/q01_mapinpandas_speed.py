"""Flights: mapInPandas computing ground speed, filtering inside the function and yielding one
pandas DataFrame per origin for every input batch, then per-origin / per-route aggregates."""
import argparse
import os

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("flights-speed-mapinpandas").getOrCreate()
flights = spark.read.csv(os.path.join(args.data, "nycflights13", "flights.csv.gz"),
                         header=True, inferSchema=True, nullValue="NA")


def with_speed(batches):
    for pdf in batches:
        # cancelled / diverted flights have no air_time: drop them here, not in Spark
        pdf = pdf[pdf["air_time"].notna() & (pdf["air_time"] > 0)].copy()
        pdf["mph"] = (pdf["distance"] * 60.0 / pdf["air_time"]).round(1)
        pdf["late"] = pdf["arr_delay"].fillna(0) > 15
        pdf["air_time"] = pdf["air_time"].astype("int64")
        for origin in ("EWR", "JFK", "LGA"):  # one frame per origin, some may be empty
            part = pdf[pdf["origin"] == origin]
            yield part[["origin", "dest", "carrier", "distance", "air_time", "mph", "late"]]


speeds = flights.select("origin", "dest", "carrier", "distance", "air_time", "arr_delay").mapInPandas(
    with_speed, "origin string, dest string, carrier string, distance int, air_time int, mph double, late boolean")

print("rows with speed:", speeds.count(), "of", flights.count())
(speeds.groupBy("origin")
 .agg(F.count("*").alias("flights"), F.round(F.avg("mph"), 2).alias("avg_mph"),
      F.max("mph").alias("max_mph"), F.sum(F.col("late").cast("int")).alias("late"))
 .orderBy("origin").show())

routes = (speeds.groupBy("origin", "dest")
          .agg(F.count("*").alias("n"), F.round(F.avg("mph"), 1).alias("avg_mph"),
               F.round(F.avg(F.col("late").cast("double")) * 100, 1).alias("pct_late"))
          .filter("n >= 365"))
routes.orderBy(F.desc("avg_mph"), "origin", "dest").show(5)
routes.orderBy("avg_mph", "origin", "dest").show(5, truncate=False)


def slow_legs(batches):
    # a second pass that may yield nothing for a batch, or several small frames
    for pdf in batches:
        slow = pdf[pdf["mph"] < 200]
        for carrier, grp in slow.groupby("carrier", sort=True):
            yield pd.DataFrame({"carrier": [carrier], "legs": [len(grp)], "slowest": [grp["mph"].min()]})


(speeds.mapInPandas(slow_legs, "carrier string, legs long, slowest double")
 .groupBy("carrier").agg(F.sum("legs").alias("legs"), F.min("slowest").alias("slowest"))
 .orderBy(F.desc("legs"), "carrier").show())
spark.stop()
