//! Splitting the source into parse tasks: each file is read once, in order (a gzip
//! stream cannot be entered in the middle), and cut into chunks of `task_rows` whole
//! lines. Task ids are `parse-<file #>-<chunk #>` (zero-padded, so they sort in input
//! order); chunks whose task the journal holds as committed are counted and skipped
//! without parsing.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};

use ember_datasource::compression;
use ember_datasource::storage::Location;

use crate::error::{IngestError, Result};
use crate::parse::Chunk;

/// One source file of the job.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Position in the listing (the `<file #>` of task ids).
    pub index: usize,
    /// Where it is.
    pub location: Location,
    /// Path or URL as shown to users and stored in dead letters.
    pub name: String,
    /// Size in bytes (compressed size for compressed files).
    pub size: u64,
}

/// The id of chunk `chunk` of file `file`.
pub fn task_id(file: usize, chunk: u64) -> String {
    format!("parse-{file:04}-{chunk:06}")
}

/// A chunk with its task id.
#[derive(Debug)]
pub struct ParseTask {
    /// `parse-<file>-<chunk>`.
    pub id: String,
    /// Index of the file.
    pub file: usize,
    /// The lines.
    pub chunk: Chunk,
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads `file` from the chunk holding line `from_line` (1-based) on, cutting chunks of `task_rows`
/// data lines (the first chunk also holds the header when `header`), and passes each
/// to `emit` with its chunk number. Returns the line number after the last line.
/// Stops early (returning `Ok`) when `stop` is set or `emit` returns false.
///
/// Errors: [`IngestError::Source`] when the file cannot be opened,
/// [`IngestError::Io`] naming the file when reading or decompressing fails.
pub fn read_chunks(
    file: &SourceFile,
    task_rows: u64,
    header: bool,
    from_line: u64,
    stop: &AtomicBool,
    emit: &mut dyn FnMut(u64, Chunk) -> bool,
) -> Result<u64> {
    let mut reader = compression::open(&file.location)?;
    let quota_of = |chunk: u64| task_rows + u64::from(header && chunk == 0);
    // Chunk number and first line of the chunk that `from_line` starts.
    let (mut chunk_no, mut first_line) = {
        let mut c = 0u64;
        let mut line = 1u64;
        while line + quota_of(c) <= from_line {
            line += quota_of(c);
            c += 1;
        }
        (c, line)
    };
    let mut quota = quota_of(chunk_no);
    let mut carry: Vec<u8> = Vec::new();
    let mut count = 0u64;
    let mut block = vec![0u8; 8 << 20];
    let mut skip_lines = first_line - 1;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(first_line);
        }
        let n = read_full(&mut *reader, &mut block).map_err(|e| IngestError::Io {
            path: file.name.clone(),
            source: e,
        })?;
        if n == 0 {
            break;
        }
        let mut start = 0usize;
        // Lines before `from_line` were handled by an earlier attempt or run.
        while skip_lines > 0 && start < n {
            match memchr::memchr(b'\n', &block[start..n]) {
                Some(i) => {
                    start += i + 1;
                    skip_lines -= 1;
                }
                None => start = n,
            }
        }
        let mut seg_start = start;
        for pos in memchr::memchr_iter(b'\n', &block[start..n]).map(|p| p + start) {
            count += 1;
            if count == quota {
                carry.extend_from_slice(&block[seg_start..=pos]);
                seg_start = pos + 1;
                let data = std::mem::take(&mut carry);
                let chunk = Chunk {
                    file: file.name.clone(),
                    first_line,
                    data,
                    has_header: header && chunk_no == 0,
                };
                first_line += quota;
                if !emit(chunk_no, chunk) {
                    return Ok(first_line);
                }
                chunk_no += 1;
                count = 0;
                quota = quota_of(chunk_no);
            }
        }
        carry.extend_from_slice(&block[seg_start..n]);
    }
    if !carry.is_empty() {
        let lines = count + u64::from(carry.last() != Some(&b'\n'));
        let chunk = Chunk {
            file: file.name.clone(),
            first_line,
            data: carry,
            has_header: header && chunk_no == 0,
        };
        first_line += lines;
        emit(chunk_no, chunk);
    }
    Ok(first_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(text: &str, gz: bool) -> (tempfile::TempDir, SourceFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(if gz { "f.csv.gz" } else { "f.csv" });
        if gz {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(text.as_bytes()).unwrap();
            std::fs::write(&path, e.finish().unwrap()).unwrap();
        } else {
            std::fs::write(&path, text).unwrap();
        }
        let f = SourceFile {
            index: 0,
            location: Location::Local(path.clone()),
            name: path.display().to_string(),
            size: 0,
        };
        (dir, f)
    }

    #[test]
    fn chunks_cover_every_line_once() {
        let mut text = String::from("h\n");
        for i in 0..10 {
            text.push_str(&format!("r{i}\n"));
        }
        text.push_str("last-no-newline");
        for gz in [false, true] {
            let (_d, f) = file_with(&text, gz);
            let mut got = Vec::new();
            let end = read_chunks(&f, 4, true, 1, &AtomicBool::new(false), &mut |n, c| {
                got.push((
                    n,
                    c.first_line,
                    c.has_header,
                    String::from_utf8(c.data).unwrap(),
                ));
                true
            })
            .unwrap();
            assert_eq!(end, 13);
            assert_eq!(got.len(), 3);
            assert_eq!(got[0], (0, 1, true, "h\nr0\nr1\nr2\nr3\n".to_string()));
            assert_eq!(got[1], (1, 6, false, "r4\nr5\nr6\nr7\n".to_string()));
            assert_eq!(
                got[2],
                (2, 10, false, "r8\nr9\nlast-no-newline".to_string())
            );
            // Resuming at chunk 2's first line gives the same chunk 2.
            let mut again = Vec::new();
            read_chunks(&f, 4, true, 10, &AtomicBool::new(false), &mut |n, c| {
                again.push((n, c.first_line));
                true
            })
            .unwrap();
            assert_eq!(again, vec![(2, 10)]);
        }
    }

    #[test]
    fn truncated_gzip_names_the_file() {
        let (d, f) = file_with(&"x\n".repeat(100_000), true);
        let p = d.path().join("f.csv.gz");
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let err =
            read_chunks(&f, 10, false, 1, &AtomicBool::new(false), &mut |_, _| true).unwrap_err();
        assert!(err.to_string().contains("f.csv.gz"), "{err}");
    }
}
