//! The application's event handlers: connect, message and disconnect.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use engineio_proto::{DisconnectReason, Message, Transport};
use http::{HeaderMap, Method, Uri};

use super::socket::Socket;

/// A boxed future, the common shape of async handlers.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The handshake request of a new session, as the connect handler sees it
/// (python-engineio's `environ`, with the real peer address).
///
/// # Examples
///
/// ```
/// use engineio::server::{ConnectRequest, Rejection};
///
/// fn check(request: &ConnectRequest) -> Result<(), Rejection> {
///     match request.headers.get("authorization") {
///         Some(_) => Ok(()),
///         None => Err(Rejection::with_data(serde_json::json!({"reason": "no token"}))),
///     }
/// }
/// # let _ = check;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectRequest {
    /// The HTTP method (always GET for a handshake).
    pub method: Method,
    /// The request URI, with its query string.
    pub uri: Uri,
    /// The request headers.
    pub headers: HeaderMap,
    /// The peer's address, when the server knows it (standalone listener,
    /// or an outer service that put a `SocketAddr` in the request extensions,
    /// as axum's `ConnectInfo` does).
    pub peer_addr: Option<SocketAddr>,
    /// The transport of the handshake.
    pub transport: Transport,
}

/// Why a connect handler refused a session: answered with 401 and a JSON
/// body, as python-engineio does (python-socketio reads the body).
///
/// # Examples
///
/// ```
/// use engineio::server::Rejection;
///
/// assert_eq!(Rejection::unauthorized().body(), "\"Unauthorized\"");
/// assert_eq!(Rejection::with_data(serde_json::json!({"code": 42})).body(), r#"{"code":42}"#);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    data: Option<serde_json::Value>,
}

impl Rejection {
    /// A plain rejection: body `"Unauthorized"`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Rejection;
    /// let rejection = Rejection::unauthorized();
    /// # let _ = rejection;
    /// ```
    pub fn unauthorized() -> Self {
        Self { data: None }
    }

    /// A rejection whose body is the given JSON value.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Rejection;
    /// let rejection = Rejection::with_data(serde_json::json!({"message": "banned"}));
    /// # let _ = rejection;
    /// ```
    pub fn with_data(data: serde_json::Value) -> Self {
        Self { data: Some(data) }
    }

    /// The JSON body of the 401 response.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Rejection;
    /// assert_eq!(Rejection::unauthorized().body(), "\"Unauthorized\"");
    /// ```
    pub fn body(&self) -> String {
        match &self.data {
            Some(value) => value.to_string(),
            None => "\"Unauthorized\"".to_owned(),
        }
    }
}

/// A handler taking a socket reference and an argument.
type SyncFn<A, R = ()> = Arc<dyn Fn(&Socket, A) -> R + Send + Sync>;
/// A handler taking a socket and an argument, returning a future.
type AsyncFn<A, R = ()> = Arc<dyn Fn(Socket, A) -> BoxFuture<R> + Send + Sync>;

/// A connect handler: sync or async.
#[derive(Clone)]
pub(crate) enum ConnectHandler {
    #[allow(clippy::type_complexity)]
    Sync(Arc<dyn Fn(&Socket, &ConnectRequest) -> Result<(), Rejection> + Send + Sync>),
    Async(AsyncFn<ConnectRequest, Result<(), Rejection>>),
}

/// A message handler: sync or async.
#[derive(Clone)]
pub(crate) enum MessageHandler {
    Sync(SyncFn<Message>),
    Async(AsyncFn<Message>),
}

/// A disconnect handler: sync or async.
#[derive(Clone)]
pub(crate) enum DisconnectHandler {
    Sync(SyncFn<DisconnectReason>),
    Async(AsyncFn<DisconnectReason>),
}

/// The `allow_request` hook: may refuse a handshake with a 403.
pub(crate) type AllowRequest = Arc<dyn Fn(&ConnectRequest) -> Result<(), String> + Send + Sync>;

/// Every handler of a server.
#[derive(Clone, Default)]
pub(crate) struct Handlers {
    pub(crate) allow_request: Option<AllowRequest>,
    pub(crate) connect: Option<ConnectHandler>,
    pub(crate) message: Option<MessageHandler>,
    pub(crate) disconnect: Option<DisconnectHandler>,
}

impl Handlers {
    /// Runs the connect handler; no handler accepts every session.
    pub(crate) async fn connect(
        &self,
        socket: &Socket,
        request: &ConnectRequest,
    ) -> Result<(), Rejection> {
        match &self.connect {
            None => Ok(()),
            Some(ConnectHandler::Sync(handler)) => handler(socket, request),
            Some(ConnectHandler::Async(handler)) => handler(socket.clone(), request.clone()).await,
        }
    }

    /// Runs the message handler to completion, so one session's messages are
    /// handled in order.
    pub(crate) async fn message(&self, socket: &Socket, message: Message) {
        match &self.message {
            None => {}
            Some(MessageHandler::Sync(handler)) => handler(socket, message),
            Some(MessageHandler::Async(handler)) => handler(socket.clone(), message).await,
        }
    }

    /// Runs the disconnect handler.
    pub(crate) async fn disconnect(&self, socket: &Socket, reason: DisconnectReason) {
        match &self.disconnect {
            None => {}
            Some(DisconnectHandler::Sync(handler)) => handler(socket, reason),
            Some(DisconnectHandler::Async(handler)) => handler(socket.clone(), reason).await,
        }
    }
}

impl fmt::Debug for Handlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handlers")
            .field("allow_request", &self.allow_request.is_some())
            .field("connect", &self.connect.is_some())
            .field("message", &self.message.is_some())
            .field("disconnect", &self.disconnect.is_some())
            .finish()
    }
}
