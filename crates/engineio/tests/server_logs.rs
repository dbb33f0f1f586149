//! What the server logs at info level: a session's id never appears on a
//! line with the request's data (the client's address, the URL, headers).
//! Its own test binary: it installs a global log subscriber.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use support::server::{short, start};

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

#[tokio::test]
async fn info_logs_never_put_a_sid_beside_request_data() {
    let lines = Lines::default();
    let writer = lines.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let mut server = start(short()).await;
    let (sid, _) = server.handshake().await;
    assert_eq!(server.post(&sid, "1").await.0, 200);
    server.disconnect_event().await;
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
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
