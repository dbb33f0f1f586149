//! Our client against our server, in one process: no peer to install, so
//! these always run.
#![cfg(all(feature = "client", feature = "server"))]

mod support;

use std::time::Duration;

use engineio::client::{Client, ConnectionError, DisconnectReason, Event};
use engineio::server::{Rejection, Server, ServerConfig};
use engineio::{Message, Transport};
use support::client_events::{ask, drain, next_disconnect, next_event, next_message, next_text};
use support::within;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A server on 127.0.0.1:0 that echoes, closes on `cmd:close`, names the
/// transport on `cmd:transport`, and reports each session's close reason.
struct TestServer {
    server: Server,
    url: String,
    closes: mpsc::UnboundedReceiver<String>,
}

impl TestServer {
    async fn start(reject: Option<serde_json::Value>) -> Self {
        let (tx, closes) = mpsc::unbounded_channel();
        let config = ServerConfig::default()
            .ping_interval(Duration::from_millis(300))
            .ping_timeout(Duration::from_millis(200))
            .close_timeout(Duration::from_secs(2));
        let server = Server::builder()
            .config(config)
            .on_connect(move |_socket, _request| match &reject {
                Some(data) => Err(Rejection::with_data(data.clone())),
                None => Ok(()),
            })
            .on_message(|socket, message| match &message {
                Message::Text(text) if text == "cmd:close" => {
                    socket.disconnect();
                }
                Message::Text(text) if text == "cmd:transport" => {
                    let _ = socket.send(format!("transport:{}", socket.transport()));
                }
                _ => {
                    let _ = socket.send(message);
                }
            })
            .on_disconnect(move |_socket, reason| {
                let _ = tx.send(reason.to_string());
            })
            .build();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn({
            let server = server.clone();
            async move { server.serve(listener).await }
        });
        Self {
            server,
            url,
            closes,
        }
    }

    async fn next_close(&mut self) -> String {
        within(self.closes.recv()).await.unwrap()
    }
}

fn transport_sets() -> [&'static [Transport]; 3] {
    [
        &[Transport::Polling],
        &[Transport::WebSocket],
        &[Transport::Polling, Transport::WebSocket],
    ]
}

#[tokio::test]
async fn echo_and_client_disconnect() {
    let mut server = TestServer::start(None).await;
    for transports in transport_sets() {
        let client = Client::builder()
            .transports(transports.iter().copied())
            .build()
            .unwrap();
        client.connect(&server.url).await.unwrap();
        assert_eq!(next_event(&client).await, Event::Connect);
        if transports.len() == 2 {
            assert_eq!(
                next_event(&client).await,
                Event::Upgrade(Transport::WebSocket)
            );
        }
        let expected = format!("transport:{}", transports[transports.len() - 1]);
        assert_eq!(ask(&client, "cmd:transport").await, expected);
        client.send("héllo 🦀").unwrap();
        assert_eq!(next_message(&client).await, Message::from("héllo 🦀"));
        client.send(vec![0u8, 0x1e, 255]).unwrap();
        assert_eq!(
            next_message(&client).await,
            Message::from(vec![0u8, 0x1e, 255])
        );
        for i in 0..100 {
            client.send(format!("n{i}")).unwrap();
        }
        for i in 0..100 {
            assert_eq!(next_text(&client).await, format!("n{i}"));
        }
        within(client.disconnect()).await;
        assert_eq!(
            drain(&client).await,
            [Event::Disconnect(DisconnectReason::ClientDisconnect)]
        );
        // The close packet reached the server before the transport closed.
        assert_eq!(
            server.next_close().await,
            "client disconnect",
            "{transports:?}"
        );
    }
    server.server.shutdown().await;
}

#[tokio::test]
async fn server_disconnect() {
    let mut server = TestServer::start(None).await;
    for transports in transport_sets() {
        let client = Client::builder()
            .transports(transports.iter().copied())
            .build()
            .unwrap();
        client.connect(&server.url).await.unwrap();
        client.send("cmd:close").unwrap();
        assert_eq!(
            next_disconnect(&client).await,
            DisconnectReason::ServerDisconnect,
            "{transports:?}"
        );
        assert_eq!(server.next_close().await, "server disconnect");
    }
}

#[tokio::test]
async fn rejection_carries_the_json() {
    let server = TestServer::start(Some(serde_json::json!({"reason": "nope"}))).await;
    for transports in [&[Transport::Polling][..], &[Transport::WebSocket]] {
        let client = Client::builder()
            .transports(transports.iter().copied())
            .build()
            .unwrap();
        let err = client.connect(&server.url).await.unwrap_err();
        assert_eq!(
            err,
            ConnectionError::Rejected {
                status: 401,
                body: Some(serde_json::json!({"reason": "nope"})),
            },
            "{transports:?}"
        );
    }
}

#[tokio::test]
async fn the_send_queue_is_bounded_and_drains() {
    let server = TestServer::start(None).await;
    for transports in [&[Transport::Polling][..], &[Transport::WebSocket]] {
        let client = Client::builder()
            .transports(transports.iter().copied())
            .max_queue(2)
            .build()
            .unwrap();
        client.connect(&server.url).await.unwrap();
        // The test runtime has one thread: the session task cannot write
        // anything between these synchronous sends.
        client.send("one").unwrap();
        client.send("two").unwrap();
        assert_eq!(
            client.send("three"),
            Err(engineio::client::SendError::QueueFull { limit: 2 })
        );
        assert_eq!(next_text(&client).await, "one");
        assert_eq!(next_text(&client).await, "two");
        // Written: the queue has room again.
        assert_eq!(ask(&client, "four").await, "four");
        within(client.disconnect()).await;
    }
}

#[tokio::test]
async fn a_refused_connection_keeps_its_cause_and_says_so() {
    use std::error::Error as _;
    // Port 1 on loopback: nothing listens there, and no test listener can
    // take it (they draw from the ephemeral range).
    let port = 1;
    let client = engineio::client::Client::builder().build().unwrap();
    let err = client
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert!(err.is_refused(), "{err:?}");
    assert!(!err.is_timeout() && !err.is_tls() && !err.is_rejected());
    assert!(err.source().is_some(), "the cause is kept");
}

#[tokio::test]
async fn an_aborted_disconnect_sends_no_close_packet_and_carries_its_reason() {
    let mut server = TestServer::start(None).await;
    let client = Client::builder()
        .transports([Transport::WebSocket])
        .build()
        .unwrap();
    client.connect(&server.url).await.unwrap();
    assert_eq!(next_event(&client).await, Event::Connect);
    within(client.disconnect_with(true, DisconnectReason::PingTimeout)).await;
    assert_eq!(
        drain(&client).await,
        [Event::Disconnect(DisconnectReason::PingTimeout)]
    );
    // No close packet: the server sees the transport go away.
    assert_eq!(server.next_close().await, "transport close");
}

#[tokio::test]
async fn disconnect_during_the_handshake_cancels_connect() {
    // A server that never answers the handshake: a listener nobody serves.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let client = Client::builder().build().unwrap();
    let connecting = {
        let client = client.clone();
        tokio::spawn(async move { client.connect(&url).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    within(client.disconnect()).await;
    let err = within(connecting).await.unwrap().unwrap_err();
    assert!(err.to_string().contains("disconnect()"), "{err}");
    assert_eq!(client.state(), engineio::client::State::Disconnected);
    drop(listener);
}

#[tokio::test]
async fn our_server_picks_the_first_websocket_subprotocol() {
    let server = TestServer::start(None).await;
    let client = Client::builder()
        .transports([Transport::WebSocket])
        .websocket_protocols(["chat.v2", "chat"])
        .build()
        .unwrap();
    // tungstenite fails the handshake unless the server picks one.
    client.connect(&server.url).await.unwrap();
    assert_eq!(ask(&client, "cmd:transport").await, "transport:websocket");
    within(client.disconnect()).await;
}

#[tokio::test]
async fn undelivered_messages_pause_reading_and_none_is_lost() {
    let mut server = TestServer::start(None).await;
    let client = Client::builder()
        .transports([Transport::WebSocket])
        .max_events(2)
        .build()
        .unwrap();
    client.connect(&server.url).await.unwrap();
    for i in 0..20 {
        client.send(format!("m{i}")).unwrap();
    }
    // Nobody takes the echoes: after two, the client stops reading, so it
    // does not see (nor answer) the server's pings either. The session ends
    // on a missed heartbeat: the server's (300 ms interval, 200 ms timeout:
    // "ping timeout") or the client's own watchdog, which then closes its
    // WebSocket ("transport close"), whichever fires first. Reading on,
    // neither would happen.
    let close = server.next_close().await;
    assert!(
        ["ping timeout", "transport close"].contains(&close.as_str()),
        "{close}"
    );
    // Every echo read before is still delivered, in order, then the end.
    assert_eq!(next_event(&client).await, Event::Connect);
    let mut texts = Vec::new();
    loop {
        match next_event(&client).await {
            Event::Message(Message::Text(text)) => texts.push(text),
            Event::Disconnect(_) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    let expected: Vec<String> = (0..texts.len()).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected);
    assert!(texts.len() >= 2, "{texts:?}");
}

#[tokio::test]
async fn a_connect_handler_can_refuse_the_session() {
    let mut server = TestServer::start(None).await;
    for transports in transport_sets() {
        let client = Client::builder()
            .transports(transports.iter().copied())
            .build()
            .unwrap();
        client.on_connect(|| -> Result<(), String> { Err("not this server".into()) });
        client.connect(&server.url).await.unwrap();
        // The messages of a refused session are not delivered (an upgrade
        // racing the close may still be reported).
        let _ = client.send("never echoed to the application");
        let events: Vec<Event> = drain(&client)
            .await
            .into_iter()
            .filter(|e| !matches!(e, Event::Upgrade(_) | Event::UpgradeError(_)))
            .collect();
        assert_eq!(
            events,
            [Event::Disconnect(DisconnectReason::ClientDisconnect)],
            "{transports:?}"
        );
        assert_eq!(server.next_close().await, "client disconnect");
    }
}
