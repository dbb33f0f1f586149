//! The sessions' timers: one task per server sleeps until the earliest
//! deadline of any session (a ping to send, a pong overdue, an upgrade or a
//! close that took too long) and runs [`Session::handle_timeout`] on the
//! sessions whose time has come.
//!
//! A session asks for its timer to be looked at again when its core reports
//! an earlier deadline (`Events::deadline_changed`); later ones need nothing,
//! since a timer that fires early just finds nothing to do and sleeps again.
//! One shared timer wheel instead of a task per session: an idle session
//! costs an entry in it, not a task.
//!
//! [`Session::handle_timeout`]: engineio_proto::server::Session::handle_timeout

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use tokio::sync::mpsc;
use tokio_util::time::DelayQueue;
use tokio_util::time::delay_queue::Key;

use super::engine::{Inner, Server};
use super::handle::{SessionHandle, now};

/// Where sessions are sent to have their timer looked at again.
pub(crate) type TimerRequests = mpsc::UnboundedSender<Arc<SessionHandle>>;

/// Starts the server's timer task on the current runtime.
pub(crate) fn start(server: &Server) -> TimerRequests {
    let (requests, incoming) = mpsc::unbounded_channel();
    // The task holds the server weakly: dropping the last `Server` closes
    // the channel (its sender lives in the server), which ends the task.
    tokio::spawn(run(Arc::downgrade(&server.inner), incoming));
    requests
}

/// The timer wheel and which entry is whose: `keys` maps a session's handle
/// (by its address, which stays unique while the wheel holds the handle:
/// 8 bytes instead of a sid of up to 40) to its entry.
#[derive(Default)]
struct Wheel {
    queue: DelayQueue<Arc<SessionHandle>>,
    keys: HashMap<usize, Key>,
}

/// The index of a handle in [`Wheel::keys`].
fn slot(handle: &Arc<SessionHandle>) -> usize {
    Arc::as_ptr(handle).addr()
}

impl Wheel {
    /// Sets (or clears) the entry of `handle` to its next deadline.
    fn arm(&mut self, handle: Arc<SessionHandle>) {
        let deadline = {
            let mut core = handle.core();
            let deadline = if core.is_finished() {
                None
            } else {
                core.next_deadline()
            };
            core.timer_armed(deadline);
            deadline
        };
        let at = deadline.map(tokio::time::Instant::from_std);
        let slot = slot(&handle);
        match (self.keys.get(&slot), at) {
            (Some(key), Some(at)) => self.queue.reset_at(key, at),
            (Some(_), None) => {
                if let Some(key) = self.keys.remove(&slot) {
                    self.queue.remove(&key);
                }
            }
            (None, Some(at)) => {
                let key = self.queue.insert_at(handle, at);
                self.keys.insert(slot, key);
            }
            (None, None) => {}
        }
        self.shrink_if_sparse();
    }

    /// Gives back the room a burst of sessions took, so that the server's
    /// memory comes back after they end (`eio soak abandon` checks it): the
    /// wheel's storage never shrinks by itself, so past a quarter full it is
    /// rebuilt at twice its size.
    fn shrink_if_sparse(&mut self) {
        let len = self.keys.len();
        if self.queue.capacity() <= 1024 || len * 4 >= self.queue.capacity() {
            return;
        }
        let mut old = std::mem::replace(&mut self.queue, DelayQueue::with_capacity(len * 2));
        for key in self.keys.values_mut() {
            let entry = old.remove(key);
            let deadline = entry.deadline();
            *key = self.queue.insert_at(entry.into_inner(), deadline);
        }
        self.keys.shrink_to(len * 2);
    }
}

async fn run(server: Weak<Inner>, mut incoming: mpsc::UnboundedReceiver<Arc<SessionHandle>>) {
    let mut wheel = Wheel::default();
    loop {
        let due = tokio::select! {
            request = incoming.recv() => match request {
                Some(handle) => {
                    wheel.arm(handle);
                    continue;
                }
                None => return,
            },
            Some(expired) = std::future::poll_fn(|cx| wheel.queue.poll_expired(cx)) => {
                expired.into_inner()
            }
        };
        wheel.keys.remove(&slot(&due));
        wheel.shrink_if_sparse();
        let Some(inner) = server.upgrade() else {
            return;
        };
        due.update(&Server { inner }, |core| core.handle_timeout(now()));
        wheel.arm(due);
    }
}
