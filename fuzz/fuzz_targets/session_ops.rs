//! Fuzzes the server session state machine with arbitrary sequences of
//! operations (sends, polls, posts, packets, upgrades, timers, closes) at
//! arbitrary times: it must never panic, never exceed its queue limit, never
//! put more than `max_poll_packets` packets in a poll response, and a
//! finished session must stay finished.
#![no_main]

use std::time::{Duration, Instant};

use engineio_proto::server::{Session, SessionConfig};
use engineio_proto::{DisconnectReason, Packet, RECORD_SEPARATOR, Transport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let start = Instant::now();
    let config = SessionConfig {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        max_poll_bytes: 64,
        max_poll_packets: 4,
        max_queue: 8,
        close_timeout: Duration::from_millis(500),
    };
    let transport = if data.first().is_some_and(|b| b & 1 == 1) {
        Transport::WebSocket
    } else {
        Transport::Polling
    };
    let mut session = Session::new(transport, config, start);
    let mut now = start;
    let mut finished = false;
    for chunk in data.chunks(2) {
        let op = chunk[0];
        let arg = chunk.get(1).copied().unwrap_or(0);
        now += Duration::from_millis(u64::from(arg) * 3);
        match op % 14 {
            0 => {
                let _ = session.send(Packet::message("x".repeat(usize::from(arg % 40))).into());
            }
            1 => {
                let _ = session.send(Packet::message(vec![arg; usize::from(arg % 20)]).into());
            }
            2 => {
                let _ = session.begin_poll(now);
            }
            3 => session.end_poll(),
            4 => {
                let _ = session.begin_post(now);
            }
            5 => session.end_post(),
            6 => {
                if let Some(body) = session.poll_payload() {
                    assert!(body.split(RECORD_SEPARATOR).count() <= 4, "{body:?}");
                }
            }
            7 => {
                let packet = match arg % 6 {
                    0 => Packet::pong(),
                    1 => Packet::ping(),
                    2 => Packet::Close,
                    3 => Packet::Noop,
                    4 => Packet::Upgrade,
                    _ => Packet::message("hi"),
                };
                let _ = session.receive(packet, now);
            }
            8 => {
                let _ = session.begin_upgrade();
            }
            9 => {
                let packet = match arg % 3 {
                    0 => Packet::Ping("probe".into()),
                    1 => Packet::Upgrade,
                    _ => Packet::Noop,
                };
                let _ = session.upgrade_packet(packet);
            }
            10 => session.abort_upgrade(),
            11 => {
                let _ = session.handle_timeout(now);
            }
            12 => {
                let _ = session.take_ws_packets();
            }
            _ => {
                let _ = session.close(DisconnectReason::ServerDisconnect, now);
            }
        }
        assert!(
            session.queued() <= 8 + 1,
            "queue grew to {}",
            session.queued()
        );
        if finished {
            assert!(session.is_finished());
        }
        finished = session.is_finished();
        if let Some(deadline) = session.next_deadline() {
            assert!(deadline >= start);
        }
    }
});
