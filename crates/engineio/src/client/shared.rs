//! What a client's handles, its session task, its driver and its
//! dispatcher share: the options, the network, the handlers, the observable
//! status, the `recv()` queue and the current connection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use engineio_proto::client::ConnectionConfig;
use engineio_proto::{DisconnectReason, Handshake, Transport};
use tokio::sync::{Mutex, Notify, mpsc, watch};

use super::config::ClientConfig;
use super::event::{Event, State};
use super::handlers::Handlers;
use super::http::Net;
use super::link::Link;

/// What the application asks of a running session task.
#[derive(Debug)]
pub(crate) enum Command {
    /// Close the connection (or stop reconnecting): with the close packet,
    /// or (`abort`) by dropping the transport; the `Disconnect` event
    /// carries `reason`.
    Close {
        abort: bool,
        reason: DisconnectReason,
    },
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
    /// Messages read from the server and not yet delivered (their handler
    /// has not finished, or `recv()` has not taken them).
    backlog: AtomicUsize,
    /// Told when the backlog shrinks.
    pub(crate) room: Notify,
    /// The current connection, while one runs.
    link: std::sync::Mutex<Option<Arc<Link>>>,
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
            backlog: AtomicUsize::new(0),
            room: Notify::new(),
            link: std::sync::Mutex::new(None),
        }
    }

    /// The current connection, while one runs.
    pub(crate) fn link(&self) -> Option<Arc<Link>> {
        self.link
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_link(&self, link: Option<Arc<Link>>) {
        *self.link.lock().unwrap_or_else(PoisonError::into_inner) = link;
    }

    /// The settings of each connection's state machine.
    pub(crate) fn connection_config(&self) -> ConnectionConfig {
        let transports = &self.config.transports;
        ConnectionConfig {
            polling: transports.contains(&Transport::Polling),
            websocket: transports.contains(&Transport::WebSocket),
            webtransport: cfg!(feature = "webtransport")
                && transports.contains(&Transport::WebTransport),
            probe_timeout: self.net.timeout,
            close_timeout: self.net.timeout,
            max_queue: self.config.max_queue,
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

    /// Hands an event to the dispatcher; a message counts in the backlog
    /// until it is delivered.
    pub(crate) fn emit(&self, events: &mpsc::UnboundedSender<Event>, event: Event) {
        let message = matches!(event, Event::Message(_));
        if message {
            self.backlog.fetch_add(1, Ordering::AcqRel);
        }
        if events.send(event).is_err() && message {
            self.delivered();
        }
    }

    /// A message was delivered: its handler finished, or `recv()` took it.
    pub(crate) fn delivered(&self) {
        let _ = self
            .backlog
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        self.room.notify_one();
    }

    /// Whether `max_events` messages wait for delivery: the driver stops
    /// reading from the server until one is delivered.
    pub(crate) fn is_backlogged(&self) -> bool {
        self.backlog.load(Ordering::Acquire) >= self.config.max_events
    }

    pub(crate) fn set_state(&self, state: State) {
        self.status.send_modify(|s| s.state = state);
    }

    pub(crate) fn set_transport(&self, transport: Transport) {
        self.status.send_modify(|s| s.transport = Some(transport));
    }
}
