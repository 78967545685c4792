"""persist / cache / storageLevel, checkpoint / localCheckpoint, observe and
withWatermark over Spark Connect, with Spark's results."""

import pytest
from pyspark import StorageLevel
from pyspark.errors import PySparkException
from pyspark.sql import Observation
from pyspark.sql import functions as F


def test_storage_levels_follow_persist_and_unpersist(spark):
    df = spark.range(4).withColumn("y", F.col("id") + 1)
    assert df.storageLevel == StorageLevel.NONE
    assert not df.is_cached
    df.cache()
    assert df.storageLevel == StorageLevel.MEMORY_AND_DISK_DESER
    assert df.is_cached
    df.unpersist()
    assert df.storageLevel == StorageLevel.NONE
    d2 = spark.range(3).persist(StorageLevel.DISK_ONLY)
    assert d2.storageLevel == StorageLevel.DISK_ONLY
    d2.unpersist()


def test_cached_data_is_computed_once_and_kept(spark, tmp_path):
    # Spark keeps the cached rows even when the files underneath change.
    path = str(tmp_path / "t")
    spark.range(5).write.parquet(path)
    df = spark.read.parquet(path)
    df.cache()
    assert df.count() == 5
    spark.range(7).write.mode("overwrite").parquet(path)
    assert df.count() == 5
    assert sorted(r.id for r in df.filter("id > 2").collect()) == [3, 4]
    df.unpersist()
    assert spark.read.parquet(path).count() == 7


def test_local_checkpoint_cuts_lineage(spark, tmp_path):
    path = str(tmp_path / "c")
    spark.range(3).write.parquet(path)
    cp = spark.read.parquet(path).withColumn("z", F.col("id") * 10).localCheckpoint()
    spark.range(9).write.mode("overwrite").parquet(path)
    assert [r.z for r in cp.orderBy("id").collect()] == [0, 10, 20]
    assert cp.filter("z > 5").count() == 2


def test_reliable_checkpoint_needs_a_directory(spark, tmp_path):
    df = spark.range(3)
    with pytest.raises(PySparkException, match="Checkpoint directory has not been set"):
        df.checkpoint()
    spark.conf.set("spark.checkpoint.dir", str(tmp_path / "ckpt"))
    try:
        cp = df.checkpoint()
        assert cp.count() == 3
        assert any((tmp_path / "ckpt").iterdir())
    finally:
        spark.conf.unset("spark.checkpoint.dir")


def test_observation_gets_metrics_after_an_action(spark):
    df = spark.range(10).withColumn("y", F.col("id") * 2)
    obs = Observation("m")
    observed = df.observe(obs, F.count(F.lit(1)).alias("cnt"), F.max("y").alias("mx"),
                          F.sum("y"))
    # The metrics cover the rows reaching observe(), not the filtered result.
    assert observed.filter("id < 3").count() == 3
    assert obs.get == {"cnt": 10, "mx": 18, "sum(y)": 90}


def test_observe_by_name_leaves_rows_unchanged(spark):
    df = spark.range(3).observe("named", F.sum("id").alias("s"))
    assert [r.id for r in df.collect()] == [0, 1, 2]


def test_with_watermark_on_a_batch_frame_is_a_no_op(spark):
    df = spark.range(4).withColumn("ts", F.timestamp_seconds(F.col("id")))
    assert df.withWatermark("ts", "1 minute").count() == 4


def test_global_temp_views_are_shared_by_sessions(spark, server):
    from conftest import new_session

    spark.range(3).createOrReplaceGlobalTempView("shared_g")
    assert spark.sql("SELECT count(*) AS n FROM global_temp.shared_g").collect()[0].n == 3
    other = new_session(server.url)
    try:
        assert other.table("global_temp.shared_g").count() == 3
        with pytest.raises(PySparkException, match="TEMP_TABLE_OR_VIEW_ALREADY_EXISTS"):
            spark.range(1).createGlobalTempView("shared_g")
        assert other.catalog.dropGlobalTempView("shared_g")
        with pytest.raises(PySparkException, match="TABLE_OR_VIEW_NOT_FOUND"):
            spark.sql("SELECT * FROM global_temp.shared_g").collect()
    finally:
        other.stop()


def test_explain_prints_spark_sections(spark, capsys):
    df = spark.range(10).withColumn("y", F.col("id") * 2).filter("id > 3")
    df.explain()
    simple = capsys.readouterr().out
    assert simple.startswith("== Physical Plan ==\n")
    assert "== Optimized Logical Plan ==" not in simple
    df.explain(True)
    extended = capsys.readouterr().out
    sections = ["== Parsed Logical Plan ==", "== Analyzed Logical Plan ==",
                "== Optimized Logical Plan ==", "== Physical Plan =="]
    positions = [extended.index(s) for s in sections]
    assert positions == sorted(positions)
    df.explain("formatted")
    assert capsys.readouterr().out.startswith("== Physical Plan ==\n")


def test_sample_by_keeps_the_rows_spark_keeps(spark):
    # Expected rows recorded from Apache Spark 4.3.0, local[2] (the same partitioning).
    from pyspark.sql.functions import col

    dataset = spark.range(0, 100).select((col("id") % 3).alias("key"))
    sampled = dataset.sampleBy("key", fractions={0: 0.1, 1: 0.2}, seed=0)
    counts = {r.key: r["count"] for r in sampled.groupBy("key").count().collect()}
    assert counts == {0: 1, 1: 6}
    assert dataset.sampleBy(col("key"), fractions={2: 1.0}, seed=0).count() == 33
    kept = spark.range(0, 50).sampleBy("id", {i: 0.5 for i in range(50)}, seed=7).collect()
    assert sorted(r.id for r in kept) == [0, 1, 6, 8, 11, 13, 15, 17, 19, 20, 25, 27, 28, 30,
                                          32, 33, 35, 37, 38, 40, 43, 44, 46, 49]
