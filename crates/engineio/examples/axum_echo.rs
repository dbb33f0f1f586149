//! An echo server mounted in an axum app with the engine.io layer.
//!
//! Run: `cargo run -p engineio --example axum_echo`, then
//! `curl 'http://127.0.0.1:5000/engine.io/?EIO=4&transport=polling'` or
//! `cargo run -p eio-cli -- connect http://127.0.0.1:5000 --send hello --count 1`.
//! Every path outside `/engine.io/` is served by axum.

use axum::{Router, routing::get};
use engineio::server::{Server, ServerConfig};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let engine = Server::builder()
        .config(ServerConfig::default())
        .on_connect(|socket, request| {
            tracing::info!(sid = %socket.sid(), peer = ?request.peer_addr, "connected");
            Ok(())
        })
        .on_message(|socket, message| {
            let _ = socket.send(message);
        })
        .on_disconnect(
            |socket, reason| tracing::info!(sid = %socket.sid(), %reason, "disconnected"),
        )
        .build();
    let app = Router::new()
        .route(
            "/",
            get(|| async { "axum is here; engine.io is at /engine.io/" }),
        )
        .layer(engine.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
