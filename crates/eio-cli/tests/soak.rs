//! The short versions of `eio soak` (what `scripts/soak.sh` runs at full
//! size), each against a fresh `eio serve` on 127.0.0.1:
//!
//! - `abandon`: sessions left at all eight steps are all reaped, and the
//!   server's RSS comes back within 10% of its baseline;
//! - `traffic`: clients on the three transport mixes get every echo and
//!   every server tick exactly once and in order, upgrades mid-traffic;
//! - `hold`: idle WebSocket sessions survive several ping rounds.
//!
//! Each run must exit successfully and its JSON line must show the counts.

mod support;

use std::process::{Command, Stdio};

use serde_json::Value;
use support::{EIO, Serve};

/// `eio serve --quiet` with `extra`.
fn serve(extra: &[&str]) -> Serve {
    let mut args = vec!["--quiet"];
    args.extend_from_slice(extra);
    Serve::start(&args)
}

/// Runs `eio soak ...` and returns its JSON report; fails on a non-zero exit.
fn soak(args: &[&str]) -> Value {
    let output = Command::new(EIO)
        .arg("soak")
        .args(args)
        .arg("--json")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "eio soak {args:?} failed:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|err| panic!("{err}: {stdout}"))
}

fn count(report: &Value, name: &str) -> u64 {
    report[name]
        .as_u64()
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

#[test]
fn abandoned_sessions_are_all_reaped_and_memory_comes_back() {
    // Pings far enough apart that a session opened under load (a debug
    // build, 2 cores) is not reaped before its last step.
    let serve = serve(&[
        "--ping-interval",
        "1000",
        "--ping-timeout",
        "1000",
        "--upgrade-timeout",
        "1000",
    ]);
    let pid = serve.pid();
    let report = soak(&[
        "abandon",
        &serve.url,
        "--sessions",
        "800",
        "--warmup",
        "80",
        "--concurrency",
        "50",
        "--upgrade-timeout",
        "1000",
        "--server-pid",
        &pid,
        "--max-rss-growth",
        "10",
    ]);
    assert_eq!(count(&report, "sessions"), 800, "{report}");
    assert_eq!(count(&report, "not_reaped"), 0, "{report}");
    assert_eq!(count(&report, "errors"), 0, "{report}");
    let (before, after) = (
        count(&report, "rss_before_kib"),
        count(&report, "rss_after_kib"),
    );
    // 800 sessions alive at once show in the peak (the sampler works).
    assert!(count(&report, "rss_peak_kib") > before, "{report}");
    assert!(after * 10 <= before * 11, "{report}");
}

#[test]
fn numbered_traffic_arrives_once_and_in_order_on_every_transport() {
    let serve = serve(&["--tick", "50"]);
    let report = soak(&[
        "traffic",
        &serve.url,
        "--clients",
        "60",
        "--duration",
        "4",
        "--interval",
        "50",
        "--ticks",
    ]);
    assert_eq!(count(&report, "sessions"), 60, "{report}");
    for kind in ["polling_only", "websocket_only", "upgrading"] {
        assert_eq!(count(&report, kind), 20, "{report}");
    }
    assert_eq!(count(&report, "upgrades"), 20, "{report}");
    assert!(count(&report, "sent_before_upgrade") > 0, "{report}");
    let sent = count(&report, "sent");
    assert!(sent >= 60 * 40, "{report}");
    assert_eq!(count(&report, "echoed"), sent, "{report}");
    assert!(count(&report, "ticks") >= 60 * 40, "{report}");
    assert_eq!(count(&report, "errors"), 0, "{report}");
}

#[test]
fn idle_websocket_sessions_are_held_through_several_pings() {
    let serve = serve(&["--ping-interval", "300", "--ping-timeout", "300"]);
    let pid = serve.pid();
    let report = soak(&[
        "hold",
        &serve.url,
        "--sessions",
        "200",
        "--duration",
        "3",
        "--server-pid",
        &pid,
        "--settle",
        "1",
    ]);
    assert_eq!(count(&report, "sessions"), 200, "{report}");
    assert_eq!(count(&report, "survived"), 200, "{report}");
    assert_eq!(count(&report, "dropped"), 0, "{report}");
    assert!(report["rss_per_session_kib"].as_f64().is_some(), "{report}");
}
