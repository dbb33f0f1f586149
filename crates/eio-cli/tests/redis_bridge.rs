//! Three `eio serve --node-id nK --redis URL --relay` nodes sharing a real
//! `redis-server`, behind HAProxy with `deploy/haproxy/haproxy.cfg`
//! (routing on the sid's node prefix), with our clients going through
//! HAProxy and commands (`to:`, `except:`, `disconnect:`) given to one node
//! directly, or from outside with `eio emit`.
//!
//! The faults: a node killed with SIGKILL (its clients reconnect through
//! HAProxy to the others, and sends reach them there), and redis-server
//! killed and restarted (sends get through again within 2 s; no node
//! panics).
//!
//! Skipped with a note without redis-server or haproxy, unless
//! `EIO_INTEROP=require` (as `scripts/test.sh` sets); the test command
//! installs both (`scripts/install-test-deps.sh`).

#[path = "../../engineio/tests/support/redis.rs"]
mod redis_support;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use engineio::client::blocking::Client;
use engineio::client::{Event, Reconnection};
use engineio::{Message, Transport};
use redis_support::RedisServer;
use support::balancer::{Balancer, Kind, find_program};
use support::{EIO, Serve};

/// haproxy where Debian puts it, or a skip note (a failure with
/// `EIO_INTEROP=require`).
fn haproxy(test: &str) -> Option<PathBuf> {
    let found = find_program("haproxy");
    if found.is_none() {
        let note =
            "haproxy is not installed (Debian package haproxy; scripts/install-test-deps.sh)";
        if std::env::var("EIO_INTEROP").as_deref() == Ok("require") {
            panic!("{test}: {note} (EIO_INTEROP=require)");
        }
        eprintln!("skipping {test}: {note}; set EIO_INTEROP=require to fail instead");
    }
    found
}

/// HAProxy with the shipped sid-prefix configuration in front of `nodes`,
/// checking them every 200 ms so that a killed node stops getting
/// handshakes quickly.
fn haproxy_in_front(program: &Path, nodes: &[Serve]) -> Balancer {
    let shipped =
        std::fs::read_to_string(support::root().join("deploy/haproxy/haproxy.cfg")).unwrap();
    assert!(shipped.contains("check inter 2s"));
    let config = shipped.replace("check inter 2s", "check inter 200ms fall 1");
    Balancer::start(Kind::HaProxy, program, &config, nodes)
}

/// Three nodes on `redis`, each subscribed.
fn start_nodes(redis: &RedisServer) -> Vec<Serve> {
    let url = redis.url();
    let nodes: Vec<Serve> = (1..=3)
        .map(|k| {
            let name = format!("n{k}");
            Serve::start(&[
                "--node-id",
                &name,
                "--redis",
                &url,
                "--relay",
                "--quiet",
                "--ping-interval",
                "1000",
                "--ping-timeout",
                "1000",
            ])
        })
        .collect();
    for node in &nodes {
        wait_line(node, "redis: subscribed", Duration::from_secs(10));
    }
    nodes
}

/// Waits for a line of standard output starting with `prefix`.
fn wait_line(node: &Serve, prefix: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        assert!(
            Instant::now() < deadline,
            "no {prefix:?} line within {limit:?}"
        );
        let line = node.next_line();
        if line.starts_with(prefix) {
            return line;
        }
    }
}

/// One of our clients through the balancer.
fn client(url: &str, transports: &[Transport], reconnect: bool) -> Client {
    let mut builder = Client::builder().transports(transports.iter().copied());
    if reconnect {
        builder = builder.reconnection(
            Reconnection::default()
                .initial_delay(Duration::from_millis(100))
                .max_delay(Duration::from_millis(300)),
        );
    }
    let client = builder.build_blocking().unwrap();
    client.connect(url).unwrap();
    client
}

fn sid(client: &Client) -> String {
    client.sid().expect("connected").to_string()
}

/// The next text message within `limit`.
fn next_text(client: &Client, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.recv_timeout(left) {
            Ok(Event::Message(Message::Text(text))) => return text,
            Ok(Event::Disconnect(reason)) => panic!("{}: disconnected ({reason})", sid(client)),
            Ok(_) => {}
            Err(_) => panic!("no message within {limit:?}"),
        }
    }
}

/// How long until `client` is disconnected (at most `limit`).
fn disconnected_within(client: &Client, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match client.recv_timeout(left) {
            Ok(Event::Disconnect(_)) => return started.elapsed(),
            Ok(_) => {}
            Err(_) => panic!("not disconnected within {limit:?}"),
        }
    }
}

/// Runs `eio emit --redis URL ARGS`; its standard output.
fn emit(redis: &RedisServer, args: &[&str]) -> String {
    let output = Command::new(EIO)
        .args(["emit", "--redis", &redis.url()])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "eio emit {args:?}: {}\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn node_of(sid: &str) -> &str {
    sid.split('.').next().unwrap_or_default()
}

#[test]
fn nodes_behind_haproxy_reach_each_others_sessions() {
    let test = "nodes_behind_haproxy_reach_each_others_sessions";
    let Some(redis) = RedisServer::start(test) else {
        return;
    };
    let Some(program) = haproxy(test) else {
        return;
    };
    let started = Instant::now();
    let mut nodes = start_nodes(&redis);
    let balancer = haproxy_in_front(&program, &nodes);
    // Six clients through HAProxy: polling only, WebSocket only, upgrading.
    let transports: [&[Transport]; 3] = [
        &[Transport::Polling],
        &[Transport::WebSocket],
        &[Transport::Polling, Transport::WebSocket],
    ];
    let clients: Vec<Client> = (0..6)
        .map(|i| client(&balancer.url, transports[i % 3], false))
        .collect();
    let sids: Vec<String> = clients.iter().map(sid).collect();
    let mut per_node = [0; 3];
    for sid in &sids {
        per_node[node_of(sid)[1..].parse::<usize>().unwrap() - 1] += 1;
    }
    assert!(
        per_node.iter().all(|&n| n >= 1),
        "sessions per node {per_node:?}"
    );

    // The commander talks to n2 directly; n2 holds some of the sessions.
    let commander = client(&nodes[1].url, &[Transport::WebSocket], false);
    let sending = Instant::now();
    for k in 0..100 {
        for sid in &sids {
            commander.send(format!("to:{sid}:m{k}")).unwrap();
        }
    }
    for (client, sid) in clients.iter().zip(&sids) {
        for k in 0..100 {
            assert_eq!(
                next_text(client, Duration::from_secs(10)),
                format!("m{k}"),
                "{sid}"
            );
        }
    }
    let numbered = sending.elapsed();

    // A broadcast leaving one session out, then a marker: one copy each.
    let left_out = &sids[0];
    commander.send(format!("except:{left_out}:news")).unwrap();
    for sid in &sids {
        commander.send(format!("to:{sid}:marker")).unwrap();
    }
    for (client, sid) in clients.iter().zip(&sids) {
        if sid != left_out {
            assert_eq!(next_text(client, Duration::from_secs(5)), "news", "{sid}");
        }
        assert_eq!(next_text(client, Duration::from_secs(5)), "marker", "{sid}");
    }

    // eio emit, from outside: to one session, to all but one.
    let out = emit(&redis, &["--to", &sids[1], "from emit"]);
    assert!(out.contains("to 1 node(s)"), "{out}");
    assert_eq!(next_text(&clients[1], Duration::from_secs(5)), "from emit");
    let out = emit(&redis, &["--all", "--except", &sids[2], "all from emit"]);
    assert!(out.contains("to 3 node(s)"), "{out}");
    for (i, client) in clients.iter().enumerate() {
        if i != 2 {
            assert_eq!(next_text(client, Duration::from_secs(5)), "all from emit");
        }
    }
    emit(&redis, &["--to", &sids[2], "--binary", "00ff"]);
    match clients[2].recv_timeout(Duration::from_secs(5)) {
        Ok(Event::Message(Message::Binary(bytes))) => assert_eq!(&bytes[..], &[0, 255]),
        other => panic!("{other:?}"),
    }

    // Remote disconnects: by the commander on n2 for a session elsewhere,
    // and by eio emit.
    let elsewhere = sids
        .iter()
        .position(|sid| node_of(sid) != "n2")
        .expect("a session outside n2");
    commander
        .send(format!("disconnect:{}", sids[elsewhere]))
        .unwrap();
    let by_node = disconnected_within(&clients[elsewhere], Duration::from_secs(1));
    let other = (0..6).find(|&i| i != elsewhere).unwrap();
    emit(&redis, &["--disconnect", &sids[other]]);
    let by_emit = disconnected_within(&clients[other], Duration::from_secs(1));

    // The commander heard no error.
    assert!(
        !matches!(
            commander.recv_timeout(Duration::from_millis(200)),
            Ok(Event::Message(_))
        ),
        "the commander got an answer"
    );
    // No panic, and no request reached the wrong node.
    for node in &mut nodes {
        let stderr = node.stderr();
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains("not routing by session"), "{stderr}");
    }
    eprintln!(
        "3 eio serve --redis nodes behind HAProxy, 6 clients (sessions per node {per_node:?}): \
         600 numbered sends from n2 exactly once and in order in {numbered:.2?}; broadcast with \
         except; eio emit to one, to all but one, binary; remote disconnects seen in \
         {by_node:.2?} (from n2) and {by_emit:.2?} (eio emit); {:.2?} in all",
        started.elapsed()
    );
}

#[test]
fn a_killed_node_and_a_restarted_redis() {
    let test = "a_killed_node_and_a_restarted_redis";
    let Some(mut redis) = RedisServer::start(test) else {
        return;
    };
    let Some(program) = haproxy(test) else {
        return;
    };
    let started = Instant::now();
    let mut nodes = start_nodes(&redis);
    let balancer = haproxy_in_front(&program, &nodes);
    let clients: Vec<Client> = (0..6)
        .map(|i| {
            let transports: &[Transport] = if i % 2 == 0 {
                &[Transport::Polling]
            } else {
                &[Transport::WebSocket]
            };
            client(&balancer.url, transports, true)
        })
        .collect();
    let on_n1: Vec<usize> = (0..6)
        .filter(|&i| node_of(&sid(&clients[i])) == "n1")
        .collect();
    assert!(!on_n1.is_empty(), "no session on n1");

    // SIGKILL n1: its clients reconnect through HAProxy to n2 or n3.
    nodes[0].child.kill().unwrap();
    let killed = Instant::now();
    for &i in &on_n1 {
        // Its events: the old session's end, the attempts, then the
        // new session's Connect.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut reconnected = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match clients[i].recv_timeout(left) {
                Ok(Event::Reconnected { .. }) => reconnected = true,
                Ok(Event::Connect) if reconnected => break,
                Ok(Event::ReconnectFailed { .. }) => panic!("client {i} gave up"),
                Ok(_) => {}
                Err(_) => panic!("client {i} did not reconnect within 10 s"),
            }
        }
        let now = sid(&clients[i]);
        assert_ne!(node_of(&now), "n1", "{now}");
    }
    let moved = killed.elapsed();
    // Sends from n3 reach them where they are now.
    let commander = client(&nodes[2].url, &[Transport::WebSocket], false);
    for &i in &on_n1 {
        commander
            .send(format!("to:{}:found you", sid(&clients[i])))
            .unwrap();
    }
    for &i in &on_n1 {
        assert_eq!(next_text(&clients[i], Duration::from_secs(5)), "found you");
    }

    // Redis killed and restarted: a send from n3 to a session of n2 gets
    // through again within 2 s of the restart.
    let target = (0..6)
        .find(|&i| node_of(&sid(&clients[i])) == "n2")
        .expect("a session on n2");
    let target_sid = sid(&clients[target]);
    redis.kill();
    wait_line(&nodes[2], "redis: disconnected", Duration::from_secs(5));
    commander
        .send(format!("to:{target_sid}:while down"))
        .unwrap();
    let answer = next_text(&commander, Duration::from_secs(5));
    assert!(
        answer.starts_with("error: Redis is unreachable"),
        "{answer}"
    );
    std::thread::sleep(Duration::from_millis(300));
    redis.restart();
    let back = Instant::now();
    let mut probes = 0;
    let through = loop {
        assert!(
            back.elapsed() < Duration::from_secs(2),
            "no send through within 2 s of the restart ({probes} probes)"
        );
        commander
            .send(format!("to:{target_sid}:probe {probes}"))
            .unwrap();
        probes += 1;
        if let Ok(Event::Message(Message::Text(text))) =
            clients[target].recv_timeout(Duration::from_millis(50))
        {
            assert!(text.starts_with("probe"), "{text}");
            break back.elapsed();
        }
    };
    // The surviving nodes are alive and panicked nowhere.
    for node in &mut nodes[1..] {
        assert!(node.child.try_wait().unwrap().is_none(), "a node exited");
        let stderr = node.stderr();
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    eprintln!(
        "n1 killed: its {} client(s) reconnected to n2/n3 within {moved:.2?} and got sends there; \
         Redis killed and restarted: a send from n3 to n2 through after {through:.2?}; \
         {:.2?} in all",
        on_n1.len(),
        started.elapsed()
    );
}
