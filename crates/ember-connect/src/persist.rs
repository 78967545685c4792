//! `persist` / `cache` / `unpersist` / `storageLevel`, `checkpoint` /
//! `localCheckpoint`, as Spark Connect sends them.
//!
//! A persisted DataFrame is known by its relation's plan id (the client sends the same
//! relation again, with that id, in later requests built on the DataFrame). As in Spark, persisting is lazy: the first action that
//! runs a plan containing the relation computes it once and keeps its batches, one
//! in-memory table partition per partition; later plans read those. ember keeps the
//! data in memory whatever the storage level (the level is recorded and reported);
//! `unpersist` drops it.
//!
//! A checkpoint is computed at once (`eager=True`, the default) or on first use, its
//! lineage cut: the client receives a `CachedRemoteRelation` id and refers to the
//! data by it until it drops the DataFrame (`RemoveCachedRemoteRelationCommand`).
//! `localCheckpoint` keeps the data in memory; `checkpoint` (reliable) writes it as
//! Parquet under `spark.checkpoint.dir` and reads it back, and fails as Spark does
//! when no checkpoint directory is set.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::datasource::MemTable;
use ember_core::{DataFrame, EmberError};
use prost::Message;
use spark_connect_proto as pb;

use crate::error::Result;
use crate::session::ConnectSession;

/// A persisted relation: its storage level and, once an action computed it, its data.
#[derive(Clone)]
pub struct Persisted {
    /// The level the client asked for.
    pub level: pb::StorageLevel,
    /// The computed DataFrame (an in-memory table), after the first action.
    pub data: Option<DataFrame>,
}

/// The key of a relation among the persisted ones: the plan id the client gave the
/// DataFrame (stable for the DataFrame object, and sent again in every plan built on
/// it), else its encoded bytes. (Bytes alone do not identify a plan: map fields such
/// as reader options may be encoded in any order.)
pub fn key(r: &pb::Relation) -> Vec<u8> {
    match r.common.as_ref().and_then(|c| c.plan_id) {
        Some(id) => format!("plan:{id}").into_bytes(),
        None => r.encode_to_vec(),
    }
}

/// Spark's `StorageLevel.NONE`.
fn none_level() -> pb::StorageLevel {
    pb::StorageLevel {
        use_disk: false,
        use_memory: false,
        use_off_heap: false,
        deserialized: false,
        replication: 1,
    }
}

/// `MEMORY_AND_DISK_DESER`, `DataFrame.cache()`'s level.
fn default_level() -> pb::StorageLevel {
    pb::StorageLevel {
        use_disk: true,
        use_memory: true,
        use_off_heap: false,
        deserialized: true,
        replication: 1,
    }
}

/// `persist(level)`: records the level (an already persisted relation keeps its
/// first level, as Spark warns and ignores a new one).
pub fn persist(cs: &ConnectSession, r: &pb::Relation, level: Option<pb::StorageLevel>) {
    let mut map = cs.persisted.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(key(r)).or_insert_with(|| Persisted {
        level: level.unwrap_or_else(default_level),
        data: None,
    });
}

/// `unpersist()`: forgets the relation and its data.
pub fn unpersist(cs: &ConnectSession, r: &pb::Relation) {
    let mut map = cs.persisted.lock().unwrap_or_else(|e| e.into_inner());
    map.remove(&key(r));
}

/// `storageLevel`: the level of a persisted relation, `NONE` otherwise.
pub fn storage_level(cs: &ConnectSession, r: &pb::Relation) -> pb::StorageLevel {
    let map = cs.persisted.lock().unwrap_or_else(|e| e.into_inner());
    map.get(&key(r)).map(|p| p.level).unwrap_or_else(none_level)
}

/// The persisted entry for `r`, if any (cheap when nothing is persisted).
pub fn lookup(cs: &ConnectSession, r: &pb::Relation) -> Option<(Vec<u8>, Persisted)> {
    let map = cs.persisted.lock().unwrap_or_else(|e| e.into_inner());
    if map.is_empty() {
        return None;
    }
    let k = key(r);
    map.get(&k).cloned().map(|p| (k, p))
}

/// Computes `df` into an in-memory table with the same partitions.
///
/// Errors: the query's own error.
pub async fn materialize(df: &DataFrame) -> Result<DataFrame> {
    let schema: arrow::datatypes::SchemaRef = Arc::new(df.schema().as_ref().clone());
    let parts = df
        .inner()
        .clone()
        .collect_partitioned()
        .await
        .map_err(EmberError::from)?;
    let parts = if parts.is_empty() {
        vec![vec![]]
    } else {
        parts
    };
    let table = MemTable::try_new(schema, parts).map_err(EmberError::from)?;
    let frame = df
        .session()
        .context()
        .read_table(Arc::new(table))
        .map_err(EmberError::from)?;
    Ok(DataFrame::from_datafusion(df.session(), frame))
}

/// Keeps the computed data of the persisted relation `k`.
pub fn store(cs: &ConnectSession, k: Vec<u8>, data: DataFrame) {
    let mut map = cs.persisted.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = map.get_mut(&k) {
        p.data = Some(data);
    }
}

/// `checkpoint(eager)` / `localCheckpoint(eager)`: the id of the checkpointed data.
///
/// Errors: the query's error; for a reliable checkpoint without
/// `spark.checkpoint.dir`, Spark's "Checkpoint directory has not been set".
pub async fn checkpoint(cs: &Arc<ConnectSession>, c: &pb::CheckpointCommand) -> Result<String> {
    let input = c
        .relation
        .as_ref()
        .ok_or_else(|| crate::error::ConnectError::invalid("checkpoint without a relation"))?;
    let df = crate::relation::Planner::executing(cs)
        .relation(input)
        .await?;
    let id = uuid::Uuid::new_v4().to_string();
    let data = materialize(&df).await?;
    if !c.local {
        // Spark's legacy error (no error class) when no directory is set.
        let dir = cs.spark.conf_get("spark.checkpoint.dir").ok_or_else(|| {
            EmberError::new(
                ember_sql::error::ErrorKind::Io,
                "CHECKPOINT_DIR_NOT_SET",
                "Checkpoint directory has not been set in the SparkContext",
                None,
            )
        })?;
        let path = format!("{}/{id}", dir.trim_end_matches('/'));
        data.write()
            .format("parquet")
            .mode(ember_core::writer::SaveMode::ErrorIfExists)
            .save(&path)
            .await?;
    }
    cs.checkpoints
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.clone(), data);
    Ok(id)
}

/// The DataFrame of a `CachedRemoteRelation`.
///
/// Errors: an unknown id (dropped or from another session).
pub fn cached_remote(cs: &ConnectSession, id: &str) -> Result<DataFrame> {
    cs.checkpoints
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(id)
        .cloned()
        .ok_or_else(|| {
            crate::error::ConnectError::invalid(format!(
                "No DataFrame with id {id} is found in the session {}",
                cs.session_id
            ))
        })
}

/// `RemoveCachedRemoteRelationCommand`: forgets a checkpoint.
pub fn remove_cached_remote(cs: &ConnectSession, id: &str) {
    cs.checkpoints
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(id);
}

/// Persisted relations of a session.
pub type PersistedMap = HashMap<Vec<u8>, Persisted>;
