"""Python-side costs of a PySpark engine: program start-up and Python UDF throughput.

Two parts, each its own subcommand (bench/python_workers.sh runs both):

  python_workers.py submit RUNS OUT_DIR NAME=CMD [NAME=CMD ...]
      Start-to-exit wall time of a trivial PySpark program (SparkSession, print
      spark.range(10).count(), stop; written to OUT_DIR) run by each command line
      (CMD is split as a shell would, without expansions; the program's path is
      appended). One untimed run each first (disk
      caches), then RUNS timed rounds, each round running every command in turn,
      alternating which goes first; each run must exit 0 and print 10. Prints the
      median seconds per command and their ratio to the last one.

  python_workers.py udfs ROWS RUNS LOG_DIR NAME=URL [NAME=URL ...]
      Throughput of Python functions over spark.range(ROWS): a pickled @udf, an
      Arrow-optimized @udf(useArrow=True), a scalar pandas_udf (Series -> Series)
      and mapInPandas, each computing id + 1 and reduced on the server with
      sum(), so only one row goes back to the client; the sum is checked against
      ROWS * (ROWS + 1) / 2. URL is sc://HOST:PORT for a Spark Connect server, or
      classic:PYTHON for Apache Spark classic (a local[2] SparkSession in a child
      process that runs this file under PYTHON, the interpreter of a full pyspark
      installation, with PYSPARK_PYTHON=PYTHON for its workers, and takes its
      workloads over stdin; its stderr goes to LOG_DIR/spark-classic.log). Per workload: one
      untimed run per engine, then RUNS rounds, each running the workload on
      every engine in turn, alternating which goes first; the median per engine
      becomes M rows/s. Prints a table with the ratios of the first engine to
      each other one; a workload that fails or returns a wrong sum shows as
      `error`/`wrong`, with the message printed under the table.

  python_workers.py classic ROWS   (internal: the child of classic:PYTHON)
"""

import json
import os
import shlex
import statistics
import subprocess
import sys
import time

PROGRAM = """\
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("t").getOrCreate()
print(spark.range(10).count())
spark.stop()
"""

WORKLOADS = ["udf", "arrow udf", "pandas_udf", "mapInPandas"]


# ---------------------------------------------------------------- part 1: submit


def submit(runs, out_dir, cmds):
    prog = f"{out_dir}/python_workers_prog.py"
    with open(prog, "w") as f:
        f.write(PROGRAM)

    def once(name):
        argv = shlex.split(cmds[name]) + [prog]
        t0 = time.perf_counter()
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if p.returncode != 0 or "10" not in p.stdout.split():
            sys.exit(
                f"{name}: `{' '.join(argv)}` exited {p.returncode}; stdout: {p.stdout.strip()!r}\n"
                f"stderr (last 2000 chars):\n{p.stderr[-2000:]}"
            )
        return dt

    names = list(cmds)
    for n in names:
        once(n)  # warm-up
    ts = {n: [] for n in names}
    for r in range(runs):
        for n in names if r % 2 == 0 else reversed(names):
            ts[n].append(once(n))
    med = {n: statistics.median(ts[n]) for n in names}
    print(f"{'command':<14}{'median s':>10}   runs (s)")
    for n in names:
        print(f"{n:<14}{med[n]:>10.3f}   " + " ".join(f"{t:.3f}" for t in ts[n]))
    last = names[-1]
    for n in names[:-1]:
        print(f"ratio {n}/{last}: {med[n] / med[last]:.3f}")


# ---------------------------------------------------------------- part 2: udfs


def make_workloads():
    """The four workloads as functions of (spark, rows) -> sum of id + 1. Built
    here so that the same code runs on the Connect client and on classic pyspark."""
    import pandas as pd
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf, udf

    @udf("long")
    def plus_one(x):
        return x + 1

    @udf("long", useArrow=True)
    def plus_one_arrow(x):
        return x + 1

    @pandas_udf("long")
    def plus_one_pandas(s: pd.Series) -> pd.Series:
        return s + 1

    def plus_one_map(it):
        for pdf in it:
            yield pdf.assign(y=pdf["id"] + 1)

    def scalar(f):
        return lambda spark, rows: spark.range(rows).select(f("id").alias("y")).agg(F.sum("y")).collect()[0][0]

    def mapped(spark, rows):
        df = spark.range(rows).mapInPandas(plus_one_map, "id long, y long")
        return df.agg(F.sum("y")).collect()[0][0]

    return {
        "udf": scalar(plus_one),
        "arrow udf": scalar(plus_one_arrow),
        "pandas_udf": scalar(plus_one_pandas),
        "mapInPandas": mapped,
    }


def first_line(e):
    s = str(e).strip()
    return s.splitlines()[0][:1000] if s else type(e).__name__


class Connect:
    """A workload runner over a Spark Connect session."""

    def __init__(self, url, rows):
        from pyspark.sql import SparkSession

        self.spark = SparkSession.builder.remote(url).create()
        self.rows = rows
        self.work = make_workloads()

    def run(self, w):
        """(seconds, sum) or raises."""
        t0 = time.perf_counter()
        v = self.work[w](self.spark, self.rows)
        return time.perf_counter() - t0, v

    def close(self):
        self.spark.stop()


class Classic:
    """A workload runner over a child process running Spark classic (see `classic`)."""

    def __init__(self, python, rows, log):
        env = dict(os.environ, PYSPARK_PYTHON=python, PYSPARK_DRIVER_PYTHON=python)
        for k in ["SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_API_MODE"]:
            env.pop(k, None)
        self.p = subprocess.Popen(
            [python, os.path.abspath(__file__), "classic", str(rows)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            bufsize=1,
        )
        self.reply()  # ready once the session is up

    def reply(self):
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError(f"Spark classic child exited ({self.p.wait()}); see its log")
            if line.startswith("@@ "):  # anything else is the JVM's or pyspark's chatter
                return json.loads(line[3:])

    def run(self, w):
        self.p.stdin.write(json.dumps(w) + "\n")
        r = self.reply()
        if "error" in r:
            raise RuntimeError(r["error"])
        return r["seconds"], r["sum"]

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=120)


def classic(rows):
    """Child: a local[2] Spark classic session; reads workload names (JSON lines) on
    stdin, answers `@@ {"seconds": s, "sum": v}` or `@@ {"error": msg}` on stdout."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("python_workers")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    work = make_workloads()

    def say(d):
        sys.stdout.write("@@ " + json.dumps(d) + "\n")
        sys.stdout.flush()

    say({"ready": True})
    for line in sys.stdin:
        w = json.loads(line)
        try:
            t0 = time.perf_counter()
            v = work[w](spark, rows)
            say({"seconds": time.perf_counter() - t0, "sum": v})
        except Exception as e:  # reported to the parent, which shows it
            say({"error": first_line(e)})
    spark.stop()


def udfs(rows, runs, servers, log_dir):
    expected = rows * (rows + 1) // 2
    engines = {}
    for n, u in servers.items():
        if u.startswith("classic:"):
            engines[n] = Classic(u[len("classic:"):], rows, open(f"{log_dir}/spark-classic.log", "w"))
        else:
            engines[n] = Connect(u, rows)
    names = list(engines)
    errors = []  # (workload, engine, message)

    def timed(n, w):
        try:
            dt, v = engines[n].run(w)
        except Exception as e:
            return "error", first_line(e)
        if v != expected:
            return "wrong", f"sum {v}, expected {expected}"
        return "ok", dt

    first = names[0]
    print(f"spark.range({rows:,}) -> id + 1 -> sum; median of {runs} round(s) after a warm-up; M rows/s (higher is better)")
    header = f"{'workload':<14}" + "".join(f"{n:>10}" for n in names) + "".join(f"{first + '/' + n:>14}" for n in names[1:])
    print(header, flush=True)
    for w in WORKLOADS:
        failed = {}
        for n in names:  # warm-up
            st, x = timed(n, w)
            if st != "ok":
                failed[n] = (st, x)
        ts = {n: [] for n in names}
        for r in range(runs):
            for n in names if r % 2 == 0 else reversed(names):
                if n in failed:
                    continue
                st, x = timed(n, w)
                if st != "ok":
                    failed[n] = (st, x)
                else:
                    ts[n].append(x)
        rate = {}
        for n in names:
            if n in failed:
                errors.append((w, n, failed[n][1]))
            else:
                rate[n] = rows / statistics.median(ts[n]) / 1e6
        cells = "".join(f"{rate[n]:>10.2f}" if n in rate else f"{failed[n][0]:>10}" for n in names)
        ratios = "".join(
            f"{rate[first] / rate[n]:>14.2f}" if first in rate and n in rate else f"{'-':>14}" for n in names[1:]
        )
        print(f"{w:<14}{cells}{ratios}", flush=True)
    for w, n, msg in errors:
        print(f"{n} {w}: {msg}")
    for e in engines.values():
        try:
            e.close()
        except Exception:
            pass


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "submit":
        submit(int(sys.argv[2]), sys.argv[3], dict(a.split("=", 1) for a in sys.argv[4:]))
    elif cmd == "udfs":
        udfs(int(sys.argv[2]), int(sys.argv[3]), dict(a.split("=", 1) for a in sys.argv[5:]), sys.argv[4])
    elif cmd == "classic":
        classic(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
