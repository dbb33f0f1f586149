//! Typed errors of the v3 decoders.

use thiserror::Error;

use crate::error::DecodeError;
use crate::packet::PacketType;

/// Why a v3 packet, WebSocket frame or polling payload could not be decoded.
///
/// Errors the v3 format shares with v4 (an unknown packet type, bad base64,
/// a payload over its limits, ...) are the crate's [`DecodeError`] inside
/// [`Eio3Error::Decode`]; the rest are about v3's framing. Offsets are byte
/// offsets into the input.
///
/// # Examples
///
/// ```
/// use engineio_proto::{DecodeError, PayloadLimits};
/// use engineio_proto::eio3::{Eio3Error, decode_text_payload};
///
/// let limits = PayloadLimits::default();
/// assert_eq!(
///     decode_text_payload(b"5:4abc", &limits),
///     Err(Eio3Error::LengthBeyondInput { offset: 0, length: 5 })
/// );
/// assert_eq!(
///     decode_text_payload(b"1:9", &limits),
///     Err(Eio3Error::Decode(DecodeError::UnknownPacketType('9')))
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Eio3Error {
    /// An error the v3 format shares with v4.
    #[error(transparent)]
    Decode(#[from] DecodeError),

    /// A text payload was empty (a payload without packets is `0:`).
    #[error("empty payload: a v3 payload without packets is \"0:\"")]
    EmptyPayload,

    /// A payload entry has no length digits before its `:` (text) or `0xFF`
    /// (binary) separator.
    #[error("payload entry at offset {offset} has no length")]
    MissingLength {
        /// Where the entry starts.
        offset: usize,
    },

    /// A payload entry's length holds something other than a decimal digit
    /// (an ASCII digit in a text payload, a byte `0`-`9` in a binary one).
    #[error("invalid length digit {found:#04x} at offset {offset}")]
    InvalidLengthDigit {
        /// Where the bad byte is.
        offset: usize,
        /// The byte found (the first byte of the character, in a text payload).
        found: u8,
    },

    /// The input ended inside a length, before its separator.
    #[error("payload ends inside the length of the entry at offset {offset}")]
    UnterminatedLength {
        /// Where the entry starts.
        offset: usize,
    },

    /// A length does not fit in memory (more digits than any real payload has).
    #[error("length of the entry at offset {offset} is too large")]
    LengthOverflow {
        /// Where the entry starts.
        offset: usize,
    },

    /// A length says more than the rest of the input holds.
    #[error("entry at offset {offset} claims {length} units, more than the payload holds")]
    LengthBeyondInput {
        /// Where the entry starts.
        offset: usize,
        /// The length it claims (UTF-16 code units in a text payload, bytes
        /// in a binary one).
        length: usize,
    },

    /// A text payload's length ends inside a character outside the Basic
    /// Multilingual Plane (between the two UTF-16 halves of an emoji, say).
    #[error("length of the entry at offset {offset} splits a character in two")]
    SplitCharacter {
        /// Where the entry starts.
        offset: usize,
    },

    /// A binary payload entry starts with a byte other than `0` (text) or
    /// `1` (binary).
    #[error("invalid binary payload marker {marker:#04x} at offset {offset} (expected 0 or 1)")]
    InvalidMarker {
        /// Where the entry starts.
        offset: usize,
        /// The byte found.
        marker: u8,
    },

    /// A `b` text packet has no type character before its base64.
    #[error("base64 packet without a packet type (expected b4...)")]
    MissingBinaryType,

    /// A binary packet's type byte is not a packet type (`0`-`6`).
    #[error("unknown binary packet type {0} (expected 0-6)")]
    UnknownBinaryType(u8),

    /// Binary data on a packet type other than message: the v3 format can
    /// carry it, but no client sends it and no [`Packet`](crate::Packet)
    /// holds it.
    #[error("binary data on a {0} packet (only messages carry binary)")]
    BinaryNotMessage(PacketType),
}
