//! JSONP polling: the `j` index, the script around a poll's payload, and
//! the form a POST body comes in.
//!
//! This framing wraps a payload of either protocol version: Node's engine.io
//! 6.6 serves JSONP to v3 and v4 sessions alike (see the [module
//! docs](super)).

use std::fmt;

use thiserror::Error;

/// Why a JSONP index or POST body was refused.
///
/// # Examples
///
/// ```
/// use engineio_proto::eio3::{JsonpError, JsonpIndex, decode_jsonp_body};
///
/// assert_eq!(JsonpIndex::parse("x1"), Err(JsonpError::InvalidIndex));
/// assert_eq!(decode_jsonp_body(b"e=1"), Err(JsonpError::MissingData));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JsonpError {
    /// The `j` query value is not a decimal number (strict parsing only:
    /// Node keeps the digits and drops the rest).
    #[error("invalid JSONP index number")]
    InvalidIndex,
    /// The POST body has no `d` field. Node then ignores the body and still
    /// answers `ok`.
    #[error("JSONP POST body has no d field")]
    MissingData,
    /// The POST body has more than one `d` field. Node then ignores the body
    /// and still answers `ok`.
    #[error("JSONP POST body has more than one d field")]
    RepeatedData,
}

/// The index of a JSONP client's callback (`j`), only ASCII digits.
///
/// Node fixes it at the handshake: a session's scripts all call
/// `___eio[<index of the handshake request>]`, whatever `j` later polls
/// carry. The runtime keeps this value with the session.
///
/// # Examples
///
/// ```
/// use engineio_proto::eio3::JsonpIndex;
///
/// let index = JsonpIndex::parse("3")?;
/// assert_eq!(index.wrap("1:6"), r#"___eio[3]("1:6");"#);
/// assert_eq!(index.to_string(), "3");
/// # Ok::<(), engineio_proto::eio3::JsonpError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonpIndex(String);

impl JsonpIndex {
    /// The index as Node's engine.io takes it: the digits of `j`, every
    /// other character dropped. Never fails; may be empty (`j=abc` gives
    /// `___eio[](...)`, which is what Node answers).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::eio3::JsonpIndex;
    /// assert_eq!(JsonpIndex::from_query_lenient("a1b2").as_str(), "12");
    /// assert_eq!(JsonpIndex::from_query_lenient("-1").as_str(), "1");
    /// assert_eq!(JsonpIndex::from_query_lenient("abc").as_str(), "");
    /// ```
    pub fn from_query_lenient(j: &str) -> Self {
        Self(j.chars().filter(char::is_ascii_digit).collect())
    }

    /// The index if `j` is one or more ASCII digits and nothing else.
    ///
    /// This is the strict rule, for servers that answer a bad index with an
    /// error as python-engineio does (400 "Invalid JSONP index number"; its
    /// `int()` also takes a sign or spaces, which this does not).
    ///
    /// # Errors
    ///
    /// [`JsonpError::InvalidIndex`] for an empty value or any other character.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::eio3::JsonpIndex;
    /// assert_eq!(JsonpIndex::parse("042").unwrap().as_str(), "042");
    /// assert!(JsonpIndex::parse("").is_err());
    /// assert!(JsonpIndex::parse("-1").is_err());
    /// ```
    pub fn parse(j: &str) -> Result<Self, JsonpError> {
        if !j.is_empty() && j.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(j.to_owned()))
        } else {
            Err(JsonpError::InvalidIndex)
        }
    }

    /// The digits.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::eio3::JsonpIndex;
    /// assert_eq!(JsonpIndex::parse("7").unwrap().as_str(), "7");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The script answering a poll: `___eio[<index>]("<payload>");`, the
    /// payload written as Node writes it, `JSON.stringify` with U+2028 and
    /// U+2029 also escaped (JSON allows them raw, JavaScript before ES2019
    /// did not). Serve it with the payload's text `Content-Type`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::eio3::JsonpIndex;
    /// let index = JsonpIndex::parse("0").unwrap();
    /// assert_eq!(
    ///     index.wrap("8:4\"a\\\n\u{2028}"),
    ///     r#"___eio[0]("8:4\"a\\\n\u2028");"#
    /// );
    /// ```
    pub fn wrap(&self, payload: &str) -> String {
        let mut out = String::with_capacity(payload.len() + self.0.len() + 12);
        out.push_str("___eio[");
        out.push_str(&self.0);
        out.push_str("](");
        write_js_string(payload, &mut out);
        out.push_str(");");
        out
    }
}

impl fmt::Display for JsonpIndex {
    /// Formats the digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Decodes a JSONP POST body into the payload it carries.
///
/// The body is a form (`application/x-www-form-urlencoded`) whose `d`
/// field holds the payload. The JSONP client escapes newlines as it writes
/// them into a form field; as Node does, a backslash and `n` become a
/// newline, and two backslashes and `n` become a backslash and `n`. Decode
/// the result with the session's payload decoder.
///
/// # Errors
///
/// [`JsonpError::MissingData`] or [`JsonpError::RepeatedData`] when the
/// form has no `d` field or several.
///
/// # Examples
///
/// ```
/// use engineio_proto::PayloadLimits;
/// use engineio_proto::eio3::{self, decode_jsonp_body};
///
/// let payload = decode_jsonp_body(b"d=4%3A4a%5Cnb")?; // d=4:4a\nb
/// assert_eq!(payload, "4:4a\nb");
/// let packets = eio3::decode_text_payload(payload.as_bytes(), &PayloadLimits::default()).unwrap();
/// assert_eq!(packets, vec![engineio_proto::Packet::message("a\nb")]);
/// # Ok::<(), eio3::JsonpError>(())
/// ```
pub fn decode_jsonp_body(body: &[u8]) -> Result<String, JsonpError> {
    let mut fields = form_urlencoded::parse(body).filter(|(key, _)| key == "d");
    let (_, data) = fields.next().ok_or(JsonpError::MissingData)?;
    if fields.next().is_some() {
        return Err(JsonpError::RepeatedData);
    }
    Ok(collapse_escaped_newlines(&unescape_newlines(&data)))
}

/// Node's first pass: `\n` (backslash, n) becomes a newline, except when
/// a backslash precedes it (`\\n` is left for the second pass).
fn unescape_newlines(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let (mut copied, mut pos) = (0, 0);
    while pos < bytes.len() {
        if bytes[pos] == b'\\' {
            if bytes[pos + 1..].starts_with(b"\\n") {
                pos += 3;
                continue;
            }
            if bytes.get(pos + 1) == Some(&b'n') {
                out.push_str(&input[copied..pos]);
                out.push('\n');
                pos += 2;
                copied = pos;
                continue;
            }
        }
        pos += 1;
    }
    out.push_str(&input[copied..]);
    out
}

/// Node's second pass: `\\n` (two backslashes, n) becomes `\n`.
fn collapse_escaped_newlines(input: &str) -> String {
    input.replace("\\\\n", "\\n")
}

/// Appends `text` as a JavaScript string literal, exactly as Node writes
/// `JSON.stringify(text)` with U+2028 and U+2029 then escaped.
fn write_js_string(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if c < ' ' => {
                let byte = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[byte >> 4]));
                out.push(char::from(HEX[byte & 0xF]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
