//! The WebSocket side: handshakes over WebSocket, upgrades of polling
//! sessions, and the read/write loop of a WebSocket session.

use std::sync::Arc;

use engineio_proto::eio3::{self, BinaryEncoding};
use engineio_proto::server::{
    CLOSE_MESSAGE_TOO_BIG, ErrorCode, HttpError, Protocol, RequestError, Wire, WsEnd, WsFinish,
    WsId, WsTransmit,
};
use engineio_proto::{EncodedPacket, Frame, Message, Packet, Sid, Transport};
use futures_util::{SinkExt as _, StreamExt as _};
use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame as WsFrame};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage, Utf8Bytes};

use super::answer::{EngineResponse, error, request_error};
use super::engine::Server;
use super::handle::{SessionHandle, now};
use super::open::open_session;
use crate::deflate::DeflateError;
use crate::deflate::codec::Deflater;
use crate::deflate::negotiate::{self, Agreed};
use crate::ws_io::ReadAhead;

type Ws = WebSocketStream<ReadAhead<TokioIo<hyper::upgrade::Upgraded>>>;

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
    error(
        &HttpError::new(
            ErrorCode::BadRequest,
            "this connection cannot be upgraded to WebSocket (HTTP/1.1 with upgrades is needed)",
        ),
        true,
    )
}

/// What permessage-deflate the request's offers and the server's settings
/// agree on (`None`: no compression, the usual case).
fn deflate_agreed(server: &Server, headers: &HeaderMap) -> Option<Agreed> {
    let config = server.inner.config.per_message_deflate.as_ref()?;
    negotiate::accept(
        config,
        headers
            .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}

/// The 101 answer, with the agreed extension. Of the subprotocols the client asks for
/// (`Sec-WebSocket-Protocol`), the first is chosen, as the Node server's
/// `ws` does by default: Engine.IO does not use them, but a client that asks
/// for one fails the handshake unless one is chosen.
fn switching_protocols(
    key: &HeaderValue,
    headers: &HeaderMap,
    deflate: Option<&Agreed>,
) -> EngineResponse {
    let mut response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "Upgrade")
        .header(
            header::SEC_WEBSOCKET_ACCEPT,
            derive_accept_key(key.as_bytes()),
        );
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').map(str::trim).find(|p| !p.is_empty()))
        .and_then(|p| HeaderValue::from_str(p).ok());
    if let Some(protocol) = protocol {
        response = response.header(header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    if let Some(agreed) = deflate {
        response = response.header(header::SEC_WEBSOCKET_EXTENSIONS, agreed.header());
    }
    response.body(Full::default()).unwrap_or_default()
}

fn ws_config(server: &Server) -> WebSocketConfig {
    let config = &server.inner.config;
    WebSocketConfig::default()
        .read_buffer_size(config.ws_read_buffer_size)
        .write_buffer_size(0)
        .max_message_size(Some(config.max_http_buffer_size))
        .max_frame_size(Some(config.max_http_buffer_size))
}

/// How one WebSocket's frames are written and read: the session's protocol
/// revision, and whether this WebSocket's client asked for binary as
/// base64 text (`b64` in its query).
#[derive(Debug, Clone, Copy)]
struct Framing {
    protocol: Protocol,
    binary: BinaryEncoding,
}

impl Framing {
    fn new(protocol: Protocol, request: &Wire) -> Self {
        Self {
            protocol,
            binary: request.binary,
        }
    }
}

/// Waits for the HTTP upgrade and wraps the connection; with
/// permessage-deflate, also gives the compressor for what it sends.
async fn accept(
    server: &Server,
    on_upgrade: OnUpgrade,
    deflate: Option<Agreed>,
) -> Option<(Ws, Option<Box<Deflater>>)> {
    let config = &server.inner.config;
    let (deflater, inflater) = match (deflate, &config.per_message_deflate) {
        (Some(agreed), Some(settings)) => {
            let (deflater, inflater) = agreed.server(settings, config.max_http_buffer_size);
            (Some(Box::new(deflater)), Some(inflater))
        }
        _ => (None, None),
    };
    match on_upgrade.await {
        Ok(upgraded) => Some((
            WebSocketStream::from_raw_socket(
                ReadAhead::new(TokioIo::new(upgraded), inflater),
                Role::Server,
                Some(ws_config(server)),
            )
            .await,
            deflater,
        )),
        Err(err) => {
            tracing::debug!(error = %err, "the WebSocket upgrade did not complete");
            None
        }
    }
}

/// A new session over WebSocket: the open packet is the first frame.
pub(crate) async fn handshake(server: &Server, req: &mut Parts, wire: Wire) -> EngineResponse {
    let key = match websocket_key(&req.headers) {
        Ok(key) => key,
        Err(err) => return error(&err, true),
    };
    let Some(on_upgrade) = req.extensions.remove::<OnUpgrade>() else {
        return cannot_upgrade();
    };
    let framing = Framing::new(wire.protocol, &wire);
    let (handle, handshake) = match open_session(server, req, Transport::WebSocket, wire).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let Some(id) = handle.core().websocket() else {
        return cannot_upgrade();
    };
    let deflate = deflate_agreed(server, &req.headers);
    let server = server.clone();
    tokio::spawn(async move {
        let Some((mut ws, mut deflater)) = accept(&server, on_upgrade, deflate).await else {
            handle.update(&server, |core| core.ws_ended(id, WsEnd::Failed, now()));
            return;
        };
        let open = EncodedPacket::new(Packet::Open(handshake));
        if ws
            .send(to_ws_message(&open, framing, &mut deflater))
            .await
            .is_err()
        {
            handle.update(&server, |core| core.ws_ended(id, WsEnd::Closed, now()));
            return;
        }
        run(&server, &handle, id, ws, framing, deflater).await;
    });
    switching_protocols(&key, &req.headers, deflate.as_ref())
}

/// A WebSocket that upgrades a polling session. A WebSocket the session
/// cannot take (it has one, is upgrading, or is closing) is accepted and
/// closed at once, as the Node server does.
pub(crate) fn upgrade(server: &Server, sid: Sid, req: &mut Parts, wire: &Wire) -> EngineResponse {
    let key = match websocket_key(&req.headers) {
        Ok(key) => key,
        Err(err) => return error(&err, true),
    };
    let Some(handle) = server.handle(sid) else {
        return request_error(RequestError::Closed, true);
    };
    let Some(on_upgrade) = req.extensions.remove::<OnUpgrade>() else {
        return cannot_upgrade();
    };
    let id = match handle.update(server, |core| core.attach_websocket(now())) {
        Ok(id) => id,
        Err(err) => {
            tracing::debug!(%sid, %err, "closing an extra WebSocket");
            spawn_close(server, on_upgrade);
            return switching_protocols(&key, &req.headers, None);
        }
    };
    let framing = Framing::new(handle.core().wire().protocol, wire);
    let deflate = deflate_agreed(server, &req.headers);
    let server = server.clone();
    tokio::spawn(async move {
        match accept(&server, on_upgrade, deflate).await {
            Some((ws, deflater)) => run(&server, &handle, id, ws, framing, deflater).await,
            None => {
                handle.update(&server, |core| core.ws_ended(id, WsEnd::Failed, now()));
            }
        }
    });
    switching_protocols(&key, &req.headers, deflate.as_ref())
}

/// A WebSocket request the server accepts only to close it at once.
pub(crate) fn accept_and_close(server: &Server, req: &mut Parts) -> EngineResponse {
    let key = match websocket_key(&req.headers) {
        Ok(key) => key,
        Err(err) => return error(&err, true),
    };
    let Some(on_upgrade) = req.extensions.remove::<OnUpgrade>() else {
        return cannot_upgrade();
    };
    spawn_close(server, on_upgrade);
    switching_protocols(&key, &req.headers, None)
}

/// Completes the WebSocket handshake, then sends a close frame.
fn spawn_close(server: &Server, on_upgrade: OnUpgrade) {
    let server = server.clone();
    tokio::spawn(async move {
        if let Some((mut ws, _)) = accept(&server, on_upgrade, None).await {
            let _ = ws.close(None).await;
        }
    });
}

/// The WebSocket frame for a packet, sharing its bytes; with `b64`, binary
/// goes as base64 text (the client asked with `b64=1`). A v3 binary
/// message carries its packet type byte. With permessage-deflate, a frame
/// past the threshold goes compressed, as a raw frame with RSV1 set.
fn to_ws_message(
    packet: &EncodedPacket,
    framing: Framing,
    deflater: &mut Option<Box<Deflater>>,
) -> WsMessage {
    let (bytes, binary) = if framing.protocol == Protocol::V3
        && let Packet::Message(Message::Binary(_)) = packet.packet()
    {
        match eio3::encode_frame(packet.packet(), framing.binary) {
            Frame::Binary(bytes) => (bytes, true),
            Frame::Text(text) => (bytes::Bytes::from(text), false),
        }
    } else if framing.binary == BinaryEncoding::Base64 {
        (packet.text_bytes().clone(), false)
    } else {
        packet.ws_bytes()
    };
    if let Some(deflater) = deflater
        && let Some(compressed) = deflater.compress(&bytes)
    {
        let data = if binary { Data::Binary } else { Data::Text };
        let mut frame = WsFrame::message(compressed, OpCode::Data(data), true);
        frame.header_mut().rsv1 = true;
        return WsMessage::Frame(frame);
    }
    if binary {
        WsMessage::Binary(bytes)
    } else {
        match Utf8Bytes::try_from(bytes) {
            Ok(text) => WsMessage::Text(text),
            Err(_) => WsMessage::text(packet.text().to_owned()),
        }
    }
}

/// What a frame read from the WebSocket means.
enum Read {
    Packet(Packet),
    End(WsEnd),
    Skip,
}

/// Decodes one read from the WebSocket. Text is decoded from the frame's
/// own buffer, without a copy.
fn read(frame: Option<Result<WsMessage, WsError>>, protocol: Protocol) -> Read {
    let decoded = match frame {
        Some(Ok(WsMessage::Text(text))) => protocol
            .decode_text_frame(text.as_str())
            .map_err(|err| err.to_string()),
        Some(Ok(WsMessage::Binary(bytes))) => protocol
            .decode_binary_frame(bytes)
            .map_err(|err| err.to_string()),
        Some(Ok(WsMessage::Close(_))) | None => return Read::End(WsEnd::Closed),
        Some(Err(WsError::Capacity(_))) => return Read::End(WsEnd::TooBig),
        // A compressed message too long once inflated (or compressed).
        Some(Err(WsError::Io(err)))
            if matches!(DeflateError::of(&err), Some(DeflateError::TooBig { .. })) =>
        {
            return Read::End(WsEnd::TooBig);
        }
        Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => {
            return Read::End(WsEnd::Closed);
        }
        // The peer went away without a close frame, even mid-frame: a close
        // ("transport close"), as the Node server's `ws` reports it.
        Some(Err(WsError::Protocol(
            tokio_tungstenite::tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        ))) => return Read::End(WsEnd::Closed),
        Some(Err(WsError::Io(err)))
            if matches!(
                err.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
            ) =>
        {
            return Read::End(WsEnd::Closed);
        }
        Some(Err(err)) => {
            tracing::debug!(error = %err, "WebSocket error");
            return Read::End(WsEnd::Failed);
        }
        Some(Ok(_)) => return Read::Skip,
    };
    match decoded {
        Ok(packet) => Read::Packet(packet),
        Err(err) => Read::End(WsEnd::Undecodable(err)),
    }
}

/// Runs one WebSocket of a session until the session lets it go: writes
/// what the session gives, reads frames while the session has room for
/// them, and closes it when the session says so. The same loop serves a
/// WebSocket during its upgrade and afterwards.
async fn run(
    server: &Server,
    handle: &Arc<SessionHandle>,
    id: WsId,
    mut ws: Ws,
    framing: Framing,
    mut deflater: Option<Box<Deflater>>,
) {
    // Reads and writes take turns in this one task (writes happen outside
    // the `select!`), so the stream needs no split: no lock, no second
    // allocation per WebSocket.
    loop {
        let woken = handle.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let (transmit, readable) =
            handle.update(server, |core| (core.ws_transmit(id), core.ws_can_read(id)));
        match transmit {
            WsTransmit::Write(packets) => {
                let mut written = true;
                for packet in &packets {
                    if ws
                        .feed(to_ws_message(packet, framing, &mut deflater))
                        .await
                        .is_err()
                    {
                        written = false;
                        break;
                    }
                }
                if !written || ws.flush().await.is_err() {
                    handle.update(server, |core| core.ws_ended(id, WsEnd::Failed, now()));
                    return;
                }
                continue;
            }
            WsTransmit::Close(code) => {
                let _ = ws.send(close_frame(code)).await;
                return;
            }
            WsTransmit::Idle => {}
        }
        if !readable {
            woken.await;
            continue;
        }
        tokio::select! {
            () = &mut woken => {}
            frame = ws.next() => match read(frame, framing.protocol) {
                Read::Packet(packet) => {
                    handle.update(server, |core| core.ws_receive(id, packet, now()));
                }
                Read::Skip => {}
                Read::End(end) => {
                    if let WsEnd::Undecodable(detail) = &end {
                        tracing::debug!(sid = %handle.sid, %detail, "undecodable WebSocket frame");
                    }
                    let finish = handle.update(server, |core| core.ws_ended(id, end, now()));
                    if let WsFinish::Close(code) = finish {
                        let _ = ws.send(close_frame(code)).await;
                    }
                    return;
                }
            }
        }
    }
}

/// A close frame, with a status code or empty.
fn close_frame(code: Option<u16>) -> WsMessage {
    WsMessage::Close(code.map(|code| CloseFrame {
        code: CloseCode::from(code),
        reason: if code == CLOSE_MESSAGE_TOO_BIG {
            "message too big".into()
        } else {
            "".into()
        },
    }))
}
