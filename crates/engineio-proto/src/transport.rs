//! The two transports: HTTP long-polling and WebSocket.

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
/// assert!("webtransport".parse::<Transport>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// HTTP long-polling: `GET` receives, `POST` sends.
    Polling,
    /// WebSocket: one packet per frame.
    WebSocket,
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
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a transport name that is neither `polling` nor `websocket`.
///
/// # Examples
///
/// ```
/// # use engineio_proto::Transport;
/// let err = "abc".parse::<Transport>().unwrap_err();
/// assert_eq!(err.to_string(), "unknown transport \"abc\" (expected polling or websocket)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown transport {0:?} (expected polling or websocket)")]
pub struct UnknownTransport(pub String);

impl FromStr for Transport {
    type Err = UnknownTransport;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "polling" => Ok(Self::Polling),
            "websocket" => Ok(Self::WebSocket),
            other => Err(UnknownTransport(other.to_owned())),
        }
    }
}
