//! The connection under a WebSocket: reads go through one scratch
//! buffer per thread, so that an idle WebSocket holds no big read buffer
//! while a large message still arrives in few system calls; compressed
//! messages (permessage-deflate) are inflated here, below tungstenite.
//!
//! tungstenite keeps a read buffer per connection and reads at most its
//! size at a time ([`ServerConfig::ws_read_buffer_size`], 256 bytes by
//! default). [`ReadAhead`] reads from the socket into this thread's 64 KiB
//! scratch buffer instead, hands tungstenite what it asked for, and keeps
//! the rest in a per-connection buffer that exists only while it holds
//! bytes: a 64 KiB message costs one or two `recv` calls, and an idle
//! WebSocket costs its 256-byte buffer.
//!
//! When permessage-deflate was negotiated, the bytes read go through an
//! [`Inflater`] before tungstenite sees them (see [`crate::deflate`]). A
//! client's WebSocket starts by handing out the server's HTTP answer and
//! nothing past it, so that no frame reaches tungstenite's handshake before
//! the inflater is in place.
//!
//! [`ServerConfig::ws_read_buffer_size`]: crate::server::ServerConfig::ws_read_buffer_size

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf as _, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::deflate::DeflateError;
use crate::deflate::codec::Inflater;

/// The most bytes one `recv` reads.
const SCRATCH: usize = 64 * 1024;

thread_local! {
    static SCRATCH_BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH]);
}

/// What the bytes read go through.
#[derive(Debug)]
enum Mode {
    /// Straight to tungstenite.
    Plain,
    /// A client's handshake: up to the end of the HTTP answer's headers and
    /// no further, when the answer is a 101 (any other status is followed
    /// by a body, which tungstenite keeps with the error: everything goes
    /// through then). `matched`: how much of `\r\n\r\n` was seen;
    /// `status_seen`: whether the status line was checked.
    #[cfg(feature = "client")]
    Headers { matched: u8, status_seen: bool },
    /// Through the inflater (permessage-deflate was negotiated).
    Inflate(Box<Inflater>),
}

pin_project_lite::pin_project! {
    /// An I/O stream whose reads go through this thread's scratch buffer.
    #[derive(Debug)]
    pub(crate) struct ReadAhead<T> {
        #[pin]
        inner: T,
        // Bytes read from the socket and not yet handed out; empty (and
        // unallocated) most of the time.
        rest: Bytes,
        mode: Mode,
    }
}

impl<T> ReadAhead<T> {
    /// Wraps a stream; with an inflater, compressed messages are inflated.
    #[cfg(feature = "server")]
    pub(crate) fn new(inner: T, inflater: Option<Inflater>) -> Self {
        Self {
            inner,
            rest: Bytes::new(),
            mode: inflater.map_or(Mode::Plain, |inflater| Mode::Inflate(Box::new(inflater))),
        }
    }

    /// Wraps a client's stream before its WebSocket handshake: reads stop
    /// at the end of the server's headers until [`ReadAhead::handshake_done`].
    #[cfg(feature = "client")]
    pub(crate) fn client(inner: T) -> Self {
        Self {
            inner,
            rest: Bytes::new(),
            mode: Mode::Headers {
                matched: 0,
                status_seen: false,
            },
        }
    }

    /// The handshake is over: what follows goes through `inflater`, if any.
    #[cfg(feature = "client")]
    pub(crate) fn handshake_done(&mut self, inflater: Option<Inflater>) {
        self.mode = inflater.map_or(Mode::Plain, |inflater| Mode::Inflate(Box::new(inflater)));
    }
}

/// Reads from `inner` into this thread's scratch buffer and gives what was
/// read to `take` (an empty slice at the end of the stream).
fn read_scratch<T: AsyncRead, R>(
    inner: Pin<&mut T>,
    cx: &mut Context<'_>,
    take: impl FnOnce(&[u8]) -> R,
) -> Poll<io::Result<R>> {
    SCRATCH_BUFFER.with(|scratch| {
        let mut owned;
        let mut borrowed = scratch.try_borrow_mut();
        // Never re-entered in practice; a buffer of its own if it were.
        let scratch: &mut [u8] = match borrowed.as_mut() {
            Ok(scratch) => &mut scratch[..],
            Err(_) => {
                owned = vec![0; 4096];
                &mut owned[..]
            }
        };
        let mut read = ReadBuf::new(scratch);
        match inner.poll_read(cx, &mut read) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(take(read.filled()))),
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => Poll::Pending,
        }
    })
}

#[cfg(feature = "client")]
/// How far into `\r\n\r\n` the bytes get, from `matched`; `Err(n)` when
/// the first `n` bytes end it.
fn scan_headers(mut matched: u8, bytes: &[u8]) -> Result<u8, usize> {
    for (i, &byte) in bytes.iter().enumerate() {
        matched = match (matched, byte) {
            (0 | 2, b'\r') => matched + 1,
            (1 | 3, b'\n') => matched + 1,
            (_, b'\r') => 1,
            _ => 0,
        };
        if matched == 4 {
            return Err(i + 1);
        }
    }
    Ok(matched)
}

impl<T: AsyncRead> AsyncRead for ReadAhead<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut this = self.project();
        match this.mode {
            Mode::Plain => {}
            Mode::Inflate(inflater) => loop {
                if inflater.has_output() || buf.remaining() == 0 {
                    let n = inflater.take_output(buf.initialize_unfilled());
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                if !this.rest.is_empty() {
                    let rest = std::mem::take(this.rest);
                    inflater.feed(&rest).map_err(DeflateError::into_io)?;
                    continue;
                }
                let fed = std::task::ready!(read_scratch(this.inner.as_mut(), cx, |read| {
                    inflater.feed(read).map(|()| !read.is_empty())
                }))?;
                if !fed.map_err(DeflateError::into_io)? {
                    // The end of the stream.
                    return Poll::Ready(Ok(()));
                }
            },
            #[cfg(feature = "client")]
            Mode::Headers {
                matched,
                status_seen,
            } => {
                if this.rest.is_empty() {
                    let read = std::task::ready!(read_scratch(
                        this.inner.as_mut(),
                        cx,
                        Bytes::copy_from_slice
                    ))?;
                    if read.is_empty() {
                        return Poll::Ready(Ok(()));
                    }
                    *this.rest = read;
                }
                // `HTTP/1.1 101 ...`: the status is at bytes 9 to 11 (an
                // answer whose first read is shorter is taken for a 101).
                let refused = !*status_seen && this.rest.len() >= 12 && &this.rest[9..12] != b"101";
                *status_seen = true;
                if refused {
                    *this.mode = Mode::Plain;
                } else {
                    let n = this.rest.len().min(buf.remaining());
                    let n = match scan_headers(*matched, &this.rest[..n]) {
                        Ok(now) => {
                            *matched = now;
                            n
                        }
                        Err(end) => {
                            *this.mode = Mode::Plain;
                            end
                        }
                    };
                    buf.put_slice(&this.rest[..n]);
                    this.rest.advance(n);
                    return Poll::Ready(Ok(()));
                }
            }
        }
        if !this.rest.is_empty() {
            let n = this.rest.len().min(buf.remaining());
            buf.put_slice(&this.rest[..n]);
            this.rest.advance(n);
            return Poll::Ready(Ok(()));
        }
        // A large read into the shared scratch buffer; what does not fit in
        // `buf` is kept in `rest` (one allocation, only when there is more).
        let rest = this.rest;
        read_scratch(this.inner, cx, |filled| {
            let n = filled.len().min(buf.remaining());
            buf.put_slice(&filled[..n]);
            if filled.len() > n {
                *rest = Bytes::copy_from_slice(&filled[n..]);
            }
        })
    }
}

impl<T: AsyncWrite> AsyncWrite for ReadAhead<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// Reads everything `reader` gives in one call at a time.
    async fn read_once<T: AsyncRead + Unpin>(reader: &mut ReadAhead<T>) -> Vec<u8> {
        let mut chunk = [0u8; 4096];
        let n = reader.read(&mut chunk).await.unwrap();
        chunk[..n].to_vec()
    }

    #[tokio::test]
    async fn a_client_handshake_stops_at_the_end_of_a_101s_headers_only() {
        let switching = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi";
        let mut reader = ReadAhead::client(&switching[..]);
        let mut got = Vec::new();
        while !got.ends_with(b"\r\n\r\n") {
            got.extend(read_once(&mut reader).await);
        }
        assert_eq!(got, &switching[..switching.len() - 4]);
        reader.handshake_done(None);
        assert_eq!(read_once(&mut reader).await, b"\x81\x02hi");
        // A refusal's body comes with its headers (tungstenite keeps it).
        let refused = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\n\r\n{}";
        let mut reader = ReadAhead::client(&refused[..]);
        assert_eq!(read_once(&mut reader).await, &refused[..]);
    }

    #[tokio::test]
    async fn small_reads_get_every_byte_in_order_and_keep_nothing_after() {
        let (mut client, server) = tokio::io::duplex(256 * 1024);
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let writer = tokio::spawn({
            let data = data.clone();
            async move {
                client.write_all(&data).await.unwrap();
                client.shutdown().await.unwrap();
            }
        });
        let mut reader = ReadAhead::new(server, None);
        let mut got = Vec::new();
        let mut chunk = [0u8; 512];
        loop {
            let n = reader.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&chunk[..n]);
        }
        writer.await.unwrap();
        assert_eq!(got, data);
        assert!(reader.rest.is_empty());
    }
}
