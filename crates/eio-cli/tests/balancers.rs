//! The load-balancer configurations shipped in `deploy/` in front of three
//! `eio serve` nodes, all on 127.0.0.1, with real clients going through
//! them: Debian's HAProxy (routing on the sid's node prefix; routing by
//! HAProxy's `cookie io prefix`) and nginx (a `map` on `$arg_sid`). Each
//! runs many Node `engine.io-client`s polling only (every echo back, no
//! HTTP 400, sessions on all three nodes) and upgrading (every one on
//! WebSocket), a few python-engineio clients and a few of our own.
//!
//! The negative control: the same HAProxy without its routing rules (plain
//! round robin) gives polling clients 400 "Session ID unknown", a node says
//! why in its log, and WebSocket-only clients still connect.
//!
//! The configurations are the shipped files, with their addresses
//! (`127.0.0.1:8080` for the balancer, `127.0.0.1:5001`-`5003` for the
//! nodes) replaced by free ports. The balancers run as the test's user
//! (`haproxy -db`, `nginx -p <scratch dir> ... -g 'daemon off;
//! master_process off;'`). Without haproxy, nginx, node's engine.io-client
//! or python-engineio the tests are skipped with a note, or fail when
//! `EIO_INTEROP=require` (as `scripts/test.sh` sets); the test command
//! installs them (`scripts/install-test-deps.sh`).

mod support;

use std::collections::HashMap;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use engineio::Transport;
use engineio::client::{Client, Event};
use serde_json::{Value, json};
use support::balancer::{Balancer, Kind, find_program};
use support::{Serve, root};

/// Clients that poll only, each sending this many messages one after the
/// other's echo.
const POLLING_CLIENTS: usize = 30;
const POLLING_ECHOES: usize = 20;
/// Clients that start on polling and must upgrade to WebSocket.
const UPGRADING_CLIENTS: usize = 30;
/// The least sessions each node must hold out of 30 handshakes.
const MIN_PER_NODE: usize = 5;
/// The hard limit on one batch of peer clients.
const PEER_GUARD: Duration = Duration::from_secs(40);

/// The words a node logs when a request for another node's session
/// reaches it.
const MISROUTED: &str = "the load balancer is not routing by session";

fn venv_python() -> PathBuf {
    root().join(".test-deps/venv/bin/python")
}

/// The balancer's program, when it and the client peers are installed.
/// Otherwise: panics with `EIO_INTEROP=require`, else prints a skip note
/// and returns `None` (the test then passes without running).
fn prerequisites(test: &str, balancer: &str) -> Option<PathBuf> {
    let program = find_program(balancer);
    let mut missing = Vec::new();
    if program.is_none() {
        missing.push(format!("{balancer} (Debian package {balancer})"));
    }
    if find_program("node").is_none()
        || !root()
            .join("interop/node_modules/engine.io-client")
            .exists()
    {
        missing.push("node and engine.io-client (interop/node_modules)".to_owned());
    }
    if !venv_python().exists() {
        missing.push("python-engineio (.test-deps/venv)".to_owned());
    }
    if missing.is_empty() {
        return program;
    }
    let missing = missing.join(", ");
    if std::env::var("EIO_INTEROP").as_deref() == Ok("require") {
        panic!(
            "{test}: not installed: {missing}; run scripts/install-test-deps.sh (EIO_INTEROP=require)"
        );
    }
    eprintln!(
        "skipping {test}: not installed: {missing}; run scripts/install-test-deps.sh \
         (set EIO_INTEROP=require to fail instead)"
    );
    None
}

/// Three `eio serve` nodes, each with `args(k)` for k in 1..=3.
fn start_nodes(args: impl Fn(usize) -> Vec<String>) -> Vec<Serve> {
    (1..=3)
        .map(|k| {
            let args = args(k);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Serve::start(&args)
        })
        .collect()
}

fn with_node_ids(k: usize) -> Vec<String> {
    vec!["--node-id".to_owned(), format!("n{k}")]
}

fn with_cookie(_: usize) -> Vec<String> {
    vec!["--cookie".to_owned(), "io".to_owned()]
}

/// Runs a peer command to its end (killed after [`PEER_GUARD`]); its
/// standard output lines, parsed as JSON, and its standard error.
fn run_peer(mut command: Command, label: &str) -> (Vec<Value>, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("PYTHONUNBUFFERED", "1")
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {label}: {err}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + PEER_GUARD;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(
        status.is_some_and(|status| status.success()),
        "{label} ended with {status:?} (None: hung for {PEER_GUARD:?})\nstdout:\n{out}\nstderr:\n{err}"
    );
    let events = out
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|_| panic!("{label} printed {line:?}\nstderr:\n{err}"))
        })
        .collect();
    (events, err)
}

/// Runs `interop/server/node_clients.js` (many Node engine.io-clients at
/// once) against `url`; the report of each client.
fn node_clients(url: &str, options: &Value) -> Vec<Value> {
    let mut command = Command::new("node");
    command
        .arg(root().join("interop/server/node_clients.js"))
        .arg(url)
        .arg(options.to_string());
    let label = format!("node_clients.js {options}");
    let (mut events, stderr) = run_peer(command, &label);
    let summary = events.pop().unwrap_or_default();
    assert_eq!(summary["event"], "summary", "{label}: {summary}\n{stderr}");
    assert_eq!(events.len(), options["clients"].as_u64().unwrap() as usize);
    events
}

/// Runs python-engineio clients at once (`interop/server/py_client.py`,
/// each in its own process), one per entry of `transports` (`None`: its
/// default, polling then the upgrade), each sending `echoes` messages and
/// expecting them back; their events.
fn python_clients(url: &str, transports: &[Option<&[&str]>], echoes: usize) -> Vec<Vec<Value>> {
    let runs: Vec<_> = transports
        .iter()
        .map(|transports| {
            let options = json!({
                "transports": transports,
                "send": (0..echoes).map(|k| json!({"text": format!("py-{k}")})).collect::<Vec<_>>(),
                "expect": echoes,
                "waitSecs": 15,
            });
            let url = url.to_owned();
            std::thread::spawn(move || {
                let mut command = Command::new(venv_python());
                command
                    .arg(root().join("interop/server/py_client.py"))
                    .arg(&url)
                    .arg(options.to_string());
                run_peer(command, &format!("py_client.py {options}")).0
            })
        })
        .collect();
    runs.into_iter().map(|run| run.join().unwrap()).collect()
}

/// What one of our clients saw.
#[derive(Debug)]
struct RustRun {
    sid: String,
    upgraded: bool,
}

/// Runs `count` of our blocking clients at once, each on `transports`,
/// sending `echoes` messages one after the other's echo (and waiting for
/// the upgrade when it may upgrade).
fn rust_clients(
    url: &str,
    count: usize,
    transports: &[Transport],
    echoes: usize,
) -> Vec<Result<RustRun, String>> {
    let runs: Vec<_> = (0..count)
        .map(|i| {
            let url = url.to_owned();
            let transports = transports.to_vec();
            std::thread::spawn(move || rust_client(&url, i, &transports, echoes))
        })
        .collect();
    runs.into_iter().map(|run| run.join().unwrap()).collect()
}

fn rust_client(
    url: &str,
    i: usize,
    transports: &[Transport],
    echoes: usize,
) -> Result<RustRun, String> {
    let client = Client::builder()
        .transports(transports.iter().copied())
        .build_blocking()
        .map_err(|err| err.to_string())?;
    client
        .connect(url)
        .map_err(|err| format!("connect: {err}"))?;
    let sid = client.sid().map(|sid| sid.to_string()).unwrap_or_default();
    let wants_upgrade = transports.contains(&Transport::WebSocket) && transports.len() > 1;
    let mut upgraded = false;
    let mut echoed = 0;
    let deadline = Instant::now() + Duration::from_secs(15);
    client
        .send(format!("r{i}-0"))
        .map_err(|err| err.to_string())?;
    while echoed < echoes || (wants_upgrade && !upgraded) {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.recv_timeout(left) {
            Ok(Event::Message(message)) => {
                let expected = format!("r{i}-{echoed}");
                let text = match message {
                    engineio::Message::Text(text) => text,
                    other => format!("{other:?}"),
                };
                if text != expected {
                    return Err(format!("{sid}: got {text:?}, expected {expected:?}"));
                }
                echoed += 1;
                if echoed < echoes {
                    client
                        .send(format!("r{i}-{echoed}"))
                        .map_err(|err| err.to_string())?;
                }
            }
            Ok(Event::Upgrade(Transport::WebSocket)) => upgraded = true,
            Ok(Event::Disconnect(reason)) => {
                return Err(format!(
                    "{sid}: disconnected ({reason}) after {echoed} echoes"
                ));
            }
            Ok(Event::UpgradeError(why)) => return Err(format!("{sid}: upgrade failed: {why}")),
            Ok(_) => {}
            Err(_) => {
                return Err(format!(
                    "{sid}: timed out after {echoed} echoes (upgraded: {upgraded})"
                ));
            }
        }
    }
    client.disconnect();
    Ok(RustRun { sid, upgraded })
}

/// The sessions each node opened since the last call, by the `connect
/// <sid> ...` lines `eio serve` prints.
fn sessions_per_node(nodes: &[Serve]) -> Vec<Vec<String>> {
    // The clients are done: their connect lines are printed. Give the
    // reader threads a moment to pass them on.
    std::thread::sleep(Duration::from_millis(100));
    nodes
        .iter()
        .map(|node| {
            node.drain_lines()
                .iter()
                .filter_map(|line| line.strip_prefix("connect "))
                .filter_map(|rest| rest.split_whitespace().next())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// Which node (0, 1, 2) opened each sid.
fn owners(per_node: &[Vec<String>]) -> HashMap<String, usize> {
    per_node
        .iter()
        .enumerate()
        .flat_map(|(node, sids)| sids.iter().map(move |sid| (sid.clone(), node)))
        .collect()
}

/// The figures of one balancer run, printed in one piece at the end of
/// a test (the tests run in parallel).
struct Figures {
    title: &'static str,
    started: Instant,
    lines: Vec<String>,
}

impl Figures {
    fn new(title: &'static str) -> Self {
        Self {
            title,
            started: Instant::now(),
            lines: Vec::new(),
        }
    }

    fn add(&mut self, text: String) {
        self.lines.push(text);
    }

    fn print(&self) {
        eprintln!(
            "{} ({:.2?} in all):\n  {}",
            self.title,
            self.started.elapsed(),
            self.lines.join("\n  ")
        );
    }
}

/// Everything a balancer that routes by session must get right, with Node,
/// Python and Rust clients; `cookies`: the clients must keep cookies.
fn check_routing(balancer: &Balancer, nodes: &mut [Serve], cookies: bool, figures: &mut Figures) {
    let url = balancer.url.as_str();
    let _ = sessions_per_node(nodes);

    // Polling only: every echo comes back, no request is refused.
    let started = Instant::now();
    let reports = node_clients(
        url,
        &json!({
            "clients": POLLING_CLIENTS,
            "echoes": POLLING_ECHOES,
            "transports": ["polling"],
            "withCredentials": cookies,
            "timeoutMs": 20_000,
        }),
    );
    let took = started.elapsed();
    let failed: Vec<&Value> = reports.iter().filter(|r| r["ok"] != true).collect();
    assert!(
        failed.is_empty(),
        "polling clients failed: {failed:#?}\nbalancer log:\n{}",
        balancer.log()
    );
    assert!(
        reports
            .iter()
            .all(|r| r["echoes"] == POLLING_ECHOES && r["final"] == "polling"),
        "{reports:#?}"
    );
    let per_node = sessions_per_node(nodes);
    let counts: Vec<usize> = per_node.iter().map(Vec::len).collect();
    assert_eq!(
        counts.iter().sum::<usize>(),
        POLLING_CLIENTS,
        "{per_node:?}"
    );
    assert!(
        counts.iter().all(|&n| n >= MIN_PER_NODE),
        "sessions per node: {counts:?}"
    );
    let owner = owners(&per_node);
    for report in &reports {
        let sid = report["sid"].as_str().unwrap();
        assert!(owner.contains_key(sid), "{sid} was opened by no node");
    }
    figures.add(format!(
        "Node polling: {POLLING_CLIENTS} clients x {POLLING_ECHOES} echoes in {took:.2?}, 0 refused, sessions per node {counts:?}"
    ));

    // Polling then the upgrade: every client moves to WebSocket (on its own
    // node: another would refuse the upgrade).
    let started = Instant::now();
    let reports = node_clients(
        url,
        &json!({
            "clients": UPGRADING_CLIENTS,
            "echoes": 5,
            "waitUpgrade": true,
            "withCredentials": cookies,
            "timeoutMs": 20_000,
        }),
    );
    let took = started.elapsed();
    let failed: Vec<&Value> = reports.iter().filter(|r| r["ok"] != true).collect();
    assert!(
        failed.is_empty(),
        "upgrading clients failed: {failed:#?}\nbalancer log:\n{}",
        balancer.log()
    );
    assert!(
        reports
            .iter()
            .all(|r| r["upgraded"] == true && r["final"] == "websocket"),
        "{reports:#?}"
    );
    let counts: Vec<usize> = sessions_per_node(nodes).iter().map(Vec::len).collect();
    assert!(
        counts.iter().all(|&n| n >= MIN_PER_NODE),
        "sessions per node: {counts:?}"
    );
    figures.add(format!(
        "Node upgrading: {UPGRADING_CLIENTS}/{UPGRADING_CLIENTS} on WebSocket in {took:.2?}, sessions per node {counts:?}"
    ));

    // python-engineio: two polling only, two upgrading.
    let started = Instant::now();
    let polling: &[&str] = &["polling"];
    let runs = python_clients(url, &[Some(polling), Some(polling), None, None], 10);
    for (i, events) in runs.iter().enumerate() {
        let texts: Vec<&str> = events
            .iter()
            .filter(|e| e["event"] == "message")
            .filter_map(|e| e["text"].as_str())
            .collect();
        let expected: Vec<String> = (0..10).map(|k| format!("py-{k}")).collect();
        assert_eq!(texts, expected, "python client {i}: {events:#?}");
        let connected = events.iter().find(|e| e["event"] == "connected");
        let transport = connected.map(|e| e["transport"].clone());
        let wanted = if i < 2 { "polling" } else { "websocket" };
        assert_eq!(
            transport,
            Some(json!(wanted)),
            "python client {i}: {events:#?}"
        );
        assert!(
            !events
                .iter()
                .any(|e| e["event"] == "error" || e["event"] == "timeout"),
            "python client {i}: {events:#?}"
        );
    }
    let per_node = sessions_per_node(nodes);
    figures.add(format!(
        "python-engineio: 4/4 (2 polling, 2 upgraded) x 10 echoes in {:.2?}, sessions per node {:?}",
        started.elapsed(),
        per_node.iter().map(Vec::len).collect::<Vec<_>>()
    ));

    // Ours: three polling only, three upgrading.
    let started = Instant::now();
    let mut runs = rust_clients(url, 3, &[Transport::Polling], 10);
    runs.extend(rust_clients(
        url,
        3,
        &[Transport::Polling, Transport::WebSocket],
        10,
    ));
    let runs: Vec<RustRun> = runs
        .into_iter()
        .map(|run| {
            run.unwrap_or_else(|err| panic!("our client: {err}\nbalancer log:\n{}", balancer.log()))
        })
        .collect();
    assert!(runs[3..].iter().all(|run| run.upgraded), "{runs:?}");
    let owner = owners(&sessions_per_node(nodes));
    assert!(
        runs.iter().all(|run| owner.contains_key(&run.sid)),
        "{runs:?}"
    );
    figures.add(format!(
        "engineio::client: 6/6 (3 polling, 3 upgraded) x 10 echoes in {:.2?}",
        started.elapsed()
    ));

    // No node saw a request for another node's session.
    for (k, node) in nodes.iter_mut().enumerate() {
        let stderr = node.stderr();
        assert!(
            !stderr.contains(MISROUTED),
            "node {} logged:\n{stderr}",
            k + 1
        );
    }
}

fn shipped(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

#[test]
fn haproxy_routes_by_the_sids_node_prefix() {
    let Some(haproxy) = prerequisites("haproxy_routes_by_the_sids_node_prefix", "haproxy") else {
        return;
    };
    let mut figures =
        Figures::new("HAProxy, routing on the sid's node prefix (deploy/haproxy/haproxy.cfg)");
    let mut nodes = start_nodes(with_node_ids);
    let balancer = Balancer::start(
        Kind::HaProxy,
        &haproxy,
        &shipped("deploy/haproxy/haproxy.cfg"),
        &nodes,
    );
    check_routing(&balancer, &mut nodes, false, &mut figures);
    figures.print();
}

#[test]
fn haproxy_routes_by_its_cookie_prefix() {
    let Some(haproxy) = prerequisites("haproxy_routes_by_its_cookie_prefix", "haproxy") else {
        return;
    };
    let mut figures = Figures::new(
        "HAProxy, routing on its cookie io prefix (deploy/haproxy/haproxy-cookie.cfg)",
    );
    // No node ids: the sids say nothing, the cookie routes.
    let mut nodes = start_nodes(with_cookie);
    let balancer = Balancer::start(
        Kind::HaProxy,
        &haproxy,
        &shipped("deploy/haproxy/haproxy-cookie.cfg"),
        &nodes,
    );
    check_routing(&balancer, &mut nodes, true, &mut figures);
    figures.print();
}

#[test]
fn nginx_routes_by_the_sids_node_prefix() {
    let Some(nginx) = prerequisites("nginx_routes_by_the_sids_node_prefix", "nginx") else {
        return;
    };
    let mut figures = Figures::new("nginx, map on $arg_sid (deploy/nginx/nginx.conf)");
    let mut nodes = start_nodes(with_node_ids);
    let balancer = Balancer::start(
        Kind::Nginx,
        &nginx,
        &shipped("deploy/nginx/nginx.conf"),
        &nodes,
    );
    check_routing(&balancer, &mut nodes, false, &mut figures);
    figures.print();
}

#[test]
fn plain_round_robin_refuses_polling_and_a_node_says_why() {
    let Some(haproxy) = prerequisites(
        "plain_round_robin_refuses_polling_and_a_node_says_why",
        "haproxy",
    ) else {
        return;
    };
    let mut figures = Figures::new("HAProxy, plain round robin (negative control)");
    let mut nodes = start_nodes(with_node_ids);
    // The sid-prefix configuration without its routing rules.
    let round_robin: String = shipped("deploy/haproxy/haproxy.cfg")
        .lines()
        .filter(|line| !line.trim_start().starts_with("use-server"))
        .map(|line| format!("{line}\n"))
        .collect();
    let balancer = Balancer::start(Kind::HaProxy, &haproxy, &round_robin, &nodes);

    // Polling clients: their requests land on nodes that do not hold their
    // session, which answer 400.
    let reports = node_clients(
        &balancer.url,
        &json!({"clients": POLLING_CLIENTS, "echoes": POLLING_ECHOES, "transports": ["polling"], "timeoutMs": 20_000}),
    );
    let refused = reports
        .iter()
        .filter(|r| {
            r["ok"] != true
                && r["errors"]
                    .as_array()
                    .is_some_and(|errors| errors.iter().any(|e| e["status"] == 400))
        })
        .count();
    assert_eq!(refused, POLLING_CLIENTS, "{reports:#?}");
    figures.add(format!(
        "Node polling: {refused}/{POLLING_CLIENTS} clients refused with HTTP 400"
    ));

    // A node says what is wrong.
    let line = nodes
        .iter_mut()
        .find_map(|node| node.stderr_line(MISROUTED, Duration::from_secs(5)));
    let line = line.unwrap_or_else(|| {
        let logs: Vec<String> = nodes.iter_mut().map(Serve::stderr).collect();
        panic!("no node logged the misrouting:\n{}", logs.join("\n---\n"))
    });
    let said = line.split("session of ").nth(1).unwrap_or_default();
    let (theirs, ours) = said.split_once(" arrived at ").unwrap_or_default();
    let ours = ours.split(':').next().unwrap_or_default();
    assert!(
        theirs.starts_with('n') && ours.starts_with('n') && theirs != ours,
        "{line}"
    );
    figures.add(format!(
        "a node logged: session of {theirs} arrived at {ours}: {MISROUTED}"
    ));

    // WebSocket-only clients need no stickiness: one connection, one node.
    let reports = node_clients(
        &balancer.url,
        &json!({"clients": POLLING_CLIENTS, "echoes": 5, "transports": ["websocket"], "timeoutMs": 20_000}),
    );
    let connected = reports.iter().filter(|r| r["ok"] == true).count();
    assert_eq!(connected, POLLING_CLIENTS, "{reports:#?}");
    figures.add(format!(
        "Node WebSocket only: {connected}/{POLLING_CLIENTS} connected and echoed"
    ));
    figures.print();
}
