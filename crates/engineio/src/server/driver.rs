//! A session's dispatcher (the task that runs its handlers), and the
//! server's side of the session's handle ([`Host`]): forgetting a sid,
//! starting a dispatcher and re-arming the session's timer (in the server's
//! timer task, `timers.rs`) when the core says so.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use engineio_proto::server::{Dispatch, Session, Wire};
use engineio_proto::{Sid, Transport};
use futures_util::FutureExt as _;

use super::engine::{NotOpened, Server};
use super::handle::{Host, SessionHandle, now};

impl Host for Server {
    fn forget(&self, handle: &SessionHandle) {
        self.remove_session(handle);
    }

    fn start_dispatcher(&self, handle: &Arc<SessionHandle>) {
        self.spawn(dispatch(self.clone(), handle.clone()));
    }

    fn rearm_timer(&self, handle: &Arc<SessionHandle>) {
        if let Some(timers) = self.timers() {
            // Fails only once the timer task is gone with the server.
            let _ = timers.send(handle.clone());
        }
    }

    fn upgrade_event(&self, handle: &Arc<SessionHandle>, upgraded: bool) {
        let handlers = &self.inner.handlers;
        let (handler, what) = if upgraded {
            (&handlers.upgrade, "upgrade")
        } else {
            (&handlers.upgrading, "upgrading")
        };
        if let Some(handler) = handler {
            // Inline, as Node emits them: in order, before the next packet
            // of the WebSocket is read. A panic is logged, not propagated.
            let transport = handle
                .core()
                .stream_transport()
                .unwrap_or(Transport::WebSocket);
            let run = AssertUnwindSafe(|| handler(self, handle, transport));
            if std::panic::catch_unwind(run).is_err() {
                tracing::error!(handler = what, sid = %handle.sid, "an event handler panicked");
            }
        }
    }
}

impl Server {
    /// Creates a session with id `sid` and arms its timer; refused when the
    /// server holds `max_sessions` sessions already or the id is in use.
    pub(crate) fn create_session(
        &self,
        transport: Transport,
        sid: Sid,
        wire: Wire,
    ) -> Result<Arc<SessionHandle>, NotOpened> {
        let handle = self.add_session(transport, sid, wire)?;
        self.rearm_timer(&handle);
        Ok(handle)
    }
}

/// Runs the session's handlers until no work is left: messages in the
/// order they arrived (one at a time, or each on its own task with
/// `async_handlers`), then the disconnect, once. It runs on its own task,
/// never on a transport's read/write path; the core asks for a new one when
/// work comes and none runs.
async fn dispatch(server: Server, handle: Arc<SessionHandle>) {
    let concurrent = server.inner.config.async_handlers;
    while let Some(work) = handle.update(&server, Session::next_dispatch) {
        match work {
            Dispatch::Message(message) => {
                let run = {
                    let (server, handle) = (server.clone(), handle.clone());
                    async move {
                        let handled = server.inner.handlers.message(&server, &handle, message);
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
                let handled = server.inner.handlers.disconnect(&server, &handle, reason);
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
