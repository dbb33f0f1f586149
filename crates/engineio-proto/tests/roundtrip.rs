//! Property tests: every packet, frame and payload survives a round trip
//! through its encoding, the bounded payload encoder keeps its limits, and
//! the decoders never panic on arbitrary input.

use engineio_proto::{
    Frame, Handshake, Message, Packet, PayloadEncoder, PayloadLimits, RECORD_SEPARATOR,
    SID_MAX_LEN, Sid, decode_payload, encode_payload,
};
use proptest::prelude::*;

/// No limit at all, to decode whatever the encoders produce.
const UNLIMITED: PayloadLimits = PayloadLimits::new(usize::MAX, usize::MAX);

/// Arbitrary Unicode text, biased towards the characters the codec cares about.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9b=\u{1e}\u{e9}\u{1F44B}{}\" a-zA-Z+/]{0,24}",
        Just(String::new()),
        Just("probe".to_owned()),
    ]
}

/// Text that can travel inside a payload: anything but the record separator.
fn payload_text() -> impl Strategy<Value = String> {
    any_text().prop_map(|text| text.replace(RECORD_SEPARATOR, ""))
}

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..300)
}

fn any_handshake() -> impl Strategy<Value = Handshake> {
    (
        any_text(),
        prop::collection::vec(any_text(), 0..4),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(
            |(sid, upgrades, ping_interval, ping_timeout, max_payload)| Handshake {
                sid,
                upgrades,
                ping_interval,
                ping_timeout,
                max_payload,
            },
        )
}

/// Any packet of any type, with text drawn from the strategies `text` makes.
fn packet_with<S>(text: fn() -> S) -> impl Strategy<Value = Packet>
where
    S: Strategy<Value = String> + 'static,
{
    prop_oneof![
        any_handshake().prop_map(Packet::Open),
        Just(Packet::Close),
        text().prop_map(Packet::Ping),
        text().prop_map(Packet::Pong),
        text().prop_map(|t| Packet::Message(Message::Text(t))),
        any_bytes().prop_map(|b| Packet::Message(Message::from(b))),
        Just(Packet::Upgrade),
        Just(Packet::Noop),
    ]
}

fn any_packet() -> impl Strategy<Value = Packet> {
    packet_with(any_text)
}

fn payload_packet() -> impl Strategy<Value = Packet> {
    packet_with(payload_text)
}

fn payload_packets() -> impl Strategy<Value = Vec<Packet>> {
    prop::collection::vec(payload_packet(), 1..50)
}

/// Strings made of the characters that matter to the decoders.
fn wire_like_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9b\u{1e}=A-Za-z+/{}\":,\\[\\]\u{e9}]{0,64}",
        "(0|1|2|3|4|5|6|b|7|\u{1e})[a-zA-Z0-9+/=\u{1e}]{0,16}",
    ]
}

proptest! {
    #[test]
    fn packet_text_round_trip(packet in any_packet()) {
        let encoded = packet.to_text();
        prop_assert_eq!(Packet::decode_text(&encoded), Ok(packet.clone()));
        prop_assert_eq!(packet.to_string(), encoded);
    }

    #[test]
    fn encode_text_appends_to_text(prefix in any_text(), packet in any_packet()) {
        let mut out = prefix.clone();
        packet.encode_text(&mut out);
        prop_assert_eq!(out, format!("{prefix}{}", packet.to_text()));
    }

    #[test]
    fn frame_round_trip(packet in any_packet()) {
        let frame = Frame::encode(&packet);
        match (&packet, &frame) {
            (Packet::Message(Message::Binary(bytes)), Frame::Binary(raw)) => prop_assert_eq!(bytes, raw),
            (_, Frame::Text(text)) => prop_assert_eq!(text, &packet.to_text()),
            (_, Frame::Binary(_)) => prop_assert!(false, "only binary messages become binary frames"),
        }
        prop_assert_eq!(frame.decode(), Ok(packet));
    }

    #[test]
    fn binary_round_trip_with_and_without_padding(bytes in any_bytes()) {
        let packet = Packet::message(bytes.clone());
        let padded = packet.to_text();
        let unpadded = padded.trim_end_matches('=');
        prop_assert_eq!(Packet::decode_text(&padded), Ok(packet.clone()));
        prop_assert_eq!(Packet::decode_text(unpadded), Ok(packet.clone()));
        prop_assert_eq!(Frame::Text(padded).decode(), Ok(packet.clone()));
        prop_assert_eq!(Frame::Binary(bytes.into()).decode(), Ok(packet));
    }

    #[test]
    fn handshake_json_round_trip(handshake in any_handshake()) {
        prop_assert_eq!(Handshake::from_json(&handshake.to_json()), Ok(handshake));
    }

    #[test]
    fn payload_round_trip(packets in payload_packets()) {
        let encoded = encode_payload(&packets);
        prop_assert_eq!(decode_payload(encoded.as_bytes(), &PayloadLimits::default()), Ok(packets.clone()));
        // The payload is exactly the packets' text encodings joined by the separator.
        let joined = packets.iter().map(Packet::to_text).collect::<Vec<_>>().join("\u{1e}");
        prop_assert_eq!(encoded, joined);
    }

    #[test]
    fn payload_round_trip_at_exact_limits(packets in payload_packets()) {
        let encoded = encode_payload(&packets);
        let exact = PayloadLimits::new(packets.len(), encoded.len());
        prop_assert_eq!(decode_payload(encoded.as_bytes(), &exact), Ok(packets.clone()));
        if packets.len() > 1 {
            let fewer = PayloadLimits::new(packets.len() - 1, encoded.len());
            prop_assert_eq!(
                decode_payload(encoded.as_bytes(), &fewer),
                Err(engineio_proto::DecodeError::TooManyPackets { limit: packets.len() - 1 })
            );
        }
        let smaller = PayloadLimits::new(packets.len(), encoded.len() - 1);
        prop_assert_eq!(
            decode_payload(encoded.as_bytes(), &smaller),
            Err(engineio_proto::DecodeError::PayloadTooLarge { len: encoded.len(), limit: encoded.len() - 1 })
        );
    }

    #[test]
    fn payload_encoder_keeps_its_limits(
        packets in payload_packets(),
        max_packets in 0usize..12,
        max_bytes in 0usize..600,
    ) {
        let limits = PayloadLimits::new(max_packets, max_bytes);
        let mut encoder = PayloadEncoder::new(limits);
        let mut accepted = Vec::new();
        let mut len = 0usize;
        for packet in &packets {
            let encoded_len = packet.to_text().len();
            let new_len = if accepted.is_empty() { encoded_len } else { len + 1 + encoded_len };
            let should_fit = accepted.is_empty() || (accepted.len() < max_packets && new_len <= max_bytes);
            let fits = encoder.try_push(packet);
            prop_assert_eq!(fits, should_fit);
            if fits {
                accepted.push(packet.clone());
                len = new_len;
            }
            prop_assert_eq!(encoder.packet_count(), accepted.len());
            prop_assert!(!encoder.is_empty());
            let so_far = encoder.clone().finish();
            prop_assert_eq!(so_far.len(), len);
            // Over a limit only when it holds a lone first packet.
            prop_assert!(accepted.len() == 1 || (accepted.len() <= max_packets && so_far.len() <= max_bytes));
        }
        let payload = encoder.finish();
        prop_assert_eq!(&payload, &encode_payload(&accepted));
        prop_assert_eq!(decode_payload(payload.as_bytes(), &UNLIMITED), Ok(accepted));
    }

    #[test]
    fn try_push_encoded_matches_try_push(
        packets in payload_packets(),
        max_packets in 0usize..12,
        max_bytes in 0usize..600,
    ) {
        let limits = PayloadLimits::new(max_packets, max_bytes);
        let mut typed = PayloadEncoder::new(limits);
        let mut encoded = PayloadEncoder::new(limits);
        for packet in &packets {
            prop_assert_eq!(typed.try_push(packet), encoded.try_push_encoded(&packet.to_text()));
        }
        prop_assert_eq!(typed.packet_count(), encoded.packet_count());
        prop_assert_eq!(typed.finish(), encoded.finish());
    }

    #[test]
    fn decode_text_never_panics(input in wire_like_text()) {
        let result = Packet::decode_text(&input);
        // A text frame decodes exactly like a text packet.
        let from_frame = Frame::Text(input).decode();
        prop_assert_eq!(&from_frame, &result);
        if let Ok(packet) = result {
            prop_assert_eq!(Packet::decode_text(&packet.to_text()), Ok(packet));
        }
    }

    #[test]
    fn decode_payload_never_panics_on_text(
        input in wire_like_text(),
        max_packets in 0usize..20,
        max_bytes in 0usize..100,
    ) {
        let _ = decode_payload(input.as_bytes(), &PayloadLimits::new(max_packets, max_bytes));
        if let Ok(packets) = decode_payload(input.as_bytes(), &PayloadLimits::default()) {
            let encoded = encode_payload(&packets);
            prop_assert_eq!(decode_payload(encoded.as_bytes(), &UNLIMITED), Ok(packets));
        }
    }

    #[test]
    fn decode_payload_never_panics_on_bytes(
        input in prop::collection::vec(any::<u8>(), 0..200),
        max_packets in 0usize..20,
        max_bytes in 0usize..300,
    ) {
        let _ = decode_payload(&input, &PayloadLimits::new(max_packets, max_bytes));
        let _ = decode_payload(&input, &PayloadLimits::default());
    }

    #[test]
    fn binary_frames_always_decode(input in any_bytes()) {
        prop_assert_eq!(
            Frame::Binary(input.clone().into()).decode(),
            Ok(Packet::message(input))
        );
    }

    #[test]
    fn text_with_separator_does_not_survive_a_payload(
        before in payload_text(),
        after in payload_text(),
    ) {
        // The spec forbids the separator in data; the codec cannot carry it.
        let packet = Packet::message(format!("{before}\u{1e}{after}"));
        let decoded = decode_payload(encode_payload([&packet]).as_bytes(), &UNLIMITED);
        prop_assert_ne!(decoded, Ok(vec![packet]));
    }

    #[test]
    fn sid_parse_round_trip(candidate in "[A-Za-z0-9_.-]{1,40}") {
        let sid: Sid = candidate.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(sid.as_str(), candidate.as_str());
        prop_assert_eq!(sid.to_string().parse::<Sid>(), Ok(sid));
    }

    #[test]
    fn sid_rejects_other_strings(candidate in any::<String>()) {
        let valid = (1..=SID_MAX_LEN).contains(&candidate.len())
            && candidate.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        prop_assert_eq!(candidate.parse::<Sid>().is_ok(), valid);
    }
}
