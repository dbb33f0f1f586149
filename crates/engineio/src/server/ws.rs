//! The WebSocket side: handshakes over WebSocket, upgrades of polling
//! sessions, and the read/write loop of a WebSocket session.

use std::sync::Arc;

use engineio_proto::server::{ErrorCode, HttpError, UpgradeStep};
use engineio_proto::{DisconnectReason, EncodedPacket, Frame, Packet, Sid, Transport};
use futures_util::{SinkExt as _, StreamExt as _};
use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message as WsMessage, Utf8Bytes};

use super::engine::{Server, SessionHandle};
use super::http::{EngineResponse, error, open_session, request_error};

type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Whether the request asks for a WebSocket upgrade.
pub(crate) fn is_upgrade_request(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The `Sec-WebSocket-Key`, or the error answer.
fn websocket_key(headers: &HeaderMap) -> Result<HeaderValue, HttpError> {
    let version_ok = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v.as_bytes() == b"13");
    match headers.get(header::SEC_WEBSOCKET_KEY) {
        Some(key) if version_ok => Ok(key.clone()),
        _ => Err(HttpError::new(
            ErrorCode::BadRequest,
            "a WebSocket upgrade needs Sec-WebSocket-Key and Sec-WebSocket-Version: 13",
        )),
    }
}

/// The answer when the HTTP stack cannot hand the connection over (hyper
/// puts an `OnUpgrade` in the extensions of upgradable requests).
fn cannot_upgrade() -> EngineResponse {
    error(&HttpError::new(
        ErrorCode::BadRequest,
        "this connection cannot be upgraded to WebSocket (HTTP/1.1 with upgrades is needed)",
    ))
}

/// The 101 answer.
fn switching_protocols(key: &HeaderValue) -> EngineResponse {
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "Upgrade")
        .header(
            header::SEC_WEBSOCKET_ACCEPT,
            derive_accept_key(key.as_bytes()),
        )
        .body(Full::default())
        .unwrap_or_default()
}

fn ws_config(server: &Server) -> WebSocketConfig {
    let config = &server.inner.config;
    WebSocketConfig::default()
        .read_buffer_size(config.ws_read_buffer_size)
        .write_buffer_size(0)
        .max_message_size(Some(config.max_http_buffer_size))
        .max_frame_size(Some(config.max_http_buffer_size))
}

/// Waits for the HTTP upgrade and wraps the connection.
async fn accept(server: &Server, on_upgrade: OnUpgrade) -> Option<Ws> {
    match on_upgrade.await {
        Ok(upgraded) => Some(
            WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(ws_config(server)),
            )
            .await,
        ),
        Err(err) => {
            tracing::debug!(error = %err, "the WebSocket upgrade did not complete");
            None
        }
    }
}

/// A new session over WebSocket: the open packet is the first frame.
pub(crate) async fn handshake(server: &Server, req: &mut Parts) -> EngineResponse {
    let key = match websocket_key(&req.headers) {
        Ok(key) => key,
        Err(err) => return error(&err),
    };
    let Some(on_upgrade) = req.extensions.remove::<OnUpgrade>() else {
        return cannot_upgrade();
    };
    let (handle, handshake) = match open_session(server, req, Transport::WebSocket).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let server = server.clone();
    let response = switching_protocols(&key);
    tokio::spawn(async move {
        let Some(mut ws) = accept(&server, on_upgrade).await else {
            if server.close(&handle, DisconnectReason::TransportError) {
                server
                    .disconnected(&handle, DisconnectReason::TransportError)
                    .await;
            }
            return;
        };
        let open = EncodedPacket::new(Packet::Open(handshake));
        if ws.send(to_ws_message(&open)).await.is_err() {
            if server.close(&handle, DisconnectReason::TransportClose) {
                server
                    .disconnected(&handle, DisconnectReason::TransportClose)
                    .await;
            }
            return;
        }
        run(&server, &handle, ws).await;
    });
    response
}

/// A WebSocket that upgrades a polling session.
pub(crate) fn upgrade(server: &Server, sid: Sid, req: &mut Parts) -> EngineResponse {
    let key = match websocket_key(&req.headers) {
        Ok(key) => key,
        Err(err) => return error(&err),
    };
    let Some(handle) = server.handle(sid) else {
        return error(&HttpError::new(ErrorCode::UnknownSid, ""));
    };
    let Some(on_upgrade) = req.extensions.remove::<OnUpgrade>() else {
        return cannot_upgrade();
    };
    if let Err(err) = handle.core().begin_upgrade() {
        tracing::debug!(%sid, %err, "refused a WebSocket");
        return request_error(err);
    }
    let server = server.clone();
    tokio::spawn(async move {
        let upgraded = match accept(&server, on_upgrade).await {
            Some(mut ws) => {
                let timeout = server.inner.config.upgrade_timeout;
                match tokio::time::timeout(timeout, probe(&handle, &mut ws)).await {
                    Ok(true) => Some(ws),
                    Ok(false) => {
                        let _ = ws.close(None).await;
                        None
                    }
                    Err(_) => {
                        tracing::debug!(%sid, "upgrade timed out; the session stays on polling");
                        let _ = ws.close(None).await;
                        None
                    }
                }
            }
            None => None,
        };
        match upgraded {
            Some(ws) => {
                tracing::debug!(%sid, "upgraded to WebSocket");
                run(&server, &handle, ws).await;
            }
            None => {
                handle.core().abort_upgrade();
                handle.changed();
            }
        }
    });
    switching_protocols(&key)
}

/// The probe exchange: `2probe` → `3probe`, then `5`. Returns whether the
/// upgrade completed.
async fn probe(handle: &SessionHandle, ws: &mut Ws) -> bool {
    loop {
        let packet = match next_packet(ws).await {
            Some(Ok(packet)) => packet,
            Some(Err(reason)) => {
                tracing::debug!(sid = %handle.sid, reason, "upgrade abandoned");
                return false;
            }
            None => return false,
        };
        let step = handle.core().upgrade_packet(packet);
        match step {
            UpgradeStep::Probed => {
                if ws.send(WsMessage::text("3probe")).await.is_err() {
                    return false;
                }
                // Release a pending poll with a noop so the client can pause.
                handle.changed();
            }
            UpgradeStep::Upgraded => {
                handle.changed();
                return true;
            }
            UpgradeStep::Aborted(reason) => {
                tracing::debug!(sid = %handle.sid, reason, "upgrade abandoned");
                handle.changed();
                return false;
            }
        }
    }
}

/// Reads the next engine.io packet; `None` when the connection ended,
/// `Some(Err)` for a frame that does not decode.
async fn next_packet(ws: &mut Ws) -> Option<Result<Packet, String>> {
    loop {
        let packet = match ws.next().await? {
            Ok(WsMessage::Text(text)) => Packet::decode_text(text.as_str()),
            Ok(WsMessage::Binary(bytes)) => Frame::Binary(bytes).decode(),
            Ok(WsMessage::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        };
        return Some(packet.map_err(|err| err.to_string()));
    }
}

/// The WebSocket frame for a packet, sharing its bytes.
fn to_ws_message(packet: &EncodedPacket) -> WsMessage {
    let (bytes, binary) = packet.ws_bytes();
    if binary {
        WsMessage::Binary(bytes)
    } else {
        match Utf8Bytes::try_from(bytes) {
            Ok(text) => WsMessage::Text(text),
            Err(_) => WsMessage::text(packet.text().to_owned()),
        }
    }
}

/// Runs a WebSocket session until it ends: writes queued packets, reads
/// frames and hands them to the session in order.
async fn run(server: &Server, handle: &Arc<SessionHandle>, ws: Ws) {
    let (mut sink, mut stream) = ws.split();
    loop {
        let woken = handle.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let (packets, closed) = {
            let mut core = handle.core();
            (core.take_ws_packets(), core.closed().is_some())
        };
        if !packets.is_empty() {
            let mut failed = false;
            for packet in &packets {
                if sink.feed(to_ws_message(packet)).await.is_err() {
                    failed = true;
                    break;
                }
            }
            if failed || sink.flush().await.is_err() {
                end(server, handle, DisconnectReason::TransportClose).await;
                return;
            }
        }
        if closed {
            let _ = sink.close().await;
            server.reap(handle);
            return;
        }
        tokio::select! {
            () = &mut woken => {}
            frame = stream.next() => {
                // Text is decoded from the frame's own buffer, without a copy.
                let decoded = match frame {
                    Some(Ok(WsMessage::Text(text))) => Packet::decode_text(text.as_str()),
                    Some(Ok(WsMessage::Binary(bytes))) => Frame::Binary(bytes).decode(),
                    Some(Ok(WsMessage::Close(_))) | None => {
                        end(server, handle, DisconnectReason::TransportClose).await;
                        return;
                    }
                    Some(Err(err)) => {
                        tracing::debug!(sid = %handle.sid, error = %err, "WebSocket error");
                        end(server, handle, DisconnectReason::TransportError).await;
                        return;
                    }
                    Some(Ok(_)) => continue,
                };
                match decoded {
                    Ok(packet) => server.received(handle, packet).await,
                    Err(err) => {
                        tracing::warn!(sid = %handle.sid, error = %err, "undecodable frame, closing the session");
                        end(server, handle, DisconnectReason::TransportError).await;
                        let _ = sink.close().await;
                        return;
                    }
                }
            }
        }
    }
}

/// Closes the session because its WebSocket ended.
async fn end(server: &Server, handle: &Arc<SessionHandle>, reason: DisconnectReason) {
    if server.close(handle, reason) {
        server.disconnected(handle, reason).await;
    }
    // Nothing can be delivered any more.
    drop(handle.core().take_ws_packets());
    server.reap(handle);
}
