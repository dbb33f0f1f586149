//! Engine.IO requests written by hand on plain TCP, for the soaks and the
//! benchmark: a soak can stop at any byte (half a POST body, a WebSocket
//! left after its probe, half a frame), and the benchmark's connections
//! cost next to nothing. Plain `http://` only (loopback).

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use futures_util::{SinkExt as _, StreamExt as _};

/// How long one request may take before the step counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the server is: `host:port` and the Engine.IO path.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `host:port`.
    pub(crate) authority: String,
    /// The Engine.IO path, with a leading and a trailing slash.
    pub(crate) path: String,
}

impl Target {
    /// Parses `http://host:port[/]` and an Engine.IO path (`engine.io` or
    /// `/engine.io/`).
    pub(crate) fn parse(url: &str, path: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url}: only http:// URLs are supported here"))?;
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() {
            return Err(format!("{url}: no host"));
        }
        let path = format!("/{}/", path.trim_matches('/'));
        Ok(Self {
            authority: authority.to_owned(),
            path,
        })
    }

    /// The request target for `query`.
    pub(crate) fn uri(&self, query: &str) -> String {
        format!("{}?{query}", self.path)
    }

    /// Opens a TCP connection to the server.
    pub(crate) async fn connect(&self) -> Result<TcpStream, String> {
        let stream = tokio::time::timeout(REQUEST_TIMEOUT, TcpStream::connect(&self.authority))
            .await
            .map_err(|_| "connect timed out".to_owned())?
            .map_err(|err| format!("connect: {err}"))?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    /// Writes a request head (with `Host` and `Connection: close` added) and
    /// `body` on a new connection, and returns the connection unread.
    pub(crate) async fn send(
        &self,
        method: &str,
        query: &str,
        headers: &str,
        body: &[u8],
    ) -> Result<TcpStream, String> {
        let mut stream = self.connect().await?;
        let head = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{headers}\r\n",
            self.uri(query),
            self.authority
        );
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|err| format!("write: {err}"))?;
        stream
            .write_all(body)
            .await
            .map_err(|err| format!("write: {err}"))?;
        Ok(stream)
    }

    /// A whole request: its status and body.
    pub(crate) async fn request(
        &self,
        method: &str,
        query: &str,
        headers: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<(u16, String), String> {
        let stream = self.send(method, query, headers, body).await?;
        tokio::time::timeout(timeout, read_response(stream))
            .await
            .map_err(|_| format!("no answer to {method} within {timeout:?}"))?
    }

    /// A new polling session: its id, and the ping interval plus ping
    /// timeout it announced.
    pub(crate) async fn polling_handshake(&self) -> Result<(String, Duration), String> {
        let (status, body) = self
            .request("GET", "EIO=4&transport=polling", "", b"", REQUEST_TIMEOUT)
            .await?;
        if status != 200 {
            return Err(format!("handshake answered {status}: {body}"));
        }
        open_packet(&body)
    }

    /// A WebSocket to the server: for `sid` (an upgrade) or a new session.
    pub(crate) async fn websocket(
        &self,
        sid: Option<&str>,
    ) -> Result<WebSocketStream<TcpStream>, String> {
        let stream = self.connect().await?;
        let mut query = "EIO=4&transport=websocket".to_owned();
        if let Some(sid) = sid {
            query.push_str("&sid=");
            query.push_str(sid);
        }
        let url = format!("ws://{}{}", self.authority, self.uri(&query));
        let (ws, _) = tokio::time::timeout(
            REQUEST_TIMEOUT,
            tokio_tungstenite::client_async(url.as_str(), stream),
        )
        .await
        .map_err(|_| "WebSocket handshake timed out".to_owned())?
        .map_err(|err| format!("WebSocket handshake: {err}"))?;
        Ok(ws)
    }
}

/// Reads the next text frame of a WebSocket.
pub(crate) async fn next_text(ws: &mut WebSocketStream<TcpStream>) -> Result<String, String> {
    loop {
        let frame = tokio::time::timeout(REQUEST_TIMEOUT, ws.next())
            .await
            .map_err(|_| "no WebSocket frame in time".to_owned())?
            .ok_or_else(|| "the WebSocket ended".to_owned())?
            .map_err(|err| format!("WebSocket: {err}"))?;
        if let WsMessage::Text(text) = frame {
            return Ok(text.as_str().to_owned());
        }
    }
}

/// Sends a text frame.
pub(crate) async fn send_text(
    ws: &mut WebSocketStream<TcpStream>,
    text: &str,
) -> Result<(), String> {
    ws.send(WsMessage::text(text))
        .await
        .map_err(|err| format!("WebSocket send: {err}"))
}

/// The session id and ping interval plus timeout of an open packet
/// (`0{"sid":...}`).
pub(crate) fn open_packet(text: &str) -> Result<(String, Duration), String> {
    let json = text
        .strip_prefix('0')
        .ok_or_else(|| format!("not an open packet: {text:.80}"))?;
    let handshake = engineio_proto::Handshake::from_json(json).map_err(|err| err.to_string())?;
    Ok((
        handshake.sid,
        Duration::from_millis(handshake.ping_interval + handshake.ping_timeout),
    ))
}

/// Reads a whole HTTP/1.1 response (the server closes after it) and
/// returns its status and body, de-chunked.
async fn read_response(mut stream: TcpStream) -> Result<(u16, String), String> {
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .await
        .map_err(|err| format!("read: {err}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP response: {text:.80}"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status in {head:.80}"))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

/// Joins the chunks of a chunked body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_take_the_authority_and_normalise_the_path() {
        let target = Target::parse("http://127.0.0.1:5000/", "engine.io").unwrap();
        assert_eq!(target.authority, "127.0.0.1:5000");
        assert_eq!(target.uri("EIO=4"), "/engine.io/?EIO=4");
        assert!(Target::parse("https://127.0.0.1", "x").is_err());
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), "abcde");
    }
}
