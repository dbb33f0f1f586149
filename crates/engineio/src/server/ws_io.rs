//! The connection under a server WebSocket: reads go through one scratch
//! buffer per thread, so that an idle WebSocket holds no big read buffer
//! while a large message still arrives in few system calls.
//!
//! tungstenite keeps a read buffer per connection and reads at most its
//! size at a time ([`ServerConfig::ws_read_buffer_size`], 256 bytes by
//! default). [`ReadAhead`] reads from the socket into this thread's 64 KiB
//! scratch buffer instead, hands tungstenite what it asked for, and keeps
//! the rest in a per-connection buffer that exists only while it holds
//! bytes: a 64 KiB message costs one or two `recv` calls, and an idle
//! WebSocket costs its 256-byte buffer.
//!
//! [`ServerConfig::ws_read_buffer_size`]: super::ServerConfig::ws_read_buffer_size

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf as _, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most bytes one `recv` reads.
const SCRATCH: usize = 64 * 1024;

thread_local! {
    static SCRATCH_BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH]);
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
    }
}

impl<T> ReadAhead<T> {
    /// Wraps a stream.
    pub(crate) fn new(inner: T) -> Self {
        Self {
            inner,
            rest: Bytes::new(),
        }
    }
}

impl<T: AsyncRead> AsyncRead for ReadAhead<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        if !this.rest.is_empty() {
            let n = this.rest.len().min(buf.remaining());
            buf.put_slice(&this.rest[..n]);
            this.rest.advance(n);
            return Poll::Ready(Ok(()));
        }
        // A large read into the shared scratch buffer; what does not fit in
        // `buf` is kept in `rest` (one allocation, only when there is more).
        SCRATCH_BUFFER.with(|scratch| {
            let Ok(mut scratch) = scratch.try_borrow_mut() else {
                // Never re-entered in practice; read directly if it were.
                return this.inner.poll_read(cx, buf);
            };
            let mut read = ReadBuf::new(&mut scratch[..]);
            match this.inner.poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) => {
                    let filled = read.filled();
                    let n = filled.len().min(buf.remaining());
                    buf.put_slice(&filled[..n]);
                    if filled.len() > n {
                        *this.rest = Bytes::copy_from_slice(&filled[n..]);
                    }
                    Poll::Ready(Ok(()))
                }
                other => other,
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
        let mut reader = ReadAhead::new(server);
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
