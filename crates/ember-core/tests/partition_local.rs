//! Partition-local expressions and `range` partitioning, against the values Apache
//! Spark 4.3 (`pyspark==4.3.0`, `local[2]`) printed for the same queries.

use ember_core::SparkSession;

fn spark() -> SparkSession {
    SparkSession::builder()
        .master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .get_or_create()
        .expect("session")
}

/// Rows as `a|b|c` strings, in the order the query returns them.
async fn rows(spark: &SparkSession, sql: &str) -> Vec<String> {
    let df = spark
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let fo = spark.format_options();
    let mut out = Vec::new();
    for b in df.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}")) {
        for r in 0..b.num_rows() {
            out.push(
                (0..b.num_columns())
                    .map(|c| {
                        ember_core::format::value_string(b.column(c).as_ref(), r, &fo)
                            .unwrap_or_else(|| "NULL".into())
                    })
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
    }
    out
}

/// The `bigint` first column of a DataFrame's rows, in order.
async fn ids(df: ember_core::DataFrame) -> Vec<i64> {
    let mut v = Vec::new();
    for b in df.collect().await.unwrap() {
        let a = b
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .unwrap()
            .clone();
        v.extend(a.values().iter().copied());
    }
    v
}

#[tokio::test]
async fn partition_ids_and_seeded_streams_follow_spark() {
    let spark = spark();
    let got = rows(
        &spark,
        "SELECT id, spark_partition_id(), monotonically_increasing_id(), rand(7), randn(-3), \
         uniform(CAST(1.5 AS DOUBLE), 2, 9), randstr(5, 2) FROM range(0, 7, 1, 3)",
    )
    .await;
    assert_eq!(
        got,
        vec![
            "0|0|0|0.28188121484885875|1.5348754337490433|1.8572835079121368|sWMRm",
            "1|0|1|0.45998819035056326|-0.3559077005386685|1.7331088747535643|7diP8",
            "2|1|8589934592|0.4836508543933039|0.3491727383734497|1.5854748568977783|nurJI",
            "3|1|8589934593|0.734216416644485|-2.4095937675604877|1.902557197900273|pH4cm",
            "4|2|17179869184|0.7145670158242735|-1.1760378827493814|1.5171131965690363|5H0As",
            "5|2|17179869185|0.46621774950712846|-1.0679011132022822|1.5584112522822466|IR86W",
            "6|2|17179869186|0.029547784789351605|-0.20628006257477927|1.6626113904725972|xFWLI",
        ]
    );
}

#[tokio::test]
async fn names_types_and_default_partitions_follow_spark() {
    let spark = spark();
    // range(3) has spark.default.parallelism = 2 partitions: [0] and [1, 2].
    let q = "SELECT rand(null), randn(2), uniform(10, CAST(20 AS BIGINT), 0) FROM range(3)";
    let df = spark.sql(q).await.unwrap();
    assert_eq!(
        df.columns(),
        vec![
            "rand(NULL)",
            "randn(2)",
            "uniform(10, CAST(20 AS BIGINT), 0)"
        ]
    );
    assert_eq!(
        df.tree_string(),
        "root\n |-- rand(NULL): double (nullable = false)\n |-- randn(2): double (nullable = false)\n |-- uniform(10, CAST(20 AS BIGINT), 0): long (nullable = false)\n"
    );
    assert_eq!(
        rows(&spark, q).await,
        vec![
            "0.7604953758285915|0.2637682686300013|17",
            "0.6363787615254752|-1.1854930781734352|16",
            "0.5993846534021868|0.8301167121353836|15",
        ]
    );
    assert_eq!(
        rows(
            &spark,
            "SELECT spark_partition_id() AS p, count(*) FROM range(0, 100, 7, 4) GROUP BY 1 ORDER BY 1"
        )
        .await,
        vec!["0|3", "1|4", "2|4", "3|4"]
    );
    assert_eq!(
        rows(&spark, "SELECT * FROM range(10, 0, -3)").await,
        vec!["10", "7", "4", "1"]
    );
}

#[tokio::test]
async fn filters_sorts_and_aggregations_draw_per_input_row() {
    let spark = spark();
    // The filter draws for every row; the projection above it only for the rows kept.
    assert_eq!(
        rows(
            &spark,
            "SELECT id, rand(1) r FROM range(0, 6, 2, 2) WHERE rand(3) < 0.7"
        )
        .await,
        vec!["0|0.6363787615254752", "4|0.5311207224659675"]
    );
    assert_eq!(
        rows(&spark, "SELECT id FROM range(0, 10, 1, 2) ORDER BY rand(1)").await,
        vec!["3", "2", "6", "8", "7", "5", "1", "0", "4", "9"]
    );
    assert_eq!(
        rows(
            &spark,
            "SELECT CAST(rand(2) * 3 AS INT) AS b, count(*) FROM range(0, 10, 1, 3) GROUP BY 1 ORDER BY 1"
        )
        .await,
        vec!["0|4", "1|3", "2|3"]
    );
}

#[tokio::test]
async fn seeded_sample_keeps_the_rows_spark_keeps() {
    let spark = spark();
    let df = spark
        .range(0, 20, 1, None)
        .unwrap()
        .sample(0.3, Some(11))
        .unwrap();
    assert_eq!(ids(df).await, vec![0, 1, 4, 7, 8, 13, 14, 16]);
    let df = spark
        .range(0, 20, 1, Some(3))
        .unwrap()
        .sample(0.5, Some(5))
        .unwrap();
    assert_eq!(ids(df).await, vec![0, 1, 4, 5, 6, 8, 12, 13, 14, 19]);
}

#[tokio::test]
async fn nondeterministic_calls_outside_supported_operators_fail_clearly() {
    let spark = spark();
    let err = async {
        spark
            .sql("SELECT * FROM range(3) a JOIN range(3) b ON a.id = b.id AND rand(1) < 0.5")
            .await?
            .collect()
            .await
    }
    .await
    .expect_err("a join condition with rand()");
    assert!(
        err.to_string()
            .contains("INVALID_NON_DETERMINISTIC_EXPRESSIONS"),
        "{err}"
    );
}

#[tokio::test]
async fn coalesce_concatenates_consecutive_partitions_in_order() {
    let spark = spark();
    // Groups [0, 1] and [2, 3] of the four range partitions (Spark's CoalescedRDD).
    let df = spark.range(0, 10, 1, Some(4)).unwrap().coalesce(2).unwrap();
    df.create_or_replace_temp_view("c").unwrap();
    assert_eq!(
        rows(
            &spark,
            "SELECT id, spark_partition_id(), monotonically_increasing_id() FROM c"
        )
        .await,
        vec![
            "0|0|0",
            "1|0|1",
            "2|0|2",
            "3|0|3",
            "4|0|4",
            "5|1|8589934592",
            "6|1|8589934593",
            "7|1|8589934594",
            "8|1|8589934595",
            "9|1|8589934596",
        ]
    );
    // More partitions than the input has: the input's three.
    let df = spark.range(0, 10, 1, Some(3)).unwrap().coalesce(5).unwrap();
    assert_eq!(df.execute_partitioned().await.unwrap().len(), 3);
    // A filter above coalesce(1) stays in the one partition; rand draws per kept row.
    let df = spark.range(0, 10, 1, Some(3)).unwrap().coalesce(1).unwrap();
    df.create_or_replace_temp_view("one").unwrap();
    assert_eq!(
        rows(
            &spark,
            "SELECT id, spark_partition_id(), rand(3) FROM one WHERE id % 2 = 0"
        )
        .await,
        vec![
            "0|0|0.25738143505962285",
            "2|0|0.6698885713796182",
            "4|0|0.9416651198480125",
            "6|0|0.7298503424273113",
            "8|0|0.11490071667933077",
        ]
    );
}

#[tokio::test]
async fn limited_results_come_in_partition_order() {
    let spark = spark();
    let df = spark
        .range(10, 0, -1, Some(5))
        .unwrap()
        .select_expr(&["id", "spark_partition_id() AS p"])
        .unwrap();
    // `take` puts a limit above the projection; the optimizer moves the limit (and the
    // merge of partitions) below it. Rows still come in partition order, every time.
    for _ in 0..10 {
        let text = df.show_string(7, 20).await.unwrap();
        let got: Vec<&str> = text.lines().skip(3).take(7).collect();
        assert_eq!(
            got,
            vec![
                "| 10|  0|",
                "|  9|  0|",
                "|  8|  1|",
                "|  7|  1|",
                "|  6|  2|",
                "|  5|  2|",
                "|  4|  3|",
            ],
            "{text}"
        );
    }
}

#[tokio::test]
async fn sample_with_replacement_repeats_the_rows_spark_repeats() {
    let spark = spark();
    // Apache Spark 4.3's rows for the same partitioning.
    let df = spark.range(0, 10, 1, Some(1)).unwrap();
    assert_eq!(
        ids(df.sample_with_replacement(0.5, Some(3)).unwrap()).await,
        vec![5, 6]
    );
    let df = spark.range(0, 20, 1, Some(2)).unwrap();
    assert_eq!(
        ids(df.sample_with_replacement(1.5, Some(-7)).unwrap()).await,
        vec![
            2, 2, 2, 3, 4, 4, 4, 6, 6, 6, 6, 6, 7, 7, 7, 8, 8, 9, 9, 9, 10, 10, 10, 11, 11, 11, 12,
            12, 12, 12, 14, 15, 16, 16, 17, 17, 18
        ]
    );
    assert_eq!(
        ids(df.sample_with_replacement(0.2, Some(11)).unwrap()).await,
        vec![4, 13, 14, 18]
    );
    let err = df.sample_with_replacement(-1.0, Some(1)).unwrap_err();
    assert_eq!(err.error_class, "INVALID_SAMPLE_FRACTION");
}
