//! Integration tests of the server's WebSocket transport over real TCP on
//! 127.0.0.1: WebSocket-only sessions, the upgrade from polling, its timeout,
//! the heartbeat, and closes.

mod support;

use std::time::Duration;

use engineio::Sid;
use engineio::server::{Rejection, ServerConfig};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use support::server::{TestServer, fast_heartbeat, http, short, start_with};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The support echo server, whose connect handler greets with "welcome" and
/// refuses requests carrying an `x-reject` header.
async fn start(config: ServerConfig) -> TestServer {
    start_with(config, |builder| {
        builder.on_connect(|socket, request| {
            if request.headers.contains_key("x-reject") {
                return Err(Rejection::unauthorized());
            }
            let _ = socket.send("welcome");
            Ok(())
        })
    })
    .await
}

/// Opens a WebSocket to the engine.io path; `query` is appended.
async fn open_ws(server: &TestServer, query: &str) -> Client {
    let url = format!(
        "ws://{}/engine.io/?EIO=4&transport=websocket{query}",
        server.addr()
    );
    connect_async(url).await.unwrap().0
}

/// The next data frame, skipping nothing: WebSocket pings are answered by tungstenite.
async fn next(ws: &mut Client) -> Ws {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("no frame within 10 s")
            .expect("the WebSocket ended")
            .unwrap();
        if !matches!(frame, Ws::Ping(_) | Ws::Pong(_)) {
            return frame;
        }
    }
}

async fn next_text(ws: &mut Client) -> String {
    match next(ws).await {
        Ws::Text(text) => text.as_str().to_owned(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// The next non-ping text frame; pings are answered.
async fn next_answering_pings(ws: &mut Client) -> Ws {
    loop {
        let frame = next(ws).await;
        if matches!(&frame, Ws::Text(t) if t.as_str() == "2") {
            ws.send(Ws::text("3")).await.unwrap();
            continue;
        }
        return frame;
    }
}

#[tokio::test]
async fn websocket_only_session_echoes_text_and_binary() {
    let mut server = start(short()).await;
    let mut ws = open_ws(&server, "").await;
    let open = next_text(&mut ws).await;
    let handshake: Value = serde_json::from_str(open.strip_prefix('0').unwrap()).unwrap();
    assert_eq!(handshake["upgrades"], serde_json::json!([]));
    assert_eq!(next_text(&mut ws).await, "4welcome");

    ws.send(Ws::text("4héllo 👋")).await.unwrap();
    assert_eq!(next_answering_pings(&mut ws).await, Ws::text("4héllo 👋"));
    let all_bytes: Vec<u8> = (0..=255).collect();
    ws.send(Ws::binary(all_bytes.clone())).await.unwrap();
    assert_eq!(next_answering_pings(&mut ws).await, Ws::binary(all_bytes));
    // A base64 text frame (clients with forceBase64) is a binary message too.
    ws.send(Ws::text("bAQID")).await.unwrap();
    assert_eq!(
        next_answering_pings(&mut ws).await,
        Ws::binary(vec![1u8, 2, 3])
    );
    assert_eq!(server.event().await, "message Text(\"héllo 👋\")");

    let sid = handshake["sid"].as_str().unwrap().to_owned();
    assert_eq!(
        server.server.transport(sid.parse().unwrap()),
        Some(engineio::Transport::WebSocket)
    );
    ws.close(None).await.unwrap();
    assert_eq!(
        server.disconnect_event().await,
        format!("disconnect {sid} transport close")
    );
}

#[tokio::test]
async fn websocket_heartbeat_and_ping_timeout() {
    let mut server = start(fast_heartbeat()).await;
    let mut ws = open_ws(&server, "").await;
    let open = next_text(&mut ws).await;
    let sid = serde_json::from_str::<Value>(&open[1..]).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(next_text(&mut ws).await, "4welcome");
    for _ in 0..3 {
        assert_eq!(next_text(&mut ws).await, "2");
        ws.send(Ws::text("3")).await.unwrap();
    }
    // Stop answering: the server closes the WebSocket ("ping timeout"); as
    // with the Node server, no close packet: the client is deemed gone.
    assert_eq!(next_text(&mut ws).await, "2");
    assert!(matches!(next(&mut ws).await, Ws::Close(_)));
    assert_eq!(
        server.disconnect_event().await,
        format!("disconnect {sid} ping timeout")
    );
}

#[tokio::test]
async fn server_disconnect_over_websocket_sends_close_packet() {
    let mut server = start(short()).await;
    let mut ws = open_ws(&server, "").await;
    let open = next_text(&mut ws).await;
    let sid: Sid = serde_json::from_str::<Value>(&open[1..]).unwrap()["sid"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(next_text(&mut ws).await, "4welcome");
    assert!(server.server.disconnect(sid));
    assert_eq!(next_text(&mut ws).await, "1");
    assert!(matches!(next(&mut ws).await, Ws::Close(_)));
    assert_eq!(
        server.disconnect_event().await,
        format!("disconnect {sid} server disconnect")
    );
}

#[tokio::test]
async fn oversized_websocket_message_closes_the_session() {
    let mut server = start(short().max_http_buffer_size(64)).await;
    let mut ws = open_ws(&server, "").await;
    let open = next_text(&mut ws).await;
    let sid = serde_json::from_str::<Value>(&open[1..]).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    ws.send(Ws::text(format!("4{}", "x".repeat(100))))
        .await
        .unwrap();
    assert_eq!(
        server.disconnect_event().await,
        format!("disconnect {sid} transport error")
    );
}

#[tokio::test]
async fn rejected_websocket_handshake_gets_401() {
    let server = start(short()).await;
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{}/engine.io/?EIO=4&transport=websocket",
            server.addr()
        ))
        .unwrap();
    request
        .headers_mut()
        .insert("x-reject", "1".parse().unwrap());
    match connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
            assert_eq!(response.body().as_deref(), Some(&b"\"Unauthorized\""[..]));
        }
        other => panic!("expected a 401, got {other:?}"),
    }
}

#[tokio::test]
async fn upgrade_releases_the_poll_and_moves_the_queue_to_the_websocket() {
    let mut server = start(short()).await;
    let body = http()
        .get(format!(
            "http://{}/engine.io/?EIO=4&transport=polling",
            server.addr()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (open, welcome) = body.split_once('\u{1e}').unwrap();
    assert_eq!(welcome, "4welcome");
    let sid = serde_json::from_str::<Value>(&open[1..]).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let sid_typed: Sid = sid.parse().unwrap();

    let pending = server.pending_poll(&sid).await;
    let mut ws = open_ws(&server, &format!("&sid={sid}")).await;
    ws.send(Ws::text("2probe")).await.unwrap();
    assert_eq!(next_text(&mut ws).await, "3probe");
    // The pending poll is released with a noop at once.
    assert_eq!(pending.await.unwrap(), "6");
    // Sent while the client pauses: delivered over the WebSocket after `5`.
    server.server.send(sid_typed, "during the upgrade").unwrap();
    ws.send(Ws::text("5")).await.unwrap();
    assert_eq!(
        next_answering_pings(&mut ws).await,
        Ws::text("4during the upgrade")
    );
    assert_eq!(
        server.server.transport(sid_typed),
        Some(engineio::Transport::WebSocket)
    );
    ws.send(Ws::text("4after")).await.unwrap();
    assert_eq!(next_answering_pings(&mut ws).await, Ws::text("4after"));

    // Polling is over for this session.
    let response = http().get(server.session_url(&sid)).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["code"], 3);
    // A second WebSocket is accepted, then closed at once (as the Node
    // server does); the session and its WebSocket are untouched.
    let mut second = open_ws(&server, &format!("&sid={sid}")).await;
    assert!(matches!(next(&mut second).await, Ws::Close(_)));
    assert_eq!(server.event().await, "message Text(\"after\")");
    ws.send(Ws::text("4still here")).await.unwrap();
    assert_eq!(next_answering_pings(&mut ws).await, Ws::text("4still here"));
}

#[tokio::test]
async fn an_upgrade_that_never_completes_times_out_and_polling_goes_on() {
    let mut server = start(short().upgrade_timeout(Duration::from_millis(300))).await;
    let (sid, _) = server.handshake().await;
    let mut ws = open_ws(&server, &format!("&sid={sid}")).await;
    // No probe: the server gives up on the WebSocket after the upgrade timeout.
    assert!(matches!(next(&mut ws).await, Ws::Close(_)));
    // The session is alive on polling, and can try again.
    let response = http()
        .post(server.session_url(&sid))
        .body("4still polling")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "ok");
    let polled = http()
        .get(server.session_url(&sid))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(polled.contains("4still polling"), "{polled}");
    assert_eq!(server.event().await, "message Text(\"still polling\")");
    let mut ws = open_ws(&server, &format!("&sid={sid}")).await;
    ws.send(Ws::text("2probe")).await.unwrap();
    assert_eq!(next_text(&mut ws).await, "3probe");
}

#[tokio::test]
async fn a_wrong_packet_during_the_probe_aborts_the_upgrade() {
    let server = start(short()).await;
    let (sid, _) = server.handshake().await;
    let mut ws = open_ws(&server, &format!("&sid={sid}")).await;
    ws.send(Ws::text("4not a probe")).await.unwrap();
    assert!(matches!(next(&mut ws).await, Ws::Close(_)));
    assert_eq!(
        server.server.transport(sid.parse().unwrap()),
        Some(engineio::Transport::Polling)
    );
}
