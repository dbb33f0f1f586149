//! Tests of the v3 and JSONP codec.
//!
//! The golden values were produced by running Node's engine.io 6.6.12
//! (its bundled `build/parser-v3`, and a server with `allowEIO3: true`
//! answered with curl) from `interop/node_modules`, and pasted here.

mod golden;
mod jsonp;
mod malformed;
mod props;

use crate::{Packet, PayloadLimits};

/// Decodes a text payload with the default limits.
fn text(input: &str) -> Result<Vec<Packet>, super::Eio3Error> {
    super::decode_text_payload(input.as_bytes(), &PayloadLimits::default())
}

/// Decodes a binary payload with the default limits.
fn binary(input: &[u8]) -> Result<Vec<Packet>, super::Eio3Error> {
    super::decode_binary_payload(input, &PayloadLimits::default())
}

/// Bytes from a hex string.
fn hex(input: &str) -> Vec<u8> {
    (0..input.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&input[i..i + 2], 16).expect("hex"))
        .collect()
}
