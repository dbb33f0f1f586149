//! The `CONNECT` tunnel a WebSocket goes through: the connection to the
//! proxy (over TLS for an `https://` proxy), the request, and the proxy's
//! answer.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use super::{MAX_HEAD, ProxyError, ProxyUrl, authority};
use crate::client::error::{Cause, ConnectionError, from_source};

/// A connection to a server: direct, or a tunnel through a proxy (over
/// TLS for an `https://` proxy). The WebSocket's own TLS goes on top.
pub(crate) enum Conn {
    /// TCP to the server or to an `http://` proxy.
    Tcp(TcpStream),
    /// TLS to an `https://` proxy.
    #[cfg(feature = "tls")]
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(_) => f.write_str("Conn::Tcp"),
            #[cfg(feature = "tls")]
            Self::Tls(_) => f.write_str("Conn::Tls"),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(stream) => stream.is_write_vectored(),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => stream.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_flush(cx),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Opens a TCP connection to `host:port` (a host without brackets), with
/// Nagle's algorithm off as the WebSocket wants.
pub(crate) async fn tcp(host: &str, port: u16) -> io::Result<TcpStream> {
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Opens a tunnel to `host:port` through `proxy`: TCP (and TLS for an
/// `https://` proxy) to the proxy, then `CONNECT`; a 2xx answer opens the
/// tunnel, anything else is a [`ConnectionError::Transport`] naming the
/// proxy and its status. The caller bounds the time.
pub(crate) async fn open(
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
    #[cfg(feature = "tls")] tls: &Arc<rustls::ClientConfig>,
) -> Result<Conn, ConnectionError> {
    let name = proxy.to_string();
    let target = authority(host, port);
    tracing::debug!("opening a tunnel to {target} through the proxy {name}");
    let tcp = tcp(&proxy.host, proxy.port).await.map_err(|source| {
        from_source(ProxyError::Connect {
            proxy: name.clone(),
            source,
        })
    })?;
    #[cfg(feature = "tls")]
    let mut conn = if proxy.secure {
        let server = rustls::pki_types::ServerName::try_from(proxy.host.clone())
            .map_err(|err| ConnectionError::InvalidUrl(format!("proxy {name}: {err}")))?;
        let stream = tokio_rustls::TlsConnector::from(Arc::clone(tls))
            .connect(server, tcp)
            .await
            .map_err(|source| {
                ConnectionError::Tls(Cause::of(ProxyError::Tls {
                    proxy: name.clone(),
                    source,
                }))
            })?;
        Conn::Tls(Box::new(stream))
    } else {
        Conn::Tcp(tcp)
    };
    #[cfg(not(feature = "tls"))]
    let mut conn = Conn::Tcp(tcp);

    let broken = |source| {
        from_source(ProxyError::Broken {
            proxy: name.clone(),
            target: target.clone(),
            source,
        })
    };
    let request = connect_request(host, port, proxy.authorization.as_deref());
    conn.write_all(request.as_bytes()).await.map_err(broken)?;
    conn.flush().await.map_err(broken)?;
    let head = match read_head(&mut conn).await {
        Ok(head) => head,
        Err(HeadError::Io(source)) => return Err(broken(source)),
        Err(HeadError::Bad(why)) => {
            return Err(ConnectionError::Transport(Cause::of(
                ProxyError::BadAnswer {
                    proxy: name,
                    target,
                    why,
                },
            )));
        }
    };
    if !(200..300).contains(&head.status) {
        let reason = if head.reason.is_empty() {
            String::new()
        } else {
            format!(" {}", head.reason)
        };
        return Err(ConnectionError::Transport(Cause::of(ProxyError::Refused {
            proxy: name,
            target,
            status: head.status,
            reason,
        })));
    }
    tracing::debug!("tunnel to {target} through {name} open");
    Ok(conn)
}

/// The `CONNECT` request for `host:port`, with `Proxy-Authorization` when
/// the proxy URL has credentials.
pub(crate) fn connect_request(host: &str, port: u16, authorization: Option<&str>) -> String {
    let target = authority(host, port);
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(authorization) = authorization {
        request.push_str("Proxy-Authorization: ");
        request.push_str(authorization);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request
}

/// The status line of a proxy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) status: u16,
    pub(crate) reason: String,
}

#[derive(Debug)]
pub(crate) enum HeadError {
    Io(io::Error),
    Bad(String),
}

/// Reads a response head up to and including its `\r\n\r\n`, byte by byte
/// so that nothing of the tunnel after it is taken, and parses its status
/// line.
pub(crate) async fn read_head<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Head, HeadError> {
    let mut head = Vec::with_capacity(128);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return Err(HeadError::Bad(format!(
                "no end of the response head within {MAX_HEAD} bytes"
            )));
        }
        match reader.read(&mut byte).await {
            Ok(0) => {
                return Err(if head.is_empty() {
                    HeadError::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the proxy closed the connection without answering",
                    ))
                } else {
                    HeadError::Bad("the connection closed in the middle of the answer".to_owned())
                });
            }
            Ok(_) => head.push(byte[0]),
            Err(err) => return Err(HeadError::Io(err)),
        }
    }
    let line_end = head
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(head.len());
    let line = String::from_utf8_lossy(&head[..line_end]);
    parse_status_line(&line).ok_or_else(|| {
        let shown: String = line.chars().take(80).collect();
        HeadError::Bad(format!("not an HTTP status line: {shown:?}"))
    })
}

/// `HTTP/1.1 200 Connection established` → 200 and the reason.
fn parse_status_line(line: &str) -> Option<Head> {
    let rest = line.strip_prefix("HTTP/")?;
    let (_version, rest) = rest.split_once(' ')?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Head {
        status: code.parse().ok()?,
        reason: reason.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_requests() {
        assert_eq!(
            connect_request("example.com", 443, None),
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
        );
        assert_eq!(
            connect_request("::1", 3000, Some("Basic dTpw")),
            "CONNECT [::1]:3000 HTTP/1.1\r\nHost: [::1]:3000\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn response_heads_are_read_to_their_end_and_no_further() {
        let mut answer: &[u8] =
            b"HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\nTUNNEL";
        let head = read_head(&mut answer).await.unwrap();
        assert_eq!(
            head,
            Head {
                status: 200,
                reason: "Connection established".to_owned()
            }
        );
        assert_eq!(answer, b"TUNNEL");

        let mut refused: &[u8] = b"HTTP/1.1 403 Access violation\r\n\r\n<html>";
        assert_eq!(read_head(&mut refused).await.unwrap().status, 403);
        let mut bare: &[u8] = b"HTTP/1.1 407\r\n\r\n";
        let head = read_head(&mut bare).await.unwrap();
        assert_eq!((head.status, head.reason.as_str()), (407, ""));
    }

    #[tokio::test]
    async fn bad_response_heads() {
        for bad in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n",
        ] {
            let mut reader = bad;
            assert!(
                matches!(read_head(&mut reader).await, Err(HeadError::Bad(_))),
                "{bad:?}"
            );
        }
        let mut empty: &[u8] = b"";
        assert!(matches!(
            read_head(&mut empty).await,
            Err(HeadError::Io(err)) if err.kind() == io::ErrorKind::UnexpectedEof
        ));
        let endless = vec![b'a'; MAX_HEAD + 10];
        let mut endless = endless.as_slice();
        assert!(matches!(
            read_head(&mut endless).await,
            Err(HeadError::Bad(why)) if why.contains("no end")
        ));
    }
}
