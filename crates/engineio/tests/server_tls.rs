//! The server over TLS with its own listener (`Server::serve_tls`), on
//! 127.0.0.1 with a CA and a server certificate made in the test (rcgen):
//!
//! - our client, over https polling then the upgrade to wss, and wss only;
//! - HTTP/2: reqwest negotiating `h2` by ALPN polls a session (handshake,
//!   POST, GET), and a client offering only `http/1.1` still gets HTTP/1.1;
//! - the official Node client (`interop/node/tls-client.js`, with `ca`),
//!   polling then websocket, text and binary;
//! - Chromium (Debian's, driven by playwright-core: `browser/tls-echo.mjs`),
//!   trusting the certificate by its SPKI hash only, loading a page and the
//!   official client bundle from the server over https (HTTP/2), upgrading
//!   to wss, text and binary;
//! - a client that never sends its ClientHello holds nothing but its own
//!   task, and is dropped after the handshake timeout; plain HTTP on the TLS
//!   port is closed without an HTTP answer; the server goes on serving;
//! - `Server::shutdown` ends `serve_tls`.
//!
//! The Node and browser parts print a skip note and pass when their peers
//! are missing, unless `EIO_INTEROP=require`.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use engineio::client::{Client, DisconnectReason, Event};
use engineio::server::{NotFound, ServeStatic, Server, StaticFiles, TlsConfig};
use engineio::{Message, Transport};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, PublicKeyData};
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tower_layer::Layer as _;

use support::client_events::{ask, next_disconnect, next_message, wait_upgrade};
use support::{TempDir, require_peer, within};

/// A CA and a server certificate it issued for 127.0.0.1 and localhost.
struct Pki {
    /// The CA certificate, PEM (what clients trust).
    ca_pem: String,
    /// The CA certificate, DER.
    ca_der: CertificateDer<'static>,
    /// The server's certificate, PEM.
    cert_pem: String,
    /// The server's private key, PEM (PKCS#8).
    key_pem: String,
    /// The base64 SHA-256 of the server key's SubjectPublicKeyInfo, as
    /// Chromium's `--ignore-certificate-errors-spki-list` wants it.
    spki_sha256: String,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "engineio test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        spki_sha256: base64::engine::general_purpose::STANDARD
            .encode(sha256(&key.subject_public_key_info())),
    }
}

/// SHA-256, through rustls' ring provider (no extra dependency).
fn sha256(data: &[u8]) -> Vec<u8> {
    match rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256 {
        rustls::SupportedCipherSuite::Tls13(suite) => {
            suite.common.hash_provider.hash(data).as_ref().to_vec()
        }
        #[allow(unreachable_patterns)]
        _ => unreachable!("a TLS 1.3 suite"),
    }
}

/// The server's TLS configuration, read from PEM files as a user would.
fn tls_config(pki: &Pki, dir: &TempDir) -> TlsConfig {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &pki.cert_pem).unwrap();
    std::fs::write(&key, &pki.key_pem).unwrap();
    TlsConfig::from_pem_files(&cert, &key).unwrap()
}

/// An echo server that records each session's peer address.
fn echo_server(peers: Arc<Mutex<Vec<Option<SocketAddr>>>>) -> Server {
    Server::builder()
        .on_connect(move |_, request| {
            peers.lock().unwrap().push(request.peer_addr);
            Ok(())
        })
        .on_message(|socket, message| {
            let _ = socket.send(message);
        })
        .build()
}

/// Serves `server` over TLS on a free port of 127.0.0.1; returns the port
/// and the serving task.
async fn start(server: &Server, tls: TlsConfig) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let serving = server.clone();
    let task = tokio::spawn(async move { serving.serve_tls(listener, tls).await });
    (port, task)
}

fn client(pki: &Pki, transports: &[Transport]) -> Client {
    Client::builder()
        .add_root_certificate_pem(pki.ca_pem.clone())
        .transports(transports.iter().copied())
        .no_proxy()
        .build()
        .unwrap()
}

#[tokio::test]
async fn our_client_over_https_then_wss_and_over_wss_only() {
    let (pki, dir) = (pki(), TempDir::new("eio-server-tls"));
    let peers = Arc::new(Mutex::new(Vec::new()));
    let server = echo_server(Arc::clone(&peers));
    let (port, _task) = start(&server, tls_config(&pki, &dir)).await;

    let client = client(&pki, &[Transport::Polling, Transport::WebSocket]);
    within(client.connect(&format!("https://127.0.0.1:{port}")))
        .await
        .unwrap();
    assert_eq!(ask(&client, "over https ✓").await, "over https ✓");
    wait_upgrade(&client).await;
    assert_eq!(client.transport(), Some(Transport::WebSocket));
    assert_eq!(ask(&client, "over wss").await, "over wss");
    client.send(vec![0u8, 1, 2, 255]).unwrap();
    assert_eq!(
        next_message(&client).await,
        Message::Binary(vec![0u8, 1, 2, 255].into())
    );
    within(client.disconnect()).await;

    let client = client_ws_only(&pki);
    within(client.connect(&format!("wss://127.0.0.1:{port}")))
        .await
        .unwrap();
    assert_eq!(ask(&client, "wss only").await, "wss only");
    within(client.disconnect()).await;

    // The connect handler saw each peer's address.
    let peers = peers.lock().unwrap().clone();
    assert_eq!(peers.len(), 2, "{peers:?}");
    for peer in peers {
        assert_eq!(
            peer.map(|p| p.ip().to_string()).as_deref(),
            Some("127.0.0.1")
        );
    }
}

fn client_ws_only(pki: &Pki) -> Client {
    client(pki, &[Transport::WebSocket])
}

/// A reqwest client trusting the test CA and offering `alpn` by ALPN.
fn reqwest_client(pki: &Pki, alpn: &[&[u8]]) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .build()
        .unwrap()
}

#[tokio::test]
async fn polling_over_http2_negotiated_by_alpn() {
    let (pki, dir) = (pki(), TempDir::new("eio-server-tls"));
    let server = echo_server(Arc::default());
    let (port, _task) = start(&server, tls_config(&pki, &dir)).await;
    let base = format!("https://127.0.0.1:{port}/engine.io/?EIO=4&transport=polling");
    let http = reqwest_client(&pki, &[b"h2", b"http/1.1"]);

    let response = within(http.get(&base).send()).await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    let open: Value = serde_json::from_str(body.strip_prefix('0').expect("an open packet"))
        .unwrap_or_else(|err| panic!("{err}: {body}"));
    let sid = open["sid"].as_str().expect("a sid").to_owned();
    assert_eq!(open["upgrades"], json!(["websocket"]), "{open}");
    assert!(
        open["pingInterval"].is_u64() && open["maxPayload"].is_u64(),
        "{open}"
    );

    // A POST and a GET on the session, on the same HTTP/2 connection.
    let session = format!("{base}&sid={sid}");
    let response = within(http.post(&session).body("4over h2\u{1e}4twice").send())
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
    let response = within(http.get(&session).send()).await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.text().await.unwrap(), "4over h2\u{1e}4twice");

    // A long poll and a POST at once: the POST answers the poll, both on
    // the one multiplexed connection.
    let poll = tokio::spawn({
        let (http, session) = (http.clone(), session.clone());
        async move {
            http.get(&session)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let response = within(http.post(&session).body("4meanwhile").send())
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "ok");
    assert_eq!(within(poll).await.unwrap(), "4meanwhile");

    // A browser sends its page's origin with a POST, and the host in
    // HTTP/2's `:authority`: the default same-origin policy accepts
    // `https://` + that host, and only that.
    let origin = format!("https://127.0.0.1:{port}");
    let response = within(
        http.post(&session)
            .header("origin", &origin)
            .body("4same")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200, "{origin}");
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        origin.as_str()
    );
    for other in [
        format!("http://127.0.0.1:{port}"),
        "https://evil.example".to_owned(),
    ] {
        let response = within(
            http.post(&session)
                .header("origin", &other)
                .body("4x")
                .send(),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 400, "{other}: refused as a bad request");
    }

    // A client offering only http/1.1 gets HTTP/1.1.
    let http1 = reqwest_client(&pki, &[b"http/1.1"]);
    let response = within(http1.get(&base).send()).await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert!(response.text().await.unwrap().starts_with("0{"));
}

/// The official Node client, `node interop/node/tls-client.js URL CA`.
#[tokio::test]
async fn node_client_over_https_then_wss() {
    if !require_peer(support::node_available(), "node with interop/node_modules") {
        return;
    }
    let (pki, dir) = (pki(), TempDir::new("eio-server-tls"));
    let server = echo_server(Arc::default());
    let (port, _task) = start(&server, tls_config(&pki, &dir)).await;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();

    let mut command = tokio::process::Command::new("node");
    command
        .arg("node/tls-client.js")
        .arg(format!("https://127.0.0.1:{port}"))
        .arg(&ca)
        .current_dir(support::interop_dir())
        .kill_on_drop(true);
    let result = run_json(command, Duration::from_secs(30), "the Node client").await;
    assert_eq!(result["error"], Value::Null, "{result}");
    assert_eq!(result["opened"], "polling", "{result}");
    assert_eq!(result["upgraded"], "websocket", "{result}");
    assert_eq!(
        result["echoes"],
        json!([{"text": "over polling"}, {"text": "over wss ✓"}, {"binary": [0, 1, 2, 255]}]),
        "{result}"
    );
}

/// Runs `command` (with a hard limit) and returns the JSON of its last
/// stdout line, panicking with its output when it fails.
async fn run_json(mut command: tokio::process::Command, limit: Duration, what: &str) -> Value {
    let output = tokio::time::timeout(limit, command.output())
        .await
        .unwrap_or_else(|_| panic!("{what} took more than {limit:?}"))
        .unwrap_or_else(|err| panic!("cannot run {what}: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {stdout}\n{stderr}"))
}

fn workspace() -> PathBuf {
    support::workspace_root()
}

/// The official browser bundle, as the latency example installs it.
fn browser_bundle_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/latency/node_modules/engine.io-client/dist")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_over_https_http2_then_wss() {
    let needed = [
        PathBuf::from("/usr/bin/chromium"),
        workspace().join("browser/node_modules/playwright-core/package.json"),
        browser_bundle_dir().join("engine.io.min.js"),
    ];
    let missing: Vec<String> = needed
        .iter()
        .filter(|path| !path.exists())
        .map(|path| path.display().to_string())
        .collect();
    if !require_peer(
        missing.is_empty(),
        &format!("the browser peers ({missing:?}; scripts/install-browser-deps.sh)"),
    ) {
        return;
    }
    let (pki, dir) = (pki(), TempDir::new("eio-server-tls"));
    let page = dir.join("index.html");
    std::fs::write(
        &page,
        "<!doctype html><meta charset=\"utf-8\"><title>tls</title>\
         <script src=\"/static/engine.io.min.js\"></script>",
    )
    .unwrap();
    let files = StaticFiles::new()
        .entry("/", page.to_string_lossy().into_owned())
        .entry(
            "/static",
            format!("{}/", browser_bundle_dir().to_string_lossy()),
        );
    let server = echo_server(Arc::default());
    let app = server.layer().layer(ServeStatic::new(files, NotFound));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/", listener.local_addr().unwrap());
    let (serving, tls) = (server.clone(), tls_config(&pki, &dir));
    tokio::spawn(async move { serving.serve_tls_with(listener, tls, app).await });

    let mut command = tokio::process::Command::new("node");
    command
        .arg(workspace().join("browser/tls-echo.mjs"))
        .arg(&url)
        .arg(&pki.spki_sha256)
        .current_dir(workspace().join("browser"))
        .kill_on_drop(true);
    let result = run_json(command, Duration::from_secs(90), "the browser script").await;
    eprintln!("browser result: {result}");
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["status"], 200, "{result}");
    assert_eq!(result["opened"], "polling", "{result}");
    assert_eq!(result["upgraded"], "websocket", "{result}");
    assert_eq!(
        result["echoes"],
        json!([{"text": "over polling"}, {"text": "over wss ✓"}, {"binary": [0, 1, 2, 255]}]),
        "{result}"
    );
    // The page, the bundle and the polling requests went over HTTP/2.
    let protocols = result["protocols"].as_array().expect("protocols");
    let polls: Vec<&Value> = protocols
        .iter()
        .filter(|entry| {
            entry["url"]
                .as_str()
                .is_some_and(|url| url.contains("transport=polling"))
        })
        .collect();
    assert!(!polls.is_empty(), "{result}");
    for entry in protocols {
        assert_eq!(entry["protocol"], "h2", "{result}");
    }
}

#[tokio::test]
async fn a_silent_client_blocks_nobody_and_is_dropped_after_the_handshake_timeout() {
    let (pki, dir) = (pki(), TempDir::new("eio-server-tls"));
    let server = echo_server(Arc::default());
    let tls = tls_config(&pki, &dir).handshake_timeout(Duration::from_millis(300));
    let (port, _task) = start(&server, tls).await;

    // Connections that never send a ClientHello.
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    // Others are served meanwhile.
    let client = client_ws_only(&pki);
    within(client.connect(&format!("wss://127.0.0.1:{port}")))
        .await
        .unwrap();
    assert_eq!(ask(&client, "not blocked").await, "not blocked");
    // Past the handshake timeout the server closes them, without a byte.
    for mut stream in silent {
        let mut buf = Vec::new();
        let read = within(stream.read_to_end(&mut buf)).await;
        assert!(
            read.is_err() || buf.is_empty(),
            "the server wrote {buf:?} to a silent client"
        );
    }
    assert_eq!(ask(&client, "still here").await, "still here");
    within(client.disconnect()).await;
}

#[tokio::test]
async fn plain_http_on_the_tls_port_fails_cleanly() {
    let (pki, dir) = (pki(), TempDir::new("eio-server-tls"));
    let server = echo_server(Arc::default());
    let (port, _task) = start(&server, tls_config(&pki, &dir)).await;

    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream
        .write_all(b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    // The connection ends (at most a TLS alert comes back), never with an
    // HTTP answer.
    let _ = within(stream.read_to_end(&mut answer)).await;
    assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");
    assert_eq!(server.session_count(), 0);

    // Our client over http:// gets a transport error, not a hang.
    let plain = Client::builder()
        .transports([Transport::Polling])
        .no_proxy()
        .build()
        .unwrap();
    assert!(
        within(plain.connect(&format!("http://127.0.0.1:{port}")))
            .await
            .is_err()
    );

    // The server goes on.
    let client = client(&pki, &[Transport::Polling]);
    within(client.connect(&format!("https://127.0.0.1:{port}")))
        .await
        .unwrap();
    assert_eq!(ask(&client, "fine").await, "fine");
    within(client.disconnect()).await;
}

#[tokio::test]
async fn shutdown_ends_serve_tls_and_closes_the_sessions() {
    let (pki, dir) = (pki(), TempDir::new("eio-server-tls"));
    let server = echo_server(Arc::default());
    // A handshake in progress does not hold the shutdown back (the hang
    // guard is far shorter than this timeout and close_timeout).
    let tls = tls_config(&pki, &dir).handshake_timeout(Duration::from_secs(600));
    let (port, task) = start(&server, tls).await;
    // Connected first, so accepted (in order) before the client below.
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let client = client_ws_only(&pki);
    within(client.connect(&format!("wss://127.0.0.1:{port}")))
        .await
        .unwrap();
    assert_eq!(ask(&client, "before").await, "before");
    within(server.shutdown()).await;
    assert_eq!(
        next_disconnect(&client).await,
        DisconnectReason::ServerDisconnect
    );
    within(task).await.unwrap();
    // The listener is closed, and so is the connection that never
    // finished its handshake.
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    let mut buf = Vec::new();
    let _ = within(silent.read_to_end(&mut buf)).await;
    assert!(buf.is_empty(), "{buf:?}");
    assert!(matches!(
        within(client.recv()).await,
        None | Some(Event::Disconnect(_))
    ));
}
