"""Spark behaviours ember reproduces, checked against answers recorded once from Apache
Spark 4.3.0 (local[2], session time zone UTC) for the same statements: pivot cells of
absent values, decimal division, time windows, approximate quantiles and the JSON
functions. Each expected table is Spark's `show(truncate=False)` text or its rows."""

import pytest
from pyspark.sql import functions as F


def show(df, n=20):
    """The schema and the `show(truncate=False)` text, as the recording printed them."""
    return df.schema.simpleString() + "\n" + df._show_string(n, truncate=False)


def table(text):
    return "\n".join(line.strip() for line in text.strip().splitlines()) + "\n"


@pytest.fixture(scope="module")
def utc(spark):
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark


@pytest.fixture(scope="module")
def kpv(utc):
    return utc.createDataFrame([("a", "x", 1), ("a", "y", 2), ("b", "x", 3)], "k string, p string, v int")


def test_pivot_numeric_cells_of_absent_values_are_null(kpv):
    assert show(kpv.groupBy("k").pivot("p").count().orderBy("k")) == table("""
        struct<k:string,x:bigint,y:bigint>
        +---+---+----+
        |k  |x  |y   |
        +---+---+----+
        |a  |1  |1   |
        |b  |1  |NULL|
        +---+---+----+
        """)
    assert show(kpv.groupBy("k").pivot("p").agg(F.sum("v"), F.first("v")).orderBy("k")) == table("""
        struct<k:string,x_sum(v):bigint,x_first(v):int,y_sum(v):bigint,y_first(v):int>
        +---+--------+----------+--------+----------+
        |k  |x_sum(v)|x_first(v)|y_sum(v)|y_first(v)|
        +---+--------+----------+--------+----------+
        |a  |1       |1         |2       |2         |
        |b  |3       |3         |NULL    |NULL      |
        +---+--------+----------+--------+----------+
        """)


def test_pivot_other_cells_aggregate_nothing(kpv):
    # Not numeric: Spark aggregates `if(p = v, x, null)`, so collect_list gives [].
    assert show(kpv.groupBy("k").pivot("p").agg(F.collect_list("v")).orderBy("k")) == table("""
        struct<k:string,x:array<int>,y:array<int>>
        +---+---+---+
        |k  |x  |y  |
        +---+---+---+
        |a  |[1]|[2]|
        |b  |[3]|[] |
        +---+---+---+
        """)


def test_decimal_division_type_and_rounding(utc):
    df = utc.sql("SELECT CAST(7 AS INT) / 1000.0 AS a, CAST(2 AS DECIMAL(10,2)) / CAST(3 AS DECIMAL(5,3)) AS b, "
                 "CAST(1 AS BIGINT) / 3.0 AS c, CAST(-5 AS DECIMAL(38,10)) / CAST(3 AS DECIMAL(38,10)) AS d, "
                 "10.5 / 4 AS e")
    assert show(df) == table("""
        struct<a:decimal(17,6),b:decimal(19,8),c:decimal(27,6),d:decimal(38,6),e:decimal(8,6)>
        +--------+----------+--------+---------+--------+
        |a       |b         |c       |d        |e       |
        +--------+----------+--------+---------+--------+
        |0.007000|0.66666667|0.333333|-1.666667|2.625000|
        +--------+----------+--------+---------+--------+
        """)


@pytest.fixture(scope="module")
def events(utc):
    return utc.createDataFrame(
        [("2024-03-01 10:03:00", 1), ("2024-03-01 10:07:00", 2), ("2024-03-01 10:12:00", 3), (None, 4)],
        "t string, v int").select(F.to_timestamp("t").alias("t"), "v")


def test_tumbling_windows_group_and_drop_null_times(events):
    assert show(events.groupBy(F.window("t", "10 minutes")).agg(F.sum("v").alias("s")).orderBy("window")) == table("""
        struct<window:struct<start:timestamp,end:timestamp>,s:bigint>
        +------------------------------------------+---+
        |window                                    |s  |
        +------------------------------------------+---+
        |{2024-03-01 10:00:00, 2024-03-01 10:10:00}|3  |
        |{2024-03-01 10:10:00, 2024-03-01 10:20:00}|3  |
        +------------------------------------------+---+
        """)
    assert show(events.groupBy(F.window("t", "1 day")).count().orderBy("window")) == table("""
        struct<window:struct<start:timestamp,end:timestamp>,count:bigint>
        +------------------------------------------+-----+
        |window                                    |count|
        +------------------------------------------+-----+
        |{2024-03-01 00:00:00, 2024-03-02 00:00:00}|3    |
        +------------------------------------------+-----+
        """)


def test_sliding_windows_count_a_row_in_each_window(events):
    got = events.groupBy(F.window("t", "10 minutes", "5 minutes")).agg(F.sum("v").alias("s")).orderBy("window")
    assert show(got) == table("""
        struct<window:struct<start:timestamp,end:timestamp>,s:bigint>
        +------------------------------------------+---+
        |window                                    |s  |
        +------------------------------------------+---+
        |{2024-03-01 09:55:00, 2024-03-01 10:05:00}|1  |
        |{2024-03-01 10:00:00, 2024-03-01 10:10:00}|3  |
        |{2024-03-01 10:05:00, 2024-03-01 10:15:00}|5  |
        |{2024-03-01 10:10:00, 2024-03-01 10:20:00}|3  |
        +------------------------------------------+---+
        """)


def test_window_in_select_with_start_time(events):
    assert show(events.select("v", F.window("t", "10 minutes", startTime="2 minutes").alias("w")).orderBy("v")) == table("""
        struct<v:int,w:struct<start:timestamp,end:timestamp>>
        +---+------------------------------------------+
        |v  |w                                         |
        +---+------------------------------------------+
        |1  |{2024-03-01 10:02:00, 2024-03-01 10:12:00}|
        |2  |{2024-03-01 10:02:00, 2024-03-01 10:12:00}|
        |3  |{2024-03-01 10:12:00, 2024-03-01 10:22:00}|
        +---+------------------------------------------+
        """)
    assert events.select(F.window("t", "10 minutes")).columns == ["window"]


@pytest.fixture(scope="module")
def numbers(utc):
    return utc.range(0, 1000).select(
        (F.col("id") * 7 % 1000).alias("x"),
        F.when(F.col("id") % 10 == 0, None).otherwise(F.col("id") / 3).alias("y"))


def test_approx_quantile_exact_and_approximate(numbers):
    assert numbers.approxQuantile("x", [0.0, 0.1, 0.25, 0.5, 0.75, 0.99, 1.0], 0.0) == \
        [0.0, 99.0, 249.0, 499.0, 749.0, 989.0, 999.0]
    assert numbers.approxQuantile(["x", "y"], [0.5, 0.9], 0.01) == \
        [[494.0, 889.0], [166.33333333333334, 298.6666666666667]]
    assert numbers.approxQuantile("x", [0.5], 0.25) == [298.0]


def test_approx_quantile_refuses_non_numeric_columns(numbers):
    with pytest.raises(Exception, match="Quantile calculation for column s with data type string is not supported"):
        numbers.select(F.col("x").cast("string").alias("s")).approxQuantile("s", [0.5], 0.1)


def test_percentile_approx_keeps_the_column_type(numbers, utc):
    got = numbers.select(F.percentile_approx("x", [0.25, 0.5, 0.75], 100).alias("p"),
                         F.percentile_approx("y", 0.5).alias("m"),
                         F.percentile_approx(F.col("x").cast("int"), 0.5, 10000).alias("i"))
    assert show(got) == table("""
        struct<p:array<bigint>,m:double,i:int>
        +---------------+------------------+---+
        |p              |m                 |i  |
        +---------------+------------------+---+
        |[245, 494, 739]|166.33333333333334|499|
        +---------------+------------------+---+
        """)
    dates = utc.sql("SELECT percentile_approx(col, 0.5) FROM VALUES (CAST('2024-01-01' AS DATE)), "
                    "(CAST('2024-01-05' AS DATE)), (CAST('2024-01-03' AS DATE)) AS t(col)")
    assert [tuple(r) for r in dates.collect()][0][0].isoformat() == "2024-01-03"


@pytest.fixture(scope="module")
def docs(utc):
    return utc.createDataFrame([(1, '{"a": 1, "b": [1,2], "c": {"d": "x"}}'), (2, '{"a": "oops"}'),
                                (3, 'not json'), (4, None), (5, '{"b": null}')], "k int, s string")


def test_from_json_struct_permissive(docs):
    got = docs.select("k", F.from_json("s", "a INT, b ARRAY<INT>, c STRUCT<d: STRING>").alias("p")).orderBy("k")
    assert show(got) == table("""
        struct<k:int,p:struct<a:int,b:array<int>,c:struct<d:string>>>
        +---+------------------+
        |k  |p                 |
        +---+------------------+
        |1  |{1, [1, 2], {x}}  |
        |2  |{NULL, NULL, NULL}|
        |3  |{NULL, NULL, NULL}|
        |4  |NULL              |
        |5  |{NULL, NULL, NULL}|
        +---+------------------+
        """)
    assert docs.select(F.from_json("s", "a INT")).columns == ["from_json(s)"]


def test_from_json_with_a_datatype_schema(docs):
    from pyspark.sql.types import ArrayType, IntegerType, StructField, StructType
    schema = StructType([StructField("a", IntegerType())])
    assert [r.p for r in docs.filter("k = 1").select(F.from_json("s", schema).alias("p")).collect()] == [(1,)]
    arr = docs.sparkSession.createDataFrame([("[1, 2, 3]",)], "s string")
    assert arr.select(F.from_json("s", ArrayType(IntegerType())).alias("a")).first().a == [1, 2, 3]


def test_json_object_keys(docs):
    got = [r.keys for r in docs.select("k", F.json_object_keys("s").alias("keys")).orderBy("k").collect()]
    assert got == [["a", "b", "c"], ["a"], None, None, ["b"]]


def test_to_json_as_spark_writes_it(utc):
    t = utc.sql("SELECT named_struct('a', 1, 'b', CAST(NULL AS STRING), 'c', CAST(1.5 AS DOUBLE), 'd', DATE'2024-01-02', "
                "'e', to_timestamp('2024-01-02 03:04:05.678'), 'f', array(1, NULL), 'g', map('k', NULL), 'h', X'0102', "
                "'i', CAST(1.50 AS DECIMAL(5,2)), 'j', CAST(1e10 AS DOUBLE), 'k', 'q\"\\\\/\n') AS s")
    assert t.select(F.to_json("s").alias("j")).first().j == \
        '{"a":1,"c":1.5,"d":"2024-01-02","e":"2024-01-02T03:04:05.678Z","f":[1,null],"g":{"k":null},' \
        '"h":"AQI=","i":1.50,"j":1.0E10,"k":"q\\"\\\\/\\n"}'
    assert t.select(F.to_json("s", {"ignoreNullFields": "false"}).alias("j")).first().j.startswith(
        '{"a":1,"b":null,"c":1.5,')
    assert t.select(F.to_json("s")).columns == ["to_json(s)"]


def test_schema_of_json(utc):
    got = utc.sql("""SELECT schema_of_json('{"b": [1, 2.5], "a": 0, "c": null, "d": {"y": true}, "e": []}') AS s, """
                  """schema_of_json('[{"col": 0}, {"col": "x"}]') AS t""").first()
    assert got.s == "STRUCT<a: BIGINT, b: ARRAY<DOUBLE>, c: STRING, d: STRUCT<y: BOOLEAN>, e: ARRAY<STRING>>"
    assert got.t == "ARRAY<STRUCT<col: STRING>>"


def test_string_functions_take_numbers_by_implicit_cast(utc):
    df = utc.createDataFrame([(14, "Tom")], ["age", "name"])
    for c in df.columns:
        df = df.withColumn(c, F.upper(c))
    assert [tuple(r) for r in df.collect()] == [("14", "TOM")]
    assert df.select(F.lpad(F.lit(5), 3, "0")).first()[0] == "005"


def test_assert_true_is_a_void_null(utc):
    df = utc.createDataFrame([(0, 1)], ["a", "b"])
    got = df.select(F.assert_true(df.a < df.b))
    assert got.columns == ["assert_true((a < b), '(a < b)' is not true!)"]
    assert "|                                        NULL|" in got._show_string(20, truncate=True)
    with pytest.raises(Exception, match="My error msg"):
        df.select(F.assert_true(df.a > df.b, "My error msg")).collect()


def test_grouped_window_struct_is_not_nullable(events):
    got = events.groupBy(F.window("t", "1 day")).agg(F.sum("v"))
    assert got.schema["window"].nullable is False


def test_cast_of_a_column_keeps_its_name(utc):
    # Spark's ResolveAliases: a top-level cast of a column or alias takes its name;
    # other casts, and casts in groupBy or inside functions, show the CAST text.
    df = utc.createDataFrame([(1, 1.0, "a")], ["i", "f", "s"])
    assert df.select(F.col("f").cast("int"), df.i.cast("string"), (df.i + 1).cast("string"),
                     F.lit(1).cast("string"), df.i.alias("x").cast("long"),
                     F.upper("s").cast("string")).columns == [
        "f", "i", "CAST((i + 1) AS STRING)", "CAST(1 AS STRING)", "x", "CAST(upper(s) AS STRING)"]
    assert utc.sql("select cast(id as string), cast(id+1 as int), cast(1 as string), "
                   "cast(upper('a') as string) from range(1)").columns == [
        "id", "CAST((id + 1) AS INT)", "CAST(1 AS STRING)", "CAST(upper(a) AS STRING)"]
    assert utc.sql("select id::string from range(1)").columns == ["id"]
    assert df.selectExpr("cast(i as string)", "cast(f as int) as y").columns == ["i", "y"]
    assert df.groupBy(df.s.cast("string")).count().columns == ["CAST(s AS STRING)", "count"]
    assert df.select(df.i.cast("string").cast("int")).columns == ["i"]


def test_na_drop_counts_nan_as_null(utc):
    from pyspark.sql import Row
    d = utc.createDataFrame([Row(age=10, height=80.0, name="Alice"),
                             Row(age=5, height=float("nan"), name="Bob"),
                             Row(age=None, height=None, name="Tom"),
                             Row(age=None, height=float("nan"), name=None)])

    def names(df):
        return [r.name for r in df.collect()]
    assert names(d.na.drop()) == ["Alice"]
    assert names(d.na.drop(how="all")) == ["Alice", "Bob", "Tom"]
    assert names(d.na.drop(thresh=2)) == ["Alice", "Bob"]
    assert names(d.na.drop(subset=["age", "name"])) == ["Alice", "Bob"]
    assert names(d.na.drop(subset=["height"])) == ["Alice"]


def test_window_time_beside_aggregates(utc):
    import datetime
    df = utc.createDataFrame([(datetime.datetime(2016, 3, 11, 9, 0, 7), 1)], ["dt", "v"])
    df2 = df.groupBy(F.window("dt", "5 seconds")).agg(F.sum("v"))
    out = df2.select("*", F.window_time("window"), F.col("window").getField("end").alias("e"))
    assert out.columns == ["window", "sum(v)", "window_time(window)", "e"]
    row = out.collect()[0]
    assert row["window_time(window)"] == datetime.datetime(2016, 3, 11, 9, 0, 9, 999999)
    assert row["sum(v)"] == 1
