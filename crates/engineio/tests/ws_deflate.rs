//! permessage-deflate (RFC 7692) on WebSockets: our server with Node's `ws`
//! client, a raw tungstenite client (the extension off by default, a
//! decompression bomb) and Chromium with the official client; our client
//! with Node's `engine.io` server started with `perMessageDeflate` and with
//! our server.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use engineio::client::{Client, Event};
use engineio::server::{NotFound, PerMessageDeflate, ServeStatic, ServerConfig, StaticFiles};
use engineio::{Message, Transport};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use support::client_events::{ask, next_event, next_message};
use support::server::{TestServer, start};
use support::{Peer, interop_dir, node_available, require_peer, within, workspace_root};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::{Message as WsMessage, http};
use tower_layer::Layer as _;

/// What Chromium and Node's `ws` client offer.
const OFFER: &str = "permessage-deflate; client_max_window_bits";

fn deflating() -> ServerConfig {
    ServerConfig::default().per_message_deflate(Some(PerMessageDeflate::default()))
}

/// A compressible text of `len` bytes.
fn compressible(len: usize) -> String {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < len {
        text.push_str(&format!("engine.io message part {}; ", i % 89));
        i += 1;
    }
    text.truncate(len);
    text
}

/// Opens a raw WebSocket session on `server`, offering `offer` when given;
/// returns the stream and the 101 answer's `Sec-WebSocket-Extensions`.
async fn raw_websocket(
    server: &TestServer,
    offer: Option<&str>,
) -> (
    tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    Option<String>,
) {
    let url = server
        .url("EIO=4&transport=websocket")
        .replace("http://", "ws://");
    let mut request = url.into_client_request().unwrap();
    if let Some(offer) = offer {
        request.headers_mut().insert(
            http::header::SEC_WEBSOCKET_EXTENSIONS,
            offer.parse().unwrap(),
        );
    }
    let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let (mut ws, response) = within(tokio_tungstenite::client_async(request, tcp))
        .await
        .unwrap();
    let extensions = response
        .headers()
        .get(http::header::SEC_WEBSOCKET_EXTENSIONS)
        .map(|v| v.to_str().unwrap().to_owned());
    // The open packet.
    match within(ws.next()).await {
        Some(Ok(WsMessage::Text(text))) => assert!(text.starts_with('0'), "{text}"),
        other => panic!("expected the open packet, got {other:?}"),
    }
    (ws, extensions)
}

#[tokio::test]
async fn compression_is_off_by_default_even_when_offered() {
    let server = start(ServerConfig::default()).await;
    let (mut ws, extensions) = raw_websocket(&server, Some(OFFER)).await;
    assert_eq!(extensions, None);
    // Large messages go uncompressed (tungstenite would refuse RSV1).
    let big = format!("4{}", compressible(4096));
    ws.send(WsMessage::text(big.clone())).await.unwrap();
    match within(ws.next()).await {
        Some(Ok(WsMessage::Text(text))) => assert_eq!(text.as_str(), big),
        other => panic!("expected the echo, got {other:?}"),
    }
}

#[tokio::test]
async fn offers_the_server_cannot_take_are_declined() {
    let server = start(deflating()).await;
    let (_ws, extensions) = raw_websocket(
        &server,
        Some("permessage-deflate; server_max_window_bits=8"),
    )
    .await;
    assert_eq!(extensions, None);
    let (_ws, extensions) = raw_websocket(&server, Some(OFFER)).await;
    assert_eq!(extensions.as_deref(), Some("permessage-deflate"));
}

/// The peak resident memory of this process (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A raw deflate stream of `megabytes` MiB of zeros, about 1 KiB per MiB:
/// one MiB compressed with a sync flush (which references nothing before
/// it), repeated.
fn zeros_bomb(megabytes: usize) -> Vec<u8> {
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let zeros = vec![0u8; 1 << 20];
    let mut chunk = Vec::with_capacity(16 << 10);
    compress
        .compress_vec(&zeros, &mut chunk, flate2::FlushCompress::Sync)
        .unwrap();
    assert_eq!(compress.total_in(), 1 << 20);
    chunk.repeat(megabytes)
}

#[tokio::test]
async fn a_decompression_bomb_closes_with_1009_without_inflating_it() {
    let server = start(deflating()).await; // max_http_buffer_size: 1,000,000
    let (mut ws, extensions) = raw_websocket(&server, Some(OFFER)).await;
    assert_eq!(extensions.as_deref(), Some("permessage-deflate"));
    // 256 MiB once inflated, about 260 KB on the wire: under the limit
    // compressed, far over it inflated.
    let bomb = zeros_bomb(256);
    assert!(bomb.len() < 1_000_000, "{}", bomb.len());
    let before = peak_rss_kib();
    let mut frame = Frame::message(bomb, OpCode::Data(Data::Binary), true);
    frame.header_mut().rsv1 = true;
    ws.send(WsMessage::Frame(frame)).await.unwrap();
    let close = loop {
        match within(ws.next()).await {
            Some(Ok(WsMessage::Close(close))) => break close,
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.map(|c| c.code), Some(CloseCode::Size));
    let grown = peak_rss_kib().saturating_sub(before);
    assert!(
        grown < 64 * 1024,
        "the peak RSS grew by {grown} KiB for a 256 MiB bomb"
    );
}

#[tokio::test]
async fn our_client_and_server_exchange_compressed_messages() {
    let server = start(deflating()).await;
    for transports in [
        vec![Transport::WebSocket],
        vec![Transport::Polling, Transport::WebSocket],
    ] {
        let client = Client::builder()
            .transports(transports.clone())
            .per_message_deflate(Some(PerMessageDeflate::default()))
            .build()
            .unwrap();
        client
            .connect(&server.base.replace("/engine.io/", ""))
            .await
            .unwrap();
        assert_eq!(next_event(&client).await, Event::Connect);
        if transports.len() == 2 {
            support::client_events::wait_upgrade(&client).await;
        }
        for len in [10, 1023, 1024, 4096, 300_000] {
            let text = compressible(len);
            client.send(text.as_str()).unwrap();
            assert_eq!(next_message(&client).await, Message::from(text.as_str()));
        }
        let binary: Vec<u8> = (0..200_000u32).map(|i| (i % 7) as u8).collect();
        client.send(binary.clone()).unwrap();
        assert_eq!(next_message(&client).await, Message::from(binary));
        within(client.disconnect()).await;
    }
}

/// Runs `node interop/node/ws-deflate-client.js URL BIG` and returns its
/// JSON line.
async fn node_ws_client(url: &str, big: usize) -> Value {
    let mut command = tokio::process::Command::new("node");
    command
        .arg("node/ws-deflate-client.js")
        .arg(url)
        .arg(big.to_string())
        .current_dir(interop_dir())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("hang guard: the Node client ran for 30 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {stdout}\n{stderr}"))
}

#[tokio::test]
async fn node_ws_client_gets_large_messages_compressed_and_small_ones_plain() {
    if !require_peer(node_available(), "node with interop/node_modules") {
        return;
    }
    let server = start(deflating()).await;
    let url = server
        .url("EIO=4&transport=websocket")
        .replace("http://", "ws://");
    let result = node_ws_client(&url, 4096).await;
    assert_eq!(result["error"], Value::Null, "{result}");
    assert_eq!(result["extensions"], "permessage-deflate", "{result}");
    assert_eq!(result["bigEchoed"], true, "{result}");
    // The open packet and the small echo plain, the 4 KiB echo compressed.
    let frames = result["frames"].as_array().unwrap();
    let summary: Vec<(bool, u64)> = frames
        .iter()
        .map(|f| (f["rsv1"].as_bool().unwrap(), f["length"].as_u64().unwrap()))
        .collect();
    assert_eq!(summary.len(), 3, "{result}");
    assert!(!summary[0].0, "the open packet went compressed: {result}");
    assert!(summary[1].0, "the 4 KiB echo went plain: {result}");
    assert!(
        summary[1].1 < 1024,
        "the 4 KiB echo is {} bytes compressed",
        summary[1].1
    );
    assert_eq!(summary[2], (false, "4small".len() as u64), "{result}");

    // Without the option, the same client gets no extension and plain frames.
    let plain = start(ServerConfig::default()).await;
    let url = plain
        .url("EIO=4&transport=websocket")
        .replace("http://", "ws://");
    let result = node_ws_client(&url, 4096).await;
    assert_eq!(result["extensions"], "", "{result}");
    assert_eq!(result["bigEchoed"], true, "{result}");
    assert!(
        result["frames"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rsv1"] == false),
        "{result}"
    );
}

#[tokio::test]
async fn our_client_with_node_engine_io_per_message_deflate() {
    let Some(server) = Peer::node("node/eio-server.js", &["--per-message-deflate"]) else {
        return;
    };
    for transports in [
        vec![Transport::WebSocket],
        vec![Transport::Polling, Transport::WebSocket],
    ] {
        let client = Client::builder()
            .transports(transports.clone())
            .per_message_deflate(Some(PerMessageDeflate::default()))
            .build()
            .unwrap();
        client.connect(&server.http_url()).await.unwrap();
        assert_eq!(next_event(&client).await, Event::Connect);
        if transports.len() == 2 {
            support::client_events::wait_upgrade(&client).await;
        }
        assert_eq!(
            ask(&client, "cmd:extensions").await,
            "extensions:permessage-deflate"
        );
        // Node's server compresses every message (context takeover on), so
        // these small echoes come compressed too.
        for len in [5, 1024, 4096, 100_000] {
            let text = compressible(len);
            client.send(text.as_str()).unwrap();
            assert_eq!(next_message(&client).await, Message::from(text.as_str()));
        }
        let binary: Vec<u8> = (0..100_000u32).map(|i| (i % 13) as u8).collect();
        client.send(binary.clone()).unwrap();
        assert_eq!(next_message(&client).await, Message::from(binary));
        within(client.disconnect()).await;
    }
    // Without the option our client offers nothing.
    let client = Client::builder()
        .transports([Transport::WebSocket])
        .build()
        .unwrap();
    client.connect(&server.http_url()).await.unwrap();
    assert_eq!(next_event(&client).await, Event::Connect);
    assert_eq!(ask(&client, "cmd:extensions").await, "extensions:");
    within(client.disconnect()).await;
}

/// Whether the browser peers are installed; panics when EIO_INTEROP=require.
fn browser_present() -> bool {
    let needed = [
        PathBuf::from("/usr/bin/chromium"),
        workspace_root().join("browser/node_modules/playwright-core/package.json"),
        interop_dir().join("node_modules/engine.io-client/dist/engine.io.min.js"),
    ];
    let missing: Vec<String> = needed
        .iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    require_peer(
        missing.is_empty(),
        &format!("the browser peers {missing:?}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_negotiates_it_with_the_official_client() {
    if !browser_present() {
        return;
    }
    let browser = workspace_root().join("browser");
    let files = StaticFiles::new()
        .entry(
            "/",
            browser.join("deflate.html").to_string_lossy().into_owned(),
        )
        .entry(
            "/static",
            interop_dir()
                .join("node_modules/engine.io-client/dist/")
                .to_string_lossy()
                .into_owned(),
        );
    let server = engineio::server::Server::builder()
        .config(deflating())
        .on_message(|socket, message| {
            let _ = socket.send(message);
        })
        .build();
    let app = server.layer().layer(ServeStatic::new(files, NotFound));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/?size=65536", listener.local_addr().unwrap());
    let serving = server.clone();
    tokio::spawn(async move { serving.serve_with(listener, app).await });

    let mut command = tokio::process::Command::new("node");
    command
        .arg(Path::new(&browser).join("deflate-page.mjs"))
        .arg(&url)
        .current_dir(&browser)
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(90), command.output())
        .await
        .expect("hang guard: the browser ran for 90 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let line = stdout.lines().last().unwrap_or_default();
    let result: Value =
        serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {stdout}\n{stderr}"));
    eprintln!("browser result: {result}");
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["transport"], "websocket", "{result}");
    assert_eq!(result["extensions"], "permessage-deflate", "{result}");
    assert_eq!(result["echoed"], true, "{result}");
    assert_eq!(result["length"], 65536, "{result}");
}
