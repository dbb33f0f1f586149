//! The simple client (async): sends "Hello" every 5 seconds and prints what
//! the server answers. Pair it with the `simple` server example.
//!
//! Run: `cargo run -p engineio --example client_simple [URL]`
//! (default URL http://127.0.0.1:5000). Ctrl-C stops it.

use std::time::Duration;

use engineio::client::{Client, Event};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:5000".to_owned());
    let client = Client::builder().build()?;
    client.connect(&url).await?;
    let sid = client.sid().map(|sid| sid.to_string()).unwrap_or_default();
    println!("connected to {url} as {sid}");
    let mut ticker = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = ticker.tick() => client.send("Hello")?,
            event = client.recv() => match event {
                Some(Event::Message(message)) => println!("server: {message:?}"),
                Some(Event::Upgrade(transport)) => println!("upgraded to {transport}"),
                Some(Event::Disconnect(reason)) => {
                    println!("disconnected: {reason}");
                    return Ok(());
                }
                Some(_) => {}
                None => return Ok(()),
            },
            _ = tokio::signal::ctrl_c() => {
                client.disconnect().await;
                return Ok(());
            }
        }
    }
}
