//! The server's options, with python-engineio's defaults.

use std::time::Duration;

use engineio_proto::server::SessionConfig;
use engineio_proto::{NodeId, Transport};

use super::cookie::CookieConfig;
use super::cors::CorsPolicy;
use crate::deflate::PerMessageDeflate;

/// Every option of the server. Build it with [`ServerConfig::default`] and
/// the by-value setters.
///
/// | option | default | python-engineio name |
/// |---|---|---|
/// | [`ping_interval`](Self::ping_interval) | 25 s | `ping_interval` |
/// | [`ping_grace`](Self::ping_grace) | 0 | second item of the `ping_interval` tuple |
/// | [`ping_timeout`](Self::ping_timeout) | 20 s | `ping_timeout` |
/// | [`max_http_buffer_size`](Self::max_http_buffer_size) | 1,000,000 bytes | `max_http_buffer_size` |
/// | [`allow_upgrades`](Self::allow_upgrades) | true | `allow_upgrades` |
/// | [`transports`](Self::transports) | polling, websocket | `transports` |
/// | [`http_compression`](Self::http_compression) | true | `http_compression` |
/// | [`compression_threshold`](Self::compression_threshold) | 1024 bytes | `compression_threshold` |
/// | [`cookie`](Self::cookie) | none | `cookie` |
/// | [`cors`](Self::cors) | same origin | `cors_allowed_origins` |
/// | [`cors_credentials`](Self::cors_credentials) | true | `cors_credentials` |
/// | [`upgrade_timeout`](Self::upgrade_timeout) | 10 s | (Node's `upgradeTimeout`) |
/// | [`path`](Self::path) | `/engine.io/` | `engineio_path` |
/// | [`max_queue`](Self::max_queue) | 1024 packets | (none: unbounded) |
/// | [`max_poll_packets`](Self::max_poll_packets) | 16 | (none) |
/// | [`max_payload_packets`](Self::max_payload_packets) | 100,000 | `Payload.max_decode_packets` (16) |
/// | [`close_timeout`](Self::close_timeout) | 30 s | (Node's `closeTimeout`) |
/// | [`ws_read_buffer_size`](Self::ws_read_buffer_size) | 256 bytes | (none) |
/// | [`per_message_deflate`](Self::per_message_deflate) | off | (Node's `perMessageDeflate`) |
/// | [`max_inbox`](Self::max_inbox) | 128 messages | (none: unbounded) |
/// | [`async_handlers`](Self::async_handlers) | false (in order) | `async_handlers` (default true there) |
/// | [`allow_eio3`](Self::allow_eio3) | false | (Node's `allowEIO3`; python-engineio has none) |
/// | [`jsonp`](Self::jsonp) | false | (always on in python-engineio and Node) |
/// | [`node_id`](Self::node_id) | none | (none; Node's `generateId` can do part of it) |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use engineio::server::{CorsPolicy, ServerConfig};
///
/// let config = ServerConfig::default()
///     .ping_interval(Duration::from_millis(300))
///     .ping_timeout(Duration::from_millis(200))
///     .cors(CorsPolicy::Any);
/// assert_eq!(config.advertised_ping_interval(), Duration::from_millis(300));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    pub(crate) ping_interval: Duration,
    pub(crate) ping_grace: Duration,
    pub(crate) ping_timeout: Duration,
    pub(crate) max_http_buffer_size: usize,
    pub(crate) allow_upgrades: bool,
    pub(crate) transports: Vec<Transport>,
    pub(crate) http_compression: bool,
    pub(crate) compression_threshold: usize,
    pub(crate) cookie: Option<CookieConfig>,
    pub(crate) cors: CorsPolicy,
    pub(crate) cors_credentials: bool,
    pub(crate) upgrade_timeout: Duration,
    pub(crate) path: String,
    pub(crate) max_queue: usize,
    pub(crate) max_poll_packets: usize,
    pub(crate) max_payload_packets: usize,
    pub(crate) close_timeout: Duration,
    pub(crate) ws_read_buffer_size: usize,
    pub(crate) max_inbox: usize,
    pub(crate) async_handlers: bool,
    pub(crate) max_sessions: Option<usize>,
    pub(crate) per_message_deflate: Option<PerMessageDeflate>,
    pub(crate) allow_eio3: bool,
    pub(crate) jsonp: bool,
    pub(crate) node_id: Option<NodeId>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(25),
            ping_grace: Duration::ZERO,
            ping_timeout: Duration::from_secs(20),
            max_http_buffer_size: 1_000_000,
            allow_upgrades: true,
            transports: vec![Transport::Polling, Transport::WebSocket],
            http_compression: true,
            compression_threshold: 1024,
            cookie: None,
            cors: CorsPolicy::SameOrigin,
            cors_credentials: true,
            upgrade_timeout: Duration::from_secs(10),
            path: "/engine.io/".to_owned(),
            max_queue: 1024,
            max_poll_packets: 16,
            max_payload_packets: 100_000,
            close_timeout: Duration::from_secs(30),
            ws_read_buffer_size: 256,
            max_inbox: 128,
            async_handlers: false,
            max_sessions: None,
            per_message_deflate: None,
            allow_eio3: false,
            jsonp: false,
            node_id: None,
        }
    }
}

impl ServerConfig {
    /// Time between a pong and the next ping (default 25 s).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().ping_interval(Duration::from_millis(500));
    /// assert_eq!(config.advertised_ping_interval(), Duration::from_millis(500));
    /// ```
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval;
        self
    }

    /// Extra time added to the interval the handshake advertises (not to the
    /// interval the server pings at), so clients with slow timers do not give
    /// up too early. python-engineio's `ping_interval=(interval, grace)`;
    /// unlike it, sub-second values are not truncated.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default()
    ///     .ping_interval(Duration::from_millis(500))
    ///     .ping_grace(Duration::from_millis(250));
    /// assert_eq!(config.advertised_ping_interval(), Duration::from_millis(750));
    /// ```
    pub fn ping_grace(mut self, grace: Duration) -> Self {
        self.ping_grace = grace;
        self
    }

    /// Time the client has to answer a ping (default 20 s).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().ping_timeout(Duration::from_secs(5));
    /// # let _ = config;
    /// ```
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.ping_timeout = timeout;
        self
    }

    /// The most bytes in one POST body or WebSocket message, and the
    /// `maxPayload` the handshake advertises (default 1,000,000). A larger
    /// POST gets 413; a larger WebSocket message closes the session.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().max_http_buffer_size(64 * 1024);
    /// # let _ = config;
    /// ```
    pub fn max_http_buffer_size(mut self, bytes: usize) -> Self {
        self.max_http_buffer_size = bytes;
        self
    }

    /// Whether polling sessions may upgrade to WebSocket (default true).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().allow_upgrades(false);
    /// # let _ = config;
    /// ```
    pub fn allow_upgrades(mut self, allow: bool) -> Self {
        self.allow_upgrades = allow;
        self
    }

    /// The HTTP transports clients may use (default both). The handshake never
    /// offers an upgrade to a disabled transport (python-engineio does).
    /// WebTransport needs no entry here: it is served, and offered as an
    /// upgrade from polling, while `Server::listen_webtransport` runs
    /// (feature `webtransport`); an entry for it is ignored.
    ///
    /// # Panics
    ///
    /// Panics if `transports` is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::{Transport, server::ServerConfig};
    /// let config = ServerConfig::default().transports([Transport::WebSocket]);
    /// # let _ = config;
    /// ```
    pub fn transports(mut self, transports: impl IntoIterator<Item = Transport>) -> Self {
        let mut list: Vec<Transport> = transports.into_iter().collect();
        list.sort();
        list.dedup();
        assert!(!list.is_empty(), "a server needs at least one transport");
        self.transports = list;
        self
    }

    /// Whether polling responses are compressed (gzip or deflate, as the
    /// client's `Accept-Encoding` prefers; default true).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().http_compression(false);
    /// # let _ = config;
    /// ```
    pub fn http_compression(mut self, enabled: bool) -> Self {
        self.http_compression = enabled;
        self
    }

    /// The smallest response body that gets compressed (default 1024 bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().compression_threshold(4096);
    /// # let _ = config;
    /// ```
    pub fn compression_threshold(mut self, bytes: usize) -> Self {
        self.compression_threshold = bytes;
        self
    }

    /// A cookie holding the session id, set on the handshake response, for
    /// sticky load balancers (default none).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::{CookieConfig, ServerConfig};
    /// let config = ServerConfig::default().cookie(CookieConfig::new("io").http_only(true));
    /// # let _ = config;
    /// ```
    pub fn cookie(mut self, cookie: CookieConfig) -> Self {
        self.cookie = Some(cookie);
        self
    }

    /// Which `Origin`s may connect (default: the server's own origin only).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::{CorsPolicy, ServerConfig};
    /// let config = ServerConfig::default().cors(CorsPolicy::list(["https://example.com"]));
    /// # let _ = config;
    /// ```
    pub fn cors(mut self, policy: CorsPolicy) -> Self {
        self.cors = policy;
        self
    }

    /// Whether responses to allowed origins carry
    /// `Access-Control-Allow-Credentials: true` (default true).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().cors_credentials(false);
    /// # let _ = config;
    /// ```
    pub fn cors_credentials(mut self, enabled: bool) -> Self {
        self.cors_credentials = enabled;
        self
    }

    /// How long an upgrade may take from the WebSocket's opening to the `5`
    /// packet (default 10 s). A slower one is dropped with its WebSocket; the
    /// session goes on over polling.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().upgrade_timeout(Duration::from_secs(3));
    /// # let _ = config;
    /// ```
    pub fn upgrade_timeout(mut self, timeout: Duration) -> Self {
        self.upgrade_timeout = timeout;
        self
    }

    /// The engine.io path (default `/engine.io/`); a missing leading or
    /// trailing slash is added. Requests to the path with or without its
    /// trailing slash are served.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().path("socket.io");
    /// assert_eq!(config.engineio_path(), "/socket.io/");
    /// ```
    pub fn path(mut self, path: impl AsRef<str>) -> Self {
        let trimmed = path.as_ref().trim_matches('/');
        self.path = if trimmed.is_empty() {
            "/".to_owned()
        } else {
            format!("/{trimmed}/")
        };
        self
    }

    /// The most application packets queued for one client (default 1024).
    /// Sending to a client whose queue is full fails with
    /// [`SendError::QueueFull`](super::SendError::QueueFull) rather than
    /// growing memory without bound.
    ///
    /// A client that stops reading (a slow consumer): the kernel's socket
    /// buffers fill, then the WebSocket's write buffer, then this queue, and
    /// from then on every send to it fails with `QueueFull` while the
    /// server's memory stays flat (100 stalled clients with `max_queue(64)`
    /// and 1 KiB messages held about 260 KiB each, see
    /// `tests/server_slow_consumers.rs`). Such a client cannot see the
    /// pings either, so the heartbeat ends its session ("ping timeout")
    /// within `ping_interval + ping_timeout`, even while writes to it are
    /// blocked.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().max_queue(10_000);
    /// # let _ = config;
    /// ```
    pub fn max_queue(mut self, packets: usize) -> Self {
        self.max_queue = packets;
        self
    }

    /// The most sessions the server holds at once (default `None`: no
    /// limit, as the Node server and python-engineio; the process's
    /// open-file limit is then the bound). When it is reached, a handshake
    /// is answered 503 with `{"code":4,"message":"Forbidden: too many
    /// sessions"}` (on either transport, before any upgrade), and the
    /// sessions already open are unaffected. A session's slot frees when
    /// its id is forgotten: at once for a WebSocket, and for a polling
    /// session once its close packet is fetched (or after
    /// [`close_timeout`](Self::close_timeout)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().max_sessions(Some(10_000));
    /// # let _ = config;
    /// ```
    pub fn max_sessions(mut self, limit: Option<usize>) -> Self {
        self.max_sessions = limit;
        self
    }

    /// The most packets in one long-polling response (default 16, because
    /// python-engineio's client silently drops payloads of more than 16
    /// packets). The rest waits for the next poll; nothing is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().max_poll_packets(64);
    /// # let _ = config;
    /// ```
    pub fn max_poll_packets(mut self, packets: usize) -> Self {
        self.max_poll_packets = packets.max(1);
        self
    }

    /// The most packets accepted in one POST body (default 100,000). A POST
    /// with more is answered 400 and closes the session: nothing is silently
    /// dropped, unlike python-engineio's 16-packet limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().max_payload_packets(1000);
    /// # let _ = config;
    /// ```
    pub fn max_payload_packets(mut self, packets: usize) -> Self {
        self.max_payload_packets = packets.max(1);
        self
    }

    /// How long a session closed by the server waits for the client's next
    /// poll to deliver the close packet (default 30 s).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().close_timeout(Duration::from_secs(5));
    /// # let _ = config;
    /// ```
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// The read buffer each WebSocket keeps (default and least: 256 bytes;
    /// tungstenite's own default of 128 KiB per connection is what makes
    /// engineioxide heavy). Reads from the socket go through one 64 KiB
    /// scratch buffer per thread, so a small buffer here costs no extra
    /// system calls for large messages, only some copying: it sets what an
    /// idle WebSocket holds (under 4 KiB of server memory per idle
    /// WebSocket session in all, with this default; `eio bench hold`
    /// measures it).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().ws_read_buffer_size(8192);
    /// # let _ = config;
    /// ```
    pub fn ws_read_buffer_size(mut self, bytes: usize) -> Self {
        self.ws_read_buffer_size = bytes.max(256);
        self
    }

    /// permessage-deflate (RFC 7692) on WebSockets: off by default, as in
    /// Node's `engine.io`. With `Some`, a client that offers the extension
    /// (browsers always do, Node's client by default) gets it, and messages
    /// of at least [`PerMessageDeflate::threshold`] bytes (1024 by default)
    /// go compressed both ways. Without it, an offer is declined: the 101
    /// answer carries no `Sec-WebSocket-Extensions`, and nothing on the
    /// WebSocket path changes.
    ///
    /// An incoming compressed message is inflated up to
    /// [`max_http_buffer_size`](Self::max_http_buffer_size) bytes and no
    /// further: one that is longer (compressed or inflated) closes the
    /// WebSocket with 1009, as an uncompressed one does.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::{PerMessageDeflate, ServerConfig};
    /// let config = ServerConfig::default().per_message_deflate(Some(PerMessageDeflate::default()));
    /// # let _ = config;
    /// ```
    pub fn per_message_deflate(mut self, deflate: Option<PerMessageDeflate>) -> Self {
        self.per_message_deflate = deflate;
        self
    }

    /// The most messages of one session received and not yet handled
    /// (default 128): those waiting for the message handler, plus those
    /// whose handler runs.
    ///
    /// Handlers run on a per-session dispatcher, never on the transport's
    /// read/write path, so a slow handler delays only that session's later
    /// messages: pings, sends and other sessions go on. When a session's
    /// inbox is full, the server stops reading from that client until a
    /// handler finishes: a WebSocket is no longer read (TCP backpressure
    /// slows the client down), and a POST is answered only once all its
    /// packets are in. While reading is paused, the client's pong may sit
    /// unread, so the pong deadline stops counting: a session is never
    /// closed for a ping timeout its own handlers caused.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().max_inbox(16);
    /// # let _ = config;
    /// ```
    pub fn max_inbox(mut self, messages: usize) -> Self {
        self.max_inbox = messages.max(1);
        self
    }

    /// Runs each message handler on its own task (default false).
    ///
    /// By default one session's messages are handled one at a time, in the
    /// order they arrived (the next waits until the handler's future
    /// completes). With `true`, as python-engineio's `async_handlers=True`,
    /// each message's handler starts at once on its own task: handlers of
    /// one session run concurrently and may finish in any order. At most
    /// [`max_inbox`](Self::max_inbox) run at once per session; the
    /// disconnect handler still runs once, after every message handler of
    /// the session has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().async_handlers(true);
    /// # let _ = config;
    /// ```
    pub fn async_handlers(mut self, concurrent: bool) -> Self {
        self.async_handlers = concurrent;
        self
    }

    /// Serves Engine.IO v3 clients (Socket.IO v2's `engine.io-client` 3.x)
    /// besides v4 (default false, as Node's `allowEIO3`). A request with
    /// `EIO=4` is v4; any other (`EIO=3`, no `EIO`) is v3: the client pings
    /// and the server answers (the session ends `ping_interval +
    /// ping_timeout` after the last ping), polling payloads are
    /// length-prefixed (binary as a binary payload, or base64 with `b64=1`),
    /// and binary WebSocket frames carry their packet type byte. Off, a v3
    /// request gets 400 `{"code":5,"message":"Unsupported protocol version"}`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().allow_eio3(true);
    /// # let _ = config;
    /// ```
    pub fn allow_eio3(mut self, allow: bool) -> Self {
        self.allow_eio3 = allow;
        self
    }

    /// Serves JSONP polling (default false): a polling request with a `j`
    /// query parameter is answered with a script
    /// `___eio[<j>]("<payload>");` and POSTs its payload as a form field
    /// `d`, for browsers without CORS (old engine.io-client 3.x with
    /// `forceJSONP`). The index `j` must be digits (else 400 code 3), so it
    /// cannot inject script.
    ///
    /// Off by default because a JSONP response is a script any page may
    /// load with a `<script>` tag: it bypasses the [`cors`](Self::cors)
    /// origin check, which applies to XHR and fetch only. Turn it on only
    /// for old clients that need it. Off, a request with `j` gets 400 code 3.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// let config = ServerConfig::default().allow_eio3(true).jsonp(true);
    /// # let _ = config;
    /// ```
    pub fn jsonp(mut self, enabled: bool) -> Self {
        self.jsonp = enabled;
        self
    }

    /// The name of this server among several behind a load balancer
    /// (default none). Every session id becomes `<node id>.<random>` (20
    /// random characters from the CSPRNG, as without a node id), so the
    /// balancer can send each request of a session to its node by the
    /// `sid` query parameter alone: no cookie, no IP hashing (HAProxy
    /// `use-server n1 if { urlp(sid) -m beg n1. }`, nginx `map $arg_sid`;
    /// see the README's "Deployment behind a load balancer").
    ///
    /// With a node id, a request naming a session of *another* node
    /// (`n2.…` arriving at `n1`) still gets the usual 400 `{"code":1,
    /// "message":"Session ID unknown"}`, but it is counted
    /// ([`Server::misrouted_requests`](super::Server::misrouted_requests))
    /// and logged at warn level, at most once every 10 s: "session of n2
    /// arrived at n1: the load balancer is not routing by session".
    ///
    /// With a [`generate_id`](super::ServerBuilder::generate_id) hook too,
    /// the node id prefixes the hook's ids: `<node id>.<the hook's id>`, which
    /// must fit in [`SID_MAX_LEN`](crate::SID_MAX_LEN) characters in all
    /// (else the handshake is refused, as for any invalid id). The prefix is
    /// always there, so routing never depends on the hook.
    ///
    /// Names are checked when the [`NodeId`] is made: 1 to
    /// [`NODE_ID_MAX_LEN`](engineio_proto::NODE_ID_MAX_LEN) (19) characters
    /// of `A-Z a-z 0-9 - _`.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::server::ServerConfig;
    ///
    /// let config = ServerConfig::default().node_id("n1".parse()?);
    /// assert_eq!(config.node().map(|node| node.as_str()), Some("n1"));
    ///
    /// let err = "eu.1".parse::<engineio::NodeId>().unwrap_err();
    /// assert!(err.to_string().contains("only A-Z a-z 0-9 - _ are allowed"));
    /// # Ok::<(), engineio::InvalidNodeId>(())
    /// ```
    pub fn node_id(mut self, node: NodeId) -> Self {
        self.node_id = Some(node);
        self
    }

    /// The node id set by [`node_id`](Self::node_id), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// assert!(ServerConfig::default().node().is_none());
    /// ```
    pub fn node(&self) -> Option<&NodeId> {
        self.node_id.as_ref()
    }

    /// The ping interval the handshake advertises: interval plus grace.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::server::ServerConfig;
    /// assert_eq!(ServerConfig::default().advertised_ping_interval(), Duration::from_secs(25));
    /// ```
    pub fn advertised_ping_interval(&self) -> Duration {
        self.ping_interval + self.ping_grace
    }

    /// The normalised engine.io path, with leading and trailing slashes.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::ServerConfig;
    /// assert_eq!(ServerConfig::default().engineio_path(), "/engine.io/");
    /// ```
    pub fn engineio_path(&self) -> &str {
        &self.path
    }

    /// The settings of each session's state machine.
    pub(crate) fn session_config(&self) -> SessionConfig {
        SessionConfig {
            ping_interval: self.ping_interval,
            ping_timeout: self.ping_timeout,
            upgrade_timeout: self.upgrade_timeout,
            max_poll_wait: self.ping_interval + self.ping_timeout,
            max_poll_bytes: self.max_http_buffer_size,
            max_poll_packets: self.max_poll_packets,
            max_payload_bytes: self.max_http_buffer_size,
            max_payload_packets: self.max_payload_packets,
            max_queue: self.max_queue,
            max_inbox: self.max_inbox,
            close_timeout: self.close_timeout,
        }
    }

    /// Whether a request path is for the engine.io endpoint.
    pub(crate) fn matches_path(&self, path: &str) -> bool {
        path.starts_with(&self.path) || path == self.path.trim_end_matches('/')
    }

    /// The upgrades to offer in a handshake over `transport`.
    pub(crate) fn upgrades_for(&self, transport: Transport) -> Vec<String> {
        if transport == Transport::Polling
            && self.allow_upgrades
            && self.transports.contains(&Transport::WebSocket)
        {
            vec![Transport::WebSocket.as_str().to_owned()]
        } else {
            Vec::new()
        }
    }
}
