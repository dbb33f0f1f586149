//! Fuzzes the server's request routing: any method, query string and
//! upgrade flag must route or give an error answer with a sensible status
//! and a JSON body, never panic.
#![no_main]

use engineio_proto::Transport;
use engineio_proto::server::route;
use libfuzzer_sys::fuzz_target;

const METHODS: [&str; 6] = ["GET", "POST", "OPTIONS", "PUT", "DELETE", "HEAD"];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(query) = std::str::from_utf8(rest) else {
        return;
    };
    let method = METHODS[usize::from(first) % METHODS.len()];
    let websocket = first & 0x80 != 0;
    let transports: &[Transport] = match first & 0x60 {
        0x20 => &[Transport::Polling],
        0x40 => &[Transport::WebSocket],
        _ => &[Transport::Polling, Transport::WebSocket],
    };
    if let Err(err) = route(method, query, websocket, transports) {
        assert!(matches!(err.status, 400 | 403), "{err:?}");
        let body: serde_json::Value = serde_json::from_str(&err.json_body()).expect("JSON body");
        assert!(body["message"].is_string());
    }
});
