//! The HTTP side of the engine.io endpoint: handshakes, long polls, posts,
//! preflights and error answers.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use engineio_proto::server::{ErrorCode, HttpError, RequestError, Route, route};
use engineio_proto::{
    DisconnectReason, Handshake, Packet, PayloadLimits, Transport, decode_payload,
};
use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};

use super::compress;
use super::cors;
use super::engine::{Server, SessionHandle, now};
use super::handlers::ConnectRequest;
use super::socket::Socket;
use super::ws;

/// The boxed error type request bodies may fail with.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the engine answers with.
pub(crate) type EngineResponse = Response<Full<Bytes>>;

/// Serves one request to the engine.io path.
pub(crate) async fn handle<B>(server: Server, req: Request<B>) -> EngineResponse
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = &server.inner.config;
    let (mut parts, body) = req.into_parts();
    let origin = match config.cors.check(&parts.headers) {
        None => None,
        Some(Ok(origin)) => Some(origin),
        Some(Err(message)) => {
            tracing::debug!(%message, "refused origin");
            return error(&HttpError::new(ErrorCode::BadRequest, &message));
        }
    };
    let websocket = ws::is_upgrade_request(&parts.headers);
    let query = parts.uri.query().unwrap_or("");
    let routed = route(parts.method.as_str(), query, websocket, &config.transports);
    let (mut response, preflight_headers) = match routed {
        Err(err) => (error(&err), None),
        Ok(Route::Preflight) => {
            let response = Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(Full::default())
                .unwrap_or_default();
            (response, Some(parts.headers.clone()))
        }
        Ok(Route::Handshake(Transport::Polling)) => (handshake(&server, &parts).await, None),
        Ok(Route::Handshake(Transport::WebSocket)) => {
            (ws::handshake(&server, &mut parts).await, None)
        }
        Ok(Route::Poll(sid)) => {
            let accept = parts.headers.get(header::ACCEPT_ENCODING);
            (poll(&server, sid, accept).await, None)
        }
        Ok(Route::Post(sid)) => (post(&server, sid, &parts.headers, body).await, None),
        Ok(Route::Upgrade(sid)) => (ws::upgrade(&server, sid, &mut parts), None),
    };
    if let Some(origin) = origin {
        cors::add_headers(
            response.headers_mut(),
            origin,
            config.cors_credentials,
            preflight_headers.as_ref(),
        );
    }
    response
}

/// The JSON error answer.
pub(crate) fn error(err: &HttpError) -> EngineResponse {
    json_response(
        StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST),
        err.json_body(),
    )
}

/// A response with a JSON body.
pub(crate) fn json_response(status: StatusCode, body: String) -> EngineResponse {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// The error for a session request the session's state refuses.
pub(crate) fn request_error(err: RequestError) -> EngineResponse {
    let code = match err {
        RequestError::Closed => ErrorCode::UnknownSid,
        _ => ErrorCode::BadRequest,
    };
    let detail = if code == ErrorCode::UnknownSid {
        String::new()
    } else {
        err.to_string()
    };
    error(&HttpError::new(code, &detail))
}

/// The handshake request as the handlers see it.
pub(crate) fn connect_request(req: &Parts, transport: Transport) -> ConnectRequest {
    let peer_addr = req
        .extensions
        .get::<PeerAddr>()
        .map(|peer| peer.0)
        .or_else(|| req.extensions.get::<SocketAddr>().copied());
    ConnectRequest {
        method: req.method.clone(),
        uri: req.uri.clone(),
        headers: req.headers.clone(),
        peer_addr,
        transport,
    }
}

/// The peer address our listener stores in each request's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerAddr(pub(crate) SocketAddr);

/// Opens a session for a handshake: runs the `allow_request` hook and the
/// connect handler. On refusal, the answer to send instead.
pub(crate) async fn open_session(
    server: &Server,
    req: &Parts,
    transport: Transport,
) -> Result<(Arc<SessionHandle>, Handshake), EngineResponse> {
    let request = connect_request(req, transport);
    if let Some(allow) = &server.inner.handlers.allow_request
        && let Err(reason) = allow(&request)
    {
        tracing::info!(%reason, "handshake refused by allow_request");
        return Err(error(&HttpError::new(ErrorCode::Forbidden, &reason)));
    }
    let handle = server.create_session(transport);
    let socket = Socket::new(server.clone(), handle.clone());
    if let Err(rejection) = server.inner.handlers.connect(&socket, &request).await {
        tracing::info!(sid = %handle.sid, "connection rejected by the connect handler");
        server.discard(&handle);
        return Err(json_response(StatusCode::UNAUTHORIZED, rejection.body()));
    }
    tracing::info!(sid = %handle.sid, %transport, peer = ?request.peer_addr, "session opened");
    let config = &server.inner.config;
    let handshake = Handshake::new(
        handle.sid.as_str(),
        config.upgrades_for(transport),
        config.advertised_ping_interval(),
        config.ping_timeout,
        u64::try_from(config.max_http_buffer_size).unwrap_or(u64::MAX),
    );
    Ok((handle, handshake))
}

/// A polling handshake: the open packet, and whatever the connect handler
/// already sent, in one payload.
async fn handshake(server: &Server, req: &Parts) -> EngineResponse {
    let (handle, handshake) = match open_session(server, req, Transport::Polling).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let body = handle.core().open_payload(&Packet::Open(handshake));
    let mut response = payload_response(server, body, req.headers.get(header::ACCEPT_ENCODING));
    if let Some(cookie) = &server.inner.config.cookie
        && let Ok(value) = HeaderValue::from_str(&cookie.header_value(handle.sid.as_str()))
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Ends the request in flight on the session when dropped, even if the
/// client went away and hyper dropped the request's future.
struct InFlight<'a> {
    handle: &'a SessionHandle,
    poll: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut core = self.handle.core();
        if self.poll {
            core.end_poll();
        } else {
            core.end_post();
        }
    }
}

/// Starts a GET or POST on the session, or answers why not.
async fn begin(
    server: &Server,
    handle: &Arc<SessionHandle>,
    poll: bool,
) -> Result<(), EngineResponse> {
    let started = {
        let mut core = handle.core();
        if poll {
            core.begin_poll(now())
        } else {
            core.begin_post(now())
        }
    };
    match started {
        Ok(()) => Ok(()),
        Err(err) => {
            if matches!(err, RequestError::Overlap(_)) {
                tracing::warn!(sid = %handle.sid, %err, "closing the session");
                handle.changed();
                server.reap(handle);
                server
                    .disconnected(handle, DisconnectReason::TransportError)
                    .await;
            }
            Err(request_error(err))
        }
    }
}

/// A long-polling GET: waits until there is something to send.
async fn poll(
    server: &Server,
    sid: engineio_proto::Sid,
    accept: Option<&HeaderValue>,
) -> EngineResponse {
    let Some(handle) = server.handle(sid) else {
        return error(&HttpError::new(ErrorCode::UnknownSid, ""));
    };
    if let Err(response) = begin(server, &handle, true).await {
        return response;
    }
    let in_flight = InFlight {
        handle: &handle,
        poll: true,
    };
    // A ping comes at most one ping interval after the last pong, so the
    // poll is answered within that; this bound is only a safety net.
    let config = &server.inner.config;
    let max_wait = config.ping_interval + config.ping_timeout;
    let deadline = tokio::time::Instant::now() + max_wait;
    let body = loop {
        let woken = handle.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if let Some(payload) = handle.core().poll_payload() {
            break payload;
        }
        tokio::select! {
            () = &mut woken => {}
            () = tokio::time::sleep_until(deadline) => break Packet::Noop.to_text(),
        }
    };
    drop(in_flight);
    server.reap(&handle);
    payload_response(server, body, accept)
}

/// A long-polling POST: decodes the payload and hands its packets over.
async fn post<B>(
    server: &Server,
    sid: engineio_proto::Sid,
    headers: &HeaderMap,
    body: B,
) -> EngineResponse
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let Some(handle) = server.handle(sid) else {
        return error(&HttpError::new(ErrorCode::UnknownSid, ""));
    };
    let limit = server.inner.config.max_http_buffer_size;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return too_large(limit);
    }
    if let Err(response) = begin(server, &handle, false).await {
        return response;
    }
    let in_flight = InFlight {
        handle: &handle,
        poll: false,
    };
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => return too_large(limit),
        Err(err) => {
            tracing::debug!(%sid, error = %err, "could not read a POST body");
            return error(&HttpError::new(
                ErrorCode::BadRequest,
                "the request body could not be read",
            ));
        }
    };
    let limits = PayloadLimits::new(server.inner.config.max_payload_packets, limit);
    let packets = match decode_payload(&body, &limits) {
        Ok(packets) => packets,
        Err(err) => {
            tracing::warn!(%sid, error = %err, "undecodable payload, closing the session");
            drop(in_flight);
            if server.close(&handle, DisconnectReason::TransportError) {
                server
                    .disconnected(&handle, DisconnectReason::TransportError)
                    .await;
            }
            return error(&HttpError::new(ErrorCode::BadRequest, &err.to_string()));
        }
    };
    for packet in packets {
        server.received(&handle, packet).await;
    }
    drop(in_flight);
    server.reap(&handle);
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html")
        .body(Full::new(Bytes::from_static(b"ok")))
        .unwrap_or_default()
}

/// The 413 answer.
fn too_large(limit: usize) -> EngineResponse {
    json_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        HttpError {
            status: 413,
            code: ErrorCode::BadRequest,
            message: format!(
                "Payload too large: the limit is {limit} bytes (max_http_buffer_size)"
            ),
        }
        .json_body(),
    )
}

/// A 200 with a polling payload, compressed when worth it.
fn payload_response(server: &Server, body: String, accept: Option<&HeaderValue>) -> EngineResponse {
    let config = &server.inner.config;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let mut bytes = Bytes::from(body);
    if config.http_compression && bytes.len() >= config.compression_threshold {
        let encoding = accept
            .and_then(|v| v.to_str().ok())
            .and_then(compress::negotiate);
        if let Some(encoding) = encoding {
            match compress::compress(encoding, &bytes) {
                Ok(compressed) => {
                    bytes = Bytes::from(compressed);
                    headers.insert(
                        header::CONTENT_ENCODING,
                        HeaderValue::from_static(encoding.as_str()),
                    );
                }
                Err(err) => {
                    tracing::warn!(error = %err, "compression failed, sending uncompressed")
                }
            }
        }
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    let mut response = Response::new(Full::new(bytes));
    *response.headers_mut() = headers;
    response
}
