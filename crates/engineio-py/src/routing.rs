//! `engineio_rs._core.route` and `generate_sid`: what an engine.io HTTP
//! request is, or the error to answer it with (as the Node server answers),
//! for the package's Python servers.

use engineio_proto::server::{ErrorCode, HttpError, Route, route as core_route};
use engineio_proto::{Sid, Transport};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// An error answer: `(status, content_type or None, body)`.
type Answer = (u16, Option<&'static str>, String);

fn answer(error: &HttpError, websocket: bool) -> Answer {
    let response = error.response(websocket);
    (response.status, response.content_type, response.body)
}

/// Routes a request to the engine.io path from its `method`, raw `query`
/// string, whether it asks for a WebSocket upgrade, and the enabled
/// `transports` (`"polling"`, `"websocket"`). Returns one of:
///
/// - `("preflight", None, None)`;
/// - `("handshake", transport, None)`;
/// - `("poll" | "post" | "upgrade", sid, None)`;
/// - `("close_websocket", sid or None, None)`: accept the WebSocket, then
///   close it at once (after checking the sid, when one is given);
/// - `("refused", sid, answer)`: answer with `answer` if the session exists,
///   else with "Session ID unknown";
/// - `("error", None, answer)`;
///
/// where an `answer` is `(status, content_type or None, body)`.
#[pyfunction]
#[pyo3(signature = (method, query, websocket_upgrade, transports))]
pub(crate) fn route(
    method: &str,
    query: &str,
    websocket_upgrade: bool,
    transports: Vec<String>,
) -> PyResult<(&'static str, Option<String>, Option<Answer>)> {
    let transports = transports
        .iter()
        .map(|name| name.parse::<Transport>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| PyValueError::new_err(err.to_string()))?;
    Ok(
        match core_route(method, query, websocket_upgrade, &transports) {
            Ok(Route::Preflight) => ("preflight", None, None),
            Ok(Route::Handshake(transport)) => {
                ("handshake", Some(transport.as_str().to_owned()), None)
            }
            Ok(Route::Poll(sid)) => ("poll", Some(sid.to_string()), None),
            Ok(Route::Post(sid)) => ("post", Some(sid.to_string()), None),
            Ok(Route::Upgrade(sid)) => ("upgrade", Some(sid.to_string()), None),
            Ok(Route::CloseWebSocket(sid)) => ("close_websocket", sid.map(|s| s.to_string()), None),
            Ok(Route::Refused { sid, error }) => (
                "refused",
                Some(sid.to_string()),
                Some(answer(&error, websocket_upgrade)),
            ),
            Err(error) => ("error", None, Some(answer(&error, websocket_upgrade))),
        },
    )
}

/// The answer for an unknown session id: `(status, content_type, body)`.
#[pyfunction]
pub(crate) fn unknown_session(websocket_upgrade: bool) -> Answer {
    answer(
        &engineio_proto::server::RequestError::Closed.http_error(),
        websocket_upgrade,
    )
}

/// The answer to a handshake past `max_sessions`: `(status, content_type,
/// body)` (503; see `HttpError::too_many_sessions`).
#[pyfunction]
pub(crate) fn too_many_sessions(websocket_upgrade: bool) -> Answer {
    answer(&HttpError::too_many_sessions(), websocket_upgrade)
}

/// The answer to a request a session refused, from the
/// `ValueError((status, code, message))` its method raised:
/// `(status, content_type or None, body)` as the Node server writes it (an
/// empty 413, JSON otherwise, plain text for a WebSocket upgrade request).
#[pyfunction]
pub(crate) fn refusal_answer(
    status: u16,
    code: u8,
    message: String,
    websocket_upgrade: bool,
) -> PyResult<Answer> {
    let code = ErrorCode::from_code(code)
        .ok_or_else(|| PyValueError::new_err(format!("unknown error code {code}")))?;
    let error = HttpError {
        status,
        code,
        message,
    };
    Ok(answer(&error, websocket_upgrade))
}

/// A new session id: 20 URL-safe characters from the OS's CSPRNG.
#[pyfunction]
pub(crate) fn generate_sid() -> String {
    Sid::generate().to_string()
}
