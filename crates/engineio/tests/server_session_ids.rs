//! Session ids: drawn from a CSPRNG seeded by the operating system,
//! URL-safe and unique; never chosen by a client (a handshake cannot name
//! one, an unknown one is refused on both transports); and only good on the
//! session's own transport (a WebSocket session's sid is refused on
//! polling, with Node's 400 code 3, while the WebSocket keeps working).
//! With a node id, ids are `<node>.<random>`, and requests for another
//! node's sessions are refused as unknown and counted.

mod support;

use std::collections::HashSet;

use engineio::server::ServerConfig;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use support::server::{http, short, start, start_with};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A well-formed sid that no session has.
const FOREIGN_SID: &str = "AAAAAAAAAAAAAAAAAAAA";

fn code(body: &str) -> i64 {
    let json: Value = serde_json::from_str(body).unwrap_or_else(|err| panic!("{err}: {body}"));
    json["code"].as_i64().unwrap()
}

#[tokio::test]
async fn session_ids_are_url_safe_and_never_repeat() {
    let server = start(short()).await;
    let mut seen = HashSet::new();
    for _ in 0..500 {
        let (sid, _) = server.handshake().await;
        assert_eq!(sid.len(), 20, "{sid}");
        assert!(
            sid.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{sid}"
        );
        assert!(seen.insert(sid.clone()), "{sid} came twice");
    }
    // 15 random bytes each: 500 ids use (nearly) all 64 characters.
    let alphabet: HashSet<u8> = seen.iter().flat_map(|sid| sid.bytes()).collect();
    assert!(alphabet.len() >= 60, "{} characters used", alphabet.len());
}

#[tokio::test]
async fn a_client_cannot_choose_its_session_id() {
    let server = start(short()).await;
    // A polling request naming a sid the server never gave: no session is
    // made with it.
    let (status, body) = server.get(FOREIGN_SID).await;
    assert_eq!((status, code(&body)), (400, 1), "{body}");
    let (status, body) = server.post(FOREIGN_SID, "4hello").await;
    assert_eq!((status, code(&body)), (400, 1), "{body}");
    // The same on a WebSocket: refused before switching protocols.
    let url = server
        .url(&format!("EIO=4&transport=websocket&sid={FOREIGN_SID}"))
        .replace("http://", "ws://");
    let refused = tokio_tungstenite::connect_async(&url).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("a WebSocket with an unknown sid was accepted");
    };
    assert_eq!(response.status(), 400);
    assert_eq!(server.server.session_count(), 0);
    assert!(server.server.session_ids().is_empty());
}

#[tokio::test]
async fn a_websocket_sessions_id_is_refused_on_polling() {
    let mut server = start(short()).await;
    let url = server
        .url("EIO=4&transport=websocket")
        .replace("http://", "ws://");
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let open = ws.next().await.unwrap().unwrap().into_text().unwrap();
    let open: Value = serde_json::from_str(&open[1..]).unwrap();
    let sid = open["sid"].as_str().unwrap().to_owned();
    assert!(server.event().await.starts_with("connect"));

    // Polling GET and POST with it: Node's 400 code 3 ("Bad request"), and
    // the POST's message is not delivered.
    let (status, body) = server.get(&sid).await;
    assert_eq!((status, code(&body)), (400, 3), "{body}");
    let response = http()
        .post(server.session_url(&sid))
        .body("4smuggled")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // A polling handshake cannot take it over either: it makes a new session.
    let (other, _) = server.handshake().await;
    assert_ne!(other, sid);

    // The WebSocket session is unaffected, and saw only its own message.
    ws.send(WsMessage::text("4mine")).await.unwrap();
    loop {
        let frame = ws.next().await.unwrap().unwrap().into_text().unwrap();
        if frame.as_str() == "4mine" {
            break;
        }
        assert_eq!(frame.as_str(), "2", "only pings besides the echo");
    }
    loop {
        let event = server.event().await;
        if event.starts_with("message") {
            assert!(event.contains("mine"), "{event}");
            break;
        }
    }
    assert_eq!(
        server.server.transport(sid.parse().unwrap()),
        Some(engineio::Transport::WebSocket)
    );
}

fn with_node(name: &str) -> ServerConfig {
    short().node_id(name.parse().unwrap())
}

#[tokio::test]
async fn a_node_id_prefixes_every_session_id() {
    let server = start(with_node("n1")).await;
    let mut seen = HashSet::new();
    for _ in 0..50 {
        let (sid, _) = server.handshake().await;
        let random = sid.strip_prefix("n1.").unwrap_or_else(|| panic!("{sid}"));
        assert_eq!(random.len(), 20, "{sid}");
        assert!(
            random
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{sid}"
        );
        assert!(seen.insert(sid.clone()), "{sid} came twice");
    }
    // The same on a WebSocket handshake.
    let url = server
        .url("EIO=4&transport=websocket")
        .replace("http://", "ws://");
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let open = ws.next().await.unwrap().unwrap().into_text().unwrap();
    let open: Value = serde_json::from_str(&open[1..]).unwrap();
    assert!(open["sid"].as_str().unwrap().starts_with("n1."), "{open}");
}

#[tokio::test]
async fn requests_for_another_nodes_sessions_are_unknown_and_counted() {
    let server = start(with_node("n1")).await;
    let other = "n2.AAAAAAAAAAAAAAAAAAAA";
    // The reference answer, on every kind of request...
    let (status, body) = server.get(other).await;
    assert_eq!(
        (status, body.as_str()),
        (400, r#"{"code":1,"message":"Session ID unknown"}"#)
    );
    let (status, body) = server.post(other, "4hello").await;
    assert_eq!((status, code(&body)), (400, 1), "{body}");
    let url = server
        .url(&format!("EIO=4&transport=websocket&sid={other}"))
        .replace("http://", "ws://");
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) =
        tokio_tungstenite::connect_async(&url).await
    else {
        panic!("a WebSocket with another node's sid was accepted");
    };
    assert_eq!(response.status(), 400);
    // ... and each is counted.
    assert_eq!(server.server.misrouted_requests(), 3);
    // Not counted: an unknown session of this node (expired, say), a sid
    // without a node, a node whose name only starts like ours.
    assert_eq!(server.get("n1.AAAAAAAAAAAAAAAAAAAA").await.0, 400);
    assert_eq!(server.get(FOREIGN_SID).await.0, 400);
    assert_eq!(server.server.misrouted_requests(), 3);
    assert_eq!(server.get("n10.AAAAAAAAAAAAAAAAAAAA").await.0, 400);
    assert_eq!(server.server.misrouted_requests(), 4);
    // A live session of this node is not affected.
    let (sid, _) = server.handshake().await;
    assert_eq!(server.post(&sid, "4hi").await, (200, "ok".to_owned()));
    assert_eq!(server.server.misrouted_requests(), 4);
}

#[tokio::test]
async fn without_a_node_id_nothing_is_counted() {
    let server = start(short()).await;
    assert_eq!(server.get("n2.AAAAAAAAAAAAAAAAAAAA").await.0, 400);
    assert_eq!(server.server.misrouted_requests(), 0);
}

#[tokio::test]
async fn a_node_id_prefixes_the_ids_of_generate_id() {
    let server = start_with(with_node("n7"), |builder| {
        builder.generate_id(|request| {
            if request.uri.query().unwrap_or("").contains("long") {
                "x".repeat(38) // 41 characters with "n7."
            } else {
                format!("user.{}", engineio::Sid::generate())
            }
        })
    })
    .await;
    let (sid, _) = server.handshake().await;
    assert!(sid.starts_with("n7.user."), "{sid}");
    assert_eq!(sid.len(), "n7.user.".len() + 20);
    assert_eq!(server.post(&sid, "4hi").await, (200, "ok".to_owned()));
    let response = http()
        .get(server.url("EIO=4&transport=polling&long=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"code":3,"message":"Bad request"}"#
    );
}
