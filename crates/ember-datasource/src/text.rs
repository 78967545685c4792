//! The text source: one `value: string` row per line (or per file with `wholetext`),
//! as Spark's `DataFrameReader.text` and `SparkContext.textFile`, streamed split by
//! split instead of read whole.
//!
//! Lines end at `\n`, `\r\n` or `\r` (Hadoop's `LineReader`), or at the `lineSep`
//! option's bytes when given; the terminator is not part of the value; bytes that are
//! not UTF-8 become U+FFFD. A split `(start, end)` of a plain file owns the lines that
//! start in `(start, end]` (`[0, end]` for the first split), Hadoop's
//! `LineRecordReader` rule, so every line is read exactly once whatever the splits.
//!
//! Partitioning follows one of Spark's two rules (see [`TextPartitioning`]):
//! `spark.read.text` packs file splits as Spark's `FilePartition`, and the `minPartitions`
//! option (ember's, set by `SparkContext.textFile`) cuts Hadoop `FileInputFormat`
//! splits, one partition each.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{new_null_array, ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};

use crate::compression::Codec;
use crate::error::{DataSourceError, Result};
use crate::listing::{self, InputFile};
use crate::storage::{Location, StorageRegistry};

/// Hadoop's block size for local files and S3A objects (`fs.local.block.size`,
/// `fs.s3a.block.size`): 32 MiB, the upper bound of a `textFile` split.
pub const HADOOP_BLOCK_SIZE: u64 = 32 << 20;

/// Hadoop's `SPLIT_SLOP`: a file is cut while the remainder exceeds 1.1 splits.
const SPLIT_SLOP: f64 = 1.1;

/// Options of the text source, as Spark's `DataFrameReader.text` options.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextOptions {
    /// `lineSep`: the line separator's bytes; `None` = `\n`, `\r\n` or `\r`.
    pub line_sep: Option<Vec<u8>>,
    /// `wholetext`: one row per file holding the whole (decompressed) content.
    pub whole_text: bool,
    /// `minPartitions` (ember's option, used by `SparkContext.textFile`): Hadoop
    /// `FileInputFormat` splits with this minimum instead of Spark's file partitions.
    pub min_partitions: Option<usize>,
}

impl TextOptions {
    /// Reads the options from `(key, value)` pairs (keys case-insensitive; unknown keys
    /// are ignored as Spark does).
    ///
    /// Errors: [`DataSourceError::InvalidOption`] for an empty `lineSep`, a `wholetext`
    /// that is not a boolean, or a `minPartitions` that is not a non-negative integer.
    pub fn from_map<'a>(opts: impl IntoIterator<Item = (&'a String, &'a String)>) -> Result<Self> {
        let mut o = TextOptions::default();
        for (k, v) in opts {
            match k.to_ascii_lowercase().as_str() {
                "linesep" => {
                    if v.is_empty() {
                        return Err(DataSourceError::InvalidOption(
                            "'lineSep' cannot be an empty string".into(),
                        ));
                    }
                    o.line_sep = Some(v.as_bytes().to_vec());
                }
                "wholetext" => {
                    o.whole_text = match v.to_ascii_lowercase().as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(DataSourceError::InvalidOption(format!(
                                "wholetext flag can be true or false, got '{v}'"
                            )))
                        }
                    }
                }
                "minpartitions" => {
                    o.min_partitions = Some(v.trim().parse().map_err(|_| {
                        DataSourceError::InvalidOption(format!(
                            "minPartitions must be a non-negative integer, got '{v}'"
                        ))
                    })?)
                }
                _ => {}
            }
        }
        Ok(o)
    }
}

/// One split: bytes `[start, end)` of file `file`, or the whole file (`range: None`,
/// compressed files and `wholetext`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextSplit {
    /// Index into the table's files.
    pub file: usize,
    /// `(start, end)` byte offsets, `None` for the whole file.
    pub range: Option<(u64, u64)>,
}

/// Spark's file-scan sizing (`spark.sql.files.*`), used by [`TextPartitioning::Files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileScanConf {
    /// `spark.sql.files.maxPartitionBytes` (bytes, default 128 MiB).
    pub max_partition_bytes: u64,
    /// `spark.sql.files.openCostInBytes` (bytes, default 4 MiB).
    pub open_cost_bytes: u64,
    /// `spark.sql.files.minPartitionNum`; `None` = the default parallelism.
    pub min_partition_num: Option<usize>,
}

impl Default for FileScanConf {
    fn default() -> Self {
        FileScanConf {
            max_partition_bytes: 128 << 20,
            open_cost_bytes: 4 << 20,
            min_partition_num: None,
        }
    }
}

/// How a text table is cut into partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextPartitioning {
    /// Spark SQL's `FilePartition`: splits of at most `min(maxPartitionBytes,
    /// max(openCost, (bytes + files × openCost) / parallelism))`, largest first, packed
    /// next-fit with `openCost` added per split.
    Files(FileScanConf),
    /// Hadoop's `FileInputFormat.getSplits(minPartitions)`: split size
    /// `max(1, min(total / minPartitions, 32 MiB))`, files cut while the remainder
    /// exceeds 1.1 splits; one partition per non-empty split, in file order.
    Hadoop(usize),
}

fn splittable(f: &InputFile, opts: &TextOptions) -> bool {
    !opts.whole_text && Codec::from_name(&f.path.file_name()).is_splittable()
}

/// The partitions of `files` under `rule`, each a list of splits in reading order.
/// Zero-length files produce no split (Spark skips them in both rules). Always at
/// least one (possibly empty) partition.
pub fn plan_partitions(
    files: &[InputFile],
    opts: &TextOptions,
    rule: TextPartitioning,
    parallelism: usize,
) -> Vec<Vec<TextSplit>> {
    let mut parts: Vec<Vec<TextSplit>> = match rule {
        TextPartitioning::Hadoop(min_partitions) => {
            let total: u64 = files.iter().map(|f| f.size).sum();
            let goal = total / (min_partitions.max(1) as u64);
            let split_size = goal.min(HADOOP_BLOCK_SIZE).max(1);
            let mut parts = Vec::new();
            for (i, f) in files.iter().enumerate() {
                if f.size == 0 {
                    continue;
                }
                if !splittable(f, opts) {
                    parts.push(vec![TextSplit {
                        file: i,
                        range: None,
                    }]);
                    continue;
                }
                let mut remaining = f.size;
                while remaining as f64 / split_size as f64 > SPLIT_SLOP {
                    let start = f.size - remaining;
                    parts.push(vec![TextSplit {
                        file: i,
                        range: Some((start, start + split_size)),
                    }]);
                    remaining -= split_size;
                }
                if remaining != 0 {
                    parts.push(vec![TextSplit {
                        file: i,
                        range: Some((f.size - remaining, f.size)),
                    }]);
                }
            }
            parts
        }
        TextPartitioning::Files(conf) => {
            let open = conf.open_cost_bytes;
            let min_num = conf.min_partition_num.unwrap_or(parallelism).max(1) as u64;
            let total: u64 = files
                .iter()
                .filter(|f| f.size > 0)
                .map(|f| f.size + open)
                .sum();
            let max_split = conf
                .max_partition_bytes
                .min(open.max(total / min_num))
                .max(1);
            let mut splits: Vec<(TextSplit, u64)> = Vec::new();
            for (i, f) in files.iter().enumerate() {
                if f.size == 0 {
                    continue;
                }
                if !splittable(f, opts) {
                    splits.push((
                        TextSplit {
                            file: i,
                            range: None,
                        },
                        f.size,
                    ));
                    continue;
                }
                let mut start = 0;
                while start < f.size {
                    let end = (start + max_split).min(f.size);
                    splits.push((
                        TextSplit {
                            file: i,
                            range: Some((start, end)),
                        },
                        end - start,
                    ));
                    start = end;
                }
            }
            // Stable: equal sizes keep file order, as Scala's sortBy.
            splits.sort_by_key(|s| std::cmp::Reverse(s.1));
            let mut parts = Vec::new();
            let mut current: Vec<TextSplit> = Vec::new();
            let mut size = 0u64;
            for (split, len) in splits {
                if size + len > max_split && !current.is_empty() {
                    parts.push(std::mem::take(&mut current));
                    size = 0;
                }
                size += len + open;
                current.push(split);
            }
            if !current.is_empty() {
                parts.push(current);
            }
            parts
        }
    };
    if parts.is_empty() {
        parts.push(Vec::new());
    }
    parts
}

/// A set of text files read with Spark's semantics; a DataFusion [`TableProvider`].
///
/// Schema: `value: string` (nullable, never null in practice), then the partition
/// columns discovered from `key=value/` directories.
#[derive(Debug)]
pub struct TextTable {
    files: Arc<Vec<InputFile>>,
    partition_columns: Vec<(String, DataType)>,
    opts: Arc<TextOptions>,
    conf: FileScanConf,
    schema: SchemaRef,
}

impl TextTable {
    /// Lists `paths` (local or object-store URLs, through `storage`; must run on a
    /// blocking thread for remote listings).
    ///
    /// Errors: `PATH_NOT_FOUND` for missing paths, I/O errors naming the path.
    pub fn try_new(
        storage: &StorageRegistry,
        paths: &[String],
        opts: TextOptions,
        conf: FileScanConf,
    ) -> Result<TextTable> {
        let listing = listing::list(storage, paths)?;
        let mut fields = vec![Field::new("value", DataType::Utf8, true)];
        fields.extend(
            listing
                .partition_columns
                .iter()
                .map(|(n, t)| Field::new(n, t.clone(), true)),
        );
        Ok(TextTable {
            files: Arc::new(listing.files),
            partition_columns: listing.partition_columns,
            opts: Arc::new(opts),
            conf,
            schema: Arc::new(Schema::new(fields)),
        })
    }

    /// The input files, in listing order.
    pub fn files(&self) -> &[InputFile] {
        &self.files
    }

    fn rule(&self) -> TextPartitioning {
        match self.opts.min_partitions {
            Some(n) => TextPartitioning::Hadoop(n),
            None => TextPartitioning::Files(self.conf),
        }
    }
}

#[async_trait]
impl TableProvider for TextTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let all: Vec<usize> = (0..self.schema.fields().len()).collect();
        let proj = projection.cloned().unwrap_or(all);
        let schema = Arc::new(self.schema.project(&proj)?);
        let parallelism = state.config().target_partitions().max(1);
        let groups = plan_partitions(&self.files, &self.opts, self.rule(), parallelism);
        let props = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(groups.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Ok(Arc::new(TextScanExec {
            files: self.files.clone(),
            partition_types: self.partition_columns.iter().map(|c| c.1.clone()).collect(),
            opts: self.opts.clone(),
            groups,
            projection: proj,
            batch_size: state.config().batch_size().max(1),
            schema,
            props,
        }))
    }
}

/// Physical scan of a [`TextTable`]: partition `i` reads the splits of group `i` in
/// order, on a blocking thread, in batches of `datafusion.execution.batch_size` rows.
#[derive(Debug)]
pub struct TextScanExec {
    files: Arc<Vec<InputFile>>,
    partition_types: Vec<DataType>,
    opts: Arc<TextOptions>,
    groups: Vec<Vec<TextSplit>>,
    /// Table columns to output (0 = value, 1.. = partition columns).
    projection: Vec<usize>,
    batch_size: usize,
    schema: SchemaRef,
    props: Arc<PlanProperties>,
}

impl DisplayAs for TextScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "SparkTextScan: files={}, partitions={}",
            self.files.len(),
            self.groups.len()
        )
    }
}

impl ExecutionPlan for TextScanExec {
    fn name(&self) -> &str {
        "SparkTextScan"
    }
    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }
    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let group = self.groups.get(partition).cloned().unwrap_or_default();
        let (tx, rx) = tokio::sync::mpsc::channel::<DfResult<RecordBatch>>(2);
        let files = self.files.clone();
        let opts = self.opts.clone();
        let projection = self.projection.clone();
        let ptypes = self.partition_types.clone();
        let schema = self.schema.clone();
        let batch_size = self.batch_size;
        tokio::task::spawn_blocking(move || {
            for split in group {
                let file = &files[split.file];
                let columns = |values: ArrayRef| -> DfResult<RecordBatch> {
                    let rows = values.len();
                    let cols: Vec<ArrayRef> = projection
                        .iter()
                        .map(|&c| {
                            if c == 0 {
                                return values.clone();
                            }
                            let t = &ptypes[c - 1];
                            let raw = file.partition_values[c - 1].as_deref();
                            let v = ScalarValue::Utf8(raw.map(str::to_string))
                                .cast_to(t)
                                .unwrap_or_else(|_| {
                                    ScalarValue::try_from(t).unwrap_or(ScalarValue::Null)
                                });
                            v.to_array_of_size(rows)
                                .unwrap_or_else(|_| new_null_array(t, rows))
                        })
                        .collect();
                    // With no column projected (`count()`), the batch carries only rows.
                    let options = RecordBatchOptions::new().with_row_count(Some(rows));
                    Ok(RecordBatch::try_new_with_options(
                        schema.clone(),
                        cols,
                        &options,
                    )?)
                };
                let mut emit =
                    |values: ArrayRef| -> bool { tx.blocking_send(columns(values)).is_ok() };
                if let Err(e) = read_split(&file.path, split.range, &opts, batch_size, &mut emit) {
                    let _ = tx.blocking_send(Err(e.into()));
                    return;
                }
            }
        });
        let stream =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream,
        )))
    }
}

/// Appends `bytes` as a string value (invalid UTF-8 replaced by U+FFFD).
fn append(b: &mut StringBuilder, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => b.append_value(s),
        Err(_) => b.append_value(String::from_utf8_lossy(bytes)),
    }
}

/// Where the next line ends in `buf` (from 0): `(value_end, next_line_start)`, or
/// `None` when more bytes are needed to know (no terminator yet, or a `\r` at the
/// end of a buffer that may continue with `\n`). At `eof` the rest is the last line.
fn line_end(buf: &[u8], sep: Option<&[u8]>, eof: bool) -> Option<(usize, usize)> {
    match sep {
        Some(sep) => match memchr::memmem::find(buf, sep) {
            Some(p) => Some((p, p + sep.len())),
            None if eof => Some((buf.len(), buf.len())),
            None => None,
        },
        None => match memchr::memchr2(b'\n', b'\r', buf) {
            Some(p) if buf[p] == b'\n' => Some((p, p + 1)),
            Some(p) => match buf.get(p + 1) {
                Some(b'\n') => Some((p, p + 2)),
                Some(_) => Some((p, p + 1)),
                None if eof => Some((p, p + 1)),
                None => None,
            },
            None if eof => Some((buf.len(), buf.len())),
            None => None,
        },
    }
}

/// Reads the lines of one split of `path` (see the module doc for the rule) and hands
/// them to `emit` in arrays of at most `batch_size` values; stops early when `emit`
/// returns false.
///
/// Errors: [`DataSourceError::PathNotFound`] / [`DataSourceError::Io`] naming the
/// file (a corrupt compressed stream included).
pub fn read_split(
    path: &Location,
    range: Option<(u64, u64)>,
    opts: &TextOptions,
    batch_size: usize,
    emit: &mut dyn FnMut(ArrayRef) -> bool,
) -> Result<()> {
    let io_err = |e: std::io::Error| DataSourceError::Io {
        path: path.display(),
        source: e,
    };
    if opts.whole_text {
        let data = crate::compression::read_all(path)?;
        let mut b = StringBuilder::new();
        append(&mut b, &data);
        emit(Arc::new(b.finish()));
        return Ok(());
    }
    let start = range.map(|r| r.0).unwrap_or(0);
    let end = range.map(|r| r.1);
    let mut reader = if start > 0 {
        crate::compression::open_at(path, start)?
    } else {
        crate::compression::open(path)?
    };
    let sep = opts.line_sep.as_deref();
    // Read in chunks of up to 4 MiB (less for small splits: one read covers them).
    let chunk = end.map_or(1 << 22, |e| (e - start + (1 << 16)).min(1 << 22) as usize);
    let mut buf: Vec<u8> = Vec::with_capacity(chunk);
    // Absolute offset of buf[0]; `pos` is the next line's start within buf.
    let mut base = start;
    let mut pos = 0usize;
    let mut eof = false;
    let mut skip_first = start > 0;
    let mut b = StringBuilder::with_capacity(batch_size, batch_size * 64);
    let mut rows = 0usize;
    loop {
        if !eof {
            buf.drain(..pos);
            base += pos as u64;
            pos = 0;
            eof = crate::compression::fill(&mut reader, &mut buf, chunk).map_err(io_err)?;
        }
        loop {
            if pos >= buf.len() {
                break;
            }
            if !skip_first && end.is_some_and(|e| base + pos as u64 > e) {
                // Lines starting after the split's end belong to the next split.
                eof = true;
                buf.truncate(pos);
                break;
            }
            let Some((value_end, next)) = line_end(&buf[pos..], sep, eof) else {
                break;
            };
            if skip_first {
                // The first line of a later split belongs to the previous split.
                skip_first = false;
            } else {
                append(&mut b, &buf[pos..pos + value_end]);
                rows += 1;
                if rows == batch_size {
                    if !emit(Arc::new(b.finish())) {
                        return Ok(());
                    }
                    rows = 0;
                }
            }
            pos += next;
        }
        if eof && (pos >= buf.len() || end.is_some_and(|e| base + pos as u64 > e)) {
            break;
        }
    }
    if rows > 0 {
        emit(Arc::new(b.finish()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, StringArray};

    fn lines_of(
        path: &std::path::Path,
        range: Option<(u64, u64)>,
        opts: &TextOptions,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let mut emit = |a: ArrayRef| {
            let s = a.as_any().downcast_ref::<StringArray>().map(|s| {
                (0..s.len())
                    .map(|i| s.value(i).to_string())
                    .collect::<Vec<_>>()
            });
            out.extend(s.unwrap_or_default());
            true
        };
        read_split(
            &Location::Local(path.to_path_buf()),
            range,
            opts,
            2,
            &mut emit,
        )
        .expect("read");
        out
    }

    fn file(dir: &tempfile::TempDir, name: &str, data: &[u8]) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, data).expect("write");
        p
    }

    #[test]
    fn terminators_and_splits_read_every_line_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = b"a\r\nb\rc\n\nlast";
        let p = file(&dir, "crlf.txt", data);
        let opts = TextOptions::default();
        assert_eq!(lines_of(&p, None, &opts), ["a", "b", "c", "", "last"]);
        // Spark 4.3: sc.textFile(path, 5).glom() on this file.
        let got: Vec<Vec<String>> = [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (10, 12)]
            .iter()
            .map(|&r| lines_of(&p, Some(r), &opts))
            .collect();
        let want: Vec<Vec<&str>> = vec![
            vec!["a"],
            vec!["b"],
            vec!["c"],
            vec!["", "last"],
            vec![],
            vec![],
        ];
        assert_eq!(got, want);
        // Every cut of a file with long lines reads each line exactly once.
        let text: String = (0..200)
            .map(|i| format!("line{i}{}\n", "x".repeat(i % 7)))
            .collect();
        let p = file(&dir, "long.txt", text.as_bytes());
        let all = lines_of(&p, None, &opts);
        assert_eq!(all.len(), 200);
        let n = text.len() as u64;
        for step in [1u64, 3, 10, 97, 1000] {
            let mut got = Vec::new();
            let mut s = 0;
            while s < n {
                let e = (s + step).min(n);
                got.extend(lines_of(&p, Some((s, e)), &opts));
                s = e;
            }
            assert_eq!(got, all, "split size {step}");
        }
    }

    #[test]
    fn line_sep_and_whole_text() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = file(&dir, "crlf.txt", b"a\r\nb\rc\n\nlast");
        let sep = TextOptions {
            line_sep: Some(b"b".to_vec()),
            ..Default::default()
        };
        // Spark 4.3: spark.read.text(path, lineSep="b").
        assert_eq!(lines_of(&p, None, &sep), ["a\r\n", "\rc\n\nlast"]);
        let whole = TextOptions {
            whole_text: true,
            ..Default::default()
        };
        assert_eq!(lines_of(&p, None, &whole), ["a\r\nb\rc\n\nlast"]);
        let p = file(&dir, "bad.txt", b"ok\n\xff\xfe\n");
        assert_eq!(
            lines_of(&p, None, &TextOptions::default()),
            ["ok", "\u{fffd}\u{fffd}"]
        );
    }

    fn input(name: &str, size: u64) -> InputFile {
        InputFile {
            path: Location::Local(name.into()),
            size,
            partition_values: vec![],
        }
    }

    fn sizes(files: &[InputFile], parts: &[Vec<TextSplit>]) -> Vec<Vec<(usize, u64)>> {
        parts
            .iter()
            .map(|p| {
                p.iter()
                    .map(|s| {
                        let (a, b) = s.range.unwrap_or((0, files[s.file].size));
                        (s.file, b - a)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn hadoop_splits_as_file_input_format() {
        // Spark 4.3 local[2]: sc.textFile(dir) of files of 1 MB, 5 MB, 9 MB, 300 B gives 5
        // partitions (the 9 MB file in two), with minPartitions 7 gives 10.
        let files = [
            input("f1", 1_000_000),
            input("f0", 5_000_000),
            input("f2", 9_000_000),
            input("f3", 300),
            input("empty", 0),
        ];
        let o = TextOptions::default();
        let parts = plan_partitions(&files, &o, TextPartitioning::Hadoop(2), 2);
        assert_eq!(parts.len(), 5);
        assert_eq!(
            sizes(&files, &parts),
            vec![
                vec![(0, 1_000_000)],
                vec![(1, 5_000_000)],
                vec![(2, 7_500_150)],
                vec![(2, 1_499_850)],
                vec![(3, 300)]
            ]
        );
        assert_eq!(
            plan_partitions(&files, &o, TextPartitioning::Hadoop(7), 2).len(),
            10
        );
        // A 210-byte file: minPartitions 4 -> 4, 100 -> 105, 300 -> 210 (split size 1).
        let small = [input("s", 210)];
        for (m, n) in [(1, 1), (3, 3), (4, 4), (7, 7), (100, 105), (300, 210)] {
            assert_eq!(
                plan_partitions(&small, &o, TextPartitioning::Hadoop(m), 2).len(),
                n
            );
        }
        // Compressed files are one split; no input is one empty partition.
        let gz = [input("a.gz", 100_000_000)];
        assert_eq!(
            plan_partitions(&gz, &o, TextPartitioning::Hadoop(8), 2).len(),
            1
        );
        assert_eq!(
            plan_partitions(&[], &o, TextPartitioning::Hadoop(2), 2),
            vec![vec![]]
        );
    }

    #[test]
    fn file_partitions_as_spark_sql() {
        // Spark 4.3 local[2]: spark.read.text(dir).rdd.glom() of the files above gives
        // [9 MB file] and [5 MB, 1 MB, 300 B] (largest first, next-fit).
        let files = [
            input("f1", 1_000_000),
            input("f0", 5_000_000),
            input("f2", 9_000_000),
            input("f3", 300),
        ];
        let o = TextOptions::default();
        let parts = plan_partitions(
            &files,
            &o,
            TextPartitioning::Files(FileScanConf::default()),
            2,
        );
        assert_eq!(
            sizes(&files, &parts),
            vec![
                vec![(2, 9_000_000)],
                vec![(1, 5_000_000), (0, 1_000_000), (3, 300)]
            ]
        );
        // A 1 GB file in 128 MB splits, one per partition.
        let big = [input("big", 1 << 30)];
        let parts = plan_partitions(
            &big,
            &o,
            TextPartitioning::Files(FileScanConf::default()),
            2,
        );
        assert_eq!(parts.len(), 8);
        let whole = TextOptions {
            whole_text: true,
            ..Default::default()
        };
        let parts = plan_partitions(
            &big,
            &whole,
            TextPartitioning::Files(FileScanConf::default()),
            2,
        );
        assert_eq!(
            parts,
            vec![vec![TextSplit {
                file: 0,
                range: None
            }]]
        );
    }
}
