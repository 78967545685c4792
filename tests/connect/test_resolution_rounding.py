"""Sort and filter keys on columns a preceding select dropped (Spark's
ResolveMissingReferences), `round` / `bround` on every numeric type, SQL
`grouping_id()` and `approx_count_distinct` (HLL++), against the answers Apache Spark
4.3.0 gave for the same calls (recorded once, local[2], UTC, into
resolution_rounding_answers.json): column names, simple schema and rows, or the
error class of a refused call."""

import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F

ANSWERS = json.loads((Path(__file__).parent / "resolution_rounding_answers.json").read_text())


def _df(spark):
    return spark.createDataFrame(
        [(1, "b", 30.0), (2, "a", 10.0), (3, "c", 20.0), (4, "a", None)],
        "id int, name string, score double",
    )


def _acd_range(n):
    def build(spark):
        return spark.range(n).agg(
            F.approx_count_distinct("id"),
            F.approx_count_distinct(F.col("id").cast("int")).alias("i"),
            F.approx_count_distinct(F.col("id").cast("string")).alias("s"),
            F.approx_count_distinct(F.col("id").cast("double")).alias("d"),
            F.approx_count_distinct("id", 0.01).alias("p14"),
        )
    return build


CASES = {
    "sort_dropped": lambda s: _df(s).select("name").orderBy("score"),
    "sort_dropped_desc_two_selects": lambda s: _df(s).select("id", "name").select("name")
    .orderBy(F.col("score").desc_nulls_last()),
    "filter_dropped": lambda s: _df(s).select("name").filter(F.col("id") > 1).orderBy("name"),
    "filter_sql_dropped": lambda s: _df(s).select("name").where("score > 15").orderBy("name"),
    "sort_expr_dropped": lambda s: _df(s).select("name").orderBy(F.col("id") * -1),
    "shadowed": lambda s: _df(s).select((F.col("id") * 10).alias("score"), "name").orderBy("score"),
    "sort_after_filter_select": lambda s: _df(s).select("id", "name").filter("id < 4")
    .orderBy(F.desc("score")),
    "sort_dropped_after_agg": lambda s: _df(s).groupBy("name").count().orderBy("id"),
    "acd_range_10": _acd_range(10),
    "acd_range_100": _acd_range(100),
    "acd_range_300": _acd_range(300),
    "acd_range_100000": _acd_range(100000),
    "acd_types": lambda s: s.range(200).select(
        F.date_add(F.lit("2020-01-01").cast("date"), F.col("id").cast("int")).alias("dt"),
        (F.col("id") / 4).cast("decimal(10,2)").alias("dec"),
        (F.col("id") % 2 == 0).alias("b"),
        F.col("id").cast("float").alias("f"),
    ).agg(*[F.approx_count_distinct(c).alias(c) for c in ["dt", "dec", "b", "f"]]),
    "acd_empty": lambda s: s.range(0).agg(F.approx_count_distinct("id")),
    "acd_grouped": lambda s: s.range(1000).groupBy((F.col("id") % 3).alias("k"))
    .agg(F.approx_count_distinct("id").alias("n")).orderBy("k"),
    "round_types": lambda s: s.sql(
        "SELECT round(CAST(125 AS INT), -1) a, bround(CAST(125 AS BIGINT), -1) b, "
        "round(CAST(7 AS SMALLINT)) c, round(CAST(2.345 AS FLOAT), 2) d, bround(2.345D, 2) e, "
        "round(1.005D, 2) f, round(-0.4D) g, round(CAST(2.345 AS DECIMAL(5,3)), 2) h, "
        "bround(CAST(2.345 AS DECIMAL(5,3)), 2) i, round(CAST(155 AS DECIMAL(5,0)), -1) j, "
        "round(9.995D, 2) k, round('2.5') l, bround(-2.5D) m"),
    "round_nullable": lambda s: s.sql(
        "SELECT round(x, 1) r, bround(x) b FROM VALUES (1.25D), (NULL) t(x)"),
    "grouping_id_having": lambda s: s.sql(
        "SELECT a, sum(c) s FROM VALUES (1, 10), (2, 20) t(a, c) GROUP BY ROLLUP(a) "
        "HAVING grouping_id() = 0 ORDER BY a"),
    "grouping_id_name": lambda s: s.sql(
        "SELECT a, grouping_id() FROM VALUES (1), (2) t(a) GROUP BY ROLLUP(a) ORDER BY 2, 1"),
}


def _plain(v):
    # Decimals are recorded as their text.
    from decimal import Decimal
    return str(v) if isinstance(v, Decimal) else v


@pytest.mark.parametrize("name", sorted(CASES))
def test_as_spark(spark, name):
    want = ANSWERS[name]
    df = CASES[name](spark)
    if "error" in want:
        with pytest.raises(Exception) as err:
            df.collect()
        assert want["error"].split("]")[0].split("[")[-1] in str(err.value), str(err.value)
        return
    assert df.columns == want["columns"]
    assert df.schema.simpleString() == want["schema"]
    assert [[_plain(v) for v in r] for r in df.collect()] == want["rows"]


def test_carried_columns_are_not_output(spark):
    # The sort key comes from the input of the select but is not in the result.
    df = _df(spark).select("name").orderBy("score")
    assert df.columns == ["name"]
    assert len(df.collect()) == 4
