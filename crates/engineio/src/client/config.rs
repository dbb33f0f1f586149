//! The client's options: [`ClientConfig`] and [`Reconnection`].

use std::time::Duration;

use engineio_proto::Transport;

pub use engineio_proto::client::Reconnection;

use super::async_client::Client;
use super::error::ConfigError;

/// The options of a [`Client`], with by-value setters.
///
/// Start from [`Client::builder`] (or `ClientConfig::default()`) and finish
/// with [`ClientConfig::build`].
///
/// | option | default |
/// |---|---|
/// | [`header`](Self::header) | none; sent on every request and on the WebSocket open |
/// | [`transports`](Self::transports) | polling, then upgrade to websocket |
/// | [`path`](Self::path) | `engine.io` (appended to the URL's path, see [the module docs](crate::client)) |
/// | [`query`](Self::query) | none |
/// | [`request_timeout`](Self::request_timeout) | 5 s |
/// | [`max_queue`](Self::max_queue) | 1024 messages not yet written |
/// | [`timestamp_requests`](Self::timestamp_requests) | on |
/// | [`reconnection`](Self::reconnection) | off |
/// | `add_root_certificate_pem` (feature `tls`) | the Mozilla roots only |
/// | `danger_accept_invalid_certs` (feature `tls`) | off: certificates are verified |
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
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) transports: Vec<Transport>,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) request_timeout: Duration,
    pub(crate) max_queue: usize,
    pub(crate) timestamp_requests: bool,
    pub(crate) reconnection: Option<Reconnection>,
    #[cfg(feature = "tls")]
    pub(crate) root_certificates_pem: Vec<Vec<u8>>,
    #[cfg(feature = "tls")]
    pub(crate) danger_accept_invalid_certs: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            headers: Vec::new(),
            transports: vec![Transport::Polling, Transport::WebSocket],
            path: "engine.io".to_owned(),
            query: Vec::new(),
            request_timeout: Duration::from_secs(5),
            max_queue: 1024,
            timestamp_requests: true,
            reconnection: None,
            #[cfg(feature = "tls")]
            root_certificates_pem: Vec::new(),
            #[cfg(feature = "tls")]
            danger_accept_invalid_certs: false,
        }
    }
}

impl ClientConfig {
    /// Adds a header sent on every HTTP request (handshake, polls, posts)
    /// and on the WebSocket open request. A `Cookie` header is merged with
    /// the cookies the client keeps from the server's `Set-Cookie` headers.
    ///
    /// Invalid names or values make [`build`](Self::build) fail.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientConfig;
    /// let config = ClientConfig::default().header("X-Token", "secret");
    /// # drop(config);
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The transports the client may use, in any order:
    ///
    /// - polling and websocket (the default): a polling handshake, then an
    ///   upgrade to WebSocket when the server offers it;
    /// - polling only: the session stays on long-polling;
    /// - websocket only: the handshake happens over a WebSocket directly.
    ///
    /// An empty list makes [`build`](Self::build) fail.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::{client::ClientConfig, Transport};
    /// let polling_only = ClientConfig::default().transports([Transport::Polling]);
    /// # drop(polling_only);
    /// ```
    pub fn transports(mut self, transports: impl IntoIterator<Item = Transport>) -> Self {
        self.transports = Vec::new();
        for transport in transports {
            if !self.transports.contains(&transport) {
                self.transports.push(transport);
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
    /// # use engineio::client::ClientConfig;
    /// let config = ClientConfig::default().path("/socket.io/");
    /// # drop(config);
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Adds a query parameter sent on every request, after the URL's own
    /// query. The reserved names `EIO`, `transport`, `sid` and `t` are
    /// ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientConfig;
    /// let config = ClientConfig::default().query("token", "abc");
    /// # drop(config);
    /// ```
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
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
    /// # use engineio::client::ClientConfig;
    /// let config = ClientConfig::default().request_timeout(Duration::from_secs(2));
    /// # drop(config);
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
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
    /// # use engineio::client::ClientConfig;
    /// let config = ClientConfig::default().max_queue(10_000);
    /// # drop(config);
    /// ```
    pub fn max_queue(mut self, messages: usize) -> Self {
        self.max_queue = messages.max(1);
        self
    }

    /// Whether GETs and the WebSocket open carry a `t=` cache-buster
    /// parameter, as python-engineio and the JS client do (POSTs never do).
    /// Default on.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientConfig;
    /// let config = ClientConfig::default().timestamp_requests(false);
    /// # drop(config);
    /// ```
    pub fn timestamp_requests(mut self, on: bool) -> Self {
        self.timestamp_requests = on;
        self
    }

    /// Turns on automatic reconnection after a transport error or a ping
    /// timeout (never after `disconnect()` or a close by the server).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::client::{ClientConfig, Reconnection};
    /// let config = ClientConfig::default().reconnection(
    ///     Reconnection::default().initial_delay(Duration::from_millis(200)),
    /// );
    /// # drop(config);
    /// ```
    pub fn reconnection(mut self, reconnection: Reconnection) -> Self {
        self.reconnection = Some(reconnection);
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
    /// # use engineio::client::ClientConfig;
    /// let pem = std::fs::read("ca.pem").unwrap();
    /// let config = ClientConfig::default().add_root_certificate_pem(pem);
    /// # drop(config);
    /// ```
    #[cfg(feature = "tls")]
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem.push(pem.into());
        self
    }

    /// Accepts any server certificate, even expired, self-signed or for
    /// another host. **This removes TLS's protection against
    /// man-in-the-middle attacks**; use it for tests only.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientConfig;
    /// let config = ClientConfig::default().danger_accept_invalid_certs(true);
    /// # drop(config);
    /// ```
    #[cfg(feature = "tls")]
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.danger_accept_invalid_certs = accept;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for an invalid header, an empty transport list, or a
    /// root certificate PEM that holds no certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ClientConfig;
    /// let client = ClientConfig::default().build().unwrap();
    /// # drop(client);
    /// ```
    pub fn build(self) -> Result<Client, ConfigError> {
        Client::with_config(self)
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
    /// # use engineio::client::ClientConfig;
    /// let client = ClientConfig::default().build_blocking().unwrap();
    /// # drop(client);
    /// ```
    #[cfg(feature = "blocking")]
    pub fn build_blocking(self) -> Result<super::blocking::Client, ConfigError> {
        super::blocking::Client::with_config(self)
    }
}
