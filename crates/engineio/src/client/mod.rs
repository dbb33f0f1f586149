//! The Engine.IO v4 clients: [`Client`] (async, tokio) and, with the
//! `blocking` feature, [`blocking::Client`].
//!
//! A client opens a session with a long-polling handshake and upgrades to
//! WebSocket when the server offers it (or goes straight to WebSocket when it
//! is the only enabled transport), answers the server's pings, watches for a
//! silent server (`"ping timeout"`), and delivers messages in the order the
//! server sent them.
//!
//! Events reach the application in two ways, which can be mixed:
//!
//! - handlers: [`Client::on_message`], [`Client::on_connect`],
//!   [`Client::on_disconnect`], [`Client::on_event`] (sync closures) and their
//!   `_async` twins (closures returning a future);
//! - a stream: [`Client::recv`] returns every event that no handler took.
//!
//! # Examples
//!
//! ```no_run
//! use engineio::client::{Client, Event};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder().build()?;
//! client.connect("http://127.0.0.1:3000").await?;
//! client.send("hello")?;
//! while let Some(event) = client.recv().await {
//!     match event {
//!         Event::Message(message) => println!("{message:?}"),
//!         Event::Disconnect(reason) => println!("closed: {reason}"),
//!         _ => {}
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # The URL and the Engine.IO path
//!
//! The request path is the URL's path followed by the Engine.IO path
//! ([`ClientBuilder::path`], default `engine.io`), with a trailing slash, as
//! the JS client adds one. Unlike python-engineio, the URL's path is kept, so
//! a server mounted under a prefix behind a proxy just works:
//!
//! | URL | path option | requests go to |
//! |---|---|---|
//! | `http://host:3000` | default | `/engine.io/` |
//! | `http://host/app` | default | `/app/engine.io/` |
//! | `http://host/app/` | `"/socket.io"` | `/app/socket.io/` |
//! | `ws://host` | `""` | `/` |
//!
//! The URL's query is kept and sent on every request, followed by
//! [`ClientBuilder::query`], then `EIO=4`, `transport`, `t` (when
//! [`ClientBuilder::timestamp_requests`] is on) and `sid`.

mod async_client;
mod backoff;
mod builder;
mod config;
mod dispatch;
mod driver;
mod endpoint;
mod error;
mod event;
mod handlers;
mod http;
mod link;
mod proxy;
mod session;
mod shared;
#[cfg(feature = "tls")]
mod tls;
mod ws;
#[cfg(feature = "webtransport")]
mod wt;

#[cfg(feature = "blocking")]
pub mod blocking;

pub use crate::deflate::PerMessageDeflate;
pub use async_client::Client;
pub use builder::ClientBuilder;
pub use config::{ClientConfig, Reconnection};
pub use error::{Cause, ConfigError, ConnectionError, SendError};
pub use event::{DisconnectReason, Event, State};
pub use handlers::ConnectOutcome;
