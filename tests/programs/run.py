"""Whole PySpark programs, run the way users run them, compared with Apache Spark 4.3's stdout.

Each progs/pNN_name.py is a complete spark-submit style job: it builds its session with
SparkSession.builder.appName(...).getOrCreate() (master / remote decided by the runner), takes
--data DIR --out DIR, and prints a deterministic result to stdout. Expected stdout was recorded
with Apache Spark 4.3.0 classic (local[2], spark.sql.session.timeZone=UTC,
spark.sql.shuffle.partitions=4, TZ=UTC) and lives in expected/pNN_name.txt.

Usage:
  python run.py record --python PY [--only SUBSTR ...]
        run every program with Spark classic (PY has pyspark==4.3.0, pandas, pyarrow; Java 17)
        and (re)write expected/*.txt
  python run.py check classic --python PY
        run with Spark classic again and compare
  python run.py check connect sc://127.0.0.1:PORT --python PY
        run every program with the stock Spark Connect client (PY has pyspark-client==4.2.0,
        pandas, pyarrow) and env SPARK_REMOTE=URL, so that getOrCreate() connects to that server;
        the client sets spark.sql.session.timeZone=UTC and spark.sql.shuffle.partitions=4 on the
        session (PYSPARK_REMOTE_INIT_CONF_*). The stock client refuses sparkContext / df.rdd
        client-side (JVM_ATTRIBUTE_NOT_SUPPORTED).
  python run.py check submit /path/to/ember
        run  BIN submit <opts> progs/pNN.py --data D --out TMP  (spark-submit argument order:
        engine options before the script, the script's own arguments after it); Python is
        whatever ember picks (PYSPARK_PYTHON is cleared; put a venv with pyspark first on PATH)
Common options: --data DIR (default ../data), --timeout S (per program, default 600),
--only SUBSTR (repeatable; run only programs whose name contains it), -v (print diffs).
Output: "FAIL name: reason" per failure, last line "programs: P/N passed"; exit 0 only if all pass.
"""
import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROGS = os.path.join(HERE, "progs")
EXPECTED = os.path.join(HERE, "expected")
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "data"))
if not os.path.isdir(DEFAULT_DATA):
    DEFAULT_DATA = "/work/shared/data"
CONNECT_PYS = []
CONF = {"spark.sql.session.timeZone": "UTC", "spark.sql.shuffle.partitions": "4",
        "spark.ui.enabled": "false"}
SUBMIT_OPTS = "--master local[2] " + " ".join(f"--conf {k}={v}" for k, v in CONF.items())


def programs(only):
    names = sorted(f[:-3] for f in os.listdir(PROGS) if re.match(r"[pq]\d\d_.*\.py$", f))
    return [n for n in names if not only or any(o in n for o in only)]


def base_env():
    env = dict(os.environ)
    for k in ("SPARK_REMOTE", "PYSPARK_REMOTE_INIT_CONF_LEN", "SPARK_CONNECT_MODE_ENABLED", "PYSPARK_SUBMIT_ARGS", "SPARK_HOME",
              "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "SPARK_API_MODE"):
        env.pop(k, None)
    env["TZ"] = "UTC"
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def command(mode, target, py, submit_opts, prog, data, out):
    script = os.path.join(PROGS, prog + ".py")
    env = base_env()
    if mode == "classic":
        env["PYSPARK_PYTHON"] = py
        env["PYSPARK_SUBMIT_ARGS"] = submit_opts + " pyspark-shell"
        return [py, script, "--data", data, "--out", out], env
    if mode == "connect":
        env["SPARK_REMOTE"] = target
        # the stock client applies these spark.sql.* confs to every new session (pyspark's
        # SparkSession.Builder._apply_options), so the server needs no special configuration
        env["PYSPARK_REMOTE_INIT_CONF_LEN"] = "1"
        env["PYSPARK_REMOTE_INIT_CONF_0"] = json.dumps(
            {k: v for k, v in CONF.items() if k.startswith("spark.sql.")})
        return [py, script, "--data", data, "--out", out], env
    if mode == "submit":
        return [target, "submit", *submit_opts.split(), script, "--data", data, "--out", out], env
    raise SystemExit(f"unknown engine {mode!r}")


def error_line(stderr, rc, stdout=""):
    lines = [ln.strip() for ln in (stderr or stdout or "").splitlines() if ln.strip()]
    pat = re.compile(r"^([\w.]+(Error|Exception|Exit)|error:|Error:)")
    hits = [ln for ln in lines if pat.match(ln)]
    line = hits[-1] if hits else (lines[-1] if lines else f"exit code {rc}, no stderr")
    return f"exit {rc}: {line[:240]}"


def norm(text):
    return [ln.rstrip() for ln in text.rstrip().splitlines()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["record", "check"])
    ap.add_argument("engine", nargs="?", default="classic", help="classic | connect | submit")
    ap.add_argument("target", nargs="?", help="sc:// URL for connect, ember binary for submit")
    ap.add_argument("--python", help="python interpreter to run the programs with")
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--only", action="append")
    ap.add_argument("--submit-opts", default=SUBMIT_OPTS,
                    help="engine options for classic (PYSPARK_SUBMIT_ARGS) and submit modes")
    ap.add_argument("--keep", action="store_true", help="keep each program's --out directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    mode = "classic" if a.mode == "record" else a.engine
    if mode in ("connect", "submit") and not a.target:
        ap.error(f"check {mode} needs a target (URL or binary)")
    py = a.python
    if py is None and mode == "classic":
        ap.error("record / check classic need --python (a venv with pyspark==4.3.0, pandas, pyarrow)")
    if py is None and mode == "connect":
        py = next((p for p in CONNECT_PYS if os.path.exists(p)), None)
        if py is None:
            raise SystemExit("no Spark Connect client venv found; pass --python "
                             "(pip install pyspark-client==4.2.0 'pandas<3' pyarrow grpcio grpcio-status "
                             "googleapis-common-protos zstandard)")
    if a.mode == "record" and a.submit_opts != SUBMIT_OPTS:
        ap.error("record always uses the reference configuration")
    data = os.path.abspath(a.data)
    names = programs(a.only)
    os.makedirs(EXPECTED, exist_ok=True)
    passed = 0
    for name in names:
        out = tempfile.mkdtemp(prefix=f"program-{name[:3]}-")
        cmd, env = command(mode, a.target, py, a.submit_opts, name, data, out)
        t0 = time.time()
        try:
            p = subprocess.run(cmd, env=env, cwd=out, capture_output=True, text=True, timeout=a.timeout)
            rc, stdout, stderr = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, stdout, stderr = None, e.stdout or "", f"TimeoutError: killed after {a.timeout}s"
            stdout = stdout.decode() if isinstance(stdout, bytes) else stdout
        except OSError as e:
            rc, stdout, stderr = -1, "", f"{type(e).__name__}: {e}"
        secs = time.time() - t0
        if not a.keep:
            shutil.rmtree(out, ignore_errors=True)
        exp_path = os.path.join(EXPECTED, name + ".txt")
        if a.mode == "record":
            if rc == 0:
                with open(exp_path, "w") as f:
                    f.write("\n".join(norm(stdout)) + "\n")
                print(f"recorded {name} ({len(norm(stdout))} lines, {secs:.0f}s)", flush=True)
            else:
                print(f"FAIL {name}: {error_line(stderr, rc, stdout)}", flush=True)
                if a.verbose:
                    print(stderr[-3000:])
            continue
        if rc != 0:
            print(f"FAIL {name}: {error_line(stderr, rc, stdout)}", flush=True)
            if a.verbose:
                print(stderr[-3000:])
            continue
        if not os.path.exists(exp_path):
            print(f"FAIL {name}: no expected output recorded", flush=True)
            continue
        want, got = norm(open(exp_path).read()), norm(stdout)
        if got == want:
            passed += 1
            if a.verbose:
                print(f"ok {name} ({secs:.0f}s)", flush=True)
            continue
        i = next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))
        g = got[i] if i < len(got) else "<end of output>"
        w = want[i] if i < len(want) else "<end of output>"
        print(f"FAIL {name}: output differs at line {i + 1}: got {g[:120]!r} want {w[:120]!r}", flush=True)
        if a.verbose:
            print("\n".join(difflib.unified_diff(want, got, "expected", "got", lineterm="", n=1)))
    if a.mode == "check":
        print(f"programs: {passed}/{len(names)} passed")
        sys.exit(0 if passed == len(names) else 1)


if __name__ == "__main__":
    main()
