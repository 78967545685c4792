//! The `ember_pyspark` package (`python/ember_pyspark` in the repository: RDDs and
//! SparkContext over Spark Connect), carried in the binary: ember's Python workers
//! import its task code, and `ember submit` puts it on the program's path.

use std::path::PathBuf;
use std::sync::OnceLock;

/// The package's files: path under the package root, contents.
pub const FILES: &[(&str, &str)] = &[
    (
        "ember_pyspark/__init__.py",
        include_str!("../../../python/ember_pyspark/__init__.py"),
    ),
    (
        "ember_pyspark/context.py",
        include_str!("../../../python/ember_pyspark/context.py"),
    ),
    (
        "ember_pyspark/convert.py",
        include_str!("../../../python/ember_pyspark/convert.py"),
    ),
    (
        "ember_pyspark/rdd.py",
        include_str!("../../../python/ember_pyspark/rdd.py"),
    ),
    (
        "ember_pyspark/tasks.py",
        include_str!("../../../python/ember_pyspark/tasks.py"),
    ),
];

/// A directory holding the package (to put on `PYTHONPATH`): written once per
/// version under the system's temporary directory, named by a hash of the files, so
/// runs of the same ember share it and none leaves a new one behind.
///
/// Errors: the directory cannot be created or written.
pub fn package_root() -> std::io::Result<PathBuf> {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    if let Some(r) = ROOT.get() {
        return Ok(r.clone());
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    FILES.hash(&mut h);
    let root = std::env::temp_dir().join(format!("ember-pyspark-{:016x}", h.finish()));
    for (name, text) in FILES {
        let path = root.join(name);
        if std::fs::read_to_string(&path).is_ok_and(|t| t == *text) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Written aside and renamed: a concurrent reader sees the whole file or none.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(ROOT.get_or_init(|| root).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_is_written_once_and_complete() {
        let root = package_root().unwrap();
        for (name, text) in FILES {
            assert_eq!(std::fs::read_to_string(root.join(name)).unwrap(), *text);
        }
        assert_eq!(package_root().unwrap(), root);
    }
}
