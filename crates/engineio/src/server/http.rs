//! The HTTP side of the engine.io endpoint: handshakes, long polls, posts,
//! preflights and error answers.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use engineio_proto::server::{ErrorCode, HttpError, RequestError, Route, Session, route};
use engineio_proto::{Handshake, Packet, Transport};
use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};

use super::compress;
use super::cors;
use super::driver::{SessionHandle, now};
use super::engine::Server;
use super::handlers::ConnectRequest;
use super::socket::Socket;
use super::ws;

/// The boxed error type request bodies may fail with.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the engine answers with.
pub(crate) type EngineResponse = Response<Full<Bytes>>;

/// Serves one request to the engine.io path.
pub(crate) async fn handle<B>(server: Server, req: http::Request<B>) -> EngineResponse
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = &server.inner.config;
    let (mut parts, body) = req.into_parts();
    let websocket = ws::is_upgrade_request(&parts.headers);
    let origin = match config.cors.check(&parts.headers) {
        None => None,
        Some(Ok(origin)) => Some(origin),
        Some(Err(message)) => {
            tracing::debug!(%message, "refused origin");
            return error(&HttpError::new(ErrorCode::BadRequest, &message), websocket);
        }
    };
    let query = parts.uri.query().unwrap_or("");
    let routed = route(parts.method.as_str(), query, websocket, &config.transports);
    let (mut response, preflight_headers) = match routed {
        Err(err) => (error(&err, websocket), None),
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
        Ok(Route::CloseWebSocket(sid)) => match sid.filter(|sid| server.handle(*sid).is_none()) {
            Some(_) => (error(&RequestError::Closed.http_error(), true), None),
            None => (ws::accept_and_close(&server, &mut parts), None),
        },
        Ok(Route::Refused {
            sid,
            error: refusal,
        }) => {
            let answer = match server.handle(sid) {
                Some(_) => refusal,
                None => RequestError::Closed.http_error(),
            };
            (error(&answer, websocket), None)
        }
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

/// An error answer, as the Node server writes it: JSON for HTTP requests,
/// plain text for WebSocket upgrade requests, an empty 413.
pub(crate) fn error(err: &HttpError, websocket_upgrade: bool) -> EngineResponse {
    let answer = err.response(websocket_upgrade);
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_REQUEST));
    if let Some(content_type) = answer.content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    if websocket_upgrade {
        builder = builder.header(header::CONNECTION, "close");
    }
    builder
        .body(Full::new(Bytes::from(answer.body)))
        .unwrap_or_default()
}

/// A response with a JSON body.
pub(crate) fn json_response(status: StatusCode, body: String) -> EngineResponse {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// The answer to a request the session refuses.
pub(crate) fn request_error(err: RequestError, websocket_upgrade: bool) -> EngineResponse {
    error(&err.http_error(), websocket_upgrade)
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
        let websocket = transport == Transport::WebSocket;
        return Err(error(
            &HttpError::new(ErrorCode::Forbidden, &reason),
            websocket,
        ));
    }
    let handle = server.create_session(transport);
    let socket = Socket::new(server.clone(), handle.clone());
    // If the client goes away while the connect handler runs, the session
    // is dropped as if refused: no transport will ever reach it.
    let connected = {
        let mut opening = InFlight::new(server, &handle, Request::Handshake);
        let connected = server.inner.handlers.connect(&socket, &request).await;
        opening.answered = true;
        connected
    };
    if let Err(rejection) = connected {
        tracing::info!(sid = %handle.sid, "connection rejected by the connect handler");
        handle.update(server, Session::reject);
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
    let body = handle.update(server, |core| core.open_payload(&Packet::Open(handshake)));
    let mut response = payload_response(server, body, req.headers.get(header::ACCEPT_ENCODING));
    if let Some(cookie) = &server.inner.config.cookie
        && let Ok(value) = HeaderValue::from_str(&cookie.header_value(handle.sid.as_str()))
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Which request of a session is in flight.
#[derive(Debug, Clone, Copy)]
enum Request {
    Handshake,
    Poll,
    Post,
}

/// Tells the session when its request went away before it was answered
/// (hyper drops the request's future when the client closes the connection).
struct InFlight<'a> {
    server: &'a Server,
    handle: &'a Arc<SessionHandle>,
    request: Request,
    answered: bool,
}

impl<'a> InFlight<'a> {
    fn new(server: &'a Server, handle: &'a Arc<SessionHandle>, request: Request) -> Self {
        Self {
            server,
            handle,
            request,
            answered: false,
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        let request = self.request;
        self.handle.update(self.server, |core| match request {
            Request::Handshake => core.reject(),
            Request::Poll => core.poll_aborted(now()),
            Request::Post => core.post_aborted(now()),
        });
    }
}

/// A long-polling GET: waits until the session has an answer for it.
async fn poll(
    server: &Server,
    sid: engineio_proto::Sid,
    accept: Option<&HeaderValue>,
) -> EngineResponse {
    let Some(handle) = server.handle(sid) else {
        return request_error(RequestError::Closed, false);
    };
    if let Err(err) = handle.update(server, |core| core.begin_poll(now())) {
        return request_error(err, false);
    }
    let mut in_flight = InFlight::new(server, &handle, Request::Poll);
    let body = loop {
        let woken = handle.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if let Some(body) = handle.update(server, Session::poll_payload) {
            break body;
        }
        woken.await;
    };
    in_flight.answered = true;
    payload_response(server, body, accept)
}

/// A long-polling POST: reads the body, hands its packets to the session,
/// and answers `ok` once the session has taken them all (it waits while the
/// session's inbox is full: backpressure).
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
        return request_error(RequestError::Closed, false);
    };
    let limit = server.inner.config.max_http_buffer_size;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if let Err(err) = handle.update(server, |core| core.begin_post(now(), content_type)) {
        return request_error(err, false);
    }
    let mut in_flight = InFlight::new(server, &handle, Request::Post);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let body = if declared.is_some_and(|len| len > limit as u64) {
        Err(true)
    } else {
        match Limited::new(body, limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(true),
            Err(err) => {
                tracing::debug!(%sid, error = %err, "could not read a POST body");
                Err(false)
            }
        }
    };
    let body = match body {
        Ok(body) => body,
        Err(true) => {
            handle.update(server, Session::post_too_large);
            in_flight.answered = true;
            return request_error(RequestError::TooLarge { limit }, false);
        }
        // The client went away mid-body: dropping `in_flight` tells the session.
        Err(false) => {
            return error(
                &HttpError::new(ErrorCode::BadRequest, "the request body could not be read"),
                false,
            );
        }
    };
    if let Err(err) = handle.update(server, |core| core.post_payload(&body, now())) {
        in_flight.answered = true;
        return request_error(err, false);
    }
    loop {
        let woken = handle.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if handle.update(server, Session::post_accepted) {
            break;
        }
        woken.await;
    }
    in_flight.answered = true;
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html")
        .body(Full::new(Bytes::from_static(b"ok")))
        .unwrap_or_default()
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
