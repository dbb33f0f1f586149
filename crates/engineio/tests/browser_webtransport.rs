//! WebTransport in a real browser: Debian's headless chromium (driven by
//! playwright-core, `browser/webtransport-echo.mjs`) loads a page from our
//! server over HTTP on 127.0.0.1, and the official `engine.io-client`
//! bundle on it connects with transports `["polling", "webtransport"]`
//! (polling, then the upgrade over WebTransport) and `["webtransport"]`
//! (the handshake over WebTransport), trusting the server's self-signed
//! ECDSA P-256 certificate by its hash (`serverCertificateHashes`). A text
//! and a binary message are echoed over WebTransport, and the server sees
//! them arrive over WebTransport.

mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engineio::Transport;
use engineio::server::{NotFound, ServeStatic, Server, StaticFiles, WebTransportConfig};
use serde_json::{Value, json};
use support::{TempDir, require_peer};
use tokio::net::TcpListener;
use tower_layer::Layer as _;

fn workspace() -> PathBuf {
    support::workspace_root()
}

/// The official browser bundle (engine.io-client 6.6, with WebTransport),
/// as the interop install puts it.
fn bundle_dir() -> PathBuf {
    support::interop_dir().join("node_modules/engine.io-client/dist")
}

/// Whether chromium, playwright-core and the bundle are installed.
fn peers() -> bool {
    let needed = [
        PathBuf::from("/usr/bin/chromium"),
        workspace().join("browser/node_modules/playwright-core/package.json"),
        bundle_dir().join("engine.io.min.js"),
    ];
    let missing: Vec<String> = needed
        .iter()
        .filter(|path| !path.exists())
        .map(|path| path.display().to_string())
        .collect();
    require_peer(
        missing.is_empty(),
        &format!("the browser peers ({missing:?}; scripts/install-browser-deps.sh)"),
    )
}

/// The page, the bundle and the engine.io endpoint over HTTP on a free
/// port of 127.0.0.1, WebTransport on the UDP port of the same number.
/// Returns the page's URL and the certificate's hash; the server records
/// the transport each message arrived on.
async fn start(server: &Server, dir: &TempDir) -> (String, [u8; 32]) {
    let page = dir.join("index.html");
    std::fs::write(
        &page,
        "<!doctype html><meta charset=\"utf-8\"><title>webtransport</title>\
         <script src=\"/static/engine.io.min.js\"></script>",
    )
    .unwrap();
    let files = StaticFiles::new()
        .entry("/", page.to_string_lossy().into_owned())
        .entry("/static", format!("{}/", bundle_dir().to_string_lossy()));
    for _ in 0..20 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let Ok(udp) = std::net::UdpSocket::bind(addr) else {
            continue;
        };
        let config = WebTransportConfig::self_signed(["127.0.0.1"]).unwrap();
        let hash = config.certificate_hash();
        let serving = server.clone();
        tokio::spawn(async move { serving.serve_webtransport(udp, config).await });
        let app = server.layer().layer(ServeStatic::new(files, NotFound));
        let serving = server.clone();
        tokio::spawn(async move { serving.serve_with(listener, app).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        return (format!("http://{addr}/"), hash);
    }
    panic!("no free UDP port beside the HTTP one");
}

fn echo_server(seen: Arc<Mutex<Vec<Transport>>>) -> Server {
    Server::builder()
        .on_message(move |socket, message| {
            seen.lock().unwrap().push(socket.transport());
            let _ = socket.send(message);
        })
        .build()
}

/// Runs the browser script and returns its JSON line.
async fn run_browser(url: &str, hash: [u8; 32], transports: &str) -> Value {
    let hash: Vec<String> = hash.iter().map(u8::to_string).collect();
    let mut command = tokio::process::Command::new("node");
    command
        .arg(workspace().join("browser/webtransport-echo.mjs"))
        .arg(url)
        .arg(hash.join(","))
        .arg(transports)
        .current_dir(workspace().join("browser"))
        .kill_on_drop(true);
    let limit = Duration::from_secs(90);
    let output = tokio::time::timeout(limit, command.output())
        .await
        .unwrap_or_else(|_| panic!("the browser script took more than {limit:?}"))
        .expect("cannot run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser script failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {stdout}\n{stderr}"))
}

fn expected_echoes() -> Value {
    json!([{"text": "over webtransport ✓"}, {"binary": [0, 1, 2, 255]}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_polling_then_upgrade_to_webtransport() {
    if !peers() {
        return;
    }
    let seen = Arc::default();
    let server = echo_server(Arc::clone(&seen));
    let dir = TempDir::new("eio-browser-wt");
    let (url, hash) = start(&server, &dir).await;
    let result = run_browser(&url, hash, "polling,webtransport").await;
    eprintln!("browser result: {result}");
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["status"], 200, "{result}");
    assert_eq!(result["opened"], "polling", "{result}");
    assert_eq!(result["upgraded"], "webtransport", "{result}");
    assert_eq!(result["echoes"], expected_echoes(), "{result}");
    assert_eq!(
        *seen.lock().unwrap(),
        [Transport::WebTransport, Transport::WebTransport]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_handshake_over_webtransport() {
    if !peers() {
        return;
    }
    let seen = Arc::default();
    let server = echo_server(Arc::clone(&seen));
    let dir = TempDir::new("eio-browser-wt");
    let (url, hash) = start(&server, &dir).await;
    let result = run_browser(&url, hash, "webtransport").await;
    eprintln!("browser result: {result}");
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["opened"], "webtransport", "{result}");
    assert_eq!(result["upgraded"], Value::Null, "{result}");
    assert_eq!(result["echoes"], expected_echoes(), "{result}");
    assert_eq!(
        *seen.lock().unwrap(),
        [Transport::WebTransport, Transport::WebTransport]
    );
}
