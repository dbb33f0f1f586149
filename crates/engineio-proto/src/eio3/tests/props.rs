//! Property tests: round trips, and decoders never panic.

use proptest::prelude::*;

use crate::eio3::{self, BinaryEncoding, JsonpIndex};
use crate::{Frame, Packet, PayloadLimits};

/// Any packet a v3 peer exchanges after the handshake.
fn packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        any::<String>().prop_map(Packet::message),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(Packet::message),
        any::<String>().prop_map(Packet::Ping),
        any::<String>().prop_map(Packet::Pong),
        Just(Packet::Close),
        Just(Packet::Upgrade),
        Just(Packet::Noop),
    ]
}

fn packets() -> impl Strategy<Value = Vec<Packet>> {
    proptest::collection::vec(packet(), 0..8)
}

proptest! {
    #[test]
    fn text_payload_round_trip(packets in packets()) {
        let encoded = eio3::encode_text_payload(&packets);
        prop_assert_eq!(eio3::decode_text_payload(encoded.as_bytes(), &PayloadLimits::default()).unwrap(), packets);
    }

    #[test]
    fn binary_payload_round_trip(packets in packets()) {
        let encoded = eio3::encode_binary_payload(&packets);
        prop_assert_eq!(eio3::decode_binary_payload(&encoded, &PayloadLimits::default()).unwrap(), packets);
    }

    #[test]
    fn chosen_payload_round_trip(packets in packets(), base64 in any::<bool>()) {
        let encoding = if base64 { BinaryEncoding::Base64 } else { BinaryEncoding::Raw };
        let payload = eio3::encode_payload(&packets, encoding);
        let decoded = eio3::decode_payload(payload.as_bytes(), Some(payload.content_type()), &PayloadLimits::default()).unwrap();
        prop_assert_eq!(decoded, packets);
    }

    #[test]
    fn frame_round_trip(packet in packet(), base64 in any::<bool>()) {
        let encoding = if base64 { BinaryEncoding::Base64 } else { BinaryEncoding::Raw };
        prop_assert_eq!(eio3::decode_frame(eio3::encode_frame(&packet, encoding)).unwrap(), packet);
    }

    #[test]
    fn jsonp_round_trip(payload in any::<String>()) {
        // What a JSONP client's script evaluates is the JSON string: parse it back.
        let script = JsonpIndex::parse("1").unwrap().wrap(&payload);
        let literal = script.strip_prefix("___eio[1](").and_then(|s| s.strip_suffix(");")).unwrap();
        prop_assert_eq!(serde_json::from_str::<String>(literal).unwrap(), payload);
    }

    #[test]
    fn decoders_never_panic(input in proptest::collection::vec(any::<u8>(), 0..256)) {
        let limits = PayloadLimits::new(4, 128);
        let _ = eio3::decode_text_payload(&input, &limits);
        let _ = eio3::decode_binary_payload(&input, &limits);
        let _ = eio3::decode_frame(Frame::Binary(input.clone().into()));
        let _ = eio3::decode_jsonp_body(&input);
        if let Ok(text) = std::str::from_utf8(&input) {
            let _ = eio3::decode_text(text);
        }
    }

    #[test]
    fn text_decoder_never_panics_on_framed_text(
        parts in proptest::collection::vec(("[0-9]{0,3}", "[:0-9]?", "\\PC{0,6}"), 0..6)
    ) {
        // Lengths that may or may not match what follows them.
        let input: String = parts.iter().map(|(len, colon, data)| format!("{len}{colon}{data}")).collect();
        let _ = eio3::decode_text_payload(input.as_bytes(), &PayloadLimits::default());
    }
}
