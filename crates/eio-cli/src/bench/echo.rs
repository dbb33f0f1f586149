//! `eio bench ws-echo` and `eio bench poll-echo`: clients x messages in
//! flight x payload size against an echo server, for a duration.
//!
//! Each client keeps `--in-flight` messages outstanding: over WebSocket it
//! sends the next as each echo arrives; over polling it POSTs them in one
//! payload and polls until all are back. A round trip counts when it began
//! after the warm-up and ended within the window; after the window each
//! client waits up to 5 s for its outstanding echoes, and any that never
//! came back is an error.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::sync::Semaphore;

use super::Common;
use super::measure::{Window, fairness, latency, run_window};
use super::poll::PollSession;
use super::ws::WsSession;
use crate::report::{Report, progress};
use crate::wire::Target;

/// How long a client waits for its last echoes after the window.
const DRAIN: Duration = Duration::from_secs(5);

/// Options of the echo modes.
#[derive(Debug, Args)]
pub(crate) struct EchoArgs {
    #[command(flatten)]
    pub(super) common: Common,
    /// Clients, each its own session.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Messages each client keeps outstanding (pipelining).
    #[arg(long, default_value_t = 1)]
    in_flight: usize,
    /// Bytes of text per message.
    #[arg(long, default_value_t = 32)]
    size: usize,
    /// Clients connecting at once.
    #[arg(long, default_value_t = 100)]
    concurrency: usize,
}

/// Which transport the clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    WebSocket,
    Polling,
}

/// One client's session.
#[derive(Debug)]
enum Session {
    Ws(WsSession),
    Poll(PollSession),
}

/// What one client measured.
#[derive(Debug, Default)]
struct ClientResult {
    rtts: Vec<u32>,
    round_trips: u64,
    lost: u64,
    error: Option<String>,
}

/// Runs an echo benchmark.
pub(crate) async fn run(args: EchoArgs, transport: Transport) -> Result<(), String> {
    if args.clients == 0 || args.in_flight == 0 || args.concurrency == 0 {
        return Err("--clients, --in-flight and --concurrency must be at least 1".to_owned());
    }
    let mode = match transport {
        Transport::WebSocket => "ws-echo",
        Transport::Polling => "poll-echo",
    };
    let target = Target::parse(&args.common.url, &args.common.path)?;
    let sessions = open_all(&target, transport, args.clients, args.concurrency).await?;
    let payload: Arc<str> = "x".repeat(args.size).into();
    let window = Window::after(args.common.warmup(), args.common.duration());
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(sessions.len());
    for session in sessions {
        let (payload, done, in_flight) = (payload.clone(), done.clone(), args.in_flight);
        tasks.push(tokio::spawn(async move {
            match session {
                Session::Ws(ws) => ws_client(ws, window, in_flight, &payload, &done).await,
                Session::Poll(poll) => poll_client(poll, window, in_flight, &payload, &done).await,
            }
        }));
    }
    let watch = progress(mode, {
        let done = done.clone();
        move || format!("{} round trips", done.load(Ordering::Relaxed))
    });
    let (costs, mut results) =
        run_window(window, args.common.server_pid, args.common.threads, tasks).await?;
    watch.abort();

    let round_trips: u64 = results.iter().map(|r| r.round_trips).sum();
    let lost: u64 = results.iter().map(|r| r.lost).sum();
    let errors: Vec<String> = results.iter().filter_map(|r| r.error.clone()).collect();
    let mut rtts: Vec<u32> = results.iter_mut().flat_map(|r| r.rtts.drain(..)).collect();
    let mut counts: Vec<u64> = results.iter().map(|r| r.round_trips).collect();
    let seconds = costs.elapsed().as_secs_f64();
    let rate = round_trips as f64 / seconds;

    let mut report = Report::new(mode);
    report.count("clients", args.clients as u64);
    report.count("in_flight", args.in_flight as u64);
    report.count("size", args.size as u64);
    report.float("seconds", seconds);
    report.count("round_trips", round_trips);
    report.float("per_second", rate);
    report.count("lost", lost);
    report.count("errors", errors.len() as u64 + lost);
    report.line(format!(
        "{mode}: {} clients x {} in flight x {} B for {seconds:.1} s: {round_trips} round trips, {rate:.0}/s",
        args.clients, args.in_flight, args.size
    ));
    latency(&mut report, &mut rtts, "round trip");
    fairness(&mut report, &mut counts, "round trips");
    costs.add_to(&mut report, round_trips, "round trip");
    report.line(format!(
        "errors: {} ({lost} echoes never came back)",
        errors.len() as u64 + lost
    ));
    let first: Vec<String> = errors.into_iter().take(5).collect();
    report.errors(&first);
    report.print(args.common.json);
    Ok(())
}

/// Opens every client's session, `concurrency` at a time.
async fn open_all(
    target: &Target,
    transport: Transport,
    clients: usize,
    concurrency: usize,
) -> Result<Vec<Session>, String> {
    let gate = Arc::new(Semaphore::new(concurrency));
    let mut opening = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (target, gate) = (target.clone(), gate.clone());
        opening.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            match transport {
                Transport::WebSocket => WsSession::open(&target).await.map(Session::Ws),
                Transport::Polling => PollSession::open(&target).await.map(Session::Poll),
            }
        }));
    }
    let mut sessions = Vec::with_capacity(clients);
    for task in opening {
        let session = task
            .await
            .map_err(|err| err.to_string())?
            .map_err(|err| format!("cannot open a session: {err}"))?;
        sessions.push(session);
    }
    Ok(sessions)
}

/// Microseconds since `began`, saturated.
fn micros(began: Instant) -> u32 {
    u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX)
}

async fn ws_client(
    mut ws: WsSession,
    window: Window,
    in_flight: usize,
    payload: &str,
    done: &AtomicU64,
) -> ClientResult {
    let mut result = ClientResult::default();
    let mut outstanding = VecDeque::with_capacity(in_flight);
    for _ in 0..in_flight {
        if let Err(err) = ws.send(payload).await {
            result.error = Some(err);
            return result;
        }
        outstanding.push_back(Instant::now());
    }
    let give_up = window.end + DRAIN;
    while let Some(&sent) = outstanding.front() {
        match tokio::time::timeout_at(give_up.into(), ws.recv()).await {
            Ok(Ok(_echo)) => {
                outstanding.pop_front();
                if window.counts(sent) {
                    result.rtts.push(micros(sent));
                    result.round_trips += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                if !window.over() {
                    if let Err(err) = ws.send(payload).await {
                        result.error = Some(err);
                        break;
                    }
                    outstanding.push_back(Instant::now());
                }
            }
            Ok(Err(err)) => {
                result.error = Some(err);
                break;
            }
            Err(_) => break,
        }
    }
    result.lost = outstanding.len() as u64;
    ws.close().await;
    result
}

async fn poll_client(
    mut poll: PollSession,
    window: Window,
    in_flight: usize,
    payload: &str,
    done: &AtomicU64,
) -> ClientResult {
    let mut result = ClientResult::default();
    let batch = vec![payload; in_flight];
    while !window.over() {
        let sent = Instant::now();
        if let Err(err) = poll.send(&batch).await {
            result.error = Some(err);
            return result;
        }
        let mut back = 0;
        while back < in_flight {
            let give_up = Instant::now().max(window.end) + DRAIN;
            match tokio::time::timeout_at(give_up.into(), poll.poll()).await {
                Ok(Ok(messages)) => {
                    for _ in &messages {
                        if window.counts(sent) {
                            result.rtts.push(micros(sent));
                            result.round_trips += 1;
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    back += messages.len();
                }
                Ok(Err(err)) => {
                    result.error = Some(err);
                    result.lost = (in_flight - back.min(in_flight)) as u64;
                    return result;
                }
                Err(_) => {
                    result.lost = (in_flight - back) as u64;
                    return result;
                }
            }
        }
    }
    poll.close().await;
    result
}
