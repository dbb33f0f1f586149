//! The latency demo: a page that pings the server over Engine.IO and plots
//! each round trip; the server answers every message with "pong".
//!
//! Run: `bash scripts/demo.sh` (installs the browser client, then runs this
//! example), or, once installed, `cargo run --release -p engineio --example latency`.
//! Then open http://127.0.0.1:5000. `--port N` picks another port.

use std::path::Path;

use engineio::server::{NotFound, ServeStatic, Server, StaticFiles};
use tower_layer::Layer as _;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let port = port_from_args();
    let files = demo_files()?;
    let server = Server::builder()
        .on_message(|socket, _ping| {
            let _ = socket.send("pong");
        })
        .build();
    let app = server.layer().layer(ServeStatic::new(files, NotFound));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("latency demo: open http://{}/", listener.local_addr()?);
    server.serve_with(listener, app).await;
    Ok(())
}

/// The page, and the browser client from npm (installed by scripts/demo.sh).
fn demo_files() -> Result<StaticFiles, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/latency");
    let dist = dir.join("node_modules/engine.io-client/dist/");
    if !dist.join("engine.io.min.js").exists() {
        return Err(format!(
            "the browser client is missing from {}: run `bash scripts/demo.sh` once",
            dist.display()
        ));
    }
    Ok(StaticFiles::new()
        .entry("/", dir.join("latency.html").to_string_lossy().into_owned())
        .entry("/static", dist.to_string_lossy().into_owned()))
}

fn port_from_args() -> u16 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .and_then(|p| p.parse().ok())
        .unwrap_or(5000)
}
