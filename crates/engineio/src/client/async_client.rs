//! The async client handle.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use engineio_proto::{Handshake, Message, Transport};

use super::config::ClientConfig;
use super::dispatch::in_dispatcher;
use super::endpoint::Endpoint;
use super::error::{Cause, ConfigError, ConnectionError, SendError};
use super::event::{DisconnectReason, Event, State};
use super::handlers::{ConnectOutcome, Handler};
use super::http::Net;
use super::session::{self, ConnectGuard};
use super::shared::{Command, Shared};

/// An Engine.IO v4 client on tokio.
///
/// Cheap to clone: clones share the connection. When the last clone is
/// dropped, an open connection is closed as by [`disconnect`](Self::disconnect)
/// (handlers that capture a clone keep the client alive).
///
/// # Examples
///
/// ```no_run
/// use engineio::client::Client;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder().build()?;
/// client.on_message(|message| println!("got {message:?}"));
/// client.connect("http://127.0.0.1:3000").await?;
/// client.send("hello")?;
/// client.send(vec![1u8, 2, 3])?;
/// client.disconnect().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    handle: Arc<Handle>,
}

/// Closes the connection when the last [`Client`] clone goes away.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some(commands) = &self.shared.status.borrow().commands {
            let _ = commands.send(Command::Close {
                abort: false,
                reason: DisconnectReason::ClientDisconnect,
            });
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.shared().status.borrow();
        f.debug_struct("Client")
            .field("state", &status.state)
            .field("sid", &status.handshake.as_ref().map(|h| &h.sid))
            .field("transport", &status.transport)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Builds a client from a configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for an invalid header, an empty transport list or an
    /// unusable root certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::client::{Client, ClientConfig};
    ///
    /// let client = Client::with_config(ClientConfig::default()).unwrap();
    /// # drop(client);
    /// ```
    pub fn with_config(config: ClientConfig) -> Result<Self, ConfigError> {
        let net = Net::new(&config)?;
        Ok(Self {
            handle: Arc::new(Handle {
                shared: Arc::new(Shared::new(config, net)),
            }),
        })
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
    }

    /// Opens a session with the server at `url` (`http`, `https`, `ws` or
    /// `wss`; see [the module docs](crate::client) for how the path is
    /// built).
    ///
    /// Returns once the handshake succeeded; the `Connect` event follows,
    /// and the upgrade to WebSocket (if any) happens in the background.
    ///
    /// If this future is dropped before it completes, the client goes back
    /// to [`State::Disconnected`].
    ///
    /// # Errors
    ///
    /// [`ConnectionError::Rejected`] with the status and JSON body when the
    /// server refuses the handshake; [`ConnectionError::InvalidState`] when
    /// the client is not disconnected; other variants for network, TLS,
    /// timeout, URL and protocol failures.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use engineio::client::{Client, ConnectionError};
    /// # async fn run(client: Client) {
    /// match client.connect("https://example.com/app").await {
    ///     Ok(()) => println!("connected as {:?}", client.sid()),
    ///     Err(ConnectionError::Rejected { status, body }) => println!("refused ({status}): {body:?}"),
    ///     Err(err) => println!("failed: {err}"),
    /// }
    /// # }
    /// ```
    pub async fn connect(&self, url: &str) -> Result<(), ConnectionError> {
        let shared = self.shared();
        let guard = ConnectGuard::begin(shared)?;
        let endpoint = Endpoint::new(url, &shared.config)?;
        let opened = session::start(shared, endpoint);
        match opened.await {
            Ok(Ok(())) => {
                guard.disarm();
                Ok(())
            }
            Ok(Err(err)) => Err(err),
            Err(_) => Err(ConnectionError::Transport(Cause::message(
                "the connection task ended during the handshake",
            ))),
        }
    }

    /// Queues a text (`&str`, `String`) or binary (`Vec<u8>`, `&[u8]`,
    /// `Bytes`) message. Never blocks: messages queue while a POST is in
    /// flight or an upgrade is in progress, and go out in order.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] unless the client is connected;
    /// [`SendError::SeparatorInText`] for text holding `\u{1e}` while the
    /// session is on long-polling.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use engineio::client::Client;
    /// # fn run(client: &Client) -> Result<(), engineio::client::SendError> {
    /// client.send("héllo 👋")?;
    /// client.send(vec![0u8, 159, 255])?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        let message = message.into();
        let link = self.shared().link().ok_or(SendError::Closed)?;
        link.update(|core| core.send(message))
    }

    /// Queues `value` as a JSON text message (see
    /// [`Message::from_json`](crate::Message::from_json); decode the
    /// server's with [`Message::json`](crate::Message::json)).
    ///
    /// # Errors
    ///
    /// [`SendJsonError::Json`](crate::SendJsonError::Json) when the value
    /// cannot be written as JSON (nothing is sent),
    /// [`SendJsonError::Send`](crate::SendJsonError::Send) as
    /// [`Client::send`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use engineio::client::Client;
    /// # fn run(client: &Client) -> Result<(), engineio::SendJsonError> {
    /// client.send_json(&serde_json::json!({"join": "lobby"}))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_json<T: serde::Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> Result<(), crate::SendJsonError> {
        Ok(self.send(Message::from_json(value)?)?)
    }

    /// Closes the connection: sends the close packet, waits until it is
    /// written (at most the request timeout), then closes the transport; also
    /// stops a reconnection in progress, and cancels a `connect()` still in
    /// its handshake (which then fails). The `Disconnect` event carries
    /// [`DisconnectReason::ClientDisconnect`].
    ///
    /// Returns when the session task has finished and every handler has run,
    /// except when called from a handler, where it returns once the
    /// transport is closed (waiting for the handlers there would deadlock).
    /// Does nothing when already disconnected.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: engineio::client::Client) {
    /// client.disconnect().await;
    /// assert_eq!(client.state(), engineio::client::State::Disconnected);
    /// # }
    /// ```
    pub async fn disconnect(&self) {
        self.disconnect_with(false, DisconnectReason::ClientDisconnect)
            .await;
    }

    /// Closes the connection as [`disconnect`](Self::disconnect) does, with
    /// two choices (python-engineio's `disconnect(abort, reason)`): with
    /// `abort`, the transport is dropped at once, without a close packet;
    /// and the `Disconnect` event carries `reason` instead of
    /// [`DisconnectReason::ClientDisconnect`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use engineio::client::DisconnectReason;
    /// # async fn run(client: engineio::client::Client) {
    /// // Give up on a server that stopped answering, without a goodbye.
    /// client.disconnect_with(true, DisconnectReason::PingTimeout).await;
    /// # }
    /// ```
    pub async fn disconnect_with(&self, abort: bool, reason: DisconnectReason) {
        let Some(commands) = self.shared().status.borrow().commands.clone() else {
            return;
        };
        let _ = commands.send(Command::Close { abort, reason });
        let mut status = self.shared().status.subscribe();
        let _ = status.wait_for(|s| s.commands.is_none()).await;
        if !in_dispatcher() {
            session::idle(self.shared()).await;
        }
    }

    /// Asks the session to close, without waiting.
    #[cfg(feature = "blocking")]
    pub(crate) fn request_disconnect(&self, abort: bool, reason: DisconnectReason) {
        if let Some(commands) = &self.shared().status.borrow().commands {
            let _ = commands.send(Command::Close { abort, reason });
        }
    }

    /// Waits until the connection has ended for good (after any
    /// reconnection) and every handler has run. Returns at once when the
    /// client is not connected, or when called from a handler.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: engineio::client::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// client.connect("http://127.0.0.1:3000").await?;
    /// client.wait().await; // until the server closes the session
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait(&self) {
        if !in_dispatcher() {
            session::idle(self.shared()).await;
        }
    }

    /// The next event that no handler took, or `None` once the client is
    /// idle (never connected, or the connection ended and every event was
    /// received).
    ///
    /// Cancel safe: if the future is dropped before it completes (in a
    /// `select!` or a timeout), no event is lost. Concurrent calls take
    /// turns.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: engineio::client::Client) {
    /// use engineio::client::Event;
    /// while let Some(event) = client.recv().await {
    ///     if let Event::Message(message) = event {
    ///         println!("{message:?}");
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn recv(&self) -> Option<Event> {
        let shared = self.shared();
        let mut queue = shared.queue_rx.lock().await;
        let mut sessions = shared.sessions.subscribe();
        let taken = |event: Event| {
            if matches!(event, Event::Message(_)) {
                shared.delivered();
            }
            event
        };
        loop {
            if let Ok(event) = queue.try_recv() {
                return Some(taken(event));
            }
            if *sessions.borrow_and_update() == 0 {
                return None;
            }
            tokio::select! {
                event = queue.recv() => return event.map(taken),
                changed = sessions.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    /// The session id, while connected.
    ///
    /// Servers of every implementation we know (Node's `engine.io`,
    /// python-engineio, ours) give 20 URL-safe characters, which is a
    /// [`Sid`](crate::Sid). A server with its own id format (Node's
    /// `generateId` overridden) may give another string: the session works
    /// the same, this returns `None`, and [`handshake`](Self::handshake)
    /// still holds the id as the server sent it.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::Client::builder().build().unwrap();
    /// assert_eq!(client.sid(), None);
    /// ```
    pub fn sid(&self) -> Option<crate::Sid> {
        self.shared()
            .status
            .borrow()
            .handshake
            .as_ref()
            .and_then(|h| h.sid.parse().ok())
    }

    /// The server's open packet for the current session: its `sid`,
    /// `upgrades`, `pingInterval`, `pingTimeout` and `maxPayload`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: engineio::client::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// client.connect("http://127.0.0.1:3000").await?;
    /// let handshake = client.handshake().unwrap();
    /// println!("ping every {:?}", handshake.ping_interval());
    /// # Ok(())
    /// # }
    /// ```
    pub fn handshake(&self) -> Option<Handshake> {
        self.shared().status.borrow().handshake.clone()
    }

    /// The transport in use, while connected.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::Client::builder().build().unwrap();
    /// assert_eq!(client.transport(), None);
    /// ```
    pub fn transport(&self) -> Option<Transport> {
        self.shared().status.borrow().transport
    }

    /// The connection state.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::{Client, State};
    /// # let client = Client::builder().build().unwrap();
    /// assert_eq!(client.state(), State::Disconnected);
    /// ```
    pub fn state(&self) -> State {
        self.shared().status.borrow().state
    }

    /// Calls `handler` when a session opens (after the handshake, and after
    /// each successful reconnection). Replaces a previous connect handler.
    ///
    /// The handler may refuse the session by returning `Err` (see
    /// [`ConnectOutcome`]): the client then disconnects ("client
    /// disconnect"), and the messages that arrived before the close are not
    /// delivered.
    ///
    /// Handlers run one at a time on the session's dispatcher task, in the
    /// order of the events; register them before `connect()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::Client::builder().build().unwrap();
    /// client.on_connect(|| println!("connected"));
    /// let expected = "v2";
    /// let check = client.clone();
    /// client.on_connect(move || match check.handshake() {
    ///     Some(h) if h.upgrades.is_empty() => Err(format!("expected a server offering {expected}")),
    ///     _ => Ok(()),
    /// });
    /// ```
    pub fn on_connect<R: ConnectOutcome>(&self, handler: impl Fn() -> R + Send + Sync + 'static) {
        self.shared().set_handlers(|h| {
            h.connect = Some(Handler::sync(move |()| handler().into_result()));
        });
    }

    /// Like [`on_connect`](Self::on_connect), with a handler returning a
    /// future, which is awaited before the next event is delivered.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::Client::builder().build().unwrap();
    /// client.on_connect_async(|| async { println!("connected") });
    /// ```
    pub fn on_connect_async<F, Fut, R>(&self, handler: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: ConnectOutcome,
    {
        let handler = Arc::new(handler);
        self.shared().set_handlers(|h| {
            h.connect = Some(Handler::async_fn(move |()| {
                let future = handler();
                async move { future.await.into_result() }
            }));
        });
    }

    /// Calls `handler` with every message, in the order the server sent
    /// them. Replaces a previous message handler; while one is set, messages
    /// do not reach [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::Message;
    /// # let client = engineio::client::Client::builder().build().unwrap();
    /// client.on_message(|message| match message {
    ///     Message::Text(text) => println!("text: {text}"),
    ///     Message::Binary(bytes) => println!("{} bytes", bytes.len()),
    /// });
    /// ```
    pub fn on_message(&self, handler: impl Fn(Message) + Send + Sync + 'static) {
        self.shared()
            .set_handlers(|h| h.message = Some(Handler::sync(handler)));
    }

    /// Like [`on_message`](Self::on_message), with a handler returning a
    /// future. Each future completes before the next message is delivered,
    /// so the order holds; the client keeps answering pings meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::Client::builder().build().unwrap();
    /// let replies = client.clone();
    /// client.on_message_async(move |message| {
    ///     let replies = replies.clone();
    ///     async move {
    ///         let _ = replies.send(message);
    ///     }
    /// });
    /// ```
    pub fn on_message_async<F, Fut>(&self, handler: F)
    where
        F: Fn(Message) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.shared()
            .set_handlers(|h| h.message = Some(Handler::async_fn(handler)));
    }

    /// Calls `handler` when a session ends, with the reason.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::Client::builder().build().unwrap();
    /// client.on_disconnect(|reason| println!("disconnected: {reason}"));
    /// ```
    pub fn on_disconnect(&self, handler: impl Fn(DisconnectReason) + Send + Sync + 'static) {
        self.shared()
            .set_handlers(|h| h.disconnect = Some(Handler::sync(handler)));
    }

    /// Like [`on_disconnect`](Self::on_disconnect), with a handler returning a future.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::Client::builder().build().unwrap();
    /// client.on_disconnect_async(|reason| async move { println!("disconnected: {reason}") });
    /// ```
    pub fn on_disconnect_async<F, Fut>(&self, handler: F)
    where
        F: Fn(DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.shared()
            .set_handlers(|h| h.disconnect = Some(Handler::async_fn(handler)));
    }

    /// Calls `handler` with every event that has no handler of its own
    /// (upgrades, reconnection events, and connect, message or disconnect
    /// when their handler is not set). Such events then no longer reach
    /// [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::client::Event;
    /// # let client = engineio::client::Client::builder().build().unwrap();
    /// client.on_event(|event| {
    ///     if let Event::Reconnecting { attempt, delay } = event {
    ///         println!("reconnecting (attempt {attempt}) in {delay:?}");
    ///     }
    /// });
    /// ```
    pub fn on_event(&self, handler: impl Fn(Event) + Send + Sync + 'static) {
        self.shared()
            .set_handlers(|h| h.event = Some(Handler::sync(handler)));
    }

    /// Like [`on_event`](Self::on_event), with a handler returning a future.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::Client::builder().build().unwrap();
    /// client.on_event_async(|event| async move { println!("{event:?}") });
    /// ```
    pub fn on_event_async<F, Fut>(&self, handler: F)
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.shared()
            .set_handlers(|h| h.event = Some(Handler::async_fn(handler)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}
    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<Client>();
        assert_send_sync::<Event>();
        assert_send_sync::<ConnectionError>();
        assert_send_sync::<SendError>();
        assert_send_sync::<ConfigError>();
        #[cfg(feature = "blocking")]
        assert_send_sync::<crate::client::blocking::Client>();
    }

    #[test]
    fn futures_are_send() {
        let client = Client::builder().build().unwrap();
        assert_send(&client.connect("http://127.0.0.1:1"));
        assert_send(&client.disconnect());
        assert_send(&client.wait());
        assert_send(&client.recv());
    }

    #[test]
    fn empty_transports_and_bad_headers_are_config_errors() {
        let err = Client::builder().transports([]).build().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid client configuration: no transport enabled"
        );
        let err = Client::builder()
            .header("X", "line\nbreak")
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid client configuration: invalid value for header x"
        );
    }
}
