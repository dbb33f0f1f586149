//! The handshake: the JSON body of the open packet.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::DecodeError;

/// The session parameters a server sends in its open packet (`0{...}`).
///
/// Serialises to exactly the five fields of the protocol, in this order:
/// `sid`, `upgrades`, `pingInterval`, `pingTimeout`, `maxPayload`. The
/// intervals are whole milliseconds; unlike python-engineio, a sub-second
/// interval is not truncated to zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use engineio_proto::Handshake;
///
/// let handshake = Handshake::new(
///     "lv_VI97HAXpY6yYWAAAC",
///     vec!["websocket".to_owned()],
///     Duration::from_millis(25_000),
///     Duration::from_millis(500),
///     1_000_000,
/// );
/// assert_eq!(
///     handshake.to_json(),
///     r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":500,"maxPayload":1000000}"#
/// );
/// assert_eq!(handshake.ping_timeout(), Duration::from_millis(500));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshake {
    /// The session id, to be sent back in the `sid` query parameter.
    pub sid: String,
    /// The transports the client may upgrade to (`["websocket"]` or `[]`).
    pub upgrades: Vec<String>,
    /// Milliseconds between two pings from the server.
    pub ping_interval: u64,
    /// Milliseconds the server waits for a pong.
    pub ping_timeout: u64,
    /// The most bytes the server accepts in one polling payload or WebSocket
    /// message. `0` if the server did not say (servers before v4 did not).
    #[serde(default)]
    pub max_payload: u64,
}

impl Handshake {
    /// Builds a handshake from durations; they are sent as whole milliseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio_proto::Handshake;
    /// let h = Handshake::new("abc", vec![], Duration::from_secs(1), Duration::from_secs(2), 100);
    /// assert_eq!((h.ping_interval, h.ping_timeout), (1000, 2000));
    /// ```
    pub fn new(
        sid: impl Into<String>,
        upgrades: Vec<String>,
        ping_interval: Duration,
        ping_timeout: Duration,
        max_payload: u64,
    ) -> Self {
        Self {
            sid: sid.into(),
            upgrades,
            ping_interval: millis(ping_interval),
            ping_timeout: millis(ping_timeout),
            max_payload,
        }
    }

    /// The ping interval as a [`Duration`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio_proto::Handshake;
    /// let h = Handshake::new("abc", vec![], Duration::from_millis(300), Duration::from_millis(200), 0);
    /// assert_eq!(h.ping_interval(), Duration::from_millis(300));
    /// ```
    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval)
    }

    /// The ping timeout as a [`Duration`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio_proto::Handshake;
    /// let h = Handshake::new("abc", vec![], Duration::from_millis(300), Duration::from_millis(200), 0);
    /// assert_eq!(h.ping_timeout(), Duration::from_millis(200));
    /// ```
    pub fn ping_timeout(&self) -> Duration {
        Duration::from_millis(self.ping_timeout)
    }

    /// The handshake as compact JSON (the open packet without its `0`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio_proto::Handshake;
    /// let h = Handshake::new("s", vec![], Duration::ZERO, Duration::ZERO, 1);
    /// assert!(h.to_json().starts_with(r#"{"sid":"s","upgrades":[]"#));
    /// ```
    pub fn to_json(&self) -> String {
        // Serialising a struct of strings and integers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses the JSON of an open packet. Unknown fields are ignored, so
    /// handshakes of other servers with extra fields still parse.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Handshake;
    /// let h = Handshake::from_json(
    ///     r#"{"sid":"x","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#,
    /// ).unwrap();
    /// assert_eq!(h.sid, "x");
    /// assert!(Handshake::from_json("{").is_err());
    /// assert!(Handshake::from_json(r#"["x",[],1,2,3]"#).is_err());
    /// ```
    pub fn from_json(json: &str) -> Result<Self, DecodeError> {
        // serde's derive would also take a JSON array of the five values.
        if !json.trim_start().starts_with('{') {
            return Err(DecodeError::InvalidHandshake(
                "expected a JSON object".to_owned(),
            ));
        }
        serde_json::from_str(json).map_err(|err| DecodeError::InvalidHandshake(err.to_string()))
    }
}

/// A duration as whole milliseconds, saturating at `u64::MAX`.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
