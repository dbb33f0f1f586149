//! The server side of one session, as a state machine driven by the runtime.
//!
//! [`Session`] decides everything about a session: which packets go into the
//! next poll response, when a ping is due and when the pong is late, what an
//! upgrade step does, what an incoming packet means, which messages wait for
//! the application, when reading must pause, and when and how the session
//! ends. It performs no I/O and reads no clock: the runtime passes `now` in.
//!
//! After every call the runtime takes the session's [`Events`] and applies
//! them in one place (wake the transports, re-arm the timer at
//! [`Session::next_deadline`], start a dispatcher, forget the sid). The
//! application's handlers run on a dispatcher that pulls
//! [`Session::next_dispatch`], never on a transport's read/write path.
//!
//! The calls come in groups, one file each:
//!
//! - `lifecycle.rs`: creation, `send`, `close`, timers, the events;
//! - `inbox.rs`: incoming packets, the bounded inbox, the dispatcher;
//! - `polling.rs`: GET and POST requests;
//! - `websocket.rs`: the stream transports (WebSocket and WebTransport),
//!   new or upgrading a polling session. The calls are named `ws_*` and
//!   serve both: a WebTransport stream is driven exactly like a WebSocket.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::encoded::EncodedPacket;
use crate::packet::{Message, Packet};
use crate::reason::DisconnectReason;
use crate::transport::Transport;

use super::wire::{Protocol, Wire};

mod events;
mod inbox;
mod lifecycle;
mod polling;
mod websocket;

#[cfg(test)]
mod tests;

pub use crate::error::SendError;
pub use events::{Closed, Dispatch, Events};
pub use websocket::{CLOSE_MESSAGE_TOO_BIG, WsEnd, WsFinish, WsId, WsTransmit};

/// The per-session settings, taken from the server's configuration.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use engineio_proto::server::SessionConfig;
///
/// let config = SessionConfig {
///     ping_interval: Duration::from_millis(300),
///     ..SessionConfig::default()
/// };
/// assert_eq!(config.max_poll_packets, 16);
/// assert_eq!(config.max_inbox, 128);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Time between a pong (or the open) and the next ping.
    pub ping_interval: Duration,
    /// Time the client has to answer a ping.
    pub ping_timeout: Duration,
    /// Time a WebSocket has to complete an upgrade (`2probe`, then `5`).
    pub upgrade_timeout: Duration,
    /// The longest a long poll is held with nothing to send before it is
    /// answered with a noop (a safety net: a ping normally comes sooner).
    pub max_poll_wait: Duration,
    /// The most bytes in one poll response (`maxPayload`; a single larger
    /// packet is still sent alone).
    pub max_poll_bytes: usize,
    /// The most packets in one poll response. python-engineio's client drops
    /// payloads of more than 16 packets, hence the default of 16; the rest
    /// waits for the next poll.
    pub max_poll_packets: usize,
    /// The most bytes in one POST body (`max_http_buffer_size`).
    pub max_payload_bytes: usize,
    /// The most packets in one POST body.
    pub max_payload_packets: usize,
    /// The most application packets queued for the client; `send` fails past
    /// it instead of growing without bound.
    pub max_queue: usize,
    /// The most messages received and not yet handled (waiting in the inbox
    /// or in a running handler). When it is reached, the session stops
    /// reading from its transport until a handler finishes.
    pub max_inbox: usize,
    /// How long a closed session may take to deliver its last packets (the
    /// close packet to a poll, or the queue over the WebSocket).
    pub close_timeout: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            upgrade_timeout: Duration::from_secs(10),
            max_poll_wait: Duration::from_secs(45),
            max_poll_bytes: 1_000_000,
            max_poll_packets: 16,
            max_payload_bytes: 1_000_000,
            max_payload_packets: 100_000,
            max_queue: 1024,
            max_inbox: 128,
            close_timeout: Duration::from_secs(30),
        }
    }
}

/// Why a request for this session is refused. [`RequestError::http_error`]
/// gives the answer.
///
/// # Examples
///
/// ```
/// use engineio_proto::server::RequestError;
/// assert_eq!(
///     RequestError::Upgraded.to_string(),
///     "the session was upgraded to WebSocket or WebTransport; polling requests are over"
/// );
/// assert_eq!(RequestError::Upgraded.http_error().status, 400);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The session is closed (or closing with nothing left to deliver).
    #[error("the session is closed")]
    Closed,
    /// The session runs over WebSocket or WebTransport now.
    #[error("the session was upgraded to WebSocket or WebTransport; polling requests are over")]
    Upgraded,
    /// A second GET (or POST) while one is in flight: the session is closed.
    #[error("overlapping {0} requests: the session is closed")]
    Overlap(&'static str),
    /// A WebSocket (or WebTransport stream) for a session that already runs
    /// over one, or is upgrading: the new one is accepted, then closed at once.
    #[error("the session already runs over WebSocket or WebTransport, or is upgrading")]
    WebSocketExists,
    /// A POST with `Content-Type: application/octet-stream`, which EIO=4
    /// does not use: the session is closed.
    #[error(
        "binary POST bodies (application/octet-stream) are not part of EIO=4: the session is closed"
    )]
    InvalidContent,
    /// A POST body over `max_payload_bytes`; the session goes on.
    #[error("the POST body is over the limit of {limit} bytes (max_http_buffer_size)")]
    TooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// A POST with more packets than `max_payload_packets`: the session is
    /// closed rather than any packet being dropped.
    #[error("the POST holds more than {limit} packets: the session is closed")]
    TooManyPackets {
        /// The configured limit.
        limit: usize,
    },
}

/// Where an upgrade to a stream transport (WebSocket or WebTransport)
/// stands, or the stream transport in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WsState {
    /// Attached to a polling session, waiting for `2probe` (or `5`).
    Attached,
    /// `3probe` is due or sent, waiting for `5`.
    Probed,
    /// The session runs over this WebSocket.
    Active,
}

/// The session's stream transport (a WebSocket or a WebTransport stream):
/// the one in use, or the one upgrading it. Both behave alike: packets in
/// order both ways, `2probe`/`3probe` and `5` for an upgrade.
#[derive(Debug, Clone, Copy)]
struct WsSlot {
    id: u64,
    /// `WebSocket` or `WebTransport`.
    transport: Transport,
    state: WsState,
    /// `3probe` must be written.
    probe_reply: bool,
    /// When an unfinished upgrade is abandoned.
    upgrade_deadline: Option<Instant>,
}

/// What remains to deliver after the session closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Farewell {
    /// Send the queue, then a close packet (`1`): a server-initiated close.
    Flush,
    /// A close packet alone to the poll in flight, or a close frame on the
    /// WebSocket: the server gave up on the client.
    Close,
    /// A noop (`6`) to the poll in flight: the client closed.
    Noop,
    /// Nothing: the session is over.
    Done,
}

/// The state of the POST in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Post {
    /// None.
    Idle,
    /// Its body is being read.
    Reading,
    /// Its packets wait for room in the inbox.
    Accepting,
}

/// The server side of one Engine.IO session.
///
/// # Examples
///
/// A polling session: the client polls, the application sends, the poll is
/// answered.
///
/// ```
/// use std::time::Instant;
/// use engineio_proto::{EncodedPacket, Packet, Transport};
/// use engineio_proto::server::{Session, SessionConfig};
///
/// let now = Instant::now();
/// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
/// session.begin_poll(now).unwrap();
/// assert_eq!(session.poll_payload(), None); // nothing yet: keep the GET waiting
/// session.send(EncodedPacket::new(Packet::message("hello"))).unwrap();
/// assert!(session.take_events().wake);
/// assert_eq!(session.poll_payload().as_deref(), Some("4hello"));
/// ```
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    transport: Transport,
    /// The protocol revision and polling framing, fixed at the handshake.
    wire: Wire,

    // Outgoing.
    queue: VecDeque<EncodedPacket>,
    /// Application packets in `queue` (pings are not counted).
    app_queued: usize,
    /// Whether a ping waits in `queue` (at most one ever does).
    ping_queued: bool,

    // Heartbeat.
    next_ping: Instant,
    pong_deadline: Option<Instant>,
    /// Whether the pong deadline was already pushed back once by another
    /// packet (the Node server's one-time refresh).
    pong_refreshed: bool,
    /// Since when reading is paused because the inbox is full; that time
    /// does not count against the client's pong.
    paused_since: Option<Instant>,

    // Polling.
    /// The deadline of the GET in flight.
    poll: Option<Instant>,
    /// The GET in flight outlived `max_poll_wait`: answer it with a noop.
    poll_expired: bool,
    post: Post,
    /// The POST being read is a v3 binary payload (`application/octet-stream`).
    post_binary: bool,
    /// Packets of POSTs waiting for room in the inbox; an `Err` is an
    /// undecodable packet that closes the session when its turn comes.
    backlog: VecDeque<Result<Packet, String>>,

    // WebSocket.
    ws: Option<WsSlot>,
    next_ws_id: u64,

    // Inbox and dispatcher.
    inbox: VecDeque<Message>,
    /// Messages handed to the dispatcher whose handler has not finished.
    handling: usize,
    dispatcher_active: bool,
    disconnect_dispatched: bool,

    // Close.
    closed: Option<DisconnectReason>,
    farewell: Farewell,
    close_deadline: Option<Instant>,
    forgotten: bool,

    events: Events,
    /// The deadline the runtime was last told about.
    reported_deadline: Option<Instant>,
}
