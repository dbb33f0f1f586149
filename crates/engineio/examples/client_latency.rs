//! The latency client (async): sends "ping", waits for the server's "pong",
//! prints the round trip, once a second. Pair it with the `latency` server.
//!
//! Run: `cargo run -p engineio --example client_latency [URL] [COUNT]`
//! (default http://127.0.0.1:5000, 10 round trips).

use std::time::{Duration, Instant};

use engineio::client::{Client, Event};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:5000".to_owned());
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let client = Client::builder().build()?;
    client.connect(&url).await?;
    for _ in 0..count {
        let sent = Instant::now();
        client.send("ping")?;
        loop {
            match client.recv().await {
                Some(Event::Message(_)) => break,
                Some(Event::Disconnect(reason)) => {
                    return Err(format!("disconnected: {reason}").into());
                }
                Some(_) => {}
                None => return Err("the connection ended".into()),
            }
        }
        let transport = client
            .transport()
            .map(|t| t.to_string())
            .unwrap_or_default();
        println!(
            "latency {:.2} ms over {transport}",
            sent.elapsed().as_secs_f64() * 1000.0
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    client.disconnect().await;
    Ok(())
}
