//! Differential tests of protocol edges: each edge is one scenario, run over
//! real TCP on 127.0.0.1 against the official Node server (npm `engine.io`
//! 6.6.12, `interop/node/eio-server.js`) and against ours, configured alike.
//!
//! - A scenario (`async fn(&Target) -> Transcript`) performs the edge's
//!   requests and records every answer as a labelled [`Obs`]ervation; it
//!   asserts nothing about the answers itself.
//! - [`edge!`] makes a module per edge with two tests, `node` and `ours`,
//!   each checking the transcript against the expected answers of its target.
//!   The two expectation lists sit side by side; where they differ, a comment
//!   says why. `cargo test --test server_edges node` runs the Node half.
//! - The Node answers were measured (they are the ground truth, recorded in
//!   `docs/EDGES.md`); ours are what our server is meant to answer.
//!
//! Every transcript is printed (see it with `--nocapture`). Every wait is
//! bounded: a step that gets no answer records [`Obs::Silent`] after
//! [`STEP`] instead of hanging. Without `node` and `interop/node_modules`, the
//! Node tests are skipped, or fail under `EIO_INTEROP=require`.

mod support;

use std::time::Duration;

use engineio::Message;
use engineio::server::ServerConfig;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use support::Peer;
use support::server::{TestServer, http, start_with};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout, timeout_at};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// The longest wait for any one answer.
const STEP: Duration = Duration::from_millis(1500);
/// Time for a request to reach the server and be processed (pending polls,
/// aborted connections).
const REACH: Duration = Duration::from_millis(50);
/// How long a WebSocket must stay open after its 101 to count as "not closed at once".
const OPEN_WAIT: Duration = Duration::from_millis(300);

// ===== targets =====

/// The server under test, by its base URL `http://127.0.0.1:<port>`.
#[derive(Debug, Clone)]
enum Target {
    Node(String),
    Ours(String),
}

impl Target {
    fn base(&self) -> &str {
        match self {
            Self::Node(url) | Self::Ours(url) => url,
        }
    }

    /// `127.0.0.1:<port>`.
    fn addr(&self) -> &str {
        self.base().trim_start_matches("http://")
    }

    /// The engine.io URL with this query.
    fn url(&self, query: &str) -> String {
        format!("{}/engine.io/?{query}", self.base())
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Node,
    Ours,
}

/// The settings both servers get: heartbeat and `maxHttpBufferSize`.
#[derive(Debug, Clone, Copy)]
struct Setup {
    ping_interval_ms: u64,
    ping_timeout_ms: u64,
    max_payload: usize,
}

/// A heartbeat too slow to fire during a test; the default buffer size.
fn slow() -> Setup {
    Setup {
        ping_interval_ms: 10_000,
        ping_timeout_ms: 5_000,
        max_payload: 1_000_000,
    }
}

/// The fast heartbeat of the heartbeat edges.
fn heartbeat(ping_interval_ms: u64, ping_timeout_ms: u64) -> Setup {
    Setup {
        ping_interval_ms,
        ping_timeout_ms,
        ..slow()
    }
}

/// `maxHttpBufferSize` of 1000 bytes.
fn small_buffer() -> Setup {
    Setup {
        max_payload: 1000,
        ..slow()
    }
}

/// Keeps a server running for the length of a test.
#[allow(dead_code)] // held only for its Drop
enum Running {
    Node(Peer),
    Ours(TestServer),
}

/// Starts the server of `kind`, or returns `None` when the Node peer is not
/// installed (and `EIO_INTEROP` does not require it).
async fn launch(kind: Kind, setup: Setup) -> Option<(Target, Running)> {
    match kind {
        Kind::Node => {
            let (interval, timeout, payload) = (
                setup.ping_interval_ms.to_string(),
                setup.ping_timeout_ms.to_string(),
                setup.max_payload.to_string(),
            );
            let peer = Peer::node(
                "node/eio-server.js",
                &[
                    "--ping-interval",
                    &interval,
                    "--ping-timeout",
                    &timeout,
                    "--max-payload",
                    &payload,
                ],
            )?;
            Some((Target::Node(peer.http_url()), Running::Node(peer)))
        }
        Kind::Ours => {
            let config = ServerConfig::default()
                .ping_interval(Duration::from_millis(setup.ping_interval_ms))
                .ping_timeout(Duration::from_millis(setup.ping_timeout_ms))
                .max_http_buffer_size(setup.max_payload);
            // An echo server like the Node script, with its `cmd:close` command.
            let server = start_with(config, |builder| {
                builder.on_message(|socket, message| {
                    if matches!(&message, Message::Text(text) if text == "cmd:close") {
                        socket.disconnect();
                    } else {
                        let _ = socket.send(message);
                    }
                })
            })
            .await;
            let base = format!("http://{}", server.addr());
            Some((Target::Ours(base), Running::Ours(server)))
        }
    }
}

// ===== observations and expectations =====

/// One answer the client saw.
#[derive(Debug, Clone, PartialEq)]
enum Obs {
    /// An HTTP response: status and body.
    Http(u16, String),
    /// The connection ended (closed or reset) without a response.
    NoResponse,
    /// Nothing (complete) arrived within the wait.
    Silent,
    /// A WebSocket handshake got 101 and the connection was still open after [`OPEN_WAIT`].
    WsOpen,
    /// A WebSocket close frame from the server, with its code if any.
    WsClose(Option<u16>),
    /// The WebSocket connection ended without a close frame.
    WsEnded,
    /// A WebSocket text frame.
    WsText(String),
    /// A WebSocket binary frame.
    WsBinary(Vec<u8>),
    /// Bytes after a 101 that are not a WebSocket frame (lossy UTF-8).
    Garbage(String),
}

/// What a scenario saw, step by step.
#[derive(Debug, Default)]
struct Transcript(Vec<(&'static str, Obs)>);

impl Transcript {
    fn note(&mut self, step: &'static str, obs: Obs) {
        self.0.push((step, obs));
    }
}

/// An expected answer.
#[derive(Debug, Clone)]
enum Want {
    /// Exactly this observation.
    Is(Obs),
    /// An HTTP response with this status and a `{"code":N,"message":...}`
    /// body whose message starts with the prefix.
    Json(u16, i64, &'static str),
    /// An HTTP response with this status, whatever its body.
    Status(u16),
    /// An HTTP response with this status and a body starting with this.
    BodyStarts(u16, &'static str),
    /// A WebSocket closed by the server (close frame with any code, or ended).
    WsClosed,
    /// Any of these.
    OneOf(Vec<Want>),
    /// Not specified for this target (recorded only).
    Any,
}

impl Want {
    fn matches(&self, obs: &Obs) -> bool {
        match (self, obs) {
            (Self::Is(want), obs) => want == obs,
            (Self::Json(status, code, prefix), Obs::Http(got, body)) => {
                let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
                got == status
                    && json["code"].as_i64() == Some(*code)
                    && json["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with(prefix))
            }
            (Self::Status(status), Obs::Http(got, _)) => got == status,
            (Self::BodyStarts(status, prefix), Obs::Http(got, body)) => {
                got == status && body.starts_with(prefix)
            }
            (Self::WsClosed, Obs::WsClose(_) | Obs::WsEnded) | (Self::Any, _) => true,
            (Self::OneOf(wants), obs) => wants.iter().any(|w| w.matches(obs)),
            _ => false,
        }
    }
}

fn http_is(status: u16, body: &str) -> Want {
    Want::Is(Obs::Http(status, body.to_owned()))
}
fn empty(status: u16) -> Want {
    http_is(status, "")
}
fn json(status: u16, code: i64) -> Want {
    Want::Json(status, code, "")
}
fn json_msg(status: u16, code: i64, message_prefix: &'static str) -> Want {
    Want::Json(status, code, message_prefix)
}
fn status(status: u16) -> Want {
    Want::Status(status)
}
fn ok() -> Want {
    http_is(200, "ok")
}
fn poll(body: &str) -> Want {
    http_is(200, body)
}
fn unknown_sid() -> Want {
    json_msg(400, 1, "Session ID unknown")
}
fn ws_text(text: &str) -> Want {
    Want::Is(Obs::WsText(text.to_owned()))
}
fn ws_close(code: u16) -> Want {
    Want::Is(Obs::WsClose(Some(code)))
}
fn ws_closed() -> Want {
    Want::WsClosed
}
fn ws_open() -> Want {
    Want::Is(Obs::WsOpen)
}
fn is(obs: Obs) -> Want {
    Want::Is(obs)
}

/// Starts the server of `kind`, runs the scenario against it, prints the
/// transcript and checks it against `want`, step by step.
async fn run<F, Fut>(kind: Kind, setup: Setup, scenario: F, want: Vec<(&'static str, Want)>)
where
    F: FnOnce(Target) -> Fut,
    Fut: Future<Output = Transcript>,
{
    let Some((target, _running)) = launch(kind, setup).await else {
        return;
    };
    let transcript = scenario(target).await;
    eprintln!("{kind:?} transcript:");
    for (step, obs) in &transcript.0 {
        eprintln!("  {step}: {obs:?}");
    }
    let got: Vec<&str> = transcript.0.iter().map(|(step, _)| *step).collect();
    let expected: Vec<&str> = want.iter().map(|(step, _)| *step).collect();
    assert_eq!(got, expected, "{kind:?}: the scenario's steps");
    let mismatches: Vec<String> = transcript
        .0
        .iter()
        .zip(&want)
        .filter(|((_, obs), (_, want))| !want.matches(obs))
        .map(|((step, obs), (_, want))| format!("  {step}: got {obs:?}, want {want:?}"))
        .collect();
    assert!(
        mismatches.is_empty(),
        "{kind:?} answered differently:\n{}",
        mismatches.join("\n")
    );
}

/// One edge: a module with a `node` and an `ours` test running `$scenario`
/// with `$setup`; `both:` when the expected answers are the same.
macro_rules! edge {
    ($(#[$doc:meta])* $name:ident($setup:expr) = $scenario:ident;
     node: [$($node:tt)*], ours: [$($ours:tt)*] $(,)?) => {
        $(#[$doc])*
        mod $name {
            use super::*;

            #[tokio::test]
            async fn node() {
                run(Kind::Node, $setup, |t| async move { $scenario(&t).await }, vec![$($node)*]).await;
            }

            #[tokio::test]
            async fn ours() {
                run(Kind::Ours, $setup, |t| async move { $scenario(&t).await }, vec![$($ours)*]).await;
            }
        }
    };
    ($(#[$doc:meta])* $name:ident($setup:expr) = $scenario:ident; both: [$($both:tt)*] $(,)?) => {
        edge!($(#[$doc])* $name($setup) = $scenario; node: [$($both)*], ours: [$($both)*]);
    };
}

// ===== actions: HTTP through reqwest =====

/// Any request through reqwest (a fresh connection each time).
async fn request(
    t: &Target,
    method: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Obs {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut builder = http().request(method, t.url(query));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if let Some(body) = body {
        builder = builder.body(body.to_owned());
    }
    let answer = async {
        let response = builder.send().await.ok()?;
        let status = response.status().as_u16();
        Some(Obs::Http(status, response.text().await.ok()?))
    };
    match timeout(STEP, answer).await {
        Ok(Some(obs)) => obs,
        Ok(None) => Obs::NoResponse,
        Err(_) => Obs::Silent,
    }
}

fn session_query(sid: &str) -> String {
    format!("EIO=4&transport=polling&sid={sid}")
}

async fn get(t: &Target, sid: &str) -> Obs {
    request(t, "GET", &session_query(sid), &[], None).await
}

async fn post(t: &Target, sid: &str, body: &str) -> Obs {
    let text = [("content-type", "text/plain;charset=UTF-8")];
    request(t, "POST", &session_query(sid), &text, Some(body)).await
}

/// Opens a polling session; returns its sid.
async fn handshake(t: &Target) -> String {
    let Obs::Http(200, body) = request(t, "GET", "EIO=4&transport=polling", &[], None).await else {
        panic!("the polling handshake failed");
    };
    let open = body.split('\u{1e}').next().unwrap();
    let json: Value = serde_json::from_str(open.strip_prefix('0').unwrap()).unwrap();
    json["sid"].as_str().unwrap().to_owned()
}

/// Starts a long poll in the background and gives it [`REACH`] to arrive.
async fn pending_get(t: &Target, sid: &str) -> JoinHandle<Obs> {
    let (t, sid) = (t.clone(), sid.to_owned());
    let poll = tokio::spawn(async move { get(&t, &sid).await });
    sleep(REACH).await;
    poll
}

/// The answer of a background request.
async fn answer_of(task: JoinHandle<Obs>) -> Obs {
    task.await.unwrap()
}

/// A round trip on a polling session: POST `4<text>`, then a GET expected to
/// carry the echo.
async fn round_trip(t: &Target, sid: &str, text: &str, transcript: &mut Transcript) {
    transcript.note("POST after", post(t, sid, &format!("4{text}")).await);
    transcript.note("GET after", get(t, sid).await);
}

// ===== actions: raw TCP =====

/// Opens a connection and writes `head` (CRLF line ends added, the blank
/// line too) then `body`, as is: for requests half-sent or aborted.
async fn raw_send(t: &Target, head: &[&str], body: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(t.addr()).await.unwrap();
    let mut bytes = String::new();
    for line in head {
        bytes.push_str(line);
        bytes.push_str("\r\n");
    }
    bytes.push_str(&format!("Host: {}\r\n\r\n", t.addr()));
    stream.write_all(bytes.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    stream
}

/// A raw POST whose Content-Length promises `declared` bytes of which only
/// `body` is sent.
async fn raw_partial_post(t: &Target, sid: &str, declared: usize, body: &str) -> TcpStream {
    let line = format!("POST /engine.io/?{} HTTP/1.1", session_query(sid));
    let length = format!("Content-Length: {declared}");
    let head = [
        line.as_str(),
        "Content-Type: text/plain;charset=UTF-8",
        length.as_str(),
    ];
    raw_send(t, &head, body.as_bytes()).await
}

enum ReadResult {
    Data,
    Eof,
    Timeout,
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>, deadline: Instant) -> ReadResult {
    let mut chunk = [0; 4096];
    match timeout_at(deadline, stream.read(&mut chunk)).await {
        Err(_) => ReadResult::Timeout,
        Ok(Ok(0) | Err(_)) => ReadResult::Eof,
        Ok(Ok(n)) => {
            buf.extend_from_slice(&chunk[..n]);
            ReadResult::Data
        }
    }
}

/// A response head read from a raw connection, and the bytes after it.
struct RawHead {
    status: u16,
    headers: Vec<(String, String)>,
    rest: Vec<u8>,
}

impl RawHead {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a response head, or says why there is none (`NoResponse`, `Silent`).
async fn read_head(stream: &mut TcpStream, deadline: Instant) -> Result<RawHead, Obs> {
    let mut buf = Vec::new();
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let mut lines = head.split("\r\n");
            let status = lines
                .next()
                .and_then(|l| l.split(' ').nth(1))
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let headers = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .collect();
            let rest = buf[end + 4..].to_vec();
            return Ok(RawHead {
                status,
                headers,
                rest,
            });
        }
        match read_more(stream, &mut buf, deadline).await {
            ReadResult::Data => {}
            ReadResult::Eof => return Err(Obs::NoResponse),
            ReadResult::Timeout => return Err(Obs::Silent),
        }
    }
}

/// Reads one whole HTTP response from a raw connection.
async fn raw_answer(stream: &mut TcpStream) -> Obs {
    let deadline = Instant::now() + STEP;
    match read_head(stream, deadline).await {
        Ok(head) => read_body(stream, head, deadline).await,
        Err(obs) => obs,
    }
}

/// Reads the body after `head` (Content-Length, chunked, or up to the end
/// of the connection) and makes the whole response an [`Obs::Http`].
async fn read_body(stream: &mut TcpStream, head: RawHead, deadline: Instant) -> Obs {
    let length = head.header("content-length").and_then(|v| v.parse().ok());
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let mut body = head.rest;
    loop {
        let complete = match length {
            Some(length) => body.len() >= length,
            None if chunked => dechunk(&body).is_some(),
            None => false,
        };
        if complete {
            break;
        }
        match read_more(stream, &mut body, deadline).await {
            ReadResult::Data => {}
            ReadResult::Eof if length.is_none() && !chunked => break,
            ReadResult::Eof => return Obs::NoResponse,
            ReadResult::Timeout => return Obs::Silent,
        }
    }
    if chunked {
        body = dechunk(&body).unwrap();
    }
    Obs::Http(head.status, String::from_utf8_lossy(&body).into_owned())
}

/// The body of a complete chunked encoding, or `None` while incomplete.
fn dechunk(mut bytes: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = bytes.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&bytes[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        bytes = &bytes[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        if bytes.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&bytes[..size]);
        bytes = &bytes[size + 2..];
    }
}

/// A WebSocket handshake over raw TCP, classified: an HTTP refusal
/// (`Http`), or after a 101 what came first: a close frame (`WsClose`), the
/// end (`WsEnded`), other bytes (`Garbage`), or nothing for [`OPEN_WAIT`]
/// (`WsOpen`). The connection is dropped afterwards.
async fn ws_attempt(t: &Target, query: &str) -> Obs {
    let line = format!("GET /engine.io/?{query} HTTP/1.1");
    let head = [
        line.as_str(),
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    ];
    let mut stream = raw_send(t, &head, b"").await;
    let deadline = Instant::now() + STEP;
    let head = match read_head(&mut stream, deadline).await {
        Ok(head) if head.status == 101 => head,
        Ok(refusal) => return read_body(&mut stream, refusal, deadline).await,
        Err(obs) => return obs,
    };
    let mut bytes = head.rest;
    let deadline = Instant::now() + OPEN_WAIT;
    loop {
        match bytes.as_slice() {
            [0x88, len, rest @ ..] if usize::from(len & 0x7f) <= rest.len() => {
                let code = (len & 0x7f >= 2).then(|| u16::from_be_bytes([rest[0], rest[1]]));
                return Obs::WsClose(code);
            }
            [first, ..] if *first != 0x88 => {
                // Not a close frame: wait for the end, then report the bytes.
                while let ReadResult::Data = read_more(&mut stream, &mut bytes, deadline).await {}
                return Obs::Garbage(String::from_utf8_lossy(&bytes).into_owned());
            }
            _ => {}
        }
        match read_more(&mut stream, &mut bytes, deadline).await {
            ReadResult::Data => {}
            ReadResult::Eof if bytes.is_empty() => return Obs::WsEnded,
            ReadResult::Eof => return Obs::Garbage(String::from_utf8_lossy(&bytes).into_owned()),
            ReadResult::Timeout => return Obs::WsOpen,
        }
    }
}

// ===== actions: WebSocket through tungstenite =====

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket that must be accepted.
async fn ws_connect(t: &Target, query: &str) -> Ws {
    let url = format!("ws://{}/engine.io/?{query}", t.addr());
    timeout(STEP, connect_async(url))
        .await
        .expect("the WebSocket handshake hung")
        .expect("the WebSocket handshake failed")
        .0
}

async fn ws_send(ws: &mut Ws, frame: Frame) {
    // A send on a socket the server closed may fail; the next read tells.
    let _ = timeout(STEP, ws.send(frame)).await;
}

async fn ws_send_text(ws: &mut Ws, text: &str) {
    ws_send(ws, Frame::text(text)).await;
}

/// The next data or close frame (WebSocket pings are answered by tungstenite).
async fn ws_next(ws: &mut Ws) -> Obs {
    let deadline = Instant::now() + STEP;
    loop {
        let frame = match timeout_at(deadline, ws.next()).await {
            Err(_) => return Obs::Silent,
            Ok(None | Some(Err(_))) => return Obs::WsEnded,
            Ok(Some(Ok(frame))) => frame,
        };
        match frame {
            Frame::Text(text) => return Obs::WsText(text.as_str().to_owned()),
            Frame::Binary(bytes) => return Obs::WsBinary(bytes.to_vec()),
            Frame::Close(frame) => return Obs::WsClose(frame.map(|f| u16::from(f.code))),
            Frame::Ping(_) | Frame::Pong(_) | Frame::Frame(_) => {}
        }
    }
}

/// Reads to the end of a WebSocket the server closed, so that the server
/// has seen the whole closing handshake.
async fn ws_finish(ws: &mut Ws) {
    let _ = timeout(STEP, async { while ws.next().await.is_some() {} }).await;
}

/// Upgrades a polling session: `2probe`, `3probe`, `5`, then a message round
/// trip over the WebSocket so that the server has completed the upgrade.
async fn upgrade(t: &Target, sid: &str) -> Ws {
    let mut ws = ws_connect(t, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    ws_send_text(&mut ws, "2probe").await;
    assert_eq!(ws_next(&mut ws).await, Obs::WsText("3probe".into()));
    ws_send_text(&mut ws, "5").await;
    ws_send_text(&mut ws, "4upgraded").await;
    assert_eq!(ws_next(&mut ws).await, Obs::WsText("4upgraded".into()));
    ws
}

// ===== edges =====

async fn bad_handshake_method(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    for method in ["PUT", "DELETE", "PATCH", "POST", "OPTIONS", "HEAD"] {
        let obs = request(t, method, "EIO=4&transport=polling", &[], Some("")).await;
        seen.note(method, obs);
    }
    seen
}

edge! {
    /// 1. A handshake (no sid) with another method than GET.
    e01_bad_handshake_method(slow()) = bad_handshake_method;
    node: [
        ("PUT", json_msg(400, 2, "Bad handshake method")),
        ("DELETE", json_msg(400, 2, "Bad handshake method")),
        ("PATCH", json_msg(400, 2, "Bad handshake method")),
        ("POST", json_msg(400, 2, "Bad handshake method")),
        ("OPTIONS", json_msg(400, 2, "Bad handshake method")),
        // A HEAD answer has no body.
        ("HEAD", empty(400)),
    ],
    // Ours answers every OPTIONS as a CORS preflight (204), as python-engineio
    // does (200); the Node server does so only with its `cors` option set.
    ours: [
        ("PUT", json_msg(400, 2, "Bad handshake method")),
        ("DELETE", json_msg(400, 2, "Bad handshake method")),
        ("PATCH", json_msg(400, 2, "Bad handshake method")),
        ("POST", json_msg(400, 2, "Bad handshake method")),
        ("OPTIONS", empty(204)),
        ("HEAD", empty(400)),
    ],
}

async fn other_method_on_live_session(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] {
        seen.note(
            method,
            request(t, method, &session_query(&sid), &[], Some("")).await,
        );
    }
    round_trip(t, &sid, "hi", &mut seen).await;
    seen
}

edge! {
    /// 2. Another method than GET/POST with the sid of a live polling session.
    e02_other_method_on_live_session(slow()) = other_method_on_live_session;
    // Node's polling transport answers a bare 500 and keeps the session.
    node: [
        ("PUT", empty(500)),
        ("DELETE", empty(500)),
        ("PATCH", empty(500)),
        ("OPTIONS", empty(500)),
        ("HEAD", empty(500)),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
    ],
    // Ours: a deliberate difference, the client's error said in JSON (400 code 3).
    ours: [
        ("PUT", json(400, 3)),
        ("DELETE", json(400, 3)),
        ("PATCH", json(400, 3)),
        // Every OPTIONS is a CORS preflight for us (see e01).
        ("OPTIONS", empty(204)),
        ("HEAD", empty(400)),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
    ],
}

async fn unknown_sid_poll(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = "AAAAAAAAAAAAAAAAAAAA"; // well-formed, 20 characters, never issued
    seen.note("GET", get(t, sid).await);
    seen.note("POST", post(t, sid, "4hi").await);
    seen
}

edge! {
    /// 3. GET and POST with a well-formed sid no session has.
    e03_unknown_sid(slow()) = unknown_sid_poll;
    both: [("GET", unknown_sid()), ("POST", unknown_sid())],
}

async fn ping_timeout(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    seen.note("GET (the ping)", get(t, &sid).await);
    // No pong: the poll pending when the timeout fires gets the close packet.
    let pending = pending_get(t, &sid).await;
    seen.note("pending GET", answer_of(pending).await);
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 4. The client never answers the ping (interval 300 ms, timeout 200 ms).
    e04_ping_timeout(heartbeat(300, 200)) = ping_timeout;
    both: [
        ("GET (the ping)", poll("2")),
        ("pending GET", poll("1")),
        ("GET after", unknown_sid()),
    ],
}

async fn undecodable_post(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    seen.note("POST abc", post(t, &sid, "abc").await);
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 5. A POST whose body is no packet ("abc"): answered, and the session closed.
    e05_undecodable_post(slow()) = undecodable_post;
    both: [("POST abc", ok()), ("GET after", unknown_sid())],
}

async fn close_while_polling(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let pending = pending_get(t, &sid).await;
    seen.note("POST 1", post(t, &sid, "1").await);
    seen.note("pending GET", answer_of(pending).await);
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 6. The client POSTs a close packet while a GET is pending.
    e06_close_while_polling(slow()) = close_while_polling;
    both: [
        ("POST 1", ok()),
        ("pending GET", poll("6")),
        ("GET after", unknown_sid()),
    ],
}

async fn overlapping_gets(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let first = pending_get(t, &sid).await;
    seen.note("second GET", get(t, &sid).await);
    seen.note("first GET", answer_of(first).await);
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 7. Two concurrent GETs: the session closes.
    e07_overlapping_gets(slow()) = overlapping_gets;
    node: [
        ("second GET", empty(400)),
        ("first GET", poll("1")),
        ("GET after", unknown_sid()),
    ],
    // Ours says why in JSON (code 3).
    ours: [
        ("second GET", json(400, 3)),
        ("first GET", poll("1")),
        ("GET after", unknown_sid()),
    ],
}

async fn overlapping_posts(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let mut first = raw_partial_post(t, &sid, 100, "4aaaaaaaaa").await;
    sleep(REACH).await;
    seen.note("second POST", post(t, &sid, "4hi").await);
    seen.note("first POST", raw_answer(&mut first).await);
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 8. A second POST while the first is still sending its body.
    e08_overlapping_posts(slow()) = overlapping_posts;
    node: [
        ("second POST", empty(400)),
        // Closing the session destroys the unfinished request's connection.
        ("first POST", is(Obs::NoResponse)),
        ("GET after", unknown_sid()),
    ],
    ours: [
        ("second POST", status(400)),
        // Not specified: any end of the unfinished request (recorded only).
        ("first POST", Want::Any),
        ("GET after", unknown_sid()),
    ],
}

async fn oversized_post(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let big = format!("4{}", "a".repeat(1999));
    seen.note("POST 2000 bytes", post(t, &sid, &big).await);
    round_trip(t, &sid, "hi", &mut seen).await;
    seen
}

edge! {
    /// 9. A POST body larger than maxHttpBufferSize (1000): 413, the session stays.
    e09_oversized_post(small_buffer()) = oversized_post;
    both: [
        ("POST 2000 bytes", empty(413)),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
    ],
}

async fn binary_content_type(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let binary = [("content-type", "application/octet-stream")];
    let obs = request(t, "POST", &session_query(&sid), &binary, Some("4hi")).await;
    seen.note("POST octet-stream", obs);
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 10. A POST with Content-Type: application/octet-stream (v4 payloads are text).
    e10_octet_stream_post(slow()) = binary_content_type;
    node: [("POST octet-stream", empty(400)), ("GET after", unknown_sid())],
    // Ours may say why in a body.
    ours: [("POST octet-stream", status(400)), ("GET after", unknown_sid())],
}

async fn polling_after_upgrade(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let mut ws = upgrade(t, &sid).await;
    seen.note("GET", get(t, &sid).await);
    seen.note("POST", post(t, &sid, "4hi").await);
    ws_send_text(&mut ws, "4still").await;
    seen.note("WebSocket echo", ws_next(&mut ws).await);
    seen
}

edge! {
    /// 11. Polling requests with the sid of a session upgraded to WebSocket.
    e11_polling_after_upgrade(slow()) = polling_after_upgrade;
    both: [
        ("GET", json(400, 3)),
        ("POST", json(400, 3)),
        ("WebSocket echo", ws_text("4still")),
    ],
}

async fn second_ws_after_upgrade(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let mut first = upgrade(t, &sid).await;
    let query = format!("EIO=4&transport=websocket&sid={sid}");
    seen.note("second WebSocket", ws_attempt(t, &query).await);
    ws_send_text(&mut first, "4hi").await;
    seen.note("first WebSocket echo", ws_next(&mut first).await);
    seen
}

edge! {
    /// 12. A second WebSocket with the sid of an upgraded session.
    e12_second_ws_after_upgrade(slow()) = second_ws_after_upgrade;
    node: [
        // ws's close() without a code: a close frame with no status.
        ("second WebSocket", is(Obs::WsClose(None))),
        ("first WebSocket echo", ws_text("4hi")),
    ],
    ours: [
        ("second WebSocket", ws_closed()),
        ("first WebSocket echo", ws_text("4hi")),
    ],
}

async fn second_ws_while_probing(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let query = format!("EIO=4&transport=websocket&sid={sid}");
    let mut first = ws_connect(t, &query).await;
    ws_send_text(&mut first, "2probe").await;
    seen.note("probe answer", ws_next(&mut first).await);
    seen.note("second WebSocket", ws_attempt(t, &query).await);
    ws_send_text(&mut first, "5").await;
    ws_send_text(&mut first, "4hi").await;
    seen.note("first WebSocket echo", ws_next(&mut first).await);
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 13. A second WebSocket while the first is probing (after 3probe, before 5).
    e13_second_ws_while_probing(slow()) = second_ws_while_probing;
    node: [
        ("probe answer", ws_text("3probe")),
        ("second WebSocket", is(Obs::WsClose(None))),
        ("first WebSocket echo", ws_text("4hi")),
        ("GET after", json(400, 3)),
    ],
    ours: [
        ("probe answer", ws_text("3probe")),
        ("second WebSocket", ws_closed()),
        ("first WebSocket echo", ws_text("4hi")),
        ("GET after", json(400, 3)),
    ],
}

async fn oversized_ws_message(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let mut ws = upgrade(t, &sid).await;
    ws_send_text(&mut ws, &format!("4{}", "a".repeat(1999))).await;
    seen.note("WebSocket", ws_next(&mut ws).await);
    ws_finish(&mut ws).await;
    sleep(REACH).await;
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 14. A WebSocket message larger than maxHttpBufferSize (1000).
    e14_oversized_ws_message(small_buffer()) = oversized_ws_message;
    both: [("WebSocket", ws_close(1009)), ("GET after", unknown_sid())],
}

async fn ws_unknown_sid(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let query = "EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA";
    seen.note("WebSocket", ws_attempt(t, query).await);
    seen
}

edge! {
    /// 15. A WebSocket upgrade with an unknown sid: a text 400.
    e15_ws_unknown_sid(slow()) = ws_unknown_sid;
    both: [("WebSocket", http_is(400, "Session ID unknown"))],
}

async fn wrong_probe(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let mut ws = ws_connect(t, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    ws_send_text(&mut ws, "2foo").await;
    seen.note("WebSocket", ws_next(&mut ws).await);
    ws_finish(&mut ws).await;
    round_trip(t, &sid, "hi", &mut seen).await;
    seen
}

edge! {
    /// 16. The upgrading WebSocket sends `2foo` instead of `2probe`.
    e16_wrong_probe(slow()) = wrong_probe;
    node: [
        ("WebSocket", is(Obs::WsClose(None))),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
    ],
    ours: [
        ("WebSocket", ws_closed()),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
    ],
}

async fn data_before_probe(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    for (step, frame) in [
        ("binary first", Frame::binary(vec![1, 2, 3])),
        ("4hello first", Frame::text("4hello")),
    ] {
        let sid = handshake(t).await;
        let mut ws = ws_connect(t, &format!("EIO=4&transport=websocket&sid={sid}")).await;
        ws_send(&mut ws, frame).await;
        seen.note(step, ws_next(&mut ws).await);
        ws_finish(&mut ws).await;
        // The message on the aborted WebSocket is dropped: only "hi" comes back.
        round_trip(t, &sid, "hi", &mut seen).await;
    }
    seen
}

edge! {
    /// 17. A binary frame, or a `4hello` text, on the upgrading WebSocket before `2probe`.
    e17_data_before_probe(slow()) = data_before_probe;
    node: [
        ("binary first", is(Obs::WsClose(None))),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
        ("4hello first", is(Obs::WsClose(None))),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
    ],
    ours: [
        ("binary first", ws_closed()),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
        ("4hello first", ws_closed()),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
    ],
}

async fn websocket_without_upgrade(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let obs = request(t, "GET", "EIO=4&transport=websocket", &[], None).await;
    seen.note("GET transport=websocket", obs);
    seen
}

edge! {
    /// 18. A handshake GET with transport=websocket but no Upgrade headers.
    e18_websocket_without_upgrade(slow()) = websocket_without_upgrade;
    both: [("GET transport=websocket", json(400, 3))],
}

async fn upgrade_without_probe(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let pending = pending_get(t, &sid).await;
    let mut ws = ws_connect(t, &format!("EIO=4&transport=websocket&sid={sid}")).await;
    ws_send_text(&mut ws, "5").await;
    ws_send_text(&mut ws, "4hi").await;
    seen.note("WebSocket echo", ws_next(&mut ws).await);
    seen.note("pending GET", answer_of(pending).await);
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 19. `5` on the upgrading WebSocket without `2probe` first (a GET pending).
    e19_upgrade_without_probe(slow()) = upgrade_without_probe;
    node: [
        ("WebSocket echo", ws_text("4hi")),
        // Node closes the discarded polling transport: its pending GET gets a close packet.
        ("pending GET", poll("1")),
        ("GET after", json(400, 3)),
    ],
    ours: [
        ("WebSocket echo", ws_text("4hi")),
        // The client has switched already: a noop or a close both end the poll.
        ("pending GET", Want::OneOf(vec![poll("1"), poll("6")])),
        ("GET after", json(400, 3)),
    ],
}

async fn aborted_poll(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let line = format!("GET /engine.io/?{} HTTP/1.1", session_query(&sid));
    let poll = raw_send(t, &[line.as_str()], b"").await;
    sleep(REACH).await;
    drop(poll);
    sleep(REACH).await;
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 20. The client closes the connection of its pending long poll.
    e20_aborted_poll(slow()) = aborted_poll;
    both: [("GET after", unknown_sid())],
}

async fn aborted_post(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let partial = raw_partial_post(t, &sid, 100, "4aaaaaaaaa").await;
    sleep(REACH).await;
    drop(partial);
    sleep(REACH).await;
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 21. A POST aborted mid-body (Content-Length 100, 10 bytes sent, closed).
    e21_aborted_post(slow()) = aborted_post;
    both: [("GET after", unknown_sid())],
}

async fn client_ping(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    seen.note("POST 2", post(t, &sid, "2").await);
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 22. The client sends a ping (`2`) by POST: the wrong heartbeat direction in v4.
    e22_client_ping(slow()) = client_ping;
    both: [("POST 2", ok()), ("GET after", unknown_sid())],
}

async fn post_while_server_closes(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    seen.note("POST cmd:close", post(t, &sid, "4cmd:close").await);
    sleep(REACH).await;
    seen.note("POST 4x", post(t, &sid, "4x").await);
    seen.note("GET", get(t, &sid).await);
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 23. Packets POSTed while a server-initiated close waits for a GET.
    e23_post_while_server_closes(slow()) = post_while_server_closes;
    node: [
        ("POST cmd:close", ok()),
        // The session is closing: the packets are accepted and ignored.
        ("POST 4x", ok()),
        // Node wakes the poll with a noop and appends the close packet.
        ("GET", poll("6\u{1e}1")),
        ("GET after", unknown_sid()),
    ],
    ours: [
        ("POST cmd:close", ok()),
        ("POST 4x", ok()),
        // Ours need not send the noop; "4x" must not be echoed.
        ("GET", Want::OneOf(vec![poll("1"), poll("6\u{1e}1")])),
        ("GET after", unknown_sid()),
    ],
}

async fn ws_upgrade_to_polling(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let obs = ws_attempt(t, "EIO=4&transport=polling").await;
    seen.note("WebSocket transport=polling", obs);
    seen
}

edge! {
    /// 24. A WebSocket upgrade request (no sid) whose query says transport=polling.
    e24_ws_upgrade_to_polling(slow()) = ws_upgrade_to_polling;
    node: [("WebSocket transport=polling", is(Obs::WsClose(None)))],
    ours: [("WebSocket transport=polling", ws_closed())],
}

// ===== edges found in the Node source =====

async fn transport_mismatch(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let ws_query = format!("EIO=4&transport=websocket&sid={sid}");
    seen.note(
        "GET transport=websocket",
        request(t, "GET", &ws_query, &[], None).await,
    );
    seen.note(
        "POST transport=websocket",
        request(t, "POST", &ws_query, &[], Some("4x")).await,
    );
    let abc = format!("EIO=4&transport=abc&sid={sid}");
    seen.note(
        "GET transport=abc",
        request(t, "GET", &abc, &[], None).await,
    );
    round_trip(t, &sid, "hi", &mut seen).await;
    seen
}

edge! {
    /// 25. Plain requests naming another transport than the session's: refused, the session stays.
    e25_transport_mismatch(slow()) = transport_mismatch;
    both: [
        ("GET transport=websocket", json(400, 3)),
        ("POST transport=websocket", json(400, 3)),
        ("GET transport=abc", json(400, 0)),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
    ],
}

async fn missing_eio(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    let obs = request(t, "GET", "transport=polling", &[], None).await;
    seen.note("polling handshake", obs);
    let obs = request(t, "GET", &format!("transport=polling&sid={sid}"), &[], None).await;
    seen.note("polling GET with sid", obs);
    let obs = ws_attempt(t, &format!("transport=websocket&sid={sid}")).await;
    seen.note("WebSocket upgrade with sid", obs);
    seen.note(
        "WebSocket handshake",
        ws_attempt(t, "transport=websocket").await,
    );
    round_trip(t, &sid, "hi", &mut seen).await;
    seen
}

edge! {
    /// 26. Requests without EIO=4 (Node reads them as protocol 3).
    e26_missing_eio(slow()) = missing_eio;
    node: [
        ("polling handshake", json(400, 5)),
        ("polling GET with sid", json(400, 3)),
        ("WebSocket upgrade with sid", http_is(400, "Bad request")),
        // Node switches protocols first, then writes an HTTP 400 into the
        // WebSocket stream and drops the connection.
        ("WebSocket handshake", is(Obs::Garbage(
            "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-type: text/html\r\n\
             Content-Length: 28\r\n\r\nUnsupported protocol version"
                .into(),
        ))),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
    ],
    ours: [
        ("polling handshake", json(400, 5)),
        ("polling GET with sid", status(400)),
        ("WebSocket upgrade with sid", status(400)),
        // Ours refuses before switching protocols.
        ("WebSocket handshake", status(400)),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
    ],
}

async fn b64_on_websocket(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let mut ws = ws_connect(t, "EIO=4&transport=websocket&b64=1").await;
    let open = ws_next(&mut ws).await;
    seen.note(
        "open",
        if matches!(&open, Obs::WsText(t) if t.starts_with("0{")) {
            Obs::WsText("0{...}".into())
        } else {
            open
        },
    );
    ws_send(&mut ws, Frame::binary(vec![1, 2, 3])).await;
    seen.note("binary echo", ws_next(&mut ws).await);
    seen
}

edge! {
    /// 27. `b64=1` on a WebSocket-only session, then a binary message.
    e27_b64_on_websocket(slow()) = b64_on_websocket;
    // Node's transport then has supportsBinary=false: binary goes out as `b<base64>` text.
    // Ours: proposed the same (a client asking for b64 may not read binary frames).
    both: [
        ("open", ws_text("0{...}")),
        ("binary echo", ws_text("bAQID")),
    ],
}

async fn client_only_packet_types(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    for (step, body) in [
        ("POST 0", "0"),
        ("POST 5", "5"),
        ("POST 6", "6"),
        ("POST 3", "3"),
    ] {
        seen.note(step, post(t, &sid, body).await);
    }
    round_trip(t, &sid, "hi", &mut seen).await;
    seen
}

edge! {
    /// 28. POSTed packets a client has no reason to send on polling: open, upgrade, noop, an unasked pong.
    e28_client_only_packet_types(slow()) = client_only_packet_types;
    // Node ignores them. Ours: proposed the same.
    both: [
        ("POST 0", ok()),
        ("POST 5", ok()),
        ("POST 6", ok()),
        ("POST 3", ok()),
        ("POST after", ok()),
        ("GET after", poll("4hi")),
    ],
}

async fn empty_post(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    seen.note("POST empty", post(t, &sid, "").await);
    seen.note("GET after", get(t, &sid).await);
    let sid = handshake(t).await;
    seen.note("POST 4a + separator", post(t, &sid, "4a\u{1e}").await);
    seen.note("GET after separator", get(t, &sid).await);
    seen
}

edge! {
    /// 29. An empty POST body, and a payload ending with a separator (an empty packet).
    e29_empty_packet_post(slow()) = empty_post;
    // Node decodes "" as an error packet: "parse error" closes the session.
    // Ours: proposed the same.
    both: [
        ("POST empty", ok()),
        ("GET after", unknown_sid()),
        ("POST 4a + separator", ok()),
        ("GET after separator", unknown_sid()),
    ],
}

async fn packet_extends_ping_timeout(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let sid = handshake(t).await;
    seen.note("GET (the ping)", get(t, &sid).await);
    let pinged = Instant::now();
    // A message 400 ms into the 600 ms pong deadline: Node pushes the deadline
    // back once, to 600 ms after this packet.
    sleep(Duration::from_millis(400)).await;
    seen.note("POST message", post(t, &sid, "4x").await);
    // 800 ms after the ping: past the first deadline, before the extended one.
    tokio::time::sleep_until(pinged + Duration::from_millis(800)).await;
    seen.note("POST pong", post(t, &sid, "3").await);
    seen.note("GET after", get(t, &sid).await);
    seen
}

edge! {
    /// 30. A non-pong packet while the pong is awaited extends the deadline once (6.6.10+).
    e30_packet_extends_ping_timeout(heartbeat(300, 600)) = packet_extends_ping_timeout;
    // Ours: proposed the same.
    both: [
        ("GET (the ping)", poll("2")),
        ("POST message", ok()),
        ("POST pong", ok()),
        ("GET after", poll("4x")),
    ],
}

async fn second_ws_on_ws_session(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let mut first = ws_connect(t, "EIO=4&transport=websocket").await;
    let Obs::WsText(open) = ws_next(&mut first).await else {
        panic!("no open packet");
    };
    let json: Value = serde_json::from_str(open.strip_prefix('0').unwrap()).unwrap();
    let sid = json["sid"].as_str().unwrap();
    let query = format!("EIO=4&transport=websocket&sid={sid}");
    seen.note("second WebSocket", ws_attempt(t, &query).await);
    ws_send_text(&mut first, "4hi").await;
    seen.note("first WebSocket echo", ws_next(&mut first).await);
    seen
}

edge! {
    /// 31. A second WebSocket with the sid of a WebSocket-only session.
    e31_second_ws_on_ws_session(slow()) = second_ws_on_ws_session;
    node: [
        // Node starts an upgrade websocket -> websocket: the socket stays open, awaiting 2probe.
        ("second WebSocket", ws_open()),
        ("first WebSocket echo", ws_text("4hi")),
    ],
    // Ours: the spec's "at most one WebSocket per session", as in edge 12.
    ours: [
        ("second WebSocket", ws_closed()),
        ("first WebSocket echo", ws_text("4hi")),
    ],
}

async fn jsonp_handshake(t: &Target) -> Transcript {
    let mut seen = Transcript::default();
    let obs = request(t, "GET", "EIO=4&transport=polling&j=0", &[], None).await;
    seen.note("GET j=0", obs);
    seen
}

edge! {
    /// 32. A JSONP polling handshake (`j=0`).
    e32_jsonp_handshake(slow()) = jsonp_handshake;
    node: [("GET j=0", Want::BodyStarts(200, "___eio[0](\"0{"))],
    // Ours does not support JSONP (a documented difference).
    ours: [("GET j=0", json(400, 3))],
}
