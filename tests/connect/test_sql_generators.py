"""Spark SQL generators — `LATERAL VIEW [OUTER]`, `explode`/`posexplode`/`inline`/
`stack`/`json_tuple` (and `_outer` forms) as select items, with `AS (a, b)` — and
`struct(...)` field names, against the answers Apache Spark 4.3.0 gave for the same
SQL (recorded once, local[2], UTC, into sql_generator_answers.json): column names,
types and rows (sorted)."""

import json
from pathlib import Path

import pytest

ANSWERS = json.loads((Path(__file__).parent / "sql_generator_answers.json").read_text())


@pytest.fixture(scope="module")
def t(spark):
    spark.createDataFrame(
        [(1, [1, 2], {"a": 1}, "x y"), (2, [], None, None), (3, None, {}, "z")],
        "id int, arr array<int>, m map<string,int>, s string",
    ).createOrReplaceTempView("t")
    return spark


@pytest.mark.parametrize("entry", ANSWERS, ids=[e["sql"][7:70] for e in ANSWERS])
def test_as_spark(t, entry):
    df = t.sql(entry["sql"])
    assert df.columns == entry["columns"]
    assert [f.dataType.simpleString() for f in df.schema.fields] == entry["types"]
    rows = [[None if v is None else str(v) for v in r] for r in df.collect()]
    assert sorted(rows, key=str) == entry["rows"]
