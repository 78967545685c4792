//! The CSV table: schema resolution (user schema, or Spark's inference over all rows)
//! and a DataFusion scan that reads each file in a blocking task and streams batches.
//! Partitioning: uncompressed files are split into byte ranges as Spark splits them;
//! splits are packed into at most `target_partitions` output partitions.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{new_null_array, ArrayRef};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};

use super::decode::{DecodePlan, FileDecoder};
use super::infer::{self, Inferrer};
use super::options::{CsvOptions, ParseMode};
use super::tokenizer::{Record, Tokenizer};
use crate::error::{DataSourceError, Result};
use crate::listing::{self, InputFile};
use crate::report::ReadReport;
use crate::storage::{Location, StorageRegistry};

/// A set of CSV files read with Spark's semantics; a DataFusion [`TableProvider`].
///
/// Schema: the data columns (user-given or inferred), the corrupt-record column where
/// the user schema has one, then the discovered partition columns.
#[derive(Debug)]
pub struct CsvTable {
    files: Vec<InputFile>,
    opts: Arc<CsvOptions>,
    data_types: Vec<DataType>,
    /// For each table column: `Some(i)` data column i, `None` corrupt column, or
    /// partition column (index >= data+corrupt).
    corrupt_index: Option<usize>,
    n_partition_cols: usize,
    schema: SchemaRef,
    report: ReadReport,
    /// `spark.sql.files.maxPartitionBytes` (bytes, default 128 MB).
    max_partition_bytes: u64,
}

/// Reads the first record of the first non-empty file: header names or column count.
fn first_record(
    files: &[InputFile],
    tok: &Tokenizer,
    opts: &CsvOptions,
) -> Result<Option<Vec<String>>> {
    for f in files {
        let data = read_head(&f.path)?;
        let mut pos = 0;
        let mut rec = Record::default();
        while pos < data.len() {
            let (used, _) = tok.next_record(&data[pos..], &mut rec);
            let line = &data[pos..pos + used];
            pos += used.max(1);
            if super::tokenizer::is_skipped_line(line, opts.comment) {
                continue;
            }
            return Ok(Some(
                (0..rec.fields.len())
                    .map(|i| String::from_utf8_lossy(rec.bytes(i)).into_owned())
                    .collect(),
            ));
        }
    }
    Ok(None)
}

fn read_head(path: &Location) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut r = crate::compression::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut filled = 0;
    loop {
        let k = r
            .read(&mut buf[filled..])
            .map_err(|e| DataSourceError::Io {
                path: path.display(),
                source: e,
            })?;
        if k == 0 {
            break;
        }
        filled += k;
        if buf[..filled].contains(&b'\n') || filled == buf.len() {
            if filled == buf.len() && !buf.contains(&b'\n') {
                buf.resize(buf.len() * 2, 0);
                continue;
            }
            break;
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// Spark's header handling: empty names become `_c<i>`; names repeated
/// (case-insensitively) get their index appended.
fn header_names(raw: &[String], header: bool) -> Vec<String> {
    if !header {
        return (0..raw.len()).map(|i| format!("_c{i}")).collect();
    }
    let names: Vec<String> = raw
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if n.is_empty() {
                format!("_c{i}")
            } else {
                n.clone()
            }
        })
        .collect();
    let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if lower.iter().filter(|l| **l == lower[i]).count() > 1 {
                format!("{n}{i}")
            } else {
                n.clone()
            }
        })
        .collect()
}

impl CsvTable {
    /// Lists `paths` (local or object-store URLs, through `storage`) and resolves the
    /// schema. Runs on a blocking thread: it reads the inputs for inference.
    ///
    /// `user_schema`: as `DataFrameReader.schema(...)`; it may contain the corrupt-record
    /// column (a nullable string named `columnNameOfCorruptRecord`). Without it the
    /// header (or `_c<i>`) gives names and `inferSchema` decides between all-`string`
    /// and Spark's inference over every row.
    ///
    /// Errors: `PATH_NOT_FOUND` for missing paths; `UNABLE_TO_INFER_SCHEMA` when
    /// there is no input to infer from; I/O errors naming the file.
    pub fn try_new(
        storage: &StorageRegistry,
        paths: &[String],
        opts: CsvOptions,
        user_schema: Option<SchemaRef>,
    ) -> Result<CsvTable> {
        let listing = listing::list(storage, paths)?;
        let tok = tokenizer_for(&opts);
        let mut fields: Vec<Field>;
        let mut corrupt_index = None;
        let data_types: Vec<DataType>;
        match user_schema {
            Some(s) => {
                fields = Vec::new();
                let mut dts = Vec::new();
                for (i, f) in s.fields().iter().enumerate() {
                    if f.name() == &opts.corrupt_column && f.data_type() == &DataType::Utf8 {
                        corrupt_index = Some(i);
                    } else {
                        dts.push(f.data_type().clone());
                    }
                    fields.push(f.as_ref().clone().with_nullable(true));
                }
                data_types = dts;
            }
            None => {
                let first = first_record(&listing.files, &tok, &opts)?;
                let Some(first) = first else {
                    if listing.files.is_empty() {
                        return Err(DataSourceError::UnableToInferSchema {
                            format: "CSV".into(),
                        });
                    }
                    // Empty files: an empty schema, as Spark gives for empty input.
                    let schema =
                        Arc::new(Schema::new(partition_fields(&listing.partition_columns)));
                    return Ok(CsvTable {
                        n_partition_cols: listing.partition_columns.len(),
                        files: listing.files,
                        opts: Arc::new(opts),
                        data_types: vec![],
                        corrupt_index: None,
                        schema,
                        report: ReadReport::default(),
                        max_partition_bytes: 128 << 20,
                    });
                };
                let names = header_names(&first, opts.header);
                let types = if opts.infer_schema {
                    infer_types(&listing.files, &opts, names.len())?
                } else {
                    vec![DataType::Utf8; names.len()]
                };
                fields = names
                    .iter()
                    .zip(&types)
                    .map(|(n, t)| Field::new(n, t.clone(), true))
                    .collect();
                data_types = types;
            }
        }
        fields.extend(partition_fields(&listing.partition_columns));
        Ok(CsvTable {
            n_partition_cols: listing.partition_columns.len(),
            files: listing.files,
            opts: Arc::new(opts),
            data_types,
            corrupt_index,
            schema: Arc::new(Schema::new(fields)),
            report: ReadReport::default(),
            max_partition_bytes: 128 << 20,
        })
    }

    /// Sets the largest split a task reads (`spark.sql.files.maxPartitionBytes`).
    pub fn with_max_partition_bytes(mut self, bytes: u64) -> Self {
        self.max_partition_bytes = bytes.max(1);
        self
    }

    /// Malformed-row counts of the most recent scan of this table, per file.
    pub fn report(&self) -> ReadReport {
        self.report.clone()
    }

    /// The input files.
    pub fn files(&self) -> &[InputFile] {
        &self.files
    }
}

fn partition_fields(cols: &[(String, DataType)]) -> Vec<Field> {
    cols.iter()
        .map(|(n, t)| Field::new(n, t.clone(), true))
        .collect()
}

fn tokenizer_for(o: &CsvOptions) -> Tokenizer {
    Tokenizer {
        sep: o.sep,
        quote: o.quote,
        escape: o.escape,
        ignore_leading_ws: o.ignore_leading_ws,
        ignore_trailing_ws: o.ignore_trailing_ws,
        multi_line: o.multi_line,
    }
}

/// Infers column types over every row of every file, files in parallel.
fn infer_types(files: &[InputFile], opts: &CsvOptions, ncols: usize) -> Result<Vec<DataType>> {
    let inf = Inferrer::new(opts);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(files.len().max(1));
    let chunks: Vec<&[InputFile]> = files.chunks(files.len().div_ceil(threads).max(1)).collect();
    let results: Vec<Result<Vec<DataType>>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let inf = &inf;
                s.spawn(move || -> Result<Vec<DataType>> {
                    let mut types = vec![DataType::Null; ncols];
                    for f in *chunk {
                        infer_file(&f.path, opts, inf, &mut types)?;
                    }
                    Ok(types)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(DataSourceError::InvalidOption(
                        "inference thread panicked".into(),
                    ))
                })
            })
            .collect()
    });
    let mut merged = vec![DataType::Null; ncols];
    for r in results {
        for (m, t) in merged.iter_mut().zip(r?) {
            *m = infer::compatible(m, &t).unwrap_or(DataType::Utf8);
        }
    }
    Ok(merged.into_iter().map(infer::finish).collect())
}

fn infer_file(
    path: &Location,
    opts: &CsvOptions,
    inf: &Inferrer,
    types: &mut [DataType],
) -> Result<()> {
    let data = crate::compression::read_all(path)?;
    let tok = tokenizer_for(opts);
    let mut rec = Record::default();
    let mut pos = 0;
    let mut header_pending = opts.header;
    while pos < data.len() {
        let rest = &data[pos..];
        let line_end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| p + 1)
            .unwrap_or(rest.len());
        let line = &rest[..line_end];
        if super::tokenizer::is_skipped_line(line, opts.comment) {
            pos += line_end;
            continue;
        }
        let (used, _) = tok.next_record(rest, &mut rec);
        pos += used.max(1);
        if header_pending {
            header_pending = false;
            continue;
        }
        for (i, t) in types.iter_mut().enumerate().take(rec.fields.len()) {
            if *t == DataType::Utf8 {
                continue;
            }
            *t = inf.infer_field(t, Some(&rec.text(i, &opts.null_value, &opts.empty_value)));
        }
    }
    Ok(())
}

#[async_trait]
impl TableProvider for CsvTable {
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
        let n_table_data = self.schema.fields().len() - self.n_partition_cols;
        // Natural order: data/corrupt columns first, then partition columns.
        let mut natural: Vec<usize> = proj.iter().copied().filter(|&i| i < n_table_data).collect();
        natural.extend(proj.iter().copied().filter(|&i| i >= n_table_data));
        let perm: Vec<usize> = proj
            .iter()
            .map(|i| natural.iter().position(|n| n == i).unwrap_or(0))
            .collect();
        let output: Vec<Option<usize>> = natural
            .iter()
            .filter(|&&i| i < n_table_data)
            .map(|&i| match self.corrupt_index {
                Some(c) if c == i => None,
                Some(c) if i > c => Some(i - 1),
                _ => Some(i),
            })
            .collect();
        let natural_schema = Arc::new(self.schema.project(&natural)?);
        let projected_schema = Arc::new(self.schema.project(&proj)?);
        let wants_corrupt = output.iter().any(|o| o.is_none());
        let plan = DecodePlan {
            opts: self.opts.clone(),
            data_types: self.data_types.clone(),
            output,
            schema: natural_schema,
            validate_all: wants_corrupt || self.opts.mode != ParseMode::Permissive,
            batch_size: state.config().batch_size(),
        };
        let partition_cols: Vec<usize> = natural
            .iter()
            .filter(|&&i| i >= n_table_data)
            .map(|&i| i - n_table_data)
            .collect();
        // Splits as Spark's FilePartition: uncompressed files (without multiLine) are cut
        // into byte ranges of maxSplitBytes = min(spark.sql.files.maxPartitionBytes,
        // max(4 MB open cost, total bytes / parallelism)); splits are then packed
        // into at most target_partitions groups, largest first.
        let parallelism = state.config().target_partitions().max(1);
        let total: u64 = self.files.iter().map(|f| f.size).sum();
        let max_split = self
            .max_partition_bytes
            .min((4u64 << 20).max(total / parallelism as u64))
            .max(1);
        let mut splits: Vec<(usize, Option<(u64, u64)>, u64)> = Vec::new();
        for (i, f) in self.files.iter().enumerate() {
            let splittable = crate::compression::Codec::from_name(&f.path.file_name())
                .is_splittable()
                && !self.opts.multi_line;
            if splittable && f.size > max_split {
                let mut start = 0;
                while start < f.size {
                    let end = (start + max_split).min(f.size);
                    splits.push((i, Some((start, end)), end - start));
                    start = end;
                }
            } else {
                splits.push((i, None, f.size));
            }
        }
        let n_groups = parallelism.min(splits.len().max(1));
        let mut groups: Vec<(u64, Vec<(usize, Option<(u64, u64)>)>)> =
            vec![(0, Vec::new()); n_groups];
        let mut order: Vec<usize> = (0..splits.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(splits[i].2));
        for i in order {
            if let Some(g) = groups.iter_mut().min_by_key(|g| g.0) {
                g.0 += splits[i].2.max(1);
                g.1.push((splits[i].0, splits[i].1));
            }
        }
        let groups: Vec<Vec<(usize, Option<(u64, u64)>)>> = groups
            .into_iter()
            .map(|(_, mut g)| {
                g.sort_by_key(|(f, r)| (*f, r.map(|x| x.0)));
                g
            })
            .filter(|g| !g.is_empty())
            .collect();
        let groups = if groups.is_empty() {
            vec![vec![]]
        } else {
            groups
        };
        self.report.reset();
        let props = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(projected_schema.clone()),
            Partitioning::UnknownPartitioning(groups.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Ok(Arc::new(CsvScanExec {
            files: Arc::new(self.files.clone()),
            partition_types: self.schema.fields()[n_table_data..]
                .iter()
                .map(|f| f.data_type().clone())
                .collect(),
            partition_cols,
            groups,
            plan: Arc::new(plan),
            perm,
            schema: projected_schema,
            props,
            report: self.report.clone(),
        }))
    }
}

/// Physical scan of a [`CsvTable`]: partition `i` reads file group `i`.
#[derive(Debug)]
pub struct CsvScanExec {
    files: Arc<Vec<InputFile>>,
    partition_types: Vec<DataType>,
    partition_cols: Vec<usize>,
    groups: Vec<Vec<(usize, Option<(u64, u64)>)>>,
    plan: Arc<DecodePlan>,
    perm: Vec<usize>,
    schema: SchemaRef,
    props: Arc<PlanProperties>,
    report: ReadReport,
}

impl DisplayAs for CsvScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "SparkCsvScan: files={}, partitions={}, mode={:?}",
            self.files.len(),
            self.groups.len(),
            self.plan.opts.mode
        )
    }
}

fn partition_value(raw: Option<&str>, t: &DataType) -> ScalarValue {
    let s = ScalarValue::Utf8(raw.map(|r| r.to_string()));
    s.cast_to(t)
        .unwrap_or_else(|_| ScalarValue::try_from(t).unwrap_or(ScalarValue::Null))
}

impl ExecutionPlan for CsvScanExec {
    fn name(&self) -> &str {
        "SparkCsvScan"
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
        let plan = self.plan.clone();
        let perm = self.perm.clone();
        let pcols = self.partition_cols.clone();
        let ptypes = self.partition_types.clone();
        let report = self.report.clone();
        tokio::task::spawn_blocking(move || {
            let mut decoder = match FileDecoder::new(&plan) {
                Ok(d) => d,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e.into()));
                    return;
                }
            };
            for (fi, range) in group {
                let file = &files[fi];
                let values: Vec<ScalarValue> = pcols
                    .iter()
                    .map(|&c| partition_value(file.partition_values[c].as_deref(), &ptypes[c]))
                    .collect();
                let extra = |rows: usize| -> Vec<ArrayRef> {
                    values
                        .iter()
                        .map(|v| {
                            v.to_array_of_size(rows)
                                .unwrap_or_else(|_| new_null_array(&v.data_type(), rows))
                        })
                        .collect()
                };
                let mut emit = |b: RecordBatch| -> bool {
                    let b = b.project(&perm).map_err(DataFusionError::from);
                    tx.blocking_send(b).is_ok()
                };
                match decoder.decode_file(&file.path, range, &extra, &mut emit) {
                    Ok(r) => report.merge(&file.path.display(), r),
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e.into()));
                        return;
                    }
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
