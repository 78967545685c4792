"""Weather: daily summaries pushed into a local sqlite3 store with foreachPartition (one connection
per partition), plus a JSON-lines export with one opened file per partition; the driver reads both back."""
import argparse
import json
import os
import sqlite3
import tempfile
from collections import Counter

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("weather-sqlite-sink").getOrCreate()
weather = spark.read.csv(os.path.join(args.data, "nycflights13", "weather.csv.gz"),
                         header=True, inferSchema=True, nullValue="NA")
daily = (weather.groupBy("origin", "month", "day")
         .agg(F.round(F.max("temp"), 2).alias("max_temp"), F.round(F.sum("precip"), 2).alias("precip"),
              F.count("*").alias("readings")))

db = os.path.join(args.out, "warehouse.db")
with sqlite3.connect(db) as conn:
    conn.execute("CREATE TABLE daily (origin TEXT, month INTEGER, day INTEGER, max_temp REAL, "
                 "precip REAL, readings INTEGER, PRIMARY KEY (origin, month, day))")
conn.close()


def push(rows):
    conn = sqlite3.connect(db, timeout=120)  # one connection for the whole partition
    batch = [(r.origin, r.month, r["day"], r.max_temp, r["precip"], r.readings) for r in rows]
    if batch:
        conn.executemany("INSERT INTO daily VALUES (?, ?, ?, ?, ?, ?)", batch)
        conn.commit()
    conn.close()


daily.repartition(5, "month").foreachPartition(push)

exports = os.path.join(args.out, "exports")
os.makedirs(exports, exist_ok=True)


def export(rows):
    fd, _ = tempfile.mkstemp(dir=exports, suffix=".jsonl")  # one opened file per partition
    with os.fdopen(fd, "w") as f:
        for r in rows:
            hot = r.max_temp is not None and r.max_temp >= 80
            f.write(json.dumps({"origin": r.origin, "month": r.month, "day": r.day, "hot": hot}) + "\n")


daily.filter("precip > 0.5").foreachPartition(export)

conn = sqlite3.connect(db)
print("rows in store:", conn.execute("SELECT COUNT(*) FROM daily").fetchone()[0], "expected", daily.count())
for origin, days, readings, hottest, rain in conn.execute(
        "SELECT origin, COUNT(*), SUM(readings), MAX(max_temp), ROUND(SUM(precip), 2) "
        "FROM daily GROUP BY origin ORDER BY origin"):
    print(f"{origin}: days={days} readings={readings} hottest={hottest} rain={rain}")
print("wettest:", conn.execute(
    "SELECT origin, month, day, precip FROM daily ORDER BY precip DESC, origin LIMIT 3").fetchall())
conn.close()

docs = []
for name in sorted(os.listdir(exports)):
    with open(os.path.join(exports, name)) as f:
        docs.extend(json.loads(line) for line in f)
docs.sort(key=lambda d: (d["origin"], d["month"], d["day"]))
print("exported", len(docs), "heavy-rain days; first:", docs[0], "last:", docs[-1])
print("by month:", sorted(Counter(d["month"] for d in docs).items()), "hot and wet:", sum(d["hot"] for d in docs))
spark.stop()
