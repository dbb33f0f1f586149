//! The latency client, blocking: sends "ping", waits for "pong" with
//! `recv_timeout`, prints the round trip.
//!
//! Run: `cargo run -p engineio --example blocking_client_latency [URL] [COUNT]`.

use std::time::{Duration, Instant};

use engineio::client::Event;
use engineio::client::blocking::Client;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:5000".to_owned());
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let client = Client::builder().build_blocking()?;
    client.connect(&url)?;
    for _ in 0..count {
        let sent = Instant::now();
        client.send("ping")?;
        loop {
            match client.recv_timeout(Duration::from_secs(10))? {
                Event::Message(_) => break,
                Event::Disconnect(reason) => return Err(format!("disconnected: {reason}").into()),
                _ => {}
            }
        }
        println!("latency {:.2} ms", sent.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_secs(1));
    }
    client.disconnect();
    Ok(())
}
