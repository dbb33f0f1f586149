//! Sans-I/O Engine.IO v4 protocol core.
//!
//! This crate holds what the protocol decides, with no sockets, no async
//! runtime and no HTTP library: packets and their encodings, long-polling
//! payloads, the handshake, session ids and typed errors. The `engineio`
//! crate moves bytes; this one says what they mean. Being free of I/O makes
//! it testable without sockets, fuzzable, and reusable under any runtime.
//!
//! # Encodings
//!
//! | where | text message | binary message |
//! |---|---|---|
//! | WebSocket ([`Frame`]) | text frame `4hello` | binary frame with the raw bytes |
//! | long-polling payload ([`decode_payload`], [`encode_payload`]) | `4hello` | `b` + base64 |
//! | WebTransport stream ([`webtransport`]) | header `06`, then `4hello` | header with the top bit set, then the raw bytes |
//!
//! Packets in a payload are joined by [`RECORD_SEPARATOR`] (`0x1E`); on a
//! WebTransport stream each packet has a length header.
//!
//! # Examples
//!
//! ```
//! use engineio_proto::{Frame, Packet, PayloadLimits, decode_payload};
//!
//! // A polling payload from a client: a text message and a binary one.
//! let packets = decode_payload(b"4hello\x1ebAQIDBA==", &PayloadLimits::default())?;
//! assert_eq!(packets[0], Packet::message("hello"));
//!
//! // The same binary message as a WebSocket frame carries the raw bytes.
//! assert_eq!(Frame::encode(&packets[1]), Frame::Binary(vec![1u8, 2, 3, 4].into()));
//! # Ok::<(), engineio_proto::DecodeError>(())
//! ```
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

pub mod bridge;
pub mod client;
pub mod eio3;
mod encoded;
mod error;
mod handshake;
mod json;
mod node;
mod packet;
mod payload;
mod reason;
pub mod server;
mod sid;
mod transport;
pub mod webtransport;
mod ws;

pub use encoded::EncodedPacket;
pub use error::{DecodeError, SendError};
pub use handshake::Handshake;
pub use json::{JsonError, SendJsonError};
pub use node::{InvalidNodeId, NODE_ID_MAX_LEN, NODE_SEPARATOR, NodeId};
pub use packet::{Message, PROBE, Packet, PacketType};
pub use payload::{
    PayloadEncoder, PayloadLimits, RECORD_SEPARATOR, decode_payload, encode_payload,
};
pub use reason::DisconnectReason;
pub use sid::{InvalidSid, SID_LEN, SID_MAX_LEN, Sid};
pub use transport::{Transport, UnknownTransport};
pub use ws::Frame;

/// The Engine.IO protocol version this crate speaks (the `EIO` query parameter).
pub const PROTOCOL_VERSION: u8 = 4;
