//! Graceful shutdown with clients on both transports and one in the middle
//! of an upgrade: messages queued before it are delivered, every client
//! gets a close packet, every disconnect handler runs once, the listener
//! refuses connections at once, and `serve` returns once its connections
//! are done.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use engineio::server::{Server, ServerConfig};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A polling client on one keep-alive HTTP/1.1 connection (as browsers and
/// engine.io-client keep theirs).
struct KeepAlive {
    stream: BufReader<TcpStream>,
    host: String,
}

impl KeepAlive {
    async fn connect(addr: std::net::SocketAddr) -> Self {
        let stream = BufReader::new(TcpStream::connect(addr).await.unwrap());
        Self {
            stream,
            host: addr.to_string(),
        }
    }

    /// GETs `path` and returns the body.
    async fn get(&mut self, path: &str) -> String {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
        self.stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).await.unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await.unwrap();
        String::from_utf8(body).unwrap()
    }

    /// A polling handshake: the session id.
    async fn handshake(&mut self) -> String {
        let body = self.get("/engine.io/?EIO=4&transport=polling").await;
        let open: serde_json::Value = serde_json::from_str(&body[1..]).unwrap();
        open["sid"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn shutdown_delivers_closes_every_session_and_stops_listening() {
    let closed = Arc::new(Mutex::new(Vec::new()));
    let record = closed.clone();
    let server = Server::builder()
        .config(ServerConfig::default().close_timeout(Duration::from_secs(30)))
        .on_disconnect(move |socket, reason| {
            record
                .lock()
                .unwrap()
                .push((socket.sid(), reason.to_string()));
        })
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = server.clone();
    let serve = tokio::spawn(async move { serving.serve(listener).await });

    // A polling client, a WebSocket client, and one between `3probe` and `5`.
    let mut polling_client = KeepAlive::connect(addr).await;
    let polling = polling_client.handshake().await;
    let ws_url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
    let (mut websocket, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    let open = websocket
        .next()
        .await
        .unwrap()
        .unwrap()
        .into_text()
        .unwrap();
    let ws_sid: serde_json::Value = serde_json::from_str(&open[1..]).unwrap();
    let ws_sid = ws_sid["sid"].as_str().unwrap().to_owned();
    let mut upgrading_client = KeepAlive::connect(addr).await;
    let upgrading = upgrading_client.handshake().await;
    let (mut probe, _) = tokio_tungstenite::connect_async(format!("{ws_url}&sid={upgrading}"))
        .await
        .unwrap();
    probe.send(WsMessage::Text("2probe".into())).await.unwrap();
    let answer = probe.next().await.unwrap().unwrap().into_text().unwrap();
    assert_eq!(answer.as_str(), "3probe");

    // Messages queued for each, then the shutdown.
    for sid in [&polling, &ws_sid, &upgrading] {
        server
            .send(sid.parse().unwrap(), format!("bye {sid}"))
            .unwrap();
    }
    let stopping = server.clone();
    let shutdown = tokio::spawn(async move { stopping.shutdown().await });

    // The listener refuses new connections at once.
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        refused,
        "the listener still accepted connections a second after shutdown"
    );

    // The WebSocket client gets its message, then the close packet.
    let mut frames = Vec::new();
    while let Some(Ok(frame)) = websocket.next().await {
        match frame {
            WsMessage::Text(text) => frames.push(text.as_str().to_owned()),
            WsMessage::Close(_) => break,
            _ => {}
        }
    }
    assert_eq!(frames, [format!("4bye {ws_sid}"), "1".to_owned()]);

    // The polling clients poll on their connections: their message, then
    // the close packet (the upgrading one never sent `5`: it is still on
    // polling, and its probe WebSocket is closed).
    for (client, sid) in [
        (&mut polling_client, &polling),
        (&mut upgrading_client, &upgrading),
    ] {
        let body = client
            .get(&format!("/engine.io/?EIO=4&transport=polling&sid={sid}"))
            .await;
        assert_eq!(body, format!("4bye {sid}\u{1e}1"));
    }
    assert!(matches!(
        probe.next().await,
        None | Some(Ok(WsMessage::Close(_)) | Err(_))
    ));

    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("shutdown hung")
        .unwrap();
    assert_eq!(server.session_count(), 0);
    tokio::time::timeout(Duration::from_secs(10), serve)
        .await
        .expect("serve did not return after the shutdown")
        .unwrap();

    let mut closed = closed.lock().unwrap().clone();
    closed.sort();
    let mut expected: Vec<_> = [&polling, &ws_sid, &upgrading]
        .iter()
        .map(|sid| (sid.parse().unwrap(), "server disconnect".to_owned()))
        .collect();
    expected.sort();
    assert_eq!(closed, expected, "each disconnect handler runs once");
}

/// A shutdown that comes before `serve` has started (a task spawned just
/// before it, not yet run) still stops it: `serve` then returns at once.
#[tokio::test]
async fn a_shutdown_before_serve_starts_still_stops_it() {
    let server = Server::builder().build();
    server.shutdown().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), server.serve(listener))
        .await
        .expect("serve kept running after the shutdown");
}
