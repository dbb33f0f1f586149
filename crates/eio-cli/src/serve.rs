//! `eio serve`: an echo server that sends every message back to its sender,
//! with `GET`/`HEAD /health` for load balancers' checks, and with `--redis`
//! a node joined to the others (`broadcast:` and the `--relay` commands
//! reach every node's sessions).

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use engineio::proto::{EncodedPacket, Packet};
use engineio::server::{
    CookieConfig, CorsPolicy, EngineIoService, NotFound, PerMessageDeflate, SendError, Server,
    ServerConfig, TlsConfig,
};
use engineio::{Message, NodeId, Sid, Transport};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;

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
    /// Serve https and wss (HTTP/2 by ALPN for polling) with this PEM
    /// certificate chain (the server's certificate first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Also serve Engine.IO v3 clients (Socket.IO v2), as Node's allowEIO3.
    #[arg(long)]
    allow_eio3: bool,
    /// Serve JSONP polling (`j=<digits>`), for old browsers without CORS.
    /// Off by default: JSONP answers are scripts any page may load, past
    /// the CORS origin check.
    #[arg(long)]
    jsonp: bool,
    /// This server's name among several behind a load balancer: session
    /// ids become NAME.<random>, so the balancer can route each request by
    /// its `sid` parameter (see the README's "Deployment behind a load
    /// balancer"). 1 to 19 characters of A-Z a-z 0-9 - _.
    #[arg(long, value_name = "NAME")]
    node_id: Option<NodeId>,
    /// Set a cookie NAME=<sid> on each handshake (Path=/; SameSite=Lax;
    /// HttpOnly), for balancers that route by cookie (HAProxy's `cookie io
    /// prefix`).
    #[arg(long, value_name = "NAME")]
    cookie: Option<String>,
    /// Also serve WebTransport (HTTP/3 over QUIC) on the UDP port of the
    /// same number, and offer it as an upgrade. With --tls-cert/--tls-key it
    /// uses that certificate; without, a new self-signed ECDSA P-256 one
    /// valid 13 days, whose SHA-256 hash is printed for the browser's
    /// `serverCertificateHashes`. Needs eio built with the `webtransport`
    /// feature.
    #[arg(long)]
    webtransport: bool,
    /// Join the other nodes through the Redis (or Valkey) at URL
    /// (redis://[:PASSWORD@]HOST[:PORT][/DB]): `broadcast:` (with
    /// --broadcast) and the --relay commands then reach the sessions of
    /// every node. Needs --node-id, and eio built with the `redis` feature.
    #[arg(long, value_name = "URL", requires = "node_id")]
    redis: Option<String>,
    /// Obey text messages `to:SID:TEXT` (send TEXT to that session),
    /// `except:SID[,SID...]:TEXT` (to every session but those),
    /// `broadcast:TEXT` and `disconnect:SID` instead of echoing them; with
    /// --redis on every node. Failures are answered `error: ...`. For tests
    /// and demos only: any client may then message or close any session.
    #[arg(long)]
    relay: bool,
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
        .allow_eio3(args.allow_eio3)
        .jsonp(args.jsonp)
        .per_message_deflate(args.per_message_deflate.then(PerMessageDeflate::default));
    let config = match &args.node_id {
        Some(node) => config.node_id(node.clone()),
        None => config,
    };
    let config = match &args.cookie {
        Some(name) => config.cookie(CookieConfig::new(name)),
        None => config,
    };
    // Read the certificate before binding: a bad file is reported at once.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Some(TlsConfig::from_pem_files(cert, key).map_err(|err| err.to_string())?)
        }
        _ => None,
    };
    let webtransport = if args.webtransport {
        Some(webtransport::config(&args)?)
    } else {
        None
    };
    let redis = match &args.redis {
        Some(url) => Some(bridge::config(url)?),
        None => None,
    };
    let (quiet, broadcast, relay) = (args.quiet, args.broadcast, args.relay);
    let reach = Reach::default();
    let handlers = reach.clone();
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
            if let Message::Text(text) = &message {
                if let Some(rest) = text.strip_prefix("broadcast:")
                    && (broadcast || relay)
                {
                    if let Err(err) = handlers.broadcast(socket.server(), rest, &[]) {
                        let _ = socket.send(format!("error: {err}"));
                    }
                    return;
                }
                if relay && let Some(result) = handlers.command(socket.server(), text) {
                    if let Err(err) = result {
                        let _ = socket.send(format!("error: {err}"));
                    }
                    return;
                }
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
        "eio echo server on {}://{local}{} (transports: {}{}; Ctrl-C stops)",
        if tls.is_some() { "https" } else { "http" },
        server.config().engineio_path(),
        args.transports
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(","),
        args.node_id
            .as_ref()
            .map(|node| format!("; node {node}"))
            .unwrap_or_default(),
    );
    let webtransport = match webtransport {
        Some(config) => Some(webtransport::start(&server, local, config)?),
        None => None,
    };
    if let Some(config) = redis {
        reach.join(bridge::start(&server, config));
    }
    let serving = server.clone();
    let app = EngineIoService::new(server.clone(), Health);
    let task = tokio::spawn(async move {
        match tls {
            Some(tls) => serving.serve_tls_with(listener, tls, app).await,
            None => serving.serve_with(listener, app).await,
        }
    });
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
    if let Some(webtransport) = webtransport {
        let _ = webtransport.await;
    }
    Ok(())
}

/// What `eio serve` answers outside the engine.io path: 200 `ok` to `GET`
/// and `HEAD /health` (for load balancers' health checks), 404 to the rest.
#[derive(Debug, Clone, Copy)]
struct Health;

impl<B> tower_service::Service<Request<B>> for Health {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if req.uri().path() != "/health" {
            return NotFound.call(req);
        }
        let response = if req.method() == Method::GET || req.method() == Method::HEAD {
            // hyper leaves the body out of a HEAD answer, keeping its length.
            Response::builder()
                .header(http::header::CONTENT_TYPE, "text/plain")
                .header(http::header::CACHE_CONTROL, "no-store")
                .body(Full::new(Bytes::from_static(b"ok\n")))
        } else {
            Response::builder()
                .status(StatusCode::METHOD_NOT_ALLOWED)
                .header(http::header::ALLOW, "GET, HEAD")
                .body(Full::default())
        };
        std::future::ready(Ok(response.unwrap_or_default()))
    }
}

/// `--webtransport`, with the `webtransport` feature.
#[cfg(feature = "webtransport")]
mod webtransport {
    use std::net::SocketAddr;

    use engineio::server::{Server, WebTransportConfig};

    use super::ServeArgs;

    /// The certificate: --tls-cert/--tls-key, or a new self-signed one for
    /// the host, 127.0.0.1 and localhost.
    pub(super) fn config(args: &ServeArgs) -> Result<WebTransportConfig, String> {
        match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => {
                WebTransportConfig::from_pem_files(cert, key).map_err(|err| err.to_string())
            }
            _ => {
                let mut names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
                if !names.contains(&args.host) {
                    names.push(args.host.clone());
                }
                WebTransportConfig::self_signed(names).map_err(|err| err.to_string())
            }
        }
    }

    /// Binds the UDP port of the HTTP listener's number, prints where and
    /// the certificate's hash, and serves WebTransport until shutdown.
    pub(super) fn start(
        server: &Server,
        local: SocketAddr,
        config: WebTransportConfig,
    ) -> Result<tokio::task::JoinHandle<std::io::Result<()>>, String> {
        let socket = std::net::UdpSocket::bind(local)
            .map_err(|err| format!("cannot listen for WebTransport on UDP {local}: {err}"))?;
        let hash = config.certificate_hash();
        let bytes: Vec<String> = hash.iter().map(u8::to_string).collect();
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        println!(
            "WebTransport on https://{local}{} (UDP); certificate SHA-256 {hex} = [{}]",
            server.config().engineio_path(),
            bytes.join(",")
        );
        let serving = server.clone();
        Ok(tokio::spawn(async move {
            serving.serve_webtransport(socket, config).await
        }))
    }
}

/// `--webtransport` without the `webtransport` feature: a clear refusal.
#[cfg(not(feature = "webtransport"))]
mod webtransport {
    use std::net::SocketAddr;

    use engineio::server::Server;

    use super::ServeArgs;

    /// There is no configuration to build.
    pub(super) struct Unavailable;

    pub(super) fn config(_: &ServeArgs) -> Result<Unavailable, String> {
        Err(
            "--webtransport needs eio built with WebTransport: cargo build -p eio-cli --features webtransport"
                .to_owned(),
        )
    }

    pub(super) fn start(
        _: &Server,
        _: SocketAddr,
        _: Unavailable,
    ) -> Result<tokio::task::JoinHandle<std::io::Result<()>>, String> {
        Err("WebTransport is not built in".to_owned())
    }
}

/// Where `broadcast:` and the --relay commands go: this server's sessions,
/// or with --redis every node's.
#[derive(Clone, Default)]
struct Reach {
    bridge: Arc<OnceLock<bridge::Bridge>>,
}

impl Reach {
    fn join(&self, bridge: bridge::Bridge) {
        let _ = self.bridge.set(bridge);
    }

    /// Runs a --relay command (`to:`, `except:`, `disconnect:`), if `text`
    /// is one.
    fn command(&self, server: &Server, text: &str) -> Option<Result<(), String>> {
        if let Some(rest) = text.strip_prefix("to:") {
            let (sid, message) = rest.split_once(':').unwrap_or((rest, ""));
            return Some(parse_sid(sid).and_then(|sid| self.send(server, sid, message)));
        }
        if let Some(rest) = text.strip_prefix("except:") {
            let (sids, message) = rest.split_once(':').unwrap_or((rest, ""));
            let except: Result<Vec<Sid>, String> = sids
                .split(',')
                .filter(|sid| !sid.is_empty())
                .map(parse_sid)
                .collect();
            return Some(except.and_then(|except| self.broadcast(server, message, &except)));
        }
        if let Some(sid) = text.strip_prefix("disconnect:") {
            return Some(parse_sid(sid).and_then(|sid| self.disconnect(server, sid)));
        }
        None
    }

    fn send(&self, server: &Server, sid: Sid, text: &str) -> Result<(), String> {
        match self.bridge.get() {
            Some(bridge) => bridge::send(bridge, sid, text),
            None => server.send(sid, text).map_err(|err| err.to_string()),
        }
    }

    fn broadcast(&self, server: &Server, text: &str, except: &[Sid]) -> Result<(), String> {
        match self.bridge.get() {
            Some(bridge) => bridge::broadcast(bridge, text, except),
            None => {
                send_to_all(server, text, except);
                Ok(())
            }
        }
    }

    fn disconnect(&self, server: &Server, sid: Sid) -> Result<(), String> {
        match self.bridge.get() {
            Some(bridge) => bridge::disconnect(bridge, sid),
            None if server.disconnect(sid) => Ok(()),
            None => Err(format!("no session {sid}")),
        }
    }
}

fn parse_sid(text: &str) -> Result<Sid, String> {
    text.parse()
        .map_err(|err: engineio::proto::InvalidSid| format!("{text:?}: {err}"))
}

/// `--redis`, with the `redis` feature: the bridge.
#[cfg(feature = "redis")]
mod bridge {
    use engineio::Sid;
    use engineio::redis::{RedisBridge, RedisConfig};
    use engineio::server::Server;

    pub(super) type Bridge = RedisBridge;

    pub(super) fn config(url: &str) -> Result<RedisConfig, String> {
        RedisConfig::new(url).map_err(|err| err.to_string())
    }

    /// Starts the bridge, and a task that says on standard output when it
    /// is subscribed and when it lost Redis.
    pub(super) fn start(server: &Server, config: RedisConfig) -> RedisBridge {
        let bridge = RedisBridge::start(server, config);
        let watcher = bridge.clone();
        tokio::spawn(async move {
            loop {
                watcher.wait_connected().await;
                println!(
                    "redis: subscribed to {} on {}",
                    watcher.subscriptions().join(" and "),
                    watcher.address()
                );
                let why = watcher.wait_disconnected().await;
                println!("redis: disconnected ({why}); reconnecting");
            }
        });
        bridge
    }

    pub(super) fn send(bridge: &Bridge, sid: Sid, text: &str) -> Result<(), String> {
        bridge.send(sid, text).map_err(|err| err.to_string())
    }

    pub(super) fn broadcast(bridge: &Bridge, text: &str, except: &[Sid]) -> Result<(), String> {
        bridge
            .broadcast_except(text, except)
            .map(drop)
            .map_err(|err| err.to_string())
    }

    pub(super) fn disconnect(bridge: &Bridge, sid: Sid) -> Result<(), String> {
        bridge.disconnect(sid).map_err(|err| err.to_string())
    }
}

/// `--redis` without the `redis` feature: a clear refusal.
#[cfg(not(feature = "redis"))]
mod bridge {
    use engineio::Sid;
    use engineio::server::Server;

    /// No bridge can exist.
    pub(super) enum Bridge {}

    /// There is no configuration to build.
    #[derive(Clone, Copy)]
    pub(super) enum Unavailable {}

    pub(super) fn config(_: &str) -> Result<Unavailable, String> {
        Err(
            "--redis needs eio built with Redis: cargo build -p eio-cli --features redis"
                .to_owned(),
        )
    }

    pub(super) fn start(_: &Server, config: Unavailable) -> Bridge {
        match config {}
    }

    pub(super) fn send(bridge: &Bridge, _: Sid, _: &str) -> Result<(), String> {
        match *bridge {}
    }

    pub(super) fn broadcast(bridge: &Bridge, _: &str, _: &[Sid]) -> Result<(), String> {
        match *bridge {}
    }

    pub(super) fn disconnect(bridge: &Bridge, _: Sid) -> Result<(), String> {
        match *bridge {}
    }
}

/// Sends `text` to every session, encoded once. A session closed between
/// the listing and the send loses nothing: it is gone.
fn send_to_all(server: &Server, text: &str, except: &[Sid]) {
    let packet = EncodedPacket::new(Packet::message(text));
    for sid in server.session_ids() {
        if except.contains(&sid) {
            continue;
        }
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
        send_to_all(&server, &format!("tick {n}"), &[]);
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
