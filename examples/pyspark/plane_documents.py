"""Planes: join the fleet with its 2013 flight counts and push one JSON document per busy plane into a
document directory with df.foreach (Row access by attribute, by key and into a nested struct)."""
import argparse
import json
import os

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

parser = argparse.ArgumentParser()
parser.add_argument("--data", default="examples/flights/data")
parser.add_argument("--out", default="target/plane-docs")
args = parser.parse_args()

spark = SparkSession.builder.appName("plane-documents").getOrCreate()
d = args.data  # the directory holding planes.csv.gz and flights.csv.gz
planes = spark.read.csv(os.path.join(d, "planes.csv.gz"), header=True, inferSchema=True, nullValue="NA")
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")

usage = flights.groupBy("tailnum").agg(F.count("*").alias("flights"), F.sum("distance").alias("miles"),
                                       F.collect_set("carrier").alias("carriers"))
docs = (planes.join(usage, "tailnum")
        .filter("flights >= 330 OR size(carriers) > 1")
        .select("tailnum", F.struct("manufacturer", "model", "engines").alias("spec"), "seats",
                F.col("year").alias("built"), "flights", "miles", F.array_sort("carriers").alias("carriers")))

store = os.path.join(args.out, "docs")
os.makedirs(store, exist_ok=True)


def put(row):
    doc = {"_id": row.tailnum, "maker": row.spec.manufacturer, "model": row["spec"]["model"],
           "engines": row.spec["engines"], "seats": row["seats"], "built": row.built,
           "flights": row["flights"], "miles": row.miles, "carriers": list(row.carriers)}
    with open(os.path.join(store, row.tailnum + ".json"), "w") as f:
        json.dump(doc, f, sort_keys=True)


docs.foreach(put)

loaded = []
for name in sorted(os.listdir(store)):
    with open(os.path.join(store, name)) as f:
        loaded.append(json.load(f))
print("documents:", len(loaded), "rows:", docs.count())
for doc in sorted(loaded, key=lambda x: (-x["flights"], x["_id"]))[:5]:
    print(json.dumps(doc, sort_keys=True))
by_maker = {}
for doc in loaded:
    n, miles = by_maker.get(doc["maker"], (0, 0))
    by_maker[doc["maker"]] = (n + 1, miles + doc["miles"])
for maker, (n, miles) in sorted(by_maker.items()):
    print(f"{maker:<20} planes={n:>3} miles={miles}")
print("oldest:", sorted((x["built"], x["_id"]) for x in loaded if x["built"] is not None)[:3],
      "unknown build year:", sorted(x["_id"] for x in loaded if x["built"] is None))
print("multi-carrier planes:", sorted((x["_id"], x["carriers"]) for x in loaded if len(x["carriers"]) > 1))
spark.stop()
