//! The life of a connection: the handshake, the session task that runs the
//! driver and the dispatcher, and reconnection.

use std::sync::{Arc, PoisonError, RwLock};

use engineio_proto::{Handshake, Message, Packet, PayloadLimits, Transport, decode_payload};
use tokio::sync::{Mutex, mpsc, watch};

use super::backoff;
use super::config::{ClientConfig, Reconnection};
use super::dispatch;
use super::driver::Driver;
use super::endpoint::Endpoint;
use super::error::ConnectionError;
use super::event::{Event, State};
use super::handlers::Handlers;
use super::http::Net;
use super::ws::{self, WsStream};

/// What the application asks of a running session.
#[derive(Debug)]
pub(crate) enum Command {
    Send(Message),
    Close,
}

/// The observable status of a client.
#[derive(Debug, Clone)]
pub(crate) struct Status {
    pub(crate) state: State,
    /// The open packet of the current session.
    pub(crate) handshake: Option<Handshake>,
    pub(crate) transport: Option<Transport>,
    /// The command channel of the running session task, if any.
    pub(crate) commands: Option<mpsc::UnboundedSender<Command>>,
}

/// Everything a client's handles and its session tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: ClientConfig,
    pub(crate) net: Net,
    handlers: RwLock<Handlers>,
    pub(crate) status: watch::Sender<Status>,
    /// How many session tasks are running (0 when the client is idle).
    pub(crate) sessions: watch::Sender<usize>,
    queue_tx: mpsc::UnboundedSender<Event>,
    pub(crate) queue_rx: Mutex<mpsc::UnboundedReceiver<Event>>,
    /// Messages sent but not yet written (bounded by `config.max_queue`).
    pub(crate) unwritten: Arc<Unwritten>,
}

/// The count of messages sent but not yet written to the transport.
#[derive(Debug, Default)]
pub(crate) struct Unwritten(std::sync::atomic::AtomicUsize);

impl Unwritten {
    /// Counts one more message, unless `limit` are counted already.
    pub(crate) fn try_add(&self, limit: usize) -> bool {
        use std::sync::atomic::Ordering;
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .is_ok()
    }

    /// Counts `n` messages as written (or dropped with their session).
    pub(crate) fn written(&self, n: usize) {
        use std::sync::atomic::Ordering;
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                Some(count.saturating_sub(n))
            });
    }

    /// Forgets every count (the session that held them ended).
    pub(crate) fn reset(&self) {
        self.0.store(0, std::sync::atomic::Ordering::Release);
    }
}

impl Shared {
    pub(crate) fn new(config: ClientConfig, net: Net) -> Self {
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        Self {
            config,
            net,
            handlers: RwLock::default(),
            status: watch::Sender::new(Status {
                state: State::Disconnected,
                handshake: None,
                transport: None,
                commands: None,
            }),
            sessions: watch::Sender::new(0),
            queue_tx,
            queue_rx: Mutex::new(queue_rx),
            unwritten: Arc::default(),
        }
    }

    /// A snapshot of the handlers.
    pub(crate) fn handlers(&self) -> Handlers {
        self.handlers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Changes the handlers.
    pub(crate) fn set_handlers(&self, change: impl FnOnce(&mut Handlers)) {
        change(
            &mut self
                .handlers
                .write()
                .unwrap_or_else(PoisonError::into_inner),
        );
    }

    /// Queues an event for `recv()`.
    pub(crate) fn enqueue(&self, event: Event) {
        // The receiver lives as long as `self`.
        let _ = self.queue_tx.send(event);
    }

    pub(crate) fn set_state(&self, state: State) {
        self.status.send_modify(|s| s.state = state);
    }

    pub(crate) fn set_transport(&self, transport: Transport) {
        self.status.send_modify(|s| s.transport = Some(transport));
    }
}

/// A session the handshake opened, before the driver takes it over.
#[derive(Debug)]
pub(crate) struct Established {
    pub(crate) handshake: Handshake,
    /// The WebSocket of a WebSocket-only handshake; `None` on polling.
    pub(crate) ws: Option<WsStream>,
    /// Packets that came with the open packet, to handle after `Connect`.
    pub(crate) packets: Vec<Packet>,
}

/// No limit on what a server sends; the server's `maxPayload` limits what
/// the client sends.
pub(crate) const UNLIMITED: PayloadLimits = PayloadLimits::new(usize::MAX, usize::MAX);

/// Performs the handshake over the first enabled transport: polling when
/// enabled, else WebSocket.
pub(crate) async fn establish(
    net: &Net,
    config: &ClientConfig,
    endpoint: &Endpoint,
) -> Result<Established, ConnectionError> {
    if config.transports.contains(&Transport::Polling) {
        let body = net.get(endpoint.polling(None, true), net.timeout).await?;
        let packets = decode_payload(&body, &UNLIMITED)
            .map_err(|err| ConnectionError::Protocol(format!("bad handshake payload: {err}")))?;
        let mut packets = packets.into_iter();
        match packets.next() {
            Some(Packet::Open(handshake)) => Ok(Established {
                handshake,
                ws: None,
                packets: packets.collect(),
            }),
            other => Err(ConnectionError::Protocol(format!(
                "expected an open packet, got {other:?}"
            ))),
        }
    } else {
        let mut ws = ws::open(net, &endpoint.websocket(None), endpoint.cookie_url()).await?;
        let text = ws::first_text(&mut ws, net.timeout).await?;
        match Packet::decode_text(&text) {
            Ok(Packet::Open(handshake)) => Ok(Established {
                handshake,
                ws: Some(ws),
                packets: Vec::new(),
            }),
            other => Err(ConnectionError::Protocol(format!(
                "expected an open packet, got {other:?}"
            ))),
        }
    }
}

/// Marks the client connected with the session of `established`.
fn mark_connected(shared: &Shared, established: &Established) {
    let transport = if established.ws.is_some() {
        Transport::WebSocket
    } else {
        Transport::Polling
    };
    shared.status.send_modify(|s| {
        s.state = State::Connected;
        s.handshake = Some(established.handshake.clone());
        s.transport = Some(transport);
    });
}

/// Registers a session task about to start; `connect()` calls this after a
/// successful handshake, then spawns [`run`].
pub(crate) fn start(
    shared: &Shared,
    established: &Established,
    commands: mpsc::UnboundedSender<Command>,
) {
    shared.sessions.send_modify(|n| *n += 1);
    mark_connected(shared, established);
    shared.status.send_modify(|s| s.commands = Some(commands));
}

/// The session task: drives the connection, reconnects when configured,
/// and finally marks the client disconnected and idle.
pub(crate) async fn run(
    shared: Arc<Shared>,
    endpoint: Endpoint,
    mut established: Established,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let (events, events_rx) = mpsc::unbounded_channel();
    let dispatcher = tokio::spawn(dispatch::run(Arc::clone(&shared), events_rx));
    loop {
        let _ = events.send(Event::Connect);
        let driver = Driver::new(
            Arc::clone(&shared),
            endpoint.clone(),
            established,
            events.clone(),
        );
        let reason = driver.run(&mut commands).await;
        tracing::debug!(%reason, "engine.io session ended");
        let policy = shared
            .config
            .reconnection
            .filter(|_| reason.is_recoverable());
        let Some(policy) = policy else {
            finish(&shared);
            let _ = events.send(Event::Disconnect(reason));
            break;
        };
        shared.status.send_modify(|s| {
            s.state = State::Connecting;
            s.handshake = None;
            s.transport = None;
        });
        let _ = events.send(Event::Disconnect(reason));
        match reconnect(&shared, &endpoint, &policy, &mut commands, &events).await {
            Some((next, attempts)) => {
                mark_connected(&shared, &next);
                let _ = events.send(Event::Reconnected { attempts });
                established = next;
            }
            None => {
                finish(&shared);
                break;
            }
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

/// Tries to reconnect until it works, the attempts run out, or the
/// application disconnects. Returns the new session and the attempt count.
async fn reconnect(
    shared: &Shared,
    endpoint: &Endpoint,
    policy: &Reconnection,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    events: &mpsc::UnboundedSender<Event>,
) -> Option<(Established, u32)> {
    let mut attempt: u32 = 0;
    loop {
        if policy.max_attempts.is_some_and(|max| attempt >= max) {
            let _ = events.send(Event::ReconnectFailed { attempts: attempt });
            return None;
        }
        attempt += 1;
        let delay = backoff::delay(policy, attempt, backoff::random_unit());
        let _ = events.send(Event::Reconnecting { attempt, delay });
        tokio::select! {
            () = until_close(commands) => return None,
            () = tokio::time::sleep(delay) => {}
        }
        let result = tokio::select! {
            () = until_close(commands) => return None,
            result = establish(&shared.net, &shared.config, endpoint) => result,
        };
        match result {
            Ok(established) => return Some((established, attempt)),
            Err(err) => tracing::warn!(attempt, "engine.io reconnection failed: {err}"),
        }
    }
}

/// Completes when the application asks to close (or drops every handle).
/// Messages sent meanwhile are dropped: `send()` refuses them while the
/// client is not connected, so only a race can bring one here.
async fn until_close(commands: &mut mpsc::UnboundedReceiver<Command>) {
    while let Some(command) = commands.recv().await {
        match command {
            Command::Close => return,
            Command::Send(_) => tracing::debug!("message dropped: the client is reconnecting"),
        }
    }
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
