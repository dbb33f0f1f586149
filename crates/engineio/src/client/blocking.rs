//! The blocking client: a thin facade over the async [`Client`](super::Client)
//! for programs without an async runtime.
//!
//! All blocking clients of a process share one background thread
//! (`engineio-blocking-runtime`) running a tokio runtime, as
//! `reqwest::blocking` does. The blocking methods hand their work to that
//! thread and wait for the answer, so they must not be called from inside
//! an async runtime (they panic there), nor from a handler, with two
//! exceptions that never block: [`Client::send`] and
//! [`Client::disconnect`] (which, in a handler, only requests the close).
//!
//! Handlers are plain closures and run on the shared thread: keep them
//! short, or use [`Client::recv`] and do the work on your own thread.
//!
//! # Examples
//!
//! ```no_run
//! use engineio::client::{Event, blocking::Client};
//!
//! let client = Client::builder().build_blocking()?;
//! client.connect("http://127.0.0.1:3000")?;
//! client.send("hello")?;
//! for event in client.iter() {
//!     if let Event::Message(message) = event {
//!         println!("{message:?}");
//!         client.disconnect();
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use engineio_proto::{Message, Transport};
use thiserror::Error;
use tokio::runtime::Runtime;

use super::config::ClientConfig;
use super::error::{ConfigError, ConnectionError, SendError};
use super::event::{DisconnectReason, Event, State};

/// The runtime thread all blocking clients share.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        #[allow(clippy::expect_used)]
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("engineio-blocking-runtime")
            .enable_all()
            .build()
            .expect("cannot start the engineio blocking runtime thread")
    })
}

/// Runs `future` on the shared runtime thread and waits for its output.
///
/// # Panics
///
/// When called from inside an async runtime.
fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    runtime().spawn(async move {
        let _ = tx.send(future.await);
    });
    #[allow(clippy::expect_used)]
    rx.blocking_recv()
        .expect("the engineio blocking runtime thread stopped")
}

/// The error of [`Client::recv_timeout`].
///
/// # Examples
///
/// ```
/// use engineio::client::blocking::RecvTimeoutError;
///
/// assert_eq!(RecvTimeoutError::Timeout.to_string(), "no event within the timeout");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecvTimeoutError {
    /// No event arrived within the timeout; the connection may go on.
    #[error("no event within the timeout")]
    Timeout,
    /// The client is idle: the connection ended and every event was received.
    #[error("the client is disconnected")]
    Disconnected,
}

/// A blocking Engine.IO client. Cheap to clone; clones share the connection.
///
/// # Examples
///
/// ```no_run
/// use engineio::client::blocking::Client;
///
/// let client = Client::builder().build_blocking()?;
/// client.on_message(|message| println!("{message:?}"));
/// client.connect("http://127.0.0.1:3000")?;
/// client.send("hello")?;
/// client.wait();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: super::Client,
}

impl Client {
    /// Builds a blocking client from a configuration.
    ///
    /// # Errors
    ///
    /// As [`ClientBuilder::build`](super::ClientBuilder::build).
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio::client::{ClientConfig, blocking::Client};
    ///
    /// let client = Client::with_config(ClientConfig::default()).unwrap();
    /// # drop(client);
    /// ```
    pub fn with_config(config: ClientConfig) -> Result<Self, ConfigError> {
        let inner = block_on(async move { super::Client::with_config(config) })?;
        Ok(Self { inner })
    }

    /// The async client behind this one.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// let async_client: &engineio::client::Client = client.as_async();
    /// # drop(async_client);
    /// ```
    pub fn as_async(&self) -> &super::Client {
        &self.inner
    }

    /// Connects; see [`Client::connect`](super::Client::connect).
    ///
    /// # Errors
    ///
    /// As [`Client::connect`](super::Client::connect).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// client.connect("http://127.0.0.1:3000")?;
    /// # Ok::<(), engineio::client::ConnectionError>(())
    /// ```
    pub fn connect(&self, url: &str) -> Result<(), ConnectionError> {
        let inner = self.inner.clone();
        let url = url.to_owned();
        block_on(async move { inner.connect(&url).await })
    }

    /// Queues a message; never blocks. See [`Client::send`](super::Client::send).
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] unless connected.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// client.send("hello")?;
    /// # Ok::<(), engineio::client::SendError>(())
    /// ```
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.inner.send(message)
    }

    /// Queues `value` as a JSON text message; never blocks. See
    /// [`Client::send_json`](super::Client::send_json).
    ///
    /// # Errors
    ///
    /// As [`Client::send_json`](super::Client::send_json).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// client.send_json(&[1, 2, 3])?;
    /// # Ok::<(), engineio::SendJsonError>(())
    /// ```
    pub fn send_json<T: serde::Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> Result<(), crate::SendJsonError> {
        self.inner.send_json(value)
    }

    /// Closes the connection after flushing the close packet, and waits
    /// until the handlers have run. From a handler, or from any other async
    /// context, it only requests the close and returns at once.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// client.disconnect();
    /// ```
    pub fn disconnect(&self) {
        self.disconnect_with(false, DisconnectReason::ClientDisconnect);
    }

    /// Closes the connection with the choices of
    /// [`Client::disconnect_with`](super::Client::disconnect_with): `abort`
    /// drops the transport without a close packet, and the `Disconnect`
    /// event carries `reason`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use engineio::client::DisconnectReason;
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// client.disconnect_with(true, DisconnectReason::ClientDisconnect);
    /// ```
    pub fn disconnect_with(&self, abort: bool, reason: DisconnectReason) {
        if tokio::runtime::Handle::try_current().is_ok() {
            self.inner.request_disconnect(abort, reason);
            return;
        }
        let inner = self.inner.clone();
        block_on(async move { inner.disconnect_with(abort, reason).await });
    }

    /// Waits until the connection has ended for good and the handlers have
    /// run. See [`Client::wait`](super::Client::wait).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// client.wait();
    /// ```
    pub fn wait(&self) {
        let inner = self.inner.clone();
        block_on(async move { inner.wait().await });
    }

    /// The next event no handler took; `None` once the client is idle.
    /// See [`Client::recv`](super::Client::recv).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// while let Some(event) = client.recv() {
    ///     println!("{event:?}");
    /// }
    /// ```
    pub fn recv(&self) -> Option<Event> {
        let inner = self.inner.clone();
        block_on(async move { inner.recv().await })
    }

    /// Like [`recv`](Self::recv), waiting at most `timeout`. No event is
    /// lost when the timeout expires.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] when nothing came in time,
    /// [`RecvTimeoutError::Disconnected`] when the client is idle.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// match client.recv_timeout(Duration::from_secs(1)) {
    ///     Ok(event) => println!("{event:?}"),
    ///     Err(err) => println!("{err}"),
    /// }
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Event, RecvTimeoutError> {
        let inner = self.inner.clone();
        match block_on(async move { tokio::time::timeout(timeout, inner.recv()).await }) {
            Ok(Some(event)) => Ok(event),
            Ok(None) => Err(RecvTimeoutError::Disconnected),
            Err(_) => Err(RecvTimeoutError::Timeout),
        }
    }

    /// The events no handler took, until the client is idle.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// let events: Vec<_> = client.iter().collect();
    /// # drop(events);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        std::iter::from_fn(|| self.recv())
    }

    /// The session id, while connected (see
    /// [`Client::sid`](super::Client::sid)).
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// assert_eq!(client.sid(), None);
    /// ```
    pub fn sid(&self) -> Option<crate::Sid> {
        self.inner.sid()
    }

    /// The server's open packet for the current session.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// assert_eq!(client.handshake(), None);
    /// ```
    pub fn handshake(&self) -> Option<engineio_proto::Handshake> {
        self.inner.handshake()
    }

    /// The transport in use, while connected.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// assert_eq!(client.transport(), None);
    /// ```
    pub fn transport(&self) -> Option<Transport> {
        self.inner.transport()
    }

    /// The connection state.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::client::State;
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// assert_eq!(client.state(), State::Disconnected);
    /// ```
    pub fn state(&self) -> State {
        self.inner.state()
    }

    /// Calls `handler` when a session opens (on the shared runtime thread).
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// client.on_connect(|| println!("connected"));
    /// ```
    pub fn on_connect<R: super::ConnectOutcome>(
        &self,
        handler: impl Fn() -> R + Send + Sync + 'static,
    ) {
        self.inner.on_connect(handler);
    }

    /// Calls `handler` with every message, in order (on the shared runtime thread).
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// let replies = client.clone();
    /// client.on_message(move |message| {
    ///     let _ = replies.send(message); // send() never blocks: fine in a handler
    /// });
    /// ```
    pub fn on_message(&self, handler: impl Fn(Message) + Send + Sync + 'static) {
        self.inner.on_message(handler);
    }

    /// Calls `handler` when a session ends (on the shared runtime thread).
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// client.on_disconnect(|reason| println!("disconnected: {reason}"));
    /// ```
    pub fn on_disconnect(&self, handler: impl Fn(DisconnectReason) + Send + Sync + 'static) {
        self.inner.on_disconnect(handler);
    }

    /// Calls `handler` with every event without a handler of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// # let client = engineio::client::blocking::Client::builder().build_blocking().unwrap();
    /// client.on_event(|event| println!("{event:?}"));
    /// ```
    pub fn on_event(&self, handler: impl Fn(Event) + Send + Sync + 'static) {
        self.inner.on_event(handler);
    }
}
