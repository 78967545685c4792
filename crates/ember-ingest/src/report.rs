//! The job summary `ember ingest` prints and stores as `report.json` in the work
//! directory (`ember ingest job.toml --report` prints the stored one).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IngestError, Result};

/// Counts of one job (over all its runs, unless said otherwise).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Job name.
    pub job: String,
    /// Whether every task has committed.
    pub complete: bool,
    /// Source records read (data lines, header excluded).
    pub read: u64,
    /// Records that parsed and passed the checks.
    pub valid: u64,
    /// Valid records merged into an earlier one with the same key.
    pub duplicates_merged: u64,
    /// Records written to the sink by committed tasks.
    pub ingested: u64,
    /// Rows in the sink table at the end.
    pub sink_rows: u64,
    /// Dead-lettered records by error class.
    pub dead_lettered: BTreeMap<String, u64>,
    /// Embedding rows whose key is not a valid source record.
    pub unused_embeddings: u64,
    /// Task attempts that failed and were retried (this run).
    pub retried: u64,
    /// Tasks skipped because an earlier run committed them (this run).
    pub tasks_skipped: u64,
    /// Tasks run (this run).
    pub tasks_run: u64,
    /// Wall time of this run, seconds.
    pub elapsed_s: f64,
    /// Source records read per second in this run.
    pub rows_per_s: f64,
    /// The dead-letter table's directory.
    pub dead_letter_table: String,
}

impl Report {
    /// All dead-lettered records.
    pub fn dead_lettered_total(&self) -> u64 {
        self.dead_lettered.values().sum()
    }

    /// Writes `report.json` into `dir`.
    ///
    /// Errors: [`IngestError::Io`].
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join("report.json");
        let text =
            serde_json::to_string_pretty(self).map_err(|e| IngestError::Config(e.to_string()))?;
        std::fs::write(&path, text).map_err(|e| IngestError::io(&path, e))
    }

    /// Reads `report.json` from `dir`.
    ///
    /// Errors: [`IngestError::Io`] when there is none (the job never finished a run).
    pub fn load(dir: &Path) -> Result<Report> {
        let path = dir.join("report.json");
        let text = std::fs::read_to_string(&path).map_err(|e| IngestError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| IngestError::Journal {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "job {}: {}",
            self.job,
            if self.complete {
                "complete"
            } else {
                "incomplete"
            }
        )?;
        writeln!(f, "  read               {:>12}", self.read)?;
        writeln!(f, "  valid              {:>12}", self.valid)?;
        writeln!(f, "  duplicates merged  {:>12}", self.duplicates_merged)?;
        writeln!(f, "  ingested           {:>12}", self.ingested)?;
        writeln!(f, "  sink rows          {:>12}", self.sink_rows)?;
        writeln!(
            f,
            "  dead-lettered      {:>12}   ({})",
            self.dead_lettered_total(),
            self.dead_letter_table
        )?;
        for (class, n) in &self.dead_lettered {
            writeln!(f, "    {class:<28} {n:>8}")?;
        }
        writeln!(f, "  unused embeddings  {:>12}", self.unused_embeddings)?;
        writeln!(f, "  retried attempts   {:>12}", self.retried)?;
        writeln!(
            f,
            "  tasks run/skipped  {:>12}",
            format!("{}/{}", self.tasks_run, self.tasks_skipped)
        )?;
        write!(
            f,
            "  elapsed            {:>11.2}s   {:.0} rows/s",
            self.elapsed_s, self.rows_per_s
        )
    }
}
