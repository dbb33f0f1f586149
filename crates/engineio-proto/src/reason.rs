//! Why a session or connection ended.

use std::fmt;

/// Why a session ended, with python-engineio's names.
///
/// # Examples
///
/// ```
/// use engineio_proto::DisconnectReason;
///
/// assert_eq!(DisconnectReason::PingTimeout.as_str(), "ping timeout");
/// assert_eq!(DisconnectReason::ClientDisconnect.to_string(), "client disconnect");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The application closed the session (`disconnect(sid)`, shutdown).
    ServerDisconnect,
    /// The peer sent a close packet (`1`).
    ClientDisconnect,
    /// No pong arrived within the ping timeout (server), or no ping arrived
    /// within ping interval + ping timeout (client).
    PingTimeout,
    /// The WebSocket or TCP connection was closed by the peer.
    TransportClose,
    /// The peer broke the protocol (undecodable packet, overlapping polls,
    /// a ping sent by a v4 client) or the transport failed.
    TransportError,
}

impl DisconnectReason {
    /// The reason as python-engineio spells it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::DisconnectReason;
    /// assert_eq!(DisconnectReason::TransportClose.as_str(), "transport close");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ServerDisconnect => "server disconnect",
            Self::ClientDisconnect => "client disconnect",
            Self::PingTimeout => "ping timeout",
            Self::TransportClose => "transport close",
            Self::TransportError => "transport error",
        }
    }
}

impl DisconnectReason {
    /// Whether a client should reconnect after this: only when the
    /// transport broke or the peer went silent, never after a close either
    /// side chose.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::DisconnectReason;
    /// assert!(DisconnectReason::PingTimeout.is_recoverable());
    /// assert!(!DisconnectReason::ServerDisconnect.is_recoverable());
    /// ```
    pub const fn is_recoverable(self) -> bool {
        matches!(
            self,
            Self::TransportError | Self::PingTimeout | Self::TransportClose
        )
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
