//! One client connection: handshake, heartbeat watchdog, polling, upgrade,
//! close.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::error::{DecodeError, SendError};
use crate::handshake::Handshake;
use crate::packet::{Message, PROBE, Packet};
use crate::payload::{PayloadEncoder, PayloadLimits, RECORD_SEPARATOR, decode_payload};
use crate::reason::DisconnectReason;
use crate::transport::Transport;
use crate::ws::Frame;

/// The settings of a connection, taken from the client's configuration.
///
/// # Examples
///
/// ```
/// use engineio_proto::client::ConnectionConfig;
///
/// let config = ConnectionConfig { websocket: false, ..ConnectionConfig::default() };
/// assert!(config.polling);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Whether long-polling may be used (the handshake goes over it when
    /// enabled).
    pub polling: bool,
    /// Whether WebSocket may be used: for the handshake when polling is
    /// disabled, else for an upgrade when the server offers one.
    pub websocket: bool,
    /// Whether WebTransport may be used: for the handshake when polling and
    /// WebSocket are disabled, else for an upgrade when the server offers
    /// one (preferred over WebSocket when both are offered). The runtime
    /// opens it on [`Transmit::OpenWebTransport`]; the connection sends the
    /// stream's first packet (`0`, or `0{"sid":"..."}` for an upgrade).
    pub webtransport: bool,
    /// How long the WebSocket probe (`2probe` → `3probe`) may take before
    /// the upgrade is given up and polling goes on.
    pub probe_timeout: Duration,
    /// How long a close may take to deliver its close packet over polling.
    pub close_timeout: Duration,
    /// The most messages queued and not yet written (`send` fails past it).
    pub max_queue: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            polling: true,
            websocket: true,
            webtransport: false,
            probe_timeout: Duration::from_secs(5),
            close_timeout: Duration::from_secs(5),
            max_queue: 1024,
        }
    }
}

/// Which WebSocket of a connection a call is about (the session's, or the
/// probe of an upgrade).
///
/// # Examples
///
/// ```
/// use std::time::Instant;
/// use engineio_proto::client::{Connection, ConnectionConfig, Transmit};
///
/// let config = ConnectionConfig { polling: false, ..ConnectionConfig::default() };
/// let mut conn = Connection::new(config);
/// let Some(Transmit::OpenWebSocket(ws)) = conn.poll_transmit() else { panic!() };
/// # let _ = ws;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WsId(u32);

/// What the runtime must do next (see [`Connection::poll_transmit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Send a GET to the polling URL: the handshake while
    /// [`Connection::sid`] is `None`, else a long poll. Its outcome goes to
    /// [`Connection::handle_get`] or [`Connection::get_failed`].
    Get,
    /// POST this payload to the polling URL. Its outcome goes to
    /// [`Connection::handle_post`] or [`Connection::post_failed`].
    Post(String),
    /// Open a WebSocket: the handshake while [`Connection::sid`] is `None`,
    /// else a probe for the upgrade. Report [`Connection::ws_opened`] or
    /// [`Connection::ws_open_failed`].
    OpenWebSocket(WsId),
    /// Open a WebTransport session and its bidirectional stream: the
    /// handshake while [`Connection::sid`] is `None`, else a probe for the
    /// upgrade. From then on the stream is driven as a WebSocket with this
    /// id (report [`Connection::ws_opened`] or
    /// [`Connection::ws_open_failed`], frames with
    /// [`Connection::handle_ws_frame`], its end with [`Connection::ws_ended`];
    /// [`Transmit::WsWrite`] and [`Transmit::WsClose`] name it), each frame
    /// with its length header ([`crate::webtransport`]).
    OpenWebTransport(WsId),
    /// Write these frames, in order, on a WebSocket; `messages` of them are
    /// application messages, to report with [`Connection::written`] once
    /// written.
    WsWrite {
        /// The WebSocket.
        ws: WsId,
        /// The frames.
        frames: Vec<Frame>,
        /// How many of the frames are application messages.
        messages: usize,
    },
    /// Close a WebSocket (after the frames written before), and forget it.
    WsClose(WsId),
}

/// What happened to a connection (see [`Connection::poll_event`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handshake succeeded: the session is open.
    Opened(Handshake),
    /// A message from the server.
    Message(Message),
    /// The session now runs over this transport (after an upgrade).
    Upgraded(Transport),
    /// The upgrade failed (the text says why); polling goes on.
    UpgradeFailed(String),
    /// The connection ended (once; before [`Event::Opened`], the handshake
    /// failed: see [`Connection::failure`]).
    Closed(DisconnectReason),
}

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The handshake request is out (or about to be).
    Handshake,
    /// The session is open.
    Open,
    /// The close packet waits to be posted (polling).
    Closing,
    /// Over.
    Closed,
}

/// Where an upgrade stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// The WebSocket is being opened.
    Opening,
    /// `2probe` was sent; waiting for `3probe`.
    Probing,
    /// `3probe` came: polling pauses, then `5` completes the upgrade.
    Probed,
}

/// One client connection's state machine.
///
/// # Examples
///
/// See the [module documentation](crate::client).
#[derive(Debug)]
pub struct Connection {
    config: ConnectionConfig,
    phase: Phase,
    handshake: Option<Handshake>,
    transport: Transport,
    /// Why the handshake failed, when it did.
    failure: Option<String>,

    // Polling.
    get_in_flight: bool,
    post_in_flight: bool,
    /// Packets waiting for a POST.
    outbox: VecDeque<Packet>,
    limits: PayloadLimits,

    // WebSocket.
    /// The session's WebSocket (or the one opening for a WebSocket
    /// handshake).
    ws: Option<WsId>,
    /// The WebSocket of an upgrade, and where it stands.
    probe: Option<(WsId, Probe)>,
    /// Which stream transport the probe is (WebSocket or WebTransport).
    probe_transport: Transport,
    probe_deadline: Option<Instant>,
    next_ws_id: u32,

    /// Messages queued and not yet handed to a transport.
    queued_messages: usize,
    ping_deadline: Option<Instant>,
    close_deadline: Option<Instant>,

    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
}

impl Connection {
    /// A new connection, about to handshake (over polling when it is
    /// enabled, else over WebSocket). The runtime times the handshake
    /// request itself.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use engineio_proto::client::{Connection, ConnectionConfig, Transmit};
    ///
    /// let mut conn = Connection::new(ConnectionConfig::default());
    /// assert_eq!(conn.poll_transmit(), Some(Transmit::Get));
    /// assert_eq!(conn.sid(), None);
    /// ```
    pub fn new(config: ConnectionConfig) -> Self {
        let mut conn = Self {
            config,
            phase: Phase::Handshake,
            handshake: None,
            transport: if config.polling {
                Transport::Polling
            } else if config.websocket || !config.webtransport {
                Transport::WebSocket
            } else {
                Transport::WebTransport
            },
            failure: None,
            get_in_flight: false,
            post_in_flight: false,
            outbox: VecDeque::new(),
            limits: PayloadLimits::new(usize::MAX, usize::MAX),
            ws: None,
            probe: None,
            probe_transport: Transport::WebSocket,
            probe_deadline: None,
            next_ws_id: 0,
            queued_messages: 0,
            ping_deadline: None,
            close_deadline: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        if conn.transport == Transport::Polling {
            conn.get_in_flight = true;
            conn.transmits.push_back(Transmit::Get);
        } else if config.websocket {
            let id = conn.new_ws();
            conn.ws = Some(id);
            conn.transmits.push_back(Transmit::OpenWebSocket(id));
        } else if config.webtransport {
            let id = conn.new_ws();
            conn.ws = Some(id);
            conn.transmits.push_back(Transmit::OpenWebTransport(id));
        } else {
            conn.fail("no transport is enabled".to_owned());
        }
        conn
    }

    /// The session id, once the handshake succeeded.
    pub fn sid(&self) -> Option<&str> {
        self.handshake.as_ref().map(|h| h.sid.as_str())
    }

    /// The server's open packet, once the handshake succeeded.
    pub fn handshake(&self) -> Option<&Handshake> {
        self.handshake.as_ref()
    }

    /// The transport the session runs over (or handshakes over).
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Whether the session is open (handshake done, not closing).
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// Why the handshake failed, when the connection closed before opening
    /// for a reason of the protocol (not of the network).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use engineio_proto::client::{Connection, ConnectionConfig};
    ///
    /// let now = Instant::now();
    /// let mut conn = Connection::new(ConnectionConfig::default());
    /// let _ = conn.poll_transmit();
    /// conn.handle_get(b"4not an open packet", now);
    /// assert!(conn.failure().unwrap().contains("open packet"));
    /// ```
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// The next thing the runtime must do, or `None` until something
    /// changes (an input, a timer).
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(transmit) = self.transmits.pop_front() {
            return Some(transmit);
        }
        if self.transport != Transport::Polling
            || !matches!(self.phase, Phase::Open | Phase::Closing)
        {
            return None;
        }
        let paused = matches!(self.probe, Some((_, Probe::Probed)));
        if paused {
            if !self.get_in_flight && !self.post_in_flight {
                self.finish_upgrade();
                return self.transmits.pop_front();
            }
            return None;
        }
        if !self.post_in_flight && !self.outbox.is_empty() {
            self.post_in_flight = true;
            return Some(Transmit::Post(self.take_payload()));
        }
        if self.phase == Phase::Open && !self.get_in_flight {
            self.get_in_flight = true;
            return Some(Transmit::Get);
        }
        None
    }

    /// The next event, in the order they happened.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Connection::handle_timeout`] must be called next: the ping
    /// watchdog, the probe timeout, or the close timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use engineio_proto::client::{Connection, ConnectionConfig};
    ///
    /// let conn = Connection::new(ConnectionConfig::default());
    /// assert_eq!(conn.next_deadline(), None); // the runtime times the handshake request
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            return None;
        }
        [self.ping_deadline, self.probe_deadline, self.close_deadline]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs the timers due at `now`: a server silent for
    /// `pingInterval + pingTimeout` ends the connection ("ping timeout"); a
    /// probe unanswered in `probe_timeout` ends the upgrade; a close packet
    /// not posted within `close_timeout` ends the close.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        if self.close_deadline.is_some_and(|d| now >= d) {
            self.end(DisconnectReason::ClientDisconnect);
            return;
        }
        if self.ping_deadline.is_some_and(|d| now >= d) {
            self.end(DisconnectReason::PingTimeout);
            return;
        }
        if self.probe_deadline.is_some_and(|d| now >= d) {
            self.upgrade_failed("no 3probe within the probe timeout".to_owned());
        }
    }

    /// Queues a message for the server.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] unless the session is open;
    /// [`SendError::SeparatorInText`] for text holding `0x1E` while on
    /// polling (it would split into several packets);
    /// [`SendError::QueueFull`] past `max_queue` unwritten messages.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use engineio_proto::SendError;
    /// use engineio_proto::client::{Connection, ConnectionConfig};
    ///
    /// let mut conn = Connection::new(ConnectionConfig::default());
    /// assert_eq!(conn.send("too early".into()), Err(SendError::Closed));
    /// ```
    pub fn send(&mut self, message: Message) -> Result<(), SendError> {
        if self.phase != Phase::Open {
            return Err(SendError::Closed);
        }
        if self.transport == Transport::Polling
            && matches!(&message, Message::Text(text) if text.contains(RECORD_SEPARATOR))
        {
            return Err(SendError::SeparatorInText);
        }
        if self.queued_messages >= self.config.max_queue {
            return Err(SendError::QueueFull {
                limit: self.config.max_queue,
            });
        }
        self.queued_messages += 1;
        self.queue(Packet::Message(message));
        Ok(())
    }

    /// How many messages are queued and not yet handed to a transport.
    pub fn queued(&self) -> usize {
        self.queued_messages
    }

    /// Closes the connection: the close packet goes out (over the WebSocket
    /// at once, or by a POST within `close_timeout`), then the transport is
    /// closed ("client disconnect"). Before the handshake completed, the
    /// connection just ends.
    pub fn close(&mut self, now: Instant) {
        match self.phase {
            Phase::Handshake => self.end(DisconnectReason::ClientDisconnect),
            Phase::Open => {
                self.drop_probe();
                if let Some(ws) = self.ws.filter(|_| self.transport.is_stream()) {
                    self.write(ws, &[Packet::Close]);
                    self.end(DisconnectReason::ClientDisconnect);
                } else {
                    self.phase = Phase::Closing;
                    self.ping_deadline = None;
                    self.outbox.push_back(Packet::Close);
                    self.close_deadline = Some(now + self.config.close_timeout);
                }
            }
            Phase::Closing | Phase::Closed => {}
        }
    }

    /// Ends the connection at once, without a close packet: the transports
    /// are dropped ("client disconnect").
    pub fn abort(&mut self) {
        self.end(DisconnectReason::ClientDisconnect);
    }

    /// A GET answered with a 2xx status and this body: the handshake's open
    /// packet (and what came with it), or a long poll's packets.
    pub fn handle_get(&mut self, body: &[u8], now: Instant) {
        self.get_in_flight = false;
        let packets = match decode_payload(body, &PayloadLimits::new(usize::MAX, usize::MAX)) {
            Ok(packets) => packets,
            Err(err) => {
                let detail = format!("undecodable payload from the server: {err}");
                return self.protocol_error(detail);
            }
        };
        let mut packets = packets.into_iter();
        if self.phase == Phase::Handshake {
            match packets.next() {
                Some(Packet::Open(handshake)) => self.opened(handshake, now),
                other => {
                    return self.fail(format!("expected an open packet, got {other:?}"));
                }
            }
        }
        for packet in packets {
            self.receive(packet, now);
            if self.phase == Phase::Closed {
                break;
            }
        }
    }

    /// The GET failed (network error, timeout, or a status other than 2xx).
    /// During the handshake or an open session this ends the connection
    /// ("transport error"); while closing it does not matter.
    pub fn get_failed(&mut self) {
        self.get_in_flight = false;
        match self.phase {
            Phase::Handshake | Phase::Open => self.end(DisconnectReason::TransportError),
            Phase::Closing | Phase::Closed => {}
        }
    }

    /// The POST in flight was answered `ok`; a close is complete once its
    /// close packet is posted.
    pub fn handle_post(&mut self) {
        self.post_in_flight = false;
        if self.phase == Phase::Closing && self.outbox.is_empty() {
            self.end(DisconnectReason::ClientDisconnect);
        }
    }

    /// The POST in flight failed: the connection ends ("transport error",
    /// or "client disconnect" when it carried the close).
    pub fn post_failed(&mut self) {
        self.post_in_flight = false;
        match self.phase {
            Phase::Closing => self.end(DisconnectReason::ClientDisconnect),
            Phase::Open => self.end(DisconnectReason::TransportError),
            Phase::Handshake | Phase::Closed => {}
        }
    }

    /// WebSocket `id` is open: a probe starts with `2probe`. A WebTransport
    /// stream first gets its open request: `0` for a handshake,
    /// `0{"sid":"..."}` before a probe's `2probe`.
    pub fn ws_opened(&mut self, id: WsId, now: Instant) {
        if let Some((probe, Probe::Opening)) = self.probe
            && probe == id
        {
            self.probe = Some((id, Probe::Probing));
            self.probe_deadline = Some(now + self.config.probe_timeout);
            if self.probe_transport == Transport::WebTransport
                && let Some(sid) = self.sid()
            {
                let open = serde_json::json!({ "sid": sid });
                self.write_frames(id, vec![Frame::Text(format!("0{open}"))], 0);
            }
            self.write(id, &[Packet::Ping(PROBE.into())]);
        } else if self.ws == Some(id)
            && self.phase == Phase::Handshake
            && self.transport == Transport::WebTransport
        {
            self.write_frames(id, vec![Frame::Text("0".into())], 0);
        }
    }

    /// WebSocket `id` could not be opened: a probe gives the upgrade up, a
    /// WebSocket handshake ends the connection ("transport error").
    pub fn ws_open_failed(&mut self, id: WsId) {
        if self.is_probe(id) {
            self.probe = None;
            self.probe_deadline = None;
            self.events.push_back(Event::UpgradeFailed(format!(
                "the {} could not be opened",
                self.probe_name()
            )));
        } else if self.ws == Some(id) {
            self.ws = None;
            self.end(DisconnectReason::TransportError);
        }
    }

    /// A frame arrived on WebSocket `id` (see
    /// [`Connection::handle_ws_text`] and [`Connection::handle_ws_binary`],
    /// which take a frame's payload without a copy).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Instant;
    /// use engineio_proto::Frame;
    /// use engineio_proto::client::{Connection, ConnectionConfig, Event, Transmit};
    ///
    /// let now = Instant::now();
    /// let config = ConnectionConfig { polling: false, ..ConnectionConfig::default() };
    /// let mut conn = Connection::new(config);
    /// let Some(Transmit::OpenWebSocket(ws)) = conn.poll_transmit() else { panic!() };
    /// conn.ws_opened(ws, now);
    /// let open = r#"0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
    /// conn.handle_ws_frame(ws, Frame::Text(open.into()), now);
    /// assert!(matches!(conn.poll_event(), Some(Event::Opened(_))));
    /// ```
    pub fn handle_ws_frame(&mut self, id: WsId, frame: Frame, now: Instant) {
        match frame {
            Frame::Text(text) => self.handle_ws_text(id, &text, now),
            Frame::Binary(bytes) => self.handle_ws_binary(id, bytes, now),
        }
    }

    /// A text frame arrived on WebSocket `id`; it is decoded from `text`
    /// itself (the WebSocket library's buffer), without a copy.
    pub fn handle_ws_text(&mut self, id: WsId, text: &str, now: Instant) {
        self.handle_ws_packet(id, Packet::decode_text(text), now);
    }

    /// A binary frame (a binary message) arrived on WebSocket `id`.
    pub fn handle_ws_binary(&mut self, id: WsId, bytes: Bytes, now: Instant) {
        self.handle_ws_packet(id, Ok(Packet::Message(Message::Binary(bytes))), now);
    }

    fn handle_ws_packet(&mut self, id: WsId, packet: Result<Packet, DecodeError>, now: Instant) {
        if self.is_probe(id) {
            match packet {
                Ok(Packet::Pong(data)) if data == PROBE => {
                    self.probe = Some((id, Probe::Probed));
                    self.probe_deadline = None;
                }
                other => self.upgrade_failed(format!("expected 3probe, got {other:?}")),
            }
            return;
        }
        if self.ws != Some(id) {
            return;
        }
        let packet = match packet {
            Ok(packet) => packet,
            Err(err) => {
                return self.protocol_error(format!("undecodable frame from the server: {err}"));
            }
        };
        if self.phase == Phase::Handshake {
            match packet {
                Packet::Open(handshake) => self.opened(handshake, now),
                other => self.fail(format!("expected an open packet, got {other:?}")),
            }
            return;
        }
        self.receive(packet, now);
    }

    /// WebSocket `id` ended: `clean` when the server sent a close frame. The
    /// session's WebSocket ending ends the connection ("server disconnect"
    /// when clean, else "transport error"); a probe's gives the upgrade up.
    pub fn ws_ended(&mut self, id: WsId, clean: bool) {
        if self.is_probe(id) {
            self.probe = None;
            self.probe_deadline = None;
            self.events.push_back(Event::UpgradeFailed(format!(
                "the {} closed during the upgrade",
                self.probe_name()
            )));
        } else if self.ws == Some(id) {
            self.ws = None;
            let reason = if clean && self.phase == Phase::Open {
                DisconnectReason::ServerDisconnect
            } else {
                DisconnectReason::TransportError
            };
            self.end(reason);
        }
    }

    /// `n` messages handed over in a [`Transmit::WsWrite`] were written (or
    /// lost with their WebSocket): they no longer count against
    /// `max_queue`. (Messages in a [`Transmit::Post`] stop counting when the
    /// POST is handed over.)
    pub fn written(&mut self, n: usize) {
        self.queued_messages = self.queued_messages.saturating_sub(n);
    }

    // ===== internals =====

    fn new_ws(&mut self) -> WsId {
        let id = WsId(self.next_ws_id);
        self.next_ws_id += 1;
        id
    }

    /// The probe's transport, as an error message names it.
    fn probe_name(&self) -> &'static str {
        match self.probe_transport {
            Transport::WebTransport => "WebTransport session",
            _ => "WebSocket",
        }
    }

    fn is_probe(&self, id: WsId) -> bool {
        self.probe.is_some_and(|(probe, _)| probe == id)
    }

    /// The handshake succeeded.
    fn opened(&mut self, handshake: Handshake, now: Instant) {
        self.phase = Phase::Open;
        let max_payload = usize::try_from(handshake.max_payload).unwrap_or(usize::MAX);
        let max_payload = if max_payload == 0 {
            usize::MAX
        } else {
            max_payload
        };
        self.limits = PayloadLimits::new(usize::MAX, max_payload);
        self.ping_deadline = Some(now + handshake.ping_interval() + handshake.ping_timeout());
        let offered = |t: Transport| handshake.upgrades.iter().any(|u| u == t.as_str());
        let probe = if self.transport != Transport::Polling {
            None
        } else if self.config.webtransport && offered(Transport::WebTransport) {
            Some(Transport::WebTransport)
        } else if self.config.websocket && offered(Transport::WebSocket) {
            Some(Transport::WebSocket)
        } else {
            None
        };
        self.events.push_back(Event::Opened(handshake.clone()));
        self.handshake = Some(handshake);
        if let Some(transport) = probe {
            let id = self.new_ws();
            self.probe = Some((id, Probe::Opening));
            self.probe_transport = transport;
            self.transmits
                .push_back(if transport == Transport::WebTransport {
                    Transmit::OpenWebTransport(id)
                } else {
                    Transmit::OpenWebSocket(id)
                });
        }
    }

    /// Handles a packet of the open session.
    fn receive(&mut self, packet: Packet, now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        match packet {
            Packet::Ping(data) => {
                if let Some(handshake) = &self.handshake
                    && self.phase == Phase::Open
                {
                    self.ping_deadline =
                        Some(now + handshake.ping_interval() + handshake.ping_timeout());
                    self.queue(Packet::Pong(data));
                }
            }
            Packet::Message(message) => self.events.push_back(Event::Message(message)),
            Packet::Close => self.end(DisconnectReason::ServerDisconnect),
            Packet::Open(_) | Packet::Pong(_) | Packet::Upgrade | Packet::Noop => {}
        }
    }

    /// Queues a packet on the current transport.
    fn queue(&mut self, packet: Packet) {
        match self.ws.filter(|_| self.transport.is_stream()) {
            Some(ws) => self.write(ws, &[packet]),
            None => self.outbox.push_back(packet),
        }
    }

    /// Writes packets on a WebSocket, merging with a write already queued.
    fn write(&mut self, ws: WsId, packets: &[Packet]) {
        let count = packets
            .iter()
            .filter(|p| matches!(p, Packet::Message(_)))
            .count();
        self.write_frames(ws, packets.iter().map(Frame::encode).collect(), count);
    }

    /// Writes frames on a WebSocket, merging with a write already queued;
    /// `count` of them are application messages.
    fn write_frames(&mut self, ws: WsId, frames: Vec<Frame>, count: usize) {
        if let Some(Transmit::WsWrite {
            ws: id,
            frames: queued,
            messages,
        }) = self.transmits.back_mut()
            && *id == ws
        {
            queued.extend(frames);
            *messages += count;
            return;
        }
        self.transmits.push_back(Transmit::WsWrite {
            ws,
            frames,
            messages: count,
        });
    }

    /// The packets of the next POST, within the server's `maxPayload` (a
    /// lone larger packet still goes).
    fn take_payload(&mut self) -> String {
        let mut encoder = PayloadEncoder::new(self.limits);
        let mut messages = 0;
        while let Some(packet) = self.outbox.front() {
            if !encoder.try_push(packet) {
                break;
            }
            messages += usize::from(matches!(packet, Packet::Message(_)));
            self.outbox.pop_front();
        }
        self.written(messages);
        encoder.finish()
    }

    /// Polling has paused after `3probe`: `5` and the queue go over the
    /// WebSocket, which becomes the session's.
    fn finish_upgrade(&mut self) {
        let Some((id, _)) = self.probe.take() else {
            return;
        };
        self.probe_deadline = None;
        let mut packets = vec![Packet::Upgrade];
        packets.extend(self.outbox.drain(..));
        self.write(id, &packets);
        self.ws = Some(id);
        self.transport = self.probe_transport;
        self.events.push_back(Event::Upgraded(self.probe_transport));
    }

    /// Gives the upgrade up; polling goes on.
    fn upgrade_failed(&mut self, why: String) {
        if self.probe.is_some() {
            self.drop_probe();
            self.events.push_back(Event::UpgradeFailed(why));
        }
    }

    /// Closes the probe's WebSocket, if any.
    fn drop_probe(&mut self) {
        if let Some((id, _)) = self.probe.take() {
            self.transmits.push_back(Transmit::WsClose(id));
        }
        self.probe_deadline = None;
    }

    /// The server broke the protocol: before the open, the handshake fails;
    /// afterwards the connection ends ("transport error").
    fn protocol_error(&mut self, detail: String) {
        if self.phase == Phase::Handshake {
            self.fail(detail);
        } else {
            self.end(DisconnectReason::TransportError);
        }
    }

    /// The handshake failed for a reason of the protocol.
    fn fail(&mut self, detail: String) {
        self.failure = Some(detail);
        self.end(DisconnectReason::TransportError);
    }

    /// Ends the connection once: its WebSockets are closed, nothing more is
    /// sent.
    fn end(&mut self, reason: DisconnectReason) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Closed;
        // Requests not handed out yet are never started; only writes and
        // closes of WebSockets (the close packet, the close frames) remain.
        let opening: Vec<WsId> = self
            .transmits
            .iter()
            .filter_map(|t| match t {
                Transmit::OpenWebSocket(id) | Transmit::OpenWebTransport(id) => Some(*id),
                _ => None,
            })
            .collect();
        self.transmits
            .retain(|t| matches!(t, Transmit::WsWrite { .. } | Transmit::WsClose(_)));
        if self.probe.is_some_and(|(id, _)| opening.contains(&id)) {
            self.probe = None;
        }
        if self.ws.is_some_and(|id| opening.contains(&id)) {
            self.ws = None;
        }
        self.drop_probe();
        if let Some(ws) = self.ws.take() {
            self.transmits.push_back(Transmit::WsClose(ws));
        }
        self.outbox.clear();
        self.queued_messages = 0;
        self.ping_deadline = None;
        self.close_deadline = None;
        self.events.push_back(Event::Closed(reason));
    }
}
