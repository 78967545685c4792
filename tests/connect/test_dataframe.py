"""The DataFrame API over Spark Connect: one test per kind of plan the client sends
(relations, expressions, commands, catalog), with expected values written from
Spark's documented behaviour."""

import datetime
import decimal

import pytest
from pyspark.errors import AnalysisException, PySparkException
from pyspark.sql import Row, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from conftest import DATA


@pytest.fixture(scope="module")
def people(spark):
    return spark.createDataFrame(
        [(1, "alice", 30, "NY"), (2, "bob", None, "SF"), (3, "carol", 25, "NY"), (4, "dan", 41, None)],
        ["id", "name", "age", "city"],
    )


@pytest.fixture(scope="module")
def flights(spark):
    return (
        spark.read.option("header", "true")
        .option("inferSchema", "true")
        .option("nullValue", "NA")
        .csv(str(DATA / "nycflights13" / "flights.csv.gz"))
    )


def test_create_dataframe_forms(spark):
    rows = spark.createDataFrame([Row(a=1, b="x"), Row(a=2, b="y")])
    assert rows.collect() == [Row(a=1, b="x"), Row(a=2, b="y")]
    dicts = spark.createDataFrame([{"a": 1, "b": 2.5}])
    assert dicts.schema["b"].dataType == DoubleType()
    schema = StructType([StructField("k", StringType()), StructField("v", IntegerType())])
    typed = spark.createDataFrame([("a", 1)], schema)
    assert typed.schema == schema
    ddl = spark.createDataFrame([("a", 1)], "k string, v long")
    assert ddl.schema["v"].dataType == LongType()
    import pandas as pd

    pdf = spark.createDataFrame(pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", None]}))
    assert pdf.count() == 3 and pdf.filter(F.col("y").isNull()).count() == 1
    empty = spark.createDataFrame([], schema)
    assert empty.count() == 0 and empty.columns == ["k", "v"]


def test_range_and_limits(spark):
    df = spark.range(10)
    assert df.columns == ["id"] and df.schema["id"].dataType == LongType()
    assert [r.id for r in spark.range(2, 11, 3).collect()] == [2, 5, 8]
    assert [r.id for r in df.orderBy("id").offset(7).collect()] == [7, 8, 9]
    assert [r.id for r in df.orderBy("id").tail(2)] == [8, 9]
    assert df.limit(3).count() == 3


def test_project_filter_and_names(people):
    out = people.select("name", (F.col("age") + 1).alias("next"), F.col("age") * 2, F.lit(1))
    assert out.columns == ["name", "next", "(age * 2)", "1"]
    assert people.filter(people.age > 26).select("name").collect() == [Row(name="alice"), Row(name="dan")]
    assert people.where("city = 'NY' AND age < 30").count() == 1
    assert people.select(F.expr("upper(name) AS n")).first().n == "ALICE"
    assert people.selectExpr("id + 1 AS i", "name").columns == ["i", "name"]


def test_with_columns_rename_drop_todf(people):
    df = people.withColumn("age2", F.col("age") * 2).withColumns({"one": F.lit(1), "age": F.col("age") + 0})
    assert df.columns == ["id", "name", "age", "city", "age2", "one"]
    assert people.withColumnRenamed("name", "n").columns == ["id", "n", "age", "city"]
    assert people.withColumnsRenamed({"id": "i", "city": "c"}).columns == ["i", "name", "age", "c"]
    assert people.drop("age", "city").columns == ["id", "name"]
    assert people.drop(people.age).columns == ["id", "name", "city"]
    assert people.drop("nonexistent").columns == people.columns
    assert people.toDF("a", "b", "c", "d").columns == ["a", "b", "c", "d"]


def test_sort_orders(people):
    assert [r.name for r in people.orderBy(F.col("age").desc_nulls_last()).collect()] == ["dan", "alice", "carol", "bob"]
    # Spark: ascending puts nulls first.
    assert [r.name for r in people.orderBy("age").collect()][0] == "bob"
    assert [r.name for r in people.sort(F.desc("id")).collect()] == ["dan", "carol", "bob", "alice"]


def test_aggregates(people, flights):
    by_city = people.groupBy("city").agg(F.count("*").alias("n"), F.avg("age")).orderBy("city")
    assert by_city.columns == ["city", "n", "avg(age)"]
    assert by_city.collect() == [Row(city=None, n=1, **{"avg(age)": 41.0}), Row(city="NY", n=2, **{"avg(age)": 27.5}), Row(city="SF", n=1, **{"avg(age)": None})]
    assert people.agg(F.max("age")).first()[0] == 41
    assert people.select(F.sum("age"), F.count("age")).first() == Row(**{"sum(age)": 96, "count(age)": 3})
    assert people.groupBy("city").count().filter("city = 'NY'").first()["count"] == 2
    top = flights.groupBy("origin").agg(F.countDistinct("dest").alias("d")).orderBy("origin").collect()
    assert [r.origin for r in top] == ["EWR", "JFK", "LGA"]


def test_rollup_cube_pivot(spark):
    df = spark.createDataFrame([("a", "x", 1), ("a", "y", 2), ("b", "x", 3)], ["k", "c", "v"])
    rollup = df.rollup("k").agg(F.sum("v").alias("s")).orderBy(F.col("k").asc_nulls_first()).collect()
    assert rollup == [Row(k=None, s=6), Row(k="a", s=3), Row(k="b", s=3)]
    cube = df.cube("k", "c").count()
    assert cube.count() == 8  # sets (k,c): 3 groups, (k): 2, (c): 2, (): 1
    piv = df.groupBy("k").pivot("c").sum("v").orderBy("k").collect()
    assert piv == [Row(k="a", x=1, y=2), Row(k="b", x=3, y=None)]
    piv2 = df.groupBy("k").pivot("c", ["x"]).agg(F.sum("v"), F.count("v")).orderBy("k")
    assert piv2.columns == ["k", "x_sum(v)", "x_count(v)"]


def test_joins(spark, people):
    cities = spark.createDataFrame([("NY", "New York"), ("SF", "San Francisco"), ("LA", "Los Angeles")], ["city", "full"])
    inner = people.join(cities, "city").orderBy("id")
    assert inner.columns == ["city", "id", "name", "age", "full"]
    assert inner.count() == 3
    left = people.join(cities, on="city", how="left")
    assert left.count() == 4
    full = people.join(cities, "city", "full")
    assert full.count() == 5
    on = people.join(cities, people.city == cities.city, "inner").select(people.name, cities.full)
    assert sorted(r.full for r in on.collect()) == ["New York", "New York", "San Francisco"]
    assert people.join(cities, "city", "left_semi").count() == 3
    assert [r.name for r in people.join(cities, "city", "left_anti").collect()] == ["dan"]
    assert people.crossJoin(cities).count() == 12
    assert people.join(F.broadcast(cities), "city").count() == 3
    a = people.alias("a")
    b = people.alias("b")
    self_join = a.join(b, F.col("a.id") == F.col("b.id") - 1).select("a.name", F.col("b.name").alias("next"))
    assert sorted(r.next for r in self_join.collect()) == ["bob", "carol", "dan"]


def test_set_operations(spark):
    a = spark.createDataFrame([(1,), (2,), (2,), (3,)], ["x"])
    b = spark.createDataFrame([(2,), (3,), (4,)], ["x"])
    assert sorted(r.x for r in a.union(b).collect()) == [1, 2, 2, 2, 3, 3, 4]
    assert sorted(r.x for r in a.intersect(b).collect()) == [2, 3]
    assert sorted(r.x for r in a.intersectAll(b).collect()) == [2, 3]
    assert sorted(r.x for r in a.subtract(b).collect()) == [1]
    assert sorted(r.x for r in a.exceptAll(b).collect()) == [1, 2]
    c = spark.createDataFrame([("z", 9)], ["y", "x"])
    assert a.unionByName(c.select("x")).count() == 5
    assert sorted(r.x for r in a.distinct().collect()) == [1, 2, 3]
    assert a.dropDuplicates(["x"]).count() == 3


def test_window_functions(people):
    w = Window.partitionBy("city").orderBy(F.col("age").desc())
    out = people.withColumn("rk", F.row_number().over(w)).filter("city = 'NY'").orderBy("rk")
    assert [r.name for r in out.collect()] == ["alice", "carol"]
    running = people.withColumn("s", F.sum("id").over(Window.orderBy("id").rowsBetween(Window.unboundedPreceding, Window.currentRow)))
    assert [r.s for r in running.orderBy("id").collect()] == [1, 3, 6, 10]
    lagged = people.withColumn("prev", F.lag("name", 1).over(Window.orderBy("id"))).orderBy("id")
    assert [r.prev for r in lagged.collect()] == [None, "alice", "bob", "carol"]


def test_expressions(spark, people):
    r = people.select(
        F.when(F.col("age") > 28, "old").when(F.col("age").isNull(), "?").otherwise("young").alias("w"),
        F.coalesce("age", F.lit(0)).alias("c"),
        F.col("name").isin("alice", "bob").alias("i"),
        F.col("name").like("a%").alias("l"),
        F.col("name").rlike("^c").alias("rl"),
        F.col("age").between(20, 30).alias("b"),
        F.col("age").cast("string").alias("s"),
        F.upper("name").alias("u"),
        F.concat_ws("-", "name", "city").alias("cw"),
    ).orderBy("c").collect()
    assert r[0] == Row(w="?", c=0, i=True, l=False, rl=False, b=None, s=None, u="BOB", cw="bob-SF")
    lits = spark.range(1).select(
        F.lit(True), F.lit(1.5), F.lit(decimal.Decimal("12.50")), F.lit(datetime.date(2024, 1, 2)),
        F.lit("x"), F.lit(None).cast("int"), F.array(F.lit(1), F.lit(2)).alias("arr"),
    ).first()
    assert list(lits) == [True, 1.5, decimal.Decimal("12.50"), datetime.date(2024, 1, 2), "x", None, [1, 2]]
    st = spark.range(1).select(F.struct(F.lit(1).alias("a"), F.lit("b").alias("b")).alias("s"))
    got = st.select("s.a", F.col("s")["b"]).first()
    assert (got[0], got[1]) == (1, "b")
    arr = spark.range(1).select(F.array(F.lit(10), F.lit(20)).alias("a"))
    assert arr.select(F.col("a")[1]).first()[0] == 20
    assert spark.range(3).select(F.col("*")).columns == ["id"]


def test_na_functions(people):
    assert people.na.fill(0).filter("age = 0").count() == 1
    assert people.na.fill({"city": "?"}).filter("city = '?'").count() == 1
    assert people.na.drop().count() == 2
    assert people.na.drop(subset=["age"]).count() == 3
    assert people.dropna(thresh=4).count() == 2
    assert people.na.replace("NY", "New York", "city").filter("city = 'New York'").count() == 2
    assert people.fillna("x", subset=["city"]).filter("city = 'x'").count() == 1


def test_describe_and_summary(people):
    d = {r.summary: r for r in people.describe("age").collect()}
    assert d["count"].age == "3" and d["max"].age == "41" and d["min"].age == "25"
    s = {r.summary: r for r in people.summary("count", "50%", "max").collect()}
    assert s["50%"].age == "30" and s["max"].age == "41"


def test_unpivot(spark):
    df = spark.createDataFrame([(1, 11, 1.1), (2, 12, 1.2)], ["id", "int", "double"])
    out = df.unpivot("id", ["int", "double"], "var", "val").collect()
    assert out == [Row(id=1, var="int", val=11.0), Row(id=1, var="double", val=1.1), Row(id=2, var="int", val=12.0), Row(id=2, var="double", val=1.2)]


def test_repartition_sample_hint_subquery_alias(people):
    assert people.repartition(3).count() == 4
    assert people.repartition(2, "city").count() == 4
    assert people.coalesce(1).count() == 4
    assert people.hint("broadcast").count() == 4
    s = people.sample(fraction=1.0, seed=1).count()
    assert s == 4
    assert people.sample(fraction=0.0).count() == 0
    assert people.alias("p").select("p.name").count() == 4


def test_sql_with_args_and_views(spark, people):
    people.createOrReplaceTempView("people_v")
    assert spark.sql("SELECT name FROM people_v WHERE age > :a ORDER BY name", args={"a": 26}).collect() == [Row(name="alice"), Row(name="dan")]
    assert spark.sql("SELECT name FROM people_v WHERE id = ?", args=[3]).first().name == "carol"
    assert spark.table("people_v").count() == 4
    assert spark.read.table("people_v").count() == 4
    spark.sql("CREATE OR REPLACE TEMP VIEW one AS SELECT 1 AS x")
    assert spark.sql("SELECT * FROM one").first().x == 1


def test_catalog(spark, people):
    people.createOrReplaceTempView("cat_people")
    names = [t.name for t in spark.catalog.listTables()]
    assert "cat_people" in names
    cols = {c.name: c.dataType for c in spark.catalog.listColumns("cat_people")}
    assert cols["age"] == "bigint" and cols["name"] == "string"
    assert spark.catalog.tableExists("cat_people")
    assert spark.catalog.dropTempView("cat_people")
    assert not spark.catalog.tableExists("cat_people")
    assert spark.catalog.currentDatabase() == "default"


def test_write_and_read_back(spark, people, tmp_path):
    out = str(tmp_path / "people")
    people.write.mode("overwrite").partitionBy("city").parquet(out)
    back = spark.read.parquet(out)
    assert back.count() == 4 and "city" in back.columns
    people.write.format("csv").option("header", "true").mode("overwrite").save(str(tmp_path / "csv"))
    csv = spark.read.option("header", "true").option("inferSchema", "true").csv(str(tmp_path / "csv"))
    assert sorted(r.id for r in csv.collect()) == [1, 2, 3, 4]
    people.write.mode("overwrite").json(str(tmp_path / "json"))
    assert spark.read.json(str(tmp_path / "json")).count() == 4
    with pytest.raises(AnalysisException):
        people.write.mode("error").parquet(out)
    people.write.mode("overwrite").option("path", str(tmp_path / "opt")).save()
    assert spark.read.load(str(tmp_path / "opt")).count() == 4
    people.write.mode("overwrite").saveAsTable("people_tbl")
    assert spark.table("people_tbl").count() == 4


def test_read_options_and_schema(spark, tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a;b\n1;x\n2;y\n")
    df = spark.read.schema("a INT, b STRING").option("sep", ";").option("header", True).csv(str(p))
    assert df.collect() == [Row(a=1, b="x"), Row(a=2, b="y")]
    t = tmp_path / "t.txt"
    t.write_text("l1\nl2\n")
    assert [r.value for r in spark.read.text(str(t)).collect()] == ["l1", "l2"]
    assert spark.read.format("csv").load(str(p)).count() == 3
    files = df.inputFiles()
    assert any(f.endswith("d.csv") for f in files)


def test_analyze_requests(spark, people):
    assert people.schema.names == ["id", "name", "age", "city"]
    # Spark: only a bare LocalRelation (or a command result) is local.
    assert spark.createDataFrame([(1,)]).isLocal() is True
    assert spark.sql("SHOW TABLES").isLocal() is True
    assert spark.range(3).isLocal() is False
    assert spark.version.startswith("4.")
    df1, df2 = spark.range(10), spark.range(10)
    assert df1.withColumn("c", df1.id * 2).sameSemantics(df2.withColumn("c", df2.id * 2))
    assert not df1.withColumn("c", df1.id * 2).sameSemantics(df2.withColumn("c", df2.id * 3))
    assert isinstance(people.semanticHash(), int)
    assert people.isStreaming is False


def test_config(spark):
    spark.conf.set("spark.sql.shuffle.partitions", "7")
    assert spark.conf.get("spark.sql.shuffle.partitions") == "7"
    spark.conf.unset("spark.sql.shuffle.partitions")
    assert spark.conf.get("spark.sql.shuffle.partitions") == "200"
    assert spark.conf.get("spark.nonexistent.key", "dflt") == "dflt"
    assert spark.conf.isModifiable("spark.sql.shuffle.partitions")
    with pytest.raises(PySparkException):
        spark.conf.get("spark.nonexistent.key")


def test_show_text(people, capsys):
    people.show(2)
    out = capsys.readouterr().out
    # Nulls print as NULL, so `age` is 4 wide (Spark's showString).
    assert out.startswith("+---+-----+----+----+\n| id| name| age|city|\n+---+-----+----+----+\n|  1|alice|  30|  NY|\n")
    assert "only showing top 2 rows" in out
    people.show(1, vertical=True)
    assert capsys.readouterr().out.startswith("-RECORD 0----")


def test_results_come_in_partition_order(spark):
    # As Spark's collect(): all rows of the first input of a union, then the next;
    # take/show read the first rows in that order too.
    a = spark.createDataFrame([(i,) for i in range(0, 50)], ["x"]).repartition(3)
    b = spark.createDataFrame([(i,) for i in range(50, 60)], ["x"])
    for _ in range(5):
        rows = [r.x for r in b.union(a).collect()]
        assert rows[:10] == list(range(50, 60))
        assert sorted(rows[10:]) == list(range(0, 50))
        assert [r.x for r in b.union(a).take(12)][:10] == list(range(50, 60))
    one = spark.createDataFrame([(1, "a"), (2, "b")], ["id", "v"])
    two = spark.createDataFrame([(3, "c"), (4, "d")], ["id", "v"])
    assert [r.id for r in one.union(two).union(one).collect()] == [1, 2, 3, 4, 1, 2]
    assert [r.id for r in one.union(two).limit(3).collect()] == [1, 2, 3]
    assert [r.id for r in one.union(two).offset(1).limit(2).collect()] == [2, 3]


def test_crosstab(spark):
    df = spark.createDataFrame(
        [(1, "x"), (1, "x"), (3, "y"), (4, None), (4, "z"), (None, "x")], ["a", "b"]
    )
    t = df.crosstab("a", "b")
    # Columns: the pair name, then col2's values as strings, sorted; null as "null".
    assert t.columns == ["a_b", "null", "x", "y", "z"]
    assert [f.dataType for f in t.schema.fields] == [StringType()] + [LongType()] * 4
    got = {r["a_b"]: tuple(r[1:]) for r in t.collect()}
    assert got == {
        "1": (0, 2, 0, 0),
        "3": (0, 0, 1, 0),
        "4": (1, 0, 0, 1),
        "null": (0, 1, 0, 0),
    }
    with pytest.raises(AnalysisException):
        df.crosstab("a", "nope").collect()


def test_freq_items(spark):
    df = spark.createDataFrame([(1, "p"), (1, "q"), (3, "p"), (4, "p"), (4, None)], ["n", "s"])
    r = df.freqItems(["n", "s"]).collect()[0]
    assert df.freqItems(["n", "s"]).columns == ["n_freqItems", "s_freqItems"]
    # Few distinct values: every one of them is a candidate.
    assert sorted(r.n_freqItems) == [1, 3, 4]
    assert sorted(r.s_freqItems, key=lambda v: (v is None, v)) == ["p", "q", None]
    # support 0.4 keeps 2 candidates; "p" is in 3 of 5 rows and must be one.
    r = df.stat.freqItems(["s"], 0.4).collect()[0]
    assert "p" in r.s_freqItems and len(r.s_freqItems) <= 2
    with pytest.raises(AnalysisException):
        df.freqItems(["n"], 0.00001).collect()


def test_zip_with_index_numbers_rows_in_partition_order(spark):
    df = spark.range(0, 10, 1, 3)
    assert [(r.id, r["index"]) for r in df.zipWithIndex().collect()] == [(i, i) for i in range(10)]
    shuffled = df.repartition(3, "id").select("id", F.spark_partition_id().alias("p"))
    rows = shuffled.zipWithIndex("row_id").collect()
    assert [r.row_id for r in rows] == list(range(10))
    # Partition 0's rows first, then partition 1's, ...
    assert [r.p for r in rows] == sorted(r.p for r in rows)
    assert sorted(r.id for r in rows) == list(range(10))


def test_column_metadata_as_spark(spark):
    df = spark.createDataFrame([(2, "Alice"), (5, "Bob")], ["age", "name"])
    m = df.withMetadata("age", {"foo": "bar", "n": 1, "l": [1, 2]})
    meta = {"foo": "bar", "n": 1, "l": [1, 2]}
    assert m.schema["age"].metadata == meta
    # Kept by a column reference, a filter and a sort; gone from a computed column.
    assert m.select("age").schema["age"].metadata == meta
    assert m.filter("age > 3").orderBy("age").schema["age"].metadata == meta
    assert m.select((F.col("age") + 1).alias("b")).schema["b"].metadata == {}
    aliased = df.select(F.col("age").alias("a", metadata={"x": {"y": 1}}))
    assert aliased.schema["a"].metadata == {"x": {"y": 1}}
    # Plans over such columns run: aggregation, distinct, union, join, window, SQL.
    assert m.groupBy("age").count().count() == 2
    assert m.distinct().count() == 2 and m.union(df).count() == 4
    assert m.join(df, "age").count() == 2
    w = Window.orderBy("age")
    assert [r.r for r in m.select(F.row_number().over(w).alias("r")).collect()] == [1, 2]
    m.createOrReplaceTempView("with_meta")
    assert spark.sql("SELECT age, count(*) c FROM with_meta GROUP BY age").count() == 2


def test_first_and_last_follow_a_preceding_sort(spark):
    # The "latest row per key" idiom: the aggregation reads the sorted rows in order.
    rows = [("a", 1, "x1"), ("a", 3, "x3"), ("b", 2, "y2"), ("a", 2, "x2"), ("b", 5, "y5"),
            ("b", None, "y0")]
    df = spark.createDataFrame(rows, "k string, ts int, v string")
    latest = df.orderBy(F.desc("ts")).groupBy("k").agg(
        F.first("v").alias("newest"), F.last("v").alias("oldest")).orderBy("k")
    assert [tuple(r) for r in latest.collect()] == [("a", "x3", "x1"), ("b", "y5", "y0")]
    # Ascending with NULLs first (Spark's default), as the pyspark docs show.
    firsts = df.orderBy("ts").groupBy("k").agg(F.first("ts").alias("f")).orderBy("k")
    assert [tuple(r) for r in firsts.collect()] == [("a", 1), ("b", None)]


def test_row_numbers_after_a_sort_follow_it(spark):
    # zipWithIndex / monotonically_increasing_id number the sorted rows: the sort
    # below them is kept (their values depend on row positions).
    df = spark.createDataFrame([(3, "c"), (1, "a"), (4, "d"), (2, "b")], "id int, s string")
    z = df.orderBy(F.desc("s")).zipWithIndex()
    assert [(r.s, r["index"]) for r in z.collect()] == [("d", 0), ("c", 1), ("b", 2), ("a", 3)]
    m = df.orderBy("s").select("s", F.monotonically_increasing_id().alias("m"))
    assert [(r.s, r.m) for r in m.orderBy("m").collect()] == [("a", 0), ("b", 1), ("c", 2), ("d", 3)]


def test_collect_list_of_structs_and_arrays(spark):
    df = spark.createDataFrame([(1, "a", [1]), (1, "b", [2]), (2, "c", None)],
                               "k int, s string, arr array<int>")
    r = df.groupBy("k").agg(F.collect_list(F.struct("s")).alias("l"),
                            F.collect_set("s").alias("cs"),
                            F.collect_list("arr").alias("la")).orderBy("k").collect()
    assert [(x.k, [y.s for y in x.l], sorted(x.cs), x.la) for x in r] == [
        (1, ["a", "b"], ["a", "b"], [[1], [2]]), (2, ["c"], ["c"], [])]
    # Spark: no NULL elements in a collect_set of strings.
    assert df.groupBy("k").agg(F.collect_set("s").alias("cs")).schema["cs"].dataType.containsNull is False


def test_range_frame_offsets_over_an_int_key(spark):
    # Spark compares the key's values: rows within 1 of the current `m` (an `int`).
    from pyspark.sql import Window
    df = spark.createDataFrame([("a", 1, 1.0), ("a", 2, 2.0), ("a", 3, 4.0), ("b", 1, 8.0)],
                               "k string, m int, t double")
    w = Window.partitionBy("k").orderBy("m").rangeBetween(-1, 1)
    got = df.select("k", "m", F.sum("t").over(w).alias("s")).orderBy("k", "m").collect()
    assert [tuple(r) for r in got] == [("a", 1, 3.0), ("a", 2, 7.0), ("a", 3, 6.0), ("b", 1, 8.0)]
    w = Window.orderBy(F.col("m").cast("smallint")).rangeBetween(0, 1)
    got = df.select("k", "m", F.count("*").over(w).alias("n")).orderBy("k", "m").collect()
    assert [r.n for r in got] == [3, 2, 1, 3]


def test_csv_and_json_writer_options(spark, tmp_path):
    import datetime
    import os
    df = spark.createDataFrame(
        [(1, "a;b", None, datetime.datetime(2013, 1, 2, 14, 0)), (2, "", 1.5, None)],
        "id int, s string, x double, ts timestamp")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    out = str(tmp_path / "csv")
    (df.orderBy("id").coalesce(1).write.option("header", True).option("sep", ";")
     .option("nullValue", "NULL").csv(out))
    part = [f for f in sorted(os.listdir(out)) if f.startswith("part-")][0]
    # As Spark 4.3 writes it: the separator in the header too, NULL for nulls, `""`
    # for an empty string, timestamps as yyyy-MM-dd'T'HH:mm:ss.SSSXXX.
    assert open(os.path.join(out, part)).read().splitlines() == [
        "id;s;x;ts", '1;"a;b";NULL;2013-01-02T14:00:00.000Z', '2;"";1.5;NULL']
    out = str(tmp_path / "json")
    df.orderBy("id").coalesce(1).write.json(out)
    part = [f for f in sorted(os.listdir(out)) if f.startswith("part-")][0]
    assert open(os.path.join(out, part)).read().splitlines() == [
        '{"id":1,"s":"a;b","ts":"2013-01-02T14:00:00.000Z"}', '{"id":2,"s":"","x":1.5}']


def test_struct_star_expansion(spark):
    df = spark.createDataFrame([(1, ("a", 2, (3.0, "z")))],
                               "id int, s struct<x:string,y:int,n:struct<p:double,q:string>>")
    assert df.selectExpr("s.*", "id").columns == ["x", "y", "n", "id"]
    assert df.select("s.n.*").collect() == [Row(p=3.0, q="z")]
    # struct() of a field path names the field after its last part, as Spark.
    assert df.select(F.struct("id", "s.x").alias("r")).select("r.*").columns == ["id", "x"]
    df.createOrReplaceTempView("nested_t")
    got = spark.sql("SELECT s.*, id FROM nested_t")
    assert got.columns == ["x", "y", "n", "id"]
    assert spark.sql("SELECT t.id, t.s.n.* FROM nested_t t").collect() == [Row(id=1, p=3.0, q="z")]
    # A relation's star is still the relation's columns.
    assert spark.sql("SELECT t.* FROM nested_t t").columns == ["id", "s"]
    assert spark.sql("SELECT s.* FROM VALUES (named_struct('a', 1, 'b', 'x')) v(s)").collect() == [
        Row(a=1, b="x")]
