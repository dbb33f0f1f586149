//! `eio serve`: an echo server that sends every message back to its sender.

use std::time::Duration;

use clap::Args;
use engineio::proto::{EncodedPacket, Packet};
use engineio::server::{CorsPolicy, PerMessageDeflate, SendError, Server, ServerConfig};
use engineio::{Message, Transport};

/// Options of `eio serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The port to listen on.
    #[arg(long, short, default_value_t = 5000)]
    port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Milliseconds between pings.
    #[arg(long, value_name = "MS", default_value_t = 25_000)]
    ping_interval: u64,
    /// Milliseconds the client has to answer a ping.
    #[arg(long, value_name = "MS", default_value_t = 20_000)]
    ping_timeout: u64,
    /// Milliseconds an upgrade to WebSocket may take once its probe arrived.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    upgrade_timeout: u64,
    /// The most bytes in one POST body or WebSocket message.
    #[arg(long, value_name = "BYTES", default_value_t = 1_000_000)]
    max_payload: usize,
    /// The transports to accept, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "polling,websocket", value_parser = parse_transport)]
    transports: Vec<Transport>,
    /// An origin allowed to connect from a browser, or `*` for any; may be
    /// repeated. Without it only same-origin pages may connect.
    #[arg(long, value_name = "ORIGIN|*")]
    cors: Vec<String>,
    /// The engine.io path.
    #[arg(long, default_value = "/engine.io/")]
    path: String,
    /// The most messages of one session received and not yet echoed; past
    /// it the server stops reading that client (backpressure).
    #[arg(long, value_name = "MESSAGES", default_value_t = 128)]
    max_inbox: usize,
    /// The most sessions held at once; past it handshakes get 503 (default:
    /// no limit but the process's open-file limit).
    #[arg(long, value_name = "N")]
    max_sessions: Option<usize>,
    /// Echo each message on its own task (python-engineio's
    /// `async_handlers`): one session's echoes may then come out of order.
    #[arg(long)]
    async_handlers: bool,
    /// Also send `tick N` to every session every MS milliseconds (N counts
    /// up from 1 for the whole server): a broadcast load, and the
    /// server-to-client half of `eio soak traffic`.
    #[arg(long, value_name = "MS")]
    tick: Option<u64>,
    /// A text message `broadcast:REST` is not echoed: REST goes to every
    /// session, encoded once (for `eio bench broadcast`).
    #[arg(long)]
    broadcast: bool,
    /// Do not print a line per connect and disconnect (for load tests).
    #[arg(long, short)]
    quiet: bool,
    /// Compress WebSocket messages of 1024 bytes or more (permessage-deflate,
    /// with Node's defaults) for clients that offer it; off by default.
    #[arg(long)]
    per_message_deflate: bool,
}

fn parse_transport(name: &str) -> Result<Transport, String> {
    name.trim()
        .parse()
        .map_err(|err: engineio::proto::UnknownTransport| err.to_string())
}

/// Runs the echo server until Ctrl-C.
pub(crate) async fn run(args: ServeArgs) -> Result<(), String> {
    let cors = if args.cors.iter().any(|origin| origin == "*") {
        CorsPolicy::Any
    } else if args.cors.is_empty() {
        CorsPolicy::SameOrigin
    } else {
        CorsPolicy::list(args.cors.clone())
    };
    let config = ServerConfig::default()
        .ping_interval(Duration::from_millis(args.ping_interval))
        .ping_timeout(Duration::from_millis(args.ping_timeout))
        .upgrade_timeout(Duration::from_millis(args.upgrade_timeout))
        .max_http_buffer_size(args.max_payload)
        .transports(args.transports.clone())
        .cors(cors)
        .path(&args.path)
        .max_inbox(args.max_inbox)
        .max_sessions(args.max_sessions)
        .async_handlers(args.async_handlers)
        .per_message_deflate(args.per_message_deflate.then(PerMessageDeflate::default));
    let (quiet, broadcast) = (args.quiet, args.broadcast);
    let server = Server::builder()
        .config(config)
        .on_connect(move |socket, request| {
            if !quiet {
                let peer = request.peer_addr.map(|a| a.to_string()).unwrap_or_default();
                println!("connect    {} {} {peer}", socket.sid(), request.transport);
            }
            Ok(())
        })
        .on_message(move |socket, message| {
            if broadcast
                && let Message::Text(text) = &message
                && let Some(rest) = text.strip_prefix("broadcast:")
            {
                send_to_all(socket.server(), rest);
                return;
            }
            if let Err(err) = socket.send(message) {
                eprintln!("echo to {} failed: {err}", socket.sid());
            }
        })
        .on_disconnect(move |socket, reason| {
            if !quiet {
                println!("disconnect {} {reason}", socket.sid());
            }
        })
        .build();
    let addr = format!("{}:{}", args.host, args.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|err| format!("cannot listen on {addr}: {err}"))?;
    let local = listener.local_addr().map_err(|err| err.to_string())?;
    // Listen for Ctrl-C before saying we are up: a SIGINT right after the
    // banner must stop the server cleanly, not kill it.
    let interrupted = interrupt_listener()?;
    println!(
        "eio echo server on http://{local}{} (transports: {}; Ctrl-C stops)",
        server.config().engineio_path(),
        args.transports
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    let serving = server.clone();
    let task = tokio::spawn(async move { serving.serve(listener).await });
    let ticker = args
        .tick
        .map(|ms| tokio::spawn(tick_every(server.clone(), Duration::from_millis(ms.max(1)))));
    interrupted.await;
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    println!(
        "shutting down: closing {} session(s)",
        server.session_count()
    );
    server.shutdown().await;
    let _ = task.await;
    Ok(())
}

/// Sends `text` to every session, encoded once. A session closed between
/// the listing and the send loses nothing: it is gone.
fn send_to_all(server: &Server, text: &str) {
    let packet = EncodedPacket::new(Packet::message(text));
    for sid in server.session_ids() {
        match server.send_packet(sid, &packet) {
            Ok(()) | Err(SendError::UnknownSession | SendError::Closed) => {}
            Err(err) => eprintln!("broadcast to {sid} failed: {err}"),
        }
    }
}

/// Sends `tick N` to every session every `period`, N counting up from 1.
/// The packet is encoded once per tick, whatever the number of sessions.
async fn tick_every(server: Server, period: Duration) {
    let mut timer = tokio::time::interval(period);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    timer.tick().await;
    for n in 1u64.. {
        timer.tick().await;
        send_to_all(&server, &format!("tick {n}"));
    }
}

/// Registers for Ctrl-C (SIGINT) now, and completes when it comes.
#[cfg(unix)]
fn interrupt_listener() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())
        .map_err(|err| format!("cannot listen for Ctrl-C: {err}"))?;
    Ok(async move {
        let _ = interrupt.recv().await;
    })
}

/// Registers for Ctrl-C now (on the first poll elsewhere than on Unix), and
/// completes when it comes.
#[cfg(not(unix))]
fn interrupt_listener() -> Result<impl std::future::Future<Output = ()>, String> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
