//! The application's hooks beside the session handlers, as Node's
//! `engine.io` offers them: response headers (`initial_headers`, `headers`),
//! `connection_error`, the async `allow_request`, a custom id generator
//! (`generateId`) and the upgrade events. Over HTTP with reqwest, and with
//! the official Node client (npm engine.io-client) where a real peer
//! matters: a custom id and the upgrade events.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use engineio::Transport;
use engineio::server::{ErrorCode, Rejection, ServerConfig};
use http::HeaderValue;
use serde_json::json;
use support::client_peer::{self as peer, Kind};
use support::server::{http, start_with};

/// One refusal as the `connection_error` hook saw it.
#[derive(Debug, Clone, PartialEq)]
struct Refused {
    status: u16,
    code: Option<ErrorCode>,
    message: String,
    query: String,
}

type Log<T> = Arc<Mutex<Vec<T>>>;

fn log<T>() -> Log<T> {
    Arc::new(Mutex::new(Vec::new()))
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn header_hooks_run_on_successful_answers_initial_headers_on_handshakes_only() {
    let server = start_with(ServerConfig::default(), |builder| {
        builder
            .on_initial_headers(|headers, request| {
                assert!(request.uri.query().unwrap().contains("transport="));
                headers.append("set-cookie", HeaderValue::from_static("theme=dark; Path=/"));
                headers.insert("x-initial", HeaderValue::from_static("yes"));
            })
            .on_headers(|headers, request| {
                headers.insert(
                    "x-method",
                    HeaderValue::from_str(request.method.as_str()).unwrap(),
                );
            })
    })
    .await;
    let handshake = http()
        .get(server.url("EIO=4&transport=polling"))
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.status(), 200);
    assert_eq!(header(&handshake, "x-initial").as_deref(), Some("yes"));
    assert_eq!(header(&handshake, "x-method").as_deref(), Some("GET"));
    assert_eq!(
        header(&handshake, "set-cookie").as_deref(),
        Some("theme=dark; Path=/")
    );
    let body = handshake.text().await.unwrap();
    let open: serde_json::Value = serde_json::from_str(&body[1..]).unwrap();
    let sid = open["sid"].as_str().unwrap().to_owned();

    let post = http()
        .post(server.session_url(&sid))
        .body("4hi")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200);
    assert_eq!(header(&post, "x-method").as_deref(), Some("POST"));
    assert_eq!(header(&post, "x-initial"), None);

    let poll = http().get(server.session_url(&sid)).send().await.unwrap();
    assert_eq!(poll.status(), 200);
    assert_eq!(header(&poll, "x-method").as_deref(), Some("GET"));
    assert_eq!(header(&poll, "x-initial"), None);
    assert_eq!(poll.text().await.unwrap(), "4hi");

    // Error answers do not run the header hooks (as in Node).
    let unknown = http()
        .get(server.session_url("AAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    assert_eq!(header(&unknown, "x-method"), None);
}

#[tokio::test]
async fn header_hooks_run_on_the_websocket_handshake_101() {
    let server = start_with(ServerConfig::default(), |builder| {
        builder
            .on_initial_headers(|headers, _| {
                headers.insert("x-initial", HeaderValue::from_static("yes"));
            })
            .on_headers(|headers, _| {
                headers.insert("x-every", HeaderValue::from_static("yes"));
            })
    })
    .await;
    let url = format!(
        "ws://{}/engine.io/?EIO=4&transport=websocket",
        server.addr()
    );
    let (_ws, response) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(response.headers()["x-initial"], "yes");
    assert_eq!(response.headers()["x-every"], "yes");
}

#[tokio::test]
async fn connection_error_reports_every_refusal_with_code_message_and_request() {
    let refused: Log<Refused> = log();
    let seen = refused.clone();
    let server = start_with(
        ServerConfig::default().max_http_buffer_size(10),
        |builder| {
            builder
                .allow_request(|request| {
                    if request.uri.query().unwrap_or("").contains("deny=1") {
                        Err("no entry".to_owned())
                    } else {
                        Ok(())
                    }
                })
                .on_connection_error(move |error| {
                    seen.lock().unwrap().push(Refused {
                        status: error.status.as_u16(),
                        code: error.code,
                        message: error.message.to_owned(),
                        query: error.request.uri.query().unwrap_or("").to_owned(),
                    });
                })
        },
    )
    .await;
    let get = |query: &str| {
        let url = server.url(query);
        async move { http().get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get("EIO=4&transport=carrier-pigeon").await, 400);
    assert_eq!(
        get("EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA").await,
        400
    );
    assert_eq!(get("EIO=3&transport=polling").await, 400);
    assert_eq!(get("EIO=4&transport=polling&deny=1").await, 403);
    let (sid, _) = server.handshake().await;
    assert_eq!(server.post(&sid, "4this is longer than ten").await.0, 413);

    let refused = refused.lock().unwrap().clone();
    let expected = [
        (400, Some(ErrorCode::TransportUnknown), "Transport unknown"),
        (400, Some(ErrorCode::UnknownSid), "Session ID unknown"),
        (
            400,
            Some(ErrorCode::UnsupportedProtocolVersion),
            "Unsupported protocol version",
        ),
        (403, Some(ErrorCode::Forbidden), "Forbidden: no entry"),
        (413, None, ""),
    ];
    assert_eq!(refused.len(), expected.len(), "{refused:#?}");
    // The message is the body's: Node's words, then our detail if any.
    for (seen, (status, code, message)) in refused.iter().zip(expected) {
        assert_eq!((seen.status, seen.code), (status, code), "{seen:?}");
        assert!(seen.message.starts_with(message), "{seen:?}");
    }
    assert_eq!(refused[3].message, "Forbidden: no entry");
    assert_eq!(refused[4].message, "");
    assert!(refused[1].query.contains("sid=AAAAAAAAAAAAAAAAAAAA"));
    assert!(refused[4].query.contains(&sid));
}

#[tokio::test]
async fn connection_error_reports_the_connect_handlers_401() {
    let refused: Log<(u16, Option<ErrorCode>, String)> = log();
    let seen = refused.clone();
    let server = start_with(ServerConfig::default(), |builder| {
        builder
            .on_connect(|_, _| Err(Rejection::with_data(json!({"reason": "who are you"}))))
            .on_connection_error(move |error| {
                seen.lock().unwrap().push((
                    error.status.as_u16(),
                    error.code,
                    error.message.to_owned(),
                ));
            })
    })
    .await;
    let response = http()
        .get(server.url("EIO=4&transport=polling"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body = response.text().await.unwrap();
    let refused = refused.lock().unwrap().clone();
    assert_eq!(refused, [(401, None, body)]);
}

#[tokio::test]
async fn async_allow_request_can_wait_before_accepting_or_refusing() {
    let server = start_with(ServerConfig::default(), |builder| {
        builder.allow_request_async(|request| async move {
            // Stands for a database lookup.
            tokio::time::sleep(Duration::from_millis(20)).await;
            match request.headers.get("x-token").map(|v| v.to_str().unwrap()) {
                Some("good") => Ok(()),
                _ => Err("bad token".to_owned()),
            }
        })
    })
    .await;
    let refused = http()
        .get(server.url("EIO=4&transport=polling"))
        .header("x-token", "bad")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.text().await.unwrap(),
        r#"{"code":4,"message":"Forbidden: bad token"}"#
    );
    assert_eq!(server.server.session_count(), 0);
    let accepted = http()
        .get(server.url("EIO=4&transport=polling"))
        .header("x-token", "good")
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    assert!(accepted.text().await.unwrap().starts_with("0{\"sid\""));
    assert_eq!(server.server.session_count(), 1);
}

#[tokio::test]
async fn generate_id_names_sessions_and_duplicates_or_invalid_ids_are_refused() {
    let next: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(vec![
        "has space".to_owned(),
        "n1.same".to_owned(),
        "n1.same".to_owned(),
        "n1.other".to_owned(),
    ]));
    let ids = next.clone();
    let server = start_with(ServerConfig::default(), move |builder| {
        builder.generate_id(move |_| ids.lock().unwrap().remove(0))
    })
    .await;
    let open = || {
        let url = server.url("EIO=4&transport=polling");
        async move {
            let response = http().get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(
        open().await,
        (400, r#"{"code":3,"message":"Bad request"}"#.to_owned())
    );
    let (status, body) = open().await;
    assert_eq!(status, 200);
    assert!(body.starts_with(r#"0{"sid":"n1.same""#), "{body}");
    assert_eq!(
        open().await,
        (400, r#"{"code":3,"message":"Bad request"}"#.to_owned())
    );
    let (status, body) = open().await;
    assert_eq!(status, 200);
    assert!(body.starts_with(r#"0{"sid":"n1.other""#), "{body}");
    assert_eq!(server.server.session_count(), 2);
    // The custom ids work as any other: post and poll on the session.
    assert_eq!(
        server.post("n1.same", "4hello").await,
        (200, "ok".to_owned())
    );
    assert_eq!(server.get("n1.same").await, (200, "4hello".to_owned()));
}

#[tokio::test]
async fn the_node_client_runs_on_custom_ids_and_the_upgrade_events_fire_in_order() {
    if !peer::available("the_node_client_runs_on_custom_ids") {
        return;
    }
    let events: Log<String> = log();
    let (upgrading, upgraded) = (events.clone(), events.clone());
    let server = start_with(
        ServerConfig::default().ping_interval(Duration::from_millis(300)),
        move |builder| {
            builder
                .generate_id(|_| format!("eu-1.{}", engineio::Sid::generate()))
                .on_upgrading(move |socket, transport| {
                    upgrading
                        .lock()
                        .unwrap()
                        .push(format!("upgrading {} {transport}", socket.sid()));
                })
                .on_upgrade(move |socket, transport| {
                    assert_eq!(socket.transport(), Transport::WebSocket);
                    upgraded
                        .lock()
                        .unwrap()
                        .push(format!("upgrade {} {transport}", socket.sid()));
                })
        },
    )
    .await;
    let options = json!({
        "onOpen": [{"text": "over polling"}],
        "expect": 2,
        "waitUpgrade": true,
        "sequence": {"count": 0, "burst": 0, "everyMs": 1000, "atUpgrade": 1},
        "closeWhenDone": true,
    });
    let output = peer::spawn(Kind::Node, &server.base, &options)
        .finish()
        .await;
    let handshake = output
        .events
        .iter()
        .find(|e| e["event"] == "handshake")
        .unwrap_or_else(|| panic!("{}", output.dump()));
    let sid = handshake["sid"].as_str().unwrap().to_owned();
    assert!(sid.starts_with("eu-1.") && sid.len() == 25, "{sid}");
    let texts: Vec<&str> = output
        .events
        .iter()
        .filter(|e| e["event"] == "message")
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert_eq!(texts, ["over polling", "seq-0"], "{}", output.dump());
    // The hooks run on their own tasks: give them a moment to finish.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while events.lock().unwrap().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        *events.lock().unwrap(),
        [
            format!("upgrading {sid} websocket"),
            format!("upgrade {sid} websocket")
        ]
    );
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Move {
    x: i32,
    y: i32,
}

#[tokio::test]
async fn json_messages_decode_and_send_with_serde_against_the_node_client() {
    if !peer::available("json_messages_decode_and_send_with_serde") {
        return;
    }
    let server = start_with(ServerConfig::default(), |builder| {
        builder.on_message(|socket, message| match message.json::<Move>() {
            Ok(Move { x, y }) => socket.send_json(&Move { x: -x, y: -y }).unwrap(),
            Err(err) => socket.send(format!("error: {err}")).unwrap(),
        })
    })
    .await;
    let options = json!({
        "transports": ["polling"],
        "onOpen": [{"text": r#"{"x":1,"y":2}"#}, {"text": r#"{"x":"one"}"#}, {"binary": [1, 2]}],
        "expect": 3,
        "closeWhenDone": true,
    });
    let output = peer::spawn(Kind::Node, &server.base, &options)
        .finish()
        .await;
    let texts: Vec<&str> = output
        .events
        .iter()
        .filter(|e| e["event"] == "message")
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert_eq!(texts.len(), 3, "{}", output.dump());
    assert_eq!(
        serde_json::from_str::<Move>(texts[0]).unwrap(),
        Move { x: -1, y: -2 }
    );
    assert!(
        texts[1].starts_with("error: the message is not the expected JSON: invalid type"),
        "{}",
        texts[1]
    );
    assert_eq!(texts[2], "error: a binary message is not JSON text");
}
