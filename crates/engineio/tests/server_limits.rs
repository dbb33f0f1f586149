//! The server's limits: `max_sessions` refuses handshakes with 503 once the
//! server holds that many sessions, on either transport, leaves the open
//! sessions alone, and frees a slot when a session ends.

mod support;

use engineio::server::ServerConfig;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use support::server::{http, start};
use tokio_tungstenite::tungstenite::Message as WsMessage;

async fn handshake_answer(url: &str) -> (u16, Value) {
    let response = http().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn max_sessions_refuses_new_handshakes_with_503_and_frees_slots() {
    let mut server = start(ServerConfig::default().max_sessions(Some(2))).await;
    let (first, _) = server.handshake().await;
    let (second, _) = server.handshake().await;
    assert_eq!(server.server.session_count(), 2);

    // A third polling handshake is refused, with Node's JSON error shape.
    let refused = json!({"code": 4, "message": "Forbidden: too many sessions"});
    let answer = handshake_answer(&server.url("EIO=4&transport=polling")).await;
    assert_eq!(answer, (503, refused.clone()));

    // So is a WebSocket handshake: an HTTP answer, before any upgrade.
    let ws_url = server
        .url("EIO=4&transport=websocket")
        .replace("http://", "ws://");
    match tokio_tungstenite::connect_async(&ws_url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
        }
        other => panic!("a WebSocket handshake past the limit was not refused: {other:?}"),
    }
    assert_eq!(server.server.session_count(), 2);

    // The open sessions are unaffected.
    assert_eq!(
        server.post(&first, "4still here").await,
        (200, "ok".to_owned())
    );
    assert_eq!(server.get(&first).await, (200, "4still here".to_owned()));

    // A session that ends frees its slot: the client's close packet, then
    // the poll that fetches the server's answer to it.
    let pending = server.pending_poll(&second).await;
    assert_eq!(server.post(&second, "1").await, (200, "ok".to_owned()));
    assert_eq!(pending.await.unwrap(), "6");
    assert_eq!(
        server.disconnect_event().await,
        format!("disconnect {second} client disconnect")
    );
    assert_eq!(server.server.session_count(), 1);
    let (status, body) = handshake_answer(&server.url("EIO=4&transport=polling")).await;
    assert_eq!(status, 200, "{body}");

    // A server-side close of a polling session holds the slot until the
    // client's poll fetches the close packet.
    assert_eq!(server.server.session_count(), 2);
    assert!(server.server.disconnect(first.parse().unwrap()));
    let (status, _) = handshake_answer(&server.url("EIO=4&transport=polling")).await;
    assert_eq!(
        status, 503,
        "the slot frees once the close packet is fetched"
    );
    assert_eq!(server.get(&first).await, (200, "1".to_owned()));
    assert_eq!(server.server.session_count(), 1);

    // A WebSocket session takes the slot, and frees it as soon as it closes.
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    let open = ws.next().await.unwrap().unwrap();
    assert!(matches!(open, WsMessage::Text(ref t) if t.starts_with('0')));
    assert_eq!(server.server.session_count(), 2);
    ws.send(WsMessage::Close(None)).await.unwrap();
    while server.server.session_count() > 1 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (status, _) = handshake_answer(&server.url("EIO=4&transport=polling")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_client_that_stops_reading_is_ended_by_the_heartbeat() {
    // It cannot see the pings, so it cannot answer them: "ping timeout",
    // even while the server's writes to it are blocked.
    let mut server = start(
        ServerConfig::default()
            .ping_interval(std::time::Duration::from_millis(300))
            .ping_timeout(std::time::Duration::from_millis(200))
            .max_queue(16),
    )
    .await;
    let ws_url = server
        .url("EIO=4&transport=websocket")
        .replace("http://", "ws://");
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    ws.next().await.unwrap().unwrap();
    let sid = server.server.session_ids()[0];
    let big = "x".repeat(64 * 1024);
    // Fill the queue and the socket's buffers.
    while server.server.send(sid, big.as_str()).is_ok() {
        tokio::task::yield_now().await;
    }
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let event = server.disconnect_event().await;
            if event.ends_with("ping timeout") {
                return event;
            }
        }
    })
    .await
    .expect("the stalled session was not ended");
    assert_eq!(closed, format!("disconnect {sid} ping timeout"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.server.session_count() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the session was never forgotten"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(ws);
}
