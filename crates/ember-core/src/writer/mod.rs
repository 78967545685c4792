//! `DataFrameWriter` (`df.write`): Parquet, CSV and JSON in Spark's layout —
//! one `part-NNNNN-<uuid>-c000.<codec>.<ext>` file per non-empty task (partition),
//! `key=value/` directories for `partitionBy` (files there named
//! `part-NNNNN-<uuid>.c000.<codec>.<ext>`, as Spark's dynamic partition writer), and
//! `_SUCCESS` written last. `SaveMode` as Spark: `errorifexists` (default),
//! `overwrite`, `append`, `ignore`. Overwrite writes the new output beside the old one
//! and swaps only once it is complete, so a failed job leaves the old output intact.
//! Object-store URLs (`s3://`...) follow the protocol in [`remote`].

mod remote;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::dataframe::DataFrame;
use crate::error::{EmberError, ErrorKind, Result};
use crate::format::{value_string, FormatOptions};

/// Spark's `SaveMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    /// Fail if the path exists (default).
    ErrorIfExists,
    /// Replace the existing output.
    Overwrite,
    /// Add files to the existing output.
    Append,
    /// Do nothing if the path exists.
    Ignore,
}

impl SaveMode {
    /// Parses Spark's mode names (`error`, `errorifexists`, `overwrite`, `append`, `ignore`).
    pub fn parse(s: &str) -> Result<SaveMode> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "error" | "errorifexists" | "default" => SaveMode::ErrorIfExists,
            "overwrite" => SaveMode::Overwrite,
            "append" => SaveMode::Append,
            "ignore" => SaveMode::Ignore,
            other => {
                return Err(EmberError::analysis(
                    "INVALID_SAVE_MODE",
                    format!("The specified save mode \"{other}\" is invalid. Valid save modes include \"append\", \"overwrite\", \"ignore\", \"error\", \"errorifexists\", and \"default\"."),
                ))
            }
        })
    }
}

/// Spark's `DataFrameWriter`.
#[derive(Debug, Clone)]
pub struct DataFrameWriter {
    df: DataFrame,
    format: String,
    mode: SaveMode,
    options: HashMap<String, String>,
    partition_by: Vec<String>,
}

enum Sink {
    Parquet(ArrowWriter<File>),
    Text(BufWriter<File>),
}

impl DataFrameWriter {
    pub(crate) fn new(df: DataFrame) -> DataFrameWriter {
        DataFrameWriter {
            df,
            format: "parquet".into(),
            mode: SaveMode::ErrorIfExists,
            options: HashMap::new(),
            partition_by: vec![],
        }
    }
    /// `format("parquet" | "csv" | "json")`.
    pub fn format(mut self, f: &str) -> Self {
        self.format = f.to_ascii_lowercase();
        self
    }
    /// `mode(SaveMode)`.
    pub fn mode(mut self, m: SaveMode) -> Self {
        self.mode = m;
        self
    }
    /// `mode("overwrite")`.
    pub fn mode_str(mut self, m: &str) -> Result<Self> {
        self.mode = SaveMode::parse(m)?;
        Ok(self)
    }
    /// `option(k, v)`: `compression`, `header` (csv), `sep` (csv).
    pub fn option(mut self, k: &str, v: &str) -> Self {
        self.options.insert(k.to_ascii_lowercase(), v.to_string());
        self
    }
    /// `partitionBy(cols)`.
    pub fn partition_by(mut self, cols: &[&str]) -> Self {
        self.partition_by = cols.iter().map(|c| c.to_string()).collect();
        self
    }
    /// `parquet(path)`.
    pub async fn parquet(self, path: &str) -> Result<()> {
        self.format("parquet").save(path).await
    }
    /// `csv(path)`.
    pub async fn csv(self, path: &str) -> Result<()> {
        self.format("csv").save(path).await
    }
    /// `json(path)`.
    pub async fn json(self, path: &str) -> Result<()> {
        self.format("json").save(path).await
    }

    fn codec(&self) -> Result<(String, Option<Compression>)> {
        let c = self
            .options
            .get("compression")
            .or_else(|| self.options.get("codec"))
            .map(|s| s.to_ascii_lowercase());
        Ok(match (self.format.as_str(), c.as_deref()) {
            ("parquet", None) | ("parquet", Some("snappy")) => ("snappy".into(), Some(Compression::SNAPPY)),
            ("parquet", Some("none")) | ("parquet", Some("uncompressed")) => ("".into(), Some(Compression::UNCOMPRESSED)),
            ("parquet", Some("zstd")) => ("zstd".into(), Some(Compression::ZSTD(ZstdLevel::default()))),
            ("parquet", Some("gzip")) => ("gz".into(), Some(Compression::GZIP(GzipLevel::default()))),
            ("parquet", Some("lz4")) => ("lz4hadoop".into(), Some(Compression::LZ4)),
            (_, None) | (_, Some("none")) | (_, Some("uncompressed")) => ("".into(), None),
            (_, Some("gzip")) => ("gz".into(), None),
            (f, Some(other)) => {
                return Err(EmberError::analysis(
                    "CODEC_NOT_AVAILABLE",
                    format!("The codec {other} is not available for format {f} in ember (supported: snappy, zstd, gzip, lz4, none for parquet; gzip, none for text formats)."),
                ))
            }
        })
    }

    /// `save(path)`.
    ///
    /// Errors: `PATH_ALREADY_EXISTS` in `errorifexists` mode; I/O errors naming the
    /// file; any query error. On error the previous output is left untouched.
    pub async fn save(self, path: &str) -> Result<()> {
        if ember_datasource::storage::is_remote(path) {
            return self.save_remote(path).await;
        }
        let target = PathBuf::from(path.strip_prefix("file://").unwrap_or(path));
        let exists = target.exists();
        match (self.mode, exists) {
            (SaveMode::ErrorIfExists, true) => {
                return Err(EmberError::analysis(
                    "PATH_ALREADY_EXISTS",
                    format!("Path {} already exists. Set mode as \"overwrite\" to overwrite the existing path.", target.display()),
                ))
            }
            (SaveMode::Ignore, true) => return Ok(()),
            _ => {}
        }
        let job = uuid::Uuid::new_v4().to_string();
        let parent = target
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        std::fs::create_dir_all(&parent).map_err(|e| io_err(&parent, e))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let staging = parent.join(format!(".{name}.ember-staging-{job}"));
        std::fs::create_dir_all(&staging).map_err(|e| io_err(&staging, e))?;
        let result = self.write_all(&staging, &job).await;
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        let finish = || -> std::io::Result<()> {
            match (self.mode, exists) {
                (SaveMode::Append, true) => {
                    move_tree(&staging, &target)?;
                    std::fs::remove_dir_all(&staging)?;
                }
                (_, true) => {
                    let trash = parent.join(format!(".{name}.ember-old-{job}"));
                    std::fs::rename(&target, &trash)?;
                    std::fs::rename(&staging, &target)?;
                    std::fs::remove_dir_all(&trash)?;
                }
                (_, false) => std::fs::rename(&staging, &target)?,
            }
            File::create(target.join("_SUCCESS"))?;
            Ok(())
        };
        finish().map_err(|e| io_err(&target, e))
    }

    async fn write_all(&self, dir: &Path, job: &str) -> Result<()> {
        let schema = self.df.schema();
        let part_idx: Vec<usize> = self
            .partition_by
            .iter()
            .map(|c| {
                schema
                    .index_of(c)
                    .map_err(|_| crate::sql::errors::unresolved_in_schema(c, &schema))
            })
            .collect::<Result<_>>()?;
        let data_idx: Vec<usize> = (0..schema.fields().len())
            .filter(|i| !part_idx.contains(i))
            .collect();
        let data_schema: SchemaRef = Arc::new(schema.project(&data_idx)?);
        let (codec_name, pq_codec) = self.codec()?;
        let ext = match self.format.as_str() {
            "parquet" => "parquet",
            "csv" => "csv",
            "json" => "json",
            other => {
                return Err(EmberError::analysis(
                    "DATA_SOURCE_NOT_FOUND",
                    format!("Failed to find the data source: {other}."),
                ))
            }
        };
        let suffix = if codec_name.is_empty() {
            ext.to_string()
        } else if ext == "parquet" {
            format!("{codec_name}.{ext}")
        } else {
            format!("{ext}.{codec_name}")
        };
        let streams = self.df.execute_partitioned().await?;
        let fo = self.df.session().format_options();
        let mut tasks = Vec::new();
        for (i, mut stream) in streams.into_iter().enumerate() {
            let dir = dir.to_path_buf();
            let job = job.to_string();
            let part_idx = part_idx.clone();
            let data_idx = data_idx.clone();
            let data_schema = data_schema.clone();
            let schema = schema.clone();
            let suffix = suffix.clone();
            let format = self.format.clone();
            let options = self.options.clone();
            let fo = fo.clone();
            tasks.push(tokio::spawn(async move {
                let mut sinks: HashMap<String, (Sink, PathBuf)> = HashMap::new();
                while let Some(batch) = stream.next().await {
                    let batch = batch.map_err(EmberError::from)?;
                    if batch.num_rows() == 0 {
                        continue;
                    }
                    for (key, rows) in split_by_partition(&batch, &part_idx, &schema, &fo)? {
                        let sub = if part_idx.is_empty() {
                            batch.project(&data_idx)?
                        } else {
                            take_rows(&batch, &rows)?.project(&data_idx)?
                        };
                        if !sinks.contains_key(&key) {
                            let file_dir = if key.is_empty() {
                                dir.clone()
                            } else {
                                dir.join(&key)
                            };
                            std::fs::create_dir_all(&file_dir).map_err(|e| io_err(&file_dir, e))?;
                            let fname = if key.is_empty() {
                                format!("part-{i:05}-{job}-c000.{suffix}")
                            } else {
                                format!("part-{i:05}-{job}.c000.{suffix}")
                            };
                            let p = file_dir.join(fname);
                            let f = File::create(&p).map_err(|e| io_err(&p, e))?;
                            let sink = if format == "parquet" {
                                let props = WriterProperties::builder()
                                    .set_compression(pq_codec.unwrap_or(Compression::SNAPPY))
                                    .build();
                                Sink::Parquet(
                                    ArrowWriter::try_new(f, data_schema.clone(), Some(props))
                                        .map_err(|e| EmberError::internal(e.to_string()))?,
                                )
                            } else {
                                let mut w = BufWriter::new(f);
                                if format == "csv"
                                    && options
                                        .get("header")
                                        .is_some_and(|h| h.eq_ignore_ascii_case("true"))
                                {
                                    let text = TextOptions::new(&options, &fo);
                                    let names: Vec<String> = data_schema
                                        .fields()
                                        .iter()
                                        .map(|f| text.quote(f.name()))
                                        .collect();
                                    writeln!(w, "{}", names.join(&text.sep))
                                        .map_err(|e| io_err(&p, e))?;
                                }
                                Sink::Text(w)
                            };
                            sinks.insert(key.clone(), (sink, p));
                        }
                        let Some((sink, p)) = sinks.get_mut(&key) else {
                            continue;
                        };
                        match sink {
                            Sink::Parquet(w) => w.write(&sub).map_err(|e| {
                                EmberError::internal(format!("{}: {e}", p.display()))
                            })?,
                            Sink::Text(w) => {
                                let text = TextOptions::new(&options, &fo);
                                write_text_rows(w, &sub, &format, &text, &fo)
                                    .map_err(|e| io_err(p, e))?
                            }
                        }
                    }
                }
                for (_, (sink, p)) in sinks {
                    match sink {
                        Sink::Parquet(w) => {
                            w.close().map_err(|e| {
                                EmberError::internal(format!("{}: {e}", p.display()))
                            })?;
                        }
                        Sink::Text(mut w) => w.flush().map_err(|e| io_err(&p, e))?,
                    }
                }
                Ok::<(), EmberError>(())
            }));
        }
        for t in tasks {
            t.await.map_err(|e| EmberError::internal(e.to_string()))??;
        }
        Ok(())
    }
}

fn io_err(p: &Path, e: std::io::Error) -> EmberError {
    EmberError::new(
        ErrorKind::Io,
        "FAILED_WRITE_FILE",
        format!("Cannot write {}: {e}", p.display()),
        None,
    )
}

fn move_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            move_tree(&e.path(), &dest)?;
        } else {
            std::fs::rename(e.path(), dest)?;
        }
    }
    Ok(())
}

/// Escapes a partition value for a directory name, as Hive/Spark do.
fn escape_path_value(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        if c.is_control() || "\"#%'*/:=?\\\u{7f}{[]^".contains(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn split_by_partition(
    batch: &RecordBatch,
    part_idx: &[usize],
    schema: &Schema,
    fo: &FormatOptions,
) -> Result<Vec<(String, Vec<u32>)>> {
    if part_idx.is_empty() {
        return Ok(vec![(String::new(), vec![])]);
    }
    let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for r in 0..batch.num_rows() {
        let key = part_idx
            .iter()
            .map(|&c| {
                let v = value_string(batch.column(c).as_ref(), r, fo)
                    .map(|s| escape_path_value(&s))
                    .unwrap_or_else(|| "__HIVE_DEFAULT_PARTITION__".into());
                format!("{}={v}", schema.field(c).name())
            })
            .collect::<Vec<_>>()
            .join("/");
        let gi = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[gi].1.push(r as u32);
    }
    Ok(groups)
}

fn take_rows(batch: &RecordBatch, rows: &[u32]) -> Result<RecordBatch> {
    let idx = UInt32Array::from(rows.to_vec());
    let cols: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| take(c.as_ref(), &idx, None))
        .collect::<std::result::Result<_, _>>()?;
    Ok(RecordBatch::try_new(batch.schema(), cols)?)
}

/// Options of Spark's CSV / JSON writers (keys lower-cased): `sep` / `delimiter`
/// (default `,`), `nullValue` (default empty), `emptyValue` (default `""`),
/// `quoteAll` (default false), `dateFormat`, `timestampFormat` (default
/// `yyyy-MM-dd'T'HH:mm:ss.SSSXXX`, session time zone), `ignoreNullFields` (JSON,
/// default true).
struct TextOptions {
    sep: String,
    null_value: String,
    empty_value: String,
    quote_all: bool,
    json: crate::functions::json::Writer,
}

impl TextOptions {
    fn new(options: &HashMap<String, String>, fo: &FormatOptions) -> Self {
        TextOptions {
            sep: options
                .get("sep")
                .or_else(|| options.get("delimiter"))
                .cloned()
                .unwrap_or_else(|| ",".into()),
            null_value: options.get("nullvalue").cloned().unwrap_or_default(),
            empty_value: options
                .get("emptyvalue")
                .cloned()
                .unwrap_or_else(|| "\"\"".into()),
            quote_all: options
                .get("quoteall")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            json: crate::functions::json::Writer::new(options, fo.session_tz),
        }
    }

    /// Spark's CSV writer quoting: quote values holding the separator, a quote, a
    /// line break or edge spaces (all values with `quoteAll`), escaping quotes with
    /// `\`.
    fn quote(&self, v: &str) -> String {
        if v.is_empty() {
            return self.empty_value.clone();
        }
        if self.quote_all
            || v.contains(self.sep.as_str())
            || v.contains('"')
            || v.contains('\n')
            || v.contains('\r')
            || v.starts_with(' ')
            || v.ends_with(' ')
        {
            format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            v.to_string()
        }
    }

    fn cell(&self, c: &ArrayRef, r: usize, fo: &FormatOptions) -> std::io::Result<String> {
        if c.is_null(r) {
            return Ok(self.null_value.clone());
        }
        let text = match c.data_type() {
            datafusion::arrow::datatypes::DataType::Timestamp(..) => {
                crate::functions::json::timestamp_text(c, r, &self.json)
                    .map_err(std::io::Error::other)?
            }
            _ => value_string(c.as_ref(), r, fo).unwrap_or_default(),
        };
        Ok(self.quote(&text))
    }
}

fn write_text_rows(
    w: &mut impl Write,
    b: &RecordBatch,
    format: &str,
    text: &TextOptions,
    fo: &FormatOptions,
) -> std::io::Result<()> {
    if format == "csv" {
        for r in 0..b.num_rows() {
            let cells = b
                .columns()
                .iter()
                .map(|c| text.cell(c, r, fo))
                .collect::<std::io::Result<Vec<_>>>()?;
            writeln!(w, "{}", cells.join(&text.sep))?;
        }
    } else {
        let lines =
            crate::functions::json::json_lines(b, &text.json).map_err(std::io::Error::other)?;
        for l in lines {
            writeln!(w, "{l}")?;
        }
    }
    Ok(())
}
