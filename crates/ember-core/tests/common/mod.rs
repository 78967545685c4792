//! Helpers shared by the integration tests.

#![allow(dead_code)]

pub mod golden;
pub mod s3;

use std::path::{Path, PathBuf};

/// `shared/<sub>` beside the project root or any of its ancestors (the project lives
/// at `<work>/main` with `<work>/shared` beside it), else `/work/shared/<sub>`.
/// `marker` is a file that must exist in the folder.
pub fn shared_dir(sub: &str, marker: &str) -> PathBuf {
    let root = Path::new(
        &std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string()),
    )
    .join("../..");
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    for dir in root.ancestors() {
        let d = dir.join("shared").join(sub);
        if d.join(marker).exists() {
            return d;
        }
    }
    PathBuf::from("/work/shared").join(sub)
}

/// Decompresses a gzip file's bytes.
pub fn read_gz(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gunzip");
    out
}
