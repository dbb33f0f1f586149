//! A session's life: creation, sends, the close, the timers, the events.

use std::time::Instant;

use super::{
    Closed, Events, Farewell, Post, Protocol, SendError, Session, SessionConfig, Wire, WsSlot,
    WsState,
};
use crate::encoded::EncodedPacket;
use crate::packet::{Message, Packet};
use crate::payload::RECORD_SEPARATOR;
use crate::reason::DisconnectReason;
use crate::transport::Transport;

impl Session {
    /// A new session over `transport`, opened at `now`. The open packet is
    /// the runtime's to send (it answers the handshake); the first ping is
    /// due one ping interval from `now`. A session opened over WebSocket has
    /// its WebSocket ([`Session::websocket`]) from the start.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let session = Session::new(Transport::WebSocket, SessionConfig::default(), Instant::now());
    /// assert_eq!(session.transport(), Transport::WebSocket);
    /// assert!(session.websocket().is_some());
    /// ```
    pub fn new(transport: Transport, config: SessionConfig, now: Instant) -> Self {
        Self::with_wire(transport, config, Wire::default(), now)
    }

    /// A new session speaking `wire`: Engine.IO v3 (the client pings; the
    /// session times out `ping_interval + ping_timeout` after the last
    /// ping, as the Node server does) or v4, with JSONP polling or not.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Protocol, Session, SessionConfig, Wire};
    /// let now = Instant::now();
    /// let wire = Wire { protocol: Protocol::V3, ..Wire::default() };
    /// let session = Session::with_wire(Transport::Polling, SessionConfig::default(), wire, now);
    /// // No server ping: the client has 25 s + 20 s to send its first one.
    /// assert_eq!(session.next_deadline(), Some(now + Duration::from_secs(45)));
    /// ```
    pub fn with_wire(
        transport: Transport,
        config: SessionConfig,
        wire: Wire,
        now: Instant,
    ) -> Self {
        let ws = transport.is_stream().then_some(WsSlot {
            id: 0,
            transport,
            state: WsState::Active,
            probe_reply: false,
            upgrade_deadline: None,
        });
        // v3: the client pings; the deadline for its next ping stands in
        // for the pong deadline, and no server ping is ever due.
        let client_ping_deadline = (wire.protocol == Protocol::V3)
            .then(|| now + config.ping_interval + config.ping_timeout);
        Self {
            config,
            transport,
            wire,
            queue: std::collections::VecDeque::new(),
            app_queued: 0,
            ping_queued: false,
            next_ping: now + config.ping_interval,
            pong_deadline: client_ping_deadline,
            pong_refreshed: false,
            paused_since: None,
            poll: None,
            poll_expired: false,
            post: Post::Idle,
            post_binary: false,
            backlog: std::collections::VecDeque::new(),
            ws,
            next_ws_id: 1,
            inbox: std::collections::VecDeque::new(),
            handling: 0,
            dispatcher_active: false,
            disconnect_dispatched: false,
            closed: None,
            farewell: Farewell::Done,
            close_deadline: None,
            forgotten: false,
            events: Events::default(),
            reported_deadline: Some(client_ping_deadline.unwrap_or(now + config.ping_interval)),
        }
    }

    /// The protocol revision and polling framing of the session.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Protocol, Session, SessionConfig};
    /// let session = Session::new(Transport::Polling, SessionConfig::default(), Instant::now());
    /// assert_eq!(session.wire().protocol, Protocol::V4);
    /// ```
    pub fn wire(&self) -> &Wire {
        &self.wire
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

    /// Whether the session is closed and nothing is left for its transports
    /// or timers (the dispatcher may still run the disconnect handler).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{DisconnectReason, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.close(DisconnectReason::PingTimeout, now);
    /// assert!(session.is_finished()); // no poll was waiting for the close packet
    /// ```
    pub fn is_finished(&self) -> bool {
        self.closed.is_some() && self.farewell == Farewell::Done && self.ws.is_none()
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
            && self.wire.protocol == Protocol::V4
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
        self.events.wake = true;
        Ok(())
    }

    /// Closes the session. Returns `true` if it was open; the close is then
    /// reported once in [`Events::closed`], and the disconnect comes through
    /// the dispatcher after the messages already received.
    ///
    /// What the client gets depends on the reason, as with the Node server:
    ///
    /// | reason | polling | WebSocket | sid |
    /// |---|---|---|---|
    /// | `ServerDisconnect` | the queue then `1`, to the poll in flight or the next one within `close_timeout` | the queue, `1`, a close frame | kept until then |
    /// | `ClientDisconnect` | `6` to the poll in flight | a close frame | forgotten |
    /// | `PingTimeout`, `TransportError` | `1` to the poll in flight | a close frame | forgotten |
    /// | `TransportClose` | `6` to the poll in flight | nothing | forgotten |
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
    /// assert!(session.take_events().forget);
    /// ```
    pub fn close(&mut self, reason: DisconnectReason, now: Instant) -> bool {
        self.close_with(reason, None, now)
    }

    /// Closes the session for `reason`, with what went wrong for the logs.
    pub(super) fn close_with(
        &mut self,
        reason: DisconnectReason,
        detail: Option<String>,
        now: Instant,
    ) -> bool {
        if self.closed.is_some() {
            return false;
        }
        self.closed = Some(reason);
        self.events.closed = Some(Closed { reason, detail });
        self.pong_deadline = None;
        self.paused_since = None;
        self.poll_expired = false;
        self.backlog.clear();
        if self.post == Post::Accepting {
            self.post = Post::Idle;
        }
        // An upgrade under way is abandoned: its WebSocket gets closed.
        if self.ws.is_some_and(|ws| ws.state != WsState::Active) {
            self.ws = None;
        }
        let websocket = self.ws.is_some();
        self.farewell = match reason {
            DisconnectReason::ServerDisconnect => Farewell::Flush,
            DisconnectReason::TransportClose if websocket => Farewell::Done,
            _ if websocket => Farewell::Close,
            DisconnectReason::ClientDisconnect | DisconnectReason::TransportClose
                if self.poll.is_some() =>
            {
                Farewell::Noop
            }
            DisconnectReason::TransportClose => Farewell::Done,
            _ if self.poll.is_some() => Farewell::Close,
            _ => Farewell::Done,
        };
        if reason == DisconnectReason::TransportClose {
            self.ws = None;
        }
        if self.farewell != Farewell::Flush {
            self.drop_queue();
        }
        if !self.is_finished() {
            self.close_deadline = Some(now + self.config.close_timeout);
        }
        if reason != DisconnectReason::ServerDisconnect || self.is_finished() {
            self.forget();
        }
        self.events.wake = true;
        self.wake_dispatcher();
        self.note_deadline();
        true
    }

    /// Ends a session whose handshake was refused (by the connect handler):
    /// its sid is forgotten, and no disconnect is reported.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.reject();
    /// let events = session.take_events();
    /// assert!(events.forget && events.closed.is_none() && !events.dispatch);
    /// assert!(session.is_finished());
    /// ```
    pub fn reject(&mut self) {
        if self.closed.is_some() {
            return;
        }
        self.closed = Some(DisconnectReason::TransportClose);
        self.disconnect_dispatched = true;
        self.inbox.clear();
        self.finish();
        self.ws = None;
        self.forget();
        self.events.wake = true;
    }

    /// Drops what was left to deliver; the sid can go.
    pub(super) fn finish(&mut self) {
        self.farewell = Farewell::Done;
        self.drop_queue();
        self.close_deadline = None;
        if self.closed.is_some() && self.ws.is_none() {
            self.forget();
        }
    }

    /// Empties the outgoing queue.
    pub(super) fn drop_queue(&mut self) {
        self.queue.clear();
        self.app_queued = 0;
        self.ping_queued = false;
    }

    /// Reports once that the sid must be forgotten.
    pub(super) fn forget(&mut self) {
        if !self.forgotten {
            self.forgotten = true;
            self.events.forget = true;
        }
    }

    /// When [`Session::handle_timeout`] must be called next: the heartbeat
    /// (next ping or pong deadline), the upgrade timeout, the long poll's
    /// safety net, or the close timeout.
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
            return self.close_deadline;
        }
        let heartbeat = if self.paused_since.is_some() {
            // Reading is paused: the client's pong may wait unread.
            self.pong_deadline.is_none().then_some(self.next_ping)
        } else {
            Some(self.pong_deadline.unwrap_or(self.next_ping))
        };
        let poll = self.poll.filter(|_| !self.poll_expired);
        let upgrade = self.ws.and_then(|ws| ws.upgrade_deadline);
        [heartbeat, poll, upgrade].into_iter().flatten().min()
    }

    /// Runs the timers due at `now`: queues a ping when one is due, closes
    /// the session when a pong is late ("ping timeout"), abandons an upgrade
    /// that took too long, answers a long poll held too long with a noop,
    /// and ends a closed session whose last packets were never picked up.
    ///
    /// A pong deadline never fires while reading is paused because the
    /// inbox is full: the server's backlog is not the client's fault, and
    /// the paused time is added to the deadline when reading resumes.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use engineio_proto::{DisconnectReason, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let start = Instant::now();
    /// let mut session = Session::new(Transport::WebSocket, SessionConfig::default(), start);
    /// let ping_at = start + Duration::from_secs(25);
    /// session.handle_timeout(ping_at);
    /// assert_eq!(session.queued(), 1); // the ping
    /// session.handle_timeout(ping_at + Duration::from_secs(20));
    /// assert_eq!(session.closed(), Some(DisconnectReason::PingTimeout));
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed.is_some() {
            if self.close_deadline.is_some_and(|deadline| now >= deadline) {
                self.ws = None;
                self.finish();
                self.events.wake = true;
            }
            self.note_deadline();
            return;
        }
        if let Some(ws) = &mut self.ws
            && ws.upgrade_deadline.is_some_and(|deadline| now >= deadline)
        {
            // The upgrade took too long: its WebSocket gets closed, polling goes on.
            self.ws = None;
            self.events.wake = true;
        }
        if self.poll.is_some_and(|deadline| now >= deadline) && !self.poll_expired {
            self.poll_expired = true;
            self.events.wake = true;
        }
        if self.paused_since.is_none() {
            match self.pong_deadline {
                Some(deadline) if now >= deadline => {
                    self.close(DisconnectReason::PingTimeout, now);
                    return;
                }
                Some(_) => {}
                None if now >= self.next_ping => self.queue_ping(now),
                None => {}
            }
        } else if self.pong_deadline.is_none() && now >= self.next_ping {
            self.queue_ping(now);
        }
        self.note_deadline();
    }

    /// Runs the timers that are already due, so that a request arriving
    /// just after a deadline (before the runtime's timer fired) sees the
    /// session as the timer would have left it.
    pub(super) fn catch_up(&mut self, now: Instant) {
        if self.next_deadline().is_some_and(|deadline| now >= deadline) {
            self.handle_timeout(now);
        }
    }

    /// Queues a ping and starts waiting for its pong.
    fn queue_ping(&mut self, now: Instant) {
        if !self.ping_queued {
            self.queue.push_back(EncodedPacket::new(Packet::ping()));
            self.ping_queued = true;
        }
        self.pong_deadline = Some(now + self.config.ping_timeout);
        self.pong_refreshed = false;
        self.events.wake = true;
    }

    /// Reports a deadline that moved earlier than the one the runtime knows,
    /// or that none is left once the session is finished.
    pub(super) fn note_deadline(&mut self) {
        let next = self.next_deadline();
        let earlier = match (next, self.reported_deadline) {
            (Some(next), Some(known)) => next < known,
            (Some(_), None) => true,
            // Nothing is left to wait for: let the timer go.
            (None, Some(_)) => self.is_finished(),
            (None, None) => false,
        };
        if earlier {
            self.events.deadline_changed = true;
        }
        if earlier || next.is_none() {
            self.reported_deadline = next;
        }
    }

    /// What happened since the last call; the runtime applies it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), Instant::now());
    /// session.send(Packet::message("a").into()).unwrap();
    /// assert!(session.take_events().wake);
    /// assert!(!session.take_events().wake);
    /// ```
    pub fn take_events(&mut self) -> Events {
        std::mem::take(&mut self.events)
    }

    /// Tells the session that the runtime's timer now sleeps until `at`
    /// (what [`Session::next_deadline`] said); later deadlines then produce
    /// no event, earlier ones do.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), Instant::now());
    /// let at = session.next_deadline();
    /// session.timer_armed(at);
    /// ```
    pub fn timer_armed(&mut self, at: Option<Instant>) {
        self.reported_deadline = at;
    }
}
