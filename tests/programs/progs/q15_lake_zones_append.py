"""Lake zones job: landing CSV (written by the job itself, with a header and a custom timestamp format) read with an
explicit schema, typed and cleaned into a trusted Parquet zone partitioned by month, appended in two runs (append,
then overwrite of one zone, ignore and error modes), part-file counts after repartition(n) / coalesce(1),
Parquet schema merging across runs (mergeSchema), recursive and glob reads, pathGlobFilter, and
curated aggregates: pivot, sequence / arrays_zip / array_contains, median / mode / percentile, format_number."""
import argparse
import os

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, StringType, StructField, StructType, TimestampType

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("lake-zones-append").getOrCreate()
d = os.path.join(args.data, "nycflights13")
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")
landing = os.path.join(args.out, "landing")
trusted = os.path.join(args.out, "trusted")


def parts(path):
    found = []
    for root, _, files in os.walk(path):
        found += [os.path.relpath(os.path.join(root, f), path) for f in files if f.startswith("part-")]
    return found


# --- landing: CSV with a custom timestamp format --------------------------------------------------------
src = flights.filter("day = 1 AND carrier IN ('HA', 'VX', 'AS') AND month IN (1, 2, 3)").select(
    "month", "carrier", "flight", "origin", "dest", "dep_delay", "time_hour")
(src.repartition(3).write.mode("overwrite").option("header", True)
 .option("timestampFormat", "yyyy/MM/dd HH:mm").csv(landing))
print("landing files:", len(parts(landing)))
with open(os.path.join(landing, sorted(p for p in parts(landing))[0])) as fh:
    print(fh.readline().strip())
schema = StructType([StructField("month", IntegerType()), StructField("carrier", StringType()),
                     StructField("flight", IntegerType()), StructField("origin", StringType()),
                     StructField("dest", StringType()), StructField("dep_delay", IntegerType()),
                     StructField("time_hour", TimestampType())])
raw = spark.read.schema(schema).option("header", True).option("timestampFormat", "yyyy/MM/dd HH:mm").csv(landing)
print(raw.count(), raw.filter("time_hour IS NULL").count())
raw.orderBy("time_hour", "carrier", "flight").show(4)

# --- trusted: partitioned Parquet, appended and overwritten ----------------------------------------------
clean = raw.withColumn("late", F.col("dep_delay") > 15).withColumn("run", F.lit(1))
clean.filter("month = 1").write.partitionBy("month").mode("overwrite").parquet(trusted)
clean.filter("month = 2").write.partitionBy("month").mode("append").parquet(trusted)
print(sorted(set(p.split(os.sep)[0] for p in parts(trusted))))
t = spark.read.parquet(trusted)
print(t.count(), t.columns)
t.groupBy("month").agg(F.count("*").alias("n"), F.sum(F.col("late").cast("int")).alias("late")).orderBy("month").show()
again = clean.filter("month = 2").withColumn("run", F.lit(2))
again.write.partitionBy("month").mode("append").parquet(trusted)
print(spark.read.parquet(trusted).groupBy("month", "run").count().orderBy("month", "run").collect())
clean.filter("month = 3").write.partitionBy("month").mode("ignore").parquet(trusted)
print("after ignore:", spark.read.parquet(trusted).count())
try:
    clean.write.partitionBy("month").mode("error").parquet(trusted)
except Exception as e:
    print("error mode:", type(e).__name__, "PATH_ALREADY_EXISTS" in str(e))
clean.filter("month = 3").write.partitionBy("month").mode("overwrite").parquet(trusted)
print("after overwrite:", spark.read.parquet(trusted).groupBy("month").count().orderBy("month").collect())

# --- file counts, schema merging, globs -----------------------------------------------------------------
for n in (1, 2, 4):
    p = os.path.join(args.out, f"rep{n}")
    flights.filter("month = 5 AND day = 5").repartition(n).write.mode("overwrite").parquet(p)
    print("repartition", n, "->", len(parts(p)), "files;", spark.read.parquet(p).count(), "rows")
p = os.path.join(args.out, "one")
flights.filter("month = 5 AND day = 5").repartition(4).coalesce(1).write.mode("overwrite").parquet(p)
print("coalesce(1) ->", len(parts(p)))
evo = os.path.join(args.out, "evolving")
src.filter("month = 1").select("carrier", "flight").write.mode("overwrite").parquet(os.path.join(evo, "v=1"))
(src.filter("month = 2").select("carrier", "flight", F.col("dep_delay").alias("delay"))
 .write.mode("overwrite").parquet(os.path.join(evo, "v=2")))
merged = spark.read.option("mergeSchema", True).parquet(evo)
merged.printSchema()
merged.groupBy("v").agg(F.count("*").alias("n"), F.count("delay").alias("with_delay")).orderBy("v").show()
print(spark.read.parquet(os.path.join(evo, "v=*")).count(),
      spark.read.option("recursiveFileLookup", True).parquet(evo).columns)
print(spark.read.option("pathGlobFilter", "*.parquet").parquet(os.path.join(evo, "v=1")).count())

# --- curated --------------------------------------------------------------------------------------------
cur = spark.read.parquet(trusted)
cur.groupBy("carrier").pivot("month", [1, 2, 3]).agg(F.count(F.lit(1))).orderBy("carrier").show()
(cur.groupBy("carrier").agg(F.median("dep_delay").alias("med"), F.mode("origin").alias("top_origin"),
                            F.percentile("dep_delay", 0.9).alias("p90"),
                            F.format_number(F.avg("dep_delay"), 2).alias("avg"))
 .orderBy("carrier").show())
seq = spark.range(1).select(F.sequence(F.lit(1), F.lit(9), F.lit(4)).alias("s"),
                            F.sequence(F.to_date(F.lit("2013-01-30")), F.to_date(F.lit("2013-02-02"))).alias("d"))
seq.show(truncate=False)
(seq.select(F.arrays_zip("s", F.array(F.lit("a"), F.lit("b"))).alias("z"),
            F.array_contains("s", 5).alias("has5"), F.array_position("s", 9).alias("pos9"))
 .show(truncate=False))
print(F.format_number(F.lit(1234567.891), 1) is not None,
      spark.range(1).select(F.format_number(F.lit(1234567.891), 1), F.format_number(F.lit(-0.5), 0)).first())
spark.stop()
