//! Integration tests of the server over real TCP on 127.0.0.1: the polling
//! transport, every error answer (status and body), the options, and the
//! front doors (listener, tower service, axum layer).

mod support;

use std::time::Duration;

use engineio::server::{CookieConfig, CorsPolicy, Rejection, Server};
use engineio::{Message, Sid, Transport};
use serde_json::{Value, json};
use support::server::{fast_heartbeat, http, short, start, start_with};

async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

// ===== handshake =====

#[tokio::test]
async fn polling_handshake_sends_exactly_the_five_fields() {
    let server = start(fast_heartbeat().ping_grace(Duration::from_millis(50))).await;
    let response = http()
        .get(server.url("EIO=4&transport=polling&t=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=UTF-8"
    );
    let body = response.text().await.unwrap();
    let json: Value = serde_json::from_str(body.strip_prefix('0').unwrap()).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 5);
    assert_eq!(json["upgrades"], json!(["websocket"]));
    // The grace is added to the advertised interval only; sub-second values are exact.
    assert_eq!(json["pingInterval"], 350);
    assert_eq!(json["pingTimeout"], 200);
    assert_eq!(json["maxPayload"], 1_000_000);
    assert_eq!(json["sid"].as_str().unwrap().len(), 20);
}

#[tokio::test]
async fn disabled_websocket_is_never_advertised() {
    for config in [
        short().allow_upgrades(false),
        short().transports([Transport::Polling]),
    ] {
        let server = start(config).await;
        let (_, handshake) = server.handshake().await;
        assert_eq!(handshake["upgrades"], json!([]));
    }
    let server = start(short().transports([Transport::Polling])).await;
    let response = http()
        .get(server.url("EIO=4&transport=websocket"))
        .header("upgrade", "websocket")
        .send()
        .await
        .unwrap();
    // A WebSocket request gets its error as plain text, as from the Node server.
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(
        response.text().await.unwrap(),
        "Transport unknown: websocket is disabled on this server"
    );
}

// ===== errors =====

#[tokio::test]
async fn every_bad_request_gets_the_node_code_and_a_message() {
    let server = start(short()).await;
    let unknown = Sid::generate();
    let cases: Vec<(&str, String, u16, Option<u8>, &str)> = vec![
        (
            "GET",
            "EIO=4".into(),
            400,
            Some(0),
            "Transport unknown: missing transport parameter",
        ),
        (
            "GET",
            "EIO=4&transport=abc".into(),
            400,
            Some(0),
            "Transport unknown: unknown transport \"abc\"",
        ),
        (
            "GET",
            "EIO=3&transport=polling".into(),
            400,
            Some(5),
            "Unsupported protocol version: EIO=3",
        ),
        (
            "GET",
            "transport=polling".into(),
            400,
            Some(5),
            "Unsupported protocol version: missing EIO",
        ),
        (
            "POST",
            "EIO=4&transport=polling".into(),
            400,
            Some(2),
            "Bad handshake method: a handshake must be a GET",
        ),
        (
            "GET",
            "EIO=4&transport=websocket".into(),
            400,
            Some(3),
            "Bad request: transport=websocket without",
        ),
        (
            "GET",
            format!("EIO=4&transport=polling&sid={unknown}"),
            400,
            Some(1),
            "Session ID unknown",
        ),
        (
            "POST",
            format!("EIO=4&transport=polling&sid={unknown}"),
            400,
            Some(1),
            "Session ID unknown",
        ),
        (
            "GET",
            "EIO=4&transport=polling&sid=not-a-sid".into(),
            400,
            Some(1),
            "Session ID unknown",
        ),
        (
            "GET",
            "EIO=4&transport=polling&j=1".into(),
            400,
            Some(3),
            "Bad request: JSONP",
        ),
        (
            "PUT",
            "EIO=4&transport=polling".into(),
            400,
            Some(2),
            "Bad handshake method",
        ),
        (
            "DELETE",
            "EIO=4&transport=polling".into(),
            400,
            Some(2),
            "Bad handshake method",
        ),
        (
            "DELETE",
            format!("EIO=4&transport=polling&sid={unknown}"),
            400,
            Some(1),
            "Session ID unknown",
        ),
    ];
    for (method, query, status, code, message) in cases {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = http()
            .request(method.clone(), server.url(&query))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{method} {query}"
        );
        let (got_status, body) = status_and_json(response).await;
        assert_eq!(got_status, status, "{method} {query}: {body}");
        if let Some(code) = code {
            assert_eq!(body["code"], json!(code), "{method} {query}: {body}");
        }
        let text = body["message"].as_str().unwrap();
        assert!(
            text.starts_with(message),
            "{method} {query}: {text:?} should start with {message:?}"
        );
    }
}

#[tokio::test]
async fn a_disallowed_origin_gets_400_naming_it() {
    let server = start(short()).await;
    let response = http()
        .get(server.url("EIO=4&transport=polling"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "Bad request: origin http://evil.example is not allowed"
    );

    // The server's own origin is allowed by default and gets CORS headers.
    let host = server
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/engine.io/")
        .to_owned();
    let response = http()
        .get(server.url("EIO=4&transport=polling"))
        .header("origin", format!("http://{host}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        format!("http://{host}").as_str()
    );
    assert_eq!(
        response.headers()["access-control-allow-credentials"],
        "true"
    );
}

#[tokio::test]
async fn cors_list_and_preflight() {
    let server = start(
        short()
            .cors(CorsPolicy::list(["https://app.example"]))
            .cors_credentials(false),
    )
    .await;
    let response = http()
        .request(
            reqwest::Method::OPTIONS,
            server.url("EIO=4&transport=polling"),
        )
        .header("origin", "https://app.example")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(
        headers["access-control-allow-methods"],
        "OPTIONS, GET, POST"
    );
    assert_eq!(headers["access-control-allow-headers"], "content-type");
    assert!(headers.get("access-control-allow-credentials").is_none());
    // No Origin header: never checked (native clients).
    let response = http()
        .get(server.url("EIO=4&transport=polling"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn post_over_the_limit_gets_413_with_or_without_content_length() {
    let server = start(short().max_http_buffer_size(100)).await;
    let (sid, handshake) = server.handshake().await;
    assert_eq!(handshake["maxPayload"], 100);
    let big = format!("4{}", "x".repeat(200));
    // An empty 413, as the Node server answers (its client reads the text).
    assert_eq!(server.post(&sid, &big).await, (413, String::new()));
    // A chunked body (no Content-Length) is counted as it is read.
    let chunks: Vec<Result<String, std::io::Error>> = vec![Ok("4".into()), Ok("y".repeat(150))];
    let stream = futures_util::stream::iter(chunks);
    let response = http()
        .post(server.session_url(&sid))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(response.text().await.unwrap(), "");
    // The session is still usable with a small POST.
    assert_eq!(server.post(&sid, "4ok").await, (200, "ok".to_owned()));
    assert_eq!(server.get(&sid).await, (200, "4ok".to_owned()));
}

#[tokio::test]
async fn connect_rejections_answer_401_with_json() {
    let server = start_with(short(), |b| {
        b.on_connect(|_, _| Err(Rejection::unauthorized()))
    })
    .await;
    let response = http()
        .get(server.url("EIO=4&transport=polling"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), "\"Unauthorized\"");
    assert_eq!(server.server.session_count(), 0);

    let server = start_with(short(), |b| {
        b.on_connect_async(|_, _| async {
            Err(Rejection::with_data(json!({"code": 42, "why": "nope"})))
        })
    })
    .await;
    let response = http()
        .get(server.url("EIO=4&transport=polling"))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!((status, body), (401, json!({"code": 42, "why": "nope"})));
}

#[tokio::test]
async fn allow_request_refusal_is_403_code_4() {
    let server = start_with(short(), |b| b.allow_request(|_| Err("no entry".to_owned()))).await;
    let response = http()
        .get(server.url("EIO=4&transport=polling"))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(
        (status, body),
        (403, json!({"code": 4, "message": "Forbidden: no entry"}))
    );
}

// ===== polling behaviour =====

#[tokio::test]
async fn polling_echo_text_and_binary() {
    let mut server = start(short()).await;
    let (sid, _) = server.handshake().await;
    assert_eq!(
        server.post(&sid, "4héllo 👋\u{1e}bAAH/\u{1e}4").await,
        (200, "ok".to_owned())
    );
    assert_eq!(
        server.get(&sid).await,
        (200, "4héllo 👋\u{1e}bAAH/\u{1e}4".to_owned())
    );
    assert!(server.event().await.starts_with("connect"));
    assert_eq!(server.event().await, "message Text(\"héllo 👋\")");
    assert_eq!(
        server.event().await,
        format!("message {:?}", Message::from(vec![0u8, 1, 255]))
    );
    assert_eq!(server.event().await, "message Text(\"\")");
}

#[tokio::test]
async fn a_poll_carries_at_most_16_packets_and_nothing_is_lost() {
    let server = start(short()).await;
    let (sid, _) = server.handshake().await;
    let sid_typed: Sid = sid.parse().unwrap();
    for i in 0..40 {
        server.server.send(sid_typed, format!("m{i}")).unwrap();
    }
    let mut received = Vec::new();
    while received.len() < 40 {
        let (status, body) = server.get(&sid).await;
        assert_eq!(status, 200);
        let packets: Vec<&str> = body.split('\u{1e}').filter(|p| *p != "2").collect();
        assert!(packets.len() <= 16, "{} packets in one poll", packets.len());
        received.extend(packets.iter().map(|p| p.to_string()));
    }
    let expected: Vec<String> = (0..40).map(|i| format!("4m{i}")).collect();
    assert_eq!(received, expected);
}

#[tokio::test]
async fn overlapping_gets_close_the_session() {
    let mut server = start(short()).await;
    let (sid, _) = server.handshake().await;
    let first = server.pending_poll(&sid).await;
    let response = http().get(server.session_url(&sid)).send().await.unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "Bad request: overlapping GET requests: the session is closed"
    );
    assert_eq!(first.await.unwrap(), "1");
    assert_eq!(
        server.disconnect_event().await,
        format!("disconnect {sid} transport error")
    );
}

#[tokio::test]
async fn close_packet_answers_the_pending_poll_with_noop() {
    let mut server = start(short()).await;
    let (sid, _) = server.handshake().await;
    let pending = server.pending_poll(&sid).await;
    assert_eq!(server.post(&sid, "1").await, (200, "ok".to_owned()));
    assert_eq!(pending.await.unwrap(), "6");
    assert_eq!(
        server.disconnect_event().await,
        format!("disconnect {sid} client disconnect")
    );
    assert_eq!(server.get(&sid).await.0, 400);
}

#[tokio::test]
async fn an_undecodable_packet_closes_the_session_after_the_packets_before_it() {
    // As the Node server: the POST is still answered ok, the packets before
    // the bad one are handled, then the session closes and its sid is gone.
    let mut server = start(short()).await;
    let (sid, _) = server.handshake().await;
    assert_eq!(server.event().await, format!("connect {sid}"));
    let pending = server.pending_poll(&sid).await;
    assert_eq!(
        server.post(&sid, "4ok\u{1e}9bad\u{1e}4never").await,
        (200, "ok".to_owned())
    );
    assert_eq!(server.event().await, "message Text(\"ok\")");
    assert_eq!(
        server.event().await,
        format!("disconnect {sid} transport error")
    );
    // The pending poll gets the close packet (the echo of "ok" is dropped, as
    // the Node server drops its buffer on such a close).
    assert_eq!(pending.await.unwrap(), "1");
    assert_eq!(server.get(&sid).await.0, 400);
}

#[tokio::test]
async fn too_many_packets_in_a_post_is_refused_not_dropped() {
    let mut server = start(short().max_payload_packets(3)).await;
    let (sid, _) = server.handshake().await;
    let response = http()
        .post(server.session_url(&sid))
        .body("4a\u{1e}4b\u{1e}4c\u{1e}4d")
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["message"],
        "Bad request: the POST holds more than 3 packets: the session is closed"
    );
    assert_eq!(
        server.disconnect_event().await,
        format!("disconnect {sid} transport error")
    );
}

#[tokio::test]
async fn a_client_ping_is_a_protocol_error() {
    let mut server = start(short()).await;
    let (sid, _) = server.handshake().await;
    assert_eq!(server.post(&sid, "2").await.0, 200);
    assert_eq!(
        server.disconnect_event().await,
        format!("disconnect {sid} transport error")
    );
}

#[tokio::test]
async fn server_disconnect_never_blocks_and_the_next_poll_gets_close() {
    let mut server = start(short()).await;
    let (sid, _) = server.handshake().await;
    let sid_typed: Sid = sid.parse().unwrap();
    server.server.send(sid_typed, "last words").unwrap();
    // No poll is pending: python-engineio hangs here; we return at once.
    assert!(server.server.disconnect(sid_typed));
    assert_eq!(
        server.get(&sid).await,
        (200, "4last words\u{1e}1".to_owned())
    );
    assert_eq!(
        server.disconnect_event().await,
        format!("disconnect {sid} server disconnect")
    );
    assert_eq!(server.get(&sid).await.0, 400);
    assert_eq!(
        server.server.send(sid_typed, "x"),
        Err(engineio::server::SendError::UnknownSession)
    );
}

#[tokio::test]
async fn a_client_that_never_answers_pings_times_out() {
    let mut server = start(fast_heartbeat()).await;
    let (sid, _) = server.handshake().await;
    assert_eq!(server.get(&sid).await, (200, "2".to_owned()));
    assert_eq!(
        server.disconnect_event().await,
        format!("disconnect {sid} ping timeout")
    );
}

#[tokio::test]
async fn pongs_keep_a_polling_session_alive() {
    let mut server = start(fast_heartbeat()).await;
    let (sid, _) = server.handshake().await;
    for _ in 0..5 {
        assert_eq!(server.get(&sid).await, (200, "2".to_owned()));
        assert_eq!(server.post(&sid, "3").await, (200, "ok".to_owned()));
    }
    assert!(server.event().await.starts_with("connect"));
    assert!(
        server.events.try_recv().is_err(),
        "no disconnect while answering pings"
    );
}

#[tokio::test]
async fn text_with_the_record_separator_is_refused_on_polling() {
    let server = start(short()).await;
    let (sid, _) = server.handshake().await;
    let sid: Sid = sid.parse().unwrap();
    let refused = Err(engineio::server::SendError::SeparatorInText);
    assert_eq!(server.server.send(sid, "hi\u{1e}1"), refused);
    assert_eq!(
        server.server.socket(sid).unwrap().send("hi\u{1e}1"),
        refused
    );
    // Binary is never affected.
    server.server.send(sid, vec![0x1e_u8]).unwrap();
}

#[tokio::test]
async fn a_full_queue_refuses_sends() {
    let server = start(short().max_queue(2)).await;
    let (sid, _) = server.handshake().await;
    let sid: Sid = sid.parse().unwrap();
    server.server.send(sid, "a").unwrap();
    server.server.send(sid, "b").unwrap();
    assert_eq!(
        server.server.send(sid, "c"),
        Err(engineio::server::SendError::QueueFull { limit: 2 })
    );
}

#[tokio::test]
async fn cookie_is_set_on_the_handshake() {
    // HttpOnly by default, as the Node server's cookie.
    let server = start(short().cookie(CookieConfig::new("io"))).await;
    let response = http()
        .get(server.url("EIO=4&transport=polling"))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.text().await.unwrap();
    let json: Value = serde_json::from_str(&body[1..]).unwrap();
    assert_eq!(
        cookie,
        format!(
            "io={}; Path=/; SameSite=Lax; HttpOnly",
            json["sid"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn no_cookie_is_set_by_default() {
    let server = start(short()).await;
    let handshake = http()
        .get(server.url("EIO=4&transport=polling"))
        .send()
        .await
        .unwrap();
    assert!(handshake.headers().get("set-cookie").is_none());
    let body = handshake.text().await.unwrap();
    let json: Value = serde_json::from_str(&body[1..]).unwrap();
    let sid = json["sid"].as_str().unwrap();
    let poll = http().get(server.session_url(sid)).send();
    server.server.send(sid.parse().unwrap(), "x").unwrap();
    assert!(poll.await.unwrap().headers().get("set-cookie").is_none());
    let url = server
        .url("EIO=4&transport=websocket")
        .replace("http://", "ws://");
    let (_ws, response) = tokio_tungstenite::connect_async(&url).await.unwrap();
    assert!(response.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn large_poll_responses_are_compressed_as_asked() {
    use std::io::Read as _;
    let server = start(short()).await;
    let (sid, _) = server.handshake().await;
    let sid_typed: Sid = sid.parse().unwrap();
    let text = "z".repeat(5000);
    server.server.send(sid_typed, text.clone()).unwrap();
    let response = http()
        .get(server.session_url(&sid))
        .header("accept-encoding", "gzip;q=0.5, deflate")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "deflate");
    let bytes = response.bytes().await.unwrap();
    let mut body = String::new();
    flate2::read::ZlibDecoder::new(&bytes[..])
        .read_to_string(&mut body)
        .unwrap();
    assert_eq!(body, format!("4{text}"));
    // Below the threshold: not compressed.
    server.server.send(sid_typed, "small").unwrap();
    let response = http()
        .get(server.session_url(&sid))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("content-encoding").is_none());
    assert_eq!(response.text().await.unwrap(), "4small");
}

// ===== front doors =====

#[tokio::test]
async fn outside_the_engine_path_is_404_standalone_and_inner_service_with_axum() {
    let server = start(short()).await;
    let root = server.base.trim_end_matches("engine.io/").to_owned();
    let response = http().get(format!("{root}other")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.text().await.unwrap(), "Not Found");

    let engine = Server::builder().config(short().path("/rt")).build();
    let app = axum::Router::new()
        .route("/hello", axum::routing::get(|| async { "hello from axum" }))
        .layer(engine.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let hello = http()
        .get(format!("http://{addr}/hello"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(hello, "hello from axum");
    let body = http()
        .get(format!("http://{addr}/rt/?EIO=4&transport=polling"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.starts_with("0{\"sid\":"), "{body}");
    assert_eq!(engine.session_count(), 1);
}

#[tokio::test]
async fn the_path_works_without_its_trailing_slash_and_nested_under_a_prefix() {
    let server = start(short()).await;
    let no_slash = server.base.trim_end_matches('/').to_owned();
    let body = http()
        .get(format!("{no_slash}?EIO=4&transport=polling"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.starts_with("0{"), "{body}");

    // Mounted at /realtime in axum: axum strips the prefix before our service sees it.
    let engine = Server::builder().build();
    let app: axum::Router =
        axum::Router::new().nest_service("/realtime", engine.clone().into_service());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let body = http()
        .get(format!(
            "http://{addr}/realtime/engine.io/?EIO=4&transport=polling"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sid = serde_json::from_str::<Value>(&body[1..]).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    // The WebSocket upgrade works through the nesting too.
    let ws_url = format!("ws://{addr}/realtime/engine.io/?EIO=4&transport=websocket&sid={sid}");
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    use futures_util::{SinkExt as _, StreamExt as _};
    ws.send(tokio_tungstenite::tungstenite::Message::text("2probe"))
        .await
        .unwrap();
    let reply = ws.next().await.unwrap().unwrap();
    assert_eq!(
        reply,
        tokio_tungstenite::tungstenite::Message::text("3probe")
    );
}

#[tokio::test]
async fn shutdown_closes_every_session() {
    let mut server = start(short().close_timeout(Duration::from_millis(200))).await;
    let (sid, _) = server.handshake().await;
    server.server.shutdown().await;
    assert_eq!(
        server.disconnect_event().await,
        format!("disconnect {sid} server disconnect")
    );
    assert_eq!(server.server.session_count(), 0);
}
