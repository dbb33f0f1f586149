//! Fuzzes the Redis bridge's envelope decoder: `bridge::Envelope::decode`.
//!
//! Any input must decode or fail with an error, never panic; a decoded
//! envelope must encode back to the same bytes (the format has one
//! spelling per envelope).
#![no_main]

use engineio_proto::bridge::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::decode(data) {
        assert_eq!(envelope.encode(), data);
    }
});
