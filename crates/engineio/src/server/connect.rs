//! The handshake request as the connect handler sees it, and the
//! rejection it may answer with.

use std::net::SocketAddr;

use engineio_proto::Transport;
use http::{HeaderMap, Method, Uri};

/// The handshake request of a new session, as the connect handler sees it
/// (python-engineio's `environ`, with the real peer address).
///
/// # Examples
///
/// ```
/// use engineio::server::{ConnectRequest, Rejection};
///
/// fn check(request: &ConnectRequest) -> Result<(), Rejection> {
///     match request.headers.get("authorization") {
///         Some(_) => Ok(()),
///         None => Err(Rejection::with_data(serde_json::json!({"reason": "no token"}))),
///     }
/// }
/// # let _ = check;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectRequest {
    /// The HTTP method: GET for a handshake, CONNECT for a session opened
    /// over WebTransport (HTTP/3's extended CONNECT).
    pub method: Method,
    /// The request URI, with its query string (over WebTransport:
    /// `https://` + the authority and path of the CONNECT request).
    pub uri: Uri,
    /// The request headers.
    pub headers: HeaderMap,
    /// The peer's address, when the server knows it (standalone listener,
    /// or an outer service that put a `SocketAddr` in the request extensions,
    /// as axum's `ConnectInfo` does).
    pub peer_addr: Option<SocketAddr>,
    /// The transport of the handshake.
    pub transport: Transport,
}

/// Why a connect handler refused a session: answered with 401 and a JSON
/// body, as python-engineio does (python-socketio reads the body).
///
/// # Examples
///
/// ```
/// use engineio::server::Rejection;
///
/// assert_eq!(Rejection::unauthorized().body(), "\"Unauthorized\"");
/// assert_eq!(Rejection::with_data(serde_json::json!({"code": 42})).body(), r#"{"code":42}"#);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    data: Option<serde_json::Value>,
}

impl Rejection {
    /// A plain rejection: body `"Unauthorized"`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Rejection;
    /// let rejection = Rejection::unauthorized();
    /// # let _ = rejection;
    /// ```
    pub fn unauthorized() -> Self {
        Self { data: None }
    }

    /// A rejection whose body is the given JSON value.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Rejection;
    /// let rejection = Rejection::with_data(serde_json::json!({"message": "banned"}));
    /// # let _ = rejection;
    /// ```
    pub fn with_data(data: serde_json::Value) -> Self {
        Self { data: Some(data) }
    }

    /// The JSON body of the 401 response.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::Rejection;
    /// assert_eq!(Rejection::unauthorized().body(), "\"Unauthorized\"");
    /// ```
    pub fn body(&self) -> String {
        match &self.data {
            Some(value) => value.to_string(),
            None => "\"Unauthorized\"".to_owned(),
        }
    }
}
