//! `eio bench`: the load generator for any Engine.IO server (ours, the Node
//! `engine.io`, python-engineio, engineioxide), in five modes:
//!
//! - `ws-echo` and `poll-echo`: clients x messages in flight x payload size
//!   for a duration, against an echo server;
//! - `hold`: idle WebSocket sessions answering pings;
//! - `handshakes`: a polling handshake and a close, over and over;
//! - `broadcast`: one message sent by the server to every session
//!   (`eio serve --broadcast`), the time until the last client has it.
//!
//! Each reports its rate, latency percentiles, fairness between clients and
//! errors; with `--server-pid`, the server's CPU per operation and RSS; and it
//! says when its own CPU was saturated (then the server may be faster than
//! measured: add `--threads`). Its connections speak Engine.IO by hand
//! ([`crate::wire`]) so that they cost next to nothing. Progress goes to
//! standard error once a second; `--json` prints one JSON line on standard
//! output.

use std::time::Duration;

use clap::{Args, Subcommand};

mod broadcast;
mod echo;
mod handshakes;
mod hold;
mod measure;
mod poll;
mod ws;

/// Options of `eio bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Echo round trips over WebSocket.
    WsEcho(echo::EchoArgs),
    /// Echo round trips over long-polling.
    PollEcho(echo::EchoArgs),
    /// Idle WebSocket sessions held open, answering pings.
    Hold(hold::HoldArgs),
    /// Polling handshakes, each followed by a close.
    Handshakes(handshakes::HandshakeArgs),
    /// One message to every session, sent by the server (`eio serve
    /// --broadcast`): the time until the last client has it.
    Broadcast(broadcast::BroadcastArgs),
}

/// Options every mode takes.
#[derive(Debug, Args, Clone)]
pub(crate) struct Common {
    /// The server's URL, e.g. http://127.0.0.1:5000 (plain HTTP).
    url: String,
    /// The Engine.IO path.
    #[arg(long, default_value = "engine.io")]
    path: String,
    /// Seconds measured (after the warm-up).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before the measurement starts.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    warmup: f64,
    /// Threads of the load generator (its tokio runtime's workers).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// The server's process id: report its CPU time per operation and its
    /// RSS (Linux).
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,
    /// Print one JSON line on standard output instead of the summary.
    #[arg(long)]
    json: bool,
}

impl Common {
    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration.max(0.1))
    }

    fn warmup(&self) -> Duration {
        Duration::from_secs_f64(self.warmup.max(0.0))
    }
}

/// Runs `eio bench` on its own runtime (`--threads` workers).
pub(crate) fn run(args: BenchArgs) -> Result<(), String> {
    let threads = match &args.mode {
        Mode::WsEcho(a) | Mode::PollEcho(a) => a.common.threads,
        Mode::Hold(a) => a.common.threads,
        Mode::Handshakes(a) => a.common.threads,
        Mode::Broadcast(a) => a.common.threads,
    };
    // One thread: tokio's current-thread scheduler, whose single FIFO run
    // queue serves every connection in turn. (The multi-thread scheduler's
    // bounded local queue sends the overflow of a burst of readiness to a
    // global queue it visits only every 61 tasks: under saturation, the
    // connections there starve.)
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    let runtime = builder
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    runtime.block_on(async move {
        match args.mode {
            Mode::WsEcho(a) => echo::run(a, echo::Transport::WebSocket).await,
            Mode::PollEcho(a) => echo::run(a, echo::Transport::Polling).await,
            Mode::Hold(a) => hold::run(a).await,
            Mode::Handshakes(a) => handshakes::run(a).await,
            Mode::Broadcast(a) => broadcast::run(a).await,
        }
    })
}
