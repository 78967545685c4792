//! Reading and writing object storage against a real S3-compatible server
//! (`s3s-fs` on loopback, see `common::s3`): CSV/JSON/Parquet with globs and
//! partition discovery, partitioned writes with `_SUCCESS` last, anonymous and signed
//! access, the golden cases over data in a bucket, and retries through a proxy that
//! injects 503s and dropped connections.

mod common;

use std::sync::atomic::Ordering;

use common::s3::{Fault, FaultProxy, S3Server};
use datafusion::arrow::array::{Array, Int64Array};
use ember_core::{SaveMode, SparkSession};
use object_store::path::Path as ObjectPath;
use object_store::{Attribute, Attributes, ObjectStoreExt, PutOptions, PutPayload};

const ANONYMOUS: &str = "org.apache.hadoop.fs.s3a.AnonymousAWSCredentialsProvider";

fn session(endpoint: &str, extra: &[(&str, &str)]) -> SparkSession {
    let mut b = SparkSession::builder()
        .master("local[2]")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.hadoop.fs.s3a.endpoint", endpoint)
        .config("spark.hadoop.fs.s3a.path.style.access", "true");
    if !extra.iter().any(|(k, _)| k.contains("access.key")) {
        b = b.config("spark.hadoop.fs.s3a.aws.credentials.provider", ANONYMOUS);
    }
    for (k, v) in extra {
        b = b.config(k, v);
    }
    b.get_or_create().expect("session")
}

fn flights_dir() -> std::path::PathBuf {
    common::shared_dir("data/nycflights13", "flights.csv.gz")
}

async fn put(spark: &SparkSession, url: &str, bytes: Vec<u8>) {
    let u = ember_datasource::storage::RemoteUrl::parse(url).expect("url");
    let store = spark.storage().store(&u.url).expect("store");
    store
        .put(&ObjectPath::from(u.key.as_str()), PutPayload::from(bytes))
        .await
        .unwrap_or_else(|e| panic!("put {url}: {e}"));
}

async fn keys(spark: &SparkSession, url: &str) -> Vec<String> {
    use futures::TryStreamExt;
    let u = ember_datasource::storage::RemoteUrl::parse(url).expect("url");
    let store = spark.storage().store(&u.url).expect("store");
    let prefix = ObjectPath::from(u.key.as_str());
    let mut v: Vec<String> = store
        .list(Some(&prefix))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .expect("list");
    v.sort();
    v
}

/// Rows of the CSV at `path` (one path), with or without a header row.
async fn csv_count(spark: &SparkSession, path: &str, header: bool) -> ember_core::Result<usize> {
    let r = spark
        .read()
        .option("header", if header { "true" } else { "false" });
    r.csv(&[path]).await?.count().await
}

/// A session with no credentials configured (they come from the environment).
fn keyless_session(endpoint: &str) -> SparkSession {
    SparkSession::builder()
        .config("spark.hadoop.fs.s3a.endpoint", endpoint)
        .config("spark.hadoop.fs.s3a.path.style.access", "true")
        .get_or_create()
        .expect("session")
}

async fn scalar_i64(spark: &SparkSession, sql: &str) -> i64 {
    let batches = spark
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let col = batches[0].column(0);
    let a = col
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap_or_else(|| panic!("{sql}: not bigint: {:?}", col.data_type()));
    a.value(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_csv_json_parquet_with_globs_and_partitions() {
    let s3 = S3Server::start(&["lake"], None);
    let spark = session(&s3.endpoint(), &[]);
    let gz = std::fs::read(flights_dir().join("airports.csv.gz")).expect("airports");
    let plain = common::read_gz(&gz);
    put(&spark, "s3://lake/raw/airports.csv.gz", gz).await;
    put(&spark, "s3://lake/raw/airports.csv", plain.clone()).await;
    // Partitioned CSV, plus objects readers must skip.
    let text = String::from_utf8(plain).expect("utf8");
    let mut lines = text.lines();
    let header = lines.next().expect("header").to_string();
    let rows: Vec<&str> = lines.collect();
    for (i, chunk) in rows.chunks(rows.len().div_ceil(3)).enumerate() {
        let body = format!("{header}\n{}\n", chunk.join("\n"));
        put(
            &spark,
            &format!("s3a://lake/part/region={}/data.csv", i + 1),
            body.into_bytes(),
        )
        .await;
    }
    put(&spark, "s3://lake/part/_SUCCESS", vec![]).await;
    put(
        &spark,
        "s3://lake/part/_temporary/0/junk.csv",
        b"x\n1\n".to_vec(),
    )
    .await;
    let local = flights_dir().join("airports.csv.gz").display().to_string();
    let n_local = csv_count(&spark, &local, true).await.expect("local");
    for path in [
        "s3://lake/raw/airports.csv.gz",
        "s3a://lake/raw/airports.csv",
        "s3://lake/part",
        "s3://lake/part/region=*/*.csv",
        "s3://lake/part/region={1,2,3}",
    ] {
        let df = spark
            .read()
            .option("header", "true")
            .option("inferSchema", "true")
            .csv(&[path])
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(df.count().await.expect("count"), n_local, "{path}");
        // As Spark: partitions are discovered below the given directory only; a glob
        // reaching into `region=*` makes those directories the bases (no column).
        let names: Vec<String> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let has_region = names.last().map(String::as_str) == Some("region");
        assert_eq!(has_region, path == "s3://lake/part", "{path}: {names:?}");
    }
    // Plain HTTP(S) reads (s3s-fs answers unsigned GETs like any web server).
    let http = format!("{}/lake/raw/airports.csv.gz", s3.endpoint());
    let n_http = csv_count(&spark, &http, true)
        .await
        .unwrap_or_else(|e| panic!("{http}: {e}"));
    assert_eq!(n_http, n_local);
    spark
        .sql("CREATE TEMPORARY VIEW parts USING csv OPTIONS (path 's3://lake/part', header 'true', inferSchema 'true')")
        .await
        .expect("view");
    assert_eq!(
        scalar_i64(&spark, "SELECT count(DISTINCT region) FROM parts").await,
        3
    );
    // JSON and Parquet.
    let people = common::shared_dir("data/crafted", "people.json").join("people.json");
    put(
        &spark,
        "s3://lake/json/people.json",
        std::fs::read(&people).expect("people"),
    )
    .await;
    let n_json_local = spark
        .read()
        .json(&[&people.display().to_string()])
        .await
        .expect("json")
        .count()
        .await
        .expect("count");
    let n_json = spark
        .read()
        .json(&["s3://lake/json/"])
        .await
        .expect("json s3")
        .count()
        .await
        .expect("count");
    assert_eq!(n_json, n_json_local);
    let tmp = tempfile::tempdir().expect("tmp");
    let pq = tmp.path().join("airports_pq");
    spark
        .read()
        .option("header", "true")
        .option("inferSchema", "true")
        .csv(&[&local])
        .await
        .expect("csv")
        .write()
        .parquet(&pq.display().to_string())
        .await
        .expect("write local parquet");
    for e in std::fs::read_dir(&pq).expect("dir") {
        let p = e.expect("entry").path();
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        put(
            &spark,
            &format!("s3://lake/pq/{name}"),
            std::fs::read(&p).expect("read"),
        )
        .await;
    }
    let n_pq = spark
        .read()
        .parquet(&["s3://lake/pq"])
        .await
        .expect("parquet s3")
        .count()
        .await
        .expect("count");
    assert_eq!(n_pq, n_local);
    // Missing objects and buckets name the URL.
    for missing in [
        "s3://lake/nope/x.csv",
        "s3://lake/raw/*.tsv",
        "s3://nobucket/x.csv",
    ] {
        let err = spark
            .read()
            .csv(&[missing])
            .await
            .err()
            .unwrap_or_else(|| panic!("{missing} should fail"))
            .to_string();
        assert!(err.contains(missing), "{missing}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_partitioned_parquet_with_success_last() {
    let s3 = S3Server::start(&["lake"], None);
    let spark = session(&s3.endpoint(), &[]);
    let flights = flights_dir().join("flights.csv.gz").display().to_string();
    let df = spark
        .read()
        .option("header", "true")
        .option("inferSchema", "true")
        .option("nullValue", "NA")
        .csv(&[&flights])
        .await
        .expect("flights");
    let out = "s3://lake/trusted/flights";
    df.clone()
        .write()
        .partition_by(&["month"])
        .mode(SaveMode::Overwrite)
        .parquet(out)
        .await
        .expect("write");
    let listed = keys(&spark, out).await;
    assert!(
        listed.contains(&"trusted/flights/_SUCCESS".to_string()),
        "{listed:?}"
    );
    assert!(
        !listed.iter().any(|k| k.contains("_temporary")),
        "{listed:?}"
    );
    let months: std::collections::BTreeSet<&str> = listed
        .iter()
        .filter_map(|k| k.split('/').nth(2).filter(|s| s.starts_with("month=")))
        .collect();
    assert_eq!(months.len(), 12, "{months:?}");
    spark
        .read()
        .parquet(&[out])
        .await
        .expect("read back")
        .create_or_replace_temp_view("back")
        .expect("view");
    spark.create_or_replace_temp_view("src", &df).expect("view");
    let q = "SELECT count(*), sum(dep_delay), sum(month) FROM";
    for (a, b) in [("back", "src")] {
        let x = spark
            .sql(&format!("{q} {a}"))
            .await
            .expect("q")
            .collect()
            .await
            .expect("c");
        let y = spark
            .sql(&format!("{q} {b}"))
            .await
            .expect("q")
            .collect()
            .await
            .expect("c");
        assert_eq!(format!("{x:?}"), format!("{y:?}"));
    }
    // errorifexists refuses; overwrite replaces every old part; append adds.
    let err = df
        .clone()
        .write()
        .parquet(out)
        .await
        .err()
        .expect("exists")
        .to_string();
    assert!(
        err.contains("PATH_ALREADY_EXISTS") && err.contains(out),
        "{err}"
    );
    let january = spark
        .sql("SELECT * FROM src WHERE month = 1")
        .await
        .expect("jan");
    january
        .clone()
        .write()
        .partition_by(&["month"])
        .mode(SaveMode::Overwrite)
        .parquet(out)
        .await
        .expect("overwrite");
    let n_jan = january.clone().count().await.expect("count");
    let back = spark
        .read()
        .parquet(&[out])
        .await
        .expect("read")
        .count()
        .await
        .expect("n");
    assert_eq!(back, n_jan);
    january
        .write()
        .partition_by(&["month"])
        .mode(SaveMode::Append)
        .parquet(out)
        .await
        .expect("append");
    let back = spark
        .read()
        .parquet(&[out])
        .await
        .expect("read")
        .count()
        .await
        .expect("n");
    assert_eq!(back, 2 * n_jan);
    let listed = keys(&spark, out).await;
    assert_eq!(listed.iter().filter(|k| k.ends_with("_SUCCESS")).count(), 1);
    assert!(
        !listed.iter().any(|k| k.contains("_temporary")),
        "{listed:?}"
    );
    // A file above the 10 MiB part size goes up as a multipart upload.
    let big = "s3://lake/landing/flights_csv";
    df.clone()
        .coalesce(1)
        .expect("coalesce")
        .write()
        .option("header", "true")
        .csv(big)
        .await
        .expect("multipart write");
    let u = ember_datasource::storage::RemoteUrl::parse(big).expect("url");
    let store = spark.storage().store(&u.url).expect("store");
    let part = keys(&spark, big)
        .await
        .into_iter()
        .find(|k| k.ends_with(".csv"))
        .expect("part file");
    let size = store
        .head(&ObjectPath::from(part.as_str()))
        .await
        .expect("head")
        .size;
    assert!(size > 20 << 20, "part is {size} bytes");
    let n = csv_count(&spark, big, true).await.expect("read big");
    assert_eq!(n, 336_776);
    // Parquet reads fetch only the columns they need (ranged GETs).
    let pq = "s3://lake/trusted/flights_one";
    df.clone()
        .coalesce(1)
        .expect("coalesce")
        .write()
        .parquet(pq)
        .await
        .expect("write one file");
    let pq_size: u64 = {
        let k = keys(&spark, pq)
            .await
            .into_iter()
            .find(|k| k.ends_with(".parquet"))
            .expect("parquet part");
        store
            .head(&ObjectPath::from(k.as_str()))
            .await
            .expect("head")
            .size
    };
    let before = spark.storage().read_metrics();
    let carriers = spark
        .read()
        .parquet(&[pq])
        .await
        .expect("read")
        .select(&["carrier"])
        .expect("select")
        .distinct()
        .expect("distinct")
        .count()
        .await
        .expect("count");
    assert_eq!(carriers, 16);
    let fetched = spark.storage().read_metrics().1 - before.1;
    assert!(
        fetched > 0 && fetched * 4 < pq_size,
        "fetched {fetched} of {pq_size} bytes for one column"
    );
    // SQL writes to a bucket too.
    spark
        .sql("CREATE TABLE ember_ctas USING parquet LOCATION 's3://lake/curated/by_month' AS SELECT month, count(*) AS n FROM src GROUP BY month")
        .await
        .expect("ctas");
    let n = spark
        .read()
        .parquet(&["s3://lake/curated/by_month"])
        .await
        .expect("read ctas")
        .count()
        .await
        .expect("n");
    assert_eq!(n, 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_access_and_wrong_keys() {
    let s3 = S3Server::start(&["secure"], Some(("AKIDEMBER", "secret-ember-key")));
    let good = session(
        &s3.endpoint(),
        &[
            ("spark.hadoop.fs.s3a.access.key", "AKIDEMBER"),
            ("spark.hadoop.fs.s3a.secret.key", "secret-ember-key"),
        ],
    );
    put(&good, "s3://secure/t/a.csv", b"x,y\n1,2\n3,4\n".to_vec()).await;
    let n = csv_count(&good, "s3://secure/t/a.csv", true)
        .await
        .expect("signed read");
    assert_eq!(n, 2);
    // Per-bucket keys override the global ones (Hadoop's fs.s3a.bucket.<b>.*).
    let per_bucket = session(
        &s3.endpoint(),
        &[
            ("spark.hadoop.fs.s3a.access.key", "wrong"),
            ("spark.hadoop.fs.s3a.secret.key", "wrong"),
            ("spark.hadoop.fs.s3a.bucket.secure.access.key", "AKIDEMBER"),
            (
                "spark.hadoop.fs.s3a.bucket.secure.secret.key",
                "secret-ember-key",
            ),
        ],
    );
    let n = csv_count(&per_bucket, "s3://secure/t/a.csv", true)
        .await
        .expect("per-bucket keys");
    assert_eq!(n, 2);
    // The standard AWS environment variables, then the shared credentials file.
    // (nextest runs each test in its own process, so the environment is ours.)
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDEMBER");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret-ember-key");
    let from_env = keyless_session(&s3.endpoint());
    let n = csv_count(&from_env, "s3://secure/t/a.csv", false)
        .await
        .expect("env credentials");
    assert_eq!(n, 3);
    std::env::remove_var("AWS_ACCESS_KEY_ID");
    std::env::remove_var("AWS_SECRET_ACCESS_KEY");
    let dir = tempfile::tempdir().expect("tmp");
    let creds = dir.path().join("credentials");
    std::fs::write(
        &creds,
        "[default]\naws_access_key_id = nope\naws_secret_access_key = nope\n\n[ember]\naws_access_key_id = AKIDEMBER\naws_secret_access_key = secret-ember-key\n",
    )
    .expect("write credentials");
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &creds);
    std::env::set_var("AWS_PROFILE", "ember");
    let from_profile = keyless_session(&s3.endpoint());
    let n = csv_count(&from_profile, "s3://secure/t/a.csv", false)
        .await
        .expect("profile credentials");
    assert_eq!(n, 3);
    std::env::remove_var("AWS_SHARED_CREDENTIALS_FILE");
    std::env::remove_var("AWS_PROFILE");
    for (ak, sk) in [("AKIDEMBER", "not-the-secret"), ("", "")] {
        let extra: Vec<(&str, &str)> = if ak.is_empty() {
            vec![]
        } else {
            vec![
                ("spark.hadoop.fs.s3a.access.key", ak),
                ("spark.hadoop.fs.s3a.secret.key", sk),
            ]
        };
        let bad = session(&s3.endpoint(), &extra);
        let err = bad
            .read()
            .option("header", "true")
            .csv(&["s3://secure/t/a.csv"])
            .await
            .err()
            .expect("wrong keys must fail")
            .to_string();
        assert!(err.contains("s3://secure/t/a.csv"), "{err}");
        assert!(err.contains("403") || err.contains("Forbidden"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_cases_over_a_bucket_match_local() {
    let s3 = S3Server::start(&["lake"], None);
    let spark = session(&s3.endpoint(), &[]);
    let data = common::golden::data_dir();
    for sub in ["nycflights13", "crafted"] {
        for e in std::fs::read_dir(data.join(sub)).expect("data") {
            let p = e.expect("entry").path();
            if p.is_file() {
                let name = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                put(
                    &spark,
                    &format!("s3://lake/data/{sub}/{name}"),
                    std::fs::read(&p).expect("read"),
                )
                .await;
            }
        }
    }
    common::golden::create_views(&spark, "s3://lake/data").await;
    let known = common::golden::known_failures();
    let mut failures = Vec::new();
    let cases = common::golden::case_dirs();
    for c in &cases {
        let name = c
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if known.contains(&name) {
            continue;
        }
        if let Err(e) = common::golden::run_case(&spark, c).await {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden cases differ over S3:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_ride_out_503s_and_dropped_connections() {
    let s3 = S3Server::start(&["lake"], None);
    let direct = session(&s3.endpoint(), &[]);
    let flights = flights_dir().join("flights.csv.gz");
    put(
        &direct,
        "s3://lake/in/flights.csv.gz",
        std::fs::read(&flights).expect("read"),
    )
    .await;
    let expected = 336_776;
    for fault in [Fault::Status503, Fault::Drop] {
        let proxy = FaultProxy::start(s3.port, 3, fault).await;
        let spark = session(
            &proxy.endpoint(),
            &[("spark.hadoop.fs.s3a.retry.interval", "10ms")],
        );
        let n = spark
            .read()
            .option("header", "true")
            .csv(&["s3://lake/in/flights.csv.gz"])
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"))
            .count()
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(n, expected, "{fault:?}");
        // Writes go through the same retries.
        spark
            .read()
            .option("header", "true")
            .csv(&["s3://lake/in/flights.csv.gz"])
            .await
            .expect("read")
            .write()
            .mode(SaveMode::Overwrite)
            .parquet(&format!("s3://lake/out-{fault:?}"))
            .await
            .unwrap_or_else(|e| panic!("{fault:?} write: {e}"));
        let back = direct
            .read()
            .parquet(&[&format!("s3://lake/out-{fault:?}")])
            .await
            .expect("read back")
            .count()
            .await
            .expect("count");
        assert_eq!(back, expected);
        assert!(
            proxy.failed.load(Ordering::SeqCst) > 0,
            "{fault:?}: no fault injected"
        );
    }
    // When retries do not suffice the error names the object and the last status.
    let proxy = FaultProxy::start(s3.port, 1, Fault::Status503).await;
    let spark = session(
        &proxy.endpoint(),
        &[
            ("spark.hadoop.fs.s3a.retry.limit", "2"),
            ("spark.hadoop.fs.s3a.retry.interval", "10ms"),
        ],
    );
    let err = spark
        .read()
        .csv(&["s3://lake/in/flights.csv.gz"])
        .await
        .err()
        .expect("must fail")
        .to_string();
    assert!(err.contains("s3://lake/in/flights.csv.gz"), "{err}");
    assert!(err.contains("503"), "{err}");
    assert_eq!(
        proxy.requests.load(Ordering::SeqCst),
        3,
        "1 try + 2 retries: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_encoding_gzip_is_decoded_once() {
    let s3 = S3Server::start(&["lake"], None);
    let spark = session(&s3.endpoint(), &[]);
    let gz = std::fs::read(flights_dir().join("airlines.csv.gz")).expect("airlines");
    let u = ember_datasource::storage::RemoteUrl::parse("s3://lake/").expect("url");
    let store = spark.storage().store(&u.url).expect("store");
    let mut attrs = Attributes::new();
    attrs.insert(Attribute::ContentEncoding, "gzip".into());
    for key in ["enc/airlines.csv.gz", "enc-plain-name/airlines.csv"] {
        store
            .put_opts(
                &ObjectPath::from(key),
                PutPayload::from(gz.clone()),
                PutOptions {
                    attributes: attrs.clone(),
                    ..Default::default()
                },
            )
            .await
            .expect("put");
    }
    let head = store
        .get(&ObjectPath::from("enc/airlines.csv.gz"))
        .await
        .expect("get");
    assert_eq!(
        head.attributes
            .get(&Attribute::ContentEncoding)
            .map(|v| v.to_string()),
        Some("gzip".to_string()),
        "the server must keep Content-Encoding for this test to mean anything"
    );
    for path in [
        "s3://lake/enc/airlines.csv.gz",
        "s3://lake/enc-plain-name/airlines.csv",
    ] {
        let rows = spark
            .read()
            .option("header", "true")
            .csv(&[path])
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let n: usize = rows.iter().map(|b| b.num_rows()).sum();
        assert_eq!(n, 16, "{path}");
        // Decoded text, not gzip bytes: the header gives the column names.
        let names: Vec<String> = rows[0]
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["carrier", "name"], "{path}");
    }
}
