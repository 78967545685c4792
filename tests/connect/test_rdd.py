"""RDDs through `ember_pyspark` (python/ember_pyspark) on the stock pyspark-client
against `ember connect`: the package activated by one import, as a `remote()`
program does. Whole RDD programs (compared with Spark 4.3's output) run in
test_programs.py through `ember submit`; this file checks the contract around them:
partitioning and shuffle order as Spark's, errors, accumulators, DataFrames of RDDs.
Expected values were printed by Spark 4.3 classic (`local[2]`) unless noted."""

import os
import sys
from operator import add

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "python"))
import ember_pyspark  # noqa: E402,F401  (activates sparkContext / df.rdd)


@pytest.fixture(scope="module")
def sc(spark):
    return spark.sparkContext


def test_session_has_a_spark_context(spark, sc):
    from pyspark import SparkContext

    assert SparkContext.getOrCreate() is sc
    assert sc.defaultParallelism == 2  # the test server runs local[2]
    assert sc.defaultMinPartitions == 2
    assert isinstance(sc.applicationId, str) and sc.applicationId
    spark.conf.set("spark.ember.test.rdd.marker", "seen")
    conf = sc.getConf()
    assert conf.get("spark.ember.test.rdd.marker") == "seen"
    assert conf.get("spark.master", "").startswith("local")


def test_parallelize_slices_as_spark(sc):
    assert sc.parallelize(range(10), 4).glom().collect() == [[0, 1], [2, 3, 4], [5, 6], [7, 8, 9]]
    assert sc.parallelize(list(range(10)), 4).glom().collect() == [[0, 1], [2, 3], [4, 5], [6, 7, 8, 9]]
    assert sc.parallelize([1, 2, 3], 5).glom().collect() == [[], [1], [], [2], [3]]
    assert sc.parallelize(range(6)).getNumPartitions() == 2


def test_reduce_by_key_keeps_the_order_keys_arrive_in(sc):
    small = sc.parallelize([("b", 2), ("a", 1), ("c", 5), ("a", 3), ("b", 4), ("a", 6), ("d", 0)], 3)
    assert small.reduceByKey(add).collect() == [("b", 6), ("a", 10), ("c", 5), ("d", 0)]
    # portable_hash with PYTHONHASHSEED=0 in the workers, as Spark's.
    assert small.reduceByKey(add, 2).glom().collect() == [[("b", 6), ("c", 5), ("d", 0)], [("a", 10)]]
    assert small.groupByKey().mapValues(list).collect() == [("b", [2, 4]), ("a", [1, 3, 6]), ("c", [5]), ("d", [0])]


def test_shuffles_keep_partition_counts(sc):
    pairs = sc.parallelize([(i % 5, i) for i in range(50)], 4)
    assert pairs.reduceByKey(add).getNumPartitions() == 4
    assert pairs.reduceByKey(add, 7).getNumPartitions() == 7
    assert pairs.partitionBy(3, lambda k: k).glom().map(lambda p: sorted({k for k, _ in p})).collect() == \
        [[0, 3], [1, 4], [2]]
    assert sorted(pairs.reduceByKey(add).collect()) == [(k, sum(range(k, 50, 5))) for k in range(5)]


def test_coalesce_and_repartition_place_records_as_spark(sc):
    six = sc.parallelize(range(24), 6)
    assert six.coalesce(4).glom().collect() == [
        [0, 1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11], [12, 13, 14, 15], [16, 17, 18, 19, 20, 21, 22, 23]]
    assert [sorted(p) for p in six.repartition(3).glom().collect()] == [
        [0, 1, 2, 3, 12, 13, 14, 15], [4, 5, 6, 7], [8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23]]


def test_sort_by_key_and_take_ordered(sc):
    words = sc.parallelize(["pear", "fig", "apple", "kiwi", "banana", "cherry", "date"], 3)
    assert words.map(lambda w: (w, len(w))).sortByKey().keys().collect() == \
        ["apple", "banana", "cherry", "date", "fig", "kiwi", "pear"]
    assert words.sortBy(len, ascending=False, numPartitions=2).collect()[:2] == ["banana", "cherry"]
    assert words.takeOrdered(2) == ["apple", "banana"]
    assert words.top(2, key=len) == ["banana", "cherry"]


def test_accumulators_and_broadcast(sc):
    acc = sc.accumulator(0)
    total = sc.accumulator(0.0)
    lookup = sc.broadcast({1: "a", 2: "b"})

    def visit(x):
        acc.add(1)
        total.add(x / 4)

    sc.parallelize(range(1, 9), 3).foreach(visit)
    assert (acc.value, total.value) == (8, 9.0)
    assert sc.parallelize([1, 2, 3], 2).map(lambda x: lookup.value.get(x, "-")).collect() == ["a", "b", "-"]
    # Updates made before a shuffle reach the driver with the action's results.
    seen = sc.accumulator(0)
    sc.parallelize(range(10), 2).map(lambda x: seen.add(1) or (x % 2, x)).reduceByKey(add).collect()
    assert seen.value == 10


def test_accumulator_value_is_driver_only(sc):
    a = sc.accumulator(1)
    with pytest.raises(Exception, match="VALUE_NOT_ACCESSIBLE|Accumulator.value"):
        sc.parallelize([1, 2]).map(lambda x: a.value).collect()


def test_python_error_fails_the_job_with_the_users_traceback(sc):
    def boom(x):
        return 1 // (x - 3)

    with pytest.raises(Exception) as e:
        sc.parallelize(range(6), 2).map(boom).collect()
    text = str(e.value)
    assert "ZeroDivisionError" in text and "boom" in text, text[-2000:]


def test_unpicklable_closure_is_refused_on_the_driver(sc):
    import threading

    lock = threading.Lock()
    with pytest.raises(Exception) as e:
        sc.parallelize([1]).map(lambda x: (x, lock)).collect()
    assert "pickle" in str(e.value).lower(), str(e.value)


def test_dataframe_rdd_and_back(spark, sc):
    from pyspark.sql import Row

    df = spark.createDataFrame([(1, "x"), (2, "y"), (3, None)], "id INT, tag STRING")
    rows = df.rdd
    assert rows.collect() == [Row(id=1, tag="x"), Row(id=2, tag="y"), Row(id=3, tag=None)]
    assert rows.map(lambda r: r.id * 10).sum() == 60
    back = rows.map(lambda r: (r.id, (r.tag or "").upper())).toDF(["id", "up"])
    assert back.schema.simpleString() == "struct<id:bigint,up:string>"
    assert [tuple(r) for r in back.orderBy("id").collect()] == [(1, "X"), (2, "Y"), (3, "")]
    typed = spark.createDataFrame(sc.parallelize([("k", 1)]), "k STRING, v INT")
    assert typed.schema.simpleString() == "struct<k:string,v:int>"
    with pytest.raises(Exception, match="CANNOT_INFER_EMPTY_SCHEMA"):
        spark.createDataFrame(sc.emptyRDD())


def test_zips_and_cartesian(sc):
    letters = sc.parallelize("abcdefgh", 3)
    assert letters.zipWithUniqueId().collect()[:4] == [("a", 0), ("b", 3), ("c", 1), ("d", 4)]
    assert letters.zipWithIndex().map(lambda t: t[1]).collect() == list(range(8))
    assert letters.zip(sc.parallelize(list(range(8)), 3)).collect()[-1] == ("h", 7)
    with pytest.raises(Exception, match="same number of partitions"):
        letters.zip(sc.parallelize(range(8), 2)).collect()
    assert sc.parallelize([1, 2], 2).cartesian(sc.parallelize("ab", 2)).collect() == \
        [(1, "a"), (1, "b"), (2, "a"), (2, "b")]


def test_text_files(tmp_path, sc):
    out = str(tmp_path / "out")
    sc.parallelize(["x", "y", "z"], 2).saveAsTextFile(out)
    assert sorted(os.listdir(out)) == ["_SUCCESS", "part-00000", "part-00001"]
    assert (tmp_path / "out" / "part-00001").read_text() == "y\nz\n"
    assert sorted(sc.textFile(out).collect()) == ["x", "y", "z"]
    with pytest.raises(Exception, match="already exists"):
        sc.parallelize([1]).saveAsTextFile(out)
    # Hadoop's input splits, recorded from Spark 4.3 local[2]: 30 lines of 7 bytes.
    small = tmp_path / "small.txt"
    small.write_text("".join("line%02d\n" % i for i in range(30)))
    splits = {m: sc.textFile(str(small), m).glom().map(len).collect() for m in (1, 3, 4, 7)}
    assert splits == {1: [30], 3: [11, 10, 9], 4: [8, 7, 8, 7], 7: [5, 4, 4, 5, 4, 4, 4]}
    assert sc.textFile(str(small)).glom().map(len).collect() == [16, 14]
    assert sc.textFile(str(small), 100).getNumPartitions() == 105
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(b"a\r\nb\rc\n\nlast")
    assert sc.textFile(str(crlf), 5).glom().collect() == [["a"], ["b"], ["c"], ["", "last"], [], []]
    pickled = str(tmp_path / "pickled")
    sc.parallelize([{"k": i} for i in range(25)], 3).saveAsPickleFile(pickled, 4)
    assert sorted(os.listdir(pickled)) == ["_SUCCESS", "part-00000", "part-00001", "part-00002"]
    # A range is sliced lazily; its partitions still reach functions as iterators.
    ranged = str(tmp_path / "ranged")
    sc.parallelize(range(10)).saveAsPickleFile(ranged, 3)
    assert sorted(sc.pickleFile(ranged, 3).collect()) == list(range(10))
    assert sc.parallelize(range(6), 2).mapPartitions(lambda it: [next(it)]).collect() == [0, 3]
    back = sc.pickleFile(pickled)
    assert back.getNumPartitions() == 3
    assert back.collect() == [{"k": i} for i in range(25)]


def test_text_partitions_and_sorted_rdds(tmp_path, spark, sc):
    """Spark 4.3 local[2] on these files: spark.read.text packs splits largest first
    ([9 MB] and [5 MB, 1 MB, 300 B]); sc.textFile cuts the 9 MB file in two."""
    d = tmp_path / "big"
    d.mkdir()
    line = "x" * 99 + "\n"
    for name, size in [("f0.txt", 5_000_000), ("f1.txt", 1_000_000), ("f2.txt", 9_000_000),
                       ("f3.txt", 300)]:
        (d / name).write_text(line * (size // 100))
    (d / "empty.txt").write_text("")
    assert spark.read.text(str(d)).rdd.glom().map(len).collect() == [90000, 60003]
    assert spark.read.text(str(d)).count() == 150003
    # Spark lists the directory in readdir order; ember in name order.
    assert sc.textFile(str(d)).glom().map(len).collect() == [50000, 10000, 75002, 14998, 3]
    assert sc.textFile(str(d), 7).getNumPartitions() == 10
    assert spark.read.text(str(d), wholetext=True).count() == 4
    # A partition map keeps the order of a sorted DataFrame.
    df = spark.range(20).selectExpr("id % 7 AS k", "id")
    assert df.orderBy("k", "id").rdd.map(lambda r: (r.k, r.id)).take(4) == \
        [(0, 0), (0, 7), (0, 14), (1, 1)]
    assert df.select("k").distinct().orderBy("k").rdd.map(lambda r: r.k).collect() == \
        list(range(7))


def test_whole_text_files_binary_files_and_records(tmp_path, sc):
    import gzip

    d = tmp_path / "whole"
    d.mkdir()
    (d / "a.txt").write_text("one\ntwo\n")
    (d / "b.txt").write_text("three\n")
    with gzip.open(d / "c.txt.gz", "wt") as f:
        f.write("four\n")
    (d / "_SUCCESS").write_text("")
    (d / ".hidden").write_text("skipped")
    whole = sc.wholeTextFiles(str(d))
    # Spark 4.3: ("file:" + absolute path, the whole decompressed text); _ and . files skipped
    assert sorted(whole.collect()) == [("file:%s/a.txt" % d, "one\ntwo\n"),
                                       ("file:%s/b.txt" % d, "three\n"),
                                       ("file:%s/c.txt.gz" % d, "four\n")]
    even = tmp_path / "even"
    even.mkdir()
    for i in range(4):
        (even / ("f%d.txt" % i)).write_text("x" * 100)
    # Spark 4.3: files packed up to ceil(total / minPartitions) bytes per partition
    assert [sc.wholeTextFiles(str(even), n).getNumPartitions() for n in (None, 1, 3, 4)] == [2, 1, 2, 4]
    assert sc.wholeTextFiles(str(even), 3).glom().map(len).collect() == [2, 2]
    assert sc.wholeTextFiles(str(d / "a.txt") + "," + str(d / "b.txt"), 1).getNumPartitions() == 1
    raw = dict(sc.binaryFiles(str(d / "*.gz")).collect())
    assert gzip.decompress(raw["file:%s/c.txt.gz" % d]) == b"four\n"
    with pytest.raises(FileNotFoundError, match="Input path does not exist"):
        sc.wholeTextFiles(str(d / "missing"))
    rec = tmp_path / "records.bin"
    rec.write_bytes(b"abcdefgh")
    assert sc.binaryRecords(str(rec), 4).collect() == [b"abcd", b"efgh"]
    with pytest.raises(Exception, match="byte offset 4"):
        rec.write_bytes(b"abcdefg")
        sc.binaryRecords(str(rec), 4).collect()


def test_run_job_job_tags_and_approximate_distinct(sc):
    rdd = sc.parallelize(range(8), 4)
    # PySpark: results concatenated in the order of the partitions asked for
    assert sc.runJob(rdd, lambda it: [sum(it)], [3, 0]) == [13, 1]
    assert sc.runJob(rdd, lambda it: list(it)) == list(range(8))
    sc.addJobTag("nightly")
    assert "nightly" in sc.getJobTags()
    sc.removeJobTag("nightly")
    assert "nightly" not in sc.getJobTags()
    assert sc.parallelize([1, 2, 2, 3, 3, 3], 2).countApproxDistinct() == 3
    with pytest.raises(ValueError, match="relativeSD"):
        rdd.countApproxDistinct(0.00001)
