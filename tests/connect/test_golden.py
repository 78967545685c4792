"""Every public case of ../shared/golden (outputs of Apache Spark itself), run through
`spark.sql` over Spark Connect with the stock PySpark client: rows, schema,
`printSchema()` and `show()` text must match Spark's; error cases must raise the
PySpark exception Spark raises, with the same error class."""

import contextlib
import datetime
import decimal
import io
import json
import math

import pytest

from conftest import GOLDEN, register_views


def cases():
    return sorted(p.name for p in GOLDEN.iterdir() if (p / "query.sql").exists())


@pytest.fixture(scope="module")
def golden_spark(spark):
    register_views(spark)
    return spark


def to_json(v):
    """A collected value in rows.json's form."""
    from pyspark.sql import Row

    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, datetime.datetime):
        s = v.strftime("%Y-%m-%d %H:%M:%S")
        if v.microsecond:
            s += (".%06d" % v.microsecond).rstrip("0")
        return s
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, Row):
        return {k: to_json(x) for k, x in v.asDict().items()}
    if isinstance(v, dict):
        return {str(k): to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return list(v)
    return str(v)


def equal(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b)) or (math.isnan(a) and math.isnan(b))
        return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("case", cases())
def test_golden_case(golden_spark, case):
    from pyspark.errors import PySparkException

    d = GOLDEN / case
    query = (d / "query.sql").read_text()
    meta = json.loads((d / "meta.json").read_text())
    if "error" in meta:
        exception, _, rest = meta["error"].partition(": ")
        want_class = rest.split("[", 1)[1].split("]", 1)[0]
        with pytest.raises(PySparkException) as info:
            golden_spark.sql(query).collect()
        assert info.value.getCondition() == want_class, str(info.value)
        assert type(info.value).__name__ == exception, f"{type(info.value).__name__}: {info.value}"
        return
    df = golden_spark.sql(query)
    schema = [
        {"name": f.name, "type": f.dataType.simpleString(), "nullable": f.nullable}
        for f in df.schema.fields
    ]
    assert schema == json.loads((d / "schema.json").read_text())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        df.printSchema()
    assert out.getvalue().rstrip("\n") == (d / "printSchema.txt").read_text().rstrip("\n")
    rows = [[to_json(v) for v in r] for r in df.collect()]
    want = json.loads((d / "rows.json").read_text())
    if not meta.get("ordered"):
        rows.sort(key=lambda r: json.dumps(r, sort_keys=True))
        want.sort(key=lambda r: json.dumps(r, sort_keys=True))
    assert len(rows) == len(want)
    for i, (g, w) in enumerate(zip(rows, want)):
        assert equal(g, w), f"row {i}: ours {g} spark {w}"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        df.show()
    assert out.getvalue().rstrip("\n") == (d / "show.txt").read_text().rstrip("\n")
