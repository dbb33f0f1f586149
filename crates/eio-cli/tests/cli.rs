//! The `eio` binary end to end, as a user runs it: `--help`, `--version`,
//! `eio serve` answering `eio connect` on 127.0.0.1, a refused connection,
//! a clean stop on Ctrl-C (SIGINT), and the options for load balancers
//! (`--node-id`, `--cookie`, `/health`).

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::{EIO, Serve, unused_port};

/// Pings fast enough for the tests that wait for one.
const FAST_PINGS: [&str; 4] = ["--ping-interval", "500", "--ping-timeout", "500"];

/// `eio serve` with fast pings and `extra`.
fn serve(extra: &[&str]) -> Serve {
    let mut args = FAST_PINGS.to_vec();
    args.extend_from_slice(extra);
    Serve::start(&args)
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(EIO)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn help_and_version() {
    let help = run(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("serve") && text.contains("connect"), "{text}");
    let version = run(&["--version"]);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("eio {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn serve_echoes_to_connect_over_every_transport() {
    let serve = serve(&[]);
    for transport in ["polling", "websocket", "auto"] {
        let output = run(&[
            "connect",
            &serve.url,
            "--transport",
            transport,
            "--send",
            "héllo 👋",
            "--send",
            "second",
            "--count",
            "2",
        ]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{transport}: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            stdout.lines().collect::<Vec<_>>(),
            ["héllo 👋", "second"],
            "{transport}"
        );
        let connect = serve.next_line();
        assert!(connect.starts_with("connect "), "{connect}");
        let disconnect = serve.next_line();
        assert!(disconnect.ends_with("client disconnect"), "{disconnect}");
    }
}

#[test]
fn serve_takes_the_inbox_and_handler_options() {
    let serve = serve(&["--max-inbox", "1", "--async-handlers"]);
    let output = run(&[
        "connect",
        &serve.url,
        "--transport",
        "websocket",
        "--send",
        "one",
        "--count",
        "1",
    ]);
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "one");
}

#[test]
fn serve_and_connect_compress_with_per_message_deflate() {
    let serve = serve(&["--per-message-deflate"]);
    let big: String = (0..400).map(|i| format!("part {i}; ")).collect();
    let output = run(&[
        "connect",
        &serve.url,
        "--transport",
        "websocket",
        "--per-message-deflate",
        "--send",
        &big,
        "--send",
        "small",
        "--count",
        "2",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.lines().collect::<Vec<_>>(), [big.as_str(), "small"]);
}

#[test]
fn serve_refuses_handshakes_past_max_sessions() {
    let serve = serve(&["--max-sessions", "0"]);
    let output = run(&["connect", &serve.url, "--send", "x"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("503"), "{stderr}");
    assert!(stderr.contains("too many sessions"), "{stderr}");
}

#[test]
fn connect_to_nothing_fails_with_a_message() {
    let port = unused_port();
    let output = run(&[
        "connect",
        &format!("http://127.0.0.1:{port}"),
        "--send",
        "x",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot connect"), "{stderr}");
}

#[test]
fn serve_stops_cleanly_on_ctrl_c() {
    let mut serve = serve(&[]);
    let status = Command::new("kill")
        .args(["-INT", &serve.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(serve.next_line().starts_with("shutting down"));
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "eio serve did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `eio bench ARGS --json` and returns its report; fails on a non-zero
/// exit.
fn bench(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.push("--json");
    let output = run(&all);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{args:?}: {stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|err| panic!("{err}: {stdout}"))
}

fn number(report: &serde_json::Value, name: &str) -> f64 {
    report[name]
        .as_f64()
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

#[test]
fn bench_measures_every_mode_against_eio_serve() {
    let serve = serve(&["--broadcast"]);
    let pid = serve.pid();
    let short = ["--duration", "1", "--warmup", "0.2", "--server-pid", &pid];
    for mode in ["ws-echo", "poll-echo"] {
        let mut args = vec![
            mode,
            serve.url.as_str(),
            "--clients",
            "4",
            "--in-flight",
            "2",
        ];
        args.extend_from_slice(&short);
        let report = bench(&args);
        assert!(number(&report, "round_trips") > 0.0, "{mode}: {report}");
        assert_eq!(number(&report, "errors"), 0.0, "{mode}: {report}");
        assert!(
            number(&report, "p99_ms") >= number(&report, "p50_ms"),
            "{report}"
        );
        assert!(
            number(&report, "per_client_min") > 0.0,
            "every client got echoes: {report}"
        );
        assert!(number(&report, "server_cpu_us_per_op") > 0.0, "{report}");
        assert!(number(&report, "server_rss_kib") > 0.0, "{report}");
    }
    let mut args = vec!["handshakes", serve.url.as_str(), "--clients", "2"];
    args.extend_from_slice(&short);
    let report = bench(&args);
    assert!(number(&report, "sessions") > 0.0, "{report}");
    assert_eq!(number(&report, "errors"), 0.0, "{report}");

    let mut args = vec!["hold", serve.url.as_str(), "--sessions", "50"];
    args.extend_from_slice(&short);
    let report = bench(&args);
    assert_eq!(number(&report, "sessions"), 50.0, "{report}");
    assert_eq!(number(&report, "dropped"), 0.0, "{report}");
    // Reported (its size is the benchmark's business, not this test's).
    assert!(report["kib_per_session"].is_number(), "{report}");

    let report = bench(&[
        "broadcast",
        &serve.url,
        "--clients",
        "50",
        "--rounds",
        "3",
        "--server-pid",
        &pid,
    ]);
    assert_eq!(number(&report, "missing"), 0.0, "{report}");
    assert!(
        number(&report, "max_ms") >= number(&report, "p50_ms"),
        "{report}"
    );
}

#[test]
fn bench_fails_clearly_without_a_server() {
    let port = unused_port();
    let output = run(&[
        "bench",
        "ws-echo",
        &format!("http://127.0.0.1:{port}"),
        "--clients",
        "1",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot open a session"), "{stderr}");
}

/// One HTTP/1.1 GET to `serve`, the whole response as text.
fn http_get(serve: &Serve, path_and_query: &str) -> String {
    http_request(serve, "GET", path_and_query)
}

/// One HTTP/1.1 request without a body to `serve`, the whole response as
/// text.
fn http_request(serve: &Serve, method: &str, path_and_query: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(serve.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "{method} {path_and_query} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        serve.addr()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serve_takes_v3_clients_and_jsonp_only_when_asked() {
    let plain = serve(&[]);
    let refused = http_get(&plain, "/engine.io/?EIO=3&transport=polling&j=0");
    assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");

    let old = serve(&["--allow-eio3", "--jsonp"]);
    let answer = http_get(&old, "/engine.io/?EIO=3&transport=polling&j=0");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A v3 payload (`<length>:0{...}`) inside the JSONP script.
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    assert!(body.starts_with("___eio[0](\""), "{body}");
    assert!(body.contains(":0{\\\"sid\\\":"), "{body}");
}

#[test]
fn serve_refuses_a_bad_node_id_with_a_clear_message() {
    for (name, says) in [
        ("eu.1", "only A-Z a-z 0-9 - _ are allowed"),
        ("a-name-of-twenty-chr", "at most 19 characters"),
        ("", "cannot be empty"),
    ] {
        let output = run(&["serve", "--port", "0", "--node-id", name]);
        assert!(!output.status.success(), "{name:?} was taken");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--node-id"), "{stderr}");
        assert!(stderr.contains(says), "{name:?}: {stderr}");
    }
    // 19 characters: the longest name.
    let serve = serve(&["--node-id", "a-name-of-twenty-ch"]);
    let answer = http_get(&serve, "/engine.io/?EIO=4&transport=polling");
    assert!(
        answer.contains(r#""sid":"a-name-of-twenty-ch."#),
        "{answer}"
    );
}

#[test]
fn serve_for_load_balancers_node_ids_cookie_health_and_misroutes() {
    let mut serve = serve(&["--node-id", "n1", "--cookie", "io"]);
    let answer = http_get(&serve, "/engine.io/?EIO=4&transport=polling");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap();
    let open: serde_json::Value = serde_json::from_str(&body[1..]).unwrap();
    let sid = open["sid"].as_str().unwrap();
    assert!(sid.starts_with("n1.") && sid.len() == 23, "{sid}");
    assert!(
        answer.to_ascii_lowercase().contains(&format!(
            "set-cookie: io={}; path=/",
            sid.to_ascii_lowercase()
        )),
        "{answer}"
    );

    // The balancer's health check, outside the engine.io path.
    let health = http_get(&serve, "/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("\r\n\r\nok\n"), "{health}");
    let head = http_request(&serve, "HEAD", "/health");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "no body: {head}");
    let post = http_request(&serve, "POST", "/health");
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    let other = http_get(&serve, "/elsewhere");
    assert!(other.starts_with("HTTP/1.1 404"), "{other}");

    // A request for another node's session: the reference answer, and a
    // warning on standard error.
    let misrouted = http_get(
        &serve,
        "/engine.io/?EIO=4&transport=polling&sid=n2.AAAAAAAAAAAAAAAAAAAA",
    );
    assert!(misrouted.starts_with("HTTP/1.1 400"), "{misrouted}");
    assert!(
        misrouted.ends_with(r#"{"code":1,"message":"Session ID unknown"}"#),
        "{misrouted}"
    );
    let line = serve.stderr_line("arrived at n1", Duration::from_secs(10));
    let line = line.unwrap_or_else(|| panic!("no warning: {}", serve.stderr()));
    assert!(
        line.contains("session of n2 arrived at n1: the load balancer is not routing by session"),
        "{line}"
    );
}

/// Without the `webtransport` feature, `--webtransport` is refused with a
/// message saying how to build it in.
#[cfg(not(feature = "webtransport"))]
#[test]
fn serve_webtransport_needs_the_feature() {
    let output = std::process::Command::new(support::EIO)
        .args(["serve", "--port", "0", "--webtransport"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--features webtransport"), "{stderr}");
}

/// Without the `redis` feature, `eio serve --redis` and `eio emit` are
/// refused with a message saying how to build them in.
#[cfg(not(feature = "redis"))]
#[test]
fn serve_redis_and_emit_need_the_feature() {
    for args in [
        &[
            "serve",
            "--port",
            "0",
            "--node-id",
            "n1",
            "--redis",
            "redis://127.0.0.1:1/",
        ][..],
        &["emit", "--redis", "redis://127.0.0.1:1/", "--all", "hi"][..],
    ] {
        let output = std::process::Command::new(support::EIO)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--features redis"), "{args:?}: {stderr}");
    }
}

/// `eio serve --redis` needs a node id: the sessions' ids must name their
/// node for the others to reach them.
#[test]
fn serve_redis_needs_a_node_id() {
    let output = std::process::Command::new(support::EIO)
        .args(["serve", "--port", "0", "--redis", "redis://127.0.0.1:1/"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--node-id"), "{stderr}");
}
