//! Session ids: by default 120 random bits from a CSPRNG seeded by the
//! operating system, or an application's own id (see [`Sid::custom`]).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use thiserror::Error;

use crate::node::{NODE_SEPARATOR, NodeId};

/// The number of characters in a generated session id.
pub const SID_LEN: usize = 20;

/// The most characters a session id may have (an application's own ids
/// included, see [`Sid::custom`]).
pub const SID_MAX_LEN: usize = 40;

/// The number of random bytes behind a generated session id (120 bits).
const RANDOM_BYTES: usize = SID_LEN / 4 * 3;

/// A session id: by default 20 URL-safe base64 characters holding 120
/// random bits; an application may give its own (at most [`SID_MAX_LEN`]
/// characters of `A-Z a-z 0-9 - _ .`, see [`Sid::custom`]).
///
/// Ids are drawn from `rand`'s thread-local CSPRNG (ChaCha12, seeded from
/// the operating system's random source and reseeded from it regularly),
/// so they cannot be guessed, without a system call per id; they are
/// `Copy` and hash cheaply, which makes them good map keys.
///
/// # Examples
///
/// ```
/// use engineio_proto::Sid;
///
/// let sid = Sid::generate();
/// assert_eq!(sid.as_str().len(), 20);
/// assert_eq!(sid.as_str().parse::<Sid>().unwrap(), sid);
/// assert_ne!(Sid::generate(), sid);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    /// How many bytes of `bytes` are the id; the rest are zero.
    len: u8,
    bytes: [u8; SID_MAX_LEN],
}

impl Sid {
    /// Draws a new random session id.
    ///
    /// # Panics
    ///
    /// Panics if the operating system has no random source, which on the
    /// platforms tokio supports does not happen.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Sid;
    /// assert!(Sid::generate().as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    /// ```
    pub fn generate() -> Self {
        let mut random = [0u8; RANDOM_BYTES];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut random);
        let mut bytes = [0u8; SID_MAX_LEN];
        let written = URL_SAFE_NO_PAD
            .encode_slice(random, &mut bytes[..SID_LEN])
            .unwrap_or_default();
        debug_assert_eq!(written, SID_LEN);
        Self {
            len: SID_LEN as u8,
            bytes,
        }
    }

    /// Draws a new random session id for a server node: `<node>.` and 20
    /// random characters (120 bits, as [`Sid::generate`]), at most
    /// [`SID_MAX_LEN`] characters since a [`NodeId`] is short enough.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{NodeId, Sid};
    /// let sid = Sid::generate_on(&NodeId::new("n1").unwrap());
    /// assert_eq!(sid.as_str().len(), "n1.".len() + 20);
    /// assert_eq!(sid.node(), Some("n1"));
    /// ```
    pub fn generate_on(node: &NodeId) -> Self {
        let random = Self::generate();
        Self::on_node(node, random.as_str()).unwrap_or(random)
    }

    /// A session id of a server node whose rest is an application's own id
    /// (the `generate_id` hook of a server with a node id): `<node>.<id>`.
    ///
    /// # Errors
    ///
    /// [`InvalidSid`] when `id` holds a character outside `A-Z a-z 0-9 - _ .`,
    /// is empty, or is too long for the whole to fit in [`SID_MAX_LEN`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{NodeId, Sid};
    /// let node = NodeId::new("n2").unwrap();
    /// assert_eq!(Sid::on_node(&node, "user-7.Xk3Vq")?.as_str(), "n2.user-7.Xk3Vq");
    /// assert!(Sid::on_node(&node, &"x".repeat(38)).is_err()); // 41 characters in all
    /// # Ok::<(), engineio_proto::InvalidSid>(())
    /// ```
    pub fn on_node(node: &NodeId, id: &str) -> Result<Self, InvalidSid> {
        if id.is_empty() {
            return Err(InvalidSid);
        }
        let node = node.as_str();
        if node.len() + 1 + id.len() > SID_MAX_LEN {
            return Err(InvalidSid);
        }
        let mut whole = [0u8; SID_MAX_LEN];
        whole[..node.len()].copy_from_slice(node.as_bytes());
        whole[node.len()] = NODE_SEPARATOR as u8;
        whole[node.len() + 1..node.len() + 1 + id.len()].copy_from_slice(id.as_bytes());
        std::str::from_utf8(&whole[..node.len() + 1 + id.len()])
            .map_err(|_| InvalidSid)?
            .parse()
    }

    /// The node the id names: what comes before its first `.`, if it has
    /// one and it is not empty. A server with a node id gives every session
    /// an id that starts with it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Sid;
    /// assert_eq!(Sid::custom("n3.Xk3Vq_9rT2")?.node(), Some("n3"));
    /// assert_eq!(Sid::generate().node(), None);
    /// assert_eq!(Sid::custom(".abc")?.node(), None);
    /// # Ok::<(), engineio_proto::InvalidSid>(())
    /// ```
    pub fn node(&self) -> Option<&str> {
        self.as_str()
            .split_once(NODE_SEPARATOR)
            .map(|(node, _)| node)
            .filter(|node| !node.is_empty())
    }

    /// An application's own session id (the Node server's `generateId`):
    /// 1 to [`SID_MAX_LEN`] characters of `A-Z a-z 0-9 - _ .`, so that it
    /// travels unescaped in query strings and cookies.
    ///
    /// The application must keep its ids unguessable (a session id is the
    /// only credential of a session) and unique; the server refuses a
    /// handshake whose generated id is already in use.
    ///
    /// # Errors
    ///
    /// [`InvalidSid`] for an empty or too long id, or a character outside
    /// that set.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Sid;
    /// let sid = Sid::custom("node-1.Xk3Vq_9rT2")?;
    /// assert_eq!(sid.as_str(), "node-1.Xk3Vq_9rT2");
    /// assert!(Sid::custom("has space").is_err());
    /// # Ok::<(), engineio_proto::InvalidSid>(())
    /// ```
    pub fn custom(id: &str) -> Result<Self, InvalidSid> {
        id.parse()
    }

    /// The id as a string slice.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Sid;
    /// let sid: Sid = "AAAAAAAAAAAAAAAAAAAA".parse().unwrap();
    /// assert_eq!(sid.as_str(), "AAAAAAAAAAAAAAAAAAAA");
    /// ```
    pub fn as_str(&self) -> &str {
        // The bytes are always checked ASCII characters.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({})", self.as_str())
    }
}

impl AsRef<str> for Sid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// The error for a string that is not one of our session ids.
///
/// # Examples
///
/// ```
/// # use engineio_proto::Sid;
/// assert!("".parse::<Sid>().is_err());
/// assert!("a?b".parse::<Sid>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid session id: expected 1 to {SID_MAX_LEN} characters of A-Z a-z 0-9 - _ .")]
pub struct InvalidSid;

impl FromStr for Sid {
    type Err = InvalidSid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let id = s.as_bytes();
        if id.is_empty()
            || id.len() > SID_MAX_LEN
            || !id
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(InvalidSid);
        }
        let mut bytes = [0u8; SID_MAX_LEN];
        bytes[..id.len()].copy_from_slice(id);
        Ok(Self {
            len: id.len() as u8,
            bytes,
        })
    }
}
