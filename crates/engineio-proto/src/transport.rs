//! The transports: HTTP long-polling, WebSocket and WebTransport.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// An Engine.IO transport, as named in the `transport` query parameter.
///
/// # Examples
///
/// ```
/// use engineio_proto::Transport;
///
/// assert_eq!("websocket".parse::<Transport>().unwrap(), Transport::WebSocket);
/// assert_eq!(Transport::Polling.as_str(), "polling");
/// assert_eq!("webtransport".parse::<Transport>().unwrap(), Transport::WebTransport);
/// assert!("flash".parse::<Transport>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// HTTP long-polling: `GET` receives, `POST` sends.
    Polling,
    /// WebSocket: one packet per frame.
    WebSocket,
    /// WebTransport (HTTP/3 over QUIC): packets with a length header on one
    /// bidirectional stream ([`crate::webtransport`]). It is not an HTTP
    /// transport: a `transport=webtransport` request is refused, the
    /// session is opened or upgraded on the stream itself.
    WebTransport,
}

impl Transport {
    /// The transport's name on the wire.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Transport;
    /// assert_eq!(Transport::WebSocket.as_str(), "websocket");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Polling => "polling",
            Self::WebSocket => "websocket",
            Self::WebTransport => "webtransport",
        }
    }

    /// Whether packets go on one connection in both directions (WebSocket,
    /// WebTransport) rather than in HTTP requests (polling).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Transport;
    /// assert!(Transport::WebTransport.is_stream());
    /// assert!(!Transport::Polling.is_stream());
    /// ```
    pub const fn is_stream(self) -> bool {
        !matches!(self, Self::Polling)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a transport name that is not `polling`, `websocket` or
/// `webtransport`.
///
/// # Examples
///
/// ```
/// # use engineio_proto::Transport;
/// let err = "abc".parse::<Transport>().unwrap_err();
/// assert_eq!(err.to_string(), "unknown transport \"abc\" (expected polling, websocket or webtransport)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown transport {0:?} (expected polling, websocket or webtransport)")]
pub struct UnknownTransport(pub String);

impl FromStr for Transport {
    type Err = UnknownTransport;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "polling" => Ok(Self::Polling),
            "websocket" => Ok(Self::WebSocket),
            "webtransport" => Ok(Self::WebTransport),
            other => Err(UnknownTransport(other.to_owned())),
        }
    }
}
