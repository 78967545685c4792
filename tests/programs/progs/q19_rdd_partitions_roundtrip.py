"""How DataFrames and RDDs hand partitions to each other in everyday jobs: df.rdd of a range, a CSV, a Parquet
directory, after repartition/coalesce; records per partition; keyBy/groupByKey on DataFrame rows; an RDD
saved as text and read back in order; sortBy into one partition; flatMap over Row values; toDF of a pipeline
of pairs and aggregation in SQL afterwards."""
import argparse
import os
from operator import add

from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("rdd-partitions").getOrCreate()
sc = spark.sparkContext
d = os.path.join(args.data, "nycflights13")

# --- partition counts across the boundary ------------------------------------------------------------------
print("range:", spark.range(100).rdd.getNumPartitions(), spark.range(0, 100, 1, 5).rdd.getNumPartitions())
print("range glom:", spark.range(0, 10, 1, 3).rdd.map(lambda r: r.id).glom().collect())
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")
print("csv.gz:", flights.rdd.getNumPartitions())
print("repartition(3):", flights.repartition(3).rdd.getNumPartitions(),
      "coalesce(1):", flights.coalesce(1).rdd.getNumPartitions())
print("repartition by col sizes:", sorted(flights.repartition(4, "origin").rdd.glom().map(len).collect()))
pq = os.path.join(args.out, "flights_pq")
flights.select("year", "month", "day", "carrier", "distance").repartition(3).write.parquet(pq)
back = spark.read.parquet(pq)
print("parquet rows:", back.rdd.count(), "partitions >= 1:", back.rdd.getNumPartitions() >= 1)
print("per partition:", spark.range(0, 20, 1, 4).rdd.mapPartitionsWithIndex(
    lambda i, it: [(i, sum(1 for _ in it))]).collect())

# --- rows as keys and values ------------------------------------------------------------------------------------
by_origin = flights.select("origin", "dest", "air_time").rdd.keyBy(lambda r: r.origin)
print("groupByKey sizes:", sorted(by_origin.groupByKey().mapValues(len).collect()))
print("reduce rows:", sorted(by_origin.mapValues(lambda r: r.air_time or 0).reduceByKey(add).collect()))
print("flatMap values:", spark.createDataFrame([("a", 1), ("b", 2)], ["k", "v"]).rdd.flatMap(lambda r: r).collect())
print("row fields:", flights.select("carrier", "flight").rdd.map(lambda r: r.carrier + str(r["flight"])).take(3))
print("sortBy one partition:", flights.select("dest").distinct().rdd.map(lambda r: r.dest)
      .sortBy(lambda s: s, numPartitions=1).take(8))

# --- text round trip -----------------------------------------------------------------------------------------------
txt = os.path.join(args.out, "routes_txt")
routes = flights.select("origin", "dest").distinct().orderBy("origin", "dest").rdd \
    .map(lambda r: "%s->%s" % (r.origin, r.dest))
routes.coalesce(2).saveAsTextFile(txt)
print("part files:", sorted(f for f in os.listdir(txt) if not f.startswith(".")))
again = sc.textFile(txt)
print("read back:", again.count(), again.take(3) == routes.take(3))
print("minPartitions:", sc.textFile(txt, 4).getNumPartitions() >= 2)

# --- pairs to DataFrame to SQL ---------------------------------------------------------------------------------------
daily = flights.rdd.filter(lambda r: r.month == 1 and r.dep_delay is not None) \
    .map(lambda r: ((r.day, r.origin), (r.dep_delay, 1))) \
    .reduceByKey(lambda a, b: (a[0] + b[0], a[1] + b[1])) \
    .map(lambda kv: Row(day=kv[0][0], origin=kv[0][1], n=kv[1][1], delay=kv[1][0]))
ddf = daily.toDF()
ddf.createOrReplaceTempView("daily")
spark.sql("SELECT origin, sum(n) AS flights, round(sum(delay) / sum(n), 2) AS avg_delay "
          "FROM daily GROUP BY origin ORDER BY origin").show()
ddf.where(F.col("day") == 1).orderBy("origin").show()
print("schema:", ddf.schema.simpleString())
spark.stop()
