//! The Redis bridge between three servers in this process, through a real
//! `redis-server` (one per test, on a free port): sends, broadcasts and
//! disconnects from a node that does not hold the sessions and from an
//! emitter, and the faults: Redis killed and restarted, Redis absent at
//! start. Skipped with a note without `redis-server`, unless
//! `EIO_INTEROP=require`.
#![cfg(all(feature = "redis", feature = "client"))]

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use engineio::client::{Client, Event};
use engineio::redis::{BridgeError, RedisBridge, RedisConfig, RedisEmitter};
use engineio::server::{SendError, Server, ServerConfig};
use engineio::{Message, Sid, Transport};
use support::redis::RedisServer;
use tokio::net::TcpListener;

/// A node: a server with a node id, serving on 127.0.0.1, and its bridge.
struct Node {
    server: Server,
    bridge: RedisBridge,
    url: String,
}

async fn node(name: &str, redis: &str) -> Node {
    let server = Server::builder()
        .config(
            ServerConfig::default()
                .node_id(name.parse().unwrap())
                .ping_interval(Duration::from_millis(500))
                .ping_timeout(Duration::from_millis(500)),
        )
        .build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let serving = server.clone();
    tokio::spawn(async move { serving.serve(listener).await });
    let bridge = RedisBridge::start(&server, RedisConfig::new(redis).unwrap());
    Node {
        server,
        bridge,
        url,
    }
}

async fn connected(nodes: &[&Node]) {
    for node in nodes {
        tokio::time::timeout(Duration::from_secs(5), node.bridge.wait_connected())
            .await
            .expect("the bridge did not reach Redis within 5 s");
    }
}

/// A client of `node` on `transports`, and its sid.
async fn client(node: &Node, transports: &[Transport]) -> (Client, Sid) {
    let client = Client::builder()
        .transports(transports.iter().copied())
        .build()
        .unwrap();
    client.connect(&node.url).await.unwrap();
    let sid = client.sid().unwrap();
    (client, sid)
}

/// The next message of `client` as text, within 5 s.
async fn next_text(client: &Client) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, client.recv()).await {
            Ok(Some(Event::Message(Message::Text(text)))) => return text,
            Ok(Some(Event::Message(other))) => panic!("unexpected {other:?}"),
            Ok(Some(Event::Disconnect(reason))) => panic!("disconnected: {reason}"),
            Ok(Some(_)) => {}
            Ok(None) => panic!("the client ended"),
            Err(_) => panic!("no message within 5 s"),
        }
    }
}

/// Waits up to `limit` for `client`'s Disconnect; how long it took.
async fn disconnect_within(client: &Client, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, client.recv()).await {
            Ok(Some(Event::Disconnect(_))) | Ok(None) => return started.elapsed(),
            Ok(Some(_)) => {}
            Err(_) => panic!("not disconnected within {limit:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sends_broadcasts_and_disconnects_reach_every_node() {
    let Some(redis) = RedisServer::start("sends_broadcasts_and_disconnects_reach_every_node")
    else {
        return;
    };
    let started = Instant::now();
    let nodes = [
        node("n1", &redis.url()).await,
        node("n2", &redis.url()).await,
        node("n3", &redis.url()).await,
    ];
    connected(&[&nodes[0], &nodes[1], &nodes[2]]).await;

    // Two clients per node: one polling only, one WebSocket only.
    let mut clients = Vec::new();
    for node in &nodes {
        clients.push(client(node, &[Transport::Polling]).await);
        clients.push(client(node, &[Transport::WebSocket]).await);
    }

    // From n2, 100 numbered messages to every session (four of them on
    // other nodes): each arrives once, in order.
    let n2 = &nodes[1].bridge;
    for k in 0..100 {
        for (_, sid) in &clients {
            n2.send(*sid, format!("m{k}")).unwrap();
        }
    }
    for (client, sid) in &clients {
        for k in 0..100 {
            assert_eq!(next_text(client).await, format!("m{k}"), "{sid}");
        }
    }

    // One broadcast from n2 leaving out a session of n1: one copy each,
    // none for that session. Then a marker from n2 to everyone: the next
    // message after the broadcast (one publisher's commands arrive in
    // order), so no second copy came in between.
    let left_out = clients[0].1;
    let local = n2.broadcast_except("news", &[left_out]).unwrap();
    assert_eq!(local, 2, "n2 holds two sessions");
    for (_, sid) in &clients {
        n2.send(*sid, "marker").unwrap();
    }
    for (client, sid) in &clients {
        if *sid != left_out {
            assert_eq!(next_text(client).await, "news", "{sid}");
        }
        assert_eq!(next_text(client).await, "marker", "{sid}");
    }

    // The emitter, from outside: a send, a broadcast, a disconnect.
    let emitter = RedisEmitter::new(RedisConfig::new(&redis.url()).unwrap(), "/engine.io/");
    let (on_n3, on_n3_sid) = &clients[5];
    assert_eq!(emitter.send(*on_n3_sid, "from a worker").await, Ok(1));
    assert_eq!(next_text(on_n3).await, "from a worker");
    assert_eq!(emitter.broadcast("to all").await, Ok(3));
    for (client, _) in &clients {
        assert_eq!(next_text(client).await, "to all");
    }
    let binary = vec![0u8, 1, 2, 255];
    emitter.send(*on_n3_sid, binary.clone()).await.unwrap();
    match on_n3.recv().await {
        Some(Event::Message(Message::Binary(bytes))) => assert_eq!(&bytes[..], &binary[..]),
        other => panic!("{other:?}"),
    }
    // A sid of a node that does not run: nobody listens.
    let nobody: Sid = "n9.AAAAAAAAAAAAAAAAAAAA".parse().unwrap();
    assert_eq!(emitter.send(nobody, "lost").await, Ok(0));

    // A remote disconnect from n2 of a session of n1, and one from the
    // emitter of a session of n3: each client sees its close within 1 s.
    let (on_n1, on_n1_sid) = &clients[1];
    n2.disconnect(*on_n1_sid).unwrap();
    let took_bridge = disconnect_within(on_n1, Duration::from_secs(1)).await;
    assert_eq!(emitter.disconnect(*on_n3_sid).await, Ok(1));
    let took_emitter = disconnect_within(on_n3, Duration::from_secs(1)).await;

    // A sid naming this node that it does not hold is not looked for
    // elsewhere.
    let gone: Sid = "n2.AAAAAAAAAAAAAAAAAAAA".parse().unwrap();
    assert_eq!(
        n2.send(gone, "x"),
        Err(BridgeError::Local(SendError::UnknownSession))
    );
    assert_eq!(
        n2.disconnect(gone),
        Err(BridgeError::Local(SendError::UnknownSession))
    );

    let stats: HashMap<&str, _> = ["n1", "n2", "n3"]
        .into_iter()
        .zip(nodes.iter().map(|node| node.bridge.stats()))
        .collect();
    for (name, stats) in &stats {
        assert_eq!(stats.dropped, 0, "{name}: {stats:?}");
        assert_eq!(stats.malformed, 0, "{name}: {stats:?}");
    }
    // n2 published 100 x 4 remote sends, the broadcast, 4 remote markers
    // and the disconnect; its own sessions were served locally.
    assert_eq!(stats["n2"].published, 400 + 1 + 4 + 1, "{:?}", stats["n2"]);
    eprintln!(
        "3 nodes, 6 clients (3 polling, 3 WebSocket): 600 numbered sends from n2 in order, \
         a broadcast with except, emitter send/broadcast/binary/disconnect; remote disconnect \
         seen in {took_bridge:.2?} (bridge) and {took_emitter:.2?} (emitter); {:.2?} in all; \
         n2 {:?}",
        started.elapsed(),
        stats["n2"]
    );
    drop(clients);
    for node in &nodes {
        node.server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_restart_local_traffic_goes_on_and_sends_resume() {
    let Some(mut redis) =
        RedisServer::start("redis_restart_local_traffic_goes_on_and_sends_resume")
    else {
        return;
    };
    let n1 = node("n1", &redis.url()).await;
    let n2 = node("n2", &redis.url()).await;
    connected(&[&n1, &n2]).await;
    let (remote, remote_sid) = client(&n1, &[Transport::WebSocket]).await;
    let (local, local_sid) = client(&n2, &[Transport::Polling]).await;
    n2.bridge.send(remote_sid, "before").unwrap();
    assert_eq!(next_text(&remote).await, "before");

    // Redis dies without a word.
    redis.kill();
    let why = tokio::time::timeout(Duration::from_secs(3), n2.bridge.wait_disconnected())
        .await
        .expect("the bridge did not notice within 3 s");
    // Local traffic goes on; remote sends fail at once, clearly.
    let tried = Instant::now();
    let err = n2.bridge.send(remote_sid, "while down").unwrap_err();
    assert!(tried.elapsed() < Duration::from_millis(50));
    assert!(matches!(err, BridgeError::Unavailable { .. }), "{err}");
    assert!(err.to_string().contains("unreachable"), "{err}");
    n2.bridge.send(local_sid, "local while down").unwrap();
    assert_eq!(next_text(&local).await, "local while down");
    let err = n2.bridge.broadcast("everyone while down").unwrap_err();
    assert!(matches!(err, BridgeError::Unavailable { .. }), "{err}");
    assert_eq!(next_text(&local).await, "everyone while down");
    // The sessions themselves are unaffected.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(n1.server.session_count(), 1);
    assert_eq!(n2.server.session_count(), 1);

    // Redis comes back: a send gets through within 2 s.
    redis.restart();
    let back = Instant::now();
    let mut probes = 0;
    let arrived = loop {
        assert!(
            back.elapsed() < Duration::from_secs(2),
            "no send got through within 2 s of the restart ({probes} probes sent)"
        );
        if n2
            .bridge
            .send(remote_sid, format!("probe {probes}"))
            .is_ok()
        {
            probes += 1;
        }
        match tokio::time::timeout(Duration::from_millis(50), remote.recv()).await {
            Ok(Some(Event::Message(Message::Text(text)))) if text.starts_with("probe") => {
                break back.elapsed();
            }
            Ok(Some(Event::Disconnect(reason))) => panic!("disconnected: {reason}"),
            _ => {}
        }
    };
    // The probes still in flight, then numbered messages in order.
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(300), remote.recv()).await {}
    for k in 0..100 {
        n2.bridge.send(remote_sid, format!("m{k}")).unwrap();
    }
    for k in 0..100 {
        assert_eq!(next_text(&remote).await, format!("m{k}"));
    }
    let stats = n2.bridge.stats();
    assert!(stats.reconnections >= 1, "{stats:?}");
    eprintln!(
        "Redis killed: noticed ({why}); remote sends refused at once, local ones delivered; \
         restarted: first send through after {arrived:.2?}; n2 {stats:?}"
    );
    n1.server.shutdown().await;
    n2.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_absent_at_start_then_joined() {
    let Some(mut redis) = RedisServer::start("redis_absent_at_start_then_joined") else {
        return;
    };
    redis.kill();
    let n1 = node("n1", &redis.url()).await;
    let n2 = node("n2", &redis.url()).await;
    let (on_n1, sid) = client(&n1, &[Transport::WebSocket]).await;
    // Local sends through the bridge work without Redis.
    n1.bridge.send(sid, "local").unwrap();
    assert_eq!(next_text(&on_n1).await, "local");
    assert!(!n2.bridge.is_connected());
    assert!(matches!(
        n2.bridge.send(sid, "remote"),
        Err(BridgeError::Unavailable { .. })
    ));
    // A malformed URL is refused when configured.
    assert!(matches!(
        RedisConfig::new("redis://[::1"),
        Err(BridgeError::InvalidUrl { .. })
    ));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    redis.restart();
    let back = Instant::now();
    connected(&[&n1, &n2]).await;
    let joined = back.elapsed();
    assert!(joined < Duration::from_secs(2), "{joined:?}");
    n2.bridge.send(sid, "remote").unwrap();
    assert_eq!(next_text(&on_n1).await, "remote");
    eprintln!("Redis started late: both bridges joined {joined:.2?} after it");
    n1.server.shutdown().await;
    n2.server.shutdown().await;
}
