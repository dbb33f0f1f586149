//! Our client's WebTransport transport (feature `webtransport`) against our
//! server, in one process over real QUIC on 127.0.0.1, with the server's
//! certificate pinned by hash: a handshake over WebTransport and an upgrade
//! from polling, echoes of text and binary both ways, the heartbeat, a
//! client close and a server close.
#![cfg(all(feature = "client", feature = "webtransport"))]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use engineio::client::{Client, DisconnectReason, Event};
use engineio::server::{Server, ServerConfig, WebTransportConfig};
use engineio::{Message, Transport};
use support::client_events::{ask, drain, next_disconnect, next_event, next_message, next_text};
use support::within;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// An echo server on 127.0.0.1 (TCP) with a WebTransport listener on the
/// UDP port of the same number. It closes on `cmd:close`, names the
/// transport on `cmd:transport`, and reports each session's close reason.
struct WtServer {
    server: Server,
    url: String,
    hash: [u8; 32],
    closes: mpsc::UnboundedReceiver<String>,
}

impl WtServer {
    async fn start() -> Self {
        for _ in 0..20 {
            let (tx, closes) = mpsc::unbounded_channel();
            let config = ServerConfig::default()
                .ping_interval(Duration::from_millis(300))
                .ping_timeout(Duration::from_millis(200))
                .close_timeout(Duration::from_secs(2));
            let server = Server::builder()
                .config(config)
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
            let addr: SocketAddr = listener.local_addr().unwrap();
            let Ok(socket) = std::net::UdpSocket::bind(addr) else {
                continue;
            };
            let webtransport = WebTransportConfig::self_signed(["127.0.0.1"]).unwrap();
            let hash = webtransport.certificate_hash();
            tokio::spawn({
                let server = server.clone();
                async move { server.serve(listener).await }
            });
            tokio::spawn({
                let server = server.clone();
                async move { server.serve_webtransport(socket, webtransport).await }
            });
            // The listener counts itself once its task has started.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Self {
                server,
                url: format!("http://{addr}"),
                hash,
                closes,
            };
        }
        panic!("no free UDP port beside the HTTP one");
    }

    fn client(&self, transports: &[Transport]) -> Client {
        Client::builder()
            .transports(transports.iter().copied())
            .webtransport_certificate_hash(self.hash)
            .build()
            .unwrap()
    }

    async fn next_close(&mut self) -> String {
        within(self.closes.recv()).await.unwrap()
    }
}

/// A handshake over WebTransport, and polling upgraded to it.
fn transport_sets() -> [&'static [Transport]; 3] {
    [
        &[Transport::WebTransport],
        &[Transport::Polling, Transport::WebTransport],
        &[
            Transport::Polling,
            Transport::WebSocket,
            Transport::WebTransport,
        ],
    ]
}

/// Connects and waits until the session runs over WebTransport.
async fn connect(server: &WtServer, transports: &[Transport]) -> Client {
    let client = server.client(transports);
    within(client.connect(&server.url)).await.unwrap();
    assert_eq!(next_event(&client).await, Event::Connect);
    if transports.contains(&Transport::Polling) {
        assert_eq!(
            next_event(&client).await,
            Event::Upgrade(Transport::WebTransport),
            "{transports:?}"
        );
    }
    assert_eq!(client.transport(), Some(Transport::WebTransport));
    client
}

#[tokio::test]
async fn echo_text_and_binary_then_client_disconnect() {
    let mut server = WtServer::start().await;
    for transports in transport_sets() {
        let client = connect(&server, transports).await;
        assert_eq!(
            ask(&client, "cmd:transport").await,
            "transport:webtransport"
        );
        client.send("héllo 🦀").unwrap();
        assert_eq!(next_message(&client).await, Message::from("héllo 🦀"));
        client.send(vec![0u8, 0x1e, 255]).unwrap();
        assert_eq!(
            next_message(&client).await,
            Message::from(vec![0u8, 0x1e, 255])
        );
        client.send(Vec::<u8>::new()).unwrap();
        assert_eq!(next_message(&client).await, Message::from(Vec::<u8>::new()));
        let big = "x".repeat(100_000);
        client.send(big.clone()).unwrap();
        assert_eq!(next_text(&client).await, big);
        let big = vec![7u8; 70_000];
        client.send(big.clone()).unwrap();
        assert_eq!(next_message(&client).await, Message::from(big));
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
        assert_eq!(
            server.next_close().await,
            "client disconnect",
            "{transports:?}"
        );
    }
    server.server.shutdown().await;
}

#[tokio::test]
async fn the_heartbeat_keeps_the_session_through_several_pings() {
    let mut server = WtServer::start().await;
    for transports in &transport_sets()[..2] {
        let client = connect(&server, transports).await;
        // 300 ms pings within 200 ms: 1.5 s is several of them.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(ask(&client, "still here").await, "still here");
        assert_eq!(client.transport(), Some(Transport::WebTransport));
        within(client.disconnect()).await;
        assert_eq!(
            server.next_close().await,
            "client disconnect",
            "{transports:?}"
        );
    }
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_server_close_is_a_server_disconnect() {
    let mut server = WtServer::start().await;
    for transports in &transport_sets()[..2] {
        let client = connect(&server, transports).await;
        client.send("cmd:close").unwrap();
        assert_eq!(
            next_disconnect(&client).await,
            DisconnectReason::ServerDisconnect,
            "{transports:?}"
        );
        assert_eq!(
            server.next_close().await,
            "server disconnect",
            "{transports:?}"
        );
    }
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_wrong_certificate_hash_fails_the_handshake_or_the_upgrade() {
    let server = WtServer::start().await;
    // Over WebTransport only, the handshake fails.
    let client = Client::builder()
        .transports([Transport::WebTransport])
        .webtransport_certificate_hash([0u8; 32])
        .request_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    assert!(within(client.connect(&server.url)).await.is_err());
    // From polling, the upgrade fails and polling goes on.
    let client = Client::builder()
        .transports([Transport::Polling, Transport::WebTransport])
        .webtransport_certificate_hash([0u8; 32])
        .request_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    within(client.connect(&server.url)).await.unwrap();
    assert_eq!(next_event(&client).await, Event::Connect);
    assert!(matches!(next_event(&client).await, Event::UpgradeError(_)));
    assert_eq!(ask(&client, "cmd:transport").await, "transport:polling");
    within(client.disconnect()).await;
    server.server.shutdown().await;
}
