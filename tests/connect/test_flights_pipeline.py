"""The main job as a PySpark program (examples/flights/pipeline.py) over Spark Connect
prints the same report as the SQL version (examples/flights/pipeline.sql via
`ember submit`)."""

import subprocess
import sys

from conftest import ROOT, ember_binary


def table_rows(text):
    return [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|")
    ]


def test_pipeline_py_matches_pipeline_sql(server):
    sql = subprocess.run(
        [ember_binary(), "submit", "examples/flights/pipeline.sql", "--master", "local[2]",
         "--conf", "spark.sql.session.timeZone=UTC"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    py = subprocess.run(
        [sys.executable, "examples/flights/pipeline.py", server.url],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    want = table_rows(sql)[-17:]  # the report: header + 16 carriers
    got = table_rows(py)
    assert len(got) == 17 and got[0][0] == "airline_name"
    assert got == want
