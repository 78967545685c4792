//! Expands user paths into input files, as Spark's `InMemoryFileIndex` does: a file,
//! a directory (read recursively, skipping names starting with `_` or `.` such as
//! `_SUCCESS` and `.crc` files), a glob, or a list of these; `key=value/` directories
//! below a given directory become partition columns with inferred types.

use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::DataType;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStoreExt;

use crate::compression::remote_error;
use crate::error::{DataSourceError, Result};
use crate::storage::{self, Location, RemoteObject, RemoteUrl, StorageRegistry};

/// One input file and its partition values (in [`Listing::partition_columns`] order).
#[derive(Debug, Clone, PartialEq)]
pub struct InputFile {
    /// Local path or object.
    pub path: Location,
    /// Size in bytes (compressed size for compressed files).
    pub size: u64,
    /// Raw partition values; `None` for `__HIVE_DEFAULT_PARTITION__`.
    pub partition_values: Vec<Option<String>>,
}

/// The result of listing: files, and the discovered partition columns with types.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Files in path order.
    pub files: Vec<InputFile>,
    /// `(name, type)` of partition columns, outermost directory first.
    pub partition_columns: Vec<(String, DataType)>,
}

fn hidden(name: &str) -> bool {
    (name.starts_with('_') && !name.contains('=')) || name.starts_with('.')
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| DataSourceError::Io {
            path: dir.display().to_string(),
            source: e,
        })?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if hidden(&name) {
            continue;
        }
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn has_glob(p: &str) -> bool {
    p.contains(['*', '?', '[', '{'])
}

/// A found file: its location, size, and the directories between the path it was
/// listed under (the base of partition discovery) and the file.
struct Found {
    loc: Location,
    size: u64,
    /// Directories between the listed base and the file (partition discovery).
    rel_dirs: Vec<String>,
}

fn list_local(raw: &str, out: &mut Vec<Found>) -> Result<()> {
    let p = storage::local_path(raw);
    let p = p.to_string_lossy().into_owned();
    let push_dir = |base: &Path, out: &mut Vec<Found>| -> Result<()> {
        let mut files = Vec::new();
        walk(base, &mut files)?;
        for f in files {
            let rel_dirs = f
                .strip_prefix(base)
                .ok()
                .and_then(|r| r.parent())
                .map(|parent| {
                    parent
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            let size = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
            out.push(Found {
                loc: Location::Local(f),
                size,
                rel_dirs,
            });
        }
        Ok(())
    };
    if has_glob(&p) {
        let mut any = false;
        for pat in expand_braces(&p) {
            let entries = glob::glob(&pat)
                .map_err(|e| DataSourceError::InvalidOption(format!("bad glob '{raw}': {e}")))?;
            for entry in entries.flatten() {
                any = true;
                if entry.is_dir() {
                    push_dir(&entry, out)?;
                } else if !hidden(
                    &entry
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                ) {
                    let size = std::fs::metadata(&entry).map(|m| m.len()).unwrap_or(0);
                    out.push(Found {
                        loc: Location::Local(entry),
                        size,
                        rel_dirs: vec![],
                    });
                }
            }
        }
        if !any {
            return Err(DataSourceError::PathNotFound(raw.to_string()));
        }
    } else {
        let path = PathBuf::from(&p);
        if path.is_dir() {
            push_dir(&path, out)?;
        } else if path.is_file() {
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            out.push(Found {
                loc: Location::Local(path),
                size,
                rel_dirs: vec![],
            });
        } else {
            return Err(DataSourceError::PathNotFound(raw.to_string()));
        }
    }
    Ok(())
}

/// Lists a remote path: an object, a "directory" (every object under `key/`), or a
/// glob (Hadoop syntax; `*` stays within one path segment) matched against the keys
/// under the glob's literal prefix. A glob matching a directory takes all of it.
fn list_remote(storage: &StorageRegistry, raw: &str, out: &mut Vec<Found>) -> Result<()> {
    let u = RemoteUrl::parse(raw)?;
    let store = storage.store(&u.url)?;
    let handle = storage::current_handle(raw)?;
    let key = u.key.trim_end_matches('/').to_string();
    let remote = |k: &str, size: u64| {
        Location::Remote(RemoteObject {
            url: u.url_of(k),
            store: store.clone(),
            key: ObjectPath::from(k),
            size,
            handle: handle.clone(),
        })
    };
    let list_under = |prefix: &str| -> Result<Vec<(String, u64)>> {
        let p = (!prefix.is_empty()).then(|| ObjectPath::from(prefix));
        let s = store.clone();
        let mut v: Vec<(String, u64)> = handle
            .block_on(async move {
                s.list(p.as_ref())
                    .map_ok(|m| (m.location.to_string(), m.size))
                    .try_collect::<Vec<_>>()
                    .await
            })
            .map_err(|e| remote_error(raw, e))?;
        v.sort();
        Ok(v)
    };
    // Keys below `base` that are visible data files, with their directories.
    let visible = |base: &str, k: &str| -> Option<Vec<String>> {
        let rel = if base.is_empty() {
            k
        } else {
            k.strip_prefix(base)?.strip_prefix('/')?
        };
        let parts: Vec<&str> = rel.split('/').collect();
        if rel.is_empty() || rel.ends_with('/') || parts.iter().any(|p| hidden(p)) {
            return None;
        }
        Some(
            parts[..parts.len() - 1]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        )
    };
    if has_glob(&key) {
        if matches!(u.url.scheme(), "http" | "https") {
            return Err(DataSourceError::InvalidOption(format!(
                "globs need a listable store; http(s) paths name single files: {raw}"
            )));
        }
        let first = key.find(['*', '?', '[', '{']).unwrap_or(0);
        let prefix = key[..first].rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        let patterns: Vec<glob::Pattern> = expand_braces(&key)
            .iter()
            .map(|p| glob::Pattern::new(p))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| DataSourceError::InvalidOption(format!("bad glob '{raw}': {e}")))?;
        let mut any = false;
        for (k, size) in list_under(prefix)? {
            // The shortest ancestor (or the key itself) that matches the glob.
            let segs: Vec<&str> = k.split('/').collect();
            let hit = (1..=segs.len()).find_map(|n| {
                let cand = segs[..n].join("/");
                patterns
                    .iter()
                    .any(|p| p.matches_with(&cand, opts))
                    .then_some(cand)
            });
            let Some(base) = hit else { continue };
            if base == k {
                let name = segs.last().copied().unwrap_or_default();
                if !hidden(name) && !k.ends_with('/') {
                    any = true;
                    out.push(Found {
                        loc: remote(&k, size),
                        size,
                        rel_dirs: vec![],
                    });
                }
            } else if let Some(rel_dirs) = visible(&base, &k) {
                any = true;
                out.push(Found {
                    loc: remote(&k, size),
                    size,
                    rel_dirs,
                });
            } else {
                any = true;
            }
        }
        if !any {
            return Err(DataSourceError::PathNotFound(raw.to_string()));
        }
        return Ok(());
    }
    // A "directory" (objects under `key/`), else an object of that name. Listing
    // first: some S3-compatible servers answer HEAD on a directory with an error.
    // Plain HTTP(S) servers cannot list (WebDAV only): there a path is one file.
    let http = matches!(u.url.scheme(), "http" | "https");
    let entries = if http { Vec::new() } else { list_under(&key)? };
    let mut any = !entries.is_empty();
    for (k, size) in &entries {
        if let Some(rel_dirs) = visible(&key, k) {
            out.push(Found {
                loc: remote(k, *size),
                size: *size,
                rel_dirs,
            });
        }
    }
    if !any && !key.is_empty() {
        let s = store.clone();
        let path = ObjectPath::from(key.as_str());
        match handle.block_on(async move { s.head(&path).await }) {
            Ok(meta) => {
                any = true;
                out.push(Found {
                    loc: remote(&key, meta.size),
                    size: meta.size,
                    rel_dirs: vec![],
                });
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(remote_error(raw, e)),
        }
    }
    if !any {
        return Err(DataSourceError::PathNotFound(raw.to_string()));
    }
    Ok(())
}

/// Lists `paths` (each a file, directory or glob; local, `file://` or an object-store
/// URL resolved through `storage`).
///
/// Remote paths must be listed from a blocking thread of a tokio runtime (the
/// requests run on it; readers of the returned objects use it too).
///
/// Errors: [`DataSourceError::PathNotFound`] naming the first path that matches
/// nothing (as Spark's `PATH_NOT_FOUND`); storage errors naming the URL.
pub fn list(storage: &StorageRegistry, paths: &[String]) -> Result<Listing> {
    let mut found: Vec<Found> = Vec::new();
    for raw in paths {
        if storage::is_remote(raw) {
            list_remote(storage, raw, &mut found)?;
        } else {
            list_local(raw, &mut found)?;
        }
    }
    // Partition discovery relative to the base directory.
    let mut names: Vec<String> = Vec::new();
    let mut files = Vec::with_capacity(found.len());
    let mut raw_values: Vec<Vec<(String, Option<String>)>> = Vec::new();
    for f in found {
        let mut kv = Vec::new();
        for c in &f.rel_dirs {
            if let Some((k, v)) = c.split_once('=') {
                let v = urlencoding::decode(v)
                    .map(|s| s.into_owned())
                    .unwrap_or_else(|_| v.to_string());
                let v = if v == "__HIVE_DEFAULT_PARTITION__" {
                    None
                } else {
                    Some(v)
                };
                kv.push((k.to_string(), v));
            }
        }
        for (k, _) in &kv {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
        raw_values.push(kv);
        files.push(InputFile {
            path: f.loc,
            size: f.size,
            partition_values: Vec::new(),
        });
    }
    for (file, kv) in files.iter_mut().zip(&raw_values) {
        file.partition_values = names
            .iter()
            .map(|n| kv.iter().find(|(k, _)| k == n).and_then(|(_, v)| v.clone()))
            .collect();
    }
    let partition_columns = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let t = infer_partition_type(
                files
                    .iter()
                    .filter_map(|f| f.partition_values[i].as_deref()),
            );
            (n.clone(), t)
        })
        .collect();
    Ok(Listing {
        files,
        partition_columns,
    })
}

/// `{a,b}` alternatives in globs (Hadoop glob syntax), which the `glob` crate lacks.
fn expand_braces(p: &str) -> Vec<String> {
    if let (Some(open), Some(close)) = (p.find('{'), p.find('}')) {
        if open < close {
            let (pre, rest) = p.split_at(open);
            let inner = &rest[1..close - open];
            let post = &rest[close - open + 1..];
            return inner
                .split(',')
                .flat_map(|alt| expand_braces(&format!("{pre}{alt}{post}")))
                .collect();
        }
    }
    vec![p.to_string()]
}

/// Spark's partition value inference: int, bigint, double, date, else string.
pub fn infer_partition_type<'a>(values: impl Iterator<Item = &'a str>) -> DataType {
    let mut t = DataType::Null;
    for v in values {
        let vt = if crate::values::parse_int(v).is_some() {
            DataType::Int32
        } else if crate::values::parse_long(v).is_some() {
            DataType::Int64
        } else if crate::values::parse_double(v).is_some() && !v.ends_with(['d', 'D', 'f', 'F']) {
            DataType::Float64
        } else if crate::values::parse_date_strict(v).is_some() {
            DataType::Date32
        } else {
            DataType::Utf8
        };
        t = crate::csv::infer::compatible(&t, &vt).unwrap_or(DataType::Utf8);
    }
    if t == DataType::Null {
        DataType::Utf8
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_globs_and_partitions() {
        let d = tempfile::tempdir().unwrap();
        for (dir, f) in [
            ("month=1", "a.csv"),
            ("month=2", "b.csv"),
            ("month=__HIVE_DEFAULT_PARTITION__", "c.csv"),
        ] {
            std::fs::create_dir_all(d.path().join(dir)).unwrap();
            std::fs::write(d.path().join(dir).join(f), "x\n1\n").unwrap();
        }
        std::fs::write(d.path().join("_SUCCESS"), "").unwrap();
        let reg = StorageRegistry::default();
        let l = list(&reg, &[d.path().display().to_string()]).unwrap();
        assert_eq!(l.files.len(), 3);
        assert_eq!(
            l.partition_columns,
            vec![("month".to_string(), DataType::Int32)]
        );
        assert_eq!(l.files[0].partition_values, vec![Some("1".to_string())]);
        assert_eq!(l.files[2].partition_values, vec![None]);
        let g = list(&reg, &[format!("{}/month=*/*.csv", d.path().display())]).unwrap();
        assert_eq!(g.files.len(), 3);
        let err = list(&reg, &[format!("{}/nope", d.path().display())])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("PATH_NOT_FOUND") && err.contains("nope"),
            "{err}"
        );
    }
}
