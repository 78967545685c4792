"""TPC-H through the PySpark client (Spark Connect) against several servers at once:
registers the 8 Parquet tables as temporary views on each, then for each of the 22
queries runs `spark.sql(q).collect()` once per server as a warm-up and `runs` timed
rounds, each round running the query on every server in turn (so that noise on the
machine falls on all of them alike); median per query and server. Then times the
Connect round trip of `spark.sql("SELECT 1").collect()` the same way (100 rounds).

Prints a table of seconds per query and server, the totals, their ratio to the last
server, and the SELECT 1 medians in ms.

Usage: connect_tpch.py DATA_DIR QUERIES_DIR RUNS NAME=URL [NAME=URL ...]
"""

import statistics
import sys
import time
from pathlib import Path

from pyspark.sql import SparkSession

data, queries, runs = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
servers = dict(a.split("=", 1) for a in sys.argv[4:])
sessions = {n: SparkSession.builder.remote(u).create() for n, u in servers.items()}
for spark in sessions.values():
    for t in ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]:
        spark.read.parquet(str(data / f"{t}.parquet")).createOrReplaceTempView(t)


def timed(spark, q):
    t0 = time.perf_counter()
    spark.sql(q).collect()
    return time.perf_counter() - t0


names = list(sessions)
medians = {n: {} for n in names}
print(f"{'query':<8}" + "".join(f"{n + ' s':>12}" for n in names), flush=True)
for i in range(1, 23):
    q = (queries / f"q{i:02d}.sql").read_text().strip().rstrip(";")
    ts = {n: [] for n in names}
    for n in names:
        timed(sessions[n], q)  # warm-up
    for r in range(runs):
        # Alternate which server goes first so neither always follows the other.
        for n in names if r % 2 == 0 else reversed(names):
            ts[n].append(timed(sessions[n], q))
    for n in names:
        medians[n][i] = statistics.median(ts[n])
    print(f"q{i:02d}     " + "".join(f"{medians[n][i]:>12.3f}" for n in names), flush=True)
totals = {n: sum(medians[n].values()) for n in names}
print(f"{'total':<8}" + "".join(f"{totals[n]:>12.3f}" for n in names))
last = names[-1]
for n in names[:-1]:
    print(f"ratio {n}/{last}: {totals[n] / totals[last]:.2f}")

ones = {n: [] for n in names}
for n in names:
    timed(sessions[n], "SELECT 1")
for r in range(100):
    for n in names if r % 2 == 0 else reversed(names):
        ones[n].append(timed(sessions[n], "SELECT 1"))
print("SELECT 1 round trip: " + ", ".join(f"{n} {statistics.median(ones[n]) * 1000:.2f} ms" for n in names))
for spark in sessions.values():
    spark.stop()
