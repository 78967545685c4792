"""Curated-zone ETL over flights: every join type (inner / left / right / full / semi / anti / cross) on column
lists and on expressions with duplicate column names resolved through the source frames, null join keys, joins
after aggregation; SQL views (CREATE OR REPLACE TEMP VIEW ... AS, spark.table, catalog listing, SHOW TABLES,
DESCRIBE), SQL joins with USING and NATURAL, set operations in SQL; dedup of the latest record per key with a
window, surrogate keys with row_number, a slowly-changing-dimension style merge written to Parquet and read back."""
import argparse
import os

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("joins-views-etl").getOrCreate()
d = os.path.join(args.data, "nycflights13")
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")
planes = spark.read.csv(os.path.join(d, "planes.csv.gz"), header=True, inferSchema=True, nullValue="NA")
airlines = spark.read.csv(os.path.join(d, "airlines.csv.gz"), header=True, inferSchema=True)
airports = spark.read.csv(os.path.join(d, "airports.csv.gz"), header=True, inferSchema=True, nullValue="NA")

# --- joins through the DataFrame API ------------------------------------------------------------------
day = flights.filter("month = 2 AND day = 3 AND origin = 'LGA' AND hour = 6").select(
    "carrier", "flight", "tailnum", "dest", "dep_delay")
print("day rows:", day.count())
few_planes = planes.filter("year < 2000 OR year IS NULL").select("tailnum", "year", "seats")
for how in ["inner", "left", "right", "full", "left_semi", "left_anti"]:
    j = day.join(few_planes, "tailnum", how)
    print(how, j.count(), j.columns)
(day.join(few_planes, "tailnum", "left").select("carrier", "flight", "tailnum", "year", "seats")
 .orderBy("carrier", "flight").show(8))
(day.join(few_planes, "tailnum", "full").filter("carrier IS NULL").select("tailnum", "year")
 .orderBy(F.desc("year"), "tailnum").show(3))
ports = airports.select("faa", "name", "tzone")
routes = day.join(ports, day.dest == ports.faa, "left").select(day.carrier, day.flight, ports["name"].alias("to"),
                                                               "tzone")
routes.orderBy("carrier", "flight").show(5, truncate=False)
a = day.alias("a")
b = flights.filter("month = 2 AND day = 3 AND origin = 'JFK'").alias("b")
pairs = (a.join(b, (F.col("a.dest") == F.col("b.dest")) & (F.col("a.carrier") == F.col("b.carrier")))
         .select(F.col("a.carrier"), F.col("a.dest"), F.col("a.flight").alias("lga_flight"),
                 F.col("b.flight").alias("jfk_flight")))
print("same carrier and destination:", pairs.count())
pairs.orderBy("carrier", "dest", "lga_flight", "jfk_flight").show(5)
dup = day.join(airlines, day.carrier == airlines.carrier)
print(dup.columns)
dup.select(day.carrier, airlines.name, "flight").orderBy("flight").show(3, truncate=False)
keys = spark.createDataFrame([("UA", 1), (None, 2), ("DL", 3)], "carrier string, k int")
print(sorted(tuple(r) for r in keys.join(airlines, "carrier", "left").select("k", "name").collect()))
print(keys.join(airlines, keys.carrier.eqNullSafe(airlines.carrier), "inner").count(),
      keys.join(airlines, "carrier", "left_anti").count())
hours = spark.range(3).withColumnRenamed("id", "slot")
print(day.select("carrier").distinct().crossJoin(hours).count())
busy = flights.groupBy("tailnum").agg(F.count("*").alias("flights")).filter("flights > 1000")
print(busy.join(planes, "tailnum").select("tailnum", "flights", "manufacturer").orderBy(F.desc("flights")).first())
mixed = day.join(few_planes.withColumnRenamed("tailnum", "tail"), F.col("tailnum") == F.col("tail"), "left_outer")
print(mixed.filter("tail IS NULL").count(), mixed.filter("tail IS NOT NULL").count())

# --- SQL views and the catalog ------------------------------------------------------------------------
flights.createOrReplaceTempView("flights")
airlines.createOrReplaceTempView("airlines")
planes.createOrReplaceTempView("planes")
spark.sql("""CREATE OR REPLACE TEMP VIEW feb AS
             SELECT carrier, origin, dest, dep_delay, arr_delay, tailnum FROM flights WHERE month = 2""")
print(sorted(t.name for t in spark.catalog.listTables()))
print(spark.catalog.tableExists("feb"), spark.catalog.tableExists("nope"))
spark.sql("SHOW TABLES").orderBy("tableName").show()
spark.sql("DESCRIBE feb").show()
print(spark.table("feb").count(), spark.table("feb").columns)
spark.sql("""SELECT f.carrier, a.name, count(*) AS n FROM feb f JOIN airlines a USING (carrier)
             GROUP BY f.carrier, a.name ORDER BY n DESC, f.carrier LIMIT 4""").show(truncate=False)
spark.sql("""SELECT * FROM (SELECT carrier, name FROM airlines WHERE carrier < 'C') NATURAL JOIN
             (SELECT carrier, count(*) AS flights FROM feb GROUP BY carrier) ORDER BY carrier""").show()
spark.sql("""SELECT dest FROM feb WHERE origin = 'EWR' AND carrier = 'AA'
             INTERSECT SELECT dest FROM feb WHERE origin = 'LGA' AND carrier = 'AA' ORDER BY dest""").show()
spark.sql("""SELECT dest FROM feb WHERE carrier = 'VX' UNION SELECT dest FROM feb WHERE carrier = 'AS'
             ORDER BY dest""").show()
spark.sql("""SELECT dest FROM feb WHERE carrier = 'UA' AND origin = 'EWR'
             EXCEPT SELECT dest FROM feb WHERE carrier = 'UA' AND origin <> 'EWR' ORDER BY dest LIMIT 5""").show()
spark.sql("""SELECT p.manufacturer, count(DISTINCT f.tailnum) AS planes, round(avg(f.arr_delay), 2) AS delay
             FROM feb f LEFT SEMI JOIN planes p2 ON f.tailnum = p2.tailnum
             JOIN planes p ON f.tailnum = p.tailnum
             GROUP BY p.manufacturer HAVING count(DISTINCT f.tailnum) > 200 ORDER BY planes DESC""").show()
spark.sql("""SELECT carrier, count(*) AS unknown FROM feb f LEFT ANTI JOIN planes p ON f.tailnum = p.tailnum
             GROUP BY carrier ORDER BY unknown DESC, carrier""").show(5)
spark.catalog.dropTempView("feb")
print(spark.catalog.tableExists("feb"))

# --- latest record per key, surrogate keys and a merge written to Parquet ----------------------------
updates = spark.createDataFrame([
    ("N10156", "EMBRAER", 55, "2013-01-01"), ("N10156", "EMBRAER", 56, "2013-06-01"),
    ("N102UW", "AIRBUS", 182, "2013-03-01"), ("N999ZZ", "BOEING", 150, "2013-04-01"),
    ("N999ZZ", "BOEING", None, "2013-05-01")], "tailnum string, manufacturer string, seats int, changed string")
w = Window.partitionBy("tailnum").orderBy(F.desc("changed"))
latest = (updates.withColumn("rn", F.row_number().over(w)).filter("rn = 1").drop("rn")
          .withColumn("changed", F.to_date("changed")))
latest.orderBy("tailnum").show()
dim = planes.select("tailnum", "manufacturer", "seats").withColumn("changed", F.lit(None).cast("date"))
merged = (dim.join(latest, "tailnum", "left_anti").unionByName(latest)
          .withColumn("sk", F.row_number().over(Window.orderBy("tailnum"))))
path = os.path.join(args.out, "dim_planes")
merged.write.mode("overwrite").parquet(path)
back = spark.read.parquet(path)
print(back.count(), dim.count(), back.filter("changed IS NOT NULL").count())
back.filter(F.col("tailnum").isin("N10156", "N102UW", "N999ZZ", "N10575")).orderBy("sk").show()
back.printSchema()
print(back.agg(F.min("sk"), F.max("sk"), F.countDistinct("sk")).first())
spark.stop()
