"""Airport report job: results brought to the driver as Rows and as pandas frames (printed with their dtypes),
frames created from pandas and from Rows / tuples with DDL and StructType schemas, Python UDFs returning structs,
arrays and maps (and None), JSON-lines / CSV written with options and read back with a schema, range-based and
row-based window frames, withColumns / withColumnsRenamed / transform / selectExpr, and schema introspection
(dtypes, schema.json, simpleString, fieldNames)."""
import argparse
import datetime
import decimal
import json
import os

import pandas as pd
from pyspark.sql import Row, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (ArrayType, DateType, DecimalType, DoubleType, IntegerType, LongType, MapType,
                               StringType, StructField, StructType)

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("pandas-rows-files").getOrCreate()
d = os.path.join(args.data, "nycflights13")
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")
airports = spark.read.csv(os.path.join(d, "airports.csv.gz"), header=True, inferSchema=True, nullValue="NA")
weather = spark.read.csv(os.path.join(d, "weather.csv.gz"), header=True, inferSchema=True, nullValue="NA")

# --- rows and pandas at the driver ---------------------------------------------------------------------
print(flights.dtypes)
top = (flights.groupBy("origin", "dest").agg(F.count("*").alias("n"), F.avg("arr_delay").alias("avg_arr"),
                                             F.max("dep_delay").alias("worst"))
       .orderBy(F.desc("n"), "origin", "dest").limit(5))
for r in top.collect():
    print(r)
first = top.first()
print(first["origin"], first.dest, first[2], round(first.avg_arr, 3), first.asDict()["worst"])
print(list(first.asDict().keys()), "n" in first, len(first))
pdf = top.toPandas()
print(pdf.dtypes.to_dict())
print(pdf.round(3).to_string(index=False))
nulls = flights.filter("month = 1 AND day = 1 AND dep_time IS NULL").select("flight", "dep_time", "dep_delay",
                                                                            "tailnum").orderBy("flight")
npdf = nulls.toPandas()
print(npdf.dtypes.to_dict())
print(npdf.to_string(index=False))
print(npdf["dep_time"].isna().sum(), npdf["tailnum"].isna().sum())
stamps = weather.filter("origin = 'JFK' AND month = 2 AND day = 14 AND hour < 3").select(
    "time_hour", F.to_date("time_hour").alias("day"), "temp", F.col("wind_dir").cast("decimal(5,1)").alias("dir"))
spdf = stamps.orderBy("time_hour").toPandas()
print(spdf.dtypes.to_dict())
print(spdf.to_string(index=False))
rows = stamps.orderBy("time_hour").collect()
print(repr(rows[0]["day"]), repr(rows[0]["dir"]), type(rows[0]["time_hour"]).__name__)

# --- frames from pandas, Rows and tuples ----------------------------------------------------------------
local = pd.DataFrame({"faa": ["JFK", "LGA", "EWR", "XXX"], "rank": [1, 2, 3, None],
                      "hub": [True, True, False, None], "share": [0.42, 0.31, 0.27, float("nan")]})
hubs = spark.createDataFrame(local)
hubs.printSchema()
hubs.orderBy("faa").show()
typed = spark.createDataFrame(local[["faa", "share"]], "code string, share double")
print(typed.schema.simpleString(), typed.filter(F.isnan("share")).count(), typed.filter("share IS NULL").count())
people = spark.createDataFrame([Row(name="ann", age=31, joined=datetime.date(2013, 1, 5)),
                                Row(name="bob", age=None, joined=datetime.date(2013, 2, 1))])
people.printSchema()
people.show()
schema = StructType([StructField("carrier", StringType(), False), StructField("fleet", IntegerType(), True),
                     StructField("cost", DecimalType(10, 2), True), StructField("since", DateType(), True)])
fleet = spark.createDataFrame([("UA", 621, decimal.Decimal("1234.50"), datetime.date(1931, 4, 6)),
                               ("AA", 601, None, None), ("B6", 193, decimal.Decimal("0.10"), datetime.date(1998, 8, 1))],
                              schema)
fleet.printSchema()
fleet.orderBy("carrier").show()
print(fleet.schema.json())
print(fleet.schema.fieldNames(), [f.nullable for f in fleet.schema.fields])
print(spark.createDataFrame([(1, [1, 2], {"a": 1})], "id long, xs array<int>, m map<string,int>").schema.simpleString())

# --- UDFs returning structured values -------------------------------------------------------------------
split_name = F.udf(lambda s: None if s is None else (s.split(" ")[0], len(s.split(" "))),
                   StructType([StructField("first", StringType()), StructField("words", IntegerType())]))
letters = F.udf(lambda s: sorted(set(c for c in s.upper() if c.isalpha()))[:5] if s else [], ArrayType(StringType()))
counts = F.udf(lambda s: {w: len(w) for w in s.split(" ")[:3]} if s else None, MapType(StringType(), IntegerType()))
named = (airports.filter("faa IN ('JFK', 'LGA', 'EWR', 'BOS', 'ORD')")
         .select("faa", split_name("name").alias("parts"), letters("name").alias("letters"), counts("name").alias("m")))
named.printSchema()
named.orderBy("faa").show(truncate=False)
named.select("faa", "parts.first", F.col("parts.words").alias("w"), F.size("letters").alias("k"),
             F.map_keys("m").alias("keys")).orderBy("faa").show(truncate=False)

# --- files: JSON lines and CSV written and read back -----------------------------------------------------
jan = flights.filter("month = 1 AND day = 2 AND carrier = 'HA'").select("flight", "origin", "dest", "dep_delay",
                                                                        "time_hour")
jpath = os.path.join(args.out, "jan_json")
jan.coalesce(1).write.mode("overwrite").json(jpath)
back = spark.read.json(jpath)
back.printSchema()
back.orderBy("flight").show(truncate=False)
jschema = StructType([StructField("flight", LongType()), StructField("dest", StringType()),
                      StructField("dep_delay", DoubleType()), StructField("missing", StringType())])
spark.read.schema(jschema).json(jpath).orderBy("flight").show()
cpath = os.path.join(args.out, "jan_csv")
(flights.filter("month = 1 AND day = 3 AND carrier = 'AS'").select("flight", "tailnum", "dep_delay", "arr_delay")
 .coalesce(1).write.mode("overwrite").option("header", True).option("nullValue", "NULL").option("sep", ";").csv(cpath))
with open([os.path.join(cpath, f) for f in sorted(os.listdir(cpath)) if f.endswith(".csv")][0]) as fh:
    print(fh.read().strip())
cback = spark.read.option("header", True).option("sep", ";").option("nullValue", "NULL").option("inferSchema", True).csv(cpath)
cback.printSchema()
print(cback.orderBy("flight").collect())
print(sorted(f for f in os.listdir(cpath) if not f.startswith((".", "part-"))))

# --- windows with range and row frames ------------------------------------------------------------------
hourly = (weather.filter("origin = 'EWR' AND month = 3 AND day = 1").select("hour", "temp", "precip")
          .withColumn("h", F.col("hour").cast("long")))
w_range = Window.orderBy("h").rangeBetween(-2, 0)
w_rows = Window.orderBy("h").rowsBetween(-2, 0)
w_all = Window.orderBy("h").rangeBetween(Window.unboundedPreceding, Window.unboundedFollowing)
(hourly.select("h", "temp", F.round(F.avg("temp").over(w_range), 2).alias("avg3h_range"),
               F.round(F.avg("temp").over(w_rows), 2).alias("avg3_rows"),
               F.count("*").over(w_range).alias("n_range"), F.max("temp").over(w_all).alias("day_max"),
               F.first("temp").over(w_all).alias("first"), F.last("temp").over(w_all).alias("last"))
 .orderBy("h").show(8))
wd = Window.partitionBy("origin").orderBy("month").rangeBetween(-1, 1)
(weather.groupBy("origin", "month").agg(F.round(F.avg("temp"), 1).alias("t"))
 .select("origin", "month", "t", F.round(F.avg("t").over(wd), 2).alias("smooth"))
 .orderBy("origin", "month").show(6))

# --- column helpers -------------------------------------------------------------------------------------
def with_speed(df):
    return df.withColumn("mph", F.round(F.col("distance") / (F.col("air_time") / 60), 1))

fast = (flights.filter("month = 6 AND day = 6 AND carrier = 'VX'").transform(with_speed)
        .withColumns({"gain": F.col("dep_delay") - F.col("arr_delay"), "long_haul": F.col("distance") > 2000})
        .withColumnsRenamed({"dep_delay": "dep", "arr_delay": "arr"})
        .selectExpr("flight", "origin || '-' || dest AS route", "dep", "arr", "gain", "mph", "long_haul",
                    "CASE WHEN gain > 10 THEN 'made up' ELSE 'lost' END AS verdict"))
fast.orderBy("flight", "route").show()
print(json.dumps(fast.orderBy("flight", "route").first().asDict(), sort_keys=True))
spark.stop()
