//! Per-file accounting of malformed rows: how many, and the first few with file, line
//! and reason. Spark only says "malformed records are detected"; ember tells where.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How many samples are kept per file.
pub const MAX_SAMPLES_PER_FILE: usize = 5;

/// One malformed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedSample {
    /// 1-based line number where the record starts, when known (a task reading a
    /// split that starts mid-file knows only byte offsets).
    pub line: Option<u64>,
    /// Byte offset of the record in the (decompressed) file.
    pub offset: u64,
    /// Why it is malformed (field count, or column and value that failed).
    pub reason: String,
    /// The raw record text (truncated to 200 bytes).
    pub raw: String,
}

impl MalformedSample {
    /// `line N`, or `byte offset N` when the line is not known.
    pub fn location(&self) -> String {
        match self.line {
            Some(l) => format!("line {l}"),
            None => format!("byte offset {}", self.offset),
        }
    }
}

/// Counts for one input file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Rows read (excluding header and empty lines).
    pub rows: u64,
    /// Malformed rows (kept with nulls, dropped or failing, per mode).
    pub malformed: u64,
    /// Rows whose bytes were not valid UTF-8 (decoded with U+FFFD).
    pub invalid_utf8: u64,
    /// The first [`MAX_SAMPLES_PER_FILE`] malformed rows.
    pub samples: Vec<MalformedSample>,
}

/// A thread-safe report shared by the tasks of one scan. Keyed by file path.
#[derive(Debug, Clone, Default)]
pub struct ReadReport {
    inner: Arc<Mutex<BTreeMap<String, FileReport>>>,
}

impl ReadReport {
    /// Records the outcome of reading `file`.
    pub fn merge(&self, file: &str, part: FileReport) {
        if let Ok(mut m) = self.inner.lock() {
            let e = m.entry(file.to_string()).or_default();
            e.rows += part.rows;
            e.malformed += part.malformed;
            e.invalid_utf8 += part.invalid_utf8;
            for s in part.samples {
                if e.samples.len() < MAX_SAMPLES_PER_FILE {
                    e.samples.push(s);
                }
            }
        }
    }

    /// A snapshot: file path → counts, in path order.
    pub fn files(&self) -> BTreeMap<String, FileReport> {
        self.inner.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Total malformed rows over all files.
    pub fn total_malformed(&self) -> u64 {
        self.files().values().map(|f| f.malformed).sum()
    }

    /// Clears the counts (a new scan starts).
    pub fn reset(&self) {
        if let Ok(mut m) = self.inner.lock() {
            m.clear();
        }
    }

    /// Human-readable summary: one line per file (rows read, malformed rows) followed
    /// by the sampled malformed rows with line number and reason.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (file, r) in self.files() {
            out.push_str(&format!(
                "{file}: {} rows, {} malformed",
                r.rows, r.malformed
            ));
            if r.invalid_utf8 > 0 {
                out.push_str(&format!(", {} with invalid UTF-8", r.invalid_utf8));
            }
            out.push('\n');
            for s in &r.samples {
                out.push_str(&format!("  {}: {} | {}\n", s.location(), s.reason, s.raw));
            }
        }
        out
    }
}
