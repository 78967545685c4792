//! Expands user paths into input files, as Spark's `InMemoryFileIndex` does: a file,
//! a directory (read recursively, skipping names starting with `_` or `.` such as
//! `_SUCCESS` and `.crc` files), a glob, or a list of these; `key=value/` directories
//! below a given directory become partition columns with inferred types.

use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::DataType;

use crate::error::{DataSourceError, Result};

/// One input file and its partition values (in [`Listing::partition_columns`] order).
#[derive(Debug, Clone, PartialEq)]
pub struct InputFile {
    /// Local path.
    pub path: PathBuf,
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

fn strip_scheme(p: &str) -> &str {
    p.strip_prefix("file://").unwrap_or(p)
}

fn hidden(name: &str) -> bool {
    (name.starts_with('_') && !name.contains('=')) || name.starts_with('.')
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| DataSourceError::Io {
            path: dir.to_path_buf(),
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

/// Lists `paths` (each a file, directory or glob; `file://` accepted).
///
/// Errors: [`DataSourceError::PathNotFound`] naming the first path that matches
/// nothing (as Spark's `PATH_NOT_FOUND`).
pub fn list(paths: &[String]) -> Result<Listing> {
    let mut found: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    for raw in paths {
        let p = strip_scheme(raw);
        if p.contains(['*', '?', '[', '{']) {
            let mut any = false;
            let pattern = expand_braces(p);
            for pat in pattern {
                let entries = glob::glob(&pat).map_err(|e| {
                    DataSourceError::InvalidOption(format!("bad glob '{raw}': {e}"))
                })?;
                for entry in entries.flatten() {
                    any = true;
                    if entry.is_dir() {
                        let mut files = Vec::new();
                        walk(&entry, &mut files)?;
                        found.extend(files.into_iter().map(|f| (f, Some(entry.clone()))));
                    } else if !hidden(
                        &entry
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    ) {
                        found.push((entry, None));
                    }
                }
            }
            if !any {
                return Err(DataSourceError::PathNotFound(raw.clone()));
            }
        } else {
            let path = PathBuf::from(p);
            if path.is_dir() {
                let mut files = Vec::new();
                walk(&path, &mut files)?;
                found.extend(files.into_iter().map(|f| (f, Some(path.clone()))));
            } else if path.is_file() {
                found.push((path, None));
            } else {
                return Err(DataSourceError::PathNotFound(raw.clone()));
            }
        }
    }
    // Partition discovery relative to the base directory.
    let mut names: Vec<String> = Vec::new();
    let mut files = Vec::with_capacity(found.len());
    let mut raw_values: Vec<Vec<(String, Option<String>)>> = Vec::new();
    for (f, base) in &found {
        let mut kv = Vec::new();
        if let Some(base) = base {
            if let Ok(rel) = f.strip_prefix(base) {
                if let Some(parent) = rel.parent() {
                    for comp in parent.components() {
                        let c = comp.as_os_str().to_string_lossy();
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
                }
            }
        }
        for (k, _) in &kv {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
        raw_values.push(kv);
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        files.push(InputFile {
            path: f.clone(),
            size,
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
        let l = list(&[d.path().display().to_string()]).unwrap();
        assert_eq!(l.files.len(), 3);
        assert_eq!(
            l.partition_columns,
            vec![("month".to_string(), DataType::Int32)]
        );
        assert_eq!(l.files[0].partition_values, vec![Some("1".to_string())]);
        assert_eq!(l.files[2].partition_values, vec![None]);
        let g = list(&[format!("{}/month=*/*.csv", d.path().display())]).unwrap();
        assert_eq!(g.files.len(), 3);
        let err = list(&[format!("{}/nope", d.path().display())])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("PATH_NOT_FOUND") && err.contains("nope"),
            "{err}"
        );
    }
}
