//! How a session speaks on the wire: the protocol revision (`EIO=4`, or
//! `EIO=3` when the server allows it), whether its v3 client takes raw
//! binary, and JSONP polling. Fixed at the handshake, as the Node server
//! fixes them when it creates the transport.

use bytes::Bytes;

use super::client_packet::decode_client_packet;
use crate::eio3::{self, BinaryEncoding, Eio3Error, JsonpIndex, Payload};
use crate::encoded::EncodedPacket;
use crate::packet::Packet;
use crate::payload::{PayloadEncoder, PayloadLimits};
use crate::ws::Frame;

/// The Engine.IO protocol revision of a session (the `EIO` query
/// parameter).
///
/// # Examples
///
/// ```
/// use engineio_proto::server::Protocol;
///
/// assert_eq!(Protocol::from_query(Some("4")), Protocol::V4);
/// // Node reads anything but "4" as v3 (and refuses it unless allowEIO3).
/// assert_eq!(Protocol::from_query(Some("3")), Protocol::V3);
/// assert_eq!(Protocol::from_query(None), Protocol::V3);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Engine.IO v3 (Socket.IO v2 clients): the client pings, payloads are
    /// length-prefixed.
    V3,
    /// Engine.IO v4, the current protocol.
    #[default]
    V4,
}

impl Protocol {
    /// The revision a request's `EIO` parameter names, as the Node server
    /// reads it: `"4"` is v4, anything else (`"3"`, nothing, junk) v3.
    pub fn from_query(eio: Option<&str>) -> Self {
        if eio == Some("4") { Self::V4 } else { Self::V3 }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::V3 => "3",
            Self::V4 => "4",
        })
    }
}

/// How a session's transports are framed.
///
/// # Examples
///
/// ```
/// use engineio_proto::eio3::{BinaryEncoding, JsonpIndex};
/// use engineio_proto::server::{Protocol, Wire};
///
/// assert!(Wire::default().is_plain_v4());
/// let old = Wire { protocol: Protocol::V3, binary: BinaryEncoding::Base64, jsonp: None };
/// assert!(!old.is_plain_v4());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wire {
    /// The protocol revision.
    pub protocol: Protocol,
    /// For v3: whether the client takes raw binary (no `b64` in its
    /// query) or base64 text. v4 polling always uses base64.
    pub binary: BinaryEncoding,
    /// JSONP polling: the index of the client's callback (`j`).
    pub jsonp: Option<JsonpIndex>,
}

impl Wire {
    /// Whether this is the v4 wire without JSONP (the common case, which
    /// takes the direct encoding paths).
    pub fn is_plain_v4(&self) -> bool {
        self.protocol == Protocol::V4 && self.jsonp.is_none()
    }

    /// The binary encoding of polling payloads: JSONP clients cannot take
    /// raw binary whatever they say.
    pub(crate) fn polling_binary(&self) -> BinaryEncoding {
        if self.jsonp.is_some() {
            BinaryEncoding::Base64
        } else {
            self.binary
        }
    }

    /// A polling answer holding `packets`, framed for this wire (v4 `0x1E`
    /// separators or v3 length prefixes, then the JSONP script if any).
    pub(crate) fn payload(&self, packets: &[&Packet]) -> Payload {
        let payload = match self.protocol {
            Protocol::V4 => Payload::Text(crate::payload::encode_payload(packets.iter().copied())),
            Protocol::V3 => eio3::encode_payload(packets.iter().copied(), self.polling_binary()),
        };
        match (&self.jsonp, payload) {
            (Some(index), Payload::Text(text)) => Payload::Text(index.wrap(&text)),
            (_, payload) => payload,
        }
    }
}

/// Builds one polling answer within the poll limits, for any wire: the v4
/// payload encoder directly (no copy), or the packets to frame for v3 or
/// JSONP. As with v4, the first packet always fits, however large.
#[derive(Debug)]
pub(crate) enum PollEncoder {
    V4(PayloadEncoder),
    Framed {
        wire: Wire,
        packets: Vec<Packet>,
        /// The packets' text length so far, the measure of the byte limit.
        bytes: usize,
        limits: PayloadLimits,
    },
}

impl PollEncoder {
    pub(crate) fn new(wire: &Wire, limits: PayloadLimits) -> Self {
        if wire.is_plain_v4() {
            Self::V4(PayloadEncoder::new(limits))
        } else {
            Self::Framed {
                wire: wire.clone(),
                packets: Vec::new(),
                bytes: 0,
                limits,
            }
        }
    }

    /// Adds an encoded packet if it fits.
    pub(crate) fn try_push_encoded(&mut self, packet: &EncodedPacket) -> bool {
        match self {
            Self::V4(encoder) => encoder.try_push_encoded(packet.text()),
            Self::Framed { .. } => self.try_push_framed(packet.packet(), packet.text().len()),
        }
    }

    /// Adds a packet if it fits.
    pub(crate) fn try_push(&mut self, packet: &Packet) -> bool {
        match self {
            Self::V4(encoder) => encoder.try_push(packet),
            Self::Framed { .. } => self.try_push_framed(packet, packet.to_text().len()),
        }
    }

    fn try_push_framed(&mut self, packet: &Packet, len: usize) -> bool {
        let Self::Framed {
            packets,
            bytes,
            limits,
            ..
        } = self
        else {
            return false;
        };
        let fits = packets.is_empty()
            || (packets.len() < limits.max_packets && *bytes + len <= limits.max_bytes);
        if fits {
            packets.push(packet.clone());
            *bytes += len;
        }
        fits
    }

    /// The answer's body.
    pub(crate) fn finish(self) -> Payload {
        match self {
            Self::V4(encoder) => Payload::Text(encoder.finish()),
            Self::Framed { wire, packets, .. } => {
                let packets: Vec<&Packet> = packets.iter().collect();
                wire.payload(&packets)
            }
        }
    }
}

impl Protocol {
    /// Decodes a WebSocket text frame from a client of this revision, as
    /// the Node server reads it: [`decode_client_packet`] for both, but for
    /// v3's binary as text (`b4` + base64).
    ///
    /// # Errors
    ///
    /// The decode error (a v4 one as [`Eio3Error::Decode`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio_proto::Packet;
    /// use engineio_proto::server::Protocol;
    ///
    /// assert_eq!(Protocol::V3.decode_text_frame("b4AQI="), Ok(Packet::message(vec![1u8, 2])));
    /// assert_eq!(Protocol::V4.decode_text_frame("bAQI="), Ok(Packet::message(vec![1u8, 2])));
    /// ```
    pub fn decode_text_frame(self, text: &str) -> Result<Packet, Eio3Error> {
        if self == Self::V3 && text.starts_with('b') {
            return eio3::decode_text(text);
        }
        Ok(decode_client_packet(text)?)
    }

    /// Decodes a WebSocket binary frame from a client of this revision: a
    /// v4 binary message holds the raw bytes, a v3 one starts with its
    /// packet type byte.
    ///
    /// # Errors
    ///
    /// The decode error (a v4 one as [`Eio3Error::Decode`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio_proto::Packet;
    /// use engineio_proto::server::Protocol;
    ///
    /// assert_eq!(Protocol::V3.decode_binary_frame(vec![4u8, 9].into()), Ok(Packet::message(vec![9u8])));
    /// assert_eq!(Protocol::V4.decode_binary_frame(vec![4u8, 9].into()), Ok(Packet::message(vec![4u8, 9])));
    /// ```
    pub fn decode_binary_frame(self, bytes: Bytes) -> Result<Packet, Eio3Error> {
        match self {
            Self::V4 => Ok(Frame::Binary(bytes).decode()?),
            Self::V3 => eio3::decode_frame(Frame::Binary(bytes)),
        }
    }
}
