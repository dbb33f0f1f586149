//! Compressing outgoing messages ([`Deflater`]) and inflating incoming
//! ones below tungstenite ([`Inflater`]), without I/O.

use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The four bytes a sync flush ends with, which RFC 7692 leaves off the
/// wire (section 7.2.1) and the receiver puts back (section 7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Why an incoming compressed message was refused. It reaches tungstenite as
/// an `std::io::Error` of kind `InvalidData` wrapping this value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeflateError {
    /// The message, compressed or inflated, is longer than the largest
    /// message allowed: the WebSocket is closed with 1009. Inflating stops
    /// there, so a small frame that would inflate to gigabytes costs no
    /// more than the limit.
    #[error("a compressed message is longer than {limit} bytes")]
    TooBig {
        /// The largest message allowed, in bytes.
        limit: usize,
    },
    /// The compressed data is not valid deflate data.
    #[error("a compressed message could not be inflated: {0}")]
    Corrupt(String),
    /// The frames break RFC 7692 (a data frame starting a new message before
    /// a compressed one ended).
    #[error("permessage-deflate protocol error: {0}")]
    Protocol(&'static str),
}

impl DeflateError {
    /// The error as tungstenite's transport sees it.
    pub(crate) fn into_io(self) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, self)
    }

    /// The `DeflateError` inside an I/O error, if it is one.
    #[cfg(feature = "server")]
    pub(crate) fn of(err: &std::io::Error) -> Option<&DeflateError> {
        err.get_ref()?.downcast_ref()
    }
}

/// Compresses outgoing messages of one connection (RFC 7692 section 7.2.1).
pub(crate) struct Deflater {
    threshold: usize,
    level: u32,
    window_bits: u8,
    no_context_takeover: bool,
    /// Made for the first message that crosses the threshold.
    compress: Option<Box<Compress>>,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("threshold", &self.threshold)
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .finish_non_exhaustive()
    }
}

impl Deflater {
    pub(crate) fn new(
        threshold: usize,
        level: u32,
        window_bits: u8,
        no_context_takeover: bool,
    ) -> Self {
        Self {
            threshold,
            level,
            window_bits: window_bits.clamp(9, 15),
            no_context_takeover,
            compress: None,
        }
    }

    /// The compressed payload of a message, or `None` when it goes
    /// uncompressed (shorter than the threshold).
    pub(crate) fn compress(&mut self, data: &[u8]) -> Option<Bytes> {
        if data.len() < self.threshold {
            return None;
        }
        let (level, bits) = (self.level, self.window_bits);
        let compress = self.compress.get_or_insert_with(|| {
            Box::new(Compress::new_with_window_bits(
                Compression::new(level),
                false,
                bits,
            ))
        });
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let start = compress.total_in();
        loop {
            let consumed = (compress.total_in() - start) as usize;
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(64));
            }
            if compress
                .compress_vec(&data[consumed..], &mut out, FlushCompress::Sync)
                .is_err()
            {
                // Cannot happen with a sound compressor; start afresh and
                // send this one uncompressed.
                self.compress = None;
                return None;
            }
            // A sync flush is complete once it leaves room in the output.
            if (compress.total_in() - start) as usize == data.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if self.no_context_takeover {
            // Nothing to keep between messages: the memory goes back, so an
            // idle session holds no compressor.
            self.compress = None;
        }
        Some(Bytes::from(out))
    }
}

/// Where the parser is in the incoming byte stream.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Collecting a frame header.
    Header,
    /// Copying this many more payload bytes of a frame as they are.
    Pass(u64),
    /// Collecting this many more payload bytes of a compressed message's
    /// frame, unmasked with `mask` (at `offset` in it).
    Collect {
        remaining: u64,
        mask: Option<[u8; 4]>,
        offset: usize,
        fin: bool,
    },
}

/// Which data message is in progress (fragmented over several frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InMessage {
    None,
    /// An uncompressed message: its continuations go through as they are.
    Plain,
    /// A compressed message with this opcode (text 1 or binary 2).
    Compressed(u8),
}

/// Inflates the compressed messages of one connection's incoming byte
/// stream (RFC 7692 section 7.2.2): every frame goes through unchanged,
/// except the frames of compressed messages, which are collected and come
/// out as one uncompressed frame (FIN set, RSV1 clear; masked with a zero
/// key when frames come from a client, which tungstenite expects).
pub(crate) struct Inflater {
    /// Frames come from a client (masked).
    from_client: bool,
    /// The largest message allowed, compressed or inflated.
    limit: usize,
    window_bits: u8,
    no_context_takeover: bool,
    stage: Stage,
    message: InMessage,
    header: [u8; 14],
    header_len: usize,
    /// The compressed payload of the message in progress.
    compressed: Vec<u8>,
    /// Bytes for tungstenite, from `out_pos` on.
    out: Vec<u8>,
    out_pos: usize,
    /// Made for the first compressed message.
    decompress: Option<Box<Decompress>>,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("from_client", &self.from_client)
            .field("limit", &self.limit)
            .field("stage", &self.stage)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

/// Buffers larger than this are given back once drained.
const KEEP: usize = 4096;

impl Inflater {
    pub(crate) fn new(
        from_client: bool,
        limit: usize,
        window_bits: u8,
        no_context_takeover: bool,
    ) -> Self {
        Self {
            from_client,
            limit,
            // Inflating with a larger window than the peer's is always
            // correct; zlib's raw inflate needs at least 9... and 8-bit
            // streams inflate with 9 or more.
            window_bits: window_bits.clamp(9, 15),
            no_context_takeover,
            stage: Stage::Header,
            message: InMessage::None,
            header: [0; 14],
            header_len: 0,
            compressed: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            decompress: None,
        }
    }

    /// Whether bytes are waiting for tungstenite.
    pub(crate) fn has_output(&self) -> bool {
        self.out_pos < self.out.len()
    }

    /// Copies waiting bytes into `buf`; returns how many.
    pub(crate) fn take_output(&mut self, buf: &mut [u8]) -> usize {
        let n = (self.out.len() - self.out_pos).min(buf.len());
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        if self.out_pos == self.out.len() {
            self.out_pos = 0;
            if self.out.capacity() > KEEP {
                self.out = Vec::new();
            } else {
                self.out.clear();
            }
        }
        n
    }

    /// Takes bytes read from the network, all of them.
    pub(crate) fn feed(&mut self, mut input: &[u8]) -> Result<(), DeflateError> {
        while !input.is_empty() {
            match self.stage {
                Stage::Header => {
                    let need = self.header_needed();
                    let n = (need - self.header_len).min(input.len());
                    self.header[self.header_len..self.header_len + n].copy_from_slice(&input[..n]);
                    self.header_len += n;
                    input = &input[n..];
                    if self.header_len == self.header_needed() {
                        self.frame_started()?;
                    }
                }
                Stage::Pass(remaining) => {
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    self.out.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    self.stage = match remaining - n as u64 {
                        0 => Stage::Header,
                        left => Stage::Pass(left),
                    };
                }
                Stage::Collect {
                    remaining,
                    mask,
                    offset,
                    fin,
                } => {
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    let start = self.compressed.len();
                    self.compressed.extend_from_slice(&input[..n]);
                    if let Some(mask) = mask {
                        for (i, byte) in self.compressed[start..].iter_mut().enumerate() {
                            *byte ^= mask[(offset + i) % 4];
                        }
                    }
                    input = &input[n..];
                    let left = remaining - n as u64;
                    if left > 0 {
                        self.stage = Stage::Collect {
                            remaining: left,
                            mask,
                            offset: (offset + n) % 4,
                            fin,
                        };
                    } else {
                        self.stage = Stage::Header;
                        if fin {
                            self.message_complete()?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// How long the header being collected is, as far as its bytes tell.
    fn header_needed(&self) -> usize {
        if self.header_len < 2 {
            return 2;
        }
        let second = self.header[1];
        let length = match second & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if second & 0x80 != 0 { 4 } else { 0 };
        2 + length + mask
    }

    /// A whole header is in `self.header`: decide what its frame is.
    fn frame_started(&mut self) -> Result<(), DeflateError> {
        let header_len = self.header_len;
        self.header_len = 0;
        let first = self.header[0];
        let second = self.header[1];
        let fin = first & 0x80 != 0;
        let rsv1 = first & 0x40 != 0;
        let other_rsv = first & 0x30 != 0;
        let opcode = first & 0x0f;
        let length = match second & 0x7f {
            126 => u64::from(u16::from_be_bytes([self.header[2], self.header[3]])),
            127 => u64::from_be_bytes(self.header[2..10].try_into().unwrap_or_default()),
            short => u64::from(short),
        };
        let mask = (second & 0x80 != 0).then(|| {
            let at = header_len - 4;
            [
                self.header[at],
                self.header[at + 1],
                self.header[at + 2],
                self.header[at + 3],
            ]
        });
        let control = opcode & 0x08 != 0;
        let compressed = match (control, opcode, self.message) {
            (true, _, _) => false,
            // The first frame of a message: RSV1 says compressed.
            (false, 1 | 2, InMessage::Compressed(_)) => {
                return Err(DeflateError::Protocol(
                    "a message began before the compressed one ended",
                ));
            }
            (false, 1 | 2, InMessage::None) if rsv1 && !other_rsv => {
                self.message = InMessage::Compressed(opcode);
                true
            }
            (false, 1 | 2, InMessage::None) => {
                if !fin {
                    self.message = InMessage::Plain;
                }
                false
            }
            // Continuations of a compressed message have RSV1 clear.
            (false, 0, InMessage::Compressed(_)) if !rsv1 && !other_rsv => true,
            (false, 0, InMessage::Compressed(_)) => {
                return Err(DeflateError::Protocol("RSV1 set on a continuation frame"));
            }
            (false, 0, InMessage::Plain) => {
                if fin {
                    self.message = InMessage::None;
                }
                false
            }
            // Anything else is tungstenite's to refuse.
            _ => false,
        };
        if compressed {
            let limit = self.limit as u64;
            if length > limit.saturating_sub(self.compressed.len() as u64) {
                return Err(DeflateError::TooBig { limit: self.limit });
            }
            // No reservation from the header's word: the buffer grows with
            // what arrives.
            self.stage = Stage::Collect {
                remaining: length,
                mask,
                offset: 0,
                fin,
            };
            if length == 0 {
                self.stage = Stage::Header;
                if fin {
                    self.message_complete()?;
                }
            }
        } else {
            let header = self.header;
            self.out.extend_from_slice(&header[..header_len]);
            self.stage = if length == 0 {
                Stage::Header
            } else {
                Stage::Pass(length)
            };
        }
        Ok(())
    }

    /// The last frame of a compressed message arrived: inflate it and put
    /// out one plain frame.
    fn message_complete(&mut self) -> Result<(), DeflateError> {
        let InMessage::Compressed(opcode) = self.message else {
            return Ok(());
        };
        self.message = InMessage::None;
        let mut input = std::mem::take(&mut self.compressed);
        input.extend_from_slice(&TAIL);
        let inflated = self.inflate(&input);
        // The buffer is reused when small, given back when large.
        input.clear();
        if input.capacity() <= KEEP {
            self.compressed = input;
        }
        let payload = inflated?;
        let length = payload.len();
        self.out.push(0x80 | opcode);
        let mask_bit = if self.from_client { 0x80 } else { 0 };
        if length < 126 {
            self.out.push(mask_bit | length as u8);
        } else if let Ok(short) = u16::try_from(length) {
            self.out.push(mask_bit | 126);
            self.out.extend_from_slice(&short.to_be_bytes());
        } else {
            self.out.push(mask_bit | 127);
            self.out.extend_from_slice(&(length as u64).to_be_bytes());
        }
        if self.from_client {
            // A zero key: masking changes nothing.
            self.out.extend_from_slice(&[0; 4]);
        }
        self.out.extend_from_slice(&payload);
        Ok(())
    }

    /// Inflates one message, never past the limit: the output grows with
    /// what comes out, and one byte more than the limit is an error.
    fn inflate(&mut self, input: &[u8]) -> Result<Vec<u8>, DeflateError> {
        let bits = self.window_bits;
        let decompress = self
            .decompress
            .get_or_insert_with(|| Box::new(Decompress::new_with_window_bits(false, bits)));
        let cap = self.limit.saturating_add(1);
        let mut out: Vec<u8> = Vec::with_capacity((input.len() * 4).clamp(64, cap));
        let start_in = decompress.total_in();
        let mut ended = false;
        loop {
            let consumed = (decompress.total_in() - start_in) as usize;
            if out.len() == out.capacity() {
                if out.len() >= cap {
                    decompress.reset(false);
                    return Err(DeflateError::TooBig { limit: self.limit });
                }
                let more = out.len().max(4096).min(cap - out.len());
                out.reserve_exact(more);
            }
            let before_out = out.len();
            let status = decompress
                .decompress_vec(&input[consumed..], &mut out, FlushDecompress::Sync)
                .map_err(|err| {
                    decompress.reset(false);
                    DeflateError::Corrupt(err.to_string())
                })?;
            if out.len() > self.limit {
                decompress.reset(false);
                return Err(DeflateError::TooBig { limit: self.limit });
            }
            let consumed_now = (decompress.total_in() - start_in) as usize;
            match status {
                Status::StreamEnd => {
                    ended = true;
                    break;
                }
                _ if consumed_now == input.len() && out.len() < out.capacity() => break,
                // No progress with room left and input left: truncated data.
                Status::BufError
                    if consumed_now == consumed
                        && out.len() == before_out
                        && out.len() < out.capacity() =>
                {
                    break;
                }
                _ => {}
            }
        }
        if self.no_context_takeover {
            // The peer keeps no context: neither do we, between messages.
            self.decompress = None;
        } else if ended {
            decompress.reset(false);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame as a peer sends it.
    fn frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
        let mut out = vec![first];
        let mask_bit = if mask.is_some() { 0x80 } else { 0 };
        if payload.len() < 126 {
            out.push(mask_bit | payload.len() as u8);
        } else if payload.len() <= 0xffff {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        } else {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        }
        match mask {
            Some(key) => {
                out.extend_from_slice(&key);
                out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
            }
            None => out.extend_from_slice(payload),
        }
        out
    }

    fn drain(inflater: &mut Inflater) -> Vec<u8> {
        let mut all = Vec::new();
        let mut buf = [0u8; 100];
        while inflater.has_output() {
            let n = inflater.take_output(&mut buf);
            all.extend_from_slice(&buf[..n]);
        }
        all
    }

    /// Feeds `bytes` a few at a time.
    fn feed_slowly(inflater: &mut Inflater, bytes: &[u8]) -> Result<Vec<u8>, DeflateError> {
        let mut all = Vec::new();
        for chunk in bytes.chunks(7) {
            inflater.feed(chunk)?;
            all.extend(drain(inflater));
        }
        Ok(all)
    }

    #[test]
    fn compressed_messages_round_trip_with_context_takeover() {
        let mut deflater = Deflater::new(10, 6, 15, false);
        let mut inflater = Inflater::new(true, 1 << 20, 15, false);
        let key = [1, 2, 3, 4];
        for round in 0..3 {
            let text = format!("4{}", "hello engine.io ".repeat(100 + round));
            let compressed = deflater.compress(text.as_bytes()).unwrap();
            assert!(compressed.len() < text.len() / 4);
            let wire = frame(0xc1, &compressed, Some(key));
            let out = feed_slowly(&mut inflater, &wire).unwrap();
            // One plain, final text frame, masked with a zero key.
            assert_eq!(out[0], 0x81);
            assert_eq!(out[1], 0x80 | 126);
            assert_eq!(
                usize::from(u16::from_be_bytes([out[2], out[3]])),
                text.len()
            );
            assert_eq!(&out[4..8], &[0; 4]);
            assert_eq!(&out[8..], text.as_bytes());
        }
    }

    #[test]
    fn any_split_of_the_stream_gives_the_same_frames() {
        let mut deflater = Deflater::new(0, 6, 15, false);
        let mut wire = Vec::new();
        wire.extend(frame(0x81, b"4plain", Some([1, 2, 3, 4])));
        let first = deflater
            .compress(compressible_bytes(3000).as_slice())
            .unwrap();
        wire.extend(frame(0xc1, &first, Some([5, 6, 7, 8])));
        wire.extend(frame(0x89, b"p", Some([9, 9, 9, 9])));
        let second = deflater
            .compress(compressible_bytes(70_000).as_slice())
            .unwrap();
        let (a, b) = second.split_at(second.len() / 3);
        wire.extend(frame(0x42, a, Some([1, 1, 2, 2])));
        wire.extend(frame(0x80, b, Some([3, 3, 4, 4])));
        let whole = {
            let mut inflater = Inflater::new(true, 1 << 20, 15, false);
            inflater.feed(&wire).unwrap();
            drain(&mut inflater)
        };
        for size in [1, 2, 3, 5, 13, 64, 1000] {
            let mut inflater = Inflater::new(true, 1 << 20, 15, false);
            let mut got = Vec::new();
            for chunk in wire.chunks(size) {
                inflater.feed(chunk).unwrap();
                got.extend(drain(&mut inflater));
            }
            assert_eq!(got, whole, "chunks of {size}");
        }
        // Four frames out: plain text, inflated text, ping, inflated binary.
        assert_eq!(whole[0], 0x81);
    }

    /// Text-like bytes that compress well, but not to nothing.
    fn compressible_bytes(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"engine.io deflate "[i % 18] ^ ((i / 1000) as u8 & 1))
            .collect()
    }

    #[test]
    fn without_context_takeover_nothing_is_kept_between_messages() {
        let mut deflater = Deflater::new(0, 6, 15, true);
        let mut inflater = Inflater::new(false, 1 << 20, 15, true);
        for _ in 0..2 {
            let data = compressible_bytes(5000);
            let compressed = deflater.compress(&data).unwrap();
            assert!(deflater.compress.is_none());
            inflater.feed(&frame(0xc2, &compressed, None)).unwrap();
            assert!(inflater.decompress.is_none());
            assert_eq!(&drain(&mut inflater)[4..], &data[..]);
        }
    }

    #[test]
    fn small_messages_are_not_compressed() {
        let mut deflater = Deflater::new(1024, 6, 15, false);
        assert_eq!(deflater.compress(&[b'x'; 1023]), None);
        assert!(deflater.compress(&[b'x'; 1024]).is_some());
    }

    #[test]
    fn plain_and_control_frames_pass_unchanged_even_between_fragments() {
        let mut deflater = Deflater::new(0, 6, 12, true);
        let mut inflater = Inflater::new(false, 1 << 20, 15, false);
        let plain = frame(0x81, b"4hi", None);
        let ping = frame(0x89, b"", None);
        let compressed = deflater.compress(&[b'a'; 3000]).unwrap();
        let (a, b) = compressed.split_at(compressed.len() / 2);
        let mut wire = plain.clone();
        wire.extend(frame(0x42, a, None)); // binary, RSV1, not final
        wire.extend(&ping);
        wire.extend(frame(0x80, b, None)); // final continuation
        let out = feed_slowly(&mut inflater, &wire).unwrap();
        let mut expected = plain;
        expected.extend(ping);
        expected.extend(frame(0x82, &[b'a'; 3000], None));
        assert_eq!(out, expected);
        // Uncompressed fragmented messages go through as they are.
        let mut wire = frame(0x01, b"4a", None);
        wire.extend(frame(0x80, b"b", None));
        assert_eq!(feed_slowly(&mut inflater, &wire).unwrap(), wire);
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_limit() {
        let mut deflater = Deflater::new(0, 9, 15, false);
        let zeros = vec![0u8; 10 << 20];
        let bomb = deflater.compress(&zeros).unwrap();
        assert!(bomb.len() < 20_000, "{}", bomb.len());
        let mut inflater = Inflater::new(true, 100_000, 15, false);
        let wire = frame(0xc2, &bomb, Some([9, 8, 7, 6]));
        assert_eq!(
            inflater.feed(&wire),
            Err(DeflateError::TooBig { limit: 100_000 })
        );
        // A compressed frame longer than the limit is refused from its
        // header, before its payload.
        let mut inflater = Inflater::new(true, 10, 15, false);
        assert_eq!(
            inflater.feed(&frame(0xc1, &[0; 11], Some([0; 4]))[..6]),
            Err(DeflateError::TooBig { limit: 10 })
        );
    }

    #[test]
    fn a_message_exactly_at_the_limit_is_accepted() {
        let mut deflater = Deflater::new(0, 6, 15, false);
        let data = vec![7u8; 5000];
        let compressed = deflater.compress(&data).unwrap();
        let mut inflater = Inflater::new(false, 5000, 15, false);
        inflater.feed(&frame(0xc2, &compressed, None)).unwrap();
        let out = drain(&mut inflater);
        assert_eq!(&out[4..], &data[..]);
    }

    #[test]
    fn broken_data_and_interleaved_messages_are_errors() {
        let mut inflater = Inflater::new(false, 1000, 15, false);
        assert!(matches!(
            inflater.feed(&frame(0xc1, &[0xff, 0xff, 0xff], None)),
            Err(DeflateError::Corrupt(_))
        ));
        let mut inflater = Inflater::new(false, 1000, 15, false);
        let mut wire = frame(0x41, &[0x00], None);
        wire.extend(frame(0x81, b"4x", None));
        assert!(matches!(
            inflater.feed(&wire),
            Err(DeflateError::Protocol(_))
        ));
    }
}
