//! Golden vectors for the Engine.IO v4 codec.
//!
//! Every test pins an exact wire string (or byte string) against the value it
//! must encode from or decode to, taken from the protocol spec (section 1.1
//! of `engineio-protocol-and-js.md`) and from what the Node reference server
//! sends. Malformed inputs assert the exact [`DecodeError`] variant.

use std::time::Duration;

use engineio_proto::{
    DecodeError, Frame, Handshake, Message, PROBE, PROTOCOL_VERSION, Packet, PacketType,
    PayloadEncoder, PayloadLimits, RECORD_SEPARATOR, SID_LEN, Sid, Transport, decode_payload,
    encode_payload,
};

/// The handshake JSON of the spec's example open packet.
const SPEC_HANDSHAKE_JSON: &str = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// The spec's example open packet.
const SPEC_OPEN: &str = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// Standard padded base64 of the bytes `0..=255`.
const ALL_BYTES_BASE64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==";

fn spec_handshake() -> Handshake {
    Handshake::new(
        "lv_VI97HAXpY6yYWAAAC",
        vec!["websocket".to_owned()],
        Duration::from_millis(25_000),
        Duration::from_millis(20_000),
        1_000_000,
    )
}

fn all_bytes() -> Vec<u8> {
    (0..=255u8).collect()
}

fn decode(input: &str) -> Result<Packet, DecodeError> {
    Packet::decode_text(input)
}

fn payload(input: &[u8]) -> Result<Vec<Packet>, DecodeError> {
    decode_payload(input, &PayloadLimits::default())
}

/// Asserts that `packet` encodes to `wire` and `wire` decodes to `packet`.
fn assert_text_golden(packet: &Packet, wire: &str) {
    assert_eq!(packet.to_text(), wire, "encoding of {packet:?}");
    assert_eq!(packet.to_string(), wire, "Display of {packet:?}");
    assert_eq!(decode(wire).as_ref(), Ok(packet), "decoding of {wire:?}");
}

mod packet_types {
    use super::*;

    #[test]
    fn type_chars_map_both_ways() {
        let table = [
            ('0', PacketType::Open, "open"),
            ('1', PacketType::Close, "close"),
            ('2', PacketType::Ping, "ping"),
            ('3', PacketType::Pong, "pong"),
            ('4', PacketType::Message, "message"),
            ('5', PacketType::Upgrade, "upgrade"),
            ('6', PacketType::Noop, "noop"),
        ];
        for (c, packet_type, name) in table {
            assert_eq!(PacketType::from_char(c), Some(packet_type));
            assert_eq!(packet_type.as_char(), c);
            assert_eq!(packet_type.to_string(), name);
        }
    }

    #[test]
    fn non_type_chars_are_none() {
        for c in [
            '7', '8', '9', 'b', 'x', '/', ' ', '\u{1e}', '\0', 'é', '👋', '٠',
        ] {
            assert_eq!(PacketType::from_char(c), None, "{c:?}");
        }
    }

    #[test]
    fn packet_type_of_every_variant() {
        assert_eq!(
            Packet::Open(spec_handshake()).packet_type(),
            PacketType::Open
        );
        assert_eq!(Packet::Close.packet_type(), PacketType::Close);
        assert_eq!(Packet::ping().packet_type(), PacketType::Ping);
        assert_eq!(Packet::pong().packet_type(), PacketType::Pong);
        assert_eq!(Packet::message("x").packet_type(), PacketType::Message);
        assert_eq!(
            Packet::message(vec![1u8]).packet_type(),
            PacketType::Message
        );
        assert_eq!(Packet::Upgrade.packet_type(), PacketType::Upgrade);
        assert_eq!(Packet::Noop.packet_type(), PacketType::Noop);
    }

    #[test]
    fn protocol_version_is_4() {
        assert_eq!(PROTOCOL_VERSION, 4);
    }
}

mod packet_text {
    use super::*;

    #[test]
    fn open_spec_example() {
        assert_text_golden(&Packet::Open(spec_handshake()), SPEC_OPEN);
    }

    #[test]
    fn open_python_field_order_decodes() {
        // python-engineio sends pingTimeout before pingInterval.
        let wire = r#"0{"sid":"KOsN-jB7uBI05uW7AAAA","upgrades":["websocket"],"pingTimeout":20000,"pingInterval":25000,"maxPayload":1000000}"#;
        let Packet::Open(handshake) = decode(wire).unwrap() else {
            panic!("not an open packet");
        };
        assert_eq!(handshake.sid, "KOsN-jB7uBI05uW7AAAA");
        assert_eq!(handshake.ping_interval, 25_000);
        assert_eq!(handshake.ping_timeout, 20_000);
        // Re-encoding uses the spec's field order.
        assert_eq!(
            Packet::Open(handshake).to_text(),
            r#"0{"sid":"KOsN-jB7uBI05uW7AAAA","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        );
    }

    #[test]
    fn close() {
        assert_text_golden(&Packet::Close, "1");
    }

    #[test]
    fn ping_empty() {
        assert_text_golden(&Packet::ping(), "2");
        assert_eq!(Packet::ping(), Packet::Ping(String::new()));
    }

    #[test]
    fn ping_probe() {
        let packet = Packet::Ping(PROBE.to_owned());
        assert_text_golden(&packet, "2probe");
        assert!(packet.is_ping_probe());
        assert!(!packet.is_pong_probe());
        assert!(!Packet::ping().is_ping_probe());
        assert!(!decode("2Probe").unwrap().is_ping_probe());
    }

    #[test]
    fn pong_empty() {
        assert_text_golden(&Packet::pong(), "3");
        assert_eq!(Packet::pong(), Packet::Pong(String::new()));
    }

    #[test]
    fn pong_probe() {
        let packet = Packet::Pong(PROBE.to_owned());
        assert_text_golden(&packet, "3probe");
        assert!(packet.is_pong_probe());
        assert!(!packet.is_ping_probe());
        assert!(!Packet::pong().is_pong_probe());
    }

    #[test]
    fn ping_and_pong_keep_arbitrary_data() {
        assert_text_golden(&Packet::Ping("héllo 👋".to_owned()), "2héllo 👋");
        assert_text_golden(&Packet::Pong("123".to_owned()), "3123");
    }

    #[test]
    fn message_hello() {
        assert_text_golden(&Packet::message("hello"), "4hello");
    }

    #[test]
    fn message_empty() {
        let packet = Packet::message("");
        assert_text_golden(&packet, "4");
        let Packet::Message(message) = &packet else {
            panic!("not a message");
        };
        assert!(message.is_empty());
        assert!(message.is_text());
    }

    #[test]
    fn message_utf8_accent_and_emoji() {
        assert_text_golden(&Packet::message("é"), "4é");
        assert_text_golden(&Packet::message("héllo 👋 wörld"), "4héllo 👋 wörld");
        assert_text_golden(&Packet::message("👨‍👩‍👧‍👦"), "4👨‍👩‍👧‍👦");
        assert_text_golden(&Packet::message("日本語"), "4日本語");
        assert_eq!(Message::from("é").len(), 2);
        assert_eq!(Message::from("👋").len(), 4);
    }

    #[test]
    fn message_data_that_looks_like_json_or_numbers_stays_text() {
        // Unlike python-engineio, data is never JSON-parsed.
        for data in ["123", "true", "null", "-1", r#""q""#, r#"{"a":1}"#, "[1,2]"] {
            assert_text_golden(&Packet::message(data), &format!("4{data}"));
        }
    }

    #[test]
    fn message_data_starting_with_type_chars() {
        assert_text_golden(&Packet::message("4"), "44");
        assert_text_golden(&Packet::message("b"), "4b");
        assert_text_golden(&Packet::message("bAQIDBA=="), "4bAQIDBA==");
        assert_text_golden(&Packet::message("0{}"), "40{}");
    }

    #[test]
    fn upgrade() {
        assert_text_golden(&Packet::Upgrade, "5");
    }

    #[test]
    fn noop() {
        assert_text_golden(&Packet::Noop, "6");
    }

    #[test]
    fn binary_spec_example() {
        assert_text_golden(&Packet::message(vec![1u8, 2, 3, 4]), "bAQIDBA==");
    }

    #[test]
    fn binary_every_byte_value() {
        let packet = Packet::message(all_bytes());
        assert_text_golden(&packet, &format!("b{ALL_BYTES_BASE64}"));
    }

    #[test]
    fn binary_empty() {
        assert_text_golden(&Packet::message(Vec::<u8>::new()), "b");
    }

    #[test]
    fn binary_padding_lengths() {
        assert_text_golden(&Packet::message(vec![0xffu8]), "b/w==");
        assert_text_golden(&Packet::message(vec![0xffu8, 0xfe]), "b//4=");
        assert_text_golden(&Packet::message(vec![0xffu8, 0xfe, 0xfd]), "b//79");
        assert_text_golden(&Packet::message(vec![0xfbu8, 0xff]), "b+/8=");
    }

    #[test]
    fn binary_base64_without_padding_is_accepted() {
        let expected = Packet::message(vec![1u8, 2, 3, 4]);
        assert_eq!(decode("bAQIDBA"), Ok(expected.clone()));
        assert_eq!(decode("bAQIDBA=="), Ok(expected));
        assert_eq!(decode("b/w"), Ok(Packet::message(vec![0xffu8])));
        assert_eq!(decode("b//4"), Ok(Packet::message(vec![0xffu8, 0xfe])));
        let unpadded = ALL_BYTES_BASE64.trim_end_matches('=');
        assert_eq!(
            decode(&format!("b{unpadded}")),
            Ok(Packet::message(all_bytes()))
        );
    }

    #[test]
    fn encode_text_appends() {
        let mut out = String::from("x");
        Packet::message("é").encode_text(&mut out);
        Packet::Noop.encode_text(&mut out);
        Packet::message(vec![1u8, 2, 3, 4]).encode_text(&mut out);
        assert_eq!(out, "x4é6bAQIDBA==");
    }

    #[test]
    fn message_conversions() {
        assert_eq!(Message::from("a"), Message::Text("a".to_owned()));
        assert_eq!(Message::from("a".to_owned()), Message::Text("a".to_owned()));
        assert_eq!(Message::from(vec![1u8]), Message::Binary(vec![1u8].into()));
        assert_eq!(Message::from(&[1u8][..]), Message::Binary(vec![1u8].into()));
        assert_eq!(
            Message::from(bytes::Bytes::from_static(&[1, 2])),
            Message::Binary(vec![1u8, 2].into())
        );
        assert!(!Message::from(vec![1u8]).is_text());
        assert!(Message::from(Vec::<u8>::new()).is_empty());
    }
}

mod websocket {
    use super::*;

    fn assert_frame_golden(packet: &Packet, frame: &Frame) {
        assert_eq!(&Frame::encode(packet), frame, "encoding of {packet:?}");
        assert_eq!(
            frame.clone().decode().as_ref(),
            Ok(packet),
            "decoding of {frame:?}"
        );
    }

    #[test]
    fn spec_text_frame_hello() {
        assert_frame_golden(&Packet::message("hello"), &Frame::Text("4hello".to_owned()));
    }

    #[test]
    fn every_non_binary_packet_is_a_text_frame() {
        let cases = [
            (Packet::Open(spec_handshake()), SPEC_OPEN),
            (Packet::Close, "1"),
            (Packet::ping(), "2"),
            (Packet::Ping(PROBE.to_owned()), "2probe"),
            (Packet::pong(), "3"),
            (Packet::Pong(PROBE.to_owned()), "3probe"),
            (Packet::message(""), "4"),
            (Packet::message("héllo 👋"), "4héllo 👋"),
            (Packet::Upgrade, "5"),
            (Packet::Noop, "6"),
        ];
        for (packet, text) in cases {
            assert_frame_golden(&packet, &Frame::Text(text.to_owned()));
        }
    }

    #[test]
    fn binary_frame_carries_raw_bytes_without_type_byte() {
        assert_frame_golden(
            &Packet::message(vec![1u8, 2, 3, 4]),
            &Frame::Binary(vec![1u8, 2, 3, 4].into()),
        );
    }

    #[test]
    fn binary_frame_every_byte_value() {
        let frame = Frame::encode(&Packet::message(all_bytes()));
        assert_eq!(frame, Frame::Binary(all_bytes().into()));
        assert_eq!(frame.len(), 256);
        assert_eq!(frame.decode(), Ok(Packet::message(all_bytes())));
    }

    #[test]
    fn binary_frame_starting_with_type_chars_is_still_binary() {
        // A binary frame has no type byte: b"4hello" is six raw bytes of data.
        let frame = Frame::Binary(b"4hello".to_vec().into());
        assert_eq!(frame.decode(), Ok(Packet::message(b"4hello".to_vec())));
    }

    #[test]
    fn empty_binary_frame_is_empty_binary_message() {
        let frame = Frame::Binary(Vec::<u8>::new().into());
        assert!(frame.is_empty());
        assert_eq!(frame.decode(), Ok(Packet::message(Vec::<u8>::new())));
    }

    #[test]
    fn base64_text_frame_is_a_binary_message() {
        let frame = Frame::Text(format!("b{ALL_BYTES_BASE64}"));
        assert_eq!(frame.decode(), Ok(Packet::message(all_bytes())));
        let frame = Frame::Text("bAQIDBA==".to_owned());
        assert_eq!(frame.decode(), Ok(Packet::message(vec![1u8, 2, 3, 4])));
    }

    #[test]
    fn frame_len_is_bytes() {
        assert_eq!(Frame::Text("4é".to_owned()).len(), 3);
        assert_eq!(Frame::Text("4👋".to_owned()).len(), 5);
        assert!(!Frame::Text("4".to_owned()).is_empty());
        assert!(Frame::Text(String::new()).is_empty());
    }

    #[test]
    fn empty_text_frame_is_empty_packet() {
        assert_eq!(
            Frame::Text(String::new()).decode(),
            Err(DecodeError::EmptyPacket)
        );
    }

    #[test]
    fn bad_text_frames_fail_like_text_packets() {
        assert_eq!(
            Frame::Text("7".to_owned()).decode(),
            Err(DecodeError::UnknownPacketType('7'))
        );
        assert_eq!(
            Frame::Text("6x".to_owned()).decode(),
            Err(DecodeError::UnexpectedData {
                packet_type: '6',
                len: 1
            })
        );
        assert!(matches!(
            Frame::Text("b!".to_owned()).decode(),
            Err(DecodeError::InvalidBase64(_))
        ));
    }
}

mod payload_golden {
    use super::*;

    #[test]
    fn record_separator_is_0x1e() {
        assert_eq!(RECORD_SEPARATOR, '\u{1e}');
        assert_eq!(RECORD_SEPARATOR as u32, 0x1e);
    }

    #[test]
    fn spec_example_text_ping_text() {
        let packets = vec![
            Packet::message("hello"),
            Packet::ping(),
            Packet::message("world"),
        ];
        assert_eq!(encode_payload(&packets), "4hello\x1e2\x1e4world");
        assert_eq!(payload(b"4hello\x1e2\x1e4world"), Ok(packets));
    }

    #[test]
    fn spec_example_text_and_binary() {
        let packets = vec![
            Packet::message("hello"),
            Packet::message(vec![1u8, 2, 3, 4]),
        ];
        assert_eq!(encode_payload(&packets), "4hello\x1ebAQIDBA==");
        assert_eq!(payload(b"4hello\x1ebAQIDBA=="), Ok(packets));
    }

    #[test]
    fn node_server_example_utf8_length_is_17_bytes() {
        let packets = vec![
            Packet::message("héllo"),
            Packet::message(vec![1u8, 2, 3, 4]),
        ];
        let encoded = encode_payload(&packets);
        assert_eq!(encoded, "4héllo\x1ebAQIDBA==");
        assert_eq!(encoded.len(), 17);
        assert_eq!(payload(encoded.as_bytes()), Ok(packets));
    }

    #[test]
    fn single_packet_payload_has_no_separator() {
        assert_eq!(encode_payload(&[Packet::message("hello")]), "4hello");
        assert_eq!(payload(b"4hello"), Ok(vec![Packet::message("hello")]));
        assert_eq!(payload(b"6"), Ok(vec![Packet::Noop]));
    }

    #[test]
    fn empty_packet_list_encodes_to_empty_string() {
        assert_eq!(encode_payload(&[]), "");
    }

    #[test]
    fn every_packet_type_in_one_payload() {
        let packets = vec![
            Packet::Open(spec_handshake()),
            Packet::Close,
            Packet::ping(),
            Packet::Ping(PROBE.to_owned()),
            Packet::pong(),
            Packet::Pong(PROBE.to_owned()),
            Packet::message(""),
            Packet::message("é👋"),
            Packet::message(all_bytes()),
            Packet::message(Vec::<u8>::new()),
            Packet::Upgrade,
            Packet::Noop,
        ];
        let expected = format!(
            "{SPEC_OPEN}\x1e1\x1e2\x1e2probe\x1e3\x1e3probe\x1e4\x1e4é👋\x1eb{ALL_BYTES_BASE64}\x1eb\x1e5\x1e6"
        );
        assert_eq!(encode_payload(&packets), expected);
        assert_eq!(payload(expected.as_bytes()), Ok(packets));
    }

    #[test]
    fn empty_messages_between_separators() {
        assert_eq!(
            payload(b"4\x1e4\x1e4"),
            Ok(vec![
                Packet::message(""),
                Packet::message(""),
                Packet::message("")
            ])
        );
    }

    #[test]
    fn sixteen_and_seventeen_packets_decode_with_default_limits() {
        // python-engineio drops every packet past 16; the defaults accept more.
        for count in [16usize, 17, 1000] {
            let packets: Vec<Packet> = (0..count).map(|i| Packet::message(i.to_string())).collect();
            let encoded = encode_payload(&packets);
            assert_eq!(payload(encoded.as_bytes()), Ok(packets));
        }
    }

    #[test]
    fn default_limits() {
        let limits = PayloadLimits::default();
        assert_eq!(limits.max_packets, 100_000);
        assert_eq!(limits.max_bytes, 1_000_000);
        assert_eq!(limits, PayloadLimits::new(100_000, 1_000_000));
    }

    #[test]
    fn exactly_at_limits_decodes() {
        let limits = PayloadLimits::new(3, 7);
        // 7 bytes, 3 packets.
        assert_eq!(
            decode_payload(b"4a\x1e4b\x1e6", &limits),
            Ok(vec![
                Packet::message("a"),
                Packet::message("b"),
                Packet::Noop
            ])
        );
    }
}

mod payload_encoder {
    use super::*;

    #[test]
    fn new_encoder_is_empty() {
        let encoder = PayloadEncoder::new(PayloadLimits::default());
        assert!(encoder.is_empty());
        assert_eq!(encoder.packet_count(), 0);
        assert_eq!(encoder.finish(), "");
    }

    #[test]
    fn matches_encode_payload_within_limits() {
        let packets = vec![
            Packet::message("hello"),
            Packet::ping(),
            Packet::message(vec![1u8, 2, 3, 4]),
        ];
        let mut encoder = PayloadEncoder::new(PayloadLimits::default());
        for packet in &packets {
            assert!(encoder.try_push(packet));
        }
        assert_eq!(encoder.packet_count(), 3);
        assert!(!encoder.is_empty());
        assert_eq!(encoder.finish(), encode_payload(&packets));
    }

    #[test]
    fn packet_count_limit() {
        let mut encoder = PayloadEncoder::new(PayloadLimits::new(2, 1_000));
        assert!(encoder.try_push(&Packet::message("a")));
        assert!(encoder.try_push(&Packet::message("b")));
        assert!(!encoder.try_push(&Packet::message("c")));
        assert!(!encoder.try_push(&Packet::Noop));
        assert_eq!(encoder.packet_count(), 2);
        assert_eq!(encoder.finish(), "4a\x1e4b");
    }

    #[test]
    fn byte_limit_counts_separators_and_is_inclusive() {
        // "4a" + RS + "4b" = 5 bytes.
        let mut encoder = PayloadEncoder::new(PayloadLimits::new(10, 5));
        assert!(encoder.try_push(&Packet::message("a")));
        assert!(encoder.try_push(&Packet::message("b")));
        assert!(!encoder.try_push(&Packet::Noop)); // would be 7 bytes
        assert_eq!(encoder.finish(), "4a\x1e4b");

        // One byte less: the second packet does not fit.
        let mut encoder = PayloadEncoder::new(PayloadLimits::new(10, 4));
        assert!(encoder.try_push(&Packet::message("a")));
        assert!(!encoder.try_push(&Packet::message("b")));
        assert_eq!(encoder.finish(), "4a");
    }

    #[test]
    fn byte_limit_counts_utf8_bytes() {
        // "4é" is 3 bytes; "4é" RS "4é" is 7.
        let mut encoder = PayloadEncoder::new(PayloadLimits::new(10, 6));
        assert!(encoder.try_push(&Packet::message("é")));
        assert!(!encoder.try_push(&Packet::message("é")));
        assert_eq!(encoder.finish(), "4é");
        let mut encoder = PayloadEncoder::new(PayloadLimits::new(10, 7));
        assert!(encoder.try_push(&Packet::message("é")));
        assert!(encoder.try_push(&Packet::message("é")));
        assert_eq!(encoder.finish(), "4é\x1e4é");
    }

    #[test]
    fn byte_limit_counts_base64_length() {
        // b + base64 of 4 bytes is 9 bytes.
        let mut encoder = PayloadEncoder::new(PayloadLimits::new(10, 10));
        assert!(encoder.try_push(&Packet::Noop));
        assert!(!encoder.try_push(&Packet::message(vec![1u8, 2, 3, 4]))); // 1 + 1 + 9 = 11
        assert!(encoder.try_push(&Packet::message(vec![1u8]))); // 1 + 1 + 5 = 7
        assert_eq!(encoder.finish(), "6\x1ebAQ==");
    }

    #[test]
    fn first_packet_always_fits_even_over_byte_limit() {
        let mut encoder = PayloadEncoder::new(PayloadLimits::new(10, 4));
        assert!(encoder.try_push(&Packet::message("too long, but first")));
        assert!(!encoder.try_push(&Packet::message("x")));
        assert_eq!(encoder.packet_count(), 1);
        assert_eq!(encoder.finish(), "4too long, but first");
    }

    #[test]
    fn first_packet_always_fits_even_with_zero_limits() {
        let mut encoder = PayloadEncoder::new(PayloadLimits::new(0, 0));
        assert!(encoder.try_push(&Packet::message(all_bytes())));
        assert!(!encoder.try_push(&Packet::Noop));
        assert_eq!(encoder.finish(), format!("b{ALL_BYTES_BASE64}"));
    }

    #[test]
    fn rejected_packet_leaves_no_trace_and_smaller_one_still_fits() {
        let mut encoder = PayloadEncoder::new(PayloadLimits::new(10, 8));
        assert!(encoder.try_push(&Packet::message("a")));
        assert!(!encoder.try_push(&Packet::message("a long message")));
        assert_eq!(encoder.packet_count(), 1);
        assert!(encoder.try_push(&Packet::message("b")));
        assert_eq!(encoder.finish(), "4a\x1e4b");
    }

    #[test]
    fn try_push_encoded_behaves_like_try_push() {
        let mut encoder = PayloadEncoder::new(PayloadLimits::new(3, 100));
        assert!(encoder.try_push_encoded("4hello"));
        assert!(encoder.try_push(&Packet::ping()));
        assert!(encoder.try_push_encoded("bAQIDBA=="));
        assert!(!encoder.try_push_encoded("6"));
        assert_eq!(encoder.packet_count(), 3);
        assert_eq!(encoder.finish(), "4hello\x1e2\x1ebAQIDBA==");
    }

    #[test]
    fn try_push_encoded_byte_limit_and_first_packet() {
        let mut encoder = PayloadEncoder::new(PayloadLimits::new(10, 3));
        assert!(encoder.try_push_encoded("4hello"));
        assert!(!encoder.try_push_encoded("6"));
        assert_eq!(encoder.finish(), "4hello");
    }

    #[test]
    fn encoder_output_decodes_within_the_same_limits() {
        let limits = PayloadLimits::new(4, 40);
        let mut encoder = PayloadEncoder::new(limits);
        let mut pushed = Vec::new();
        for i in 0..20 {
            let packet = Packet::message(format!("message {i}"));
            if encoder.try_push(&packet) {
                pushed.push(packet);
            }
        }
        let encoded = encoder.finish();
        assert!(encoded.len() <= 40);
        assert_eq!(decode_payload(encoded.as_bytes(), &limits), Ok(pushed));
    }
}

mod handshake {
    use super::*;

    #[test]
    fn spec_json_field_order() {
        assert_eq!(spec_handshake().to_json(), SPEC_HANDSHAKE_JSON);
    }

    #[test]
    fn spec_json_decodes() {
        let handshake = Handshake::from_json(SPEC_HANDSHAKE_JSON).unwrap();
        assert_eq!(handshake, spec_handshake());
        assert_eq!(handshake.sid, "lv_VI97HAXpY6yYWAAAC");
        assert_eq!(handshake.upgrades, vec!["websocket".to_owned()]);
        assert_eq!(handshake.ping_interval(), Duration::from_secs(25));
        assert_eq!(handshake.ping_timeout(), Duration::from_secs(20));
        assert_eq!(handshake.max_payload, 1_000_000);
    }

    #[test]
    fn sub_second_intervals_are_not_truncated() {
        let handshake = Handshake::new(
            "abc",
            vec![],
            Duration::from_millis(500),
            Duration::from_millis(250),
            1_000,
        );
        assert_eq!(handshake.ping_interval, 500);
        assert_eq!(handshake.ping_timeout, 250);
        assert_eq!(handshake.ping_interval(), Duration::from_millis(500));
        assert_eq!(handshake.ping_timeout(), Duration::from_millis(250));
        assert_eq!(
            handshake.to_json(),
            r#"{"sid":"abc","upgrades":[],"pingInterval":500,"pingTimeout":250,"maxPayload":1000}"#
        );
        assert_eq!(Handshake::from_json(&handshake.to_json()), Ok(handshake));
    }

    #[test]
    fn intervals_are_whole_milliseconds() {
        let handshake = Handshake::new(
            "s",
            vec![],
            Duration::from_micros(1_999),
            Duration::from_nanos(1),
            0,
        );
        assert_eq!(handshake.ping_interval, 1);
        assert_eq!(handshake.ping_timeout, 0);
    }

    #[test]
    fn huge_durations_saturate() {
        let handshake = Handshake::new("s", vec![], Duration::MAX, Duration::MAX, u64::MAX);
        assert_eq!(handshake.ping_interval, u64::MAX);
        assert_eq!(handshake.ping_timeout, u64::MAX);
        assert_eq!(
            handshake.to_json(),
            r#"{"sid":"s","upgrades":[],"pingInterval":18446744073709551615,"pingTimeout":18446744073709551615,"maxPayload":18446744073709551615}"#
        );
        assert_eq!(Handshake::from_json(&handshake.to_json()), Ok(handshake));
    }

    #[test]
    fn websocket_only_session_has_no_upgrades() {
        let handshake = Handshake::new(
            "xH0GoH_xzbtzwVtjAAAE",
            vec![],
            Duration::from_millis(25_000),
            Duration::from_millis(20_000),
            1_000_000,
        );
        assert_eq!(
            Packet::Open(handshake).to_text(),
            r#"0{"sid":"xH0GoH_xzbtzwVtjAAAE","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        );
    }

    #[test]
    fn missing_max_payload_defaults_to_zero() {
        // Servers before v4 did not send maxPayload.
        let handshake =
            Handshake::from_json(r#"{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2}"#)
                .unwrap();
        assert_eq!(handshake.max_payload, 0);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let handshake = Handshake::from_json(
            r#"{"sid":"x","extra":{"a":[1,2]},"upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3,"zzz":null}"#,
        )
        .unwrap();
        assert_eq!(handshake.max_payload, 3);
    }

    #[test]
    fn whitespace_in_json_is_accepted() {
        let handshake = Handshake::from_json(
            " { \"sid\" : \"x\" , \"upgrades\" : [ ] , \"pingInterval\" : 1 , \"pingTimeout\" : 2 } ",
        )
        .unwrap();
        assert_eq!(handshake.sid, "x");
    }

    #[test]
    fn sid_with_characters_needing_escapes_round_trips() {
        let handshake = Handshake::new(
            "a\"b\\c\u{1e}é👋",
            vec![],
            Duration::ZERO,
            Duration::ZERO,
            0,
        );
        let json = handshake.to_json();
        assert!(json.starts_with(r#"{"sid":"a\"b\\c\u001eé👋""#), "{json}");
        assert_eq!(Handshake::from_json(&json), Ok(handshake));
    }
}

mod sid {
    use std::collections::HashSet;

    use engineio_proto::InvalidSid;

    use super::*;

    fn is_url_safe(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
    }

    #[test]
    fn length_is_20() {
        assert_eq!(SID_LEN, 20);
        for _ in 0..100 {
            assert_eq!(Sid::generate().as_str().len(), SID_LEN);
        }
    }

    #[test]
    fn generated_ids_use_the_url_safe_alphabet() {
        for _ in 0..1_000 {
            let sid = Sid::generate();
            assert!(sid.as_str().bytes().all(is_url_safe), "{sid}");
        }
    }

    #[test]
    fn ten_thousand_ids_are_unique() {
        let ids: HashSet<Sid> = (0..10_000).map(|_| Sid::generate()).collect();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn generated_ids_cover_the_whole_alphabet() {
        // 120 random bits per id: over 1000 ids every one of the 64 symbols shows up.
        let seen: HashSet<u8> = (0..1_000)
            .flat_map(|_| Sid::generate().as_str().as_bytes().to_vec())
            .collect();
        assert_eq!(seen.len(), 64);
    }

    #[test]
    fn parse_round_trips() {
        for _ in 0..100 {
            let sid = Sid::generate();
            assert_eq!(sid.as_str().parse::<Sid>(), Ok(sid));
            assert_eq!(sid.to_string().parse::<Sid>(), Ok(sid));
        }
    }

    #[test]
    fn display_debug_and_as_ref() {
        let sid: Sid = "lv_VI97HAXpY6yYWAAAC".parse().unwrap();
        assert_eq!(sid.as_str(), "lv_VI97HAXpY6yYWAAAC");
        assert_eq!(sid.to_string(), "lv_VI97HAXpY6yYWAAAC");
        assert_eq!(format!("{sid:?}"), "Sid(lv_VI97HAXpY6yYWAAAC)");
        let as_ref: &str = sid.as_ref();
        assert_eq!(as_ref, "lv_VI97HAXpY6yYWAAAC");
    }

    #[test]
    fn accepts_every_url_safe_character() {
        for candidate in [
            "AAAAAAAAAAAAAAAAAAAA",
            "zzzzzzzzzzzzzzzzzzzz",
            "09-_azAZ09-_azAZ09-_",
            "--------------------",
        ] {
            assert_eq!(
                candidate.parse::<Sid>().map(|s| s.to_string()),
                Ok(candidate.to_owned())
            );
        }
    }

    #[test]
    fn accepts_custom_ids_of_1_to_40_characters_with_dots() {
        for good in [
            "a",
            "n1.lv_VI97HAXpY6yYWAAAC",
            "lv_VI97HAXpY6yYWAAA",
            "lv_VI97HAXpY6yYWAAACx",
            &"A".repeat(40),
        ] {
            assert_eq!(
                Sid::custom(good).map(|s| s.to_string()),
                Ok(good.to_owned())
            );
        }
    }

    #[test]
    fn rejects_wrong_length() {
        for bad in ["", &"A".repeat(41), &"A".repeat(400)] {
            assert_eq!(bad.parse::<Sid>(), Err(InvalidSid), "{bad:?}");
        }
    }

    #[test]
    fn rejects_characters_outside_the_alphabet() {
        for bad in [
            "lv_VI97HAXpY6yYWAAA+",
            "lv_VI97HAXpY6yYWAAA/",
            "lv_VI97HAXpY6yYWAAA=",
            "lv_VI97HAXpY6yYWAAA ",
            "lv_VI97HAXpY6yYWAAA?",
            "lv_VI97HAXpY6yYWAAA&",
            "lv_VI97HAXpY6yYWAAA\0",
            "lv_VI97HAXpY6yYWAAA\u{1e}",
            "lv_VI97HAXpY6yYWAAé", // not ASCII
            "lv_VI97HAXpY6yYW👋",  // not ASCII
        ] {
            assert_eq!(bad.parse::<Sid>(), Err(InvalidSid), "{bad:?}");
        }
    }

    #[test]
    fn equal_ids_of_different_origins_are_equal_and_hash_alike() {
        let generated = Sid::generate();
        let parsed = Sid::custom(generated.as_str()).unwrap();
        assert_eq!(generated, parsed);
        let set: HashSet<Sid> = [generated, parsed].into_iter().collect();
        assert_eq!(set.len(), 1);
        assert_ne!(Sid::custom("ab").unwrap(), Sid::custom("abc").unwrap());
    }

    #[test]
    fn error_message() {
        assert_eq!(
            InvalidSid.to_string(),
            "invalid session id: expected 1 to 40 characters of A-Z a-z 0-9 - _ ."
        );
    }
}

mod transport {
    use engineio_proto::UnknownTransport;

    use super::*;

    #[test]
    fn parses_both_transports() {
        assert_eq!("polling".parse::<Transport>(), Ok(Transport::Polling));
        assert_eq!("websocket".parse::<Transport>(), Ok(Transport::WebSocket));
    }

    #[test]
    fn names_round_trip() {
        for transport in [Transport::Polling, Transport::WebSocket] {
            assert_eq!(transport.as_str().parse::<Transport>(), Ok(transport));
            assert_eq!(transport.to_string(), transport.as_str());
        }
        assert_eq!(Transport::Polling.as_str(), "polling");
        assert_eq!(Transport::WebSocket.as_str(), "websocket");
    }

    #[test]
    fn rejects_unknown_names_case_sensitively() {
        for bad in [
            "",
            "WebSocket",
            "POLLING",
            "Polling",
            " polling",
            "polling ",
            "WebTransport",
            "ws",
            "flashsocket",
        ] {
            assert_eq!(
                bad.parse::<Transport>(),
                Err(UnknownTransport(bad.to_owned())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn error_message() {
        assert_eq!(
            "abc".parse::<Transport>().unwrap_err().to_string(),
            "unknown transport \"abc\" (expected polling, websocket or webtransport)"
        );
    }
}

mod malformed {
    use super::*;

    fn assert_invalid_base64(input: &str) {
        assert!(
            matches!(decode(input), Err(DecodeError::InvalidBase64(_))),
            "{input:?} gave {:?}",
            decode(input)
        );
    }

    fn assert_invalid_handshake(input: &str) {
        assert!(
            matches!(decode(input), Err(DecodeError::InvalidHandshake(_))),
            "{input:?} gave {:?}",
            decode(input)
        );
    }

    #[test]
    fn empty_packet() {
        assert_eq!(decode(""), Err(DecodeError::EmptyPacket));
    }

    #[test]
    fn empty_payload() {
        assert_eq!(payload(b""), Err(DecodeError::EmptyPacket));
    }

    #[test]
    fn trailing_separator() {
        assert_eq!(payload(b"4hello\x1e"), Err(DecodeError::EmptyPacket));
    }

    #[test]
    fn leading_separator() {
        assert_eq!(payload(b"\x1e4hello"), Err(DecodeError::EmptyPacket));
    }

    #[test]
    fn double_separator() {
        assert_eq!(
            payload(b"4hello\x1e\x1e4world"),
            Err(DecodeError::EmptyPacket)
        );
    }

    #[test]
    fn lone_separator() {
        assert_eq!(payload(b"\x1e"), Err(DecodeError::EmptyPacket));
    }

    #[test]
    fn unknown_type_chars() {
        for c in [
            '7', '8', '9', 'x', 'B', 'a', ' ', '\0', '\u{1e}', '{', 'é', '👋', '٣',
        ] {
            assert_eq!(
                decode(&c.to_string()),
                Err(DecodeError::UnknownPacketType(c)),
                "{c:?}"
            );
            assert_eq!(
                decode(&format!("{c}data")),
                Err(DecodeError::UnknownPacketType(c)),
                "{c:?}"
            );
        }
    }

    #[test]
    fn unknown_type_multi_byte_char_in_payload() {
        assert_eq!(
            payload("4ok\x1eé".as_bytes()),
            Err(DecodeError::UnknownPacketType('é'))
        );
        assert_eq!(
            payload("👋hi".as_bytes()),
            Err(DecodeError::UnknownPacketType('👋'))
        );
    }

    #[test]
    fn unknown_type_in_middle_of_payload() {
        assert_eq!(
            payload(b"4hello\x1e7\x1e4world"),
            Err(DecodeError::UnknownPacketType('7'))
        );
    }

    #[test]
    fn data_after_close_upgrade_noop() {
        for c in ['1', '5', '6'] {
            assert_eq!(
                decode(&format!("{c}x")),
                Err(DecodeError::UnexpectedData {
                    packet_type: c,
                    len: 1
                })
            );
            assert_eq!(
                decode(&format!("{c}probe")),
                Err(DecodeError::UnexpectedData {
                    packet_type: c,
                    len: 5
                })
            );
            // The length is in bytes, not characters.
            assert_eq!(
                decode(&format!("{c}é👋")),
                Err(DecodeError::UnexpectedData {
                    packet_type: c,
                    len: 6
                })
            );
            assert_eq!(
                decode(&format!("{c}{c}")),
                Err(DecodeError::UnexpectedData {
                    packet_type: c,
                    len: 1
                })
            );
        }
    }

    #[test]
    fn data_after_noop_in_payload() {
        assert_eq!(
            payload(b"6\x1e6x"),
            Err(DecodeError::UnexpectedData {
                packet_type: '6',
                len: 1
            })
        );
    }

    #[test]
    fn invalid_base64_bad_chars() {
        for input in [
            "b!!!!",
            "bAQID*A==",
            "bAQ ID",
            "b\u{1e}",
            "bAQIDBA==\n",
            "bé",
            "b----",
            "b____",
            "bAQ.=",
        ] {
            assert_invalid_base64(input);
        }
    }

    #[test]
    fn invalid_base64_wrong_length() {
        // A single base64 character (length 1 mod 4) can never be valid.
        for input in ["bA", "bAQIDBAQIA", "bAQIDBA==A", "bAAAAA"] {
            assert_invalid_base64(input);
        }
    }

    #[test]
    fn invalid_base64_bad_padding() {
        for input in [
            "b=",
            "b==",
            "b====",
            "bAQIDBA=",
            "bAQIDBA===",
            "bAQ=ID",
            "b/w=",
            "b//4==",
            "bA===",
        ] {
            assert_invalid_base64(input);
        }
    }

    #[test]
    fn invalid_base64_nonzero_trailing_bits() {
        // "AR==" decodes to 0x01 with leftover bits set: not canonical.
        assert_invalid_base64("bAR==");
        assert_invalid_base64("bAR");
        assert_eq!(decode("bAQ=="), Ok(Packet::message(vec![1u8])));
    }

    #[test]
    fn invalid_base64_in_payload() {
        assert!(matches!(
            payload(b"4hello\x1eb!!!!"),
            Err(DecodeError::InvalidBase64(_))
        ));
    }

    #[test]
    fn base64_with_and_without_padding_both_accepted() {
        assert_eq!(decode("bAQIDBA=="), Ok(Packet::message(vec![1u8, 2, 3, 4])));
        assert_eq!(decode("bAQIDBA"), Ok(Packet::message(vec![1u8, 2, 3, 4])));
        assert_eq!(decode("bAQID"), Ok(Packet::message(vec![1u8, 2, 3])));
        assert_eq!(
            payload(b"bAQIDBA==\x1ebAQIDBA"),
            Ok(vec![
                Packet::message(vec![1u8, 2, 3, 4]),
                Packet::message(vec![1u8, 2, 3, 4])
            ])
        );
    }

    #[test]
    fn invalid_utf8_payload_reports_valid_up_to() {
        assert_eq!(
            payload(b"\xff"),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 0 })
        );
        assert_eq!(
            payload(b"4hello\xff"),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 6 })
        );
        assert_eq!(
            payload(b"4hello\x1e4w\xc3\x28rld"),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 9 })
        );
        // "é" is C3 A9; a truncated sequence at the end.
        assert_eq!(
            payload(b"4\xc3\xa9\xc3"),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 3 })
        );
        // An encoded surrogate (ED A0 80) is not UTF-8.
        assert_eq!(
            payload(b"44\xed\xa0\x80"),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 2 })
        );
        // An overlong encoding of '/' (C0 AF) is not UTF-8.
        assert_eq!(
            payload(b"4\xc0\xaf"),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 1 })
        );
    }

    #[test]
    fn invalid_utf8_is_checked_before_packets() {
        // The first packet is bad too, but UTF-8 is checked over the whole payload first.
        assert_eq!(
            payload(b"7\x1e\xff"),
            Err(DecodeError::InvalidUtf8 { valid_up_to: 2 })
        );
    }

    #[test]
    fn open_with_broken_json() {
        for input in [
            "0",
            "0{",
            "0}",
            "0{\"sid\":\"x\",",
            "0not json",
            "0[]",
            "0null",
            "01",
            r#"0{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}x"#,
            r#"0{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}{}"#,
            r#"0{'sid':'x'}"#,
        ] {
            assert_invalid_handshake(input);
        }
    }

    #[test]
    fn open_with_missing_fields() {
        for input in [
            "0{}",
            r#"0{"upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
            r#"0{"sid":"x","pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
            r#"0{"sid":"x","upgrades":[],"pingTimeout":2,"maxPayload":3}"#,
            r#"0{"sid":"x","upgrades":[],"pingInterval":1,"maxPayload":3}"#,
        ] {
            assert_invalid_handshake(input);
        }
    }

    #[test]
    fn open_with_wrong_types() {
        for input in [
            r#"0{"sid":1,"upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
            r#"0{"sid":null,"upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
            r#"0{"sid":"x","upgrades":"websocket","pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
            r#"0{"sid":"x","upgrades":[1],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#,
            r#"0{"sid":"x","upgrades":[],"pingInterval":"1","pingTimeout":2,"maxPayload":3}"#,
            r#"0{"sid":"x","upgrades":[],"pingInterval":-1,"pingTimeout":2,"maxPayload":3}"#,
            r#"0{"sid":"x","upgrades":[],"pingInterval":1.5,"pingTimeout":2,"maxPayload":3}"#,
            r#"0{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":true,"maxPayload":3}"#,
            r#"0{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":"3"}"#,
            r#"0{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":null}"#,
            r#"0{"sid":"x","upgrades":[],"pingInterval":18446744073709551616,"pingTimeout":2}"#,
        ] {
            assert_invalid_handshake(input);
        }
    }

    #[test]
    fn open_with_duplicate_field() {
        assert_invalid_handshake(
            r#"0{"sid":"x","sid":"y","upgrades":[],"pingInterval":1,"pingTimeout":2}"#,
        );
    }

    #[test]
    fn open_with_broken_json_in_payload() {
        assert!(matches!(
            payload(b"0{\x1e4hello"),
            Err(DecodeError::InvalidHandshake(_))
        ));
    }

    #[test]
    fn too_many_packets() {
        let limits = PayloadLimits::new(2, 1_000);
        assert_eq!(
            decode_payload(b"4a\x1e4b\x1e4c", &limits),
            Err(DecodeError::TooManyPackets { limit: 2 })
        );
        assert_eq!(
            decode_payload(b"4a\x1e4b", &limits),
            Ok(vec![Packet::message("a"), Packet::message("b")])
        );
    }

    #[test]
    fn too_many_packets_with_python_limit_of_16() {
        let limits = PayloadLimits::new(16, 1_000_000);
        let packets: Vec<Packet> = (0..17).map(|_| Packet::Noop).collect();
        let encoded = encode_payload(&packets);
        assert_eq!(
            decode_payload(encoded.as_bytes(), &limits),
            Err(DecodeError::TooManyPackets { limit: 16 })
        );
        assert_eq!(
            decode_payload(&encoded.as_bytes()[..31], &limits).map(|p| p.len()),
            Ok(16)
        );
    }

    #[test]
    fn too_many_packets_with_zero_limit() {
        let limits = PayloadLimits::new(0, 1_000);
        assert_eq!(
            decode_payload(b"6", &limits),
            Err(DecodeError::TooManyPackets { limit: 0 })
        );
    }

    #[test]
    fn too_many_packets_with_default_limit() {
        let packets: Vec<Packet> = (0..100_001).map(|_| Packet::Noop).collect();
        let encoded = encode_payload(&packets);
        assert!(encoded.len() < 1_000_000);
        assert_eq!(
            payload(encoded.as_bytes()),
            Err(DecodeError::TooManyPackets { limit: 100_000 })
        );
    }

    #[test]
    fn too_large_payload() {
        let limits = PayloadLimits::new(100, 8);
        assert_eq!(
            decode_payload(b"4123456789", &limits),
            Err(DecodeError::PayloadTooLarge { len: 10, limit: 8 })
        );
        assert_eq!(
            decode_payload(b"41234567", &limits),
            Ok(vec![Packet::message("1234567")])
        );
    }

    #[test]
    fn too_large_payload_with_default_limit() {
        let big = format!("4{}", "x".repeat(1_000_000));
        assert_eq!(
            payload(big.as_bytes()),
            Err(DecodeError::PayloadTooLarge {
                len: 1_000_001,
                limit: 1_000_000
            })
        );
        assert_eq!(
            payload(&big.as_bytes()[..1_000_000]).map(|p| p.len()),
            Ok(1)
        );
    }

    #[test]
    fn size_is_checked_before_utf8_and_packets() {
        let limits = PayloadLimits::new(0, 2);
        assert_eq!(
            decode_payload(b"\xff\xff\xff", &limits),
            Err(DecodeError::PayloadTooLarge { len: 3, limit: 2 })
        );
    }

    #[test]
    fn error_display_texts() {
        assert_eq!(
            DecodeError::EmptyPacket.to_string(),
            "empty packet: a packet needs at least its type character"
        );
        assert_eq!(
            DecodeError::UnknownPacketType('9').to_string(),
            "unknown packet type '9' (expected 0-6 or 'b')"
        );
        assert_eq!(
            DecodeError::UnexpectedData {
                packet_type: '6',
                len: 3
            }
            .to_string(),
            "packet type 6 carries no data, but 3 bytes followed it"
        );
        assert_eq!(
            DecodeError::InvalidUtf8 { valid_up_to: 4 }.to_string(),
            "payload is not valid UTF-8 (first bad byte at offset 4)"
        );
        assert_eq!(
            DecodeError::TooManyPackets { limit: 16 }.to_string(),
            "payload holds more than 16 packets"
        );
        assert_eq!(
            DecodeError::PayloadTooLarge { len: 10, limit: 8 }.to_string(),
            "payload is 10 bytes, more than the limit of 8 bytes"
        );
        assert!(
            decode("b!")
                .unwrap_err()
                .to_string()
                .starts_with("invalid base64 in binary packet: ")
        );
        assert!(
            decode("0{")
                .unwrap_err()
                .to_string()
                .starts_with("invalid open packet JSON: ")
        );
    }
}
