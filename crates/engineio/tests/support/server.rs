//! A test server for the server's integration tests: an echo server on
//! 127.0.0.1:0 whose handlers report what they saw, and small HTTP helpers.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use engineio::server::{Server, ServerBuilder, ServerConfig};
use serde_json::Value;
use tokio::sync::mpsc;

/// What the server's handlers saw, as text lines.
pub type Events = mpsc::UnboundedReceiver<String>;

/// A running echo server whose handlers report to `events`.
pub struct TestServer {
    pub server: Server,
    pub base: String,
    pub events: Events,
}

/// Settings with a heartbeat too slow to interfere with a test.
pub fn short() -> ServerConfig {
    ServerConfig::default()
}

/// Settings with a fast heartbeat, for the heartbeat tests.
pub fn fast_heartbeat() -> ServerConfig {
    ServerConfig::default()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
}

/// Starts an echo server with handlers that report to `events`.
pub async fn start_with(
    config: ServerConfig,
    customize: impl FnOnce(ServerBuilder) -> ServerBuilder,
) -> TestServer {
    let (tx, events) = mpsc::unbounded_channel();
    let (tx1, tx2, tx3) = (tx.clone(), tx.clone(), tx);
    let builder = Server::builder()
        .config(config)
        .on_connect(move |socket, _| {
            let _ = tx1.send(format!("connect {}", socket.sid()));
            Ok(())
        })
        .on_message(move |socket, message| {
            let _ = tx2.send(format!("message {message:?}"));
            let _ = socket.send(message);
        })
        .on_disconnect(move |socket, reason| {
            let _ = tx3.send(format!("disconnect {} {reason}", socket.sid()));
        });
    let server = customize(builder).build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/engine.io/", listener.local_addr().unwrap());
    let serving = server.clone();
    tokio::spawn(async move { serving.serve(listener).await });
    TestServer {
        server,
        base,
        events,
    }
}

pub async fn start(config: ServerConfig) -> TestServer {
    start_with(config, |b| b).await
}

impl TestServer {
    pub fn url(&self, query: &str) -> String {
        format!("{}?{query}", self.base)
    }

    /// Opens a polling session and returns its id and handshake.
    pub async fn handshake(&self) -> (String, Value) {
        let body = http()
            .get(self.url("EIO=4&transport=polling"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // The open packet comes first; packets sent by the connect handler may follow.
        let open = body.split('\u{1e}').next().unwrap();
        let json: Value = serde_json::from_str(open.strip_prefix('0').unwrap()).unwrap();
        (json["sid"].as_str().unwrap().to_owned(), json)
    }

    /// Starts a long poll on a session in the background and gives it 50 ms
    /// to reach the server; the handle yields the poll's body.
    pub async fn pending_poll(&self, sid: &str) -> tokio::task::JoinHandle<String> {
        let url = self.session_url(sid);
        let poll =
            tokio::spawn(
                async move { http().get(url).send().await.unwrap().text().await.unwrap() },
            );
        tokio::time::sleep(Duration::from_millis(50)).await;
        poll
    }

    pub fn session_url(&self, sid: &str) -> String {
        self.url(&format!("EIO=4&transport=polling&sid={sid}"))
    }

    pub async fn get(&self, sid: &str) -> (u16, String) {
        let response = http().get(self.session_url(sid)).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub async fn post(&self, sid: &str, body: &str) -> (u16, String) {
        let response = http()
            .post(self.session_url(sid))
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// The next handler event, waiting at most 10 s.
    pub async fn event(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(10), self.events.recv())
            .await
            .expect("no handler event within 10 s")
            .unwrap()
    }

    /// The next event that is not a message or connect.
    pub async fn disconnect_event(&mut self) -> String {
        loop {
            let event = self.event().await;
            if event.starts_with("disconnect") {
                return event;
            }
        }
    }
}

pub fn http() -> reqwest::Client {
    // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_gzip()
        .no_deflate()
        .build()
        .unwrap()
}

impl TestServer {
    /// The server's `host:port`.
    pub fn addr(&self) -> &str {
        self.base
            .trim_start_matches("http://")
            .trim_end_matches("/engine.io/")
    }
}
