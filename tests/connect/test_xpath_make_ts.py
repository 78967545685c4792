"""Spark's XPath functions (xpath, xpath_boolean, xpath_string, xpath_int/long/short,
xpath_float/double/number) and timestamp constructors (make_timestamp[_ltz|_ntz] and
their try_ forms) against the answers Apache Spark 4.3.0 gave for the same SQL
(recorded once, local[2], UTC, into xpath_make_ts_answers.json): column names, types
and the `show()` text of each result, and the message of each refused call."""

import json
from pathlib import Path

import pytest

ANSWERS = json.loads((Path(__file__).parent / "xpath_make_ts_answers.json").read_text())

# Spark's DocumentBuilder is not namespace-aware, so `a/b` matches elements under a
# default namespace; ember's XPath engine is (the path must name the namespace).
SKIP = {"SELECT xpath_string('<a xmlns=\"http://x\"><b>1</b></a>','a/b')"}

CASES = [e for e in ANSWERS if e["sql"] not in SKIP]


@pytest.fixture(scope="module")
def utc(spark):
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark


@pytest.mark.parametrize("entry", CASES, ids=[e["sql"][7:60] for e in CASES])
def test_as_spark(utc, entry):
    df = utc.sql(entry["sql"])
    if "error" in entry:
        with pytest.raises(Exception) as err:
            df.collect()
        assert entry["expect"] in str(err.value), str(err.value)
        return
    if "rows" in entry:
        assert [list(r) for r in df.collect()] == entry["rows"]
        return
    assert df.columns == entry["columns"]
    assert [f.dataType.simpleString() for f in df.schema.fields] == entry["types"]
    assert df._show_string(20, 0, False) == entry["show"]
