//! Sends across nodes through Redis (feature `redis`): several server
//! nodes behind a load balancer reach each other's sessions.
//!
//! - [`RedisBridge`] joins a [`Server`](crate::server::Server) to the
//!   others: [`send`](RedisBridge::send) and
//!   [`disconnect`](RedisBridge::disconnect) work for a session of any
//!   node, and [`broadcast`](RedisBridge::broadcast) reaches every session
//!   of every node once.
//! - [`RedisEmitter`] is write-only, for processes that hold no sessions
//!   (a worker, a cron job): the same three calls, awaited.
//!
//! Plain `PUBLISH`/`SUBSCRIBE`, so Redis 6 and 7 and Valkey all work; no
//! data is stored in Redis. The channels and the message encoding are in
//! [`engineio_proto::bridge`]: each node subscribes to
//! `engineio#<path>#node#<node id>` (commands for its sessions, whose ids
//! are `<node id>.<random>`, see
//! [`ServerConfig::node_id`](crate::server::ServerConfig::node_id)) and
//! `engineio#<path>#all` (broadcasts, and commands for ids that name no
//! node, which every node looks up).
//!
//! # Delivery
//!
//! **At most once.** A command goes to Redis once and is never retried:
//! a node that is down when it is published never gets it, and a
//! command in flight when the connection to Redis fails is lost (it is
//! counted in [`BridgeStats::dropped`]). Commands one process publishes
//! reach a node in the order they were published, so one session gets
//! the messages one sender sends it in order.
//!
//! **When Redis is down**, local traffic goes on untouched: sends to this
//! node's sessions and the local part of a broadcast are delivered as
//! always, and nothing ever waits for Redis. Sends and disconnects for
//! other nodes' sessions fail at once with [`BridgeError::Unavailable`]
//! (nothing is queued for later), and a broadcast reaches this node's
//! sessions and then fails the same way. The bridge reconnects and
//! resubscribes by itself, backing off from 50 ms up to
//! [`RedisConfig::max_backoff`] (1 s by default) between attempts; it logs
//! the loss and the return at warn level.
//!
//! Redis must be trusted: anyone who can publish on these channels can
//! message or disconnect any session. Use Redis's own access control
//! (a password or an ACL user in the URL) and a private network.
//!
//! # Examples
//!
//! ```no_run
//! use engineio::redis::{RedisBridge, RedisConfig};
//! use engineio::server::{Server, ServerConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::builder()
//!     .config(ServerConfig::default().node_id("n1".parse()?))
//!     .build();
//! let bridge = RedisBridge::start(&server, RedisConfig::new("redis://127.0.0.1:6379/")?);
//! bridge.wait_connected().await;
//! // Any session of any node:
//! let sid = "n2.Xk3Vq_9rT2aBcDeFgHiJ".parse()?;
//! bridge.send(sid, "hello from n1")?;
//! bridge.broadcast("to everyone")?;
//! # server.listen("127.0.0.1:5001").await?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::time::Duration;

use engineio_proto::SendError;
use thiserror::Error;

mod bridge;
mod connect;
mod emitter;

pub use bridge::{BridgeStats, RedisBridge, SendJsonBridgeError};
pub use emitter::RedisEmitter;
/// The channel names and the message encoding, from the sans-I/O crate.
pub use engineio_proto::bridge::{Channels, DEFAULT_CHANNEL_PREFIX};

/// Where Redis is, and how the bridge and the emitter use it.
///
/// | option | default | what it does |
/// |---|---|---|
/// | [`channel_prefix`](Self::channel_prefix) | `engineio` | the first part of every channel name (several applications on one Redis) |
/// | [`max_queue`](Self::max_queue) | 4096 | commands waiting to be published; past it sends fail with [`BridgeError::QueueFull`] |
/// | [`max_backoff`](Self::max_backoff) | 1 s | the longest wait between two reconnection attempts |
/// | [`timeout`](Self::timeout) | 2 s | connecting, and each answer of Redis |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use engineio::redis::RedisConfig;
///
/// let config = RedisConfig::new("redis://:secret@10.0.0.5:6379/0")?
///     .channel_prefix("chat")
///     .max_backoff(Duration::from_secs(5));
/// // The password is never shown.
/// assert_eq!(config.address(), "redis://10.0.0.5:6379/0");
/// # Ok::<(), engineio::redis::BridgeError>(())
/// ```
#[derive(Clone)]
pub struct RedisConfig {
    pub(crate) target: connect::Target,
    pub(crate) channel_prefix: String,
    pub(crate) max_queue: usize,
    pub(crate) max_backoff: Duration,
    pub(crate) timeout: Duration,
}

impl RedisConfig {
    /// The Redis at `url`: `redis://[user:password@]host[:port][/db]` or
    /// `redis+unix:///path/to/socket`.
    ///
    /// # Errors
    ///
    /// [`BridgeError::InvalidUrl`] for a URL that is not one of these
    /// (`rediss://`, Redis over TLS, is not supported).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::redis::RedisConfig;
    /// assert!(RedisConfig::new("redis://127.0.0.1:6379/").is_ok());
    /// assert!(RedisConfig::new("http://127.0.0.1/").is_err());
    /// ```
    pub fn new(url: &str) -> Result<Self, BridgeError> {
        Ok(Self {
            target: connect::Target::parse(url)?,
            channel_prefix: DEFAULT_CHANNEL_PREFIX.to_owned(),
            max_queue: 4096,
            max_backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
        })
    }

    /// The first part of every channel name (default `engineio`): nodes
    /// and emitters talk to each other only under the same prefix.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::redis::RedisConfig;
    /// let config = RedisConfig::new("redis://127.0.0.1/")?.channel_prefix("shop");
    /// # Ok::<(), engineio::redis::BridgeError>(())
    /// ```
    pub fn channel_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.channel_prefix = prefix.into();
        self
    }

    /// The most commands waiting to be published (default 4096, at least
    /// 1); past it [`RedisBridge`] calls fail with
    /// [`BridgeError::QueueFull`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::redis::RedisConfig;
    /// let config = RedisConfig::new("redis://127.0.0.1/")?.max_queue(100_000);
    /// # Ok::<(), engineio::redis::BridgeError>(())
    /// ```
    pub fn max_queue(mut self, max: usize) -> Self {
        self.max_queue = max.max(1);
        self
    }

    /// The longest wait between two attempts to reach Redis again (default
    /// 1 s; attempts start 50 ms apart and double).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::redis::RedisConfig;
    /// let config = RedisConfig::new("redis://127.0.0.1/")?.max_backoff(std::time::Duration::from_secs(10));
    /// # Ok::<(), engineio::redis::BridgeError>(())
    /// ```
    pub fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max.max(Duration::from_millis(50));
        self
    }

    /// How long connecting, and each answer of Redis, may take (default
    /// 2 s); past it the connection counts as lost. The bridge also pings
    /// its subscription every 5 s and counts it lost when the answer is
    /// that late.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::redis::RedisConfig;
    /// let config = RedisConfig::new("redis://127.0.0.1/")?.timeout(std::time::Duration::from_millis(500));
    /// # Ok::<(), engineio::redis::BridgeError>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The Redis address, without credentials.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::redis::RedisConfig;
    /// assert_eq!(RedisConfig::new("redis://localhost")?.address(), "redis://localhost:6379/0");
    /// # Ok::<(), engineio::redis::BridgeError>(())
    /// ```
    pub fn address(&self) -> &str {
        self.target.display()
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("address", &self.address())
            .field("channel_prefix", &self.channel_prefix)
            .field("max_queue", &self.max_queue)
            .field("max_backoff", &self.max_backoff)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why a command could not be sent through the bridge or the emitter.
///
/// # Examples
///
/// ```
/// use engineio::redis::{BridgeError, RedisConfig};
///
/// let err = RedisConfig::new("ftp://example.com/").unwrap_err();
/// assert!(matches!(err, BridgeError::InvalidUrl { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// The session is this node's and the local send failed (the session
    /// is unknown here, closing, or its queue is full; see [`SendError`]).
    /// A session id that names this node is never looked for elsewhere.
    #[error(transparent)]
    Local(#[from] SendError),
    /// Redis cannot be reached now: nothing was published, other nodes
    /// got nothing. The bridge is reconnecting by itself.
    #[error("Redis is unreachable ({reason}): other nodes were not reached")]
    Unavailable {
        /// What went wrong last.
        reason: String,
    },
    /// [`RedisConfig::max_queue`] commands wait to be published already
    /// (Redis is slower than the sends): this one was not queued.
    #[error("{max} commands are waiting for Redis already: this one was not sent")]
    QueueFull {
        /// The queue's bound.
        max: usize,
    },
    /// A broadcast leaves out more sessions than a command can carry
    /// ([`MAX_EXCEPT`](engineio_proto::bridge::MAX_EXCEPT)).
    #[error("a broadcast can leave out at most {max} sessions")]
    TooManyExcepted {
        /// The most sessions a broadcast can leave out.
        max: usize,
    },
    /// The bridge was stopped: its server shut down, or every handle of
    /// it was dropped.
    #[error("the Redis bridge has stopped")]
    Stopped,
    /// The Redis URL is not one the bridge can use.
    #[error("invalid Redis URL {url}: {reason}")]
    InvalidUrl {
        /// The URL, its password replaced by `***`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A random id for this bridge or emitter: the origin of what it
/// publishes.
fn origin_id() -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    // RandomState is seeded from the operating system's random source; a
    // fresh session id adds 120 more random bits.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    engineio_proto::Sid::generate().hash(&mut hasher);
    std::process::id().hash(&mut hasher);
    hasher.finish()
}

/// Waits between reconnection attempts: 50 ms, doubling up to a cap.
#[derive(Debug)]
struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(50);

    fn new(max: Duration) -> Self {
        Self {
            next: Self::FIRST,
            max,
        }
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    /// The next wait, with up to 20% of jitter so that nodes do not retry
    /// in step.
    fn next(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(self.max);
        let jitter = (origin_id() % 1000) as u32;
        wait + wait / 5 * jitter / 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        send_sync::<RedisBridge>();
        send_sync::<RedisEmitter>();
        send_sync::<RedisConfig>();
        send_sync::<BridgeError>();
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(300));
        let waits: Vec<Duration> = (0..5).map(|_| backoff.next()).collect();
        for (wait, base) in waits.iter().zip([50, 100, 200, 300, 300]) {
            let base = Duration::from_millis(base);
            assert!(*wait >= base && *wait <= base + base / 5, "{waits:?}");
        }
        backoff.reset();
        assert!(backoff.next() < Duration::from_millis(61));
    }
}
