//! Incoming packets, the bounded inbox, and the dispatcher that hands
//! messages to the application in order.

use std::time::Instant;

use super::{Dispatch, Protocol, Session};
use crate::encoded::EncodedPacket;
use crate::packet::Packet;
use crate::reason::DisconnectReason;

impl Session {
    /// Whether the inbox has room for one more message: the transports read
    /// only then (backpressure).
    pub(super) fn has_room(&self) -> bool {
        self.inbox.len() + self.handling < self.config.max_inbox.max(1)
    }

    /// Whether the session stopped reading from its transport because the
    /// inbox is full (`max_inbox` messages received and not yet handled).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let config = SessionConfig { max_inbox: 1, ..SessionConfig::default() };
    /// let mut session = Session::new(Transport::WebSocket, config, now);
    /// let ws = session.websocket().unwrap();
    /// session.ws_receive(ws, Packet::message("a"), now);
    /// assert!(session.is_reading_paused());
    /// assert!(!session.ws_can_read(ws));
    /// ```
    pub fn is_reading_paused(&self) -> bool {
        self.paused_since.is_some()
    }

    /// Handles a packet from the client, from a POST or from the session's
    /// WebSocket.
    ///
    /// A message goes to the inbox; a pong re-arms the heartbeat; a close
    /// packet closes the session ("client disconnect"); a ping (a v4 client
    /// must not send one) closes it ("transport error"). Like the Node
    /// server, the first other packet that arrives while a pong is awaited
    /// pushes the pong deadline back once.
    pub(super) fn receive(&mut self, packet: Packet, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        let v3 = self.wire.protocol == Protocol::V3;
        if !v3
            && self.pong_deadline.is_some()
            && !self.pong_refreshed
            && !matches!(packet, Packet::Pong(_))
        {
            self.pong_refreshed = true;
            self.pong_deadline = Some(now + self.config.ping_timeout);
        }
        match packet {
            Packet::Message(message) => {
                self.inbox.push_back(message);
                self.wake_dispatcher();
                if !self.has_room() && self.paused_since.is_none() {
                    self.paused_since = Some(now);
                }
            }
            Packet::Pong(_) if v3 => {
                self.close_with(
                    DisconnectReason::TransportError,
                    Some("invalid heartbeat direction: a v3 client must not send pongs".into()),
                    now,
                );
            }
            Packet::Pong(_) => {
                if self.pong_deadline.take().is_some() {
                    self.next_ping = now + self.config.ping_interval;
                }
            }
            Packet::Ping(_) if v3 => {
                // The Node server answers a v3 ping with a pong without
                // data, and gives the client a full interval again.
                self.pong_deadline =
                    Some(now + self.config.ping_interval + self.config.ping_timeout);
                self.queue
                    .push_back(EncodedPacket::new(Packet::Pong(String::new())));
                self.events.wake = true;
            }
            // The Node server ignores open packets from clients; noops and
            // upgrades outside an upgrade carry nothing.
            Packet::Noop | Packet::Upgrade | Packet::Open(_) => {}
            Packet::Close => {
                self.close(DisconnectReason::ClientDisconnect, now);
            }
            Packet::Ping(_) => {
                self.close_with(
                    DisconnectReason::TransportError,
                    Some("invalid heartbeat direction: a v4 client must not send pings".into()),
                    now,
                );
            }
        }
        self.note_deadline();
    }

    /// Asks for a dispatcher if work waits and none runs.
    pub(super) fn wake_dispatcher(&mut self) {
        if !self.dispatcher_active && self.has_dispatch() {
            self.dispatcher_active = true;
            self.events.dispatch = true;
        }
    }

    /// Whether [`Session::next_dispatch`] has something to give.
    fn has_dispatch(&self) -> bool {
        !self.inbox.is_empty() || self.disconnect_due()
    }

    /// Whether the disconnect can be dispatched: closed, reported to no
    /// one yet, and every message received before has been handled.
    fn disconnect_due(&self) -> bool {
        self.closed.is_some()
            && !self.disconnect_dispatched
            && self.inbox.is_empty()
            && self.handling == 0
    }

    /// The next work for the dispatcher, or `None` when there is none (the
    /// dispatcher then stops; [`Events::dispatch`](super::Events::dispatch)
    /// asks for a new one when work comes).
    ///
    /// Messages come in the order they were received; each must be followed
    /// by [`Session::message_handled`] when its handler finishes (handlers
    /// may run one at a time, for ordered delivery, or concurrently). The
    /// disconnect comes once, after every message has been handled.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{DisconnectReason, Packet, Transport};
    /// # use engineio_proto::server::{Dispatch, Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::WebSocket, SessionConfig::default(), now);
    /// let ws = session.websocket().unwrap();
    /// session.ws_receive(ws, Packet::message("last words"), now);
    /// session.close(DisconnectReason::ServerDisconnect, now);
    /// assert_eq!(session.next_dispatch(), Some(Dispatch::Message("last words".into())));
    /// assert_eq!(session.next_dispatch(), None); // the handler still runs
    /// session.message_handled(now);
    /// assert!(session.take_events().dispatch);
    /// assert_eq!(session.next_dispatch(), Some(Dispatch::Disconnect(DisconnectReason::ServerDisconnect)));
    /// assert_eq!(session.next_dispatch(), None);
    /// ```
    pub fn next_dispatch(&mut self) -> Option<Dispatch> {
        if let Some(message) = self.inbox.pop_front() {
            self.handling += 1;
            return Some(Dispatch::Message(message));
        }
        self.dispatcher_active = false;
        if self.disconnect_due() {
            self.disconnect_dispatched = true;
            return self.closed.map(Dispatch::Disconnect);
        }
        None
    }

    /// A message handler finished: its room in the inbox frees up, and
    /// reading resumes if it was paused.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let config = SessionConfig { max_inbox: 1, ..SessionConfig::default() };
    /// let mut session = Session::new(Transport::WebSocket, config, now);
    /// let ws = session.websocket().unwrap();
    /// session.ws_receive(ws, Packet::message("a"), now);
    /// let _ = session.next_dispatch();
    /// session.message_handled(now);
    /// assert!(session.ws_can_read(ws));
    /// assert!(session.take_events().wake);
    /// ```
    pub fn message_handled(&mut self, now: Instant) {
        self.handling = self.handling.saturating_sub(1);
        self.pump_backlog(now);
        if self.has_room()
            && let Some(since) = self.paused_since.take()
        {
            // The paused time does not count against the client's pong.
            if let Some(deadline) = &mut self.pong_deadline {
                *deadline += now.saturating_duration_since(since);
            }
            self.events.wake = true;
        }
        self.wake_dispatcher();
        self.note_deadline();
    }

    /// Moves packets of waiting POSTs into the session while the inbox has
    /// room; wakes the POSTs when all are in.
    pub(super) fn pump_backlog(&mut self, now: Instant) {
        if self.backlog.is_empty() {
            return;
        }
        while self.has_room() && self.closed.is_none() {
            match self.backlog.pop_front() {
                Some(Ok(packet)) => self.receive(packet, now),
                Some(Err(detail)) => {
                    self.close_with(DisconnectReason::TransportError, Some(detail), now);
                }
                None => break,
            }
        }
        if self.closed.is_some() {
            self.backlog.clear();
        }
        if self.backlog.is_empty() {
            self.events.wake = true;
        } else if self.paused_since.is_none() {
            self.paused_since = Some(now);
        }
    }
}
