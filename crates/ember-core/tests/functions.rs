//! Spark SQL functions, checked against the examples of Spark's function reference
//! (spark.apache.org/docs/latest/api/sql), with the session in UTC.

use ember_core::SparkSession;

async fn one(sql: &str) -> String {
    let spark = SparkSession::builder()
        .master("local[1]")
        .config("spark.sql.session.timeZone", "UTC")
        .get_or_create()
        .unwrap();
    let df = spark
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let batches = df.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let fo = spark.format_options();
    let b = batches.iter().find(|b| b.num_rows() > 0).expect("a row");
    (0..b.num_columns())
        .map(|c| {
            ember_core::format::value_string(b.column(c).as_ref(), 0, &fo)
                .unwrap_or_else(|| "NULL".into())
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

#[tokio::test]
async fn date_functions() {
    assert_eq!(
        one("SELECT months_between('1997-02-28 10:30:00', '1996-10-30')").await,
        "3.94959677"
    );
    assert_eq!(
        one("SELECT months_between('1997-02-28 10:30:00', '1996-10-30', false)").await,
        "3.9495967741935485"
    );
    assert_eq!(
        one("SELECT date_add('2016-07-30', 1), date_sub('2016-07-30', 1)").await,
        "2016-07-31 | 2016-07-29"
    );
    assert_eq!(
        one("SELECT unix_timestamp('2016-04-08', 'yyyy-MM-dd')").await,
        "1460073600"
    );
    assert_eq!(
        one("SELECT from_unixtime(0, 'yyyy-MM-dd HH:mm:ss'), from_unixtime(0)").await,
        "1970-01-01 00:00:00 | 1970-01-01 00:00:00"
    );
    assert_eq!(
        one("SELECT to_timestamp('2016-12-31 00:12:00'), to_timestamp('2016-12-31', 'yyyy-MM-dd')")
            .await,
        "2016-12-31 00:12:00 | 2016-12-31 00:00:00"
    );
    assert_eq!(one("SELECT dayofweek('2009-07-30'), weekofyear('2008-02-20'), dayofmonth('2009-07-30'), dayofyear('2016-04-09')").await, "5 | 8 | 30 | 100");
    assert_eq!(
        one("SELECT date_format('2016-04-08', 'y'), to_date('2016-12-31', 'yyyy-MM-dd')").await,
        "2016 | 2016-12-31"
    );
    assert_eq!(one("SELECT hour('2009-07-30 12:58:59'), minute('2009-07-30 12:58:59'), second('2009-07-30 12:58:59')").await, "12 | 58 | 59");
}

#[tokio::test]
async fn string_and_collection_functions() {
    assert_eq!(
        one("SELECT split('oneAtwoBthreeC', '[ABC]')").await,
        "[one, two, three, ]"
    );
    assert_eq!(
        one("SELECT split('oneAtwoBthreeC', '[ABC]', 2)").await,
        "[one, twoBthreeC]"
    );
    assert_eq!(
        one("SELECT regexp_extract('100-200', '(\\\\d+)-(\\\\d+)', 1)").await,
        "100"
    );
    assert_eq!(one("SELECT element_at(array(1, 2, 3), 2), element_at(array(1, 2, 3), -1), element_at(map(1, 'a', 2, 'b'), 2)").await, "2 | 3 | b");
    assert_eq!(one("SELECT size(array('b', 'd', 'c', 'a')), get(array(1, 2, 3), 0), get(array(1, 2, 3), 3)").await, "4 | 1 | NULL");
    assert_eq!(
        one("SELECT concat_ws(' ', 'Spark', 'SQL'), lpad('hi', 5, '??'), initcap('sPark sql')")
            .await,
        "Spark SQL | ???hi | Spark Sql"
    );
    let spark = SparkSession::builder()
        .master("local[1]")
        .get_or_create()
        .unwrap();
    let df = spark.sql("SELECT explode(array(10, 20))").await.unwrap();
    assert_eq!(df.columns(), vec!["col"]);
    assert_eq!(df.count().await.unwrap(), 2);
}

#[tokio::test]
async fn math_and_aggregates() {
    assert_eq!(
        one("SELECT bround(2.5, 0), bround(3.5, 0), round(2.5, 0), round(-2.5)").await,
        "2 | 4 | 3 | -3"
    );
    assert_eq!(
        one("SELECT first(col), last(col) FROM VALUES (10), (5), (20) AS tab(col)").await,
        "10 | 20"
    );
    assert_eq!(
        one("SELECT variance(col), std(col) FROM VALUES (1), (2), (3) AS tab(col)").await,
        "1.0 | 1.0"
    );
}
