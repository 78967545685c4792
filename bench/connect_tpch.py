"""TPC-H through the PySpark client (Spark Connect) against a server: registers the
8 Parquet tables as temporary views, runs the 22 queries with `spark.sql(q).collect()`
(a warm-up, then `runs` timed runs; median per query), and times the Connect round
trip of `spark.sql("SELECT 1").collect()`. Prints `qNN seconds`, `total`, `select1_ms`.

Usage: connect_tpch.py URL DATA_DIR QUERIES_DIR RUNS
"""

import statistics
import sys
import time
from pathlib import Path

from pyspark.sql import SparkSession

url, data, queries, runs = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
spark = SparkSession.builder.remote(url).getOrCreate()
for t in ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]:
    spark.read.parquet(str(data / f"{t}.parquet")).createOrReplaceTempView(t)
total = 0.0
for i in range(1, 23):
    q = (queries / f"q{i:02d}.sql").read_text().strip().rstrip(";")
    spark.sql(q).collect()  # warm-up
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        spark.sql(q).collect()
        ts.append(time.perf_counter() - t0)
    m = statistics.median(ts)
    total += m
    print(f"q{i:02d} {m:.4f}", flush=True)
print(f"total {total:.4f}")
ts = []
for _ in range(51):
    t0 = time.perf_counter()
    spark.sql("SELECT 1").collect()
    ts.append(time.perf_counter() - t0)
print(f"select1_ms {statistics.median(ts[1:]) * 1000:.2f}")
spark.stop()
