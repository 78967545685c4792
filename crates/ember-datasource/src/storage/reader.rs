//! Synchronous reading of a remote object in ranged chunks, one chunk prefetched.
//!
//! Each chunk is its own GET with a `Range` header, so a slow or dropped request is
//! retried alone (object_store's retry policy) and no single request outlives the
//! request timeout however large the object is.

use std::io::Read;

use bytes::Bytes;
use object_store::{Attribute, GetOptions, GetRange};

use super::RemoteObject;

/// Bytes fetched per request (8 MiB).
pub const CHUNK_BYTES: u64 = 8 << 20;

type Fetch = tokio::task::JoinHandle<object_store::Result<Bytes>>;

/// A [`Read`] over `[pos, size)` of a remote object.
pub struct RangeReader {
    obj: RemoteObject,
    pos: u64,
    buf: Bytes,
    next: Option<Fetch>,
}

/// GET `[start, end)` of `obj`: the bytes and the object's `Content-Encoding`.
async fn get_chunk(
    obj: RemoteObject,
    start: u64,
    end: u64,
) -> object_store::Result<(Bytes, Option<String>)> {
    let opts = GetOptions {
        range: Some(GetRange::Bounded(start..end)),
        ..Default::default()
    };
    let r = obj.store.get_opts(&obj.key, opts).await?;
    let enc = r
        .attributes
        .get(&Attribute::ContentEncoding)
        .map(|v| v.to_string());
    Ok((r.bytes().await?, enc))
}

fn fetch(obj: &RemoteObject, start: u64) -> Fetch {
    let end = (start + CHUNK_BYTES).min(obj.size);
    let chunk = get_chunk(obj.clone(), start, end);
    obj.handle.spawn(async move { chunk.await.map(|(b, _)| b) })
}

fn io_error(obj: &RemoteObject, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("{}: {e}", obj.url))
}

impl RangeReader {
    /// A reader from byte `pos`, with `first` already fetched from there.
    pub(crate) fn new(obj: RemoteObject, pos: u64, first: Bytes) -> RangeReader {
        let after = pos + first.len() as u64;
        let next = (after < obj.size).then(|| fetch(&obj, after));
        RangeReader {
            pos: after,
            obj,
            buf: first,
            next,
        }
    }
}

impl Read for RangeReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.buf.is_empty() {
            let Some(pending) = self.next.take() else {
                return Ok(0);
            };
            let chunk = self
                .obj
                .handle
                .block_on(pending)
                .map_err(|e| io_error(&self.obj, e))?
                .map_err(|e| io_error(&self.obj, e))?;
            if chunk.is_empty() {
                return Err(io_error(
                    &self.obj,
                    format!("object ended at byte {} of {}", self.pos, self.obj.size),
                ));
            }
            self.pos += chunk.len() as u64;
            if self.pos < self.obj.size {
                self.next = Some(fetch(&self.obj, self.pos));
            }
            self.buf = chunk;
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        let _ = self.buf.split_to(n);
        Ok(n)
    }
}

impl Drop for RangeReader {
    fn drop(&mut self) {
        if let Some(f) = self.next.take() {
            f.abort();
        }
    }
}

/// The first chunk from `offset` and the object's `Content-Encoding`, if any.
///
/// Errors: object_store's error (not found, access denied, retries exhausted).
pub(crate) fn first_chunk(
    obj: &RemoteObject,
    offset: u64,
) -> object_store::Result<(Bytes, Option<String>)> {
    if obj.size == 0 || offset >= obj.size {
        return Ok((Bytes::new(), None));
    }
    let end = (offset + CHUNK_BYTES).min(obj.size);
    obj.handle.block_on(get_chunk(obj.clone(), offset, end))
}
