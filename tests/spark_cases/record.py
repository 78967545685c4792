"""Record Apache Spark's answers to SQL queries as a spec file that ember's tests read.

Usage (Spark 4.3 from PyPI with Java 17; tests never run Spark themselves):

    JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 python tests/spark_cases/record.py \
        tests/spark_cases/intervals.sql

reads one query per line (`-- text` lines become comments of the next case; blank
lines separate groups) and writes `intervals.slt` beside it, in the form that
`crates/ember-core/tests/spark_cases.rs` checks:

    # comment
    query
    SELECT ...
    ----
    struct<...>            (the schema's simpleString)
    +---+                  (show(20, truncate=False))
    ...

    error CLASS
    SELECT ...

The session runs with `spark.sql.session.timeZone=UTC` and `local[1]`, as the tests.
"""

import sys
from pathlib import Path

from pyspark.sql import SparkSession


def main(path):
    src = Path(path)
    spark = (SparkSession.builder.master("local[1]")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("OFF")
    out = [f"# Recorded from Apache Spark {spark.version} by tests/spark_cases/record.py "
           f"from {src.name}; do not edit by hand.", ""]
    for line in src.read_text().splitlines():
        q = line.strip()
        if not q:
            continue
        if q.startswith("--"):
            out.append("# " + q[2:].strip())
            continue
        try:
            df = spark.sql(q)
            schema = df.schema.simpleString()
            show = df._jdf.showString(20, 0, False)
            out += ["query", q, "----", schema, show.rstrip("\n"), ""]
        except Exception as e:  # noqa: BLE001 - the answer is the error
            cond = getattr(e, "getCondition", lambda: None)()
            if not cond:
                raise
            out += [f"error {cond}", q, ""]
    src.with_suffix(".slt").write_text("\n".join(out))
    spark.stop()


if __name__ == "__main__":
    for p in sys.argv[1:]:
        main(p)
