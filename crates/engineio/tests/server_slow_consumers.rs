//! Slow consumers: WebSocket clients that stop reading while the server
//! keeps sending. Each session's outgoing queue is bounded (`max_queue`):
//! once it and the socket's buffers are full, `send` fails with
//! `QueueFull` instead of the server's memory growing, the other sessions
//! keep working, and the stalled sessions end cleanly when their clients go.
//!
//! Its own test binary: it measures the process's resident memory, which
//! other tests running beside it would disturb.

mod support;

use std::time::{Duration, Instant};

use engineio::server::{SendError, ServerConfig};
use engineio::{Message, Sid};
use futures_util::StreamExt as _;
use support::server::start;

const CLIENTS: usize = 100;
const MAX_QUEUE: usize = 64;

/// The process's resident memory, in bytes (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_readers_fill_their_queue_and_memory_stays_flat() {
    let server = start(ServerConfig::default().max_queue(MAX_QUEUE)).await;
    let baseline = rss();
    let ws_url = server
        .url("EIO=4&transport=websocket")
        .replace("http://", "ws://");
    // Clients that read the open packet, then never read again.
    let mut stalled = Vec::new();
    for _ in 0..CLIENTS {
        let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
        ws.next().await.unwrap().unwrap();
        stalled.push(ws);
    }
    let sids: Vec<Sid> = server.server.session_ids();
    assert_eq!(sids.len(), CLIENTS);

    // Send 1 KiB messages to every session until each refuses: the queue
    // and the sockets' buffers are full.
    let message = Message::Text("x".repeat(1024));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut accepted = 0usize; // before the queues and buffers filled
    for sid in &sids {
        loop {
            match server.server.send(*sid, message.clone()) {
                Ok(()) => accepted += 1,
                Err(SendError::QueueFull { limit }) => {
                    assert_eq!(limit, MAX_QUEUE);
                    break;
                }
                Err(other) => panic!("unexpected send error {other}"),
            }
            if accepted.is_multiple_of(256) {
                // Let the writers move what they can into the sockets.
                tokio::task::yield_now().await;
            }
            assert!(Instant::now() < deadline, "the queues never filled");
        }
    }
    // The writers move what they can into their WebSocket buffers and the
    // kernel's: refill until a round finds every queue still full.
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut more = 0usize;
        for sid in &sids {
            while server.server.send(*sid, message.clone()).is_ok() {
                more += 1;
            }
        }
        accepted += more;
        if more == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sessions never stopped taking data"
        );
    }
    let full = rss();

    // Ten times the queues' size more: every send is refused, and the
    // process does not grow.
    let attempts = 10 * MAX_QUEUE * CLIENTS;
    let mut refused = 0usize;
    for _ in 0..10 * MAX_QUEUE {
        for sid in &sids {
            match server.server.send(*sid, message.clone()) {
                Err(SendError::QueueFull { .. }) => refused += 1,
                Ok(()) => {}
                Err(other) => panic!("unexpected send error {other}"),
            }
        }
    }
    let after = rss();
    let growth = after.saturating_sub(full);
    println!(
        "{CLIENTS} stalled clients: {accepted} messages accepted before the queues filled; \
         RSS {} KiB before, {} KiB when full, {} KiB after {attempts} more sends \
         ({refused} refused), +{} KiB",
        baseline / 1024,
        full / 1024,
        after / 1024,
        growth / 1024
    );
    assert_eq!(
        refused, attempts,
        "sends were taken while the clients stalled"
    );
    assert!(
        growth < 2 * 1024 * 1024,
        "memory grew by {growth} bytes while the clients stalled"
    );

    // Another client is served as usual meanwhile.
    let (mut fresh, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    fresh.next().await.unwrap().unwrap();
    use futures_util::SinkExt as _;
    fresh
        .send(tokio_tungstenite::tungstenite::Message::Text(
            "4hello".into(),
        ))
        .await
        .unwrap();
    let echo = tokio::time::timeout(Duration::from_secs(10), fresh.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(echo.into_text().unwrap().as_str(), "4hello");

    // The stalled clients go: their sessions end and are forgotten.
    drop(stalled);
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.server.session_count() > 1 {
        assert!(
            Instant::now() < deadline,
            "{} sessions left",
            server.server.session_count()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
