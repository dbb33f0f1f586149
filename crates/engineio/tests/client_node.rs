//! The async client against the official Node `engine.io` server
//! (`interop/node/eio-server.js`, pingInterval 300 ms, pingTimeout 200 ms).

mod support;

use std::time::Duration;

use engineio::client::{
    Client, ConnectionError, DisconnectReason, Event, Reconnection, SendError, State,
};
use engineio::{Message, Transport};
use support::client_events::{
    ask, drain, next_disconnect, next_event, next_message, next_text, wait_upgrade,
};
use support::{Peer, within};

const SERVER: &str = "node/eio-server.js";

fn client_with(transports: &[Transport]) -> Client {
    Client::builder()
        .transports(transports.iter().copied())
        .build()
        .expect("client")
}

/// Text with UTF-8 and emoji, and binary with every kind of byte, both ways.
async fn echo_round_trip(client: &Client) {
    let text = "héllo wörld 👋🦀 \u{0} ok";
    client.send(text).unwrap();
    assert_eq!(next_message(client).await, Message::from(text));
    let binary: Vec<u8> = (0..=255).collect();
    client.send(binary.clone()).unwrap();
    assert_eq!(next_message(client).await, Message::from(binary));
    client.send("").unwrap();
    assert_eq!(next_message(client).await, Message::from(""));
}

#[tokio::test]
async fn polling_only_echo() {
    let Some(server) = Peer::node(SERVER, &[]) else {
        return;
    };
    let client = client_with(&[Transport::Polling]);
    client.connect(&server.http_url()).await.unwrap();
    assert_eq!(client.state(), State::Connected);
    assert_eq!(client.transport(), Some(Transport::Polling));
    assert_eq!(client.sid().map(|s| s.as_str().len()), Some(20));
    let handshake = client.handshake().unwrap();
    assert_eq!(handshake.sid, client.sid().unwrap().as_str());
    assert_eq!(
        (handshake.ping_interval, handshake.ping_timeout),
        (300, 200)
    );
    assert_eq!(handshake.upgrades, ["websocket"]);
    assert_eq!(next_event(&client).await, Event::Connect);
    echo_round_trip(&client).await;
    assert_eq!(ask(&client, "cmd:transport").await, "transport:polling");
    assert_eq!(client.send("a\u{1e}b"), Err(SendError::SeparatorInText));
    within(client.disconnect()).await;
    assert_eq!(client.state(), State::Disconnected);
    assert_eq!(client.sid(), None);
    assert_eq!(
        drain(&client).await,
        [Event::Disconnect(DisconnectReason::ClientDisconnect)]
    );
    assert_eq!(client.send("late"), Err(SendError::Closed));
}

#[tokio::test]
async fn websocket_only_echo() {
    let Some(server) = Peer::node(SERVER, &[]) else {
        return;
    };
    let client = client_with(&[Transport::WebSocket]);
    client.connect(&server.http_url()).await.unwrap();
    assert_eq!(client.transport(), Some(Transport::WebSocket));
    assert_eq!(next_event(&client).await, Event::Connect);
    echo_round_trip(&client).await;
    assert_eq!(ask(&client, "cmd:transport").await, "transport:websocket");
    // Over WebSocket the record separator is just a character.
    assert_eq!(ask(&client, "a\u{1e}b").await, "a\u{1e}b");
    within(client.disconnect()).await;
    assert_eq!(
        drain(&client).await,
        [Event::Disconnect(DisconnectReason::ClientDisconnect)]
    );
}

#[tokio::test]
async fn polling_upgrades_to_websocket_keeping_order() {
    let Some(server) = Peer::node(SERVER, &[]) else {
        return;
    };
    let client = Client::builder().build().unwrap();
    client.connect(&server.http_url()).await.unwrap();
    assert_eq!(client.transport(), Some(Transport::Polling));
    // Sent at once, across the upgrade: the echoes come back in order.
    for i in 0..30 {
        client.send(format!("early {i}")).unwrap();
    }
    let mut received = Vec::new();
    let mut upgraded = false;
    while received.len() < 30 {
        match next_event(&client).await {
            Event::Message(Message::Text(text)) => received.push(text),
            Event::Upgrade(Transport::WebSocket) => upgraded = true,
            Event::Connect => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        received,
        (0..30).map(|i| format!("early {i}")).collect::<Vec<_>>()
    );
    if !upgraded {
        wait_upgrade(&client).await;
    }
    assert_eq!(client.transport(), Some(Transport::WebSocket));
    assert_eq!(ask(&client, "cmd:transport").await, "transport:websocket");
    echo_round_trip(&client).await;
    within(client.disconnect()).await;
    assert_eq!(
        drain(&client).await,
        [Event::Disconnect(DisconnectReason::ClientDisconnect)]
    );
}

#[tokio::test]
async fn server_offering_no_upgrade_keeps_polling() {
    let Some(server) = Peer::node(SERVER, &["--transports", "polling"]) else {
        return;
    };
    let client = Client::builder().build().unwrap();
    client.connect(&server.http_url()).await.unwrap();
    assert_eq!(ask(&client, "cmd:transport").await, "transport:polling");
    assert_eq!(client.transport(), Some(Transport::Polling));
    within(client.disconnect()).await;
}

#[tokio::test]
async fn server_close_is_a_server_disconnect() {
    let Some(server) = Peer::node(SERVER, &[]) else {
        return;
    };
    for transports in [&[Transport::Polling][..], &[Transport::WebSocket]] {
        let client = client_with(transports);
        client.connect(&server.http_url()).await.unwrap();
        client.send("cmd:close").unwrap();
        assert_eq!(
            next_disconnect(&client).await,
            DisconnectReason::ServerDisconnect,
            "{transports:?}"
        );
        within(client.wait()).await;
        assert_eq!(client.state(), State::Disconnected);
        assert_eq!(within(client.recv()).await, None);
    }
}

#[tokio::test]
async fn silent_server_is_a_ping_timeout() {
    let Some(server) = Peer::node(SERVER, &[]) else {
        return;
    };
    for transports in [&[Transport::Polling][..], &[Transport::WebSocket]] {
        let client = client_with(transports);
        client.connect(&server.http_url()).await.unwrap();
        assert_eq!(ask(&client, "cmd:stop-pings").await, "pings stopped");
        assert_eq!(
            next_disconnect(&client).await,
            DisconnectReason::PingTimeout,
            "{transports:?}"
        );
        assert_eq!(within(client.recv()).await, None);
    }
}

#[tokio::test]
async fn client_answers_pings() {
    // pingInterval 100 + pingTimeout 100: a client that did not answer
    // would be closed by the server after a few hundred milliseconds.
    let Some(server) = Peer::node(SERVER, &["--ping-interval", "100", "--ping-timeout", "100"])
    else {
        return;
    };
    for transports in [&[Transport::Polling][..], &[Transport::WebSocket]] {
        let client = client_with(transports);
        client.connect(&server.http_url()).await.unwrap();
        for i in 0..8 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(
                ask(&client, &format!("still there {i}")).await,
                format!("still there {i}")
            );
        }
        within(client.disconnect()).await;
        assert_eq!(
            drain(&client).await.last(),
            Some(&Event::Disconnect(DisconnectReason::ClientDisconnect))
        );
    }
}

#[tokio::test]
async fn rejected_handshake_is_a_typed_error() {
    let Some(server) = Peer::node(SERVER, &["--reject", "nope"]) else {
        return;
    };
    let client = client_with(&[Transport::Polling]);
    let err = client.connect(&server.http_url()).await.unwrap_err();
    assert_eq!(
        err,
        ConnectionError::Rejected {
            status: 403,
            body: Some(serde_json::json!({"code": 4, "message": "nope"})),
        }
    );
    assert_eq!(client.state(), State::Disconnected);

    // On a WebSocket handshake the Node server answers a bare 400 with the
    // message as a (non-JSON) body.
    let ws_client = client_with(&[Transport::WebSocket]);
    let err = ws_client.connect(&server.http_url()).await.unwrap_err();
    assert_eq!(
        err,
        ConnectionError::Rejected {
            status: 400,
            body: None
        }
    );
    assert_eq!(ws_client.state(), State::Disconnected);
}

#[tokio::test]
async fn headers_and_cookies_go_on_every_request() {
    let Some(server) = Peer::node(SERVER, &["--cookie"]) else {
        return;
    };
    let client = Client::builder().header("X-Test", "yes").build().unwrap();
    client.connect(&server.http_url()).await.unwrap();
    // Before the upgrade completes this is a polling request, after it the
    // WebSocket open: both must carry the header and the cookie.
    wait_upgrade(&client).await;
    let answer = ask(&client, "cmd:headers").await;
    let headers: serde_json::Value =
        serde_json::from_str(answer.strip_prefix("headers:").unwrap()).unwrap();
    for transport in ["polling", "websocket"] {
        assert_eq!(headers[transport]["x-test"], "yes", "{headers}");
        assert_eq!(headers[transport]["cookie"], "eio_test=yummy", "{headers}");
    }
    assert_eq!(headers["websocket"]["upgrade"], "websocket", "{headers}");
    within(client.disconnect()).await;

    let client = Client::builder()
        .header("X-Test", "polling")
        .transports([Transport::Polling])
        .build()
        .unwrap();
    client.connect(&server.http_url()).await.unwrap();
    let answer = ask(&client, "cmd:headers").await;
    let headers: serde_json::Value =
        serde_json::from_str(answer.strip_prefix("headers:").unwrap()).unwrap();
    assert_eq!(headers["polling"]["x-test"], "polling", "{headers}");
    assert_eq!(headers["polling"]["cookie"], "eio_test=yummy", "{headers}");
    assert_eq!(headers["websocket"], serde_json::Value::Null, "{headers}");
    within(client.disconnect()).await;
}

#[tokio::test]
async fn websocket_only_headers_and_subprotocols_go_on_the_websocket_open() {
    let Some(server) = Peer::node(SERVER, &[]) else {
        return;
    };
    let client = Client::builder()
        .websocket_header("X-Ws-Only", "1")
        .websocket_protocols(["chat.v2", "chat"])
        .build()
        .unwrap();
    client.connect(&server.http_url()).await.unwrap();
    wait_upgrade(&client).await;
    let answer = ask(&client, "cmd:headers").await;
    let headers: serde_json::Value =
        serde_json::from_str(answer.strip_prefix("headers:").unwrap()).unwrap();
    assert_eq!(headers["websocket"]["x-ws-only"], "1", "{headers}");
    assert_eq!(
        headers["websocket"]["sec-websocket-protocol"], "chat.v2, chat",
        "{headers}"
    );
    assert_eq!(
        headers["polling"]["x-ws-only"],
        serde_json::Value::Null,
        "{headers}"
    );
    within(client.disconnect()).await;
}

#[tokio::test]
async fn query_and_path_are_sent() {
    let Some(server) = Peer::node(SERVER, &["--path", "/app/eio"]) else {
        return;
    };
    let client = Client::builder()
        .path("eio")
        .query("room", "lobby")
        .transports([Transport::Polling])
        .build()
        .unwrap();
    client
        .connect(&format!("{}/app?user=ann", server.http_url()))
        .await
        .unwrap();
    let answer = ask(&client, "cmd:query").await;
    let query: serde_json::Value =
        serde_json::from_str(answer.strip_prefix("query:").unwrap()).unwrap();
    assert_eq!(query["user"], "ann");
    assert_eq!(query["room"], "lobby");
    assert_eq!(query["EIO"], "4");
    assert_eq!(query["transport"], "polling");
    assert!(query["t"].is_string(), "{query}");
    within(client.disconnect()).await;
}

#[tokio::test]
async fn bursts_arrive_in_order() {
    let Some(server) = Peer::node(SERVER, &[]) else {
        return;
    };
    for transports in [&[Transport::Polling][..], &[Transport::WebSocket]] {
        let client = client_with(transports);
        client.connect(&server.http_url()).await.unwrap();
        client.send("cmd:burst 300").unwrap();
        for i in 0..300 {
            assert_eq!(next_text(&client).await, format!("burst:{i}"));
        }
        within(client.disconnect()).await;
    }
}

#[tokio::test]
async fn posts_respect_max_payload() {
    // maxHttpBufferSize 100: a POST over 100 bytes gets 413 and would end
    // the session; the client must split its 40 queued messages.
    let Some(server) = Peer::node(SERVER, &["--max-payload", "100", "--transports", "polling"])
    else {
        return;
    };
    let client = client_with(&[Transport::Polling]);
    client.connect(&server.http_url()).await.unwrap();
    let messages: Vec<String> = (0..40)
        .map(|i| format!("message number {i:02} ......"))
        .collect();
    for message in &messages {
        client.send(message.as_str()).unwrap();
    }
    for message in &messages {
        assert_eq!(&next_text(&client).await, message);
    }
    within(client.disconnect()).await;
    assert_eq!(
        drain(&client).await,
        [Event::Disconnect(DisconnectReason::ClientDisconnect)]
    );
}

#[tokio::test]
async fn handlers_see_events_in_order() {
    let Some(server) = Peer::node(SERVER, &[]) else {
        return;
    };
    let client = Client::builder().build().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let log = tx.clone();
    client.on_connect(move || log.send("connect".into()).unwrap());
    let log = tx.clone();
    client.on_message_async(move |message| {
        let log = log.clone();
        async move {
            // A slow async handler must not reorder messages.
            tokio::time::sleep(Duration::from_millis(2)).await;
            log.send(format!("{message:?}")).unwrap();
        }
    });
    let log = tx.clone();
    client.on_disconnect(move |reason| log.send(format!("disconnect: {reason}")).unwrap());
    drop(tx);
    client.connect(&server.http_url()).await.unwrap();
    client.send("cmd:burst 20").unwrap();
    client.send(vec![7u8]).unwrap();
    client.send("cmd:close").unwrap();
    within(client.wait()).await;
    // The handlers hold senders as long as the client lives: read what came.
    let mut log = Vec::new();
    while let Ok(line) = rx.try_recv() {
        log.push(line);
    }
    let mut expected = vec!["connect".to_owned()];
    expected.extend((0..20).map(|i| format!("Text(\"burst:{i}\")")));
    expected.push("Binary(b\"\\x07\")".to_owned());
    expected.push("disconnect: server disconnect".to_owned());
    assert_eq!(log, expected);
    // Everything went to handlers; the Upgrade event (if the upgrade won
    // the race with the close) is the only thing left in the queue.
    for event in drain(&client).await {
        assert!(
            matches!(event, Event::Upgrade(_) | Event::UpgradeError(_)),
            "{event:?}"
        );
    }
}

#[tokio::test]
async fn reconnects_after_a_ping_timeout() {
    let Some(server) = Peer::node(SERVER, &[]) else {
        return;
    };
    let client = Client::builder()
        .reconnection(
            Reconnection::default()
                .initial_delay(Duration::from_millis(50))
                .max_delay(Duration::from_millis(100))
                .max_attempts(Some(3)),
        )
        .build()
        .unwrap();
    client.connect(&server.http_url()).await.unwrap();
    let first_sid = client.sid().unwrap();
    assert_eq!(ask(&client, "cmd:stop-pings").await, "pings stopped");
    assert_eq!(
        next_disconnect(&client).await,
        DisconnectReason::PingTimeout
    );
    assert!(matches!(
        next_event(&client).await,
        Event::Reconnecting { attempt: 1, .. }
    ));
    assert_eq!(
        next_event(&client).await,
        Event::Reconnected { attempts: 1 }
    );
    assert_eq!(next_event(&client).await, Event::Connect);
    assert_eq!(client.state(), State::Connected);
    assert_ne!(client.sid().unwrap(), first_sid);
    assert_eq!(ask(&client, "after reconnect").await, "after reconnect");

    // Without a server, the attempts run out.
    drop(server);
    assert_eq!(
        next_disconnect(&client).await,
        DisconnectReason::TransportError
    );
    for attempt in 1..=3 {
        assert!(
            matches!(next_event(&client).await, Event::Reconnecting { attempt: a, .. } if a == attempt),
            "attempt {attempt}"
        );
    }
    assert_eq!(
        next_event(&client).await,
        Event::ReconnectFailed { attempts: 3 }
    );
    assert_eq!(within(client.recv()).await, None);
    assert_eq!(client.state(), State::Disconnected);
}

#[tokio::test]
async fn connect_errors() {
    let client = Client::builder()
        .request_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    // Nothing listens on port 1.
    let err = client.connect("http://127.0.0.1:1").await.unwrap_err();
    assert!(matches!(err, ConnectionError::Transport(_)), "{err:?}");
    let err = client.connect("gopher://127.0.0.1").await.unwrap_err();
    assert!(matches!(err, ConnectionError::InvalidUrl(_)), "{err:?}");
    assert_eq!(client.state(), State::Disconnected);

    let Some(server) = Peer::node(SERVER, &[]) else {
        return;
    };
    client.connect(&server.http_url()).await.unwrap();
    let err = client.connect(&server.http_url()).await.unwrap_err();
    assert_eq!(err, ConnectionError::InvalidState(State::Connected));
    within(client.disconnect()).await;
    assert_eq!(
        drain(&client).await.last(),
        Some(&Event::Disconnect(DisconnectReason::ClientDisconnect))
    );
    // The client can connect again after a disconnect.
    client.connect(&server.http_url()).await.unwrap();
    assert_eq!(ask(&client, "again").await, "again");
    within(client.disconnect()).await;
}

#[tokio::test]
async fn failed_upgrade_stays_on_polling() {
    let Some(server) = Peer::node(SERVER, &["--break-upgrades"]) else {
        return;
    };
    let client = Client::builder().build().unwrap();
    client.connect(&server.http_url()).await.unwrap();
    client.send("before").unwrap();
    // The echo and the failed upgrade race each other.
    let mut events = Vec::new();
    let mut upgrade_error = None;
    while upgrade_error.is_none() || events.len() < 2 {
        match next_event(&client).await {
            Event::UpgradeError(error) => upgrade_error = Some(error),
            event => events.push(event),
        }
    }
    let upgrade_error = upgrade_error.unwrap();
    assert!(upgrade_error.contains("500"), "{upgrade_error}");
    assert_eq!(client.transport(), Some(Transport::Polling));
    assert_eq!(ask(&client, "after").await, "after");
    assert_eq!(ask(&client, "cmd:transport").await, "transport:polling");
    within(client.disconnect()).await;
    events.extend(drain(&client).await);
    assert_eq!(
        events,
        [
            Event::Connect,
            Event::Message(Message::from("before")),
            Event::Disconnect(DisconnectReason::ClientDisconnect)
        ]
    );
}
