//! Clients that vanish at every step. Each session is reaped within
//! `ping_interval + ping_timeout` (plus the upgrade timeout while an upgrade
//! is under way), its disconnect handler runs exactly once with the right
//! reason, and nothing stays in the session table.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use engineio::server::ServerConfig;
use futures_util::{SinkExt as _, StreamExt as _};
use support::server::{TestServer, start};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const INTERVAL: Duration = Duration::from_millis(300);
const TIMEOUT: Duration = Duration::from_millis(200);
const UPGRADE: Duration = Duration::from_millis(300);

fn config() -> ServerConfig {
    ServerConfig::default()
        .ping_interval(INTERVAL)
        .ping_timeout(TIMEOUT)
        .upgrade_timeout(UPGRADE)
        .close_timeout(Duration::from_millis(300))
}

fn host(server: &TestServer) -> String {
    server
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/engine.io/")
        .to_owned()
}

/// Sends a raw HTTP request head (and `body`) on a new connection.
async fn raw(server: &TestServer, head: &str, body: &[u8]) -> TcpStream {
    let host = host(server);
    let mut stream = TcpStream::connect(&host).await.unwrap();
    let request = head.replace("{host}", &host);
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    stream
}

/// Opens a WebSocket for `sid` (or a new session) and returns it with the
/// session's id.
async fn websocket(
    server: &TestServer,
    sid: Option<&str>,
) -> (
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    String,
) {
    let mut url = server
        .url("EIO=4&transport=websocket")
        .replace("http://", "ws://");
    if let Some(sid) = sid {
        url.push_str(&format!("&sid={sid}"));
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let sid = match sid {
        Some(sid) => sid.to_owned(),
        None => {
            let open = ws.next().await.unwrap().unwrap().into_text().unwrap();
            let open: serde_json::Value = serde_json::from_str(&open[1..]).unwrap();
            open["sid"].as_str().unwrap().to_owned()
        }
    };
    (ws, sid)
}

#[tokio::test]
async fn clients_that_vanish_at_every_step_are_reaped_once_with_the_right_reason() {
    let mut server = start(config()).await;
    // The step, and the reasons it may end with.
    let mut expected: HashMap<String, (&str, &[&str])> = HashMap::new();
    let mut held = Vec::new(); // connections kept open without a word (half-open)

    // After the handshake: never polls again.
    let (sid, _) = server.handshake().await;
    expected.insert(sid, ("after the handshake", &["ping timeout"]));

    // With a poll pending: the connection goes away.
    let (sid, _) = server.handshake().await;
    let poll = raw(
        &server,
        &format!(
            "GET /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: {{host}}\r\n\r\n"
        ),
        b"",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(poll);
    expected.insert(sid, ("with a poll pending", &["transport error"]));

    // Mid-POST: half the body, then gone.
    let (sid, _) = server.handshake().await;
    let post = raw(
        &server,
        &format!(
            "POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: {{host}}\r\n\
             Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 100\r\n\r\n"
        ),
        b"4half of ",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(post);
    expected.insert(sid, ("mid-POST", &["transport error"]));

    // Mid-upgrade, at each step; the polling side vanishes too.
    let (sid, _) = server.handshake().await;
    let (ws, _) = websocket(&server, Some(&sid)).await;
    drop(ws);
    expected.insert(sid, ("after the WebSocket handshake", &["ping timeout"]));

    let (sid, _) = server.handshake().await;
    let (mut ws, _) = websocket(&server, Some(&sid)).await;
    ws.send(WsMessage::Text("2probe".into())).await.unwrap();
    drop(ws);
    expected.insert(sid, ("after 2probe", &["ping timeout"]));

    let (sid, _) = server.handshake().await;
    let (mut ws, _) = websocket(&server, Some(&sid)).await;
    ws.send(WsMessage::Text("2probe".into())).await.unwrap();
    assert_eq!(
        ws.next()
            .await
            .unwrap()
            .unwrap()
            .into_text()
            .unwrap()
            .as_str(),
        "3probe"
    );
    held.push(ws); // before 5, and silent from now on
    expected.insert(sid, ("after 3probe, before 5", &["ping timeout"]));

    // A WebSocket session: half a frame, then gone.
    let (ws, sid) = websocket(&server, None).await;
    let tokio_tungstenite::MaybeTlsStream::Plain(mut stream) = ws.into_inner() else {
        unreachable!("plain TCP")
    };
    stream.write_all(&[0x81, 0x85, 0x01]).await.unwrap(); // a masked text frame, cut short
    drop(stream);
    // No close frame, even mid-frame: "transport close", as the Node server.
    expected.insert(sid, ("mid-frame", &["transport close"]));

    // A half-open WebSocket: no FIN, no more bytes either way.
    let (ws, sid) = websocket(&server, None).await;
    let tokio_tungstenite::MaybeTlsStream::Plain(silent) = ws.into_inner() else {
        unreachable!("plain TCP")
    };
    expected.insert(sid, ("half-open", &["ping timeout"]));

    // Every session is reaped, once, with its reason.
    let deadline = Instant::now() + INTERVAL + TIMEOUT + UPGRADE + Duration::from_secs(3);
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    while seen.len() < expected.len() {
        assert!(
            Instant::now() < deadline,
            "not reaped in time: {:?}",
            expected
                .keys()
                .filter(|sid| !seen.contains_key(*sid))
                .map(|sid| expected[sid].0)
                .collect::<Vec<_>>()
        );
        let event = server.disconnect_event().await;
        let mut words = event.splitn(3, ' ');
        let (_, sid, reason) = (words.next(), words.next().unwrap(), words.next().unwrap());
        seen.entry(sid.to_owned())
            .or_default()
            .push(reason.to_owned());
    }
    for (sid, (step, reasons)) in &expected {
        assert_eq!(seen[sid].len(), 1, "{step}: {:?}", seen[sid]);
        assert!(
            reasons.contains(&seen[sid][0].as_str()),
            "{step}: {:?}",
            seen[sid]
        );
    }
    // Exactly once: nothing more comes, and the table empties.
    tokio::time::sleep(INTERVAL + TIMEOUT).await;
    while let Ok(event) = server.events.try_recv() {
        assert!(
            !event.starts_with("disconnect"),
            "a second disconnect: {event}"
        );
    }
    assert_eq!(server.server.session_count(), 0);
    let mut silent = silent;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), silent.read_to_end(&mut rest)).await;
    drop(held);
}
