//! The job file (`job.toml`) of `ember ingest`: source, embedding stage, vector sink,
//! limits. Relative paths are resolved against the job file's directory; URLs
//! (`s3://`, `http://`, ...) are kept as written. See `examples/inaturalist/job.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{IngestError, Result};
use crate::parse::RecordSchema;

/// The export's `photos.csv` columns with their types (`../shared/inaturalist.md`).
pub const INATURALIST_PHOTOS_SCHEMA: &str = "photo_uuid uuid NOT NULL, photo_id int NOT NULL, \
observation_uuid uuid NOT NULL, observer_id int, extension string, license string, \
width smallint, height smallint, position smallint";

/// A whole job definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Job name (logs, default work directory); default: the job file's stem.
    #[serde(default)]
    pub name: String,
    /// Where the journal, staged rows, dead letters and report live; default
    /// `<job file dir>/_ember_ingest/<name>`.
    #[serde(default)]
    pub work_dir: Option<String>,
    /// `local[n]` / `local[*]` / `local`: worker threads (as `spark.master`).
    #[serde(default = "default_master")]
    pub master: String,
    /// Source lines per parse task (default 100,000).
    #[serde(default = "default_task_rows")]
    pub task_rows: u64,
    /// Fail the job when more records than this are dead-lettered.
    #[serde(default)]
    pub max_bad_records: Option<u64>,
    /// Fail the job when dead-lettered / read exceeds this fraction (0..1).
    #[serde(default)]
    pub max_bad_fraction: Option<f64>,
    /// Spark configuration: `spark.task.maxFailures` (default 4),
    /// `spark.ember.ingest.retryWait` (first backoff, default `1s`, doubling, at most
    /// 30 s), `spark.hadoop.fs.s3a.*` for s3:// input.
    #[serde(default)]
    pub conf: BTreeMap<String, String>,
    /// The records.
    pub source: SourceSpec,
    /// Where vectors come from.
    pub embedding: EmbeddingSpec,
    /// Where records go.
    pub sink: SinkSpec,
    /// Dead-letter table location; default `<work_dir>/dead_letter`.
    #[serde(default)]
    pub dead_letter: Option<String>,
}

fn default_master() -> String {
    "local[*]".into()
}
fn default_task_rows() -> u64 {
    100_000
}
fn default_sep() -> String {
    "\t".into()
}
fn default_true() -> bool {
    true
}

/// Delimited-text source (the export's format by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Files, directories or globs (local, `file://`, `s3://`, ...); `.gz`/`.bz2`/`.zst`
    /// decompressed by extension.
    pub path: PathList,
    /// Field separator, one byte (default tab).
    #[serde(default = "default_sep")]
    pub sep: String,
    /// Whether each file starts with a header line (default true).
    #[serde(default = "default_true")]
    pub header: bool,
    /// Column DDL (`name type [NOT NULL], ...`); default: the iNaturalist photos columns.
    #[serde(default)]
    pub schema: Option<String>,
    /// The record key (an integer column): sink upserts and duplicate merging use it.
    pub key: String,
}

/// One path or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathList {
    /// A single path.
    One(String),
    /// Several paths.
    Many(Vec<String>),
}

impl PathList {
    /// The paths.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            PathList::One(p) => vec![p.clone()],
            PathList::Many(v) => v.clone(),
        }
    }
}

/// The embedding stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EmbeddingSpec {
    /// Join with a table of precomputed vectors keyed like the source.
    Lookup {
        /// Parquet file(s) or directory.
        path: PathList,
        /// Key column in the embeddings table (default: the source key's name).
        #[serde(default)]
        key: Option<String>,
        /// Vector column (`FixedSizeList<Float32|Float64>` or `List<...>`); default
        /// `embedding`.
        #[serde(default)]
        column: Option<String>,
        /// Expected dimension (512 for BioCLIP, 768 for BioCLIP 2).
        dim: usize,
    },
    /// An HTTP embedding service (contract in [`crate::embed_http`]).
    Http {
        /// Endpoint (`POST`).
        url: String,
        /// Send URLs built from each record instead of keys, e.g.
        /// `https://inaturalist-open-data.s3.amazonaws.com/photos/{photo_id}/medium.{extension}`.
        #[serde(default)]
        url_template: Option<String>,
        /// Items per request (default 256).
        #[serde(default = "default_batch")]
        batch_size: usize,
        /// Requests in flight at most (default 4).
        #[serde(default = "default_concurrency")]
        concurrency: usize,
        /// Per-request timeout (default `30s`).
        #[serde(default = "default_timeout")]
        timeout: String,
        /// Retries of one request on 429/5xx/timeouts (default 5).
        #[serde(default = "default_retries")]
        max_retries: u32,
        /// First wait between retries, doubling (default `500ms`).
        #[serde(default = "default_retry_wait")]
        retry_wait: String,
        /// Requests started per second at most (default unlimited).
        #[serde(default)]
        rate_limit: Option<f64>,
        /// Expected dimension.
        dim: usize,
    },
}

fn default_batch() -> usize {
    256
}
fn default_concurrency() -> usize {
    4
}
fn default_timeout() -> String {
    "30s".into()
}
fn default_retries() -> u32 {
    5
}
fn default_retry_wait() -> String {
    "500ms".into()
}

impl EmbeddingSpec {
    /// The vector dimension the sink is created with.
    pub fn dim(&self) -> usize {
        match self {
            EmbeddingSpec::Lookup { dim, .. } | EmbeddingSpec::Http { dim, .. } => *dim,
        }
    }
}

/// The vector sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SinkSpec {
    /// Lance (embedded, via lancedb): a database directory and a table in it.
    Lance {
        /// Database directory (created if missing).
        uri: String,
        /// Table name.
        table: String,
        /// ANN index built after the last batch: `none` (default), `ivf_pq`,
        /// `ivf_hnsw_sq`, `ivf_flat`.
        #[serde(default)]
        index: Option<String>,
    },
    /// PostgreSQL with pgvector: `vector(dim)` column, upserts by the key.
    Pgvector {
        /// `postgresql://user@host:port/db` (or a libpq key=value string).
        url: String,
        /// Table name (created if missing, primary key = the source key).
        table: String,
        /// Index built after the last batch: `hnsw` (default) or `none`.
        #[serde(default)]
        index: Option<String>,
    },
}

impl JobSpec {
    /// Reads and checks a job file; relative paths become relative to its directory.
    ///
    /// Errors: [`IngestError::Io`] if unreadable, [`IngestError::Config`] naming the
    /// TOML error or the wrong key.
    pub fn from_file(path: &Path) -> Result<JobSpec> {
        let text = std::fs::read_to_string(path).map_err(|e| IngestError::io(path, e))?;
        let mut spec: JobSpec = toml::from_str(&text)
            .map_err(|e| IngestError::Config(format!("{}: {e}", path.display())))?;
        if spec.name.is_empty() {
            spec.name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("job")
                .to_string();
        }
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        spec.resolve(&base);
        spec.check()?;
        Ok(spec)
    }

    /// Makes relative local paths relative to `base`.
    pub fn resolve(&mut self, base: &Path) {
        let fix = |p: &mut String| {
            if !ember_datasource::storage::is_remote(p) && Path::new(p.as_str()).is_relative() {
                *p = base.join(p.as_str()).display().to_string();
            }
        };
        let fix_list = |l: &mut PathList| match l {
            PathList::One(p) => fix(p),
            PathList::Many(v) => v.iter_mut().for_each(fix),
        };
        fix_list(&mut self.source.path);
        if let EmbeddingSpec::Lookup { path, .. } = &mut self.embedding {
            fix_list(path);
        }
        if let SinkSpec::Lance { uri, .. } = &mut self.sink {
            fix(uri);
        }
        match &mut self.work_dir {
            Some(w) => fix(w),
            None => {
                self.work_dir = Some(
                    base.join("_ember_ingest")
                        .join(&self.name)
                        .display()
                        .to_string(),
                )
            }
        }
        if let Some(d) = &mut self.dead_letter {
            fix(d);
        }
    }

    /// Checks values that serde cannot.
    ///
    /// Errors: [`IngestError::Config`] naming the key.
    pub fn check(&self) -> Result<()> {
        if self.source.sep.len() != 1 {
            return Err(IngestError::Config(format!(
                "source.sep must be one byte, got {:?}",
                self.source.sep
            )));
        }
        let schema = self.record_schema()?;
        let key = schema.index_of(&self.source.key).ok_or_else(|| {
            IngestError::Config(format!(
                "source.key '{}' is not a column of source.schema",
                self.source.key
            ))
        })?;
        use crate::parse::ColumnType::*;
        if !matches!(schema.columns[key].ty, TinyInt | SmallInt | Int | BigInt) {
            return Err(IngestError::Config(format!(
                "source.key '{}' must be an integer column",
                self.source.key
            )));
        }
        if self.task_rows == 0 {
            return Err(IngestError::Config("task_rows must be positive".into()));
        }
        if self.embedding.dim() == 0 {
            return Err(IngestError::Config("embedding.dim must be positive".into()));
        }
        if let Some(f) = self.max_bad_fraction {
            if !(0.0..=1.0).contains(&f) {
                return Err(IngestError::Config(format!(
                    "max_bad_fraction must be in [0, 1], got {f}"
                )));
            }
        }
        crate::job::parallelism(&self.master)?;
        if let EmbeddingSpec::Http {
            timeout,
            retry_wait,
            batch_size,
            concurrency,
            ..
        } = &self.embedding
        {
            for (key, v) in [
                ("embedding.timeout", timeout),
                ("embedding.retry_wait", retry_wait),
            ] {
                if ember_datasource::storage::options::parse_duration(v).is_none() {
                    return Err(IngestError::Config(format!(
                        "{key}: '{v}' is not a duration (e.g. 500ms, 30s)"
                    )));
                }
            }
            if *batch_size == 0 || *concurrency == 0 {
                return Err(IngestError::Config(
                    "embedding.batch_size and embedding.concurrency must be positive".into(),
                ));
            }
        }
        Ok(())
    }

    /// The source's record schema.
    ///
    /// Errors: [`IngestError::Config`] for a bad DDL.
    pub fn record_schema(&self) -> Result<RecordSchema> {
        RecordSchema::parse(
            self.source
                .schema
                .as_deref()
                .unwrap_or(INATURALIST_PHOTOS_SCHEMA),
        )
    }

    /// The work directory (journal, staged rows, report).
    pub fn work_dir(&self) -> PathBuf {
        PathBuf::from(
            self.work_dir
                .clone()
                .unwrap_or_else(|| format!("_ember_ingest/{}", self.name)),
        )
    }

    /// The dead-letter table directory.
    pub fn dead_letter_dir(&self) -> PathBuf {
        self.dead_letter
            .as_ref()
            .map(PathBuf::from)
            .unwrap_or_else(|| self.work_dir().join("dead_letter"))
    }

    /// A fingerprint of what decides task boundaries and record contents (source,
    /// embedding source and dimension, sink, task size): a journal only resumes the job
    /// it was written for. Limits, `conf` and the embedding service's endpoint and
    /// client settings may change between runs.
    pub fn fingerprint(&self) -> String {
        // What a vector is made from counts; how it is fetched (endpoint, timeouts,
        // concurrency) may change between runs.
        let embedding = match &self.embedding {
            EmbeddingSpec::Lookup { .. } => serde_json::json!(self.embedding),
            EmbeddingSpec::Http {
                url_template, dim, ..
            } => {
                serde_json::json!({"type": "http", "url_template": url_template, "dim": dim})
            }
        };
        let canon = serde_json::json!({
            "source": self.source, "embedding": embedding,
            "sink": self.sink, "task_rows": self.task_rows,
        })
        .to_string();
        // FNV-1a 64: stable across builds (std's hasher is not).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in canon.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOB: &str = r#"
name = "photos"
master = "local[2]"
max_bad_fraction = 0.05
[source]
path = "data/photos.csv.gz"
key = "photo_id"
[embedding]
type = "lookup"
path = "data/embeddings.parquet"
dim = 512
[sink]
type = "lance"
uri = "out/db"
table = "photos"
"#;

    #[test]
    fn parses_and_resolves_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("job.toml");
        std::fs::write(&f, JOB).unwrap();
        let spec = JobSpec::from_file(&f).unwrap();
        assert_eq!(
            spec.source.path.to_vec(),
            vec![dir.path().join("data/photos.csv.gz").display().to_string()]
        );
        assert_eq!(spec.work_dir(), dir.path().join("_ember_ingest/photos"));
        assert_eq!(spec.task_rows, 100_000);
        assert_eq!(spec.record_schema().unwrap().columns.len(), 9);
        let fp = spec.fingerprint();
        let mut other = spec.clone();
        other.max_bad_fraction = Some(0.5);
        assert_eq!(fp, other.fingerprint());
        other.task_rows = 5;
        assert_ne!(fp, other.fingerprint());
    }

    #[test]
    fn bad_jobs_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("job.toml");
        for (from, to, want) in [
            ("key = \"photo_id\"", "key = \"nope\"", "source.key 'nope'"),
            (
                "key = \"photo_id\"",
                "key = \"license\"",
                "must be an integer",
            ),
            ("dim = 512", "dim = 0", "embedding.dim"),
            ("master = \"local[2]\"", "master = \"yarn\"", "master"),
            (
                "table = \"photos\"",
                "table = \"photos\"\nbogus = 1",
                "bogus",
            ),
        ] {
            std::fs::write(&f, JOB.replace(from, to)).unwrap();
            let err = JobSpec::from_file(&f).unwrap_err().to_string();
            assert!(err.contains(want), "{to}: {err}");
        }
    }
}
