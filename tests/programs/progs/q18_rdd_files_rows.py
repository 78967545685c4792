"""RDD jobs over files and DataFrames: wholeTextFiles of a directory, textFile of a CSV parsed by hand into typed
Rows and back into a DataFrame queried with SQL, df.rdd of columns with dots and dashes, zipWithIndex on DataFrame
rows, mapPartitions building Rows with pandas, persist/unpersist with storage levels, sortByKey with partitions,
repartitionAndSortWithinPartitions, treeAggregate, runJob and fixed-length binary records."""
import argparse
import os
from operator import add

from pyspark import StorageLevel
from pyspark.sql import Row, SparkSession

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("rdd-files-rows").getOrCreate()
sc = spark.sparkContext
d = os.path.join(args.data, "nycflights13")

# --- a directory of small files -------------------------------------------------------------------------------
notes = os.path.join(args.out, "notes")
os.makedirs(notes, exist_ok=True)
for i, text in enumerate(["alpha beta\ngamma\n", "delta\n", "epsilon zeta eta\ntheta\n", ""]):
    with open(os.path.join(notes, "note-%d.txt" % i), "w") as f:
        f.write(text)
whole = sc.wholeTextFiles(notes)
print("wholeTextFiles:", sorted((os.path.basename(p), len(t)) for p, t in whole.collect()))
print("wholeTextFiles prefix:", whole.keys().map(lambda p: p.split(":")[0]).distinct().collect())
print("words per file:", sorted(whole.mapValues(lambda t: len(t.split())).map(
    lambda kv: (os.path.basename(kv[0]), kv[1])).collect()))
print("lines:", sc.textFile(notes).count(), sc.textFile(os.path.join(notes, "note-[02].txt")).collect())

# --- CSV parsed by hand into typed Rows ---------------------------------------------------------------------------
lines = sc.textFile(os.path.join(d, "airports.csv.gz"))
header = lines.first()
print("header:", header)
cols = header.split(",")


def parse(line):
    parts = line.split(",")
    rec = dict(zip(cols, parts))
    try:
        alt = int(rec["alt"])
    except (KeyError, ValueError):
        alt = None
    return Row(faa=rec["faa"].strip('"'), alt=alt, tz=rec.get("tz"))


airports = lines.filter(lambda ln: ln != header).map(parse)
print("parsed:", airports.take(2))
adf = airports.toDF()
adf.createOrReplaceTempView("airports_rdd")
spark.sql("SELECT tz, count(*) AS n, max(alt) AS top FROM airports_rdd GROUP BY tz ORDER BY n DESC, tz").show(5)
print("high:", airports.filter(lambda r: r.alt is not None and r.alt > 7000).map(lambda r: r.faa).collect())

# --- df.rdd with dotted and dashed names ----------------------------------------------------------------------------
weird = spark.createDataFrame([(1, "a", 2.0), (2, "b", None)], ["id", "geo.lat", "wind-speed"])
wrows = weird.rdd.collect()
print("weird rows:", wrows)
print("by key:", [(r["geo.lat"], r["wind-speed"]) for r in wrows], wrows[0].asDict())
back = weird.rdd.map(lambda r: Row(**{"id": r.id * 10, "geo.lat": r["geo.lat"].upper()})).toDF()
back.printSchema()
back.show()

# --- zipWithIndex on DataFrame rows, joined back as a DataFrame -----------------------------------------------------
carriers = spark.read.csv(os.path.join(d, "airlines.csv.gz"), header=True).orderBy("carrier")
indexed = carriers.rdd.zipWithIndex().map(lambda t: Row(idx=t[1], carrier=t[0].carrier))
idf = spark.createDataFrame(indexed)
idf.join(carriers, "carrier").orderBy("idx").select("idx", "carrier", "name").show(4, truncate=False)
print("numbered partitions:", indexed.getNumPartitions(), idf.count())

# --- mapPartitions with pandas, Rows out ------------------------------------------------------------------------------
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")


def summarize(it):
    import pandas as pd
    pdf = pd.DataFrame([r.asDict() for r in it])
    if pdf.empty:
        return
    g = pdf.groupby("carrier")["arr_delay"].agg(["count", "sum"])
    for carrier, row in g.iterrows():
        yield Row(carrier=carrier, n=int(row["count"]), total=float(row["sum"]))


parts = flights.select("carrier", "arr_delay").rdd.mapPartitions(summarize)
totals = parts.map(lambda r: (r.carrier, (r.n, r.total))).reduceByKey(lambda a, b: (a[0] + b[0], a[1] + b[1]))
tdf = totals.map(lambda kv: Row(carrier=kv[0], n=kv[1][0], avg=round(kv[1][1] / kv[1][0], 3))).toDF()
tdf.orderBy("carrier").show(5)

# --- persistence and sorting ------------------------------------------------------------------------------------------
pairs = sc.parallelize([(k % 7, k) for k in range(40)], 4)
grouped = pairs.groupByKey(3).persist(StorageLevel.MEMORY_AND_DISK)
print("level:", grouped.getStorageLevel(), grouped.is_cached)
print("sizes:", sorted(grouped.mapValues(len).collect()))
grouped.unpersist()
print("after unpersist:", grouped.is_cached, grouped.getStorageLevel())
print("cache level:", pairs.cache().getStorageLevel())
print("sortByKey 2:", pairs.sortByKey(numPartitions=2).glom().map(lambda p: [k for k, _ in p]).collect())
print("sortByKey keyfunc:", sc.parallelize(["b", "A", "c", "D"], 2).map(lambda s: (s, 1))
      .sortByKey(keyfunc=lambda k: k.lower()).keys().collect())
print("repartitionAndSort:", pairs.repartitionAndSortWithinPartitions(2, lambda k: k % 2).glom()
      .map(lambda p: [k for k, _ in p][:6]).collect())
print("treeAggregate:", pairs.values().treeAggregate(0, add, add, depth=2),
      "treeReduce:", pairs.values().treeReduce(max))
print("runJob:", sc.runJob(pairs, lambda it: [sum(v for _, v in it)], [3, 1]))
print("countApproxDistinct near 1000:", 950 < sc.parallelize(range(1000), 4).countApproxDistinct() < 1050)

# --- fixed-length records ------------------------------------------------------------------------------------------------
rec_path = os.path.join(args.out, "records.bin")
with open(rec_path, "wb") as f:
    for i in range(5):
        f.write(i.to_bytes(2, "big") + bytes([65 + i, 66 + i]))
print("binaryRecords:", sc.binaryRecords(rec_path, 4).map(lambda b: (int.from_bytes(b[:2], "big"), b[2:].decode()))
      .collect())
spark.stop()
