//! v3 binary payloads, for clients that take binary over long-polling.
//!
//! Each entry is a marker byte (`0` text, `1` binary), the length as digit
//! values (`1 2` for 12), `0xFF`, then the packet: a text packet's UTF-8
//! bytes (the length counts bytes here), or a binary packet's type byte
//! `4` and its data (the length counts the type byte).

use super::error::Eio3Error;
use super::length::LengthSyntax;
use super::packet::{MESSAGE_TYPE_BYTE, decode_binary_packet, decode_text, encode_text};
use crate::error::DecodeError;
use crate::packet::{Message, Packet};
use crate::payload::PayloadLimits;

/// The marker of a text entry.
const TEXT_MARKER: u8 = 0;
/// The marker of a binary entry.
const BINARY_MARKER: u8 = 1;

/// Encodes packets as one v3 binary payload, with no limit (no packet at
/// all is no byte).
///
/// # Examples
///
/// ```
/// use engineio_proto::{Packet, eio3};
///
/// let packets = [Packet::message("é"), Packet::message(vec![1u8, 2, 3])];
/// assert_eq!(
///     eio3::encode_binary_payload(&packets),
///     [0, 3, 0xFF, b'4', 0xC3, 0xA9, 1, 4, 0xFF, 4, 1, 2, 3]
/// );
/// ```
pub fn encode_binary_payload<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut text = String::new();
    for packet in packets {
        if let Packet::Message(Message::Binary(bytes)) = packet {
            out.push(BINARY_MARKER);
            LengthSyntax::BINARY.write(1 + bytes.len(), &mut out);
            out.push(MESSAGE_TYPE_BYTE);
            out.extend_from_slice(bytes);
        } else {
            text.clear();
            encode_text(packet, &mut text);
            out.push(TEXT_MARKER);
            LengthSyntax::BINARY.write(text.len(), &mut out);
            out.extend_from_slice(text.as_bytes());
        }
    }
    out
}

/// Decodes a v3 binary payload into its packets (an empty input holds none,
/// as for Node).
///
/// # Errors
///
/// [`DecodeError::PayloadTooLarge`] or [`DecodeError::TooManyPackets`] over
/// `limits`; a framing error ([`Eio3Error::InvalidMarker`],
/// [`Eio3Error::MissingLength`], [`Eio3Error::InvalidLengthDigit`],
/// [`Eio3Error::UnterminatedLength`], [`Eio3Error::LengthOverflow`],
/// [`Eio3Error::LengthBeyondInput`]); [`DecodeError::InvalidUtf8`] for a
/// text entry (its `valid_up_to` counts from the payload's start); or the
/// first packet's error. On error no packet is returned.
///
/// # Examples
///
/// ```
/// use engineio_proto::{Packet, PayloadLimits, eio3};
///
/// let input = [0, 2, 0xFF, b'4', b'a', 1, 3, 0xFF, 4, 1, 2];
/// let packets = eio3::decode_binary_payload(&input, &PayloadLimits::default()).unwrap();
/// assert_eq!(packets, vec![Packet::message("a"), Packet::message(vec![1u8, 2])]);
/// assert!(eio3::decode_binary_payload(&input[..8], &PayloadLimits::default()).is_err());
/// ```
pub fn decode_binary_payload(
    input: &[u8],
    limits: &PayloadLimits,
) -> Result<Vec<Packet>, Eio3Error> {
    if input.len() > limits.max_bytes {
        return Err(DecodeError::PayloadTooLarge {
            len: input.len(),
            limit: limits.max_bytes,
        }
        .into());
    }
    let mut packets = Vec::new();
    let mut pos = 0;
    while let Some(&marker) = input.get(pos) {
        let entry = pos;
        if marker != TEXT_MARKER && marker != BINARY_MARKER {
            return Err(Eio3Error::InvalidMarker {
                offset: entry,
                marker,
            });
        }
        let (length, start) = LengthSyntax::BINARY.read(input, entry, entry + 1)?;
        let data = input
            .get(start..)
            .and_then(|rest| rest.get(..length))
            .ok_or(Eio3Error::LengthBeyondInput {
                offset: entry,
                length,
            })?;
        pos = start + length;
        if packets.len() == limits.max_packets {
            return Err(DecodeError::TooManyPackets {
                limit: limits.max_packets,
            }
            .into());
        }
        packets.push(if marker == TEXT_MARKER {
            let text = std::str::from_utf8(data).map_err(|err| DecodeError::InvalidUtf8 {
                valid_up_to: start + err.valid_up_to(),
            })?;
            decode_text(text)?
        } else {
            decode_binary_packet(data)?
        });
    }
    Ok(packets)
}
