//! The client's protocol decisions, free of I/O.
//!
//! [`Connection`] is one client connection's state machine, in the style of
//! the server's [`Session`](crate::server::Session): the runtime feeds it
//! what the network brought (response bodies, WebSocket frames, failures)
//! and the current time, and takes out what to do next
//! ([`Connection::poll_transmit`]: requests to start, frames to write,
//! WebSockets to open or close), what happened
//! ([`Connection::poll_event`]: the open, messages, the upgrade, the close)
//! and when to call again ([`Connection::next_deadline`]).
//!
//! It decides the handshake (and what makes an open packet acceptable), the
//! heartbeat watchdog (a ping within `pingInterval + pingTimeout`, else
//! "ping timeout"), whether to probe a WebSocket, pausing polling during the
//! upgrade, batching POSTs within the server's `maxPayload`, the close
//! sequence, the reasons a connection ends, and (with [`Reconnection`])
//! whether and when to reconnect.
//!
//! # Examples
//!
//! A polling handshake, a message, and the server closing:
//!
//! ```
//! use std::time::Instant;
//! use engineio_proto::client::{Connection, ConnectionConfig, Event, Transmit};
//! use engineio_proto::{DisconnectReason, Message};
//!
//! let now = Instant::now();
//! let mut conn = Connection::new(ConnectionConfig::default());
//! assert_eq!(conn.poll_transmit(), Some(Transmit::Get)); // the handshake
//! let open = r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
//! conn.handle_get(format!("{open}\u{1e}4hello").as_bytes(), now);
//! assert!(matches!(conn.poll_event(), Some(Event::Opened(_))));
//! assert_eq!(conn.poll_event(), Some(Event::Message(Message::from("hello"))));
//! assert_eq!(conn.poll_transmit(), Some(Transmit::Get)); // the first long poll
//! conn.handle_get(b"1", now);
//! assert_eq!(conn.poll_event(), Some(Event::Closed(DisconnectReason::ServerDisconnect)));
//! ```

mod backoff;
mod connection;

pub use backoff::Reconnection;
pub use connection::{Connection, ConnectionConfig, Event, Transmit, WsId};

#[cfg(test)]
mod tests;
