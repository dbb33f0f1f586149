//! The latency demo inside an axum application: the page and the browser
//! client are static files served by a fallback service, Engine.IO by the
//! layer, and axum routes anything else.
//!
//! Run once `bash scripts/install-demo-deps.sh`, then
//! `cargo run -p engineio --example latency_axum` and open http://127.0.0.1:5000.

use std::path::Path;

use axum::{Router, routing::get};
use engineio::server::{NotFound, ServeStatic, Server, StaticFiles};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/latency");
    let files = StaticFiles::new()
        .entry("/", dir.join("latency.html").to_string_lossy().into_owned())
        .entry(
            "/static",
            dir.join("node_modules/engine.io-client/dist/")
                .to_string_lossy()
                .into_owned(),
        );
    let engine = Server::builder()
        .on_message(|socket, _ping| {
            let _ = socket.send("pong");
        })
        .build();
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .fallback_service(ServeStatic::new(files, NotFound))
        .layer(engine.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
    println!(
        "latency demo (axum): open http://{}/",
        listener.local_addr()?
    );
    axum::serve(listener, app).await
}
