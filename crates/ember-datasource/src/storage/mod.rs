//! Object storage: `s3://` (also `s3a://`, `s3n://`), `gs://`, `az://`/`abfs(s)://`,
//! `http(s)://` (read) and `file://` paths, all through the `object_store` crate.
//!
//! A [`StorageRegistry`] turns a URL into an [`ObjectStore`] configured from the
//! session's Spark/Hadoop keys (`spark.hadoop.fs.s3a.*`, see [`options`]), caches one
//! store per scheme and bucket, and is also DataFusion's
//! [`ObjectStoreRegistry`](datafusion::execution::object_store::ObjectStoreRegistry),
//! so Parquet scans read the same stores with ranged requests.
//!
//! Paths without a scheme (or with `file://`) stay local and are read with `std::fs`
//! ([`Location::Local`]); everything else is a [`Location::Remote`] object read in
//! ranged chunks ([`reader`]).

pub mod metered;
pub mod options;
mod profile;
pub(crate) mod reader;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use datafusion::error::DataFusionError;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;
use url::Url;

use crate::error::{DataSourceError, Result};

/// Where a file lives: on local disk or in an object store.
#[derive(Debug, Clone)]
pub enum Location {
    /// A local file, read with `std::fs`.
    Local(PathBuf),
    /// An object in an object store.
    Remote(RemoteObject),
}

/// One object in an object store, with the store that serves it.
#[derive(Clone)]
pub struct RemoteObject {
    /// The object's URL as the user would write it (`s3://bucket/key`).
    pub url: String,
    /// The store serving the object.
    pub store: Arc<dyn ObjectStore>,
    /// The object's key within the store.
    pub key: ObjectPath,
    /// Size in bytes, as listed.
    pub size: u64,
    /// The runtime that performs the object's requests (readers are synchronous).
    pub handle: tokio::runtime::Handle,
}

impl std::fmt::Debug for RemoteObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RemoteObject({}, {} bytes)", self.url, self.size)
    }
}

impl PartialEq for Location {
    fn eq(&self, other: &Self) -> bool {
        self.display() == other.display()
    }
}

impl Location {
    /// The path or URL as the user writes it; used in every error and report.
    pub fn display(&self) -> String {
        match self {
            Location::Local(p) => p.display().to_string(),
            Location::Remote(r) => r.url.clone(),
        }
    }

    /// The last path component (file name), used to pick a codec.
    pub fn file_name(&self) -> String {
        let s = self.display();
        s.rsplit('/').next().unwrap_or_default().to_string()
    }
}

/// Whether `raw` names an object store (a URL whose scheme is not `file`).
pub fn is_remote(raw: &str) -> bool {
    match raw.split_once("://") {
        Some((scheme, _)) => {
            !scheme.eq_ignore_ascii_case("file")
                && !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
        }
        None => false,
    }
}

/// The local path of a non-remote `raw` path (`file://` removed).
pub fn local_path(raw: &str) -> PathBuf {
    PathBuf::from(raw.strip_prefix("file://").unwrap_or(raw))
}

/// A parsed remote URL: the store key (`scheme://bucket`) and the object key.
#[derive(Debug, Clone)]
pub struct RemoteUrl {
    /// The full URL (`s3://bucket/dir/file.csv`).
    pub url: Url,
    /// The key inside the bucket, without leading `/` (may contain glob characters).
    pub key: String,
}

impl RemoteUrl {
    /// Parses `raw` (`s3://bucket/key`). Glob characters in the key are kept verbatim.
    ///
    /// Errors: [`DataSourceError::InvalidOption`] when `raw` is not a URL.
    pub fn parse(raw: &str) -> Result<RemoteUrl> {
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| DataSourceError::InvalidOption(format!("not a URL: '{raw}'")))?;
        let (authority, key) = rest.split_once('/').unwrap_or((rest, ""));
        let base = format!("{}://{authority}/", scheme.to_ascii_lowercase());
        let url = Url::parse(&base)
            .map_err(|e| DataSourceError::InvalidOption(format!("bad URL '{raw}': {e}")))?;
        Ok(RemoteUrl {
            url,
            key: key.trim_start_matches('/').to_string(),
        })
    }

    /// `scheme://authority` (no trailing slash).
    pub fn base(&self) -> String {
        self.url.as_str().trim_end_matches('/').to_string()
    }

    /// The user-facing URL of a key in the same bucket.
    pub fn url_of(&self, key: &str) -> String {
        format!("{}/{}", self.base(), key)
    }
}

/// Resolves URLs to configured object stores; one per session.
///
/// Configuration is the session's `spark.hadoop.*` and `spark.ember.storage.*` keys
/// (see [`options`]); changing one with [`StorageRegistry::set_conf`] rebuilds the
/// stores on next use.
#[derive(Debug)]
pub struct StorageRegistry {
    conf: RwLock<BTreeMap<String, String>>,
    stores: RwLock<HashMap<String, Arc<dyn ObjectStore>>>,
    local: Arc<LocalFileSystem>,
    metrics: Arc<metered::ReadMetrics>,
}

impl Default for StorageRegistry {
    fn default() -> Self {
        StorageRegistry::new(BTreeMap::new())
    }
}

impl StorageRegistry {
    /// A registry over the given Spark configuration (other keys are ignored).
    pub fn new(conf: BTreeMap<String, String>) -> StorageRegistry {
        StorageRegistry {
            conf: RwLock::new(
                conf.into_iter()
                    .filter(|(k, _)| options::is_storage_key(k))
                    .collect(),
            ),
            stores: RwLock::new(HashMap::new()),
            local: Arc::new(LocalFileSystem::new()),
            metrics: Arc::new(metered::ReadMetrics::default()),
        }
    }

    /// `(GET requests, payload bytes)` fetched from remote stores by this registry so
    /// far (local files are not counted).
    pub fn read_metrics(&self) -> (u64, u64) {
        self.metrics.snapshot()
    }

    /// Sets one configuration key (a no-op for keys that are not storage keys).
    pub fn set_conf(&self, key: &str, value: Option<&str>) {
        if !options::is_storage_key(key) {
            return;
        }
        if let Ok(mut c) = self.conf.write() {
            match value {
                Some(v) => c.insert(key.to_string(), v.to_string()),
                None => c.remove(key),
            };
        }
        if let Ok(mut s) = self.stores.write() {
            s.clear();
        }
    }

    /// The store serving `url` (built on first use from the configuration).
    ///
    /// Errors: [`DataSourceError::InvalidOption`] for an unsupported scheme or a
    /// configuration the store builder rejects (message names the URL).
    pub fn store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        if url.scheme() == "file" {
            return Ok(self.local.clone());
        }
        let key = format!("{}://{}", url.scheme(), url.authority());
        if let Some(s) = self.stores.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(s);
        }
        let conf = self.conf.read().map(|c| c.clone()).unwrap_or_default();
        let store: Arc<dyn ObjectStore> = Arc::new(metered::MeteredStore::new(
            options::build_store(url, &conf)?,
            self.metrics.clone(),
        ));
        if let Ok(mut m) = self.stores.write() {
            m.insert(key, store.clone());
        }
        Ok(store)
    }

    /// Overrides the store for `scheme://authority` (tests, custom stores).
    pub fn register(&self, url: &Url, store: Arc<dyn ObjectStore>) -> Option<Arc<dyn ObjectStore>> {
        let key = format!("{}://{}", url.scheme(), url.authority());
        let store: Arc<dyn ObjectStore> =
            Arc::new(metered::MeteredStore::new(store, self.metrics.clone()));
        self.stores
            .write()
            .ok()
            .and_then(|mut m| m.insert(key, store))
    }
}

impl datafusion::execution::object_store::ObjectStoreRegistry for StorageRegistry {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.register(url, store)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        self.store(url)
            .map_err(|e| DataFusionError::External(Box::new(e)))
    }
}

/// The runtime handle of the calling (blocking) thread.
///
/// Errors: [`DataSourceError::InvalidOption`] when there is no tokio runtime, which
/// remote paths need.
pub(crate) fn current_handle(url: &str) -> Result<tokio::runtime::Handle> {
    tokio::runtime::Handle::try_current().map_err(|_| {
        DataSourceError::InvalidOption(format!(
            "reading {url} needs a tokio runtime (call from a SparkSession)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_detection_and_parsing() {
        assert!(is_remote("s3://b/k"));
        assert!(is_remote("s3a://b/k"));
        assert!(is_remote("https://host/x.csv"));
        assert!(!is_remote("file:///tmp/x"));
        assert!(!is_remote("/tmp/x"));
        assert!(!is_remote("relative/dir"));
        let u = RemoteUrl::parse("s3a://bucket/dir/month=*/x.csv").unwrap();
        assert_eq!(u.url.as_str(), "s3a://bucket/");
        assert_eq!(u.key, "dir/month=*/x.csv");
        assert_eq!(u.url_of("a/b"), "s3a://bucket/a/b");
        assert_eq!(local_path("file:///tmp/a"), PathBuf::from("/tmp/a"));
    }
}
