//! `eio bench hold`: idle WebSocket sessions held open for the duration,
//! each answering the server's pings; reports drops and, with
//! `--server-pid`, the server's RSS per session and its CPU per session-second.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::sync::Semaphore;

use super::Common;
use super::measure::Meter;
use super::ws::WsSession;
use crate::process::{mib, rss_kib};
use crate::report::{Report, progress};
use crate::wire::Target;

/// Options of `eio bench hold`.
#[derive(Debug, Args)]
pub(crate) struct HoldArgs {
    #[command(flatten)]
    pub(super) common: Common,
    /// Idle sessions (each takes one open file here and one in the server).
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Sessions connecting at once.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
}

/// Runs `eio bench hold`.
pub(crate) async fn run(args: HoldArgs) -> Result<(), String> {
    if args.sessions == 0 || args.concurrency == 0 {
        return Err("--sessions and --concurrency must be at least 1".to_owned());
    }
    let target = Target::parse(&args.common.url, &args.common.path)?;
    let baseline = args.common.server_pid.map(rss_kib).transpose()?;
    let opened = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let watch = progress("hold", {
        let (opened, dropped) = (opened.clone(), dropped.clone());
        move || {
            format!(
                "{} open, {} dropped",
                opened.load(Ordering::Relaxed),
                dropped.load(Ordering::Relaxed)
            )
        }
    });
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let mut opening = Vec::with_capacity(args.sessions);
    for _ in 0..args.sessions {
        let (target, gate, opened) = (target.clone(), gate.clone(), opened.clone());
        opening.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            let session = WsSession::open(&target).await;
            if session.is_ok() {
                opened.fetch_add(1, Ordering::Relaxed);
            }
            session
        }));
    }
    let mut sessions = Vec::with_capacity(args.sessions);
    let mut first_error = None;
    for task in opening {
        match task.await.map_err(|err| err.to_string())? {
            Ok(session) => sessions.push(session),
            Err(err) => first_error = first_error.or(Some(err)),
        }
    }
    let open_seconds = started.elapsed().as_secs_f64();
    let count = sessions.len();
    // Hold: every session reads (answering pings) until the end.
    let hold_end = Instant::now() + args.common.warmup() + args.common.duration();
    let mut holders = Vec::with_capacity(count);
    for mut session in sessions {
        let dropped = dropped.clone();
        holders.push(tokio::spawn(async move {
            loop {
                match tokio::time::timeout_at(hold_end.into(), session.recv()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) => {
                        dropped.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Err(_) => break,
                }
            }
            session.close().await;
        }));
    }
    tokio::time::sleep(args.common.warmup()).await;
    let meter = Meter::start(args.common.server_pid, args.common.threads)?;
    let mut held_rss = 0;
    while Instant::now() < hold_end {
        if let Some(pid) = args.common.server_pid {
            held_rss = held_rss.max(rss_kib(pid)?);
        }
        tokio::time::sleep(Duration::from_millis(500).min(hold_end - Instant::now())).await;
    }
    let costs = meter.stop()?;
    let dropped_now = dropped.load(Ordering::Relaxed);
    for holder in holders {
        holder.await.map_err(|err| err.to_string())?;
    }
    watch.abort();

    let mut report = Report::new("hold");
    report.count("sessions", count as u64);
    report.count("dropped", dropped_now as u64);
    report.count("errors", (args.sessions - count + dropped_now) as u64);
    report.float("open_seconds", open_seconds);
    report.float("seconds", costs.elapsed().as_secs_f64());
    report.line(format!(
        "hold: {count} of {} WebSocket sessions opened in {open_seconds:.1} s, held {:.1} s: {dropped_now} dropped",
        args.sessions,
        costs.elapsed().as_secs_f64()
    ));
    if let Some(before) = baseline {
        let per_session = held_rss.saturating_sub(before) as f64 / count.max(1) as f64;
        report.count("rss_before_kib", before);
        report.count("rss_held_kib", held_rss);
        report.float("kib_per_session", per_session);
        report.line(format!(
            "server RSS: {} before, {} holding them: {per_session:.2} KiB per session",
            mib(before),
            mib(held_rss)
        ));
    }
    costs.add_to(&mut report, count as u64, "session over the window");
    report.errors(&first_error.into_iter().collect::<Vec<_>>());
    report.print(args.common.json);
    Ok(())
}
