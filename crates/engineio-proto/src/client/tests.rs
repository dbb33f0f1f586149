//! Fake-clock tests of the client connection state machine.
//!
//! Time never passes by itself: every test starts at `t0 = Instant::now()`
//! and hands the connection `t0 + n ms` (the `at` of each test). The
//! [`Client`] harness drives a [`Connection`] as a runtime does (it loops
//! `poll_transmit` until `None`, and `poll_event` likewise) and fails a test
//! as soon as the connection breaks a rule that holds at every step: an
//! event after `Closed` (so `Closed` at most once), anything but WebSocket
//! writes and closes handed out once the connection is over, anything
//! handed out after that final batch, and anything about a WebSocket after
//! its `WsClose`.
//!
//! The server's open packet says: ping every 300 ms, within 200 ms (so the
//! watchdog is 500 ms); the configuration gives a probe 150 ms and a close
//! 500 ms.

use std::collections::HashSet;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;
use crate::{DisconnectReason, Frame, Handshake, Message, SendError, Transport};

/// A whole number of milliseconds.
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Short timers: a probe answered within 150 ms, a close posted within
/// 500 ms.
fn config() -> ConnectionConfig {
    ConnectionConfig {
        probe_timeout: ms(150),
        close_timeout: ms(500),
        ..ConnectionConfig::default()
    }
}

/// The server's handshake: ping every 300 ms, within 200 ms.
fn handshake(upgrades: &[&str], max_payload: u64) -> Handshake {
    Handshake::new(
        "sid-1",
        upgrades.iter().map(|u| (*u).to_owned()).collect(),
        ms(300),
        ms(200),
        max_payload,
    )
}

/// The open packet of [`handshake`].
fn open_packet(upgrades: &[&str], max_payload: u64) -> String {
    format!("0{}", handshake(upgrades, max_payload).to_json())
}

/// Packets joined into a polling payload.
fn payload(packets: &[&str]) -> String {
    packets.join("\u{1e}")
}

/// A text frame.
fn text(frame: &str) -> Frame {
    Frame::Text(frame.to_owned())
}

/// A POST of this body.
fn post(body: &str) -> Transmit {
    Transmit::Post(body.to_owned())
}

/// A write of these text frames, `messages` of them application messages.
fn write(ws: WsId, frames: &[&str], messages: usize) -> Transmit {
    Transmit::WsWrite {
        ws,
        frames: frames.iter().map(|f| text(f)).collect(),
        messages,
    }
}

/// A text message from the server.
fn msg(text: &str) -> Event {
    Event::Message(Message::from(text))
}

/// The single event of a close.
fn closed(reason: DisconnectReason) -> Vec<Event> {
    vec![Event::Closed(reason)]
}

/// The bytes 01 02 03 04 (`AQIDBA==` in base64).
fn binary() -> Bytes {
    Bytes::from_static(&[1, 2, 3, 4])
}

/// A connection driven as a runtime drives it, checking the rules that hold
/// at every step (see the module documentation).
#[derive(Debug)]
struct Client {
    conn: Connection,
    t0: Instant,
    /// The close reported so far.
    closed: Option<DisconnectReason>,
    /// Whether the transmits of the ended connection were handed out.
    finished: bool,
    /// The WebSockets closed so far.
    closed_ws: HashSet<WsId>,
}

impl Deref for Client {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl DerefMut for Client {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl Client {
    /// A new connection, and the instant `n` ms after its start.
    fn new(config: ConnectionConfig) -> (Self, impl Fn(u64) -> Instant + Copy + use<>) {
        let t0 = Instant::now();
        let client = Self {
            conn: Connection::new(config),
            t0,
            closed: None,
            finished: false,
            closed_ws: HashSet::new(),
        };
        (client, move |n| t0 + ms(n))
    }

    /// Everything the runtime must do now: `poll_transmit` until `None`.
    fn drain(&mut self) -> Vec<Transmit> {
        let over = self.conn.is_closed();
        let mut out = Vec::new();
        while let Some(transmit) = self.conn.poll_transmit() {
            let ws = match &transmit {
                Transmit::OpenWebSocket(ws)
                | Transmit::OpenWebTransport(ws)
                | Transmit::WsWrite { ws, .. } => Some(*ws),
                Transmit::WsClose(ws) => Some(*ws),
                Transmit::Get | Transmit::Post(_) => None,
            };
            if let Some(ws) = ws {
                assert!(
                    !self.closed_ws.contains(&ws),
                    "{transmit:?} about a WebSocket already closed"
                );
            }
            if let Transmit::WsClose(ws) = &transmit {
                self.closed_ws.insert(*ws);
            }
            out.push(transmit);
            assert!(out.len() < 1000, "poll_transmit never returns None");
        }
        assert!(
            !self.finished || out.is_empty(),
            "transmitted after the final WsCloses: {out:?}"
        );
        if over {
            assert!(
                out.iter()
                    .all(|t| matches!(t, Transmit::WsWrite { .. } | Transmit::WsClose(_))),
                "an ended connection may only finish its WebSockets: {out:?}"
            );
            self.finished = true;
        }
        out
    }

    /// What happened: `poll_event` until `None`.
    fn events(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        while let Some(event) = self.conn.poll_event() {
            assert!(
                self.closed.is_none(),
                "{event:?} reported after Closed({:?})",
                self.closed
            );
            if let Event::Closed(reason) = event {
                self.closed = Some(reason);
            }
            out.push(event);
        }
        out
    }

    /// The instant `n` ms after the start.
    fn at(&self, n: u64) -> Instant {
        self.t0 + ms(n)
    }

    /// The runtime's timer fires at the connection's next deadline.
    fn fire(&mut self) -> Instant {
        let deadline = self.conn.next_deadline().expect("a deadline is armed");
        self.conn.handle_timeout(deadline);
        deadline
    }

    /// The connection is over and its last transmits were taken: every
    /// later input is ignored (no event, no transmit, no deadline).
    fn assert_inert(&mut self) {
        let far = self.at(1_000_000);
        let inputs: [&dyn Fn(&mut Connection); 12] = [
            &|c| c.handle_get(&[], far),
            &|c| c.handle_get(b"4late\x1e2\x1e1", far),
            &|c| c.get_failed(),
            &|c| c.handle_post(),
            &|c| c.post_failed(),
            &|c| c.handle_timeout(far),
            &|c| c.close(far),
            &|c| c.abort(),
            &|c| c.written(3),
            &|c| assert_eq!(c.send("late".into()), Err(SendError::Closed)),
            &|c| assert_eq!(c.send("a\u{1e}b".into()), Err(SendError::Closed)),
            &|c| assert_eq!(c.next_deadline(), None),
        ];
        for input in inputs {
            input(&mut self.conn);
            assert_eq!(self.events(), []);
            assert_eq!(self.drain(), []);
        }
        assert!(self.is_closed() && !self.is_open());
        assert_eq!(self.queued(), 0);
    }
}

/// A connection whose handshake GET was taken and answered at `t0` with
/// `body`.
fn handshake_with(
    config: ConnectionConfig,
    body: &str,
) -> (Client, impl Fn(u64) -> Instant + Copy + use<>) {
    let (mut c, at) = Client::new(config);
    assert_eq!(c.drain(), [Transmit::Get]);
    assert_eq!(c.sid(), None);
    assert_eq!(c.next_deadline(), None);
    c.handle_get(body.as_bytes(), at(0));
    (c, at)
}

/// A session open over polling at `t0` (no upgrade offered), its first long
/// poll in flight.
fn polling(
    config: ConnectionConfig,
    max_payload: u64,
) -> (Client, impl Fn(u64) -> Instant + Copy + use<>) {
    let (mut c, at) = handshake_with(config, &open_packet(&[], max_payload));
    assert!(matches!(c.events()[..], [Event::Opened(_)]));
    assert_eq!(c.drain(), [Transmit::Get]);
    (c, at)
}

/// A session open over polling at `t0` with the WebSocket offered: the probe
/// opened at 10 ms and sent `2probe` (its deadline is 160 ms); the first
/// long poll is in flight.
fn probing() -> (Client, WsId, impl Fn(u64) -> Instant + Copy + use<>) {
    probing_with(config())
}

/// [`probing`] with this configuration.
fn probing_with(
    config: ConnectionConfig,
) -> (Client, WsId, impl Fn(u64) -> Instant + Copy + use<>) {
    let (mut c, at) = handshake_with(config, &open_packet(&["websocket"], 1_000_000));
    assert!(matches!(c.events()[..], [Event::Opened(_)]));
    let transmits = c.drain();
    let [Transmit::OpenWebSocket(probe), Transmit::Get] = transmits[..] else {
        panic!("expected a probe and the first long poll, got {transmits:?}");
    };
    assert_eq!(
        c.next_deadline(),
        Some(at(500)),
        "no probe timer before it opens"
    );
    c.ws_opened(probe, at(10));
    assert_eq!(c.drain(), [write(probe, &["2probe"], 0)]);
    assert_eq!(c.next_deadline(), Some(at(160)));
    assert_eq!(c.events(), []);
    assert_eq!(c.transport(), Transport::Polling);
    (c, probe, at)
}

/// A session upgraded to WebSocket at 30 ms (`3probe` at 20 ms, the long poll
/// answered with a noop at 30 ms), nothing queued.
fn upgraded() -> (Client, WsId, impl Fn(u64) -> Instant + Copy + use<>) {
    upgraded_with(config())
}

/// [`upgraded`] with this configuration.
fn upgraded_with(
    config: ConnectionConfig,
) -> (Client, WsId, impl Fn(u64) -> Instant + Copy + use<>) {
    let (mut c, ws, at) = probing_with(config);
    c.handle_ws_frame(ws, text("3probe"), at(20));
    assert_eq!(c.drain(), [], "polling pauses while the GET is in flight");
    c.handle_get(b"6", at(30));
    assert_eq!(c.drain(), [write(ws, &["5"], 0)]);
    assert_eq!(c.events(), [Event::Upgraded(Transport::WebSocket)]);
    assert_eq!(c.transport(), Transport::WebSocket);
    assert_eq!(c.next_deadline(), Some(at(500)));
    (c, ws, at)
}

/// A session opened over WebSocket only (polling disabled) at 5 ms.
fn websocket_only() -> (Client, WsId, impl Fn(u64) -> Instant + Copy + use<>) {
    let (mut c, at) = Client::new(ConnectionConfig {
        polling: false,
        ..config()
    });
    let transmits = c.drain();
    let [Transmit::OpenWebSocket(ws)] = transmits[..] else {
        panic!("expected the handshake WebSocket, got {transmits:?}");
    };
    assert_eq!(c.transport(), Transport::WebSocket);
    c.ws_opened(ws, at(1));
    assert_eq!(c.drain(), [], "no probe on the handshake WebSocket");
    assert_eq!(c.next_deadline(), None);
    c.handle_ws_frame(ws, text(&open_packet(&[], 1_000_000)), at(5));
    assert_eq!(c.events(), [Event::Opened(handshake(&[], 1_000_000))]);
    assert_eq!(c.drain(), []);
    (c, ws, at)
}

// ---------------------------------------------------------------------------
// Handshake
// ---------------------------------------------------------------------------

#[test]
fn a_polling_handshake_opens_with_the_server_parameters_then_long_polls() {
    let (mut c, at) = handshake_with(config(), &open_packet(&[], 1_000));
    assert_eq!(c.events(), [Event::Opened(handshake(&[], 1_000))]);
    assert!(c.is_open() && !c.is_closed());
    assert_eq!(c.sid(), Some("sid-1"));
    assert_eq!(c.handshake(), Some(&handshake(&[], 1_000)));
    assert_eq!(c.transport(), Transport::Polling);
    assert_eq!(c.failure(), None);
    assert_eq!(c.next_deadline(), Some(at(500)));
    assert_eq!(c.drain(), [Transmit::Get]);
    assert_eq!(c.drain(), [], "one GET in flight");
}

#[test]
fn unknown_fields_of_the_open_packet_are_ignored() {
    let body = r#"0{"sid":"x","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":5,"extra":{"a":[1]}}"#;
    let (mut c, _) = handshake_with(config(), body);
    assert!(matches!(c.events()[..], [Event::Opened(_)]));
    assert_eq!(c.sid(), Some("x"));
}

#[test]
fn packets_that_come_with_the_open_packet_are_delivered_after_opened() {
    let open = open_packet(&[], 1_000_000);
    let body = payload(&[&open, "4hello", "bAQIDBA==", "6", "2", "4world"]);
    let (mut c, at) = handshake_with(config(), &body);
    assert_eq!(
        c.events(),
        [
            Event::Opened(handshake(&[], 1_000_000)),
            msg("hello"),
            Event::Message(Message::Binary(binary())),
            msg("world"),
        ]
    );
    // The ping that came along is answered, and re-armed the watchdog (at
    // the same instant).
    assert_eq!(c.drain(), [post("3"), Transmit::Get]);
    assert_eq!(c.next_deadline(), Some(at(500)));
}

#[test]
fn a_close_packet_with_the_open_packet_opens_then_closes() {
    let body = payload(&[&open_packet(&[], 0), "4bye", "1", "4never"]);
    let (mut c, _) = handshake_with(config(), &body);
    assert_eq!(
        c.events(),
        [
            Event::Opened(handshake(&[], 0)),
            msg("bye"),
            Event::Closed(DisconnectReason::ServerDisconnect),
        ]
    );
    assert_eq!(c.failure(), None);
    assert_eq!(c.drain(), []);
    c.assert_inert();
}

#[test]
fn a_websocket_only_handshake_when_polling_is_disabled() {
    let (mut c, ws, at) = websocket_only();
    assert_eq!(c.sid(), Some("sid-1"));
    assert_eq!(c.transport(), Transport::WebSocket);
    assert_eq!(c.next_deadline(), Some(at(505)));

    assert_eq!(c.send("a".into()), Ok(()));
    assert_eq!(
        c.send("b\u{1e}c".into()),
        Ok(()),
        "no separator issue on WebSocket"
    );
    assert_eq!(c.drain(), [write(ws, &["4a", "4b\u{1e}c"], 2)]);
    c.written(2);
    assert_eq!(c.queued(), 0);

    c.handle_ws_frame(ws, text("2"), at(400));
    assert_eq!(c.drain(), [write(ws, &["3"], 0)]);
    assert_eq!(c.next_deadline(), Some(at(900)));
    c.handle_ws_frame(ws, text("4hi"), at(410));
    c.handle_ws_frame(ws, Frame::Binary(binary()), at(420));
    assert_eq!(
        c.events(),
        [msg("hi"), Event::Message(Message::Binary(binary()))]
    );
    assert_eq!(c.drain(), [], "never any polling");
}

#[test]
fn a_websocket_handshake_never_probes_even_when_offered() {
    let (mut c, at) = Client::new(ConnectionConfig {
        polling: false,
        ..config()
    });
    let transmits = c.drain();
    let [Transmit::OpenWebSocket(ws)] = transmits[..] else {
        panic!("{transmits:?}");
    };
    c.ws_opened(ws, at(0));
    c.handle_ws_frame(ws, text(&open_packet(&["websocket"], 0)), at(0));
    assert!(matches!(c.events()[..], [Event::Opened(_)]));
    assert_eq!(c.drain(), []);
    assert_eq!(c.next_deadline(), Some(at(500)));
}

#[test]
fn malformed_open_packets_fail_the_handshake_and_say_why() {
    let bodies: &[&[u8]] = &[
        b"0not json",
        b"0",
        b"0{",
        br#"0["sid-1",[],300,200,1000]"#,
        br#"0"sid-1""#,
        br#"0{"upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1}"#,
        br#"0{"sid":"s","pingInterval":300,"pingTimeout":200,"maxPayload":1}"#,
        br#"0{"sid":"s","upgrades":[],"pingTimeout":200,"maxPayload":1}"#,
        br#"0{"sid":"s","upgrades":[],"pingInterval":300,"maxPayload":1}"#,
        br#"0{"sid":1,"upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1}"#,
        br#"0{"sid":"s","upgrades":"websocket","pingInterval":300,"pingTimeout":200,"maxPayload":1}"#,
        br#"0{"sid":"s","upgrades":[1],"pingInterval":300,"pingTimeout":200,"maxPayload":1}"#,
        br#"0{"sid":"s","upgrades":[],"pingInterval":"300","pingTimeout":200,"maxPayload":1}"#,
        br#"0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":-200,"maxPayload":1}"#,
        br#"0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":"1"}"#,
        b"4hello",
        b"1",
        b"2",
        b"6",
        b"bAQIDBA==",
        b"",
        b"9",
        b"\xff\xfe",
    ];
    for body in bodies {
        let (mut c, _) = Client::new(config());
        assert_eq!(c.drain(), [Transmit::Get]);
        let now = c.at(0);
        c.handle_get(body, now);
        let shown = String::from_utf8_lossy(body);
        assert_eq!(
            c.events(),
            closed(DisconnectReason::TransportError),
            "body {shown:?}"
        );
        let failure = c
            .failure()
            .unwrap_or_else(|| panic!("no failure for {shown:?}"));
        assert!(!failure.is_empty());
        if body.first() == Some(&b'0') || body.first() == Some(&b'4') {
            assert!(failure.contains("open packet"), "{shown:?}: {failure}");
        }
        assert!(c.is_closed() && !c.is_open(), "{shown:?}");
        assert_eq!(c.sid(), None);
        assert_eq!(c.handshake(), None);
        assert_eq!(c.drain(), [], "{shown:?}");
        c.assert_inert();
    }
}

#[test]
fn an_open_packet_without_max_payload_is_accepted() {
    let body = r#"0{"sid":"old","upgrades":[],"pingInterval":300,"pingTimeout":200}"#;
    let (mut c, _) = handshake_with(config(), body);
    assert!(matches!(c.events()[..], [Event::Opened(_)]));
    assert_eq!(c.handshake().map(|h| h.max_payload), Some(0));
}

#[test]
fn a_bad_open_packet_followed_by_good_packets_fails_the_handshake() {
    let body = payload(&[&open_packet(&[], 0), "4fine", "9"]);
    let (mut c, _) = handshake_with(config(), &body);
    assert_eq!(c.events(), closed(DisconnectReason::TransportError));
    assert!(c.failure().is_some());
}

#[test]
fn malformed_first_frames_fail_a_websocket_handshake_and_close_it() {
    let frames = [
        Frame::Binary(binary()),
        text("4hello"),
        text("0{nope"),
        text(r#"0["s",[],1,2,3]"#),
        text("3probe"),
        text(""),
        text("x"),
    ];
    for frame in frames {
        let (mut c, at) = Client::new(ConnectionConfig {
            polling: false,
            ..config()
        });
        let transmits = c.drain();
        let [Transmit::OpenWebSocket(ws)] = transmits[..] else {
            panic!("{transmits:?}");
        };
        c.ws_opened(ws, at(0));
        let shown = format!("{frame:?}");
        c.handle_ws_frame(ws, frame, at(1));
        assert_eq!(
            c.events(),
            closed(DisconnectReason::TransportError),
            "{shown}"
        );
        assert!(c.failure().is_some_and(|f| !f.is_empty()), "{shown}");
        assert_eq!(c.drain(), [Transmit::WsClose(ws)], "{shown}");
        c.assert_inert();
        c.handle_ws_frame(ws, text(&open_packet(&[], 0)), at(2));
        c.ws_ended(ws, true);
        assert_eq!(c.events(), []);
        assert_eq!(c.drain(), []);
    }
}

#[test]
fn a_handshake_websocket_that_fails_to_open_or_ends_is_a_transport_error() {
    for how in ["open failed", "ended cleanly", "ended uncleanly"] {
        let (mut c, at) = Client::new(ConnectionConfig {
            polling: false,
            ..config()
        });
        let transmits = c.drain();
        let [Transmit::OpenWebSocket(ws)] = transmits[..] else {
            panic!("{transmits:?}");
        };
        match how {
            "open failed" => c.ws_open_failed(ws),
            "ended cleanly" => {
                c.ws_opened(ws, at(0));
                c.ws_ended(ws, true);
            }
            _ => {
                c.ws_opened(ws, at(0));
                c.ws_ended(ws, false);
            }
        }
        assert_eq!(
            c.events(),
            closed(DisconnectReason::TransportError),
            "{how}"
        );
        assert_eq!(
            c.failure(),
            None,
            "a network failure, not the protocol: {how}"
        );
        assert_eq!(c.drain(), [], "the WebSocket is gone already: {how}");
        c.assert_inert();
    }
}

#[test]
fn no_transport_enabled_fails_at_once() {
    let (mut c, _) = Client::new(ConnectionConfig {
        polling: false,
        websocket: false,
        ..config()
    });
    assert_eq!(c.events(), closed(DisconnectReason::TransportError));
    assert!(c.failure().is_some_and(|f| f.contains("transport")));
    assert_eq!(c.drain(), []);
    c.assert_inert();
}

#[test]
fn the_handshake_get_failing_is_a_transport_error_without_a_failure_text() {
    let (mut c, _) = Client::new(config());
    assert_eq!(c.drain(), [Transmit::Get]);
    c.get_failed();
    assert_eq!(c.events(), closed(DisconnectReason::TransportError));
    assert_eq!(c.failure(), None);
    assert_eq!(c.drain(), []);
    c.assert_inert();
}

#[test]
fn only_a_listed_websocket_is_probed() {
    let cases: [(&[&str], bool); 6] = [
        (&[], false),
        (&["webtransport"], false),
        (&["polling"], false),
        (&["websockets", "WebSocket?"], false),
        (&["webtransport", "websocket"], true),
        (&["websocket"], true),
    ];
    for (upgrades, probed) in cases {
        let (mut c, _) = handshake_with(config(), &open_packet(upgrades, 0));
        assert!(matches!(c.events()[..], [Event::Opened(_)]));
        let transmits = c.drain();
        if probed {
            assert!(
                matches!(transmits[..], [Transmit::OpenWebSocket(_), Transmit::Get]),
                "{upgrades:?}: {transmits:?}"
            );
        } else {
            assert_eq!(transmits, [Transmit::Get], "{upgrades:?}");
        }
    }
}

#[test]
fn websocket_disabled_never_probes() {
    let config = ConnectionConfig {
        websocket: false,
        ..config()
    };
    let (mut c, at) = handshake_with(config, &open_packet(&["websocket"], 0));
    assert!(matches!(c.events()[..], [Event::Opened(_)]));
    assert_eq!(c.drain(), [Transmit::Get]);
    assert_eq!(c.next_deadline(), Some(at(500)));
    c.handle_get(b"2", at(100));
    assert_eq!(c.drain(), [post("3"), Transmit::Get]);
    assert_eq!(c.transport(), Transport::Polling);
    assert_eq!(c.send("a\u{1e}b".into()), Err(SendError::SeparatorInText));
}

#[test]
fn close_during_the_polling_handshake_ends_at_once_and_ignores_the_late_answer() {
    let (mut c, at) = Client::new(config());
    assert_eq!(c.drain(), [Transmit::Get]);
    c.close(at(10));
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    assert_eq!(c.failure(), None);
    assert_eq!(c.drain(), [], "no close packet without a session");
    c.handle_get(open_packet(&["websocket"], 0).as_bytes(), at(20));
    assert_eq!(c.sid(), None);
    c.assert_inert();
}

#[test]
fn close_or_abort_during_a_websocket_handshake_closes_the_websocket() {
    for abort in [false, true] {
        let (mut c, at) = Client::new(ConnectionConfig {
            polling: false,
            ..config()
        });
        let transmits = c.drain();
        let [Transmit::OpenWebSocket(ws)] = transmits[..] else {
            panic!("{transmits:?}");
        };
        if abort {
            c.abort();
        } else {
            c.close(at(0));
        }
        assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
        assert_eq!(c.drain(), [Transmit::WsClose(ws)], "abort: {abort}");
        c.ws_opened(ws, at(1));
        c.handle_ws_frame(ws, text(&open_packet(&[], 0)), at(2));
        c.assert_inert();
    }
}

#[test]

fn close_before_the_handshake_get_is_taken_sends_nothing() {
    let (mut c, at) = Client::new(config());
    c.close(at(0));
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    assert_eq!(c.drain(), []);
}

// ---------------------------------------------------------------------------
// Heartbeat watchdog
// ---------------------------------------------------------------------------

#[test]
fn no_ping_within_interval_plus_timeout_is_a_ping_timeout_exactly_at_the_deadline() {
    let (mut c, at) = polling(config(), 0);
    assert_eq!(c.next_deadline(), Some(at(500)));
    c.handle_timeout(at(0));
    c.handle_timeout(at(499));
    assert_eq!(c.events(), []);
    assert!(c.is_open());
    assert_eq!(c.fire(), at(500));
    assert_eq!(c.events(), closed(DisconnectReason::PingTimeout));
    assert_eq!(c.drain(), [], "no close packet to a silent server");
    assert_eq!(c.next_deadline(), None);
    c.assert_inert();
}

#[test]
fn a_ping_rearms_the_watchdog_and_is_answered_by_a_post() {
    let (mut c, at) = polling(config(), 0);
    c.handle_get(b"2", at(400));
    assert_eq!(c.drain(), [post("3"), Transmit::Get]);
    assert_eq!(c.next_deadline(), Some(at(900)));
    c.handle_timeout(at(500));
    c.handle_timeout(at(899));
    assert_eq!(c.events(), []);
    c.handle_post();

    // A ping inside a payload of messages counts too.
    c.handle_get(payload(&["4a", "2", "4b"]).as_bytes(), at(800));
    assert_eq!(c.events(), [msg("a"), msg("b")]);
    assert_eq!(c.drain(), [post("3"), Transmit::Get]);
    assert_eq!(c.next_deadline(), Some(at(1300)));
    c.handle_timeout(at(1299));
    assert_eq!(c.events(), []);
    c.handle_timeout(at(1300));
    assert_eq!(c.events(), closed(DisconnectReason::PingTimeout));
    c.assert_inert();
}

#[test]
fn only_pings_rearm_the_watchdog() {
    let (mut c, at) = polling(config(), 0);
    for (n, body) in [(100, "4msg"), (200, "6"), (300, "3"), (400, "5")] {
        c.handle_get(body.as_bytes(), at(n));
        assert_eq!(c.drain(), [Transmit::Get], "{body}");
        assert_eq!(c.next_deadline(), Some(at(500)), "{body}");
    }
    c.handle_timeout(at(500));
    assert_eq!(
        c.events(),
        [msg("msg"), Event::Closed(DisconnectReason::PingTimeout)]
    );
}

#[test]
fn a_pong_echoes_the_ping_data_and_waits_for_the_post_in_flight() {
    let (mut c, at) = polling(config(), 0);
    c.send("first".into()).unwrap();
    assert_eq!(c.drain(), [post("4first")]);
    c.handle_get(b"2", at(100));
    assert_eq!(c.drain(), [Transmit::Get], "the pong waits for the POST");
    c.handle_get(b"2data", at(200));
    assert_eq!(c.drain(), [Transmit::Get]);
    c.handle_post();
    assert_eq!(c.drain(), [post(&payload(&["3", "3data"]))]);
    assert_eq!(c.next_deadline(), Some(at(700)));
}

#[test]
fn after_the_upgrade_pongs_go_over_the_websocket() {
    let (mut c, ws, at) = upgraded();
    c.handle_ws_frame(ws, text("2"), at(400));
    assert_eq!(c.drain(), [write(ws, &["3"], 0)]);
    assert_eq!(c.next_deadline(), Some(at(900)));
    c.handle_timeout(at(899));
    assert_eq!(c.events(), []);
    assert_eq!(c.fire(), at(900));
    assert_eq!(c.events(), closed(DisconnectReason::PingTimeout));
    assert_eq!(c.drain(), [Transmit::WsClose(ws)], "no close packet");
    c.assert_inert();
}

#[test]
fn a_ping_timeout_on_a_websocket_only_session_closes_the_websocket() {
    let (mut c, ws, at) = websocket_only();
    c.handle_timeout(at(504));
    assert_eq!(c.events(), []);
    c.handle_timeout(at(505));
    assert_eq!(c.events(), closed(DisconnectReason::PingTimeout));
    assert_eq!(c.drain(), [Transmit::WsClose(ws)]);
    c.ws_ended(ws, true);
    c.assert_inert();
}

#[test]
fn a_ping_timeout_while_probing_closes_the_probe() {
    let (mut c, probe, at) = probing();
    c.handle_ws_frame(probe, text("3probe"), at(20));
    c.handle_timeout(at(500));
    assert_eq!(c.events(), closed(DisconnectReason::PingTimeout));
    assert_eq!(c.drain(), [Transmit::WsClose(probe)]);
    c.assert_inert();
}

// ---------------------------------------------------------------------------
// Polling
// ---------------------------------------------------------------------------

#[test]
fn one_get_and_at_most_one_post_in_flight_and_messages_in_order() {
    let (mut c, at) = polling(config(), 0);
    assert_eq!(c.drain(), []);
    c.send("a".into()).unwrap();
    assert_eq!(c.drain(), [post("4a")]);
    c.send("b".into()).unwrap();
    c.send(Message::Binary(binary())).unwrap();
    c.send("c".into()).unwrap();
    assert_eq!(c.drain(), [], "a POST is in flight");
    assert_eq!(c.queued(), 3);

    c.handle_get(payload(&["4x", "4y"]).as_bytes(), at(10));
    assert_eq!(c.events(), [msg("x"), msg("y")]);
    assert_eq!(c.drain(), [Transmit::Get]);
    c.handle_get(b"4z", at(20));
    assert_eq!(c.drain(), [Transmit::Get]);
    assert_eq!(c.events(), [msg("z")]);

    c.handle_post();
    assert_eq!(c.drain(), [post(&payload(&["4b", "bAQIDBA==", "4c"]))]);
    assert_eq!(c.queued(), 0);
    c.handle_post();
    assert_eq!(c.drain(), []);
    c.handle_post(); // a stray answer changes nothing
    assert_eq!(c.drain(), []);
    assert!(c.is_open());
}

#[test]
fn a_poll_of_binary_and_empty_messages_is_delivered() {
    let (mut c, at) = polling(config(), 0);
    c.handle_get(payload(&["4", "b", "bAQIDBA", "4é"]).as_bytes(), at(10));
    assert_eq!(
        c.events(),
        [
            msg(""),
            Event::Message(Message::Binary(Bytes::new())),
            Event::Message(Message::Binary(binary())),
            msg("é"),
        ]
    );
}

#[test]
fn post_batches_respect_max_payload_and_a_lone_larger_packet_goes_alone() {
    let (mut c, _) = polling(config(), 10);
    // Hold the POSTs back with one in flight, to let the queue fill.
    c.send("0".into()).unwrap();
    assert_eq!(c.drain(), [post("40")]);
    for m in [
        "aaaa",
        "bbb",
        "c",
        "this one is too long",
        "d",
        "e",
        "fffffffff",
    ] {
        c.send(m.into()).unwrap();
    }
    let mut posts = Vec::new();
    for _ in 0..10 {
        c.handle_post();
        match &c.drain()[..] {
            [] => break,
            [Transmit::Post(body)] => posts.push(body.clone()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        posts,
        [
            payload(&["4aaaa", "4bbb"]), // exactly 10 bytes
            payload(&["4c"]),
            payload(&["4this one is too long"]),
            payload(&["4d", "4e"]),
            payload(&["4fffffffff"]), // exactly 10 bytes alone
        ]
    );
    assert!(posts[..2].iter().all(|p| p.len() <= 10));
    assert_eq!(c.queued(), 0);
}

#[test]
fn max_payload_counts_base64_and_utf8_bytes() {
    let (mut c, _) = polling(config(), 12);
    c.send("0".into()).unwrap();
    assert_eq!(c.drain(), [post("40")]);
    c.send(Message::Binary(binary())).unwrap(); // bAQIDBA== (9 bytes)
    c.send("é".into()).unwrap(); // 4é (3 bytes): 9 + 1 + 3 = 13 > 12
    c.send("x".into()).unwrap();
    c.handle_post();
    assert_eq!(c.drain(), [post("bAQIDBA==")]);
    c.handle_post();
    assert_eq!(c.drain(), [post(&payload(&["4é", "4x"]))]);
}

#[test]
fn max_payload_zero_or_absent_means_unlimited() {
    let absent = r#"0{"sid":"old","upgrades":[],"pingInterval":300,"pingTimeout":200}"#;
    for body in [open_packet(&[], 0), absent.to_owned()] {
        let (mut c, _) = handshake_with(config(), &body);
        assert!(matches!(c.events()[..], [Event::Opened(_)]));
        assert_eq!(c.drain(), [Transmit::Get]);
        c.send("first".into()).unwrap();
        assert_eq!(c.drain(), [post("4first")]);
        let big = "x".repeat(10_000);
        for _ in 0..200 {
            c.send(big.as_str().into()).unwrap();
        }
        c.handle_post();
        let transmits = c.drain();
        let [Transmit::Post(body)] = &transmits[..] else {
            panic!("expected one POST");
        };
        assert_eq!(body.split('\u{1e}').count(), 200);
        assert_eq!(c.queued(), 0);
    }
}

#[test]
fn the_queue_limit_counts_unwritten_messages_only() {
    let (mut c, at) = polling(
        ConnectionConfig {
            max_queue: 2,
            ..config()
        },
        0,
    );
    c.send("a".into()).unwrap();
    c.send("b".into()).unwrap();
    assert_eq!(c.queued(), 2);
    assert_eq!(c.send("c".into()), Err(SendError::QueueFull { limit: 2 }));
    // Pongs never count, nor are they refused.
    c.handle_get(b"2", at(10));
    assert_eq!(
        c.drain(),
        [post(&payload(&["4a", "4b", "3"])), Transmit::Get]
    );
    assert_eq!(c.queued(), 0, "handed to a POST: no longer counted");
    c.send("c".into()).unwrap();
    c.send("d".into()).unwrap();
    assert_eq!(c.send("e".into()), Err(SendError::QueueFull { limit: 2 }));
    c.written(0);
    assert_eq!(c.queued(), 2);
    c.handle_post();
    assert_eq!(c.drain(), [post(&payload(&["4c", "4d"]))]);
    assert_eq!(c.queued(), 0);
    c.written(5); // saturates
    assert_eq!(c.queued(), 0);
}

#[test]
fn a_zero_queue_limit_refuses_every_message() {
    let (mut c, _) = polling(
        ConnectionConfig {
            max_queue: 0,
            ..config()
        },
        0,
    );
    assert_eq!(c.send("a".into()), Err(SendError::QueueFull { limit: 0 }));
    assert_eq!(c.drain(), []);
}

#[test]
fn after_the_upgrade_messages_count_until_written() {
    let (mut c, ws, _) = upgraded_with(ConnectionConfig {
        max_queue: 2,
        ..config()
    });
    c.send("a".into()).unwrap();
    c.send(Message::Binary(binary())).unwrap();
    assert_eq!(c.send("c".into()), Err(SendError::QueueFull { limit: 2 }));
    assert_eq!(
        c.drain(),
        [Transmit::WsWrite {
            ws,
            frames: vec![text("4a"), Frame::Binary(binary())],
            messages: 2,
        }]
    );
    assert_eq!(c.queued(), 2, "handed over, not yet written");
    assert_eq!(c.send("c".into()), Err(SendError::QueueFull { limit: 2 }));
    c.written(1);
    assert_eq!(c.queued(), 1);
    c.send("c".into()).unwrap();
    c.written(2);
    assert_eq!(c.queued(), 0);
    assert_eq!(c.drain(), [write(ws, &["4c"], 1)]);
}

#[test]
fn text_with_the_separator_is_refused_on_polling_and_accepted_after_the_upgrade() {
    let (mut c, ws, at) = probing();
    assert_eq!(c.send("a\u{1e}b".into()), Err(SendError::SeparatorInText));
    assert_eq!(c.send(Message::Binary(Bytes::from_static(&[0x1e]))), Ok(()));
    assert_eq!(c.drain(), [post("bHg==")]);
    c.handle_post();
    c.handle_ws_frame(ws, text("3probe"), at(20));
    assert_eq!(
        c.send("a\u{1e}b".into()),
        Err(SendError::SeparatorInText),
        "still polling while paused: the upgrade may yet fail"
    );
    c.handle_get(b"6", at(30));
    assert_eq!(c.drain(), [write(ws, &["5"], 0)]);
    assert_eq!(c.queued(), 0);
    assert_eq!(c.send("a\u{1e}b".into()), Ok(()));
    assert_eq!(c.drain(), [write(ws, &["4a\u{1e}b"], 1)]);
}

#[test]
fn send_before_open_while_closing_and_after_close_is_refused() {
    let (mut c, at) = Client::new(config());
    assert_eq!(c.send("early".into()), Err(SendError::Closed));
    assert_eq!(c.drain(), [Transmit::Get]);
    assert_eq!(c.send("early".into()), Err(SendError::Closed));
    c.handle_get(open_packet(&[], 0).as_bytes(), at(0));
    assert_eq!(c.send("ok".into()), Ok(()));
    c.close(at(10));
    assert!(!c.is_open() && !c.is_closed());
    assert_eq!(c.send("closing".into()), Err(SendError::Closed));
    assert_eq!(
        c.drain(),
        [post(&payload(&["4ok", "1"]))],
        "no GET while closing"
    );
    c.handle_post();
    assert_eq!(c.send("closed".into()), Err(SendError::Closed));
    assert!(
        c.events()
            .ends_with(&closed(DisconnectReason::ClientDisconnect))
    );
}

// ---------------------------------------------------------------------------
// Upgrade
// ---------------------------------------------------------------------------

#[test]
fn an_upgrade_probes_pauses_polling_and_moves_the_queue_once() {
    let (mut c, ws, at) = probing();

    // Polling goes on while the probe waits for its answer.
    c.send("a".into()).unwrap();
    assert_eq!(c.drain(), [post("4a")]);
    c.handle_get(b"4x", at(15));
    assert_eq!(c.drain(), [Transmit::Get]);

    c.handle_ws_frame(ws, text("3probe"), at(20));
    assert_eq!(c.next_deadline(), Some(at(500)), "the probe timer is off");
    assert_eq!(c.events(), [msg("x")]);
    c.send("b".into()).unwrap();
    c.send(Message::Binary(binary())).unwrap();
    assert_eq!(c.drain(), [], "paused: no new GET or POST");

    c.handle_post();
    assert_eq!(c.drain(), [], "the GET is still in flight");
    c.send("c".into()).unwrap();
    assert_eq!(c.drain(), []);
    assert_eq!(c.events(), []);
    assert_eq!(c.transport(), Transport::Polling);

    // The server frees the GET (with a ping along): now both have returned.
    c.handle_get(payload(&["4y", "2", "6"]).as_bytes(), at(30));
    assert_eq!(
        c.drain(),
        [Transmit::WsWrite {
            ws,
            frames: vec![
                text("5"),
                text("4b"),
                Frame::Binary(binary()),
                text("4c"),
                text("3")
            ],
            messages: 3,
        }]
    );
    assert_eq!(
        c.events(),
        [msg("y"), Event::Upgraded(Transport::WebSocket)]
    );
    assert_eq!(c.transport(), Transport::WebSocket);
    assert_eq!(c.next_deadline(), Some(at(530)));
    assert_eq!(c.queued(), 3);
    c.written(3);

    // Exactly once: no more polling, no second `5`.
    assert_eq!(c.drain(), []);
    c.send("d".into()).unwrap();
    assert_eq!(c.drain(), [write(ws, &["4d"], 1)]);
    c.handle_ws_frame(ws, text("4z"), at(40));
    assert_eq!(c.events(), [msg("z")]);
    assert_eq!(c.drain(), []);
    assert!(c.is_open());
}

#[test]
fn the_upgrade_waits_for_both_the_get_and_the_post_in_either_order() {
    for get_first in [true, false] {
        let (mut c, ws, at) = probing();
        c.send("a".into()).unwrap();
        assert_eq!(c.drain(), [post("4a")]);
        c.handle_ws_frame(ws, text("3probe"), at(20));
        c.send("b".into()).unwrap();
        if get_first {
            c.handle_get(b"6", at(30));
        } else {
            c.handle_post();
        }
        assert_eq!(c.drain(), [], "get_first: {get_first}");
        assert_eq!(c.events(), []);
        if get_first {
            c.handle_post();
        } else {
            c.handle_get(b"6", at(30));
        }
        assert_eq!(
            c.drain(),
            [write(ws, &["5", "4b"], 1)],
            "get_first: {get_first}"
        );
        assert_eq!(c.events(), [Event::Upgraded(Transport::WebSocket)]);
        assert_eq!(c.drain(), []);
    }
}

#[test]
fn the_upgrade_completes_at_once_when_nothing_is_in_flight() {
    let (mut c, ws, at) = probing();
    // The GET came back, and the runtime has not asked for the next yet.
    c.handle_get(b"6", at(15));
    c.handle_ws_frame(ws, text("3probe"), at(20));
    assert_eq!(c.drain(), [write(ws, &["5"], 0)]);
    assert_eq!(c.events(), [Event::Upgraded(Transport::WebSocket)]);
}

#[test]
fn a_wrong_probe_answer_gives_the_upgrade_up_and_polling_goes_on() {
    let answers = [
        text("3"),
        text("3nope"),
        text("2probe"),
        text("4probe"),
        text("5"),
        text("1"),
        text(""),
        text("9"),
        Frame::Binary(Bytes::from_static(b"3probe")),
    ];
    for answer in answers {
        let shown = format!("{answer:?}");
        let (mut c, ws, at) = probing();
        c.handle_ws_frame(ws, answer, at(20));
        let events = c.events();
        assert!(
            matches!(events[..], [Event::UpgradeFailed(ref why)] if !why.is_empty()),
            "{shown}: {events:?}"
        );
        assert_eq!(c.drain(), [Transmit::WsClose(ws)], "{shown}");
        assert!(c.is_open(), "{shown}");
        assert_eq!(c.transport(), Transport::Polling);
        assert_eq!(c.next_deadline(), Some(at(500)), "{shown}");
        // Polling goes on; a late right answer is ignored.
        c.handle_ws_frame(ws, text("3probe"), at(30));
        c.handle_get(b"4m", at(40));
        assert_eq!(c.drain(), [Transmit::Get], "{shown}");
        c.send("n".into()).unwrap();
        assert_eq!(c.drain(), [post("4n")], "{shown}");
        assert_eq!(c.events(), [msg("m")], "{shown}");
        assert_eq!(c.send("a\u{1e}b".into()), Err(SendError::SeparatorInText));
    }
}

#[test]
fn a_probe_that_fails_to_open_gives_the_upgrade_up() {
    let (mut c, at) = handshake_with(config(), &open_packet(&["websocket"], 0));
    let _ = c.events();
    let transmits = c.drain();
    let [Transmit::OpenWebSocket(probe), Transmit::Get] = transmits[..] else {
        panic!("{transmits:?}");
    };
    c.ws_open_failed(probe);
    assert!(matches!(c.events()[..], [Event::UpgradeFailed(_)]));
    let after = c.drain();
    assert!(
        after.iter().all(|t| *t == Transmit::WsClose(probe)),
        "at most the probe is closed: {after:?}"
    );
    assert!(c.is_open());
    assert_eq!(c.next_deadline(), Some(at(500)));
    c.handle_get(b"6", at(10));
    assert_eq!(c.drain(), [Transmit::Get]);
    c.ws_opened(probe, at(20)); // a late report changes nothing
    c.handle_ws_frame(probe, text("3probe"), at(20));
    assert_eq!(c.drain(), []);
    assert_eq!(c.events(), []);
    assert_eq!(c.transport(), Transport::Polling);
}

#[test]
fn a_probe_ending_gives_the_upgrade_up_and_resumes_paused_polling() {
    for clean in [true, false] {
        let (mut c, ws, at) = probing();
        c.send("a".into()).unwrap();
        assert_eq!(c.drain(), [post("4a")]);
        c.handle_ws_frame(ws, text("3probe"), at(20));
        c.handle_get(b"6", at(25));
        c.send("b".into()).unwrap();
        c.send("c".into()).unwrap();
        assert_eq!(c.drain(), [], "paused");

        c.ws_ended(ws, clean);
        assert!(
            matches!(c.events()[..], [Event::UpgradeFailed(_)]),
            "clean: {clean}"
        );
        assert!(c.is_open());
        let after = c.drain();
        assert!(
            matches!(
                after[..],
                [Transmit::Get] | [Transmit::WsClose(_), Transmit::Get]
            ),
            "polling resumes, the POST still in flight: {after:?}"
        );
        c.handle_post();
        assert_eq!(
            c.drain(),
            [post(&payload(&["4b", "4c"]))],
            "sent once, in order"
        );
        c.handle_post();
        assert_eq!(c.drain(), []);
        assert_eq!(c.transport(), Transport::Polling);
        assert_eq!(c.queued(), 0);
    }
}

#[test]
fn a_probe_unanswered_within_probe_timeout_gives_the_upgrade_up() {
    let (mut c, ws, at) = probing();
    c.handle_timeout(at(159));
    assert_eq!(c.events(), []);
    assert_eq!(c.drain(), []);
    assert_eq!(c.fire(), at(160));
    assert!(matches!(c.events()[..], [Event::UpgradeFailed(ref why)] if why.contains("probe")));
    assert_eq!(c.drain(), [Transmit::WsClose(ws)]);
    assert!(c.is_open());
    assert_eq!(c.next_deadline(), Some(at(500)));
    c.handle_ws_frame(ws, text("3probe"), at(170));
    c.handle_get(b"6", at(180));
    assert_eq!(c.drain(), [Transmit::Get], "polling goes on");
    assert_eq!(c.events(), []);
    assert_eq!(c.transport(), Transport::Polling);
}

#[test]
fn the_probe_timer_starts_when_the_websocket_opens() {
    let (mut c, at) = handshake_with(config(), &open_packet(&["websocket"], 0));
    let _ = c.events();
    let transmits = c.drain();
    let [Transmit::OpenWebSocket(probe), Transmit::Get] = transmits[..] else {
        panic!("{transmits:?}");
    };
    c.ws_opened(probe, at(300));
    assert_eq!(c.drain(), [write(probe, &["2probe"], 0)]);
    assert_eq!(c.next_deadline(), Some(at(450)));
    c.ws_opened(probe, at(400)); // reported twice: nothing again
    assert_eq!(c.drain(), []);
    assert_eq!(c.next_deadline(), Some(at(450)));
}

#[test]
fn a_wrong_probe_answer_after_3probe_gives_the_upgrade_up_and_keeps_the_queue() {
    let (mut c, ws, at) = probing();
    c.handle_ws_frame(ws, text("3probe"), at(20));
    c.send("a".into()).unwrap();
    c.handle_ws_frame(ws, text("4unexpected"), at(21));
    assert!(matches!(c.events()[..], [Event::UpgradeFailed(_)]));
    assert_eq!(c.drain(), [Transmit::WsClose(ws), post("4a")]);
    c.handle_get(b"6", at(30));
    assert_eq!(c.drain(), [Transmit::Get]);
}

// ---------------------------------------------------------------------------
// Close from the client
// ---------------------------------------------------------------------------

#[test]
fn close_over_polling_posts_the_queue_and_the_close_packet_then_ends_when_it_returns() {
    let (mut c, at) = polling(config(), 0);
    c.send("a".into()).unwrap();
    c.close(at(10));
    assert!(!c.is_open() && !c.is_closed());
    assert_eq!(c.events(), [], "not over before the close packet is posted");
    assert_eq!(c.drain(), [post(&payload(&["4a", "1"]))]);
    assert_eq!(
        c.next_deadline(),
        Some(at(510)),
        "the watchdog is off, the close timer on"
    );
    c.close(at(20)); // again: nothing more
    assert_eq!(c.drain(), []);
    assert_eq!(c.next_deadline(), Some(at(510)));
    // A ping that arrives meanwhile is not answered.
    c.handle_get(b"2", at(30));
    assert_eq!(c.drain(), [], "no pong, no new GET while closing");
    c.get_failed();
    assert_eq!(c.events(), []);
    c.handle_post();
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    assert_eq!(c.drain(), []);
    c.assert_inert();
}

#[test]
fn close_over_polling_waits_for_the_post_in_flight() {
    let (mut c, at) = polling(config(), 0);
    c.send("a".into()).unwrap();
    assert_eq!(c.drain(), [post("4a")]);
    c.send("b".into()).unwrap();
    c.close(at(10));
    assert_eq!(c.drain(), []);
    c.handle_post();
    assert_eq!(c.events(), [], "that POST did not carry the close");
    assert_eq!(c.drain(), [post(&payload(&["4b", "1"]))]);
    c.handle_post();
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    c.assert_inert();
}

#[test]
fn close_over_polling_splits_by_max_payload_and_ends_after_the_last_post() {
    let (mut c, at) = polling(config(), 6);
    c.send("aaaa".into()).unwrap(); // 4aaaa: 5 bytes, nothing fits beside it
    c.send("b".into()).unwrap();
    c.close(at(10));
    assert_eq!(c.drain(), [post("4aaaa")]);
    c.handle_post();
    assert_eq!(c.events(), []);
    assert_eq!(c.drain(), [post(&payload(&["4b", "1"]))]);
    c.handle_post();
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
}

#[test]
fn close_over_polling_ends_when_the_close_post_fails() {
    let (mut c, at) = polling(config(), 0);
    c.close(at(10));
    assert_eq!(c.drain(), [post("1")]);
    c.post_failed();
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    assert_eq!(c.drain(), []);
    c.assert_inert();
}

#[test]
fn close_over_polling_ends_at_close_timeout() {
    let (mut c, at) = polling(config(), 0);
    c.send("a".into()).unwrap();
    assert_eq!(c.drain(), [post("4a")]);
    c.close(at(100));
    assert_eq!(c.next_deadline(), Some(at(600)));
    c.handle_timeout(at(500)); // the old watchdog deadline: nothing
    c.handle_timeout(at(599));
    assert_eq!(c.events(), []);
    assert_eq!(c.fire(), at(600));
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    assert_eq!(c.drain(), []);
    c.assert_inert();
}

#[test]
fn close_over_websocket_writes_the_close_packet_and_ends_at_once() {
    let (mut c, ws, at) = upgraded();
    c.send("a".into()).unwrap();
    c.close(at(100));
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    assert_eq!(
        c.drain(),
        [write(ws, &["4a", "1"], 1), Transmit::WsClose(ws)]
    );
    assert_eq!(c.next_deadline(), None);
    c.written(1);
    c.ws_ended(ws, true);
    c.assert_inert();

    let (mut c, ws, at) = websocket_only();
    c.close(at(100));
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    assert_eq!(c.drain(), [write(ws, &["1"], 0), Transmit::WsClose(ws)]);
    c.assert_inert();
}

#[test]
fn close_while_probing_closes_the_probe_and_posts_the_close() {
    let (mut c, probe, at) = probing();
    c.close(at(50));
    assert_eq!(c.drain(), [Transmit::WsClose(probe), post("1")]);
    assert_eq!(c.next_deadline(), Some(at(550)), "the probe timer is off");
    c.handle_ws_frame(probe, text("3probe"), at(60));
    assert_eq!(c.drain(), []);
    assert!(
        c.events()
            .iter()
            .all(|e| matches!(e, Event::UpgradeFailed(_))),
        "no upgrade"
    );
    c.handle_post();
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    c.assert_inert();
}

#[test]
fn close_while_polling_is_paused_posts_the_messages_of_the_pause_and_the_close() {
    let (mut c, probe, at) = probing();
    c.handle_ws_frame(probe, text("3probe"), at(20));
    c.send("a".into()).unwrap();
    assert_eq!(c.drain(), []);
    c.close(at(30));
    assert_eq!(
        c.drain(),
        [Transmit::WsClose(probe), post(&payload(&["4a", "1"]))]
    );
    c.handle_get(b"6", at(40));
    assert_eq!(c.drain(), [], "no upgrade, no GET");
    c.handle_post();
    let events = c.events();
    assert_eq!(
        events.last(),
        Some(&Event::Closed(DisconnectReason::ClientDisconnect))
    );
    assert!(!events.contains(&Event::Upgraded(Transport::WebSocket)));
    c.assert_inert();
}

#[test]
fn abort_sends_no_close_packet() {
    let (mut c, _) = polling(config(), 0);
    c.send("a".into()).unwrap();
    c.abort();
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    assert_eq!(c.drain(), [], "nothing posted");
    c.assert_inert();

    let (mut c, probe, _) = probing();
    c.abort();
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    assert_eq!(c.drain(), [Transmit::WsClose(probe)]);
    c.assert_inert();

    let (mut c, ws, _) = upgraded();
    c.abort();
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    assert_eq!(c.drain(), [Transmit::WsClose(ws)]);
    c.assert_inert();

    // Abort during a polling close ends it at once.
    let (mut c, at) = polling(config(), 0);
    c.close(at(10));
    assert_eq!(c.drain(), [post("1")]);
    c.abort();
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    c.assert_inert();
}

// ---------------------------------------------------------------------------
// Close from the server, and failures
// ---------------------------------------------------------------------------

#[test]
fn a_close_packet_in_a_poll_is_a_server_disconnect_and_ends_the_payload() {
    let (mut c, at) = polling(config(), 0);
    c.send("unsent".into()).unwrap();
    c.handle_get(payload(&["4a", "1", "4b", "2"]).as_bytes(), at(10));
    assert_eq!(
        c.events(),
        [msg("a"), Event::Closed(DisconnectReason::ServerDisconnect)]
    );
    assert_eq!(c.drain(), [], "no POST of the queue, no pong, no GET");
    assert_eq!(c.queued(), 0);
    c.assert_inert();
}

#[test]
fn a_close_packet_during_the_pause_closes_the_probe() {
    let (mut c, probe, at) = probing();
    c.handle_ws_frame(probe, text("3probe"), at(20));
    c.handle_get(b"1", at(30));
    assert_eq!(c.events(), closed(DisconnectReason::ServerDisconnect));
    assert_eq!(c.drain(), [Transmit::WsClose(probe)]);
    c.assert_inert();
}

#[test]
fn a_close_packet_on_the_websocket_is_a_server_disconnect() {
    let (mut c, ws, at) = upgraded();
    c.handle_ws_frame(ws, text("1"), at(40));
    assert_eq!(c.events(), closed(DisconnectReason::ServerDisconnect));
    assert_eq!(c.drain(), [Transmit::WsClose(ws)]);
    c.handle_ws_frame(ws, text("4late"), at(41));
    c.ws_ended(ws, true);
    c.assert_inert();

    let (mut c, ws, at) = websocket_only();
    c.handle_ws_frame(ws, text("1"), at(40));
    assert_eq!(c.events(), closed(DisconnectReason::ServerDisconnect));
    assert_eq!(c.drain(), [Transmit::WsClose(ws)]);
    c.assert_inert();
}

#[test]
fn the_websocket_ending_cleanly_is_a_server_disconnect_uncleanly_a_transport_error() {
    for (clean, reason) in [
        (true, DisconnectReason::ServerDisconnect),
        (false, DisconnectReason::TransportError),
    ] {
        let (mut c, ws, _) = upgraded();
        c.ws_ended(ws, clean);
        assert_eq!(c.events(), closed(reason));
        assert_eq!(c.drain(), [], "the WebSocket is gone already");
        c.assert_inert();

        let (mut c, ws, _) = websocket_only();
        c.ws_ended(ws, clean);
        assert_eq!(c.events(), closed(reason));
        assert_eq!(c.drain(), []);
        c.assert_inert();
    }
}

#[test]
fn get_and_post_failures_are_transport_errors() {
    let (mut c, _) = polling(config(), 0);
    c.get_failed();
    assert_eq!(c.events(), closed(DisconnectReason::TransportError));
    assert_eq!(c.drain(), []);
    c.assert_inert();

    let (mut c, _) = polling(config(), 0);
    c.send("a".into()).unwrap();
    assert_eq!(c.drain(), [post("4a")]);
    c.post_failed();
    assert_eq!(c.events(), closed(DisconnectReason::TransportError));
    assert_eq!(c.failure(), None);
    assert_eq!(c.drain(), []);
    c.assert_inert();

    // While probing, the probe is closed too.
    let (mut c, probe, _) = probing();
    c.get_failed();
    assert_eq!(c.events(), closed(DisconnectReason::TransportError));
    assert_eq!(c.drain(), [Transmit::WsClose(probe)]);
    c.assert_inert();
}

#[test]
fn an_undecodable_poll_body_is_a_transport_error() {
    let bodies: &[&[u8]] = &[
        b"",
        b"9",
        b"4a\x1e",
        b"4a\x1e\x1e4b",
        b"1x",
        b"6 ",
        b"b!!!",
        b"0{",
        b"\xff",
        b"4\xc3",
    ];
    for body in bodies {
        let (mut c, at) = polling(config(), 0);
        c.handle_get(body, at(10));
        let shown = String::from_utf8_lossy(body);
        assert_eq!(
            c.events(),
            closed(DisconnectReason::TransportError),
            "{shown:?}"
        );
        assert_eq!(c.failure(), None, "only the handshake has a failure text");
        assert_eq!(c.drain(), [], "{shown:?}");
        c.assert_inert();
    }
}

#[test]
fn an_undecodable_frame_is_a_transport_error() {
    for frame in ["", "9", "1x", "5 ", "bnot base64!"] {
        let (mut c, ws, at) = upgraded();
        c.handle_ws_frame(ws, text(frame), at(40));
        assert_eq!(
            c.events(),
            closed(DisconnectReason::TransportError),
            "{frame:?}"
        );
        assert_eq!(c.drain(), [Transmit::WsClose(ws)], "{frame:?}");
        c.assert_inert();
    }
}

#[test]
fn harmless_packets_on_the_websocket_are_ignored() {
    let (mut c, ws, at) = upgraded();
    let open = open_packet(&["websocket"], 1);
    for frame in ["6", "5", "3", "3probe", open.as_str()] {
        c.handle_ws_frame(ws, text(frame), at(40));
        assert_eq!(c.events(), [], "{frame}");
        assert_eq!(c.drain(), [], "{frame}");
    }
    assert!(c.is_open());
    assert_eq!(c.sid(), Some("sid-1"));
    assert_eq!(c.next_deadline(), Some(at(500)));
}

#[test]

fn a_connection_ended_before_its_probe_is_handed_out_never_opens_it() {
    let body = payload(&[&open_packet(&["websocket"], 0), "1"]);
    let (mut c, _) = handshake_with(config(), &body);
    assert_eq!(
        c.events(),
        [
            Event::Opened(handshake(&["websocket"], 0)),
            Event::Closed(DisconnectReason::ServerDisconnect),
        ]
    );
    // The harness refuses an OpenWebSocket from an ended connection.
    assert_eq!(c.drain(), []);
}

// ---------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------

#[test]
fn next_deadline_is_the_earliest_of_watchdog_probe_and_close() {
    let (mut c, at) = handshake_with(config(), &open_packet(&["websocket"], 0));
    let _ = c.events();
    let transmits = c.drain();
    let [Transmit::OpenWebSocket(probe), Transmit::Get] = transmits[..] else {
        panic!("{transmits:?}");
    };
    assert_eq!(c.next_deadline(), Some(at(500)));
    c.ws_opened(probe, at(400));
    assert_eq!(c.next_deadline(), Some(at(500)), "the watchdog is earlier");
    c.handle_get(b"2", at(410));
    assert_eq!(c.next_deadline(), Some(at(550)), "the probe is now earlier");
    assert_eq!(c.fire(), at(550));
    assert!(matches!(c.events()[..], [Event::UpgradeFailed(_)]));
    assert_eq!(c.next_deadline(), Some(at(910)));
    c.close(at(600));
    assert_eq!(c.next_deadline(), Some(at(1100)));
    assert_eq!(c.fire(), at(1100));
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
    assert_eq!(c.next_deadline(), None);
}

#[test]
fn a_late_timer_reports_the_ping_timeout_before_the_probe() {
    let (mut c, probe, at) = probing();
    c.handle_timeout(at(10_000));
    assert_eq!(c.events(), closed(DisconnectReason::PingTimeout));
    assert_eq!(c.drain(), [Transmit::WsClose(probe)]);
    c.assert_inert();
}

// ---------------------------------------------------------------------------
// Reconnection
// ---------------------------------------------------------------------------

#[test]
fn reconnection_defaults_are_python_socketios() {
    let p = Reconnection::default();
    assert_eq!(p.max_attempts, None);
    assert_eq!(p.initial_delay, Duration::from_secs(1));
    assert_eq!(p.max_delay, Duration::from_secs(5));
    assert!((p.jitter - 0.5).abs() < f64::EPSILON);
}

#[test]
fn reconnection_follows_the_reason_of_each_close() {
    let p = Reconnection::default().jitter(0.0);
    for (reason, retried) in [
        (DisconnectReason::TransportError, true),
        (DisconnectReason::TransportClose, true),
        (DisconnectReason::PingTimeout, true),
        (DisconnectReason::ServerDisconnect, false),
        (DisconnectReason::ClientDisconnect, false),
    ] {
        assert_eq!(
            p.next_attempt(reason, 1, 0.5),
            retried.then_some(Duration::from_secs(1)),
            "{reason}"
        );
        assert_eq!(
            p.next_attempt(reason, 1_000, 0.5),
            retried.then_some(Duration::from_secs(5)),
            "unlimited attempts: {reason}"
        );
    }
}

#[test]
fn reconnection_attempt_limits() {
    let reason = DisconnectReason::TransportError;
    let none = Reconnection::default().max_attempts(Some(0));
    assert_eq!(none.next_attempt(reason, 1, 0.5), None);
    assert_eq!(none.next_attempt(reason, u32::MAX, 0.5), None);

    let one = Reconnection::default().max_attempts(Some(1)).jitter(0.0);
    assert_eq!(
        one.next_attempt(reason, 1, 0.5),
        Some(Duration::from_secs(1))
    );
    assert_eq!(one.next_attempt(reason, 2, 0.5), None);

    let unlimited = Reconnection::default().max_attempts(None).jitter(0.0);
    assert_eq!(
        unlimited.next_attempt(reason, u32::MAX, 0.5),
        Some(Duration::from_secs(5))
    );
    let max = Reconnection::default()
        .max_attempts(Some(u32::MAX))
        .jitter(0.0);
    assert!(max.next_attempt(reason, u32::MAX, 0.5).is_some());
}

#[test]
fn reconnection_delay_edges() {
    let reason = DisconnectReason::PingTimeout;
    // next_attempt's delay is delay_for's.
    let p = Reconnection::default();
    for attempt in 1..8 {
        for random in [0.0, 0.25, 0.5, 1.0] {
            assert_eq!(
                p.next_attempt(reason, attempt, random),
                Some(p.delay_for(attempt, random))
            );
        }
    }
    // A maximum below the initial delay caps every delay.
    let capped = Reconnection::default()
        .initial_delay(Duration::from_secs(10))
        .max_delay(Duration::from_secs(2))
        .jitter(0.0);
    assert_eq!(capped.delay_for(1, 0.5), Duration::from_secs(2));
    // No initial delay: immediate, whatever the jitter.
    let zero = Reconnection::default()
        .initial_delay(Duration::ZERO)
        .jitter(1.0);
    assert_eq!(zero.delay_for(5, 1.0), Duration::ZERO);
    // Randoms outside 0..=1 are clamped; a negative or NaN jitter is none.
    let half = Reconnection::default().jitter(0.5);
    assert_eq!(half.delay_for(1, -3.0), Duration::from_millis(500));
    assert_eq!(half.delay_for(1, 3.0), Duration::from_millis(1500));
    for jitter in [-1.0, f64::NAN] {
        let p = Reconnection::default().jitter(jitter);
        assert_eq!(p.delay_for(1, 0.0), Duration::from_secs(1), "{jitter}");
        assert_eq!(p.delay_for(1, 1.0), Duration::from_secs(1), "{jitter}");
    }
    // Jitter never exceeds the maximum.
    let full = Reconnection::default().jitter(1.0);
    assert_eq!(full.delay_for(3, 1.0), Duration::from_secs(5));
    assert_eq!(full.delay_for(3, 0.0), Duration::ZERO);
    assert_eq!(full.delay_for(2, 0.75), Duration::from_secs(3));
}

// ---------------------------------------------------------------------------
// WebTransport

/// With WebTransport only, the handshake goes over its stream: `0` first,
/// then the session runs on it as on a WebSocket.
#[test]
fn webtransport_only_handshakes_with_an_open_request() {
    let (mut c, at) = Client::new(ConnectionConfig {
        polling: false,
        websocket: false,
        webtransport: true,
        ..config()
    });
    let transmits = c.drain();
    let [Transmit::OpenWebTransport(wt)] = transmits[..] else {
        panic!("expected the handshake stream, got {transmits:?}");
    };
    assert_eq!(c.transport(), Transport::WebTransport);
    c.ws_opened(wt, at(1));
    assert_eq!(c.drain(), [write(wt, &["0"], 0)]);
    c.handle_ws_frame(wt, text(&open_packet(&[], 1_000_000)), at(5));
    assert_eq!(c.events(), [Event::Opened(handshake(&[], 1_000_000))]);
    c.send("hi".into()).unwrap();
    c.handle_ws_frame(wt, text("2"), at(6));
    assert_eq!(c.drain(), [write(wt, &["4hi", "3"], 1)]);
    c.close(at(7));
    assert_eq!(c.drain(), [write(wt, &["1"], 0), Transmit::WsClose(wt)]);
    assert_eq!(c.events(), closed(DisconnectReason::ClientDisconnect));
}

/// Polling upgrades to WebTransport when offered (preferred over
/// WebSocket): `0{"sid"}` and `2probe` first, then `5` and the queue.
#[test]
fn polling_upgrades_to_webtransport_with_the_sid_first() {
    let (mut c, at) = handshake_with(
        ConnectionConfig {
            webtransport: true,
            ..config()
        },
        &open_packet(&["websocket", "webtransport"], 1_000_000),
    );
    assert!(matches!(c.events()[..], [Event::Opened(_)]));
    let transmits = c.drain();
    let [Transmit::OpenWebTransport(wt), Transmit::Get] = transmits[..] else {
        panic!("expected a WebTransport probe and the long poll, got {transmits:?}");
    };
    c.ws_opened(wt, at(10));
    assert_eq!(
        c.drain(),
        [write(wt, &[r#"0{"sid":"sid-1"}"#, "2probe"], 0)]
    );
    c.send("queued".into()).unwrap();
    assert_eq!(c.drain(), [post("4queued")]);
    c.handle_post();
    c.handle_ws_frame(wt, text("3probe"), at(20));
    c.handle_get(b"6", at(30));
    assert_eq!(c.drain(), [write(wt, &["5"], 0)]);
    assert_eq!(c.events(), [Event::Upgraded(Transport::WebTransport)]);
    assert_eq!(c.transport(), Transport::WebTransport);
    c.send("after".into()).unwrap();
    assert_eq!(c.drain(), [write(wt, &["4after"], 1)]);
    c.ws_ended(wt, true);
    assert_eq!(c.events(), closed(DisconnectReason::ServerDisconnect));
}

/// Without WebTransport enabled, an offer of it is ignored.
#[test]
fn a_webtransport_offer_is_ignored_unless_enabled() {
    let (mut c, _) = handshake_with(config(), &open_packet(&["webtransport"], 1_000_000));
    assert!(matches!(c.events()[..], [Event::Opened(_)]));
    assert_eq!(c.drain(), [Transmit::Get]);
}
