"""Python UDFs over Spark Connect: `F.udf`, `@udf`, `pandas_udf` (scalar) and
`spark.udf.register`, evaluated by ember's Python workers; a failing UDF raises
PySpark's `PythonException` with the Python traceback and fails only its query."""

import pandas as pd
import pytest
from pyspark.errors import PythonException
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, StringType, StructField, StructType


def test_udf_with_return_type(spark):
    plus_one = F.udf(lambda x: None if x is None else x + 1, IntegerType())
    df = spark.createDataFrame([(1,), (None,), (41,)], "x int")
    assert [r[0] for r in df.select(plus_one("x")).collect()] == [2, None, 42]


def test_decorated_udf_and_names(spark):
    @F.udf(returnType=StringType())
    def shout(s, n):
        return s.upper() + "!" * n

    df = spark.createDataFrame([("hi", 2), ("yo", 0)], ["s", "n"])
    out = df.select(shout("s", "n").alias("o"), shout(F.col("s"), F.lit(1)))
    assert out.columns[0] == "o" and out.columns[1].startswith("shout(")
    assert [r.o for r in out.collect()] == ["HI!!", "YO"]


def test_udf_returning_struct(spark):
    schema = StructType([StructField("a", IntegerType()), StructField("b", StringType())])
    pair = F.udf(lambda x: (x, str(x * 2)), schema)
    r = spark.range(2).select(pair(F.col("id").cast("int")).alias("p")).orderBy("p.a").collect()
    assert r == [Row(p=Row(a=0, b="0")), Row(p=Row(a=1, b="2"))]


def test_udf_keyword_arguments(spark):
    # Spark 4: a Python UDF called with keywords; the column shows `name => value`.
    @F.udf(returnType=IntegerType())
    def calc(a, b):
        return a + 10 * b

    df = spark.range(2).select(calc(b=F.col("id") * 10, a=F.col("id")))
    assert df.columns == ["calc(b => (id * 10), a => id)"]
    assert [r[0] for r in df.collect()] == [0, 101]
    mixed = spark.range(2).select(calc(F.col("id"), b=F.lit(1)))
    assert [r[0] for r in mixed.collect()] == [10, 11]


def test_pandas_udf(spark):
    @F.pandas_udf("double")
    def times_two(s: pd.Series) -> pd.Series:
        return s * 2.0

    out = spark.range(5).select(times_two("id").alias("t")).orderBy("t").collect()
    assert [r.t for r in out] == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_registered_udf_in_sql(spark):
    spark.udf.register("sq", lambda x: x * x, IntegerType())
    assert spark.sql("SELECT sq(7) AS s").first().s == 49
    # Function names resolve case-insensitively; the column keeps the given name.
    spark.udf.register("intX2", lambda i: i * 2, IntegerType())
    assert spark.sql("SELECT INTX2(4) AS r").first().r == 8
    df = spark.range(2).select(F.call_function("intX2", "id"))
    assert df.columns == ["intX2(id)"] and [r[0] for r in df.collect()] == [0, 2]


def test_udf_over_many_batches(spark):
    parity = F.udf(lambda x: x % 2, IntegerType())
    total = spark.range(100_000).select(parity("id").alias("p")).agg(F.sum("p")).first()[0]
    assert total == 50_000


def test_failing_udf_raises_python_exception_and_others_continue(spark):
    def boom(x):
        raise ValueError(f"bad value {x}")

    bad = F.udf(boom, IntegerType())
    with pytest.raises(PythonException) as info:
        spark.range(3).select(bad("id")).collect()
    assert "ValueError: bad value" in str(info.value)
    assert "Traceback" in str(info.value)
    # The session and the workers keep working.
    ok = F.udf(lambda x: x * 10, IntegerType())
    assert spark.range(3).select(ok(F.col("id").cast("int"))).collect()[2][0] == 20


def test_crashing_worker_fails_only_its_query(spark):
    import os

    def die(x):
        os._exit(3)

    crash = F.udf(die, IntegerType())
    with pytest.raises(PythonException) as info:
        spark.range(2).select(crash("id")).collect()
    assert "exited" in str(info.value) or "worker" in str(info.value)
    ok = F.udf(lambda x: x + 1, IntegerType())
    assert spark.range(2).select(ok(F.col("id").cast("int"))).collect()[1][0] == 2


def test_python_udtf_called_and_registered_for_sql(spark):
    from pyspark.sql.functions import lit, udtf

    @udtf(returnType="num: int, sq: int")
    class Squares:
        def eval(self, start: int, end: int):
            for i in range(start, end):
                yield i, i * i

    rows = Squares(lit(1), lit(4)).collect()
    assert [(r.num, r.sq) for r in rows] == [(1, 1), (2, 4), (3, 9)]
    spark.udtf.register("squares_udtf", Squares)
    got = spark.sql("SELECT num * 10 AS t FROM squares_udtf(2, 5) WHERE sq > 4").collect()
    assert [r.t for r in got] == [30, 40]


def test_python_udtf_terminate_keeps_instance_state(spark):
    from pyspark.sql.functions import lit, udtf

    @udtf(returnType="word: string, n: int")
    class Words:
        def __init__(self):
            self.count = 0

        def eval(self, text: str):
            for w in text.split():
                self.count += 1
                yield w, len(w)

        def terminate(self):
            yield "total", self.count

    rows = Words(lit("hello big world")).collect()
    assert [tuple(r) for r in rows] == [("hello", 5), ("big", 3), ("world", 5), ("total", 3)]


def test_python_udtf_bad_output_row_fails_with_spark_class(spark):
    from pyspark.errors import PythonException
    from pyspark.sql.functions import udtf

    @udtf(returnType="x: int")
    class Bad:
        def eval(self):
            yield 1

    with pytest.raises(PythonException, match="UDTF_INVALID_OUTPUT_ROW_TYPE"):
        Bad().collect()


def test_printing_functions_do_not_break_the_worker(spark):
    # print() inside a UDF or a foreach function goes to the worker's stderr (as
    # Spark's workers), never into the frames the worker sends back.
    @F.udf("int")
    def noisy(x):
        print("value", x, "x" * 70000)
        return x * 2

    rows = spark.range(0, 20, numPartitions=2).select(noisy("id").alias("d")).collect()
    assert sorted(r.d for r in rows) == [2 * i for i in range(20)]

    def shout(row):
        print(row.name)

    df = spark.createDataFrame([(2, "Alice"), (5, "Bob")], ["age", "name"])
    df.foreach(shout)
    df.foreachPartition(lambda rows: [print(r) for r in rows])
    assert df.count() == 2
