//! permessage-deflate (RFC 7692): WebSocket messages compressed on the wire.
//!
//! Off by default on the server and the client, as in Node's `engine.io`;
//! [`PerMessageDeflate`] turns it on
//! ([`ServerConfig::per_message_deflate`](crate::server::ServerConfig::per_message_deflate),
//! [`ClientBuilder::per_message_deflate`](crate::client::ClientBuilder::per_message_deflate)).
//!
//! tungstenite, which runs our WebSockets, has no extensions: it refuses a
//! frame with RSV1 set. So the extension lives beside it, in three pieces:
//!
//! - `negotiate`: the `Sec-WebSocket-Extensions` offer and answer;
//! - `codec::Deflater`: a message at least [`PerMessageDeflate::threshold`]
//!   long is compressed and sent as a raw frame with RSV1 set (tungstenite
//!   writes such frames as they are);
//! - `codec::Inflater`: under tungstenite, in the connection's read path
//!   (`ReadAhead`), compressed messages are collected, inflated (never past
//!   the largest message allowed: a decompression bomb is an error, not an
//!   allocation) and handed up as one plain frame, so tungstenite sees only
//!   uncompressed frames.
//!
//! A connection that did not negotiate the extension has neither piece: its
//! read and write paths are the same as without compression.

pub(crate) mod codec;
pub(crate) mod negotiate;

pub use codec::DeflateError;

/// The permessage-deflate settings (RFC 7692), with the defaults of Node's
/// `engine.io` (`perMessageDeflate: true`, which is `ws`'s defaults with a
/// 1024-byte threshold).
///
/// | setting | default | Node (`ws`) name |
/// |---|---|---|
/// | [`threshold`](Self::threshold) | 1024 bytes | `threshold` |
/// | [`server_no_context_takeover`](Self::server_no_context_takeover) | false | `serverNoContextTakeover` |
/// | [`client_no_context_takeover`](Self::client_no_context_takeover) | false | `clientNoContextTakeover` |
/// | [`server_max_window_bits`](Self::server_max_window_bits) | 15 | `serverMaxWindowBits` |
/// | [`client_max_window_bits`](Self::client_max_window_bits) | 15 | `clientMaxWindowBits` |
/// | [`level`](Self::level) | 6 (zlib's default) | `zlibDeflateOptions.level` |
///
/// zlib's `memLevel` is 8, its default and `ws`'s.
///
/// Memory: with context takeover (the default), a connection keeps its
/// compressor (about 256 KiB with 15 window bits) once it has compressed a
/// message, and its decompressor (about 40 KiB) once it has received a
/// compressed one, as Node's `ws` does (about 330 KiB per session in all,
/// measured). Without context takeover, each is dropped after its message
/// (Node's `ws` keeps them): an idle session holds neither, for an
/// allocation per compressed message. A connection that never crosses the
/// threshold allocates neither.
///
/// # Examples
///
/// ```
/// use engineio::PerMessageDeflate;
///
/// let deflate = PerMessageDeflate::default()
///     .threshold(4096)
///     .server_no_context_takeover(true);
/// assert_eq!(deflate.get_threshold(), 4096);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PerMessageDeflate {
    pub(crate) threshold: usize,
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: u8,
    pub(crate) client_max_window_bits: u8,
    pub(crate) level: u32,
}

impl Default for PerMessageDeflate {
    fn default() -> Self {
        Self {
            threshold: 1024,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            level: 6,
        }
    }
}

impl PerMessageDeflate {
    /// Messages shorter than this many bytes (the encoded Engine.IO packet,
    /// as it goes in the frame) are sent uncompressed (default 1024).
    ///
    /// Node's client and Python's apply the threshold to every message;
    /// Node's server (`ws`) applies it only when its context takeover is
    /// off, and compresses every message otherwise. Ours always applies it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::PerMessageDeflate;
    /// let deflate = PerMessageDeflate::default().threshold(0); // compress everything
    /// # let _ = deflate;
    /// ```
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// The threshold set by [`threshold`](Self::threshold).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::PerMessageDeflate;
    /// assert_eq!(PerMessageDeflate::default().get_threshold(), 1024);
    /// ```
    pub fn get_threshold(&self) -> usize {
        self.threshold
    }

    /// The server resets its compressor after each message (default
    /// false). A server asks for it in its answer; a client asks for it in
    /// its offer. A peer that asks for it always gets it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::PerMessageDeflate;
    /// let deflate = PerMessageDeflate::default().server_no_context_takeover(true);
    /// # let _ = deflate;
    /// ```
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// The client resets its compressor after each message (default
    /// false). A peer that asks for it always gets it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::PerMessageDeflate;
    /// let deflate = PerMessageDeflate::default().client_no_context_takeover(true);
    /// # let _ = deflate;
    /// ```
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// The largest LZ77 window the server compresses with, as a power of
    /// two: 9 to 15 (default 15; values outside are clamped). A client's
    /// offer may lower it; an offer asking for 8 is declined (zlib's raw
    /// deflate cannot go below 9).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::PerMessageDeflate;
    /// let deflate = PerMessageDeflate::default().server_max_window_bits(10);
    /// # let _ = deflate;
    /// ```
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits.clamp(9, 15);
        self
    }

    /// The largest window the client compresses with: 9 to 15 (default 15;
    /// values outside are clamped). A server asks a client that supports
    /// the parameter to use at most this; a client offers it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::PerMessageDeflate;
    /// let deflate = PerMessageDeflate::default().client_max_window_bits(12);
    /// # let _ = deflate;
    /// ```
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = bits.clamp(9, 15);
        self
    }

    /// The zlib compression level, 0 (none) to 9 (smallest, slowest); default
    /// 6, zlib's and Node's. Values above 9 are clamped.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::PerMessageDeflate;
    /// let deflate = PerMessageDeflate::default().level(1); // fastest
    /// # let _ = deflate;
    /// ```
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }
}
