//! Lance datasets as the embeddings lookup table (a `*.lance` directory, e.g. a table
//! of a lancedb database): one sink task per fragment, reading only the key and vector
//! columns.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type, Schema};
use futures::TryStreamExt;

use crate::embed::LookupTask;
use crate::error::{IngestError, Result};

/// An open Lance dataset of embeddings.
#[derive(Clone)]
pub struct LanceEmbeddings {
    dataset: Arc<lance::Dataset>,
    path: String,
    key: String,
    column: String,
}

impl std::fmt::Debug for LanceEmbeddings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanceEmbeddings")
            .field("path", &self.path)
            .finish()
    }
}

fn err(path: &str, e: impl std::fmt::Display) -> IngestError {
    IngestError::Embeddings {
        path: path.to_string(),
        message: e.to_string(),
    }
}

impl LanceEmbeddings {
    /// Opens the dataset, checks its columns, and plans one task per fragment
    /// (`sink-<index>-<fragment id>`).
    ///
    /// Errors: [`IngestError::Embeddings`] naming the dataset when it cannot be opened,
    /// lacks `key` or `column`, or the vectors do not fit `dim`.
    pub async fn plan(
        path: &str,
        index: usize,
        key: &str,
        column: &str,
        dim: usize,
    ) -> Result<(LanceEmbeddings, Vec<LookupTask>)> {
        let dataset = lance::Dataset::open(path).await.map_err(|e| err(path, e))?;
        let schema = Schema::from(dataset.schema());
        let kf = schema
            .field_with_name(key)
            .map_err(|_| err(path, format!("no key column '{key}'")))?;
        if !kf.data_type().is_integer() {
            return Err(err(
                path,
                format!("key column '{key}' is {}, not an integer", kf.data_type()),
            ));
        }
        let vf = schema
            .field_with_name(column)
            .map_err(|_| err(path, format!("no vector column '{column}'")))?;
        crate::embed::check_vector_type(vf.data_type(), dim)
            .map_err(|m| err(path, format!("column '{column}': {m}")))?;
        let mut tasks = Vec::new();
        for frag in dataset.get_fragments() {
            let rows = frag.count_rows(None).await.map_err(|e| err(path, e))? as u64;
            tasks.push(LookupTask {
                id: format!("sink-{index:04}-{:06}", frag.id()),
                file: index,
                row_groups: vec![frag.id()],
                rows,
            });
        }
        let me = LanceEmbeddings {
            dataset: Arc::new(dataset),
            path: path.to_string(),
            key: key.to_string(),
            column: column.to_string(),
        };
        Ok((me, tasks))
    }

    /// Runs `scan` over `columns` and collects its batches.
    async fn collect(
        &self,
        mut scan: lance::dataset::scanner::Scanner,
        columns: &[&str],
    ) -> Result<Vec<RecordBatch>> {
        scan.project(columns).map_err(|e| err(&self.path, e))?;
        scan.try_into_stream()
            .await
            .map_err(|e| err(&self.path, e))?
            .try_collect()
            .await
            .map_err(|e| err(&self.path, e))
    }

    /// The dataset's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Key (as Int64) and vector columns of the task's fragment.
    ///
    /// Errors: [`IngestError::Embeddings`] naming the dataset.
    pub async fn read_task(&self, task: &LookupTask) -> Result<Vec<(ArrayRef, ArrayRef)>> {
        let mut out = Vec::new();
        for id in &task.row_groups {
            let frag = self.dataset.get_fragment(*id).ok_or_else(|| {
                err(
                    &self.path,
                    format!("fragment {id} is gone (the dataset changed during the job)"),
                )
            })?;
            let batches = self
                .collect(frag.scan(), &[self.key.as_str(), self.column.as_str()])
                .await?;
            for b in batches {
                let k = b
                    .column_by_name(&self.key)
                    .ok_or_else(|| err(&self.path, "key column missing"))?;
                let v = b
                    .column_by_name(&self.column)
                    .ok_or_else(|| err(&self.path, "vector column missing"))?;
                out.push((cast(k, &DataType::Int64)?, v.clone()));
            }
        }
        Ok(out)
    }

    /// Every key of the dataset.
    ///
    /// Errors: [`IngestError::Embeddings`] naming the dataset.
    pub async fn read_keys(&self) -> Result<Vec<i64>> {
        let batches = self
            .collect(self.dataset.scan(), &[self.key.as_str()])
            .await?;
        let mut keys = Vec::new();
        for b in batches {
            let k = cast(b.column(0), &DataType::Int64)?;
            keys.extend(k.as_primitive::<Int64Type>().iter().flatten());
        }
        Ok(keys)
    }
}
