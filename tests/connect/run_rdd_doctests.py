"""Runs PySpark's own RDD doctests (module `pyspark.core.rdd` of the full
`pyspark==4.3.0` package) against ember through `ember_pyspark`, and writes the report
to tests/connect/rdd-doctest-report.md.

The stock Connect client has no `pyspark.core`, so the module's source is read (not
imported) from a full PySpark install (`--source`, default: the `pyspark` of
$EMBER_SPARK_VENV, else ~/.cache/ember/venv-spark43) and each docstring runs as
PySpark's `_test()` runs it: the module's imports as globals, `sc` a SparkContext on
`local[4]` (here: `ember connect --master local[4]`) with a checkpoint directory,
doctest's ELLIPSIS flag. Counted per docstring (all its examples pass) and per
example; no example is skipped or edited.

Usage: python tests/connect/run_rdd_doctests.py [--url sc://127.0.0.1:PORT]
       [--source .../pyspark/core/rdd.py] [--only NAME ...] [--dump DIR]
"""

import argparse
import ast
import doctest
import glob
import io
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "python"))
TIMEOUT_S = 120

# The module-level imports of pyspark/core/rdd.py that its doctests may use.
PRELUDE = """
import copy, sys, os, operator, shlex, warnings, heapq, bisect, random
from subprocess import Popen, PIPE
from threading import Thread
from collections import defaultdict
from itertools import chain
from functools import reduce
from math import sqrt, log, isinf, isnan, pow, ceil
from pyspark.statcounter import StatCounter
from pyspark.rddsampler import RDDSampler, RDDRangeSampler, RDDStratifiedSampler
from pyspark.storagelevel import StorageLevel
from pyspark.resultiterable import ResultIterable
from pyspark.errors import PySparkRuntimeError
from ember_pyspark.rdd import RDD, BoundedFloat, Partitioner, portable_hash
"""


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def default_source():
    venv = os.environ.get("EMBER_SPARK_VENV", os.path.expanduser("~/.cache/ember/venv-spark43"))
    found = glob.glob(os.path.join(venv, "lib", "python3*", "site-packages", "pyspark", "core", "rdd.py"))
    return found[0] if found else None


def docstrings(source):
    """(qualified name, docstring, line) of every function and class of the file."""
    tree = ast.parse(Path(source).read_text())
    out = []

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                doc = ast.get_docstring(child, clean=False)
                if doc and ">>>" in doc:
                    out.append((name, doc, child.body[0].lineno))
                if isinstance(child, ast.ClassDef):
                    walk(child, name + ".")

    walk(tree, "")
    return out


def first_failure(output):
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Failed example:"):
            example = lines[i + 1].strip() if i + 1 < len(lines) else ""
            rest = [x.strip() for x in lines[i + 2:i + 40] if x.strip()]
            detail = ""
            if rest and rest[0].startswith("Exception raised:"):
                errs = [x for x in rest if ("Error" in x or "Exception" in x) and not x.startswith(("Traceback", "File", "Exception raised"))]
                detail = errs[0] if errs else rest[-1]
            elif "Got:" in rest:
                detail = "got " + " ".join(rest[rest.index("Got:") + 1:][:2])
            return f"`{example[:90]}` → {detail[:200]}"
    return ""


def main():
    if os.environ.get("PYTHONHASHSEED") != "0":
        # As spark-submit and PySpark's test runner: the driver's string hashes are
        # fixed too (portable_hash refuses to run otherwise).
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    try:
        # As PySpark's _test(): numpy 2 prints scalars as numpy 1.25 did.
        import numpy as np

        np.set_printoptions(legacy="1.25")
    except (ImportError, TypeError):
        pass
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--source", default=default_source())
    ap.add_argument("--report", default=str(HERE / "rdd-doctest-report.md"))
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--dump")
    args = ap.parse_args()
    if not args.source or not os.path.exists(args.source):
        sys.exit("no pyspark/core/rdd.py: pip install pyspark==4.3.0 into a venv and pass --source")
    os.environ["TZ"] = "UTC"
    time.tzset()
    server = None
    url = args.url
    if not url:
        from conftest import Server

        server = Server(master="local[4]")
        url = server.url
    import ember_pyspark  # noqa: F401
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(url).getOrCreate()
    sc = spark.sparkContext
    checkpoints = tempfile.TemporaryDirectory()
    sc.setCheckpointDir(checkpoints.name)
    base = {"__name__": "pyspark.core.rdd"}
    exec(PRELUDE, base)
    parser = doctest.DocTestParser()
    tests = docstrings(args.source)
    if args.only:
        tests = [t for t in tests if t[0] in args.only or t[0].split(".")[-1] in args.only]
    started = time.time()
    passed, examples, examples_ok, failed = 0, 0, 0, []
    try:
        for name, doc, line in tests:
            globs = dict(base)
            globs["sc"] = sc
            test = parser.get_doctest(doc, globs, name, args.source, line)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS, verbose=False)
            out = io.StringIO()
            signal.signal(signal.SIGALRM, _alarm)
            signal.alarm(TIMEOUT_S)
            try:
                r = runner.run(test, out=out.write, clear_globs=True)
                ok, why = r.failed == 0, first_failure(out.getvalue())
                examples += r.attempted
                examples_ok += r.attempted - r.failed
            except Timeout:
                ok, why = False, f"timed out after {TIMEOUT_S} s"
                examples += len(test.examples)
            except BaseException as e:  # noqa: BLE001 - a crashing docstring counts as failed
                ok, why = False, f"{type(e).__name__}: {e}"[:200]
                examples += len(test.examples)
            finally:
                signal.alarm(0)
            print(f"{'ok  ' if ok else 'FAIL'} {name}", file=sys.stderr, flush=True)
            if ok:
                passed += 1
            else:
                failed.append((name, why))
                if args.dump:
                    Path(args.dump).mkdir(parents=True, exist_ok=True)
                    (Path(args.dump) / f"{name}.txt").write_text(out.getvalue())
    finally:
        if server:
            server.stop()
    elapsed = time.time() - started
    total = len(tests)
    summary = (f"pyspark.core.rdd: {passed}/{total} docstrings pass ({100 * passed / max(total, 1):.0f}%), "
               f"{examples_ok}/{examples} examples ({100 * examples_ok / max(examples, 1):.0f}%)")
    print(summary)
    for name, why in failed:
        print(f"FAIL {name}: {why}")
    if args.only:
        return
    lines = [
        "# PySpark's RDD doctests against ember",
        "",
        "Generated by `python tests/connect/run_rdd_doctests.py`: the docstrings of",
        "`pyspark/core/rdd.py` from `pyspark==4.3.0`, run with `ember_pyspark`'s `sc` on",
        f"`ember connect --master local[4]` ({elapsed:.0f} s), doctest flag ELLIPSIS, as",
        "PySpark's own `_test()`; no example skipped or edited.",
        "",
        summary,
        "",
        f"## Failing ({len(failed)})",
        "",
    ]
    for name, why in failed:
        lines.append(f"- `{name}`: {why}".replace("\n", " "))
    Path(args.report).write_text("\n".join(lines) + "\n")
    print(f"report written to {args.report}")


if __name__ == "__main__":
    main()
