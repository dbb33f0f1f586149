//! The WebTransport encoding: packets on one bidirectional stream, each
//! behind a length header.
//!
//! Over WebTransport (HTTP/3 over QUIC), an Engine.IO session runs on one
//! bidirectional stream that the client opens. A stream has no message
//! boundaries, so each packet is preceded by a header, modelled on the
//! WebSocket frame header (engine.io-parser's `createPacketEncoderStream` and
//! `createPacketDecoderStream`):
//!
//! | payload length | header |
//! |---|---|
//! | 0 to 125 | one byte: the length |
//! | 126 to 65,535 | `126`, then the length in 2 bytes (big-endian) |
//! | 65,536 and more | `127`, then the length in 8 bytes (big-endian) |
//!
//! The first byte's top bit is set for a binary message, whose payload is
//! its raw bytes (no type byte); any other packet's payload is its text
//! encoding in UTF-8 (`4hello`, `2probe`). A decoded payload is a [`Frame`],
//! as a WebSocket frame would carry it, and [`Frame::decode`] gives the
//! packet.
//!
//! The client's first packet on the stream says what the stream is for
//! ([`OpenRequest`]): `0` opens a new session, `0{"sid":"..."}` upgrades
//! an existing one (usually a polling session).
//!
//! # Where we differ from engine.io-parser
//!
//! - A binary message with no bytes is encoded as the text packet `b` (an
//!   empty base64 message), because engine.io-parser's decoder refuses a
//!   payload of length 0; it decodes to the same empty binary message.
//! - A text payload that is not valid UTF-8 is refused
//!   ([`DecodeError::InvalidUtf8`]); engine.io-parser replaces the bad bytes.
//!
//! # Examples
//!
//! ```
//! use engineio_proto::webtransport::{FrameDecoder, encode};
//! use engineio_proto::{Frame, Packet};
//!
//! let mut wire = encode(&Packet::message("hello"));
//! wire.extend(encode(&Packet::message(vec![1u8, 2, 3])));
//! assert_eq!(wire, b"\x064hello\x83\x01\x02\x03");
//!
//! let mut decoder = FrameDecoder::new(1_000_000);
//! decoder.push(&wire[..4]); // any split: the stream has no boundaries
//! assert_eq!(decoder.next_frame()?, None);
//! decoder.push(&wire[4..]);
//! assert_eq!(decoder.next_frame()?, Some(Frame::Text("4hello".into())));
//! assert_eq!(decoder.next_frame()?.unwrap().decode()?, Packet::message(vec![1u8, 2, 3]));
//! assert_eq!(decoder.next_frame()?, None);
//! # Ok::<(), engineio_proto::DecodeError>(())
//! ```

use bytes::{Buf, Bytes, BytesMut};

use crate::encoded::EncodedPacket;
use crate::error::DecodeError;
use crate::packet::Packet;
use crate::sid::Sid;
use crate::ws::Frame;

/// The longest header: a marker byte and an 8-byte length.
pub const MAX_HEADER_LEN: usize = 9;

/// The top bit of a header's first byte: the payload is a binary message.
const BINARY_BIT: u8 = 0x80;

/// The header in front of one packet's payload.
///
/// # Examples
///
/// ```
/// use engineio_proto::webtransport::FrameHeader;
///
/// assert_eq!(FrameHeader::new(6, false).as_bytes(), [6]);
/// assert_eq!(FrameHeader::new(3, true).as_bytes(), [0x83]);
/// assert_eq!(FrameHeader::new(300, false).as_bytes(), [126, 1, 44]);
/// assert_eq!(FrameHeader::new(65_536, true).as_bytes(), [0xff, 0, 0, 0, 0, 0, 1, 0, 0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    bytes: [u8; MAX_HEADER_LEN],
    len: u8,
}

impl FrameHeader {
    /// The header of a payload of `payload_len` bytes; `binary` for a binary
    /// message's raw bytes.
    pub fn new(payload_len: usize, binary: bool) -> Self {
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let len = if payload_len < 126 {
            bytes[0] = payload_len as u8;
            1
        } else if let Ok(short) = u16::try_from(payload_len) {
            bytes[0] = 126;
            bytes[1..3].copy_from_slice(&short.to_be_bytes());
            3
        } else {
            bytes[0] = 127;
            bytes[1..9].copy_from_slice(&(payload_len as u64).to_be_bytes());
            9
        };
        if binary {
            bytes[0] |= BINARY_BIT;
        }
        Self { bytes, len }
    }

    /// The header's bytes (1, 3 or 9 of them).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// The payload of a packet on the stream and whether it is binary. An
/// empty binary message goes as the text `b` (see the module's docs).
fn payload(packet: &EncodedPacket) -> (Bytes, bool) {
    match packet.ws_bytes() {
        (bytes, true) if bytes.is_empty() => (Bytes::from_static(b"b"), false),
        other => other,
    }
}

/// Appends one packet, header then payload, to `out`.
///
/// # Examples
///
/// ```
/// use engineio_proto::webtransport::encode_into;
/// use engineio_proto::{EncodedPacket, Packet};
///
/// let mut out = Vec::new();
/// encode_into(&EncodedPacket::new(Packet::Pong("probe".into())), &mut out);
/// encode_into(&EncodedPacket::new(Packet::message(Vec::<u8>::new())), &mut out);
/// assert_eq!(out, b"\x063probe\x01b");
/// ```
pub fn encode_into(packet: &EncodedPacket, out: &mut Vec<u8>) {
    let (bytes, binary) = payload(packet);
    out.extend_from_slice(FrameHeader::new(bytes.len(), binary).as_bytes());
    out.extend_from_slice(&bytes);
}

/// One packet, header then payload.
///
/// # Examples
///
/// ```
/// use engineio_proto::webtransport::encode;
/// use engineio_proto::Packet;
///
/// assert_eq!(encode(&Packet::Upgrade), b"\x015");
/// ```
pub fn encode(packet: &Packet) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(&EncodedPacket::new(packet.clone()), &mut out);
    out
}

/// Where the decoder stands in the current frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for a header's first byte.
    Header,
    /// Waiting for a 2-byte (`true`: 8-byte) extended length.
    Extended { long: bool, binary: bool },
    /// Waiting for `len` payload bytes.
    Payload { len: usize, binary: bool },
}

/// Splits the bytes read from a WebTransport stream into [`Frame`]s.
///
/// Bytes go in with [`push`](Self::push) in whatever pieces the stream
/// hands over; [`next_frame`](Self::next_frame) takes out each complete
/// frame. A payload of length 0 or over the limit is refused before its
/// bytes arrive, so a peer cannot make the decoder buffer more than the
/// limit (plus what it pushed past it). After an error the decoder keeps
/// returning it: the stream is unusable.
///
/// # Examples
///
/// ```
/// use engineio_proto::webtransport::FrameDecoder;
/// use engineio_proto::DecodeError;
///
/// let mut decoder = FrameDecoder::new(4);
/// decoder.push(&[0x05]); // a 5-byte payload announced
/// assert_eq!(decoder.next_frame(), Err(DecodeError::PayloadTooLarge { len: 5, limit: 4 }));
/// ```
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: BytesMut,
    max_payload: usize,
    state: State,
    failed: Option<DecodeError>,
}

impl FrameDecoder {
    /// A decoder refusing payloads over `max_payload` bytes (the server's
    /// `max_http_buffer_size`; `usize::MAX` for no limit).
    pub fn new(max_payload: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            max_payload,
            state: State::Header,
            failed: None,
        }
    }

    /// Adds bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(data);
        }
    }

    /// How many bytes are buffered and not yet part of a returned frame.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::webtransport::FrameDecoder;
    /// let mut decoder = FrameDecoder::new(100);
    /// decoder.push(&[0x03, b'4']);
    /// assert_eq!(decoder.next_frame(), Ok(None));
    /// assert_eq!(decoder.buffered(), 1);
    /// ```
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    ///
    /// # Errors
    ///
    /// [`DecodeError::EmptyPacket`] for a payload of length 0,
    /// [`DecodeError::PayloadTooLarge`] for one over the limit, and
    /// [`DecodeError::InvalidUtf8`] for a text payload that is not UTF-8.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, DecodeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let result = self.step();
        if let Err(err) = &result {
            self.failed = Some(err.clone());
            self.buf = BytesMut::new();
        }
        result
    }

    fn step(&mut self) -> Result<Option<Frame>, DecodeError> {
        loop {
            match self.state {
                State::Header => {
                    if self.buf.is_empty() {
                        return Ok(None);
                    }
                    let first = self.buf.get_u8();
                    let binary = first & BINARY_BIT != 0;
                    self.state = match first & !BINARY_BIT {
                        126 => State::Extended {
                            long: false,
                            binary,
                        },
                        127 => State::Extended { long: true, binary },
                        len => self.payload_state(u64::from(len), binary)?,
                    };
                }
                State::Extended { long, binary } => {
                    let need = if long { 8 } else { 2 };
                    if self.buf.len() < need {
                        return Ok(None);
                    }
                    let len = if long {
                        self.buf.get_u64()
                    } else {
                        u64::from(self.buf.get_u16())
                    };
                    self.state = self.payload_state(len, binary)?;
                }
                State::Payload { len, binary } => {
                    if self.buf.len() < len {
                        return Ok(None);
                    }
                    let bytes = self.buf.split_to(len).freeze();
                    self.state = State::Header;
                    return if binary {
                        Ok(Some(Frame::Binary(bytes)))
                    } else {
                        match String::from_utf8(bytes.into()) {
                            Ok(text) => Ok(Some(Frame::Text(text))),
                            Err(err) => Err(DecodeError::InvalidUtf8 {
                                valid_up_to: err.utf8_error().valid_up_to(),
                            }),
                        }
                    };
                }
            }
        }
    }

    fn payload_state(&self, len: u64, binary: bool) -> Result<State, DecodeError> {
        if len == 0 {
            return Err(DecodeError::EmptyPacket);
        }
        match usize::try_from(len) {
            Ok(len) if len <= self.max_payload => Ok(State::Payload { len, binary }),
            _ => Err(DecodeError::PayloadTooLarge {
                len: usize::try_from(len).unwrap_or(usize::MAX),
                limit: self.max_payload,
            }),
        }
    }
}

/// What the client's first packet on a WebTransport stream asks for.
///
/// # Examples
///
/// ```
/// use engineio_proto::webtransport::OpenRequest;
/// use engineio_proto::{Frame, Sid};
///
/// assert_eq!(OpenRequest::from_frame(Frame::Text("0".into()))?, OpenRequest::New);
/// let sid: Sid = "AAAAAAAAAAAAAAAAAAAA".parse().unwrap();
/// let upgrade = OpenRequest::Upgrade(sid);
/// assert_eq!(upgrade.to_frame(), Frame::Text(r#"0{"sid":"AAAAAAAAAAAAAAAAAAAA"}"#.into()));
/// assert_eq!(OpenRequest::from_frame(upgrade.to_frame())?, upgrade);
/// assert!(OpenRequest::from_frame(Frame::Text("4hello".into())).is_err());
/// # Ok::<(), engineio_proto::DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenRequest {
    /// `0`: a new session over this stream (the server answers with its
    /// open packet).
    New,
    /// `0{"sid":"..."}`: this stream upgrades the session with that id
    /// (`2probe` and `5` follow, as over a WebSocket).
    Upgrade(Sid),
}

impl OpenRequest {
    /// Reads the first frame of a stream.
    ///
    /// # Errors
    ///
    /// [`DecodeError::InvalidHandshake`] when the frame is not an open
    /// packet, or its JSON has no valid `sid` string (the Node server closes
    /// the WebTransport session then).
    pub fn from_frame(frame: Frame) -> Result<Self, DecodeError> {
        let text = match frame {
            Frame::Text(text) => text,
            Frame::Binary(_) => {
                return Err(DecodeError::InvalidHandshake(
                    "the stream must start with an open packet, not a binary message".into(),
                ));
            }
        };
        let Some(data) = text.strip_prefix('0') else {
            return Err(DecodeError::InvalidHandshake(format!(
                "the stream must start with an open packet (0), not {:?}",
                text.chars().take(16).collect::<String>()
            )));
        };
        if data.is_empty() {
            return Ok(Self::New);
        }
        #[derive(serde::Deserialize)]
        struct Upgrade<'a> {
            #[serde(borrow)]
            sid: std::borrow::Cow<'a, str>,
        }
        let upgrade: Upgrade<'_> = serde_json::from_str(data)
            .map_err(|err| DecodeError::InvalidHandshake(format!("{err}")))?;
        upgrade
            .sid
            .parse()
            .map(Self::Upgrade)
            .map_err(|err| DecodeError::InvalidHandshake(format!("{err}")))
    }

    /// The frame a client sends to ask for this.
    pub fn to_frame(&self) -> Frame {
        match self {
            Self::New => Frame::Text("0".into()),
            Self::Upgrade(sid) => Frame::Text(format!(r#"0{{"sid":"{sid}"}}"#)),
        }
    }

    /// The frame, encoded for the stream (header and payload).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::webtransport::OpenRequest;
    /// assert_eq!(OpenRequest::New.encode(), b"\x010");
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        let Frame::Text(text) = self.to_frame() else {
            return Vec::new();
        };
        let mut out = FrameHeader::new(text.len(), false).as_bytes().to_vec();
        out.extend_from_slice(text.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests;
