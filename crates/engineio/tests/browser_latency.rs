//! The latency demo page in a real browser: Debian's headless chromium,
//! driven by playwright-core (browser/latency-page.mjs), loads the page from
//! our server, upgrades to WebSocket with the official engine.io-client
//! bundle, and must show at least five round trips. A screenshot is saved
//! under the target folder (its path is printed).
//!
//! Needs `bash scripts/install-browser-deps.sh` (run by scripts/test.sh).

use std::path::{Path, PathBuf};
use std::time::Duration;

use engineio::server::{NotFound, ServeStatic, Server, StaticFiles};
use tower_layer::Layer as _;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether the browser peers are installed; panics when EIO_INTEROP=require.
fn peers_present(demo: &Path) -> bool {
    let needed = [
        PathBuf::from("/usr/bin/chromium"),
        workspace().join("browser/node_modules/playwright-core/package.json"),
        demo.join("node_modules/engine.io-client/dist/engine.io.min.js"),
    ];
    let missing: Vec<String> = needed
        .iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("EIO_INTEROP").as_deref() != Ok("require"),
        "browser peers missing ({missing:?}): run scripts/install-browser-deps.sh"
    );
    eprintln!(
        "skipping the browser test: missing {missing:?} (run scripts/install-browser-deps.sh)"
    );
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_page_shows_websocket_and_samples_in_chromium() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/latency");
    if !peers_present(&demo) {
        return;
    }
    let files = StaticFiles::new()
        .entry(
            "/",
            demo.join("latency.html").to_string_lossy().into_owned(),
        )
        .entry(
            "/static",
            demo.join("node_modules/engine.io-client/dist/")
                .to_string_lossy()
                .into_owned(),
        );
    let server = Server::builder()
        .on_message(|socket, _| {
            let _ = socket.send("pong");
        })
        .build();
    let app = server.layer().layer(ServeStatic::new(files, NotFound));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let serving = server.clone();
    tokio::spawn(async move { serving.serve_with(listener, app).await });

    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("latency.png");
    let _ = std::fs::remove_file(&screenshot);
    let mut command = tokio::process::Command::new("node");
    command
        .arg(workspace().join("browser/latency-page.mjs"))
        .arg(&url)
        .arg(&screenshot)
        .arg("5")
        .current_dir(workspace().join("browser"))
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(90), command.output())
        .await
        .expect("the browser run took more than 90 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "browser script failed:\n{stdout}\n{stderr}"
    );
    let line = stdout.lines().last().unwrap_or_default();
    let result: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {stdout}\n{stderr}"));
    eprintln!("browser result: {result}");
    eprintln!("screenshot: {}", screenshot.display());
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["transport"], "websocket", "{result}");
    assert!(result["samples"].as_u64().unwrap() >= 5, "{result}");
    assert!(result["latency_ms"].as_f64().unwrap() > 0.0, "{result}");
    let size = std::fs::metadata(&screenshot).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 1000,
        "screenshot missing or empty at {}",
        screenshot.display()
    );
}
