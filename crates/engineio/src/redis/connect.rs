//! Opening connections to Redis: the address from the URL, a TCP (or Unix)
//! stream of our own with a timeout, then the `redis` crate's publishing
//! connection (whose driver we spawn, so that we see it end) or its
//! pub/sub connection. Errors become strings: no `redis` type leaves this
//! module.

use std::future::Future;
use std::time::Duration;

use ::redis::aio::{MultiplexedConnection, PubSub};
use ::redis::{AsyncConnectionConfig, ConnectionAddr, ConnectionInfo, IntoConnectionInfo};
use tokio::io::{AsyncRead, AsyncWrite};

use super::BridgeError;

/// A stream to Redis, TCP or Unix.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Where Redis is, and how to log in.
#[derive(Clone)]
pub(crate) struct Target {
    info: ConnectionInfo,
    /// The address without credentials, for messages and logs.
    display: String,
}

impl Target {
    /// Reads `redis://[user:password@]host[:port][/db]` or
    /// `redis+unix:///path[?db=N]`.
    pub(crate) fn parse(url: &str) -> Result<Self, BridgeError> {
        let invalid = |reason: String| BridgeError::InvalidUrl {
            url: redact(url),
            reason,
        };
        let info = url
            .into_connection_info()
            .map_err(|err| invalid(err.to_string()))?;
        let db = info.redis_settings().db();
        let display = match info.addr() {
            ConnectionAddr::Tcp(host, port) => format!("redis://{host}:{port}/{db}"),
            ConnectionAddr::Unix(path) => format!("redis+unix://{}?db={db}", path.display()),
            _ => {
                return Err(invalid(
                    "rediss:// (TLS) is not supported: reach Redis over a trusted network, \
                     a Unix socket or a TLS tunnel"
                        .to_owned(),
                ));
            }
        };
        Ok(Self { info, display })
    }

    /// The address, without credentials.
    pub(crate) fn display(&self) -> &str {
        &self.display
    }

    async fn stream(&self, timeout: Duration) -> Result<Box<dyn Stream>, String> {
        let connect = async {
            match self.info.addr() {
                ConnectionAddr::Tcp(host, port) => {
                    let stream = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                    let _ = stream.set_nodelay(true);
                    Ok(Box::new(stream) as Box<dyn Stream>)
                }
                #[cfg(unix)]
                ConnectionAddr::Unix(path) => {
                    let stream = tokio::net::UnixStream::connect(path).await?;
                    Ok(Box::new(stream) as Box<dyn Stream>)
                }
                _ => Err(std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "this kind of Redis address is not supported here",
                )),
            }
        };
        match tokio::time::timeout(timeout, connect).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(err)) => Err(format!("cannot connect to {}: {err}", self.display)),
            Err(_) => Err(format!(
                "cannot connect to {}: no answer within {timeout:?}",
                self.display
            )),
        }
    }

    /// A publishing connection, and its driver: the future that reads and
    /// writes the socket, which ends when the connection does.
    pub(crate) async fn publisher(
        &self,
        timeout: Duration,
    ) -> Result<
        (
            MultiplexedConnection,
            impl Future<Output = ()> + Send + 'static,
        ),
        String,
    > {
        let stream = self.stream(timeout).await?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let setup =
            MultiplexedConnection::new_with_config(self.info.redis_settings(), stream, config);
        match tokio::time::timeout(timeout, setup).await {
            Ok(Ok(pair)) => Ok(pair),
            Ok(Err(err)) => Err(format!(
                "Redis at {} refused the connection: {err}",
                self.display
            )),
            Err(_) => Err(format!(
                "Redis at {} did not answer within {timeout:?}",
                self.display
            )),
        }
    }

    /// A connection in subscriber mode, subscribed to `channels`.
    pub(crate) async fn subscriber(
        &self,
        timeout: Duration,
        channels: &[String],
    ) -> Result<PubSub, String> {
        let stream = self.stream(timeout).await?;
        let setup = async {
            let mut pubsub = PubSub::new(self.info.redis_settings(), stream).await?;
            pubsub.subscribe(channels).await?;
            Ok::<_, ::redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(timeout, setup).await {
            Ok(Ok(pubsub)) => Ok(pubsub),
            Ok(Err(err)) => Err(format!(
                "Redis at {} refused to subscribe: {err}",
                self.display
            )),
            Err(_) => Err(format!(
                "Redis at {} did not answer within {timeout:?}",
                self.display
            )),
        }
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({})", self.display)
    }
}

/// `url` with any password replaced by `***`.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((credentials, host)) if !credentials.contains('/') => {
                let user = credentials.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}:***@{host}")
            }
            _ => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_shown_without_credentials() {
        let target = Target::parse("redis://user:secret@127.0.0.1:6380/2").unwrap();
        assert_eq!(target.display(), "redis://127.0.0.1:6380/2");
        let target = Target::parse("redis://localhost").unwrap();
        assert_eq!(target.display(), "redis://localhost:6379/0");
        let err = Target::parse("http://user:secret@host/")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
        assert!(Target::parse("rediss://host/").is_err());
        assert_eq!(redact("redis://:pw@h:1/"), "redis://:***@h:1/");
    }
}
