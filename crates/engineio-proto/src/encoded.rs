//! Packets encoded once and sent to many sessions.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::packet::{Message, Packet};

/// A packet whose encodings are computed at most once and shared.
///
/// Cloning is a reference-count increment. Broadcasting one `EncodedPacket`
/// to a thousand sessions encodes it once for WebSocket sessions and once for
/// polling sessions, whichever are needed (the counterpart of
/// python-engineio's `send_packet` with `Packet.encode()` caching).
///
/// # Examples
///
/// ```
/// use engineio_proto::{EncodedPacket, Packet};
///
/// let packet = EncodedPacket::new(Packet::message(vec![1u8, 2, 3, 4]));
/// let copy = packet.clone();
/// assert_eq!(packet.text(), "bAQIDBA==");
/// assert!(std::ptr::eq(packet.text(), copy.text())); // encoded once
/// ```
#[derive(Debug, Clone)]
pub struct EncodedPacket(Arc<Inner>);

/// Two encoded packets are equal when their packets are.
impl PartialEq for EncodedPacket {
    fn eq(&self, other: &Self) -> bool {
        self.packet() == other.packet()
    }
}

impl Eq for EncodedPacket {}

#[derive(Debug)]
struct Inner {
    packet: Packet,
    text: OnceLock<Bytes>,
}

impl EncodedPacket {
    /// Wraps a packet; nothing is encoded until an encoding is asked for.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{EncodedPacket, Packet};
    /// let packet = EncodedPacket::new(Packet::message("hi"));
    /// assert_eq!(packet.packet(), &Packet::message("hi"));
    /// ```
    pub fn new(packet: Packet) -> Self {
        Self(Arc::new(Inner {
            packet,
            text: OnceLock::new(),
        }))
    }

    /// The packet.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{EncodedPacket, Packet};
    /// assert_eq!(EncodedPacket::new(Packet::Noop).packet(), &Packet::Noop);
    /// ```
    pub fn packet(&self) -> &Packet {
        &self.0.packet
    }

    /// The text encoding, as used in polling payloads and WebSocket text
    /// frames (binary messages as `b` + base64).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{EncodedPacket, Packet};
    /// assert_eq!(EncodedPacket::new(Packet::message("hi")).text(), "4hi");
    /// ```
    pub fn text(&self) -> &str {
        let bytes = self.text_bytes();
        // Always built from a `String` below, hence valid UTF-8.
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    /// The text encoding as shared bytes (no copy when cloned).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{EncodedPacket, Packet};
    /// assert_eq!(&EncodedPacket::new(Packet::Close).text_bytes()[..], b"1");
    /// ```
    pub fn text_bytes(&self) -> &Bytes {
        self.0
            .text
            .get_or_init(|| Bytes::from(self.0.packet.to_text()))
    }

    /// For a text frame, the shared UTF-8 bytes of the text encoding; for a
    /// binary message, its raw bytes. The `bool` says whether it is binary.
    /// WebSocket writers use this to send without copying.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{EncodedPacket, Packet};
    /// let (bytes, binary) = EncodedPacket::new(Packet::message("x")).ws_bytes();
    /// assert_eq!((&bytes[..], binary), (&b"4x"[..], false));
    /// ```
    pub fn ws_bytes(&self) -> (Bytes, bool) {
        match &self.0.packet {
            Packet::Message(Message::Binary(bytes)) => (bytes.clone(), true),
            _ => (self.text_bytes().clone(), false),
        }
    }
}

impl From<Packet> for EncodedPacket {
    fn from(packet: Packet) -> Self {
        Self::new(packet)
    }
}
