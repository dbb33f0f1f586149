//! `eio bench broadcast`: many WebSocket sessions, and one more that asks
//! the server to send a message to every session (`broadcast:<text>`, which
//! `eio serve --broadcast` and the Node test server understand), round after
//! round: the time until the last client has it, and the server's CPU per
//! recipient.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::sync::{Notify, Semaphore};

use super::Common;
use super::measure::{Meter, latency};
use super::ws::WsSession;
use crate::report::{Report, progress};
use crate::wire::Target;

/// How long a round may take before its missing copies count as errors.
const ROUND_TIMEOUT: Duration = Duration::from_secs(10);

/// Options of `eio bench broadcast`.
#[derive(Debug, Args)]
pub(crate) struct BroadcastArgs {
    #[command(flatten)]
    pub(super) common: Common,
    /// Receiving sessions.
    #[arg(long, default_value_t = 10_000)]
    clients: usize,
    /// Broadcasts, one after the other.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// Bytes of text per message.
    #[arg(long, default_value_t = 32)]
    size: usize,
    /// Sessions connecting at once.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
}

/// One round as the clients see it.
#[derive(Debug, Default)]
struct Round {
    remaining: AtomicUsize,
    /// Nanoseconds from the run's start to the last arrival.
    last: AtomicU64,
    done: Notify,
}

/// Runs `eio bench broadcast`.
pub(crate) async fn run(args: BroadcastArgs) -> Result<(), String> {
    if args.clients == 0 || args.rounds == 0 || args.concurrency == 0 {
        return Err("--clients, --rounds and --concurrency must be at least 1".to_owned());
    }
    let target = Target::parse(&args.common.url, &args.common.path)?;
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let mut opening = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        let (target, gate) = (target.clone(), gate.clone());
        opening.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            WsSession::open(&target).await
        }));
    }
    let mut sessions = Vec::with_capacity(args.clients);
    for task in opening {
        sessions.push(
            task.await
                .map_err(|err| err.to_string())?
                .map_err(|err| format!("cannot open a session: {err}"))?,
        );
    }
    let mut sender = WsSession::open(&target).await?;
    let base = Instant::now();
    let rounds: Arc<Vec<Round>> = Arc::new((0..args.rounds).map(|_| Round::default()).collect());
    for round in rounds.iter() {
        round.remaining.store(args.clients, Ordering::Relaxed);
    }
    let received = Arc::new(AtomicU64::new(0));
    let mut listeners = Vec::with_capacity(sessions.len());
    for mut session in sessions {
        let (rounds, received) = (rounds.clone(), received.clone());
        listeners.push(tokio::spawn(async move {
            while let Ok(text) = session.recv().await {
                let Some(index) = text.split(':').next().and_then(|n| n.parse::<usize>().ok())
                else {
                    continue;
                };
                let Some(round) = rounds.get(index) else {
                    continue;
                };
                let at = u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX);
                round.last.fetch_max(at, Ordering::Relaxed);
                received.fetch_add(1, Ordering::Relaxed);
                if round.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                    round.done.notify_one();
                    if index + 1 == rounds.len() {
                        break;
                    }
                }
            }
            session.close().await;
        }));
    }
    let watch = progress("broadcast", {
        let received = received.clone();
        move || format!("{} copies received", received.load(Ordering::Relaxed))
    });
    let body = "x".repeat(args.size);
    let mut completions = Vec::with_capacity(args.rounds);
    let mut missing = 0;
    let meter = Meter::start(args.common.server_pid, args.common.threads)?;
    for (index, round) in rounds.iter().enumerate() {
        let sent = base.elapsed();
        sender.send(&format!("broadcast:{index}:{body}")).await?;
        let finished = tokio::time::timeout(ROUND_TIMEOUT, round.done.notified()).await;
        if finished.is_err() {
            missing += round.remaining.load(Ordering::Relaxed);
            continue;
        }
        let last = Duration::from_nanos(round.last.load(Ordering::Relaxed));
        completions.push(u32::try_from(last.saturating_sub(sent).as_micros()).unwrap_or(u32::MAX));
        // The sender gets its own copy too.
        let _ = tokio::time::timeout(ROUND_TIMEOUT, sender.recv()).await;
    }
    let costs = meter.stop()?;
    watch.abort();
    sender.close().await;
    for listener in listeners {
        listener.abort();
    }

    let recipients = (args.clients + 1) as u64 * args.rounds as u64;
    let mut report = Report::new("broadcast");
    report.count("clients", args.clients as u64);
    report.count("rounds", args.rounds as u64);
    report.count("size", args.size as u64);
    report.count("missing", missing as u64);
    report.count("errors", missing as u64);
    report.line(format!(
        "broadcast: {} rounds of {} B to {} sessions (+1 sender): {missing} copies missing",
        args.rounds, args.size, args.clients
    ));
    latency(
        &mut report,
        &mut completions,
        "until the last client has it",
    );
    costs.add_to(&mut report, recipients, "recipient");
    report.print(args.common.json);
    Ok(())
}
