//! Synthetic iNaturalist export data for tests and benchmarks: `photos.csv.gz` in the
//! export's exact format (tab-separated, header, no quoting, empty field = null, one
//! gzip stream; see `../shared/inaturalist.md`) and a matching embeddings table
//! (`embeddings.parquet`: `photo_id` INT64, `embedding` FixedSizeList<Float32, dim>).
//!
//! Deterministic for a seed. A share of rows repeats an earlier photo under another
//! observation (same `photo_id` and `photo_uuid`, as the export does, ~0.1%), and a
//! share is malformed, cycling through the kinds a real export has: a stray tab
//! (wrong field count), a truncated row, a bad UUID, a number out of `smallint` range,
//! a non-numeric id. Vectors are a pure function of `(seed, photo_id)`
//! ([`embedding_for`]), so a test can check any stored vector without a copy.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, FixedSizeListArray, Float32Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// The header of `photos.csv` in the export.
pub const PHOTOS_HEADER: &str =
    "photo_uuid\tphoto_id\tobservation_uuid\tobserver_id\textension\tlicense\twidth\theight\tposition";

const LICENSES: [&str; 8] = [
    "CC-BY-NC",
    "CC-BY-NC",
    "CC-BY-NC",
    "CC-BY",
    "CC-BY-SA",
    "CC0",
    "CC-BY-NC-SA",
    "CC-BY-NC-ND",
];
const EXTENSIONS: [&str; 5] = ["jpeg", "jpeg", "jpg", "png", "gif"];

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Photo rows to write (including repeats and malformed rows).
    pub rows: u64,
    /// Share of rows that are malformed (0.006 = 0.6%).
    pub malformed_share: f64,
    /// Share of rows that repeat an earlier photo (0.001 = 0.1%).
    pub repeat_share: f64,
    /// Embedding dimension (512 for BioCLIP, 768 for BioCLIP 2); 0 = no embeddings file.
    pub dim: usize,
    /// PRNG seed.
    pub seed: u64,
    /// Share of distinct valid photos left out of the embeddings table (to exercise
    /// `MISSING_EMBEDDING`); 0 by default.
    pub missing_embedding_share: f64,
    /// Rows per row group of `embeddings.parquet` (default 65,536).
    pub row_group_rows: usize,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            rows: 10_000,
            malformed_share: 0.006,
            repeat_share: 0.001,
            dim: 512,
            seed: 42,
            missing_embedding_share: 0.0,
            row_group_rows: 65_536,
        }
    }
}

/// What was generated: the truth a test compares a sink against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenSummary {
    /// Data rows written (header excluded).
    pub rows: u64,
    /// Valid rows (including repeats).
    pub valid_rows: u64,
    /// Distinct photo_ids among valid rows (the records a sink must hold).
    pub distinct_ids: u64,
    /// Valid rows repeating an earlier photo_id.
    pub repeats: u64,
    /// Malformed rows, with their 1-based line numbers (header = line 1).
    pub malformed_lines: Vec<u64>,
    /// Embedding rows written (one per distinct valid photo_id, less the missing).
    pub embeddings: u64,
    /// Distinct valid photo_ids left out of the embeddings table, ascending.
    pub missing_embedding_ids: Vec<i64>,
}

/// Errors while writing the files.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Building or writing the Parquet file failed.
    #[error("cannot write {path}: {message}")]
    Parquet {
        /// The file.
        path: String,
        /// The cause.
        message: String,
    },
}

/// SplitMix64: small, fast, good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in `[0, n)`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// A random version-4 UUID in canonical text form.
    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }
}

/// The embedding of `photo_id` for `seed`: `dim` floats in `[-1, 1)`, L2-normalised.
pub fn embedding_for(seed: u64, photo_id: i64, dim: usize) -> Vec<f32> {
    let mut r = Rng::new(seed ^ (photo_id as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let mut v: Vec<f32> = (0..dim).map(|_| (r.unit() * 2.0 - 1.0) as f32).collect();
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::MIN_POSITIVE);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> GenError + '_ {
    move |source| GenError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `dir/photos.csv.gz` and (when `dim > 0`) `dir/embeddings.parquet`.
///
/// Errors: [`GenError`] naming the file that could not be written.
pub fn generate(dir: &Path, opts: &GenOptions) -> Result<GenSummary, GenError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let photos = dir.join("photos.csv.gz");
    let file = File::create(&photos).map_err(io(&photos))?;
    let mut out = BufWriter::with_capacity(
        1 << 20,
        flate2::write::GzEncoder::new(file, flate2::Compression::fast()),
    );
    writeln!(out, "{PHOTOS_HEADER}").map_err(io(&photos))?;
    let mut rng = Rng::new(opts.seed);
    let mut summary = GenSummary::default();
    let mut photo_id: i64 = 10_000_000;
    let mut ids: Vec<i64> = Vec::with_capacity(opts.rows as usize);
    // (photo_uuid, photo_id) of recent valid photos, for repeats.
    let mut recent: Vec<(String, i64)> = Vec::new();
    let mut malformed_kind = 0u64;
    for i in 0..opts.rows {
        let line_no = i + 2;
        let roll = rng.unit();
        let observation = rng.uuid();
        let observer = 1 + rng.below(9_000_000);
        let ext = EXTENSIONS[rng.below(EXTENSIONS.len() as u64) as usize];
        let license = LICENSES[rng.below(LICENSES.len() as u64) as usize];
        let (w, h) = if rng.below(2) == 0 {
            (2048, 683 + rng.below(1365))
        } else {
            (683 + rng.below(1365), 2048)
        };
        let position = if rng.below(3) == 0 { rng.below(6) } else { 0 };
        if roll < opts.malformed_share {
            photo_id += 1 + rng.below(3) as i64;
            let uuid = rng.uuid();
            let line = match malformed_kind % 5 {
                0 => format!("{uuid}\t{photo_id}\t{observation}\t{observer}\t{ext}\t{license}\t{w}\t{h}\tsee\tnotes\t{position}"),
                1 => format!("{uuid}\t{photo_id}\t{observation}\t{observer}\t{ext}"),
                2 => format!("{}\t{photo_id}\t{observation}\t{observer}\t{ext}\t{license}\t{w}\t{h}\t{position}", &uuid[..30]),
                3 => format!("{uuid}\t{photo_id}\t{observation}\t{observer}\t{ext}\t{license}\t{}\t{h}\t{position}", 70_000 + w),
                _ => format!("{uuid}\tx{photo_id}\t{observation}\t{observer}\t{ext}\t{license}\t{w}\t{h}\t{position}"),
            };
            malformed_kind += 1;
            writeln!(out, "{line}").map_err(io(&photos))?;
            summary.malformed_lines.push(line_no);
        } else if roll < opts.malformed_share + opts.repeat_share && !recent.is_empty() {
            let (uuid, id) = recent[rng.below(recent.len() as u64) as usize].clone();
            writeln!(
                out,
                "{uuid}\t{id}\t{observation}\t{observer}\t{ext}\t{license}\t{w}\t{h}\t{position}"
            )
            .map_err(io(&photos))?;
            summary.valid_rows += 1;
            summary.repeats += 1;
        } else {
            photo_id += 1 + rng.below(3) as i64;
            let uuid = rng.uuid();
            // An observer id may be missing (empty field = null), as in the export.
            let observer = if rng.below(500) == 0 {
                String::new()
            } else {
                observer.to_string()
            };
            writeln!(out, "{uuid}\t{photo_id}\t{observation}\t{observer}\t{ext}\t{license}\t{w}\t{h}\t{position}")
                .map_err(io(&photos))?;
            summary.valid_rows += 1;
            ids.push(photo_id);
            if recent.len() < 1024 {
                recent.push((uuid, photo_id));
            } else {
                let k = rng.below(1024) as usize;
                recent[k] = (uuid, photo_id);
            }
        }
        summary.rows += 1;
    }
    let enc = out.into_inner().map_err(|e| GenError::Io {
        path: photos.display().to_string(),
        source: e.into_error(),
    })?;
    enc.finish().map_err(io(&photos))?;
    summary.distinct_ids = ids.len() as u64;
    if opts.dim > 0 {
        let mut keep = Vec::with_capacity(ids.len());
        let mut drop_rng = Rng::new(opts.seed ^ 0x5eed);
        for id in ids {
            if drop_rng.unit() < opts.missing_embedding_share {
                summary.missing_embedding_ids.push(id);
            } else {
                keep.push(id);
            }
        }
        summary.embeddings = write_embeddings(
            &dir.join("embeddings.parquet"),
            &keep,
            opts.dim,
            opts.seed,
            opts.row_group_rows,
        )?;
    }
    Ok(summary)
}

/// Writes `path` with one row per id: `photo_id` INT64 and `embedding`
/// `FixedSizeList<Float32, dim>` = [`embedding_for`]`(seed, id, dim)`, in row groups of
/// `row_group_rows` rows.
///
/// Errors: [`GenError`] naming the file.
pub fn write_embeddings(
    path: &Path,
    ids: &[i64],
    dim: usize,
    seed: u64,
    row_group_rows: usize,
) -> Result<u64, GenError> {
    let err = |e: &dyn std::fmt::Display| GenError::Parquet {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let item = Arc::new(Field::new("item", DataType::Float32, false));
    let schema = Arc::new(Schema::new(vec![
        Field::new("photo_id", DataType::Int64, false),
        Field::new(
            "embedding",
            DataType::FixedSizeList(item.clone(), dim as i32),
            false,
        ),
    ]));
    let file = File::create(path).map_err(io(path))?;
    // 64k-row groups (128 MiB at 512-d): bounded memory, and readers can split.
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(row_group_rows.max(1)))
        .build();
    let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| err(&e))?;
    for chunk in ids.chunks(8192.min(row_group_rows.max(1))) {
        let mut values = Vec::with_capacity(chunk.len() * dim);
        for &id in chunk {
            values.extend(embedding_for(seed, id, dim));
        }
        let list = FixedSizeListArray::try_new(
            item.clone(),
            dim as i32,
            Arc::new(Float32Array::from(values)),
            None,
        )
        .map_err(|e| err(&e))?;
        let cols: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(chunk.to_vec())), Arc::new(list)];
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| err(&e))?;
        w.write(&batch).map_err(|e| err(&e))?;
    }
    w.close().map_err(|e| err(&e))?;
    Ok(ids.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_canonical_v4() {
        let mut r = Rng::new(7);
        for _ in 0..100 {
            let u = r.uuid();
            assert_eq!(u.len(), 36, "{u}");
            let parts: Vec<&str> = u.split('-').collect();
            assert_eq!(
                parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
                vec![8, 4, 4, 4, 12],
                "{u}"
            );
            assert!(parts[2].starts_with('4'), "{u}");
            assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{u}");
        }
    }

    #[test]
    fn embeddings_are_deterministic_unit_vectors() {
        let a = embedding_for(1, 42, 512);
        assert_eq!(a, embedding_for(1, 42, 512));
        assert_ne!(a, embedding_for(1, 43, 512));
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    }
}
