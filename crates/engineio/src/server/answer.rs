//! Error answers, written as the Node server writes them: a JSON body
//! `{"code":N,"message":"..."}` for HTTP requests, plain text for WebSocket
//! upgrade requests, an empty 413.

use bytes::Bytes;
use engineio_proto::server::{HttpError, RequestError};
use http::header;
use http::{Response, StatusCode};
use http_body_util::Full;

/// What the engine answers with.
pub(crate) type EngineResponse = Response<Full<Bytes>>;

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
