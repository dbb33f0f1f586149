//! Event handlers: sync or async closures, stored per kind of event.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt as _;

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// One handler taking a `T`: a plain closure, or one returning a future.
pub(crate) enum Handler<T> {
    Sync(Arc<dyn Fn(T) + Send + Sync + 'static>),
    Async(Arc<dyn Fn(T) -> BoxFuture + Send + Sync + 'static>),
}

impl<T> Clone for Handler<T> {
    fn clone(&self) -> Self {
        match self {
            Self::Sync(f) => Self::Sync(Arc::clone(f)),
            Self::Async(f) => Self::Async(Arc::clone(f)),
        }
    }
}

impl<T> fmt::Debug for Handler<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sync(_) => "Handler::Sync",
            Self::Async(_) => "Handler::Async",
        })
    }
}

impl<T: Send + 'static> Handler<T> {
    pub(crate) fn sync(f: impl Fn(T) + Send + Sync + 'static) -> Self {
        Self::Sync(Arc::new(f))
    }

    pub(crate) fn async_fn<F, Fut>(f: F) -> Self
    where
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::Async(Arc::new(move |arg| Box::pin(f(arg)) as BoxFuture))
    }

    /// Runs the handler to completion. A panic is logged, not propagated,
    /// so one faulty handler does not stop the delivery of later events.
    pub(crate) async fn call(&self, arg: T, what: &str) {
        let outcome = match self {
            Self::Sync(f) => std::panic::catch_unwind(AssertUnwindSafe(|| f(arg))),
            Self::Async(f) => AssertUnwindSafe(f(arg)).catch_unwind().await,
        };
        if outcome.is_err() {
            tracing::error!("the {what} handler panicked; the event is dropped");
        }
    }
}

/// The handlers of a client.
#[derive(Debug, Default, Clone)]
pub(crate) struct Handlers {
    pub(crate) connect: Option<Handler<()>>,
    pub(crate) message: Option<Handler<engineio_proto::Message>>,
    pub(crate) disconnect: Option<Handler<super::event::DisconnectReason>>,
    pub(crate) event: Option<Handler<super::event::Event>>,
}
