"""Delay scoring job with Python on the workers: UDFs declared with decorators and type hints (pickled, Arrow,
pandas Series->Series, Iterator[Series], grouped-aggregate Series->float, DataFrame->DataFrame struct UDF), UDFs
registered for SQL with DDL return types, mapInArrow, mapInPandas changing the schema, cogroup().applyInPandas,
groupBy().applyInArrow; rows fetched with take / head / tail / toLocalIterator / isEmpty, and seeded random
columns (rand / randn) with the first rows printed."""
import argparse
import math
import os
from typing import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf, udf
from pyspark.sql.types import DoubleType, IntegerType, StringType

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("python-workers-mix").getOrCreate()
d = os.path.join(args.data, "nycflights13")
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")
weather = spark.read.csv(os.path.join(d, "weather.csv.gz"), header=True, inferSchema=True, nullValue="NA")
march = flights.filter("month = 3 AND day = 9 AND origin = 'EWR' AND carrier IN ('UA', 'US', 'AA')").select(
    "carrier", "flight", "dest", "dep_delay", "arr_delay", "distance", "air_time", "hour")


@udf(returnType=StringType())
def band(delay):
    if delay is None:
        return None
    return "early" if delay < 0 else ("late" if delay > 15 else "on time")


@udf("double", useArrow=True)
def log_miles(distance):
    return round(math.log10(distance), 4)


@pandas_udf("double")
def mph(distance: pd.Series, air_time: pd.Series) -> pd.Series:
    return (distance / (air_time / 60.0)).round(1)


@pandas_udf("long")
def plus_hour(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
    for s in batches:
        yield s + 100


@pandas_udf("double")
def spread(v: pd.Series) -> float:
    return float(v.max() - v.min()) if len(v.dropna()) else float("nan")


@pandas_udf("first string, n long")
def split_dest(s: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"first": s.str[0], "n": s.str.len().astype("int64")})


scored = march.select("carrier", "flight", band("dep_delay").alias("band"), log_miles("distance").alias("lm"),
                      mph("distance", "air_time").alias("mph"), plus_hour("hour").alias("h"),
                      split_dest("dest").alias("d"))
scored.printSchema()
scored.orderBy("carrier", "flight").show(8)
scored.groupBy("band").count().orderBy("band").show()
(march.groupBy("carrier").agg(spread("dep_delay").alias("dep_spread"), spread("arr_delay").alias("arr_spread"))
 .orderBy("carrier").show())

spark.udf.register("band_sql", lambda x: None if x is None else ("late" if x > 15 else "ok"), "string")
spark.udf.register("ratio_sql", lambda a, b: None if not b else round(a / b, 3), DoubleType())


@pandas_udf(IntegerType())
def twice(s: pd.Series) -> pd.Series:
    return s * 2


spark.udf.register("twice", twice)
march.createOrReplaceTempView("march")
spark.sql("""SELECT carrier, band_sql(dep_delay) AS b, count(*) AS n, max(twice(flight)) AS t2,
             max(ratio_sql(distance, air_time)) AS r FROM march GROUP BY carrier, band_sql(dep_delay)
             ORDER BY carrier, b NULLS FIRST""").show()


def arrow_filter(batches):
    for b in batches:
        t = pa.Table.from_batches([b])
        late = t.filter(pc.greater(t["arr_delay"], 10))
        yield from late.select(["carrier", "flight", "arr_delay"]).to_batches()


(march.mapInArrow(arrow_filter, "carrier string, flight int, arr_delay int")
 .orderBy(F.desc("arr_delay"), "flight").show(5))


def summarize(frames):
    for pdf in frames:
        if len(pdf):
            g = pdf.groupby("dest", as_index=False).agg(n=("flight", "count"), worst=("arr_delay", "max"))
            yield g.astype({"n": "int64", "worst": "float64"})


per_dest = march.repartition(1).mapInPandas(summarize, "dest string, n long, worst double")
per_dest.orderBy(F.desc("n"), "dest").show(5)

wx = weather.filter("origin = 'EWR' AND month = 3 AND day = 9").select("hour", "temp", "visib")


def join_weather(key, left, right):
    temp = float(right["temp"].mean()) if len(right) else float("nan")
    return pd.DataFrame({"hour": [key[0]], "flights": [len(left)], "temp": [round(temp, 2)]})


(march.groupBy("hour").cogroup(wx.groupBy("hour"))
 .applyInPandas(join_weather, "hour int, flights long, temp double").orderBy("hour").show(24))


def arrow_stats(table):
    delays = table["dep_delay"]
    return pa.table({"carrier": [table["carrier"][0].as_py()], "rows": [table.num_rows],
                     "total": [pc.sum(delays).as_py() or 0]})


march.groupBy("carrier").applyInArrow(arrow_stats, "carrier string, rows long, total long").orderBy("carrier").show()

# --- fetching rows ----------------------------------------------------------------------------------
ordered = march.orderBy("carrier", "flight").select("carrier", "flight", "dest")
print(ordered.take(2))
print(ordered.head(), ordered.head(1))
print(ordered.tail(2))
print([r.flight for r in ordered.toLocalIterator()][:6])
print(ordered.isEmpty(), ordered.filter("flight < 0").isEmpty(), ordered.limit(0).count())
print(ordered.first().asDict())
rnd = spark.range(5).select("id", F.round(F.rand(seed=7), 6).alias("r"), F.round(F.randn(seed=7), 6).alias("n"))
rnd.show()
spark.stop()
