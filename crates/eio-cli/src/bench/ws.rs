//! A bare WebSocket session for the load generator: the open packet, then
//! messages both ways, pings answered on the way. No upgrade, no queue, no
//! task of its own.

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::wire::{Target, next_text, open_packet};

/// One WebSocket-only session.
#[derive(Debug)]
pub(crate) struct WsSession {
    ws: WebSocketStream<TcpStream>,
}

impl WsSession {
    /// Opens a session over WebSocket (handshake included).
    pub(crate) async fn open(target: &Target) -> Result<Self, String> {
        let mut ws = target.websocket(None).await?;
        open_packet(&next_text(&mut ws).await?)?;
        Ok(Self { ws })
    }

    /// Sends a text message (`4` + `text`).
    pub(crate) async fn send(&mut self, text: &str) -> Result<(), String> {
        let mut frame = String::with_capacity(text.len() + 1);
        frame.push('4');
        frame.push_str(text);
        self.ws
            .send(WsMessage::text(frame))
            .await
            .map_err(|err| format!("send: {err}"))
    }

    /// Waits for the next message (its text, without the `4`), answering
    /// pings and skipping noops on the way.
    pub(crate) async fn recv(&mut self) -> Result<String, String> {
        loop {
            let frame = self
                .ws
                .next()
                .await
                .ok_or_else(|| "the server closed the connection".to_owned())?
                .map_err(|err| format!("receive: {err}"))?;
            match frame {
                WsMessage::Text(text) => match text.as_bytes().first() {
                    Some(b'4') => return Ok(text.as_str()[1..].to_owned()),
                    Some(b'2') => self
                        .ws
                        .send(WsMessage::text("3"))
                        .await
                        .map_err(|err| format!("pong: {err}"))?,
                    Some(b'1') => return Err("the server closed the session".to_owned()),
                    _ => {}
                },
                WsMessage::Binary(bytes) => return Ok(String::from_utf8_lossy(&bytes).into_owned()),
                WsMessage::Close(_) => return Err("the server closed the WebSocket".to_owned()),
                _ => {}
            }
        }
    }

    /// Closes the session politely (`1`, then the close frame).
    pub(crate) async fn close(mut self) {
        let _ = self.ws.send(WsMessage::text("1")).await;
        let _ = self.ws.close(None).await;
    }
}
