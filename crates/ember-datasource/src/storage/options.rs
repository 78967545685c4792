//! Spark/Hadoop configuration keys → `object_store` builders.
//!
//! S3 (`s3://`, `s3a://`, `s3n://`), as Hadoop's S3A connector reads them, each key
//! first looked up per bucket (`spark.hadoop.fs.s3a.bucket.<bucket>.<key>`) then
//! globally (`spark.hadoop.fs.s3a.<key>`):
//!
//! | key (after `fs.s3a.`) | meaning | default |
//! |---|---|---|
//! | `endpoint` | S3-compatible endpoint (`host:port` or URL) | AWS |
//! | `connection.ssl.enabled` | `https` for an endpoint without scheme | `true` |
//! | `endpoint.region` | signing region | env `AWS_REGION`, else `us-east-1` |
//! | `path.style.access` | `bucket` in the path, not the host name | `false` |
//! | `access.key`, `secret.key`, `session.token` | static credentials | env, then profile |
//! | `aws.credentials.provider` | `...AnonymousAWSCredentialsProvider` = unsigned requests | chain |
//! | `retry.limit` | retries of a failed request (5xx, throttling, timeouts, dropped connections) | 7 |
//! | `retry.interval` | first backoff (doubles per retry) | `500ms` |
//! | `connection.request.timeout` | time limit of one request | `60s` |
//! | `connection.establish.timeout` | time limit to connect | `30s` |
//!
//! Without keys, credentials come from the standard AWS environment variables
//! (`AWS_ACCESS_KEY_ID`, ...; `AWS_ENDPOINT_URL`), then the profile files
//! (`~/.aws/credentials`, `~/.aws/config`, `AWS_PROFILE`), then instance metadata.
//!
//! For every scheme, `spark.ember.storage.maxRetries`, `.retryInterval`,
//! `.retryTimeout` (total time spent retrying one request, default `180s`),
//! `.requestTimeout` and `.connectTimeout` set the same limits (S3 keys win for S3).
//! GCS: `spark.hadoop.google.cloud.auth.service.account.json.keyfile` (or
//! `fs.gs.auth.service.account.json.keyfile`), `fs.gs.auth.type=UNAUTHENTICATED`.
//! Azure: `spark.hadoop.fs.azure.account.key.<account>.dfs.core.windows.net`, and the
//! `AZURE_*` environment variables.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};
use url::Url;

use crate::error::{DataSourceError, Result};

/// Whether a configuration key concerns storage (kept by the registry).
pub fn is_storage_key(key: &str) -> bool {
    key.starts_with("spark.hadoop.") || key.starts_with("spark.ember.storage.")
}

/// Parses a Hadoop time value: `500ms`, `60s`, `2m`, `1h`, `1d`, or a bare number of
/// milliseconds.
pub fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim().to_ascii_lowercase();
    let split = v
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let ms = match unit.trim() {
        "" | "ms" => n,
        "s" | "sec" => n * 1e3,
        "m" | "min" => n * 60e3,
        "h" => n * 3600e3,
        "d" => n * 86400e3,
        _ => return None,
    };
    (ms >= 0.0).then(|| Duration::from_millis(ms as u64))
}

fn parse_bool(v: &str) -> bool {
    v.trim().eq_ignore_ascii_case("true")
}

/// Request limits shared by every scheme.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Retries of one request.
    pub max_retries: usize,
    /// First backoff; doubles per retry up to 15 s.
    pub retry_interval: Duration,
    /// Total time spent on one request including retries.
    pub retry_timeout: Duration,
    /// Time limit of one attempt.
    pub request_timeout: Duration,
    /// Time limit to connect.
    pub connect_timeout: Duration,
}

impl Limits {
    fn from_conf(conf: &BTreeMap<String, String>, s3: Option<&S3Keys<'_>>) -> Limits {
        let generic = |k: &str| conf.get(&format!("spark.ember.storage.{k}"));
        let pick = |s3key: &str, k: &str| -> Option<String> {
            s3.and_then(|s| s.get(s3key))
                .or_else(|| generic(k).cloned())
        };
        Limits {
            max_retries: pick("retry.limit", "maxRetries")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(7),
            retry_interval: pick("retry.interval", "retryInterval")
                .and_then(|v| parse_duration(&v))
                .unwrap_or(Duration::from_millis(500)),
            retry_timeout: generic("retryTimeout")
                .and_then(|v| parse_duration(v))
                .unwrap_or(Duration::from_secs(180)),
            request_timeout: pick("connection.request.timeout", "requestTimeout")
                .and_then(|v| parse_duration(&v))
                .unwrap_or(Duration::from_secs(60)),
            connect_timeout: pick("connection.establish.timeout", "connectTimeout")
                .and_then(|v| parse_duration(&v))
                .unwrap_or(Duration::from_secs(30)),
        }
    }

    fn retry(&self) -> RetryConfig {
        RetryConfig {
            backoff: BackoffConfig {
                init_backoff: self.retry_interval,
                max_backoff: Duration::from_secs(15).max(self.retry_interval),
                base: 2.0,
            },
            max_retries: self.max_retries,
            retry_timeout: self.retry_timeout,
        }
    }

    fn client(&self, allow_http: bool) -> ClientOptions {
        ClientOptions::new()
            .with_timeout(self.request_timeout)
            .with_connect_timeout(self.connect_timeout)
            .with_allow_http(allow_http)
    }
}

/// S3A keys for one bucket: per-bucket value first, then the global one.
struct S3Keys<'a> {
    conf: &'a BTreeMap<String, String>,
    bucket: String,
}

impl S3Keys<'_> {
    fn get(&self, key: &str) -> Option<String> {
        self.conf
            .get(&format!("spark.hadoop.fs.s3a.bucket.{}.{key}", self.bucket))
            .or_else(|| self.conf.get(&format!("spark.hadoop.fs.s3a.{key}")))
            .cloned()
    }
}

fn invalid(url: &Url, e: impl std::fmt::Display) -> DataSourceError {
    DataSourceError::InvalidOption(format!("cannot configure storage for {url}: {e}"))
}

/// Builds the store for `url`'s scheme and bucket from `conf`.
///
/// Errors: [`DataSourceError::InvalidOption`] for an unknown scheme or a setting the
/// builder rejects.
pub fn build_store(url: &Url, conf: &BTreeMap<String, String>) -> Result<Arc<dyn ObjectStore>> {
    let scheme = url.scheme();
    match scheme {
        "s3" | "s3a" | "s3n" => s3(url, conf),
        "gs" | "gcs" => {
            let limits = Limits::from_conf(conf, None);
            let mut b = GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(url.host_str().unwrap_or_default())
                .with_retry(limits.retry())
                .with_client_options(limits.client(false));
            let keyfile = conf
                .get("spark.hadoop.google.cloud.auth.service.account.json.keyfile")
                .or_else(|| conf.get("spark.hadoop.fs.gs.auth.service.account.json.keyfile"));
            if let Some(k) = keyfile {
                b = b.with_service_account_path(k);
            }
            if conf
                .get("spark.hadoop.fs.gs.auth.type")
                .is_some_and(|v| v.eq_ignore_ascii_case("UNAUTHENTICATED"))
            {
                b = b.with_skip_signature(true);
            }
            Ok(Arc::new(b.build().map_err(|e| invalid(url, e))?))
        }
        "az" | "azure" | "abfs" | "abfss" | "adl" => {
            let limits = Limits::from_conf(conf, None);
            let mut b = MicrosoftAzureBuilder::from_env()
                .with_url(url.as_str())
                .with_retry(limits.retry())
                .with_client_options(limits.client(false));
            let prefix = "spark.hadoop.fs.azure.account.key.";
            for (k, v) in conf.range(prefix.to_string()..) {
                let Some(host) = k.strip_prefix(prefix) else {
                    break;
                };
                let account = host.split('.').next().unwrap_or_default();
                let url_host = url.host_str().unwrap_or_default();
                if url_host.starts_with(&format!("{account}.")) || url.username() == account {
                    b = b.with_account(account).with_access_key(v);
                }
            }
            Ok(Arc::new(b.build().map_err(|e| invalid(url, e))?))
        }
        "http" | "https" => {
            let limits = Limits::from_conf(conf, None);
            let base = format!("{scheme}://{}", url.authority());
            let b = HttpBuilder::new()
                .with_url(base)
                .with_retry(limits.retry())
                .with_client_options(limits.client(scheme == "http"));
            Ok(Arc::new(b.build().map_err(|e| invalid(url, e))?))
        }
        other => Err(DataSourceError::InvalidOption(format!(
            "no object store for scheme '{other}' in {url} (supported: s3, s3a, gs, az, abfss, http, https, file)"
        ))),
    }
}

fn s3(url: &Url, conf: &BTreeMap<String, String>) -> Result<Arc<dyn ObjectStore>> {
    let bucket = url.host_str().unwrap_or_default().to_string();
    let keys = S3Keys {
        conf,
        bucket: bucket.clone(),
    };
    let limits = Limits::from_conf(conf, Some(&keys));
    let mut b = AmazonS3Builder::from_env().with_bucket_name(&bucket);
    let path_style = keys
        .get("path.style.access")
        .is_some_and(|v| parse_bool(&v));
    let mut allow_http = std::env::var("AWS_ALLOW_HTTP").is_ok_and(|v| parse_bool(&v));
    let endpoint = keys
        .get("endpoint")
        .filter(|e| !e.trim().is_empty())
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
    match endpoint {
        Some(e) => {
            let ssl = keys
                .get("connection.ssl.enabled")
                .map(|v| parse_bool(&v))
                .unwrap_or(true);
            let mut e = e.trim().trim_end_matches('/').to_string();
            if !e.contains("://") {
                e = format!("{}://{e}", if ssl { "https" } else { "http" });
            }
            allow_http |= e.starts_with("http://");
            if !path_style {
                // Virtual-hosted style against a custom endpoint: the bucket is a
                // subdomain of the endpoint host.
                if let Some((scheme, host)) = e.split_once("://") {
                    e = format!("{scheme}://{bucket}.{host}");
                }
            }
            b = b
                .with_endpoint(e)
                .with_virtual_hosted_style_request(!path_style);
        }
        None => {
            b = b.with_virtual_hosted_style_request(!path_style);
        }
    }
    let region = keys
        .get("endpoint.region")
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .or_else(|| super::profile::region())
        .unwrap_or_else(|| "us-east-1".to_string());
    b = b.with_region(region);
    let anonymous = keys
        .get("aws.credentials.provider")
        .is_some_and(|p| p.contains("AnonymousAWSCredentialsProvider"));
    if anonymous {
        b = b.with_skip_signature(true);
    } else if let (Some(ak), Some(sk)) = (keys.get("access.key"), keys.get("secret.key")) {
        b = b.with_access_key_id(ak).with_secret_access_key(sk);
        if let Some(t) = keys.get("session.token") {
            b = b.with_token(t);
        }
    } else if std::env::var("AWS_ACCESS_KEY_ID").is_err() {
        if let Some(c) = super::profile::credentials() {
            b = b
                .with_access_key_id(c.access_key_id)
                .with_secret_access_key(c.secret_access_key);
            if let Some(t) = c.session_token {
                b = b.with_token(t);
            }
        }
    }
    b = b
        .with_retry(limits.retry())
        .with_client_options(limits.client(allow_http));
    Ok(Arc::new(b.build().map_err(|e| invalid(url, e))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_per_bucket_keys() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("60s"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("200000"), Some(Duration::from_secs(200)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("x"), None);
        let mut conf = BTreeMap::new();
        conf.insert(
            "spark.hadoop.fs.s3a.retry.limit".to_string(),
            "3".to_string(),
        );
        conf.insert(
            "spark.hadoop.fs.s3a.bucket.special.retry.limit".to_string(),
            "1".to_string(),
        );
        conf.insert(
            "spark.ember.storage.retryTimeout".to_string(),
            "5s".to_string(),
        );
        let k = S3Keys {
            conf: &conf,
            bucket: "special".into(),
        };
        let l = Limits::from_conf(&conf, Some(&k));
        assert_eq!(l.max_retries, 1);
        assert_eq!(l.retry_timeout, Duration::from_secs(5));
        let k = S3Keys {
            conf: &conf,
            bucket: "other".into(),
        };
        assert_eq!(Limits::from_conf(&conf, Some(&k)).max_retries, 3);
        assert_eq!(Limits::from_conf(&conf, None).max_retries, 7);
    }

    #[test]
    fn builds_stores_for_every_scheme() {
        let mut conf = BTreeMap::new();
        conf.insert(
            "spark.hadoop.fs.s3a.endpoint".to_string(),
            "127.0.0.1:9000".to_string(),
        );
        conf.insert(
            "spark.hadoop.fs.s3a.connection.ssl.enabled".to_string(),
            "false".to_string(),
        );
        conf.insert(
            "spark.hadoop.fs.s3a.path.style.access".to_string(),
            "true".to_string(),
        );
        for u in ["s3://b/", "s3a://b/", "https://example.com/", "gs://b/"] {
            let url = Url::parse(u).unwrap();
            assert!(build_store(&url, &conf).is_ok(), "{u}");
        }
        let err = build_store(&Url::parse("hdfs://nn/").unwrap(), &conf)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("hdfs"), "{err}");
    }
}
