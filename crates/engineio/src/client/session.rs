//! The life of a client's connections: the session task that runs them one
//! after another (reconnecting when the core's policy says so), the guard
//! of `connect()`, and waiting until the client is idle.

use std::sync::Arc;

use engineio_proto::DisconnectReason;
use engineio_proto::client::Connection;
use tokio::sync::{mpsc, oneshot};

use super::backoff;
use super::dispatch;
use super::driver::{self, Outcome};
use super::endpoint::Endpoint;
use super::error::ConnectionError;
use super::event::{Event, State};
use super::link::Link;
use super::shared::{Command, Shared};

/// Starts the session task of a `connect()`: its first connection's
/// handshake outcome comes on the returned channel.
pub(crate) fn start(
    shared: &Arc<Shared>,
    endpoint: Endpoint,
) -> oneshot::Receiver<Result<(), ConnectionError>> {
    let (opened, outcome) = oneshot::channel();
    let (commands, commands_rx) = mpsc::unbounded_channel();
    shared.sessions.send_modify(|n| *n += 1);
    shared.status.send_modify(|s| s.commands = Some(commands));
    tokio::spawn(run(Arc::clone(shared), endpoint, commands_rx, opened));
    outcome
}

/// The session task: runs connections until one ends for good (reconnecting
/// when configured and the core's policy says so), then marks the client
/// disconnected and idle.
async fn run(
    shared: Arc<Shared>,
    endpoint: Endpoint,
    mut commands: mpsc::UnboundedReceiver<Command>,
    opened: oneshot::Sender<Result<(), ConnectionError>>,
) {
    let (events, events_rx) = mpsc::unbounded_channel();
    let dispatcher = tokio::spawn(dispatch::run(Arc::clone(&shared), events_rx));
    let mut opened = Some(opened);
    let mut attempts: u32 = 0;
    let mut last_reason = DisconnectReason::TransportError;
    loop {
        let link = Arc::new(Link::new(Connection::new(shared.connection_config())));
        shared.set_link(Some(Arc::clone(&link)));
        let outcome = driver::drive(
            &shared,
            &endpoint,
            &link,
            &mut commands,
            &events,
            attempts,
            opened.take(),
        )
        .await;
        shared.set_link(None);
        match outcome {
            Outcome::Cancelled => {
                finish(&shared);
                break;
            }
            Outcome::HandshakeFailed(err) => {
                if attempts == 0 {
                    // connect() returns the error.
                    finish(&shared);
                    break;
                }
                tracing::warn!(attempt = attempts, "engine.io reconnection failed: {err}");
            }
            Outcome::Ended(reason) => {
                tracing::debug!(%reason, "engine.io session ended");
                let retry = shared
                    .config
                    .reconnection
                    .is_some_and(|_| reason.is_recoverable());
                if !retry {
                    finish(&shared);
                    shared.emit(&events, Event::Disconnect(reason));
                    break;
                }
                shared.status.send_modify(|s| {
                    s.state = State::Connecting;
                    s.handshake = None;
                    s.transport = None;
                });
                shared.emit(&events, Event::Disconnect(reason));
                last_reason = reason;
                attempts = 0;
            }
        }
        attempts += 1;
        let next = shared
            .config
            .reconnection
            .and_then(|policy| policy.next_attempt(last_reason, attempts, backoff::random_unit()));
        let Some(delay) = next else {
            shared.emit(
                &events,
                Event::ReconnectFailed {
                    attempts: attempts - 1,
                },
            );
            finish(&shared);
            break;
        };
        shared.emit(
            &events,
            Event::Reconnecting {
                attempt: attempts,
                delay,
            },
        );
        tokio::select! {
            () = until_close(&mut commands) => {
                finish(&shared);
                break;
            }
            () = tokio::time::sleep(delay) => {}
        }
    }
    drop(events);
    if let Err(err) = dispatcher.await {
        tracing::error!("the engine.io event dispatcher failed: {err}");
    }
    shared.sessions.send_modify(|n| *n = n.saturating_sub(1));
}

/// Marks the client disconnected.
fn finish(shared: &Shared) {
    shared.status.send_modify(|s| {
        s.state = State::Disconnected;
        s.handshake = None;
        s.transport = None;
        s.commands = None;
    });
}

/// Completes when the application asks to close (or drops every handle).
async fn until_close(commands: &mut mpsc::UnboundedReceiver<Command>) {
    let _ = commands.recv().await;
}

/// Sets the state back to disconnected if `connect()` is abandoned
/// (an error, or the future dropped) before the session starts.
#[derive(Debug)]
pub(crate) struct ConnectGuard<'a> {
    shared: &'a Shared,
    armed: bool,
}

impl<'a> ConnectGuard<'a> {
    /// Moves a disconnected client to `Connecting`; fails with the current
    /// state otherwise.
    pub(crate) fn begin(shared: &'a Shared) -> Result<Self, ConnectionError> {
        let mut current = State::Disconnected;
        let changed = shared.status.send_if_modified(|s| {
            current = s.state;
            if s.state == State::Disconnected {
                s.state = State::Connecting;
                true
            } else {
                false
            }
        });
        if changed {
            Ok(Self {
                shared,
                armed: true,
            })
        } else {
            Err(ConnectionError::InvalidState(current))
        }
    }

    /// The session started: keep the state.
    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for ConnectGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.shared.set_state(State::Disconnected);
        }
    }
}

/// Waits until no session task runs.
pub(crate) async fn idle(shared: &Shared) {
    let mut sessions = shared.sessions.subscribe();
    let _ = sessions.wait_for(|n| *n == 0).await;
}
