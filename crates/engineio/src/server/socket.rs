//! A handle to one session, given to handlers, and the server's call that
//! hands one out ([`Server::socket`]).

use std::fmt;
use std::sync::{Arc, PoisonError};

use engineio_proto::{EncodedPacket, Message, SendJsonError, Sid, Transport};

use super::engine::{SendError, Server};
use super::handle::SessionHandle;

/// One session, as handlers see it: its id, its data, and the calls to reply
/// or disconnect. Cheap to clone; it stays usable after the session ended
/// (sends then fail with [`SendError::Closed`]).
///
/// # Examples
///
/// ```
/// use engineio::server::Server;
///
/// #[derive(Clone)]
/// struct User(String);
///
/// let server = Server::builder()
///     .on_connect(|socket, _request| {
///         socket.insert_data(User("anonymous".into()));
///         Ok(())
///     })
///     .on_message(|socket, message| {
///         let user = socket.data::<User>().map(|u| u.0).unwrap_or_default();
///         let _ = socket.send(format!("{user} said {message:?}"));
///     })
///     .build();
/// # let _ = server;
/// ```
#[derive(Clone)]
pub struct Socket {
    server: Server,
    handle: Arc<SessionHandle>,
}

impl Socket {
    pub(crate) fn new(server: Server, handle: Arc<SessionHandle>) -> Self {
        Self { server, handle }
    }

    /// The session id.
    pub fn sid(&self) -> Sid {
        self.handle.sid
    }

    /// The server the session belongs to.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Queues a text or binary message; never blocks.
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] after the session closed,
    /// [`SendError::QueueFull`] when the client does not keep up,
    /// [`SendError::SeparatorInText`] for text holding `0x1E` on polling.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.send_packet(&EncodedPacket::new(engineio_proto::Packet::Message(
            message.into(),
        )))
    }

    /// Queues `value` as a JSON text message (see [`Server::send_json`]).
    ///
    /// # Errors
    ///
    /// [`SendJsonError::Json`] when the value cannot be written as JSON
    /// (nothing is sent), [`SendJsonError::Send`] as [`Socket::send`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Server;
    /// #[derive(serde::Deserialize, serde::Serialize)]
    /// struct Move { x: i32, y: i32 }
    ///
    /// let server = Server::builder()
    ///     .on_message(|socket, message| {
    ///         if let Ok(Move { x, y }) = message.json::<Move>() {
    ///             let _ = socket.send_json(&Move { x: -x, y: -y });
    ///         }
    ///     })
    ///     .build();
    /// # let _ = server;
    /// ```
    pub fn send_json<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<(), SendJsonError> {
        Ok(self.send(Message::from_json(value)?)?)
    }

    /// Queues a shared, encode-once packet (see [`Server::send_packet`]).
    ///
    /// # Errors
    ///
    /// As [`Socket::send`].
    pub fn send_packet(&self, packet: &EncodedPacket) -> Result<(), SendError> {
        self.handle.send(&self.server, packet)
    }

    /// Closes the session ("server disconnect"); never blocks.
    pub fn disconnect(&self) -> bool {
        self.server.disconnect(self.sid())
    }

    /// The transport the session runs over now.
    pub fn transport(&self) -> Transport {
        self.handle.core().transport()
    }

    /// Whether the session is closed.
    pub fn is_closed(&self) -> bool {
        self.handle.core().closed().is_some()
    }

    /// Stores a value in the session's data (one value per type), returning
    /// the previous one. python-engineio's `save_session`.
    pub fn insert_data<T: Clone + Send + Sync + 'static>(&self, value: T) -> Option<T> {
        self.handle
            .data
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(value)
    }

    /// A copy of the session's value of type `T`. python-engineio's
    /// `get_session`.
    pub fn data<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.handle
            .data
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get::<T>()
            .cloned()
    }

    /// Runs `f` with the session's data locked, for a read-modify-write in
    /// one step. python-engineio's `with eio.session(sid) as session:`. Do
    /// not call other data methods of the same socket inside `f`.
    pub fn with_data<R>(&self, f: impl FnOnce(&mut http::Extensions) -> R) -> R {
        f(&mut self
            .handle
            .data
            .lock()
            .unwrap_or_else(PoisonError::into_inner))
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("sid", &self.handle.sid)
            .finish()
    }
}

impl Server {
    /// The socket handle of a live session.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = engineio::server::Server::builder().build();
    /// assert!(server.socket(engineio::Sid::generate()).is_none());
    /// ```
    pub fn socket(&self, sid: Sid) -> Option<Socket> {
        self.handle(sid)
            .map(|handle| Socket::new(self.clone(), handle))
    }
}
