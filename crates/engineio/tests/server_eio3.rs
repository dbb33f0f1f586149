//! Engine.IO v3 (`allow_eio3`) and JSONP polling (`jsonp`) on our server.
//!
//! v3 is tested with the official v3 client, npm `engine.io-client` 3.5
//! (installed as `engine.io-client-v3`), over polling, WebSocket and the
//! upgrade, text and binary, raw binary and `forceBase64`, with its
//! client-driven heartbeat. JSONP is tested over HTTP: the browser-only
//! transport cannot run in Node, so the requests are the ones the v3
//! client's JSONP transport makes, and the answers are checked in the
//! format the Node server writes (`___eio[j]("...");`).

mod support;

use std::time::Duration;

use engineio::server::ServerConfig;
use serde_json::{Value, json};
use support::client_peer::{self as peer, Kind, Output};
use support::server::{http, start_with};

fn v3_config() -> ServerConfig {
    ServerConfig::default()
        .allow_eio3(true)
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(300))
}

fn messages(output: &Output) -> Vec<Value> {
    output
        .events
        .iter()
        .filter(|e| e["event"] == "message")
        .map(|e| {
            let mut e = e.clone();
            e.as_object_mut()
                .unwrap()
                .retain(|k, _| k == "text" || k == "binary");
            e
        })
        .collect()
}

fn count(output: &Output, event: &str) -> usize {
    output.events.iter().filter(|e| e["event"] == event).count()
}

/// Runs the v3 Node client against an echo server with `allow_eio3`:
/// sends a text and a binary message on open, expects both back and two
/// heartbeats (pongs), then closes.
async fn v3_echo(mut options: Value) -> Output {
    let server = start_with(v3_config(), |builder| builder).await;
    let extra = options.as_object_mut().unwrap();
    extra.insert("v3".into(), json!(true));
    extra.insert(
        "onOpen".into(),
        json!([{"text": "héllo 👋"}, {"binary": [0, 1, 2, 255]}]),
    );
    extra.insert("expect".into(), json!(2));
    extra.insert("pings".into(), json!(2));
    extra.insert("closeWhenDone".into(), json!(true));
    let output = peer::spawn(Kind::Node, &server.base, &options)
        .finish()
        .await;
    assert_eq!(
        messages(&output),
        [
            json!({"text": "héllo 👋"}),
            json!({"binary": [0, 1, 2, 255]})
        ],
        "{}",
        output.dump()
    );
    assert!(count(&output, "ping") >= 2, "{}", output.dump());
    assert_eq!(count(&output, "error"), 0, "{}", output.dump());
    let handshake = output
        .events
        .iter()
        .find(|e| e["event"] == "handshake")
        .unwrap();
    assert_eq!(handshake["pingInterval"], 300);
    output
}

#[tokio::test]
async fn v3_client_polling_echoes_text_and_binary_with_its_heartbeat() {
    if !peer::available("v3_client_polling") {
        return;
    }
    let output = v3_echo(json!({"transports": ["polling"]})).await;
    assert_eq!(count(&output, "upgrade"), 0);
}

#[tokio::test]
async fn v3_client_polling_with_force_base64() {
    if !peer::available("v3_client_polling_with_force_base64") {
        return;
    }
    v3_echo(json!({"transports": ["polling"], "forceBase64": true})).await;
}

#[tokio::test]
async fn v3_client_websocket_only_echoes_text_and_binary() {
    if !peer::available("v3_client_websocket_only") {
        return;
    }
    let output = v3_echo(json!({"transports": ["websocket"]})).await;
    let open = output.events.iter().find(|e| e["event"] == "open").unwrap();
    assert_eq!(open["transport"], "websocket");
}

#[tokio::test]
async fn v3_client_websocket_with_force_base64() {
    if !peer::available("v3_client_websocket_with_force_base64") {
        return;
    }
    v3_echo(json!({"transports": ["websocket"], "forceBase64": true})).await;
}

#[tokio::test]
async fn v3_client_upgrades_from_polling_to_websocket() {
    if !peer::available("v3_client_upgrades") {
        return;
    }
    let output = v3_echo(json!({"waitUpgrade": true})).await;
    let upgrade = output
        .events
        .iter()
        .find(|e| e["event"] == "upgrade")
        .unwrap_or_else(|| panic!("{}", output.dump()));
    assert_eq!(upgrade["transport"], "websocket");
}

#[tokio::test]
async fn v3_sessions_time_out_without_client_pings() {
    let server = start_with(v3_config(), |builder| builder).await;
    let body = http()
        .get(server.url("EIO=3&transport=polling"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // A v3 payload: `<length>:0{...}`, with the same five fields as Node 6.6.
    let (length, open) = body.split_once(':').unwrap();
    assert_eq!(
        length.parse::<usize>().unwrap(),
        open.encode_utf16().count()
    );
    let handshake: Value = serde_json::from_str(&open[1..]).unwrap();
    assert_eq!(handshake["upgrades"], json!(["websocket"]));
    assert_eq!(handshake["maxPayload"], 1_000_000);
    let sid = handshake["sid"].as_str().unwrap().to_owned();
    let poll = |sid: String| {
        let url = server.url(&format!("EIO=3&transport=polling&sid={sid}"));
        async move { http().get(url).send().await.unwrap().text().await.unwrap() }
    };
    let post = |sid: String, body: &'static str| {
        let url = server.url(&format!("EIO=3&transport=polling&sid={sid}"));
        async move {
            http()
                .post(url)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // The client pings; the server answers with a pong (no server ping).
    assert_eq!(post(sid.clone(), "1:2").await, 200);
    assert_eq!(poll(sid.clone()).await, "1:3");
    // No more pings: the session ends after ping_interval + ping_timeout.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let closed = http()
        .get(server.url(&format!("EIO=3&transport=polling&sid={sid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 400);
    assert_eq!(
        closed.text().await.unwrap(),
        r#"{"code":1,"message":"Session ID unknown"}"#
    );
}

#[tokio::test]
async fn v3_binary_posts_and_polls_use_the_binary_payload() {
    let server = start_with(v3_config(), |builder| builder).await;
    let body = http()
        .get(server.url("EIO=3&transport=polling"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let open: Value = serde_json::from_str(&body[body.find('{').unwrap()..]).unwrap();
    let sid = open["sid"].as_str().unwrap().to_owned();
    let url = server.url(&format!("EIO=3&transport=polling&sid={sid}"));
    // A binary payload: 0x01 (binary entry), length 4 ("4" = 1 type byte +
    // 3 bytes), 0xFF, then type 4 and the bytes.
    let posted = http()
        .post(&url)
        .header("content-type", "application/octet-stream")
        .body(vec![0x01, 4, 0xFF, 4, 9, 8, 7])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    let polled = http().get(&url).send().await.unwrap();
    assert_eq!(polled.headers()["content-type"], "application/octet-stream");
    assert_eq!(
        polled.bytes().await.unwrap().to_vec(),
        [0x01, 4, 0xFF, 4, 9, 8, 7]
    );
}

#[tokio::test]
async fn v3_is_refused_unless_allowed_and_a_session_keeps_its_revision() {
    let v4_only = start_with(ServerConfig::default(), |builder| builder).await;
    let refused = http()
        .get(v4_only.url("EIO=3&transport=polling"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .starts_with(r#"{"code":5,"message":"Unsupported protocol version"#)
    );

    let server = start_with(v3_config(), |builder| builder).await;
    let (sid, _) = server.handshake().await; // a v4 session
    let mismatch = http()
        .get(server.url(&format!("EIO=3&transport=polling&sid={sid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), 400);
    let body = mismatch.text().await.unwrap();
    assert!(
        body.starts_with(r#"{"code":3,"message":"Bad request: protocol mismatch"#),
        "{body}"
    );
    // The v4 session goes on.
    assert_eq!(server.post(&sid, "4still v4").await.0, 200);
    assert_eq!(server.get(&sid).await, (200, "4still v4".to_owned()));
}

/// The JSON string inside `___eio[<index>]("...");`.
fn unwrap_jsonp(index: &str, script: &str) -> String {
    let inner = script
        .strip_prefix(&format!("___eio[{index}]("))
        .and_then(|s| s.strip_suffix(");"))
        .unwrap_or_else(|| panic!("not a JSONP script: {script}"));
    serde_json::from_str(inner).unwrap()
}

#[tokio::test]
async fn jsonp_polling_wraps_answers_and_reads_form_posts_for_v3_and_v4() {
    let server = start_with(v3_config().jsonp(true), |builder| builder).await;
    for (eio, separator) in [("3", None), ("4", Some('\u{1e}'))] {
        let handshake = http()
            .get(server.url(&format!("EIO={eio}&transport=polling&j=7")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            handshake.headers()["content-type"],
            "text/plain; charset=UTF-8"
        );
        let payload = unwrap_jsonp("7", &handshake.text().await.unwrap());
        let open = &payload[payload.find('{').unwrap()..];
        let sid = serde_json::from_str::<Value>(open).unwrap()["sid"]
            .as_str()
            .unwrap()
            .to_owned();
        // The JSONP transport posts a form with the payload in `d`; a
        // message with a quote, a newline and U+2028 survives both ways.
        let message = "4a \"quote\"\nand \u{2028}";
        let payload = match separator {
            None => format!("{}:{message}", message.encode_utf16().count()),
            Some(_) => message.to_owned(),
        };
        let form = format!(
            "d={}",
            percent_encoding::utf8_percent_encode(
                &payload.replace('\n', "\\n"),
                percent_encoding::NON_ALPHANUMERIC
            )
        );
        let url = server.url(&format!("EIO={eio}&transport=polling&sid={sid}&j=7"));
        let posted = http()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 200, "EIO={eio}");
        let script = http().get(&url).send().await.unwrap().text().await.unwrap();
        assert!(script.contains("\\u2028"), "{script}");
        assert_eq!(unwrap_jsonp("7", &script), payload, "EIO={eio}");
    }
}

#[tokio::test]
async fn jsonp_is_refused_when_off_and_its_index_must_be_digits() {
    let off = start_with(v3_config(), |builder| builder).await;
    let refused = http()
        .get(off.url("EIO=3&transport=polling&j=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("JSONP"));

    let on = start_with(v3_config().jsonp(true), |builder| builder).await;
    for bad in ["", "alert(1)", "1;x", "-1"] {
        let refused = http()
            .get(on.url(&format!("EIO=3&transport=polling&j={bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400, "j={bad}");
        let body = refused.text().await.unwrap();
        assert!(body.starts_with(r#"{"code":3,"#), "{body}");
    }
    assert_eq!(on.server.session_count(), 0);
}

/// Socket.IO v2 over our engine: an echo server that sends the Socket.IO
/// CONNECT packet (`0`) on open, as a Socket.IO v2 server does for the
/// main namespace; the client's event, with a binary attachment, comes back.
async fn socketio_v2_echo(transports: Value) -> Output {
    let server = start_with(v3_config(), |builder| {
        builder.on_connect(|socket, _| {
            let _ = socket.send("0");
            Ok(())
        })
    })
    .await;
    let output = peer::spawn(
        Kind::SocketIoV2,
        &server.base,
        &json!({ "transports": transports }),
    )
    .finish()
    .await;
    let echo = output
        .events
        .iter()
        .find(|e| e["event"] == "echo")
        .unwrap_or_else(|| panic!("{}", output.dump()));
    assert_eq!(
        echo["args"],
        json!(["héllo", {"n": 1}, {"binary": [0, 1, 255]}]),
        "{}",
        output.dump()
    );
    assert_eq!(count(&output, "error"), 0, "{}", output.dump());
    output
}

#[tokio::test]
async fn socketio_v2_client_runs_over_our_engine_on_polling() {
    if !peer::available("socketio_v2_client_polling") {
        return;
    }
    let output = socketio_v2_echo(json!(["polling"])).await;
    let echo = output.events.iter().find(|e| e["event"] == "echo").unwrap();
    assert_eq!(echo["transport"], "polling");
}

#[tokio::test]
async fn socketio_v2_client_runs_over_our_engine_on_websocket() {
    if !peer::available("socketio_v2_client_websocket") {
        return;
    }
    let output = socketio_v2_echo(json!(["websocket"])).await;
    let echo = output.events.iter().find(|e| e["event"] == "echo").unwrap();
    assert_eq!(echo["transport"], "websocket");
}
