//! The server's builder: its configuration and the application's handlers,
//! whose closures take a [`Socket`]; each is wrapped into the server's
//! erased storage, which builds the socket from the server and the
//! session's handle.

use std::future::Future;
use std::sync::Arc;

use engineio_proto::{DisconnectReason, Message};

use super::config::ServerConfig;
use super::connect::{ConnectRequest, Rejection};
use super::engine::{
    BoxFuture, ConnectHandler, DisconnectHandler, Handlers, MessageHandler, Server,
};
use super::handle::SessionHandle;
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
        self.handlers.allow_request = Some(Arc::new(hook));
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
