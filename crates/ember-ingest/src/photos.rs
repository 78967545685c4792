//! The build side of the embedding join: every staged (valid) record, merged by key.
//!
//! Duplicates merge as "first occurrence wins": the record from the earliest file and
//! line is kept, later records with the same key are counted as merged and listed in
//! `duplicates.parquet` in the work directory (key, file, line, kept line), so none
//! disappears unaccounted. The export repeats a photo under a second observation with
//! the same `photo_id` and `photo_uuid`; keeping the first makes the result the same
//! on every run and resume, whatever order tasks ran in.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{cast, concat_batches, take};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::deadletter::{DeadLetter, ErrorClass};
use crate::error::{IngestError, Result};
use crate::files::{list_parts, write_parquet_atomic};
use crate::parse::RecordSchema;

/// Writes `batch` to `dir/<task>.arrow` (Arrow IPC file) atomically.
///
/// Errors: [`IngestError::Io`] / [`IngestError::Arrow`].
pub fn write_staged(dir: &Path, task: &str, batch: &RecordBatch) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| IngestError::io(dir, e))?;
    let path = dir.join(format!("{task}.arrow"));
    let tmp = dir.join(format!(".{task}.arrow.tmp"));
    let file = File::create(&tmp).map_err(|e| IngestError::io(&tmp, e))?;
    let mut w = FileWriter::try_new(file, &batch.schema())?;
    w.write(batch)?;
    w.finish()?;
    let file = w.into_inner()?;
    file.sync_all().map_err(|e| IngestError::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| IngestError::io(&path, e))?;
    Ok(())
}

/// Staged records merged by key, with their origin, ready to be probed.
#[derive(Debug)]
pub struct Photos {
    /// Kept records in input order, columns of [`RecordSchema::staged_schema`].
    pub batch: RecordBatch,
    /// Source file name of each kept record.
    pub files: Vec<Arc<str>>,
    /// Key → row in `batch`.
    pub index: HashMap<i64, u32>,
    /// Records merged into an earlier one with the same key.
    pub duplicates: u64,
    sep: char,
}

impl Photos {
    /// Loads `dir/parse-*.arrow` in task order; `file_names[i]` names file `i` of the
    /// source. Writes `duplicates_path`.
    ///
    /// Errors: [`IngestError::Io`] / [`IngestError::Arrow`] naming the staged file.
    pub fn load(
        dir: &Path,
        schema: &RecordSchema,
        key: &str,
        sep: u8,
        file_names: &[String],
        duplicates_path: &Path,
    ) -> Result<Photos> {
        let parts = list_parts(dir, "parse-", ".arrow")?;
        let staged_schema = schema.staged_schema();
        let key_idx = schema
            .index_of(key)
            .ok_or_else(|| IngestError::Config(format!("source.key '{key}' is not a column")))?;
        let line_idx = staged_schema.fields().len() - 1;
        let mut batches = Vec::new();
        let mut files: Vec<Arc<str>> = Vec::new();
        let mut index: HashMap<i64, u32> = HashMap::new();
        let mut dup_rows: Vec<(i64, Arc<str>, i64, i64)> = Vec::new();
        let mut kept_lines: Vec<i64> = Vec::new();
        let names: Vec<Arc<str>> = file_names.iter().map(|n| Arc::from(n.as_str())).collect();
        for part in parts {
            let name = part
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            // parse-<file>-<chunk>.arrow
            let file_no: usize = name
                .split('-')
                .nth(1)
                .and_then(|f| f.parse().ok())
                .unwrap_or(usize::MAX);
            let file_name = names
                .get(file_no)
                .cloned()
                .ok_or_else(|| IngestError::Journal {
                    path: part.display().to_string(),
                    message: "staged file of an unknown source file".into(),
                })?;
            let f = File::open(&part).map_err(|e| IngestError::io(&part, e))?;
            for b in FileReader::try_new(f, None)? {
                let b = b?;
                let keys = cast(b.column(key_idx), &DataType::Int64)?;
                let keys = keys.as_primitive::<Int64Type>();
                let lines = b.column(line_idx).as_primitive::<Int64Type>();
                let mut keep = Vec::with_capacity(b.num_rows());
                for i in 0..b.num_rows() {
                    let k = keys.value(i);
                    let row = kept_lines.len() as u32;
                    match index.entry(k) {
                        std::collections::hash_map::Entry::Occupied(o) => {
                            let first = kept_lines[*o.get() as usize];
                            dup_rows.push((k, file_name.clone(), lines.value(i), first));
                        }
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert(row);
                            kept_lines.push(lines.value(i));
                            files.push(file_name.clone());
                            keep.push(i as u32);
                        }
                    }
                }
                let idx = UInt32Array::from(keep);
                let cols = b
                    .columns()
                    .iter()
                    .map(|c| take(c.as_ref(), &idx, None))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                batches.push(RecordBatch::try_new(staged_schema.clone(), cols)?);
            }
        }
        let batch = concat_batches(&staged_schema, &batches)?;
        write_duplicates(duplicates_path, &dup_rows)?;
        Ok(Photos {
            batch,
            files,
            index,
            duplicates: dup_rows.len() as u64,
            sep: sep as char,
        })
    }

    /// Rows kept.
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    /// Whether no row was kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The source columns of `rows` (the line column dropped), in that order.
    ///
    /// Errors: [`IngestError::Arrow`].
    pub fn take_columns(&self, rows: &UInt32Array) -> Result<Vec<ArrayRef>> {
        let n = self.batch.num_columns() - 1;
        Ok(self.batch.columns()[..n]
            .iter()
            .map(|c| take(c.as_ref(), rows, None))
            .collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// The source line of `row` as text: fields joined by the separator, nulls empty
    /// (exact for the export's format, which has no quoting).
    pub fn raw_line(&self, row: u32) -> String {
        let opts = FormatOptions::default().with_null("");
        let n = self.batch.num_columns() - 1;
        let mut out = String::new();
        for (i, c) in self.batch.columns()[..n].iter().enumerate() {
            if i > 0 {
                out.push(self.sep);
            }
            if let Ok(f) = ArrayFormatter::try_new(c.as_ref(), &opts) {
                out.push_str(&f.value(row as usize).to_string());
            }
        }
        out
    }

    /// The text of column `name` at `row` (`None` for an unknown column or a null).
    pub fn value_string(&self, row: u32, name: &str) -> Option<String> {
        let col = self.batch.column_by_name(name)?;
        if arrow::array::Array::is_null(col.as_ref(), row as usize) {
            return None;
        }
        arrow::util::display::array_value_to_string(col, row as usize).ok()
    }

    /// Source line number of `row`.
    pub fn line(&self, row: u32) -> u64 {
        let lines = self
            .batch
            .column(self.batch.num_columns() - 1)
            .as_primitive::<Int64Type>();
        lines.value(row as usize) as u64
    }

    /// A dead letter for `row`.
    pub fn dead_letter(
        &self,
        row: u32,
        class: ErrorClass,
        message: &str,
        attempts: u32,
        task: &str,
    ) -> DeadLetter {
        let file = &self.files[row as usize];
        let line = self.line(row);
        let mut d = DeadLetter::new(
            file,
            line,
            self.raw_line(row),
            class,
            format!("{file} line {line}: {message}"),
            task,
        );
        d.attempts = attempts;
        d
    }
}

fn write_duplicates(path: &Path, rows: &[(i64, Arc<str>, i64, i64)]) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("key", DataType::Int64, false),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("line", DataType::Int64, false),
        Field::new("kept_line", DataType::Int64, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.1.as_ref()),
        )),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.2))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.3))),
    ];
    write_parquet_atomic(path, &RecordBatch::try_new(schema, cols)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_chunk, Chunk};

    #[test]
    fn first_occurrence_wins_across_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let schema = RecordSchema::parse("id int NOT NULL, name string, n smallint").unwrap();
        let chunk = |first_line, text: &str| Chunk {
            file: "f".into(),
            first_line,
            data: text.as_bytes().to_vec(),
            has_header: false,
        };
        let a = parse_chunk(&schema, b'\t', &chunk(1, "1\ta\t1\n2\t\t2\n"), "t").unwrap();
        let b = parse_chunk(&schema, b'\t', &chunk(3, "2\tb\t3\n3\tc\t\n"), "t").unwrap();
        // Written in reverse order: loading follows task ids, not write order.
        write_staged(dir.path(), "parse-0000-000001", &b.batch).unwrap();
        write_staged(dir.path(), "parse-0000-000000", &a.batch).unwrap();
        let dups = dir.path().join("duplicates.parquet");
        let p = Photos::load(dir.path(), &schema, "id", b'\t', &["in.csv".into()], &dups).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p.duplicates, 1);
        let row = p.index[&2];
        assert_eq!(p.line(row), 2);
        assert_eq!(p.raw_line(row), "2\t\t2");
        assert_eq!(p.raw_line(p.index[&3]), "3\tc\t");
        let d = p.dead_letter(row, ErrorClass::MissingEmbedding, "no vector", 1, "missing");
        assert_eq!((d.source_file.as_str(), d.line), ("in.csv", 2));
        assert!(d.message.starts_with("in.csv line 2: no vector"));
        assert!(dups.exists());
    }
}
