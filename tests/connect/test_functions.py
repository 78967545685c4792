"""Spark SQL functions called through the DataFrame API over Spark Connect: higher-order
functions with Python lambdas, the runtime session time zone, and the functions ember
adds for Spark compatibility. Expected values are Spark 4's documented results."""

import datetime

import pytest
from pyspark.errors import PySparkException
from pyspark.sql import Row
from pyspark.sql import functions as F

from conftest import new_session


@pytest.fixture(scope="module")
def arrays(spark):
    return spark.createDataFrame(
        [(1, [1, 2, 3, 4]), (2, [5, None]), (3, None), (4, [])],
        "id int, xs array<int>",
    )


def rows(df):
    return [tuple(r) for r in df.collect()]


def test_transform_and_filter_with_index(arrays):
    got = rows(
        arrays.orderBy("id").select(
            F.transform("xs", lambda x: x * 10).alias("t"),
            F.transform("xs", lambda x, i: x + i).alias("ti"),
            F.filter("xs", lambda x: x % 2 == 0).alias("f"),
            F.filter("xs", lambda x, i: i > 0).alias("fi"),
        )
    )
    assert got == [
        ([10, 20, 30, 40], [1, 3, 5, 7], [2, 4], [2, 3, 4]),
        ([50, None], [5, None], [], [None]),
        (None, None, None, None),
        ([], [], [], []),
    ]


def test_exists_forall_three_valued(arrays):
    got = rows(
        arrays.orderBy("id").select(
            F.exists("xs", lambda x: x > 4).alias("e"),
            F.forall("xs", lambda x: x > 0).alias("a"),
        )
    )
    # Spark: forall is NULL when no element is false and one is NULL.
    assert got == [(False, True), (True, None), (None, None), (False, True)]


def test_aggregate_with_finish_and_captured_column(arrays):
    got = rows(
        arrays.orderBy("id").select(
            F.aggregate("xs", F.lit(0), lambda acc, x: acc + F.coalesce(x, F.lit(0))).alias("s"),
            F.aggregate(
                "xs", F.lit(0.0), lambda acc, x: acc + F.coalesce(x, F.lit(0)), lambda acc: acc / 2
            ).alias("half"),
            F.transform("xs", lambda x: x + F.col("id")).alias("plus_id"),
        )
    )
    assert got == [
        (10, 5.0, [2, 3, 4, 5]),
        (5, 2.5, [7, None]),
        (None, None, None),
        (0, 0.0, []),
    ]


def test_map_lambdas_with_unused_parameter(spark):
    df = spark.createDataFrame([(1, {"foo": 42.0, "bar": 1.0, "baz": 32.0})], ("id", "data"))
    # The key parameter is unused: the value must still be the second parameter.
    row = df.select(
        F.map_filter("data", lambda _, v: v > 30.0).alias("kept"),
        F.transform_values("data", lambda _, v: v + 1).alias("plus"),
        F.transform_keys("data", lambda k, _: F.upper(k)).alias("upper"),
    ).head()
    assert sorted(row["kept"].items()) == [("baz", 32.0), ("foo", 42.0)]
    assert sorted(row["plus"].items()) == [("bar", 2.0), ("baz", 33.0), ("foo", 43.0)]
    assert sorted(row["upper"].items()) == [("BAR", 1.0), ("BAZ", 32.0), ("FOO", 42.0)]


def test_zip_with_pads_shorter_array(spark):
    df = spark.createDataFrame([([1, 2, 3], [10, 20])], "a array<int>, b array<int>")
    got = df.select(F.zip_with("a", "b", lambda x, y: F.coalesce(y, F.lit(0)) + x).alias("z")).head()
    assert got.z == [11, 22, 3]


def test_lambda_column_names_follow_spark(arrays):
    cols = arrays.select(F.transform("xs", lambda x: x + 1)).columns
    assert cols[0].startswith("transform(xs, lambdafunction((namedlambdavariable() + 1), ")


def test_session_time_zone_is_a_runtime_key(server):
    spark = new_session(server.url)
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    df = spark.createDataFrame([("2015-04-08 12:12:12",)], ["ts"])
    got = df.select(
        F.unix_timestamp("ts").alias("u"),
        F.current_timezone().alias("z"),
        F.unix_seconds(F.to_timestamp("ts")).alias("s"),
    ).head()
    # 12:12:12 in Los Angeles (PDT, UTC-7) is 19:12:12 UTC.
    assert (got.u, got.z, got.s) == (1428520332, "America/Los_Angeles", 1428520332)
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert df.select(F.unix_timestamp("ts").alias("u")).head().u == 1428495132
    with pytest.raises(PySparkException, match="INVALID_CONF_VALUE.TIME_ZONE"):
        spark.conf.set("spark.sql.session.timeZone", "Mars/Olympus")
    spark.stop()
