//! Engine.IO v4 server and clients on tokio and hyper.
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `server` | yes | [`server`]: the server, standalone or as a tower `Service`/`Layer` |
//! | `client` | yes | [`client`]: the async client |
//! | `blocking` | yes | the blocking client, a facade over the async one |
//! | `tls` | yes | `https://` and `wss://` for the clients, through rustls |
//! | `server-tls` | yes | `https://`, `wss://` and HTTP/2 (ALPN) for the standalone server: [`server::Server::listen_tls`], through rustls |
//! | `redis` | no | [`redis`]: sends, broadcasts and disconnects across server nodes through Redis or Valkey (`RedisBridge`), and a write-only `RedisEmitter`, through the `redis` crate; implies `server` |
//! | `webtransport` | no | WebTransport (HTTP/3 over QUIC, on UDP) for the server: `Server::listen_webtransport` and `WebTransportConfig`, and for the async client (with `client`): `Transport::WebTransport` and `ClientBuilder::webtransport_certificate_hash`; through the `wtransport` crate (quinn); implies `server-tls` |
//!
//! The protocol itself (packets, payloads, handshake, session state) lives in
//! the sans-I/O crate [`engineio_proto`], re-exported here as [`proto`].
//!
//! WebSockets can compress their messages (permessage-deflate, RFC 7692):
//! off by default on both sides, as in Node; see [`PerMessageDeflate`] and
//! [`deflate`] for how it is built beside tokio-tungstenite.
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

pub use engineio_proto as proto;
pub use engineio_proto::{
    InvalidNodeId, JsonError, Message, NodeId, SID_MAX_LEN, SendJsonError, Sid, Transport,
};

#[cfg(feature = "client")]
pub mod client;
#[cfg(any(feature = "server", feature = "client"))]
pub mod deflate;
#[cfg(any(feature = "server", feature = "client"))]
pub use deflate::PerMessageDeflate;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "server")]
pub mod server;
#[cfg(any(feature = "server", feature = "client"))]
mod ws_io;
