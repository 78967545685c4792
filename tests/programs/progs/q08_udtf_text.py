"""Python UDTFs and text wrangling: @udtf classes with eval (one also with terminate, one taking a TABLE argument
with PARTITION BY), called directly with lit() arguments, registered with spark.udtf.register and used from SQL as
a table function and in LATERAL joins; string functions (regexp_extract, split, concat_ws, format_string, lpad),
explode / posexplode and collect_list sorted with array_sort."""
import argparse
import os

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.functions import lit, udtf
from pyspark.sql.types import IntegerType, StringType, StructField, StructType

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("udtf-text").getOrCreate()
d = os.path.join(args.data, "nycflights13")
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")
airlines = spark.read.csv(os.path.join(d, "airlines.csv.gz"), header=True, inferSchema=True)
planes = spark.read.csv(os.path.join(d, "planes.csv.gz"), header=True, inferSchema=True, nullValue="NA")


@udtf(returnType="num: int, squared: int")
class SquareNumbers:
    def eval(self, start: int, end: int):
        for num in range(start, end + 1):
            yield num, num * num


@udtf(returnType=StructType([StructField("n", IntegerType()), StructField("running", IntegerType()),
                             StructField("kind", StringType())]))
class RunningTotal:
    def __init__(self):
        self.total = 0
        self.rows = 0

    def eval(self, start: int, end: int):
        for n in range(start, end + 1):
            self.total += n
            self.rows += 1
            yield n, self.total, "row"

    def terminate(self):
        yield self.rows, self.total, "total"


@udtf(returnType="pos: int, word: string, length: int")
class Words:
    def eval(self, text: str):
        if text is None:
            return
        for i, word in enumerate(text.replace(",", " ").split()):
            if word != "Inc." and word != "Co.":
                yield i, word, len(word)


@udtf(returnType="carrier: string, flights: int, delayed: int, worst: int, worst_flight: string")
class DelayStats:
    def __init__(self):
        self.carrier = None
        self.flights = 0
        self.delayed = 0
        self.worst = None
        self.worst_flight = None

    def eval(self, row):
        self.carrier = row["carrier"]
        self.flights += 1
        delay = row["dep_delay"]
        if delay is not None and delay > 0:
            self.delayed += 1
        if delay is not None and (self.worst is None or delay > self.worst):
            self.worst = delay
            self.worst_flight = f"{row['carrier']}{row['flight']}"

    def terminate(self):
        yield self.carrier, self.flights, self.delayed, self.worst, self.worst_flight


# --- direct calls -------------------------------------------------------------------------------------
SquareNumbers(lit(1), lit(3)).show()
SquareNumbers(lit(4), lit(6)).filter("squared > 20").select("num", (F.col("squared") - F.col("num")).alias("diff")).show()
RunningTotal(lit(1), lit(4)).show()
print(Words(lit("Delta Air Lines Inc.")).collect())

# --- registered, from SQL -----------------------------------------------------------------------------
spark.udtf.register("square_numbers", SquareNumbers)
spark.udtf.register("name_words", Words)
spark.udtf.register("delay_stats", DelayStats)
spark.sql("SELECT * FROM square_numbers(1, 3)").show()
spark.sql("SELECT num, squared FROM square_numbers(2, 5) WHERE num % 2 = 1 ORDER BY num DESC").show()
airlines.createOrReplaceTempView("airlines")
spark.sql("SELECT a.carrier, w.pos, w.word, w.length FROM airlines a, LATERAL name_words(a.name) w "
          "WHERE a.carrier IN ('AA', 'DL', 'VX') ORDER BY a.carrier, w.pos").show()
spark.sql("SELECT word, count(*) AS airlines FROM airlines, LATERAL name_words(name) "
          "GROUP BY word HAVING count(*) > 1 ORDER BY airlines DESC, word").show()
spark.sql("SELECT s.num, s.squared, t.id FROM range(1, 4) t, LATERAL square_numbers(t.id, 3) s "
          "ORDER BY t.id, s.num").show()
flights.filter("month = 2 AND day = 14 AND origin = 'LGA'").select("carrier", "flight", "dep_delay") \
    .createOrReplaceTempView("valentine")
spark.sql("SELECT * FROM delay_stats(TABLE(valentine) PARTITION BY carrier ORDER BY flight) "
          "ORDER BY carrier").show()

# --- string functions ---------------------------------------------------------------------------------
models = (planes.filter("manufacturer IN ('AIRBUS', 'AIRBUS INDUSTRIE', 'BOEING', 'EMBRAER')")
          .select("tailnum", "manufacturer", "model",
                  F.regexp_extract("model", r"^([A-Z]*)-?(\d+)", 2).alias("series"),
                  F.regexp_extract("model", r"-(\w+)$", 1).alias("variant"),
                  F.split("manufacturer", " ").getItem(0).alias("maker")))
(models.groupBy("maker", "series").agg(F.count("*").alias("planes"))
 .filter("planes >= 100").orderBy("maker", "series").show())
(models.filter("variant = ''").select("model").distinct().orderBy("model").show(5))
codes = (flights.filter("month = 3 AND day = 3 AND dest = 'SFO'")
         .select(F.format_string("%s-%04d", "carrier", "flight").alias("code"),
                 F.lpad(F.col("flight").cast("string"), 5, "0").alias("padded"),
                 F.concat_ws("/", "origin", "dest", F.col("hour").cast("string")).alias("route"),
                 F.format_string("%.1f h", F.col("air_time") / 60).alias("hours"),
                 F.concat_ws(" ", F.array(F.lit("tail"), "tailnum")).alias("tail")))
codes.orderBy("code").show(8, truncate=False)

# --- explode / posexplode / collect_list ---------------------------------------------------------------
named = airlines.select("carrier", F.split("name", " ").alias("parts"))
(named.select("carrier", F.posexplode("parts").alias("i", "part")).filter("i >= 2")
 .orderBy("carrier", "i").show(6))
(named.select("carrier", F.explode("parts").alias("part"))
 .groupBy("part").count().filter("count > 2").orderBy(F.desc("count"), "part").show())
print(named.select(F.size("parts").alias("n")).groupBy("n").count().orderBy("n").collect())
dests = (flights.filter("origin = 'EWR' AND month = 11 AND day = 28")
         .groupBy("carrier")
         .agg(F.array_sort(F.collect_list("dest")).alias("dests"),
              F.array_sort(F.collect_set("dest")).alias("distinct_dests"),
              F.sort_array(F.collect_list("flight"), asc=False).alias("flights_desc")))
(dests.select("carrier", F.size("dests").alias("n"), F.slice("distinct_dests", 1, 4).alias("first4"),
              F.element_at("flights_desc", 1).alias("top_flight"))
 .orderBy("carrier").show(truncate=False))
(dests.filter("carrier IN ('AA', 'VX')").select("carrier", F.array_join("dests", ",").alias("all"))
 .orderBy("carrier").show(truncate=False))
exploded = dests.select("carrier", F.explode_outer("distinct_dests").alias("dest")).groupBy("carrier").count()
print([tuple(r) for r in exploded.orderBy("carrier").collect()])
spark.stop()
