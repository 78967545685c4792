//! Transparent decompression by file extension, as Hadoop's codecs do for Spark:
//! `.gz` (gzip, multi-member), `.bz2`, `.zst`/`.zstd`; anything else is read as is.
//!
//! Remote objects are decompressed exactly once: an object stored with
//! `Content-Encoding: gzip` is gunzipped whether or not its key ends in `.gz`, and a
//! `.gz` object whose bytes arrive already decoded (no gzip magic) is read as is.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::{DataSourceError, Result};
use crate::storage::reader::{first_chunk, RangeReader};
use crate::storage::{Location, RemoteObject};

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
        Codec::from_name(&path.to_string_lossy())
    }

    /// Picks the codec from a file name or URL (case-insensitive extension).
    pub fn from_name(name: &str) -> Codec {
        let name = name.to_ascii_lowercase();
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
                path: path.display().to_string(),
                source: e,
            }
        }
    })
}

/// Maps an object_store error on `url` to the reader's errors: a missing object is
/// `PATH_NOT_FOUND`, anything else an I/O error naming the URL (the message carries
/// the HTTP status and the number of retries made).
pub fn remote_error(url: &str, e: object_store::Error) -> DataSourceError {
    match e {
        object_store::Error::NotFound { .. } => DataSourceError::PathNotFound(url.to_string()),
        other => DataSourceError::Io {
            path: url.to_string(),
            source: std::io::Error::other(other),
        },
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn decode(codec: Codec, name: &str, r: Box<dyn Read + Send>) -> Result<Box<dyn Read + Send>> {
    Ok(match codec {
        Codec::None => r,
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
        Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(r)),
        Codec::Zstd => {
            Box::new(
                zstd::stream::read::Decoder::new(r).map_err(|e| DataSourceError::Io {
                    path: name.to_string(),
                    source: e,
                })?,
            )
        }
    })
}

fn open_remote(obj: &RemoteObject, offset: u64, decompress: bool) -> Result<Box<dyn Read + Send>> {
    let (first, encoding) = first_chunk(obj, offset).map_err(|e| remote_error(&obj.url, e))?;
    let mut codec = if decompress {
        Codec::from_name(&obj.url)
    } else {
        Codec::None
    };
    let http_gzip = encoding
        .as_deref()
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("gzip"));
    if decompress && http_gzip {
        let magic = first.starts_with(&GZIP_MAGIC);
        codec = match codec {
            Codec::Gzip if !magic => Codec::None,
            Codec::None if magic => Codec::Gzip,
            c => c,
        };
    }
    let raw: Box<dyn Read + Send> = Box::new(RangeReader::new(obj.clone(), offset, first));
    decode(codec, &obj.url, raw)
}

/// Opens a file or object for reading, decompressing by extension (and, for
/// objects, by `Content-Encoding`).
///
/// Must run on a blocking thread (not inside an async task) for remote objects.
///
/// Errors: [`DataSourceError::PathNotFound`] when the file does not exist,
/// [`DataSourceError::Io`] for any other open failure. Decompression errors
/// (a truncated `.gz`) surface later as `std::io::Error` from `read`.
pub fn open(loc: &Location) -> Result<Box<dyn Read + Send>> {
    match loc {
        Location::Local(path) => {
            let file = open_file(path)?;
            let buffered = BufReader::with_capacity(1 << 20, file);
            decode(
                Codec::from_path(path),
                &path.display().to_string(),
                Box::new(buffered),
            )
        }
        Location::Remote(obj) => open_remote(obj, 0, true),
    }
}

/// Opens an uncompressed file positioned at byte `offset` (for split reading).
///
/// Errors: as [`open`].
pub fn open_at(loc: &Location, offset: u64) -> Result<Box<dyn Read + Send>> {
    use std::io::{Seek, SeekFrom};
    match loc {
        Location::Local(path) => {
            let mut file = open_file(path)?;
            file.seek(SeekFrom::Start(offset))
                .map_err(|e| DataSourceError::Io {
                    path: path.display().to_string(),
                    source: e,
                })?;
            Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
        }
        Location::Remote(obj) => open_remote(obj, offset, false),
    }
}

/// Appends up to `chunk` more bytes from `reader` to `buf` (fewer only at the end of
/// the stream); returns whether the stream ended. The line readers' refill step.
///
/// Errors: the reader's I/O error.
pub(crate) fn fill(
    reader: &mut dyn Read,
    buf: &mut Vec<u8>,
    chunk: usize,
) -> std::io::Result<bool> {
    let old = buf.len();
    buf.resize(old + chunk, 0);
    let mut filled = old;
    let mut eof = false;
    while filled < buf.len() {
        let k = reader.read(&mut buf[filled..])?;
        if k == 0 {
            eof = true;
            break;
        }
        filled += k;
    }
    buf.truncate(filled);
    Ok(eof)
}

/// Reads a whole (decompressed) file into memory.
///
/// Errors: as [`open`], plus [`DataSourceError::Io`] naming the file when the stream
/// is corrupt or truncated.
pub fn read_all(loc: &Location) -> Result<Vec<u8>> {
    let mut reader = open(loc)?;
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .map_err(|e| DataSourceError::Io {
            path: loc.display(),
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
        let p = Location::Local(p.clone());
        assert_eq!(read_all(&p).unwrap(), b"a,b\n1,2\n");
        std::fs::write(p.display(), &bytes[..bytes.len() / 2]).unwrap();
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
        assert_eq!(read_all(&Location::Local(bz)).unwrap(), text);
        let zs = dir.path().join("x.csv.zst");
        std::fs::write(&zs, zstd::encode_all(&text[..], 3).unwrap()).unwrap();
        assert_eq!(read_all(&Location::Local(zs.clone())).unwrap(), text);
        assert_eq!(Codec::from_path(Path::new("a.CSV.GZ")), Codec::Gzip);
        assert!(!Codec::from_path(&zs).is_splittable());
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = read_all(&Location::Local("/nonexistent/x.csv".into()))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("PATH_NOT_FOUND") && err.contains("/nonexistent/x.csv"),
            "{err}"
        );
    }
}
