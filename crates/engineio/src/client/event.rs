//! What a client reports: its events, its connection states and the reasons
//! a connection ends.

use std::fmt;
use std::time::Duration;

use engineio_proto::{Message, Transport};

/// Why a connection ended: the one type of the server and the clients
/// (the client uses `ClientDisconnect`, `ServerDisconnect`, `TransportError`
/// and `PingTimeout`).
pub use engineio_proto::DisconnectReason;

/// The connection state of a client.
///
/// # Examples
///
/// ```
/// use engineio::client::{Client, State};
///
/// let client = Client::builder().build().unwrap();
/// assert_eq!(client.state(), State::Disconnected);
/// assert_eq!(State::Connected.to_string(), "connected");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// No session (the initial and final state).
    Disconnected,
    /// A handshake, or a reconnection, is in progress.
    Connecting,
    /// A session is open; `send()` works.
    Connected,
    /// `disconnect()` is flushing the close packet.
    Disconnecting,
}

impl State {
    /// The state in lower case, as python-engineio's `state` attribute.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::State;
    /// assert_eq!(State::Disconnecting.as_str(), "disconnecting");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Disconnected => "disconnected",
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Disconnecting => "disconnecting",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happened to a client, in the order it happened.
///
/// Each event goes to the handler registered for it (see
/// [`Client::on_message`](crate::client::Client::on_message) and friends),
/// else to the [`on_event`](crate::client::Client::on_event) handler, else to
/// the queue read by [`Client::recv`](crate::client::Client::recv).
///
/// A session's events are: `Connect`, any number of `Message`, at most one
/// `Upgrade` or `UpgradeError`, then `Disconnect`. With reconnection enabled, a recoverable `Disconnect` is
/// followed by `Reconnecting` events and then either `Reconnected` and a new
/// session's `Connect`, or `ReconnectFailed`.
///
/// # Examples
///
/// ```
/// use engineio::client::{DisconnectReason, Event};
/// use engineio::Message;
///
/// let event = Event::Message(Message::from("hi"));
/// assert!(matches!(event, Event::Message(Message::Text(ref t)) if t == "hi"));
/// assert_ne!(event, Event::Disconnect(DisconnectReason::PingTimeout));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The handshake succeeded: a session is open.
    Connect,
    /// A message from the server.
    Message(Message),
    /// The session moved to another transport (after a successful upgrade,
    /// `Upgrade(Transport::WebSocket)`).
    Upgrade(Transport),
    /// The upgrade to WebSocket failed (the message says why); the session
    /// goes on over long-polling.
    UpgradeError(String),
    /// The session ended.
    Disconnect(DisconnectReason),
    /// Reconnection attempt number `attempt` (from 1) starts after `delay`.
    Reconnecting {
        /// The attempt number, from 1.
        attempt: u32,
        /// How long the client waits before this attempt.
        delay: Duration,
    },
    /// Reconnection succeeded after `attempts` attempts; a `Connect` follows.
    Reconnected {
        /// How many attempts it took.
        attempts: u32,
    },
    /// Reconnection gave up after `attempts` attempts; the client is
    /// disconnected for good.
    ReconnectFailed {
        /// How many attempts were made.
        attempts: u32,
    },
}
