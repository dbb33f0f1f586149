//! The server's resident memory, read from `/proc/PID/status` (Linux), and
//! a sampler that keeps its peak while a soak runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;

/// Reads the resident set size of process `pid`, in KiB.
///
/// # Errors
///
/// A message when the process is gone or `/proc` is not there (not Linux).
pub(crate) fn rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|err| format!("cannot read the memory of process {pid}: {err}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmRSS line in /proc/{pid}/status"))
}

/// Samples a process's RSS every 100 ms and keeps the highest reading.
#[derive(Debug)]
pub(crate) struct PeakSampler {
    peak: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl PeakSampler {
    /// Starts sampling `pid`.
    pub(crate) fn start(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn({
            let peak = peak.clone();
            async move {
                loop {
                    if let Ok(kib) = rss_kib(pid) {
                        peak.fetch_max(kib, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        });
        Self { peak, task }
    }

    /// The highest reading so far, in KiB.
    pub(crate) fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for PeakSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Formats KiB as MiB with one decimal.
pub(crate) fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
