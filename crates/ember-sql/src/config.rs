//! Every `spark.*` configuration key ember honours, with Spark's default, unit and
//! meaning, in one place (as Spark's `SQLConf`). `ember conf` prints this table.

/// One configuration key.
#[derive(Debug, Clone, Copy)]
pub struct ConfEntry {
    /// The key, e.g. `spark.sql.shuffle.partitions`.
    pub key: &'static str,
    /// Spark's default (as text); `<machine>` when it depends on the machine.
    pub default: &'static str,
    /// What it does in ember.
    pub doc: &'static str,
}

/// The keys ember honours.
pub const ENTRIES: &[ConfEntry] = &[
    ConfEntry { key: "spark.master", default: "local[*]", doc: "local[n] / local[*]: number of worker threads (DataFusion target partitions)." },
    ConfEntry { key: "spark.app.name", default: "ember", doc: "Application name shown in logs." },
    ConfEntry { key: "spark.sql.shuffle.partitions", default: "200", doc: "Partitions after a shuffle (joins, aggregations); ember caps it at the core count of local[n] unless set explicitly." },
    ConfEntry { key: "spark.default.parallelism", default: "<cores of spark.master>", doc: "Default number of partitions for scans and repartition()." },
    ConfEntry { key: "spark.sql.session.timeZone", default: "<machine zone>", doc: "Zone used to read and show timestamps and for date functions." },
    ConfEntry { key: "spark.sql.ansi.enabled", default: "true", doc: "ANSI mode: invalid casts, overflow, division by zero and bad array indexes raise errors instead of returning NULL." },
    ConfEntry { key: "spark.sql.mapKeyDedupPolicy", default: "EXCEPTION", doc: "A key repeated in map()/map_concat(): EXCEPTION fails the query (DUPLICATED_MAP_KEY); LAST_WIN keeps the value given last." },
    ConfEntry { key: "spark.sql.autoBroadcastJoinThreshold", default: "10485760", doc: "Bytes; tables below this size are broadcast in joins (DataFusion hash_join_single_partition_threshold). -1 disables." },
    ConfEntry { key: "spark.driver.memory", default: "1g", doc: "Memory pool for execution (bytes, or k/m/g suffix); queries over it spill to disk." },
    ConfEntry { key: "spark.sql.files.maxPartitionBytes", default: "134217728", doc: "Bytes; the largest split a scan task reads." },
    ConfEntry { key: "spark.sql.caseSensitive", default: "false", doc: "Column resolution is case-insensitive (unquoted identifiers are normalised)." },
    ConfEntry { key: "spark.sql.columnNameOfCorruptRecord", default: "_corrupt_record", doc: "Default corrupt-record column of the CSV and JSON readers." },
    ConfEntry { key: "spark.sql.sources.partitionOverwriteMode", default: "static", doc: "static: overwrite replaces the whole output path." },
    ConfEntry { key: "spark.task.maxFailures", default: "4", doc: "Attempts per task before the job fails." },
    ConfEntry { key: "spark.ui.port", default: "4040", doc: "Port of the web UI (when enabled)." },
    ConfEntry { key: "spark.eventLog.dir", default: "", doc: "Directory for JSON-lines event logs (empty: disabled)." },
    ConfEntry { key: "spark.hadoop.fs.s3a.endpoint", default: "", doc: "S3-compatible endpoint (host:port or URL); empty: AWS. Any fs.s3a key may also be set per bucket: spark.hadoop.fs.s3a.bucket.<bucket>.<key>." },
    ConfEntry { key: "spark.hadoop.fs.s3a.connection.ssl.enabled", default: "true", doc: "https for an endpoint given without scheme." },
    ConfEntry { key: "spark.hadoop.fs.s3a.path.style.access", default: "false", doc: "Bucket in the URL path instead of the host name (most S3-compatible servers)." },
    ConfEntry { key: "spark.hadoop.fs.s3a.endpoint.region", default: "<AWS_REGION or us-east-1>", doc: "Signing region." },
    ConfEntry { key: "spark.hadoop.fs.s3a.access.key", default: "", doc: "Access key; with secret.key and optional session.token. Empty: AWS_* environment variables, then ~/.aws profile files (AWS_PROFILE), then instance metadata." },
    ConfEntry { key: "spark.hadoop.fs.s3a.aws.credentials.provider", default: "", doc: "org.apache.hadoop.fs.s3a.AnonymousAWSCredentialsProvider: unsigned requests (public buckets)." },
    ConfEntry { key: "spark.hadoop.fs.s3a.retry.limit", default: "7", doc: "Retries of a failed object-store request (5xx, throttling, timeouts, dropped connections), exponential backoff." },
    ConfEntry { key: "spark.hadoop.fs.s3a.retry.interval", default: "500ms", doc: "First retry backoff; doubles per retry up to 15 s." },
    ConfEntry { key: "spark.hadoop.fs.s3a.connection.request.timeout", default: "60s", doc: "Time limit of one object-store request (reads are 8 MiB ranges)." },
    ConfEntry { key: "spark.hadoop.fs.s3a.connection.establish.timeout", default: "30s", doc: "Time limit to connect to the object store." },
    ConfEntry { key: "spark.ember.storage.retryTimeout", default: "180s", doc: "Total time spent retrying one object-store request (every scheme)." },
    ConfEntry { key: "spark.ember.storage.maxRetries", default: "7", doc: "Retries for gs://, az://, http(s):// (S3 uses fs.s3a.retry.limit); also retryInterval, requestTimeout, connectTimeout." },
    ConfEntry { key: "datafusion.*", default: "DataFusion's", doc: "Expert: any DataFusion option, set as is (e.g. datafusion.execution.parquet.pushdown_filters)." },
];

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
