//! Fuzzes single-packet decoding: `Packet::decode_text` and `Frame::decode`.
//!
//! Any input must decode or fail with an error, never panic. A packet that
//! decodes must survive a round trip through its text encoding and through
//! its WebSocket frame.
#![no_main]

use engineio_proto::{Frame, Message, Packet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A binary frame always decodes to a binary message with the same bytes.
    let binary = Frame::Binary(data.to_vec().into()).decode();
    assert_eq!(binary, Ok(Packet::Message(Message::from(data))));

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let decoded = Packet::decode_text(text);
    // A text frame decodes exactly like a text packet.
    assert_eq!(Frame::Text(text.to_owned()).decode(), decoded);

    if let Ok(packet) = decoded {
        let encoded = packet.to_text();
        assert_eq!(
            Packet::decode_text(&encoded).as_ref(),
            Ok(&packet),
            "text round trip of {text:?}"
        );
        assert_eq!(
            Frame::encode(&packet).decode().as_ref(),
            Ok(&packet),
            "frame round trip of {text:?}"
        );
        // Re-encoding is canonical: encoding the re-decoded packet is stable.
        assert_eq!(
            Packet::decode_text(&encoded).map(|p| p.to_text()),
            Ok(encoded)
        );
    }
});
