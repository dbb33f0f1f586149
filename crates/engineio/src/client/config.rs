//! The client's options as plain data ([`ClientConfig`]); they are set
//! with [`ClientBuilder`](super::ClientBuilder).

use std::time::Duration;

use engineio_proto::Transport;

pub use engineio_proto::client::Reconnection;

/// The options of a client, as plain data: set them with
/// [`ClientBuilder`](super::ClientBuilder) (from [`Client::builder`](super::Client::builder)),
/// which builds the client.
///
/// | option | default |
/// |---|---|
/// | [`header`](super::ClientBuilder::header) | none; sent on every request and on the WebSocket open |
/// | [`websocket_header`](super::ClientBuilder::websocket_header) | none; sent on the WebSocket open only |
/// | [`websocket_protocols`](super::ClientBuilder::websocket_protocols) | none (no `Sec-WebSocket-Protocol`) |
/// | [`transports`](super::ClientBuilder::transports) | polling, then upgrade to websocket |
/// | [`path`](super::ClientBuilder::path) | `engine.io` (appended to the URL's path, see [the module docs](crate::client)) |
/// | [`query`](super::ClientBuilder::query) | none |
/// | [`request_timeout`](super::ClientBuilder::request_timeout) | 5 s |
/// | [`max_queue`](super::ClientBuilder::max_queue) | 1024 messages not yet written |
/// | [`max_events`](super::ClientBuilder::max_events) | 1024 messages received and not yet delivered |
/// | [`timestamp_requests`](super::ClientBuilder::timestamp_requests) | on |
/// | [`reconnection`](super::ClientBuilder::reconnection) | off |
/// | `add_root_certificate_pem` (feature `tls`) | the Mozilla roots only |
/// | `danger_accept_invalid_certs` (feature `tls`) | off: certificates are verified |
/// | `client_certificate_pem` (feature `tls`) | none: no client certificate (mutual TLS off) |
/// | `webtransport_certificate_hash` (feature `webtransport`) | none: the server's certificate must chain to the system's roots |
/// | [`per_message_deflate`](super::ClientBuilder::per_message_deflate) | off (no offer) |
/// | [`proxy`](super::ClientBuilder::proxy) / [`no_proxy`](super::ClientBuilder::no_proxy) | the environment: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY` (and lower case), read by `build()` |
///
/// # Examples
///
/// ```
/// use engineio::client::{Client, ClientBuilder, ClientConfig};
///
/// let config: ClientConfig = ClientBuilder::new().path("/socket.io").into_config();
/// let client = Client::with_config(config).unwrap();
/// # drop(client);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) ws_headers: Vec<(String, String)>,
    pub(crate) ws_protocols: Vec<String>,
    pub(crate) transports: Vec<Transport>,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) request_timeout: Duration,
    pub(crate) max_queue: usize,
    pub(crate) max_events: usize,
    pub(crate) timestamp_requests: bool,
    pub(crate) reconnection: Option<Reconnection>,
    pub(crate) proxy: super::proxy::ProxySetting,
    pub(crate) per_message_deflate: Option<crate::deflate::PerMessageDeflate>,
    #[cfg(feature = "tls")]
    pub(crate) root_certificates_pem: Vec<Vec<u8>>,
    #[cfg(feature = "tls")]
    pub(crate) danger_accept_invalid_certs: bool,
    /// A client certificate chain and its private key, both PEM.
    #[cfg(feature = "tls")]
    pub(crate) client_identity_pem: Option<(Vec<u8>, Vec<u8>)>,
    /// SHA-256 digests of the server certificates WebTransport accepts.
    #[cfg(feature = "webtransport")]
    pub(crate) webtransport_hashes: Vec<[u8; 32]>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            headers: Vec::new(),
            ws_headers: Vec::new(),
            ws_protocols: Vec::new(),
            transports: vec![Transport::Polling, Transport::WebSocket],
            path: "engine.io".to_owned(),
            query: Vec::new(),
            request_timeout: Duration::from_secs(5),
            max_queue: 1024,
            max_events: 1024,
            timestamp_requests: true,
            reconnection: None,
            proxy: super::proxy::ProxySetting::Environment,
            per_message_deflate: None,
            #[cfg(feature = "tls")]
            root_certificates_pem: Vec::new(),
            #[cfg(feature = "tls")]
            danger_accept_invalid_certs: false,
            #[cfg(feature = "tls")]
            client_identity_pem: None,
            #[cfg(feature = "webtransport")]
            webtransport_hashes: Vec::new(),
        }
    }
}
