//! `eio soak hold`: opens many idle WebSocket sessions and holds them for a
//! while. Each client answers the server's pings (a missed one closes the
//! session with "ping timeout") and watches for the server's (a silent
//! server ends it too), so a session that survives the hold answered every
//! ping. Reports drops, and with `--server-pid` the server's RSS per session.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use engineio::Transport;
use engineio::client::{Client, Event};
use tokio::sync::{Semaphore, watch};

use crate::process::{mib, rss_kib};
use crate::report::{ErrorLog, Report, progress};

/// Options of `eio soak hold`.
#[derive(Debug, Args)]
pub(crate) struct HoldArgs {
    /// The server's URL, e.g. http://127.0.0.1:5000.
    url: String,
    /// Idle WebSocket sessions to open (each takes one open file here and
    /// one in the server: mind `ulimit -n`).
    #[arg(long, default_value_t = 19_000)]
    sessions: usize,
    /// Seconds to hold them once all are open.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    duration: u64,
    /// Sessions connecting at once.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// The Engine.IO path.
    #[arg(long, default_value = "engine.io")]
    path: String,
    /// The server's process id: report its RSS per session (Linux).
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// Seconds to let the server's allocator hand memory back after the
    /// sessions closed, before the RSS "after" is read (with --server-pid).
    #[arg(long, value_name = "SECONDS", default_value_t = 15)]
    settle: u64,
    /// Print one JSON line on standard output instead of the summary.
    #[arg(long)]
    json: bool,
}

/// Counts of the run, shared by the clients.
#[derive(Debug, Default)]
struct Tally {
    connected: AtomicUsize,
    settled: AtomicUsize,
    dropped: AtomicUsize,
    errors: ErrorLog,
}

/// Runs `eio soak hold`.
pub(crate) async fn run(args: HoldArgs) -> Result<(), String> {
    if args.sessions == 0 || args.concurrency == 0 {
        return Err("--sessions and --concurrency must be at least 1".to_owned());
    }
    let baseline = args.server_pid.map(rss_kib).transpose()?;
    let tally = Arc::new(Tally::default());
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let (release, released) = watch::channel(false);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.sessions);
    for i in 0..args.sessions {
        let (tally, gate, released) = (tally.clone(), gate.clone(), released.clone());
        let (url, path) = (args.url.clone(), args.path.clone());
        tasks.push(tokio::spawn(async move {
            hold_one(i, &url, &path, &tally, &gate, released).await;
        }));
    }
    let watch = progress("hold", {
        let tally = tally.clone();
        let sessions = args.sessions;
        move || {
            format!(
                "{}/{sessions} open, {} dropped, {} errors",
                tally.connected.load(Ordering::Relaxed),
                tally.dropped.load(Ordering::Relaxed),
                tally.errors.count()
            )
        }
    });
    while tally.settled.load(Ordering::Relaxed) < args.sessions {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let opened_in = started.elapsed();
    let opened = tally.connected.load(Ordering::Relaxed);
    eprintln!(
        "hold: {opened} sessions open in {:.1} s; holding them {} s",
        opened_in.as_secs_f64(),
        args.duration
    );
    // The server's RSS while holding: sampled during the hold, the highest
    // reading kept.
    let mut held_rss = 0;
    let hold_end = Instant::now() + Duration::from_secs(args.duration);
    while Instant::now() < hold_end {
        if let Some(pid) = args.server_pid {
            held_rss = held_rss.max(rss_kib(pid)?);
        }
        tokio::time::sleep(Duration::from_secs(1).min(hold_end - Instant::now())).await;
    }
    let survived = opened - tally.dropped.load(Ordering::Relaxed);
    let _ = release.send(true);
    for task in tasks {
        task.await.map_err(|err| err.to_string())?;
    }
    watch.abort();
    if args.server_pid.is_some() {
        eprintln!(
            "hold: letting the server's memory settle for {} s",
            args.settle
        );
        tokio::time::sleep(Duration::from_secs(args.settle)).await;
    }
    let after = args.server_pid.map(rss_kib).transpose()?;

    let dropped = tally.dropped.load(Ordering::Relaxed) as u64;
    let errors = tally.errors.count() as u64;
    let mut report = Report::new("hold");
    report.count("sessions", opened as u64);
    report.count("survived", survived as u64);
    report.count("dropped", dropped);
    report.count("errors", errors);
    report.seconds("open_seconds", opened_in);
    report.count("held_seconds", args.duration);
    report.line(format!(
        "{opened} WebSocket sessions opened in {:.1} s and held {} s: {survived} survived, {dropped} dropped, {errors} errors",
        opened_in.as_secs_f64(),
        args.duration
    ));
    if let (Some(before), Some(after)) = (baseline, after) {
        let per_session = (held_rss.saturating_sub(before)) as f64 / opened.max(1) as f64;
        report.count("rss_before_kib", before);
        report.count("rss_held_kib", held_rss);
        report.count("rss_after_kib", after);
        report.float("rss_per_session_kib", per_session);
        report.line(format!(
            "server RSS: {} before, {} holding them ({per_session:.1} KiB per session), {} after they closed",
            mib(before),
            mib(held_rss),
            mib(after)
        ));
    }
    report.errors(&tally.errors.first());
    report.print(args.json);
    if errors > 0 || dropped > 0 || opened < args.sessions {
        return Err("the hold failed (see above)".to_owned());
    }
    Ok(())
}

/// One idle session: connects, then waits for the release, reporting a
/// disconnect before it as a drop.
async fn hold_one(
    i: usize,
    url: &str,
    path: &str,
    tally: &Tally,
    gate: &Semaphore,
    mut released: watch::Receiver<bool>,
) {
    let client = match Client::builder()
        .transports([Transport::WebSocket])
        .path(path)
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            tally.settled.fetch_add(1, Ordering::Relaxed);
            tally.errors.add(format!("session {i}: {err}"));
            return;
        }
    };
    let connected = {
        let _permit = gate.acquire().await;
        client.connect(url).await
    };
    tally.settled.fetch_add(1, Ordering::Relaxed);
    if let Err(err) = connected {
        tally
            .errors
            .add(format!("session {i}: cannot connect: {err}"));
        return;
    }
    tally.connected.fetch_add(1, Ordering::Relaxed);
    loop {
        tokio::select! {
            event = client.recv() => match event {
                Some(Event::Disconnect(reason)) => {
                    tally.dropped.fetch_add(1, Ordering::Relaxed);
                    tally.errors.add(format!("session {i} dropped: {reason}"));
                    return;
                }
                None => return,
                Some(_) => {}
            },
            _ = released.changed() => break,
        }
    }
    client.disconnect().await;
}
