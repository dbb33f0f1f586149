//! The blocking client from plain threads, against the Node server.
#![cfg(feature = "blocking")]

mod support;

use std::sync::mpsc;
use std::time::Duration;

use engineio::client::blocking::{Client, RecvTimeoutError};
use engineio::client::{DisconnectReason, Event, State};
use engineio::{Message, Transport};
use support::Peer;

/// Generous hang guard for blocking receives.
const GUARD: Duration = Duration::from_secs(10);

fn next_message(client: &Client) -> Message {
    loop {
        match client.recv_timeout(GUARD) {
            Ok(Event::Message(message)) => return message,
            Ok(Event::Connect | Event::Upgrade(_)) => {}
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

#[test]
fn several_clients_on_plain_threads() {
    let Some(server) = Peer::node("node/eio-server.js", &[]) else {
        return;
    };
    let url = server.http_url();
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let url = url.clone();
            std::thread::spawn(move || {
                let transports = match n % 3 {
                    0 => vec![Transport::Polling],
                    1 => vec![Transport::WebSocket],
                    _ => vec![Transport::Polling, Transport::WebSocket],
                };
                let client = Client::builder()
                    .transports(transports)
                    .build_blocking()
                    .unwrap();
                client.connect(&url).unwrap();
                assert_eq!(client.state(), State::Connected);
                for i in 0..10 {
                    client.send(format!("thread {n} message {i}")).unwrap();
                }
                client.send(vec![n as u8; 3]).unwrap();
                for i in 0..10 {
                    assert_eq!(
                        next_message(&client),
                        Message::from(format!("thread {n} message {i}"))
                    );
                }
                assert_eq!(next_message(&client), Message::from(vec![n as u8; 3]));
                client.disconnect();
                assert_eq!(client.state(), State::Disconnected);
                let rest: Vec<Event> = client.iter().collect();
                assert_eq!(
                    rest.last(),
                    Some(&Event::Disconnect(DisconnectReason::ClientDisconnect))
                );
                assert_eq!(
                    client.recv_timeout(GUARD),
                    Err(RecvTimeoutError::Disconnected)
                );
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

#[test]
fn handlers_are_plain_closures() {
    let Some(server) = Peer::node("node/eio-server.js", &[]) else {
        return;
    };
    let client = Client::builder().build_blocking().unwrap();
    let (tx, rx) = mpsc::channel();
    let replies = client.clone();
    let log = tx.clone();
    client.on_message(move |message| {
        if message == Message::from("ping me") {
            // send() never blocks, so it is fine inside a handler.
            replies.send("pong you").unwrap();
        }
        log.send(format!("{message:?}")).unwrap();
    });
    client.on_disconnect(move |reason| tx.send(format!("disconnect: {reason}")).unwrap());
    client.connect(&server.http_url()).unwrap();
    client.send("ping me").unwrap();
    assert_eq!(rx.recv_timeout(GUARD).unwrap(), "Text(\"ping me\")");
    assert_eq!(rx.recv_timeout(GUARD).unwrap(), "Text(\"pong you\")");
    client.send("cmd:close").unwrap();
    assert_eq!(
        rx.recv_timeout(GUARD).unwrap(),
        "disconnect: server disconnect"
    );
    client.wait();
    assert_eq!(client.state(), State::Disconnected);
}

#[test]
fn recv_timeout_times_out_without_losing_events() {
    let Some(server) = Peer::node("node/eio-server.js", &[]) else {
        return;
    };
    let client = Client::builder()
        .transports([Transport::WebSocket])
        .build_blocking()
        .unwrap();
    client.connect(&server.http_url()).unwrap();
    assert_eq!(client.recv_timeout(GUARD), Ok(Event::Connect));
    assert_eq!(
        client.recv_timeout(Duration::from_millis(20)),
        Err(RecvTimeoutError::Timeout)
    );
    client.send("late").unwrap();
    assert_eq!(next_message(&client), Message::from("late"));
    client.disconnect();
}
