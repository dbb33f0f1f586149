//! The WebSocket encoding: one packet per frame.
//!
//! Text frames hold a packet's text encoding (`4hello`, `2probe`, ...). A
//! binary frame holds the raw bytes of a binary message, with no type byte.
//! A text frame starting with `b` is a base64 binary message; clients that
//! force base64 send those, and we accept them.

use bytes::Bytes;

use crate::error::DecodeError;
use crate::packet::{Message, Packet};

/// A WebSocket data frame, as the WebSocket library hands it over.
///
/// # Examples
///
/// ```
/// use engineio_proto::{Frame, Packet};
///
/// assert_eq!(Frame::encode(&Packet::message("hi")), Frame::Text("4hi".into()));
/// assert_eq!(
///     Frame::encode(&Packet::message(vec![0u8, 255])),
///     Frame::Binary(vec![0u8, 255].into())
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Bytes),
}

impl Frame {
    /// Encodes a packet as one WebSocket frame.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{Frame, Packet};
    /// assert_eq!(Frame::encode(&Packet::pong()), Frame::Text("3".into()));
    /// ```
    pub fn encode(packet: &Packet) -> Self {
        match packet {
            Packet::Message(Message::Binary(bytes)) => Self::Binary(bytes.clone()),
            other => Self::Text(other.to_text()),
        }
    }

    /// Decodes the packet a WebSocket frame carries.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::{Frame, Message, Packet};
    /// let packet = Frame::Binary(vec![1u8, 2].into()).decode().unwrap();
    /// assert_eq!(packet, Packet::Message(Message::from(vec![1u8, 2])));
    /// assert!(Frame::Text(String::new()).decode().is_err());
    /// ```
    pub fn decode(self) -> Result<Packet, DecodeError> {
        match self {
            Self::Text(text) => Packet::decode_text(&text),
            Self::Binary(bytes) => Ok(Packet::Message(Message::Binary(bytes))),
        }
    }

    /// The frame's length in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Frame;
    /// assert_eq!(Frame::Text("4é".into()).len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the frame is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::Frame;
    /// assert!(Frame::Binary(Default::default()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
