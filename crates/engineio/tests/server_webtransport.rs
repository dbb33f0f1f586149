//! The server's WebTransport transport (feature `webtransport`) over real
//! QUIC on 127.0.0.1, driven by the `wtransport` crate's client with the
//! server's certificate pinned by hash: sessions opened over WebTransport,
//! the upgrade of a polling session, the heartbeat, limits, refusals, the
//! hooks, the origin check and shutdown.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use engineio::Transport;
use engineio::server::{Rejection, ServerConfig, WebTransportConfig};
use engineio_proto::webtransport::{FrameDecoder, OpenRequest, encode};
use engineio_proto::{Frame, Packet};
use serde_json::Value;
use support::server::{TestServer, fast_heartbeat, short, start_with};
use wtransport::endpoint::ConnectOptions;
use wtransport::tls::Sha256Digest;
use wtransport::{ClientConfig, Connection, Endpoint, RecvStream, SendStream};

/// A test server on 127.0.0.1 with a WebTransport listener on the UDP port
/// of the same number as its HTTP port.
struct WtServer {
    http: TestServer,
    udp: SocketAddr,
    hash: [u8; 32],
}

/// Starts the support echo server, customized, and a WebTransport listener
/// beside it (retrying when the UDP port of that number is taken).
async fn start_wt_with(
    config: ServerConfig,
    customize: impl Fn(engineio::server::ServerBuilder) -> engineio::server::ServerBuilder,
) -> WtServer {
    for _ in 0..20 {
        let http = start_with(config.clone(), &customize).await;
        let addr: SocketAddr = http.addr().parse().unwrap();
        let Ok(socket) = std::net::UdpSocket::bind(addr) else {
            continue;
        };
        let webtransport = WebTransportConfig::self_signed(["127.0.0.1"]).unwrap();
        let hash = webtransport.certificate_hash();
        let server = http.server.clone();
        tokio::spawn(async move { server.serve_webtransport(socket, webtransport).await });
        // The listener counts itself once its task has started.
        tokio::time::sleep(Duration::from_millis(50)).await;
        return WtServer {
            http,
            udp: addr,
            hash,
        };
    }
    panic!("no free UDP port beside the HTTP one");
}

async fn start_wt(config: ServerConfig) -> WtServer {
    start_wt_with(config, |builder| builder).await
}

/// A WebTransport client with the server's certificate pinned by hash, on
/// the stream of its Engine.IO session.
struct WtClient {
    _endpoint: Endpoint<wtransport::endpoint::endpoint_side::Client>,
    _connection: Connection,
    send: SendStream,
    recv: RecvStream,
    decoder: FrameDecoder,
}

impl WtClient {
    async fn connect(server: &WtServer) -> Self {
        Self::connect_with(server, "/engine.io/", None)
            .await
            .expect("WebTransport session")
    }

    async fn connect_with(
        server: &WtServer,
        path: &str,
        origin: Option<&str>,
    ) -> Result<Self, String> {
        let config = ClientConfig::builder()
            .with_bind_default()
            .with_server_certificate_hashes([Sha256Digest::new(server.hash)])
            .build();
        let endpoint = Endpoint::client(config).unwrap();
        let url = format!("https://{}{path}", server.udp);
        let mut options = ConnectOptions::builder(url);
        if let Some(origin) = origin {
            options = options.add_header("origin", origin);
        }
        let connection =
            tokio::time::timeout(Duration::from_secs(10), endpoint.connect(options.build()))
                .await
                .map_err(|_| "connect timed out".to_owned())?
                .map_err(|err| err.to_string())?;
        let (send, recv) = connection
            .open_bi()
            .await
            .map_err(|err| err.to_string())?
            .await
            .map_err(|err| err.to_string())?;
        Ok(Self {
            _endpoint: endpoint,
            _connection: connection,
            send,
            recv,
            decoder: FrameDecoder::new(usize::MAX),
        })
    }

    async fn write_raw(&mut self, bytes: &[u8]) {
        self.send.write_all(bytes).await.unwrap();
    }

    async fn write(&mut self, packet: &Packet) {
        self.write_raw(&encode(packet)).await;
    }

    /// The next frame, or `None` once the stream or the connection ended.
    async fn next_frame(&mut self) -> Option<Frame> {
        let mut buf = vec![0u8; 4096];
        loop {
            if let Some(frame) = self.decoder.next_frame().unwrap() {
                return Some(frame);
            }
            let read = tokio::time::timeout(Duration::from_secs(10), self.recv.read(&mut buf))
                .await
                .expect("nothing read within 10 s");
            match read {
                Ok(Some(n)) => self.decoder.push(&buf[..n]),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    async fn next_text(&mut self) -> String {
        match self.next_frame().await {
            Some(Frame::Text(text)) => text,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// Opens a new session: `0`, then the server's open packet.
    async fn open(&mut self) -> Value {
        self.write_raw(&OpenRequest::New.encode()).await;
        let open = self.next_text().await;
        serde_json::from_str(open.strip_prefix('0').expect("an open packet")).unwrap()
    }

    /// Whether the server ended the session (the stream ends within 10 s).
    async fn ended(&mut self) -> bool {
        loop {
            match self.next_frame().await {
                None => return true,
                Some(Frame::Text(text)) if text == "2" => {}
                Some(other) => panic!("expected the end, got {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn a_session_opened_over_webtransport_echoes_text_and_binary() {
    let mut server = start_wt(short()).await;
    let mut client = WtClient::connect(&server).await;
    let open = client.open().await;
    let sid = open["sid"].as_str().unwrap().to_owned();
    assert_eq!(open["upgrades"], serde_json::json!([]));
    assert_eq!(open["pingInterval"], 25000);
    assert_eq!(open["maxPayload"], 1_000_000);
    assert_eq!(server.http.event().await, format!("connect {sid}"));

    client.write(&Packet::message("hello é")).await;
    assert_eq!(client.next_text().await, "4hello é");
    client.write(&Packet::message(vec![0u8, 1, 255])).await;
    assert_eq!(
        client.next_frame().await,
        Some(Frame::Binary(vec![0u8, 1, 255].into()))
    );
    // An empty binary message goes as `b`, both ways.
    client.write(&Packet::message(Vec::<u8>::new())).await;
    assert_eq!(client.next_text().await, "b");
    // A message larger than 64 KiB, with the 8-byte length.
    let big = "x".repeat(70_000);
    client.write(&Packet::message(big.as_str())).await;
    assert_eq!(client.next_text().await, format!("4{big}"));
    assert_eq!(server.http.event().await, "message Text(\"hello é\")");

    let socket = server.http.server.socket(sid.parse().unwrap()).unwrap();
    assert_eq!(socket.transport(), Transport::WebTransport);

    client.write(&Packet::Close).await;
    assert_eq!(
        server.http.disconnect_event().await,
        format!("disconnect {sid} client disconnect")
    );
    assert!(client.ended().await);
}

#[tokio::test]
async fn a_polling_session_upgrades_over_webtransport() {
    let mut server = start_wt(short()).await;
    let (sid, handshake) = server.http.handshake().await;
    assert_eq!(
        handshake["upgrades"],
        serde_json::json!(["websocket", "webtransport"])
    );
    let poll = server.http.pending_poll(&sid).await;
    let mut client = WtClient::connect(&server).await;
    client
        .write_raw(&OpenRequest::Upgrade(sid.parse().unwrap()).encode())
        .await;
    client.write(&Packet::Ping("probe".into())).await;
    assert_eq!(client.next_text().await, "3probe");
    assert_eq!(poll.await.unwrap(), "6", "the poll is released");
    client.write(&Packet::Upgrade).await;
    // The session runs over WebTransport now.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let sid_parsed = sid.parse().unwrap();
    server.http.server.send(sid_parsed, "pushed").unwrap();
    assert_eq!(client.next_text().await, "4pushed");
    client.write(&Packet::message("over wt")).await;
    assert_eq!(client.next_text().await, "4over wt");
    assert_eq!(
        server.http.server.socket(sid_parsed).unwrap().transport(),
        Transport::WebTransport
    );
    let (status, _) = server.http.get(&sid).await;
    assert_eq!(status, 400, "polling is over");

    // A second upgrade of the same session is refused: its stream ends.
    let mut second = WtClient::connect(&server).await;
    second
        .write_raw(&OpenRequest::Upgrade(sid_parsed).encode())
        .await;
    assert!(second.ended().await);
    // The first goes on.
    client.write(&Packet::message(vec![7u8])).await;
    assert_eq!(
        client.next_frame().await,
        Some(Frame::Binary(vec![7u8].into()))
    );
    let _ = server.http.event().await; // connect
}

#[tokio::test]
async fn webtransport_is_offered_only_while_a_listener_runs() {
    let server = support::server::start(short()).await;
    let (_, handshake) = server.handshake().await;
    assert_eq!(handshake["upgrades"], serde_json::json!(["websocket"]));
    let server = start_wt(ServerConfig::default().allow_upgrades(false)).await;
    let (_, handshake) = server.http.handshake().await;
    assert_eq!(handshake["upgrades"], serde_json::json!([]));
    // transport=webtransport is not an HTTP transport.
    let response = support::server::http()
        .get(server.http.url("EIO=4&transport=webtransport"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["code"], 0);
}

#[tokio::test]
async fn bad_first_packets_and_unknown_sessions_are_closed() {
    let server = start_wt(short()).await;
    for first in [
        encode(&Packet::message("not an open packet")),
        encode(&Packet::message(vec![1u8])),
        OpenRequest::Upgrade("AAAAAAAAAAAAAAAAAAAA".parse().unwrap()).encode(),
        b"\x0a0{\"sid\":1}".to_vec(),
        vec![0x00], // a zero length
    ] {
        let mut client = WtClient::connect(&server).await;
        client.write_raw(&first).await;
        assert!(client.ended().await, "{first:?}");
    }
    // A path outside the engine.io path: 404 to the CONNECT.
    assert!(
        WtClient::connect_with(&server, "/other/", None)
            .await
            .is_err()
    );
    assert!(server.http.server.session_ids().is_empty());
}

#[tokio::test]
async fn an_upgrade_of_another_nodes_session_is_closed_and_counted() {
    let server = start_wt(short().node_id("n1".parse().unwrap())).await;
    let mut client = WtClient::connect(&server).await;
    client
        .write_raw(&OpenRequest::Upgrade("n2.AAAAAAAAAAAAAAAAAAAA".parse().unwrap()).encode())
        .await;
    assert!(client.ended().await);
    assert_eq!(server.http.server.misrouted_requests(), 1);
}

#[tokio::test]
async fn a_client_that_opens_no_stream_is_dropped_after_the_upgrade_timeout() {
    let server =
        start_wt(ServerConfig::default().upgrade_timeout(Duration::from_millis(300))).await;
    let config = ClientConfig::builder()
        .with_bind_default()
        .with_server_certificate_hashes([Sha256Digest::new(server.hash)])
        .build();
    let endpoint = Endpoint::client(config).unwrap();
    let connection = endpoint
        .connect(format!("https://{}/engine.io/", server.udp))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), connection.closed())
        .await
        .expect("closed by the server");
}

#[tokio::test]
async fn a_silent_client_times_out_and_an_answering_one_stays() {
    let mut server = start_wt(fast_heartbeat()).await;
    let mut silent = WtClient::connect(&server).await;
    let sid = silent.open().await["sid"].as_str().unwrap().to_owned();
    assert_eq!(silent.next_text().await, "2");
    assert_eq!(
        server.http.disconnect_event().await,
        format!("disconnect {sid} ping timeout")
    );
    assert!(silent.ended().await);

    let mut answering = WtClient::connect(&server).await;
    let sid = answering.open().await["sid"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        assert_eq!(answering.next_text().await, "2");
        answering.write(&Packet::Pong(String::new())).await;
    }
    assert!(server.http.server.socket(sid.parse().unwrap()).is_some());
}

#[tokio::test]
async fn a_message_over_the_limit_ends_the_session_with_transport_error() {
    let mut server = start_wt(ServerConfig::default().max_http_buffer_size(100)).await;
    let mut client = WtClient::connect(&server).await;
    let sid = client.open().await["sid"].as_str().unwrap().to_owned();
    client
        .write(&Packet::message("y".repeat(200).as_str()))
        .await;
    assert_eq!(
        server.http.disconnect_event().await,
        format!("disconnect {sid} transport error")
    );
    assert!(client.ended().await);
}

#[tokio::test]
async fn hooks_see_the_connect_request_and_a_rejection_closes_the_session() {
    let (tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let server = start_wt_with(short(), move |builder| {
        let tx = tx.clone();
        builder.on_connect(move |_, request| {
            let _ = tx.send((
                request.method.clone(),
                request.transport,
                request.peer_addr,
                request.headers.get("x-token").cloned(),
            ));
            if request.headers.contains_key("x-reject") {
                return Err(Rejection::unauthorized());
            }
            Ok(())
        })
    })
    .await;
    let mut client = WtClient::connect(&server).await;
    client.open().await;
    let (method, transport, peer, _) = seen.recv().await.unwrap();
    assert_eq!(method, http::Method::CONNECT);
    assert_eq!(transport, Transport::WebTransport);
    assert_eq!(peer.unwrap().ip().to_string(), "127.0.0.1");

    // A rejected session: the connection is closed, no session is left.
    let config = ClientConfig::builder()
        .with_bind_default()
        .with_server_certificate_hashes([Sha256Digest::new(server.hash)])
        .build();
    let endpoint = Endpoint::client(config).unwrap();
    let options = ConnectOptions::builder(format!("https://{}/engine.io/", server.udp))
        .add_header("x-reject", "1")
        .build();
    let connection = endpoint.connect(options).await.unwrap();
    let (mut send, _recv) = connection.open_bi().await.unwrap().await.unwrap();
    send.write_all(&OpenRequest::New.encode()).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), connection.closed())
        .await
        .expect("closed by the server");
    assert!(closed.to_string().contains("401"), "{closed}");
    assert_eq!(server.http.server.session_ids().len(), 1);
}

#[tokio::test]
async fn the_origin_is_checked_as_for_http() {
    let server = start_wt(short()).await;
    let own_http = format!("http://{}", server.udp);
    let own_https = format!("https://{}", server.udp);
    for origin in [own_http.as_str(), own_https.as_str()] {
        let mut client = WtClient::connect_with(&server, "/engine.io/", Some(origin))
            .await
            .unwrap();
        client.open().await;
    }
    let foreign =
        WtClient::connect_with(&server, "/engine.io/", Some("https://evil.example")).await;
    assert!(foreign.is_err(), "a foreign origin is refused");
}

#[tokio::test]
async fn shutdown_delivers_a_close_packet_over_webtransport() {
    let mut server = start_wt(short()).await;
    let mut client = WtClient::connect(&server).await;
    let sid = client.open().await["sid"].as_str().unwrap().to_owned();
    server
        .http
        .server
        .send(sid.parse().unwrap(), "last")
        .unwrap();
    assert_eq!(client.next_text().await, "4last");
    let stopping = server.http.server.clone();
    let shutdown = tokio::spawn(async move { stopping.shutdown().await });
    assert_eq!(client.next_text().await, "1");
    assert!(client.ended().await);
    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .unwrap()
        .unwrap();
    let event = server.http.disconnect_event().await;
    assert_eq!(event, format!("disconnect {sid} server disconnect"));
}
