//! Stage progress: an indicatif bar per stage on a terminal (rows, rows/s, ETA when
//! the total is known), otherwise an `info` log line at most every 5 seconds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress of a whole job: one line per stage.
#[derive(Debug, Clone)]
pub struct JobProgress {
    multi: Option<MultiProgress>,
}

impl JobProgress {
    /// Bars when `bars` (stderr is a terminal), log lines otherwise.
    pub fn new(bars: bool) -> JobProgress {
        JobProgress {
            multi: bars.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }

    /// A stage counting rows; `total` when known.
    pub fn stage(&self, name: &str, total: Option<u64>) -> StageProgress {
        let bar = self.multi.as_ref().map(|m| {
            let bar = match total {
                Some(t) => ProgressBar::new(t).with_style(
                    ProgressStyle::with_template(
                        "{prefix:>8} [{bar:30}] {human_pos}/{human_len} rows  {per_sec}  ETA {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                ),
                None => ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template(
                        "{prefix:>8} {spinner} {human_pos} rows  {per_sec}  {elapsed}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                ),
            };
            let bar = m.add(bar.with_prefix(name.to_string()));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        StageProgress {
            name: name.to_string(),
            total,
            bar,
            rows: AtomicU64::new(0),
            start: Instant::now(),
            last_log: Mutex::new(Instant::now()),
        }
    }
}

/// Progress of one stage.
#[derive(Debug)]
pub struct StageProgress {
    name: String,
    total: Option<u64>,
    bar: Option<ProgressBar>,
    rows: AtomicU64,
    start: Instant,
    last_log: Mutex<Instant>,
}

impl StageProgress {
    /// Adds `n` rows.
    pub fn inc(&self, n: u64) {
        let rows = self.rows.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(b) = &self.bar {
            b.inc(n);
            return;
        }
        let mut last = self.last_log.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= Duration::from_secs(5) {
            *last = Instant::now();
            let secs = self.start.elapsed().as_secs_f64().max(1e-9);
            match self.total {
                Some(t) => tracing::info!(
                    stage = %self.name,
                    "{rows}/{t} rows ({:.0}%), {:.0} rows/s",
                    100.0 * rows as f64 / t.max(1) as f64,
                    rows as f64 / secs
                ),
                None => {
                    tracing::info!(stage = %self.name, "{rows} rows, {:.0} rows/s", rows as f64 / secs)
                }
            }
        }
    }

    /// Rows so far.
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    /// Ends the stage (the bar stays on screen; a log line either way).
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
        let secs = self.start.elapsed().as_secs_f64();
        tracing::info!(stage = %self.name, "done: {} rows in {secs:.2}s", self.rows());
    }
}
