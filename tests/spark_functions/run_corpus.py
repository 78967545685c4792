"""Run Spark's built-in function examples (`shared/spark-functions/examples.jsonl`,
recorded from Apache Spark 4.3) through ember's two front doors and print the per-group
table of passes.

Doors:
  cli      `ember sql --output table --conf spark.sql.session.timeZone=UTC -e SQL`, one
           process per example (as the corpus README describes); the `show()` text
           (which carries the column names) or the error class must match.
  connect  one `ember connect` server, the stock PySpark client: `spark.sql(sql)`; the
           schema (`simpleString`), column names and `show(20, truncate=False)` text, or
           the error class (`getCondition()`), must match.

Usage:
  python tests/spark_functions/run_corpus.py [--door cli|connect|both] [--jobs N]
        [--only SUBSTR] [--failures FILE] [--markdown]

Prints one row per group: examples, passed per door, and the total. `--failures`
writes every failing example with what ember answered (for working on them).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "connect"))

from conftest import SHARED, Server, ember_binary  # noqa: E402

CORPUS = SHARED / "spark-functions" / "examples.jsonl"


def load(only=None):
    rows = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    if only:
        rows = [r for r in rows if only in r["id"] or only == r["group"]]
    return rows


def norm(show):
    return [line.rstrip() for line in (show or "").rstrip("\n").split("\n")]


def same_show(ex, got):
    want, have = norm(ex["show"]), norm(got)
    if ex.get("ordered", True):
        return want == have
    # header (3 lines) and frame in place; body rows as a multiset
    return want[:3] == have[:3] and want[-1:] == have[-1:] and sorted(want[3:-1]) == sorted(have[3:-1])


def run_cli(ex):
    args = [ember_binary(), "sql", "--output", "table", "--master", "local[1]",
            "--conf", "spark.sql.session.timeZone=UTC"]
    for k, v in (ex.get("conf") or {}).items():
        args += ["--conf", f"{k}={v}"]
    args += ["-e", ex["sql"]]
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False, "timeout after 60 s"
    if ex["error_class"]:
        ok = p.returncode != 0 and f"[{ex['error_class']}]" in p.stderr
        return ok, (p.stderr or p.stdout).strip()[-600:]
    if p.returncode != 0:
        return False, p.stderr.strip()[-600:]
    return same_show(ex, p.stdout), p.stdout


class ConnectDoor:
    """The Spark Connect door: its own `ember connect` server and session, or (`spark`
    given) an existing session, which is left running."""

    def __init__(self, spark=None):
        self.server = None
        if spark is not None:
            self.spark = spark
            return
        self.server = Server(master="local[1]")
        from pyspark.sql import SparkSession

        # A new session of its own (never the caller's active one, which `close` would stop).
        self.spark = SparkSession.builder.remote(f"sc://127.0.0.1:{self.server.port}").create()

    def run(self, ex):
        spark = self.spark
        conf = ex.get("conf") or {}
        try:
            for k, v in conf.items():
                spark.conf.set(k, v)
            try:
                df = spark.sql(ex["sql"])
                schema = df.schema.simpleString()
                cols = df.columns
                show = df._show_string(20, 0, False)
            except Exception as e:  # noqa: BLE001 - the answer is the error
                cond = getattr(e, "getCondition", lambda: None)() or ""
                msg = f"{type(e).__name__}: [{cond}] {str(e)[:500]}"
                if ex["error_class"]:
                    return cond == ex["error_class"], msg
                return False, msg
            if ex["error_class"]:
                return False, f"no error; got {schema}\n{show}"
            ok = schema == ex["schema"] and cols == ex["columns"] and same_show(ex, show)
            return ok, f"{schema}\n{cols}\n{show}"
        finally:
            for k in conf:
                try:
                    spark.conf.unset(k)
                except Exception:  # noqa: BLE001
                    pass

    def close(self):
        if self.server is None:
            return
        try:
            self.spark.stop()
        finally:
            self.server.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--door", default="both", choices=["cli", "connect", "both"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only")
    ap.add_argument("--failures", help="write failing examples (JSON lines) here")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    a = ap.parse_args()

    examples = load(a.only)
    doors = ["cli", "connect"] if a.door == "both" else [a.door]
    results = {d: {} for d in doors}
    t0 = time.time()
    if "cli" in doors:
        with ThreadPoolExecutor(a.jobs) as pool:
            for ex, r in zip(examples, pool.map(run_cli, examples)):
                results["cli"][ex["id"]] = r
        print(f"cli: {time.time() - t0:.0f} s", file=sys.stderr)
    if "connect" in doors:
        t1 = time.time()
        door = ConnectDoor()
        try:
            for ex in examples:
                results["connect"][ex["id"]] = door.run(ex)
        finally:
            door.close()
        print(f"connect: {time.time() - t1:.0f} s", file=sys.stderr)

    groups = defaultdict(lambda: {"n": 0, **{d: 0 for d in doors}})
    for ex in examples:
        g = groups[ex["group"]]
        g["n"] += 1
        for d in doors:
            g[d] += results[d][ex["id"]][0]
    total = {"n": sum(g["n"] for g in groups.values())}
    for d in doors:
        total[d] = sum(g[d] for g in groups.values())

    def pct(k, n):
        return f"{k} ({100 * k / n:.0f}%)" if n else "0"

    header = ["group", "examples"] + doors
    rows = [[name, str(g["n"])] + [pct(g[d], g["n"]) for d in doors] for name, g in sorted(groups.items())]
    rows.append(["**total**" if a.markdown else "total", str(total["n"])] + [pct(total[d], total["n"]) for d in doors])
    if a.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(x[i]) for x in [header] + rows) for i in range(len(header))]
        for r in [header] + rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    if len(doors) == 2:
        differ = [ex["id"] for ex in examples if results["cli"][ex["id"]][0] != results["connect"][ex["id"]][0]]
        print(f"examples passing through one door only: {len(differ)}")
    if a.failures:
        with open(a.failures, "w") as f:
            for ex in examples:
                for d in doors:
                    ok, got = results[d][ex["id"]]
                    if not ok:
                        f.write(json.dumps({"id": ex["id"], "door": d, "sql": ex["sql"],
                                            "want": ex["error_class"] or ex["show"],
                                            "want_schema": ex["schema"], "got": got}) + "\n")


if __name__ == "__main__":
    main()
