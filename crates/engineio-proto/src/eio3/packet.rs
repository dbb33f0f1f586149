//! v3 packets: the text encoding and the WebSocket frames.
//!
//! Only binary messages differ from v4: as text they are `b4` + base64 (the
//! type character is kept), and as a binary WebSocket frame or binary
//! payload entry they start with the type byte `0x04`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as BASE64, STANDARD_NO_PAD as BASE64_NO_PAD};
use bytes::Bytes;

use super::error::Eio3Error;
use crate::error::DecodeError;
use crate::packet::{Message, Packet, PacketType};
use crate::ws::Frame;

/// The first byte of a binary message packet: the message type, `4`.
pub(super) const MESSAGE_TYPE_BYTE: u8 = 4;

/// How a v3 client takes binary messages, from the `b64` query parameter.
///
/// # Examples
///
/// ```
/// use engineio_proto::eio3::BinaryEncoding;
///
/// assert_eq!(BinaryEncoding::from_b64_query(None), BinaryEncoding::Raw);
/// assert_eq!(BinaryEncoding::from_b64_query(Some("1")), BinaryEncoding::Base64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BinaryEncoding {
    /// The client takes binary: binary WebSocket frames and binary polling
    /// payloads (Node's `supportsBinary`).
    #[default]
    Raw,
    /// The client asked for text only (`b64=1`): binary messages travel as
    /// `b4` + base64.
    Base64,
}

impl BinaryEncoding {
    /// The encoding a request asks for with its `b64` query value, as Node
    /// decides: a non-empty value (even `0`) means base64; an empty or
    /// missing one means raw binary.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::eio3::BinaryEncoding;
    /// assert_eq!(BinaryEncoding::from_b64_query(Some("")), BinaryEncoding::Raw);
    /// assert_eq!(BinaryEncoding::from_b64_query(Some("0")), BinaryEncoding::Base64);
    /// ```
    pub fn from_b64_query(b64: Option<&str>) -> Self {
        match b64 {
            Some(value) if !value.is_empty() => Self::Base64,
            _ => Self::Raw,
        }
    }
}

/// Appends a packet's v3 text encoding to `out`: as in v4, except that a
/// binary message is `b4` + standard base64.
///
/// # Examples
///
/// ```
/// use engineio_proto::{Packet, eio3};
///
/// let mut out = String::new();
/// eio3::encode_text(&Packet::message(vec![1u8, 2, 3, 4]), &mut out);
/// assert_eq!(out, "b4AQIDBA==");
/// ```
pub fn encode_text(packet: &Packet, out: &mut String) {
    match packet {
        Packet::Message(Message::Binary(bytes)) => {
            out.push('b');
            out.push(PacketType::Message.as_char());
            BASE64.encode_string(bytes, out);
        }
        other => other.encode_text(out),
    }
}

/// A packet's v3 text encoding as a new string (see [`encode_text`]).
///
/// # Examples
///
/// ```
/// use engineio_proto::{Packet, eio3};
///
/// assert_eq!(eio3::to_text(&Packet::message("hello")), "4hello");
/// assert_eq!(eio3::to_text(&Packet::message(Vec::new())), "b4");
/// ```
pub fn to_text(packet: &Packet) -> String {
    let mut out = String::new();
    encode_text(packet, &mut out);
    out
}

/// Decodes one packet from its v3 text encoding.
///
/// `b` must be followed by the type character `4` and standard base64
/// (padded or not); everything else decodes as in v4
/// ([`Packet::decode_text`]).
///
/// # Errors
///
/// [`Eio3Error::MissingBinaryType`] for a bare `b`,
/// [`Eio3Error::BinaryNotMessage`] for binary data on another packet type,
/// otherwise the [`DecodeError`] of [`Packet::decode_text`] in
/// [`Eio3Error::Decode`].
///
/// # Examples
///
/// ```
/// use engineio_proto::{Packet, eio3};
///
/// assert_eq!(eio3::decode_text("b4AQID").unwrap(), Packet::message(vec![1u8, 2, 3]));
/// assert_eq!(eio3::decode_text("2probe").unwrap(), Packet::Ping("probe".into()));
/// assert!(eio3::decode_text("bAQID").is_err()); // v4's form, no type character
/// ```
pub fn decode_text(input: &str) -> Result<Packet, Eio3Error> {
    let Some(base64) = input.strip_prefix('b') else {
        return Ok(Packet::decode_text(input)?);
    };
    let mut chars = base64.chars();
    let type_char = chars.next().ok_or(Eio3Error::MissingBinaryType)?;
    let packet_type =
        PacketType::from_char(type_char).ok_or(DecodeError::UnknownPacketType(type_char))?;
    if packet_type != PacketType::Message {
        return Err(Eio3Error::BinaryNotMessage(packet_type));
    }
    let data = chars.as_str();
    let bytes = BASE64
        .decode(data)
        .or_else(|_| BASE64_NO_PAD.decode(data))
        .map_err(|err| DecodeError::InvalidBase64(err.to_string()))?;
    Ok(Packet::Message(Message::Binary(bytes.into())))
}

/// Encodes a packet as one v3 WebSocket frame.
///
/// A binary message becomes a binary frame of the type byte `0x04` and the
/// bytes, or, for a client that asked for base64, a text frame `b4...`.
/// Every other packet is a text frame, as in v4.
///
/// # Examples
///
/// ```
/// use engineio_proto::{Frame, Packet};
/// use engineio_proto::eio3::{self, BinaryEncoding};
///
/// let binary = Packet::message(vec![1u8, 2]);
/// assert_eq!(eio3::encode_frame(&binary, BinaryEncoding::Raw), Frame::Binary(vec![4u8, 1, 2].into()));
/// assert_eq!(eio3::encode_frame(&binary, BinaryEncoding::Base64), Frame::Text("b4AQI=".into()));
/// assert_eq!(eio3::encode_frame(&Packet::pong(), BinaryEncoding::Raw), Frame::Text("3".into()));
/// ```
pub fn encode_frame(packet: &Packet, encoding: BinaryEncoding) -> Frame {
    match (packet, encoding) {
        (Packet::Message(Message::Binary(bytes)), BinaryEncoding::Raw) => {
            Frame::Binary(binary_packet(bytes).into())
        }
        _ => Frame::Text(to_text(packet)),
    }
}

/// Decodes the packet a v3 WebSocket frame carries.
///
/// A text frame decodes as [`decode_text`]; a binary frame is a type byte
/// (which must be `4`, message) followed by the bytes.
///
/// # Errors
///
/// [`DecodeError::EmptyPacket`] for an empty binary frame,
/// [`Eio3Error::UnknownBinaryType`] or [`Eio3Error::BinaryNotMessage`] for a
/// bad type byte, or the error of [`decode_text`].
///
/// # Examples
///
/// ```
/// use engineio_proto::{Frame, Packet, eio3};
///
/// let frame = Frame::Binary(vec![4u8, 1, 2].into());
/// assert_eq!(eio3::decode_frame(frame).unwrap(), Packet::message(vec![1u8, 2]));
/// assert!(eio3::decode_frame(Frame::Binary(vec![9u8].into())).is_err());
/// ```
pub fn decode_frame(frame: Frame) -> Result<Packet, Eio3Error> {
    match frame {
        Frame::Text(text) => decode_text(&text),
        Frame::Binary(bytes) => {
            check_binary_type(&bytes)?;
            Ok(Packet::Message(Message::Binary(bytes.slice(1..))))
        }
    }
}

/// The bytes of a binary message packet: the type byte, then the data.
pub(super) fn binary_packet(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + data.len());
    out.push(MESSAGE_TYPE_BYTE);
    out.extend_from_slice(data);
    out
}

/// Decodes a binary packet (type byte and data) from a binary payload entry.
pub(super) fn decode_binary_packet(input: &[u8]) -> Result<Packet, Eio3Error> {
    check_binary_type(input)?;
    Ok(Packet::Message(Message::Binary(Bytes::copy_from_slice(
        &input[1..],
    ))))
}

/// Checks that a binary packet is non-empty and starts with the message type byte.
fn check_binary_type(input: &[u8]) -> Result<(), Eio3Error> {
    let &type_byte = input.first().ok_or(DecodeError::EmptyPacket)?;
    let packet_type = char::from_digit(u32::from(type_byte), 10)
        .and_then(PacketType::from_char)
        .ok_or(Eio3Error::UnknownBinaryType(type_byte))?;
    if packet_type == PacketType::Message {
        Ok(())
    } else {
        Err(Eio3Error::BinaryNotMessage(packet_type))
    }
}
