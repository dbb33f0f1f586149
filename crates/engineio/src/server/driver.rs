//! The runtime side of one session: the handle shared by its transports,
//! the one place where the core's [`Events`] are applied, the session's
//! timer task and its dispatcher (the task that runs the handlers).
//!
//! Every change to a session goes through [`SessionHandle::update`], which
//! runs a closure on the core under its lock, takes the events the core
//! reported, and applies them after the lock is released: wake the
//! transports, re-arm the timer, start a dispatcher, log the close, forget
//! the sid. No transport closes a session or calls a handler by itself.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use engineio_proto::server::{Dispatch, Events, Session};
use engineio_proto::{EncodedPacket, Sid};
use futures_util::FutureExt as _;
use tokio::sync::Notify;

use super::engine::{SendError, Server};
use super::socket::Socket;

/// One live session, shared by its transports, its timer and its dispatcher.
pub(crate) struct SessionHandle {
    pub(crate) sid: Sid,
    core: Mutex<Session>,
    /// Wakes whatever waits on the transports: the long poll, a POST waiting
    /// for room in the inbox, the WebSocket loop.
    pub(crate) wake: Notify,
    /// Wakes the timer task when a deadline moved earlier.
    timer: Notify,
    pub(crate) data: Mutex<http::Extensions>,
}

impl SessionHandle {
    pub(crate) fn new(sid: Sid, core: Session) -> Self {
        Self {
            sid,
            core: Mutex::new(core),
            wake: Notify::new(),
            timer: Notify::new(),
            data: Mutex::new(http::Extensions::new()),
        }
    }

    /// Locks the session's state machine, to read it. Changes go through
    /// [`SessionHandle::update`].
    pub(crate) fn core(&self) -> MutexGuard<'_, Session> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `change` on the state machine, then applies what it reported.
    pub(crate) fn update<R>(
        self: &Arc<Self>,
        server: &Server,
        change: impl FnOnce(&mut Session) -> R,
    ) -> R {
        let (result, events) = {
            let mut core = self.core();
            let result = change(&mut core);
            (result, core.take_events())
        };
        if !events.is_empty() {
            self.apply(server, &events);
        }
        result
    }

    /// Applies the core's events: the one place where it happens.
    fn apply(self: &Arc<Self>, server: &Server, events: &Events) {
        if let Some(closed) = &events.closed {
            match &closed.detail {
                Some(detail) => {
                    tracing::warn!(sid = %self.sid, reason = %closed.reason, %detail, "session closed");
                }
                None => tracing::info!(sid = %self.sid, reason = %closed.reason, "session closed"),
            }
        }
        if events.forget {
            server.forget(self);
        }
        if events.wake {
            self.wake.notify_waiters();
        }
        if events.deadline_changed {
            self.timer.notify_one();
        }
        if events.dispatch {
            server.spawn(dispatch(server.clone(), self.clone()));
        }
    }

    /// Queues a packet; the one place sends go through.
    pub(crate) fn send(
        self: &Arc<Self>,
        server: &Server,
        packet: &EncodedPacket,
    ) -> Result<(), SendError> {
        self.update(server, |core| core.send(packet.clone()))?;
        Ok(())
    }
}

impl fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionHandle")
            .field("sid", &self.sid)
            .finish_non_exhaustive()
    }
}

/// Tells a session, when dropped before [`Unanswered::disarm`], that a
/// request went away unanswered (hyper drops a request's future when the
/// client closes the connection): runs `abandon` on the core.
pub(crate) struct Unanswered<'a, F: FnOnce(&mut Session)> {
    server: &'a Server,
    handle: &'a Arc<SessionHandle>,
    abandon: Option<F>,
}

impl<'a, F: FnOnce(&mut Session)> Unanswered<'a, F> {
    pub(crate) fn new(server: &'a Server, handle: &'a Arc<SessionHandle>, abandon: F) -> Self {
        Self {
            server,
            handle,
            abandon: Some(abandon),
        }
    }

    /// The request was answered: nothing to tell.
    pub(crate) fn disarm(&mut self) {
        self.abandon = None;
    }
}

impl<F: FnOnce(&mut Session)> Drop for Unanswered<'_, F> {
    fn drop(&mut self) {
        if let Some(abandon) = self.abandon.take() {
            self.handle.update(self.server, abandon);
        }
    }
}

/// The current time on tokio's clock (which tests may pause and advance).
pub(crate) fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// Runs a session's timers (heartbeat, upgrade, poll safety net, close)
/// until it is over. An idle session costs one sleeping task.
pub(crate) async fn drive_timers(server: Server, handle: Arc<SessionHandle>) {
    loop {
        let moved = handle.timer.notified();
        tokio::pin!(moved);
        moved.as_mut().enable();
        let deadline = {
            let mut core = handle.core();
            if core.is_finished() {
                return;
            }
            let deadline = core.next_deadline();
            core.timer_armed(deadline);
            deadline
        };
        match deadline {
            None => moved.await,
            Some(deadline) => {
                tokio::select! {
                    () = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {
                        handle.update(&server, |core| core.handle_timeout(now()));
                    }
                    () = &mut moved => {}
                }
            }
        }
    }
}

/// Runs the session's handlers until no work is left: messages in the
/// order they arrived (one at a time, or each on its own task with
/// `async_handlers`), then the disconnect, once. It runs on its own task,
/// never on a transport's read/write path; the core asks for a new one when
/// work comes and none runs.
async fn dispatch(server: Server, handle: Arc<SessionHandle>) {
    let socket = Socket::new(server.clone(), handle.clone());
    let concurrent = server.inner.config.async_handlers;
    while let Some(work) = handle.update(&server, Session::next_dispatch) {
        match work {
            Dispatch::Message(message) => {
                let run = {
                    let (server, handle, socket) = (server.clone(), handle.clone(), socket.clone());
                    async move {
                        let handled = server.inner.handlers.message(&socket, message);
                        guarded(handled, "message").await;
                        handle.update(&server, |core| core.message_handled(now()));
                    }
                };
                if concurrent {
                    server.spawn(run);
                } else {
                    run.await;
                }
            }
            Dispatch::Disconnect(reason) => {
                let handled = server.inner.handlers.disconnect(&socket, reason);
                guarded(handled, "disconnect").await;
                return;
            }
        }
    }
}

/// Runs a handler, logging a panic instead of losing the dispatcher.
async fn guarded(handler: impl std::future::Future<Output = ()>, what: &str) {
    if AssertUnwindSafe(handler).catch_unwind().await.is_err() {
        tracing::error!(handler = what, "an event handler panicked");
    }
}
