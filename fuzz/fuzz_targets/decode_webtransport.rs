//! Fuzzes the WebTransport stream decoder: `webtransport::FrameDecoder`
//! and `OpenRequest::from_frame`.
//!
//! The first byte picks a chunk size and a payload limit; the rest is the
//! stream. Any input must decode or fail with an error, never panic or
//! buffer a frame over the limit. The frames must be the same whatever the
//! chunk size, and each decoded frame must survive a round trip through
//! the encoder.
#![no_main]

use engineio_proto::webtransport::{FrameDecoder, OpenRequest, encode_into};
use engineio_proto::{EncodedPacket, Frame};
use libfuzzer_sys::fuzz_target;

/// Decodes `data` pushed in chunks of `chunk`; the frames, then the error.
fn decode(data: &[u8], chunk: usize, limit: usize) -> (Vec<Frame>, Option<String>) {
    let mut decoder = FrameDecoder::new(limit);
    let mut frames = Vec::new();
    for piece in data.chunks(chunk) {
        decoder.push(piece);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    assert!(frame.len() <= limit, "a frame over the limit");
                    frames.push(frame);
                }
                Ok(None) => break,
                Err(err) => return (frames, Some(err.to_string())),
            }
        }
    }
    (frames, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(control & 0x0f) + 1;
    let limit = [16, 200, 70_000, usize::MAX][usize::from(control >> 4) & 3];
    let whole = decode(stream, stream.len().max(1), limit);
    let pieces = decode(stream, chunk, limit);
    assert_eq!(whole, pieces, "chunks of {chunk} decode differently");

    let (frames, _) = whole;
    if let Some(first) = frames.first() {
        let _ = OpenRequest::from_frame(first.clone());
    }
    for frame in frames {
        let Ok(packet) = frame.clone().decode() else {
            continue;
        };
        let mut bytes = Vec::new();
        encode_into(&EncodedPacket::new(packet.clone()), &mut bytes);
        let (again, err) = decode(&bytes, bytes.len(), usize::MAX);
        assert_eq!(err, None);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].clone().decode().as_ref(), Ok(&packet));
    }
});
