"""Weather: scalar and grouped-aggregate pandas_udfs, groupBy().applyInPandas in its (key, pdf) and
(pdf) forms, and a Python function registered with spark.udf.register and called from spark.sql."""
import argparse
import os

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

parser = argparse.ArgumentParser()
parser.add_argument("--data", default="examples/flights/data")
parser.add_argument("--out", default="target/weather")
args = parser.parse_args()

spark = SparkSession.builder.appName("weather-pandas-udfs").getOrCreate()
weather = spark.read.csv(os.path.join(args.data, "weather.csv.gz"),
                         header=True, inferSchema=True, nullValue="NA")


@F.pandas_udf("double")
def to_celsius(f: pd.Series) -> pd.Series:
    return ((f - 32) * 5 / 9).round(1)


@F.pandas_udf("double")
def median(s: pd.Series) -> float:
    return float(s.median())


w = weather.withColumn("temp_c", to_celsius("temp"))
plain = w.groupBy("origin").agg(F.min("temp_c").alias("coldest_c"), F.max("temp_c").alias("hottest_c"),
                                F.count("temp_c").alias("n"))
# grouped-aggregate pandas UDFs cannot be mixed with built-in aggregates in one agg()
medians = w.groupBy("origin").agg(median("wind_speed").alias("median_wind"), median("temp_c").alias("median_c"))
plain.join(medians, "origin").orderBy("origin").show()


def month_summary(key, pdf: pd.DataFrame) -> pd.DataFrame:
    origin, month = key
    pdf = pdf.sort_values(["day", "hour"])
    return pd.DataFrame({"origin": [origin], "month": [int(month)], "readings": [len(pdf)],
                         "first_temp": [pdf["temp"].iloc[0]], "rainy_hours": [int((pdf["precip"] > 0).sum())]})


(weather.groupBy("origin", "month")
 .applyInPandas(month_summary, "origin string, month int, readings long, first_temp double, rainy_hours long")
 .filter("month IN (1, 7)").orderBy("origin", "month").show())


def hottest_hours(pdf: pd.DataFrame) -> pd.DataFrame:
    top = pdf.dropna(subset=["temp"]).sort_values(["temp", "month", "day", "hour"], ascending=[False, True, True, True])
    return top.head(2)[["origin", "month", "day", "hour", "temp"]]


(weather.groupBy("origin").applyInPandas(hottest_hours, "origin string, month int, day int, hour int, temp double")
 .orderBy("origin", F.desc("temp"), "month", "day", "hour").show())


def beaufort(mph):
    if mph is None:
        return "unknown"
    return "calm" if mph < 1 else "breeze" if mph < 19 else "gale" if mph < 47 else "storm"


spark.udf.register("beaufort", beaufort, StringType())
weather.createOrReplaceTempView("weather")
spark.sql("SELECT origin, beaufort(wind_speed) AS wind, COUNT(*) AS hours FROM weather WHERE month = 2 "
          "GROUP BY origin, beaufort(wind_speed) ORDER BY origin, hours DESC, wind").show()
print(spark.sql("SELECT beaufort(CAST(NULL AS DOUBLE)) AS a, beaufort(50.0) AS b").collect())
spark.stop()
