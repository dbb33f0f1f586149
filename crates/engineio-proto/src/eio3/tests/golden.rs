//! Node's exact bytes for packets, frames, payloads and the handshake.

use std::time::Duration;

use super::{binary, hex, text};
use crate::eio3::{
    self, BinaryEncoding, HandshakeFields, Payload, decode_frame, encode_frame, handshake_json,
};
use crate::{Frame, Handshake, Packet};

fn bin(bytes: &[u8]) -> Packet {
    Packet::message(bytes.to_vec())
}

#[test]
fn packets_as_text() {
    // encodePacket(packet, supportsBinary = false)
    let cases: [(Packet, &str); 6] = [
        (Packet::message("hello"), "4hello"),
        (Packet::message(""), "4"),
        (bin(&[1, 2, 3, 4]), "b4AQIDBA=="),
        (bin(&[]), "b4"),
        (Packet::Ping("probe".into()), "2probe"),
        (Packet::Noop, "6"),
    ];
    for (packet, golden) in cases {
        assert_eq!(eio3::to_text(&packet), golden);
        assert_eq!(eio3::decode_text(golden).unwrap(), packet);
    }
}

#[test]
fn binary_websocket_frames_start_with_the_type_byte() {
    // encodePacket(packet, supportsBinary = true) on a Buffer
    let cases: [(Packet, &str); 2] = [(bin(&[1, 2, 3, 4]), "0401020304"), (bin(&[]), "04")];
    for (packet, golden) in cases {
        let frame = Frame::Binary(hex(golden).into());
        assert_eq!(encode_frame(&packet, BinaryEncoding::Raw), frame);
        assert_eq!(decode_frame(frame).unwrap(), packet);
    }
    assert_eq!(
        encode_frame(&bin(&[1, 2, 3, 4]), BinaryEncoding::Base64),
        Frame::Text("b4AQIDBA==".into())
    );
    assert_eq!(
        decode_frame(Frame::Text("4hello".into())).unwrap(),
        Packet::message("hello")
    );
}

#[test]
fn text_payloads_count_utf16_code_units() {
    // encodePayload(packets, supportsBinary, cb) without binary, or with b64
    let cases: Vec<(Vec<Packet>, &str)> = vec![
        (vec![], "0:"),
        (
            vec![
                Packet::message("hello"),
                Packet::ping(),
                Packet::message("héllo 👋"),
            ],
            "6:4hello1:29:4héllo 👋",
        ),
        (vec![Packet::message("👋")], "3:4👋"),
        (vec![Packet::message("")], "1:4"),
        (
            vec![Packet::message("héllo"), bin(&[1, 2, 3, 4])],
            "6:4héllo10:b4AQIDBA==",
        ),
        (
            vec![
                Packet::message("日本語"),
                Packet::message("😀😀"),
                Packet::Pong("probe".into()),
                Packet::Noop,
            ],
            "4:4日本語5:4😀😀6:3probe1:6",
        ),
    ];
    for (packets, golden) in cases {
        assert_eq!(eio3::encode_text_payload(&packets), golden);
        assert_eq!(
            eio3::encode_payload(&packets, BinaryEncoding::Base64),
            Payload::Text(golden.into())
        );
        assert_eq!(text(golden).unwrap(), packets, "{golden}");
    }
}

#[test]
fn binary_payloads() {
    // encodePayload(packets, supportsBinary = true, cb) with a binary packet
    let cases: Vec<(Vec<Packet>, &str)> = vec![
        (
            vec![Packet::message("héllo 👋"), bin(&[1, 2, 3, 4])],
            "000102ff3468c3a96c6c6f20f09f918b0105ff0401020304",
        ),
        (
            vec![Packet::message("a"), bin(&[7; 12])],
            "0002ff3461010103ff04070707070707070707070707",
        ),
        (
            vec![Packet::message(""), bin(&[]), Packet::Noop],
            "0001ff340101ff040001ff36",
        ),
        (
            vec![
                Packet::message("日本語"),
                bin(&[0xFF, 0, 0xFE]),
                Packet::Pong("probe".into()),
            ],
            "000100ff34e697a5e69cace8aa9e0104ff04ff00fe0006ff3370726f6265",
        ),
    ];
    for (packets, golden) in cases {
        let bytes = hex(golden);
        assert_eq!(eio3::encode_binary_payload(&packets), bytes);
        assert_eq!(
            eio3::encode_payload(&packets, BinaryEncoding::Raw),
            Payload::Binary(bytes.clone())
        );
        assert_eq!(binary(&bytes).unwrap(), packets, "{golden}");
    }
    // A length of three digits.
    let long = [Packet::message("x".repeat(120)), bin(&[])];
    assert!(eio3::encode_binary_payload(&long).starts_with(&hex("00010201ff347878")));
    assert_eq!(binary(&eio3::encode_binary_payload(&long)).unwrap(), long);
}

#[test]
fn payload_without_binary_stays_text_for_binary_clients() {
    let packets = [Packet::message("hello"), Packet::ping()];
    assert_eq!(
        eio3::encode_payload(&packets, BinaryEncoding::Raw),
        Payload::Text("6:4hello1:2".into())
    );
}

#[test]
fn node_decodes_these_text_payloads() {
    // decodePayload(string, cb) results from Node.
    assert_eq!(text("0:").unwrap(), vec![]);
    assert_eq!(text("1:4").unwrap(), vec![Packet::message("")]);
    assert_eq!(text("02:4a").unwrap(), vec![Packet::message("a")]);
    assert_eq!(text("2:b4").unwrap(), vec![bin(&[])]);
    assert_eq!(text("0:0:1:6").unwrap(), vec![Packet::Noop]);
    assert_eq!(
        text("6:4hello1:2").unwrap(),
        vec![Packet::message("hello"), Packet::ping()]
    );
}

#[test]
fn node_decodes_these_binary_payloads() {
    // decodePayload(Buffer, cb) results from Node.
    assert_eq!(binary(&[]).unwrap(), vec![]);
    assert_eq!(
        binary(&hex("0002ff3461")).unwrap(),
        vec![Packet::message("a")]
    );
    assert_eq!(binary(&hex("0103ff040102")).unwrap(), vec![bin(&[1, 2])]);
    assert_eq!(
        binary(&hex("0003ff34c3a9")).unwrap(),
        vec![Packet::message("é")]
    );
    assert_eq!(
        binary(&hex("0001ff340101ff04")).unwrap(),
        vec![Packet::message(""), bin(&[])]
    );
}

#[test]
fn the_post_content_type_picks_the_format() {
    let limits = crate::PayloadLimits::default();
    let body = hex("0002ff3461");
    let octets = Some(eio3::BINARY_CONTENT_TYPE);
    assert_eq!(
        eio3::decode_payload(&body, octets, &limits).unwrap(),
        vec![Packet::message("a")]
    );
    // Node compares the header exactly: anything else is a text payload.
    assert!(eio3::decode_payload(&body, Some("application/octet-stream; x=1"), &limits).is_err());
    assert!(eio3::decode_payload(b"2:4a", None, &limits).is_ok());
}

fn handshake() -> Handshake {
    Handshake::new(
        "5zgU2DgAph41DboYAAAA",
        vec!["websocket".to_owned()],
        Duration::from_millis(25_000),
        Duration::from_millis(20_000),
        1_000_000,
    )
}

#[test]
fn handshake_as_node_sends_it_to_v3_clients() {
    // GET /engine.io/?EIO=3&transport=polling&j=0 on Node 6.6 with allowEIO3
    let golden = r#"___eio[0]("118:0{\"sid\":\"5zgU2DgAph41DboYAAAA\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}");"#;
    let open = Packet::Open(handshake());
    let payload = eio3::encode_text_payload([&open]);
    assert_eq!(
        payload,
        format!(
            "118:0{}",
            handshake_json(&handshake(), HandshakeFields::WithMaxPayload)
        )
    );
    assert_eq!(
        eio3::JsonpIndex::from_query_lenient("0").wrap(&payload),
        golden
    );
    assert_eq!(text(&payload).unwrap(), vec![open]);
}

#[test]
fn legacy_handshake_has_four_fields() {
    let json = handshake_json(&handshake(), HandshakeFields::WithoutMaxPayload);
    assert_eq!(
        json,
        r#"{"sid":"5zgU2DgAph41DboYAAAA","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#
    );
    // A client reading it sees no maxPayload.
    assert_eq!(Handshake::from_json(&json).unwrap().max_payload, 0);
}

#[test]
fn b64_query_as_node_reads_it() {
    assert_eq!(BinaryEncoding::from_b64_query(None), BinaryEncoding::Raw);
    assert_eq!(
        BinaryEncoding::from_b64_query(Some("")),
        BinaryEncoding::Raw
    );
    assert_eq!(
        BinaryEncoding::from_b64_query(Some("1")),
        BinaryEncoding::Base64
    );
    assert_eq!(
        BinaryEncoding::from_b64_query(Some("false")),
        BinaryEncoding::Base64
    );
}
