"""`repartition(n, cols)` sends each row to the partition Spark's HashPartitioning
picks (pmod(murmur3 hash of cols, seed 42), n)): the `spark_partition_id()` of every
row, compared with what Apache Spark 4.3.0 gave for the same programs (recorded once,
local[2], into repartition_answers.json)."""

import json
from pathlib import Path

import pytest
from pyspark.sql import functions as sf

SPARK = json.loads((Path(__file__).parent / "repartition_answers.json").read_text())


@pytest.fixture(scope="module")
def people(spark):
    return spark.createDataFrame(
        [(14, "Tom"), (23, "Alice"), (16, "Bob"), (None, "Nil"), (-5, None)], ["age", "name"])


@pytest.fixture(scope="module")
def ranged(spark):
    return spark.range(0, 64, 1, 9).withColumn(
        "name", sf.concat(sf.lit("name_"), sf.col("id").cast("string"))
    ).withColumn("age", sf.col("id") - 32)


def rows(df):
    return [list(r) for r in df.collect()]


def test_partition_of_each_row_by_one_and_two_columns(people):
    pid = sf.spark_partition_id().alias("p")
    got = people.repartition(7, "age").select("age", "name", pid).orderBy("name")
    assert rows(got) == SPARK["by_age_7"]
    got = people.repartition(3, "name", "age").select("age", "name", pid).orderBy("name")
    assert rows(got) == SPARK["by_name_age_3"]


def test_partitions_of_a_range(ranged):
    pid = sf.spark_partition_id().alias("p")
    assert rows(ranged.repartition(7, "age").select("id", pid).orderBy("id")) == SPARK["range_by_age_7"]
    got = ranged.repartition(3, "name", "age").select("id", pid).orderBy("id")
    assert rows(got) == SPARK["range_by_name_age_3"]
    # Exactly n partitions exist afterwards, whatever the input's partitioning.
    n = ranged.repartition(7, "age").select(pid).distinct().count()
    assert n == 7


def test_double_string_boolean_keys(spark):
    t = spark.createDataFrame(
        [(1.5, "2024-01-01", True), (-0.0, "x", False), (0.0, None, None)],
        "d double, s string, b boolean")
    got = t.repartition(5, "d", "s", "b").select("d", "s", sf.spark_partition_id().alias("p"))
    key = lambda r: (repr(r[0]), str(r[1]))  # noqa: E731
    assert sorted(rows(got), key=key) == sorted(SPARK["typed_5"], key=key)


def test_foreach_partition_runs_once_per_partition(spark, tmp_path):
    df = spark.range(0, 100, 1, 2).repartition(3, "id")

    def mark(it):
        import os
        import uuid
        rows = list(it)
        with open(os.path.join(str(tmp_path), uuid.uuid4().hex), "w") as f:
            f.write(str(len(rows)))

    df.foreachPartition(mark)
    counts = sorted(int(p.read_text()) for p in tmp_path.iterdir())
    assert len(counts) == 3 and sum(counts) == 100
