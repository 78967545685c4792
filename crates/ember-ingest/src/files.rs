//! File helpers shared by the work directory's tables: listing a table's parts, and
//! writing a Parquet file whole (to a hidden temporary name, synced, then renamed, so
//! a crash never leaves half a file under the real name).

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::error::{IngestError, Result};

/// Files of `dir` named `<prefix>...<suffix>`, sorted by name; an absent directory has
/// none.
///
/// Errors: [`IngestError::Io`] when `dir` cannot be read.
pub(crate) fn list_parts(dir: &Path, prefix: &str, suffix: &str) -> Result<Vec<PathBuf>> {
    let mut parts: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(IngestError::io(dir, e)),
    };
    parts.sort();
    Ok(parts)
}

/// Writes `batch` to `path` (Snappy Parquet) atomically: `.<name>.tmp` beside it,
/// synced, renamed.
///
/// Errors: [`IngestError::Io`] / [`IngestError::Parquet`] naming the file.
pub(crate) fn write_parquet_atomic(path: &Path, batch: &RecordBatch) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| IngestError::io(dir, e))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("part");
    let tmp = dir.join(format!(".{name}.tmp"));
    let perr = |e: parquet::errors::ParquetError| IngestError::Parquet {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let file = File::create(&tmp).map_err(|e| IngestError::io(&tmp, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(perr)?;
    w.write(batch).map_err(perr)?;
    let file = w.into_inner().map_err(perr)?;
    file.sync_all().map_err(|e| IngestError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| IngestError::io(path, e))
}
