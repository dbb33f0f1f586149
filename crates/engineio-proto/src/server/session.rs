//! The server side of one session, as a state machine driven by the runtime.
//!
//! [`Session`] decides everything about a session: which packets go into the
//! next poll response, when a ping is due and when the pong is late, what an
//! upgrade step does, what an incoming packet means, and when the session is
//! over. It performs no I/O and reads no clock: the runtime passes `now` in,
//! sleeps until [`Session::next_deadline`], and moves the bytes.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::encoded::EncodedPacket;
use crate::packet::{Message, PROBE, Packet};
use crate::payload::{PayloadEncoder, PayloadLimits, RECORD_SEPARATOR};
use crate::reason::DisconnectReason;
use crate::transport::Transport;

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
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Time between a pong (or the open) and the next ping.
    pub ping_interval: Duration,
    /// Time the client has to answer a ping.
    pub ping_timeout: Duration,
    /// The most bytes in one poll response (`maxPayload`; a single larger
    /// packet is still sent alone).
    pub max_poll_bytes: usize,
    /// The most packets in one poll response. python-engineio's client drops
    /// payloads of more than 16 packets, hence the default of 16; the rest
    /// waits for the next poll.
    pub max_poll_packets: usize,
    /// The most application packets queued for the client; `send` fails past
    /// it instead of growing without bound.
    pub max_queue: usize,
    /// How long a closed polling session waits for a last poll to deliver
    /// its close packet.
    pub close_timeout: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            max_poll_bytes: 1_000_000,
            max_poll_packets: 16,
            max_queue: 1024,
            close_timeout: Duration::from_secs(30),
        }
    }
}

/// Why a packet could not be queued.
///
/// # Examples
///
/// ```
/// use engineio_proto::server::SendError;
/// assert_eq!(SendError::QueueFull { limit: 2 }.to_string(), "the session's outgoing queue is full (2 packets)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SendError {
    /// The session is closed.
    #[error("the session is closed")]
    Closed,
    /// The client reads slower than the application sends.
    #[error("the session's outgoing queue is full ({limit} packets)")]
    QueueFull {
        /// The configured queue limit.
        limit: usize,
    },
    /// A text message holds the record separator (`0x1E`), which the
    /// protocol forbids in data: in a long-polling payload it would split
    /// the message into several packets (and let the text inject packets).
    #[error("text holding the record separator 0x1E cannot be sent over long-polling")]
    SeparatorInText,
}

/// Why an HTTP request cannot be served for this session; each maps to a 400.
///
/// # Examples
///
/// ```
/// use engineio_proto::server::RequestError;
/// assert_eq!(RequestError::Upgraded.to_string(), "the session was upgraded to WebSocket; polling requests are over");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The session is closed (or closing with nothing left to deliver).
    #[error("the session is closed")]
    Closed,
    /// The session runs over WebSocket now.
    #[error("the session was upgraded to WebSocket; polling requests are over")]
    Upgraded,
    /// A second GET (or POST) while one is in flight: the session is closed.
    #[error("overlapping {0} requests: the session is closed")]
    Overlap(&'static str),
    /// A WebSocket for a session that already has one, or is upgrading.
    #[error("the session already has a WebSocket")]
    WebSocketExists,
}

/// What an incoming packet meant.
///
/// # Examples
///
/// ```
/// use std::time::Instant;
/// use engineio_proto::{Packet, Transport};
/// use engineio_proto::server::{Received, Session, SessionConfig};
///
/// let mut session = Session::new(Transport::Polling, SessionConfig::default(), Instant::now());
/// let received = session.receive(Packet::message("hi"), Instant::now());
/// assert_eq!(received, Received::Message("hi".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// An application message to hand to the application.
    Message(Message),
    /// Nothing for the application (a pong, a noop).
    Nothing,
    /// The packet closed the session.
    Closed {
        /// The reason to report.
        reason: DisconnectReason,
        /// What the client did wrong, for the logs, if anything.
        violation: Option<&'static str>,
    },
}

/// What a timer expiry did (see [`Session::handle_timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// Nothing was due.
    Nothing,
    /// A ping was queued: wake the transport's writer.
    PingQueued,
    /// The pong was late: the session is closed with [`DisconnectReason::PingTimeout`].
    Closed(DisconnectReason),
    /// The session is over and can be forgotten.
    Finished,
}

/// What a WebSocket packet did to an upgrade in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeStep {
    /// `2probe` arrived: send `3probe` on the WebSocket. Pending and later
    /// polls are answered with a noop at once, so the client can pause.
    Probed,
    /// `5` arrived: the session now runs over the WebSocket; flush the queue
    /// there.
    Upgraded,
    /// Any other packet: the upgrade is abandoned and the WebSocket must be
    /// closed; the session goes on over polling.
    Aborted(&'static str),
}

/// Where an upgrade to WebSocket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    /// No WebSocket is attached.
    None,
    /// A WebSocket is attached, waiting for `2probe`.
    Attached,
    /// `3probe` was sent, waiting for `5`.
    Probed,
}

/// What remains to deliver after the session closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Farewell {
    /// Send the queue, then a close packet (`1`).
    ClosePacket,
    /// Answer a pending poll with a noop (`6`): the client closed.
    Noop,
    /// Nothing: the session is over.
    Done,
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
/// assert_eq!(session.poll_payload().as_deref(), Some("4hello"));
/// session.end_poll();
/// ```
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    transport: Transport,
    upgrade: Upgrade,
    queue: VecDeque<EncodedPacket>,
    /// Application packets in `queue` (pings and closes are not counted).
    app_queued: usize,
    /// Whether a ping waits in `queue` (at most one ever does, even if a
    /// client answers pings it was never sent).
    ping_queued: bool,
    next_ping: Instant,
    pong_deadline: Option<Instant>,
    poll_in_flight: bool,
    post_in_flight: bool,
    closed: Option<DisconnectReason>,
    farewell: Farewell,
    close_deadline: Option<Instant>,
}

impl Session {
    /// A new session over `transport`, opened at `now`. The open packet is
    /// the runtime's to send (it answers the handshake); the first ping is
    /// due one ping interval from `now`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let session = Session::new(Transport::WebSocket, SessionConfig::default(), Instant::now());
    /// assert_eq!(session.transport(), Transport::WebSocket);
    /// ```
    pub fn new(transport: Transport, config: SessionConfig, now: Instant) -> Self {
        Self {
            config,
            transport,
            upgrade: Upgrade::None,
            queue: VecDeque::new(),
            app_queued: 0,
            ping_queued: false,
            next_ping: now + config.ping_interval,
            pong_deadline: None,
            poll_in_flight: false,
            post_in_flight: false,
            closed: None,
            farewell: Farewell::Done,
            close_deadline: None,
        }
    }

    /// The transport the session runs over now.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let session = Session::new(Transport::Polling, SessionConfig::default(), Instant::now());
    /// assert_eq!(session.transport(), Transport::Polling);
    /// ```
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Why the session closed, or `None` while it is open.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{DisconnectReason, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.close(DisconnectReason::ServerDisconnect, now);
    /// assert_eq!(session.closed(), Some(DisconnectReason::ServerDisconnect));
    /// ```
    pub fn closed(&self) -> Option<DisconnectReason> {
        self.closed
    }

    /// Whether the session is closed and has nothing left to deliver, so the
    /// runtime can forget it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{DisconnectReason, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.close(DisconnectReason::TransportClose, now);
    /// assert!(session.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.closed.is_some() && self.farewell == Farewell::Done
    }

    /// The number of packets waiting to be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{EncodedPacket, Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), Instant::now());
    /// session.send(Packet::message("a").into()).unwrap();
    /// assert_eq!(session.queued(), 1);
    /// ```
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Queues an application packet for the client.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] once the session is closed;
    /// [`SendError::QueueFull`] when `max_queue` packets wait already;
    /// [`SendError::SeparatorInText`] for text holding `0x1E` on a polling
    /// session (the Node server lets such text inject packets).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::server::{SendError, Session, SessionConfig};
    /// let config = SessionConfig { max_queue: 1, ..SessionConfig::default() };
    /// let mut session = Session::new(Transport::Polling, config, Instant::now());
    /// session.send(Packet::message("a").into()).unwrap();
    /// assert_eq!(session.send(Packet::message("b").into()), Err(SendError::QueueFull { limit: 1 }));
    /// ```
    pub fn send(&mut self, packet: EncodedPacket) -> Result<(), SendError> {
        if self.closed.is_some() {
            return Err(SendError::Closed);
        }
        if self.transport == Transport::Polling
            && let Packet::Message(Message::Text(text)) = packet.packet()
            && text.contains(RECORD_SEPARATOR)
        {
            return Err(SendError::SeparatorInText);
        }
        if self.app_queued >= self.config.max_queue {
            return Err(SendError::QueueFull {
                limit: self.config.max_queue,
            });
        }
        self.app_queued += 1;
        self.queue.push_back(packet);
        Ok(())
    }

    /// Handles a packet from the client (from a POST or a WebSocket frame of
    /// the session's current transport).
    ///
    /// A message is handed back; a pong re-arms the heartbeat; a close packet
    /// closes the session ("client disconnect"); a ping (a v4 client must not
    /// send one) or an open packet closes it ("transport error").
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{DisconnectReason, Packet, Transport};
    /// # use engineio_proto::server::{Received, Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// assert_eq!(
    ///     session.receive(Packet::Close, now),
    ///     Received::Closed { reason: DisconnectReason::ClientDisconnect, violation: None }
    /// );
    /// ```
    pub fn receive(&mut self, packet: Packet, now: Instant) -> Received {
        if self.closed.is_some() {
            return Received::Nothing;
        }
        match packet {
            Packet::Message(message) => Received::Message(message),
            Packet::Pong(_) => {
                if self.pong_deadline.take().is_some() {
                    self.next_ping = now + self.config.ping_interval;
                }
                Received::Nothing
            }
            Packet::Noop | Packet::Upgrade => Received::Nothing,
            Packet::Close => {
                self.close(DisconnectReason::ClientDisconnect, now);
                Received::Closed {
                    reason: DisconnectReason::ClientDisconnect,
                    violation: None,
                }
            }
            Packet::Ping(_) => self.violation("a v4 client must not send pings", now),
            Packet::Open(_) => self.violation("a client must not send an open packet", now),
        }
    }

    /// Closes the session for a protocol violation.
    fn violation(&mut self, what: &'static str, now: Instant) -> Received {
        self.close(DisconnectReason::TransportError, now);
        Received::Closed {
            reason: DisconnectReason::TransportError,
            violation: Some(what),
        }
    }

    /// When [`Session::handle_timeout`] must be called next.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// assert_eq!(session.next_deadline(), Some(now + Duration::from_secs(25)));
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.closed.is_some() {
            return self.close_deadline.filter(|_| !self.is_finished());
        }
        Some(self.pong_deadline.unwrap_or(self.next_ping))
    }

    /// Runs the timers due at `now`: queues a ping when one is due, closes
    /// the session when a pong is late, and ends a closed session whose last
    /// poll never came.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use engineio_proto::{DisconnectReason, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig, Timeout};
    /// let start = Instant::now();
    /// let mut session = Session::new(Transport::WebSocket, SessionConfig::default(), start);
    /// let ping_at = start + Duration::from_secs(25);
    /// assert_eq!(session.handle_timeout(ping_at), Timeout::PingQueued);
    /// let late = ping_at + Duration::from_secs(20);
    /// assert_eq!(session.handle_timeout(late), Timeout::Closed(DisconnectReason::PingTimeout));
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) -> Timeout {
        if self.closed.is_some() {
            if self.close_deadline.is_some_and(|deadline| now >= deadline) {
                self.finish();
            }
            return if self.is_finished() {
                Timeout::Finished
            } else {
                Timeout::Nothing
            };
        }
        match self.pong_deadline {
            Some(deadline) if now >= deadline => {
                self.close(DisconnectReason::PingTimeout, now);
                Timeout::Closed(DisconnectReason::PingTimeout)
            }
            Some(_) => Timeout::Nothing,
            None if now >= self.next_ping => {
                if !self.ping_queued {
                    self.queue.push_back(EncodedPacket::new(Packet::ping()));
                    self.ping_queued = true;
                }
                self.pong_deadline = Some(now + self.config.ping_timeout);
                Timeout::PingQueued
            }
            None => Timeout::Nothing,
        }
    }

    /// Closes the session. Returns `true` if it was open (the runtime then
    /// reports the disconnect, once).
    ///
    /// Queued packets are still delivered, followed by a close packet, to a
    /// poll that comes within `close_timeout` or over the WebSocket; when the
    /// client itself closed, a pending poll gets a noop instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{DisconnectReason, Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.send(Packet::message("bye").into()).unwrap();
    /// assert!(session.close(DisconnectReason::ServerDisconnect, now));
    /// assert!(!session.close(DisconnectReason::ServerDisconnect, now));
    /// session.begin_poll(now).unwrap();
    /// assert_eq!(session.poll_payload().as_deref(), Some("4bye\u{1e}1"));
    /// ```
    pub fn close(&mut self, reason: DisconnectReason, now: Instant) -> bool {
        if self.closed.is_some() {
            return false;
        }
        self.closed = Some(reason);
        self.upgrade = Upgrade::None;
        self.farewell = match reason {
            DisconnectReason::TransportClose => Farewell::Done,
            DisconnectReason::ClientDisconnect if self.poll_in_flight => Farewell::Noop,
            DisconnectReason::ClientDisconnect => Farewell::Done,
            _ => Farewell::ClosePacket,
        };
        if self.farewell == Farewell::Done {
            self.queue.clear();
            self.app_queued = 0;
            self.ping_queued = false;
        } else {
            self.close_deadline = Some(now + self.config.close_timeout);
        }
        true
    }

    /// Drops everything that was left to deliver.
    fn finish(&mut self) {
        self.farewell = Farewell::Done;
        self.queue.clear();
        self.app_queued = 0;
        self.ping_queued = false;
        self.close_deadline = None;
    }

    /// Starts a long-polling GET.
    ///
    /// # Errors
    ///
    /// [`RequestError::Upgraded`] after an upgrade; [`RequestError::Closed`]
    /// for a closed session with nothing to deliver;
    /// [`RequestError::Overlap`] when a GET is already in flight, which
    /// closes the session (the first GET then gets a close packet).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{RequestError, Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.begin_poll(now).unwrap();
    /// assert_eq!(session.begin_poll(now), Err(RequestError::Overlap("GET")));
    /// assert_eq!(session.poll_payload().as_deref(), Some("1"));
    /// ```
    pub fn begin_poll(&mut self, now: Instant) -> Result<(), RequestError> {
        self.begin_request(true, now)
    }

    /// Starts a long-polling POST (errors as for [`Session::begin_poll`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.begin_post(now).unwrap();
    /// session.end_post();
    /// ```
    pub fn begin_post(&mut self, now: Instant) -> Result<(), RequestError> {
        self.begin_request(false, now)
    }

    fn begin_request(&mut self, poll: bool, now: Instant) -> Result<(), RequestError> {
        if self.transport == Transport::WebSocket {
            return Err(RequestError::Upgraded);
        }
        if self.closed.is_some() {
            // Only a poll may still pick up the farewell packets.
            return if poll && !self.poll_in_flight && self.farewell != Farewell::Done {
                self.poll_in_flight = true;
                Ok(())
            } else {
                Err(RequestError::Closed)
            };
        }
        let (in_flight, name) = if poll {
            (&mut self.poll_in_flight, "GET")
        } else {
            (&mut self.post_in_flight, "POST")
        };
        if *in_flight {
            self.close(DisconnectReason::TransportError, now);
            return Err(RequestError::Overlap(name));
        }
        *in_flight = true;
        Ok(())
    }

    /// Ends the GET started by [`Session::begin_poll`].
    pub fn end_poll(&mut self) {
        self.poll_in_flight = false;
    }

    /// Ends the POST started by [`Session::begin_post`].
    pub fn end_post(&mut self) {
        self.post_in_flight = false;
    }

    /// The body for the GET in flight, or `None` if it must keep waiting.
    ///
    /// Takes queued packets up to `max_poll_packets` and `max_poll_bytes`;
    /// the rest waits for the next poll. During an upgrade (after `2probe`)
    /// and after it, the answer is a noop (`6`) so the client can move to the
    /// WebSocket. After a close, the remaining packets and a close packet.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let config = SessionConfig { max_poll_packets: 2, ..SessionConfig::default() };
    /// let mut session = Session::new(Transport::Polling, config, Instant::now());
    /// for text in ["a", "b", "c"] {
    ///     session.send(Packet::message(text).into()).unwrap();
    /// }
    /// assert_eq!(session.poll_payload().as_deref(), Some("4a\u{1e}4b"));
    /// assert_eq!(session.poll_payload().as_deref(), Some("4c"));
    /// ```
    pub fn poll_payload(&mut self) -> Option<String> {
        if self.closed.is_some() {
            return match self.farewell {
                Farewell::Done => None,
                Farewell::Noop => {
                    self.finish();
                    Some("6".to_owned())
                }
                Farewell::ClosePacket => {
                    let mut encoder = self.fill_payload(usize::MAX);
                    if self.queue.is_empty() && encoder.try_push(&Packet::Close) {
                        self.finish();
                    }
                    Some(encoder.finish())
                }
            };
        }
        if self.upgrade == Upgrade::Probed || self.transport == Transport::WebSocket {
            return Some("6".to_owned());
        }
        if self.queue.is_empty() {
            return None;
        }
        Some(self.fill_payload(self.config.max_poll_packets).finish())
    }

    /// The body of a polling handshake: the open packet, then what was
    /// queued while the connect handler ran, within the same limits as a
    /// poll (the open packet counts as one of the packets).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use engineio_proto::{Handshake, Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let config = SessionConfig { max_poll_packets: 2, ..SessionConfig::default() };
    /// let mut session = Session::new(Transport::Polling, config, Instant::now());
    /// session.send(Packet::message("a").into()).unwrap();
    /// session.send(Packet::message("b").into()).unwrap();
    /// let open = Packet::Open(Handshake::new("sid", vec![], Duration::ZERO, Duration::ZERO, 0));
    /// let body = session.open_payload(&open);
    /// assert!(body.ends_with("}\u{1e}4a")); // "4b" waits for the first poll
    /// ```
    pub fn open_payload(&mut self, open: &Packet) -> String {
        let mut encoder = PayloadEncoder::new(self.poll_limits(self.config.max_poll_packets));
        encoder.try_push(open);
        self.drain_into(&mut encoder);
        encoder.finish()
    }

    fn poll_limits(&self, max_packets: usize) -> PayloadLimits {
        PayloadLimits::new(
            max_packets.min(self.config.max_poll_packets.max(1)),
            self.config.max_poll_bytes,
        )
    }

    /// Moves queued packets into a payload, within the limits.
    fn fill_payload(&mut self, max_packets: usize) -> PayloadEncoder {
        let mut encoder = PayloadEncoder::new(self.poll_limits(max_packets));
        self.drain_into(&mut encoder);
        encoder
    }

    /// Moves queued packets into `encoder` while they fit.
    fn drain_into(&mut self, encoder: &mut PayloadEncoder) {
        while let Some(packet) = self.queue.front() {
            if !encoder.try_push_encoded(packet.text()) {
                break;
            }
            self.pop_front();
        }
    }

    fn pop_front(&mut self) -> Option<EncodedPacket> {
        let packet = self.queue.pop_front()?;
        if matches!(packet.packet(), Packet::Ping(_)) {
            self.ping_queued = false;
        } else {
            self.app_queued = self.app_queued.saturating_sub(1);
        }
        Some(packet)
    }

    /// Attaches a WebSocket that wants to upgrade this polling session.
    ///
    /// # Errors
    ///
    /// [`RequestError::Closed`], or [`RequestError::WebSocketExists`] when the
    /// session runs over WebSocket already or another upgrade is under way:
    /// the new WebSocket must be closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{RequestError, Session, SessionConfig};
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), Instant::now());
    /// session.begin_upgrade().unwrap();
    /// assert_eq!(session.begin_upgrade(), Err(RequestError::WebSocketExists));
    /// ```
    pub fn begin_upgrade(&mut self) -> Result<(), RequestError> {
        if self.closed.is_some() {
            return Err(RequestError::Closed);
        }
        if self.transport == Transport::WebSocket || self.upgrade != Upgrade::None {
            return Err(RequestError::WebSocketExists);
        }
        self.upgrade = Upgrade::Attached;
        Ok(())
    }

    /// Handles a packet received on the upgrading WebSocket.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig, UpgradeStep};
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), Instant::now());
    /// session.begin_upgrade().unwrap();
    /// assert_eq!(session.upgrade_packet(Packet::Ping("probe".into())), UpgradeStep::Probed);
    /// assert_eq!(session.poll_payload().as_deref(), Some("6"));
    /// assert_eq!(session.upgrade_packet(Packet::Upgrade), UpgradeStep::Upgraded);
    /// assert_eq!(session.transport(), Transport::WebSocket);
    /// ```
    pub fn upgrade_packet(&mut self, packet: Packet) -> UpgradeStep {
        if self.closed.is_some() {
            self.upgrade = Upgrade::None;
            return UpgradeStep::Aborted("the session closed during the upgrade");
        }
        match (self.upgrade, packet) {
            (Upgrade::Attached, Packet::Ping(data)) if data == PROBE => {
                self.upgrade = Upgrade::Probed;
                UpgradeStep::Probed
            }
            (Upgrade::Probed, Packet::Upgrade) => {
                self.upgrade = Upgrade::None;
                self.transport = Transport::WebSocket;
                UpgradeStep::Upgraded
            }
            (Upgrade::Attached, _) => {
                self.upgrade = Upgrade::None;
                UpgradeStep::Aborted("expected 2probe as the first packet of an upgrade")
            }
            (_, _) => {
                self.upgrade = Upgrade::None;
                UpgradeStep::Aborted("expected 5 (upgrade) after 3probe")
            }
        }
    }

    /// Abandons an upgrade under way (its WebSocket closed or timed out);
    /// the session goes on over polling.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), Instant::now());
    /// session.begin_upgrade().unwrap();
    /// session.abort_upgrade();
    /// session.begin_upgrade().unwrap(); // a new attempt may start
    /// ```
    pub fn abort_upgrade(&mut self) {
        if self.transport == Transport::Polling {
            self.upgrade = Upgrade::None;
        }
    }

    /// Takes every packet to write on the WebSocket, in order. After a close,
    /// the last one is the close packet, and the WebSocket must then be
    /// closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let mut session = Session::new(Transport::WebSocket, SessionConfig::default(), Instant::now());
    /// session.send(Packet::message("a").into()).unwrap();
    /// let packets = session.take_ws_packets();
    /// assert_eq!(packets[0].text(), "4a");
    /// ```
    pub fn take_ws_packets(&mut self) -> Vec<EncodedPacket> {
        let mut packets: Vec<EncodedPacket> = self.queue.drain(..).collect();
        self.app_queued = 0;
        self.ping_queued = false;
        if self.closed.is_some() && self.farewell == Farewell::ClosePacket {
            packets.push(EncodedPacket::new(Packet::Close));
        }
        if self.closed.is_some() {
            self.finish();
        }
        packets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SessionConfig {
        SessionConfig {
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            ..SessionConfig::default()
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn heartbeat_pings_after_interval_and_rearms_on_pong() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, config(), t0);
        assert_eq!(s.handle_timeout(t0 + ms(299)), Timeout::Nothing);
        assert_eq!(s.handle_timeout(t0 + ms(300)), Timeout::PingQueued);
        assert_eq!(s.next_deadline(), Some(t0 + ms(500)));
        assert_eq!(s.poll_payload().as_deref(), Some("2"));
        assert_eq!(s.receive(Packet::pong(), t0 + ms(350)), Received::Nothing);
        // The next ping is one interval after the pong.
        assert_eq!(s.next_deadline(), Some(t0 + ms(650)));
        assert_eq!(s.handle_timeout(t0 + ms(600)), Timeout::Nothing);
        assert_eq!(s.handle_timeout(t0 + ms(650)), Timeout::PingQueued);
    }

    #[test]
    fn late_pong_closes_with_ping_timeout_and_tells_the_client() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, config(), t0);
        s.handle_timeout(t0 + ms(300));
        assert_eq!(
            s.handle_timeout(t0 + ms(500)),
            Timeout::Closed(DisconnectReason::PingTimeout)
        );
        assert_eq!(s.closed(), Some(DisconnectReason::PingTimeout));
        s.begin_poll(t0).unwrap();
        assert_eq!(s.poll_payload().as_deref(), Some("2\u{1e}1"));
        assert!(s.is_finished());
    }

    #[test]
    fn a_closed_session_nobody_polls_is_reaped_after_close_timeout() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, config(), t0);
        s.close(DisconnectReason::ServerDisconnect, t0);
        assert_eq!(s.next_deadline(), Some(t0 + Duration::from_secs(30)));
        assert_eq!(
            s.handle_timeout(t0 + Duration::from_secs(30)),
            Timeout::Finished
        );
        assert_eq!(s.begin_poll(t0), Err(RequestError::Closed));
    }

    #[test]
    fn client_ping_is_a_protocol_violation() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, config(), t0);
        let got = s.receive(Packet::ping(), t0);
        assert_eq!(
            got,
            Received::Closed {
                reason: DisconnectReason::TransportError,
                violation: Some("a v4 client must not send pings")
            }
        );
    }

    #[test]
    fn client_close_answers_pending_poll_with_noop() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, config(), t0);
        s.begin_poll(t0).unwrap();
        s.receive(Packet::Close, t0);
        assert_eq!(s.poll_payload().as_deref(), Some("6"));
        assert!(s.is_finished());
    }

    #[test]
    fn overlapping_get_closes_and_first_get_gets_close_packet() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, config(), t0);
        s.begin_poll(t0).unwrap();
        assert_eq!(s.begin_poll(t0), Err(RequestError::Overlap("GET")));
        assert_eq!(s.closed(), Some(DisconnectReason::TransportError));
        assert_eq!(s.poll_payload().as_deref(), Some("1"));
    }

    #[test]
    fn overlapping_post_closes() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, config(), t0);
        s.begin_post(t0).unwrap();
        assert_eq!(s.begin_post(t0), Err(RequestError::Overlap("POST")));
        assert_eq!(s.closed(), Some(DisconnectReason::TransportError));
    }

    #[test]
    fn poll_respects_byte_limit_but_sends_a_lone_large_packet() {
        let t0 = Instant::now();
        let cfg = SessionConfig {
            max_poll_bytes: 10,
            ..config()
        };
        let mut s = Session::new(Transport::Polling, cfg, t0);
        s.send(Packet::message("0123456789abc").into()).unwrap();
        s.send(Packet::message("x").into()).unwrap();
        s.send(Packet::message("y").into()).unwrap();
        assert_eq!(s.poll_payload().as_deref(), Some("40123456789abc"));
        assert_eq!(s.poll_payload().as_deref(), Some("4x\u{1e}4y"));
        assert_eq!(s.poll_payload(), None);
    }

    #[test]
    fn upgrade_flushes_queue_over_websocket_in_order() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, config(), t0);
        s.begin_poll(t0).unwrap();
        s.begin_upgrade().unwrap();
        // Before the probe, polls are served as usual.
        assert_eq!(s.poll_payload(), None);
        assert_eq!(
            s.upgrade_packet(Packet::Ping(PROBE.into())),
            UpgradeStep::Probed
        );
        s.send(Packet::message("a").into()).unwrap();
        s.send(Packet::message(vec![1u8]).into()).unwrap();
        // The pending poll is released with a noop, the messages stay queued.
        assert_eq!(s.poll_payload().as_deref(), Some("6"));
        s.end_poll();
        assert_eq!(s.upgrade_packet(Packet::Upgrade), UpgradeStep::Upgraded);
        let texts: Vec<String> = s
            .take_ws_packets()
            .iter()
            .map(|p| p.text().to_owned())
            .collect();
        assert_eq!(texts, ["4a", "bAQ=="]);
        assert_eq!(s.begin_poll(t0), Err(RequestError::Upgraded));
        assert_eq!(s.begin_post(t0), Err(RequestError::Upgraded));
        assert_eq!(s.begin_upgrade(), Err(RequestError::WebSocketExists));
    }

    #[test]
    fn bad_probe_aborts_upgrade_and_polling_goes_on() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, config(), t0);
        s.begin_upgrade().unwrap();
        assert!(matches!(
            s.upgrade_packet(Packet::message("nope")),
            UpgradeStep::Aborted(_)
        ));
        s.send(Packet::message("still here").into()).unwrap();
        s.begin_poll(t0).unwrap();
        assert_eq!(s.poll_payload().as_deref(), Some("4still here"));
        s.end_poll();
        s.begin_upgrade().unwrap();
        assert_eq!(
            s.upgrade_packet(Packet::Ping(PROBE.into())),
            UpgradeStep::Probed
        );
        assert!(matches!(
            s.upgrade_packet(Packet::Noop),
            UpgradeStep::Aborted(_)
        ));
        assert_eq!(s.transport(), Transport::Polling);
    }

    #[test]
    fn websocket_close_sends_queue_then_close_packet() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::WebSocket, config(), t0);
        s.send(Packet::message("last").into()).unwrap();
        s.close(DisconnectReason::ServerDisconnect, t0);
        let texts: Vec<String> = s
            .take_ws_packets()
            .iter()
            .map(|p| p.text().to_owned())
            .collect();
        assert_eq!(texts, ["4last", "1"]);
        assert!(s.is_finished());
    }

    #[test]
    fn queue_limit_counts_application_packets_only() {
        let t0 = Instant::now();
        let cfg = SessionConfig {
            max_queue: 1,
            ..config()
        };
        let mut s = Session::new(Transport::Polling, cfg, t0);
        s.send(Packet::message("a").into()).unwrap();
        assert_eq!(s.handle_timeout(t0 + ms(300)), Timeout::PingQueued);
        assert_eq!(s.poll_payload().as_deref(), Some("4a\u{1e}2"));
        s.send(Packet::message("b").into()).unwrap();
        assert_eq!(
            s.send(Packet::message("c").into()),
            Err(SendError::QueueFull { limit: 1 })
        );
    }

    #[test]
    fn separator_in_text_is_refused_on_polling_only() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, config(), t0);
        assert_eq!(
            s.send(Packet::message("hi\u{1e}1").into()),
            Err(SendError::SeparatorInText)
        );
        s.send(Packet::message(vec![0x1e_u8]).into()).unwrap();
        let mut ws = Session::new(Transport::WebSocket, config(), t0);
        ws.send(Packet::message("hi\u{1e}1").into()).unwrap();
    }

    #[test]
    fn the_open_packet_counts_against_the_poll_packet_limit() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, SessionConfig::default(), t0);
        for i in 0..40 {
            s.send(Packet::message(format!("m{i}")).into()).unwrap();
        }
        let body = s.open_payload(&Packet::Noop);
        assert_eq!(body.split('\u{1e}').count(), 16);
        assert_eq!(s.queued(), 25);
    }

    #[test]
    fn pongs_for_undelivered_pings_do_not_pile_pings_up() {
        // Found by the session_ops fuzz target: a client that answers pings
        // without polling must not grow the queue by one ping per interval.
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, config(), t0);
        let mut now = t0;
        for _ in 0..10 {
            now += ms(300);
            assert_eq!(s.handle_timeout(now), Timeout::PingQueued);
            s.receive(Packet::pong(), now);
        }
        assert_eq!(s.queued(), 1);
        assert_eq!(s.poll_payload().as_deref(), Some("2"));
        now += ms(300);
        assert_eq!(s.handle_timeout(now), Timeout::PingQueued);
        assert_eq!(s.queued(), 1);
    }

    #[test]
    fn send_after_close_fails() {
        let t0 = Instant::now();
        let mut s = Session::new(Transport::Polling, config(), t0);
        s.close(DisconnectReason::ServerDisconnect, t0);
        assert_eq!(s.send(Packet::message("x").into()), Err(SendError::Closed));
    }
}
