//! The simple client, blocking: plain threads, no async code. Sends "Hello"
//! every 5 seconds and prints the answers from a handler.
//!
//! Run: `cargo run -p engineio --example blocking_client_simple [URL]`.

use std::time::Duration;

use engineio::client::blocking::Client;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:5000".to_owned());
    let client = Client::builder().build_blocking()?;
    client.on_message(|message| println!("server: {message:?}"));
    client.on_disconnect(|reason| println!("disconnected: {reason}"));
    client.connect(&url)?;
    let sid = client.sid().map(|sid| sid.to_string()).unwrap_or_default();
    println!("connected to {url} as {sid}");
    loop {
        if client.send("Hello").is_err() {
            return Ok(()); // disconnected
        }
        std::thread::sleep(Duration::from_secs(5));
    }
}
