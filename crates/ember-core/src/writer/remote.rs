//! Writing a DataFrame to an object store (`s3://`, `gs://`, `az://`) with a commit
//! protocol like Hadoop's `FileOutputCommitter` v1, adapted to stores without rename:
//!
//! 1. every task's files are written to a local staging directory (as S3A's
//!    `fs.s3a.fast.upload.buffer=disk`), in Spark's layout;
//! 2. each file is uploaded (multipart above 10 MiB) under
//!    `<output>/_temporary/<job>/...`, invisible to readers (names starting with `_`);
//! 3. only when all uploads succeeded: the old `_SUCCESS` is deleted, for overwrite
//!    the old data objects are deleted, the new objects are copied into place
//!    server-side and their temporary copies deleted;
//! 4. `_SUCCESS` is written last.
//!
//! A failure in steps 1–2 leaves the previous output untouched (temporary objects are
//! removed); a crash in step 3 leaves an output without `_SUCCESS`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ember_datasource::storage::RemoteUrl;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::io::AsyncWriteExt;

use super::{DataFrameWriter, SaveMode};
use crate::error::{EmberError, ErrorKind, Result};

/// Uploads running at once.
const UPLOAD_CONCURRENCY: usize = 4;

fn store_err(url: &str, e: impl std::fmt::Display) -> EmberError {
    EmberError::new(
        ErrorKind::Io,
        "FAILED_WRITE_FILE",
        format!("Cannot write {url}: {e}"),
        None,
    )
}

fn join(prefix: &str, rel: &str) -> String {
    if prefix.is_empty() {
        rel.to_string()
    } else {
        format!("{prefix}/{rel}")
    }
}

fn local_files(dir: &Path, rel: &str, out: &mut Vec<(PathBuf, String)>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if e.file_type()?.is_dir() {
            local_files(&e.path(), &r, out)?;
        } else {
            out.push((e.path(), r));
        }
    }
    Ok(())
}

async fn upload(store: &Arc<dyn ObjectStore>, from: &Path, to: &ObjectPath) -> std::io::Result<()> {
    let mut file = tokio::fs::File::open(from).await?;
    let mut w = object_store::buffered::BufWriter::new(store.clone(), to.clone());
    tokio::io::copy(&mut file, &mut w).await?;
    w.shutdown().await
}

impl DataFrameWriter {
    /// `save(url)` for an object-store URL (see the module docs for the protocol).
    ///
    /// Errors: `PATH_ALREADY_EXISTS` in `errorifexists` mode; `FAILED_WRITE_FILE`
    /// naming the object on upload, copy or delete failures (after the store's
    /// retries); any query error.
    pub(super) async fn save_remote(self, path: &str) -> Result<()> {
        let storage = self.df.session().storage().clone();
        let u = RemoteUrl::parse(path)?;
        let store = storage.store(&u.url)?;
        let prefix = u.key.trim_end_matches('/').to_string();
        let base = u.url_of(&prefix);
        let list_prefix = (!prefix.is_empty()).then(|| ObjectPath::from(prefix.as_str()));
        let existing: Vec<ObjectPath> = store
            .list(list_prefix.as_ref())
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(|e| store_err(&base, e))?;
        let temporary = join(&prefix, "_temporary/");
        let existing: Vec<ObjectPath> = existing
            .into_iter()
            .filter(|p| !p.as_ref().starts_with(&temporary))
            .collect();
        let exists = !existing.is_empty();
        match (self.mode, exists) {
            (SaveMode::ErrorIfExists, true) => {
                return Err(EmberError::analysis(
                    "PATH_ALREADY_EXISTS",
                    format!("Path {base} already exists. Set mode as \"overwrite\" to overwrite the existing path."),
                ))
            }
            (SaveMode::Ignore, true) => return Ok(()),
            _ => {}
        }
        let job = uuid::Uuid::new_v4().to_string();
        let staging = std::env::temp_dir().join(format!("ember-upload-{job}"));
        std::fs::create_dir_all(&staging)
            .map_err(|e| store_err(&staging.display().to_string(), e))?;
        let result = self
            .commit(&store, &u, &prefix, &staging, &job, &existing)
            .await;
        let _ = std::fs::remove_dir_all(&staging);
        if result.is_err() {
            // Remove what this job uploaded; the previous output is untouched.
            let tmp = ObjectPath::from(join(&prefix, &format!("_temporary/{job}")));
            let leftovers: Vec<ObjectPath> = store
                .list(Some(&tmp))
                .map_ok(|m| m.location)
                .try_collect()
                .await
                .unwrap_or_default();
            for p in leftovers {
                let _ = store.delete(&p).await;
            }
        }
        result
    }

    async fn commit(
        &self,
        store: &Arc<dyn ObjectStore>,
        u: &RemoteUrl,
        prefix: &str,
        staging: &Path,
        job: &str,
        existing: &[ObjectPath],
    ) -> Result<()> {
        self.write_all(staging, job).await?;
        let mut files = Vec::new();
        local_files(staging, "", &mut files)
            .map_err(|e| store_err(&staging.display().to_string(), e))?;
        let tmp_key = |rel: &str| join(prefix, &format!("_temporary/{job}/{rel}"));
        // Owned (path, key) pairs: a closure over borrowed items would make this
        // future not provably `Send` (rustc's higher-ranked lifetime limitation), and
        // front ends (the Spark Connect server) run writes on multi-threaded tasks.
        let uploads: Vec<(std::path::PathBuf, ObjectPath, String)> = files
            .iter()
            .map(|(local, rel)| {
                let to = ObjectPath::from(tmp_key(rel));
                let url = u.url_of(to.as_ref());
                (local.clone(), to, url)
            })
            .collect();
        let store_ref = store.clone();
        futures::stream::iter(uploads.into_iter().map(move |(local, to, url)| {
            let store = store_ref.clone();
            async move {
                upload(&store, &local, &to)
                    .await
                    .map_err(|e| store_err(&url, e))
            }
        }))
        .buffer_unordered(UPLOAD_CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
        // Commit: from here the output has no _SUCCESS until the end.
        let success = ObjectPath::from(join(prefix, "_SUCCESS"));
        if existing.contains(&success) {
            store
                .delete(&success)
                .await
                .map_err(|e| store_err(&u.url_of(success.as_ref()), e))?;
        }
        if self.mode == SaveMode::Overwrite {
            for p in existing.iter().filter(|p| **p != success) {
                match store.delete(p).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(store_err(&u.url_of(p.as_ref()), e)),
                }
            }
        }
        for (_, rel) in &files {
            let from = ObjectPath::from(tmp_key(rel));
            let to = ObjectPath::from(join(prefix, rel));
            store
                .copy(&from, &to)
                .await
                .map_err(|e| store_err(&u.url_of(to.as_ref()), e))?;
            store
                .delete(&from)
                .await
                .map_err(|e| store_err(&u.url_of(from.as_ref()), e))?;
        }
        store
            .put(&success, PutPayload::new())
            .await
            .map_err(|e| store_err(&u.url_of(success.as_ref()), e))?;
        Ok(())
    }
}
