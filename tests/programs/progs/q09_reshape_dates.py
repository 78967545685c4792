"""Reporting job: flight dates built with to_date and reformatted (date_format, datediff, add_months), delay bands
from when() chains and SQL CASE / IN expressions (selectExpr, F.expr), pivot tables (with and without a value
list), set operations (unionByName with missing columns, crossJoin, exceptAll, intersect, subtract) and the stat
helpers crosstab and freqItems."""
import argparse
import os

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("reshape-dates").getOrCreate()
d = os.path.join(args.data, "nycflights13")
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")
weather = spark.read.csv(os.path.join(d, "weather.csv.gz"), header=True, inferSchema=True, nullValue="NA")
planes = spark.read.csv(os.path.join(d, "planes.csv.gz"), header=True, inferSchema=True, nullValue="NA")

# --- dates --------------------------------------------------------------------------------------------
dated = flights.withColumn("flight_date", F.to_date(F.concat_ws("-", "year", "month", "day"), "yyyy-M-d"))
dated.select("flight_date").printSchema()
days = (dated.filter("origin = 'JFK' AND carrier = 'B6' AND dest = 'BUF'")
        .groupBy("flight_date").agg(F.count("*").alias("flights"), F.max("dep_delay").alias("worst")))
(days.select("flight_date", F.date_format("flight_date", "EEE dd MMM yyyy").alias("pretty"),
             F.date_format("flight_date", "yyyy/MM").alias("ym"),
             F.datediff(F.to_date(F.lit("2013-12-25")), "flight_date").alias("to_xmas"),
             F.add_months("flight_date", 1).alias("next_month"),
             F.add_months("flight_date", -13).alias("back13"), "flights")
 .filter("flight_date IN ('2013-01-31', '2013-02-28', '2013-03-30', '2013-12-31')").orderBy("flight_date").show())
(dated.filter("month = 12").groupBy(F.date_format("flight_date", "EEEE").alias("weekday"))
 .agg(F.count("*").alias("flights"), F.round(F.avg("dep_delay"), 2).alias("avg_dep_delay"))
 .orderBy(F.desc("flights"), "weekday").show())
print(dated.select(F.min("flight_date"), F.max("flight_date"),
                   F.max(F.datediff("flight_date", F.to_date(F.lit("2013-01-01"))))).first())
(weather.select("origin", F.to_date("time_hour").alias("day"), "temp")
 .withColumn("month_end", F.last_day("day")).withColumn("dow", F.dayofweek("day"))
 .groupBy("origin", "month_end").agg(F.round(F.max("temp"), 1).alias("max_temp"))
 .filter("origin = 'LGA'").orderBy("month_end").show(4))

# --- when chains, CASE / IN, selectExpr ---------------------------------------------------------------
banded = flights.select(
    "carrier", "origin", "dep_delay",
    F.when(F.col("dep_time").isNull(), "cancelled").when(F.col("dep_delay") <= 0, "early")
    .when(F.col("dep_delay") < 15, "minor").when(F.col("dep_delay") < 60, "late").otherwise("very late").alias("band"),
    F.expr("CASE WHEN origin IN ('JFK', 'LGA') THEN 'NYC' WHEN origin = 'EWR' THEN 'NJ' ELSE 'other' END")
    .alias("state"),
    F.expr("carrier IN ('AA', 'DL', 'UA', 'US') AS legacy"),
    F.expr("CASE month WHEN 12 THEN 'winter' WHEN 1 THEN 'winter' WHEN 2 THEN 'winter' "
           "WHEN 7 THEN 'summer' WHEN 8 THEN 'summer' ELSE 'shoulder' END AS season"))
banded.groupBy("band").count().orderBy("band").show()
banded.groupBy("state", "legacy").count().orderBy("state", "legacy").show()
(flights.selectExpr("carrier", "flight", "dep_delay - arr_delay AS gained", "distance / 1000.0 AS kmiles",
                    "CAST(air_time AS double) / 60 AS hours", "upper(concat(origin, '>', dest)) AS route",
                    "month IN (6, 7, 8) AS summer")
 .filter("gained >= 70").orderBy(F.desc("gained"), "carrier", "flight").show(5))
print(flights.selectExpr("count(*) AS n", "count(DISTINCT tailnum) AS planes", "sum(CASE WHEN dep_delay > 0 "
                         "THEN 1 ELSE 0 END) AS delayed").first())

# --- pivot --------------------------------------------------------------------------------------------
(banded.filter("band != 'cancelled'").groupBy("origin").pivot("band", ["early", "minor", "late", "very late"])
 .count().orderBy("origin").show())
(banded.filter("carrier IN ('AA', 'B6', 'DL', 'UA')").groupBy("carrier").pivot("season")
 .agg(F.round(F.avg("dep_delay"), 2)).orderBy("carrier").show())
(flights.filter("carrier = 'VX'").groupBy("origin", "month").pivot("dest")
 .agg(F.count(F.lit(1)).alias("n"), F.max("arr_delay").alias("worst")).orderBy("month", "origin").show(3))

# --- set operations -----------------------------------------------------------------------------------
f_sum = flights.filter("month = 1").groupBy("origin").agg(F.count("*").alias("flights"), F.lit("flights").alias("src"))
w_sum = (weather.filter("month = 1").groupBy("origin")
         .agg(F.round(F.avg("temp"), 2).alias("avg_temp"), F.lit("weather").alias("src"), F.count("*").alias("hours")))
both = f_sum.unionByName(w_sum, allowMissingColumns=True)
print(both.columns)
both.orderBy("src", "origin").show()
print(f_sum.select("origin").union(w_sum.select("origin")).count(),
      f_sum.select("origin").unionByName(w_sum.select("origin")).distinct().count())
grid = (flights.select("origin").distinct()
        .crossJoin(flights.filter("carrier IN ('HA', 'OO', 'F9')").select("carrier").distinct()))
flown = flights.select("origin", "carrier").distinct()
print("grid:", grid.count())
grid.exceptAll(flown).orderBy("origin", "carrier").show()
grid.intersect(flown).orderBy("origin", "carrier").show()
jfk_dest = flights.filter("origin = 'JFK' AND month = 1 AND day = 1").select("dest")
lga_dest = flights.filter("origin = 'LGA' AND month = 1 AND day = 1").select("dest")
print("except all:", jfk_dest.exceptAll(lga_dest).count(), "subtract:", jfk_dest.subtract(lga_dest).count(),
      "intersect:", jfk_dest.intersect(lga_dest).count(), "intersectAll:", jfk_dest.intersectAll(lga_dest).count())
print([r.dest for r in jfk_dest.exceptAll(lga_dest).groupBy("dest").count().filter("count > 3").orderBy("dest")
      .collect()])

# --- crosstab / freqItems -----------------------------------------------------------------------------
ct = banded.crosstab("origin", "season")
print(ct.columns)
ct.orderBy("origin_season").show()
ct2 = planes.filter("year >= 2010").crosstab("engines", "manufacturer")
print(sorted(ct2.columns))
ct2.select("engines_manufacturer", "AIRBUS", "BOEING", "EMBRAER").orderBy("engines_manufacturer").show()
fi = flights.freqItems(["origin"], 0.3).first()
print(fi.asDict().keys(), sorted(fi["origin_freqItems"]))
fi2 = planes.stat.freqItems(["engines", "type"], 0.25).first()
print(sorted(fi2["engines_freqItems"]), sorted(fi2["type_freqItems"]))
spark.stop()
