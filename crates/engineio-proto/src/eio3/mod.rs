//! The Engine.IO v3 wire format and JSONP polling, as pure codec.
//!
//! Engine.IO v3 is the protocol of Socket.IO v2 clients (engine.io-client
//! 3.x). Node's engine.io 4 to 6 still speaks it when started with
//! `allowEIO3: true`, and decides per request: `EIO=4` is v4, anything else
//! (`EIO=3`, a missing or unknown `EIO`) is v3. This module encodes and
//! decodes exactly what Node's engine.io 6.6 and its bundled v3 parser
//! (`build/parser-v3`, engine.io-parser 2.2) put on the wire. Like the rest
//! of the crate it does no I/O: the caller moves the bytes.
//!
//! # What v3 changes
//!
//! | | v4 | v3 |
//! |---|---|---|
//! | text packet | `4hello` | `4hello` (same) |
//! | binary message, WebSocket | binary frame of the raw bytes | binary frame: type byte `0x04`, then the bytes ([`encode_frame`]) |
//! | binary message as text | `b` + base64 | `b4` + base64 ([`encode_text`]) |
//! | polling payload | packets joined by `0x1E` | `<length>:<packet>` each, the length in UTF-16 code units ([`encode_text_payload`]) |
//! | polling binary | always base64 | a binary payload when the client did not send `b64` and a packet is binary ([`encode_binary_payload`]) |
//! | empty poll answer | none (never sent) | `0:` |
//! | heartbeat | the server pings, the client pongs | the *client* pings, the server pongs; the server times out after `pingInterval + pingTimeout` |
//! | open packet | `sid`, `upgrades`, `pingInterval`, `pingTimeout`, `maxPayload` | the same five fields from Node 4-6; engine.io 3.x sent no `maxPayload` ([`handshake_json`]) |
//!
//! The text encoding of every packet but a binary message is the same as in
//! v4, so this module reuses the crate's [`Packet`](crate::Packet) and its
//! [`Packet::encode_text`](crate::Packet::encode_text) for them, and
//! [`Frame`](crate::Frame) for WebSocket frames. Whether a client can take
//! binary (raw WebSocket frames, binary payloads) comes from the `b64`
//! query parameter of each request: [`BinaryEncoding::from_b64_query`].
//!
//! # Long-polling payloads
//!
//! A POST body whose `Content-Type` is exactly `application/octet-stream` is
//! a binary payload, anything else a text payload ([`decode_payload`] picks).
//! A poll is answered with [`encode_payload`], which picks the binary format
//! when the client takes binary and a packet is binary, as Node does.
//!
//! Decoding is stricter than Node's parser, never looser: Node reads the
//! length with JavaScript's `Number` and loose equality (so it takes ` 2`,
//! `1e1` or `0x2`); this codec takes ASCII digits only. Node hands over the
//! packets before a malformed one and then closes the session with "parse
//! error"; this codec returns an [`Eio3Error`] and no packet, like the v4
//! [`decode_payload`](crate::decode_payload). Every decoder is bounded by
//! [`PayloadLimits`](crate::PayloadLimits), takes linear time, and never
//! panics on any input.
//!
//! # JSONP
//!
//! A polling request with a `j` query parameter (even an empty one) is
//! JSONP polling, for old browsers without CORS: the answer to a poll is a
//! script `___eio[<j>]("<payload as a JS string>");` (same `Content-Type`
//! as a text payload) and a POST body is a form (`d=<payload>`), answered
//! `ok` as any polling POST. Node's engine.io 6.6 serves JSONP for **both**
//! v3 and v4 (`transports/polling-jsonp.js` wraps whichever parser the
//! session uses, so a v4 payload keeps its `0x1E` separators, written
//! `\u001e`); engine.io-client 4 and later no longer send it, so in
//! practice only v3 clients (engine.io-client 3.x with `forceJSONP`, or
//! without XHR) do. Node never refuses an index: it keeps the digits of `j`
//! ([`JsonpIndex::from_query_lenient`]). python-engineio 4 serves JSONP for
//! v4 too, but refuses a `j` that is not an integer (400 "Invalid JSONP
//! index number", [`JsonpIndex::parse`] is the strict rule) and escapes
//! only `"` in the script; this module writes Node's escaping. See
//! [`JsonpIndex`] and [`decode_jsonp_body`].
//!
//! JSONP clients cannot take binary: they send `b64=1`, so their payloads
//! are always text. (Node, given a JSONP poll without `b64` and a binary
//! packet, writes the JSON of a Node `Buffer` object: garbage no client can
//! read. [`encode_payload`] with [`BinaryEncoding::Base64`] avoids that.)
//!
//! # Examples
//!
//! ```
//! use engineio_proto::{Frame, Packet, PayloadLimits};
//! use engineio_proto::eio3::{self, BinaryEncoding, JsonpIndex, Payload};
//!
//! // A v3 polling POST from a client: a text message and a binary one (b64).
//! let packets = eio3::decode_text_payload(b"6:4hello10:b4AQIDBA==", &PayloadLimits::default())?;
//! assert_eq!(packets, vec![Packet::message("hello"), Packet::message(vec![1u8, 2, 3, 4])]);
//!
//! // A binary message over a v3 WebSocket starts with its type byte.
//! assert_eq!(
//!     eio3::encode_frame(&packets[1], BinaryEncoding::Raw),
//!     Frame::Binary(vec![4u8, 1, 2, 3, 4].into())
//! );
//!
//! // A poll answered to a JSONP client.
//! let payload = eio3::encode_payload(&[Packet::message("hi")], BinaryEncoding::Base64);
//! assert_eq!(payload, Payload::Text("3:4hi".into()));
//! let script = JsonpIndex::from_query_lenient("0").wrap("3:4hi");
//! assert_eq!(script, r#"___eio[0]("3:4hi");"#);
//! # Ok::<(), eio3::Eio3Error>(())
//! ```

mod binary;
mod error;
mod handshake;
mod jsonp;
mod length;
mod packet;
mod payload;

#[cfg(test)]
mod tests;

pub use binary::{decode_binary_payload, encode_binary_payload};
pub use error::Eio3Error;
pub use handshake::{HandshakeFields, handshake_json};
pub use jsonp::{JsonpError, JsonpIndex, decode_jsonp_body};
pub use packet::{BinaryEncoding, decode_frame, decode_text, encode_frame, encode_text, to_text};
pub use payload::{
    BINARY_CONTENT_TYPE, Payload, TEXT_CONTENT_TYPE, decode_payload, decode_text_payload,
    encode_payload, encode_text_payload,
};

/// The protocol version of this module (the `EIO` query parameter).
///
/// # Examples
///
/// ```
/// assert_eq!(engineio_proto::eio3::PROTOCOL_VERSION, 3);
/// ```
pub const PROTOCOL_VERSION: u8 = 3;
