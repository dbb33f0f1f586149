//! Fuzzes long-polling payload decoding with default and small limits.
//!
//! Any input must decode or fail with an error, never panic. A payload that
//! decodes must re-encode (with `encode_payload` and with `PayloadEncoder`)
//! to something that decodes to the same packets.
#![no_main]

use engineio_proto::{PayloadEncoder, PayloadLimits, decode_payload, encode_payload};
use libfuzzer_sys::fuzz_target;

/// No limit at all, to decode what the encoders produce.
const UNLIMITED: PayloadLimits = PayloadLimits::new(usize::MAX, usize::MAX);

fuzz_target!(|data: &[u8]| {
    let default = decode_payload(data, &PayloadLimits::default());
    let small_limits = PayloadLimits::new(4, 64);
    let small = decode_payload(data, &small_limits);

    // Tighter limits can only turn a success into a limit error.
    if let Ok(packets) = &small {
        assert_eq!(default.as_ref(), Ok(packets));
        assert!(packets.len() <= 4 && data.len() <= 64);
    }

    let Ok(packets) = default else {
        return;
    };
    assert!(!packets.is_empty());

    let encoded = encode_payload(&packets);
    assert_eq!(
        decode_payload(encoded.as_bytes(), &UNLIMITED).as_ref(),
        Ok(&packets)
    );
    // Encoding is canonical: a second round trip gives the same string.
    let again = decode_payload(encoded.as_bytes(), &UNLIMITED).map(|p| encode_payload(&p));
    assert_eq!(again.as_ref(), Ok(&encoded));

    // The bounded encoder keeps a prefix, within the limits unless it is a lone packet.
    let mut encoder = PayloadEncoder::new(small_limits);
    let mut pushed = 0;
    for packet in &packets {
        if !encoder.try_push(packet) {
            break;
        }
        pushed += 1;
    }
    assert!(pushed >= 1);
    assert_eq!(encoder.packet_count(), pushed);
    let bounded = encoder.finish();
    assert!(pushed == 1 || (pushed <= 4 && bounded.len() <= 64));
    assert_eq!(
        decode_payload(bounded.as_bytes(), &UNLIMITED).as_deref(),
        Ok(&packets[..pushed])
    );
});
