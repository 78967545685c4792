"""Spark's ANSI interval types through Spark Connect with the stock PySpark client: the
types PySpark reads (`DayTimeIntervalType` / `YearMonthIntervalType` with their
fields), day-time values as Python `timedelta`s, `show()` text, and the DataFrame
API's operators on intervals (as Spark 4.3 answers them; tests/spark_cases/intervals.slt
holds the SQL side)."""

import datetime

from pyspark.sql import functions as F
from pyspark.sql.types import DayTimeIntervalType as DT
from pyspark.sql.types import YearMonthIntervalType as YM


def test_literal_types_carry_their_fields(spark):
    df = spark.sql(
        "SELECT INTERVAL '1 02' DAY TO HOUR AS a, INTERVAL '90' MINUTE AS b, "
        "INTERVAL '1-2' YEAR TO MONTH AS c, INTERVAL '3' MONTH AS d, "
        "interval 5 hours 30 seconds AS e"
    )
    types = {f.name: f.dataType for f in df.schema.fields}
    assert types["a"] == DT(DT.DAY, DT.HOUR)
    assert types["b"] == DT(DT.MINUTE, DT.MINUTE)
    assert types["c"] == YM(YM.YEAR, YM.MONTH)
    assert types["d"] == YM(YM.MONTH, YM.MONTH)
    assert types["e"] == DT(DT.HOUR, DT.SECOND)


def test_day_time_values_are_timedeltas(spark):
    row = spark.sql(
        "SELECT INTERVAL '1 02:03:04.5' DAY TO SECOND AS a, -INTERVAL '90' MINUTE AS b"
    ).collect()[0]
    assert row.a == datetime.timedelta(days=1, hours=2, minutes=3, seconds=4.5)
    assert row.b == datetime.timedelta(minutes=-90)


def test_show_prints_spark_literals(spark):
    df = spark.sql("SELECT INTERVAL '1' HOUR + INTERVAL '1' SECOND AS s, make_ym_interval(1, 2) AS m")
    assert df._show_string(20, 0, False) == (
        "+----------------------------------+----------------------------+\n"
        "|s                                 |m                           |\n"
        "+----------------------------------+----------------------------+\n"
        "|INTERVAL '01:00:01' HOUR TO SECOND|INTERVAL '1-2' YEAR TO MONTH|\n"
        "+----------------------------------+----------------------------+\n"
    )


def test_dataframe_operators_on_intervals(spark):
    df = spark.sql("SELECT INTERVAL '1' HOUR AS h, INTERVAL '30' MINUTE AS m")
    out = df.select(
        (F.col("h") * 2).alias("twice"),
        (F.col("h") / 4).alias("quarter"),
        (F.col("h") + F.col("m")).alias("sum"),
    )
    types = {f.name: f.dataType for f in out.schema.fields}
    # Spark: * and / give the full range; + spans both operands' ranges.
    assert types["twice"] == DT(DT.DAY, DT.SECOND)
    assert types["sum"] == DT(DT.HOUR, DT.MINUTE)
    row = out.collect()[0]
    assert row.twice == datetime.timedelta(hours=2)
    assert row.quarter == datetime.timedelta(minutes=15)
    assert row.sum == datetime.timedelta(minutes=90)
