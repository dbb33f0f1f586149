//! The body of a v3 open packet.

use serde::Serialize;

use crate::handshake::Handshake;

/// Which fields a v3 open packet carries.
///
/// Node's engine.io 4 to 6 send v3 clients the same five fields as v4
/// clients, `maxPayload` included (v3 clients ignore it). The engine.io 3.x
/// servers that v3 clients were written for sent only the first four.
///
/// # Examples
///
/// ```
/// use engineio_proto::eio3::HandshakeFields;
///
/// assert_eq!(HandshakeFields::default(), HandshakeFields::WithMaxPayload);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HandshakeFields {
    /// `sid`, `upgrades`, `pingInterval`, `pingTimeout`, `maxPayload`: what
    /// Node's engine.io 6.6 sends to v3 clients.
    #[default]
    WithMaxPayload,
    /// `sid`, `upgrades`, `pingInterval`, `pingTimeout`: what engine.io 3.x
    /// sent.
    WithoutMaxPayload,
}

/// The v3 handshake's four fields, in the order engine.io 3.x wrote them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Legacy<'a> {
    sid: &'a str,
    upgrades: &'a [String],
    ping_interval: u64,
    ping_timeout: u64,
}

/// The JSON body of a v3 open packet (the packet is `0` followed by it).
///
/// In v3 the heartbeat goes the other way: the client sends a ping every
/// `pingInterval`, and the server gives up after `pingInterval +
/// pingTimeout` without one.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use engineio_proto::Handshake;
/// use engineio_proto::eio3::{HandshakeFields, handshake_json};
///
/// let handshake = Handshake::new(
///     "5zgU2DgAph41DboYAAAA",
///     vec!["websocket".to_owned()],
///     Duration::from_millis(25_000),
///     Duration::from_millis(20_000),
///     1_000_000,
/// );
/// assert_eq!(
///     handshake_json(&handshake, HandshakeFields::WithMaxPayload),
///     r#"{"sid":"5zgU2DgAph41DboYAAAA","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
/// );
/// assert_eq!(
///     handshake_json(&handshake, HandshakeFields::WithoutMaxPayload),
///     r#"{"sid":"5zgU2DgAph41DboYAAAA","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}"#
/// );
/// ```
pub fn handshake_json(handshake: &Handshake, fields: HandshakeFields) -> String {
    match fields {
        HandshakeFields::WithMaxPayload => handshake.to_json(),
        HandshakeFields::WithoutMaxPayload => {
            let legacy = Legacy {
                sid: &handshake.sid,
                upgrades: &handshake.upgrades,
                ping_interval: handshake.ping_interval,
                ping_timeout: handshake.ping_timeout,
            };
            // Serialising strings and integers cannot fail.
            serde_json::to_string(&legacy).unwrap_or_default()
        }
    }
}
