//! Transparent decompression by file extension, as Hadoop's codecs do for Spark:
//! `.gz` (gzip, multi-member), `.bz2`, `.zst`/`.zstd`; anything else is read as is.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::{DataSourceError, Result};

/// The codec implied by a file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// No compression.
    None,
    /// gzip (`.gz`).
    Gzip,
    /// bzip2 (`.bz2`).
    Bzip2,
    /// Zstandard (`.zst`, `.zstd`).
    Zstd,
}

impl Codec {
    /// Picks the codec from the file extension (case-insensitive).
    pub fn from_path(path: &Path) -> Codec {
        let name = path.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".gz") || name.ends_with(".gzip") {
            Codec::Gzip
        } else if name.ends_with(".bz2") {
            Codec::Bzip2
        } else if name.ends_with(".zst") || name.ends_with(".zstd") {
            Codec::Zstd
        } else {
            Codec::None
        }
    }

    /// Whether a reader may start at an arbitrary byte offset (only plain files).
    pub fn is_splittable(self) -> bool {
        self == Codec::None
    }
}

fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DataSourceError::PathNotFound(path.display().to_string())
        } else {
            DataSourceError::Io {
                path: path.to_path_buf(),
                source: e,
            }
        }
    })
}

/// Opens `path` for reading, decompressing by extension.
///
/// Errors: [`DataSourceError::PathNotFound`] when the file does not exist,
/// [`DataSourceError::Io`] for any other open failure. Decompression errors
/// (a truncated `.gz`) surface later as `std::io::Error` from `read`.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>> {
    let file = open_file(path)?;
    let buffered = BufReader::with_capacity(1 << 20, file);
    Ok(match Codec::from_path(path) {
        Codec::None => Box::new(buffered),
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(buffered)),
        Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(buffered)),
        Codec::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered).map_err(
            |e| DataSourceError::Io {
                path: path.to_path_buf(),
                source: e,
            },
        )?),
    })
}

/// Opens an uncompressed file positioned at byte `offset` (for split reading).
///
/// Errors: as [`open`].
pub fn open_at(path: &Path, offset: u64) -> Result<Box<dyn Read + Send>> {
    use std::io::{Seek, SeekFrom};
    let mut file = open_file(path)?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| DataSourceError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
}

/// Reads a whole (decompressed) file into memory.
///
/// Errors: as [`open`], plus [`DataSourceError::Io`] naming the file when the stream
/// is corrupt or truncated.
pub fn read_all(path: &Path) -> Result<Vec<u8>> {
    let mut reader = open(path)?;
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .map_err(|e| DataSourceError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_round_trip_and_truncation_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"a,b\n1,2\n").unwrap();
        let bytes = enc.finish().unwrap();
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(read_all(&p).unwrap(), b"a,b\n1,2\n");
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_all(&p).unwrap_err().to_string();
        assert!(err.contains("a.csv.gz"), "{err}");
    }

    #[test]
    fn bzip2_and_zstd_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"a,b\n1,2\n3,4\n";
        let bz = dir.path().join("x.csv.bz2");
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        enc.write_all(text).unwrap();
        std::fs::write(&bz, enc.finish().unwrap()).unwrap();
        assert_eq!(read_all(&bz).unwrap(), text);
        let zs = dir.path().join("x.csv.zst");
        std::fs::write(&zs, zstd::encode_all(&text[..], 3).unwrap()).unwrap();
        assert_eq!(read_all(&zs).unwrap(), text);
        assert_eq!(Codec::from_path(Path::new("a.CSV.GZ")), Codec::Gzip);
        assert!(!Codec::from_path(&zs).is_splittable());
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = read_all(Path::new("/nonexistent/x.csv"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("PATH_NOT_FOUND") && err.contains("/nonexistent/x.csv"),
            "{err}"
        );
    }
}
