//! The server value: its sessions, its handlers, and the calls the
//! application makes on it (send, disconnect, shutdown).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use engineio_proto::server::{self as core, Session};
use engineio_proto::{DisconnectReason, EncodedPacket, Message, Packet, Sid, Transport};
use thiserror::Error;

use super::config::ServerConfig;
use super::driver::{SessionHandle, drive_timers, now};
use super::handlers::{
    BoxFuture, ConnectHandler, ConnectRequest, DisconnectHandler, Handlers, MessageHandler,
    Rejection,
};
use super::socket::Socket;

/// Why a packet could not be sent to a session.
///
/// # Examples
///
/// ```
/// use engineio::server::{SendError, Server};
///
/// let server = Server::builder().build();
/// let sid = engineio::Sid::generate();
/// assert_eq!(server.send(sid, "hi"), Err(SendError::UnknownSession));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SendError {
    /// No session has this id (never had, or it ended).
    #[error("no session with this id")]
    UnknownSession,
    /// The session is closing.
    #[error("the session is closed")]
    Closed,
    /// The client reads slower than the application sends; the packet was
    /// not queued (see [`ServerConfig::max_queue`]).
    #[error("the session's outgoing queue is full ({limit} packets)")]
    QueueFull {
        /// The configured limit.
        limit: usize,
    },
    /// Text holding the record separator `0x1E` cannot go over
    /// long-polling: it would split into several packets. Send it as binary,
    /// or once the session runs over WebSocket.
    #[error("text holding the record separator 0x1E cannot be sent over long-polling")]
    SeparatorInText,
}

impl From<core::SendError> for SendError {
    fn from(err: core::SendError) -> Self {
        match err {
            core::SendError::QueueFull { limit } => Self::QueueFull { limit },
            core::SendError::SeparatorInText => Self::SeparatorInText,
            core::SendError::Closed => Self::Closed,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) config: ServerConfig,
    pub(crate) handlers: Handlers,
    sessions: Mutex<HashMap<Sid, Arc<SessionHandle>>>,
    /// The runtime the sessions' tasks run on, so that calls from outside
    /// it (a `disconnect` from a plain thread) can still start them.
    runtime: std::sync::OnceLock<tokio::runtime::Handle>,
    /// Tells listeners to stop accepting connections.
    pub(crate) shutdown: tokio::sync::watch::Sender<bool>,
}

/// An Engine.IO server. Cheap to clone: clones share the sessions.
///
/// Serve it standalone with [`Server::listen`], or mount it in a hyper, tower
/// or axum stack with [`Server::into_service`] and [`Server::layer`].
///
/// # Examples
///
/// An echo server:
///
/// ```no_run
/// use engineio::server::Server;
///
/// # async fn run() -> std::io::Result<()> {
/// let server = Server::builder()
///     .on_connect(|socket, request| {
///         println!("{} connected from {:?}", socket.sid(), request.peer_addr);
///         Ok(())
///     })
///     .on_message(|socket, message| {
///         let _ = socket.send(message);
///     })
///     .on_disconnect(|socket, reason| println!("{} left: {reason}", socket.sid()))
///     .build();
/// server.listen("127.0.0.1:5000").await
/// # }
/// ```
#[derive(Clone)]
pub struct Server {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.inner.config)
            .field("handlers", &self.inner.handlers)
            .field("sessions", &self.session_count())
            .finish()
    }
}

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
        self.handlers.connect = Some(ConnectHandler::Sync(Arc::new(handler)));
        self
    }

    /// The async form of [`ServerBuilder::on_connect`].
    pub fn on_connect_async<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(Socket, ConnectRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Rejection>> + Send + 'static,
    {
        self.handlers.connect = Some(ConnectHandler::Async(Arc::new(
            move |s, r| -> BoxFuture<_> { Box::pin(handler(s, r)) },
        )));
        self
    }

    /// Called for each message, text or binary.
    pub fn on_message(
        mut self,
        handler: impl Fn(&Socket, Message) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.message = Some(MessageHandler::Sync(Arc::new(handler)));
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
            move |s, m| -> BoxFuture<()> { Box::pin(handler(s, m)) },
        )));
        self
    }

    /// Called once when a session ends, with the reason.
    pub fn on_disconnect(
        mut self,
        handler: impl Fn(&Socket, DisconnectReason) + Send + Sync + 'static,
    ) -> Self {
        self.handlers.disconnect = Some(DisconnectHandler::Sync(Arc::new(handler)));
        self
    }

    /// The async form of [`ServerBuilder::on_disconnect`].
    pub fn on_disconnect_async<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.handlers.disconnect = Some(DisconnectHandler::Async(Arc::new(
            move |s, r| -> BoxFuture<()> { Box::pin(handler(s, r)) },
        )));
        self
    }

    /// Builds the server.
    pub fn build(self) -> Server {
        let (shutdown, _) = tokio::sync::watch::channel(false);
        Server {
            inner: Arc::new(Inner {
                config: self.config,
                handlers: self.handlers,
                sessions: Mutex::new(HashMap::new()),
                runtime: std::sync::OnceLock::new(),
                shutdown,
            }),
        }
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

    /// The server's configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<Sid, Arc<SessionHandle>>> {
        self.inner
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn handle(&self, sid: Sid) -> Option<Arc<SessionHandle>> {
        self.sessions().get(&sid).cloned()
    }

    /// The socket handle of a live session.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = engineio::server::Server::builder().build();
    /// assert!(server.socket(engineio::Sid::generate()).is_none());
    /// ```
    pub fn socket(&self, sid: Sid) -> Option<Socket> {
        self.handle(sid)
            .map(|handle| Socket::new(self.clone(), handle))
    }

    /// The ids of the open sessions.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = engineio::server::Server::builder().build();
    /// assert!(server.session_ids().is_empty());
    /// ```
    pub fn session_ids(&self) -> Vec<Sid> {
        self.open_sessions().map(|handle| handle.sid).collect()
    }

    /// The sessions that are not closed (closed ones may linger until their
    /// close packet is delivered).
    fn open_sessions(&self) -> impl Iterator<Item = Arc<SessionHandle>> {
        let handles: Vec<Arc<SessionHandle>> = self.sessions().values().cloned().collect();
        handles
            .into_iter()
            .filter(|handle| handle.core().closed().is_none())
    }

    /// The number of open sessions.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = engineio::server::Server::builder().build();
    /// assert_eq!(server.session_count(), 0);
    /// ```
    pub fn session_count(&self) -> usize {
        self.open_sessions().count()
    }

    /// Queues a text or binary message for a session. Never blocks.
    ///
    /// # Errors
    ///
    /// See [`SendError`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::{SendError, Server};
    /// # let server = Server::builder().build();
    /// let result = server.send(engineio::Sid::generate(), vec![1u8, 2, 3]);
    /// assert_eq!(result, Err(SendError::UnknownSession));
    /// ```
    pub fn send(&self, sid: Sid, message: impl Into<Message>) -> Result<(), SendError> {
        self.send_packet(sid, &EncodedPacket::new(Packet::Message(message.into())))
    }

    /// Queues a packet that may be shared with other sessions: it is encoded
    /// once, whatever the number of sessions it goes to.
    ///
    /// # Errors
    ///
    /// See [`SendError`].
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::proto::{EncodedPacket, Packet};
    /// # let server = engineio::server::Server::builder().build();
    /// let news = EncodedPacket::new(Packet::message("to everyone"));
    /// for sid in server.session_ids() {
    ///     let _ = server.send_packet(sid, &news);
    /// }
    /// ```
    pub fn send_packet(&self, sid: Sid, packet: &EncodedPacket) -> Result<(), SendError> {
        self.handle(sid)
            .ok_or(SendError::UnknownSession)?
            .send(self, packet)
    }

    /// Closes a session ("server disconnect"). Returns whether it was open.
    ///
    /// Never blocks, whatever the transport (python-engineio's hangs on
    /// polling clients): the close packet is delivered by the client's next
    /// poll or over its WebSocket, and the disconnect handler runs on the
    /// session's dispatcher, after the messages already received.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = engineio::server::Server::builder().build();
    /// assert!(!server.disconnect(engineio::Sid::generate()));
    /// ```
    pub fn disconnect(&self, sid: Sid) -> bool {
        let Some(handle) = self.handle(sid) else {
            return false;
        };
        handle.update(self, |core| {
            core.close(DisconnectReason::ServerDisconnect, now())
        })
    }

    /// Closes every session ("server disconnect"); never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = engineio::server::Server::builder().build();
    /// server.disconnect_all();
    /// ```
    pub fn disconnect_all(&self) {
        for sid in self.session_ids() {
            self.disconnect(sid);
        }
    }

    /// The transport a session runs over now.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = engineio::server::Server::builder().build();
    /// assert_eq!(server.transport(engineio::Sid::generate()), None);
    /// ```
    pub fn transport(&self, sid: Sid) -> Option<Transport> {
        self.handle(sid).map(|handle| handle.core().transport())
    }

    /// Closes every session and stops the listeners started with
    /// [`Server::listen`] or [`Server::serve`]. Sessions' close packets are
    /// flushed for up to `close_timeout`; it returns when all sessions are
    /// gone or after that.
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn run(server: engineio::server::Server) {
    /// server.shutdown().await;
    /// # }
    /// ```
    pub async fn shutdown(&self) {
        let _ = self.inner.shutdown.send(true);
        self.disconnect_all();
        let deadline = tokio::time::Instant::now() + self.inner.config.close_timeout;
        while !self.sessions().is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    // ===== internals shared by the transports =====

    /// Creates a session and starts its timer task.
    pub(crate) fn create_session(&self, transport: Transport) -> Arc<SessionHandle> {
        let _ = self
            .inner
            .runtime
            .get_or_init(tokio::runtime::Handle::current);
        let core = Session::new(transport, self.inner.config.session_config(), now());
        let handle = Arc::new(SessionHandle::new(Sid::generate(), core));
        self.sessions().insert(handle.sid, handle.clone());
        self.spawn(drive_timers(self.clone(), handle.clone()));
        handle
    }

    /// Starts a task on the server's runtime.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        match self.inner.runtime.get() {
            Some(runtime) => drop(runtime.spawn(task)),
            None => drop(tokio::spawn(task)),
        }
    }

    /// Removes a session's sid from the table: later requests with it get
    /// "Session ID unknown". Called when the core says so.
    pub(crate) fn forget(&self, handle: &SessionHandle) {
        let mut sessions = self.sessions();
        if sessions
            .get(&handle.sid)
            .is_some_and(|h| std::ptr::eq(&**h, handle))
        {
            sessions.remove(&handle.sid);
        }
    }
}
