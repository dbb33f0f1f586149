//! Our client through a real HTTP proxy: Debian's tinyproxy, started by each
//! test on a free port of 127.0.0.1 with a configuration written to a temp
//! dir, in front of our own echo server. Each test reads tinyproxy's log to
//! check that the requests really went through it: polling requests are
//! forwarded (`GET http://...`), WebSockets go through a `CONNECT` tunnel.
//!
//! Gated like the interop tests: without tinyproxy (installed by
//! `scripts/install-test-deps.sh`) a test skips with a note, or fails with
//! `EIO_INTEROP=require`.
//!
//! The tests use the explicit `proxy(...)` option; the environment variables
//! are tested in a child process of this binary (`environment_variables`),
//! which gets its own environment instead of changing this one's.
#![cfg(all(feature = "client", feature = "server"))]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use engineio::Transport;
use engineio::client::{Client, ConnectionError, Event};
use support::client_events::{ask, next_event, wait_upgrade};
use support::server::{TestServer, short, start};
use support::{TempDir, require_peer, within};

/// The tinyproxy binary: on PATH, or where older Debian releases put it.
fn tinyproxy_bin() -> &'static str {
    const SBIN: &str = "/usr/sbin/tinyproxy";
    if Path::new(SBIN).is_file() && !Path::new("/usr/bin/tinyproxy").is_file() {
        SBIN
    } else {
        "tinyproxy"
    }
}

/// Whether the tinyproxy binary runs.
fn tinyproxy_available() -> bool {
    Command::new(tinyproxy_bin())
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A port nothing listens on (bound, then released).
/// A loopback port nothing listens on: 1, below the ephemeral range the
/// tests' own listeners draw from (a port freed by `free_port` may be taken
/// again by a test running in parallel). Checked before use.
fn closed_port() -> u16 {
    let refused = std::net::TcpStream::connect(("127.0.0.1", 1))
        .is_err_and(|err| err.kind() == std::io::ErrorKind::ConnectionRefused);
    assert!(
        refused,
        "something listens on 127.0.0.1:1; these tests need it closed"
    );
    1
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running tinyproxy, killed on drop (its log is printed when the test
/// fails).
struct Tinyproxy {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: TempDir,
}

impl Tinyproxy {
    /// Starts tinyproxy allowing `CONNECT` to `connect_ports` only (to
    /// every port when empty: tinyproxy's rule without `ConnectPort`),
    /// asking for `basic_auth` credentials when given. `None` (after a skip
    /// note) when tinyproxy is not installed.
    fn start(connect_ports: &[u16], basic_auth: Option<(&str, &str)>) -> Option<Self> {
        if !require_peer(
            tinyproxy_available(),
            "tinyproxy (Debian package `tinyproxy`)",
        ) {
            return None;
        }
        // A port taken between free_port() and tinyproxy's bind: try again.
        for _ in 0..5 {
            let dir = TempDir::new("eio-tinyproxy");
            let port = free_port();
            let log = dir.join("tinyproxy.log");
            let mut conf = format!(
                "Port {port}\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 60\nMaxClients 64\n\
                 LogFile \"{}\"\nLogLevel Info\n",
                log.display()
            );
            for p in connect_ports {
                conf.push_str(&format!("ConnectPort {p}\n"));
            }
            if let Some((user, password)) = basic_auth {
                conf.push_str(&format!("BasicAuth {user} {password}\n"));
            }
            let conf_path = dir.join("tinyproxy.conf");
            std::fs::write(&conf_path, conf).unwrap();
            let output = std::fs::File::create(dir.join("output.txt")).unwrap();
            let mut child = Command::new(tinyproxy_bin())
                .arg("-d")
                .arg("-c")
                .arg(&conf_path)
                .stdin(Stdio::null())
                .stdout(output.try_clone().unwrap())
                .stderr(output)
                .spawn()
                .expect("cannot start tinyproxy");
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                if text.contains("Accepting connections") {
                    return Some(Self {
                        child,
                        port,
                        log,
                        _dir: dir,
                    });
                }
                if let Ok(Some(status)) = child.try_wait() {
                    eprintln!(
                        "tinyproxy on port {port} exited ({status}): {text}{}",
                        std::fs::read_to_string(dir.join("output.txt")).unwrap_or_default()
                    );
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("tinyproxy did not start within 10 s: {text}");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("tinyproxy did not start (see above)");
    }

    /// `http://127.0.0.1:<port>`.
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The request lines tinyproxy logged (`GET http://... HTTP/1.1`,
    /// `CONNECT host:port HTTP/1.1`).
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once("Request (file descriptor "))
            .filter_map(|(_, rest)| rest.split_once("): ").map(|(_, r)| r.to_owned()))
            .collect()
    }

    /// Waits (within the hang guard) until a logged request line starts
    /// with `prefix`, and returns it.
    async fn logged(&self, prefix: &str) -> String {
        within(async {
            loop {
                if let Some(line) = self.requests().into_iter().find(|l| l.starts_with(prefix)) {
                    return line;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
    }

    /// Whether a logged request line starts with `prefix` (now).
    fn has_logged(&self, prefix: &str) -> bool {
        self.requests().iter().any(|l| l.starts_with(prefix))
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- tinyproxy log ---\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

/// Our echo server on 127.0.0.1, its port and its `http://` URL.
async fn echo_server() -> (TestServer, u16, String) {
    let server = start(short()).await;
    let addr = server.addr().to_owned();
    let port = addr.rsplit_once(':').unwrap().1.parse().unwrap();
    (server, port, format!("http://{addr}"))
}

fn proxied(proxy: &str, transports: &[Transport]) -> Client {
    Client::builder()
        .proxy(proxy)
        .transports(transports.iter().copied())
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test]
async fn polling_only_goes_through_the_proxy() {
    let (_server, port, url) = echo_server().await;
    let Some(proxy) = Tinyproxy::start(&[port], None) else {
        return;
    };
    let client = proxied(&proxy.url(), &[Transport::Polling]);
    within(client.connect(&url)).await.unwrap();
    assert_eq!(next_event(&client).await, Event::Connect);
    assert_eq!(ask(&client, "through the proxy").await, "through the proxy");
    assert_eq!(client.transport(), Some(Transport::Polling));
    proxy
        .logged(&format!(
            "GET http://127.0.0.1:{port}/engine.io/?EIO=4&transport=polling"
        ))
        .await;
    proxy
        .logged(&format!(
            "POST http://127.0.0.1:{port}/engine.io/?EIO=4&transport=polling&sid="
        ))
        .await;
    within(client.disconnect()).await;
    assert!(!proxy.has_logged("CONNECT"), "{:?}", proxy.requests());
}

#[tokio::test]
async fn websocket_only_goes_through_a_connect_tunnel() {
    let (_server, port, url) = echo_server().await;
    let Some(proxy) = Tinyproxy::start(&[port], None) else {
        return;
    };
    let client = proxied(&proxy.url(), &[Transport::WebSocket]);
    within(client.connect(&url)).await.unwrap();
    assert_eq!(next_event(&client).await, Event::Connect);
    assert_eq!(ask(&client, "tunnelled ✓").await, "tunnelled ✓");
    assert_eq!(client.transport(), Some(Transport::WebSocket));
    proxy
        .logged(&format!("CONNECT 127.0.0.1:{port} HTTP/1.1"))
        .await;
    within(client.disconnect()).await;
    assert!(!proxy.has_logged("GET"), "{:?}", proxy.requests());
}

#[tokio::test]
async fn polling_upgraded_to_websocket_uses_both_ways() {
    let (_server, port, url) = echo_server().await;
    let Some(proxy) = Tinyproxy::start(&[port], None) else {
        return;
    };
    let client = proxied(&proxy.url(), &[Transport::Polling, Transport::WebSocket]);
    within(client.connect(&url)).await.unwrap();
    wait_upgrade(&client).await;
    assert_eq!(ask(&client, "upgraded").await, "upgraded");
    assert_eq!(client.transport(), Some(Transport::WebSocket));
    proxy
        .logged(&format!(
            "GET http://127.0.0.1:{port}/engine.io/?EIO=4&transport=polling"
        ))
        .await;
    proxy
        .logged(&format!("CONNECT 127.0.0.1:{port} HTTP/1.1"))
        .await;
    within(client.disconnect()).await;
}

#[tokio::test]
async fn a_proxy_that_is_not_listening_is_a_clear_error() {
    // No tinyproxy needed: nothing listens on the proxy's port.
    let (_server, _port, url) = echo_server().await;
    let closed = closed_port();
    for transports in [&[Transport::Polling][..], &[Transport::WebSocket]] {
        let client = proxied(&format!("http://127.0.0.1:{closed}"), transports);
        let err = within(client.connect(&url)).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ConnectionError::Transport(_)), "{err:?}");
        assert!(err.is_refused(), "{transports:?}: {err:?}");
        assert!(
            text.contains(&format!("proxy http://127.0.0.1:{closed}")),
            "{transports:?}: {text}"
        );
    }
}

#[tokio::test]
async fn a_connect_to_a_port_the_proxy_does_not_allow_is_refused() {
    let (_server, port, url) = echo_server().await;
    // CONNECT to 443 only, not to the server's port.
    let Some(proxy) = Tinyproxy::start(&[443], None) else {
        return;
    };
    let client = proxied(&proxy.url(), &[Transport::WebSocket]);
    let err = within(client.connect(&url)).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConnectionError::Transport(_)), "{err:?}");
    assert!(
        text.contains(&format!(
            "the proxy {} refused to connect to 127.0.0.1:{port}: HTTP 403",
            proxy.url()
        )),
        "{text}"
    );
    proxy
        .logged(&format!("CONNECT 127.0.0.1:{port} HTTP/1.1"))
        .await;

    // Polling is forwarded without CONNECT, so the session opens; the
    // upgrade fails and the session stays on polling.
    let client = proxied(&proxy.url(), &[Transport::Polling, Transport::WebSocket]);
    within(client.connect(&url)).await.unwrap();
    loop {
        match next_event(&client).await {
            Event::Connect => {}
            Event::UpgradeError(why) => {
                assert!(why.contains("HTTP 403"), "{why}");
                break;
            }
            other => panic!("expected the upgrade to fail, got {other:?}"),
        }
    }
    assert_eq!(ask(&client, "still polling").await, "still polling");
    assert_eq!(client.transport(), Some(Transport::Polling));
    within(client.disconnect()).await;
}

#[tokio::test]
async fn credentials_in_the_proxy_url_are_sent() {
    let (_server, port, url) = echo_server().await;
    let Some(proxy) = Tinyproxy::start(&[port], Some(("eio", "s3cret"))) else {
        return;
    };
    let with = format!("http://eio:s3cret@127.0.0.1:{}", proxy.port);
    let client = proxied(&with, &[Transport::Polling, Transport::WebSocket]);
    within(client.connect(&url)).await.unwrap();
    wait_upgrade(&client).await;
    assert_eq!(ask(&client, "authenticated").await, "authenticated");
    within(client.disconnect()).await;
    proxy
        .logged(&format!("CONNECT 127.0.0.1:{port} HTTP/1.1"))
        .await;

    // Without them, both transports get tinyproxy's 407, as an error that
    // names the proxy.
    for transports in [&[Transport::Polling][..], &[Transport::WebSocket]] {
        let client = proxied(&proxy.url(), transports);
        let err = within(client.connect(&url)).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ConnectionError::Transport(_)), "{err:?}");
        assert!(
            text.contains(&format!(
                "the proxy {} refused to connect to 127.0.0.1:{port}: HTTP 407",
                proxy.url()
            )),
            "{transports:?}: {text}"
        );
    }
    // Wrong ones: tinyproxy answers 401, which names the proxy for the
    // tunnel; a forwarded polling request cannot tell it from the server's.
    // The password never shows.
    let wrong = format!("http://eio:wrong-password@127.0.0.1:{}", proxy.port);
    let client = proxied(&wrong, &[Transport::WebSocket]);
    let err = within(client.connect(&url)).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("the proxy {} refused", proxy.url())) && text.contains("HTTP 401"),
        "{text}"
    );
    assert!(!format!("{err:?}").contains("wrong-password"), "{err:?}");
    let client = proxied(&wrong, &[Transport::Polling]);
    let err = within(client.connect(&url)).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err:?}");
}

/// The environment variables, in a child process of this test binary:
/// `HTTP_PROXY` applies by default (to both transports), `NO_PROXY`
/// exempts a host, `no_proxy()` ignores the environment and `proxy(...)`
/// takes precedence over it.
#[tokio::test]
async fn environment_variables() {
    if let Ok(log) = std::env::var("EIO_PROXY_TEST_LOG") {
        environment_child(PathBuf::from(log)).await;
        return;
    }
    // The child's server port is unknown here: CONNECT to any port.
    let Some(proxy) = Tinyproxy::start(&[], None) else {
        return;
    };
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "environment_variables", "--nocapture"])
        .env("EIO_PROXY_TEST_LOG", &proxy.log)
        .env("HTTP_PROXY", proxy.url())
        .env("NO_PROXY", "localhost")
        .env_remove("http_proxy")
        .env_remove("no_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("REQUEST_METHOD")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The child's side of [`environment_variables`]: `HTTP_PROXY` is our
/// tinyproxy (whose log is at `log`), `NO_PROXY=localhost`.
async fn environment_child(log: PathBuf) {
    let requests = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("Request (file descriptor "))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let (_server, port, url) = echo_server().await;

    // By default, both transports go through the environment's proxy.
    let client = Client::builder().build().unwrap();
    within(client.connect(&url)).await.unwrap();
    wait_upgrade(&client).await;
    assert_eq!(
        ask(&client, "from the environment").await,
        "from the environment"
    );
    within(client.disconnect()).await;
    let seen = requests();
    assert!(
        seen.iter()
            .any(|l| l.contains(&format!("GET http://127.0.0.1:{port}/engine.io/"))),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|l| l.contains(&format!("CONNECT 127.0.0.1:{port} "))),
        "{seen:?}"
    );

    // NO_PROXY=localhost: direct, for both transports.
    let before = requests().len();
    let client = Client::builder().build().unwrap();
    within(client.connect(&format!("http://localhost:{port}")))
        .await
        .unwrap();
    wait_upgrade(&client).await;
    assert_eq!(ask(&client, "direct").await, "direct");
    within(client.disconnect()).await;
    // no_proxy(): direct as well.
    let client = Client::builder().no_proxy().build().unwrap();
    within(client.connect(&url)).await.unwrap();
    wait_upgrade(&client).await;
    assert_eq!(ask(&client, "direct too").await, "direct too");
    within(client.disconnect()).await;
    assert_eq!(
        requests()[before..],
        [] as [String; 0],
        "went through the proxy"
    );

    // An explicit proxy wins over the environment.
    let closed = closed_port();
    let client = Client::builder()
        .proxy(format!("http://127.0.0.1:{closed}"))
        .build()
        .unwrap();
    let err = within(client.connect(&url)).await.unwrap_err();
    assert!(
        err.is_refused() && err.to_string().contains(&closed.to_string()),
        "{err}"
    );
}

/// TLS through the proxy: an `https://` server (polling tunnelled by
/// reqwest, WebSocket by our client), and an `https://` proxy (TLS to the
/// proxy itself: a TLS relay in front of tinyproxy).
#[cfg(feature = "tls")]
mod tls {
    use std::sync::Arc;

    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::TlsAcceptor;

    use super::*;

    /// A TLS acceptor with a fresh self-signed certificate for 127.0.0.1,
    /// and the certificate's PEM.
    fn acceptor() -> (TlsAcceptor, String) {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let pem = certified.cert.pem();
        let chain = vec![CertificateDer::from(certified.cert.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        (TlsAcceptor::from(Arc::new(config)), pem)
    }

    /// Our echo server behind TLS on 127.0.0.1: its port and the
    /// certificate's PEM.
    async fn tls_echo_server() -> (u16, String) {
        let (acceptor, pem) = acceptor();
        let port = support::tls::serve_tls(support::tls::echo_server(), acceptor).await;
        (port, pem)
    }

    /// A TLS relay on 127.0.0.1 to `127.0.0.1:<to>`: an `https://` proxy
    /// when `to` is tinyproxy. Its port and the certificate's PEM.
    async fn tls_relay(to: u16) -> (u16, String) {
        let (acceptor, pem) = acceptor();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", to)).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
                });
            }
        });
        (port, pem)
    }

    #[tokio::test]
    async fn https_and_wss_servers_go_through_connect_tunnels() {
        let (port, pem) = tls_echo_server().await;
        let Some(proxy) = Tinyproxy::start(&[port], None) else {
            return;
        };
        for transports in [
            &[Transport::Polling][..],
            &[Transport::WebSocket],
            &[Transport::Polling, Transport::WebSocket],
        ] {
            let client = Client::builder()
                .proxy(proxy.url())
                .transports(transports.iter().copied())
                .add_root_certificate_pem(pem.clone())
                .build()
                .unwrap();
            within(client.connect(&format!("https://127.0.0.1:{port}")))
                .await
                .unwrap();
            if transports.len() == 2 {
                wait_upgrade(&client).await;
            } else {
                assert_eq!(next_event(&client).await, Event::Connect);
            }
            assert_eq!(ask(&client, "over TLS ✓").await, "over TLS ✓");
            assert_eq!(client.transport(), transports.last().copied());
            within(client.disconnect()).await;
        }
        let requests = proxy.requests();
        // Nothing forwarded in the clear: tunnels only (polling, WebSocket,
        // polling, WebSocket at least).
        assert!(
            requests
                .iter()
                .all(|r| r == &format!("CONNECT 127.0.0.1:{port} HTTP/1.1")),
            "{requests:?}"
        );
        assert!(requests.len() >= 4, "{requests:?}");
    }

    #[tokio::test]
    async fn an_https_proxy() {
        let (_server, port, url) = echo_server().await;
        let Some(proxy) = Tinyproxy::start(&[port], None) else {
            return;
        };
        let (relay, relay_pem) = tls_relay(proxy.port).await;
        let https_proxy = format!("https://127.0.0.1:{relay}");
        let client = Client::builder()
            .proxy(&https_proxy)
            .add_root_certificate_pem(relay_pem)
            .build()
            .unwrap();
        within(client.connect(&url)).await.unwrap();
        wait_upgrade(&client).await;
        assert_eq!(ask(&client, "TLS to the proxy").await, "TLS to the proxy");
        within(client.disconnect()).await;
        proxy
            .logged(&format!(
                "GET http://127.0.0.1:{port}/engine.io/?EIO=4&transport=polling"
            ))
            .await;
        proxy
            .logged(&format!("CONNECT 127.0.0.1:{port} HTTP/1.1"))
            .await;

        // The proxy's certificate is checked like a server's.
        for transports in [&[Transport::Polling][..], &[Transport::WebSocket]] {
            let client = proxied(&https_proxy, transports);
            let err = within(client.connect(&url)).await.unwrap_err();
            assert!(err.is_tls(), "{transports:?}: {err:?}");
            assert!(
                err.to_string().contains(&https_proxy),
                "{transports:?}: {err}"
            );
        }
    }
}
