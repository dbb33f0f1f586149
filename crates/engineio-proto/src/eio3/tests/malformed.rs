//! Malformed input: every decoder answers with a typed error.

use super::{binary, hex, text};
use crate::eio3::{Eio3Error, decode_frame, decode_text};
use crate::{DecodeError, Frame, PacketType, PayloadLimits};

#[test]
fn text_payload_framing_errors() {
    use Eio3Error::*;
    let cases: Vec<(&str, Eio3Error)> = vec![
        ("", EmptyPayload),
        (
            "2:4",
            LengthBeyondInput {
                offset: 0,
                length: 2,
            },
        ),
        ("2:4👋", SplitCharacter { offset: 0 }),
        ("6:4hello1", UnterminatedLength { offset: 8 }),
        ("12", UnterminatedLength { offset: 0 }),
        (":4", MissingLength { offset: 0 }),
        (
            "1:41:",
            LengthBeyondInput {
                offset: 3,
                length: 1,
            },
        ),
        ("1:41", UnterminatedLength { offset: 3 }),
        ("1:4:4", MissingLength { offset: 3 }),
        (
            "a:4",
            InvalidLengthDigit {
                offset: 0,
                found: b'a',
            },
        ),
        // Node's loose `Number()` takes these; this codec does not.
        (
            " 2:4a",
            InvalidLengthDigit {
                offset: 0,
                found: b' ',
            },
        ),
        (
            "1e0:4",
            InvalidLengthDigit {
                offset: 1,
                found: b'e',
            },
        ),
        (
            "-1:4",
            InvalidLengthDigit {
                offset: 0,
                found: b'-',
            },
        ),
        (
            "١:4",
            InvalidLengthDigit {
                offset: 0,
                found: 0xD9,
            },
        ),
        ("99999999999999999999:4", LengthOverflow { offset: 0 }),
        (
            "18446744073709551615:4",
            LengthBeyondInput {
                offset: 0,
                length: usize::MAX,
            },
        ),
        (
            "6:4hello3:4",
            LengthBeyondInput {
                offset: 8,
                length: 3,
            },
        ),
    ];
    for (input, error) in cases {
        assert_eq!(text(input), Err(error), "{input:?}");
    }
}

#[test]
fn text_payload_packet_errors() {
    assert_eq!(text("1:9"), Err(DecodeError::UnknownPacketType('9').into()));
    // Node takes data after a noop; v3 packets decode as strictly as v4 ones.
    assert_eq!(
        text("2:6x"),
        Err(DecodeError::UnexpectedData {
            packet_type: '6',
            len: 1
        }
        .into())
    );
    // Node decodes a binary ping; no Packet holds one.
    assert_eq!(
        text("5:b2AQI"),
        Err(Eio3Error::BinaryNotMessage(PacketType::Ping))
    );
    assert_eq!(text("1:b"), Err(Eio3Error::MissingBinaryType));
    assert_eq!(
        text("2:b9"),
        Err(DecodeError::UnknownPacketType('9').into())
    );
    assert!(matches!(
        text("4:b4!!"),
        Err(Eio3Error::Decode(DecodeError::InvalidBase64(_)))
    ));
    // A packet after a bad one is not returned either.
    assert!(text("6:4hello1:9").is_err());
}

#[test]
fn text_payload_rejects_invalid_utf8() {
    assert_eq!(
        super::super::decode_text_payload(b"2:4\xff", &PayloadLimits::default()),
        Err(DecodeError::InvalidUtf8 { valid_up_to: 3 }.into())
    );
}

#[test]
fn binary_payload_framing_errors() {
    use Eio3Error::*;
    let cases: Vec<(&str, Eio3Error)> = vec![
        ("01", UnterminatedLength { offset: 0 }),
        ("00", UnterminatedLength { offset: 0 }),
        ("0002", UnterminatedLength { offset: 0 }),
        ("00ff", MissingLength { offset: 0 }),
        (
            "0002ff34",
            LengthBeyondInput {
                offset: 0,
                length: 2,
            },
        ),
        ("0002ff346101", UnterminatedLength { offset: 5 }),
        (
            "000aff34",
            InvalidLengthDigit {
                offset: 1,
                found: 10,
            },
        ),
        (
            "0031ff34",
            InvalidLengthDigit {
                offset: 1,
                found: b'1',
            },
        ),
        (
            "0201ff34",
            InvalidMarker {
                offset: 0,
                marker: 2,
            },
        ),
        (
            "ff01ff34",
            InvalidMarker {
                offset: 0,
                marker: 0xFF,
            },
        ),
        (
            "0001ff340201ff34",
            InvalidMarker {
                offset: 4,
                marker: 2,
            },
        ),
        (
            "000909090909090909090909090909090909090909ff34",
            LengthOverflow { offset: 0 },
        ),
    ];
    for (input, error) in cases {
        assert_eq!(binary(&hex(input)), Err(error), "{input}");
    }
}

#[test]
fn binary_payload_packet_errors() {
    // An empty text entry: Node's decodePacket("") is a parser error.
    assert_eq!(binary(&hex("0000ff")), Err(DecodeError::EmptyPacket.into()));
    // An empty binary entry has no type byte.
    assert_eq!(binary(&hex("0100ff")), Err(DecodeError::EmptyPacket.into()));
    assert_eq!(
        binary(&hex("0101ff02")),
        Err(Eio3Error::BinaryNotMessage(PacketType::Ping))
    );
    assert_eq!(
        binary(&hex("0101ff07")),
        Err(Eio3Error::UnknownBinaryType(7))
    );
    assert_eq!(
        binary(&hex("0101ff34")),
        Err(Eio3Error::UnknownBinaryType(b'4'))
    );
    // Bad UTF-8 in a text entry, counted from the payload's start.
    assert_eq!(
        binary(&hex("0002ff34ff")),
        Err(DecodeError::InvalidUtf8 { valid_up_to: 4 }.into())
    );
    // An encoded surrogate (which the JS encoder never writes) is not UTF-8.
    assert!(binary(&hex("0004ff34eda080")).is_err());
}

#[test]
fn limits_bound_both_payload_formats() {
    let limits = PayloadLimits::new(2, 12);
    let decode_text = |input: &[u8]| super::super::decode_text_payload(input, &limits);
    let decode_binary = |input: &[u8]| super::super::decode_binary_payload(input, &limits);

    assert_eq!(
        decode_text(b"1:61:61:6").map(|p| p.len()),
        Err(DecodeError::TooManyPackets { limit: 2 }.into())
    );
    assert_eq!(decode_text(b"1:61:6").map(|p| p.len()), Ok(2));
    // Entries of length 0 hold no packet and do not count.
    assert_eq!(decode_text(b"0:0:1:61:6").map(|p| p.len()), Ok(2));
    assert_eq!(
        decode_text(b"13:4hello world"),
        Err(DecodeError::PayloadTooLarge { len: 15, limit: 12 }.into())
    );

    let three = hex("0001ff360001ff360001ff36");
    assert_eq!(
        decode_binary(&three),
        Err(DecodeError::TooManyPackets { limit: 2 }.into())
    );
    assert_eq!(decode_binary(&three[..8]).map(|p| p.len()), Ok(2));
    assert_eq!(
        decode_binary(&[0; 13]),
        Err(DecodeError::PayloadTooLarge { len: 13, limit: 12 }.into())
    );
}

#[test]
fn frames_and_packets() {
    assert_eq!(
        decode_frame(Frame::Binary(Vec::new().into())),
        Err(DecodeError::EmptyPacket.into())
    );
    assert_eq!(
        decode_frame(Frame::Binary(vec![2u8, 1].into())),
        Err(Eio3Error::BinaryNotMessage(PacketType::Ping))
    );
    assert_eq!(
        decode_frame(Frame::Binary(vec![0xFFu8].into())),
        Err(Eio3Error::UnknownBinaryType(0xFF))
    );
    assert_eq!(decode_text(""), Err(DecodeError::EmptyPacket.into()));
    // v4's base64 form has no type character: its first base64 digit is taken as one.
    assert_eq!(
        decode_text("bAQID"),
        Err(DecodeError::UnknownPacketType('A').into())
    );
}
