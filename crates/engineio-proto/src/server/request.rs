//! Routing of an engine.io HTTP request: handshake, poll, post or upgrade.
//!
//! [`route`] looks only at the method, the query string and whether the
//! request asks for a WebSocket upgrade, and either says what the request is
//! or gives the exact error to answer with (status, code and message of the
//! Node server's `{"code":N,"message":"..."}` bodies).

use std::fmt;

use super::RequestError;
use super::wire::{Protocol, Wire};
use crate::eio3::{BinaryEncoding, JsonpIndex};
use crate::sid::Sid;
use crate::transport::Transport;

/// The error codes of the Node server's JSON error bodies.
///
/// # Examples
///
/// ```
/// use engineio_proto::server::ErrorCode;
///
/// assert_eq!(ErrorCode::UnknownSid as u8, 1);
/// assert_eq!(ErrorCode::UnknownSid.message(), "Session ID unknown");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `0`: the `transport` parameter is missing, unknown or disabled.
    TransportUnknown = 0,
    /// `1`: the `sid` is not a live session.
    UnknownSid = 1,
    /// `2`: a handshake with a method other than GET.
    BadHandshakeMethod = 2,
    /// `3`: a request that makes no sense in the session's state.
    BadRequest = 3,
    /// `4`: the handshake was refused by the `allow_request` hook.
    Forbidden = 4,
    /// `5`: `EIO` is missing or not `4`.
    UnsupportedProtocolVersion = 5,
}

impl ErrorCode {
    /// The Node server's message for the code.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::server::ErrorCode;
    /// assert_eq!(ErrorCode::TransportUnknown.message(), "Transport unknown");
    /// ```
    pub const fn message(self) -> &'static str {
        match self {
            Self::TransportUnknown => "Transport unknown",
            Self::UnknownSid => "Session ID unknown",
            Self::BadHandshakeMethod => "Bad handshake method",
            Self::BadRequest => "Bad request",
            Self::Forbidden => "Forbidden",
            Self::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }

    /// The code that a JSON body's `code` number stands for, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::server::ErrorCode;
    /// assert_eq!(ErrorCode::from_code(1), Some(ErrorCode::UnknownSid));
    /// assert_eq!(ErrorCode::from_code(9), None);
    /// ```
    pub const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::TransportUnknown,
            1 => Self::UnknownSid,
            2 => Self::BadHandshakeMethod,
            3 => Self::BadRequest,
            4 => Self::Forbidden,
            5 => Self::UnsupportedProtocolVersion,
            _ => return None,
        })
    }

    /// The HTTP status that goes with the code (403 for `Forbidden`, else 400).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::server::ErrorCode;
    /// assert_eq!(ErrorCode::Forbidden.status(), 403);
    /// ```
    pub const fn status(self) -> u16 {
        match self {
            Self::Forbidden => 403,
            _ => 400,
        }
    }
}

/// An error answer: an HTTP status and a JSON body `{"code":N,"message":"..."}`.
///
/// The message says what was wrong; it starts with the Node server's text for
/// the code, so clients that match on it keep working.
///
/// # Examples
///
/// ```
/// use engineio_proto::server::{ErrorCode, HttpError};
///
/// let err = HttpError::new(ErrorCode::BadRequest, "no WebSocket upgrade header");
/// assert_eq!(err.status, 400);
/// assert_eq!(err.json_body(), r#"{"code":3,"message":"Bad request: no WebSocket upgrade header"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    /// The HTTP status.
    pub status: u16,
    /// The engine.io error code.
    pub code: ErrorCode,
    /// The message for the body.
    pub message: String,
}

impl HttpError {
    /// An error with the code's status and message, followed by `detail`
    /// when it is not empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::server::{ErrorCode, HttpError};
    /// assert_eq!(HttpError::new(ErrorCode::UnknownSid, "").message, "Session ID unknown");
    /// ```
    pub fn new(code: ErrorCode, detail: &str) -> Self {
        let message = if detail.is_empty() {
            code.message().to_owned()
        } else {
            format!("{}: {detail}", code.message())
        };
        Self {
            status: code.status(),
            code,
            message,
        }
    }

    /// The answer to a handshake when the server holds as many sessions as
    /// it may (its `max_sessions`): 503 Service Unavailable, with code 4 as
    /// for other refused handshakes. The Node server has no such limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::server::HttpError;
    /// assert_eq!(
    ///     HttpError::too_many_sessions().json_body(),
    ///     r#"{"code":4,"message":"Forbidden: too many sessions"}"#
    /// );
    /// assert_eq!(HttpError::too_many_sessions().status, 503);
    /// ```
    pub fn too_many_sessions() -> Self {
        Self {
            status: 503,
            ..Self::new(ErrorCode::Forbidden, "too many sessions")
        }
    }

    /// The answer to a handshake while the server shuts down: 503, code 4.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::server::HttpError;
    /// let error = HttpError::shutting_down();
    /// assert_eq!((error.status, error.message.as_str()), (503, "Forbidden: the server is shutting down"));
    /// ```
    pub fn shutting_down() -> Self {
        Self {
            status: 503,
            ..Self::new(ErrorCode::Forbidden, "the server is shutting down")
        }
    }

    /// The JSON body.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio_proto::server::{ErrorCode, HttpError};
    /// assert_eq!(
    ///     HttpError::new(ErrorCode::TransportUnknown, "").json_body(),
    ///     r#"{"code":0,"message":"Transport unknown"}"#
    /// );
    /// ```
    pub fn json_body(&self) -> String {
        serde_json::json!({ "code": self.code as u8, "message": self.message }).to_string()
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for HttpError {}

/// What an engine.io request is.
///
/// # Examples
///
/// ```
/// use engineio_proto::{Sid, Transport};
/// use engineio_proto::server::{Route, route};
///
/// let all = [Transport::Polling, Transport::WebSocket];
/// assert_eq!(
///     route("GET", "EIO=4&transport=polling&t=Nx1", false, &all),
///     Ok(Route::Handshake(Transport::Polling))
/// );
/// let sid = Sid::generate();
/// assert_eq!(
///     route("POST", &format!("EIO=4&transport=polling&sid={sid}"), false, &all),
///     Ok(Route::Post(sid))
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A CORS preflight (`OPTIONS`).
    Preflight,
    /// A new session over the given transport.
    Handshake(Transport),
    /// A long-polling `GET` of a session.
    Poll(Sid),
    /// A long-polling `POST` of a session.
    Post(Sid),
    /// A WebSocket that upgrades a polling session.
    Upgrade(Sid),
    /// A WebSocket request that names the polling transport: the Node
    /// server completes the WebSocket handshake, then closes it at once
    /// (after checking that the session exists, when a sid is given).
    CloseWebSocket(Option<Sid>),
    /// A request for a session that makes no sense (an unknown method, or a
    /// transport mismatch): answered with `error` if the session exists,
    /// else with "Session ID unknown", as the Node server checks the sid
    /// first.
    Refused {
        /// The session named by the request.
        sid: Sid,
        /// The answer when the session exists.
        error: HttpError,
    },
}

impl Route {
    /// The session the request names, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio_proto::{Sid, Transport};
    /// use engineio_proto::server::Route;
    ///
    /// let sid = Sid::generate();
    /// assert_eq!(Route::Poll(sid).sid(), Some(sid));
    /// assert_eq!(Route::Handshake(Transport::Polling).sid(), None);
    /// ```
    pub fn sid(&self) -> Option<Sid> {
        match self {
            Self::Poll(sid) | Self::Post(sid) | Self::Upgrade(sid) | Self::Refused { sid, .. } => {
                Some(*sid)
            }
            Self::CloseWebSocket(sid) => *sid,
            Self::Preflight | Self::Handshake(_) => None,
        }
    }
}

/// The engine.io query parameters we act on.
#[derive(Debug, Default)]
struct Query<'a> {
    eio: Option<std::borrow::Cow<'a, str>>,
    transport: Option<std::borrow::Cow<'a, str>>,
    sid: Option<std::borrow::Cow<'a, str>>,
    jsonp: Option<std::borrow::Cow<'a, str>>,
    b64: bool,
}

fn parse_query(query: &str) -> Query<'_> {
    let mut parsed = Query::default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "EIO" => parsed.eio = Some(value),
            "transport" => parsed.transport = Some(value),
            "sid" => parsed.sid = Some(value),
            "j" => parsed.jsonp = Some(value),
            "b64" => parsed.b64 = !value.is_empty(),
            _ => {}
        }
    }
    parsed
}

/// What the server accepts besides plain Engine.IO v4, for
/// [`route_request`].
///
/// # Examples
///
/// ```
/// use engineio_proto::Transport;
/// use engineio_proto::server::RouteOptions;
///
/// let options = RouteOptions { allow_eio3: true, ..RouteOptions::new(&[Transport::Polling]) };
/// assert!(!options.jsonp);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RouteOptions<'a> {
    /// The transports the server has enabled.
    pub transports: &'a [Transport],
    /// Serve Engine.IO v3 clients (`EIO=3`, or no `EIO`), as Node's
    /// `allowEIO3`.
    pub allow_eio3: bool,
    /// Serve JSONP polling (a `j` parameter) to v3 and v4 clients.
    pub jsonp: bool,
}

impl<'a> RouteOptions<'a> {
    /// Plain Engine.IO v4 over `transports`: no v3, no JSONP.
    pub fn new(transports: &'a [Transport]) -> Self {
        Self {
            transports,
            allow_eio3: false,
            jsonp: false,
        }
    }
}

/// A routed request: what it is, and how its session speaks (for a
/// handshake, the session's [`Wire`]; for other requests, what the request
/// says, which must match the session's).
///
/// # Examples
///
/// ```
/// use engineio_proto::Transport;
/// use engineio_proto::server::{Protocol, Route, RouteOptions, route_request};
///
/// let options = RouteOptions { allow_eio3: true, ..RouteOptions::new(&[Transport::Polling]) };
/// let routed = route_request("GET", "EIO=3&transport=polling", false, &options).unwrap();
/// assert_eq!(routed.route, Route::Handshake(Transport::Polling));
/// assert_eq!(routed.wire.protocol, Protocol::V3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// What the request is.
    pub route: Route,
    /// The protocol revision, binary encoding and JSONP index it names.
    pub wire: Wire,
}

/// Routes a request to the engine.io path.
///
/// `method` is the HTTP method, `query` the raw query string (without `?`),
/// `websocket_upgrade` whether the request carries `Upgrade: websocket`, and
/// `transports` the transports the server has enabled.
///
/// Checks, in the Node server's order: the transport (code 0), the protocol
/// version (code 5), JSONP (unsupported, code 3), then for a handshake the
/// method (code 2 for anything but GET; OPTIONS is a CORS preflight) and the
/// shape of the request (code 3), and for a session request the sid's syntax
/// (code 1) and the shape of the request. Whether the session exists is for
/// the caller to check.
///
/// # Errors
///
/// The [`HttpError`] to answer with.
///
/// # Examples
///
/// ```
/// use engineio_proto::Transport;
/// use engineio_proto::server::{ErrorCode, route};
///
/// let all = [Transport::Polling, Transport::WebSocket];
/// let err = route("GET", "EIO=3&transport=polling", false, &all).unwrap_err();
/// assert_eq!(err.code, ErrorCode::UnsupportedProtocolVersion);
/// let err = route("GET", "EIO=4&transport=websocket", false, &all).unwrap_err();
/// assert_eq!(err.code, ErrorCode::BadRequest);
/// let err = route("PUT", "EIO=4&transport=polling", false, &all).unwrap_err();
/// assert_eq!(err.code, ErrorCode::BadHandshakeMethod);
/// ```
pub fn route(
    method: &str,
    query: &str,
    websocket_upgrade: bool,
    transports: &[Transport],
) -> Result<Route, HttpError> {
    route_request(
        method,
        query,
        websocket_upgrade,
        &RouteOptions::new(transports),
    )
    .map(|routed| routed.route)
}

/// [`route`], with Engine.IO v3 and JSONP polling when `options` allow
/// them: the route, and the [`Wire`] the request names.
///
/// With `allow_eio3`, `EIO=4` is v4 and anything else (`EIO=3`, no `EIO`)
/// v3, as the Node server reads it. With `jsonp`, a polling request with a
/// `j` parameter is JSONP; its index must be digits (Node keeps the digits
/// of any `j`, which for a `j` without digits writes a script that cannot
/// run; we answer 400 code 3 instead, as python-engineio does).
///
/// # Errors
///
/// The [`HttpError`] to answer with.
///
/// # Examples
///
/// ```
/// use engineio_proto::Transport;
/// use engineio_proto::server::{ErrorCode, RouteOptions, route_request};
///
/// let options = RouteOptions { jsonp: true, ..RouteOptions::new(&[Transport::Polling]) };
/// let routed = route_request("GET", "EIO=4&transport=polling&j=0", false, &options).unwrap();
/// assert_eq!(routed.wire.jsonp.unwrap().as_str(), "0");
/// let refused = route_request("GET", "EIO=4&transport=polling&j=alert(1)", false, &options);
/// assert_eq!(refused.unwrap_err().code, ErrorCode::BadRequest);
/// ```
pub fn route_request(
    method: &str,
    query: &str,
    websocket_upgrade: bool,
    options: &RouteOptions<'_>,
) -> Result<Routed, HttpError> {
    let transports = options.transports;
    let query = parse_query(query);
    let transport = match query.transport.as_deref().map(str::parse::<Transport>) {
        // WebTransport sessions open on their stream, never over HTTP (as
        // the Node server, which answers this with code 0 too).
        Some(Ok(Transport::WebTransport)) => {
            return Err(HttpError::new(
                ErrorCode::TransportUnknown,
                "webtransport is not an HTTP transport: it opens over HTTP/3 (WebTransport)",
            ));
        }
        Some(Ok(transport)) if transports.contains(&transport) => transport,
        Some(Ok(transport)) => {
            return Err(HttpError::new(
                ErrorCode::TransportUnknown,
                &format!("{transport} is disabled on this server"),
            ));
        }
        Some(Err(err)) => {
            return Err(HttpError::new(
                ErrorCode::TransportUnknown,
                &err.to_string(),
            ));
        }
        None => {
            return Err(HttpError::new(
                ErrorCode::TransportUnknown,
                "missing transport parameter",
            ));
        }
    };
    let protocol = match query.eio.as_deref() {
        Some("4") => Protocol::V4,
        _ if options.allow_eio3 => Protocol::V3,
        Some(other) => {
            return Err(HttpError::new(
                ErrorCode::UnsupportedProtocolVersion,
                &format!("EIO={other}, this server speaks EIO=4 only"),
            ));
        }
        None => {
            return Err(HttpError::new(
                ErrorCode::UnsupportedProtocolVersion,
                "missing EIO parameter (this server speaks EIO=4)",
            ));
        }
    };
    let jsonp =
        match query.jsonp.as_deref() {
            None => None,
            Some(_) if !options.jsonp => {
                return Err(HttpError::new(
                    ErrorCode::BadRequest,
                    "JSONP polling (the j parameter) is not enabled on this server",
                ));
            }
            // A WebSocket is never JSONP (Node ignores `j` there too).
            Some(_) if transport == Transport::WebSocket || websocket_upgrade => None,
            Some(index) => Some(JsonpIndex::parse(index).map_err(|err| {
                HttpError::new(ErrorCode::BadRequest, &format!("{err} (j={index})"))
            })?),
        };
    let binary = if query.b64 {
        BinaryEncoding::Base64
    } else {
        BinaryEncoding::Raw
    };
    let wire = Wire {
        protocol,
        binary,
        jsonp,
    };
    let routed = |route| Routed { route, wire };
    if method == "OPTIONS" {
        return Ok(routed(Route::Preflight));
    }
    let Some(sid) = query.sid else {
        return handshake_route(method, transport, websocket_upgrade).map(routed);
    };
    let sid: Sid = sid
        .parse()
        .map_err(|_| HttpError::new(ErrorCode::UnknownSid, ""))?;
    let refused = |detail: &str| Route::Refused {
        sid,
        error: HttpError::new(ErrorCode::BadRequest, detail),
    };
    Ok(routed(match (method, transport, websocket_upgrade) {
        ("GET", Transport::Polling, false) => Route::Poll(sid),
        ("POST", Transport::Polling, false) => Route::Post(sid),
        ("GET", Transport::WebSocket, true) => Route::Upgrade(sid),
        (_, Transport::Polling, true) => Route::CloseWebSocket(Some(sid)),
        ("GET", Transport::WebSocket, false) => {
            refused("transport=websocket without a WebSocket upgrade")
        }
        ("POST", Transport::WebSocket, _) => {
            refused("messages over WebSocket go in frames, not POSTs")
        }
        _ => refused(&format!(
            "{method} is not an engine.io method (use GET or POST)"
        )),
    }))
}

/// Routes a request without a sid: a handshake, if anything.
fn handshake_route(
    method: &str,
    transport: Transport,
    websocket_upgrade: bool,
) -> Result<Route, HttpError> {
    if method != "GET" {
        return Err(HttpError::new(
            ErrorCode::BadHandshakeMethod,
            &format!("a handshake must be a GET, not a {method}"),
        ));
    }
    match (transport, websocket_upgrade) {
        (Transport::Polling, false) => Ok(Route::Handshake(Transport::Polling)),
        (Transport::Polling, true) => Ok(Route::CloseWebSocket(None)),
        (Transport::WebSocket, true) => Ok(Route::Handshake(Transport::WebSocket)),
        (Transport::WebSocket, false) => Err(HttpError::new(
            ErrorCode::BadRequest,
            "transport=websocket without a WebSocket upgrade",
        )),
        // Refused by `route_request` before it gets here.
        (Transport::WebTransport, _) => Err(HttpError::new(ErrorCode::TransportUnknown, "")),
    }
}

/// An error answer as bytes on the wire.
///
/// # Examples
///
/// ```
/// use engineio_proto::server::{ErrorCode, HttpError};
///
/// let err = HttpError::new(ErrorCode::UnknownSid, "");
/// let http = err.response(false);
/// assert_eq!((http.status, http.content_type), (400, Some("application/json")));
/// let ws = err.response(true);
/// assert_eq!((ws.status, ws.content_type, ws.body.as_str()), (400, Some("text/html"), "Session ID unknown"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`, if there is a body.
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: String,
}

impl HttpError {
    /// How the Node server writes this error: a JSON body for HTTP requests;
    /// for a WebSocket upgrade request, a 400 (whatever the code) with the
    /// message as plain text; and an empty 413 for a body over the limit.
    /// A 503 ([`HttpError::too_many_sessions`], which Node does not have)
    /// stays a 503 on WebSocket too, so a client can tell "try later".
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio_proto::server::RequestError;
    ///
    /// let too_large = RequestError::TooLarge { limit: 10 }.http_error().response(false);
    /// assert_eq!((too_large.status, too_large.body.as_str()), (413, ""));
    /// ```
    pub fn response(&self, websocket_upgrade: bool) -> ErrorResponse {
        if self.status == 413 {
            ErrorResponse {
                status: 413,
                content_type: None,
                body: String::new(),
            }
        } else if websocket_upgrade {
            ErrorResponse {
                status: if self.status == 503 { 503 } else { 400 },
                content_type: Some("text/html"),
                body: self.message.clone(),
            }
        } else {
            ErrorResponse {
                status: self.status,
                content_type: Some("application/json"),
                body: self.json_body(),
            }
        }
    }
}

impl RequestError {
    /// The answer to a request the session refuses: "Session ID unknown"
    /// (code 1) for a closed session, 413 for a body over the limit, and
    /// "Bad request" (code 3) with the reason otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use engineio_proto::server::{ErrorCode, RequestError};
    ///
    /// assert_eq!(RequestError::Closed.http_error().code, ErrorCode::UnknownSid);
    /// assert_eq!(RequestError::Overlap("GET").http_error().code, ErrorCode::BadRequest);
    /// assert_eq!(RequestError::TooLarge { limit: 1 }.http_error().status, 413);
    /// ```
    pub fn http_error(&self) -> HttpError {
        match self {
            Self::Closed => HttpError::new(ErrorCode::UnknownSid, ""),
            Self::TooLarge { .. } => HttpError {
                status: 413,
                code: ErrorCode::BadRequest,
                message: format!("Payload too large: {self}"),
            },
            _ => HttpError::new(ErrorCode::BadRequest, &self.to_string()),
        }
    }
}

/// Whether a request asks for binary as base64 text (`b64` with a value):
/// the Node server then writes binary messages on that WebSocket as `b` +
/// base64 text frames, for clients that cannot read binary frames.
///
/// # Examples
///
/// ```
/// use engineio_proto::server::wants_base64;
///
/// assert!(wants_base64("EIO=4&transport=websocket&b64=1"));
/// assert!(!wants_base64("EIO=4&transport=websocket"));
/// ```
pub fn wants_base64(query: &str) -> bool {
    form_urlencoded::parse(query.as_bytes()).any(|(key, value)| key == "b64" && !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Transport; 2] = [Transport::Polling, Transport::WebSocket];

    fn code(method: &str, query: &str, ws: bool) -> (u16, ErrorCode) {
        let err = route(method, query, ws, &ALL).unwrap_err();
        (err.status, err.code)
    }

    #[test]
    fn webtransport_is_not_an_http_transport() {
        let all = [
            Transport::Polling,
            Transport::WebSocket,
            Transport::WebTransport,
        ];
        for (method, ws) in [("GET", false), ("GET", true), ("POST", false)] {
            for query in [
                "EIO=4&transport=webtransport",
                "EIO=4&transport=webtransport&sid=abc",
            ] {
                let err = route(method, query, ws, &all).unwrap_err();
                assert_eq!((err.status, err.code), (400, ErrorCode::TransportUnknown));
            }
        }
    }

    #[test]
    fn handshakes() {
        assert_eq!(
            route("GET", "EIO=4&transport=websocket", true, &ALL),
            Ok(Route::Handshake(Transport::WebSocket))
        );
        assert_eq!(
            route("OPTIONS", "EIO=4&transport=polling", false, &ALL),
            Ok(Route::Preflight)
        );
    }

    #[test]
    fn session_requests() {
        let sid = Sid::generate();
        let q = |t: &str| format!("EIO=4&transport={t}&sid={sid}&t=abc");
        assert_eq!(
            route("GET", &q("polling"), false, &ALL),
            Ok(Route::Poll(sid))
        );
        assert_eq!(
            route("GET", &q("websocket"), true, &ALL),
            Ok(Route::Upgrade(sid))
        );
        assert_eq!(
            route("POST", &q("polling"), false, &ALL),
            Ok(Route::Post(sid))
        );
    }

    #[test]
    fn errors_carry_node_codes() {
        use ErrorCode::*;
        assert_eq!(code("GET", "EIO=4", false), (400, TransportUnknown));
        assert_eq!(
            code("GET", "EIO=4&transport=abc", false),
            (400, TransportUnknown)
        );
        assert_eq!(
            code("GET", "EIO=4&transport=__proto__", false),
            (400, TransportUnknown)
        );
        assert_eq!(
            code("GET", "transport=polling", false),
            (400, UnsupportedProtocolVersion)
        );
        assert_eq!(
            code("GET", "EIO=3&transport=polling", false),
            (400, UnsupportedProtocolVersion)
        );
        assert_eq!(
            code("GET", "EIO=abc&transport=polling", false),
            (400, UnsupportedProtocolVersion)
        );
        assert_eq!(
            code("POST", "EIO=4&transport=polling", false),
            (400, BadHandshakeMethod)
        );
        assert_eq!(
            code("GET", "EIO=4&transport=websocket", false),
            (400, BadRequest)
        );
        assert_eq!(
            code("GET", "EIO=4&transport=polling&sid=no*pe", false),
            (400, UnknownSid)
        );
        assert_eq!(
            code("PUT", "EIO=4&transport=polling", false),
            (400, BadHandshakeMethod)
        );
        assert_eq!(
            code("HEAD", "EIO=4&transport=websocket", true),
            (400, BadHandshakeMethod)
        );
        assert_eq!(
            code("DELETE", "EIO=4&transport=polling&sid=x*", false),
            (400, UnknownSid)
        );
        assert_eq!(
            code("GET", "EIO=4&transport=polling&j=0", false),
            (400, BadRequest)
        );
    }

    #[test]
    fn disabled_transport_is_unknown() {
        let err = route(
            "GET",
            "EIO=4&transport=websocket",
            true,
            &[Transport::Polling],
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::TransportUnknown);
        assert_eq!(
            err.message,
            "Transport unknown: websocket is disabled on this server"
        );
    }

    /// The answer a `Route::Refused` carries: 400, code 3, and its message.
    fn refused(method: &str, query: &str, ws: bool) -> (Sid, HttpError) {
        match route(method, query, ws, &ALL) {
            Ok(Route::Refused { sid, error }) => (sid, error),
            other => panic!("{method} {query}: expected Refused, got {other:?}"),
        }
    }

    #[test]
    fn put_and_delete_with_a_sid_are_refused_as_bad_requests() {
        let sid = Sid::generate();
        for method in ["PUT", "DELETE", "PATCH"] {
            let query = format!("EIO=4&transport=polling&sid={sid}");
            let (refused_sid, error) = refused(method, &query, false);
            assert_eq!(refused_sid, sid);
            assert_eq!((error.status, error.code), (400, ErrorCode::BadRequest));
            assert_eq!(
                error.message,
                format!("Bad request: {method} is not an engine.io method (use GET or POST)")
            );
        }
    }

    #[test]
    fn post_over_websocket_with_a_sid_is_refused() {
        let sid = Sid::generate();
        let query = format!("EIO=4&transport=websocket&sid={sid}");
        for ws in [false, true] {
            let (refused_sid, error) = refused("POST", &query, ws);
            assert_eq!(refused_sid, sid);
            assert_eq!(error.code, ErrorCode::BadRequest);
            assert!(error.message.contains("not POSTs"), "{}", error.message);
        }
    }

    #[test]
    fn get_websocket_without_an_upgrade_with_a_sid_is_refused() {
        let sid = Sid::generate();
        let query = format!("EIO=4&transport=websocket&sid={sid}");
        let (_, error) = refused("GET", &query, false);
        assert_eq!(
            error.message,
            "Bad request: transport=websocket without a WebSocket upgrade"
        );
    }

    #[test]
    fn an_upgrade_request_naming_polling_is_a_websocket_to_close() {
        assert_eq!(
            route("GET", "EIO=4&transport=polling", true, &ALL),
            Ok(Route::CloseWebSocket(None))
        );
        let sid = Sid::generate();
        assert_eq!(
            route(
                "GET",
                &format!("EIO=4&transport=polling&sid={sid}"),
                true,
                &ALL
            ),
            Ok(Route::CloseWebSocket(Some(sid)))
        );
        // Still checked first: the transport, the version and the sid's syntax.
        assert_eq!(
            code("GET", "EIO=3&transport=polling", true),
            (400, ErrorCode::UnsupportedProtocolVersion)
        );
        assert_eq!(
            code("GET", "EIO=4&transport=polling&sid=sh*rt", true),
            (400, ErrorCode::UnknownSid)
        );
    }

    #[test]
    fn handshakes_with_head_put_or_delete_get_code_2() {
        for method in ["HEAD", "PUT", "DELETE", "POST"] {
            for (transport, ws) in [("polling", false), ("websocket", true)] {
                let query = format!("EIO=4&transport={transport}");
                let err = route(method, &query, ws, &ALL).unwrap_err();
                assert_eq!((err.status, err.code), (400, ErrorCode::BadHandshakeMethod));
                assert_eq!(err.code as u8, 2);
                assert_eq!(
                    err.message,
                    format!("Bad handshake method: a handshake must be a GET, not a {method}")
                );
            }
        }
    }

    #[test]
    fn http_error_response_is_json_over_http_and_400_text_html_for_websockets() {
        let forbidden = HttpError::new(ErrorCode::Forbidden, "");
        assert_eq!(
            forbidden.response(false),
            ErrorResponse {
                status: 403,
                content_type: Some("application/json"),
                body: r#"{"code":4,"message":"Forbidden"}"#.to_owned(),
            }
        );
        assert_eq!(
            forbidden.response(true),
            ErrorResponse {
                status: 400,
                content_type: Some("text/html"),
                body: "Forbidden".to_owned(),
            }
        );
        let bad = HttpError::new(ErrorCode::BadRequest, "why");
        assert_eq!(bad.response(true).body, "Bad request: why");
        assert_eq!(bad.response(true).status, 400);
    }

    #[test]
    fn too_large_is_an_empty_413() {
        let err = RequestError::TooLarge { limit: 10 }.http_error();
        assert_eq!(err.status, 413);
        for ws in [false, true] {
            assert_eq!(
                err.response(ws),
                ErrorResponse {
                    status: 413,
                    content_type: None,
                    body: String::new(),
                }
            );
        }
    }

    #[test]
    fn request_errors_map_to_unknown_sid_or_bad_request() {
        let closed = RequestError::Closed.http_error();
        assert_eq!(closed, HttpError::new(ErrorCode::UnknownSid, ""));
        assert_eq!(
            closed.json_body(),
            r#"{"code":1,"message":"Session ID unknown"}"#
        );
        assert_eq!(
            closed.response(true),
            ErrorResponse {
                status: 400,
                content_type: Some("text/html"),
                body: "Session ID unknown".to_owned(),
            }
        );
        for err in [
            RequestError::Upgraded,
            RequestError::Overlap("GET"),
            RequestError::Overlap("POST"),
            RequestError::WebSocketExists,
            RequestError::InvalidContent,
            RequestError::TooManyPackets { limit: 3 },
        ] {
            let http = err.http_error();
            assert_eq!(
                (http.status, http.code),
                (400, ErrorCode::BadRequest),
                "{err:?}"
            );
            assert_eq!(http.message, format!("Bad request: {err}"));
            let response = http.response(false);
            assert_eq!(response.content_type, Some("application/json"));
            assert!(
                response.body.starts_with(r#"{"code":3,"#),
                "{}",
                response.body
            );
        }
    }
}
