//! Event handlers: sync or async closures, stored per kind of event.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt as _;

type BoxFuture<R> = Pin<Box<dyn Future<Output = R> + Send + 'static>>;

/// What a connect handler returns: `()` accepts the connection; a
/// `Result` refuses it with its `Err` (the client then disconnects, and
/// the messages that came before the close are not delivered).
///
/// # Examples
///
/// ```
/// # let client = engineio::client::Client::builder().build().unwrap();
/// client.on_connect(|| println!("connected")); // accepts
/// client.on_connect(|| -> Result<(), String> { Err("wrong server".into()) }); // refuses
/// ```
pub trait ConnectOutcome: Send + 'static {
    /// `Ok` to keep the connection, `Err` (with why) to close it.
    fn into_result(self) -> Result<(), String>;
}

impl ConnectOutcome for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Display + Send + 'static> ConnectOutcome for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|err| err.to_string())
    }
}

/// One handler taking a `T` and returning an `R`: a plain closure, or one
/// returning a future.
pub(crate) enum Handler<T, R = ()> {
    Sync(Arc<dyn Fn(T) -> R + Send + Sync + 'static>),
    Async(Arc<dyn Fn(T) -> BoxFuture<R> + Send + Sync + 'static>),
}

impl<T, R> Clone for Handler<T, R> {
    fn clone(&self) -> Self {
        match self {
            Self::Sync(f) => Self::Sync(Arc::clone(f)),
            Self::Async(f) => Self::Async(Arc::clone(f)),
        }
    }
}

impl<T, R> fmt::Debug for Handler<T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sync(_) => "Handler::Sync",
            Self::Async(_) => "Handler::Async",
        })
    }
}

impl<T: Send + 'static, R: Send + 'static> Handler<T, R> {
    pub(crate) fn sync(f: impl Fn(T) -> R + Send + Sync + 'static) -> Self {
        Self::Sync(Arc::new(f))
    }

    pub(crate) fn async_fn<F, Fut>(f: F) -> Self
    where
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
    {
        Self::Async(Arc::new(move |arg| Box::pin(f(arg)) as BoxFuture<R>))
    }

    /// Runs the handler to completion; `None` if it panicked. A panic is
    /// logged, not propagated, so one faulty handler does not stop the
    /// delivery of later events.
    pub(crate) async fn call(&self, arg: T, what: &str) -> Option<R> {
        let outcome = match self {
            Self::Sync(f) => std::panic::catch_unwind(AssertUnwindSafe(|| f(arg))),
            Self::Async(f) => AssertUnwindSafe(f(arg)).catch_unwind().await,
        };
        if outcome.is_err() {
            tracing::error!("the {what} handler panicked; the event is dropped");
        }
        outcome.ok()
    }
}

/// The handlers of a client.
#[derive(Debug, Default, Clone)]
pub(crate) struct Handlers {
    pub(crate) connect: Option<Handler<(), Result<(), String>>>,
    pub(crate) message: Option<Handler<engineio_proto::Message>>,
    pub(crate) disconnect: Option<Handler<super::event::DisconnectReason>>,
    pub(crate) event: Option<Handler<super::event::Event>>,
}
