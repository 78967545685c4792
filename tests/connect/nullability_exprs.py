"""The expressions whose result fields (type, nullability) test_nullability.py compares
with Apache Spark 4.3.0's (recorded once by running `schemas(spark)` on Spark classic,
local[2], into nullability_answers.json)."""

from pyspark.sql import functions as F
from pyspark.sql.window import Window


def schemas(spark, airlines):
    """{case: StructField JSON of the result column (or the fields, for SQL)}, over
    `airlines` (the nycflights13 airlines CSV)."""
    df = spark.read.csv(airlines, header=True, inferSchema=True)
    ids = spark.range(3)
    exprs = {
     "lit_int": F.lit(1), "lit_str": F.lit("x"), "lit_null": F.lit(None), "lit_null_cast": F.lit(None).cast("int"),
     "struct_cols": F.struct("carrier", "name"), "struct_lits": F.struct(F.lit(1).alias("a"), F.lit("b").alias("b")),
     "named_struct": F.named_struct(F.lit("a"), F.lit(1), F.lit("b"), F.col("name")),
     "array_cols": F.array("carrier", "name"), "array_lits": F.array(F.lit(1), F.lit(2)), "array_null": F.array(F.lit(1), F.lit(None)),
     "create_map": F.create_map(F.lit("k"), F.col("name")), "map_lits": F.create_map(F.lit("k"), F.lit(1)),
     "concat": F.concat("carrier", "name"), "concat_lits": F.concat(F.lit("a"), F.lit("b")), "concat_ws": F.concat_ws("-", "carrier", "name"),
     "coalesce_lit": F.coalesce("name", F.lit("?")), "coalesce_cols": F.coalesce("name", "carrier"),
     "when_lit": F.when(F.col("name").isNull(), F.lit(1)).otherwise(F.lit(2)), "when_noelse": F.when(F.col("name").isNull(), F.lit(1)),
     "upper": F.upper("name"), "length": F.length("name"), "upper_lit": F.upper(F.lit("x")),
     "isnull": F.isnull("name"), "eq": F.col("name") == "x", "eqnullsafe": F.col("name").eqNullSafe("x"),
     "size": F.size(F.array("name")), "split": F.split("name", " "), "split_lit": F.split(F.lit("a b"), " "),
     "current_date": F.current_date(), "current_ts": F.current_timestamp(),
     "to_json": F.to_json(F.struct("name")), "from_json": F.from_json(F.lit('{"a":1}'), "a INT"),
     "cast_int": F.col("carrier").cast("int"), "cast_lit_int": F.lit("1").cast("int"), "cast_str": F.lit(1).cast("string"),
     "regexp_replace": F.regexp_replace("name", "a", "b"), "substring": F.substring("name", 1, 2),
     "hash": F.hash("name"), "xxhash64": F.xxhash64("name"), "md5": F.md5("name"), "md5_lit": F.md5(F.lit("x")),
     "nanvl": F.nanvl(F.lit(1.0), F.lit(2.0)), "round_lit": F.round(F.lit(1.25), 1), "abs_lit": F.abs(F.lit(-1)),
     "plus_lit": F.lit(1) + F.lit(2), "div_lit": F.lit(1) / F.lit(2), "mod_lit": F.lit(1) % F.lit(2),
     "monotonic": F.monotonically_increasing_id(), "spark_pid": F.spark_partition_id(), "rand": F.rand(1), "uuid": F.expr("uuid()"),
     "explode_split": None,
     "date_add_lit": F.date_add(F.lit("2020-01-01"), 1), "to_date_lit": F.to_date(F.lit("2020-01-01")),
     "transform": F.transform(F.array(F.lit(1), F.lit(2)), lambda x: x + 1),
     "element_at": F.element_at(F.array(F.lit(1)), 1), "array_contains": F.array_contains(F.array("name"), "x"),
     "sort_array": F.sort_array(F.array(F.lit(2), F.lit(1))), "array_distinct": F.array_distinct(F.array("name")),
     "format_string": F.format_string("%s", "name"), "lpad_lit": F.lpad(F.lit("x"), 3, "-"),
     "greatest": F.greatest(F.lit(1), F.lit(2)), "greatest_col": F.greatest(F.length("name"), F.lit(2)),
     "instr": F.instr("name", "a"), "sha2": F.sha2("name", 256), "base64_lit": F.base64(F.lit("x")),
    }
    out = {}
    for k, e in exprs.items():
        if e is None:
            continue
        try:
            s = df.select(e.alias("c")).schema
            out[k] = s.fields[0].jsonValue()
        except Exception as ex:
            out[k] = {"error": str(ex).split("\n")[0][:200]}
    aggs = {"count": F.count("name"), "count_star": F.count(F.lit(1)), "sum": F.sum(F.length("name")), "max": F.max("name"),
            "collect_list": F.collect_list("name"), "collect_set": F.collect_set("name"), "approx_cd": F.approx_count_distinct("name"),
            "avg": F.avg(F.length("name")), "first": F.first("name"), "count_distinct": F.countDistinct("name"),
            "stddev": F.stddev(F.length("name")), "min_lit": F.min(F.lit(1)), "sum_lit": F.sum(F.lit(1))}
    for k, e in aggs.items():
        try:
            out["agg_" + k] = df.agg(e.alias("c")).schema.fields[0].jsonValue()
            out["gagg_" + k] = df.groupBy("carrier").agg(e.alias("c")).schema.fields[1].jsonValue()
        except Exception as ex:
            out["agg_" + k] = {"error": str(ex).split("\n")[0][:200]}
    out["range_id"] = ids.schema.fields[0].jsonValue()
    out["window_rn"] = df.select(F.row_number().over(Window.orderBy("carrier")).alias("c")).schema.fields[0].jsonValue()
    out["window_sum"] = df.select(F.sum(F.length("name")).over(Window.orderBy("carrier")).alias("c")).schema.fields[0].jsonValue()
    for q in ["SELECT * FROM VALUES (1, 'x'), (2, NULL) AS t(a, b)", "SELECT * FROM VALUES (1, NAMED_STRUCT('a', 1)) AS t(a, b)",
              "SELECT 1 AS a, NAMED_STRUCT('a', 1) s, ARRAY(1, NULL) arr", "SELECT a FROM VALUES (1), (2) AS t(a) UNION ALL SELECT NULL",
              "SELECT explode(array(1,2)) AS c", "SELECT explode_outer(array(1,2)) AS c", "SELECT posexplode(array(1,2))",
              "SELECT id, id * 2 AS d FROM range(3)", "SELECT count(*) c, sum(id) s FROM range(3)"]:
        try:
            out["sql: " + q] = [f.jsonValue() for f in spark.sql(q).schema.fields]
        except Exception as ex:
            out["sql: " + q] = {"error": str(ex).split("\n")[0][:200]}
    return out
