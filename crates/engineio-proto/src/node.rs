//! Node ids: the name of one server among several behind a load balancer,
//! carried at the front of its session ids (`n1.<random>`), so that the
//! balancer can route every request of a session by its `sid` parameter.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::sid::{SID_LEN, SID_MAX_LEN};

/// The separator between a node id and the rest of a session id.
pub const NODE_SEPARATOR: char = '.';

/// The most characters a node id may have: the node id, a
/// [`NODE_SEPARATOR`] and a 20-character random id must fit in a session id
/// ([`SID_MAX_LEN`]).
pub const NODE_ID_MAX_LEN: usize = SID_MAX_LEN - 1 - SID_LEN;

/// The name of one server node: 1 to [`NODE_ID_MAX_LEN`] characters of
/// `A-Z a-z 0-9 - _` (URL-safe, and without the `.` that ends it in a
/// session id).
///
/// A server with a node id names its sessions `<node id>.<random>`
/// ([`Sid::generate_on`](crate::Sid::generate_on)), and a load balancer
/// routes each request to the node its `sid` parameter starts with.
///
/// # Examples
///
/// ```
/// use engineio_proto::{NodeId, Sid};
///
/// let node: NodeId = "n1".parse()?;
/// let sid = Sid::generate_on(&node);
/// assert!(sid.as_str().starts_with("n1."));
/// assert_eq!(sid.node(), Some("n1"));
///
/// assert!(NodeId::new("eu.1").is_err()); // '.' ends the node id in a sid
/// assert!(NodeId::new("").is_err());
/// # Ok::<(), engineio_proto::InvalidNodeId>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(Box<str>);

impl NodeId {
    /// Checks `name` and makes it a node id.
    ///
    /// # Errors
    ///
    /// [`InvalidNodeId`] for an empty name, one longer than
    /// [`NODE_ID_MAX_LEN`], or one with a character outside `A-Z a-z 0-9 - _`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{InvalidNodeId, NodeId};
    /// assert_eq!(NodeId::new("eu-west_2")?.as_str(), "eu-west_2");
    /// assert!(matches!(NodeId::new("a b"), Err(InvalidNodeId::Character { found: ' ', .. })));
    /// # Ok::<(), InvalidNodeId>(())
    /// ```
    pub fn new(name: &str) -> Result<Self, InvalidNodeId> {
        if name.is_empty() {
            return Err(InvalidNodeId::Empty);
        }
        if let Some(found) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
        {
            return Err(InvalidNodeId::Character {
                name: name.to_owned(),
                found,
            });
        }
        if name.len() > NODE_ID_MAX_LEN {
            return Err(InvalidNodeId::TooLong {
                name: name.to_owned(),
            });
        }
        Ok(Self(name.into()))
    }

    /// The node id as a string slice.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::NodeId;
    /// assert_eq!(NodeId::new("n2").unwrap().as_str(), "n2");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", &self.0)
    }
}

impl AsRef<str> for NodeId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for NodeId {
    type Err = InvalidNodeId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// Why a name cannot be a [`NodeId`].
///
/// # Examples
///
/// ```
/// # use engineio_proto::NodeId;
/// let err = NodeId::new("a-rather-long-node-name").unwrap_err();
/// assert!(err.to_string().contains("at most 19 characters"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum InvalidNodeId {
    /// The name is empty.
    #[error("a node id cannot be empty")]
    Empty,
    /// The name is longer than [`NODE_ID_MAX_LEN`].
    #[error(
        "node id {name:?} has {} characters, at most {NODE_ID_MAX_LEN} characters are allowed \
         (the node id, a '.' and {SID_LEN} random characters must fit in a {SID_MAX_LEN}-character session id)",
        name.chars().count()
    )]
    TooLong {
        /// The name.
        name: String,
    },
    /// The name holds a character outside `A-Z a-z 0-9 - _`.
    #[error(
        "node id {name:?} holds {found:?}: only A-Z a-z 0-9 - _ are allowed \
         (URL-safe, and '.' ends the node id in a session id)"
    )]
    Character {
        /// The name.
        name: String,
        /// The first character not allowed.
        found: char,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_node_id_fits_a_session_id() {
        let longest = "x".repeat(NODE_ID_MAX_LEN);
        let node = NodeId::new(&longest).unwrap();
        let sid = crate::Sid::generate_on(&node);
        assert_eq!(sid.as_str().len(), SID_MAX_LEN);
        assert_eq!(sid.node(), Some(longest.as_str()));
        assert_eq!(
            NodeId::new(&"x".repeat(NODE_ID_MAX_LEN + 1)),
            Err(InvalidNodeId::TooLong {
                name: "x".repeat(NODE_ID_MAX_LEN + 1)
            })
        );
    }

    #[test]
    fn refuses_what_is_not_url_safe_or_holds_the_separator() {
        for (name, found) in [("a.b", '.'), ("a/b", '/'), ("é", 'é'), ("a%2E", '%')] {
            assert_eq!(
                NodeId::new(name),
                Err(InvalidNodeId::Character {
                    name: name.to_owned(),
                    found
                }),
                "{name}"
            );
        }
        assert_eq!(NodeId::new(""), Err(InvalidNodeId::Empty));
    }

    #[test]
    fn messages_say_what_is_wrong() {
        assert_eq!(
            NodeId::new("n.1").unwrap_err().to_string(),
            "node id \"n.1\" holds '.': only A-Z a-z 0-9 - _ are allowed \
             (URL-safe, and '.' ends the node id in a session id)"
        );
        assert_eq!(
            NodeId::new("abcdefghijklmnopqrst").unwrap_err().to_string(),
            "node id \"abcdefghijklmnopqrst\" has 20 characters, at most 19 characters are allowed \
             (the node id, a '.' and 20 random characters must fit in a 40-character session id)"
        );
    }
}
