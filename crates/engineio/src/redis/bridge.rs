//! [`RedisBridge`]: a server's sessions reachable from the other nodes,
//! theirs from this one.
//!
//! Two tasks per bridge, each with a connection of its own:
//!
//! - the publisher takes commands from a bounded queue, in order, and
//!   publishes them in pipelined batches; its connection's driver runs on
//!   a task we hold, so the publisher knows at once when Redis goes away;
//! - the subscriber listens on this node's channel and the `all` channel
//!   and applies what comes to the local sessions (pinging Redis every
//!   5 s to notice a connection that went silent).
//!
//! Both reconnect with backoff; the calls of the application never wait
//! for either.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ::redis::aio::MultiplexedConnection;
use engineio_proto::bridge::{Channels, Command, Envelope};
use engineio_proto::{EncodedPacket, Message, Packet, SendError, Sid};
use futures_util::StreamExt as _;
use tokio::sync::{mpsc, watch};

use super::{Backoff, BridgeError, RedisConfig, origin_id};
use crate::server::Server;

/// How often the subscriber pings Redis.
const HEALTH_PING: Duration = Duration::from_secs(5);
/// The most commands published in one pipelined round trip.
const BATCH: usize = 256;
/// The least time between two warnings about bad messages.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// A command on its way to Redis.
struct Outgoing {
    channel: String,
    payload: Vec<u8>,
}

/// The bridge's counters since it started (see [`RedisBridge::stats`]).
///
/// # Examples
///
/// ```no_run
/// # fn run(bridge: engineio::redis::RedisBridge) {
/// let stats = bridge.stats();
/// println!("{} published, {} lost", stats.published, stats.dropped);
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BridgeStats {
    /// Commands published (Redis acknowledged them).
    pub published: u64,
    /// Of those, commands no node was subscribed to (a send to a node
    /// that is down or on another Redis): nobody got them.
    pub unheard: u64,
    /// Commands queued but lost because the connection to Redis failed
    /// before Redis acknowledged them (some may have been delivered: at
    /// most once).
    pub dropped: u64,
    /// Commands from other processes applied here.
    pub received: u64,
    /// Commands for one of this node's sessions that it does not hold (it
    /// ended), or whose queue was full: not delivered.
    pub undeliverable: u64,
    /// Messages on the bridge's channels that are not commands (another
    /// format version, another program): ignored.
    pub malformed: u64,
    /// Times a connection to Redis (the publisher's or the
    /// subscriber's) was made again after it was lost.
    pub reconnections: u64,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    unheard: AtomicU64,
    dropped: AtomicU64,
    received: AtomicU64,
    undeliverable: AtomicU64,
    malformed: AtomicU64,
    reconnections: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Whether each connection is up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Link {
    publishing: bool,
    subscribed: bool,
}

impl Link {
    fn up(self) -> bool {
        self.publishing && self.subscribed
    }
}

struct Shared {
    server: Server,
    config: RedisConfig,
    channels: Channels,
    /// This node's channel, when the server has a node id.
    node_channel: Option<String>,
    origin: u64,
    queue: mpsc::Sender<Outgoing>,
    link: watch::Sender<Link>,
    /// Why the last connection attempt or connection failed.
    last_error: Mutex<String>,
    counters: Counters,
    /// Set to stop both tasks.
    stop: watch::Sender<bool>,
}

impl Shared {
    fn set_error(&self, reason: &str) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = reason.to_owned();
    }

    fn last_error(&self) -> String {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Completes when the bridge is told to stop or the server shuts down.
    async fn stopped(&self) {
        let mut stop = self.stop.subscribe();
        let mut shutdown = self.server.inner.shutdown.subscribe();
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => {}
            _ = shutdown.wait_for(|down| *down) => {}
        }
    }

    fn is_stopped(&self) -> bool {
        *self.stop.borrow() || *self.server.inner.shutdown.borrow()
    }
}

/// Stops the tasks when the last [`RedisBridge`] handle is dropped.
struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop.send_replace(true);
    }
}

/// A server joined to the other nodes through Redis: sends, broadcasts and
/// disconnects for any session of any node. Cheap to clone; the bridge
/// stops when the server shuts down or the last clone is dropped.
///
/// A session whose id names this node (or that this server holds) is
/// served locally at once; any other goes through Redis to the node its
/// id names ([`Sid::node`]), or to every node for an id that names none.
/// See the [module docs](super) for what is delivered when.
///
/// # Examples
///
/// ```no_run
/// use engineio::redis::{RedisBridge, RedisConfig};
/// use engineio::server::{Server, ServerConfig};
/// use std::sync::{Arc, OnceLock};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// // A chat: every message goes to every session of every node.
/// let bridge: Arc<OnceLock<RedisBridge>> = Arc::default();
/// let handle = bridge.clone();
/// let server = Server::builder()
///     .config(ServerConfig::default().node_id("n1".parse()?))
///     .on_message(move |_socket, message| {
///         if let Some(bridge) = handle.get() {
///             let _ = bridge.broadcast(message);
///         }
///     })
///     .build();
/// let _ = bridge.set(RedisBridge::start(&server, RedisConfig::new("redis://127.0.0.1/")?));
/// server.listen("127.0.0.1:5001").await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisBridge {
    shared: Arc<Shared>,
    _stop: Arc<StopOnDrop>,
}

impl fmt::Debug for RedisBridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBridge")
            .field("redis", &self.shared.config.address())
            .field("channels", &self.shared.channels)
            .field("node", &self.shared.server.config().node())
            .field("link", &*self.shared.link.borrow())
            .finish()
    }
}

impl RedisBridge {
    /// Joins `server` to the other nodes through the Redis of `config`,
    /// under the server's engine.io path and node id. Returns at once: the
    /// connections are made in the background, and made again whenever
    /// they fail ([`wait_connected`](Self::wait_connected) waits for
    /// them).
    ///
    /// Give each node a [`node_id`](crate::server::ServerConfig::node_id):
    /// commands for its sessions then go to it alone. Without one, the
    /// node listens to the `all` channel only, and commands for its
    /// sessions reach it only if their ids name no node (every node then
    /// gets them and looks the session up).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (it starts its tasks).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use engineio::redis::{RedisBridge, RedisConfig};
    /// # async fn run(server: engineio::server::Server) -> Result<(), engineio::redis::BridgeError> {
    /// let bridge = RedisBridge::start(&server, RedisConfig::new("redis://127.0.0.1:6379/")?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn start(server: &Server, config: RedisConfig) -> Self {
        let channels = Channels::new(&config.channel_prefix, server.config().engineio_path());
        let node_channel = server
            .config()
            .node()
            .map(|node| channels.node(node.as_str()));
        let (queue, outgoing) = mpsc::channel(config.max_queue);
        let (link, _) = watch::channel(Link::default());
        let (stop, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            server: server.clone(),
            config,
            channels,
            node_channel,
            origin: origin_id(),
            queue,
            link,
            last_error: Mutex::new("not connected yet".to_owned()),
            counters: Counters::default(),
            stop,
        });
        tokio::spawn(publish_loop(shared.clone(), outgoing));
        tokio::spawn(subscribe_loop(shared.clone()));
        Self {
            _stop: Arc::new(StopOnDrop(shared.clone())),
            shared,
        }
    }

    /// Queues a text or binary message for the session `sid`, wherever it
    /// is. Never blocks.
    ///
    /// # Errors
    ///
    /// - [`BridgeError::Local`] when the sid is this node's and the local
    ///   send fails (an unknown session among them);
    /// - [`BridgeError::Unavailable`], [`BridgeError::QueueFull`],
    ///   [`BridgeError::Stopped`] when it is another node's and cannot be
    ///   published.
    ///
    /// `Ok` for another node's session means the command is on its way:
    /// whether that node still holds the session is not known here (see
    /// [`BridgeStats::undeliverable`] on that node).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run(bridge: engineio::redis::RedisBridge, sid: engineio::Sid) {
    /// if let Err(err) = bridge.send(sid, "you have mail") {
    ///     eprintln!("not sent: {err}");
    /// }
    /// # }
    /// ```
    pub fn send(&self, sid: Sid, message: impl Into<Message>) -> Result<(), BridgeError> {
        let message = message.into();
        if self.is_local(sid) {
            return Ok(self.shared.server.send(sid, message)?);
        }
        self.publish(sid, Command::Send { sid, message })
    }

    /// Queues `value` as a JSON text message for the session `sid`,
    /// wherever it is (see [`send`](Self::send)).
    ///
    /// # Errors
    ///
    /// [`SendJsonBridgeError::Json`] when the value cannot be written as
    /// JSON (nothing is sent), [`SendJsonBridgeError::Send`] as
    /// [`send`](Self::send).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run(bridge: engineio::redis::RedisBridge, sid: engineio::Sid) {
    /// let _ = bridge.send_json(sid, &serde_json::json!({"score": 3}));
    /// # }
    /// ```
    pub fn send_json<T: serde::Serialize + ?Sized>(
        &self,
        sid: Sid,
        value: &T,
    ) -> Result<(), SendJsonBridgeError> {
        let message = Message::from_json(value).map_err(SendJsonBridgeError::Json)?;
        self.send(sid, message).map_err(SendJsonBridgeError::Send)
    }

    /// Queues a message for every session of every node. Returns how many
    /// of this node's sessions it was queued for.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send) for another node's session; this node's
    /// sessions got the message all the same.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run(bridge: engineio::redis::RedisBridge) {
    /// let _ = bridge.broadcast("the server restarts in 5 minutes");
    /// # }
    /// ```
    pub fn broadcast(&self, message: impl Into<Message>) -> Result<usize, BridgeError> {
        self.broadcast_except(message, &[])
    }

    /// Queues a message for every session of every node but those in
    /// `except` (e.g. the sender of a chat message). Returns how many of
    /// this node's sessions it was queued for.
    ///
    /// # Errors
    ///
    /// [`BridgeError::TooManyExcepted`] past
    /// [`MAX_EXCEPT`](engineio_proto::bridge::MAX_EXCEPT) sessions
    /// (nothing is sent); otherwise as [`broadcast`](Self::broadcast).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run(bridge: engineio::redis::RedisBridge, sender: engineio::Sid) {
    /// let _ = bridge.broadcast_except("someone joined", &[sender]);
    /// # }
    /// ```
    pub fn broadcast_except(
        &self,
        message: impl Into<Message>,
        except: &[Sid],
    ) -> Result<usize, BridgeError> {
        if except.len() > engineio_proto::bridge::MAX_EXCEPT {
            return Err(BridgeError::TooManyExcepted {
                max: engineio_proto::bridge::MAX_EXCEPT,
            });
        }
        let message = message.into();
        let local = deliver_to_all(&self.shared.server, message.clone(), except);
        let command = Command::Broadcast {
            except: except.to_vec(),
            message,
        };
        let channel = self.shared.channels.all().to_owned();
        self.enqueue(channel, command)?;
        Ok(local)
    }

    /// Closes the session `sid` ("server disconnect"), wherever it is.
    ///
    /// # Errors
    ///
    /// [`BridgeError::Local`] with [`SendError::UnknownSession`] when the
    /// sid is this node's and it holds no such session; as
    /// [`send`](Self::send) when it is another node's.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run(bridge: engineio::redis::RedisBridge, sid: engineio::Sid) {
    /// let _ = bridge.disconnect(sid);
    /// # }
    /// ```
    pub fn disconnect(&self, sid: Sid) -> Result<(), BridgeError> {
        if self.is_local(sid) {
            return if self.shared.server.disconnect(sid) {
                Ok(())
            } else {
                Err(SendError::UnknownSession.into())
            };
        }
        self.publish(sid, Command::Disconnect { sid })
    }

    /// Whether both connections to Redis are up (publishing and
    /// subscribed).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run(bridge: engineio::redis::RedisBridge) {
    /// if !bridge.is_connected() {
    ///     eprintln!("other nodes are out of reach");
    /// }
    /// # }
    /// ```
    pub fn is_connected(&self) -> bool {
        self.shared.link.borrow().up()
    }

    /// Waits until both connections to Redis are up (at once if they
    /// are). Waits forever while Redis cannot be reached: wrap it in a
    /// timeout.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(bridge: engineio::redis::RedisBridge) {
    /// let _ = tokio::time::timeout(std::time::Duration::from_secs(5), bridge.wait_connected()).await;
    /// # }
    /// ```
    pub async fn wait_connected(&self) {
        let mut link = self.shared.link.subscribe();
        let _ = link.wait_for(|link| link.up()).await;
    }

    /// Waits until a connection to Redis is down (at once if one is), and
    /// returns why.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(bridge: engineio::redis::RedisBridge) {
    /// let why = bridge.wait_disconnected().await;
    /// eprintln!("lost Redis: {why}");
    /// # }
    /// ```
    pub async fn wait_disconnected(&self) -> String {
        let mut link = self.shared.link.subscribe();
        let _ = link.wait_for(|link| !link.up()).await;
        self.shared.last_error()
    }

    /// The bridge's counters since it started.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run(bridge: engineio::redis::RedisBridge) {
    /// assert_eq!(bridge.stats().malformed, 0);
    /// # }
    /// ```
    pub fn stats(&self) -> BridgeStats {
        let c = &self.shared.counters;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        BridgeStats {
            published: get(&c.published),
            unheard: get(&c.unheard),
            dropped: get(&c.dropped),
            received: get(&c.received),
            undeliverable: get(&c.undeliverable),
            malformed: get(&c.malformed),
            reconnections: get(&c.reconnections),
        }
    }

    /// The channels this node subscribes to: its own (with a node id)
    /// and the `all` channel.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run(bridge: engineio::redis::RedisBridge) {
    /// println!("listening on {}", bridge.subscriptions().join(" and "));
    /// # }
    /// ```
    pub fn subscriptions(&self) -> Vec<String> {
        subscriptions(&self.shared)
    }

    /// The Redis address, without credentials.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn run(bridge: engineio::redis::RedisBridge) {
    /// println!("bridged through {}", bridge.address());
    /// # }
    /// ```
    pub fn address(&self) -> &str {
        self.shared.config.address()
    }

    /// Whether `sid` is served here: this server holds it, or its id names
    /// this node (then nobody else can hold it).
    fn is_local(&self, sid: Sid) -> bool {
        let server = &self.shared.server;
        if server.handle(sid).is_some() {
            return true;
        }
        matches!(
            (sid.node(), server.config().node()),
            (Some(theirs), Some(ours)) if theirs == ours.as_str()
        )
    }

    fn publish(&self, sid: Sid, command: Command) -> Result<(), BridgeError> {
        let channel = self.shared.channels.for_sid(&sid);
        self.enqueue(channel, command)
    }

    fn enqueue(&self, channel: String, command: Command) -> Result<(), BridgeError> {
        let shared = &self.shared;
        if shared.is_stopped() {
            return Err(BridgeError::Stopped);
        }
        if !shared.link.borrow().publishing {
            return Err(BridgeError::Unavailable {
                reason: shared.last_error(),
            });
        }
        let payload = Envelope::new(shared.origin, command).encode();
        shared
            .queue
            .try_send(Outgoing { channel, payload })
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => BridgeError::QueueFull {
                    max: shared.config.max_queue,
                },
                mpsc::error::TrySendError::Closed(_) => BridgeError::Stopped,
            })
    }
}

/// Why [`RedisBridge::send_json`] failed.
///
/// # Examples
///
/// ```no_run
/// # use engineio::redis::SendJsonBridgeError;
/// # fn run(bridge: engineio::redis::RedisBridge, sid: engineio::Sid) {
/// match bridge.send_json(sid, &[1, 2, 3]) {
///     Err(SendJsonBridgeError::Send(err)) => eprintln!("not sent: {err}"),
///     _ => {}
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendJsonBridgeError {
    /// The value cannot be written as JSON: nothing was sent.
    #[error(transparent)]
    Json(engineio_proto::JsonError),
    /// The message could not be sent.
    #[error(transparent)]
    Send(BridgeError),
}

fn subscriptions(shared: &Shared) -> Vec<String> {
    let mut channels: Vec<String> = shared.node_channel.iter().cloned().collect();
    channels.push(shared.channels.all().to_owned());
    channels
}

/// Queues `message` for every open session of `server` but those in
/// `except`, encoded once; how many it was queued for.
fn deliver_to_all(server: &Server, message: Message, except: &[Sid]) -> usize {
    let except: HashSet<Sid> = except.iter().copied().collect();
    let packet = EncodedPacket::new(Packet::Message(message));
    server
        .session_ids()
        .into_iter()
        .filter(|sid| !except.contains(sid))
        .filter(|sid| server.send_packet(*sid, &packet).is_ok())
        .count()
}

/// Sleeps the backoff's next wait; false when the bridge stopped meanwhile.
async fn pause(shared: &Shared, backoff: &mut Backoff) -> bool {
    tokio::select! {
        () = shared.stopped() => false,
        () = tokio::time::sleep(backoff.next()) => true,
    }
}

/// Logs a connection's loss once, at warn level, and its later failed
/// attempts at debug level (with a warning every 30 s).
struct Outage {
    what: &'static str,
    since: Option<Instant>,
    warned: Option<Instant>,
    ever_up: bool,
}

impl Outage {
    fn new(what: &'static str) -> Self {
        Self {
            what,
            since: None,
            warned: None,
            ever_up: false,
        }
    }

    fn failed(&mut self, shared: &Shared, reason: &str) {
        shared.set_error(reason);
        let now = Instant::now();
        let since = *self.since.get_or_insert(now);
        if self
            .warned
            .is_none_or(|warned| now.duration_since(warned) >= Duration::from_secs(30))
        {
            self.warned = Some(now);
            tracing::warn!(
                redis = shared.config.address(),
                "Redis bridge ({}): {reason}; sends to other nodes fail until it is back \
                 (retrying; down for {:.1?})",
                self.what,
                now.duration_since(since)
            );
        } else {
            tracing::debug!(
                redis = shared.config.address(),
                "Redis bridge ({}): {reason}",
                self.what
            );
        }
    }

    fn recovered(&mut self, shared: &Shared) {
        if let Some(since) = self.since.take() {
            if self.ever_up {
                add(&shared.counters.reconnections, 1);
            }
            tracing::warn!(
                redis = shared.config.address(),
                "Redis bridge ({}): connected again after {:.1?}",
                self.what,
                since.elapsed()
            );
        } else {
            tracing::info!(
                redis = shared.config.address(),
                "Redis bridge ({}): connected",
                self.what
            );
        }
        self.ever_up = true;
        self.warned = None;
    }
}

async fn publish_loop(shared: Arc<Shared>, mut outgoing: mpsc::Receiver<Outgoing>) {
    let mut backoff = Backoff::new(shared.config.max_backoff);
    let mut outage = Outage::new("publisher");
    loop {
        let connected = tokio::select! {
            () = shared.stopped() => return,
            connected = shared.config.target.publisher(shared.config.timeout) => connected,
        };
        let (mut connection, driver) = match connected {
            Ok(pair) => pair,
            Err(reason) => {
                outage.failed(&shared, &reason);
                if !pause(&shared, &mut backoff).await {
                    return;
                }
                continue;
            }
        };
        let mut driver = tokio::spawn(driver);
        backoff.reset();
        outage.recovered(&shared);
        shared.link.send_modify(|link| link.publishing = true);
        let reason = loop {
            tokio::select! {
                () = shared.stopped() => {
                    driver.abort();
                    return;
                }
                _ = &mut driver => break format!("the connection to {} closed", shared.config.address()),
                first = outgoing.recv() => {
                    let Some(first) = first else {
                        driver.abort();
                        return;
                    };
                    let mut batch = vec![first];
                    while batch.len() < BATCH {
                        match outgoing.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    if let Err(reason) = publish_batch(&shared, &mut connection, &batch).await {
                        add(&shared.counters.dropped, batch.len() as u64);
                        break reason;
                    }
                }
            }
        };
        driver.abort();
        shared.link.send_modify(|link| link.publishing = false);
        outage.failed(&shared, &reason);
        // What was queued for the lost connection is dropped, not sent
        // late: at most once, and never long after it was asked for.
        let mut lost = 0u64;
        while outgoing.try_recv().is_ok() {
            lost += 1;
        }
        if lost > 0 {
            add(&shared.counters.dropped, lost);
            tracing::warn!(
                redis = shared.config.address(),
                "Redis bridge: {lost} queued command(s) dropped with the connection"
            );
        }
        if !pause(&shared, &mut backoff).await {
            return;
        }
    }
}

/// Publishes a batch in one round trip; counts the published and unheard
/// commands.
async fn publish_batch(
    shared: &Shared,
    connection: &mut MultiplexedConnection,
    batch: &[Outgoing],
) -> Result<(), String> {
    let mut pipe = ::redis::pipe();
    for command in batch {
        pipe.cmd("PUBLISH")
            .arg(&command.channel)
            .arg(&command.payload);
    }
    let replies: Vec<i64> =
        match tokio::time::timeout(shared.config.timeout, pipe.query_async(connection)).await {
            Ok(Ok(replies)) => replies,
            Ok(Err(err)) => return Err(format!("publishing failed: {err}")),
            Err(_) => {
                return Err(format!(
                    "Redis did not acknowledge a publish within {:?}",
                    shared.config.timeout
                ));
            }
        };
    add(&shared.counters.published, replies.len() as u64);
    let unheard = replies.iter().filter(|&&n| n == 0).count() as u64;
    if unheard > 0 {
        add(&shared.counters.unheard, unheard);
        tracing::debug!(
            "Redis bridge: {unheard} command(s) published to a channel no node listens to"
        );
    }
    Ok(())
}

async fn subscribe_loop(shared: Arc<Shared>) {
    let mut backoff = Backoff::new(shared.config.max_backoff);
    let mut outage = Outage::new("subscriber");
    let channels = subscriptions(&shared);
    let mut bad = BadMessages::default();
    loop {
        let connected = tokio::select! {
            () = shared.stopped() => return,
            connected = shared.config.target.subscriber(shared.config.timeout, &channels) => connected,
        };
        let pubsub = match connected {
            Ok(pubsub) => pubsub,
            Err(reason) => {
                outage.failed(&shared, &reason);
                if !pause(&shared, &mut backoff).await {
                    return;
                }
                continue;
            }
        };
        backoff.reset();
        outage.recovered(&shared);
        tracing::info!(
            redis = shared.config.address(),
            "Redis bridge: subscribed to {}",
            channels.join(" and ")
        );
        shared.link.send_modify(|link| link.subscribed = true);
        let (mut sink, mut stream) = pubsub.split();
        let mut health = tokio::time::interval(HEALTH_PING);
        health.reset();
        let reason = loop {
            tokio::select! {
                () = shared.stopped() => return,
                message = stream.next() => match message {
                    Some(message) => apply(
                        &shared,
                        message.get_channel_name(),
                        message.get_payload_bytes(),
                        &mut bad,
                    ),
                    None => break format!("the subscription to {} closed", shared.config.address()),
                },
                _ = health.tick() => {
                    let ping = tokio::time::timeout(shared.config.timeout, sink.ping::<::redis::Value>());
                    match ping.await {
                        Ok(Ok(_)) => {}
                        Ok(Err(err)) => break format!("Redis did not answer a ping: {err}"),
                        Err(_) => break format!("Redis did not answer a ping within {:?}", shared.config.timeout),
                    }
                }
            }
        };
        shared.link.send_modify(|link| link.subscribed = false);
        outage.failed(&shared, &reason);
        if !pause(&shared, &mut backoff).await {
            return;
        }
    }
}

/// Rate-limits the warnings about messages that are not commands.
#[derive(Default)]
struct BadMessages {
    warned: Option<Instant>,
}

/// Applies one message of the bridge's channels to the local sessions.
fn apply(shared: &Shared, channel: &str, payload: &[u8], bad: &mut BadMessages) {
    let envelope = match Envelope::decode(payload) {
        Ok(envelope) => envelope,
        Err(err) => {
            add(&shared.counters.malformed, 1);
            let now = Instant::now();
            if bad
                .warned
                .is_none_or(|warned| now.duration_since(warned) >= WARN_EVERY)
            {
                bad.warned = Some(now);
                tracing::warn!(channel, "Redis bridge: ignored a message: {err}");
            }
            return;
        }
    };
    let fan_out = channel == shared.channels.all();
    if fan_out && envelope.origin == shared.origin {
        // Our own broadcast (delivered locally when sent) or our own send
        // to an id that names no node (not held here, or it would not have
        // been published).
        return;
    }
    add(&shared.counters.received, 1);
    let server = &shared.server;
    match envelope.command {
        Command::Send { sid, message } => {
            match server.send_packet(sid, &EncodedPacket::new(Packet::Message(message))) {
                Ok(()) => {}
                // Every node gets a fan-out; only the one holding it delivers.
                Err(SendError::UnknownSession) if fan_out => {}
                Err(err) => {
                    add(&shared.counters.undeliverable, 1);
                    tracing::debug!("Redis bridge: a message for {sid} was not delivered: {err}");
                }
            }
        }
        Command::Broadcast { except, message } => {
            deliver_to_all(server, message, &except);
        }
        // The guard disconnects; only a session not found here falls in.
        Command::Disconnect { sid } if !server.disconnect(sid) && !fan_out => {
            add(&shared.counters.undeliverable, 1);
            tracing::debug!("Redis bridge: no session {sid} here to disconnect");
        }
        _ => {}
    }
}
