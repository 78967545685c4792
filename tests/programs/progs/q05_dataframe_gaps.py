"""Flights and planes: case-insensitive column names, dict aggregates, toDF with dotted / dashed names and
backtick references, describe() / summary(), show() truncation and vertical mode, window functions."""
import argparse
import os

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("dataframe-gaps").getOrCreate()
d = os.path.join(args.data, "nycflights13")
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")
airlines = spark.read.csv(os.path.join(d, "airlines.csv.gz"), header=True, inferSchema=True)
planes = spark.read.csv(os.path.join(d, "planes.csv.gz"), header=True, inferSchema=True, nullValue="NA")

jan = flights.filter(F.col("MONTH") == 1).select("Origin", F.col("CARRIER"), "dep_delay", "ARR_DELAY", "Flight")
print(jan.columns)
jan.createOrReplaceTempView("jan")
spark.sql("SELECT ORIGIN, count(*) AS N FROM JAN WHERE Dep_Delay > 120 GROUP BY origin ORDER BY Origin").show()

stats = jan.groupBy("origin").agg({"dep_delay": "max", "arr_delay": "avg"})
print(sorted(stats.columns))  # the order of dict aggregates differs between classic and Connect
stats.select("origin", "max(dep_delay)", F.col("`avg(arr_delay)`")).orderBy("origin").show()
stats.withColumnRenamed("max(dep_delay)", "worst").filter("worst > 1000").select("origin", "worst").orderBy("origin").show()

odd = jan.toDF("origin", "carrier.code", "dep-delay", "arr.delay", "flight no")
print(odd.columns)
odd = odd.withColumnRenamed("carrier.code", "carrier").withColumnRenamed("ARR.DELAY", "arr_delay")
print(odd.columns)
odd.filter("`dep-delay` > 300").select("carrier", F.col("`dep-delay`").alias("late_by"), "`flight no`") \
    .orderBy(F.desc("late_by"), "carrier").show()

planes.select("year", "seats", "engines").describe().show()
planes.select("seats", "manufacturer").summary("count", "min", "25%", "50%", "75%", "max").show()

airlines.orderBy("carrier").show(4, truncate=12)
airlines.filter(F.col("carrier").isin("AA", "UA")).orderBy("carrier").show(vertical=True)
airlines.orderBy("carrier").show(3, truncate=False, vertical=True)

by_origin = Window.partitionBy("origin").orderBy(F.desc("dep_delay"), "carrier", "flight")
whole = Window.partitionBy("origin")
(jan.filter("dep_delay IS NOT NULL")
 .withColumn("rank", F.row_number().over(by_origin))
 .withColumn("origin_total", F.sum("dep_delay").over(whole))
 .withColumn("flights_at_origin", F.count("*").over(whole))
 .filter("rank <= 3").orderBy("origin", "rank").show())

share = (flights.groupBy("origin", "carrier").count()
         .withColumn("pct", F.round(F.col("count") * 100 / F.sum("count").over(
             Window.partitionBy("origin").rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)), 1))
         .withColumn("cum", F.sum("count").over(Window.partitionBy("origin").orderBy(F.desc("count"), "carrier"))))
share.filter("pct >= 15").orderBy("origin", F.desc("count")).show()
spark.stop()
