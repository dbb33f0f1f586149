//! The wire format of the cross-node bridge: which publish/subscribe
//! channel a command goes to, and how it is encoded.
//!
//! Several server nodes share one publish/subscribe broker (Redis or
//! Valkey, plain `PUBLISH`/`SUBSCRIBE`). Each node subscribes to two
//! channels of its engine.io path:
//!
//! | channel | what goes there |
//! |---|---|
//! | `<prefix>#<path>#node#<node id>` ([`Channels::node`]) | sends and disconnects for sessions whose id names that node (`<node id>.<random>`) |
//! | `<prefix>#<path>#all` ([`Channels::all`]) | broadcasts, and sends and disconnects for session ids that name no node (every node looks them up) |
//!
//! The prefix is `engineio` by default; the path is normalized as
//! `ServerConfig::path` normalizes it (`/engine.io/`). A node id holds no
//! `#`, so no node's channel can be the `all` channel.
//!
//! # Encoding
//!
//! A command ([`Envelope`]) is one binary message, version 1:
//!
//! ```text
//! 'E' 0x01                  magic and format version
//! kind                      's' send, 'b' broadcast, 'd' disconnect
//! origin                    8 bytes, big-endian: the sending process's random id
//! send:       sid_len(1) sid  message
//! broadcast:  count(2, big-endian) count x (sid_len(1) sid)  message   (the sessions left out)
//! disconnect: sid_len(1) sid
//! message:    't' UTF-8 text ... | 'b' bytes ...   (to the end)
//! ```
//!
//! A text message of `n` bytes sent to a 23-character sid costs `n + 36`
//! bytes. The origin lets a node skip the broadcasts it published itself
//! (it delivers those to its own sessions at once).
//!
//! # Examples
//!
//! ```
//! use engineio_proto::bridge::{Channels, Command, Envelope};
//! use engineio_proto::{Message, Sid};
//!
//! let channels = Channels::new("engineio", "/engine.io/");
//! let sid = Sid::custom("n2.Xk3Vq_9rT2aBcDeFgHiJ")?;
//! assert_eq!(channels.for_sid(&sid), "engineio#/engine.io/#node#n2");
//! assert_eq!(channels.all(), "engineio#/engine.io/#all");
//!
//! let envelope = Envelope::new(7, Command::Send { sid, message: Message::from("hi") });
//! let bytes = envelope.encode();
//! assert_eq!(Envelope::decode(&bytes)?, envelope);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use bytes::Bytes;
use thiserror::Error;

use crate::{Message, Sid};

/// The first byte of every envelope.
const MAGIC: u8 = b'E';
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u8 = 1;

const KIND_SEND: u8 = b's';
const KIND_BROADCAST: u8 = b'b';
const KIND_DISCONNECT: u8 = b'd';
const MESSAGE_TEXT: u8 = b't';
const MESSAGE_BINARY: u8 = b'b';

/// The default channel prefix.
pub const DEFAULT_CHANNEL_PREFIX: &str = "engineio";

/// The most sessions one broadcast may leave out (the count is two bytes).
pub const MAX_EXCEPT: usize = u16::MAX as usize;

/// The channel names of one engine.io path.
///
/// # Examples
///
/// ```
/// use engineio_proto::bridge::Channels;
/// use engineio_proto::{NodeId, Sid};
///
/// let channels = Channels::new("engineio", "chat"); // normalized to /chat/
/// assert_eq!(channels.all(), "engineio#/chat/#all");
/// assert_eq!(channels.node("n1"), "engineio#/chat/#node#n1");
/// // A sid without a node name goes to every node.
/// assert_eq!(channels.for_sid(&Sid::generate()), channels.all());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    /// `<prefix>#<path>#`.
    base: String,
    all: String,
}

impl Channels {
    /// The channels of `path` (normalized to `/<path>/`, as the server's
    /// `ServerConfig::path`) under `prefix` (e.g. [`DEFAULT_CHANNEL_PREFIX`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::bridge::Channels;
    /// assert_eq!(Channels::new("app", "/engine.io").all(), "app#/engine.io/#all");
    /// assert_eq!(Channels::new("app", "/").all(), "app#/#all");
    /// ```
    pub fn new(prefix: &str, path: &str) -> Self {
        let trimmed = path.trim_matches('/');
        let path = if trimmed.is_empty() {
            "/".to_owned()
        } else {
            format!("/{trimmed}/")
        };
        let base = format!("{prefix}#{path}#");
        let all = format!("{base}all");
        Self { base, all }
    }

    /// The channel every node listens to: broadcasts, and commands for
    /// sessions whose id names no node.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::bridge::Channels;
    /// assert_eq!(Channels::new("engineio", "/engine.io/").all(), "engineio#/engine.io/#all");
    /// ```
    pub fn all(&self) -> &str {
        &self.all
    }

    /// The channel of one node: commands for its sessions.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::bridge::Channels;
    /// assert_eq!(Channels::new("engineio", "/engine.io/").node("n3"), "engineio#/engine.io/#node#n3");
    /// ```
    pub fn node(&self, node: &str) -> String {
        format!("{}node#{node}", self.base)
    }

    /// Where a command for `sid` goes: the channel of the node its id
    /// names ([`Sid::node`]), or [`all`](Self::all) for an id that names
    /// none.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::bridge::Channels;
    /// # use engineio_proto::Sid;
    /// let channels = Channels::new("engineio", "/engine.io/");
    /// assert_eq!(channels.for_sid(&Sid::custom("n1.abc")?), "engineio#/engine.io/#node#n1");
    /// assert_eq!(channels.for_sid(&Sid::custom("abc")?), "engineio#/engine.io/#all");
    /// # Ok::<(), engineio_proto::InvalidSid>(())
    /// ```
    pub fn for_sid(&self, sid: &Sid) -> String {
        match sid.node() {
            Some(node) => self.node(node),
            None => self.all.clone(),
        }
    }
}

/// What one node asks of the others.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// Queue `message` for the session `sid`, on the node that holds it.
    Send {
        /// The session.
        sid: Sid,
        /// The message.
        message: Message,
    },
    /// Queue `message` for every session of every node but those in
    /// `except`.
    Broadcast {
        /// The sessions left out.
        except: Vec<Sid>,
        /// The message.
        message: Message,
    },
    /// Close the session `sid` ("server disconnect"), on the node that
    /// holds it.
    Disconnect {
        /// The session.
        sid: Sid,
    },
}

/// One command and the process that published it.
///
/// # Examples
///
/// ```
/// use engineio_proto::bridge::{Command, Envelope};
/// use engineio_proto::Sid;
///
/// let sid = Sid::custom("n1.abc")?;
/// let bytes = Envelope::new(1, Command::Disconnect { sid }).encode();
/// assert_eq!(&bytes[..3], b"E\x01d");
/// assert_eq!(bytes.len(), 3 + 8 + 1 + 6);
/// # Ok::<(), engineio_proto::InvalidSid>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The publishing process's id: random, drawn once per process
    /// (bridge or emitter).
    pub origin: u64,
    /// What to do.
    pub command: Command,
}

impl Envelope {
    /// An envelope for `command` from `origin`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::bridge::{Command, Envelope};
    /// let envelope = Envelope::new(9, Command::Broadcast { except: vec![], message: "hi".into() });
    /// assert_eq!(envelope.origin, 9);
    /// ```
    pub fn new(origin: u64, command: Command) -> Self {
        Self { origin, command }
    }

    /// The envelope's bytes (see the [module docs](self) for the format).
    ///
    /// # Panics
    ///
    /// Never for a [`Command::Broadcast`] leaving out at most
    /// [`MAX_EXCEPT`] sessions; past that, only the first [`MAX_EXCEPT`]
    /// are written (check the length before).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::bridge::{Command, Envelope};
    /// # use engineio_proto::{Message, Sid};
    /// let sid = Sid::custom("n1.abc")?;
    /// let bytes = Envelope::new(0, Command::Send { sid, message: Message::from(vec![1u8, 2]) }).encode();
    /// assert_eq!(bytes, b"E\x01s\0\0\0\0\0\0\0\0\x06n1.abcb\x01\x02");
    /// # Ok::<(), engineio_proto::InvalidSid>(())
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        let message_len = match &self.command {
            Command::Send { message, .. } | Command::Broadcast { message, .. } => message.len(),
            Command::Disconnect { .. } => 0,
        };
        let mut out = Vec::with_capacity(3 + 8 + 48 + message_len);
        out.extend_from_slice(&[MAGIC, FORMAT_VERSION]);
        match &self.command {
            Command::Send { sid, message } => {
                out.push(KIND_SEND);
                out.extend_from_slice(&self.origin.to_be_bytes());
                put_sid(&mut out, sid);
                put_message(&mut out, message);
            }
            Command::Broadcast { except, message } => {
                out.push(KIND_BROADCAST);
                out.extend_from_slice(&self.origin.to_be_bytes());
                let count = except.len().min(MAX_EXCEPT);
                out.extend_from_slice(&(count as u16).to_be_bytes());
                for sid in &except[..count] {
                    put_sid(&mut out, sid);
                }
                put_message(&mut out, message);
            }
            Command::Disconnect { sid } => {
                out.push(KIND_DISCONNECT);
                out.extend_from_slice(&self.origin.to_be_bytes());
                put_sid(&mut out, sid);
            }
        }
        out
    }

    /// Reads an envelope.
    ///
    /// # Errors
    ///
    /// [`BridgeDecodeError`] for bytes that are not a version-1 envelope:
    /// another magic or version, an unknown kind, a truncated field, a sid
    /// that is not one, text that is not UTF-8, bytes after a disconnect.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::bridge::{BridgeDecodeError, Envelope};
    /// assert_eq!(Envelope::decode(b"E\x02d"), Err(BridgeDecodeError::Version(2)));
    /// assert_eq!(Envelope::decode(b"hello"), Err(BridgeDecodeError::Magic));
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<Self, BridgeDecodeError> {
        let mut reader = Reader(bytes);
        if reader.byte()? != MAGIC {
            return Err(BridgeDecodeError::Magic);
        }
        let version = reader.byte()?;
        if version != FORMAT_VERSION {
            return Err(BridgeDecodeError::Version(version));
        }
        let kind = reader.byte()?;
        let origin = u64::from_be_bytes(reader.array::<8>()?);
        let command = match kind {
            KIND_SEND => {
                let sid = reader.sid()?;
                let message = reader.message()?;
                Command::Send { sid, message }
            }
            KIND_BROADCAST => {
                let count = u16::from_be_bytes(reader.array::<2>()?);
                let mut except = Vec::with_capacity(usize::from(count).min(reader.0.len() / 2));
                for _ in 0..count {
                    except.push(reader.sid()?);
                }
                let message = reader.message()?;
                Command::Broadcast { except, message }
            }
            KIND_DISCONNECT => {
                let sid = reader.sid()?;
                if !reader.0.is_empty() {
                    return Err(BridgeDecodeError::Trailing);
                }
                Command::Disconnect { sid }
            }
            other => return Err(BridgeDecodeError::Kind(other)),
        };
        Ok(Self { origin, command })
    }
}

fn put_sid(out: &mut Vec<u8>, sid: &Sid) {
    // A sid is at most SID_MAX_LEN (40) ASCII characters.
    let sid = sid.as_str().as_bytes();
    out.push(sid.len() as u8);
    out.extend_from_slice(sid);
}

fn put_message(out: &mut Vec<u8>, message: &Message) {
    match message {
        Message::Text(text) => {
            out.push(MESSAGE_TEXT);
            out.extend_from_slice(text.as_bytes());
        }
        Message::Binary(bytes) => {
            out.push(MESSAGE_BINARY);
            out.extend_from_slice(bytes);
        }
    }
}

/// The bytes not read yet.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, BridgeDecodeError> {
        let (&first, rest) = self.0.split_first().ok_or(BridgeDecodeError::Truncated)?;
        self.0 = rest;
        Ok(first)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], BridgeDecodeError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(BridgeDecodeError::Truncated)?;
        self.0 = rest;
        Ok(*head)
    }

    fn sid(&mut self) -> Result<Sid, BridgeDecodeError> {
        let len = usize::from(self.byte()?);
        if self.0.len() < len {
            return Err(BridgeDecodeError::Truncated);
        }
        let (sid, rest) = self.0.split_at(len);
        self.0 = rest;
        std::str::from_utf8(sid)
            .ok()
            .and_then(|sid| sid.parse().ok())
            .ok_or(BridgeDecodeError::Sid)
    }

    fn message(&mut self) -> Result<Message, BridgeDecodeError> {
        let kind = self.byte()?;
        let data = std::mem::take(&mut self.0);
        match kind {
            MESSAGE_TEXT => std::str::from_utf8(data)
                .map(|text| Message::Text(text.to_owned()))
                .map_err(|_| BridgeDecodeError::Utf8),
            MESSAGE_BINARY => Ok(Message::Binary(Bytes::copy_from_slice(data))),
            other => Err(BridgeDecodeError::MessageKind(other)),
        }
    }
}

/// Why bytes from the bridge's channels are not an [`Envelope`].
///
/// # Examples
///
/// ```
/// # use engineio_proto::bridge::Envelope;
/// let err = Envelope::decode(b"E\x01x").unwrap_err();
/// assert!(err.to_string().contains("truncated"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BridgeDecodeError {
    /// The first byte is not `E`: not a bridge message.
    #[error("not an engine.io bridge message (it does not start with 'E')")]
    Magic,
    /// Another format version (a newer node or emitter).
    #[error("bridge message format version {0}, this build reads version 1")]
    Version(u8),
    /// An unknown command kind.
    #[error("unknown bridge command kind {0:#04x}")]
    Kind(u8),
    /// An unknown message kind (neither text nor binary).
    #[error("unknown bridge message kind {0:#04x}")]
    MessageKind(u8),
    /// The bytes end inside a field.
    #[error("truncated bridge message")]
    Truncated,
    /// A session id that is not one.
    #[error("a session id in a bridge message is not valid")]
    Sid,
    /// Text that is not UTF-8.
    #[error("text in a bridge message is not UTF-8")]
    Utf8,
    /// Bytes after a disconnect command.
    #[error("bytes after the end of a bridge disconnect command")]
    Trailing,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(text: &str) -> Sid {
        Sid::custom(text).unwrap()
    }

    #[test]
    fn golden_vectors() {
        let send = Envelope::new(
            0x0102_0304_0506_0708,
            Command::Send {
                sid: sid("n1.abc"),
                message: Message::from("héllo"),
            },
        );
        assert_eq!(
            send.encode(),
            b"E\x01s\x01\x02\x03\x04\x05\x06\x07\x08\x06n1.abcth\xc3\xa9llo"
        );
        let broadcast = Envelope::new(
            1,
            Command::Broadcast {
                except: vec![sid("a"), sid("n2.bc")],
                message: Message::from(vec![0u8, 255]),
            },
        );
        assert_eq!(
            broadcast.encode(),
            b"E\x01b\0\0\0\0\0\0\0\x01\0\x02\x01a\x05n2.bcb\0\xff"
        );
        let disconnect = Envelope::new(u64::MAX, Command::Disconnect { sid: sid("x") });
        assert_eq!(
            disconnect.encode(),
            b"E\x01d\xff\xff\xff\xff\xff\xff\xff\xff\x01x"
        );
        for envelope in [send, broadcast, disconnect] {
            assert_eq!(Envelope::decode(&envelope.encode()), Ok(envelope));
        }
    }

    #[test]
    fn empty_messages_round_trip() {
        for message in [Message::from(""), Message::from(Vec::new())] {
            let envelope = Envelope::new(
                3,
                Command::Broadcast {
                    except: vec![],
                    message,
                },
            );
            assert_eq!(Envelope::decode(&envelope.encode()), Ok(envelope));
        }
    }

    #[test]
    fn refuses_what_is_not_an_envelope() {
        let origin = [0u8; 8];
        let with = |tail: &[u8]| {
            let mut bytes = b"E\x01".to_vec();
            bytes.extend_from_slice(&tail[..1]);
            bytes.extend_from_slice(&origin);
            bytes.extend_from_slice(&tail[1..]);
            Envelope::decode(&bytes)
        };
        assert_eq!(Envelope::decode(b""), Err(BridgeDecodeError::Truncated));
        assert_eq!(Envelope::decode(b"X\x01"), Err(BridgeDecodeError::Magic));
        assert_eq!(
            Envelope::decode(b"E\x07s"),
            Err(BridgeDecodeError::Version(7))
        );
        assert_eq!(with(b"z"), Err(BridgeDecodeError::Kind(b'z')));
        assert_eq!(
            Envelope::decode(b"E\x01s\0\0"),
            Err(BridgeDecodeError::Truncated)
        );
        assert_eq!(with(b"s\x05ab"), Err(BridgeDecodeError::Truncated));
        assert_eq!(with(b"s\x02a b"), Err(BridgeDecodeError::Sid));
        assert_eq!(with(b"s\x00t"), Err(BridgeDecodeError::Sid));
        assert_eq!(with(b"s\x01a"), Err(BridgeDecodeError::Truncated));
        assert_eq!(with(b"s\x01ax"), Err(BridgeDecodeError::MessageKind(b'x')));
        assert_eq!(with(b"s\x01at\xff"), Err(BridgeDecodeError::Utf8));
        assert_eq!(with(b"d\x01ab"), Err(BridgeDecodeError::Trailing));
        assert_eq!(with(b"b\xff\xff\x01a"), Err(BridgeDecodeError::Truncated));
    }

    #[test]
    fn channels_never_collide() {
        let channels = Channels::new(DEFAULT_CHANNEL_PREFIX, "/engine.io/");
        // "all" is a valid node id, but its channel is not the broadcast one.
        assert_ne!(channels.node("all"), channels.all());
        assert_eq!(Channels::new("engineio", "engine.io"), channels);
        assert_eq!(
            channels.for_sid(&sid("all.xyz")),
            "engineio#/engine.io/#node#all"
        );
    }
}
