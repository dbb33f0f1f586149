//! [`Link`]: one connection's state machine behind a mutex, shared by the
//! driver, the application's `send()` and the WebSocket writers.

use std::sync::{Mutex, MutexGuard, PoisonError};

use engineio_proto::client::Connection;
use tokio::sync::Notify;

/// One connection's state machine, shared by the driver, the application's
/// `send()` and the WebSocket writers.
#[derive(Debug)]
pub(crate) struct Link {
    core: Mutex<Connection>,
    /// Wakes the driver when the connection changed outside it.
    pub(crate) wake: Notify,
}

impl Link {
    pub(crate) fn new(core: Connection) -> Self {
        Self {
            core: Mutex::new(core),
            wake: Notify::new(),
        }
    }

    pub(crate) fn core(&self) -> MutexGuard<'_, Connection> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `change` on the connection and wakes the driver to act on it
    /// (for changes from outside the driver: the application's sends).
    pub(crate) fn update<R>(&self, change: impl FnOnce(&mut Connection) -> R) -> R {
        let result = change(&mut self.core());
        self.wake.notify_one();
        result
    }

    /// Runs `change` on the connection (for the driver's own changes, and
    /// changes the driver need not act on).
    pub(crate) fn change<R>(&self, change: impl FnOnce(&mut Connection) -> R) -> R {
        change(&mut self.core())
    }
}
