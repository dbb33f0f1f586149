//! The stream framing against engine.io-parser 5.2.3's
//! `createPacketEncoderStream` and `createPacketDecoderStream`.
//!
//! The golden bytes were produced by running Node's encoder on each packet
//! (`node -e` with engine.io-parser from interop/node_modules): for the
//! long payloads only the header is listed, and the total length.

use super::*;
use crate::packet::Message;
use proptest::strategy::Strategy as _;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// (name, packet, total encoded length, Node's bytes or their header as hex).
fn golden() -> Vec<(&'static str, Packet, usize, &'static str)> {
    vec![
        ("message", Packet::message("hello"), 7, "063468656c6c6f"),
        (
            "message_utf8",
            Packet::message("é€😀"),
            11,
            "0a34c3a9e282acf09f9880",
        ),
        (
            "ping_probe",
            Packet::Ping("probe".into()),
            7,
            "063270726f6265",
        ),
        (
            "pong_probe",
            Packet::Pong("probe".into()),
            7,
            "063370726f6265",
        ),
        ("upgrade", Packet::Upgrade, 2, "0135"),
        ("close", Packet::Close, 2, "0131"),
        ("binary", Packet::message(vec![1u8, 2, 3]), 4, "83010203"),
        ("text_124", Packet::message("a".repeat(124)), 126, "7d"),
        ("text_125", Packet::message("a".repeat(125)), 129, "7e007e"),
        ("binary_126", Packet::message(vec![7u8; 126]), 129, "fe007e"),
        (
            "text_65534",
            Packet::message("a".repeat(65534)),
            65538,
            "7effff",
        ),
        (
            "binary_65536",
            Packet::message(vec![9u8; 65536]),
            65545,
            "ff0000000000010000",
        ),
    ]
}

#[test]
fn encodes_as_engine_io_parser() {
    for (name, packet, total, node) in golden() {
        let bytes = encode(&packet);
        assert_eq!(bytes.len(), total, "{name}");
        assert_eq!(hex(&bytes[..node.len() / 2]), node, "{name}");
    }
}

#[test]
fn decodes_node_bytes_split_anywhere() {
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    for (_, packet, _, _) in golden() {
        wire.extend(encode(&packet));
        expected.push(packet);
    }
    for chunk in [1, 2, 3, 7, 125, 4096, wire.len()] {
        let mut decoder = FrameDecoder::new(1_000_000);
        let mut got = Vec::new();
        for piece in wire.chunks(chunk) {
            decoder.push(piece);
            while let Some(frame) = decoder.next_frame().unwrap() {
                got.push(frame.decode().unwrap());
            }
        }
        assert_eq!(got, expected, "chunks of {chunk}");
        assert_eq!(decoder.buffered(), 0);
    }
}

#[test]
fn open_requests_as_the_node_client_sends_them() {
    // Node: `{ type: "open" }` -> 0130; with the sid of an upgrade -> 1f30 + JSON.
    assert_eq!(hex(&OpenRequest::New.encode()), "0130");
    let upgrade = OpenRequest::Upgrade("AAAAAAAAAAAAAAAAAAAA".parse().unwrap());
    assert_eq!(
        hex(&upgrade.encode()),
        "1f307b22736964223a224141414141414141414141414141414141414141227d"
    );
    let mut decoder = FrameDecoder::new(100);
    decoder.push(&upgrade.encode());
    let frame = decoder.next_frame().unwrap().unwrap();
    assert_eq!(OpenRequest::from_frame(frame).unwrap(), upgrade);
}

#[test]
fn refuses_what_node_refuses() {
    // Node's decoder yields a parser error for each of these.
    let cases: [(&[u8], usize, DecodeError); 4] = [
        (&[0x00], 100, DecodeError::EmptyPacket),
        (&[0x80], 100, DecodeError::EmptyPacket),
        (
            &[0x05, b'4', b'h', b'e', b'l', b'l'],
            4,
            DecodeError::PayloadTooLarge { len: 5, limit: 4 },
        ),
        (
            &[0x7f, 0x00, 0x20, 0, 0, 0, 0, 0, 0],
            1 << 40,
            DecodeError::PayloadTooLarge {
                len: 1 << 53,
                limit: 1 << 40,
            },
        ),
    ];
    for (bytes, limit, err) in cases {
        let mut decoder = FrameDecoder::new(limit);
        decoder.push(bytes);
        assert_eq!(decoder.next_frame(), Err(err.clone()), "{bytes:?}");
        // The stream is unusable afterwards.
        decoder.push(b"\x0140");
        assert_eq!(decoder.next_frame(), Err(err));
        assert_eq!(decoder.buffered(), 0);
    }
}

#[test]
fn too_large_is_refused_before_its_bytes_arrive() {
    let mut decoder = FrameDecoder::new(1000);
    decoder.push(&[126, 0x10, 0x00]); // 4096 announced
    assert_eq!(
        decoder.next_frame(),
        Err(DecodeError::PayloadTooLarge {
            len: 4096,
            limit: 1000
        })
    );
}

#[test]
fn invalid_utf8_is_refused() {
    // Node replaces the byte (U+FFFD); a Rust `String` cannot hold it.
    let mut decoder = FrameDecoder::new(100);
    decoder.push(&[0x02, b'4', 0xff]);
    assert_eq!(
        decoder.next_frame(),
        Err(DecodeError::InvalidUtf8 { valid_up_to: 1 })
    );
}

#[test]
fn base64_text_is_a_binary_message() {
    // Node decodes `bAQI=` sent as text into the bytes 01 02.
    let mut decoder = FrameDecoder::new(100);
    decoder.push(&[0x05, b'b', b'A', b'Q', b'I', b'=']);
    let packet = decoder.next_frame().unwrap().unwrap().decode().unwrap();
    assert_eq!(packet, Packet::Message(Message::from(vec![1u8, 2])));
}

#[test]
fn empty_binary_goes_as_base64_text() {
    // Node would send 80, which its own decoder refuses.
    let bytes = encode(&Packet::message(Vec::<u8>::new()));
    assert_eq!(bytes, b"\x01b");
    let mut decoder = FrameDecoder::new(100);
    decoder.push(&bytes);
    let packet = decoder.next_frame().unwrap().unwrap().decode().unwrap();
    assert_eq!(packet, Packet::message(Vec::<u8>::new()));
}

#[test]
fn open_request_errors() {
    for frame in [
        Frame::Binary(Bytes::from_static(b"0")),
        Frame::Text("4hello".into()),
        Frame::Text("0{}".into()),
        Frame::Text(r#"0{"sid":1}"#.into()),
        Frame::Text(r#"0{"sid":"a b"}"#.into()),
        Frame::Text("0not json".into()),
    ] {
        assert!(
            matches!(
                OpenRequest::from_frame(frame.clone()),
                Err(DecodeError::InvalidHandshake(_))
            ),
            "{frame:?}"
        );
    }
    // Other fields are ignored, as Node does.
    assert_eq!(
        OpenRequest::from_frame(Frame::Text(r#"0{"sid":"abc","x":1}"#.into())).unwrap(),
        OpenRequest::Upgrade("abc".parse().unwrap())
    );
}

#[test]
fn headers_at_the_boundaries() {
    assert_eq!(FrameHeader::new(125, false).as_bytes(), [125]);
    assert_eq!(FrameHeader::new(126, false).as_bytes(), [126, 0, 126]);
    assert_eq!(FrameHeader::new(65_535, false).as_bytes(), [126, 255, 255]);
    assert_eq!(
        FrameHeader::new(65_536, false).as_bytes(),
        [127, 0, 0, 0, 0, 0, 1, 0, 0]
    );
}

proptest::proptest! {
    #[test]
    fn round_trips_split_anywhere(
        messages in proptest::collection::vec(
            proptest::prop_oneof![
                ".{0,200}".prop_map(Message::Text),
                proptest::collection::vec(proptest::num::u8::ANY, 0..300)
                    .prop_map(|bytes| Message::Binary(bytes.into())),
            ],
            0..20,
        ),
        chunk in 1usize..64,
    ) {
        let packets: Vec<Packet> = messages.into_iter().map(Packet::Message).collect();
        let mut wire = Vec::new();
        for packet in &packets {
            wire.extend(encode(packet));
        }
        let mut decoder = FrameDecoder::new(usize::MAX);
        let mut got = Vec::new();
        for piece in wire.chunks(chunk) {
            decoder.push(piece);
            while let Some(frame) = decoder.next_frame().unwrap() {
                got.push(frame.decode().unwrap());
            }
        }
        proptest::prop_assert_eq!(got, packets);
    }
}
