//! Fuzzes the open packet's JSON: `Handshake::from_json` and `0{...}` packets.
//!
//! Any input must parse or fail with an error, never panic. A handshake that
//! parses must survive `to_json` and an open-packet round trip.
#![no_main]

use engineio_proto::{Handshake, Packet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = Handshake::from_json(json);
    // The open packet decodes its data exactly like the bare JSON.
    let packet = Packet::decode_text(&format!("0{json}"));
    assert_eq!(packet.clone().ok(), parsed.clone().ok().map(Packet::Open));

    if let Ok(handshake) = parsed {
        let encoded = handshake.to_json();
        assert_eq!(
            Handshake::from_json(&encoded).as_ref(),
            Ok(&handshake),
            "json round trip of {json:?}"
        );
        let open = Packet::Open(handshake);
        assert_eq!(Packet::decode_text(&open.to_text()).as_ref(), Ok(&open));
    }
});
