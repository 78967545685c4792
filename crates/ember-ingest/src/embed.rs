//! The embedding stage's lookup source: a Parquet table of precomputed vectors keyed
//! like the source (`photo_id` INT64, `embedding` list of floats). The join streams
//! the embeddings (the large side) through the staged records held in memory (the
//! build side): each sink task reads a run of row groups (≥ the job's `task_rows`) with only the
//! key and vector columns, so every embedding byte is read once.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, FixedSizeListArray, Float32Array, RecordBatch};
use arrow::buffer::NullBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use crate::error::{IngestError, Result};

/// One Parquet file of embeddings.
#[derive(Debug, Clone)]
pub struct EmbeddingFile {
    /// Position in the listing (the `<file #>` of task ids).
    pub index: usize,
    /// Local path.
    pub path: PathBuf,
    /// Rows per row group.
    pub row_groups: Vec<u64>,
    /// Leaf column indices of the key and the vector (projection).
    key_col: String,
    vec_col: String,
}

/// A run of row groups of one file: one sink task.
#[derive(Debug, Clone)]
pub struct LookupTask {
    /// `sink-<file #>-<first row group #>`.
    pub id: String,
    /// Index into the file list.
    pub file: usize,
    /// Row groups read.
    pub row_groups: Vec<usize>,
    /// Rows in them.
    pub rows: u64,
}

fn perr(path: &std::path::Path) -> impl Fn(&dyn std::fmt::Display) -> IngestError + '_ {
    move |e| IngestError::Embeddings {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Opens the embeddings files, checks their key and vector columns, and plans tasks
/// of whole row groups, at least `task_rows` rows each (the last of a file may be
/// smaller).
///
/// Errors: [`IngestError::Embeddings`] naming the file when it is not Parquet, lacks
/// `key` or `column`, or its vector is not a list of floats of `dim` (for a
/// fixed-size list; variable lists are checked per row).
pub fn plan(
    paths: &[PathBuf],
    key: &str,
    column: &str,
    dim: usize,
    task_rows: u64,
) -> Result<(Vec<EmbeddingFile>, Vec<LookupTask>)> {
    let mut files = Vec::new();
    let mut tasks = Vec::new();
    for (index, path) in paths.iter().enumerate() {
        let err = perr(path);
        let f = File::open(path).map_err(|e| IngestError::io(path, e))?;
        let b = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| err(&e))?;
        let schema = b.schema();
        let kf = schema
            .field_with_name(key)
            .map_err(|_| err(&format!("no key column '{key}'")))?;
        if !kf.data_type().is_integer() {
            return Err(err(&format!(
                "key column '{key}' is {}, not an integer",
                kf.data_type()
            )));
        }
        let vf = schema
            .field_with_name(column)
            .map_err(|_| err(&format!("no vector column '{column}'")))?;
        check_vector_type(vf.data_type(), dim)
            .map_err(|m| err(&format!("column '{column}': {m}")))?;
        let row_groups: Vec<u64> = b
            .metadata()
            .row_groups()
            .iter()
            .map(|rg| rg.num_rows() as u64)
            .collect();
        let mut start = 0;
        while start < row_groups.len() {
            let mut end = start;
            let mut rows = 0;
            while end < row_groups.len() && rows < task_rows {
                rows += row_groups[end];
                end += 1;
            }
            tasks.push(LookupTask {
                id: format!("sink-{index:04}-{start:06}"),
                file: index,
                row_groups: (start..end).collect(),
                rows,
            });
            start = end;
        }
        files.push(EmbeddingFile {
            index,
            path: path.clone(),
            row_groups,
            key_col: key.to_string(),
            vec_col: column.to_string(),
        });
    }
    Ok((files, tasks))
}

/// Checks that `t` is a list of floats, of `dim` when its size is fixed.
pub(crate) fn check_vector_type(t: &DataType, dim: usize) -> std::result::Result<(), String> {
    let (item, size) = match t {
        DataType::FixedSizeList(f, n) => (f.data_type(), Some(*n as usize)),
        DataType::List(f) | DataType::LargeList(f) => (f.data_type(), None),
        other => return Err(format!("{other} is not a list of floats")),
    };
    if !matches!(
        item,
        DataType::Float32 | DataType::Float64 | DataType::Float16
    ) {
        return Err(format!("items are {item}, not floats"));
    }
    match size {
        Some(n) if n != dim => Err(format!(
            "vectors have dimension {n}, the job's embedding.dim is {dim}"
        )),
        _ => Ok(()),
    }
}

fn project(
    b: ParquetRecordBatchReaderBuilder<File>,
    cols: &[&str],
) -> ParquetRecordBatchReaderBuilder<File> {
    let schema = b.parquet_schema();
    let roots: Vec<usize> = cols
        .iter()
        .filter_map(|c| b.schema().index_of(c).ok())
        .collect();
    let mask = ProjectionMask::roots(schema, roots);
    b.with_projection(mask)
}

/// Reads the key (as Int64) and vector columns of `task`'s row groups.
///
/// Errors: [`IngestError::Embeddings`] / [`IngestError::Io`] naming the file.
pub fn read_task(file: &EmbeddingFile, task: &LookupTask) -> Result<Vec<(ArrayRef, ArrayRef)>> {
    let err = perr(&file.path);
    let f = File::open(&file.path).map_err(|e| IngestError::io(&file.path, e))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| err(&e))?;
    let b = project(b, &[&file.key_col, &file.vec_col])
        .with_row_groups(task.row_groups.clone())
        .with_batch_size(8192);
    let reader = b.build().map_err(|e| err(&e))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| err(&e))?;
        let k = batch
            .column_by_name(&file.key_col)
            .ok_or_else(|| err(&"key column missing"))?;
        let v = batch
            .column_by_name(&file.vec_col)
            .ok_or_else(|| err(&"vector column missing"))?;
        out.push((cast(k, &DataType::Int64)?, v.clone()));
    }
    Ok(out)
}

/// Every key of the file (for finding records without a vector).
///
/// Errors: as [`read_task`].
pub fn read_keys(file: &EmbeddingFile) -> Result<Vec<i64>> {
    let err = perr(&file.path);
    let f = File::open(&file.path).map_err(|e| IngestError::io(&file.path, e))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| err(&e))?;
    let reader = project(b, &[&file.key_col]).build().map_err(|e| err(&e))?;
    let mut keys = Vec::new();
    for batch in reader {
        let batch: RecordBatch = batch.map_err(|e| err(&e))?;
        let k = cast(batch.column(0), &DataType::Int64)?;
        let k = k.as_primitive::<Int64Type>();
        keys.extend(k.iter().flatten());
    }
    Ok(keys)
}

/// One embeddings table of a lookup: a Parquet file or a Lance dataset.
#[derive(Debug, Clone)]
pub enum EmbeddingSource {
    /// A Parquet file (tasks are runs of row groups).
    Parquet(EmbeddingFile),
    /// A Lance dataset (tasks are fragments).
    #[cfg(feature = "lance")]
    Lance(crate::embed_lance::LanceEmbeddings),
}

impl EmbeddingSource {
    /// Path for messages.
    pub fn name(&self) -> String {
        match self {
            EmbeddingSource::Parquet(f) => f.path.display().to_string(),
            #[cfg(feature = "lance")]
            EmbeddingSource::Lance(l) => l.path().to_string(),
        }
    }

    /// Key (Int64) and vector columns of `task`.
    ///
    /// Errors: [`IngestError::Embeddings`] / [`IngestError::Io`] naming the table.
    pub async fn read_task(&self, task: &LookupTask) -> Result<Vec<(ArrayRef, ArrayRef)>> {
        match self {
            EmbeddingSource::Parquet(f) => {
                let (f, t) = (f.clone(), task.clone());
                tokio::task::spawn_blocking(move || read_task(&f, &t))
                    .await
                    .map_err(|e| IngestError::Config(format!("a worker thread panicked: {e}")))?
            }
            #[cfg(feature = "lance")]
            EmbeddingSource::Lance(l) => l.read_task(task).await,
        }
    }

    /// Every key of the table.
    ///
    /// Errors: as [`EmbeddingSource::read_task`].
    pub async fn read_keys(&self) -> Result<Vec<i64>> {
        match self {
            EmbeddingSource::Parquet(f) => {
                let f = f.clone();
                tokio::task::spawn_blocking(move || read_keys(&f))
                    .await
                    .map_err(|e| IngestError::Config(format!("a worker thread panicked: {e}")))?
            }
            #[cfg(feature = "lance")]
            EmbeddingSource::Lance(l) => l.read_keys().await,
        }
    }
}

/// A column of vectors viewed as float32 rows.
pub struct Vectors {
    values: Float32Array,
    /// `(start, len)` of each row in `values`.
    spans: Vec<(usize, usize)>,
    nulls: Option<NullBuffer>,
}

/// One row of [`Vectors`].
#[derive(Debug, PartialEq)]
pub enum VectorRow<'a> {
    /// A vector of the right dimension.
    Ok(&'a [f32]),
    /// No vector (null).
    Null,
    /// A vector of this many floats.
    WrongLength(usize),
}

impl Vectors {
    /// Views `col` (fixed-size or variable list of float16/32/64).
    ///
    /// Errors: [`IngestError::Arrow`] when the items cannot be cast to float32.
    pub fn new(col: &ArrayRef) -> Result<Vectors> {
        let (child, spans): (ArrayRef, Vec<(usize, usize)>) = match col.data_type() {
            DataType::FixedSizeList(_, n) => {
                let l = col.as_fixed_size_list();
                let n = *n as usize;
                let off = l.offset() * n;
                (
                    l.values().clone(),
                    (0..l.len()).map(|i| (off + i * n, n)).collect(),
                )
            }
            DataType::List(_) => {
                let l = col.as_list::<i32>();
                let o = l.value_offsets();
                (
                    l.values().clone(),
                    o.windows(2)
                        .map(|w| (w[0] as usize, (w[1] - w[0]) as usize))
                        .collect(),
                )
            }
            DataType::LargeList(_) => {
                let l = col.as_list::<i64>();
                let o = l.value_offsets();
                (
                    l.values().clone(),
                    o.windows(2)
                        .map(|w| (w[0] as usize, (w[1] - w[0]) as usize))
                        .collect(),
                )
            }
            other => {
                return Err(IngestError::Embeddings {
                    path: String::new(),
                    message: format!("{other} is not a list of floats"),
                })
            }
        };
        let values = cast(&child, &DataType::Float32)?
            .as_primitive::<arrow::datatypes::Float32Type>()
            .clone();
        Ok(Vectors {
            values,
            spans,
            nulls: col.nulls().cloned(),
        })
    }

    /// Row `i` checked against `dim`.
    pub fn row(&self, i: usize, dim: usize) -> VectorRow<'_> {
        if self.nulls.as_ref().is_some_and(|n| n.is_null(i)) {
            return VectorRow::Null;
        }
        let (start, len) = self.spans[i];
        if len != dim {
            return VectorRow::WrongLength(len);
        }
        VectorRow::Ok(&self.values.values()[start..start + len])
    }
}

/// A `FixedSizeList<Float32, dim>` column from concatenated vectors.
///
/// Errors: [`IngestError::Arrow`] when `values.len()` is not a multiple of `dim`.
pub fn vector_column(values: Vec<f32>, dim: usize) -> Result<ArrayRef> {
    let item = Arc::new(Field::new("item", DataType::Float32, true));
    Ok(Arc::new(FixedSizeListArray::try_new(
        item,
        dim as i32,
        Arc::new(Float32Array::from(values)),
        None,
    )?))
}

/// The vector column's Arrow type for `dim`.
pub fn vector_type(dim: usize) -> DataType {
    DataType::FixedSizeList(
        Arc::new(Field::new("item", DataType::Float32, true)),
        dim as i32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Builder, ListBuilder};

    #[test]
    fn variable_lists_are_checked_per_row() {
        let mut b = ListBuilder::new(Float64Builder::new());
        b.values().append_slice(&[1.0, 2.0]);
        b.append(true);
        b.append(false);
        b.values().append_slice(&[1.0, 2.0, 3.0]);
        b.append(true);
        let col: ArrayRef = Arc::new(b.finish());
        let v = Vectors::new(&col).unwrap();
        assert_eq!(v.row(0, 2), VectorRow::Ok(&[1.0, 2.0]));
        assert_eq!(v.row(1, 2), VectorRow::Null);
        assert_eq!(v.row(2, 2), VectorRow::WrongLength(3));
        assert!(check_vector_type(col.data_type(), 2).is_ok());
        assert!(check_vector_type(&vector_type(4), 2)
            .unwrap_err()
            .contains("dimension 4"));
        assert!(check_vector_type(&DataType::Utf8, 2).is_err());
    }
}
