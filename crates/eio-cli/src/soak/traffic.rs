//! `eio soak traffic`: many clients on mixed transports send numbered
//! messages for a while, the server echoes them (and, with `eio serve
//! --tick`, sends its own numbered `tick N` to everyone), and every client
//! checks that each message arrives exactly once and in order.
//!
//! Clients take turns: polling only, WebSocket only, and polling that
//! upgrades to WebSocket while it is already sending. An echo that comes
//! twice, out of order or never (within `--drain` after the end) is an
//! error; so is a gap in the ticks, a refused send or a disconnect.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use engineio::client::{Client, Event};
use engineio::{Message, Transport};
use tokio::sync::{Semaphore, watch};
use tokio::time::MissedTickBehavior;

use crate::process::{PeakSampler, mib, rss_kib};
use crate::report::{ErrorLog, Report, progress};

/// Options of `eio soak traffic`.
#[derive(Debug, Args)]
pub(crate) struct TrafficArgs {
    /// The server's URL, e.g. http://127.0.0.1:5000 (an echo server).
    url: String,
    /// Clients, a third each polling only, WebSocket only and upgrading.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Seconds of traffic once every client is connected.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    duration: u64,
    /// Milliseconds between two messages of one client.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    interval: u64,
    /// Seconds to wait for the last echoes after the traffic stops.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    drain: u64,
    /// Clients connecting at once.
    #[arg(long, default_value_t = 100)]
    concurrency: usize,
    /// The Engine.IO path.
    #[arg(long, default_value = "engine.io")]
    path: String,
    /// The server also sends `tick N` to every session (`eio serve
    /// --tick MS`): every client must get them, without a gap.
    #[arg(long)]
    ticks: bool,
    /// The server's process id: report its RSS before and at the peak.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// Print one JSON line on standard output instead of the summary.
    #[arg(long)]
    json: bool,
}

/// The transports of one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Polling,
    WebSocket,
    Upgrading,
}

impl Kind {
    const ALL: [Self; 3] = [Self::Polling, Self::WebSocket, Self::Upgrading];

    fn transports(self) -> Vec<Transport> {
        match self {
            Self::Polling => vec![Transport::Polling],
            Self::WebSocket => vec![Transport::WebSocket],
            Self::Upgrading => vec![Transport::Polling, Transport::WebSocket],
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Totals of the run, shared by the clients.
#[derive(Debug, Default)]
struct Tally {
    connected: [AtomicUsize; 3],
    settled: AtomicUsize,
    upgrades: AtomicUsize,
    sent_before_upgrade: AtomicU64,
    sent: AtomicU64,
    echoed: AtomicU64,
    ticks: AtomicU64,
    errors: ErrorLog,
}

impl Tally {
    /// Counts an error of client `i`.
    fn error(&self, i: usize, message: impl std::fmt::Display) {
        self.errors.add(format!("client {i}: {message}"));
    }
}

/// What one client has seen: the last echo and the last tick.
#[derive(Debug, Default)]
struct Order {
    sent: u64,
    echoed: u64,
    last_tick: u64,
    ticks: u64,
}

impl Order {
    /// Checks a message against the order so far.
    fn check(&mut self, text: &str) -> Result<(), String> {
        if let Some(n) = text.strip_prefix("c ") {
            let n: u64 = n.parse().map_err(|_| format!("a bad echo: {text:.40}"))?;
            let expected = self.echoed + 1;
            self.echoed = self.echoed.max(n);
            return match n {
                _ if n == expected => Ok(()),
                _ if n < expected => Err(format!("echo {n} again, after {}", expected - 1)),
                _ => Err(format!(
                    "echo {n} after {}: {} lost",
                    expected - 1,
                    n - expected
                )),
            };
        }
        if let Some(n) = text.strip_prefix("tick ") {
            let n: u64 = n.parse().map_err(|_| format!("a bad tick: {text:.40}"))?;
            let previous = self.last_tick;
            self.last_tick = self.last_tick.max(n);
            self.ticks += 1;
            return if previous == 0 || n == previous + 1 {
                Ok(())
            } else {
                Err(format!("tick {n} after tick {previous}"))
            };
        }
        Err(format!("an unexpected message: {text:.40}"))
    }
}

/// Runs `eio soak traffic`.
pub(crate) async fn run(args: TrafficArgs) -> Result<(), String> {
    if args.clients == 0 || args.concurrency == 0 || args.interval == 0 {
        return Err("--clients, --concurrency and --interval must be at least 1".to_owned());
    }
    let baseline = args.server_pid.map(rss_kib).transpose()?;
    let sampler = args.server_pid.map(PeakSampler::start);
    let tally = Arc::new(Tally::default());
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let (go, stop_at) = watch::channel(None::<Instant>);
    let options = Arc::new(ClientOptions {
        url: args.url.clone(),
        path: args.path.clone(),
        interval: Duration::from_millis(args.interval),
        drain: Duration::from_secs(args.drain),
        ticks: args.ticks,
    });
    let mut tasks = Vec::with_capacity(args.clients);
    for i in 0..args.clients {
        let kind = Kind::ALL[i % Kind::ALL.len()];
        let (tally, gate, stop_at, options) = (
            tally.clone(),
            gate.clone(),
            stop_at.clone(),
            options.clone(),
        );
        tasks.push(tokio::spawn(async move {
            run_client(i, kind, &options, &tally, &gate, stop_at).await;
        }));
    }
    let watch = progress("traffic", {
        let tally = tally.clone();
        let clients = args.clients;
        move || {
            let connected: usize = tally
                .connected
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .sum();
            format!(
                "{connected}/{clients} connected, {} upgrades, {} sent, {} echoed, {} ticks, {} errors",
                tally.upgrades.load(Ordering::Relaxed),
                tally.sent.load(Ordering::Relaxed),
                tally.echoed.load(Ordering::Relaxed),
                tally.ticks.load(Ordering::Relaxed),
                tally.errors.count()
            )
        }
    });
    // The clock starts once every client is connected (or failed to).
    while tally.settled.load(Ordering::Relaxed) < args.clients {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    let _ = go.send(Some(started + Duration::from_secs(args.duration)));
    for task in tasks {
        task.await.map_err(|err| err.to_string())?;
    }
    let elapsed = started.elapsed();
    watch.abort();

    let connected: Vec<u64> = tally
        .connected
        .iter()
        .map(|c| c.load(Ordering::Relaxed) as u64)
        .collect();
    let (sent, echoed, ticks) = (
        tally.sent.load(Ordering::Relaxed),
        tally.echoed.load(Ordering::Relaxed),
        tally.ticks.load(Ordering::Relaxed),
    );
    let upgrades = tally.upgrades.load(Ordering::Relaxed) as u64;
    let before_upgrade = tally.sent_before_upgrade.load(Ordering::Relaxed);
    let errors = tally.errors.count() as u64;
    let mut report = Report::new("traffic");
    report.count("sessions", connected.iter().sum());
    report.count("polling_only", connected[0]);
    report.count("websocket_only", connected[1]);
    report.count("upgrading", connected[2]);
    report.count("upgrades", upgrades);
    report.count("sent_before_upgrade", before_upgrade);
    report.count("sent", sent);
    report.count("echoed", echoed);
    report.count("ticks", ticks);
    report.count("errors", errors);
    report.seconds("seconds", elapsed);
    report.line(format!(
        "{} sessions ({} polling only, {} WebSocket only, {} polling then WebSocket: {upgrades} upgrades, with {before_upgrade} messages sent before them) for {:.1} s",
        connected.iter().sum::<u64>(),
        connected[0],
        connected[1],
        connected[2],
        elapsed.as_secs_f64()
    ));
    report.line(format!(
        "{sent} messages sent, {echoed} echoed back exactly once and in order; {ticks} server messages received in order; {errors} errors"
    ));
    if let (Some(before), Some(sampler)) = (baseline, &sampler) {
        let peak = sampler.peak().max(before);
        report.count("rss_before_kib", before);
        report.count("rss_peak_kib", peak);
        report.line(format!(
            "server RSS: {} before, {} at the peak",
            mib(before),
            mib(peak)
        ));
    }
    report.errors(&tally.errors.first());
    report.print(args.json);
    if errors > 0 || sent == 0 {
        return Err("the soak failed (see above)".to_owned());
    }
    Ok(())
}

/// What every client needs to know.
#[derive(Debug)]
struct ClientOptions {
    url: String,
    path: String,
    interval: Duration,
    drain: Duration,
    ticks: bool,
}

/// One client: connects, sends `c 1`, `c 2`... every `interval` until the
/// stop time, checks every message, then waits for the last echoes.
async fn run_client(
    i: usize,
    kind: Kind,
    options: &ClientOptions,
    tally: &Tally,
    gate: &Semaphore,
    mut stop_at: watch::Receiver<Option<Instant>>,
) {
    let client = match Client::builder()
        .transports(kind.transports())
        .path(options.path.as_str())
        .max_queue(4096)
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            tally.settled.fetch_add(1, Ordering::Relaxed);
            tally.error(i, err.to_string());
            return;
        }
    };
    let connected = {
        let _permit = gate.acquire().await;
        client.connect(&options.url).await
    };
    tally.settled.fetch_add(1, Ordering::Relaxed);
    if let Err(err) = connected {
        tally.error(i, format!("cannot connect: {err}"));
        return;
    }
    tally.connected[kind.index()].fetch_add(1, Ordering::Relaxed);
    let mut order = Order::default();
    let mut upgraded = false;
    // Upgrading clients send from the start, so the upgrade happens with
    // messages in flight; the others wait for everyone to be connected.
    let mut sending = kind == Kind::Upgrading;
    let mut stop: Option<Instant> = None;
    let mut drain_until: Option<Instant> = None;
    let mut timer = tokio::time::interval(options.interval);
    timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        if drain_until.is_some() && order.echoed >= order.sent {
            break;
        }
        let drain_deadline =
            drain_until.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            event = client.recv() => match event {
                Some(Event::Message(Message::Text(text))) => {
                    let echoed = order.echoed;
                    let ticks = order.ticks;
                    if let Err(err) = order.check(&text) {
                        tally.error(i, err);
                    }
                    tally.echoed.fetch_add(order.echoed.saturating_sub(echoed), Ordering::Relaxed);
                    tally.ticks.fetch_add(order.ticks - ticks, Ordering::Relaxed);
                }
                Some(Event::Message(Message::Binary(_))) => {
                    tally.error(i, "an unexpected binary message".to_owned());
                }
                Some(Event::Upgrade(Transport::WebSocket)) => {
                    upgraded = true;
                    tally.upgrades.fetch_add(1, Ordering::Relaxed);
                    tally.sent_before_upgrade.fetch_add(order.sent, Ordering::Relaxed);
                }
                Some(Event::UpgradeError(err)) => {
                    tally.error(i, format!("upgrade failed: {err}"));
                }
                Some(Event::Disconnect(reason)) => {
                    tally.error(i, format!("disconnected: {reason}"));
                    return;
                }
                None => {
                    tally.error(i, "the client's events ended".to_owned());
                    return;
                }
                Some(_) => {}
            },
            changed = stop_at.changed(), if stop.is_none() => {
                if changed.is_err() {
                    return;
                }
                stop = *stop_at.borrow();
                sending = true;
            }
            _ = timer.tick(), if sending && drain_until.is_none() => {
                if stop.is_some_and(|stop| Instant::now() >= stop) {
                    drain_until = Some(Instant::now() + options.drain);
                    continue;
                }
                order.sent += 1;
                if let Err(err) = client.send(format!("c {}", order.sent)) {
                    tally.error(i, format!("send {} refused: {err}", order.sent));
                    order.sent -= 1;
                } else {
                    tally.sent.fetch_add(1, Ordering::Relaxed);
                }
            }
            () = tokio::time::sleep_until(drain_deadline.into()), if drain_until.is_some() => {
                tally.error(i, format!(
                    "{} of {} echoes never came back",
                    order.sent - order.echoed,
                    order.sent
                ));
                break;
            }
        }
    }
    if kind == Kind::Upgrading && !upgraded {
        tally.error(i, "never upgraded to WebSocket".to_owned());
    }
    if options.ticks && order.ticks == 0 {
        tally.error(i, "no tick from the server".to_owned());
    }
    client.disconnect().await;
}

#[cfg(test)]
mod tests {
    use super::Order;

    #[test]
    fn echoes_must_come_once_and_in_order() {
        let mut order = Order::default();
        assert!(order.check("c 1").is_ok());
        assert!(order.check("c 2").is_ok());
        assert_eq!(order.check("c 2").unwrap_err(), "echo 2 again, after 2");
        assert_eq!(order.check("c 5").unwrap_err(), "echo 5 after 2: 2 lost");
        assert_eq!(order.echoed, 5);
    }

    #[test]
    fn ticks_may_start_anywhere_but_never_skip() {
        let mut order = Order::default();
        assert!(order.check("tick 7").is_ok());
        assert!(order.check("tick 8").is_ok());
        assert_eq!(order.check("tick 10").unwrap_err(), "tick 10 after tick 8");
        assert!(order.check("hello").is_err());
    }
}
