//! An [`ObjectStore`] wrapper counting what reads fetch: GET requests and payload
//! bytes. Every remote store of a [`super::StorageRegistry`] is wrapped, so a job can
//! say how many bytes it pulled from the lake (and a benchmark can show that Parquet
//! pruning keeps that well under the file sizes). Ranged and multi-range reads
//! (`get_range`, `get_ranges`) all go through `get_opts`, so they are counted there.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};

/// Counters of read traffic (shared by all stores of a registry).
#[derive(Debug, Default)]
pub struct ReadMetrics {
    /// GET requests made (ranged or whole).
    pub requests: AtomicU64,
    /// Payload bytes received.
    pub bytes: AtomicU64,
}

impl ReadMetrics {
    /// `(requests, bytes)` so far.
    pub fn snapshot(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// A store whose reads are counted in a [`ReadMetrics`].
#[derive(Debug)]
pub struct MeteredStore {
    inner: Arc<dyn ObjectStore>,
    metrics: Arc<ReadMetrics>,
}

impl MeteredStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>, metrics: Arc<ReadMetrics>) -> MeteredStore {
        MeteredStore { inner, metrics }
    }
}

impl std::fmt::Display for MeteredStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Metered({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for MeteredStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let head = options.head;
        let mut r = self.inner.get_opts(location, options).await?;
        if !head {
            self.metrics.requests.fetch_add(1, Ordering::Relaxed);
        }
        let metrics = self.metrics.clone();
        r.payload = match r.payload {
            GetResultPayload::Stream(s) => GetResultPayload::Stream(
                s.inspect(move |chunk| {
                    if let Ok(b) = chunk {
                        metrics.bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
                    }
                })
                .boxed(),
            ),
            other => other,
        };
        Ok(r)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
