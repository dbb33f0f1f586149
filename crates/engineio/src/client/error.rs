//! The client's error types. None of them exposes a dependency's type:
//! errors of the HTTP, WebSocket and TLS libraries are kept behind
//! [`Cause`], reachable through `source()` as `&dyn Error`.

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
#[derive(Debug, Clone, Error)]
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
    Tls(#[source] Cause),
    /// The server could not be reached, or the connection broke.
    #[error("transport error: {0}")]
    Transport(#[source] Cause),
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

/// Compares kinds and texts (the kept causes compare by their text).
impl PartialEq for ConnectionError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Self::Rejected { status, body },
                Self::Rejected {
                    status: other_status,
                    body: other_body,
                },
            ) => status == other_status && body == other_body,
            (Self::Tls(a), Self::Tls(b)) | (Self::Transport(a), Self::Transport(b)) => a == b,
            (Self::Timeout(a), Self::Timeout(b)) => a == b,
            (Self::InvalidUrl(a), Self::InvalidUrl(b)) | (Self::Protocol(a), Self::Protocol(b)) => {
                a == b
            }
            (Self::InvalidState(a), Self::InvalidState(b)) => a == b,
            _ => false,
        }
    }
}

/// The underlying error of a TLS or transport failure: its text is the
/// whole chain of causes, and [`source`](std::error::Error::source) gives
/// the original error (of the HTTP, WebSocket, TLS or I/O library) as
/// `&dyn Error`, without naming its type.
///
/// # Examples
///
/// ```
/// use std::error::Error as _;
/// use engineio::client::ConnectionError;
///
/// # async fn run() {
/// let client = engineio::client::Client::builder().build().unwrap();
/// if let Err(err @ ConnectionError::Transport(_)) = client.connect("http://127.0.0.1:9").await {
///     assert!(err.is_refused());
///     assert!(err.source().is_some());
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct Cause {
    text: String,
    source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

impl Cause {
    /// A cause that is only a message.
    pub(crate) fn message(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            source: None,
        }
    }

    /// Keeps `err`, described with its whole chain of causes.
    pub(crate) fn of(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            text: describe(&err),
            source: Some(std::sync::Arc::new(err)),
        }
    }

    /// Whether an I/O error of this kind is somewhere in the chain.
    fn has_io_kind(&self, kind: std::io::ErrorKind) -> bool {
        let mut current: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|err| err as &(dyn std::error::Error + 'static));
        while let Some(err) = current {
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && io.kind() == kind
            {
                return true;
            }
            current = err.source();
        }
        false
    }
}

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.text, f)
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|err| err as &(dyn std::error::Error + 'static))
    }
}

impl ConnectionError {
    /// Whether the server did not answer in time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use engineio::client::ConnectionError;
    /// assert!(ConnectionError::Timeout(Duration::from_secs(5)).is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Timeout(_) => true,
            Self::Transport(cause) => cause.has_io_kind(std::io::ErrorKind::TimedOut),
            _ => false,
        }
    }

    /// Whether TLS failed (an untrusted certificate, a handshake error).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use engineio::client::ConnectionError;
    /// assert!(!ConnectionError::Timeout(Duration::from_secs(5)).is_tls());
    /// ```
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }

    /// Whether the server's address refused the connection (nothing
    /// listens there).
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::client::ConnectionError;
    /// let err = ConnectionError::Protocol("nonsense".into());
    /// assert!(!err.is_refused());
    /// ```
    pub fn is_refused(&self) -> bool {
        match self {
            Self::Transport(cause) => cause.has_io_kind(std::io::ErrorKind::ConnectionRefused),
            _ => false,
        }
    }

    /// Whether the server answered the handshake with an error status.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::client::ConnectionError;
    /// let err = ConnectionError::Rejected { status: 401, body: None };
    /// assert!(err.is_rejected());
    /// ```
    pub fn is_rejected(&self) -> bool {
        matches!(self, Self::Rejected { .. })
    }

    /// Whether the server answered something that is not Engine.IO v4.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::client::ConnectionError;
    /// assert!(ConnectionError::Protocol("nonsense".into()).is_protocol());
    /// ```
    pub fn is_protocol(&self) -> bool {
        matches!(self, Self::Protocol(_))
    }

    /// The HTTP status of a rejected handshake.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::ConnectionError;
    /// assert_eq!(ConnectionError::Protocol("not engine.io".into()).status(), None);
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

/// Turns a dependency's error into a [`ConnectionError`], keeping it as
/// the source.
pub(crate) fn from_source(err: impl std::error::Error + Send + Sync + 'static) -> ConnectionError {
    if is_tls(&err) {
        ConnectionError::Tls(Cause::of(err))
    } else {
        ConnectionError::Transport(Cause::of(err))
    }
}
