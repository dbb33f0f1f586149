//! The stream transports, WebSocket and WebTransport: the one a session
//! runs over, and the one that upgrades a polling session (`2probe` →
//! `3probe`, then `5`). A WebTransport stream is driven by the same calls as
//! a WebSocket (named `ws_*`); only [`Session::attach_webtransport`] and
//! the transport a session reports after the upgrade differ.

use std::time::Instant;

use super::{Farewell, RequestError, Session, WsSlot, WsState};
use crate::encoded::EncodedPacket;
use crate::packet::{PROBE, Packet};
use crate::reason::DisconnectReason;
use crate::transport::Transport;

/// Which WebSocket (or WebTransport stream) of a session a call is about.
/// One whose upgrade was abandoned keeps its id, so calls about it are
/// recognised as stale.
///
/// # Examples
///
/// ```
/// use std::time::Instant;
/// use engineio_proto::Transport;
/// use engineio_proto::server::{Session, SessionConfig};
///
/// let now = Instant::now();
/// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
/// let ws = session.attach_websocket(now).unwrap();
/// assert_eq!(session.websocket(), Some(ws));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WsId(u64);

impl WsId {
    /// The WebSocket's number, unique within its session: a plain key for
    /// runtimes that cannot hold a `WsId` (the Python binding).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use engineio_proto::Transport;
    /// use engineio_proto::server::{Session, SessionConfig};
    ///
    /// let session = Session::new(Transport::WebSocket, SessionConfig::default(), Instant::now());
    /// assert_eq!(session.websocket().unwrap().number(), 0);
    /// ```
    pub fn number(self) -> u64 {
        self.0
    }
}

/// What the WebSocket loop must do next (see [`Session::ws_transmit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsTransmit {
    /// Write these packets, in order, then ask again.
    Write(Vec<EncodedPacket>),
    /// Send a close frame (with this status code, if any) and drop the
    /// connection: the session is over, or this WebSocket's upgrade was
    /// abandoned.
    Close(Option<u16>),
    /// Nothing to write: wait for a wake, reading meanwhile if
    /// [`Session::ws_can_read`] says so.
    Idle,
}

/// How a WebSocket's reading side ended (see [`Session::ws_ended`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsEnd {
    /// The peer closed it (close frame, or the connection ended).
    Closed,
    /// The connection failed (I/O or WebSocket protocol error).
    Failed,
    /// A frame held no valid Engine.IO packet.
    Undecodable(String),
    /// A message was over the size limit (`max_http_buffer_size`).
    TooBig,
}

/// What to do with a WebSocket after [`Session::ws_ended`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsFinish {
    /// Drop the connection.
    Drop,
    /// Send a close frame (with this status code, if any), then drop it.
    Close(Option<u16>),
}

/// The close code for a message over the size limit (RFC 6455, 1009).
pub const CLOSE_MESSAGE_TOO_BIG: u16 = 1009;

impl Session {
    /// The session's WebSocket or WebTransport stream (in use, or upgrading
    /// it), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let session = Session::new(Transport::Polling, SessionConfig::default(), Instant::now());
    /// assert_eq!(session.websocket(), None);
    /// ```
    pub fn websocket(&self) -> Option<WsId> {
        self.ws.map(|ws| WsId(ws.id))
    }

    /// The transport of the session's stream (in use, or upgrading it):
    /// [`Transport::WebSocket`] or [`Transport::WebTransport`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// assert_eq!(session.stream_transport(), None);
    /// session.attach_webtransport(now).unwrap();
    /// assert_eq!(session.stream_transport(), Some(Transport::WebTransport));
    /// ```
    pub fn stream_transport(&self) -> Option<Transport> {
        self.ws.map(|ws| ws.transport)
    }

    /// The slot of WebSocket `id`, if it is still the session's.
    fn slot(&mut self, id: WsId) -> Option<&mut WsSlot> {
        self.ws.as_mut().filter(|ws| ws.id == id.0)
    }

    /// Attaches a WebSocket that wants to upgrade this polling session; it
    /// has `upgrade_timeout` to complete the upgrade.
    ///
    /// # Errors
    ///
    /// [`RequestError::Closed`], or [`RequestError::WebSocketExists`] when the
    /// session runs over WebSocket already or another upgrade is under way.
    /// Either way the new WebSocket must be accepted and closed at once, as
    /// the Node server does.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{RequestError, Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.attach_websocket(now).unwrap();
    /// assert_eq!(session.attach_websocket(now), Err(RequestError::WebSocketExists));
    /// ```
    pub fn attach_websocket(&mut self, now: Instant) -> Result<WsId, RequestError> {
        self.attach(Transport::WebSocket, now)
    }

    /// Attaches a WebTransport stream that wants to upgrade this polling
    /// session (its first packet was `0{"sid":"..."}`); from here on it is
    /// driven like a WebSocket (`ws_transmit`, `ws_receive`, `ws_ended`),
    /// and after `5` the session's transport is
    /// [`Transport::WebTransport`].
    ///
    /// # Errors
    ///
    /// As [`attach_websocket`](Self::attach_websocket): the stream must then
    /// be closed (the Node server closes the WebTransport session).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::server::{RequestError, Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// let stream = session.attach_webtransport(now).unwrap();
    /// assert_eq!(session.attach_websocket(now), Err(RequestError::WebSocketExists));
    /// session.ws_receive(stream, Packet::Ping("probe".into()), now);
    /// session.ws_receive(stream, Packet::Upgrade, now);
    /// assert_eq!(session.transport(), Transport::WebTransport);
    /// ```
    pub fn attach_webtransport(&mut self, now: Instant) -> Result<WsId, RequestError> {
        self.attach(Transport::WebTransport, now)
    }

    fn attach(&mut self, transport: Transport, now: Instant) -> Result<WsId, RequestError> {
        self.catch_up(now);
        if self.closed.is_some() {
            return Err(RequestError::Closed);
        }
        if self.transport.is_stream() || self.ws.is_some() {
            return Err(RequestError::WebSocketExists);
        }
        let id = self.next_ws_id;
        self.next_ws_id += 1;
        self.ws = Some(WsSlot {
            id,
            transport,
            state: WsState::Attached,
            probe_reply: false,
            upgrade_deadline: Some(now + self.config.upgrade_timeout),
        });
        self.note_deadline();
        Ok(WsId(id))
    }

    /// Whether the loop of WebSocket `id` may read the next frame: always
    /// during an upgrade; afterwards while the session is open and its inbox
    /// has room (otherwise reading pauses: TCP backpressure).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let session = Session::new(Transport::WebSocket, SessionConfig::default(), Instant::now());
    /// assert!(session.ws_can_read(session.websocket().unwrap()));
    /// ```
    pub fn ws_can_read(&self, id: WsId) -> bool {
        match self.ws {
            Some(ws) if ws.id == id.0 => {
                ws.state != WsState::Active || (self.closed.is_none() && self.has_room())
            }
            _ => false,
        }
    }

    /// What the loop of WebSocket `id` must do next: write packets (queued
    /// packets, `3probe`, the farewell), close, or wait.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{DisconnectReason, Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig, WsTransmit};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::WebSocket, SessionConfig::default(), now);
    /// let ws = session.websocket().unwrap();
    /// session.send(Packet::message("last").into()).unwrap();
    /// session.close(DisconnectReason::ServerDisconnect, now);
    /// let WsTransmit::Write(packets) = session.ws_transmit(ws) else { panic!() };
    /// let texts: Vec<&str> = packets.iter().map(|p| p.text()).collect();
    /// assert_eq!(texts, ["4last", "1"]);
    /// assert_eq!(session.ws_transmit(ws), WsTransmit::Close(None));
    /// assert!(session.is_finished());
    /// ```
    pub fn ws_transmit(&mut self, id: WsId) -> WsTransmit {
        let closed = self.closed.is_some();
        let farewell = self.farewell;
        let Some(slot) = self.slot(id) else {
            return WsTransmit::Close(None);
        };
        if slot.probe_reply {
            // Written even if `5` already came (the client did not wait for it).
            slot.probe_reply = false;
            return WsTransmit::Write(vec![EncodedPacket::new(Packet::Pong(PROBE.into()))]);
        }
        if slot.state != WsState::Active {
            return WsTransmit::Idle;
        }
        if closed {
            if farewell == Farewell::Flush {
                let mut packets: Vec<EncodedPacket> = self.queue.drain(..).collect();
                packets.push(EncodedPacket::new(Packet::Close));
                self.drop_queue();
                self.farewell = Farewell::Close;
                return WsTransmit::Write(packets);
            }
            self.ws = None;
            self.finish();
            self.note_deadline();
            return WsTransmit::Close(None);
        }
        if self.queue.is_empty() {
            return WsTransmit::Idle;
        }
        let packets = self.queue.drain(..).collect();
        self.app_queued = 0;
        self.ping_queued = false;
        WsTransmit::Write(packets)
    }

    /// Handles a packet read from WebSocket `id`.
    ///
    /// During an upgrade: `2probe` gets `3probe` (and pending polls a noop,
    /// so the client can pause polling); `5` completes the upgrade (as with
    /// the Node server, even without a probe first) and the queue moves to
    /// the WebSocket; anything else abandons the upgrade, closing this
    /// WebSocket while the session goes on over polling. Afterwards, packets
    /// are handled as from a POST.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig, WsTransmit};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.begin_poll(now).unwrap();
    /// let ws = session.attach_websocket(now).unwrap();
    /// session.ws_receive(ws, Packet::Ping("probe".into()), now);
    /// assert!(session.take_events().upgrading);
    /// let WsTransmit::Write(reply) = session.ws_transmit(ws) else { panic!() };
    /// assert_eq!(reply[0].text(), "3probe");
    /// assert_eq!(session.poll_payload().as_deref(), Some("6"));
    /// session.ws_receive(ws, Packet::Upgrade, now);
    /// assert_eq!(session.transport(), Transport::WebSocket);
    /// assert!(session.take_events().upgraded);
    /// ```
    pub fn ws_receive(&mut self, id: WsId, packet: Packet, now: Instant) {
        let Some(slot) = self.slot(id) else {
            return;
        };
        if slot.state == WsState::Active {
            self.receive(packet, now);
            return;
        }
        match packet {
            Packet::Ping(data) if data == PROBE => {
                slot.state = WsState::Probed;
                slot.probe_reply = true;
                self.events.upgrading = true;
            }
            Packet::Upgrade => {
                slot.state = WsState::Active;
                slot.upgrade_deadline = None;
                self.transport = slot.transport;
                self.events.upgraded = true;
            }
            _ => self.ws = None,
        }
        self.events.wake = true;
        self.note_deadline();
    }

    /// The reading side of WebSocket `id` ended. An upgrading WebSocket is
    /// abandoned (polling goes on); the session's own WebSocket ends the
    /// session: "transport close" when the peer closed it, "transport error"
    /// when it failed, sent an undecodable frame or a message over the
    /// limit (which gets a 1009 close frame).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{DisconnectReason, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig, WsEnd, WsFinish};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::WebSocket, SessionConfig::default(), now);
    /// let ws = session.websocket().unwrap();
    /// assert_eq!(session.ws_ended(ws, WsEnd::TooBig, now), WsFinish::Close(Some(1009)));
    /// assert_eq!(session.closed(), Some(DisconnectReason::TransportError));
    /// ```
    pub fn ws_ended(&mut self, id: WsId, end: WsEnd, now: Instant) -> WsFinish {
        let finish = match end {
            WsEnd::TooBig => WsFinish::Close(Some(CLOSE_MESSAGE_TOO_BIG)),
            WsEnd::Undecodable(_) => WsFinish::Close(None),
            WsEnd::Closed | WsEnd::Failed => WsFinish::Drop,
        };
        let Some(slot) = self.slot(id) else {
            return finish;
        };
        let active = slot.state == WsState::Active;
        let name = match slot.transport {
            Transport::WebTransport => "WebTransport",
            _ => "WebSocket",
        };
        self.ws = None;
        self.events.wake = true;
        if !active {
            self.note_deadline();
            return finish;
        }
        if self.closed.is_some() {
            self.finish();
            self.note_deadline();
            return finish;
        }
        let (reason, detail) = match end {
            WsEnd::Closed => (DisconnectReason::TransportClose, None),
            WsEnd::Failed => (
                DisconnectReason::TransportError,
                Some(format!("{name} error")),
            ),
            WsEnd::Undecodable(detail) => (
                DisconnectReason::TransportError,
                Some(format!("parse error: {detail}")),
            ),
            WsEnd::TooBig => (
                DisconnectReason::TransportError,
                Some(format!("a {name} message over max_http_buffer_size")),
            ),
        };
        self.close_with(reason, detail, now);
        finish
    }
}
