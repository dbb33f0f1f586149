//! [`ClientBuilder`]: sets a client's options and builds it (async or
//! blocking), as reqwest's builders do.

use std::time::Duration;

use engineio_proto::Transport;

use super::async_client::Client;
use super::config::{ClientConfig, Reconnection};
use super::error::ConfigError;

/// Sets the options of a client, then builds it: [`Client`] with
/// [`build`](Self::build), or the blocking client with `build_blocking`.
/// The options and their defaults are listed on [`ClientConfig`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use engineio::Transport;
/// use engineio::client::{Client, Reconnection};
///
/// let client = Client::builder()
///     .header("Authorization", "Bearer abc")
///     .transports([Transport::WebSocket])
///     .path("/socket.io")
///     .query("room", "lobby")
///     .request_timeout(Duration::from_secs(10))
///     .reconnection(Reconnection::default().max_attempts(Some(5)))
///     .build()
///     .unwrap();
/// # drop(client);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ClientBuilder {
    config: ClientConfig,
}

impl Client {
    /// A builder with the default options.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::{Transport, client::Client};
    ///
    /// let client = Client::builder().transports([Transport::WebSocket]).build().unwrap();
    /// # drop(client);
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }
}

#[cfg(feature = "blocking")]
impl super::blocking::Client {
    /// A builder with the default options; finish with
    /// [`ClientBuilder::build_blocking`].
    ///
    /// # Examples
    ///
    /// ```
    /// let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// # drop(client);
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }
}

impl ClientBuilder {
    /// A builder with the default options.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = engineio::client::ClientBuilder::new();
    /// # drop(builder);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from `config`.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::client::{ClientBuilder, ClientConfig};
    /// let builder = ClientBuilder::from_config(ClientConfig::default());
    /// # drop(builder);
    /// ```
    pub fn from_config(config: ClientConfig) -> Self {
        Self { config }
    }

    /// The options set so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = engineio::client::ClientBuilder::new().path("/socket.io").into_config();
    /// # drop(config);
    /// ```
    pub fn into_config(self) -> ClientConfig {
        self.config
    }

    /// Offers permessage-deflate (RFC 7692) on WebSockets: off by default
    /// (Node's `engine.io-client` offers it by default, with a 1024-byte
    /// threshold; browsers always do). When the server agrees, messages of
    /// at least [`PerMessageDeflate::threshold`](crate::PerMessageDeflate::threshold)
    /// bytes go compressed both ways; incoming compressed messages are
    /// inflated up to 16 MiB (tungstenite's largest frame), no further.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::PerMessageDeflate;
    /// use engineio::client::ClientBuilder;
    ///
    /// let builder = ClientBuilder::new().per_message_deflate(Some(PerMessageDeflate::default()));
    /// # drop(builder);
    /// ```
    pub fn per_message_deflate(
        mut self,
        deflate: Option<crate::deflate::PerMessageDeflate>,
    ) -> Self {
        self.config.per_message_deflate = deflate;
        self
    }

    /// Adds a header sent on every HTTP request (handshake, polls, posts)
    /// and on the WebSocket open request. A `Cookie` header is merged with
    /// the cookies the client keeps from the server's `Set-Cookie` headers.
    ///
    /// Invalid names or values make [`build`](Self::build) fail.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let config = ClientBuilder::new().header("X-Token", "secret");
    /// # drop(config);
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a header sent on the WebSocket open request only (not on
    /// polling requests): python-engineio's `websocket_extra_options`
    /// headers. Invalid names or values make [`build`](Self::build) fail.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let builder = ClientBuilder::new().websocket_header("X-Gateway", "edge-1");
    /// # drop(builder);
    /// ```
    pub fn websocket_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.ws_headers.push((name.into(), value.into()));
        self
    }

    /// Asks for WebSocket subprotocols (`Sec-WebSocket-Protocol`), in order
    /// of preference. The server must pick one of them (the Node server and
    /// ours pick the first), else the WebSocket fails to open.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let builder = ClientBuilder::new().websocket_protocols(["v2.chat", "chat"]);
    /// # drop(builder);
    /// ```
    pub fn websocket_protocols(
        mut self,
        protocols: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.config.ws_protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// The transports the client may use, in any order:
    ///
    /// - polling and websocket (the default): a polling handshake, then an
    ///   upgrade to WebSocket when the server offers it;
    /// - polling only: the session stays on long-polling;
    /// - websocket only: the handshake happens over a WebSocket directly;
    /// - with [`Transport::WebTransport`] (feature `webtransport`): after a
    ///   polling handshake, an upgrade to WebTransport when the server offers
    ///   it (preferred over WebSocket); without polling and WebSocket, the
    ///   handshake happens over WebTransport directly (HTTP/3 over QUIC, at
    ///   `https://` + the URL's host and port + the path, on UDP). See
    ///   `webtransport_certificate_hash` for the server's certificate.
    ///   Without the feature it is ignored.
    ///
    /// An empty list makes [`build`](Self::build) fail.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::{client::ClientBuilder, Transport};
    /// let polling_only = ClientBuilder::new().transports([Transport::Polling]);
    /// # drop(polling_only);
    /// ```
    pub fn transports(mut self, transports: impl IntoIterator<Item = Transport>) -> Self {
        self.config.transports = Vec::new();
        for transport in transports {
            if !self.config.transports.contains(&transport) {
                self.config.transports.push(transport);
            }
        }
        self
    }

    /// The Engine.IO path, appended to the URL's path; leading and trailing
    /// slashes do not matter (`"engine.io"`, `"/engine.io"` and
    /// `"/engine.io/"` are the same). Default `engine.io`; Socket.IO servers
    /// use `socket.io`. See [the module docs](crate::client) for examples.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let config = ClientBuilder::new().path("/socket.io/");
    /// # drop(config);
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.path = path.into();
        self
    }

    /// Adds a query parameter sent on every request, after the URL's own
    /// query. The reserved names `EIO`, `transport`, `sid` and `t` are
    /// ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let config = ClientBuilder::new().query("token", "abc");
    /// # drop(config);
    /// ```
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.query.push((name.into(), value.into()));
        self
    }

    /// The time limit of the handshake, of each POST, of the WebSocket open
    /// and of the upgrade probe. Long-polling GETs may take up to
    /// `pingInterval + pingTimeout` longer. Default 5 s, like python-engineio.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::client::ClientBuilder;
    /// let config = ClientBuilder::new().request_timeout(Duration::from_secs(2));
    /// # drop(config);
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// The most messages received from the server and not yet delivered
    /// (default 1024): waiting for their handler, or for
    /// [`recv`](super::Client::recv) to take them.
    ///
    /// Past it, the client stops reading from the server until a message is
    /// delivered: no new poll, no WebSocket read (TCP backpressure). Memory
    /// stays bounded and nothing is dropped; but the server's pings are not
    /// read either, so a backlog that lasts longer than the server's ping
    /// interval plus ping timeout ends the session on the server's side
    /// ("ping timeout"), which the client reports once it reads again.
    /// Events other than messages (connect, upgrade, disconnect, ...) are
    /// few and are not counted.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let builder = ClientBuilder::new().max_events(64);
    /// # drop(builder);
    /// ```
    pub fn max_events(mut self, messages: usize) -> Self {
        self.config.max_events = messages.max(1);
        self
    }

    /// The most messages sent but not yet written to the transport (default
    /// 1024). Past it, [`Client::send`](super::Client::send) fails with
    /// [`SendError::QueueFull`](super::SendError::QueueFull) instead of
    /// growing memory without bound when the server reads slowly.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let config = ClientBuilder::new().max_queue(10_000);
    /// # drop(config);
    /// ```
    pub fn max_queue(mut self, messages: usize) -> Self {
        self.config.max_queue = messages.max(1);
        self
    }

    /// Whether GETs and the WebSocket open carry a `t=` cache-buster
    /// parameter, as python-engineio and the JS client do (POSTs never do).
    /// Default on.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let config = ClientBuilder::new().timestamp_requests(false);
    /// # drop(config);
    /// ```
    pub fn timestamp_requests(mut self, on: bool) -> Self {
        self.config.timestamp_requests = on;
        self
    }

    /// Turns on automatic reconnection after a transport error or a ping
    /// timeout (never after `disconnect()` or a close by the server).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::client::{ClientBuilder, Reconnection};
    /// let config = ClientBuilder::new().reconnection(
    ///     Reconnection::default().initial_delay(Duration::from_millis(200)),
    /// );
    /// # drop(config);
    /// ```
    pub fn reconnection(mut self, reconnection: Reconnection) -> Self {
        self.config.reconnection = Some(reconnection);
        self
    }

    /// Sends every request through the HTTP proxy at `url`, whatever the
    /// server's scheme and whatever the proxy environment variables say.
    ///
    /// `url` is `http://host:port` or `https://host:port` (TLS to the proxy
    /// itself, with the `tls` feature; its certificate is checked like the
    /// server's); credentials in it (`http://user:password@host:port`,
    /// percent-encoded) are sent as `Proxy-Authorization: Basic`. Polling
    /// requests to `http://` servers are forwarded by the proxy; those to
    /// `https://` servers, and every WebSocket, go through a `CONNECT`
    /// tunnel (the proxy must allow `CONNECT` to the server's port).
    ///
    /// Precedence: this option, or [`no_proxy`](Self::no_proxy), replaces
    /// the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`,
    /// `NO_PROXY`, which apply by default, as in reqwest); the last of the
    /// two called wins. An invalid URL makes [`build`](Self::build) fail.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let client = ClientBuilder::new()
    ///     .proxy("http://user:secret@proxy.internal:3128")
    ///     .build()
    ///     .unwrap();
    /// # drop(client);
    /// assert!(ClientBuilder::new().proxy("proxy:3128").build().is_err());
    /// ```
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.config.proxy = super::proxy::ProxySetting::Url(url.into());
        self
    }

    /// Connects directly, ignoring the proxy environment variables
    /// (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY` and their
    /// lower-case forms), which apply by default. Replaces an earlier
    /// [`proxy`](Self::proxy).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let client = ClientBuilder::new().no_proxy().build().unwrap();
    /// # drop(client);
    /// ```
    pub fn no_proxy(mut self) -> Self {
        self.config.proxy = super::proxy::ProxySetting::Disabled;
        self
    }

    /// Trusts the certificates of a PEM file (one or more `CERTIFICATE`
    /// blocks) as roots, in addition to the built-in Mozilla roots. For
    /// servers with a private or self-signed certificate.
    ///
    /// A PEM without any certificate makes [`build`](Self::build) fail.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use engineio::client::ClientBuilder;
    /// let pem = std::fs::read("ca.pem").unwrap();
    /// let config = ClientBuilder::new().add_root_certificate_pem(pem);
    /// # drop(config);
    /// ```
    #[cfg(feature = "tls")]
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.config.root_certificates_pem.push(pem.into());
        self
    }

    /// Presents a client certificate to servers that ask for one (mutual
    /// TLS), on every request and on the WebSocket: `chain_pem` holds the
    /// certificate (then its intermediates), `key_pem` its private key
    /// (PKCS#8, PKCS#1 or SEC1). Unreadable PEM makes
    /// [`build`](Self::build) fail.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let client = engineio::client::Client::builder()
    ///     .client_certificate_pem(
    ///         std::fs::read("client.pem").unwrap(),
    ///         std::fs::read("client.key").unwrap(),
    ///     )
    ///     .build()
    ///     .unwrap();
    /// # drop(client);
    /// ```
    #[cfg(feature = "tls")]
    pub fn client_certificate_pem(
        mut self,
        chain_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.config.client_identity_pem = Some((chain_pem.into(), key_pem.into()));
        self
    }

    /// Accepts any server certificate, even expired, self-signed or for
    /// another host. **This removes TLS's protection against
    /// man-in-the-middle attacks**; use it for tests only.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let config = ClientBuilder::new().danger_accept_invalid_certs(true);
    /// # drop(config);
    /// ```
    #[cfg(feature = "tls")]
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.config.danger_accept_invalid_certs = accept;
        self
    }

    /// Accepts a WebTransport server's certificate by its SHA-256 digest (of
    /// the DER certificate), as browsers' `serverCertificateHashes`: the
    /// certificate must be valid now, for at most 14 days, with an ECDSA
    /// P-256 key (`WebTransportConfig::self_signed` makes one, and
    /// `certificate_hash()` gives the digest). Call it once per accepted
    /// certificate. Without any, the certificate must chain to the system's
    /// root certificates. It applies to WebTransport only (polling and
    /// WebSocket use the TLS options above).
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::{Transport, client::ClientBuilder};
    ///
    /// let hash = [0u8; 32]; // WebTransportConfig::certificate_hash() on the server
    /// let builder = ClientBuilder::new()
    ///     .transports([Transport::Polling, Transport::WebTransport])
    ///     .webtransport_certificate_hash(hash);
    /// # drop(builder);
    /// ```
    #[cfg(feature = "webtransport")]
    pub fn webtransport_certificate_hash(mut self, sha256: [u8; 32]) -> Self {
        self.config.webtransport_hashes.push(sha256);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for an invalid header, an empty transport list, a
    /// root certificate PEM that holds no certificate, or an invalid
    /// [`proxy`](Self::proxy) URL.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let client = ClientBuilder::new().build().unwrap();
    /// # drop(client);
    /// ```
    pub fn build(self) -> Result<Client, ConfigError> {
        Client::with_config(self.config)
    }

    /// Builds a [`blocking::Client`](crate::client::blocking::Client).
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientBuilder;
    /// let client = ClientBuilder::new().build_blocking().unwrap();
    /// # drop(client);
    /// ```
    #[cfg(feature = "blocking")]
    pub fn build_blocking(self) -> Result<super::blocking::Client, ConfigError> {
        super::blocking::Client::with_config(self.config)
    }
}
