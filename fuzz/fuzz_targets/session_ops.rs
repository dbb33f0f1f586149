//! Fuzzes the server session state machine with arbitrary sequences of
//! operations (sends, polls, posts, WebSocket frames, upgrades, dispatches,
//! timers, closes) at arbitrary times: it must never panic, never exceed its
//! queue or inbox limits, never put more than `max_poll_packets` packets in
//! a poll response, report the close and the forget at most once, dispatch
//! the disconnect at most once and only after the close, and a finished
//! session must stay finished.
#![no_main]

use std::time::{Duration, Instant};

use engineio_proto::server::{Dispatch, Session, SessionConfig, WsEnd, WsTransmit};
use engineio_proto::{DisconnectReason, Packet, RECORD_SEPARATOR, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let start = Instant::now();
    let config = SessionConfig {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        upgrade_timeout: Duration::from_millis(400),
        max_poll_wait: Duration::from_millis(500),
        max_poll_bytes: 64,
        max_poll_packets: 4,
        max_payload_bytes: 256,
        max_payload_packets: 6,
        max_queue: 8,
        max_inbox: 3,
        close_timeout: Duration::from_millis(500),
    };
    let transport = if data.first().is_some_and(|b| b & 1 == 1) {
        Transport::WebSocket
    } else {
        Transport::Polling
    };
    let mut session = Session::new(transport, config, start);
    let mut ws = session.websocket();
    let mut now = start;
    let mut finished = false;
    let (mut closes, mut forgets, mut disconnects, mut handling) = (0, 0, 0, 0usize);
    for chunk in data.chunks(2) {
        let op = chunk[0];
        let arg = chunk.get(1).copied().unwrap_or(0);
        now += Duration::from_millis(u64::from(arg) * 3);
        let packet = match arg % 7 {
            0 => Packet::pong(),
            1 => Packet::ping(),
            2 => Packet::Close,
            3 => Packet::Noop,
            4 => Packet::Upgrade,
            5 => Packet::Ping("probe".into()),
            _ => Packet::message("hi"),
        };
        match op % 16 {
            0 => {
                let _ = session.send(Packet::message("x".repeat(usize::from(arg % 40))).into());
            }
            1 => {
                let _ = session.send(Packet::message(vec![arg; usize::from(arg % 20)]).into());
            }
            2 => {
                let _ = session.begin_poll(now);
            }
            3 => session.poll_aborted(now),
            4 => {
                let content_type = (arg % 5 == 0).then_some("application/octet-stream");
                let _ = session.begin_post(now, content_type);
            }
            5 => {
                let body: Vec<u8> = chunk.iter().chain(b"\x1e4a\x1e3").copied().collect();
                let _ = session.post_payload(&body, now);
            }
            6 => {
                let _ = session.post_accepted();
            }
            7 => {
                if let Some(body) = session.poll_payload() {
                    assert!(body.split(RECORD_SEPARATOR).count() <= 4, "{body:?}");
                }
            }
            8 => {
                if let Some(id) = ws {
                    session.ws_receive(id, packet, now);
                }
            }
            9 => {
                if let Ok(id) = session.attach_websocket(now) {
                    ws = Some(id);
                }
            }
            10 => {
                if let Some(id) = ws {
                    let end = match arg % 4 {
                        0 => WsEnd::Closed,
                        1 => WsEnd::Failed,
                        2 => WsEnd::TooBig,
                        _ => WsEnd::Undecodable("x".into()),
                    };
                    let _ = session.ws_ended(id, end, now);
                }
            }
            11 => session.handle_timeout(now),
            12 => {
                if let Some(id) = ws
                    && let WsTransmit::Close(_) = session.ws_transmit(id)
                {
                    ws = None;
                }
            }
            13 => match session.next_dispatch() {
                Some(Dispatch::Message(_)) => handling += 1,
                Some(Dispatch::Disconnect(_)) => {
                    disconnects += 1;
                    assert!(session.closed().is_some());
                    assert_eq!(handling, 0, "disconnect before the messages were handled");
                }
                None => {}
            },
            14 => {
                if handling > 0 {
                    handling -= 1;
                    session.message_handled(now);
                }
            }
            _ => {
                let _ = session.close(DisconnectReason::ServerDisconnect, now);
            }
        }
        let events = session.take_events();
        closes += usize::from(events.closed.is_some());
        forgets += usize::from(events.forget);
        assert!(closes <= 1 && forgets <= 1 && disconnects <= 1);
        assert!(session.queued() <= 8 + 1, "queue grew to {}", session.queued());
        if finished {
            assert!(session.is_finished());
        }
        finished = session.is_finished();
        if let Some(deadline) = session.next_deadline() {
            assert!(deadline >= start);
        }
    }
});
