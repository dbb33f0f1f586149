//! Long-polling requests: the GET that waits for packets and the POST that
//! brings them.

use std::time::Instant;

use super::{Farewell, Post, Protocol, RequestError, Session, WsState};
use crate::eio3::{self, Payload};
use crate::error::DecodeError;
use crate::packet::Packet;
use crate::payload::{PayloadLimits, RECORD_SEPARATOR};
use crate::reason::DisconnectReason;
use crate::server::decode_client_packet;
use crate::server::wire::PollEncoder;

impl Session {
    /// Starts a long-polling GET.
    ///
    /// # Errors
    ///
    /// [`RequestError::Upgraded`] after an upgrade; [`RequestError::Closed`]
    /// for a closed session with nothing to deliver;
    /// [`RequestError::Overlap`] when a GET is already in flight, which
    /// closes the session ("transport error"; the first GET gets `1`).
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
        self.catch_up(now);
        if self.transport.is_stream() {
            return Err(RequestError::Upgraded);
        }
        if self.closed.is_some() {
            // Only the farewell of a server-initiated close is still to pick up.
            return if self.poll.is_none() && self.farewell == Farewell::Flush {
                self.poll = Some(now + self.config.max_poll_wait);
                Ok(())
            } else {
                Err(RequestError::Closed)
            };
        }
        if self.poll.is_some() {
            self.close_with(
                DisconnectReason::TransportError,
                Some("overlapping GET requests".into()),
                now,
            );
            return Err(RequestError::Overlap("GET"));
        }
        self.poll = Some(now + self.config.max_poll_wait);
        self.poll_expired = false;
        self.note_deadline();
        Ok(())
    }

    /// The answer to the GET in flight, or `None` while it must keep
    /// waiting. When it returns a body, the GET is over.
    ///
    /// Takes queued packets up to `max_poll_packets` and `max_poll_bytes`;
    /// the rest waits for the next poll. During an upgrade (after `2probe`)
    /// and after it, the answer is a noop (`6`) so the client can move to the
    /// WebSocket; a GET held for `max_poll_wait` also gets a noop. After a
    /// close: the remaining packets and a close packet, a lone close packet,
    /// or a noop (see [`Session::close`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let config = SessionConfig { max_poll_packets: 2, ..SessionConfig::default() };
    /// let mut session = Session::new(Transport::Polling, config, now);
    /// for text in ["a", "b", "c"] {
    ///     session.send(Packet::message(text).into()).unwrap();
    /// }
    /// session.begin_poll(now).unwrap();
    /// assert_eq!(session.poll_payload().as_deref(), Some("4a\u{1e}4b"));
    /// session.begin_poll(now).unwrap();
    /// assert_eq!(session.poll_payload().as_deref(), Some("4c"));
    /// ```
    pub fn poll_payload(&mut self) -> Option<String> {
        self.poll_response().map(Payload::into_text)
    }

    /// The answer to the GET in flight, framed for the session's wire (see
    /// [`Session::with_wire`]): v4 text, a v3 text or binary payload, or a
    /// JSONP script. [`Session::poll_payload`] is the same for v4 sessions.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::eio3::Payload;
    /// # use engineio_proto::server::{Protocol, Session, SessionConfig, Wire};
    /// let now = Instant::now();
    /// let wire = Wire { protocol: Protocol::V3, ..Wire::default() };
    /// let mut session = Session::with_wire(Transport::Polling, SessionConfig::default(), wire, now);
    /// session.send(Packet::message("héllo").into()).unwrap();
    /// session.begin_poll(now).unwrap();
    /// assert_eq!(session.poll_response(), Some(Payload::Text("6:4héllo".into())));
    /// ```
    pub fn poll_response(&mut self) -> Option<Payload> {
        self.poll?;
        let body = self.poll_body()?;
        self.poll = None;
        self.poll_expired = false;
        if self.closed.is_some() && self.farewell == Farewell::Done {
            self.finish();
        }
        self.note_deadline();
        Some(body)
    }

    fn poll_body(&mut self) -> Option<Payload> {
        if self.closed.is_some() {
            return match self.farewell {
                Farewell::Done => None,
                Farewell::Noop => {
                    self.farewell = Farewell::Done;
                    Some(self.single(&Packet::Noop))
                }
                Farewell::Close => {
                    self.farewell = Farewell::Done;
                    Some(self.single(&Packet::Close))
                }
                Farewell::Flush => {
                    let mut encoder = self.fill_payload(usize::MAX);
                    if self.queue.is_empty() && encoder.try_push(&Packet::Close) {
                        self.farewell = Farewell::Done;
                    }
                    Some(encoder.finish())
                }
            };
        }
        let probed = self.ws.is_some_and(|ws| ws.state == WsState::Probed);
        if probed || self.transport.is_stream() || self.poll_expired {
            return Some(self.single(&Packet::Noop));
        }
        if self.queue.is_empty() {
            return None;
        }
        Some(self.fill_payload(self.config.max_poll_packets).finish())
    }

    /// A polling answer of one packet.
    fn single(&self, packet: &Packet) -> Payload {
        if self.wire.is_plain_v4() {
            Payload::Text(packet.to_text())
        } else {
            self.wire.payload(&[packet])
        }
    }

    /// The GET in flight went away before it was answered (the client closed
    /// the connection). Like the Node server, this closes the session
    /// ("transport error"), unless it is closing already.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{DisconnectReason, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.begin_poll(now).unwrap();
    /// session.poll_aborted(now);
    /// assert_eq!(session.closed(), Some(DisconnectReason::TransportError));
    /// ```
    pub fn poll_aborted(&mut self, now: Instant) {
        if self.poll.take().is_none() {
            return;
        }
        self.poll_expired = false;
        if self.closed.is_none() {
            self.close_with(
                DisconnectReason::TransportError,
                Some("poll connection closed prematurely".into()),
                now,
            );
        } else if matches!(self.farewell, Farewell::Close | Farewell::Noop) {
            // That poll was the only one to take the farewell.
            self.finish();
        }
        self.note_deadline();
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
        self.open_response(open).into_text()
    }

    /// [`Session::open_payload`] framed for the session's wire (a v3
    /// length-prefixed payload, binary if the connect handler sent binary
    /// to a client that takes it; a JSONP script).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::eio3::{JsonpIndex, Payload};
    /// # use engineio_proto::server::{Protocol, Session, SessionConfig, Wire};
    /// let wire = Wire { jsonp: Some(JsonpIndex::parse("0").unwrap()), ..Wire::default() };
    /// let mut session = Session::with_wire(Transport::Polling, SessionConfig::default(), wire, Instant::now());
    /// assert_eq!(session.open_response(&Packet::Noop), Payload::Text(r#"___eio[0]("6");"#.into()));
    /// ```
    pub fn open_response(&mut self, open: &Packet) -> Payload {
        let mut encoder =
            PollEncoder::new(&self.wire, self.poll_limits(self.config.max_poll_packets));
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
    fn fill_payload(&mut self, max_packets: usize) -> PollEncoder {
        let mut encoder = PollEncoder::new(&self.wire, self.poll_limits(max_packets));
        self.drain_into(&mut encoder);
        encoder
    }

    /// Moves queued packets into `encoder` while they fit.
    fn drain_into(&mut self, encoder: &mut PollEncoder) {
        while let Some(packet) = self.queue.front() {
            if !encoder.try_push_encoded(packet) {
                break;
            }
            match packet.packet() {
                Packet::Ping(_) => self.ping_queued = false,
                // A v3 heartbeat answer, not an application packet.
                Packet::Pong(_) => {}
                _ => self.app_queued = self.app_queued.saturating_sub(1),
            }
            self.queue.pop_front();
        }
    }

    /// Starts a long-polling POST; `content_type` is its `Content-Type`.
    ///
    /// A POST to a session closing on the server's initiative is accepted
    /// and its packets ignored, as the Node server does.
    ///
    /// # Errors
    ///
    /// [`RequestError::Upgraded`], [`RequestError::Closed`],
    /// [`RequestError::Overlap`] (a POST is in flight: the session is
    /// closed), [`RequestError::InvalidContent`] for an
    /// `application/octet-stream` body (the session is closed).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{DisconnectReason, Transport};
    /// # use engineio_proto::server::{RequestError, Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// assert_eq!(
    ///     session.begin_post(now, Some("application/octet-stream")),
    ///     Err(RequestError::InvalidContent)
    /// );
    /// assert_eq!(session.closed(), Some(DisconnectReason::TransportError));
    /// ```
    pub fn begin_post(
        &mut self,
        now: Instant,
        content_type: Option<&str>,
    ) -> Result<(), RequestError> {
        self.catch_up(now);
        if self.transport.is_stream() {
            return Err(RequestError::Upgraded);
        }
        if self.closed.is_some() {
            return if self.farewell == Farewell::Flush && self.post == Post::Idle {
                self.post = Post::Reading;
                Ok(())
            } else {
                Err(RequestError::Closed)
            };
        }
        if self.post == Post::Reading {
            self.close_with(
                DisconnectReason::TransportError,
                Some("overlapping POST requests".into()),
                now,
            );
            return Err(RequestError::Overlap("POST"));
        }
        let binary = content_type.is_some_and(|value| {
            value
                .split(';')
                .next()
                .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/octet-stream"))
        });
        if binary && self.wire.protocol == Protocol::V3 && self.wire.jsonp.is_none() {
            // A v3 binary payload (XHR2 clients).
            self.post_binary = true;
            self.post = Post::Reading;
            return Ok(());
        }
        if binary {
            self.close_with(
                DisconnectReason::TransportError,
                Some("invalid content: application/octet-stream POST".into()),
                now,
            );
            return Err(RequestError::InvalidContent);
        }
        self.post_binary = false;
        self.post = Post::Reading;
        Ok(())
    }

    /// Hands over the body of the POST in flight.
    ///
    /// Its packets go to the session in order as the inbox has room; the
    /// POST is answered once [`Session::post_accepted`] says so. An
    /// undecodable packet closes the session ("transport error") after the
    /// packets before it, and the POST is still answered `ok`, as the Node
    /// server does.
    ///
    /// # Errors
    ///
    /// [`RequestError::TooManyPackets`] past `max_payload_packets` (the
    /// session is closed, nothing is silently dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{DisconnectReason, Transport};
    /// # use engineio_proto::server::{Dispatch, Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.begin_post(now, None).unwrap();
    /// session.post_payload(b"4a\x1ebAQI=", now).unwrap();
    /// assert!(session.post_accepted());
    /// assert_eq!(session.next_dispatch(), Some(Dispatch::Message("a".into())));
    /// ```
    pub fn post_payload(&mut self, body: &[u8], now: Instant) -> Result<(), RequestError> {
        if self.post != Post::Reading {
            return Ok(());
        }
        if self.closed.is_some() {
            // Closing: the Node server answers ok and ignores the packets.
            self.post = Post::Idle;
            return Ok(());
        }
        self.post = Post::Accepting;
        let max_packets = self.config.max_payload_packets;
        let (packets, error) = if self.wire.is_plain_v4() {
            let (packets, error) = decode_packets(body, max_packets);
            (packets, error.map(BodyError::from))
        } else {
            self.decode_framed(body)
        };
        if let Some(BodyError::TooManyPackets { limit }) = error {
            self.post = Post::Idle;
            self.close_with(
                DisconnectReason::TransportError,
                Some(format!("a POST held more than {limit} packets")),
                now,
            );
            return Err(RequestError::TooManyPackets { limit });
        }
        for packet in packets {
            let close = packet == Packet::Close;
            self.backlog.push_back(Ok(packet));
            if close {
                // Nothing after a close packet counts.
                return self.accepting(now);
            }
        }
        if let Some(BodyError::Parse(error)) = error {
            self.backlog.push_back(Err(format!("parse error: {error}")));
        }
        self.accepting(now)
    }

    /// Decodes a v3 or JSONP POST body: for v3, all its packets, or none
    /// and the error (a malformed v3 payload is refused whole).
    fn decode_framed(&self, body: &[u8]) -> (Vec<Packet>, Option<BodyError>) {
        let max_packets = self.config.max_payload_packets;
        let jsonp_text;
        let body = if self.wire.jsonp.is_some() {
            match eio3::decode_jsonp_body(body) {
                Ok(text) => {
                    jsonp_text = text;
                    jsonp_text.as_bytes()
                }
                Err(err) => return (Vec::new(), Some(BodyError::Parse(err.to_string()))),
            }
        } else {
            body
        };
        if self.wire.protocol == Protocol::V4 {
            let (packets, error) = decode_packets(body, max_packets);
            return (packets, error.map(BodyError::from));
        }
        let limits = PayloadLimits::new(max_packets, usize::MAX);
        let content_type = self.post_binary.then_some(eio3::BINARY_CONTENT_TYPE);
        match eio3::decode_payload(body, content_type, &limits) {
            Ok(packets) => (packets, None),
            Err(eio3::Eio3Error::Decode(err)) => (Vec::new(), Some(BodyError::from(err))),
            Err(err) => (Vec::new(), Some(BodyError::Parse(err.to_string()))),
        }
    }

    fn accepting(&mut self, now: Instant) -> Result<(), RequestError> {
        self.pump_backlog(now);
        self.note_deadline();
        Ok(())
    }

    /// Whether every packet of the POST in flight is in (or the session
    /// closed): the POST can be answered `ok`, and it is over.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{Packet, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let config = SessionConfig { max_inbox: 1, ..SessionConfig::default() };
    /// let mut session = Session::new(Transport::Polling, config, now);
    /// session.begin_post(now, None).unwrap();
    /// session.post_payload(b"4a\x1e4b", now).unwrap();
    /// assert!(!session.post_accepted()); // "b" waits for room
    /// let _ = session.next_dispatch();
    /// session.message_handled(now);
    /// assert!(session.post_accepted());
    /// ```
    pub fn post_accepted(&mut self) -> bool {
        if !self.backlog.is_empty() {
            return false;
        }
        if self.post == Post::Accepting {
            self.post = Post::Idle;
        }
        true
    }

    /// Ends the POST in flight without taking its body (it was over
    /// `max_payload_bytes`: the answer is 413 and the session goes on).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::Transport;
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.begin_post(now, None).unwrap();
    /// session.post_too_large();
    /// session.begin_post(now, None).unwrap(); // no overlap
    /// ```
    pub fn post_too_large(&mut self) {
        if self.post == Post::Reading {
            self.post = Post::Idle;
        }
    }

    /// The POST in flight went away. While its body was being read, this
    /// closes the session ("transport error"), as the Node server does; once
    /// the body is in, its packets are still handled.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use engineio_proto::{DisconnectReason, Transport};
    /// # use engineio_proto::server::{Session, SessionConfig};
    /// let now = Instant::now();
    /// let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    /// session.begin_post(now, None).unwrap();
    /// session.post_aborted(now);
    /// assert_eq!(session.closed(), Some(DisconnectReason::TransportError));
    /// ```
    pub fn post_aborted(&mut self, now: Instant) {
        match self.post {
            Post::Reading => {
                self.post = Post::Idle;
                if self.closed.is_none() {
                    self.close_with(
                        DisconnectReason::TransportError,
                        Some("data request connection closed prematurely".into()),
                        now,
                    );
                }
            }
            Post::Accepting => self.post = Post::Idle,
            Post::Idle => {}
        }
    }
}

/// Why a POST body was not taken whole.
enum BodyError {
    /// More packets than `max_payload_packets`: none is taken.
    TooManyPackets { limit: usize },
    /// A packet (or, for v3 and JSONP, the body) could not be decoded.
    Parse(String),
}

impl From<DecodeError> for BodyError {
    fn from(err: DecodeError) -> Self {
        match err {
            DecodeError::TooManyPackets { limit } => Self::TooManyPackets { limit },
            err => Self::Parse(err.to_string()),
        }
    }
}

/// Decodes a POST body: the packets before the first bad one, and the error
/// that stopped decoding, if any. Over `max_packets`, no packet at all.
fn decode_packets(body: &[u8], max_packets: usize) -> (Vec<Packet>, Option<DecodeError>) {
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(err) => {
            let error = DecodeError::InvalidUtf8 {
                valid_up_to: err.valid_up_to(),
            };
            return (Vec::new(), Some(error));
        }
    };
    if text.split(RECORD_SEPARATOR).nth(max_packets).is_some() {
        let error = DecodeError::TooManyPackets { limit: max_packets };
        return (Vec::new(), Some(error));
    }
    let mut packets = Vec::new();
    for part in text.split(RECORD_SEPARATOR) {
        match decode_client_packet(part) {
            Ok(packet) => packets.push(packet),
            Err(error) => return (packets, Some(error)),
        }
    }
    (packets, None)
}
