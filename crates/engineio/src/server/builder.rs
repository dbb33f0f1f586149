//! The server's builder: its configuration and the application's handlers,
//! whose closures take a [`Socket`]; each is wrapped into the server's
//! erased storage, which builds the socket from the server and the
//! session's handle.

use std::future::Future;
use std::sync::Arc;

use engineio_proto::{DisconnectReason, Message, Transport};
use http::HeaderMap;
use http::request::Parts;

use super::config::ServerConfig;
use super::connect::{ConnectRequest, Rejection};
use super::engine::{
    BoxFuture, ConnectHandler, DisconnectHandler, Handlers, MessageHandler, Server, UpgradeHandler,
};
use super::handle::SessionHandle;
use super::hooks::{AllowRequest, ConnectionError};
use super::socket::Socket;

/// Builds a [`Server`]: its configuration and its handlers.
///
/// Each `on_*` method has an `_async` twin for handlers that await. Handlers
/// receive a [`Socket`], the handle of the session, to reply or disconnect.
/// Messages of one session reach the message handler one at a time, in order
/// (unless [`ServerConfig::async_handlers`]), on a dispatcher task of the
/// session; the disconnect handler runs once, after them.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use engineio::server::{Rejection, Server, ServerConfig};
///
/// let server = Server::builder()
///     .config(ServerConfig::default().ping_interval(Duration::from_secs(10)))
///     .on_connect_async(|socket, request| async move {
///         if request.headers.contains_key("x-token") { Ok(()) } else { Err(Rejection::unauthorized()) }
///     })
///     .on_message_async(|socket, message| async move {
///         let _ = socket.send(message);
///     })
///     .build();
/// # let _ = server;
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct ServerBuilder {
    config: ServerConfig,
    handlers: Handlers,
}

impl ServerBuilder {
    /// Sets the configuration (default: [`ServerConfig::default`]).
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// A hook that may refuse a handshake before any session exists; a
    /// refusal is answered 403 `{"code":4,"message":"Forbidden: <reason>"}`
    /// (the Node server's `allowRequest`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Server;
    /// let server = Server::builder()
    ///     .allow_request(|request| match request.peer_addr {
    ///         Some(addr) if addr.ip().is_loopback() => Ok(()),
    ///         _ => Err("only local clients".to_owned()),
    ///     })
    ///     .build();
    /// # let _ = server;
    /// ```
    pub fn allow_request(
        mut self,
        hook: impl Fn(&ConnectRequest) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.handlers.hooks.allow_request = Some(AllowRequest::Sync(Arc::new(hook)));
        self
    }

    /// The async form of [`ServerBuilder::allow_request`], for a hook that
    /// must ask something else (a database, a rate limiter) before a session
    /// exists. The handshake waits for it; replaces a sync hook.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Server;
    /// let server = Server::builder()
    ///     .allow_request_async(|request| async move {
    ///         // e.g. look the token up in a database
    ///         match request.headers.get("x-token") {
    ///             Some(_) => Ok(()),
    ///             None => Err("a token is needed".to_owned()),
    ///         }
    ///     })
    ///     .build();
    /// # let _ = server;
    /// ```
    pub fn allow_request_async<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(ConnectRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.handlers.hooks.allow_request = Some(AllowRequest::Async(Arc::new(
            move |request| -> BoxFuture<_> { Box::pin(hook(request)) },
        )));
        self
    }

    /// Edits the headers of a handshake's answer (the polling handshake's
    /// 200 and a WebSocket handshake's 101), before they are sent: Node's
    /// `initial_headers` event, e.g. to set a cookie. It runs after the
    /// session cookie (if [`ServerConfig::cookie`]) is set, and before
    /// [`ServerBuilder::on_headers`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Server;
    /// use http::HeaderValue;
    ///
    /// let server = Server::builder()
    ///     .on_initial_headers(|headers, _request| {
    ///         headers.append("set-cookie", HeaderValue::from_static("theme=dark; Path=/"));
    ///     })
    ///     .build();
    /// # let _ = server;
    /// ```
    pub fn on_initial_headers(
        mut self,
        hook: impl Fn(&mut HeaderMap, &Parts) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.hooks.initial_headers = Some(Arc::new(hook));
        self
    }

    /// Edits the headers of every successful engine.io answer before it is
    /// sent (handshakes, long polls, POSTs, and the 101 of a WebSocket
    /// handshake or upgrade): Node's `headers` event, e.g. for security
    /// headers. Error answers and CORS preflights do not run it, as in Node.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Server;
    /// use http::HeaderValue;
    ///
    /// let server = Server::builder()
    ///     .on_headers(|headers, _request| {
    ///         headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    ///     })
    ///     .build();
    /// # let _ = server;
    /// ```
    pub fn on_headers(
        mut self,
        hook: impl Fn(&mut HeaderMap, &Parts) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.hooks.headers = Some(Arc::new(hook));
        self
    }

    /// Called for every request the engine refuses, with its status, code,
    /// message and request: Node's `connection_error` event. Node emits it
    /// for handshake and routing refusals only; this also covers the
    /// refusals of an open session (a POST over the size limit, a second
    /// long poll) and the connect handler's 401. It runs on the request's
    /// task: keep it quick.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Server;
    /// let server = Server::builder()
    ///     .on_connection_error(|refused| {
    ///         tracing::warn!(status = %refused.status, message = refused.message, "refused");
    ///     })
    ///     .build();
    /// # let _ = server;
    /// ```
    pub fn on_connection_error(
        mut self,
        hook: impl Fn(&ConnectionError<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.hooks.connection_error = Some(Arc::new(hook));
        self
    }

    /// Generates the session ids instead of the built-in 120-bit random
    /// ids: Node's `generateId`. The id must be 1 to
    /// [`SID_MAX_LEN`](crate::SID_MAX_LEN) characters of
    /// `A-Z a-z 0-9 - _ .`.
    ///
    /// **The caller's duty:** a session id is the only credential of a
    /// session (whoever knows it can read and send as the client), so ids
    /// must be unguessable: include enough randomness from a CSPRNG (for
    /// example a prefix and [`Sid::generate`](crate::Sid::generate)). A
    /// handshake whose id is invalid or already in use is refused with
    /// 400 `{"code":3,"message":"Bad request"}`, as Node answers a failing
    /// `generateId`, and logged.
    ///
    /// With a [`node_id`](super::ServerConfig::node_id), the server puts the
    /// node id and a `.` before each id the hook gives (`n1.<the hook's
    /// id>`), so a load balancer can still route by the sid; the whole must
    /// fit in `SID_MAX_LEN` characters.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Server;
    /// let server = Server::builder()
    ///     .generate_id(|_request| format!("eu1.{}", engineio::Sid::generate()))
    ///     .build();
    /// # let _ = server;
    /// ```
    pub fn generate_id(
        mut self,
        generator: impl Fn(&ConnectRequest) -> String + Send + Sync + 'static,
    ) -> Self {
        self.handlers.hooks.generate_id = Some(Arc::new(generator));
        self
    }

    /// Called when a WebSocket probes a polling session to upgrade it (the
    /// `2probe` arrived): Node's socket `upgrading` event. It runs on the
    /// WebSocket's task, before its next packet is read: keep it quick
    /// (spawn a task for slow work). A panic is logged.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Server;
    /// let server = Server::builder()
    ///     .on_upgrading(|socket, transport| println!("{} upgrading to {transport}", socket.sid()))
    ///     .build();
    /// # let _ = server;
    /// ```
    pub fn on_upgrading(
        mut self,
        handler: impl Fn(&Socket, Transport) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.upgrading = Some(upgrade_handler(handler));
        self
    }

    /// Called when a session has moved to WebSocket (the upgrade packet
    /// arrived): Node's socket `upgrade` event, after
    /// [`ServerBuilder::on_upgrading`]. It runs on the WebSocket's task,
    /// before its next packet is read: keep it quick (spawn a task for slow
    /// work). A panic is logged.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Server;
    /// let server = Server::builder()
    ///     .on_upgrade(|socket, transport| println!("{} now on {transport}", socket.sid()))
    ///     .build();
    /// # let _ = server;
    /// ```
    pub fn on_upgrade(
        mut self,
        handler: impl Fn(&Socket, Transport) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.upgrade = Some(upgrade_handler(handler));
        self
    }

    /// Called for each new session before the handshake is answered; an
    /// `Err` refuses it with 401 and the [`Rejection`]'s JSON body. The
    /// session exists while it runs, so it may already send.
    pub fn on_connect(
        mut self,
        handler: impl Fn(&Socket, &ConnectRequest) -> Result<(), Rejection> + Send + Sync + 'static,
    ) -> Self {
        self.handlers.connect = Some(ConnectHandler::Sync(Arc::new(
            move |server: &Server, handle: &Arc<SessionHandle>, request: &ConnectRequest| {
                handler(&Socket::new(server.clone(), handle.clone()), request)
            },
        )));
        self
    }

    /// The async form of [`ServerBuilder::on_connect`].
    pub fn on_connect_async<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(Socket, ConnectRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Rejection>> + Send + 'static,
    {
        self.handlers.connect = Some(ConnectHandler::Async(Arc::new(
            move |server, handle, request| -> BoxFuture<_> {
                Box::pin(handler(Socket::new(server, handle), request))
            },
        )));
        self
    }

    /// Called for each message, text or binary.
    pub fn on_message(
        mut self,
        handler: impl Fn(&Socket, Message) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.message = Some(MessageHandler::Sync(Arc::new(
            move |server: &Server, handle: &Arc<SessionHandle>, message| {
                handler(&Socket::new(server.clone(), handle.clone()), message);
            },
        )));
        self
    }

    /// The async form of [`ServerBuilder::on_message`]. By default the next
    /// message of the same session waits until the future completes (see
    /// [`ServerConfig::async_handlers`] to run them concurrently); the
    /// future runs on the session's dispatcher, so it never delays pings or
    /// other sessions.
    pub fn on_message_async<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(Socket, Message) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.handlers.message = Some(MessageHandler::Async(Arc::new(
            move |server, handle, message| -> BoxFuture<()> {
                Box::pin(handler(Socket::new(server, handle), message))
            },
        )));
        self
    }

    /// Called once when a session ends, with the reason.
    pub fn on_disconnect(
        mut self,
        handler: impl Fn(&Socket, DisconnectReason) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.disconnect = Some(DisconnectHandler::Sync(Arc::new(
            move |server: &Server, handle: &Arc<SessionHandle>, reason| {
                handler(&Socket::new(server.clone(), handle.clone()), reason);
            },
        )));
        self
    }

    /// The async form of [`ServerBuilder::on_disconnect`].
    pub fn on_disconnect_async<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.handlers.disconnect = Some(DisconnectHandler::Async(Arc::new(
            move |server, handle, reason| -> BoxFuture<()> {
                Box::pin(handler(Socket::new(server, handle), reason))
            },
        )));
        self
    }

    /// Builds the server.
    pub fn build(self) -> Server {
        Server::new(self.config, self.handlers)
    }
}

/// Wraps an upgrade event handler into the server's erased storage.
fn upgrade_handler(handler: impl Fn(&Socket, Transport) + Send + Sync + 'static) -> UpgradeHandler {
    Arc::new(
        move |server: &Server, handle: &Arc<SessionHandle>, transport| {
            handler(&Socket::new(server.clone(), handle.clone()), transport);
        },
    )
}

impl Server {
    /// A builder for a server.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = engineio::server::Server::builder().build();
    /// assert_eq!(server.session_count(), 0);
    /// ```
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }
}
