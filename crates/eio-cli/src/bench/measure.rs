//! What a benchmark measures: the window it counts in, the CPU both sides
//! used in it, latency percentiles and fairness between clients.

use std::time::{Duration, Instant};

use crate::process::{cpu_time, mib, rss_kib};
use crate::report::Report;

/// Above this share of its threads' time, the load generator says it was
/// saturated: the server may then be faster than measured.
const SATURATED: f64 = 0.9;

/// The measured window: after the warm-up, for the duration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) start: Instant,
    pub(crate) end: Instant,
}

impl Window {
    /// The window starting `warmup` from now and lasting `duration`.
    pub(crate) fn after(warmup: Duration, duration: Duration) -> Self {
        let start = Instant::now() + warmup;
        Self {
            start,
            end: start + duration,
        }
    }

    /// Whether an operation that began at `began` and ended now counts.
    pub(crate) fn counts(&self, began: Instant) -> bool {
        began >= self.start && Instant::now() <= self.end
    }

    /// Whether the window is over.
    pub(crate) fn over(&self) -> bool {
        Instant::now() >= self.end
    }
}

/// Waits out the window, reading the CPU times (the server's with `pid`) at
/// its start and end, then collects every client's result.
pub(crate) async fn run_window<T>(
    window: Window,
    pid: Option<u32>,
    threads: usize,
    clients: Vec<tokio::task::JoinHandle<T>>,
) -> Result<(Costs, Vec<T>), String> {
    tokio::time::sleep_until(window.start.into()).await;
    let meter = Meter::start(pid, threads)?;
    tokio::time::sleep_until(window.end.into()).await;
    let costs = meter.stop()?;
    let mut results = Vec::with_capacity(clients.len());
    for client in clients {
        results.push(client.await.map_err(|err| err.to_string())?);
    }
    Ok((costs, results))
}

/// CPU times at the start of the window.
#[derive(Debug)]
pub(crate) struct Meter {
    pid: Option<u32>,
    threads: usize,
    at: Instant,
    server: Option<Duration>,
    own: Duration,
}

/// What the window cost.
#[derive(Debug)]
pub(crate) struct Costs {
    elapsed: Duration,
    server_cpu: Option<Duration>,
    server_rss_kib: Option<u64>,
    own_busy: f64,
    threads: usize,
}

impl Meter {
    /// Reads the CPU times now (the server's with `pid`).
    pub(crate) fn start(pid: Option<u32>, threads: usize) -> Result<Self, String> {
        Ok(Self {
            pid,
            threads: threads.max(1),
            at: Instant::now(),
            server: pid.map(|pid| cpu_time(Some(pid))).transpose()?,
            own: cpu_time(None)?,
        })
    }

    /// Reads them again: the window's costs.
    pub(crate) fn stop(&self) -> Result<Costs, String> {
        let elapsed = self.at.elapsed();
        let server_cpu = match (self.pid, self.server) {
            (Some(pid), Some(before)) => Some(cpu_time(Some(pid))?.saturating_sub(before)),
            _ => None,
        };
        let own = cpu_time(None)?.saturating_sub(self.own);
        Ok(Costs {
            elapsed,
            server_cpu,
            server_rss_kib: self.pid.map(rss_kib).transpose()?,
            own_busy: own.as_secs_f64() / (elapsed.as_secs_f64() * self.threads as f64),
            threads: self.threads,
        })
    }
}

impl Costs {
    /// The window's length.
    pub(crate) fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Adds the costs to the report: server CPU per `unit` (of which there
    /// were `count`), its RSS, and the load generator's own load.
    pub(crate) fn add_to(&self, report: &mut Report, count: u64, unit: &str) {
        let busy = self.own_busy * 100.0;
        report.float("client_busy_percent", busy);
        report.flag("client_saturated", self.own_busy > SATURATED);
        if let Some(cpu) = self.server_cpu {
            let per = cpu.as_secs_f64() * 1e6 / count.max(1) as f64;
            report.float("server_cpu_seconds", cpu.as_secs_f64());
            report.float("server_cpu_us_per_op", per);
            report.line(format!(
                "server: {:.2} s of CPU in {:.1} s: {per:.1} µs per {unit}",
                cpu.as_secs_f64(),
                self.elapsed.as_secs_f64()
            ));
        }
        if let Some(rss) = self.server_rss_kib {
            report.count("server_rss_kib", rss);
            report.line(format!("server RSS: {}", mib(rss)));
        }
        report.line(format!(
            "load generator: {} thread(s), {busy:.0}% busy{}",
            self.threads,
            if self.own_busy > SATURATED {
                " — SATURATED: the server may be faster than measured (try --threads)"
            } else {
                ""
            }
        ));
    }
}

/// Adds latency percentiles (samples in microseconds) to the report.
pub(crate) fn latency(report: &mut Report, samples: &mut [u32], what: &str) {
    if samples.is_empty() {
        return;
    }
    samples.sort_unstable();
    let at = |p: f64| f64::from(samples[((samples.len() - 1) as f64 * p) as usize]) / 1000.0;
    let (p50, p99, max) = (at(0.5), at(0.99), at(1.0));
    report.float("p50_ms", p50);
    report.float("p99_ms", p99);
    report.float("max_ms", max);
    report.line(format!(
        "{what}: p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms"
    ));
}

/// Adds per-client fairness (operations each client completed) to the
/// report.
pub(crate) fn fairness(report: &mut Report, counts: &mut [u64], unit: &str) {
    if counts.is_empty() {
        return;
    }
    counts.sort_unstable();
    let (min, median, max) = (
        counts[0],
        counts[counts.len() / 2],
        counts[counts.len() - 1],
    );
    report.count("per_client_min", min);
    report.count("per_client_median", median);
    report.count("per_client_max", max);
    let spread = max as f64 / min.max(1) as f64;
    report.float("per_client_max_over_min", spread);
    report.line(format!(
        "fairness ({unit} per client): min {min}, median {median}, max {max} (max/min {spread:.2})"
    ));
}
