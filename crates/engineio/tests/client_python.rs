//! The async client against python-engineio's `AsyncServer` under uvicorn
//! (`interop/python/eio_server.py`).

mod support;

use engineio::client::{Client, ConnectionError, DisconnectReason, Event};
use engineio::{Message, Transport};
use support::client_events::{ask, drain, next_disconnect, next_event, next_message, wait_upgrade};
use support::{Peer, within};

const SERVER: &str = "python/eio_server.py";

async fn exchange(client: &Client) {
    let text = "héllo from rust 🦀";
    client.send(text).unwrap();
    assert_eq!(next_message(client).await, Message::from(text));
    let binary = vec![0u8, 1, 2, 0x1e, 0xff];
    client.send(binary.clone()).unwrap();
    assert_eq!(next_message(client).await, Message::from(binary));
}

#[tokio::test]
async fn echo_over_each_transport() {
    let Some(server) = Peer::python(SERVER, &[]) else {
        return;
    };
    for transports in [&[Transport::Polling][..], &[Transport::WebSocket]] {
        let client = Client::builder()
            .transports(transports.iter().copied())
            .build()
            .unwrap();
        client.connect(&server.http_url()).await.unwrap();
        assert_eq!(next_event(&client).await, Event::Connect);
        exchange(&client).await;
        let expected = format!("transport:{}", transports[0]);
        assert_eq!(ask(&client, "cmd:transport").await, expected);
        within(client.disconnect()).await;
        assert_eq!(
            drain(&client).await,
            [Event::Disconnect(DisconnectReason::ClientDisconnect)]
        );
    }
}

#[tokio::test]
async fn upgrade_then_echo() {
    let Some(server) = Peer::python(SERVER, &[]) else {
        return;
    };
    let client = Client::builder().build().unwrap();
    client.connect(&server.http_url()).await.unwrap();
    wait_upgrade(&client).await;
    assert_eq!(client.transport(), Some(Transport::WebSocket));
    assert_eq!(ask(&client, "cmd:transport").await, "transport:websocket");
    exchange(&client).await;
    within(client.disconnect()).await;
    assert_eq!(
        drain(&client).await,
        [Event::Disconnect(DisconnectReason::ClientDisconnect)]
    );
}

#[tokio::test]
async fn server_disconnect() {
    let Some(server) = Peer::python(SERVER, &[]) else {
        return;
    };
    for transports in [&[Transport::Polling][..], &[Transport::WebSocket]] {
        let client = Client::builder()
            .transports(transports.iter().copied())
            .build()
            .unwrap();
        client.connect(&server.http_url()).await.unwrap();
        client.send("cmd:close").unwrap();
        assert_eq!(
            next_disconnect(&client).await,
            DisconnectReason::ServerDisconnect,
            "{transports:?}"
        );
    }
}

#[tokio::test]
async fn connect_handler_rejection_carries_its_json() {
    let Some(server) = Peer::python(SERVER, &["--reject-json", r#"{"reason": "nope"}"#]) else {
        return;
    };
    let client = Client::builder().build().unwrap();
    let err = client.connect(&server.http_url()).await.unwrap_err();
    assert_eq!(
        err,
        ConnectionError::Rejected {
            status: 401,
            body: Some(serde_json::json!({"reason": "nope"})),
        }
    );
    assert_eq!(err.body().unwrap()["reason"], "nope");
}

/// The close packet reaches the server before the transport goes away:
/// python-engineio reports "client disconnect" only when it got the packet
/// (a transport that just vanished is "transport close"). Also when the
/// last handle of a client is dropped.
#[tokio::test]
async fn disconnect_delivers_the_close_packet() {
    let Some(server) = Peer::python(SERVER, &[]) else {
        return;
    };
    let mut sids = Vec::new();
    for transports in [
        &[Transport::Polling][..],
        &[Transport::WebSocket],
        &[Transport::Polling, Transport::WebSocket],
    ] {
        let client = Client::builder()
            .transports(transports.iter().copied())
            .build()
            .unwrap();
        client.connect(&server.http_url()).await.unwrap();
        if transports.len() == 2 {
            wait_upgrade(&client).await;
        }
        assert_eq!(ask(&client, "sync").await, "sync");
        sids.push(client.sid().unwrap());
        within(client.disconnect()).await;
    }
    // Dropping the last handle closes the session the same way.
    let dropped = Client::builder().build().unwrap();
    dropped.connect(&server.http_url()).await.unwrap();
    assert_eq!(ask(&dropped, "sync").await, "sync");
    sids.push(dropped.sid().unwrap());
    drop(dropped);
    let witness = Client::builder().build().unwrap();
    witness.connect(&server.http_url()).await.unwrap();
    let mut closes = serde_json::Value::Null;
    // The server may log a close a moment after the client is done.
    for _ in 0..50 {
        let answer = ask(&witness, "cmd:closes").await;
        closes = serde_json::from_str(answer.strip_prefix("closes:").unwrap()).unwrap();
        if sids.iter().all(|sid| !closes[sid.as_str()].is_null()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for sid in &sids {
        assert_eq!(closes[sid.as_str()], "client disconnect", "{sid}: {closes}");
    }
    within(witness.disconnect()).await;
}
