//! `eio soak abandon`: opens sessions and abandons each at one of eight
//! steps, waits for the server to reap them, checks that every one is gone,
//! and reports the server's memory before, at the peak and after.
//!
//! The steps, in turn: right after the handshake; with a poll pending;
//! mid-POST (half the body); mid-upgrade after the WebSocket handshake,
//! after `2probe` and after `3probe` (before `5`); mid-frame on a WebSocket
//! session (half a frame); and a half-open WebSocket that never sends a FIN
//! (held by this tool until the server closes it).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::process::{PeakSampler, mib, rss_kib};
use crate::report::{ErrorLog, Report};
use crate::wire::{Target, next_text, open_packet, send_text};

/// Options of `eio soak abandon`.
#[derive(Debug, Args)]
pub(crate) struct AbandonArgs {
    /// The server's URL, e.g. http://127.0.0.1:5000 (plain HTTP, loopback).
    url: String,
    /// Sessions to open and abandon, spread evenly over the eight steps.
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Sessions being opened at once.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// The Engine.IO path.
    #[arg(long, default_value = "engine.io")]
    path: String,
    /// The server's upgrade timeout in milliseconds: sessions abandoned
    /// mid-upgrade may take that much longer to be reaped.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    upgrade_timeout: u64,
    /// The server's process id: report its RSS before, at the peak and
    /// after the sessions are reaped (Linux).
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// Fail when the RSS after reaping is more than this many percent above
    /// the baseline (with --server-pid).
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    max_rss_growth: f64,
    /// Seconds to let the server's allocator hand memory back after the
    /// sessions are gone, before the RSS "after" is read (with
    /// --server-pid).
    #[arg(long, value_name = "SECONDS", default_value_t = 15)]
    settle: u64,
    /// Sessions of a first round, abandoned and reaped before the baseline
    /// is read (0: none).
    #[arg(long, value_name = "N", default_value_t = 200)]
    warmup: usize,
    /// Print one JSON line on standard output instead of the summary.
    #[arg(long)]
    json: bool,
}

/// Where a session is abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    AfterHandshake,
    PollPending,
    MidPost,
    AfterWebSocketHandshake,
    After2Probe,
    After3Probe,
    MidFrame,
    HalfOpen,
}

impl Step {
    const ALL: [Self; 8] = [
        Self::AfterHandshake,
        Self::PollPending,
        Self::MidPost,
        Self::AfterWebSocketHandshake,
        Self::After2Probe,
        Self::After3Probe,
        Self::MidFrame,
        Self::HalfOpen,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::AfterHandshake => "after-handshake",
            Self::PollPending => "poll-pending",
            Self::MidPost => "mid-post",
            Self::AfterWebSocketHandshake => "after-ws-handshake",
            Self::After2Probe => "after-2probe",
            Self::After3Probe => "after-3probe",
            Self::MidFrame => "mid-frame",
            Self::HalfOpen => "half-open",
        }
    }
}

/// A session left behind: its id, how long the server may take to reap it,
/// and the connection kept open without a FIN (half-open).
#[derive(Debug)]
struct Abandoned {
    sid: String,
    reap_within: Duration,
    held: Option<TcpStream>,
}

/// Opens one session and abandons it at `step`.
async fn abandon(target: &Target, step: Step, upgrade: Duration) -> Result<Abandoned, String> {
    let pause = Duration::from_millis(20);
    if matches!(step, Step::MidFrame | Step::HalfOpen) {
        let mut ws = target.websocket(None).await?;
        let (sid, reap_within) = open_packet(&next_text(&mut ws).await?)?;
        let mut stream = ws.into_inner();
        let held = if step == Step::MidFrame {
            // A masked text frame of 5 bytes, cut after its first mask byte.
            stream
                .write_all(&[0x81, 0x85, 0x01])
                .await
                .map_err(|err| format!("write: {err}"))?;
            None
        } else {
            Some(stream)
        };
        return Ok(Abandoned {
            sid,
            reap_within,
            held,
        });
    }
    let (sid, reap_within) = target.polling_handshake().await?;
    let poll = format!("EIO=4&transport=polling&sid={sid}");
    let mut reap_within = reap_within;
    match step {
        Step::AfterHandshake => {}
        Step::PollPending => {
            let pending = target.send("GET", &poll, "", b"").await?;
            tokio::time::sleep(pause).await;
            drop(pending);
        }
        Step::MidPost => {
            let post = target
                .send(
                    "POST",
                    &poll,
                    "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 100\r\n",
                    b"4half of ",
                )
                .await?;
            tokio::time::sleep(pause).await;
            drop(post);
        }
        Step::AfterWebSocketHandshake | Step::After2Probe | Step::After3Probe => {
            reap_within += upgrade;
            let mut ws = target.websocket(Some(&sid)).await?;
            if step != Step::AfterWebSocketHandshake {
                send_text(&mut ws, "2probe").await?;
            }
            if step == Step::After3Probe {
                let answer = next_text(&mut ws).await?;
                if answer != "3probe" {
                    return Err(format!("the probe was answered {answer:?}"));
                }
            }
            drop(ws);
        }
        Step::MidFrame | Step::HalfOpen => unreachable!("handled above"),
    }
    Ok(Abandoned {
        sid,
        reap_within,
        held: None,
    })
}

/// Counts of the run, shared by the tasks.
#[derive(Debug, Default)]
struct Tally {
    errors: ErrorLog,
    reap_within_ms: AtomicU64,
}

/// What one round left: sessions abandoned, and how many were not reaped.
#[derive(Debug)]
struct Round {
    abandoned: usize,
    not_reaped: usize,
    opened_in: Duration,
    waited: Duration,
}

/// Opens `sessions` sessions, abandons them, waits for the server to reap
/// them and checks that every one is gone.
async fn round(
    target: &Target,
    sessions: usize,
    concurrency: usize,
    upgrade: Duration,
    tally: &Arc<Tally>,
) -> Result<Round, String> {
    let gate = Arc::new(Semaphore::new(concurrency));
    let opened = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let progress = crate::report::progress("abandon", {
        let opened = opened.clone();
        move || {
            format!(
                "{}/{sessions} sessions abandoned",
                opened.load(Ordering::Relaxed)
            )
        }
    });
    let mut tasks = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let step = Step::ALL[i % Step::ALL.len()];
        let permit = gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let (target, tally, opened) = (target.clone(), tally.clone(), opened.clone());
        tasks.push(tokio::spawn(async move {
            let result = abandon(&target, step, upgrade).await;
            drop(permit);
            match result {
                Ok(abandoned) => {
                    opened.fetch_add(1, Ordering::Relaxed);
                    let ms = u64::try_from(abandoned.reap_within.as_millis()).unwrap_or(u64::MAX);
                    tally.reap_within_ms.fetch_max(ms, Ordering::Relaxed);
                    Some((step, abandoned))
                }
                Err(err) => {
                    tally.errors.add(format!("{}: {err}", step.name()));
                    None
                }
            }
        }));
    }
    let mut abandoned = Vec::with_capacity(sessions);
    for task in tasks {
        if let Some(found) = task.await.map_err(|err| err.to_string())? {
            abandoned.push(found);
        }
    }
    let opened_in = started.elapsed();
    progress.abort();
    // Every session is reaped within its ping interval + ping timeout (plus
    // the upgrade timeout mid-upgrade), counted from the last one opened.
    let reap_within = Duration::from_millis(tally.reap_within_ms.load(Ordering::Relaxed));
    let waited = reap_within + Duration::from_secs(2);
    eprintln!(
        "abandon: {} sessions abandoned in {:.1} s; waiting {:.1} s for the server to reap them",
        abandoned.len(),
        opened_in.as_secs_f64(),
        waited.as_secs_f64()
    );
    tokio::time::sleep(waited).await;

    // Every session must be unknown now, and every held connection closed.
    let not_reaped = Arc::new(AtomicUsize::new(0));
    let count = abandoned.len();
    let mut checks = Vec::with_capacity(count);
    for (step, session) in abandoned {
        let permit = gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let (target, not_reaped, tally) = (target.clone(), not_reaped.clone(), tally.clone());
        checks.push(tokio::spawn(async move {
            let gone = check_gone(&target, session).await;
            drop(permit);
            if let Err(err) = gone {
                not_reaped.fetch_add(1, Ordering::Relaxed);
                tally.errors.add(format!("{}: {err}", step.name()));
            }
        }));
    }
    for check in checks {
        check.await.map_err(|err| err.to_string())?;
    }
    Ok(Round {
        abandoned: count,
        not_reaped: not_reaped.load(Ordering::Relaxed),
        opened_in,
        waited,
    })
}

/// Reads the server's RSS once its allocator had `settle` to hand freed
/// pages back (jemalloc's decay takes seconds).
async fn settled_rss(pid: Option<u32>, settle: u64) -> Result<Option<u64>, String> {
    let Some(pid) = pid else {
        return Ok(None);
    };
    eprintln!("abandon: letting the server's memory settle for {settle} s");
    tokio::time::sleep(Duration::from_secs(settle)).await;
    rss_kib(pid).map(Some)
}

/// Runs `eio soak abandon`.
pub(crate) async fn run(args: AbandonArgs) -> Result<(), String> {
    if args.sessions == 0 || args.concurrency == 0 {
        return Err("--sessions and --concurrency must be at least 1".to_owned());
    }
    let target = Target::parse(&args.url, &args.path)?;
    let upgrade = Duration::from_millis(args.upgrade_timeout);
    let tally = Arc::new(Tally::default());
    let fresh = args.server_pid.map(rss_kib).transpose()?;
    // The first sessions page the server's code in and fill its threads'
    // caches: a fixed cost, whatever the count. A warm-up round pays it
    // before the baseline is read.
    let mut baseline = fresh;
    if args.warmup > 0 {
        eprintln!("abandon: warm-up round of {} sessions", args.warmup);
        let warmup = round(&target, args.warmup, args.concurrency, upgrade, &tally).await?;
        if tally.errors.count() > 0 || warmup.not_reaped > 0 {
            eprintln!("abandon: the warm-up round failed");
        }
        baseline = settled_rss(args.server_pid, args.settle).await?;
    }
    let sampler = args.server_pid.map(PeakSampler::start);
    let main = round(&target, args.sessions, args.concurrency, upgrade, &tally).await?;
    let after = settled_rss(args.server_pid, args.settle).await?;

    let errors = tally.errors.count();
    let mut report = Report::new("abandon");
    report.count("sessions", main.abandoned as u64);
    report.count("steps", Step::ALL.len() as u64);
    report.count("not_reaped", main.not_reaped as u64);
    report.count("errors", errors as u64);
    report.seconds("open_seconds", main.opened_in);
    report.seconds("reap_wait_seconds", main.waited);
    let mut failed = errors > 0 || main.abandoned < args.sessions;
    report.line(format!(
        "{} sessions abandoned at {} steps in {:.1} s; {} not reaped after {:.1} s; {errors} errors",
        main.abandoned,
        Step::ALL.len(),
        main.opened_in.as_secs_f64(),
        main.not_reaped,
        main.waited.as_secs_f64(),
    ));
    if let (Some(fresh), Some(before), Some(sampler), Some(after)) =
        (fresh, baseline, &sampler, after)
    {
        let peak = sampler.peak().max(before).max(after);
        let growth = (after as f64 - before as f64) * 100.0 / before as f64;
        report.count("rss_fresh_kib", fresh);
        report.count("rss_before_kib", before);
        report.count("rss_peak_kib", peak);
        report.count("rss_after_kib", after);
        report.float("rss_growth_percent", growth);
        report.line(format!(
            "server RSS: {} before ({} fresh, before the warm-up), {} at the peak, {} after reaping: {growth:+.1}% of the baseline (limit {:+.0}%)",
            mib(before),
            mib(fresh),
            mib(peak),
            mib(after),
            args.max_rss_growth
        ));
        failed |= growth > args.max_rss_growth;
    }
    report.errors(&tally.errors.first());
    report.print(args.json);
    if failed {
        return Err("the soak failed (see above)".to_owned());
    }
    Ok(())
}

/// Checks that the server no longer knows `session`: a poll gets 400 with
/// code 1 ("Session ID unknown"), and a held connection was closed.
async fn check_gone(target: &Target, session: Abandoned) -> Result<(), String> {
    if let Some(mut held) = session.held {
        let mut buf = [0u8; 512];
        loop {
            match tokio::time::timeout(Duration::from_secs(2), held.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => break,
                Ok(Ok(_)) => {} // the last pings, the close frame
                Err(_) => return Err("the server left a half-open connection open".to_owned()),
            }
        }
    }
    let (status, body) = target
        .request(
            "GET",
            &format!("EIO=4&transport=polling&sid={}", session.sid),
            "",
            b"",
            Duration::from_secs(2),
        )
        .await
        .map_err(|err| format!("session still answering: {err}"))?;
    if status == 400 && body.contains("\"code\":1") {
        Ok(())
    } else {
        Err(format!(
            "session not reaped: a poll got {status} {body:.80}"
        ))
    }
}
