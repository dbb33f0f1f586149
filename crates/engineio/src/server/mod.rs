//! The Engine.IO server: long-polling, WebSocket, the upgrade between them,
//! the heartbeat, and every option of python-engineio's `Server`.
//!
//! Build a [`Server`] with [`Server::builder`], then serve it:
//!
//! - standalone: [`Server::listen`] or [`Server::serve`];
//! - standalone over TLS (`https://`, `wss://`, HTTP/2 by ALPN; feature
//!   `server-tls`): [`Server::listen_tls`] or [`Server::serve_tls`] with a
//!   [`TlsConfig`];
//! - WebTransport (HTTP/3 over QUIC, on UDP; feature `webtransport`):
//!   `Server::listen_webtransport` or `Server::serve_webtransport` with a
//!   `WebTransportConfig`, beside one of the above: new sessions over
//!   WebTransport and upgrades of polling sessions;
//! - inside hyper, tower or axum: [`Server::into_service`] and
//!   [`Server::layer`] ([`EngineIoService`], [`EngineIoLayer`]), which hand
//!   every request outside the engine.io path to the inner service.
//!
//! The protocol decisions (routing, heartbeat, polls, upgrade, close) are
//! made by the sans-I/O [`engineio_proto::server`] module; this module moves
//! the bytes and runs the handlers.
//!
//! # Differences from python-engineio, on purpose
//!
//! - Errors are answered with the Node server's `{"code":N,"message":"..."}`
//!   JSON bodies, and every message says what was wrong.
//! - A POST with more packets than allowed is refused with 400 instead of
//!   being silently dropped; poll responses are capped at 16 packets so
//!   python-engineio's client can read them.
//! - [`Server::disconnect`] never blocks.
//! - A disabled transport is never advertised as an upgrade.
//! - Sub-second ping intervals are advertised exactly.
//! - Overlapping long polls close the session, as the Node server does.
//! - Compression honours `Accept-Encoding` q-values.
//! - JSONP polling is not supported (400).
//! - Handlers run in order by default (see [`ServerConfig::async_handlers`]).
//!
//! # Handlers and backpressure
//!
//! Each session's handlers run on a dispatcher task of their own, never on
//! the transport's read/write path: while a handler runs, the session keeps
//! being pinged, its sends are written, and other sessions are unaffected.
//! Messages received and not yet handled wait in a bounded inbox
//! ([`ServerConfig::max_inbox`]); when it is full, the server stops reading
//! from that client (TCP backpressure on WebSocket; a POST is answered once
//! its packets are in) and its pong deadline stops counting, so the client is
//! never timed out for the server's backlog.
//!
//! # Several nodes behind a load balancer
//!
//! Give each node a [`ServerConfig::node_id`]: its session ids become
//! `<node id>.<random>`, so the balancer can send every request of a
//! session to its node by the `sid` parameter, and a node counts and logs
//! the requests for other nodes' sessions it gets
//! ([`Server::misrouted_requests`]). The README's "Deployment behind a
//! load balancer" has tested HAProxy and nginx configurations. To reach
//! the sessions of other nodes (send, broadcast, disconnect), join the
//! nodes through Redis with `engineio::redis::RedisBridge` (feature
//! `redis`).
//!
//! # Edges
//!
//! Every protocol edge (errors, requests out of order, closes) is answered as
//! the Node server answers it; the differences on purpose are listed in the
//! README.

mod answer;
mod builder;
mod compress;
mod config;
mod connect;
mod cookie;
mod cors;
mod driver;
mod engine;
mod handle;
mod hooks;
mod http;
mod listen;
mod misroute;
mod open;
mod service;
mod socket;
mod static_files;
mod static_service;
mod timers;
#[cfg(feature = "server-tls")]
mod tls;
#[cfg(feature = "webtransport")]
mod webtransport;
mod ws;

pub use crate::deflate::PerMessageDeflate;
pub use builder::ServerBuilder;
pub use config::ServerConfig;
pub use connect::{ConnectRequest, Rejection};
pub use cookie::{CookieConfig, SameSite};
pub use cors::CorsPolicy;
pub use engine::{SendError, Server};
/// Why a session ended: the one type of the server and the clients.
pub use engineio_proto::DisconnectReason;
pub use engineio_proto::server::ErrorCode;
pub use hooks::ConnectionError;
pub use open::PeerAddr;
pub use service::{EngineIoLayer, EngineIoService, NotFound, ResponseFuture};
pub use socket::Socket;
pub use static_files::{ResolvedFile, StaticEntry, StaticFiles};
pub use static_service::{ServeStatic, ServeStaticLayer, StaticBody};
#[cfg(feature = "server-tls")]
pub use tls::{TlsConfig, TlsConfigError};
#[cfg(feature = "webtransport")]
pub use webtransport::WebTransportConfig;

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<Server>();
        send_sync::<Socket>();
        send_sync::<ServerConfig>();
        send_sync::<ConnectRequest>();
        send_sync::<Rejection>();
        send_sync::<SendError>();
        send_sync::<EngineIoService<NotFound>>();
        send_sync::<EngineIoLayer>();
        send_sync::<StaticFiles>();
        send_sync::<ServeStatic<NotFound>>();
        #[cfg(feature = "server-tls")]
        {
            send_sync::<TlsConfig>();
            send_sync::<TlsConfigError>();
        }
    }
}
