//! Helpers to read a client's events in tests, each behind the hang guard.

use engineio::Message;
use engineio::client::{Client, DisconnectReason, Event};

use super::within;

/// The next event of `client`'s queue.
///
/// # Panics
///
/// When the client is idle (no more events) or nothing comes in time.
pub async fn next_event(client: &Client) -> Event {
    within(client.recv())
        .await
        .expect("the client is idle: no more events")
}

/// The next message, skipping `Connect`, `Upgrade` and `UpgradeError` events.
///
/// # Panics
///
/// On any other event, or when nothing comes in time.
pub async fn next_message(client: &Client) -> Message {
    loop {
        match next_event(client).await {
            Event::Message(message) => return message,
            Event::Connect | Event::Upgrade(_) | Event::UpgradeError(_) => {}
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// The next text message (see [`next_message`]).
pub async fn next_text(client: &Client) -> String {
    match next_message(client).await {
        Message::Text(text) => text,
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// Sends `text` and returns the next text message (the server's answer).
pub async fn ask(client: &Client, text: &str) -> String {
    client.send(text).expect("send");
    next_text(client).await
}

/// The reason of the next `Disconnect`, skipping `Connect`, `Upgrade`,
/// `UpgradeError` and messages.
pub async fn next_disconnect(client: &Client) -> DisconnectReason {
    loop {
        match next_event(client).await {
            Event::Disconnect(reason) => return reason,
            Event::Connect | Event::Upgrade(_) | Event::UpgradeError(_) | Event::Message(_) => {}
            other => panic!("expected a disconnect, got {other:?}"),
        }
    }
}

/// Every remaining event, until the client is idle.
pub async fn drain(client: &Client) -> Vec<Event> {
    within(async {
        let mut events = Vec::new();
        while let Some(event) = client.recv().await {
            events.push(event);
        }
        events
    })
    .await
}

/// Waits for the `Upgrade(WebSocket)` event, skipping `Connect`.
pub async fn wait_upgrade(client: &Client) {
    loop {
        match next_event(client).await {
            Event::Upgrade(engineio::Transport::WebSocket) => return,
            Event::Connect => {}
            other => panic!("expected the upgrade, got {other:?}"),
        }
    }
}
