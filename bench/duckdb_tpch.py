"""DuckDB side of bench/tpch.sh: the 22 TPC-H queries over the same Parquet files,
one warm-up then RUNS timed runs each; prints `qNN <median seconds>` and the total,
then `peak_rss_mib <n>`. Threads limited to the same core count as ember."""
import resource
import statistics
import sys
import time

import duckdb

data, queries = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
con = duckdb.connect()
con.execute(f"SET threads={threads}")
for t in ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]:
    con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{data}/{t}.parquet')")
total = 0.0
for q in range(1, 23):
    sql = open(f"{queries}/q{q:02d}.sql").read()
    stmts = [s for s in sql.split(";") if s.strip()]
    times = []
    for run in range(runs + 1):
        t0 = time.perf_counter()
        for s in stmts:
            con.execute(s).fetchall()
        dt = time.perf_counter() - t0
        if run > 0:
            times.append(dt)
    m = statistics.median(times)
    total += m
    print(f"q{q:02d} {m:.4f}", flush=True)
print(f"total {total:.4f}")
print(f"peak_rss_mib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
