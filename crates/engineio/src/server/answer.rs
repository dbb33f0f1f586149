//! Error answers, written as the Node server writes them: a JSON body
//! `{"code":N,"message":"..."}` for HTTP requests, plain text for WebSocket
//! upgrade requests, an empty 413.

use bytes::Bytes;
use engineio_proto::server::{HttpError, RequestError};
use http::header;
use http::{Response, StatusCode};
use http_body_util::Full;

use super::hooks::Refusal;

/// What the engine answers with.
pub(crate) type EngineResponse = Response<Full<Bytes>>;

/// An error answer, as the Node server writes it: JSON for HTTP requests,
/// plain text for WebSocket upgrade requests, an empty 413.
pub(crate) fn error(err: &HttpError, websocket_upgrade: bool) -> EngineResponse {
    let answer = err.response(websocket_upgrade);
    // A 413 carries no code in its (empty) body.
    let refusal = Refusal {
        code: (answer.status != 413).then_some(err.code),
        message: if answer.status == 413 {
            String::new()
        } else {
            err.message.clone()
        },
    };
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_REQUEST));
    if let Some(content_type) = answer.content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    if websocket_upgrade {
        builder = builder.header(header::CONNECTION, "close");
    }
    builder
        .extension(refusal)
        .body(Full::new(Bytes::from(answer.body)))
        .unwrap_or_default()
}

/// A refusal with a JSON body of the application's (the connect handler's
/// 401), which carries no engine.io code.
pub(crate) fn json_refusal(status: StatusCode, body: String) -> EngineResponse {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .extension(Refusal {
            code: None,
            message: body.clone(),
        })
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// The answer to a request the session refuses.
pub(crate) fn request_error(err: RequestError, websocket_upgrade: bool) -> EngineResponse {
    error(&err.http_error(), websocket_upgrade)
}
