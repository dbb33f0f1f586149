//! The "simple" app: the server thanks the client for every message.
//!
//! Run: `cargo run -p engineio --example simple`, then talk to it with
//! `cargo run -p eio-cli -- connect http://127.0.0.1:5000 --send hello --count 1`
//! or the simple client example (`--example client_simple`).

use engineio::server::Server;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let server = Server::builder()
        .on_connect(|socket, request| {
            println!("connect {} from {:?}", socket.sid(), request.peer_addr);
            Ok(())
        })
        .on_message(|socket, message| {
            println!("message from {}: {message:?}", socket.sid());
            let _ = socket.send("Thank you for your message!");
        })
        .on_disconnect(|socket, reason| println!("disconnect {} ({reason})", socket.sid()))
        .build();
    println!("simple server on http://127.0.0.1:5000/engine.io/");
    server.listen("127.0.0.1:5000").await
}
