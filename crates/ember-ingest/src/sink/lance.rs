//! Lance (embedded, through `lancedb`): a database directory holding the table.
//! Appends add fragments; upserts are Lance's `merge_insert` on the key (update all
//! columns when matched, insert when not). A BTree index on the key is built before
//! the first upsert so later upserts find keys without scanning; the ANN index on the
//! vector column is built by [`VectorSink::finish`] when configured.

use std::sync::Arc;

use arrow::array::{RecordBatch, RecordBatchIterator};
use arrow::datatypes::SchemaRef;
use lancedb::index::scalar::BTreeIndexBuilder;
use lancedb::index::vector::{IvfFlatIndexBuilder, IvfHnswSqIndexBuilder, IvfPqIndexBuilder};
use lancedb::index::Index;
use lancedb::{Connection, Table};
use tokio::sync::{Mutex, OnceCell};

use super::{VectorSink, WriteMode};
use crate::error::{IngestError, Result};

/// The vector column's name in sink tables.
pub const VECTOR_COLUMN: &str = "embedding";

/// A Lance table in a lancedb database directory.
pub struct LanceSink {
    db: Connection,
    name: String,
    index: Option<String>,
    table: OnceCell<Table>,
    key: Mutex<Option<String>>,
    /// Lance commits are serial; one writer at a time avoids commit-conflict retries.
    write_lock: Mutex<bool>,
}

fn sink_err(e: lancedb::Error) -> IngestError {
    // Lance works on local files here: an I/O failure may pass, the rest will not.
    let transient = matches!(e, lancedb::Error::Runtime { .. })
        || e.to_string().to_ascii_lowercase().contains("io error");
    IngestError::Sink {
        sink: "lance",
        message: e.to_string(),
        transient,
    }
}

impl LanceSink {
    /// Connects to the database directory `uri` (created if missing).
    ///
    /// Errors: [`IngestError::Config`] for an unknown index type;
    /// [`IngestError::Sink`] when the directory cannot be opened.
    pub async fn open(uri: &str, table: &str, index: Option<&str>) -> Result<LanceSink> {
        let index = match index.map(str::to_ascii_lowercase).as_deref() {
            None | Some("none") => None,
            Some(i @ ("ivf_pq" | "ivf_hnsw_sq" | "ivf_flat")) => Some(i.to_string()),
            Some(other) => {
                return Err(IngestError::Config(format!(
                "sink.index '{other}' is not a Lance index (none, ivf_pq, ivf_hnsw_sq, ivf_flat)"
            )))
            }
        };
        let db = lancedb::connect(uri).execute().await.map_err(sink_err)?;
        Ok(LanceSink {
            db,
            name: table.to_string(),
            index,
            table: OnceCell::new(),
            key: Mutex::new(None),
            write_lock: Mutex::new(false),
        })
    }

    fn table(&self) -> Result<&Table> {
        self.table.get().ok_or_else(|| IngestError::Sink {
            sink: "lance",
            message: "write before prepare".into(),
            transient: false,
        })
    }
}

#[async_trait::async_trait]
impl VectorSink for LanceSink {
    fn name(&self) -> &'static str {
        "lance"
    }

    async fn prepare(&self, schema: SchemaRef, key: &str) -> Result<bool> {
        *self.key.lock().await = Some(key.to_string());
        let (table, created) = match self.db.open_table(&self.name).execute().await {
            Ok(t) => (t, false),
            Err(lancedb::Error::TableNotFound { .. }) => {
                let t = self
                    .db
                    .create_empty_table(&self.name, schema.clone())
                    .execute()
                    .await
                    .map_err(sink_err)?;
                (t, true)
            }
            Err(e) => return Err(sink_err(e)),
        };
        let have = table.schema().await.map_err(sink_err)?;
        for f in schema.fields() {
            match have.field_with_name(f.name()) {
                Ok(h) if h.data_type() == f.data_type() => {}
                Ok(h) => {
                    return Err(IngestError::Sink {
                        sink: "lance",
                        message: format!(
                            "table {} has column {} as {}, the job writes {}",
                            self.name,
                            f.name(),
                            h.data_type(),
                            f.data_type()
                        ),
                        transient: false,
                    })
                }
                Err(_) => {
                    return Err(IngestError::Sink {
                        sink: "lance",
                        message: format!("table {} has no column {}", self.name, f.name()),
                        transient: false,
                    })
                }
            }
        }
        let _ = self.table.set(table);
        Ok(created)
    }

    async fn write(&self, batch: RecordBatch, mode: WriteMode) -> Result<u64> {
        let table = self.table()?;
        let rows = batch.num_rows() as u64;
        if rows == 0 {
            return Ok(0);
        }
        let mut key_indexed = self.write_lock.lock().await;
        match mode {
            WriteMode::Append => {
                table.add(batch).execute().await.map_err(sink_err)?;
            }
            WriteMode::Upsert => {
                let key = self.key.lock().await.clone().unwrap_or_default();
                if !*key_indexed && table.count_rows(None).await.map_err(sink_err)? > 0 {
                    let has = table
                        .list_indices()
                        .await
                        .map_err(sink_err)?
                        .iter()
                        .any(|i| i.columns == [key.clone()]);
                    if !has {
                        table
                            .create_index(
                                &[key.as_str()],
                                Index::BTree(BTreeIndexBuilder::default()),
                            )
                            .execute()
                            .await
                            .map_err(sink_err)?;
                    }
                    *key_indexed = true;
                }
                let schema = batch.schema();
                let reader = RecordBatchIterator::new(vec![Ok(batch)], schema);
                let mut m = table.merge_insert(&[key.as_str()]);
                m.when_matched_update_all(None)
                    .when_not_matched_insert_all();
                m.execute(Box::new(reader)).await.map_err(sink_err)?;
            }
        }
        Ok(rows)
    }

    async fn finish(&self) -> Result<()> {
        let table = self.table()?;
        let Some(kind) = &self.index else {
            return Ok(());
        };
        let index = match kind.as_str() {
            "ivf_pq" => Index::IvfPq(IvfPqIndexBuilder::default()),
            "ivf_hnsw_sq" => Index::IvfHnswSq(IvfHnswSqIndexBuilder::default()),
            _ => Index::IvfFlat(IvfFlatIndexBuilder::default()),
        };
        table
            .create_index(&[VECTOR_COLUMN], index)
            .replace(true)
            .execute()
            .await
            .map_err(sink_err)
    }

    async fn count(&self) -> Result<u64> {
        Ok(self.table()?.count_rows(None).await.map_err(sink_err)? as u64)
    }
}

/// Opens `table` in the database `uri` for reading (tests, the query example).
///
/// Errors: [`IngestError::Sink`] when it does not exist.
pub async fn open_table(uri: &str, table: &str) -> Result<Arc<Table>> {
    let db = lancedb::connect(uri).execute().await.map_err(sink_err)?;
    Ok(Arc::new(
        db.open_table(table).execute().await.map_err(sink_err)?,
    ))
}

/// Every row of `table` in the database `uri` (order not defined).
///
/// Errors: [`IngestError::Sink`] when the table cannot be read.
pub async fn read_table(uri: &str, table: &str) -> Result<Vec<RecordBatch>> {
    use futures::TryStreamExt;
    use lancedb::query::ExecutableQuery;
    let t = open_table(uri, table).await?;
    let stream = t.query().execute().await.map_err(sink_err)?;
    stream.try_collect().await.map_err(sink_err)
}

/// The `k` rows nearest to `vector` by cosine distance, nearest first, with a
/// `_distance` column (an exact search when the table has no ANN index).
///
/// Errors: [`IngestError::Sink`] when the table cannot be searched (e.g. the vector
/// has another dimension than the table's).
pub async fn nearest(
    uri: &str,
    table: &str,
    vector: Vec<f32>,
    k: usize,
) -> Result<Vec<RecordBatch>> {
    use futures::TryStreamExt;
    use lancedb::query::{ExecutableQuery, QueryBase};
    let t = open_table(uri, table).await?;
    let stream = t
        .query()
        .nearest_to(vector)
        .map_err(sink_err)?
        .distance_type(lancedb::DistanceType::Cosine)
        .limit(k)
        .execute()
        .await
        .map_err(sink_err)?;
    stream.try_collect().await.map_err(sink_err)
}
