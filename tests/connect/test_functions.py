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


def test_unset_time_zone_returns_to_the_default_zone(server):
    # Spark's unset reads the default again: the machine's zone (the JVM zone in
    # Spark). Display and zone-dependent functions must follow it at once.
    spark = new_session(server.url)
    spark.conf.unset("spark.sql.session.timeZone")
    default = spark.conf.get("spark.sql.session.timeZone")
    df = spark.createDataFrame([(datetime.datetime(2015, 4, 8, 13, 8, 15),)], ["ts"])
    before = rows(df.select(F.hour("ts"), F.date_format("ts", "HH:mm"), F.col("ts").cast("string")))
    shanghai = "America/Los_Angeles" if default == "Asia/Shanghai" else "Asia/Shanghai"
    spark.conf.set("spark.sql.session.timeZone", shanghai)
    assert rows(df.select(F.hour("ts"))) != [before[0][:1]]
    spark.conf.unset("spark.sql.session.timeZone")
    assert spark.conf.get("spark.sql.session.timeZone") == default
    assert rows(df.select(F.hour("ts"), F.date_format("ts", "HH:mm"), F.col("ts").cast("string"))) == before
    spark.stop()


def test_generators_in_select_lists(spark):
    df = spark.createDataFrame([(1, [1, 2]), (2, []), (3, None)], "i int, a array<int>")
    assert rows(df.select("i", F.explode("a")).orderBy("i", "col")) == [(1, 1), (1, 2)]
    assert rows(df.select("i", F.explode_outer("a")).orderBy("i", "col")) == [
        (1, 1), (1, 2), (2, None), (3, None)]
    assert rows(df.select("i", F.posexplode("a")).orderBy("i", "pos")) == [(1, 0, 1), (1, 1, 2)]
    s = spark.createDataFrame([(1, [(1, "x"), (2, "y")])], "i int, s array<struct<a:int,b:string>>")
    got = s.select("i", F.inline("s"))
    assert got.columns == ["i", "a", "b"]
    assert sorted(rows(got)) == [(1, 1, "x"), (1, 2, "y")]
    st = spark.createDataFrame([(1, 2, 3)], ["a", "b", "c"]).select(F.stack(F.lit(2), "a", "b", "c"))
    assert rows(st) == [(1, 2), (3, None)]


def test_string_functions_with_spark_argument_conventions(spark):
    df = spark.createDataFrame([("**Spark*", "kitten", "sitting")], ["v", "l", "r"])
    got = df.select(
        F.trim("v", F.lit("*")), F.ltrim("v", F.lit("*")), F.rtrim("v", F.lit("*")), F.btrim("v", F.lit("*")),
        F.levenshtein("l", "r"), F.levenshtein("l", "r", 2),
        F.position(F.lit("bar"), F.lit("foobarbar")), F.position(F.lit("bar"), F.lit("foobarbar"), F.lit(5)),
        F.regexp_replace(F.lit("100-200"), r"(\d+)", "--"),
        F.overlay(F.lit("SPARK_SQL"), F.lit("CORE"), 7),
    )
    assert got.columns[:3] == ["TRIM(BOTH * FROM v)", "TRIM(LEADING * FROM v)", "TRIM(TRAILING * FROM v)"]
    assert rows(got) == [("Spark", "Spark*", "**Spark", "Spark", 3, -1, 4, 7, "-----", "SPARK_CORE")]


def test_date_functions_take_strings_and_short_zone_ids(spark):
    df = spark.createDataFrame([("2015-04-08", "1997-02-28 10:30:00", "JST")], ["dt", "ts", "tz"])
    got = df.select(
        F.add_months("dt", 1), F.date_add("dt", 1), F.date_sub("dt", 1), F.last_day("dt"),
        F.next_day("dt", "Sun"), F.from_utc_timestamp("ts", "PST"), F.from_utc_timestamp("ts", F.col("tz")),
    )
    d = datetime.date
    assert rows(got) == [(
        d(2015, 5, 8), d(2015, 4, 9), d(2015, 4, 7), d(2015, 4, 30), d(2015, 4, 12),
        datetime.datetime(1997, 2, 28, 2, 30), datetime.datetime(1997, 2, 28, 19, 30),
    )]


def test_aggregates_spark_has_and_datafusion_lacks(spark):
    df = spark.createDataFrame(
        [("a", 1, 10, "x"), ("a", 1, 30, "y"), ("a", 2, None, None), ("b", 3, 5, "x")],
        "k string, v int, o int, s string",
    )
    got = df.groupBy("k").agg(
        F.skewness("v"), F.kurtosis("v"), F.product("v"),
        F.max_by("v", "o"), F.min_by("v", "o"),
        F.count_distinct("v", "s"), F.listagg_distinct("s", ","),
        F.sort_array(F.collect_list("s")),
    ).orderBy("k")
    (a, b) = [r[1:] for r in rows(got)]
    # Spark 4.3's own answers (its CentralMomentAgg rounding, recorded with pyspark 4.3).
    assert a[0] == 0.7071067811865469 and a[1] == -1.499999999999999 and a[2] == 2.0
    # listagg without ORDER BY: any order, as in Spark.
    assert a[3:6] == (1, 1, 2) and sorted(a[6].split(",")) == ["x", "y"] and a[7] == ["x", "y"]
    assert b[0] is None and b[1] is None and b[2] == 3.0 and b[3:7] == (3, 3, 1, "x")


def test_values_mixing_decimal_and_double_are_double(spark):
    got = spark.sql("SELECT * FROM VALUES (0.0), (PI()), (FLOAT('NAN')), (NULL) AS TAB(value)")
    assert got.schema.simpleString() == "struct<value:double>"
    assert rows(got.select(F.degrees("value")))[:2] == [(0.0,), (180.0,)]


def test_map_constructors_follow_spark_key_rules(server):
    spark = new_session(server.url)
    # map() with no arguments is an empty map; VALUES widens it to the other rows' type.
    df = spark.sql("SELECT * FROM VALUES (1, map(1, 2, 3, NULL)), (2, map()) AS t(i, m)")
    assert rows(df.orderBy("i")) == [(1, {1: 2, 3: None}), (2, {})]
    assert spark.conf.get("spark.sql.mapKeyDedupPolicy") == "EXCEPTION"
    with pytest.raises(PySparkException, match="DUPLICATED_MAP_KEY"):
        spark.sql("SELECT map(1, 'a', 1, 'b') AS m").collect()
    spark.conf.set("spark.sql.mapKeyDedupPolicy", "LAST_WIN")
    assert rows(spark.sql("SELECT map_entries(map(1, 'a', 2, 'x', 1, 'b')) AS e")) == [
        ([Row(key=1, value="b"), Row(key=2, value="x")],)]
    m = spark.sql("SELECT map(1, 'a', 2, 'b') AS m1, map(2, 'c') AS m2").withColumn(
        "m3", F.lit(None).cast("map<int,string>"))
    got = m.select(F.map_concat("m1", "m2"), F.map_concat("m1", "m3"))
    assert got.columns == ["map_concat(m1, m2)", "map_concat(m1, m3)"]
    assert rows(got) == [({1: "a", 2: "c"}, None)]
    spark.conf.unset("spark.sql.mapKeyDedupPolicy")
    with pytest.raises(PySparkException, match="DUPLICATED_MAP_KEY"):
        rows(m.select(F.map_concat("m1", "m2")))
    with pytest.raises(PySparkException, match="NULL_MAP_KEY"):
        spark.sql("SELECT map(CAST(NULL AS INT), 1) AS m").collect()
    people = spark.createDataFrame([("Alice", 2, 22.5)], ["name", "age", "weight"])
    got = people.select(F.create_map("name", "age"), F.create_map(F.lit("age"), "age", F.lit("w"), "weight"))
    assert got.columns == ["map(name, age)", "map(age, age, w, weight)"]
    assert rows(got) == [({"Alice": 2}, {"age": 2.0, "w": 22.5})]
    spark.stop()


def test_number_text_and_array_functions(spark):
    df = spark.createDataFrame([(1234567.891, "010101", ["a", "b", "c"])], ["x", "n", "xs"])
    got = df.select(
        F.format_number("x", 2), F.format_number(F.lit(5), 4), F.format_number(F.lit(0.125), 2),
        F.conv("n", 2, 16), F.conv(F.lit("-10"), 16, -10),
        F.array_insert("xs", 2, F.lit("d")), F.array_insert("xs", -2, F.lit("d")),
        F.array_insert("xs", 5, F.lit("e")), F.array_insert("xs", -5, F.lit("e")),
        F.regexp_extract_all(F.lit("100-200, 300-400"), F.lit(r"(\d+)-(\d+)")),
        F.regexp_extract_all(F.lit("100-200, 300-400"), F.lit(r"(\d+)-(\d+)"), 2),
    )
    assert got.columns[0] == "format_number(x, 2)"
    assert got.columns[5] == "array_insert(xs, 2, d)"
    assert got.columns[9] == r"regexp_extract_all(100-200, 300-400, (\d+)-(\d+), 1)"
    assert rows(got) == [(
        "1,234,567.89", "5.0000", "0.12", "15", "-16",
        ["a", "d", "b", "c"], ["a", "b", "d", "c"], ["a", "b", "c", None, "e"], ["e", None, "a", "b", "c"],
        ["100", "300"], ["200", "400"],
    )]
    with pytest.raises(PySparkException, match="INVALID_INDEX_OF_ZERO"):
        df.select(F.array_insert("xs", 0, F.lit("z"))).collect()


def test_mode_timestamp_parsers_and_count_star(spark):
    df = spark.createDataFrame([("a", 2012), ("a", 2012), ("a", 2013), ("b", -10), ("b", 10)], ["k", "y"])
    got = df.groupBy("k").agg(F.mode("y"), F.mode("y", True)).orderBy("k")
    assert got.columns == ["k", "mode(y)", "mode() WITHIN GROUP (ORDER BY y DESC)"]
    # Equally frequent values: the lowest (Spark's deterministic choice).
    assert rows(got) == [("a", 2012, 2012), ("b", -10, -10)]
    assert rows(df.select(F.count(F.expr("*")))) == [(5,)]
    t = spark.createDataFrame([("2015-04-08 12:12:12", "bad")], ["ts", "x"])
    got = t.select(
        F.to_timestamp_ltz("ts"), F.to_timestamp_ntz("ts"), F.try_to_timestamp("x"), F.try_to_date("x"),
        F.try_to_date(F.lit("2016-12-31"), "yyyy-MM-dd"),
    )
    assert got.columns[:2] == ["to_timestamp_ltz(ts)", "to_timestamp_ntz(ts)"]
    assert got.schema["to_timestamp_ntz(ts)"].dataType.simpleString() == "timestamp_ntz"
    ts = datetime.datetime(2015, 4, 8, 12, 12, 12)
    assert rows(got) == [(ts, ts, None, None, datetime.date(2016, 12, 31))]


def test_partition_ids_and_seeded_random_functions_follow_spark(spark):
    # Values printed by Apache Spark 4.3 (local[2]) for the same DataFrame.
    df = spark.range(0, 7, 1, 3).select(
        "id", F.spark_partition_id(), F.monotonically_increasing_id(), F.rand(7), F.randn(-3),
        F.uniform(1.5, 2, 9), F.randstr(5, 2),
    )
    assert df.columns == [
        "id", "SPARK_PARTITION_ID()", "monotonically_increasing_id()", "rand(7)", "randn(-3)",
        "uniform(1.5, 2, 9)", "randstr(5, 2)",
    ]
    assert rows(df) == [
        (0, 0, 0, 0.28188121484885875, 1.5348754337490433, 1.8572835079121368, "sWMRm"),
        (1, 0, 1, 0.45998819035056326, -0.3559077005386685, 1.7331088747535643, "7diP8"),
        (2, 1, 8589934592, 0.4836508543933039, 0.3491727383734497, 1.5854748568977783, "nurJI"),
        (3, 1, 8589934593, 0.734216416644485, -2.4095937675604877, 1.902557197900273, "pH4cm"),
        (4, 2, 17179869184, 0.7145670158242735, -1.1760378827493814, 1.5171131965690363, "5H0As"),
        (5, 2, 17179869185, 0.46621774950712846, -1.0679011132022822, 1.5584112522822466, "IR86W"),
        (6, 2, 17179869186, 0.029547784789351605, -0.20628006257477927, 1.6626113904725972, "xFWLI"),
    ]
    # A filter draws once per input row; the same seed gives the same DataFrame twice.
    kept = spark.range(10).filter(F.rand(5) > 0.5)
    assert rows(kept) == [(2,), (3,), (6,), (8,), (9,)]
    assert rows(kept) == [(2,), (3,), (6,), (8,), (9,)]
    assert [r.id for r in spark.range(0, 10, 1, 2).orderBy(F.rand(1)).collect()] == [3, 2, 6, 8, 7, 5, 1, 0, 4, 9]


def test_seeded_sample_keeps_the_rows_spark_keeps(spark):
    # spark.range(20) has spark.default.parallelism (local[2]: 2) partitions.
    assert [r.id for r in spark.range(20).sample(0.3, 11).collect()] == [0, 1, 4, 7, 8, 13, 14, 16]
    got = spark.range(0, 20, 1, 3).sample(fraction=0.5, seed=5).collect()
    assert [r.id for r in got] == [0, 1, 4, 5, 6, 8, 12, 13, 14, 19]
    assert spark.range(0, 10, 1, 1).sample(fraction=0.5, seed=3).count() == 4
    # With replacement: Spark's Poisson draws (rows repeated in place).
    assert [r.id for r in spark.range(0, 10, 1, 1).sample(True, 0.5, 3).collect()] == [5, 6]
    assert [r.id for r in spark.range(0, 20, 1, 2).sample(True, 0.2, 11).collect()] == [4, 13, 14, 18]


def test_seeded_uuid_and_shuffle_follow_spark(spark):
    # PySpark 4.2's documented outputs (produced by Apache Spark), one partition.
    got = spark.range(0, 3, 1, 1).select(F.uuid(seed=123))
    assert got.columns == ["uuid()"]
    assert [r[0] for r in got.collect()] == [
        "4c99192d-23d6-4d88-b814-a634398120f0",
        "af506873-3c53-41e3-8354-a24856b8de8a",
        "7b4b370e-e867-47e2-93c0-f6990463a12d",
    ]
    df = spark.sql("SELECT ARRAY(1, 20, NULL, 5) AS data")
    got = df.select(F.shuffle(F.col("data"), 234))
    assert got.columns == ["shuffle(data)"]
    assert rows(got) == [([None, 5, 20, 1],)]
    nulls = spark.createDataFrame([([1, 2],), (None,)], "a array<int>")
    got = rows(nulls.select(F.shuffle("a", 1)))
    # A NULL array stays NULL; a non-null one is a permutation of itself.
    assert len(got) == 2 and sorted(got[0][0]) == [1, 2] and got[1] == (None,)


def test_second_field_keeps_its_fraction(spark):
    # Spark's SecondWithFraction: DECIMAL(8, 6) for date_part / datepart / extract.
    import decimal
    r = spark.sql(
        "SELECT date_part('SECOND', TIMESTAMP'2015-04-08 13:08:15.123456') AS a, "
        "datepart('S', TIMESTAMP'2015-04-08 13:08:15') AS b, "
        "extract(SECOND FROM TIMESTAMP'2015-04-08 13:08:59.5') AS c, "
        "date_part('MINUTE', TIMESTAMP'2015-04-08 13:08:15') AS d"
    )
    assert [f.dataType.simpleString() for f in r.schema.fields] == [
        "decimal(8,6)", "decimal(8,6)", "decimal(8,6)", "int"]
    assert tuple(r.first()) == (decimal.Decimal("15.123456"), decimal.Decimal("15.000000"),
                                decimal.Decimal("59.500000"), 8)


def test_date_format_quarters_day_of_year_and_iso_offsets(spark):
    ts = "TIMESTAMP'2013-03-10 11:20:00'"
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    r = spark.sql(
        f"SELECT date_format({ts}, 'D') a, date_format({ts}, 'DDD') b, "
        f"date_format({ts}, 'QQQ MMMM') c, date_format({ts}, 'Q/QQ') d, "
        f"date_format({ts}, 'yyyy-MM-dd HH:mm:ss X') e, date_format({ts}, 'QQQQ') f, "
        f"date_format({ts}, 'XXX') g"
    ).first()
    assert tuple(r) == ("69", "069", "Q1 March", "1/01", "2013-03-10 11:20:00 Z",
                        "1st quarter", "Z")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        r = spark.sql("SELECT date_format(TIMESTAMP'2013-01-10 11:20:00', 'X|XX|XXX') a").first()
        assert r.a == "-05|-0500|-05:00"
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
