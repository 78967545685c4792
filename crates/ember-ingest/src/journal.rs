//! The durable journal of an ingestion job: a JSON-lines file (`journal.jsonl` in the
//! job's work directory) with one entry per event, each appended and `fsync`ed before
//! the job goes on. The first entry names the job definition (a fingerprint of the
//! job file); a task is committed once its `commit` entry is on disk. A crash can only
//! tear the last line, which reading ignores.
//!
//! Entries: `{"event":"job","fingerprint":"…"}`, `{"event":"start","task":"…"}` (the
//! task is about to write to the sink), `{"event":"commit","task":"…","counts":{…}}`,
//! `{"event":"sink_created"}` (the job created the sink table, so a task that never
//! started cannot have written to it), `{"event":"done"}`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{IngestError, Result};

/// One journal entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Entry {
    /// The job definition this journal belongs to.
    Job {
        /// Fingerprint of the job definition.
        fingerprint: String,
    },
    /// A task is about to write to the sink.
    Start {
        /// Task id.
        task: String,
    },
    /// A task's output is durable (sink rows, staged rows, dead letters).
    Commit {
        /// Task id.
        task: String,
        /// Counters of the task (rows read, staged, dead-lettered, ingested...).
        #[serde(default)]
        counts: BTreeMap<String, u64>,
    },
    /// The sink table was created by this job.
    SinkCreated,
    /// All tasks committed and the index built.
    Done,
}

/// An open journal: what is on disk, and a handle to append.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    committed: Mutex<HashMap<String, BTreeMap<String, u64>>>,
    started: Mutex<HashSet<String>>,
    sink_created: std::sync::atomic::AtomicBool,
    done: bool,
}

impl Journal {
    /// Opens (or creates) the journal in `dir` for the job with `fingerprint`.
    ///
    /// Errors: [`IngestError::Journal`] when an existing journal was written for a
    /// different job definition (the fingerprint differs) or a line other than the
    /// last is not a valid entry; [`IngestError::Io`] on file errors.
    pub fn open(dir: &Path, fingerprint: &str) -> Result<Journal> {
        std::fs::create_dir_all(dir).map_err(|e| IngestError::io(dir, e))?;
        let path = dir.join("journal.jsonl");
        let jerr = |message: String| IngestError::Journal {
            path: path.display().to_string(),
            message,
        };
        let text = match std::fs::read(&path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(IngestError::io(&path, e)),
        };
        let mut committed = HashMap::new();
        let mut started = HashSet::new();
        let (mut sink_created, mut done, mut seen_job) = (false, false, false);
        let lines: Vec<&str> = text.split('\n').collect();
        // A complete journal ends with '\n'; anything after the last one is a torn write.
        let complete = lines.len().saturating_sub(1);
        for (i, line) in lines[..complete].iter().enumerate() {
            let entry: Entry =
                serde_json::from_str(line).map_err(|e| jerr(format!("line {}: {e}", i + 1)))?;
            match entry {
                Entry::Job { fingerprint: f } => {
                    if f != fingerprint {
                        return Err(jerr(format!(
                            "written for another definition of the job (fingerprint {f}, now {fingerprint}); use --restart to start over"
                        )));
                    }
                    seen_job = true;
                }
                Entry::Start { task } => {
                    started.insert(task);
                }
                Entry::Commit { task, counts } => {
                    committed.insert(task, counts);
                }
                Entry::SinkCreated => sink_created = true,
                Entry::Done => done = true,
            }
        }
        let torn = !lines[complete].is_empty();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| IngestError::io(&path, e))?;
        if torn {
            // Cut the torn tail so the next entry starts on its own line.
            let keep: usize = lines[..complete].iter().map(|l| l.len() + 1).sum();
            file.set_len(keep as u64)
                .map_err(|e| IngestError::io(&path, e))?;
        }
        let journal = Journal {
            path,
            file: Mutex::new(file),
            committed: Mutex::new(committed),
            started: Mutex::new(started),
            sink_created: std::sync::atomic::AtomicBool::new(sink_created),
            done,
        };
        if !seen_job {
            journal.append(&Entry::Job {
                fingerprint: fingerprint.to_string(),
            })?;
        }
        Ok(journal)
    }

    /// Whether a journal with entries exists in `dir`.
    pub fn exists(dir: &Path) -> bool {
        std::fs::metadata(dir.join("journal.jsonl")).is_ok_and(|m| m.len() > 0)
    }

    /// Appends `entry` and syncs it to disk before returning.
    ///
    /// Errors: [`IngestError::Io`] naming the journal.
    pub fn append(&self, entry: &Entry) -> Result<()> {
        let mut line = serde_json::to_string(entry).map_err(|e| IngestError::Journal {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })?;
        line.push('\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(line.as_bytes())
            .and_then(|_| f.sync_data())
            .map_err(|e| IngestError::io(&self.path, e))?;
        drop(f);
        match entry {
            Entry::Commit { task, counts } => {
                self.committed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(task.clone(), counts.clone());
            }
            Entry::Start { task } => {
                self.started
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(task.clone());
            }
            Entry::SinkCreated => self
                .sink_created
                .store(true, std::sync::atomic::Ordering::Relaxed),
            _ => {}
        }
        Ok(())
    }

    /// Records that `task` is about to write to the sink.
    pub fn start(&self, task: &str) -> Result<()> {
        self.append(&Entry::Start {
            task: task.to_string(),
        })
    }

    /// Records that `task` committed with `counts`.
    pub fn commit(&self, task: &str, counts: BTreeMap<String, u64>) -> Result<()> {
        self.append(&Entry::Commit {
            task: task.to_string(),
            counts,
        })
    }

    /// The counters of `task` if it committed.
    pub fn committed(&self, task: &str) -> Option<BTreeMap<String, u64>> {
        self.committed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(task)
            .cloned()
    }

    /// Whether `task` had started writing to the sink (in this or an earlier run).
    pub fn was_started(&self, task: &str) -> bool {
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(task)
    }

    /// Sum of counter `key` over committed tasks whose id starts with `prefix`.
    pub fn sum(&self, prefix: &str, key: &str) -> u64 {
        self.committed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(t, _)| t.starts_with(prefix))
            .filter_map(|(_, c)| c.get(key))
            .sum()
    }

    /// Whether the sink table was created by this job.
    pub fn sink_created(&self) -> bool {
        self.sink_created.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether an earlier run finished the job.
    pub fn done(&self) -> bool {
        self.done
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_survive_reopen_and_torn_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        {
            let j = Journal::open(dir.path(), "fp1").unwrap();
            j.start("s-1").unwrap();
            j.commit("p-1", BTreeMap::from([("rows".to_string(), 10)]))
                .unwrap();
            j.commit("p-2", BTreeMap::from([("rows".to_string(), 5)]))
                .unwrap();
        }
        // A crash in the middle of writing an entry.
        let path = dir.path().join("journal.jsonl");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"event\":\"commit\",\"task\":\"p-3\",\"cou")
            .unwrap();
        drop(f);
        let j = Journal::open(dir.path(), "fp1").unwrap();
        assert_eq!(j.sum("p-", "rows"), 15);
        assert!(j.committed("p-3").is_none());
        assert!(j.was_started("s-1") && !j.was_started("s-2"));
        j.commit("p-3", BTreeMap::new()).unwrap();
        let j = Journal::open(dir.path(), "fp1").unwrap();
        assert!(j.committed("p-3").is_some());
        let err = Journal::open(dir.path(), "fp2").unwrap_err().to_string();
        assert!(err.contains("another definition"), "{err}");
    }
}
