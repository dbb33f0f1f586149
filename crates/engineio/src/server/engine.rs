//! The server value: its sessions, its handlers, and the calls the
//! application makes on it (send, disconnect, shutdown).
//!
//! The handlers are stored erased: they take the server and the session's
//! handle, not the `Socket` the application's closures take (the builder
//! wraps those closures), so that the server does not depend on the socket.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use engineio_proto::server::{Session, Wire};
use engineio_proto::{
    DisconnectReason, EncodedPacket, Message, Packet, SendJsonError, Sid, Transport,
};

use super::config::ServerConfig;
use super::connect::{ConnectRequest, Rejection};
use super::handle::{SessionHandle, now};
use super::hooks::Hooks;

/// Why a packet could not be sent to a session: the one type of the server
/// and the clients (`UnknownSession` for an id the server does not know,
/// `Closed` for a session that is closing, `QueueFull` past
/// [`ServerConfig::max_queue`], `SeparatorInText` for text holding `0x1E`
/// on long-polling).
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
pub use engineio_proto::SendError;

pub(crate) struct Inner {
    pub(crate) config: ServerConfig,
    pub(crate) handlers: Handlers,
    sessions: Mutex<HashMap<Sid, Arc<SessionHandle>>>,
    /// The runtime the sessions' tasks run on, so that calls from outside
    /// it (a `disconnect` from a plain thread) can still start them.
    runtime: std::sync::OnceLock<tokio::runtime::Handle>,
    /// Tells listeners to stop accepting connections.
    pub(crate) shutdown: tokio::sync::watch::Sender<bool>,
    /// The timer task's inbox, once the first session started it.
    timers: std::sync::OnceLock<super::timers::TimerRequests>,
    /// Requests for sessions of other nodes (with a node id).
    pub(crate) misrouting: super::misroute::Misrouting,
    /// How many WebTransport listeners run (polling handshakes offer
    /// `webtransport` while one does).
    #[cfg(feature = "webtransport")]
    pub(crate) webtransport_listeners: std::sync::atomic::AtomicUsize,
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

/// Why a session could not be added to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotOpened {
    /// The server holds `max_sessions` sessions.
    Full,
    /// The (custom) id is already a live session's.
    IdInUse,
}

/// A boxed future, the common shape of async handlers.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A handler taking the session (the server and its handle) by reference
/// and an argument.
type SyncFn<A, R = ()> = Arc<dyn Fn(&Server, &Arc<SessionHandle>, A) -> R + Send + Sync>;
/// A handler taking the session (the server and its handle) and an
/// argument, returning a future.
type AsyncFn<A, R = ()> = Arc<dyn Fn(Server, Arc<SessionHandle>, A) -> BoxFuture<R> + Send + Sync>;

/// A connect handler: sync or async.
#[derive(Clone)]
pub(crate) enum ConnectHandler {
    #[allow(clippy::type_complexity)]
    Sync(
        Arc<
            dyn Fn(&Server, &Arc<SessionHandle>, &ConnectRequest) -> Result<(), Rejection>
                + Send
                + Sync,
        >,
    ),
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

/// An upgrade event handler ("upgrading" or "upgrade"), with the transport.
pub(crate) type UpgradeHandler = SyncFn<Transport>;

/// Every handler of a server.
#[derive(Clone, Default)]
pub(crate) struct Handlers {
    pub(crate) hooks: Hooks,
    pub(crate) connect: Option<ConnectHandler>,
    pub(crate) message: Option<MessageHandler>,
    pub(crate) disconnect: Option<DisconnectHandler>,
    pub(crate) upgrading: Option<UpgradeHandler>,
    pub(crate) upgrade: Option<UpgradeHandler>,
}

impl Handlers {
    /// Runs the connect handler; no handler accepts every session.
    pub(crate) async fn connect(
        &self,
        server: &Server,
        handle: &Arc<SessionHandle>,
        request: &ConnectRequest,
    ) -> Result<(), Rejection> {
        match &self.connect {
            None => Ok(()),
            Some(ConnectHandler::Sync(handler)) => handler(server, handle, request),
            Some(ConnectHandler::Async(handler)) => {
                handler(server.clone(), handle.clone(), request.clone()).await
            }
        }
    }

    /// Runs the message handler to completion, so one session's messages are
    /// handled in order.
    pub(crate) async fn message(
        &self,
        server: &Server,
        handle: &Arc<SessionHandle>,
        message: Message,
    ) {
        match &self.message {
            None => {}
            Some(MessageHandler::Sync(handler)) => handler(server, handle, message),
            Some(MessageHandler::Async(handler)) => {
                handler(server.clone(), handle.clone(), message).await;
            }
        }
    }

    /// Runs the disconnect handler.
    pub(crate) async fn disconnect(
        &self,
        server: &Server,
        handle: &Arc<SessionHandle>,
        reason: DisconnectReason,
    ) {
        match &self.disconnect {
            None => {}
            Some(DisconnectHandler::Sync(handler)) => handler(server, handle, reason),
            Some(DisconnectHandler::Async(handler)) => {
                handler(server.clone(), handle.clone(), reason).await;
            }
        }
    }
}

impl fmt::Debug for Handlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handlers")
            .field("hooks", &self.hooks)
            .field("connect", &self.connect.is_some())
            .field("message", &self.message.is_some())
            .field("disconnect", &self.disconnect.is_some())
            .field("upgrading", &self.upgrading.is_some())
            .field("upgrade", &self.upgrade.is_some())
            .finish()
    }
}

impl Server {
    /// A server with this configuration and these handlers, and no session.
    pub(crate) fn new(config: ServerConfig, handlers: Handlers) -> Self {
        let (shutdown, _) = tokio::sync::watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                config,
                handlers,
                sessions: Mutex::new(HashMap::new()),
                runtime: std::sync::OnceLock::new(),
                shutdown,
                timers: std::sync::OnceLock::new(),
                misrouting: super::misroute::Misrouting::default(),
                #[cfg(feature = "webtransport")]
                webtransport_listeners: std::sync::atomic::AtomicUsize::new(0),
            }),
        }
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

    /// How many sessions the table holds, closed ones still delivering
    /// their close packet included.
    pub(crate) fn table_len(&self) -> usize {
        self.sessions().len()
    }

    pub(crate) fn handle(&self, sid: Sid) -> Option<Arc<SessionHandle>> {
        self.sessions().get(&sid).cloned()
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

    /// How many requests named a session of another node since the server
    /// started: requests whose sid starts with another node id than this
    /// server's [`node_id`](ServerConfig::node_id) (always 0 without one).
    /// Each was answered 400 "Session ID unknown"; a count that grows
    /// means the load balancer does not send a session's requests to the
    /// node that holds it (the log says so too, at most once every 10 s).
    /// Expose it as a metric, or check it in a health probe.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::server::{Server, ServerConfig};
    ///
    /// let server = Server::builder()
    ///     .config(ServerConfig::default().node_id("n1".parse()?))
    ///     .build();
    /// assert_eq!(server.misrouted_requests(), 0);
    /// # Ok::<(), engineio::InvalidNodeId>(())
    /// ```
    pub fn misrouted_requests(&self) -> u64 {
        self.inner.misrouting.count()
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

    /// Queues `value` as a JSON text message for a session (see
    /// [`Message::from_json`]; decode with [`Message::json`]).
    ///
    /// # Errors
    ///
    /// [`SendJsonError::Json`] when the value cannot be written as JSON
    /// (nothing is sent), [`SendJsonError::Send`] as [`Server::send`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::{SendError, Server};
    /// # use engineio::SendJsonError;
    /// # let server = Server::builder().build();
    /// let result = server.send_json(engineio::Sid::generate(), &serde_json::json!({"score": 3}));
    /// assert_eq!(result, Err(SendJsonError::Send(SendError::UnknownSession)));
    /// ```
    pub fn send_json<T: serde::Serialize + ?Sized>(
        &self,
        sid: Sid,
        value: &T,
    ) -> Result<(), SendJsonError> {
        Ok(self.send(sid, Message::from_json(value)?)?)
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
        // `send_replace`, not `send`: the flag must be stored even when no
        // listener has subscribed yet (a `serve` task spawned just before
        // and not yet started), or that listener would never stop.
        self.inner.shutdown.send_replace(true);
        self.disconnect_all();
        let deadline = tokio::time::Instant::now() + self.inner.config.close_timeout;
        while !self.sessions().is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    // ===== internals shared by the transports =====

    /// Adds a new session to the table (its timer task is not started), and
    /// remembers the runtime it was opened on, where the sessions' tasks
    /// start.
    ///
    /// Refused when the table holds `max_sessions` sessions already
    /// (checked under the table's lock, so concurrent handshakes cannot
    /// overshoot) or when `sid` is a live session's (a custom id generator
    /// repeating itself).
    pub(crate) fn add_session(
        &self,
        transport: Transport,
        sid: Sid,
        wire: Wire,
    ) -> Result<Arc<SessionHandle>, NotOpened> {
        let _ = self
            .inner
            .runtime
            .get_or_init(tokio::runtime::Handle::current);
        let mut sessions = self.sessions();
        if self
            .inner
            .config
            .max_sessions
            .is_some_and(|max| sessions.len() >= max)
        {
            return Err(NotOpened::Full);
        }
        let std::collections::hash_map::Entry::Vacant(slot) = sessions.entry(sid) else {
            return Err(NotOpened::IdInUse);
        };
        let core = Session::with_wire(transport, self.inner.config.session_config(), wire, now());
        let handle = Arc::new(SessionHandle::new(sid, core));
        slot.insert(handle.clone());
        Ok(handle)
    }

    /// The timer task's inbox, started on the server's runtime with the
    /// first session (`None` before any session, when nothing needs it).
    pub(crate) fn timers(&self) -> Option<&super::timers::TimerRequests> {
        if let Some(timers) = self.inner.timers.get() {
            return Some(timers);
        }
        let runtime = self.inner.runtime.get()?;
        let _entered = runtime.enter();
        Some(self.inner.timers.get_or_init(|| super::timers::start(self)))
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
    pub(crate) fn remove_session(&self, handle: &SessionHandle) {
        let mut sessions = self.sessions();
        if sessions
            .get(&handle.sid)
            .is_some_and(|h| std::ptr::eq(&**h, handle))
        {
            sessions.remove(&handle.sid);
            // Give back the room a burst of sessions took, with slack so
            // that a table going up and down does not reallocate each time.
            if sessions.capacity() > 1024 && sessions.len() * 4 < sessions.capacity() {
                let len = sessions.len();
                sessions.shrink_to(len * 2);
            }
        }
    }
}
