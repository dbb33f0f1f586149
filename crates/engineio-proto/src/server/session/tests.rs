//! Fake-clock tests of the session state machine.
//!
//! Time never passes by itself: every test starts at `t0 = Instant::now()`
//! and hands the session `t0 + n ms`. The [`Seen`] log takes the session's
//! [`Events`] after each step, as the runtime does, and fails a test as soon
//! as the close or the forget is reported a second time. [`arm`] models the
//! runtime re-arming its timer at [`Session::next_deadline`].

use super::*;
use crate::packet::PROBE;

/// A whole number of milliseconds.
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Short timers, each different so a deadline tells which timer it is:
/// ping every 300 ms, pong within 200 ms, upgrade within 150 ms, a poll held
/// at most 1000 ms, a farewell delivered within 500 ms.
fn config() -> SessionConfig {
    SessionConfig {
        ping_interval: ms(300),
        ping_timeout: ms(200),
        upgrade_timeout: ms(150),
        max_poll_wait: ms(1000),
        close_timeout: ms(500),
        ..SessionConfig::default()
    }
}

/// What the runtime has seen of a session's events so far.
#[derive(Debug, Default)]
struct Seen {
    closed: Option<Closed>,
    forgotten: bool,
}

impl Seen {
    /// Takes the session's events, checking that the close and the forget
    /// are each reported at most once in the session's life.
    fn events(&mut self, s: &mut Session) -> Events {
        let events = s.take_events();
        if let Some(closed) = &events.closed {
            assert!(
                self.closed.is_none(),
                "closed reported twice: {:?}, then {closed:?}",
                self.closed
            );
            self.closed = Some(closed.clone());
        }
        if events.forget {
            assert!(!self.forgotten, "forget reported twice");
            self.forgotten = true;
        }
        events
    }

    /// The reason of the close reported so far.
    fn reason(&self) -> Option<DisconnectReason> {
        self.closed.as_ref().map(|closed| closed.reason)
    }

    /// The detail of the close reported so far.
    fn detail(&self) -> Option<&str> {
        self.closed
            .as_ref()
            .and_then(|closed| closed.detail.as_deref())
    }
}

/// The reason in `events`, if they report the close.
fn reason(events: &Events) -> Option<DisconnectReason> {
    events.closed.as_ref().map(|closed| closed.reason)
}

/// The runtime re-arms its timer at the session's next deadline.
fn arm(s: &mut Session) {
    let at = s.next_deadline();
    s.timer_armed(at);
}

/// A text message packet, ready to send.
fn msg(text: &str) -> EncodedPacket {
    Packet::message(text).into()
}

/// A text message for the dispatcher.
fn dmsg(text: &str) -> Dispatch {
    Dispatch::Message(text.into())
}

/// A whole POST: begin it, hand over its body, and check that it can be
/// answered at once.
fn post(s: &mut Session, body: &str, now: Instant) -> Result<(), RequestError> {
    s.begin_post(now, Some("text/plain;charset=UTF-8"))?;
    s.post_payload(body.as_bytes(), now)?;
    assert!(
        s.post_accepted(),
        "the POST {body:?} should be accepted at once"
    );
    Ok(())
}

/// A dispatcher that handles each message before taking the next, until
/// `next_dispatch` returns `None`.
fn dispatch_all(s: &mut Session, now: Instant) -> Vec<Dispatch> {
    let mut all = Vec::new();
    while let Some(dispatch) = s.next_dispatch() {
        let message = matches!(dispatch, Dispatch::Message(_));
        all.push(dispatch);
        if message {
            s.message_handled(now);
        }
    }
    all
}

/// The texts of the packets a WebSocket must write.
fn texts(transmit: WsTransmit) -> Vec<String> {
    match transmit {
        WsTransmit::Write(packets) => packets.iter().map(|p| p.text().to_owned()).collect(),
        other => panic!("expected packets to write, got {other:?}"),
    }
}

/// A polling session, and the instant `n` ms after its start.
fn polling(config: SessionConfig) -> (Session, impl Fn(u64) -> Instant + Copy) {
    let t0 = Instant::now();
    (Session::new(Transport::Polling, config, t0), move |n| {
        t0 + ms(n)
    })
}

/// A session opened over WebSocket, its WebSocket, and the instant `n` ms
/// after its start.
fn websocket(config: SessionConfig) -> (Session, WsId, impl Fn(u64) -> Instant + Copy) {
    let t0 = Instant::now();
    let s = Session::new(Transport::WebSocket, config, t0);
    let ws = s
        .websocket()
        .expect("a WebSocket session has its WebSocket");
    (s, ws, move |n| t0 + ms(n))
}

// ---------------------------------------------------------------------------
// Heartbeat
// ---------------------------------------------------------------------------

#[test]
fn ping_is_queued_one_interval_after_open_then_one_interval_after_the_pong() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    assert_eq!(s.next_deadline(), Some(at(300)));

    s.handle_timeout(at(299));
    assert_eq!(s.queued(), 0);
    assert!(seen.events(&mut s).is_empty());

    s.handle_timeout(at(300));
    assert_eq!(s.queued(), 1);
    let e = seen.events(&mut s);
    assert!(e.wake && !e.dispatch && e.closed.is_none());
    assert!(
        !e.deadline_changed,
        "the pong deadline is later than the ping"
    );
    assert_eq!(s.next_deadline(), Some(at(500)));
    arm(&mut s);

    s.begin_poll(at(310)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("2"));
    post(&mut s, "3", at(350)).unwrap();
    assert_eq!(s.next_deadline(), Some(at(650)));
    assert!(!seen.events(&mut s).deadline_changed);

    // The timer armed for the pong deadline fires: nothing is due.
    s.handle_timeout(at(500));
    assert_eq!((s.closed(), s.queued()), (None, 0));
    arm(&mut s);
    s.handle_timeout(at(649));
    assert_eq!(s.queued(), 0);
    s.handle_timeout(at(650));
    assert_eq!(s.queued(), 1);
    assert_eq!(s.next_deadline(), Some(at(850)));
    assert!(seen.closed.is_none() && !seen.forgotten);
}

#[test]
fn late_pong_closes_with_ping_timeout_a_waiting_poll_gets_close_and_the_sid_goes_at_once() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.handle_timeout(at(300));
    s.begin_poll(at(300)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("2"));
    s.begin_poll(at(310)).unwrap();
    assert_eq!(s.poll_payload(), None);
    let _ = seen.events(&mut s);
    arm(&mut s);

    s.handle_timeout(at(499));
    assert_eq!(s.closed(), None);
    s.handle_timeout(at(500));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::PingTimeout));
    assert!(e.forget, "the sid is forgotten at once");
    assert!(e.wake && e.dispatch);
    assert!(
        !s.is_finished(),
        "the poll in flight still waits for its close packet"
    );
    assert_eq!(s.send(msg("late")), Err(SendError::Closed));

    assert_eq!(s.poll_payload().as_deref(), Some("1"));
    assert!(s.is_finished());
    assert_eq!(s.next_deadline(), None);
    // Only the timer is told, so that it stops at once.
    let e = seen.events(&mut s);
    assert!(e.deadline_changed && !e.wake && !e.forget && e.closed.is_none());
    assert_eq!(s.begin_poll(at(510)), Err(RequestError::Closed));
    assert_eq!(
        dispatch_all(&mut s, at(510)),
        [Dispatch::Disconnect(DisconnectReason::PingTimeout)]
    );
}

#[test]
fn late_pong_without_a_poll_in_flight_finishes_the_session_at_once() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.handle_timeout(at(300));
    s.handle_timeout(at(500));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::PingTimeout));
    assert!(e.forget);
    assert!(s.is_finished());
    assert_eq!(s.queued(), 0, "the undelivered ping is dropped");
    assert_eq!(s.next_deadline(), None);
    assert_eq!(s.begin_poll(at(510)), Err(RequestError::Closed));
}

#[test]
fn a_non_pong_packet_pushes_the_pong_deadline_back_once_and_a_second_does_not() {
    let (mut s, ws, at) = websocket(config());
    let mut seen = Seen::default();
    s.handle_timeout(at(300));
    assert_eq!(texts(s.ws_transmit(ws)), ["2"]);
    assert_eq!(s.next_deadline(), Some(at(500)));
    let _ = seen.events(&mut s);
    arm(&mut s);

    s.ws_receive(ws, Packet::message("a"), at(400));
    assert_eq!(s.next_deadline(), Some(at(600)));
    let e = seen.events(&mut s);
    assert!(e.dispatch && !e.deadline_changed);

    s.ws_receive(ws, Packet::Noop, at(550));
    s.ws_receive(ws, Packet::message("b"), at(560));
    assert_eq!(s.next_deadline(), Some(at(600)), "refreshed once only");

    s.handle_timeout(at(500));
    assert_eq!(s.closed(), None);
    s.handle_timeout(at(599));
    assert_eq!(s.closed(), None);
    s.handle_timeout(at(600));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::PingTimeout));
    assert!(e.forget);
    assert_eq!(
        dispatch_all(&mut s, at(600)),
        [
            dmsg("a"),
            dmsg("b"),
            Dispatch::Disconnect(DisconnectReason::PingTimeout)
        ]
    );
}

#[test]
fn each_ping_gets_its_own_one_time_refresh() {
    let (mut s, ws, at) = websocket(config());
    s.handle_timeout(at(300));
    s.ws_receive(ws, Packet::message("a"), at(350));
    assert_eq!(s.next_deadline(), Some(at(550)));
    s.ws_receive(ws, Packet::pong(), at(400));
    assert_eq!(s.next_deadline(), Some(at(700)));
    s.handle_timeout(at(700));
    assert_eq!(s.next_deadline(), Some(at(900)));
    s.ws_receive(ws, Packet::message("b"), at(800));
    assert_eq!(s.next_deadline(), Some(at(1000)));
    s.ws_receive(ws, Packet::pong(), at(990));
    s.handle_timeout(at(1000));
    assert_eq!(s.closed(), None);
    assert_eq!(s.next_deadline(), Some(at(1290)));
}

#[test]
fn pongs_for_undelivered_pings_never_pile_up_pings() {
    let (mut s, at) = polling(config());
    let mut now = 0;
    for _ in 0..10 {
        now += 300;
        s.handle_timeout(at(now));
        assert_eq!(s.queued(), 1, "at most one ping waits");
        post(&mut s, "3", at(now)).unwrap();
    }
    assert_eq!(s.closed(), None);
    s.begin_poll(at(now)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("2"));
    now += 300;
    s.handle_timeout(at(now));
    assert_eq!(s.queued(), 1);
}

#[test]
fn a_ping_from_the_client_is_a_transport_error() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    post(&mut s, "2", at(10)).unwrap();
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::TransportError));
    assert!(e.forget);
    assert!(
        seen.detail()
            .unwrap()
            .contains("invalid heartbeat direction")
    );
    assert!(s.is_finished());
}

// ---------------------------------------------------------------------------
// Backpressure
// ---------------------------------------------------------------------------

#[test]
fn the_max_inbox_th_message_pauses_reading_until_a_handler_finishes() {
    let config = SessionConfig {
        max_inbox: 2,
        ..config()
    };
    let (mut s, ws, at) = websocket(config);
    let mut seen = Seen::default();

    s.ws_receive(ws, Packet::message("a"), at(10));
    assert!(!s.is_reading_paused() && s.ws_can_read(ws));
    assert!(seen.events(&mut s).dispatch);
    s.ws_receive(ws, Packet::message("b"), at(20));
    assert!(s.is_reading_paused());
    assert!(!s.ws_can_read(ws));
    assert!(seen.events(&mut s).is_empty());

    assert_eq!(s.next_dispatch(), Some(dmsg("a")));
    assert!(
        s.is_reading_paused(),
        "a running handler still holds its room"
    );
    s.message_handled(at(30));
    assert!(!s.is_reading_paused() && s.ws_can_read(ws));
    let e = seen.events(&mut s);
    assert!(e.wake && !e.dispatch);

    assert_eq!(s.next_dispatch(), Some(dmsg("b")));
    s.message_handled(at(40));
    assert_eq!(s.next_dispatch(), None);
}

#[test]
fn a_post_over_the_room_in_the_inbox_waits_until_messages_are_handled() {
    let config = SessionConfig {
        max_inbox: 2,
        ..config()
    };
    let (mut s, at) = polling(config);
    let mut seen = Seen::default();
    s.begin_post(at(0), None).unwrap();
    s.post_payload(b"4a\x1e4b\x1e4c\x1e4d", at(0)).unwrap();
    assert!(!s.post_accepted());
    assert!(s.is_reading_paused());
    let e = seen.events(&mut s);
    assert!(e.dispatch && !e.wake);

    let mut got = Vec::new();
    got.push(s.next_dispatch().unwrap());
    s.message_handled(at(10));
    assert!(!s.post_accepted(), "\"d\" still waits");
    assert!(!seen.events(&mut s).wake);

    got.push(s.next_dispatch().unwrap());
    s.message_handled(at(20));
    assert!(
        seen.events(&mut s).wake,
        "the POST is woken: all its packets are in"
    );
    assert!(s.post_accepted());
    assert!(s.is_reading_paused(), "the inbox is full again");

    got.push(s.next_dispatch().unwrap());
    s.message_handled(at(30));
    assert!(!s.is_reading_paused());
    got.extend(dispatch_all(&mut s, at(40)));
    assert_eq!(got, [dmsg("a"), dmsg("b"), dmsg("c"), dmsg("d")]);
    // A new POST is no overlap.
    post(&mut s, "4e", at(50)).unwrap();
}

#[test]
fn the_pong_deadline_does_not_fire_while_paused_and_moves_back_by_the_paused_time() {
    let config = SessionConfig {
        max_inbox: 1,
        ..config()
    };
    let (mut s, ws, at) = websocket(config);
    let mut seen = Seen::default();
    s.handle_timeout(at(300));
    assert_eq!(texts(s.ws_transmit(ws)), ["2"]);
    let _ = seen.events(&mut s);
    arm(&mut s);

    // The message refreshes the pong deadline (to 600) and fills the inbox.
    s.ws_receive(ws, Packet::message("a"), at(400));
    assert!(s.is_reading_paused());
    assert_eq!(s.next_deadline(), None, "no deadline may fire while paused");

    s.handle_timeout(at(600));
    s.handle_timeout(at(2000));
    assert_eq!(s.closed(), None);
    assert!(seen.events(&mut s).closed.is_none());

    assert_eq!(s.next_dispatch(), Some(dmsg("a")));
    s.message_handled(at(2400));
    assert!(!s.is_reading_paused());
    let e = seen.events(&mut s);
    assert!(e.wake);
    assert!(e.deadline_changed, "the pong deadline is back");
    assert_eq!(s.next_deadline(), Some(at(2600)), "600 + 2000 ms paused");

    s.handle_timeout(at(2599));
    assert_eq!(s.closed(), None);
    s.handle_timeout(at(2600));
    assert_eq!(s.closed(), Some(DisconnectReason::PingTimeout));
    assert_eq!(
        seen.events(&mut s).closed.unwrap().reason,
        DisconnectReason::PingTimeout
    );
}

#[test]
fn a_pong_stuck_behind_a_full_inbox_is_not_late() {
    let config = SessionConfig {
        max_inbox: 1,
        ..config()
    };
    let (mut s, at) = polling(config);
    s.handle_timeout(at(300));
    s.begin_poll(at(300)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("2"));
    s.begin_post(at(350), None).unwrap();
    s.post_payload(b"4a\x1e3", at(350)).unwrap();
    assert!(!s.post_accepted() && s.is_reading_paused());

    s.handle_timeout(at(5000));
    assert_eq!(s.closed(), None);
    assert_eq!(s.next_dispatch(), Some(dmsg("a")));
    s.message_handled(at(5000));
    assert!(s.post_accepted());
    assert!(!s.is_reading_paused());
    assert_eq!(
        s.next_deadline(),
        Some(at(5300)),
        "the next ping, one interval after the pong"
    );
}

#[test]
fn pings_still_go_out_while_reading_is_paused() {
    let config = SessionConfig {
        max_inbox: 1,
        ..config()
    };
    let (mut s, ws, at) = websocket(config);
    s.ws_receive(ws, Packet::message("a"), at(100));
    assert!(s.is_reading_paused());
    assert_eq!(s.next_deadline(), Some(at(300)));
    s.handle_timeout(at(300));
    assert_eq!(texts(s.ws_transmit(ws)), ["2"]);
    assert_eq!(s.next_deadline(), None);
    s.handle_timeout(at(5000));
    assert_eq!(s.closed(), None);
}

#[test]
fn closing_drops_packets_waiting_for_room_and_answers_their_post() {
    let config = SessionConfig {
        max_inbox: 1,
        ..config()
    };
    let (mut s, at) = polling(config);
    s.begin_post(at(0), None).unwrap();
    s.post_payload(b"4a\x1e4b", at(0)).unwrap();
    assert!(!s.post_accepted());
    s.close(DisconnectReason::ServerDisconnect, at(10));
    assert!(s.post_accepted());
    assert!(!s.is_reading_paused());
    assert_eq!(
        dispatch_all(&mut s, at(20)),
        [
            dmsg("a"),
            Dispatch::Disconnect(DisconnectReason::ServerDisconnect)
        ]
    );
}

// ---------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------

#[test]
fn dispatch_is_reported_only_when_no_dispatcher_is_active() {
    let (mut s, ws, at) = websocket(config());
    let mut seen = Seen::default();
    s.ws_receive(ws, Packet::message("a"), at(10));
    assert!(seen.events(&mut s).dispatch);
    s.ws_receive(ws, Packet::message("b"), at(20));
    assert!(
        !seen.events(&mut s).dispatch,
        "the dispatcher asked for is still to run"
    );

    assert_eq!(s.next_dispatch(), Some(dmsg("a")));
    s.ws_receive(ws, Packet::message("c"), at(30));
    s.message_handled(at(30));
    assert!(!seen.events(&mut s).dispatch);
    assert_eq!(dispatch_all(&mut s, at(40)), [dmsg("b"), dmsg("c")]);

    // `None` ended that dispatcher: new work asks for a new one.
    s.ws_receive(ws, Packet::message("d"), at(50));
    assert!(seen.events(&mut s).dispatch);
    assert_eq!(dispatch_all(&mut s, at(60)), [dmsg("d")]);
}

#[test]
fn the_disconnect_is_dispatched_once_after_every_concurrently_taken_message_is_handled() {
    let (mut s, ws, at) = websocket(config());
    let mut seen = Seen::default();
    for text in ["a", "b", "c"] {
        s.ws_receive(ws, Packet::message(text), at(10));
    }
    assert!(seen.events(&mut s).dispatch);
    s.close(DisconnectReason::ServerDisconnect, at(20));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::ServerDisconnect));
    assert!(!e.dispatch, "the dispatcher asked for is still to run");

    assert_eq!(s.next_dispatch(), Some(dmsg("a")));
    assert_eq!(s.next_dispatch(), Some(dmsg("b")));
    assert_eq!(s.next_dispatch(), Some(dmsg("c")));
    assert_eq!(s.next_dispatch(), None, "three handlers still run");
    s.message_handled(at(30));
    s.message_handled(at(31));
    assert!(!seen.events(&mut s).dispatch);
    assert_eq!(s.next_dispatch(), None);
    s.message_handled(at(32));
    assert!(seen.events(&mut s).dispatch, "the last handler finished");
    assert_eq!(
        s.next_dispatch(),
        Some(Dispatch::Disconnect(DisconnectReason::ServerDisconnect))
    );
    assert_eq!(s.next_dispatch(), None);
    s.message_handled(at(33)); // a stray call changes nothing
    assert!(!seen.events(&mut s).dispatch);
    assert_eq!(s.next_dispatch(), None);
}

#[test]
fn a_close_while_a_handler_runs_dispatches_the_disconnect_after_it() {
    let (mut s, ws, at) = websocket(config());
    let mut seen = Seen::default();
    s.ws_receive(ws, Packet::message("a"), at(10));
    let _ = seen.events(&mut s);
    assert_eq!(s.next_dispatch(), Some(dmsg("a")));
    s.ws_receive(ws, Packet::Close, at(20));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::ClientDisconnect));
    assert!(!e.dispatch);
    assert_eq!(s.next_dispatch(), None, "the handler of \"a\" still runs");
    s.message_handled(at(30));
    assert!(seen.events(&mut s).dispatch);
    assert_eq!(
        dispatch_all(&mut s, at(30)),
        [Dispatch::Disconnect(DisconnectReason::ClientDisconnect)]
    );
}

#[test]
fn reject_never_dispatches_a_disconnect() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    post(&mut s, "4a\x1e4b", at(10)).unwrap();
    assert!(seen.events(&mut s).dispatch);
    assert_eq!(s.next_dispatch(), Some(dmsg("a")));

    s.reject();
    let e = seen.events(&mut s);
    assert!(e.forget && e.wake);
    assert!(e.closed.is_none() && !e.dispatch);
    assert!(s.is_finished());
    s.message_handled(at(20));
    assert!(!seen.events(&mut s).dispatch);
    assert_eq!(
        s.next_dispatch(),
        None,
        "\"b\" and the disconnect are dropped"
    );

    assert!(!s.close(DisconnectReason::ServerDisconnect, at(30)));
    s.reject();
    assert!(seen.events(&mut s).is_empty());
    assert_eq!(s.send(msg("x")), Err(SendError::Closed));
    assert_eq!(s.begin_poll(at(30)), Err(RequestError::Closed));
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn reject_closes_a_websocket() {
    let (mut s, ws, _) = websocket(config());
    s.reject();
    assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None));
    assert!(s.is_finished());
    assert_eq!(s.next_dispatch(), None);
}

// ---------------------------------------------------------------------------
// Close paths over polling
// ---------------------------------------------------------------------------

#[test]
fn close_reports_once_and_later_closes_change_nothing() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    assert!(s.close(DisconnectReason::ServerDisconnect, at(10)));
    assert!(!s.close(DisconnectReason::PingTimeout, at(20)));
    assert_eq!(s.closed(), Some(DisconnectReason::ServerDisconnect));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::ServerDisconnect));
    assert!(!e.forget, "the farewell is still to deliver");
    assert_eq!(s.send(msg("x")), Err(SendError::Closed));
}

#[test]
fn server_disconnect_with_a_poll_in_flight_sends_the_queue_and_close_then_forgets() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.begin_poll(at(0)).unwrap();
    s.send(msg("a")).unwrap();
    s.send(msg("b")).unwrap();
    s.close(DisconnectReason::ServerDisconnect, at(10));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::ServerDisconnect));
    assert!(e.wake && e.dispatch && !e.forget);
    assert_eq!(s.next_deadline(), Some(at(510)));

    assert_eq!(s.poll_payload().as_deref(), Some("4a\x1e4b\x1e1"));
    let e = seen.events(&mut s);
    assert!(e.forget);
    assert!(s.is_finished());
    assert_eq!(s.next_deadline(), None);
    assert_eq!(s.begin_poll(at(20)), Err(RequestError::Closed));
    assert_eq!(s.begin_post(at(20), None), Err(RequestError::Closed));
    assert_eq!(
        dispatch_all(&mut s, at(20)),
        [Dispatch::Disconnect(DisconnectReason::ServerDisconnect)]
    );
}

#[test]
fn server_disconnect_without_a_poll_keeps_the_sid_until_the_next_poll_takes_the_farewell() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.send(msg("a")).unwrap();
    s.close(DisconnectReason::ServerDisconnect, at(10));
    assert!(!seen.events(&mut s).forget);
    assert!(!s.is_finished());
    s.handle_timeout(at(300));
    assert_eq!(s.queued(), 1, "no ping after the close");

    s.begin_poll(at(400)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("4a\x1e1"));
    assert!(seen.events(&mut s).forget);
    assert!(s.is_finished());
}

#[test]
fn server_disconnect_farewell_spans_several_polls_over_the_poll_packet_limit() {
    let config = SessionConfig {
        max_poll_packets: 2,
        ..config()
    };
    let (mut s, at) = polling(config);
    let mut seen = Seen::default();
    for text in ["a", "b", "c"] {
        s.send(msg(text)).unwrap();
    }
    s.close(DisconnectReason::ServerDisconnect, at(10));
    s.begin_poll(at(20)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("4a\x1e4b"));
    assert!(!seen.events(&mut s).forget);
    s.begin_poll(at(30)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("4c\x1e1"));
    assert!(seen.events(&mut s).forget);
    assert!(s.is_finished());
}

#[test]
fn server_disconnect_nobody_polls_for_ends_at_close_timeout_and_forgets() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.send(msg("a")).unwrap();
    s.close(DisconnectReason::ServerDisconnect, at(10));
    let _ = seen.events(&mut s);
    assert_eq!(s.next_deadline(), Some(at(510)));

    s.handle_timeout(at(509));
    assert!(!seen.events(&mut s).forget);
    s.handle_timeout(at(510));
    let e = seen.events(&mut s);
    assert!(e.forget && e.wake && e.closed.is_none());
    assert!(s.is_finished());
    assert_eq!(s.next_deadline(), None);
    assert_eq!(s.begin_poll(at(520)), Err(RequestError::Closed));
}

#[test]
fn a_post_to_a_session_closing_by_server_disconnect_is_accepted_and_ignored() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.close(DisconnectReason::ServerDisconnect, at(10));
    let _ = seen.events(&mut s);
    post(&mut s, "4late\x1e1", at(20)).unwrap();
    post(&mut s, "2", at(30)).unwrap();
    assert_eq!(s.closed(), Some(DisconnectReason::ServerDisconnect));
    let e = seen.events(&mut s);
    assert!(e.closed.is_none() && !e.forget);
    assert_eq!(
        dispatch_all(&mut s, at(30)),
        [Dispatch::Disconnect(DisconnectReason::ServerDisconnect)]
    );
    // The farewell is still there for the next poll.
    s.begin_poll(at(40)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("1"));
}

#[test]
fn a_posted_close_packet_is_a_client_disconnect_and_the_poll_in_flight_gets_a_noop() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.begin_poll(at(0)).unwrap();
    post(&mut s, "4a\x1e4b\x1e1\x1e4c", at(10)).unwrap();
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::ClientDisconnect));
    assert!(e.forget && e.wake && e.dispatch);
    assert_eq!(s.poll_payload().as_deref(), Some("6"));
    assert!(s.is_finished());
    assert_eq!(s.next_deadline(), None);
    // The messages before the close packet come first; the one after it never.
    assert_eq!(
        dispatch_all(&mut s, at(20)),
        [
            dmsg("a"),
            dmsg("b"),
            Dispatch::Disconnect(DisconnectReason::ClientDisconnect)
        ]
    );
    assert!(seen.events(&mut s).closed.is_none());
}

#[test]
fn a_posted_close_packet_without_a_poll_finishes_at_once() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.send(msg("never sent")).unwrap();
    post(&mut s, "1", at(10)).unwrap();
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::ClientDisconnect));
    assert!(e.forget);
    assert!(s.is_finished());
    assert_eq!(s.queued(), 0);
    assert_eq!(s.begin_poll(at(20)), Err(RequestError::Closed));
}

#[test]
fn an_overlapping_get_is_a_transport_error_and_the_first_get_gets_close() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.send(msg("dropped")).unwrap();
    s.begin_poll(at(0)).unwrap();
    assert_eq!(s.begin_poll(at(10)), Err(RequestError::Overlap("GET")));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::TransportError));
    assert_eq!(seen.detail(), Some("overlapping GET requests"));
    assert!(e.forget && e.wake);
    assert_eq!(s.poll_payload().as_deref(), Some("1"));
    assert!(s.is_finished());
}

#[test]
fn an_overlapping_post_is_a_transport_error() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.begin_poll(at(0)).unwrap();
    s.begin_post(at(10), None).unwrap();
    assert_eq!(
        s.begin_post(at(20), None),
        Err(RequestError::Overlap("POST"))
    );
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::TransportError));
    assert_eq!(seen.detail(), Some("overlapping POST requests"));
    assert!(e.forget);
    assert_eq!(s.poll_payload().as_deref(), Some("1"));
    // The body of the first POST comes in after the close: ignored.
    s.post_payload(b"4a", at(30)).unwrap();
    assert!(s.post_accepted());
    assert_eq!(
        dispatch_all(&mut s, at(30)),
        [Dispatch::Disconnect(DisconnectReason::TransportError)]
    );
}

#[test]
fn an_octet_stream_post_is_invalid_content_and_closes() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    assert_eq!(
        s.begin_post(at(10), Some("Application/Octet-Stream; charset=binary")),
        Err(RequestError::InvalidContent)
    );
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::TransportError));
    assert!(e.forget);
    assert!(s.is_finished());

    let (mut other, at) = polling(config());
    other
        .begin_post(at(10), Some("text/plain; charset=UTF-8"))
        .unwrap();
    other.post_too_large();
    other.begin_post(at(20), None).unwrap();
    assert_eq!(other.closed(), None);
}

#[test]
fn an_aborted_poll_closes_the_session_with_transport_error() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.begin_poll(at(0)).unwrap();
    s.poll_aborted(at(10));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::TransportError));
    assert_eq!(seen.detail(), Some("poll connection closed prematurely"));
    assert!(e.forget);
    assert!(s.is_finished());
    // An abort with no poll in flight is nothing.
    s.poll_aborted(at(20));
    assert!(seen.events(&mut s).is_empty());
}

#[test]
fn an_aborted_poll_during_a_server_disconnect_farewell_does_not_close_again() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.close(DisconnectReason::ServerDisconnect, at(10));
    let _ = seen.events(&mut s);
    s.begin_poll(at(20)).unwrap();
    s.poll_aborted(at(30));
    let e = seen.events(&mut s);
    assert!(e.closed.is_none() && !e.forget);
    assert_eq!(s.closed(), Some(DisconnectReason::ServerDisconnect));
    assert!(!s.is_finished());
    s.begin_poll(at(40)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("1"));
    assert!(seen.events(&mut s).forget);
    assert_eq!(seen.reason(), Some(DisconnectReason::ServerDisconnect));
}

#[test]
fn an_aborted_poll_that_was_to_carry_the_close_packet_ends_the_session() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.handle_timeout(at(300));
    s.begin_poll(at(300)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("2"));
    s.begin_poll(at(310)).unwrap();
    s.handle_timeout(at(500));
    assert!(!s.is_finished());
    assert_eq!(s.next_deadline(), Some(at(1000)));
    s.poll_aborted(at(510));
    assert!(s.is_finished());
    assert_eq!(s.next_deadline(), None);
    let _ = seen.events(&mut s);
    assert_eq!(seen.reason(), Some(DisconnectReason::PingTimeout));
    assert!(seen.forgotten);
}

#[test]
fn an_aborted_post_while_its_body_is_read_closes_the_session() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.begin_post(at(0), None).unwrap();
    s.post_aborted(at(10));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::TransportError));
    assert_eq!(
        seen.detail(),
        Some("data request connection closed prematurely")
    );
    assert!(e.forget);
    assert!(s.is_finished());
}

#[test]
fn an_aborted_post_whose_body_is_in_does_not_close_and_its_packets_still_count() {
    let config = SessionConfig {
        max_inbox: 1,
        ..config()
    };
    let (mut s, at) = polling(config);
    let mut seen = Seen::default();
    s.begin_post(at(0), None).unwrap();
    s.post_payload(b"4a\x1e4b", at(0)).unwrap();
    assert!(!s.post_accepted());
    s.post_aborted(at(10));
    assert_eq!(s.closed(), None);
    assert_eq!(dispatch_all(&mut s, at(20)), [dmsg("a"), dmsg("b")]);

    post(&mut s, "4c", at(30)).unwrap();
    s.post_aborted(at(40)); // answered already
    assert_eq!(s.closed(), None);
    assert_eq!(dispatch_all(&mut s, at(50)), [dmsg("c")]);
    assert!(seen.events(&mut s).closed.is_none());
}

#[test]
fn a_parse_error_in_a_post_delivers_the_packets_before_it_then_closes() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.begin_poll(at(0)).unwrap();
    assert_eq!(post(&mut s, "4a\x1e4b\x1eX\x1e4c", at(10)), Ok(()));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::TransportError));
    assert!(seen.detail().unwrap().starts_with("parse error"));
    assert!(e.forget);
    assert_eq!(s.poll_payload().as_deref(), Some("1"));
    assert_eq!(
        dispatch_all(&mut s, at(20)),
        [
            dmsg("a"),
            dmsg("b"),
            Dispatch::Disconnect(DisconnectReason::TransportError)
        ]
    );
}

#[test]
fn a_parse_error_waits_its_turn_behind_a_full_inbox() {
    let config = SessionConfig {
        max_inbox: 1,
        ..config()
    };
    let (mut s, at) = polling(config);
    let mut seen = Seen::default();
    s.begin_post(at(0), None).unwrap();
    assert_eq!(s.post_payload(b"4a\x1e4b\x1e!", at(0)), Ok(()));
    assert_eq!(s.closed(), None);
    assert_eq!(s.next_dispatch(), Some(dmsg("a")));
    s.message_handled(at(10));
    assert_eq!(s.closed(), None);
    assert_eq!(s.next_dispatch(), Some(dmsg("b")));
    s.message_handled(at(20));
    assert_eq!(s.closed(), Some(DisconnectReason::TransportError));
    assert!(s.post_accepted());
    assert_eq!(
        s.next_dispatch(),
        Some(Dispatch::Disconnect(DisconnectReason::TransportError))
    );
    let _ = seen.events(&mut s);
    assert!(seen.forgotten);
}

#[test]
fn invalid_utf8_in_a_post_is_a_transport_error() {
    let (mut s, at) = polling(config());
    s.begin_post(at(0), None).unwrap();
    assert_eq!(s.post_payload(b"4a\xff", at(0)), Ok(()));
    assert_eq!(s.closed(), Some(DisconnectReason::TransportError));
    assert!(s.post_accepted());
}

#[test]
fn too_many_packets_in_a_post_close_the_session_and_deliver_none() {
    let config = SessionConfig {
        max_payload_packets: 2,
        ..config()
    };
    let (mut s, at) = polling(config);
    let mut seen = Seen::default();
    post(&mut s, "4a\x1e4b", at(0)).unwrap();
    s.begin_post(at(10), None).unwrap();
    assert_eq!(
        s.post_payload(b"4c\x1e4d\x1e4e", at(10)),
        Err(RequestError::TooManyPackets { limit: 2 })
    );
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::TransportError));
    assert!(e.forget);
    assert!(s.is_finished());
    assert_eq!(
        dispatch_all(&mut s, at(20)),
        [
            dmsg("a"),
            dmsg("b"),
            Dispatch::Disconnect(DisconnectReason::TransportError)
        ]
    );
}

#[test]
fn transport_close_on_polling_finishes_at_once() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.send(msg("a")).unwrap();
    s.close(DisconnectReason::TransportClose, at(10));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::TransportClose));
    assert!(e.forget);
    assert!(s.is_finished());
    assert_eq!(s.queued(), 0);
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn transport_close_answers_a_poll_in_flight_with_a_noop() {
    // As Node's polling transport does when it closes while writable.
    let (mut s, at) = polling(config());
    s.begin_poll(at(0)).unwrap();
    s.close(DisconnectReason::TransportClose, at(10));
    assert!(!s.is_finished());
    assert_eq!(s.poll_payload().as_deref(), Some("6"));
    assert!(s.is_finished());
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn an_empty_post_body_is_a_parse_error() {
    let (mut s, at) = polling(config());
    post(&mut s, "", at(10)).unwrap();
    assert_eq!(s.closed(), Some(DisconnectReason::TransportError));
    let closed = s.take_events().closed.unwrap();
    assert!(closed.detail.unwrap().starts_with("parse error"));
}

#[test]
fn limits_of_zero_act_as_one() {
    let config = SessionConfig {
        max_inbox: 0,
        max_poll_packets: 0,
        ..config()
    };
    let (mut s, at) = polling(config);
    s.send(msg("a")).unwrap();
    s.send(msg("b")).unwrap();
    s.begin_poll(at(0)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("4a"));
    s.begin_post(at(10), None).unwrap();
    s.post_payload(b"4x\x1e4y", at(10)).unwrap();
    assert!(!s.post_accepted());
    assert!(s.is_reading_paused());
    assert_eq!(dispatch_all(&mut s, at(20)), [dmsg("x"), dmsg("y")]);
    assert!(s.post_accepted());
}

// ---------------------------------------------------------------------------
// Close paths over WebSocket
// ---------------------------------------------------------------------------

#[test]
fn server_disconnect_on_websocket_writes_the_queue_and_close_then_a_close_frame() {
    let (mut s, ws, at) = websocket(config());
    let mut seen = Seen::default();
    s.send(msg("a")).unwrap();
    s.send(msg("b")).unwrap();
    s.close(DisconnectReason::ServerDisconnect, at(10));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::ServerDisconnect));
    assert!(e.wake && !e.forget);
    assert!(!s.ws_can_read(ws));

    assert_eq!(texts(s.ws_transmit(ws)), ["4a", "4b", "1"]);
    assert!(!s.is_finished());
    assert!(!seen.events(&mut s).forget);
    assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None));
    assert!(s.is_finished());
    assert!(seen.events(&mut s).forget);
    assert_eq!(s.websocket(), None);
    assert_eq!(s.next_deadline(), None);
    assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None));
    assert!(seen.events(&mut s).is_empty());
}

#[test]
fn server_disconnect_on_websocket_ends_at_close_timeout_when_the_loop_never_writes() {
    let (mut s, ws, at) = websocket(config());
    let mut seen = Seen::default();
    s.close(DisconnectReason::ServerDisconnect, at(10));
    let _ = seen.events(&mut s);
    assert_eq!(s.next_deadline(), Some(at(510)));
    s.handle_timeout(at(510));
    let e = seen.events(&mut s);
    assert!(e.forget && e.wake);
    assert!(s.is_finished());
    assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None));
}

#[test]
fn ws_ended_during_a_server_disconnect_farewell_forgets_without_a_second_close() {
    let (mut s, ws, at) = websocket(config());
    let mut seen = Seen::default();
    s.close(DisconnectReason::ServerDisconnect, at(10));
    let _ = seen.events(&mut s);
    assert_eq!(s.ws_ended(ws, WsEnd::Closed, at(20)), WsFinish::Drop);
    let e = seen.events(&mut s);
    assert!(e.forget && e.closed.is_none());
    assert!(s.is_finished());
    assert_eq!(seen.reason(), Some(DisconnectReason::ServerDisconnect));
}

#[test]
fn ping_timeout_on_websocket_sends_a_close_frame_and_no_close_packet() {
    let (mut s, ws, at) = websocket(config());
    let mut seen = Seen::default();
    s.send(msg("a")).unwrap();
    s.handle_timeout(at(300));
    s.handle_timeout(at(500));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::PingTimeout));
    assert!(e.forget && e.wake);
    assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None));
    assert!(s.is_finished());
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn a_close_packet_over_websocket_is_a_client_disconnect_answered_with_a_close_frame() {
    let (mut s, ws, at) = websocket(config());
    let mut seen = Seen::default();
    s.ws_receive(ws, Packet::Close, at(10));
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::ClientDisconnect));
    assert!(e.forget && e.dispatch);
    assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None));
    assert_eq!(s.ws_ended(ws, WsEnd::Closed, at(20)), WsFinish::Drop);
    assert!(seen.events(&mut s).closed.is_none());
    assert!(s.is_finished());
}

#[test]
fn ws_ended_closes_with_the_reason_and_finish_of_each_ending() {
    let cases = [
        (
            WsEnd::Closed,
            DisconnectReason::TransportClose,
            WsFinish::Drop,
        ),
        (
            WsEnd::Failed,
            DisconnectReason::TransportError,
            WsFinish::Drop,
        ),
        (
            WsEnd::Undecodable("bad".into()),
            DisconnectReason::TransportError,
            WsFinish::Close(None),
        ),
        (
            WsEnd::TooBig,
            DisconnectReason::TransportError,
            WsFinish::Close(Some(CLOSE_MESSAGE_TOO_BIG)),
        ),
    ];
    for (end, expected, finish) in cases {
        let (mut s, ws, at) = websocket(config());
        let mut seen = Seen::default();
        s.send(msg("a")).unwrap();
        s.ws_receive(ws, Packet::message("in"), at(5));
        assert_eq!(s.ws_ended(ws, end.clone(), at(10)), finish, "{end:?}");
        let e = seen.events(&mut s);
        assert_eq!(reason(&e), Some(expected), "{end:?}");
        assert!(e.forget && e.wake && e.dispatch, "{end:?}");
        assert!(s.is_finished(), "{end:?}");
        assert_eq!(s.next_deadline(), None, "{end:?}");
        assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None), "{end:?}");
        assert_eq!(
            dispatch_all(&mut s, at(20)),
            [dmsg("in"), Dispatch::Disconnect(expected)],
            "{end:?}"
        );
        // The end of a gone WebSocket changes nothing.
        assert_eq!(s.ws_ended(ws, WsEnd::Failed, at(30)), WsFinish::Drop);
        assert!(seen.events(&mut s).is_empty(), "{end:?}");
    }
    let (mut s, ws, at) = websocket(config());
    s.ws_ended(ws, WsEnd::Undecodable("bad".into()), at(10));
    let detail = s.take_events().closed.unwrap().detail.unwrap();
    assert_eq!(detail, "parse error: bad");
}

// ---------------------------------------------------------------------------
// Polling
// ---------------------------------------------------------------------------

#[test]
fn a_poll_takes_at_most_max_poll_packets() {
    let config = SessionConfig {
        max_poll_packets: 2,
        ..config()
    };
    let (mut s, at) = polling(config);
    s.begin_poll(at(0)).unwrap();
    assert_eq!(s.poll_payload(), None);
    for text in ["a", "b", "c"] {
        s.send(msg(text)).unwrap();
    }
    assert_eq!(s.poll_payload().as_deref(), Some("4a\x1e4b"));
    assert_eq!(s.poll_payload(), None, "the GET is over");
    s.begin_poll(at(10)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("4c"));
    assert_eq!(s.queued(), 0);
}

#[test]
fn a_poll_respects_max_poll_bytes_but_sends_a_lone_large_packet() {
    let config = SessionConfig {
        max_poll_bytes: 10,
        ..config()
    };
    let (mut s, at) = polling(config);
    for text in ["0123456789abc", "x", "y", "zzzzzz"] {
        s.send(msg(text)).unwrap();
    }
    let mut polls = Vec::new();
    for n in 0..3 {
        s.begin_poll(at(n)).unwrap();
        polls.push(s.poll_payload().unwrap());
    }
    assert_eq!(polls, ["40123456789abc", "4x\x1e4y", "4zzzzzz"]);
}

#[test]
fn the_open_packet_counts_as_one_of_the_poll_packets() {
    let (mut s, at) = polling(config());
    for i in 0..40 {
        s.send(msg(&format!("m{i}"))).unwrap();
    }
    let body = s.open_payload(&Packet::Noop);
    let parts: Vec<&str> = body.split('\x1e').collect();
    assert_eq!(parts.len(), 16);
    assert_eq!((parts[0], parts[1], parts[15]), ("6", "4m0", "4m14"));
    assert_eq!(s.queued(), 25);
    s.begin_poll(at(0)).unwrap();
    assert!(s.poll_payload().unwrap().starts_with("4m15\x1e"));
    assert_eq!(s.queued(), 9);
}

#[test]
fn a_poll_held_for_max_poll_wait_gets_a_noop() {
    let config = SessionConfig {
        max_poll_wait: ms(100),
        ..config()
    };
    let (mut s, at) = polling(config);
    let mut seen = Seen::default();
    s.begin_poll(at(0)).unwrap();
    assert_eq!(s.next_deadline(), Some(at(100)));
    assert!(seen.events(&mut s).deadline_changed);
    arm(&mut s);
    assert_eq!(s.poll_payload(), None);

    s.handle_timeout(at(99));
    assert_eq!(s.poll_payload(), None);
    s.handle_timeout(at(100));
    assert!(seen.events(&mut s).wake);
    assert_eq!(
        s.next_deadline(),
        Some(at(300)),
        "the expired poll is no deadline"
    );
    assert_eq!(s.poll_payload().as_deref(), Some("6"));
    assert_eq!(s.closed(), None);

    // The next poll waits as usual.
    s.begin_poll(at(110)).unwrap();
    assert_eq!(s.poll_payload(), None);
    assert_eq!(s.next_deadline(), Some(at(210)));
    s.send(msg("a")).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("4a"));
}

#[test]
fn text_with_the_record_separator_is_refused_on_polling_only() {
    let (mut s, _) = polling(config());
    assert_eq!(s.send(msg("hi\x1e1")), Err(SendError::SeparatorInText));
    assert_eq!(s.queued(), 0);
    s.send(Packet::message(vec![0x1e_u8]).into()).unwrap();
    let (mut ws_session, _, _) = websocket(config());
    ws_session.send(msg("hi\x1e1")).unwrap();
}

#[test]
fn the_queue_limit_counts_application_packets_only() {
    let config = SessionConfig {
        max_queue: 1,
        ..config()
    };
    let (mut s, at) = polling(config);
    s.send(msg("a")).unwrap();
    s.handle_timeout(at(300));
    assert_eq!(s.queued(), 2);
    assert_eq!(s.send(msg("b")), Err(SendError::QueueFull { limit: 1 }));
    s.begin_poll(at(300)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("4a\x1e2"));
    s.send(msg("b")).unwrap();
    assert_eq!(s.send(msg("c")), Err(SendError::QueueFull { limit: 1 }));
}

// ---------------------------------------------------------------------------
// Upgrade
// ---------------------------------------------------------------------------

#[test]
fn an_upgrade_probes_releases_the_poll_and_moves_the_queue_to_the_websocket_once() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.begin_poll(at(0)).unwrap();
    let ws = s.attach_websocket(at(0)).unwrap();
    assert_eq!(s.websocket(), Some(ws));
    assert_eq!(s.next_deadline(), Some(at(150)));
    assert!(seen.events(&mut s).deadline_changed);
    assert!(s.ws_can_read(ws));
    assert_eq!(s.ws_transmit(ws), WsTransmit::Idle);
    assert_eq!(
        s.poll_payload(),
        None,
        "before the probe, polls wait as usual"
    );

    s.ws_receive(ws, Packet::Ping(PROBE.into()), at(10));
    assert!(seen.events(&mut s).wake);
    assert_eq!(texts(s.ws_transmit(ws)), ["3probe"]);
    assert_eq!(s.ws_transmit(ws), WsTransmit::Idle);
    assert_eq!(s.poll_payload().as_deref(), Some("6"));

    s.send(msg("a")).unwrap();
    s.send(Packet::message(vec![1_u8]).into()).unwrap();
    assert_eq!(s.send(msg("x\x1ey")), Err(SendError::SeparatorInText));
    s.begin_poll(at(20)).unwrap();
    assert_eq!(
        s.poll_payload().as_deref(),
        Some("6"),
        "the queue waits for the WebSocket"
    );
    assert_eq!(s.ws_transmit(ws), WsTransmit::Idle);

    s.ws_receive(ws, Packet::Upgrade, at(30));
    assert_eq!(s.transport(), Transport::WebSocket);
    assert!(seen.events(&mut s).wake);
    assert_eq!(
        s.next_deadline(),
        Some(at(300)),
        "no upgrade deadline any more"
    );
    assert_eq!(texts(s.ws_transmit(ws)), ["4a", "bAQ=="]);
    assert_eq!(s.ws_transmit(ws), WsTransmit::Idle);
    assert_eq!(s.queued(), 0);

    assert_eq!(s.begin_poll(at(40)), Err(RequestError::Upgraded));
    assert_eq!(s.begin_post(at(40), None), Err(RequestError::Upgraded));
    assert_eq!(
        s.attach_websocket(at(40)),
        Err(RequestError::WebSocketExists)
    );
    s.send(msg("x\x1ey")).unwrap();
    assert_eq!(texts(s.ws_transmit(ws)), ["4x\x1ey"]);

    s.ws_receive(ws, Packet::message("over ws"), at(50));
    assert_eq!(dispatch_all(&mut s, at(50)), [dmsg("over ws")]);
    assert!(seen.closed.is_none());
}

#[test]
fn a_poll_in_flight_when_the_upgrade_completes_gets_a_noop() {
    let (mut s, at) = polling(config());
    let ws = s.attach_websocket(at(0)).unwrap();
    s.ws_receive(ws, Packet::Ping(PROBE.into()), at(10));
    assert_eq!(texts(s.ws_transmit(ws)), ["3probe"]);
    s.send(msg("a")).unwrap();
    s.begin_poll(at(20)).unwrap();
    s.ws_receive(ws, Packet::Upgrade, at(30));
    assert_eq!(s.poll_payload().as_deref(), Some("6"));
    assert_eq!(texts(s.ws_transmit(ws)), ["4a"]);
}

#[test]
fn an_upgrade_packet_without_a_probe_also_upgrades() {
    let (mut s, at) = polling(config());
    s.send(msg("a")).unwrap();
    let ws = s.attach_websocket(at(0)).unwrap();
    s.ws_receive(ws, Packet::Upgrade, at(10));
    assert_eq!(s.transport(), Transport::WebSocket);
    assert_eq!(texts(s.ws_transmit(ws)), ["4a"]);
    assert_eq!(s.begin_poll(at(20)), Err(RequestError::Upgraded));
}

#[test]
fn the_probe_reports_upgrading_and_the_upgrade_packet_upgraded_once_each() {
    let (mut s, at) = polling(config());
    let ws = s.attach_websocket(at(0)).unwrap();
    let attached = s.take_events();
    assert!(!attached.upgrading && !attached.upgraded);
    s.ws_receive(ws, Packet::Ping(PROBE.into()), at(10));
    let probed = s.take_events();
    assert!(probed.upgrading && !probed.upgraded);
    let _ = s.ws_transmit(ws);
    s.ws_receive(ws, Packet::Upgrade, at(20));
    let upgraded = s.take_events();
    assert!(upgraded.upgraded && !upgraded.upgrading);
    // Packets over the upgraded WebSocket are messages, not upgrades again.
    s.ws_receive(ws, Packet::message("hi"), at(30));
    let later = s.take_events();
    assert!(!later.upgraded && !later.upgrading);
}

#[test]
fn a_wrong_probe_reports_no_upgrade_event() {
    let (mut s, at) = polling(config());
    let ws = s.attach_websocket(at(0)).unwrap();
    let _ = s.take_events();
    s.ws_receive(ws, Packet::Ping("nope".into()), at(10));
    let events = s.take_events();
    assert!(!events.upgrading && !events.upgraded);
}

#[test]
fn a_wrong_probe_aborts_the_upgrade_polling_goes_on_and_a_new_attach_works() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    let ws = s.attach_websocket(at(0)).unwrap();
    s.ws_receive(ws, Packet::Ping("nope".into()), at(10));
    assert!(seen.events(&mut s).wake);
    assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None));
    assert_eq!(s.websocket(), None);
    assert_eq!(s.transport(), Transport::Polling);
    assert_eq!(s.next_deadline(), Some(at(300)));

    s.send(msg("still here")).unwrap();
    s.begin_poll(at(20)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("4still here"));

    let ws2 = s.attach_websocket(at(30)).unwrap();
    assert_ne!(ws, ws2);
    // The stale WebSocket is closed and ignored.
    assert!(!s.ws_can_read(ws));
    assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None));
    s.ws_receive(ws, Packet::Upgrade, at(40));
    s.ws_receive(ws, Packet::message("stale"), at(40));
    assert_eq!(s.transport(), Transport::Polling);
    assert_eq!(s.ws_ended(ws, WsEnd::Closed, at(40)), WsFinish::Drop);
    assert_eq!(s.closed(), None);
    assert_eq!(s.websocket(), Some(ws2));
    assert_eq!(s.next_dispatch(), None);

    s.ws_receive(ws2, Packet::Ping(PROBE.into()), at(50));
    assert_eq!(texts(s.ws_transmit(ws2)), ["3probe"]);
    s.ws_receive(ws2, Packet::Upgrade, at(60));
    assert_eq!(s.transport(), Transport::WebSocket);
    assert!(seen.closed.is_none());
}

#[test]
fn any_other_packet_after_the_probe_aborts_the_upgrade() {
    for packet in [
        Packet::message("hi"),
        Packet::Noop,
        Packet::pong(),
        Packet::Close,
    ] {
        let (mut s, at) = polling(config());
        let ws = s.attach_websocket(at(0)).unwrap();
        s.ws_receive(ws, Packet::Ping(PROBE.into()), at(10));
        assert_eq!(texts(s.ws_transmit(ws)), ["3probe"]);
        s.ws_receive(ws, packet.clone(), at(20));
        assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None), "{packet:?}");
        assert_eq!(s.closed(), None, "{packet:?}");
        assert_eq!(s.next_dispatch(), None, "{packet:?}");
        // Polls are served as usual again, no more noops.
        s.send(msg("x")).unwrap();
        s.begin_poll(at(30)).unwrap();
        assert_eq!(s.poll_payload().as_deref(), Some("4x"), "{packet:?}");
    }
}

#[test]
fn the_upgrade_timeout_abandons_the_upgrade_and_closes_its_websocket() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    let ws = s.attach_websocket(at(10)).unwrap();
    assert_eq!(s.next_deadline(), Some(at(160)));
    assert!(seen.events(&mut s).deadline_changed);
    arm(&mut s);
    s.ws_receive(ws, Packet::Ping(PROBE.into()), at(20));
    assert_eq!(texts(s.ws_transmit(ws)), ["3probe"]);

    s.handle_timeout(at(159));
    assert_eq!(s.websocket(), Some(ws));
    s.handle_timeout(at(160));
    assert!(seen.events(&mut s).wake);
    assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None));
    assert_eq!(s.websocket(), None);
    assert_eq!(s.closed(), None);
    assert_eq!(s.next_deadline(), Some(at(300)));
    s.send(msg("a")).unwrap();
    s.begin_poll(at(170)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("4a"));
    s.attach_websocket(at(180)).unwrap();
}

#[test]
fn a_second_websocket_is_refused_while_upgrading_after_the_upgrade_and_on_a_websocket_session() {
    let (mut s, at) = polling(config());
    let ws = s.attach_websocket(at(0)).unwrap();
    assert_eq!(
        s.attach_websocket(at(1)),
        Err(RequestError::WebSocketExists)
    );
    s.ws_receive(ws, Packet::Ping(PROBE.into()), at(2));
    assert_eq!(
        s.attach_websocket(at(3)),
        Err(RequestError::WebSocketExists)
    );
    s.ws_receive(ws, Packet::Upgrade, at(4));
    assert_eq!(
        s.attach_websocket(at(5)),
        Err(RequestError::WebSocketExists)
    );
    assert_eq!(s.websocket(), Some(ws));
    assert_eq!(s.closed(), None);

    let (mut born, _, at) = websocket(config());
    assert_eq!(
        born.attach_websocket(at(0)),
        Err(RequestError::WebSocketExists)
    );
    born.close(DisconnectReason::ServerDisconnect, at(1));
    assert_eq!(born.attach_websocket(at(2)), Err(RequestError::Closed));
}

#[test]
fn closing_during_an_upgrade_closes_the_probing_websocket() {
    for reason in [
        DisconnectReason::ServerDisconnect,
        DisconnectReason::PingTimeout,
    ] {
        let (mut s, at) = polling(config());
        let ws = s.attach_websocket(at(0)).unwrap();
        s.ws_receive(ws, Packet::Ping(PROBE.into()), at(10));
        s.close(reason, at(20));
        assert_eq!(s.websocket(), None, "{reason}");
        assert!(!s.ws_can_read(ws));
        assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None), "{reason}");
        s.ws_receive(ws, Packet::Upgrade, at(30));
        assert_eq!(s.transport(), Transport::Polling, "{reason}");
        assert_eq!(s.ws_ended(ws, WsEnd::Closed, at(30)), WsFinish::Drop);
        assert_eq!(s.closed(), Some(reason));
    }
    // The server's farewell still goes to the next poll.
    let (mut s, at) = polling(config());
    let ws = s.attach_websocket(at(0)).unwrap();
    s.ws_receive(ws, Packet::Ping(PROBE.into()), at(10));
    s.close(DisconnectReason::ServerDisconnect, at(20));
    s.begin_poll(at(30)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("1"));
    assert!(s.is_finished());
}

#[test]
fn the_end_of_a_probing_websocket_abandons_the_upgrade_only() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    let ws = s.attach_websocket(at(0)).unwrap();
    s.ws_receive(ws, Packet::Ping(PROBE.into()), at(10));
    assert_eq!(s.ws_ended(ws, WsEnd::Failed, at(20)), WsFinish::Drop);
    assert_eq!(s.closed(), None);
    assert_eq!(s.websocket(), None);
    assert!(seen.events(&mut s).closed.is_none());
    assert_eq!(s.next_deadline(), Some(at(300)));
    s.attach_websocket(at(30)).unwrap();
}

#[test]
fn an_upgraded_session_runs_its_heartbeat_and_closes_over_the_websocket() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    let ws = s.attach_websocket(at(0)).unwrap();
    s.ws_receive(ws, Packet::Ping(PROBE.into()), at(10));
    assert_eq!(texts(s.ws_transmit(ws)), ["3probe"]);
    s.ws_receive(ws, Packet::Upgrade, at(20));
    s.handle_timeout(at(300));
    assert_eq!(texts(s.ws_transmit(ws)), ["2"]);
    s.ws_receive(ws, Packet::pong(), at(350));
    assert_eq!(s.next_deadline(), Some(at(650)));
    assert_eq!(s.ws_ended(ws, WsEnd::Closed, at(400)), WsFinish::Drop);
    let e = seen.events(&mut s);
    assert_eq!(reason(&e), Some(DisconnectReason::TransportClose));
    assert!(e.forget);
    assert!(s.is_finished());
}

// ---------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------

#[test]
fn next_deadline_is_the_earliest_of_heartbeat_upgrade_poll_and_close() {
    let config = SessionConfig {
        max_poll_wait: ms(200),
        close_timeout: ms(100),
        ..config()
    };
    let (mut s, at) = polling(config);
    let mut seen = Seen::default();
    assert_eq!(s.next_deadline(), Some(at(300)), "the first ping");
    assert!(seen.events(&mut s).is_empty());

    s.begin_poll(at(0)).unwrap();
    assert_eq!(s.next_deadline(), Some(at(200)), "the poll's safety net");
    assert!(seen.events(&mut s).deadline_changed);
    arm(&mut s);

    let ws = s.attach_websocket(at(10)).unwrap();
    assert_eq!(s.next_deadline(), Some(at(160)), "the upgrade timeout");
    assert!(seen.events(&mut s).deadline_changed);
    arm(&mut s);

    s.handle_timeout(at(160));
    assert_eq!(s.ws_transmit(ws), WsTransmit::Close(None));
    assert_eq!(s.next_deadline(), Some(at(200)));
    assert!(
        !seen.events(&mut s).deadline_changed,
        "later than the timer that fired"
    );
    arm(&mut s);

    s.handle_timeout(at(200));
    assert_eq!(s.poll_payload().as_deref(), Some("6"));
    assert_eq!(s.next_deadline(), Some(at(300)));
    assert!(!seen.events(&mut s).deadline_changed);
    arm(&mut s);

    s.handle_timeout(at(300));
    assert_eq!(s.next_deadline(), Some(at(500)), "the pong deadline");
    arm(&mut s);
    s.begin_poll(at(300)).unwrap();
    assert_eq!(s.next_deadline(), Some(at(500)));
    assert_eq!(s.poll_payload().as_deref(), Some("2"));
    post(&mut s, "3", at(350)).unwrap();
    assert_eq!(s.next_deadline(), Some(at(650)), "the next ping");
    assert!(
        !seen.events(&mut s).deadline_changed,
        "later than the armed 500"
    );

    s.close(DisconnectReason::ServerDisconnect, at(380));
    assert_eq!(
        s.next_deadline(),
        Some(at(480)),
        "only the close timeout is left"
    );
    assert!(
        seen.events(&mut s).deadline_changed,
        "480 is before the armed 500"
    );
    arm(&mut s);
    s.handle_timeout(at(480));
    assert_eq!(s.next_deadline(), None);
    assert!(seen.events(&mut s).forget);
}

#[test]
fn deadline_changed_is_not_reported_for_a_deadline_already_armed_or_later() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    arm(&mut s);
    s.send(msg("a")).unwrap();
    s.begin_poll(at(0)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("4a"));
    assert!(!seen.events(&mut s).deadline_changed);

    // The runtime's timer sleeps until 250, later than the ping.
    s.timer_armed(Some(at(250)));
    let _ = s.attach_websocket(at(50)).unwrap(); // 200
    assert!(seen.events(&mut s).deadline_changed);
    s.timer_armed(None);
    s.begin_poll(at(60)).unwrap(); // 1060, but no timer is armed
    assert!(seen.events(&mut s).deadline_changed);
}

#[test]
fn the_probe_answer_is_written_even_when_5_came_before_it() {
    let (mut s, at) = polling(config());
    s.send(Packet::message("queued").into()).unwrap();
    let ws = s.attach_websocket(at(0)).unwrap();
    s.ws_receive(ws, Packet::Ping(PROBE.into()), at(1));
    s.ws_receive(ws, Packet::Upgrade, at(2));
    let texts = |t: WsTransmit| -> Vec<String> {
        match t {
            WsTransmit::Write(packets) => packets.iter().map(|p| p.text().to_owned()).collect(),
            other => panic!("expected packets, got {other:?}"),
        }
    };
    assert_eq!(texts(s.ws_transmit(ws)), ["3probe"]);
    assert_eq!(texts(s.ws_transmit(ws)), ["4queued"]);
    assert_eq!(s.ws_transmit(ws), WsTransmit::Idle);
}

#[test]
fn a_poll_arriving_after_the_pong_deadline_finds_the_session_timed_out() {
    // The runtime's timer may fire a little late; a request that comes in
    // the meantime must not find the session alive.
    let (mut s, at) = polling(config());
    s.handle_timeout(at(300));
    assert_eq!(s.begin_poll(at(501)), Err(RequestError::Closed));
    assert_eq!(s.closed(), Some(DisconnectReason::PingTimeout));
    let (mut s, at) = polling(config());
    s.handle_timeout(at(300));
    assert_eq!(s.begin_post(at(501), None), Err(RequestError::Closed));
    let (mut s, at) = polling(config());
    s.handle_timeout(at(300));
    assert_eq!(s.attach_websocket(at(501)), Err(RequestError::Closed));
}

/// A v3 polling session (the client pings), and the instant `n` ms after
/// its start.
impl Session {
    /// A whole POST: begin, body, accepted.
    fn post_payload_for_test(&mut self, body: &[u8], now: Instant) {
        self.begin_post(now, None).unwrap();
        self.post_payload(body, now).unwrap();
        while let Some(Dispatch::Message(_)) = self.next_dispatch() {
            self.message_handled(now);
        }
        assert!(self.post_accepted());
    }
}

fn polling_v3(config: SessionConfig) -> (Session, impl Fn(u64) -> Instant + Copy) {
    let t0 = Instant::now();
    let wire = crate::server::Wire {
        protocol: crate::server::Protocol::V3,
        ..crate::server::Wire::default()
    };
    (
        Session::with_wire(Transport::Polling, config, wire, t0),
        move |n| t0 + ms(n),
    )
}

#[test]
fn a_v3_session_never_pings_answers_client_pings_and_times_out_without_them() {
    let (mut s, at) = polling_v3(config());
    // No server ping: the first deadline is interval + timeout away.
    assert_eq!(s.next_deadline(), Some(at(500)));
    s.handle_timeout(at(400));
    assert_eq!(s.queued(), 0);
    // A client ping at 400 ms gets a pong without data and a new deadline.
    s.post_payload_for_test(b"1:2", at(400));
    assert_eq!(s.next_deadline(), Some(at(900)));
    s.begin_poll(at(410)).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("1:3"));
    // Other packets do not push the deadline back (Node refreshes it on pings only).
    s.post_payload_for_test(b"6:4hello", at(800));
    assert_eq!(s.next_deadline(), Some(at(900)));
    s.handle_timeout(at(900));
    assert_eq!(s.closed(), Some(DisconnectReason::PingTimeout));
}

#[test]
fn a_v3_client_sending_a_pong_breaks_the_heartbeat_direction() {
    let (mut s, at) = polling_v3(config());
    s.post_payload_for_test(b"1:3", at(10));
    assert_eq!(s.closed(), Some(DisconnectReason::TransportError));
}

#[test]
fn a_v3_session_takes_text_with_the_record_separator_and_frames_by_length() {
    let (mut s, at) = polling_v3(config());
    s.send(msg("a\u{1e}b")).unwrap();
    s.send(Packet::message(vec![1u8, 2]).into()).unwrap();
    s.begin_poll(at(10)).unwrap();
    // The client takes raw binary: a binary payload (0 = text entry,
    // 1 = binary entry; lengths as digit bytes; 0xFF).
    let body = s.poll_response().unwrap();
    assert_eq!(
        body.as_bytes(),
        [0, 4, 255, b'4', b'a', 0x1e, b'b', 1, 3, 255, 4, 1, 2]
    );
}

// ---------------------------------------------------------------------------
// WebTransport: the same slot and the same upgrade as WebSocket
// ---------------------------------------------------------------------------

#[test]
fn a_webtransport_stream_upgrades_a_polling_session_as_a_websocket_would() {
    let (mut s, at) = polling(config());
    let mut seen = Seen::default();
    s.begin_poll(at(0)).unwrap();
    s.send(msg("queued")).unwrap();
    assert_eq!(s.poll_payload().as_deref(), Some("4queued"));
    s.begin_poll(at(1)).unwrap();
    let wt = s.attach_webtransport(at(1)).unwrap();
    assert_eq!(s.websocket(), Some(wt));
    assert_eq!(s.next_deadline(), Some(at(151)), "the upgrade timeout");
    assert_eq!(
        s.attach_websocket(at(2)),
        Err(RequestError::WebSocketExists),
        "one upgrade at a time, whatever the transport"
    );

    s.ws_receive(wt, Packet::Ping(PROBE.into()), at(10));
    assert!(seen.events(&mut s).upgrading);
    assert_eq!(texts(s.ws_transmit(wt)), ["3probe"]);
    assert_eq!(s.poll_payload().as_deref(), Some("6"));
    s.send(msg("a")).unwrap();
    s.send(Packet::message(vec![1_u8]).into()).unwrap();
    assert_eq!(s.ws_transmit(wt), WsTransmit::Idle, "the queue waits for 5");

    s.ws_receive(wt, Packet::Upgrade, at(20));
    assert!(seen.events(&mut s).upgraded);
    assert_eq!(s.transport(), Transport::WebTransport);
    assert_eq!(texts(s.ws_transmit(wt)), ["4a", "bAQ=="]);
    assert_eq!(s.begin_poll(at(30)), Err(RequestError::Upgraded));
    assert_eq!(s.begin_post(at(30), None), Err(RequestError::Upgraded));
    assert_eq!(
        s.attach_webtransport(at(30)),
        Err(RequestError::WebSocketExists)
    );
    // Text with a record separator is fine on a stream.
    s.send(msg("x\x1ey")).unwrap();
    assert_eq!(texts(s.ws_transmit(wt)), ["4x\x1ey"]);

    s.ws_receive(wt, Packet::message("over wt"), at(40));
    assert_eq!(dispatch_all(&mut s, at(40)), [dmsg("over wt")]);

    assert_eq!(s.ws_ended(wt, WsEnd::Failed, at(50)), WsFinish::Drop);
    let _ = seen.events(&mut s);
    assert_eq!(seen.reason(), Some(DisconnectReason::TransportError));
    assert_eq!(seen.detail(), Some("WebTransport error"));
}

#[test]
fn an_abandoned_webtransport_upgrade_leaves_polling_and_allows_a_websocket() {
    let (mut s, at) = polling(config());
    let wt = s.attach_webtransport(at(0)).unwrap();
    s.ws_receive(wt, Packet::Ping(PROBE.into()), at(10));
    assert_eq!(texts(s.ws_transmit(wt)), ["3probe"]);
    assert_eq!(s.ws_ended(wt, WsEnd::Closed, at(20)), WsFinish::Drop);
    assert_eq!(s.transport(), Transport::Polling);
    assert!(s.closed().is_none());
    s.begin_poll(at(30)).unwrap();
    let ws = s.attach_websocket(at(30)).unwrap();
    s.ws_receive(ws, Packet::Upgrade, at(40));
    assert_eq!(s.transport(), Transport::WebSocket);

    // The upgrade timeout abandons a silent stream too.
    let (mut s, at) = polling(config());
    let wt = s.attach_webtransport(at(0)).unwrap();
    s.handle_timeout(at(150));
    assert_eq!(s.ws_transmit(wt), WsTransmit::Close(None));
    assert!(s.closed().is_none());
}

#[test]
fn a_session_opened_over_webtransport_runs_on_its_stream() {
    let t0 = Instant::now();
    let mut seen = Seen::default();
    let mut s = Session::new(Transport::WebTransport, config(), t0);
    let wt = s.websocket().expect("its stream");
    assert_eq!(s.transport(), Transport::WebTransport);
    assert!(s.ws_can_read(wt));
    assert_eq!(s.begin_poll(t0), Err(RequestError::Upgraded));
    s.handle_timeout(t0 + ms(300));
    assert_eq!(texts(s.ws_transmit(wt)), ["2"]);
    s.ws_receive(wt, Packet::Pong(String::new()), t0 + ms(310));
    s.send(msg("bye")).unwrap();
    s.close(DisconnectReason::ServerDisconnect, t0 + ms(320));
    assert_eq!(texts(s.ws_transmit(wt)), ["4bye", "1"]);
    assert_eq!(s.ws_transmit(wt), WsTransmit::Close(None));
    let _ = seen.events(&mut s);
    assert!(seen.forgotten);

    let mut s = Session::new(Transport::WebTransport, config(), t0);
    let wt = s.websocket().expect("its stream");
    assert_eq!(
        s.ws_ended(wt, WsEnd::TooBig, t0),
        WsFinish::Close(Some(CLOSE_MESSAGE_TOO_BIG))
    );
    assert_eq!(
        s.take_events()
            .closed
            .and_then(|closed| closed.detail)
            .as_deref(),
        Some("a WebTransport message over max_http_buffer_size")
    );
}
