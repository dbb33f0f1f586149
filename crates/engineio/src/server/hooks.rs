//! The application's hooks beside the session handlers: response headers
//! (Node's `initial_headers` and `headers` events), refused requests
//! (`connection_error`), the upgrade events (`upgrading`, `upgrade`), a
//! custom session id generator (`generateId`) and the async form of
//! `allow_request`.

use std::fmt;
use std::sync::Arc;

use engineio_proto::server::ErrorCode;
use http::request::Parts;
use http::{HeaderMap, StatusCode};

use super::connect::ConnectRequest;
use super::engine::BoxFuture;

/// A request the server refused, as the `connection_error` hook sees it:
/// the answer's status, the Node error code and message when the body
/// carries one, and the request.
///
/// # Examples
///
/// ```
/// use engineio::server::Server;
///
/// let server = Server::builder()
///     .on_connection_error(|refused| {
///         eprintln!(
///             "{} {} refused: {} {:?} {}",
///             refused.request.method, refused.request.uri, refused.status, refused.code, refused.message,
///         );
///     })
///     .build();
/// # let _ = server;
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct ConnectionError<'a> {
    /// The HTTP status of the answer (400, 403, 413, 401, 503...).
    pub status: StatusCode,
    /// The engine.io error code of the body (`{"code":N,...}`), when the
    /// answer has one: 413 and the connect handler's 401 have none.
    pub code: Option<ErrorCode>,
    /// What was wrong, as in the body (`Session ID unknown`,
    /// `Forbidden: <reason>`...); empty for a 413.
    pub message: &'a str,
    /// The refused request (its body, if any, is not included).
    pub request: &'a Parts,
}

/// A refusal, stored in an error response's extensions by the code that
/// wrote it, for the `connection_error` hook.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub(crate) code: Option<ErrorCode>,
    pub(crate) message: String,
}

/// A hook on response headers.
pub(crate) type HeadersHook = Arc<dyn Fn(&mut HeaderMap, &Parts) + Send + Sync>;

/// The `connection_error` hook.
pub(crate) type ConnectionErrorHook = Arc<dyn Fn(&ConnectionError<'_>) + Send + Sync>;

/// A custom session id generator.
pub(crate) type GenerateId = Arc<dyn Fn(&ConnectRequest) -> String + Send + Sync>;

/// What `allow_request` decides: `Err` holds the reason of the 403.
type Verdict = Result<(), String>;

/// The `allow_request` hook: sync or async; may refuse a handshake with a 403.
#[derive(Clone)]
pub(crate) enum AllowRequest {
    Sync(Arc<dyn Fn(&ConnectRequest) -> Verdict + Send + Sync>),
    Async(Arc<dyn Fn(ConnectRequest) -> BoxFuture<Verdict> + Send + Sync>),
}

impl AllowRequest {
    /// Runs the hook.
    pub(crate) async fn check(&self, request: &ConnectRequest) -> Result<(), String> {
        match self {
            Self::Sync(hook) => hook(request),
            Self::Async(hook) => hook(request.clone()).await,
        }
    }
}

/// The hooks of a server; each is optional and costs nothing when unset.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) allow_request: Option<AllowRequest>,
    pub(crate) initial_headers: Option<HeadersHook>,
    pub(crate) headers: Option<HeadersHook>,
    pub(crate) connection_error: Option<ConnectionErrorHook>,
    pub(crate) generate_id: Option<GenerateId>,
}

impl Hooks {
    /// Runs the header hooks on a response: `initial_headers` first for a
    /// handshake's, then `headers`.
    pub(crate) fn on_headers(&self, headers: &mut HeaderMap, request: &Parts, handshake: bool) {
        if handshake && let Some(hook) = &self.initial_headers {
            hook(headers, request);
        }
        if let Some(hook) = &self.headers {
            hook(headers, request);
        }
    }

    /// Whether a header hook is set.
    pub(crate) fn wants_headers(&self) -> bool {
        self.initial_headers.is_some() || self.headers.is_some()
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("allow_request", &self.allow_request.is_some())
            .field("initial_headers", &self.initial_headers.is_some())
            .field("headers", &self.headers.is_some())
            .field("connection_error", &self.connection_error.is_some())
            .field("generate_id", &self.generate_id.is_some())
            .finish()
    }
}
