//! What a session reports to the runtime after each call: the values the
//! runtime applies in one place.

use crate::packet::Message;
use crate::reason::DisconnectReason;

/// How a session ended, reported once by [`Events::closed`].
///
/// # Examples
///
/// ```
/// use engineio_proto::DisconnectReason;
/// use engineio_proto::server::Closed;
///
/// let closed = Closed { reason: DisconnectReason::PingTimeout, detail: None };
/// assert_eq!(closed.to_string(), "ping timeout");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The reason given to the disconnect handler.
    pub reason: DisconnectReason,
    /// What went wrong, for the logs, when the client broke the protocol or
    /// the transport failed (for example "overlapping GET requests").
    pub detail: Option<String>,
}

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{} ({detail})", self.reason),
            None => write!(f, "{}", self.reason),
        }
    }
}

/// What happened inside a [`Session`](super::Session) since the runtime last
/// asked, taken with [`Session::take_events`](super::Session::take_events).
///
/// The runtime applies them in one place, after every call into the session:
///
/// | field | what the runtime does |
/// |---|---|
/// | `wake` | wakes whatever waits on the session's transports: the pending long poll, a POST waiting for room in the inbox, the WebSocket loop |
/// | `deadline_changed` | re-arms its timer at [`Session::next_deadline`](super::Session::next_deadline) |
/// | `dispatch` | starts a dispatcher that calls [`Session::next_dispatch`](super::Session::next_dispatch) until it returns `None` |
/// | `closed` | logs it; the disconnect itself comes through the dispatcher, exactly once |
/// | `forget` | removes the sid from its table: later requests with it get "Session ID unknown" |
/// | `upgrading` | runs the application's "upgrading" hook: a WebSocket sent the `2probe` of an upgrade |
/// | `upgraded` | runs the application's "upgrade" hook: the session moved to WebSocket (`5` arrived) |
///
/// # Examples
///
/// ```
/// use std::time::Instant;
/// use engineio_proto::{DisconnectReason, Transport};
/// use engineio_proto::server::{Session, SessionConfig};
///
/// let now = Instant::now();
/// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
/// session.close(DisconnectReason::PingTimeout, now);
/// let events = session.take_events();
/// assert_eq!(events.closed.unwrap().reason, DisconnectReason::PingTimeout);
/// assert!(events.forget && events.dispatch);
/// assert!(session.take_events().is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use = "events must be applied by the runtime"]
#[non_exhaustive]
pub struct Events {
    /// The transports have something to do.
    pub wake: bool,
    /// The next deadline moved earlier (or appeared).
    pub deadline_changed: bool,
    /// Work waits for a dispatcher and none is running.
    pub dispatch: bool,
    /// The session closed (reported once in its life).
    pub closed: Option<Closed>,
    /// The session id must be forgotten now (reported once).
    pub forget: bool,
    /// A WebSocket probed the session for an upgrade (`2probe` arrived).
    pub upgrading: bool,
    /// The session switched to WebSocket (the upgrade packet arrived).
    pub upgraded: bool,
}

impl Events {
    /// Whether nothing happened.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(engineio_proto::server::Events::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Work for the session's dispatcher, in the order it must run.
///
/// # Examples
///
/// ```
/// use std::time::Instant;
/// use engineio_proto::{Packet, Transport};
/// use engineio_proto::server::{Dispatch, Session, SessionConfig};
///
/// let now = Instant::now();
/// let mut session = Session::new(Transport::WebSocket, SessionConfig::default(), now);
/// let ws = session.websocket().unwrap();
/// session.ws_receive(ws, Packet::message("hi"), now);
/// assert_eq!(session.next_dispatch(), Some(Dispatch::Message("hi".into())));
/// session.message_handled(now);
/// assert_eq!(session.next_dispatch(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dispatch {
    /// Run the message handler, then call
    /// [`Session::message_handled`](super::Session::message_handled).
    Message(Message),
    /// Run the disconnect handler; it comes once, after every message
    /// received before the close was handled, and ends the dispatcher.
    Disconnect(DisconnectReason),
}
