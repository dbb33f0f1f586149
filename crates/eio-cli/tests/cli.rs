//! The `eio` binary end to end, as a user runs it: `--help`, `--version`,
//! `eio serve` answering `eio connect` on 127.0.0.1, a refused connection,
//! and a clean stop on Ctrl-C (SIGINT).

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
