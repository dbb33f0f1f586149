//! The runtime side of one session: the handle shared by its transports,
//! its timer and its dispatcher, and the one place where the core's
//! [`Events`] are applied.
//!
//! Every change to a session goes through [`SessionHandle::update`], which
//! runs a closure on the core under its lock, takes the events the core
//! reported, and applies them after the lock is released: wake the
//! transports, re-arm the timer, start a dispatcher, log the close, forget
//! the sid. No transport closes a session or calls a handler by itself.
//!
//! What the handle cannot do by itself (forget its sid, start a dispatcher)
//! it asks of its [`Host`], the server.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use engineio_proto::server::{Events, SendError, Session};
use engineio_proto::{EncodedPacket, Sid};
use tokio::sync::Notify;

/// What a session's handle asks of the server that holds it, when it
/// applies the core's events. Shared by the session's tasks, hence `Sync`.
pub(crate) trait Host: Send + Sync {
    /// Removes the session's sid from the table: later requests with it get
    /// "Session ID unknown".
    fn forget(&self, handle: &SessionHandle);

    /// Starts a dispatcher for the session: the task that runs its handlers.
    fn start_dispatcher(&self, handle: &Arc<SessionHandle>);

    /// Has the session's timer look at its next deadline again.
    fn rearm_timer(&self, handle: &Arc<SessionHandle>);

    /// Runs the application's "upgrading" (`upgraded == false`) or
    /// "upgrade" hook (inline: they are quick, and their order is kept).
    fn upgrade_event(&self, handle: &Arc<SessionHandle>, upgraded: bool);
}

/// One live session, shared by its transports, its timer and its dispatcher.
pub(crate) struct SessionHandle {
    pub(crate) sid: Sid,
    core: Mutex<Session>,
    /// Wakes whatever waits on the transports: the long poll, a POST waiting
    /// for room in the inbox, the WebSocket loop.
    pub(crate) wake: Notify,
    pub(crate) data: Mutex<http::Extensions>,
}

impl SessionHandle {
    pub(crate) fn new(sid: Sid, core: Session) -> Self {
        Self {
            sid,
            core: Mutex::new(core),
            wake: Notify::new(),
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
        host: &dyn Host,
        change: impl FnOnce(&mut Session) -> R,
    ) -> R {
        let (result, events) = {
            let mut core = self.core();
            let result = change(&mut core);
            (result, core.take_events())
        };
        if !events.is_empty() {
            self.apply(host, &events);
        }
        result
    }

    /// Applies the core's events: the one place where it happens.
    fn apply(self: &Arc<Self>, host: &dyn Host, events: &Events) {
        if let Some(closed) = &events.closed {
            // Clients vanish all the time on the internet: a session ending,
            // whatever the cause, is news (info), not a fault of the server.
            match &closed.detail {
                Some(detail) => {
                    tracing::info!(sid = %self.sid, reason = %closed.reason, %detail, "session closed");
                }
                None => tracing::info!(sid = %self.sid, reason = %closed.reason, "session closed"),
            }
        }
        if events.forget {
            host.forget(self);
        }
        if events.wake {
            self.wake.notify_waiters();
        }
        if events.deadline_changed {
            host.rearm_timer(self);
        }
        if events.dispatch {
            host.start_dispatcher(self);
        }
        if events.upgrading {
            host.upgrade_event(self, false);
        }
        if events.upgraded {
            host.upgrade_event(self, true);
        }
    }

    /// Queues a packet; the one place sends go through.
    pub(crate) fn send(
        self: &Arc<Self>,
        host: &dyn Host,
        packet: &EncodedPacket,
    ) -> Result<(), SendError> {
        self.update(host, |core| core.send(packet.clone()))
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
    host: &'a dyn Host,
    handle: &'a Arc<SessionHandle>,
    abandon: Option<F>,
}

impl<'a, F: FnOnce(&mut Session)> Unanswered<'a, F> {
    pub(crate) fn new(host: &'a dyn Host, handle: &'a Arc<SessionHandle>, abandon: F) -> Self {
        Self {
            host,
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
            self.handle.update(self.host, abandon);
        }
    }
}

/// The current time on tokio's clock (which tests may pause and advance).
pub(crate) fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}
