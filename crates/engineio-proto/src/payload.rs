//! The long-polling payload: packets joined by the record separator `0x1E`.
//!
//! Binary messages are written `b<base64>` inside a payload, so a payload is
//! always UTF-8 text. Decoding is bounded by [`PayloadLimits`]: a payload over
//! the limits is rejected with a typed error, never partly dropped (unlike
//! python-engineio, which silently drops every packet of a payload holding
//! more than 16).

use crate::error::DecodeError;
use crate::packet::Packet;

/// The record separator that joins the packets of a payload.
pub const RECORD_SEPARATOR: char = '\u{1e}';

/// Bounds on one polling payload: how many packets and how many bytes.
///
/// The defaults accept what real clients send: up to 1,000,000 bytes (the
/// default `maxPayload`) and up to 100,000 packets. The JavaScript client
/// batches every queued packet that fits in `maxPayload`, so a small packet
/// count limit would reject legitimate bursts; the byte limit is what bounds
/// memory.
///
/// # Examples
///
/// ```
/// use engineio_proto::{DecodeError, PayloadLimits, decode_payload};
///
/// let limits = PayloadLimits::new(2, 1_000);
/// assert_eq!(decode_payload(b"4a\x1e4b", &limits).unwrap().len(), 2);
/// assert_eq!(
///     decode_payload(b"4a\x1e4b\x1e4c", &limits),
///     Err(DecodeError::TooManyPackets { limit: 2 })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PayloadLimits {
    /// The most packets one payload may hold.
    pub max_packets: usize,
    /// The most bytes one payload may hold.
    pub max_bytes: usize,
}

impl PayloadLimits {
    /// Limits of `max_packets` packets and `max_bytes` bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::PayloadLimits;
    /// let limits = PayloadLimits::new(16, 100_000);
    /// assert_eq!(limits.max_packets, 16);
    /// ```
    pub const fn new(max_packets: usize, max_bytes: usize) -> Self {
        Self {
            max_packets,
            max_bytes,
        }
    }
}

impl Default for PayloadLimits {
    fn default() -> Self {
        Self::new(100_000, 1_000_000)
    }
}

/// Decodes a polling payload into its packets.
///
/// # Errors
///
/// [`DecodeError::PayloadTooLarge`] or [`DecodeError::TooManyPackets`] when
/// the payload is over `limits`; [`DecodeError::InvalidUtf8`] for bytes that
/// are not UTF-8; otherwise the error of the first packet that does not
/// decode (an empty payload, or an empty packet between two separators, is
/// [`DecodeError::EmptyPacket`]). On error no packet is returned: the caller
/// decides what to do with the session, nothing is silently dropped.
///
/// # Examples
///
/// ```
/// use engineio_proto::{Message, Packet, PayloadLimits, decode_payload};
///
/// let packets = decode_payload(b"4hello\x1ebAQIDBA==", &PayloadLimits::default()).unwrap();
/// assert_eq!(packets, vec![
///     Packet::message("hello"),
///     Packet::message(vec![1u8, 2, 3, 4]),
/// ]);
/// ```
pub fn decode_payload(input: &[u8], limits: &PayloadLimits) -> Result<Vec<Packet>, DecodeError> {
    if input.len() > limits.max_bytes {
        return Err(DecodeError::PayloadTooLarge {
            len: input.len(),
            limit: limits.max_bytes,
        });
    }
    let text = std::str::from_utf8(input).map_err(|err| DecodeError::InvalidUtf8 {
        valid_up_to: err.valid_up_to(),
    })?;
    let mut packets = Vec::new();
    for part in text.split(RECORD_SEPARATOR) {
        if packets.len() == limits.max_packets {
            return Err(DecodeError::TooManyPackets {
                limit: limits.max_packets,
            });
        }
        packets.push(Packet::decode_text(part)?);
    }
    Ok(packets)
}

/// Encodes packets as one polling payload, with no limit.
///
/// # Examples
///
/// ```
/// use engineio_proto::{Packet, encode_payload};
///
/// let payload = encode_payload(&[Packet::message("hello"), Packet::ping(), Packet::message("world")]);
/// assert_eq!(payload, "4hello\u{1e}2\u{1e}4world");
/// ```
pub fn encode_payload<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> String {
    let mut out = String::new();
    for (index, packet) in packets.into_iter().enumerate() {
        if index > 0 {
            out.push(RECORD_SEPARATOR);
        }
        packet.encode_text(&mut out);
    }
    out
}

/// Builds one polling payload packet by packet, within [`PayloadLimits`].
///
/// A server answering a long poll pushes queued packets until one does not
/// fit; that one waits for the next poll. The first packet always fits, so a
/// single packet larger than `max_bytes` is still delivered (as the Node
/// server and client do) rather than stuck forever.
///
/// # Examples
///
/// ```
/// use engineio_proto::{Packet, PayloadEncoder, PayloadLimits};
///
/// let mut encoder = PayloadEncoder::new(PayloadLimits::new(2, 1_000));
/// assert!(encoder.try_push(&Packet::message("a")));
/// assert!(encoder.try_push(&Packet::message("b")));
/// assert!(!encoder.try_push(&Packet::message("c"))); // over the packet limit
/// assert_eq!(encoder.finish(), "4a\u{1e}4b");
/// ```
#[derive(Debug, Clone)]
pub struct PayloadEncoder {
    buf: String,
    packets: usize,
    limits: PayloadLimits,
}

impl PayloadEncoder {
    /// An empty payload bounded by `limits`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{PayloadEncoder, PayloadLimits};
    /// assert!(PayloadEncoder::new(PayloadLimits::default()).is_empty());
    /// ```
    pub fn new(limits: PayloadLimits) -> Self {
        Self {
            buf: String::new(),
            packets: 0,
            limits,
        }
    }

    /// Appends a packet if it fits; returns whether it was appended.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{Packet, PayloadEncoder, PayloadLimits};
    /// let mut encoder = PayloadEncoder::new(PayloadLimits::new(10, 4));
    /// assert!(encoder.try_push(&Packet::message("too long, but first")));
    /// assert!(!encoder.try_push(&Packet::message("x")));
    /// ```
    pub fn try_push(&mut self, packet: &Packet) -> bool {
        let mark = self.begin_packet();
        packet.encode_text(&mut self.buf);
        self.commit_packet(mark)
    }

    /// Appends a packet already in its text encoding (see
    /// [`Packet::to_text`]) if it fits; returns whether it was appended.
    /// Servers use this to encode a broadcast once for many sessions.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{PayloadEncoder, PayloadLimits};
    /// let mut encoder = PayloadEncoder::new(PayloadLimits::default());
    /// assert!(encoder.try_push_encoded("4hello"));
    /// assert_eq!(encoder.finish(), "4hello");
    /// ```
    pub fn try_push_encoded(&mut self, encoded: &str) -> bool {
        let mark = self.begin_packet();
        self.buf.push_str(encoded);
        self.commit_packet(mark)
    }

    /// The number of packets appended so far.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{Packet, PayloadEncoder, PayloadLimits};
    /// let mut encoder = PayloadEncoder::new(PayloadLimits::default());
    /// encoder.try_push(&Packet::Noop);
    /// assert_eq!(encoder.packet_count(), 1);
    /// ```
    pub fn packet_count(&self) -> usize {
        self.packets
    }

    /// Whether no packet was appended yet.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{PayloadEncoder, PayloadLimits};
    /// assert!(PayloadEncoder::new(PayloadLimits::default()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.packets == 0
    }

    /// The encoded payload.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{Packet, PayloadEncoder, PayloadLimits};
    /// let mut encoder = PayloadEncoder::new(PayloadLimits::default());
    /// encoder.try_push(&Packet::Noop);
    /// assert_eq!(encoder.finish(), "6");
    /// ```
    pub fn finish(self) -> String {
        self.buf
    }

    /// Writes the separator if needed and returns where the packet starts.
    fn begin_packet(&mut self) -> usize {
        let mark = self.buf.len();
        if self.packets > 0 {
            self.buf.push(RECORD_SEPARATOR);
        }
        mark
    }

    /// Keeps the packet written since `mark` if it fits, else removes it.
    fn commit_packet(&mut self, mark: usize) -> bool {
        let fits = self.packets == 0
            || (self.packets < self.limits.max_packets && self.buf.len() <= self.limits.max_bytes);
        if fits {
            self.packets += 1;
        } else {
            self.buf.truncate(mark);
        }
        fits
    }
}
