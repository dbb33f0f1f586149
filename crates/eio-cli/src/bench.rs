//! `eio bench`: echo round trips against any Engine.IO server, to compare
//! servers (ours, the Node `engine.io`, python-engineio) with one client.
//!
//! Each of `--clients` connections sends `--messages` messages of `--size`
//! bytes, one at a time, waiting for each echo; the tool reports the echo
//! rate and round-trip percentiles. Bounded in count and in time
//! (`--time-limit`); progress goes to standard error once a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use engineio::Message;
use engineio::client::{Client, Event};

use crate::connect::TransportChoice;

/// Options of `eio bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// The server's URL, e.g. http://127.0.0.1:5000 (any echo server).
    url: String,
    /// How many clients run at once.
    #[arg(long, default_value_t = 20)]
    clients: usize,
    /// Messages each client sends (each waits for its echo).
    #[arg(long, default_value_t = 500)]
    messages: usize,
    /// Bytes of text per message.
    #[arg(long, default_value_t = 32)]
    size: usize,
    /// Which transports to use.
    #[arg(long, value_enum, default_value_t = TransportChoice::Websocket)]
    transport: TransportChoice,
    /// Stop after this many seconds, whatever is left.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    time_limit: u64,
    /// Print one JSON line instead of the human summary.
    #[arg(long)]
    json: bool,
}

/// Runs the benchmark.
pub(crate) async fn run(args: BenchArgs) -> Result<(), String> {
    if args.clients == 0 || args.messages == 0 {
        return Err("--clients and --messages must be at least 1".to_owned());
    }
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.time_limit);
    let payload = "x".repeat(args.size);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        let client = Client::builder()
            .transports(args.transport.transports())
            .max_queue(16)
            .build()
            .map_err(|err| err.to_string())?;
        client
            .connect(&args.url)
            .await
            .map_err(|err| format!("cannot connect to {}: {err}", args.url))?;
        let (done, payload, messages) = (done.clone(), payload.clone(), args.messages);
        tasks.push(tokio::spawn(async move {
            let mut rtts = Vec::with_capacity(messages);
            for _ in 0..messages {
                if Instant::now() >= deadline {
                    break;
                }
                let sent = Instant::now();
                if client.send(payload.as_str()).is_err() {
                    break;
                }
                if !wait_echo(&client, deadline).await {
                    break;
                }
                rtts.push(sent.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
            }
            client.disconnect().await;
            rtts
        }));
    }
    let total = (args.clients * args.messages) as u64;
    let progress = tokio::spawn({
        let done = done.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                eprintln!("bench: {}/{total} echoes", done.load(Ordering::Relaxed));
            }
        }
    });
    let mut rtts = Vec::new();
    for task in tasks {
        rtts.extend(task.await.map_err(|err| err.to_string())?);
    }
    progress.abort();
    let elapsed = started.elapsed();
    if rtts.is_empty() {
        return Err("no echo came back".to_owned());
    }
    rtts.sort();
    let pct = |p: f64| rtts[((rtts.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
    let rate = rtts.len() as f64 / elapsed.as_secs_f64();
    if args.json {
        println!(
            "{{\"echoes\":{},\"seconds\":{:.3},\"echoes_per_second\":{rate:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3}}}",
            rtts.len(),
            elapsed.as_secs_f64(),
            pct(0.5),
            pct(0.99)
        );
    } else {
        println!(
            "{} echoes in {:.2} s: {rate:.0} echoes/s; round trip p50 {:.3} ms, p99 {:.3} ms",
            rtts.len(),
            elapsed.as_secs_f64(),
            pct(0.5),
            pct(0.99)
        );
    }
    if (rtts.len() as u64) < total {
        eprintln!("bench: stopped early ({} of {total} echoes)", rtts.len());
    }
    Ok(())
}

/// Waits for the next message; false if the connection ended or time ran out.
async fn wait_echo(client: &Client, deadline: Instant) -> bool {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, client.recv()).await {
            Ok(Some(Event::Message(Message::Text(_) | Message::Binary(_)))) => return true,
            Ok(Some(Event::Disconnect(_)) | None) | Err(_) => return false,
            Ok(Some(_)) => {}
        }
    }
}
