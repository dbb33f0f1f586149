//! The client's WebTransport transport (feature `webtransport`): one QUIC
//! connection per session, one bidirectional stream carrying the packets
//! behind length headers ([`engineio_proto::webtransport`]).
//!
//! The core drives the stream exactly as a WebSocket (same [`WsId`]s,
//! writes and closes); this module opens it and runs its two halves: a
//! reader task that decodes frames into a bounded channel (so a
//! backlogged client stops reading), and a writer task that writes each
//! batch in one write and, on close, finishes the stream before closing
//! the connection.

use std::sync::Arc;
use std::time::Duration;

use engineio_proto::Frame;
use engineio_proto::webtransport::{FrameDecoder, FrameHeader};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use url::Url;
use wtransport::endpoint::endpoint_side;
use wtransport::tls::Sha256Digest;
use wtransport::{ClientConfig as WtConfig, Connection, Endpoint, RecvStream, SendStream, VarInt};

use super::driver::{WsOut, WtIn};
use super::error::{Cause, ConnectionError};
use super::link::Link;

/// An opened WebTransport session and its stream.
pub(crate) struct WtOpened {
    endpoint: Endpoint<endpoint_side::Client>,
    connection: Connection,
    send: SendStream,
    recv: RecvStream,
}

impl std::fmt::Debug for WtOpened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WtOpened").finish_non_exhaustive()
    }
}

/// The `https://` URL of the WebTransport session: the polling URL's host,
/// port, path and query (without `transport`, `t` and `sid`).
pub(crate) fn session_url(polling: &Url) -> Url {
    let mut url = polling.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !matches!(&**k, "transport" | "t" | "sid"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_query(None);
    if !kept.is_empty() {
        let mut query = url.query_pairs_mut();
        for (k, v) in &kept {
            query.append_pair(k, v);
        }
    }
    let _ = url.set_scheme("https");
    url
}

/// Opens a WebTransport session at `url` and its bidirectional stream,
/// within `timeout`. With `hashes`, the server's certificate is accepted
/// only when its SHA-256 digest is one of them (as browsers'
/// `serverCertificateHashes`); otherwise it must chain to the system's
/// roots.
pub(crate) async fn open(
    url: &Url,
    hashes: &[[u8; 32]],
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<WtOpened, ConnectionError> {
    let builder = WtConfig::builder().with_bind_default();
    let config = if hashes.is_empty() {
        builder.with_native_certs().build()
    } else {
        builder
            .with_server_certificate_hashes(hashes.iter().map(|h| Sha256Digest::new(*h)))
            .build()
    };
    let endpoint =
        Endpoint::client(config).map_err(|err| ConnectionError::Transport(Cause::of(err)))?;
    let mut options = wtransport::endpoint::ConnectOptions::builder(url.as_str());
    for (name, value) in headers {
        options = options.add_header(name, value);
    }
    let opening = async {
        let connection = endpoint
            .connect(options.build())
            .await
            .map_err(|err| ConnectionError::Transport(Cause::of(err)))?;
        let (send, recv) = connection
            .open_bi()
            .await
            .map_err(|err| ConnectionError::Transport(Cause::of(err)))?
            .await
            .map_err(|err| ConnectionError::Transport(Cause::of(err)))?;
        Ok::<_, ConnectionError>((connection, send, recv))
    };
    let (connection, send, recv) = tokio::time::timeout(timeout, opening)
        .await
        .map_err(|_| ConnectionError::Timeout(timeout))??;
    Ok(WtOpened {
        endpoint,
        connection,
        send,
        recv,
    })
}

/// How long a close waits for the stream's last bytes to be acknowledged.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the reader and the writer of an opened stream: the frames read
/// (then its end) come out of the receiver; the sender takes writes.
pub(crate) fn spawn(
    opened: WtOpened,
    link: Arc<Link>,
) -> (
    mpsc::Receiver<WtIn>,
    mpsc::UnboundedSender<WsOut>,
    JoinHandle<()>,
) {
    let WtOpened {
        endpoint,
        connection,
        send,
        recv,
    } = opened;
    let (in_tx, in_rx) = mpsc::channel(16);
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let reader = tokio::spawn(read_loop(recv, in_tx));
    let writer = tokio::spawn(async move {
        write_loop(send, &connection, out_rx, link).await;
        reader.abort();
        drop(endpoint);
    });
    (in_rx, out_tx, writer)
}

/// Reads the stream into frames until it ends.
async fn read_loop(mut recv: RecvStream, tx: mpsc::Sender<WtIn>) {
    let mut decoder = FrameDecoder::new(usize::MAX);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    if tx.send(WtIn::Frame(frame)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    tracing::warn!("engine.io WebTransport: undecodable stream: {err}");
                    let _ = tx.send(WtIn::End { clean: false }).await;
                    return;
                }
            }
        }
        match recv.read(&mut buf).await {
            Ok(Some(n)) => decoder.push(&buf[..n]),
            Ok(None) => {
                let _ = tx.send(WtIn::End { clean: true }).await;
                return;
            }
            Err(err) => {
                tracing::debug!("engine.io WebTransport read failed: {err}");
                let _ = tx.send(WtIn::End { clean: false }).await;
                return;
            }
        }
    }
}

/// Appends a frame with its length header; an empty binary message goes as
/// the text packet `b`.
fn encode_frame(frame: &Frame, out: &mut Vec<u8>) {
    let (bytes, binary) = match frame {
        Frame::Text(text) => (text.as_bytes(), false),
        Frame::Binary(bytes) if bytes.is_empty() => (&b"b"[..], false),
        Frame::Binary(bytes) => (&bytes[..], true),
    };
    out.extend_from_slice(FrameHeader::new(bytes.len(), binary).as_bytes());
    out.extend_from_slice(bytes);
}

/// Writes batches in order; on close finishes the stream, then closes the
/// connection.
async fn write_loop(
    mut send: SendStream,
    connection: &Connection,
    mut rx: mpsc::UnboundedReceiver<WsOut>,
    link: Arc<Link>,
) {
    let mut out = Vec::new();
    while let Some(item) = rx.recv().await {
        match item {
            WsOut::Frames(frames, messages) => {
                out.clear();
                for frame in &frames {
                    encode_frame(frame, &mut out);
                }
                let result = send.write_all(&out).await;
                link.change(|core| core.written(messages));
                if let Err(err) = result {
                    tracing::debug!("engine.io WebTransport write failed: {err}");
                    return;
                }
            }
            WsOut::Close => break,
        }
    }
    let _ = tokio::time::timeout(FLUSH_TIMEOUT, send.finish()).await;
    connection.close(VarInt::from_u32(0), b"");
}
