"""Flight documents and SQL reports: rows turned into JSON with to_json(struct(...)) and parsed back (from_json with
a DDL string and a StructType, get_json_object, json_tuple, schema_of_json), higher-order array / map functions
(transform, filter, exists, forall, aggregate, zip_with, map_from_arrays, map_keys / map_values, explode of a map),
string cleanup functions, rounding / decimal casts / approximate and exact statistics, and SQL over temp views with
a CTE, scalar / EXISTS / IN subqueries, HAVING, NULLS LAST, window functions and GROUPING SETS / ROLLUP / CUBE."""
import argparse
import os

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, IntegerType, StringType, StructField, StructType

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

spark = SparkSession.builder.appName("json-sql-functions").getOrCreate()
d = os.path.join(args.data, "nycflights13")
flights = spark.read.csv(os.path.join(d, "flights.csv.gz"), header=True, inferSchema=True, nullValue="NA")
planes = spark.read.csv(os.path.join(d, "planes.csv.gz"), header=True, inferSchema=True, nullValue="NA")
airlines = spark.read.csv(os.path.join(d, "airlines.csv.gz"), header=True, inferSchema=True)
airports = spark.read.csv(os.path.join(d, "airports.csv.gz"), header=True, inferSchema=True, nullValue="NA")

# --- JSON ---------------------------------------------------------------------------------------------
day = flights.filter("month = 1 AND day = 1 AND origin = 'JFK' AND carrier = 'AA'")
docs = day.select("flight", "sched_dep_time", F.to_json(F.struct(
    "carrier", "flight", "tailnum", "dep_delay", "arr_delay", "dest", "time_hour")).alias("js"))
docs.orderBy("flight", "sched_dep_time").select("js").show(4, truncate=False)
# a cancelled flight: the null fields are left out of the document
(flights.filter("month = 1 AND day = 2 AND dep_time IS NULL AND carrier = 'EV'")
 .select(F.to_json(F.struct("flight", "tailnum", "dep_time", "dep_delay", "origin")).alias("js"))
 .orderBy("js").show(3, truncate=False))
(planes.filter("tailnum IN ('N10156', 'N102UW', 'N201AA')")
 .select(F.to_json(F.struct("tailnum", "year", "manufacturer", "seats", "speed",
                            F.array("engines", "seats").alias("numbers"))).alias("js"))
 .orderBy("js").show(truncate=False))

ddl = "carrier STRING, flight INT, tailnum STRING, dep_delay DOUBLE, dest STRING, missing STRING"
typed = StructType([StructField("flight", IntegerType()), StructField("dest", StringType()),
                    StructField("arr_delay", DoubleType())])
parsed = docs.select("flight", "sched_dep_time", F.from_json("js", ddl).alias("a"), F.from_json("js", typed).alias("b"),
                     F.get_json_object("js", "$.dest").alias("gdest"),
                     F.get_json_object("js", "$.dep_delay").alias("gdelay"),
                     F.get_json_object("js", "$.nope").alias("gnope"))
parsed.printSchema()
(parsed.select("flight", "a.carrier", "a.tailnum", "a.dep_delay", "a.missing", "b.arr_delay", "gdest", "gdelay",
               "gnope").orderBy("flight", "sched_dep_time").show(5))
(docs.select("flight", "sched_dep_time", F.json_tuple("js", "dest", "tailnum", "nope").alias("jdest", "jtail", "jnope"))
 .orderBy("flight", "sched_dep_time").drop("sched_dep_time").show(3))
print(spark.range(1).select(F.schema_of_json(F.lit('{"a": 1, "b": [1.5, 2], "c": {"d": "x", "e": null}, "f": true}'))
                            .alias("s")).first().s)
print(docs.select(F.schema_of_json(F.lit('[{"k": "v"}]'))).first()[0])
bad = spark.createDataFrame([("1", '{"flight": 17, "dest": "BOS"}'), ("2", '{"flight": "x"}'), ("3", "{oops"),
                             ("4", None)], ["id", "js"])
bad.select("id", F.from_json("js", "flight INT, dest STRING").alias("p")).orderBy("id").show()
agg_doc = (flights.filter("month = 2 AND day = 14 AND origin = 'LGA' AND carrier = 'F9'")
           .groupBy("carrier").agg(F.to_json(F.sort_array(F.collect_list(F.struct("flight", "dest")))).alias("js")))
agg_doc.show(truncate=False)

# --- higher-order functions ---------------------------------------------------------------------------
arrs = (flights.filter("month = 3 AND day = 15 AND origin = 'EWR' AND carrier = 'UA' AND dest IN ('BOS', 'DEN', 'SFO')")
        .groupBy("dest").agg(F.sort_array(F.collect_list("dep_delay")).alias("delays")))
hof = arrs.select(
    "dest", "delays",
    F.transform("delays", lambda x: x * 2).alias("doubled"),
    F.transform("delays", lambda x, i: x + i).alias("plus_idx"),
    F.filter("delays", lambda x: x > 0).alias("late"),
    F.exists("delays", lambda x: x > 60).alias("any_60"),
    F.forall("delays", lambda x: x < 30).alias("all_30"),
    F.aggregate("delays", F.lit(0), lambda acc, x: acc + x).alias("total"),
    F.aggregate("delays", F.lit(0.0), lambda acc, x: acc + x, lambda acc: F.round(acc / F.size("delays"), 2))
    .alias("mean"),
    F.zip_with("delays", F.reverse("delays"), lambda x, y: x - y).alias("zipped"))
hof.orderBy("dest").select("dest", "delays", "doubled", "plus_idx").show(truncate=False)
hof.orderBy("dest").select("dest", "late", "any_60", "all_30", "total", "mean").show(truncate=False)
hof.orderBy("dest").select("dest", "zipped").show(truncate=False)
per = (flights.filter("carrier IN ('AS', 'HA', 'OO', 'VX', 'F9')").groupBy("carrier", "origin").count()
       .groupBy("carrier").agg(F.sort_array(F.collect_list(F.struct("origin", "count"))).alias("s")))
maps = per.select("carrier", F.map_from_arrays(F.transform("s", lambda x: x["origin"]),
                                               F.transform("s", lambda x: x["count"])).alias("m"))
print(maps.schema.simpleString())
maps.orderBy("carrier").show(truncate=False)
(maps.select("carrier", F.map_keys("m").alias("keys"), F.map_values("m").alias("vals"),
             F.element_at("m", F.lit("JFK")).alias("jfk"), F.size("m").alias("n")).orderBy("carrier").show())
maps.select("carrier", F.explode("m")).orderBy("carrier", "key").show()
maps.select("carrier", F.explode("m").alias("airport", "flights")).filter("flights > 300").orderBy("airport", "carrier").show()

# --- strings ------------------------------------------------------------------------------------------
names = airports.filter("faa IN ('JFK', 'LGA', 'EWR', 'SFO', 'ANC', 'HNL', 'BQN')")
(names.select("faa", F.initcap(F.lower("name")).alias("initcap"), F.translate("name", "aeiou", "AEIOU").alias("tr"),
              F.soundex("name").alias("sdx"), F.levenshtein("name", F.lit("John F Kennedy Intl")).alias("lev"),
              F.substring_index("tzone", "/", -1).alias("city"), F.substring_index("tzone", "/", 1).alias("region"))
 .orderBy("faa").show(truncate=False))
(airlines.select("carrier", F.regexp_replace("name", r"\s+(Inc\.|Co\.|Corporation)$", "").alias("short"),
                 F.regexp_extract_all("name", F.lit(r"([A-Z])[a-z]+"), 1).alias("initials"),
                 F.split("name", " ", 2).alias("split2"), F.split("name", " ", -1).alias("split_all"))
 .orderBy("carrier").show(truncate=False))
(airlines.select("carrier", F.lpad("carrier", 5, "*").alias("lp"), F.rpad("carrier", 5, "-.").alias("rp"),
                 F.lpad("name", 8, "#").alias("cut"), F.repeat("carrier", 3).alias("rep"), F.reverse("name").alias("rev"),
                 F.levenshtein("carrier", F.lit("AA")).alias("lev_aa"))
 .orderBy("carrier").show(5, truncate=False))
(airports.filter("faa IN ('JFK', 'DEN', 'ANC')")
 .select("faa", F.format_number("lat", 2).alias("lat2"), F.format_number(F.col("alt") * 1000, 0).alias("alt_k"),
         F.format_number(F.col("lon") * -12345.678, 3).alias("big"), F.soundex(F.lit("Robert")).alias("rob"),
         F.soundex(F.lit("Tymczak")).alias("tym"))
 .orderBy("faa").show())

# --- numbers ------------------------------------------------------------------------------------------
halves = spark.createDataFrame([(0.5,), (1.5,), (2.5,), (-2.5,), (2.345,), (2.355,), (-0.125,), (1234.5,)], ["x"])
(halves.select("x", F.round("x").alias("r0"), F.bround("x").alias("b0"), F.round("x", 2).alias("r2"),
               F.bround("x", 2).alias("b2"), F.round("x", -1).alias("rm1"), F.bround("x", -1).alias("bm1"),
               F.col("x").cast("decimal(10,2)").alias("dec"))
 .orderBy("x").show())
spark.sql("SELECT round(2.5) r, bround(2.5) b, round(-3.5) rn, bround(-3.5) bn, round(2.345, 2) r2, "
          "bround(2.345, 2) b2, bround(2.355, 2) b3, round(125, -1) ri, bround(125, -1) bi, "
          "CAST('12.345' AS DECIMAL(10,2)) c1, CAST(-12.345 AS DECIMAL(10,2)) c2").show()
(flights.filter("month = 7 AND day = 4 AND carrier = 'HA'")
 .select("flight", "distance", (F.col("distance") / 3).cast("decimal(10,2)").alias("third"),
         (F.col("air_time") / 60).cast("decimal(10,2)").alias("hours"))
 .orderBy("flight").show())
stats = flights.groupBy("origin").agg(
    F.percentile_approx("dep_delay", 0.5).alias("median"),
    F.percentile_approx("arr_delay", [0.25, 0.5, 0.75, 0.99]).alias("q"),
    F.approx_count_distinct("tailnum", 0.01).alias("planes_approx"),
    F.countDistinct("tailnum").alias("planes_exact"),
    F.approx_count_distinct("dest").alias("dests_approx"),
    F.approx_count_distinct("dest", 0.01).alias("dests_approx01"),
    F.round(F.stddev("dep_delay"), 6).alias("sd"),
    F.round(F.variance("dep_delay"), 4).alias("var"),
    F.round(F.stddev_pop("air_time"), 6).alias("sd_pop"),
    F.round(F.var_pop("air_time"), 4).alias("var_pop"))
stats.orderBy("origin").show(truncate=False)
print(sorted(flights.agg({"distance": "stddev", "air_time": "variance"}).columns))
small = flights.filter("month = 1 AND day = 1 AND carrier = 'US'")
print(small.agg(F.round(F.stddev("arr_delay"), 8), F.round(F.variance("arr_delay"), 6),
                F.percentile_approx("arr_delay", 0.5, 100), F.count("arr_delay")).first())

# --- SQL over temp views ------------------------------------------------------------------------------
flights.createOrReplaceTempView("flights")
planes.createOrReplaceTempView("planes")
airlines.createOrReplaceTempView("airlines")
airports.createOrReplaceTempView("airports")
spark.sql("""
    WITH per_carrier AS (
        SELECT carrier, count(*) AS n, avg(arr_delay) AS delay FROM flights GROUP BY carrier
    ), big AS (
        SELECT * FROM per_carrier WHERE n > (SELECT avg(n) FROM per_carrier)
    )
    SELECT b.carrier, a.name, b.n, round(b.delay, 2) AS delay
    FROM big b JOIN airlines a ON a.carrier = b.carrier
    ORDER BY b.n DESC
""").show(truncate=False)
spark.sql("""
    SELECT origin, count(*) AS n,
           round(count(*) * 100.0 / (SELECT count(*) FROM flights), 2) AS pct,
           (SELECT max(distance) FROM flights) AS longest
    FROM flights GROUP BY origin ORDER BY origin
""").show()
spark.sql("""
    SELECT a.carrier, a.name FROM airlines a
    WHERE EXISTS (SELECT 1 FROM flights f WHERE f.carrier = a.carrier AND f.dest IN ('HNL', 'ANC'))
    ORDER BY a.carrier
""").show()
spark.sql("""
    SELECT a.carrier, a.name FROM airlines a
    WHERE NOT EXISTS (SELECT 1 FROM flights f WHERE f.carrier = a.carrier AND f.origin = 'JFK')
    ORDER BY a.carrier
""").show(truncate=False)
spark.sql("""
    SELECT tailnum, manufacturer, model, seats FROM planes
    WHERE tailnum IN (SELECT tailnum FROM flights WHERE dest = 'ANC')
    ORDER BY tailnum
""").show()
spark.sql("""
    SELECT count(*) AS unknown_planes FROM (SELECT DISTINCT tailnum FROM flights WHERE tailnum IS NOT NULL) f
    WHERE tailnum NOT IN (SELECT tailnum FROM planes)
""").show()
spark.sql("""
    SELECT dest, count(*) AS n, max(arr_delay) AS worst, round(avg(dep_delay), 3) AS avg_dep
    FROM flights WHERE origin = 'LGA'
    GROUP BY dest HAVING count(*) > 8000 AND avg(dep_delay) > 5
    ORDER BY n DESC
""").show()
spark.sql("""
    SELECT tailnum, year, seats, speed FROM planes WHERE manufacturer = 'CESSNA' OR model LIKE 'PA-%'
    ORDER BY year DESC NULLS LAST, speed ASC NULLS LAST, tailnum
""").show(truncate=False)
spark.sql("""
    SELECT tailnum, year FROM planes WHERE manufacturer LIKE 'AIRBUS%'
    ORDER BY year ASC NULLS FIRST, tailnum LIMIT 5
""").show()
spark.sql("""
    WITH monthly AS (
        SELECT carrier, month, count(*) AS n FROM flights
        WHERE carrier IN ('AA', 'B6', 'DL', 'UA', 'WN') AND month <= 3
        GROUP BY carrier, month
    )
    SELECT carrier, month, n,
           rank() OVER (PARTITION BY month ORDER BY n DESC) AS rk,
           dense_rank() OVER (ORDER BY carrier) AS drk,
           lag(n) OVER (PARTITION BY carrier ORDER BY month) AS prev_n,
           lead(n, 1, 0) OVER (PARTITION BY carrier ORDER BY month) AS next_n,
           ntile(4) OVER (ORDER BY n) AS quartile,
           round(percent_rank() OVER (PARTITION BY month ORDER BY n), 4) AS pr,
           cume_dist() OVER (PARTITION BY month ORDER BY n) AS cd,
           sum(n) OVER (PARTITION BY carrier ORDER BY month ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
    FROM monthly ORDER BY month, rk
""").show(truncate=False)
spark.sql("""
    SELECT origin, carrier, count(*) AS n, grouping(origin) AS g_o, grouping(carrier) AS g_c, grouping_id() AS gid
    FROM flights WHERE carrier IN ('AS', 'HA', 'F9')
    GROUP BY ROLLUP(origin, carrier)
    ORDER BY origin NULLS LAST, carrier NULLS LAST
""").show()
spark.sql("""
    SELECT origin, carrier, count(*) AS n, grouping(origin) AS g_o, grouping(carrier) AS g_c
    FROM flights WHERE carrier IN ('AS', 'HA', 'F9')
    GROUP BY CUBE(origin, carrier)
    ORDER BY g_o, g_c, origin, carrier
""").show()
spark.sql("""
    SELECT origin, month, sum(distance) AS miles, grouping_id(origin, month) AS gid
    FROM flights WHERE carrier = 'HA'
    GROUP BY GROUPING SETS ((origin), (month), ())
    ORDER BY gid, origin, month
""").show(20)
(flights.filter("carrier IN ('AS', 'HA')").cube("origin", "carrier")
 .agg(F.count("*").alias("n"), F.grouping("carrier").alias("gc")).orderBy("origin", "carrier").show())
spark.stop()
