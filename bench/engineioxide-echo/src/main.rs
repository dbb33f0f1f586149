//! Benchmark peer: an Engine.IO v4 echo server on engineioxide, with the same
//! command line and behaviour as `eio serve --broadcast`, so that `eio bench`
//! drives both the same way.
//!
//! - every text and binary message is echoed to its sender;
//! - a text message `broadcast:REST` is not echoed: REST goes to every open
//!   session (the sender included), once each.
//!
//! Flags: `--port N` (0 = any free port), `--ping-interval MS`,
//! `--ping-timeout MS`, `--max-payload BYTES`. Binds 127.0.0.1 only and
//! prints `LISTENING <port>` once it listens.

use std::collections::HashMap;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use engineioxide::config::EngineIoConfig;
use engineioxide::handler::EngineIoHandler;
use engineioxide::service::EngineIoService;
use engineioxide::socket::Sid;
use engineioxide::{DisconnectReason, Socket, Str, TransportType};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const BROADCAST_PREFIX: &str = "broadcast:";

/// Command-line options.
#[derive(Debug)]
struct Options {
    port: u16,
    ping_interval_ms: u64,
    ping_timeout_ms: u64,
    max_payload: u64,
}

impl Options {
    fn parse() -> Result<Self, String> {
        let mut options = Options {
            port: 0,
            ping_interval_ms: 25_000,
            ping_timeout_ms: 20_000,
            max_payload: 1_000_000,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            if flag == "-h" || flag == "--help" {
                return Err(String::new());
            }
            // Accept both `--flag value` and `--flag=value`.
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => {
                    let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
                    (flag, value)
                }
            };
            let bad = |_| format!("{name}: not a number: {value}");
            match name.as_str() {
                "--port" => options.port = value.parse().map_err(bad)?,
                "--ping-interval" => options.ping_interval_ms = value.parse().map_err(bad)?,
                "--ping-timeout" => options.ping_timeout_ms = value.parse().map_err(bad)?,
                "--max-payload" => options.max_payload = value.parse().map_err(bad)?,
                _ => return Err(format!("unknown option {name}")),
            }
        }
        Ok(options)
    }
}

const USAGE: &str = "usage: engineioxide-echo [--port N] [--ping-interval MS] \
                     [--ping-timeout MS] [--max-payload BYTES]";

/// The handler: echoes, and keeps its own table of open sockets because
/// engineioxide does not expose its session map (nor a broadcast helper).
#[derive(Debug, Default)]
struct Echo {
    sockets: RwLock<HashMap<Sid, Arc<Socket<()>>>>,
}

impl Echo {
    /// Sends `msg` to every open session. `Str` is reference-counted bytes,
    /// so each copy is a pointer bump; each transport encodes its own frame.
    fn broadcast(&self, msg: &Str) {
        // Snapshot under the read lock, emit outside it.
        let targets: Vec<Arc<Socket<()>>> =
            self.sockets.read().unwrap().values().cloned().collect();
        for socket in targets {
            if let Err(err) = socket.emit(msg.clone()) {
                eprintln!("broadcast to {} failed: {err}", socket.id);
            }
        }
    }
}

impl EngineIoHandler for Echo {
    type Data = ();

    fn on_connect(self: Arc<Self>, socket: Arc<Socket<()>>) {
        self.sockets.write().unwrap().insert(socket.id, socket);
    }

    fn on_disconnect(&self, socket: Arc<Socket<()>>, _reason: DisconnectReason) {
        self.sockets.write().unwrap().remove(&socket.id);
    }

    fn on_message(self: &Arc<Self>, msg: Str, socket: Arc<Socket<()>>) {
        if msg.as_str().starts_with(BROADCAST_PREFIX) {
            self.broadcast(&msg.slice(BROADCAST_PREFIX.len()..));
        } else if let Err(err) = socket.emit(msg) {
            eprintln!("echo to {} failed: {err}", socket.id);
        }
    }

    fn on_binary(self: &Arc<Self>, data: Bytes, socket: Arc<Socket<()>>) {
        if let Err(err) = socket.emit_binary(data) {
            eprintln!("binary echo to {} failed: {err}", socket.id);
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse() {
        Ok(options) => options,
        Err(err) => {
            if !err.is_empty() {
                eprintln!("{err}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };

    let config = EngineIoConfig::builder()
        // engineioxide's default too; it also serves `/engine.io/...`.
        .req_path("/engine.io")
        .ping_interval(Duration::from_millis(options.ping_interval_ms))
        .ping_timeout(Duration::from_millis(options.ping_timeout_ms))
        .max_payload(options.max_payload)
        .transports([TransportType::Polling, TransportType::Websocket])
        .build();
    let service = EngineIoService::with_config(Arc::new(Echo::default()), config);

    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let listener = match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or(options.port);
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "LISTENING {port}");
        let _ = stdout.flush();
    }

    let serve = async move {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(conn) => conn,
                Err(err) => {
                    // e.g. EMFILE under a big `hold`: back off and go on.
                    eprintln!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let service = service.clone();
            tokio::spawn(async move {
                // `with_upgrades` lets engineioxide take over the
                // connection for WebSocket.
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    };

    tokio::select! {
        () = serve => ExitCode::SUCCESS,
        () = shutdown_signal() => ExitCode::SUCCESS,
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
