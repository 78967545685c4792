//! Every `spark.*` configuration key ember honours, declared once with Spark's
//! default, its type, whether it is static or runtime, and its meaning (as Spark's
//! `SQLConf`); read through the typed accessors of [`Conf`]. `ember conf` prints the
//! table (and `ember conf --markdown` the README's).

/// What a key's value is, and how it is checked when read (see [`Conf`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfType {
    /// `true` / `false` (any case).
    Bool,
    /// A whole number.
    Int,
    /// A size: bytes, or with a `k`/`m`/`g`/`t` suffix (`512m`, `10MB`).
    Bytes,
    /// A time: a number with `ms`/`s`/`min`/`h` (`500ms`, `60s`).
    Duration,
    /// A region-based zone ID or an offset (`Europe/Paris`, `UTC`).
    TimeZone,
    /// `local`, `local[n]`, `local[*]` (or a cluster master URL).
    Master,
    /// One of the listed values (any case).
    Choice(&'static [&'static str]),
    /// Any text.
    Text,
}

impl ConfType {
    /// The type's name in `ember conf` and the README.
    pub fn name(&self) -> String {
        match self {
            ConfType::Bool => "boolean".into(),
            ConfType::Int => "int".into(),
            ConfType::Bytes => "bytes".into(),
            ConfType::Duration => "duration".into(),
            ConfType::TimeZone => "time zone".into(),
            ConfType::Master => "master".into(),
            ConfType::Choice(v) => v.join(" | "),
            ConfType::Text => "string".into(),
        }
    }
}

/// One configuration key.
#[derive(Debug, Clone, Copy)]
pub struct ConfEntry {
    /// The key, e.g. `spark.sql.shuffle.partitions`.
    pub key: &'static str,
    /// Spark's default (as text); `<...>` when it depends on the machine or another key.
    pub default: &'static str,
    /// The value's type.
    pub kind: ConfType,
    /// `true` for runtime keys (`spark.conf.set` changes them in a running session);
    /// `false` for static ones, fixed when the session starts (as Spark's
    /// `StaticSQLConf` and core settings).
    pub runtime: bool,
    /// What it does in ember.
    pub doc: &'static str,
}

/// The keys ember honours (and those the PySpark client reads, with Spark's defaults).
pub const ENTRIES: &[ConfEntry] = &[
    ConfEntry { key: "spark.master", default: "local[*]", kind: ConfType::Master, runtime: false, doc: "local[n] / local[*]: number of worker threads (DataFusion target partitions)." },
    ConfEntry { key: "spark.app.name", default: "ember", kind: ConfType::Text, runtime: false, doc: "Application name shown in logs." },
    ConfEntry { key: "spark.sql.shuffle.partitions", default: "200", kind: ConfType::Int, runtime: true, doc: "Partitions after a shuffle (joins, aggregations); ember caps it at the core count of local[n] unless set explicitly." },
    ConfEntry { key: "spark.default.parallelism", default: "<cores of spark.master>", kind: ConfType::Int, runtime: false, doc: "Default number of partitions for scans and repartition()." },
    ConfEntry { key: "spark.sql.session.timeZone", default: "<machine zone>", kind: ConfType::TimeZone, runtime: true, doc: "Zone used to read and show timestamps and for date functions." },
    ConfEntry { key: "spark.sql.ansi.enabled", default: "true", kind: ConfType::Bool, runtime: true, doc: "ANSI mode: invalid casts, overflow, division by zero and bad array indexes raise errors instead of returning NULL." },
    ConfEntry { key: "spark.sql.mapKeyDedupPolicy", default: "EXCEPTION", kind: ConfType::Choice(&["EXCEPTION", "LAST_WIN"]), runtime: true, doc: "A key repeated in map()/map_concat(): EXCEPTION fails the query (DUPLICATED_MAP_KEY); LAST_WIN keeps the value given last." },
    ConfEntry { key: "spark.sql.autoBroadcastJoinThreshold", default: "10485760", kind: ConfType::Bytes, runtime: true, doc: "Bytes; tables below this size are broadcast in joins (DataFusion hash_join_single_partition_threshold). -1 disables." },
    ConfEntry { key: "spark.driver.memory", default: "1g", kind: ConfType::Bytes, runtime: false, doc: "Memory pool for execution (bytes, or k/m/g suffix); queries over it spill to disk." },
    ConfEntry { key: "spark.sql.files.maxPartitionBytes", default: "134217728", kind: ConfType::Bytes, runtime: true, doc: "Bytes; the largest split a scan task reads." },
    ConfEntry { key: "spark.sql.caseSensitive", default: "false", kind: ConfType::Bool, runtime: true, doc: "Column resolution is case-insensitive (unquoted identifiers are normalised)." },
    ConfEntry { key: "spark.sql.columnNameOfCorruptRecord", default: "_corrupt_record", kind: ConfType::Text, runtime: true, doc: "Default corrupt-record column of the CSV and JSON readers." },
    ConfEntry { key: "spark.sql.sources.partitionOverwriteMode", default: "static", kind: ConfType::Choice(&["static", "dynamic"]), runtime: true, doc: "static: overwrite replaces the whole output path." },
    ConfEntry { key: "spark.task.maxFailures", default: "4", kind: ConfType::Int, runtime: false, doc: "Attempts per task before the job fails." },
    ConfEntry { key: "spark.ui.port", default: "4040", kind: ConfType::Int, runtime: false, doc: "Port of the web UI (when enabled)." },
    ConfEntry { key: "spark.eventLog.dir", default: "", kind: ConfType::Text, runtime: false, doc: "Directory for JSON-lines event logs (empty: disabled)." },
    ConfEntry { key: "spark.hadoop.fs.s3a.endpoint", default: "", kind: ConfType::Text, runtime: true, doc: "S3-compatible endpoint (host:port or URL); empty: AWS. Any fs.s3a key may also be set per bucket: spark.hadoop.fs.s3a.bucket.<bucket>.<key>." },
    ConfEntry { key: "spark.hadoop.fs.s3a.connection.ssl.enabled", default: "true", kind: ConfType::Bool, runtime: true, doc: "https for an endpoint given without scheme." },
    ConfEntry { key: "spark.hadoop.fs.s3a.path.style.access", default: "false", kind: ConfType::Bool, runtime: true, doc: "Bucket in the URL path instead of the host name (most S3-compatible servers)." },
    ConfEntry { key: "spark.hadoop.fs.s3a.endpoint.region", default: "<AWS_REGION or us-east-1>", kind: ConfType::Text, runtime: true, doc: "Signing region." },
    ConfEntry { key: "spark.hadoop.fs.s3a.access.key", default: "", kind: ConfType::Text, runtime: true, doc: "Access key; with secret.key and optional session.token. Empty: AWS_* environment variables, then ~/.aws profile files (AWS_PROFILE), then instance metadata." },
    ConfEntry { key: "spark.hadoop.fs.s3a.aws.credentials.provider", default: "", kind: ConfType::Text, runtime: true, doc: "org.apache.hadoop.fs.s3a.AnonymousAWSCredentialsProvider: unsigned requests (public buckets)." },
    ConfEntry { key: "spark.hadoop.fs.s3a.retry.limit", default: "7", kind: ConfType::Int, runtime: true, doc: "Retries of a failed object-store request (5xx, throttling, timeouts, dropped connections), exponential backoff." },
    ConfEntry { key: "spark.hadoop.fs.s3a.retry.interval", default: "500ms", kind: ConfType::Duration, runtime: true, doc: "First retry backoff; doubles per retry up to 15 s." },
    ConfEntry { key: "spark.hadoop.fs.s3a.connection.request.timeout", default: "60s", kind: ConfType::Duration, runtime: true, doc: "Time limit of one object-store request (reads are 8 MiB ranges)." },
    ConfEntry { key: "spark.hadoop.fs.s3a.connection.establish.timeout", default: "30s", kind: ConfType::Duration, runtime: true, doc: "Time limit to connect to the object store." },
    ConfEntry { key: "spark.ember.storage.retryTimeout", default: "180s", kind: ConfType::Duration, runtime: true, doc: "Total time spent retrying one object-store request (every scheme)." },
    ConfEntry { key: "spark.ember.storage.maxRetries", default: "7", kind: ConfType::Int, runtime: true, doc: "Retries for gs://, az://, http(s):// (S3 uses fs.s3a.retry.limit); also retryInterval, requestTimeout, connectTimeout." },
    ConfEntry { key: "spark.sql.timeType.enabled", default: "false", kind: ConfType::Bool, runtime: true, doc: "The TIME type (Spark 4.3): off, a TIME value fails with UNSUPPORTED_TIME_TYPE." },
    ConfEntry { key: "spark.sql.timestampType", default: "TIMESTAMP_LTZ", kind: ConfType::Choice(&["TIMESTAMP_LTZ", "TIMESTAMP_NTZ"]), runtime: true, doc: "The type of TIMESTAMP in SQL and of inferred timestamps." },
    ConfEntry { key: "spark.sql.warehouse.dir", default: "spark-warehouse", kind: ConfType::Text, runtime: false, doc: "Directory of saveAsTable tables." },
    ConfEntry { key: "spark.sql.sources.default", default: "parquet", kind: ConfType::Text, runtime: true, doc: "Format of load()/save()/saveAsTable without one." },
    ConfEntry { key: "spark.sql.parquet.mergeSchema", default: "false", kind: ConfType::Bool, runtime: true, doc: "Merge the schemas of all Parquet files read together." },
    ConfEntry { key: "spark.sql.files.openCostInBytes", default: "4194304", kind: ConfType::Bytes, runtime: true, doc: "Bytes; the cost of opening a file when packing small files into splits." },
    ConfEntry { key: "spark.sql.files.minPartitionNum", default: "<spark.default.parallelism>", kind: ConfType::Int, runtime: true, doc: "Suggested least number of file splits." },
    ConfEntry { key: "spark.pyspark.python", default: "<PYSPARK_PYTHON, else python3>", kind: ConfType::Text, runtime: false, doc: "Python of Python UDF workers and `ember submit SCRIPT.py`." },
    ConfEntry { key: "spark.submit.pyFiles", default: "", kind: ConfType::Text, runtime: false, doc: "Comma-separated .py/.zip/.egg files put on the Python path of the driver and workers." },
    ConfEntry { key: "spark.submit.deployMode", default: "client", kind: ConfType::Choice(&["client", "cluster"]), runtime: false, doc: "Where the driver runs (ember submit)." },
    ConfEntry { key: "spark.sql.session.localRelationCacheThreshold", default: "67108864", kind: ConfType::Bytes, runtime: true, doc: "PySpark client: createDataFrame data above this size is sent as an artifact." },
    ConfEntry { key: "spark.sql.session.localRelationSizeLimit", default: "3221225472", kind: ConfType::Bytes, runtime: true, doc: "PySpark client: largest local relation." },
    ConfEntry { key: "spark.sql.session.localRelationChunkSizeRows", default: "10000", kind: ConfType::Int, runtime: true, doc: "PySpark client: rows per local-relation chunk." },
    ConfEntry { key: "spark.sql.session.localRelationChunkSizeBytes", default: "16777216", kind: ConfType::Bytes, runtime: true, doc: "PySpark client: bytes per local-relation chunk." },
    ConfEntry { key: "spark.sql.session.localRelationBatchOfChunksSizeBytes", default: "134217728", kind: ConfType::Bytes, runtime: true, doc: "PySpark client: bytes per batch of chunks." },
    ConfEntry { key: "spark.sql.execution.pandas.convertToArrowArraySafely", default: "false", kind: ConfType::Bool, runtime: true, doc: "PySpark client: checked pandas-to-Arrow conversion." },
    ConfEntry { key: "spark.sql.execution.pandas.inferPandasDictAsMap", default: "false", kind: ConfType::Bool, runtime: true, doc: "PySpark client: pandas dicts as maps." },
    ConfEntry { key: "spark.sql.pyspark.inferNestedDictAsStruct.enabled", default: "false", kind: ConfType::Bool, runtime: true, doc: "PySpark client: nested dicts as structs in createDataFrame." },
    ConfEntry { key: "spark.sql.pyspark.legacy.inferArrayTypeFromFirstElement.enabled", default: "false", kind: ConfType::Bool, runtime: true, doc: "PySpark client: array element type from the first element." },
    ConfEntry { key: "spark.sql.pyspark.legacy.inferMapTypeFromFirstPair.enabled", default: "false", kind: ConfType::Bool, runtime: true, doc: "PySpark client: map types from the first pair." },
    ConfEntry { key: "spark.sql.execution.arrow.useLargeVarTypes", default: "false", kind: ConfType::Bool, runtime: true, doc: "PySpark client: large Arrow string/binary types." },
    ConfEntry { key: "spark.sql.repl.eagerEval.enabled", default: "false", kind: ConfType::Bool, runtime: true, doc: "PySpark client: show DataFrames eagerly in notebooks." },
    ConfEntry { key: "spark.sql.repl.eagerEval.maxNumRows", default: "20", kind: ConfType::Int, runtime: true, doc: "PySpark client: rows shown eagerly." },
    ConfEntry { key: "spark.sql.repl.eagerEval.truncate", default: "20", kind: ConfType::Int, runtime: true, doc: "PySpark client: characters per cell shown eagerly." },
    ConfEntry { key: "spark.sql.pyspark.jvmStacktrace.enabled", default: "false", kind: ConfType::Bool, runtime: true, doc: "PySpark client: JVM stack traces in errors (ember has none)." },
    ConfEntry { key: "spark.sql.connect.serverStacktrace.enabled", default: "false", kind: ConfType::Bool, runtime: true, doc: "PySpark client: server stack traces in errors." },
    ConfEntry { key: "spark.sql.execution.pythonUDF.arrow.enabled", default: "false", kind: ConfType::Bool, runtime: true, doc: "PySpark client: Arrow-optimized Python UDFs." },
    ConfEntry { key: "spark.sql.execution.pythonUDTF.arrow.enabled", default: "false", kind: ConfType::Bool, runtime: true, doc: "PySpark client: Arrow-optimized Python UDTFs." },
    ConfEntry { key: "spark.sql.execution.pyspark.binaryAsBytes", default: "true", kind: ConfType::Bool, runtime: true, doc: "PySpark client: binary values as bytes." },
    ConfEntry { key: "spark.sql.execution.pandas.structHandlingMode", default: "legacy", kind: ConfType::Text, runtime: true, doc: "PySpark client: how structs become pandas values." },
    ConfEntry { key: "spark.sql.execution.arrow.pyspark.selfDestruct.enabled", default: "false", kind: ConfType::Bool, runtime: true, doc: "PySpark client: free Arrow memory during toPandas." },
    ConfEntry { key: "spark.sql.execution.arrow.maxRecordsPerBatch", default: "10000", kind: ConfType::Int, runtime: true, doc: "Rows per Arrow batch to and from Python workers." },
    ConfEntry { key: "datafusion.*", default: "DataFusion's", kind: ConfType::Text, runtime: true, doc: "Expert: any DataFusion option, set as is (e.g. datafusion.execution.parquet.pushdown_filters)." },
];

/// A session's settings read through their declarations: the declared default
/// when unset, the value checked against the declared type.
#[derive(Debug, Clone, Copy)]
pub struct Conf<'a> {
    set: &'a std::collections::BTreeMap<String, String>,
}

impl<'a> Conf<'a> {
    /// Reads from `set` (the session's `spark.*` settings).
    pub fn new(set: &'a std::collections::BTreeMap<String, String>) -> Conf<'a> {
        Conf { set }
    }

    /// The value set for `key`, else its declared default (`None` when the default
    /// is not a value: empty, or `<...>` for one computed elsewhere).
    ///
    /// Errors: `INTERNAL_ERROR` for a key not declared in [`ENTRIES`].
    pub fn text(&self, key: &str) -> crate::Result<Option<String>> {
        let e = declared(key)?;
        Ok(match self.set.get(key) {
            Some(v) => Some(v.clone()),
            None if e.default.is_empty() || e.default.starts_with('<') => None,
            None => Some(e.default.to_string()),
        })
    }

    /// A `boolean` key. Errors: `INVALID_CONF_VALUE.TYPE_MISMATCH` for other text.
    pub fn bool(&self, key: &str) -> crate::Result<bool> {
        let v = self.text(key)?.unwrap_or_default();
        match v.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(mismatch(key, &v, "boolean")),
        }
    }

    /// An `int` key (`None`: unset with a computed default).
    /// Errors: `INVALID_CONF_VALUE.TYPE_MISMATCH` for text that is not a number.
    pub fn int(&self, key: &str) -> crate::Result<Option<i64>> {
        match self.text(key)? {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| mismatch(key, &v, "int")),
        }
    }

    /// A `bytes` key in bytes (`-1` and other negatives are kept: "disabled").
    /// Errors: `INVALID_CONF_VALUE.TYPE_MISMATCH` for text that is not a size.
    pub fn bytes(&self, key: &str) -> crate::Result<Option<i64>> {
        match self.text(key)? {
            None => Ok(None),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) => Ok(Some(n)),
                Err(_) => parse_bytes(&v)
                    .map(|b| Some(b as i64))
                    .ok_or_else(|| mismatch(key, &v, "bytes")),
            },
        }
    }
}

fn declared(key: &str) -> crate::Result<&'static ConfEntry> {
    entry(key).ok_or_else(|| {
        crate::EmberError::internal(format!("configuration key {key} is read but not declared"))
    })
}

fn mismatch(key: &str, value: &str, kind: &str) -> crate::EmberError {
    crate::EmberError::analysis(
        "INVALID_CONF_VALUE.TYPE_MISMATCH",
        format!(
            "The value '{value}' in the config \"{key}\" is invalid. It must be of type {kind}."
        ),
    )
}

/// Whether ember knows `key`: declared in [`ENTRIES`], or in a family passed through
/// as is (`spark.hadoop.*`, `datafusion.*`, `spark.executor.*`, `spark.driver.*`).
/// `ember`'s `--conf` warns once about any other key.
pub fn is_known(key: &str) -> bool {
    entry(key).is_some()
        || [
            "spark.hadoop.",
            "datafusion.",
            "spark.executor.",
            "spark.driver.",
            "spark.ember.",
        ]
        .iter()
        .any(|p| key.starts_with(p))
}

/// The table of [`ENTRIES`] as Markdown (the README's configuration table).
pub fn markdown_table() -> String {
    let mut out =
        String::from("| key | type | default | scope | meaning |\n|---|---|---|---|---|\n");
    for e in ENTRIES {
        let cell = |s: &str| s.replace('|', "\\|");
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            e.key,
            cell(&e.kind.name()),
            if e.default.is_empty() {
                String::new()
            } else {
                format!("`{}`", cell(e.default))
            },
            if e.runtime { "runtime" } else { "static" },
            cell(e.doc)
        ));
    }
    out
}

/// Looks a key up.
pub fn entry(key: &str) -> Option<&'static ConfEntry> {
    ENTRIES.iter().find(|e| e.key == key)
}

/// Parses a Spark size string (`512m`, `2g`, `1048576`, `10MB`) into bytes.
pub fn parse_bytes(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mul) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1u64 << 10),
        'm' => (&t[..t.len() - 1], 1 << 20),
        'g' => (&t[..t.len() - 1], 1 << 30),
        't' => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .map(|n| (n * mul as f64) as u64)
}

/// Parses `local`, `local[n]`, `local[*]` into a thread count.
pub fn parse_master(master: &str) -> Option<usize> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let m = master.trim();
    if m == "local" {
        return Some(1);
    }
    let inner = m.strip_prefix("local[")?.strip_suffix(']')?;
    let inner = inner.split(',').next()?;
    if inner == "*" {
        Some(cores)
    } else {
        inner.trim().parse::<usize>().ok().filter(|n| *n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_reads_use_declared_defaults_and_check_types() {
        let mut set = std::collections::BTreeMap::new();
        let c = Conf::new(&set);
        assert!(c.bool("spark.sql.ansi.enabled").unwrap());
        assert_eq!(c.int("spark.sql.shuffle.partitions").unwrap(), Some(200));
        assert_eq!(c.int("spark.default.parallelism").unwrap(), None);
        assert_eq!(c.bytes("spark.driver.memory").unwrap(), Some(1 << 30));
        assert!(c.text("spark.no.such.key").is_err());
        set.insert("spark.sql.ansi.enabled".to_string(), "maybe".to_string());
        set.insert(
            "spark.sql.autoBroadcastJoinThreshold".to_string(),
            "-1".to_string(),
        );
        let c = Conf::new(&set);
        let e = c.bool("spark.sql.ansi.enabled").unwrap_err();
        assert!(e.to_string().contains("TYPE_MISMATCH"), "{e}");
        assert_eq!(
            c.bytes("spark.sql.autoBroadcastJoinThreshold").unwrap(),
            Some(-1)
        );
        assert!(is_known("spark.hadoop.fs.s3a.bucket.b.endpoint") && !is_known("spark.sql.typo"));
    }

    #[test]
    fn every_entry_is_declared_once() {
        let mut keys: Vec<&str> = ENTRIES.iter().map(|e| e.key).collect();
        keys.sort();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n);
    }
    #[test]
    fn sizes_and_masters() {
        assert_eq!(parse_bytes("1g"), Some(1 << 30));
        assert_eq!(parse_bytes("512m"), Some(512 << 20));
        assert_eq!(parse_bytes("10MB"), Some(10 << 20));
        assert_eq!(parse_master("local[4]"), Some(4));
        assert_eq!(parse_master("local"), Some(1));
        assert!(parse_master("local[*]").unwrap() >= 1);
        assert_eq!(parse_master("yarn"), None);
    }
}
