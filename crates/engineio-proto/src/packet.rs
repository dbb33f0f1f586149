//! Engine.IO packets: the seven packet types and their text encoding.
//!
//! A packet is a type character (`0`-`6`) followed by optional data. A binary
//! message has no type character on a WebSocket (the frame is binary) and is
//! written `b<base64>` where only text can travel (long-polling payloads, or
//! WebSocket text frames of a client that forces base64).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;

use crate::error::DecodeError;
use crate::handshake::Handshake;

/// The seven Engine.IO v4 packet types.
///
/// # Examples
///
/// ```
/// use engineio_proto::PacketType;
///
/// assert_eq!(PacketType::from_char('4'), Some(PacketType::Message));
/// assert_eq!(PacketType::Ping.as_char(), '2');
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: the handshake, sent by the server with the session parameters.
    Open,
    /// `1`: the transport can be closed.
    Close,
    /// `2`: heartbeat request (server to client in v4), or `2probe` during an upgrade.
    Ping,
    /// `3`: heartbeat answer, or `3probe` during an upgrade.
    Pong,
    /// `4`: an application message, text or binary.
    Message,
    /// `5`: completes the upgrade to WebSocket.
    Upgrade,
    /// `6`: does nothing; used to release a pending long poll during an upgrade.
    Noop,
}

impl PacketType {
    /// The character that starts the packet's text encoding.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::PacketType;
    /// assert_eq!(PacketType::Noop.as_char(), '6');
    /// ```
    pub const fn as_char(self) -> char {
        match self {
            Self::Open => '0',
            Self::Close => '1',
            Self::Ping => '2',
            Self::Pong => '3',
            Self::Message => '4',
            Self::Upgrade => '5',
            Self::Noop => '6',
        }
    }

    /// The packet type for a type character, or `None` if it is not `0`-`6`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::PacketType;
    /// assert_eq!(PacketType::from_char('5'), Some(PacketType::Upgrade));
    /// assert_eq!(PacketType::from_char('7'), None);
    /// ```
    pub const fn from_char(c: char) -> Option<Self> {
        Some(match c {
            '0' => Self::Open,
            '1' => Self::Close,
            '2' => Self::Ping,
            '3' => Self::Pong,
            '4' => Self::Message,
            '5' => Self::Upgrade,
            '6' => Self::Noop,
            _ => return None,
        })
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Open => "open",
            Self::Close => "close",
            Self::Ping => "ping",
            Self::Pong => "pong",
            Self::Message => "message",
            Self::Upgrade => "upgrade",
            Self::Noop => "noop",
        };
        f.write_str(name)
    }
}

/// The data of a message packet: UTF-8 text or raw bytes.
///
/// # Examples
///
/// ```
/// use engineio_proto::Message;
///
/// let text = Message::from("héllo 👋");
/// let binary = Message::from(vec![1u8, 2, 3]);
/// assert!(text.is_text());
/// assert_eq!(binary.len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    /// A text message (any UTF-8, including the empty string).
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// Whether this is a text message.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Message;
    /// assert!(Message::from("hi").is_text());
    /// ```
    pub fn is_text(&self) -> bool {
        matches!(self, Self::Text(_))
    }

    /// The length of the data in bytes (UTF-8 bytes for text).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Message;
    /// assert_eq!(Message::from("é").len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Self::Text(t) => t.len(),
            Self::Binary(b) => b.len(),
        }
    }

    /// Whether the message carries no data.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Message;
    /// assert!(Message::from("").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<String> for Message {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<&str> for Message {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<Bytes> for Message {
    fn from(value: Bytes) -> Self {
        Self::Binary(value)
    }
}

impl From<Vec<u8>> for Message {
    fn from(value: Vec<u8>) -> Self {
        Self::Binary(Bytes::from(value))
    }
}

impl From<&[u8]> for Message {
    fn from(value: &[u8]) -> Self {
        Self::Binary(Bytes::copy_from_slice(value))
    }
}

/// One Engine.IO packet.
///
/// Ping and pong carry their optional data (`"probe"` during an upgrade; an
/// empty string otherwise). Close, upgrade and noop carry none.
///
/// # Examples
///
/// ```
/// use engineio_proto::{Message, Packet};
///
/// let packet = Packet::decode_text("4hello").unwrap();
/// assert_eq!(packet, Packet::Message(Message::from("hello")));
/// assert_eq!(packet.to_text(), "4hello");
///
/// // Binary data travels as base64 where only text can go.
/// let binary = Packet::message(vec![1u8, 2, 3, 4]);
/// assert_eq!(binary.to_text(), "bAQIDBA==");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// `0`: the handshake.
    Open(Handshake),
    /// `1`: close.
    Close,
    /// `2`: ping, with its data (`"probe"` during an upgrade).
    Ping(String),
    /// `3`: pong, with its data (`"probe"` during an upgrade).
    Pong(String),
    /// `4` (or a binary frame, or `b`): a message.
    Message(Message),
    /// `5`: upgrade.
    Upgrade,
    /// `6`: noop.
    Noop,
}

/// The data of ping and pong packets during an upgrade.
pub const PROBE: &str = "probe";

impl Packet {
    /// A message packet with text or binary data.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Packet;
    /// assert_eq!(Packet::message("hi").to_text(), "4hi");
    /// ```
    pub fn message(data: impl Into<Message>) -> Self {
        Self::Message(data.into())
    }

    /// A ping packet without data, as the server sends every ping interval.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Packet;
    /// assert_eq!(Packet::ping().to_text(), "2");
    /// ```
    pub fn ping() -> Self {
        Self::Ping(String::new())
    }

    /// A pong packet without data, the answer to [`Packet::ping`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Packet;
    /// assert_eq!(Packet::pong().to_text(), "3");
    /// ```
    pub fn pong() -> Self {
        Self::Pong(String::new())
    }

    /// The packet's type.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{Packet, PacketType};
    /// assert_eq!(Packet::Noop.packet_type(), PacketType::Noop);
    /// ```
    pub fn packet_type(&self) -> PacketType {
        match self {
            Self::Open(_) => PacketType::Open,
            Self::Close => PacketType::Close,
            Self::Ping(_) => PacketType::Ping,
            Self::Pong(_) => PacketType::Pong,
            Self::Message(_) => PacketType::Message,
            Self::Upgrade => PacketType::Upgrade,
            Self::Noop => PacketType::Noop,
        }
    }

    /// Whether this is `2probe`, the first packet of an upgrade.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Packet;
    /// assert!(Packet::decode_text("2probe").unwrap().is_ping_probe());
    /// assert!(!Packet::ping().is_ping_probe());
    /// ```
    pub fn is_ping_probe(&self) -> bool {
        matches!(self, Self::Ping(data) if data == PROBE)
    }

    /// Whether this is `3probe`, the server's answer to `2probe`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Packet;
    /// assert!(Packet::decode_text("3probe").unwrap().is_pong_probe());
    /// ```
    pub fn is_pong_probe(&self) -> bool {
        matches!(self, Self::Pong(data) if data == PROBE)
    }

    /// Appends the packet's text encoding to `out`.
    ///
    /// This is the encoding used inside long-polling payloads: binary
    /// messages become `b` followed by standard base64.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Packet;
    /// let mut out = String::from("prefix:");
    /// Packet::message("x").encode_text(&mut out);
    /// assert_eq!(out, "prefix:4x");
    /// ```
    pub fn encode_text(&self, out: &mut String) {
        match self {
            Self::Open(handshake) => {
                out.push('0');
                out.push_str(&handshake.to_json());
            }
            Self::Ping(data) | Self::Pong(data) => {
                out.push(self.packet_type().as_char());
                out.push_str(data);
            }
            Self::Message(Message::Text(text)) => {
                out.push('4');
                out.push_str(text);
            }
            Self::Message(Message::Binary(bytes)) => {
                out.push('b');
                BASE64.encode_string(bytes, out);
            }
            Self::Close | Self::Upgrade | Self::Noop => out.push(self.packet_type().as_char()),
        }
    }

    /// The packet's text encoding as a new string (see [`Packet::encode_text`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Packet;
    /// assert_eq!(Packet::Close.to_text(), "1");
    /// ```
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.encoded_len_hint());
        self.encode_text(&mut out);
        out
    }

    /// An upper bound of the text encoding's length, for pre-allocation.
    fn encoded_len_hint(&self) -> usize {
        match self {
            Self::Open(_) => 128,
            Self::Ping(data) | Self::Pong(data) => 1 + data.len(),
            Self::Message(Message::Text(text)) => 1 + text.len(),
            Self::Message(Message::Binary(bytes)) => 1 + bytes.len().div_ceil(3) * 4,
            Self::Close | Self::Upgrade | Self::Noop => 1,
        }
    }

    /// Decodes one packet from its text encoding.
    ///
    /// Accepts `b<base64>` as a binary message. Rejects empty input, unknown
    /// type characters, data after close/upgrade/noop, bad base64 and a bad
    /// open-packet JSON with a [`DecodeError`] that says which.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio_proto::{DecodeError, Message, Packet};
    ///
    /// assert_eq!(Packet::decode_text("2probe").unwrap(), Packet::Ping("probe".into()));
    /// assert_eq!(
    ///     Packet::decode_text("bAQID").unwrap(),
    ///     Packet::Message(Message::from(vec![1u8, 2, 3]))
    /// );
    /// assert_eq!(Packet::decode_text(""), Err(DecodeError::EmptyPacket));
    /// ```
    pub fn decode_text(input: &str) -> Result<Self, DecodeError> {
        let mut chars = input.chars();
        let first = chars.next().ok_or(DecodeError::EmptyPacket)?;
        let data = chars.as_str();
        if first == 'b' {
            return decode_base64(data).map(|bytes| Self::Message(Message::Binary(bytes)));
        }
        let packet_type =
            PacketType::from_char(first).ok_or(DecodeError::UnknownPacketType(first))?;
        Ok(match packet_type {
            PacketType::Open => Self::Open(Handshake::from_json(data)?),
            PacketType::Ping => Self::Ping(data.to_owned()),
            PacketType::Pong => Self::Pong(data.to_owned()),
            PacketType::Message => Self::Message(Message::Text(data.to_owned())),
            PacketType::Close | PacketType::Upgrade | PacketType::Noop => {
                if !data.is_empty() {
                    return Err(DecodeError::UnexpectedData {
                        packet_type: first,
                        len: data.len(),
                    });
                }
                match packet_type {
                    PacketType::Close => Self::Close,
                    PacketType::Upgrade => Self::Upgrade,
                    _ => Self::Noop,
                }
            }
        })
    }
}

impl fmt::Display for Packet {
    /// Formats the packet's text encoding.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// Decodes standard base64 (with or without padding) into bytes.
fn decode_base64(data: &str) -> Result<Bytes, DecodeError> {
    BASE64
        .decode(data)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(data))
        .map(Bytes::from)
        .map_err(|err| DecodeError::InvalidBase64(err.to_string()))
}
