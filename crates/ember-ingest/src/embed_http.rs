//! The embedding stage's service source: vectors from an HTTP embedding service.
//!
//! Contract (also in the README):
//! - Request: `POST <url>` with `Content-Type: application/json` and body
//!   `{"ids": [17, 18, ...]}` (the record keys) or, when the job sets `url_template`,
//!   `{"urls": ["https://.../photos/17/medium.jpg", ...]}`; at most `batch_size` items;
//!   `Accept: application/vnd.apache.arrow.stream, application/json`.
//! - Response `200`: either JSON `{"embeddings": [[0.1, ...], null, ...]}` or an Arrow IPC
//!   stream whose first column is a list of floats — one entry per item, in request
//!   order; `null` means the service has no vector for the item (`MISSING_EMBEDDING`).
//! - `429`, `5xx`, timeouts and connection errors are retried (`max_retries` times,
//!   `retry_wait` doubling, `Retry-After` seconds honoured); then the task fails and is
//!   retried as a task. Any other status dead-letters the batch's records as
//!   `EMBEDDING_FAILED` with the status and body.
//! - At most `concurrency` requests are in flight over the whole job, at most
//!   `rate_limit` requests start per second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::Array;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use crate::embed::{VectorRow, Vectors};
use crate::error::{IngestError, Result};

/// The answer for one item of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Embedded {
    /// A vector of the job's dimension.
    Vector(Vec<f32>),
    /// The service has no vector for the item.
    Missing,
    /// A vector of another length.
    WrongLength(usize),
    /// The service rejected the request (status and body).
    Failed(String),
}

/// Settings of the client (from the job's `[embedding]` table).
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Endpoint.
    pub url: String,
    /// Items per request.
    pub batch_size: usize,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries of one request on 429/5xx/timeout/connection errors.
    pub max_retries: u32,
    /// First wait between retries (doubles, at most 30 s).
    pub retry_wait: Duration,
    /// Requests started per second at most.
    pub rate_limit: Option<f64>,
    /// Expected vector length.
    pub dim: usize,
}

/// A client of an embedding service.
pub struct HttpEmbedder {
    client: reqwest::Client,
    opts: HttpOptions,
    permits: Arc<Semaphore>,
    next_start: Mutex<Instant>,
    retries: AtomicU64,
}

enum Attempt {
    Done(Vec<Embedded>),
    Retry(String, Option<Duration>),
}

impl HttpEmbedder {
    /// A client for `opts`.
    ///
    /// Errors: [`IngestError::Config`] when the HTTP client cannot be built.
    pub fn new(opts: HttpOptions) -> Result<HttpEmbedder> {
        let client = reqwest::Client::builder()
            .timeout(opts.timeout)
            .build()
            .map_err(|e| IngestError::Config(format!("embedding.url: {e}")))?;
        Ok(HttpEmbedder {
            client,
            permits: Arc::new(Semaphore::new(opts.concurrency.max(1))),
            next_start: Mutex::new(Instant::now()),
            retries: AtomicU64::new(0),
            opts,
        })
    }

    /// The options.
    pub fn options(&self) -> &HttpOptions {
        &self.opts
    }

    /// Request retries made so far.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    async fn pace(&self) {
        let Some(rate) = self.opts.rate_limit.filter(|r| *r > 0.0) else {
            return;
        };
        let slot = {
            let mut next = self.next_start.lock().await;
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + Duration::from_secs_f64(1.0 / rate);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// Vectors for `items` (keys as JSON numbers, or URLs as strings): one
    /// [`Embedded`] per item, in order.
    ///
    /// Errors: [`IngestError::Service`] (retryable as a task) after `max_retries`
    /// retries; [`IngestError::Embeddings`] when a 200 response breaks the contract
    /// (wrong count, unreadable body).
    pub async fn embed(&self, items: &[serde_json::Value], as_urls: bool) -> Result<Vec<Embedded>> {
        let body = if as_urls {
            serde_json::json!({ "urls": items })
        } else {
            serde_json::json!({ "ids": items })
        };
        let body = serde_json::to_vec(&body).map_err(|e| IngestError::Config(e.to_string()))?;
        let mut retry = 0u32;
        loop {
            let outcome = {
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .map_err(|e| IngestError::Service {
                        url: self.opts.url.clone(),
                        message: e.to_string(),
                    })?;
                self.pace().await;
                self.once(&body, items.len()).await?
            };
            match outcome {
                Attempt::Done(v) => return Ok(v),
                Attempt::Retry(message, _) if retry >= self.opts.max_retries => {
                    return Err(IngestError::Service {
                        url: self.opts.url.clone(),
                        message: format!("{message} (after {retry} retries)"),
                    })
                }
                Attempt::Retry(message, after) => {
                    let wait = after.unwrap_or_else(|| {
                        (self.opts.retry_wait * 2u32.saturating_pow(retry))
                            .min(Duration::from_secs(30))
                    });
                    tracing::warn!(url = %self.opts.url, retry = retry + 1, "embedding request failed: {message}; retrying in {wait:?}");
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
            }
        }
    }

    async fn once(&self, body: &[u8], n: usize) -> Result<Attempt> {
        let resp = self
            .client
            .post(&self.opts.url)
            .header("Content-Type", "application/json")
            .header(
                "Accept",
                "application/vnd.apache.arrow.stream, application/json",
            )
            .body(body.to_vec())
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                let kind = if e.is_timeout() {
                    "timed out"
                } else {
                    "failed"
                };
                return Ok(Attempt::Retry(format!("request {kind}: {e}"), None));
            }
        };
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let arrow = resp
            .headers()
            .get("Content-Type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/vnd.apache.arrow"));
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Ok(Attempt::Retry(
                    format!("reading the response failed: {e}"),
                    None,
                ))
            }
        };
        if status.as_u16() == 429 || status.is_server_error() {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
            return Ok(Attempt::Retry(
                format!("HTTP {status}: {text}"),
                retry_after,
            ));
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(500)]).into_owned();
            return Ok(Attempt::Done(vec![
                Embedded::Failed(format!(
                    "HTTP {status}: {text}"
                ));
                n
            ]));
        }
        let out = if arrow {
            self.parse_arrow(&bytes)?
        } else {
            self.parse_json(&bytes)?
        };
        if out.len() != n {
            return Err(IngestError::Embeddings {
                path: self.opts.url.clone(),
                message: format!("the service answered {} vectors for {n} items", out.len()),
            });
        }
        Ok(Attempt::Done(out))
    }

    fn parse_json(&self, bytes: &[u8]) -> Result<Vec<Embedded>> {
        let bad = |m: String| IngestError::Embeddings {
            path: self.opts.url.clone(),
            message: m,
        };
        let v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("response is not JSON: {e}")))?;
        let list = v
            .get("embeddings")
            .and_then(|e| e.as_array())
            .ok_or_else(|| bad("response has no \"embeddings\" array".into()))?;
        list.iter()
            .map(|e| match e {
                serde_json::Value::Null => Ok(Embedded::Missing),
                serde_json::Value::Array(xs) => {
                    let v: Option<Vec<f32>> =
                        xs.iter().map(|x| x.as_f64().map(|f| f as f32)).collect();
                    let v = v.ok_or_else(|| bad("an embedding holds a non-number".into()))?;
                    Ok(if v.len() == self.opts.dim {
                        Embedded::Vector(v)
                    } else {
                        Embedded::WrongLength(v.len())
                    })
                }
                _ => Err(bad("an embedding is neither a list nor null".into())),
            })
            .collect()
    }

    fn parse_arrow(&self, bytes: &[u8]) -> Result<Vec<Embedded>> {
        let reader = arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)?;
        let mut out = Vec::new();
        for batch in reader {
            let batch = batch?;
            let col = batch.column(0);
            let v = Vectors::new(col)?;
            for i in 0..col.len() {
                out.push(match v.row(i, self.opts.dim) {
                    VectorRow::Ok(s) => Embedded::Vector(s.to_vec()),
                    VectorRow::Null => Embedded::Missing,
                    VectorRow::WrongLength(n) => Embedded::WrongLength(n),
                });
            }
        }
        Ok(out)
    }
}

/// Fills `{column}` placeholders of `template` from `values(column)`.
pub fn fill_template(template: &str, values: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                let name = &rest[open + 1..open + close];
                match values(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[open..=open + close]),
                }
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_known_columns() {
        let v = |c: &str| match c {
            "photo_id" => Some("17".to_string()),
            "extension" => Some("jpg".to_string()),
            _ => None,
        };
        assert_eq!(
            fill_template("https://x/photos/{photo_id}/medium.{extension}", &v),
            "https://x/photos/17/medium.jpg"
        );
        assert_eq!(fill_template("a{nope}b{", &v), "a{nope}b{");
    }
}
