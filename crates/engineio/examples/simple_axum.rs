//! The "simple" app inside an axum application: axum serves its routes, the
//! engine.io layer serves `/engine.io/`.
//!
//! Run: `cargo run -p engineio --example simple_axum`, then
//! `cargo run -p eio-cli -- connect http://127.0.0.1:5000 --send hello --count 1`.

use axum::{Router, routing::get};
use engineio::server::Server;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let engine = Server::builder()
        .on_message(|socket, _message| {
            let _ = socket.send("Thank you for your message!");
        })
        .build();
    let app = Router::new()
        .route("/", get(|| async { "axum here; Engine.IO at /engine.io/" }))
        .layer(engine.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
    println!("simple axum app on http://{}/", listener.local_addr()?);
    axum::serve(listener, app).await
}
