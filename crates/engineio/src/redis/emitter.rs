//! [`RedisEmitter`]: write-only access to the nodes' sessions, for
//! processes that hold none.

use std::fmt;

use ::redis::aio::MultiplexedConnection;
use engineio_proto::bridge::{Channels, Command, Envelope, MAX_EXCEPT};
use engineio_proto::{Message, Sid};
use tokio::task::JoinHandle;

use super::{BridgeError, RedisConfig, origin_id};

/// Sends, broadcasts and disconnects for the sessions of nodes joined by
/// [`RedisBridge`](super::RedisBridge)s, from a process that holds no
/// sessions (a worker, a cron job; `eio emit` on the command line).
///
/// Each call publishes one command and waits for Redis to acknowledge it;
/// it returns how many nodes were subscribed to its channel (0: nobody got
/// it, e.g. the node a sid names is down). Calls on one emitter are
/// published in the order they are made. The connection is opened on the
/// first call and again after a failure; a call never retries (at most
/// once).
///
/// # Examples
///
/// ```no_run
/// use engineio::redis::{RedisConfig, RedisEmitter};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let emitter = RedisEmitter::new(RedisConfig::new("redis://127.0.0.1:6379/")?, "/engine.io/");
/// let nodes = emitter.broadcast("nightly report is ready").await?;
/// println!("{nodes} node(s) got it");
/// emitter.send("n2.Xk3Vq_9rT2aBcDeFgHiJ".parse()?, "just for you").await?;
/// # Ok(())
/// # }
/// ```
pub struct RedisEmitter {
    config: RedisConfig,
    channels: Channels,
    origin: u64,
    connection: tokio::sync::Mutex<Option<(MultiplexedConnection, JoinHandle<()>)>>,
}

impl fmt::Debug for RedisEmitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisEmitter")
            .field("redis", &self.config.address())
            .field("channels", &self.channels)
            .finish()
    }
}

impl Drop for RedisEmitter {
    fn drop(&mut self) {
        if let Some((_, driver)) = self.connection.get_mut().take() {
            driver.abort();
        }
    }
}

impl RedisEmitter {
    /// An emitter for the nodes serving the engine.io `path` (normalized
    /// as [`ServerConfig::path`](crate::server::ServerConfig::path) does)
    /// on the Redis of `config`, under its channel prefix. Connects on the
    /// first call.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::redis::{RedisConfig, RedisEmitter};
    /// let emitter = RedisEmitter::new(RedisConfig::new("redis://127.0.0.1/")?, "engine.io");
    /// assert_eq!(emitter.channels().all(), "engineio#/engine.io/#all");
    /// # Ok::<(), engineio::redis::BridgeError>(())
    /// ```
    pub fn new(config: RedisConfig, path: &str) -> Self {
        Self {
            channels: Channels::new(&config.channel_prefix, path),
            config,
            origin: origin_id(),
            connection: tokio::sync::Mutex::new(None),
        }
    }

    /// The channels this emitter publishes to.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::redis::{RedisConfig, RedisEmitter};
    /// let emitter = RedisEmitter::new(RedisConfig::new("redis://127.0.0.1/")?, "/engine.io/");
    /// assert_eq!(emitter.channels().node("n1"), "engineio#/engine.io/#node#n1");
    /// # Ok::<(), engineio::redis::BridgeError>(())
    /// ```
    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    /// Sends a text or binary message to the session `sid`, through the
    /// channel of the node its id names (every node's for an id that
    /// names none). Returns how many nodes listen there.
    ///
    /// # Errors
    ///
    /// [`BridgeError::Unavailable`] when Redis cannot be reached or does
    /// not acknowledge (the command may or may not have been delivered).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future may or may not have published the command.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(emitter: engineio::redis::RedisEmitter, sid: engineio::Sid) -> Result<(), engineio::redis::BridgeError> {
    /// if emitter.send(sid, vec![1u8, 2, 3]).await? == 0 {
    ///     eprintln!("the node of {sid} is not running");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send(&self, sid: Sid, message: impl Into<Message>) -> Result<usize, BridgeError> {
        let command = Command::Send {
            sid,
            message: message.into(),
        };
        self.publish(self.channels.for_sid(&sid), &command).await
    }

    /// Sends a message to every session of every node. Returns how many
    /// nodes listen.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(emitter: engineio::redis::RedisEmitter) -> Result<(), engineio::redis::BridgeError> {
    /// emitter.broadcast("maintenance at noon").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn broadcast(&self, message: impl Into<Message>) -> Result<usize, BridgeError> {
        self.broadcast_except(message, &[]).await
    }

    /// Sends a message to every session of every node but those in
    /// `except`. Returns how many nodes listen.
    ///
    /// # Errors
    ///
    /// [`BridgeError::TooManyExcepted`] past
    /// [`MAX_EXCEPT`](engineio_proto::bridge::MAX_EXCEPT) sessions;
    /// otherwise as [`send`](Self::send).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(emitter: engineio::redis::RedisEmitter, sid: engineio::Sid) -> Result<(), engineio::redis::BridgeError> {
    /// emitter.broadcast_except("not you", &[sid]).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn broadcast_except(
        &self,
        message: impl Into<Message>,
        except: &[Sid],
    ) -> Result<usize, BridgeError> {
        if except.len() > MAX_EXCEPT {
            return Err(BridgeError::TooManyExcepted { max: MAX_EXCEPT });
        }
        let command = Command::Broadcast {
            except: except.to_vec(),
            message: message.into(),
        };
        self.publish(self.channels.all().to_owned(), &command).await
    }

    /// Closes the session `sid` ("server disconnect") on its node. Returns
    /// how many nodes listen on its channel.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(emitter: engineio::redis::RedisEmitter, sid: engineio::Sid) -> Result<(), engineio::redis::BridgeError> {
    /// emitter.disconnect(sid).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn disconnect(&self, sid: Sid) -> Result<usize, BridgeError> {
        self.publish(self.channels.for_sid(&sid), &Command::Disconnect { sid })
            .await
    }

    async fn publish(&self, channel: String, command: &Command) -> Result<usize, BridgeError> {
        let payload = Envelope::new(self.origin, command.clone()).encode();
        // Held across the publish: calls are published in order.
        let mut slot = self.connection.lock().await;
        if slot
            .as_ref()
            .is_some_and(|(_, driver)| driver.is_finished())
        {
            *slot = None;
        }
        let connection = match slot.as_mut() {
            Some((connection, _)) => connection,
            None => {
                let (connection, driver) = self
                    .config
                    .target
                    .publisher(self.config.timeout)
                    .await
                    .map_err(|reason| BridgeError::Unavailable { reason })?;
                &mut slot.insert((connection, tokio::spawn(driver))).0
            }
        };
        let mut command = ::redis::cmd("PUBLISH");
        command.arg(&channel).arg(&payload);
        let publish = command.query_async::<i64>(connection);
        let reason = match tokio::time::timeout(self.config.timeout, publish).await {
            Ok(Ok(listeners)) => return Ok(usize::try_from(listeners).unwrap_or_default()),
            Ok(Err(err)) => format!("publishing failed: {err}"),
            Err(_) => format!("Redis did not acknowledge within {:?}", self.config.timeout),
        };
        if let Some((_, driver)) = slot.take() {
            driver.abort();
        }
        Err(BridgeError::Unavailable { reason })
    }
}
