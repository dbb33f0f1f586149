//! JSON messages with serde: a text message holding a JSON document, built
//! from any `Serialize` value and decoded into any `Deserialize` type (the
//! counterpart of python-engineio's `json` option). Engine.IO itself does
//! not look inside messages; this is a convenience for applications.

use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::error::SendError;
use crate::packet::Message;

/// Why a value could not become a JSON message, or a message a value.
///
/// # Examples
///
/// ```
/// use engineio_proto::{JsonError, Message};
///
/// let binary = Message::from(vec![1u8, 2]);
/// assert_eq!(binary.json::<u32>(), Err(JsonError::NotText));
/// assert!(matches!(Message::from("{").json::<u32>(), Err(JsonError::Decode(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The message is binary: JSON messages are text.
    #[error("a binary message is not JSON text")]
    NotText,
    /// The text is not JSON of the expected shape (serde's explanation,
    /// with the line and column).
    #[error("the message is not the expected JSON: {0}")]
    Decode(String),
    /// The value cannot be written as JSON (for example a map whose keys
    /// are not strings).
    #[error("the value cannot be encoded as JSON: {0}")]
    Encode(String),
}

/// Why a `send_json` (server or client) failed: the
/// value could not be encoded, or the send itself failed.
///
/// # Examples
///
/// ```
/// use engineio_proto::{SendError, SendJsonError};
///
/// let failed = SendJsonError::from(SendError::Closed);
/// assert_eq!(failed.to_string(), "the session is closed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SendJsonError {
    /// The value could not be encoded as JSON; nothing was sent.
    #[error(transparent)]
    Json(#[from] JsonError),
    /// The encoded message could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
}

impl Message {
    /// A text message holding `value` as JSON.
    ///
    /// # Errors
    ///
    /// [`JsonError::Encode`] when serde cannot write the value as JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio_proto::Message;
    ///
    /// #[derive(serde::Serialize)]
    /// struct Move { x: i32, y: i32 }
    ///
    /// let message = Message::from_json(&Move { x: 1, y: -2 })?;
    /// assert_eq!(message, Message::from(r#"{"x":1,"y":-2}"#));
    /// # Ok::<(), engineio_proto::JsonError>(())
    /// ```
    pub fn from_json<T: Serialize + ?Sized>(value: &T) -> Result<Self, JsonError> {
        serde_json::to_string(value)
            .map(Self::Text)
            .map_err(|err| JsonError::Encode(err.to_string()))
    }

    /// Decodes a text message's JSON into `T`.
    ///
    /// # Errors
    ///
    /// [`JsonError::NotText`] for a binary message, [`JsonError::Decode`]
    /// when the text is not JSON of `T`'s shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio_proto::Message;
    ///
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// struct Move { x: i32, y: i32 }
    ///
    /// let message = Message::from(r#"{"x":1,"y":-2}"#);
    /// assert_eq!(message.json::<Move>()?, Move { x: 1, y: -2 });
    /// # Ok::<(), engineio_proto::JsonError>(())
    /// ```
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, JsonError> {
        match self {
            Self::Text(text) => {
                serde_json::from_str(text).map_err(|err| JsonError::Decode(err.to_string()))
            }
            Self::Binary(_) => Err(JsonError::NotText),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Chat {
        room: String,
        text: String,
        at: Option<u64>,
    }

    #[test]
    fn round_trips_a_struct_through_a_text_message() {
        let chat = Chat {
            room: "lobby".into(),
            text: "héllo \u{1F44B} \"quoted\"".into(),
            at: None,
        };
        let message = Message::from_json(&chat).unwrap();
        assert!(message.is_text());
        assert_eq!(message.json::<Chat>().unwrap(), chat);
    }

    #[test]
    fn decoding_the_wrong_shape_says_where() {
        let err = Message::from(r#"{"room":"a","text":5}"#)
            .json::<Chat>()
            .unwrap_err();
        let JsonError::Decode(detail) = err else {
            panic!("{err:?}")
        };
        assert!(
            detail.contains("invalid type") && detail.contains("column"),
            "{detail}"
        );
    }

    #[test]
    fn binary_messages_are_not_json() {
        assert_eq!(
            Message::from(b"{}".to_vec()).json::<serde_json::Value>(),
            Err(JsonError::NotText)
        );
    }

    #[test]
    fn values_json_cannot_hold_are_an_encode_error() {
        let mut map = HashMap::new();
        map.insert((1, 2), "tuple keys are not strings");
        assert!(matches!(
            Message::from_json(&map),
            Err(JsonError::Encode(_))
        ));
    }
}
