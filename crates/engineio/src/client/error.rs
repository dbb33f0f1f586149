//! The client's error types. None of them exposes a dependency's type:
//! errors of the HTTP, WebSocket and TLS libraries become messages.

use std::time::Duration;

use thiserror::Error;

use super::event::State;

/// Why `connect()` (or a request of an open session) failed.
///
/// # Examples
///
/// ```
/// use engineio::client::ConnectionError;
///
/// let err = ConnectionError::Rejected {
///     status: 403,
///     body: Some(serde_json::json!({"code": 4, "message": "Forbidden"})),
/// };
/// assert_eq!(err.status(), Some(403));
/// assert_eq!(err.to_string(), r#"the server rejected the connection with HTTP status 403: {"code":4,"message":"Forbidden"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The server answered the handshake with a status other than 2xx (or
    /// 101 for WebSocket). `body` is the response body parsed as JSON, when it
    /// is JSON: python-engineio servers put the connect handler's rejection
    /// data there, the Node server `{"code":4,"message":"Forbidden"}`.
    #[error("the server rejected the connection with HTTP status {status}{}", body_suffix(.body))]
    Rejected {
        /// The HTTP status code.
        status: u16,
        /// The response body, if it was JSON.
        body: Option<serde_json::Value>,
    },
    /// The TLS handshake failed, for example because the server's
    /// certificate is not trusted.
    #[error("TLS error: {0}")]
    Tls(String),
    /// The server could not be reached, or the connection broke.
    #[error("transport error: {0}")]
    Transport(String),
    /// The server did not answer within the request timeout.
    #[error("no answer from the server within {0:?}")]
    Timeout(Duration),
    /// The URL cannot be used (bad syntax, unsupported scheme, no host).
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The server answered something that is not Engine.IO v4.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// `connect()` was called while the client was not disconnected.
    #[error("the client is {0}, not disconnected")]
    InvalidState(State),
}

impl ConnectionError {
    /// The HTTP status of a rejected handshake.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ConnectionError;
    /// assert_eq!(ConnectionError::Tls("bad certificate".into()).status(), None);
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The JSON body of a rejected handshake.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ConnectionError;
    /// let err = ConnectionError::Rejected { status: 401, body: Some(serde_json::json!({"reason": "nope"})) };
    /// assert_eq!(err.body().unwrap()["reason"], "nope");
    /// ```
    pub fn body(&self) -> Option<&serde_json::Value> {
        match self {
            Self::Rejected { body, .. } => body.as_ref(),
            _ => None,
        }
    }
}

fn body_suffix(body: &Option<serde_json::Value>) -> String {
    body.as_ref().map(|b| format!(": {b}")).unwrap_or_default()
}

/// A client configuration that cannot be used.
///
/// # Examples
///
/// ```
/// use engineio::client::Client;
///
/// let err = Client::builder().header("bad header", "x").build().unwrap_err();
/// assert!(err.to_string().contains("bad header"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid client configuration: {0}")]
pub struct ConfigError(pub(crate) String);

/// Why a message could not be sent: the one type of the server's sessions
/// and the clients (`Closed` while not connected, `SeparatorInText` for
/// text holding `0x1E` on long-polling, `QueueFull` past `max_queue`).
pub use engineio_proto::SendError;

/// A dependency's error and its causes as one message.
pub(crate) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Whether a TLS error is somewhere in `err`'s chain of causes.
pub(crate) fn is_tls(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        #[cfg(feature = "tls")]
        if e.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && is_tls(inner)
        {
            return true;
        }
        current = e.source();
    }
    false
}

/// Turns a dependency's error into a [`ConnectionError`].
pub(crate) fn from_source(err: &(dyn std::error::Error + 'static)) -> ConnectionError {
    if is_tls(err) {
        ConnectionError::Tls(describe(err))
    } else {
        ConnectionError::Transport(describe(err))
    }
}
