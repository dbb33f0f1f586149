//! How the server reads a packet a client sent: as leniently as the Node
//! server, so that clients it accepts are accepted here too.

use crate::error::DecodeError;
use crate::packet::Packet;

/// Decodes a text packet from a client (a POST's packet or a WebSocket text
/// frame) as the Node server reads it: an open packet, which clients never
/// send, is ignored (a noop) whatever follows its type; data after a close,
/// upgrade or noop type is ignored. Everything else is [`Packet::decode_text`].
///
/// # Errors
///
/// The [`DecodeError`] of an empty packet, an unknown type or bad base64.
///
/// # Examples
///
/// ```
/// use engineio_proto::Packet;
/// use engineio_proto::server::decode_client_packet;
///
/// assert_eq!(decode_client_packet("0"), Ok(Packet::Noop));
/// assert_eq!(decode_client_packet("6junk"), Ok(Packet::Noop));
/// assert_eq!(decode_client_packet("4hi"), Ok(Packet::message("hi")));
/// assert!(decode_client_packet("9").is_err());
/// ```
pub fn decode_client_packet(text: &str) -> Result<Packet, DecodeError> {
    match text.as_bytes().first() {
        Some(b'0') => Ok(Packet::Noop),
        Some(b'1') => Ok(Packet::Close),
        Some(b'5') => Ok(Packet::Upgrade),
        Some(b'6') => Ok(Packet::Noop),
        _ => Packet::decode_text(text),
    }
}
