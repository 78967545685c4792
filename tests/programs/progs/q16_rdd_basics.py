"""RDD basics as data engineers use them: parallelize with slices (glom shows the partitioning), range,
map/filter/flatMap/mapPartitionsWithIndex, reduce/fold/aggregate, stats, top/takeOrdered, distinct, sample and
takeSample with seeds, coalesce/repartition/union partition counts, zip/zipWithIndex/zipWithUniqueId, cartesian,
histogram, accumulators updated in foreach, broadcast lookups, persist, saveAsTextFile part files, textFile of .gz."""
import argparse
import os

from pyspark.sql import SparkSession

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("rdd-basics").getOrCreate()
sc = spark.sparkContext
d = os.path.join(args.data, "nycflights13")

# --- partitioning of local data -----------------------------------------------------------------------
print("glom 10/4:", sc.parallelize(range(10), 4).glom().collect())
print("glom list 10/4:", sc.parallelize(list(range(10)), 4).glom().collect())
print("glom 7/3:", sc.parallelize(["a", "b", "c", "d", "e", "f", "g"], 3).glom().collect())
print("glom 3/5:", sc.parallelize([1, 2, 3], 5).glom().collect())
print("range:", sc.range(5).collect(), sc.range(2, 20, 5, 2).glom().collect())
nums = sc.parallelize(range(1, 101), 4)
print("partitions:", nums.getNumPartitions())
print("index:", nums.mapPartitionsWithIndex(lambda i, it: [(i, sum(it))]).collect())

# --- transformations and actions -----------------------------------------------------------------------
evens = nums.filter(lambda x: x % 2 == 0)
print("evens:", evens.count(), evens.take(5), evens.first())
print("flatMap:", sc.parallelize(["a b", "c d e", ""], 2).flatMap(lambda s: s.split()).collect())
print("reduce:", nums.reduce(lambda a, b: a + b), "fold:", nums.fold(0, lambda a, b: a + b))
print("aggregate:", nums.aggregate((0, 0), lambda acc, x: (acc[0] + x, acc[1] + 1),
                                   lambda a, b: (a[0] + b[0], a[1] + b[1])))
print("sum/mean/max/min:", nums.sum(), nums.mean(), nums.max(), nums.min())
st = nums.map(float).stats()
print("stats:", st.count(), round(st.mean(), 3), round(st.stdev(), 3), round(st.sampleStdev(), 3),
      st.max(), st.min())
print("variance:", round(nums.variance(), 3), round(nums.sampleVariance(), 3))
print("top:", nums.top(3), nums.top(3, key=lambda x: -x), "takeOrdered:", nums.takeOrdered(4, key=lambda x: x % 7))
print("distinct:", sorted(sc.parallelize([3, 1, 3, 2, 1, 5], 3).distinct().collect()))
print("countByValue:", sorted(sc.parallelize(["x", "y", "x", "z", "x"]).countByValue().items()))
print("histogram:", nums.histogram(4), nums.histogram([0, 10, 50, 100]))
print("sample:", nums.sample(False, 0.1, 42).collect())
print("sample with replacement:", nums.sample(True, 0.05, 7).collect())
print("takeSample:", nums.takeSample(False, 5, 3))
splits = nums.randomSplit([0.7, 0.3], 11)
print("randomSplit:", [s.count() for s in splits], splits[1].take(5))
print("isEmpty:", nums.isEmpty(), sc.emptyRDD().isEmpty(), sc.parallelize([], 3).isEmpty())
print("empty:", sc.emptyRDD().collect(), sc.emptyRDD().getNumPartitions(), sc.parallelize([], 3).glom().collect())

# --- repartitioning --------------------------------------------------------------------------------------
six = sc.parallelize(range(24), 6)
print("coalesce:", six.coalesce(4).glom().collect())
print("coalesce 2:", six.coalesce(2).glom().map(len).collect())
print("repartition:", [sorted(p) for p in six.repartition(3).glom().collect()])
both = nums.union(six)
print("union:", both.getNumPartitions(), both.count(), (nums + six).getNumPartitions())
print("sc.union:", sc.union([sc.parallelize([1], 1), sc.parallelize([2, 3], 2)]).glom().collect())

# --- zips --------------------------------------------------------------------------------------------------
letters = sc.parallelize("abcdefgh", 3)
print("zipWithIndex:", letters.zipWithIndex().collect())
print("zipWithUniqueId:", letters.zipWithUniqueId().collect())
print("zip:", letters.zip(sc.parallelize(list(range(8)), 3)).collect())
print("cartesian:", sc.parallelize([1, 2], 2).cartesian(sc.parallelize(["a", "b"], 2)).collect())
print("keyBy:", letters.keyBy(lambda c: ord(c) % 3).take(4))

# --- shared variables -------------------------------------------------------------------------------------
acc = sc.accumulator(0)
big = sc.accumulator(0.0)


def tally(x):
    acc.add(1)
    if x > 90:
        big.add(x / 2)


nums.foreach(tally)
print("accumulators:", acc.value, big.value)
acc2 = sc.accumulator(0)
nums.map(lambda x: acc2.add(x) or x).filter(lambda x: x < 3).collect()
print("accumulator in map:", acc2.value)
lookup = sc.broadcast({1: "one", 2: "two", 3: "three"})
print("broadcast:", sc.parallelize([1, 2, 3, 4], 2).map(lambda x: lookup.value.get(x, "?")).collect())

# --- persistence -------------------------------------------------------------------------------------------
squares = nums.map(lambda x: x * x).cache()
print("cached:", squares.is_cached, squares.getStorageLevel(), squares.sum(), squares.count())
squares.unpersist()
print("unpersisted:", squares.is_cached)

# --- files -------------------------------------------------------------------------------------------------
lines = sc.textFile(os.path.join(d, "airlines.csv.gz"))
print("textFile:", lines.getNumPartitions(), lines.count(), lines.first())
out = os.path.join(args.out, "codes")
lines.filter(lambda ln: not ln.startswith('"carrier"')).map(lambda ln: ln.split(",")[0].strip('"')) \
    .repartition(3).saveAsTextFile(out)
print("part files:", sorted(f for f in os.listdir(out) if not f.startswith(".")))
codes = sc.textFile(out)
print("read back:", codes.count(), sorted(codes.collect())[:5])
spark.stop()
