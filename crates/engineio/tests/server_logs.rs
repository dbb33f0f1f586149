//! What the server logs at info level: a session's id never appears on a
//! line with the request's data (the client's address, the URL, headers).
//! A server with a node id says, at most once every 10 s, when requests for
//! another node's sessions arrive. Its own test binary: it installs a
//! global log subscriber.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use support::server::{short, start};

use engineio::server::ServerConfig;

/// Collects formatted log lines.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the global log subscriber once (for every test of this
/// binary) and returns what it collects.
fn logs() -> Lines {
    static LINES: OnceLock<Lines> = OnceLock::new();
    LINES
        .get_or_init(|| {
            let lines = Lines::default();
            let writer = lines.clone();
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .init();
            lines
        })
        .clone()
}

impl Lines {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test]
async fn info_logs_never_put_a_sid_beside_request_data() {
    let lines = logs();
    let mut server = start(short()).await;
    let (sid, _) = server.handshake().await;
    assert_eq!(server.post(&sid, "1").await.0, 200);
    server.disconnect_event().await;
    let text = lines.text();
    let with_sid: Vec<&str> = text.lines().filter(|line| line.contains(&sid)).collect();
    assert!(!with_sid.is_empty(), "the session's id is logged: {text}");
    for line in with_sid {
        for request_data in ["127.0.0.1", "EIO=4", "reqwest"] {
            assert!(
                !line.contains(request_data),
                "an info line holds the sid and {request_data:?}: {line}"
            );
        }
    }
}

#[tokio::test]
async fn misrouted_requests_are_logged_at_most_once_per_period() {
    let lines = logs();
    // A node name of its own, to find this test's lines.
    let server = start(ServerConfig::default().node_id("logtest".parse().unwrap())).await;
    let sid = "n2.AAAAAAAAAAAAAAAAAAAA";
    for _ in 0..5 {
        assert_eq!(server.get(sid).await.0, 400);
    }
    assert_eq!(server.server.misrouted_requests(), 5);
    let text = lines.text();
    let said: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("arrived at logtest"))
        .collect();
    assert_eq!(said.len(), 1, "{text}");
    let line = said[0];
    assert!(line.contains("WARN"), "{line}");
    assert!(
        line.contains(
            "session of n2 arrived at logtest: the load balancer is not routing by session"
        ),
        "{line}"
    );
    assert!(!line.contains(sid), "the sid is a credential: {line}");
}
