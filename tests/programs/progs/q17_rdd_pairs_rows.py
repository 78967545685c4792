"""Pair RDDs and Rows in the style of production jobs: df.rdd -> filter -> pairs -> reduceByKey -> toDF(schema)
for delay per hour, aggregateByKey / combineByKey averages, groupByKey with persist, word count with sortByKey,
mapPartitions scoring a batch with pandas, zipWithIndex numbering joined back, joins of every kind (printed in
the order Spark gives them), cogroup, subtractByKey, Rows with dotted and dashed field names, createDataFrame of an
RDD of tuples, dicts and Rows with and without a schema, partitionBy with a custom function, foreachPartition."""
import argparse
import os
from operator import add

from pyspark.sql import Row, SparkSession
from pyspark.sql.types import DoubleType, IntegerType, LongType, StringType, StructField, StructType

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("rdd-pairs-rows").getOrCreate()
sc = spark.sparkContext
d = os.path.join(args.data, "nycflights13")
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")

# --- revenue-style aggregation through df.rdd --------------------------------------------------------------
rows = flights.select("origin", "hour", "dep_delay", "distance").rdd
print("first row:", rows.first())
per_hour = rows.filter(lambda r: r.dep_delay is not None and r.origin == "JFK") \
    .map(lambda r: (r.hour, (r.dep_delay, 1))) \
    .reduceByKey(lambda a, b: (a[0] + b[0], a[1] + b[1]), numPartitions=4) \
    .map(lambda kv: (kv[0], kv[1][1], round(kv[1][0] / kv[1][1], 2)))
schema = StructType([StructField("hour", IntegerType()), StructField("flights", LongType()),
                     StructField("avg_delay", DoubleType())])
hourly = spark.createDataFrame(per_hour, schema)
hourly.printSchema()
hourly.orderBy("hour").show(30)
print("by partition:", per_hour.map(lambda t: t[0]).glom().map(sorted).collect())

# --- averages with aggregateByKey and combineByKey -----------------------------------------------------------
pairs = rows.filter(lambda r: r.dep_delay is not None).map(lambda r: (r.origin, r.dep_delay))
agg = pairs.aggregateByKey((0, 0), lambda acc, v: (acc[0] + v, acc[1] + 1),
                           lambda a, b: (a[0] + b[0], a[1] + b[1]))
print("aggregateByKey:", sorted((k, s, n) for k, (s, n) in agg.collect()))
comb = pairs.combineByKey(lambda v: (v, 1), lambda c, v: (c[0] + v, c[1] + 1),
                          lambda a, b: (a[0] + b[0], a[1] + b[1]), 2)
print("combineByKey:", sorted((k, round(s / n, 4)) for k, (s, n) in comb.collect()))
print("foldByKey:", sorted(pairs.foldByKey(0, max).collect()))
print("countByKey:", sorted(pairs.countByKey().items()))

# --- groupByKey with persist ------------------------------------------------------------------------------------
small = sc.parallelize([("b", 2), ("a", 1), ("c", 5), ("a", 3), ("b", 4), ("a", 6), ("d", 0)], 3)
grouped = small.groupByKey().persist()
print("groupByKey:", grouped.mapValues(list).collect())
print("groupByKey sorted:", sorted(grouped.mapValues(sorted).collect()))
print("grouped count:", grouped.count(), grouped.getNumPartitions())
print("reduceByKey order:", small.reduceByKey(add).collect())
print("reduceByKey 2:", small.reduceByKey(add, 2).glom().collect())
print("groupBy:", sorted((k, sorted(v)) for k, v in sc.parallelize(range(10), 2).groupBy(lambda x: x % 3).collect()))
print("distinct keys:", small.keys().distinct().collect())

# --- word count with sortByKey ---------------------------------------------------------------------------------
airlines = sc.textFile(os.path.join(d, "airlines.csv.gz"))
words = airlines.flatMap(lambda ln: ln.replace(",", " ").replace('"', "").split()) \
    .map(lambda w: (w.lower(), 1)).reduceByKey(add)
by_count = words.map(lambda kv: (kv[1], kv[0])).sortByKey(ascending=False)
print("top words:", by_count.take(6))
print("sortByKey:", words.sortByKey().take(5))
print("sortBy:", words.sortBy(lambda kv: (-kv[1], kv[0])).take(5))

# --- mapPartitions with pandas -------------------------------------------------------------------------------------
def score(batch):
    import pandas as pd
    pdf = pd.DataFrame(list(batch), columns=["origin", "hour", "dep_delay", "distance"])
    if pdf.empty:
        return iter([])
    pdf["late"] = pdf["dep_delay"].fillna(0) > 15
    out = pdf.groupby("origin").agg(n=("late", "size"), late=("late", "sum")).reset_index()
    return iter([(r.origin, int(r.n), int(r.late)) for r in out.itertuples()])


scored = rows.mapPartitions(score).map(lambda t: (t[0], (t[1], t[2]))) \
    .reduceByKey(lambda a, b: (a[0] + b[0], a[1] + b[1]))
print("late share:", sorted((k, n, late, round(late / n, 3)) for k, (n, late) in scored.collect()))

# --- zipWithIndex numbering joined back --------------------------------------------------------------------------------
names = airlines.filter(lambda ln: not ln.startswith("carrier")).map(lambda ln: ln.split(",", 1)[1].strip('"'))
numbered = names.zipWithIndex().map(lambda t: (t[1], t[0]))
codes = airlines.filter(lambda ln: not ln.startswith("carrier")).map(lambda ln: ln.split(",")[0]) \
    .zipWithIndex().map(lambda t: (t[1], t[0]))
print("numbered join:", sorted(numbered.join(codes).map(lambda kv: (kv[0], kv[1][1], kv[1][0])).collect())[:5])

# --- joins ---------------------------------------------------------------------------------------------------------------
left = sc.parallelize([("a", 1), ("b", 2), ("c", 3), ("a", 4)], 2)
right = sc.parallelize([("a", "x"), ("c", "y"), ("d", "z"), ("a", "w")], 2)
print("join:", left.join(right).collect())
print("leftOuterJoin:", left.leftOuterJoin(right).collect())
print("rightOuterJoin:", left.rightOuterJoin(right).collect())
print("fullOuterJoin:", left.fullOuterJoin(right, 3).collect())
print("cogroup:", [(k, (sorted(a), sorted(b))) for k, (a, b) in sorted(left.cogroup(right).collect())])
print("subtractByKey:", left.subtractByKey(right).collect())
print("subtract:", sorted(sc.parallelize([1, 2, 3, 4, 5]).subtract(sc.parallelize([2, 4])).collect()))
print("intersection:", sorted(sc.parallelize([1, 2, 3, 4]).intersection(sc.parallelize([3, 4, 5])).collect()))
print("lookup:", left.lookup("a"))
print("collectAsMap:", sorted(left.collectAsMap().items()))

# --- custom partitioning ----------------------------------------------------------------------------------------------
by_len = sc.parallelize(["kiwi", "fig", "banana", "apple", "plum", "pear", "cherry"], 2) \
    .map(lambda w: (w, len(w))).partitionBy(3, lambda k: len(k))
print("partitionBy:", by_len.glom().collect())
print("mapValues keeps partitioning:", by_len.mapValues(lambda n: n * 2).glom().map(len).collect())

# --- Rows, dicts, tuples into DataFrames -------------------------------------------------------------------------------
people = sc.parallelize([Row(name="Ann", age=31, **{"home.city": "Oslo", "zip-code": "0150"}),
                         Row(name="Bob", age=None, **{"home.city": "Bergen", "zip-code": "5003"})])
pdf = people.toDF()
pdf.printSchema()
pdf.select("name", "`home.city`", "`zip-code`").show()
tuples = sc.parallelize([(1, "x", 2.5), (2, "y", None)])
tuples.toDF(["id", "tag", "score"]).show()
tuples.toDF().printSchema()
spark.createDataFrame(tuples, "id INT, tag STRING, score DOUBLE").show()
dicts = sc.parallelize([{"b": 1, "a": "u"}, {"b": 2, "a": "v"}])
spark.createDataFrame(dicts).show()
spark.createDataFrame(sc.parallelize([1, 2, 3]), IntegerType()).show()
spark.createDataFrame(sc.parallelize([("k", 1)]), StructType([StructField("k", StringType()),
                                                              StructField("v", IntegerType())])).printSchema()
back = hourly.rdd.map(lambda r: r.asDict()).filter(lambda r: r["hour"] in (5, 6)).collect()
print("asDict:", sorted(back, key=lambda r: r["hour"]))

# --- foreachPartition ------------------------------------------------------------------------------------------------
acc = sc.accumulator(0)


def count_rows(it):
    acc.add(sum(1 for _ in it))


rows.foreachPartition(count_rows)
print("foreachPartition rows:", acc.value)
spark.stop()
