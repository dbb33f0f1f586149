//! Typed errors for everything the codec can reject.
//!
//! Every decoder in this crate returns a [`DecodeError`] that says what was
//! wrong with the input, so a server can answer with a precise message
//! instead of silently dropping data.

use thiserror::Error;

/// Why a packet, a WebSocket frame or a polling payload could not be decoded.
///
/// The `Display` text is meant for humans (logs and HTTP error bodies); match
/// on the variants to react programmatically.
///
/// # Examples
///
/// ```
/// use engineio_proto::{DecodeError, Packet};
///
/// let err = Packet::decode_text("9").unwrap_err();
/// assert_eq!(err, DecodeError::UnknownPacketType('9'));
/// assert_eq!(err.to_string(), "unknown packet type '9' (expected 0-6 or 'b')");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The packet was empty: every packet needs at least a type character.
    #[error("empty packet: a packet needs at least its type character")]
    EmptyPacket,

    /// The first character is not a packet type (`0`-`6`) nor `b` (base64 binary).
    #[error("unknown packet type {0:?} (expected 0-6 or 'b')")]
    UnknownPacketType(char),

    /// A packet type that carries no data (`1` close, `5` upgrade, `6` noop)
    /// was followed by data.
    #[error("packet type {packet_type} carries no data, but {len} bytes followed it")]
    UnexpectedData {
        /// The packet type character, for example `'6'`.
        packet_type: char,
        /// How many bytes of data followed the type character.
        len: usize,
    },

    /// A `b`-prefixed packet did not hold valid base64.
    #[error("invalid base64 in binary packet: {0}")]
    InvalidBase64(String),

    /// The open packet's JSON could not be parsed as a handshake.
    #[error("invalid open packet JSON: {0}")]
    InvalidHandshake(String),

    /// A text packet or a polling payload was not valid UTF-8.
    #[error("payload is not valid UTF-8 (first bad byte at offset {valid_up_to})")]
    InvalidUtf8 {
        /// The number of leading bytes that were valid UTF-8.
        valid_up_to: usize,
    },

    /// A polling payload held more packets than the configured limit.
    #[error("payload holds more than {limit} packets")]
    TooManyPackets {
        /// The configured maximum number of packets per payload.
        limit: usize,
    },

    /// A polling payload was larger than the configured limit.
    #[error("payload is {len} bytes, more than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The size of the rejected payload in bytes.
        len: usize,
        /// The configured maximum payload size in bytes.
        limit: usize,
    },
}

/// Why a packet could not be queued, by a server's session or a client's
/// connection: the one type of both sides.
///
/// # Examples
///
/// ```
/// use engineio_proto::SendError;
/// assert_eq!(SendError::QueueFull { limit: 2 }.to_string(), "the session's outgoing queue is full (2 packets)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
// Not `#[non_exhaustive]` on purpose: the runtimes map it without a catch-all arm.
pub enum SendError {
    /// The session is closed (for a client: not connected).
    #[error("the session is closed")]
    Closed,
    /// No session has this id (never had, or it ended): only from a
    /// server's send to a session id.
    #[error("no session with this id")]
    UnknownSession,
    /// The client reads slower than the application sends.
    #[error("the session's outgoing queue is full ({limit} packets)")]
    QueueFull {
        /// The configured queue limit.
        limit: usize,
    },
    /// A text message holds the record separator (`0x1E`), which the
    /// protocol forbids in data: in a long-polling payload it would split
    /// the message into several packets (and let the text inject packets).
    #[error("text holding the record separator 0x1E cannot be sent over long-polling")]
    SeparatorInText,
}
