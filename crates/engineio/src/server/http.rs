//! The HTTP side of the engine.io endpoint: handshakes, long polls, posts,
//! preflights and error answers.

use bytes::Bytes;
use engineio_proto::eio3::Payload;
use engineio_proto::server::{
    ErrorCode, HttpError, RequestError, Route, RouteOptions, Routed, Session, Wire, route_request,
};
use engineio_proto::{Packet, Transport};
use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};

use super::answer::{EngineResponse, error, request_error};
use super::compress;
use super::cors::{self, RequestOrigin};
use super::engine::Server;
use super::handle::{Unanswered, now};
use super::hooks::{ConnectionError, Refusal};
use super::open::open_session;
use super::ws;

/// The boxed error type request bodies may fail with.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serves one request to the engine.io path, then runs the application's
/// hooks on the answer: the header hooks on successful handshakes, polls,
/// POSTs and upgrades, the `connection_error` hook on refusals.
pub(crate) async fn handle<B>(server: Server, req: http::Request<B>) -> EngineResponse
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = req.into_parts();
    let (mut response, hooked) = answer(&server, &mut parts, body).await;
    let hooks = &server.inner.handlers.hooks;
    if let Some(handshake) = hooked
        && hooks.wants_headers()
        && (response.status().is_success() || response.status() == StatusCode::SWITCHING_PROTOCOLS)
    {
        hooks.on_headers(response.headers_mut(), &parts, handshake);
    }
    if let Some(refusal) = response.extensions_mut().remove::<Refusal>()
        && let Some(hook) = &hooks.connection_error
    {
        hook(&ConnectionError {
            status: response.status(),
            code: refusal.code,
            message: &refusal.message,
            request: &parts,
        });
    }
    response
}

/// The answer to a request, and whether the header hooks apply to it
/// (`Some(true)` for a handshake, `Some(false)` for another request of a
/// session, `None` for the rest).
async fn answer<B>(server: &Server, parts: &mut Parts, body: B) -> (EngineResponse, Option<bool>)
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = &server.inner.config;
    let websocket = ws::is_upgrade_request(&parts.headers);
    let origin = match config.cors.check(&parts.headers, RequestOrigin::of(parts)) {
        None => None,
        Some(Ok(origin)) => Some(origin),
        Some(Err(message)) => {
            tracing::debug!(%message, "refused origin");
            let refused = error(&HttpError::new(ErrorCode::BadRequest, &message), websocket);
            return (refused, None);
        }
    };
    let query = parts.uri.query().unwrap_or("");
    let options = RouteOptions {
        transports: &config.transports,
        allow_eio3: config.allow_eio3,
        jsonp: config.jsonp,
    };
    let routed = route_request(parts.method.as_str(), query, websocket, &options)
        // Without v3 every session and request is v4: nothing to compare
        // (and no session lookup on the polling path).
        .and_then(|routed| {
            if config.allow_eio3 {
                same_protocol(server, routed)
            } else {
                Ok(routed)
            }
        });
    let (routed, wire) = match routed {
        Ok(Routed { route, wire }) => (Ok(route), wire),
        Err(err) => (Err(err), Wire::default()),
    };
    let named = routed.as_ref().ok().and_then(Route::sid);
    let hooked = match &routed {
        Ok(Route::Handshake(_)) => Some(true),
        Ok(Route::Poll(_) | Route::Post(_) | Route::Upgrade(_)) => Some(false),
        _ => None,
    };
    let (mut response, preflight_headers) = match routed {
        Err(err) => (error(&err, websocket), None),
        Ok(Route::Preflight) => {
            let response = Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(Full::default())
                .unwrap_or_default();
            (response, Some(parts.headers.clone()))
        }
        Ok(Route::Handshake(Transport::Polling)) => (handshake(server, parts, wire).await, None),
        Ok(Route::Handshake(Transport::WebSocket)) => {
            (ws::handshake(server, parts, wire).await, None)
        }
        // `route_request` refuses transport=webtransport: never over HTTP.
        Ok(Route::Handshake(Transport::WebTransport)) => (
            error(
                &HttpError::new(ErrorCode::TransportUnknown, "webtransport"),
                websocket,
            ),
            None,
        ),
        Ok(Route::Poll(sid)) => {
            let accept = parts.headers.get(header::ACCEPT_ENCODING);
            (poll(server, sid, accept).await, None)
        }
        Ok(Route::Post(sid)) => (post(server, sid, &parts.headers, body).await, None),
        Ok(Route::Upgrade(sid)) => (ws::upgrade(server, sid, parts, &wire), None),
        Ok(Route::CloseWebSocket(sid)) => match sid.filter(|sid| server.handle(*sid).is_none()) {
            Some(_) => (error(&RequestError::Closed.http_error(), true), None),
            None => (ws::accept_and_close(server, parts), None),
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
    if let Some(sid) = named
        && response
            .extensions()
            .get::<Refusal>()
            .is_some_and(|refusal| refusal.code == Some(ErrorCode::UnknownSid))
    {
        let node = config.node_id.as_ref();
        server
            .inner
            .misrouting
            .check(node, sid, std::time::Instant::now());
    }
    if let Some(origin) = origin {
        cors::add_headers(
            response.headers_mut(),
            origin,
            config.cors_credentials,
            preflight_headers.as_ref(),
        );
    }
    (response, hooked)
}

/// Refuses a request of a live session whose protocol revision is not the
/// session's (Node's `PROTOCOL_MISMATCH`: 400 code 3).
fn same_protocol(server: &Server, routed: Routed) -> Result<Routed, HttpError> {
    let sid = match &routed.route {
        Route::Poll(sid) | Route::Post(sid) | Route::Upgrade(sid) => *sid,
        _ => return Ok(routed),
    };
    let session = server
        .handle(sid)
        .map(|handle| handle.core().wire().protocol);
    match session {
        Some(protocol) if protocol != routed.wire.protocol => Err(HttpError::new(
            ErrorCode::BadRequest,
            &format!(
                "protocol mismatch: the session speaks EIO={protocol}, the request EIO={}",
                routed.wire.protocol
            ),
        )),
        _ => Ok(routed),
    }
}

/// A polling handshake: the open packet, and whatever the connect handler
/// already sent, in one payload.
async fn handshake(server: &Server, req: &Parts, wire: Wire) -> EngineResponse {
    let (handle, handshake) = match open_session(server, req, Transport::Polling, wire).await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let body = handle.update(server, |core| core.open_response(&Packet::Open(handshake)));
    let mut response = payload_response(server, body, req.headers.get(header::ACCEPT_ENCODING));
    if let Some(cookie) = &server.inner.config.cookie
        && let Ok(value) = HeaderValue::from_str(&cookie.header_value(handle.sid.as_str()))
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
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
    let mut in_flight = Unanswered::new(server, &handle, |core| core.poll_aborted(now()));
    let body = loop {
        let woken = handle.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if let Some(body) = handle.update(server, Session::poll_response) {
            break body;
        }
        woken.await;
    };
    in_flight.disarm();
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
    let mut in_flight = Unanswered::new(server, &handle, |core| core.post_aborted(now()));
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
            in_flight.disarm();
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
        in_flight.disarm();
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
    in_flight.disarm();
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html")
        .body(Full::new(Bytes::from_static(b"ok")))
        .unwrap_or_default()
}

/// A 200 with a polling payload (text, or a v3 binary payload), compressed
/// when worth it.
fn payload_response(
    server: &Server,
    body: Payload,
    accept: Option<&HeaderValue>,
) -> EngineResponse {
    let config = &server.inner.config;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(body.content_type()),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let mut bytes = Bytes::from(body.into_bytes());
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
