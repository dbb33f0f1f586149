//! Interop tests of the engineio **server** against the official clients:
//! npm `engine.io-client` 6.6 (Node) and python-engineio's sync
//! `engineio.Client`.
//!
//! Each test starts our server in-process on `127.0.0.1:0` with short
//! heartbeat intervals, runs a peer script from `interop/server/` with the
//! server URL and a JSON options object as argv, and asserts the exact events
//! the script prints (one JSON object per line) and the events our server's
//! handlers saw. Every peer process has a hard hang guard and is killed on
//! timeout or drop; no assertion depends on timing.
//!
//! The peers are installed by `scripts/install-test-deps.sh`. When they are
//! missing the tests print a skip note and pass, unless `EIO_INTEROP=require`
//! (set by `scripts/test.sh`), which makes them fail instead.
//!
//! Debugging: `RUST_LOG=engineio=trace` logs the server, `EIO_PEER_LOG=1`
//! makes the python peer log its packets to stderr (shown on failure).

use std::time::Duration;

use engineio::server::{Rejection, Server, ServerConfig};
use engineio::{Message, Sid, Transport};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

mod support;

use peer::{Kind, Output};
use support::client_peer as peer;

/// Hang guard for waiting on the server's handlers.
const SERVER_WAIT: Duration = Duration::from_secs(20);

/// What our server's handlers saw, in order.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// The connect handler ran (also for a rejected session).
    Connect(Sid),
    /// A message, with the transport the session was on when it arrived.
    Message(Sid, Value, Transport),
    /// The disconnect handler ran, with the reason.
    Disconnect(Sid, String),
}

/// What the test server does besides echoing every message.
#[derive(Debug, Clone, Default)]
struct Behaviour {
    /// Sent from the connect handler.
    welcome: Option<&'static str>,
    /// This many messages `burst-<n>` sent from the connect handler, after
    /// the welcome.
    burst: usize,
    /// Refuse every session with this JSON body.
    reject: Option<Value>,
}

/// Our server, serving on a loopback port, recording its handlers' calls.
struct TestServer {
    server: Server,
    url: String,
    seen: mpsc::UnboundedReceiver<Seen>,
    serving: tokio::task::JoinHandle<()>,
}

/// A message as the peer scripts print it: `{"text":..}` or `{"binary":[..]}`.
fn message_json(message: &Message) -> Value {
    match message {
        Message::Text(text) => json!({ "text": text }),
        Message::Binary(bytes) => json!({ "binary": bytes.to_vec() }),
    }
}

fn text(text: &str) -> Value {
    json!({ "text": text })
}

fn binary(bytes: &[u8]) -> Value {
    json!({ "binary": bytes })
}

/// Every byte value, in order.
fn all_bytes() -> Vec<u8> {
    (0..=255).collect()
}

/// The test configuration: pings every 300 ms, 1 s to answer, and a short
/// close timeout so the final shutdown never waits long.
///
/// The pong deadline is 1 s, not 200 ms: with 200 ms, one heartbeat run in
/// about 40 (three suites at once on 2 shared cores) saw the session closed
/// after 3 pings, a starved peer rather than a server fault. 1 s still
/// catches a heartbeat that ignores pongs: the heartbeat tests need 6 pings,
/// at least 1.8 s.
fn config() -> ServerConfig {
    ServerConfig::default()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_secs(1))
        .close_timeout(Duration::from_secs(2))
}

impl TestServer {
    async fn start(config: ServerConfig, behaviour: Behaviour) -> Self {
        // RUST_LOG=engineio=debug shows the server's log in a failing test.
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        let (tx, seen) = mpsc::unbounded_channel();
        let on_connect = tx.clone();
        let on_message = tx.clone();
        let on_disconnect = tx;
        let server = Server::builder()
            .config(config)
            .on_connect(move |socket, _request| {
                let _ = on_connect.send(Seen::Connect(socket.sid()));
                if let Some(data) = &behaviour.reject {
                    return Err(Rejection::with_data(data.clone()));
                }
                if let Some(welcome) = behaviour.welcome {
                    socket.send(welcome).expect("send the welcome");
                }
                for n in 0..behaviour.burst {
                    socket.send(format!("burst-{n}")).expect("send a burst");
                }
                Ok(())
            })
            .on_message(move |socket, message| {
                // Echo first, then record: a test that reacts to the record
                // (server-initiated disconnect) runs after the echo is queued.
                let transport = socket.transport();
                let json = message_json(&message);
                // A message can race with the session's close; the assertions
                // on what the client got catch a lost echo.
                let _ = socket.send(message);
                let _ = on_message.send(Seen::Message(socket.sid(), json, transport));
            })
            .on_disconnect(move |socket, reason| {
                let _ = on_disconnect.send(Seen::Disconnect(socket.sid(), reason.to_string()));
            })
            .build();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let serving = tokio::spawn({
            let server = server.clone();
            async move { server.serve(listener).await }
        });
        Self {
            server,
            url,
            seen,
            serving,
        }
    }

    /// The next handler call (panics after the hang guard).
    async fn next(&mut self) -> Seen {
        tokio::time::timeout(SERVER_WAIT, self.seen.recv())
            .await
            .expect("the server's handlers went quiet")
            .expect("the handler channel closed")
    }

    /// Every handler call up to and including the first disconnect.
    async fn until_disconnect(&mut self) -> Vec<Seen> {
        let mut all = Vec::new();
        loop {
            let seen = self.next().await;
            let last = matches!(seen, Seen::Disconnect(..));
            all.push(seen);
            if last {
                return all;
            }
        }
    }

    /// The handler calls already recorded.
    fn drain(&mut self) -> Vec<Seen> {
        let mut all = Vec::new();
        while let Ok(seen) = self.seen.try_recv() {
            all.push(seen);
        }
        all
    }

    async fn stop(self) {
        tokio::time::timeout(SERVER_WAIT, self.server.shutdown())
            .await
            .expect("shutdown hung");
        tokio::time::timeout(SERVER_WAIT, self.serving)
            .await
            .expect("the listener did not stop")
            .expect("the listener panicked");
    }
}

/// The events named `name`.
fn named<'a>(output: &'a Output, name: &str) -> Vec<&'a Value> {
    output
        .events
        .iter()
        .filter(|event| event["event"] == name)
        .collect()
}

/// The one event named `name` (panics unless there is exactly one).
fn single<'a>(output: &'a Output, name: &str) -> &'a Value {
    let events = named(output, name);
    assert_eq!(
        events.len(),
        1,
        "expected one {name:?} event\n{}",
        output.dump()
    );
    events[0]
}

/// The received messages, as `{"text":..}` / `{"binary":[..]}`.
fn received(output: &Output) -> Vec<Value> {
    named(output, "message")
        .into_iter()
        .map(|event| {
            let mut message = event.clone();
            let fields = message.as_object_mut().expect("object");
            fields.remove("event");
            fields.remove("t");
            message
        })
        .collect()
}

/// The messages the server saw, with their transports.
fn server_messages(seen: &[Seen]) -> Vec<(Value, Transport)> {
    seen.iter()
        .filter_map(|seen| match seen {
            Seen::Message(_, message, transport) => Some((message.clone(), *transport)),
            _ => None,
        })
        .collect()
}

/// The session id the Node client got in its handshake.
fn handshake_sid(output: &Output) -> Sid {
    let sid = single(output, "handshake")["sid"]
        .as_str()
        .expect("sid string");
    sid.parse().unwrap_or_else(|_| panic!("bad sid {sid:?}"))
}

/// Asserts the event names, in order, ignoring pings (their number depends
/// on timing).
fn assert_event_names(output: &Output, expected: &[&str]) {
    let names: Vec<&str> = output
        .events
        .iter()
        .map(|event| event["event"].as_str().expect("event name"))
        .filter(|name| *name != "ping")
        .collect();
    assert_eq!(names, expected, "event sequence\n{}", output.dump());
}

// ===== 1 and 2: echo over one transport =====

/// A Node client on one transport: the welcome first, then UTF-8 text and
/// every byte value echoed both ways; the client closes.
async fn node_echo(transport: &str) {
    let mut server = TestServer::start(
        config(),
        Behaviour {
            welcome: Some("welcome"),
            ..Behaviour::default()
        },
    )
    .await;
    let sent = vec![text("héllo 👋"), binary(&all_bytes())];
    let output = peer::spawn(
        Kind::Node,
        &server.url,
        &json!({
            "transports": [transport],
            "onOpen": sent,
            "expect": 3,
            "closeWhenDone": true,
        }),
    )
    .finish()
    .await;

    assert_event_names(
        &output,
        &[
            "handshake",
            "open",
            "message",
            "message",
            "message",
            "done",
            "close",
        ],
    );
    assert_eq!(single(&output, "open")["transport"], transport);
    let mut expected = vec![text("welcome")];
    expected.extend(sent.iter().cloned());
    assert_eq!(received(&output), expected, "{}", output.dump());
    assert_eq!(single(&output, "close")["reason"], "forced close");

    let sid = handshake_sid(&output);
    let seen = server.until_disconnect().await;
    let transport: Transport = transport.parse().expect("transport name");
    // The JS client's close() sends a close packet over polling, but over
    // WebSocket it just closes the socket.
    let reason = match transport {
        Transport::Polling => "client disconnect",
        _ => "transport close",
    };
    assert_eq!(
        seen,
        vec![
            Seen::Connect(sid),
            Seen::Message(sid, sent[0].clone(), transport),
            Seen::Message(sid, sent[1].clone(), transport),
            Seen::Disconnect(sid, reason.to_owned()),
        ]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_polling_echo_text_binary_and_welcome() {
    if !peer::available("node_polling_echo_text_binary_and_welcome") {
        return;
    }
    node_echo("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_websocket_echo_text_binary_and_welcome() {
    if !peer::available("node_websocket_echo_text_binary_and_welcome") {
        return;
    }
    node_echo("websocket").await;
}

// ===== 3: upgrade =====

/// Messages sent before, during and after the upgrade arrive once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_upgrade_keeps_order_exactly_once() {
    if !peer::available("node_upgrade_keeps_order_exactly_once") {
        return;
    }
    let mut server = TestServer::start(config(), Behaviour::default()).await;
    // "seq-0".."seq-49" from one counter: 10 at once on open (one POST),
    // then one every 5 ms (before, during and after the switch), and 5 right
    // at the upgrade event.
    let output = peer::spawn(
        Kind::Node,
        &server.url,
        &json!({
            "sequence": { "count": 45, "burst": 10, "everyMs": 5, "atUpgrade": 5 },
            "expect": 50,
            "waitUpgrade": true,
            "closeWhenDone": true,
        }),
    )
    .finish()
    .await;

    let expected: Vec<Value> = (0..50).map(|n| text(&format!("seq-{n}"))).collect();
    assert_eq!(single(&output, "open")["transport"], "polling");
    assert_eq!(
        single(&output, "handshake")["upgrades"],
        json!(["websocket"])
    );
    let upgrade = single(&output, "upgrade");
    assert_eq!(upgrade["transport"], "websocket");
    // How many were sent before the switch varies from run to run (it is
    // not asserted): the burst went out before it, the last 5 after it.
    eprintln!(
        "messages sent before the upgrade: {}",
        upgrade["sentBefore"]
    );
    assert!(
        named(&output, "upgradeError").is_empty(),
        "{}",
        output.dump()
    );
    assert!(named(&output, "error").is_empty(), "{}", output.dump());
    assert_eq!(received(&output), expected, "{}", output.dump());
    assert_eq!(single(&output, "close")["reason"], "forced close");

    let sid = handshake_sid(&output);
    let seen = server.until_disconnect().await;
    let messages = server_messages(&seen);
    let texts: Vec<Value> = messages.iter().map(|(m, _)| m.clone()).collect();
    assert_eq!(texts, expected, "server side: {seen:?}");
    // The first POST certainly went over polling (the probe starts after
    // it); the messages sent at the upgrade event went over the WebSocket.
    assert_eq!(messages[0].1, Transport::Polling);
    assert_eq!(messages[49].1, Transport::WebSocket);
    assert_eq!(seen.first(), Some(&Seen::Connect(sid)));
    assert_eq!(
        seen.last(),
        Some(&Seen::Disconnect(sid, "transport close".to_owned()))
    );
    server.stop().await;
}

// ===== 4: upgrades disabled, polling-only server =====

/// `allow_upgrades(false)`: the handshake offers no upgrade and the client
/// stays on polling (across a few pings) while exchanging messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_upgrades_disabled_stays_on_polling() {
    if !peer::available("node_upgrades_disabled_stays_on_polling") {
        return;
    }
    let mut server = TestServer::start(config().allow_upgrades(false), Behaviour::default()).await;
    let sent = vec![text("one"), binary(&[0, 1, 2, 255]), text("three")];
    let output = peer::spawn(
        Kind::Node,
        &server.url,
        &json!({ "onOpen": sent, "expect": 3, "pings": 2, "closeWhenDone": true }),
    )
    .finish()
    .await;

    assert_eq!(single(&output, "handshake")["upgrades"], json!([]));
    assert_eq!(single(&output, "open")["transport"], "polling");
    assert!(named(&output, "upgrading").is_empty(), "{}", output.dump());
    assert!(named(&output, "upgrade").is_empty(), "{}", output.dump());
    assert_eq!(received(&output), sent, "{}", output.dump());
    assert_eq!(single(&output, "close")["reason"], "forced close");

    let seen = server.until_disconnect().await;
    let messages = server_messages(&seen);
    assert_eq!(messages.len(), 3, "{seen:?}");
    assert!(messages.iter().all(|(_, t)| *t == Transport::Polling));
    assert_eq!(
        seen.last(),
        Some(&Seen::Disconnect(
            handshake_sid(&output),
            "client disconnect".to_owned()
        ))
    );
    server.stop().await;
}

/// `transports([Polling])`: a WebSocket-only client cannot connect, and a
/// polling client's handshake advertises no upgrade.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_polling_only_server() {
    if !peer::available("node_polling_only_server") {
        return;
    }
    let mut server = TestServer::start(
        config().transports([Transport::Polling]),
        Behaviour::default(),
    )
    .await;

    let output = peer::spawn(
        Kind::Node,
        &server.url,
        &json!({ "transports": ["websocket"] }),
    )
    .finish()
    .await;
    assert_event_names(&output, &["error", "close"]);
    assert_eq!(single(&output, "close")["reason"], "transport error");
    assert_eq!(server.drain(), vec![], "no session for a refused WebSocket");

    let output = peer::spawn(
        Kind::Node,
        &server.url,
        &json!({ "onOpen": [text("hi")], "expect": 1, "closeWhenDone": true }),
    )
    .finish()
    .await;
    assert_eq!(single(&output, "handshake")["upgrades"], json!([]));
    assert_eq!(single(&output, "open")["transport"], "polling");
    assert!(named(&output, "upgrading").is_empty(), "{}", output.dump());
    assert_eq!(received(&output), vec![text("hi")]);
    let seen = server.until_disconnect().await;
    assert_eq!(
        server_messages(&seen),
        vec![(text("hi"), Transport::Polling)]
    );
    server.stop().await;
}

// ===== 5: server-initiated disconnect =====

/// `Server::disconnect` after the first message: the client gets the echo,
/// then a close; the server reports "server disconnect".
async fn node_server_disconnect(transport: &str) -> Output {
    let mut server = TestServer::start(config(), Behaviour::default()).await;
    let client = peer::spawn(
        Kind::Node,
        &server.url,
        &json!({ "transports": [transport], "onOpen": [text("first")], "expect": 1 }),
    );
    let Seen::Connect(sid) = server.next().await else {
        panic!("expected a connect first");
    };
    assert!(matches!(server.next().await, Seen::Message(s, _, _) if s == sid));
    assert!(server.server.disconnect(sid), "the session was open");
    let output = client.finish().await;

    assert_eq!(handshake_sid(&output), sid);
    assert_eq!(received(&output), vec![text("first")], "{}", output.dump());
    assert!(named(&output, "error").is_empty(), "{}", output.dump());
    assert_eq!(
        server.until_disconnect().await,
        vec![Seen::Disconnect(sid, "server disconnect".to_owned())]
    );
    server.stop().await;
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_polling_server_disconnect() {
    if !peer::available("node_polling_server_disconnect") {
        return;
    }
    let output = node_server_disconnect("polling").await;
    // engine.io-client closes a polling transport on a close packet with
    // this reason and description.
    let close = single(&output, "close");
    assert_eq!(close["reason"], "transport close", "{}", output.dump());
    assert_eq!(close["description"], "transport closed by the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_websocket_server_disconnect() {
    if !peer::available("node_websocket_server_disconnect") {
        return;
    }
    let output = node_server_disconnect("websocket").await;
    // engine.io-client ignores a close packet on a WebSocket; it closes when
    // the server closes the WebSocket itself.
    let close = single(&output, "close");
    assert_eq!(close["reason"], "transport close", "{}", output.dump());
    assert_eq!(close["description"], "websocket connection closed");
}

// ===== 6: heartbeat =====

/// The client stays connected across 6 pings (300 ms apart); the server's
/// disconnect handler fires only when the client closes.
async fn node_heartbeat(transport: &str) {
    let mut server = TestServer::start(config(), Behaviour::default()).await;
    let output = peer::spawn(
        Kind::Node,
        &server.url,
        &json!({ "transports": [transport], "pings": 6, "closeWhenDone": true }),
    )
    .finish()
    .await;
    let seen = server.until_disconnect().await;
    let both = format!("server saw {seen:?}\n{}", output.dump());

    assert_eq!(single(&output, "open")["transport"], transport, "{both}");
    assert!(named(&output, "ping").len() >= 6, "{both}");
    // No close before the sixth ping: "done" is printed before the client's
    // own close(), which is the only close.
    let names: Vec<&Value> = output
        .events
        .iter()
        .map(|event| &event["event"])
        .filter(|name| *name != "ping")
        .collect();
    assert_eq!(names, ["handshake", "open", "done", "close"], "{both}");
    assert_eq!(single(&output, "close")["reason"], "forced close");

    let sid = handshake_sid(&output);
    let reason = if transport == "polling" {
        "client disconnect"
    } else {
        "transport close"
    };
    assert_eq!(
        seen,
        vec![Seen::Connect(sid), Seen::Disconnect(sid, reason.to_owned())],
        "{both}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_polling_heartbeat() {
    if !peer::available("node_polling_heartbeat") {
        return;
    }
    node_heartbeat("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_websocket_heartbeat() {
    if !peer::available("node_websocket_heartbeat") {
        return;
    }
    node_heartbeat("websocket").await;
}

// ===== 7: rejected connect =====

fn rejecting() -> Behaviour {
    Behaviour {
        reject: Some(json!({ "reason": "nope" })),
        ..Behaviour::default()
    }
}

/// A refused polling handshake: the JS client reports a transport error with
/// the HTTP status 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_rejected_connect_polling() {
    if !peer::available("node_rejected_connect_polling") {
        return;
    }
    let mut server = TestServer::start(config(), rejecting()).await;
    let output = peer::spawn(Kind::Node, &server.url, &json!({}))
        .finish()
        .await;
    assert_event_names(&output, &["error", "close"]);
    let error = single(&output, "error");
    assert_eq!(error["message"], "xhr poll error", "{}", output.dump());
    assert_eq!(error["type"], "TransportError");
    assert_eq!(error["status"], 401, "{}", output.dump());
    assert_eq!(single(&output, "close")["reason"], "transport error");
    // The connect handler ran, but a refused session is never "disconnected".
    let seen = server.drain();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(matches!(seen[0], Seen::Connect(_)));
    assert_eq!(server.server.session_count(), 0);
    server.stop().await;
}

/// A refused WebSocket handshake: the JS client reports a transport error
/// (the `ws` library's "Unexpected server response: 401").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_rejected_connect_websocket() {
    if !peer::available("node_rejected_connect_websocket") {
        return;
    }
    let mut server = TestServer::start(config(), rejecting()).await;
    let output = peer::spawn(
        Kind::Node,
        &server.url,
        &json!({ "transports": ["websocket"] }),
    )
    .finish()
    .await;
    assert_event_names(&output, &["error", "close"]);
    let error = single(&output, "error");
    assert_eq!(error["message"], "websocket error", "{}", output.dump());
    let description = error["description"].as_str().unwrap_or_default();
    assert!(description.contains("401"), "{}", output.dump());
    assert_eq!(single(&output, "close")["reason"], "transport error");
    let seen = server.drain();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(matches!(seen[0], Seen::Connect(_)));
    server.stop().await;
}

/// python-engineio raises `ConnectionError` with the status and the
/// rejection's JSON body (what python-socketio reads).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_rejected_connect() {
    if !peer::available("python_rejected_connect") {
        return;
    }
    let server = TestServer::start(config(), rejecting()).await;
    let output = peer::spawn(
        Kind::Python,
        &server.url,
        &json!({ "transports": ["polling"] }),
    )
    .finish()
    .await;
    assert_event_names(&output, &["error", "done"]);
    let error = single(&output, "error");
    assert_eq!(
        error["message"],
        "Unexpected status code 401 in server response",
        "{}",
        output.dump()
    );
    assert_eq!(error["data"], json!({ "reason": "nope" }));
    server.stop().await;
}

// ===== 8: python-engineio =====

/// A python client: the welcome, then text and binary echoed, then
/// `disconnect()`; the server's disconnect reason must be one of `reasons`.
async fn python_echo(transports: Option<&[&str]>, connected_on: Transport, reasons: &[&str]) {
    let mut server = TestServer::start(
        config(),
        Behaviour {
            welcome: Some("welcome"),
            ..Behaviour::default()
        },
    )
    .await;
    let sent = vec![text("héllo 👋"), binary(&all_bytes())];
    let output = peer::spawn(
        Kind::Python,
        &server.url,
        &json!({ "transports": transports, "send": sent, "expect": 3 }),
    )
    .finish()
    .await;

    // "connected" (connect() returned) is left out: the welcome may come in
    // the handshake response (before it) or in a later read (after it).
    let names: Vec<&Value> = output
        .events
        .iter()
        .map(|event| &event["event"])
        .filter(|name| *name != "connected")
        .collect();
    assert_eq!(
        names,
        [
            "connect",
            "message",
            "message",
            "message",
            "disconnect",
            "done"
        ],
        "{}",
        output.dump()
    );
    let first = transports.map_or("polling", |t| t[0]);
    let connect = single(&output, "connect");
    assert_eq!(connect["transport"], first, "{}", output.dump());
    assert_eq!(
        single(&output, "connected")["transport"],
        connected_on.as_str()
    );
    let mut expected = vec![text("welcome")];
    expected.extend(sent.iter().cloned());
    assert_eq!(received(&output), expected, "{}", output.dump());
    assert_eq!(single(&output, "disconnect")["reason"], "client disconnect");

    let sid: Sid = connect["sid"].as_str().expect("sid").parse().expect("sid");
    let seen = server.until_disconnect().await;
    assert_eq!(seen[0], Seen::Connect(sid));
    assert_eq!(
        server_messages(&seen),
        vec![
            (sent[0].clone(), connected_on),
            (sent[1].clone(), connected_on),
        ]
    );
    let Some(Seen::Disconnect(_, reason)) = seen.last() else {
        unreachable!("until_disconnect ends with a disconnect")
    };
    assert!(
        reasons.contains(&reason.as_str()),
        "server disconnect reason {reason:?}, expected one of {reasons:?}\n{}",
        output.dump()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_polling_echo_and_disconnect() {
    if !peer::available("python_polling_echo_and_disconnect") {
        return;
    }
    // The close packet goes out in a POST: a clean client disconnect.
    python_echo(
        Some(&["polling"]),
        Transport::Polling,
        &["client disconnect"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_websocket_echo_and_disconnect() {
    if !peer::available("python_websocket_echo_and_disconnect") {
        return;
    }
    // python-engineio's disconnect() queues the close packet, then closes
    // the WebSocket without waiting for its write loop, so the server may see
    // the `1` (client disconnect) or only the closed socket (transport close).
    python_echo(
        Some(&["websocket"]),
        Transport::WebSocket,
        &["client disconnect", "transport close"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_default_upgrades_then_echo() {
    if !peer::available("python_default_upgrades_then_echo") {
        return;
    }
    python_echo(
        None,
        Transport::WebSocket,
        &["client disconnect", "transport close"],
    )
    .await;
}

/// 40 messages queued at once for a polling python client that is already
/// long-polling all arrive, in order: python-engineio drops a whole payload
/// of more than 16 packets, so this checks the server's 16-packets-per-poll
/// cap on ordinary polls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_polling_burst_of_40_in_order() {
    if !peer::available("python_polling_burst_of_40_in_order") {
        return;
    }
    let mut server = TestServer::start(config(), Behaviour::default()).await;
    let client = peer::spawn(
        Kind::Python,
        &server.url,
        &json!({ "transports": ["polling"], "send": [text("go")], "expect": 41 }),
    );
    let Seen::Connect(sid) = server.next().await else {
        panic!("expected a connect first");
    };
    assert!(matches!(server.next().await, Seen::Message(s, _, _) if s == sid));
    for n in 0..40 {
        server
            .server
            .send(sid, format!("burst-{n}"))
            .expect("queue a burst");
    }
    let output = client.finish().await;

    let mut expected = vec![text("go")];
    expected.extend((0..40).map(|n| text(&format!("burst-{n}"))));
    assert_eq!(received(&output), expected, "{}", output.dump());
    assert!(named(&output, "timeout").is_empty(), "{}", output.dump());
    assert_eq!(single(&output, "disconnect")["reason"], "client disconnect");
    assert_eq!(
        server.until_disconnect().await,
        vec![Seen::Disconnect(sid, "client disconnect".to_owned())]
    );
    server.stop().await;
}

/// Regression test for a server bug found here: 40 messages queued by the
/// connect handler, before the polling handshake is answered. The handshake
/// response used to carry the open packet plus up to 16 queued packets, 17
/// in all, and python-engineio's client refuses a payload of more than 16
/// packets: `connect()` raised `ConnectionError('Unexpected response from
/// server')`. The open packet must count against the 16-packet cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_polling_burst_of_40_in_handshake() {
    if !peer::available("python_polling_burst_of_40_in_handshake") {
        return;
    }
    let mut server = TestServer::start(
        config(),
        Behaviour {
            burst: 40,
            ..Behaviour::default()
        },
    )
    .await;
    let output = peer::spawn(
        Kind::Python,
        &server.url,
        &json!({ "transports": ["polling"], "expect": 40 }),
    )
    .finish()
    .await;
    assert!(named(&output, "error").is_empty(), "{}", output.dump());
    let expected: Vec<Value> = (0..40).map(|n| text(&format!("burst-{n}"))).collect();
    assert_eq!(received(&output), expected, "{}", output.dump());
    assert!(named(&output, "timeout").is_empty(), "{}", output.dump());
    assert_eq!(single(&output, "disconnect")["reason"], "client disconnect");
    let seen = server.until_disconnect().await;
    assert_eq!(
        seen.last(),
        Some(&Seen::Disconnect(
            single(&output, "connect")["sid"]
                .as_str()
                .expect("sid")
                .parse()
                .expect("sid"),
            "client disconnect".to_owned()
        ))
    );
    server.stop().await;
}
