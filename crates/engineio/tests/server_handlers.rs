//! Integration tests of how the server runs the application's handlers, over
//! real TCP on 127.0.0.1: handlers run on a per-session dispatcher, off the
//! transports' read/write path, so a slow handler never stalls its own
//! session's heartbeat or other sessions; the inbox is bounded and a full
//! inbox pauses reading without blaming the client; `async_handlers` runs
//! handlers concurrently; and the disconnect handler fires exactly once per
//! session, with the right reason, whichever path ended it.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use engineio::server::{ServerBuilder, ServerConfig};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use support::server::{TestServer, http, start_with};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type WsClient = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A heartbeat fast enough that a slow handler outlasts several pong
/// deadlines, and slow enough for a loaded CI machine to answer pings.
fn heartbeat() -> ServerConfig {
    ServerConfig::default()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(300))
}

/// How long the slow handler takes per message: 3x the ping timeout.
const SLOW: Duration = Duration::from_millis(900);

/// A server whose message handler sleeps [`SLOW`] for text starting with
/// "slow" (reporting "handled <text>" to the returned channel when done) and
/// echoes anything else at once.
async fn slow_server(config: ServerConfig) -> (TestServer, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let server = start_with(config, move |builder| {
        builder.on_message_async(move |socket, message| {
            let tx = tx.clone();
            async move {
                let text = match &message {
                    engineio::Message::Text(text) => text.clone(),
                    engineio::Message::Binary(_) => String::new(),
                };
                if text.starts_with("slow") {
                    tokio::time::sleep(SLOW).await;
                    let _ = tx.send(format!("handled {text}"));
                } else {
                    let _ = socket.send(message);
                }
            }
        })
    })
    .await;
    (server, rx)
}

/// Opens a WebSocket-only session and returns it with its sid.
async fn open_ws(server: &TestServer) -> (WsClient, String) {
    let url = format!(
        "ws://{}/engine.io/?EIO=4&transport=websocket",
        server.addr()
    );
    let mut ws = connect_async(url).await.unwrap().0;
    let Ws::Text(open) = next_frame(&mut ws).await else {
        panic!("no open packet");
    };
    let sid = serde_json::from_str::<Value>(&open[1..]).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    (ws, sid)
}

/// The next data frame within 5 s.
async fn next_frame(ws: &mut WsClient) -> Ws {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("no frame within 5 s")
            .expect("the WebSocket ended")
            .unwrap();
        if !matches!(frame, Ws::Ping(_) | Ws::Pong(_)) {
            return frame;
        }
    }
}

/// Receives from `rx` within 5 s.
async fn recv(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("nothing within 5 s")
        .unwrap()
}

#[tokio::test]
async fn a_slow_handler_over_websocket_keeps_order_heartbeat_and_other_sessions() {
    let (mut server, mut handled) = slow_server(heartbeat()).await;
    let (mut ws, sid) = open_ws(&server).await;
    for i in 0..10 {
        ws.send(Ws::text(format!("4slow {i}"))).await.unwrap();
    }
    // Another session's echo comes back while the slow one is still busy.
    let (mut other, _) = open_ws(&server).await;
    other.send(Ws::text("4quick")).await.unwrap();
    assert_eq!(next_frame(&mut other).await, Ws::text("4quick"));
    let done_before_echo = handled.try_recv().ok();
    assert!(
        done_before_echo.is_none_or(|first| first == "handled slow 0"),
        "the other session waited for the slow handler"
    );

    // Answer pings while the ten slow messages are handled, in order.
    let mut pings = 0;
    let mut order = Vec::new();
    while order.len() < 10 {
        tokio::select! {
            frame = next_frame(&mut ws) => {
                assert_eq!(frame, Ws::text("2"), "only pings are expected");
                pings += 1;
                ws.send(Ws::text("3")).await.unwrap();
            }
            line = recv(&mut handled) => order.push(line),
        }
    }
    let expected: Vec<String> = (0..10).map(|i| format!("handled slow {i}")).collect();
    assert_eq!(order, expected);
    // 9 s of handling at one ping every 300 ms after each pong.
    assert!(pings >= 5, "only {pings} pings while the handler ran");
    let typed: engineio::Sid = sid.parse().unwrap();
    assert!(
        server.server.session_ids().contains(&typed),
        "{sid} was closed"
    );
    ws.send(Ws::text("4still open")).await.unwrap();
    assert_eq!(next_frame(&mut ws).await, Ws::text("4still open"));
    while let Ok(event) = server.events.try_recv() {
        assert!(!event.starts_with(&format!("disconnect {sid}")), "{event}");
    }
}

#[tokio::test]
async fn a_slow_handler_over_polling_keeps_order_and_heartbeat_and_posts_are_answered_at_once() {
    let (server, mut handled) = slow_server(heartbeat()).await;
    let (sid, _) = server.handshake().await;
    let batch: Vec<String> = (0..10).map(|i| format!("4slow {i}")).collect();
    // The POST is answered as soon as its packets are in the inbox.
    assert_eq!(
        server.post(&sid, &batch.join("\u{1e}")).await,
        (200, "ok".to_owned())
    );
    assert!(handled.try_recv().is_err(), "the POST waited for a handler");

    let mut pings = 0;
    let mut order = Vec::new();
    let mut poll = tokio::spawn(get(server.session_url(&sid)));
    while order.len() < 10 {
        tokio::select! {
            body = &mut poll => {
                let (status, body) = body.unwrap();
                assert_eq!(status, 200, "{body}");
                for packet in body.split('\u{1e}') {
                    assert_eq!(packet, "2", "only pings are expected");
                    pings += 1;
                    assert_eq!(server.post(&sid, "3").await, (200, "ok".to_owned()));
                }
                poll = tokio::spawn(get(server.session_url(&sid)));
            }
            line = recv(&mut handled) => order.push(line),
        }
    }
    let expected: Vec<String> = (0..10).map(|i| format!("handled slow {i}")).collect();
    assert_eq!(order, expected);
    assert!(pings >= 5, "only {pings} pings while the handler ran");
    assert_eq!(server.server.session_ids().len(), 1);
    assert_eq!(server.post(&sid, "4echo").await, (200, "ok".to_owned()));
    // The echo comes in this poll or a later one (a ping may come first).
    loop {
        let (status, body) = poll.await.unwrap();
        assert_eq!(status, 200, "{body}");
        if body.split('\u{1e}').any(|p| p == "4echo") {
            break;
        }
        if body.split('\u{1e}').any(|p| p == "2") {
            assert_eq!(server.post(&sid, "3").await, (200, "ok".to_owned()));
        }
        poll = tokio::spawn(get(server.session_url(&sid)));
    }
}

async fn get(url: String) -> (u16, String) {
    let response = http().get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A server whose message handler waits for a permit of `gate` per message
/// and reports "handled <text>".
async fn gated_server(
    config: ServerConfig,
) -> (TestServer, Arc<Semaphore>, mpsc::UnboundedReceiver<String>) {
    let gate = Arc::new(Semaphore::new(0));
    let (tx, rx) = mpsc::unbounded_channel();
    let handler_gate = gate.clone();
    let server = start_with(config, move |builder: ServerBuilder| {
        builder.on_message_async(move |_socket, message| {
            let (gate, tx) = (handler_gate.clone(), tx.clone());
            async move {
                gate.acquire().await.unwrap().forget();
                let _ = tx.send(format!("handled {message:?}"));
            }
        })
    })
    .await;
    (server, gate, rx)
}

#[tokio::test]
async fn a_full_inbox_holds_the_post_and_pauses_the_pong_deadline_then_resumes() {
    let (server, gate, mut handled) = gated_server(heartbeat().max_inbox(2)).await;
    let (sid, _) = server.handshake().await;
    let batch: Vec<String> = (0..6).map(|i| format!("4m{i}")).collect();
    let post = {
        let (url, body) = (server.session_url(&sid), batch.join("\u{1e}"));
        tokio::spawn(async move {
            let response = http().post(url).body(body).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    };
    // The inbox holds two messages: the POST waits for room. Meanwhile the
    // server pings, and the client cannot answer (its POST is still out),
    // yet several pong deadlines pass without a ping timeout. Polls get the
    // ping, then noops from the poll safety net.
    let paused = tokio::time::Instant::now();
    let mut pings = 0;
    while paused.elapsed() < Duration::from_millis(1200) {
        let (status, body) = get(server.session_url(&sid)).await;
        assert_eq!(status, 200, "{body}");
        match body.as_str() {
            "2" => pings += 1,
            "6" => {}
            other => panic!("unexpected poll answer {other:?}"),
        }
    }
    assert_eq!(pings, 1);
    assert!(
        !post.is_finished(),
        "the POST was answered with a full inbox"
    );
    assert!(handled.try_recv().is_err());
    // Open the gate: every message is handled in order, the POST answered.
    gate.add_permits(6);
    assert_eq!(post.await.unwrap(), (200, "ok".to_owned()));
    for i in 0..6 {
        assert_eq!(recv(&mut handled).await, format!("handled Text(\"m{i}\")"));
    }
    assert_eq!(server.post(&sid, "3").await, (200, "ok".to_owned()));
    assert_eq!(
        server.server.session_ids().len(),
        1,
        "the session was closed"
    );
}

#[tokio::test]
async fn a_full_inbox_stops_reading_the_websocket_without_a_ping_timeout() {
    let (mut server, gate, mut handled) = gated_server(heartbeat().max_inbox(2)).await;
    let (mut ws, sid) = open_ws(&server).await;
    for i in 0..6 {
        ws.send(Ws::text(format!("4m{i}"))).await.unwrap();
    }
    // The ping comes and is answered, but the pong waits unread behind the
    // messages: several pong deadlines pass while reading is paused, and
    // the server does not close the session.
    assert_eq!(next_frame(&mut ws).await, Ws::text("2"));
    ws.send(Ws::text("3")).await.unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(1200), ws.next()).await;
    assert!(quiet.is_err(), "the server wrote {quiet:?} while paused");
    assert!(handled.try_recv().is_err());
    gate.add_permits(6);
    for i in 0..6 {
        assert_eq!(recv(&mut handled).await, format!("handled Text(\"m{i}\")"));
    }
    // Still open: the next ping comes, and is answered in time.
    assert_eq!(next_frame(&mut ws).await, Ws::text("2"));
    ws.send(Ws::text("3")).await.unwrap();
    assert_eq!(server.server.session_count(), 1);
    assert!(
        server
            .events
            .try_recv()
            .iter()
            .all(|e| !e.starts_with("disconnect")),
        "{sid} was disconnected"
    );
}

#[tokio::test]
async fn async_handlers_run_one_sessions_handlers_concurrently() {
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (tx, mut done) = mpsc::unbounded_channel();
    let (running2, most2) = (running.clone(), most.clone());
    let server = start_with(ServerConfig::default().async_handlers(true), move |b| {
        b.on_message_async(move |_socket, _message| {
            let (running, most, tx) = (running2.clone(), most2.clone(), tx.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(300)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                let _ = tx.send(());
            }
        })
    })
    .await;
    let (mut ws, _) = open_ws(&server).await;
    for i in 0..5 {
        ws.send(Ws::text(format!("4m{i}"))).await.unwrap();
    }
    for _ in 0..5 {
        tokio::time::timeout(Duration::from_secs(5), done.recv())
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(most.load(Ordering::SeqCst), 5, "handlers did not overlap");
}

#[tokio::test]
async fn ordered_handlers_never_overlap() {
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (tx, mut done) = mpsc::unbounded_channel();
    let (running2, most2) = (running.clone(), most.clone());
    let server = start_with(ServerConfig::default(), move |b| {
        b.on_message_async(move |_socket, message| {
            let (running, most, tx) = (running2.clone(), most2.clone(), tx.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(30)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                let _ = tx.send(message);
            }
        })
    })
    .await;
    let (mut ws, _) = open_ws(&server).await;
    for i in 0..5 {
        ws.send(Ws::text(format!("4m{i}"))).await.unwrap();
    }
    for i in 0..5 {
        let message = tokio::time::timeout(Duration::from_secs(5), done.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(message, engineio::Message::from(format!("m{i}")));
    }
    assert_eq!(most.load(Ordering::SeqCst), 1);
}

/// Collects the disconnect events of the test server for a while and
/// returns them, so a test can check there is exactly one.
async fn disconnects(server: &mut TestServer, within: Duration) -> Vec<String> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, server.events.recv()).await {
        if event.starts_with("disconnect") {
            seen.push(event);
        }
    }
    seen
}

#[tokio::test]
async fn the_disconnect_handler_fires_once_with_the_reason_of_each_path() {
    let mut server = start_with(heartbeat(), |b| b).await;
    let settle = Duration::from_millis(700);

    // A close packet by POST.
    let (sid, _) = server.handshake().await;
    server.post(&sid, "1").await;
    let expected = format!("disconnect {sid} client disconnect");
    assert_eq!(disconnects(&mut server, settle).await, [expected]);

    // The server's own disconnect, then the farewell poll.
    let (sid, _) = server.handshake().await;
    assert!(server.server.disconnect(sid.parse().unwrap()));
    assert!(!server.server.disconnect(sid.parse().unwrap()));
    assert_eq!(server.get(&sid).await, (200, "1".to_owned()));
    let expected = format!("disconnect {sid} server disconnect");
    assert_eq!(disconnects(&mut server, settle).await, [expected]);

    // No pong: ping timeout (the poll then gets the close packet, and the
    // sid is gone at once).
    let (sid, _) = server.handshake().await;
    assert_eq!(server.get(&sid).await, (200, "2".to_owned()));
    let expected = format!("disconnect {sid} ping timeout");
    assert_eq!(disconnects(&mut server, settle).await, [expected]);
    assert_eq!(server.get(&sid).await.0, 400);

    // Overlapping GETs.
    let (sid, _) = server.handshake().await;
    let first = server.pending_poll(&sid).await;
    assert_eq!(server.get(&sid).await.0, 400);
    assert_eq!(first.await.unwrap(), "1");
    let expected = format!("disconnect {sid} transport error");
    assert_eq!(disconnects(&mut server, settle).await, [expected]);

    // A long poll the client abandons.
    let (sid, _) = server.handshake().await;
    let poll = server.pending_poll(&sid).await;
    poll.abort();
    let expected = format!("disconnect {sid} transport error");
    assert_eq!(disconnects(&mut server, settle).await, [expected]);
    assert_eq!(server.get(&sid).await.0, 400);

    // A ping from the client (the wrong direction in v4), and a binary POST.
    let (sid, _) = server.handshake().await;
    assert_eq!(server.post(&sid, "2").await, (200, "ok".to_owned()));
    let expected = format!("disconnect {sid} transport error");
    assert_eq!(disconnects(&mut server, settle).await, [expected]);
    let (sid, _) = server.handshake().await;
    let response = http()
        .post(server.session_url(&sid))
        .header("content-type", "application/octet-stream")
        .body("4x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let expected = format!("disconnect {sid} transport error");
    assert_eq!(disconnects(&mut server, settle).await, [expected]);

    // A POST whose body never fully arrives.
    let (sid, _) = server.handshake().await;
    let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n4hello"
    );
    tokio::io::AsyncWriteExt::write_all(&mut tcp, head.as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(tcp);
    let expected = format!("disconnect {sid} transport error");
    assert_eq!(disconnects(&mut server, settle).await, [expected]);

    // The WebSocket closed by the client, and an undecodable frame.
    let (mut ws, sid) = open_ws(&server).await;
    ws.close(None).await.unwrap();
    let expected = format!("disconnect {sid} transport close");
    assert_eq!(disconnects(&mut server, settle).await, [expected]);
    let (mut ws, sid) = open_ws(&server).await;
    ws.send(Ws::text("9nonsense")).await.unwrap();
    assert!(matches!(next_frame(&mut ws).await, Ws::Close(_)));
    let expected = format!("disconnect {sid} transport error");
    assert_eq!(disconnects(&mut server, settle).await, [expected]);

    // Shutdown: every session gets its farewell and one disconnect.
    let (mut ws, sid) = open_ws(&server).await;
    let stopping = server.server.clone();
    let shutdown = tokio::spawn(async move { stopping.shutdown().await });
    assert_eq!(next_frame(&mut ws).await, Ws::text("1"));
    assert!(matches!(next_frame(&mut ws).await, Ws::Close(_)));
    shutdown.await.unwrap();
    let expected = format!("disconnect {sid} server disconnect");
    assert_eq!(disconnects(&mut server, settle).await, [expected]);
}

#[tokio::test]
async fn the_disconnect_handler_runs_after_the_messages_received_before_the_close() {
    let (tx, mut order) = mpsc::unbounded_channel();
    let tx2 = tx.clone();
    let server = start_with(ServerConfig::default(), move |b| {
        b.on_message_async(move |_socket, message| {
            let tx = tx.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = tx.send(format!("message {message:?}"));
            }
        })
        .on_disconnect(move |_socket, reason| {
            let _ = tx2.send(format!("disconnect {reason}"));
        })
    })
    .await;
    let (sid, _) = server.handshake().await;
    assert_eq!(
        server.post(&sid, "4a\u{1e}4b\u{1e}1").await,
        (200, "ok".to_owned())
    );
    assert_eq!(recv(&mut order).await, "message Text(\"a\")");
    assert_eq!(recv(&mut order).await, "message Text(\"b\")");
    assert_eq!(recv(&mut order).await, "disconnect client disconnect");
}

#[tokio::test]
async fn a_panicking_handler_does_not_stop_the_session() {
    let server = start_with(ServerConfig::default(), |b| {
        b.on_message(|socket, message| {
            if message == engineio::Message::from("boom") {
                panic!("handler failure (expected by the test)");
            }
            let _ = socket.send(message);
        })
    })
    .await;
    let (mut ws, _) = open_ws(&server).await;
    ws.send(Ws::text("4boom")).await.unwrap();
    ws.send(Ws::text("4after")).await.unwrap();
    assert_eq!(next_frame(&mut ws).await, Ws::text("4after"));
}

#[tokio::test]
async fn a_handshake_abandoned_during_the_connect_handler_leaves_no_session() {
    let (tx, mut seen) = mpsc::unbounded_channel();
    let tx2 = tx.clone();
    let server = start_with(ServerConfig::default(), move |b| {
        b.on_connect_async(move |_socket, _request| {
            let tx = tx.clone();
            async move {
                let _ = tx.send("connect started".to_owned());
                tokio::time::sleep(Duration::from_millis(400)).await;
                Ok(())
            }
        })
        .on_disconnect(move |_socket, reason| {
            let _ = tx2.send(format!("disconnect {reason}"));
        })
    })
    .await;
    let url = server.url("EIO=4&transport=polling");
    let handshake = tokio::spawn(async move { http().get(url).send().await });
    assert_eq!(recv(&mut seen).await, "connect started");
    assert_eq!(server.server.session_count(), 1);
    handshake.abort();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(server.server.session_count(), 0);
    assert!(
        seen.try_recv().is_err(),
        "a refused session reported a disconnect"
    );
}
