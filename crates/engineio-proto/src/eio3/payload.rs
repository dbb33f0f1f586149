//! v3 text payloads (`<length>:<packet>...`) and the choice of format.
//!
//! Each packet is its v3 text encoding after its length and a colon. The
//! length counts UTF-16 code units, because Node's parser takes a
//! JavaScript string's `length`: `é` counts 1, `👋` counts 2.

use std::fmt::Write as _;

use super::binary::{decode_binary_payload, encode_binary_payload};
use super::error::Eio3Error;
use super::length::LengthSyntax;
use super::packet::{BinaryEncoding, decode_text, encode_text};
use crate::error::DecodeError;
use crate::packet::{Message, Packet};
use crate::payload::PayloadLimits;

/// The `Content-Type` of a binary payload, and of a POST body holding one.
///
/// # Examples
///
/// ```
/// assert_eq!(engineio_proto::eio3::BINARY_CONTENT_TYPE, "application/octet-stream");
/// ```
pub const BINARY_CONTENT_TYPE: &str = "application/octet-stream";

/// The `Content-Type` Node gives a text payload (and a JSONP script).
///
/// # Examples
///
/// ```
/// assert_eq!(engineio_proto::eio3::TEXT_CONTENT_TYPE, "text/plain; charset=UTF-8");
/// ```
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=UTF-8";

/// An encoded v3 polling payload: text, or binary for clients that take it.
///
/// # Examples
///
/// ```
/// use engineio_proto::Packet;
/// use engineio_proto::eio3::{self, BinaryEncoding, Payload};
///
/// let payload = eio3::encode_payload(&[Packet::message("hi")], BinaryEncoding::Raw);
/// assert_eq!(payload, Payload::Text("3:4hi".into()));
/// assert_eq!(payload.content_type(), "text/plain; charset=UTF-8");
/// assert_eq!(payload.as_bytes(), b"3:4hi");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A text payload ([`encode_text_payload`]).
    Text(String),
    /// A binary payload ([`encode_binary_payload`]).
    Binary(Vec<u8>),
}

impl Payload {
    /// The `Content-Type` of the HTTP response carrying the payload.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::eio3::Payload;
    /// assert_eq!(Payload::Binary(vec![]).content_type(), "application/octet-stream");
    /// ```
    pub fn content_type(&self) -> &'static str {
        match self {
            Self::Text(_) => TEXT_CONTENT_TYPE,
            Self::Binary(_) => BINARY_CONTENT_TYPE,
        }
    }

    /// The payload's bytes (UTF-8 for a text payload).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::eio3::Payload;
    /// assert_eq!(Payload::Text("0:".into()).as_bytes(), b"0:");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(text) => text.as_bytes(),
            Self::Binary(bytes) => bytes,
        }
    }

    /// The payload's bytes, without copying.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::eio3::Payload;
    /// assert_eq!(Payload::Binary(vec![0, 1, 0xFF]).into_bytes(), vec![0, 1, 0xFF]);
    /// ```
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Self::Text(text) => text.into_bytes(),
            Self::Binary(bytes) => bytes,
        }
    }

    /// The payload as text: a text payload as is, a binary one read as
    /// UTF-8 with replacement characters (for callers that only ever see
    /// text, such as v4 sessions).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::eio3::Payload;
    /// assert_eq!(Payload::Text("0:".into()).into_text(), "0:");
    /// ```
    pub fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}

/// Encodes the answer to a v3 poll as Node does: a binary payload when the
/// client takes binary and a packet is a binary message, a text payload
/// otherwise (binary messages then as `b4` + base64).
///
/// # Examples
///
/// ```
/// use engineio_proto::Packet;
/// use engineio_proto::eio3::{self, BinaryEncoding, Payload};
///
/// let packets = [Packet::message("a"), Packet::message(vec![7u8])];
/// assert_eq!(
///     eio3::encode_payload(&packets, BinaryEncoding::Raw),
///     Payload::Binary(vec![0, 2, 0xFF, b'4', b'a', 1, 2, 0xFF, 4, 7])
/// );
/// assert_eq!(
///     eio3::encode_payload(&packets, BinaryEncoding::Base64),
///     Payload::Text("2:4a6:b4Bw==".into())
/// );
/// ```
pub fn encode_payload<'a, I>(packets: I, encoding: BinaryEncoding) -> Payload
where
    I: IntoIterator<Item = &'a Packet>,
    I::IntoIter: Clone,
{
    let packets = packets.into_iter();
    let has_binary = packets
        .clone()
        .any(|packet| matches!(packet, Packet::Message(Message::Binary(_))));
    if encoding == BinaryEncoding::Raw && has_binary {
        Payload::Binary(encode_binary_payload(packets))
    } else {
        Payload::Text(encode_text_payload(packets))
    }
}

/// Decodes a v3 POST body: a binary payload when its `Content-Type` is
/// exactly `application/octet-stream` (Node compares the header as is), a
/// text payload otherwise.
///
/// # Errors
///
/// The error of [`decode_binary_payload`] or [`decode_text_payload`].
///
/// # Examples
///
/// ```
/// use engineio_proto::{Packet, PayloadLimits, eio3};
///
/// let limits = PayloadLimits::default();
/// let text = eio3::decode_payload(b"2:4a", Some("text/plain;charset=UTF-8"), &limits).unwrap();
/// let binary = eio3::decode_payload(&[0, 2, 0xFF, b'4', b'a'], Some("application/octet-stream"), &limits).unwrap();
/// assert_eq!(text, vec![Packet::message("a")]);
/// assert_eq!(binary, text);
/// ```
pub fn decode_payload(
    body: &[u8],
    content_type: Option<&str>,
    limits: &PayloadLimits,
) -> Result<Vec<Packet>, Eio3Error> {
    if content_type == Some(BINARY_CONTENT_TYPE) {
        decode_binary_payload(body, limits)
    } else {
        decode_text_payload(body, limits)
    }
}

/// Encodes packets as one v3 text payload, with no limit; no packet at all
/// is `0:`, as Node answers.
///
/// # Examples
///
/// ```
/// use engineio_proto::{Packet, eio3};
///
/// let packets = [Packet::message("héllo 👋"), Packet::ping(), Packet::message(vec![1u8, 2, 3, 4])];
/// assert_eq!(eio3::encode_text_payload(&packets), "9:4héllo 👋1:210:b4AQIDBA==");
/// assert_eq!(eio3::encode_text_payload(&[]), "0:");
/// ```
pub fn encode_text_payload<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> String {
    let mut out = String::new();
    let mut encoded = String::new();
    for packet in packets {
        encoded.clear();
        encode_text(packet, &mut encoded);
        // Writing to a String cannot fail.
        let _ = write!(out, "{}:", utf16_len(&encoded));
        out.push_str(&encoded);
    }
    if out.is_empty() {
        out.push_str("0:");
    }
    out
}

/// Decodes a v3 text payload into its packets.
///
/// Entries of length 0 (`0:`) hold no packet and are skipped, as Node does.
///
/// # Errors
///
/// [`DecodeError::PayloadTooLarge`] or [`DecodeError::TooManyPackets`] over
/// `limits`; [`DecodeError::InvalidUtf8`]; [`Eio3Error::EmptyPayload`]; a
/// framing error ([`Eio3Error::MissingLength`],
/// [`Eio3Error::InvalidLengthDigit`], [`Eio3Error::UnterminatedLength`],
/// [`Eio3Error::LengthOverflow`], [`Eio3Error::LengthBeyondInput`],
/// [`Eio3Error::SplitCharacter`]); or the first packet's error from
/// [`decode_text`]. On error no packet is returned.
///
/// # Examples
///
/// ```
/// use engineio_proto::{Packet, PayloadLimits, eio3};
///
/// let packets = eio3::decode_text_payload("3:4👋1:2".as_bytes(), &PayloadLimits::default()).unwrap();
/// assert_eq!(packets, vec![Packet::message("👋"), Packet::ping()]);
/// assert!(eio3::decode_text_payload("2:4👋".as_bytes(), &PayloadLimits::default()).is_err());
/// ```
pub fn decode_text_payload(input: &[u8], limits: &PayloadLimits) -> Result<Vec<Packet>, Eio3Error> {
    if input.len() > limits.max_bytes {
        return Err(DecodeError::PayloadTooLarge {
            len: input.len(),
            limit: limits.max_bytes,
        }
        .into());
    }
    let text = std::str::from_utf8(input).map_err(|err| DecodeError::InvalidUtf8 {
        valid_up_to: err.valid_up_to(),
    })?;
    if text.is_empty() {
        return Err(Eio3Error::EmptyPayload);
    }
    let mut packets = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let entry = pos;
        let (length, start) = LengthSyntax::TEXT.read(text.as_bytes(), entry, entry)?;
        let end = utf16_end(text, entry, start, length)?;
        pos = end;
        if length == 0 {
            continue;
        }
        if packets.len() == limits.max_packets {
            return Err(DecodeError::TooManyPackets {
                limit: limits.max_packets,
            }
            .into());
        }
        packets.push(decode_text(&text[start..end])?);
    }
    Ok(packets)
}

/// The length of a string in UTF-16 code units, as JavaScript counts it.
fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// The byte offset where `length` UTF-16 code units from `start` end.
///
/// `start` follows an ASCII colon, so it is a character boundary.
fn utf16_end(text: &str, entry: usize, start: usize, length: usize) -> Result<usize, Eio3Error> {
    let rest = &text[start..];
    let beyond = Eio3Error::LengthBeyondInput {
        offset: entry,
        length,
    };
    // A code unit takes at least one byte: no need to scan to find out.
    if length > rest.len() {
        return Err(beyond);
    }
    let mut units = 0;
    for (index, c) in rest.char_indices() {
        if units == length {
            return Ok(start + index);
        }
        units += c.len_utf16();
        if units > length {
            return Err(Eio3Error::SplitCharacter { offset: entry });
        }
    }
    if units == length {
        Ok(text.len())
    } else {
        Err(beyond)
    }
}
