//! Fuzzes the client `Connection` state machine against everything a server
//! (and the network) can answer: poll bodies (open packets built from the
//! input, packets, garbage), WebSocket frames (text and binary), failed
//! GETs, POSTs and WebSocket opens, clean and unclean WebSocket ends, along
//! with the application's calls (sends, close, abort, `written`) and timers
//! at growing times.
//!
//! The runtime is simulated faithfully: it only reports the outcome of a
//! request it was asked to make (the GET and POST in flight, the WebSockets
//! it opened, by `WsId`), reports messages of a lost WebSocket as written,
//! and drains `poll_transmit` and `poll_event` after every call. Checked:
//! never a panic; `Closed` at most once, last, and only `WsClose` after it,
//! with every WebSocket closed; never a second GET or POST in flight, and
//! none after the upgrade; the upgrade only with polling paused, `2probe`
//! first on the probe and `5` first after it; `Opened` at most once and
//! before anything else; writes only on open WebSockets; messages reach the
//! server in the order they were sent; `queued()` never over `max_queue`
//! and exactly what the docs of `queued`/`written` say; a POST within the
//! server's `maxPayload` unless it holds one packet; `next_deadline()` never
//! before the start, and after `handle_timeout(now)` never at or before
//! `now`.
#![no_main]

use std::time::{Duration, Instant};

use engineio_proto::client::{Connection, ConnectionConfig, Event, Transmit, WsId};
use engineio_proto::{
    DisconnectReason, Frame, Handshake, Message, Packet, PayloadLimits, RECORD_SEPARATOR,
    Transport, decode_payload, encode_payload,
};
use libfuzzer_sys::fuzz_target;

/// Whether to print every call, transmit and event (`CLIENT_OPS_TRACE=1`,
/// to read a crash).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("CLIENT_OPS_TRACE").is_some())
}

/// The fuzz input, read byte by byte (zeros once it runs out).
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head.to_vec()
    }

    fn string(&mut self, max: usize) -> String {
        let len = usize::from(self.byte()) % (max + 1);
        String::from_utf8_lossy(&self.bytes(len)).into_owned()
    }
}

/// A server handshake built from the input.
fn handshake(input: &mut Input<'_>, b: u8) -> Handshake {
    let sid = match b % 4 {
        0 => "abc".to_owned(),
        1 => String::new(),
        2 => "lv_VI97HAXpY6yYWAAAC".to_owned(),
        _ => input.string(8),
    };
    let upgrades = match (b >> 2) % 4 {
        0 => vec![],
        1 => vec!["websocket"],
        2 => vec!["polling", "websocket"],
        _ => vec!["WebSocket"],
    };
    let ms = |x: u8| {
        if x == 255 {
            u64::MAX
        } else {
            u64::from(x) * 16
        }
    };
    let ping_interval = ms(input.byte());
    let ping_timeout = ms(input.byte());
    let max_payload = match (b >> 4) % 4 {
        0 => 0,
        1 => u64::from(input.byte()),
        2 => 1_000_000,
        _ => u64::MAX,
    };
    Handshake {
        sid,
        upgrades: upgrades.into_iter().map(str::to_owned).collect(),
        ping_interval,
        ping_timeout,
        max_payload,
    }
}

/// An open packet's text (`0{...}`), valid or not.
fn open_text(input: &mut Input<'_>) -> String {
    let b = input.byte();
    let handshake = handshake(input, b);
    let json = handshake.to_json();
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_str(&json) else {
        unreachable!("to_json gives an object: {json}");
    };
    match b >> 6 {
        0 => {}
        1 => {
            object.remove("maxPayload");
        }
        2 => {
            object.insert("extra".into(), serde_json::json!([1, {"a": null}]));
        }
        _ => {
            object.insert("pingInterval".into(), serde_json::json!("25000"));
        }
    }
    format!("0{}", serde_json::Value::Object(object))
}

/// A packet a server might send.
fn packet(input: &mut Input<'_>) -> Packet {
    let b = input.byte();
    match b % 12 {
        0 => Packet::ping(),
        1 => Packet::Ping("probe".into()),
        2 => Packet::Pong("probe".into()),
        3 => Packet::pong(),
        4 => Packet::message("hi"),
        5 => Packet::message(input.string(6)),
        6 => Packet::message(vec![b; usize::from(b % 5)]),
        7 => Packet::Close,
        8 => Packet::Noop,
        9 => Packet::Upgrade,
        10 => {
            let b = input.byte();
            Packet::Open(handshake(input, b))
        }
        _ => Packet::Ping(input.string(4)),
    }
}

/// A WebSocket as the runtime sees it.
struct Ws {
    id: WsId,
    /// `ws_opened` was reported.
    opened: bool,
    /// Messages handed over in `WsWrite`s and not reported written.
    pending: usize,
    /// Frames written on it so far.
    frames: usize,
    /// Opened for an upgrade (after the handshake), not yet the session's.
    probe: bool,
}

struct Sim {
    conn: Connection,
    start: Instant,
    now: Instant,
    max_queue: usize,
    get: bool,
    post: bool,
    ws: Vec<Ws>,
    all_ws: Vec<WsId>,
    handshake: Option<Handshake>,
    closed: bool,
    /// Why it closed.
    reason: Option<DisconnectReason>,
    upgraded: bool,
    /// Messages accepted by `send`, in order.
    sent: Vec<Message>,
    /// How many of them were handed to a transport.
    delivered: usize,
    /// What `queued()` must say (see its docs and `written`'s).
    queued: usize,
}

impl Sim {
    fn live(&self, opened: bool) -> Vec<WsId> {
        self.ws
            .iter()
            .filter(|w| w.opened == opened)
            .map(|w| w.id)
            .collect()
    }

    fn pick(&self, opened: bool, b: u8) -> Option<WsId> {
        let ids = self.live(opened);
        (!ids.is_empty()).then(|| ids[usize::from(b) % ids.len()])
    }

    /// Forgets a WebSocket; the runtime reports its unwritten messages as
    /// written (lost with it).
    fn forget(&mut self, id: WsId) {
        if let Some(pos) = self.ws.iter().position(|w| w.id == id) {
            let ws = self.ws.remove(pos);
            if ws.pending > 0 {
                self.conn.written(ws.pending);
                self.queued = self.queued.saturating_sub(ws.pending);
            }
        }
    }

    /// A message handed to a transport must be the next one sent.
    fn deliver(&mut self, message: Message) {
        assert!(
            self.delivered < self.sent.len() && self.sent[self.delivered] == message,
            "message {message:?} out of order: sent {:?}, delivered {}",
            self.sent,
            self.delivered
        );
        self.delivered += 1;
    }

    /// Drains transmits and events, checking them, as a runtime does after
    /// every call.
    fn settle(&mut self) {
        let closed_before = self.closed;
        let mut upgrade_written = false;
        let mut lost = Vec::new();
        while let Some(transmit) = self.conn.poll_transmit() {
            if trace() {
                eprintln!("  -> {transmit:?}");
            }
            if closed_before {
                assert!(
                    matches!(transmit, Transmit::WsClose(_)),
                    "{transmit:?} after the close"
                );
            }
            match transmit {
                Transmit::Get => {
                    assert!(!self.get, "a second GET in flight");
                    assert!(!self.upgraded, "a GET after the upgrade");
                    self.get = true;
                }
                Transmit::Post(payload) => {
                    assert!(!self.post, "a second POST in flight");
                    assert!(!self.upgraded, "a POST after the upgrade");
                    // The open may be among this call's events, not drained yet.
                    let max_payload = self
                        .conn
                        .handshake()
                        .expect("a POST before the open")
                        .max_payload;
                    let packets = decode_payload(
                        payload.as_bytes(),
                        &PayloadLimits::new(usize::MAX, usize::MAX),
                    )
                    .unwrap_or_else(|err| panic!("undecodable POST {payload:?}: {err}"));
                    assert_eq!(
                        packets.len(),
                        payload.split(RECORD_SEPARATOR).count(),
                        "{payload:?}"
                    );
                    if max_payload != 0 {
                        assert!(
                            payload.len() as u64 <= max_payload || packets.len() == 1,
                            "a POST of {} bytes, {} packets, over maxPayload {max_payload}",
                            payload.len(),
                            packets.len(),
                        );
                    }
                    for packet in packets {
                        if let Packet::Message(message) = packet {
                            self.deliver(message);
                            self.queued -= 1;
                        }
                    }
                    self.post = true;
                }
                Transmit::OpenWebSocket(id) | Transmit::OpenWebTransport(id) => {
                    assert!(!self.all_ws.contains(&id), "{id:?} reused");
                    self.all_ws.push(id);
                    // A probe when opened after the handshake (whose events
                    // may not be drained yet).
                    let probe = self.conn.sid().is_some();
                    if probe {
                        assert!(
                            !self.ws.iter().any(|w| w.probe),
                            "a second probe while one is live"
                        );
                    }
                    self.ws.push(Ws {
                        id,
                        opened: false,
                        pending: 0,
                        frames: 0,
                        probe,
                    });
                }
                Transmit::WsWrite {
                    ws,
                    frames,
                    messages,
                } => {
                    let pos = self
                        .ws
                        .iter()
                        .position(|w| w.id == ws)
                        .unwrap_or_else(|| panic!("a write on {ws:?}, not a live WebSocket"));
                    assert!(self.ws[pos].opened, "a write on {ws:?} before it opened");
                    assert!(!frames.is_empty(), "an empty write");
                    let (probe, first) = (self.ws[pos].probe, self.ws[pos].frames == 0);
                    if probe && first {
                        assert_eq!(frames[0], Frame::Text("2probe".into()), "probe start");
                    } else if probe && frames[0] == Frame::Text("5".into()) {
                        upgrade_written = true;
                        self.ws[pos].probe = false;
                    }
                    if probe {
                        assert!(
                            frames.len() == 1 || frames[0] == Frame::Text("5".into()),
                            "{frames:?} on a probe"
                        );
                    }
                    let mut count = 0;
                    for frame in &frames {
                        let packet = frame
                            .clone()
                            .decode()
                            .unwrap_or_else(|err| panic!("undecodable {frame:?}: {err}"));
                        if let Packet::Message(message) = packet {
                            count += 1;
                            self.deliver(message);
                        }
                    }
                    assert_eq!(count, messages, "message count of {frames:?}");
                    self.ws[pos].frames += frames.len();
                    self.ws[pos].pending += messages;
                }
                Transmit::WsClose(id) => lost.push(id),
            }
        }
        for id in lost {
            self.forget(id);
        }
        while let Some(event) = self.conn.poll_event() {
            if trace() {
                eprintln!("  <- {event:?}");
            }
            assert!(!self.closed, "{event:?} after the close");
            match event {
                Event::Opened(handshake) => {
                    assert!(self.handshake.is_none(), "a second Opened");
                    self.handshake = Some(handshake);
                }
                Event::Message(_) => {
                    assert!(self.handshake.is_some(), "a message before the open");
                }
                Event::Upgraded(transport) => {
                    assert_eq!(transport, Transport::WebSocket);
                    assert!(self.handshake.is_some() && !self.upgraded, "a stray upgrade");
                    assert!(upgrade_written, "upgraded without writing 5");
                    assert!(!self.get && !self.post, "upgraded with polling not paused");
                    self.upgraded = true;
                }
                Event::UpgradeFailed(_) => {
                    assert!(self.handshake.is_some() && !self.upgraded, "a stray failure");
                }
                Event::Closed(reason) => {
                    self.closed = true;
                    self.reason = Some(reason);
                }
            }
        }
        if upgrade_written {
            assert!(self.upgraded, "5 written without an Upgraded event");
        }
        self.check();
    }

    fn check(&mut self) {
        let conn = &self.conn;
        assert_eq!(conn.is_closed(), self.closed);
        assert_eq!(conn.sid().is_some(), self.handshake.is_some());
        if conn.is_open() {
            assert!(self.handshake.is_some() && !self.closed);
        }
        if self.handshake.is_some() {
            assert!(conn.failure().is_none());
        }
        if self.upgraded {
            assert_eq!(conn.transport(), Transport::WebSocket);
        }
        assert!(conn.queued() <= self.max_queue, "queued {}", conn.queued());
        if self.closed {
            self.queued = 0;
            assert!(self.ws.is_empty(), "WebSockets left open after the close");
            assert_eq!(conn.next_deadline(), None);
        }
        assert_eq!(conn.queued(), self.queued, "queued() against the docs");
        assert!(self.ws.len() <= 2, "{} WebSockets live", self.ws.len());
        if let Some(deadline) = conn.next_deadline() {
            assert!(deadline >= self.start);
        }
    }

    fn send(&mut self, message: Message) {
        let polling = self.conn.transport() == Transport::Polling;
        let separator = matches!(&message, Message::Text(t) if t.contains(RECORD_SEPARATOR));
        let result = self.conn.send(message.clone());
        if result.is_ok() {
            assert!(!(polling && separator), "a 0x1E text accepted on polling");
            self.sent.push(message);
            self.queued += 1;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let flags = input.byte();
    // Both transports, polling only, WebSocket only, or none.
    let config = ConnectionConfig {
        polling: flags % 4 < 2,
        websocket: flags % 4 % 2 == 0,
        webtransport: false,
        probe_timeout: Duration::from_millis(u64::from(input.byte()) * 8),
        close_timeout: Duration::from_millis(u64::from(input.byte()) * 8),
        max_queue: usize::from((flags >> 2) & 7),
    };
    let start = Instant::now();
    let mut sim = Sim {
        conn: Connection::new(config),
        start,
        now: start,
        max_queue: config.max_queue,
        get: false,
        post: false,
        ws: Vec::new(),
        all_ws: Vec::new(),
        handshake: None,
        closed: false,
        reason: None,
        upgraded: false,
        sent: Vec::new(),
        delivered: 0,
        queued: 0,
    };
    sim.settle();
    let mut counter = 0u32;
    while !input.0.is_empty() {
        let op = input.byte();
        let now = sim.now;
        if trace() {
            let at = now - start;
            eprintln!("op {} at {at:?} (get {}, post {})", op % 21, sim.get, sim.post);
        }
        match op % 21 {
            // A GET answered with an open packet, and maybe more packets.
            0 if sim.get => {
                let mut body = open_text(&mut input);
                for _ in 0..input.byte() % 4 {
                    body.push(RECORD_SEPARATOR);
                    packet(&mut input).encode_text(&mut body);
                }
                sim.get = false;
                sim.conn.handle_get(body.as_bytes(), now);
            }
            // A GET answered with packets.
            1 if sim.get => {
                let packets: Vec<Packet> = (0..=input.byte() % 4)
                    .map(|_| packet(&mut input))
                    .collect();
                sim.get = false;
                sim.conn.handle_get(encode_payload(&packets).as_bytes(), now);
            }
            // A GET answered with garbage.
            2 if sim.get => {
                let len = usize::from(input.byte() % 32);
                let body = input.bytes(len);
                sim.get = false;
                sim.conn.handle_get(&body, now);
            }
            3 if sim.get => {
                sim.get = false;
                sim.conn.get_failed();
            }
            4 if sim.post => {
                sim.post = false;
                sim.conn.handle_post();
            }
            5 if sim.post => {
                sim.post = false;
                sim.conn.post_failed();
            }
            6 => {
                if let Some(id) = sim.pick(false, input.byte()) {
                    if let Some(ws) = sim.ws.iter_mut().find(|w| w.id == id) {
                        ws.opened = true;
                    }
                    sim.conn.ws_opened(id, now);
                }
            }
            7 => {
                if let Some(id) = sim.pick(false, input.byte()) {
                    sim.forget(id);
                    sim.conn.ws_open_failed(id);
                }
            }
            // A frame carrying a packet (or an open packet built from the input).
            8 => {
                if let Some(id) = sim.pick(true, input.byte()) {
                    let frame = if input.byte() % 3 == 0 {
                        Frame::Text(open_text(&mut input))
                    } else {
                        Frame::encode(&packet(&mut input))
                    };
                    sim.conn.handle_ws_frame(id, frame, now);
                }
            }
            9 => {
                if let Some(id) = sim.pick(true, input.byte()) {
                    let text = input.string(24);
                    sim.conn.handle_ws_frame(id, Frame::Text(text), now);
                }
            }
            10 => {
                if let Some(id) = sim.pick(true, input.byte()) {
                    let len = usize::from(input.byte() % 16);
                    let bytes = input.bytes(len);
                    sim.conn.handle_ws_frame(id, Frame::Binary(bytes.into()), now);
                }
            }
            11 | 12 => {
                if let Some(id) = sim.pick(true, input.byte()) {
                    sim.forget(id);
                    sim.conn.ws_ended(id, op % 21 == 11);
                }
            }
            13 => {
                counter += 1;
                let b = input.byte();
                let mut text = format!("{counter}{}", "x".repeat(usize::from(b % 48)));
                if b & 0x80 != 0 {
                    text.push(RECORD_SEPARATOR);
                    text.push('y');
                }
                sim.send(Message::Text(text));
            }
            14 => {
                counter += 1;
                let b = input.byte();
                let mut bytes = counter.to_be_bytes().to_vec();
                bytes.extend(std::iter::repeat_n(0x1e, usize::from(b % 40)));
                sim.send(Message::from(bytes));
            }
            15 => sim.conn.close(now),
            16 => {
                let was_closed = sim.closed;
                sim.conn.abort();
                sim.settle();
                if !was_closed {
                    assert_eq!(sim.reason, Some(DisconnectReason::ClientDisconnect));
                }
            }
            17 => {
                let b = input.byte();
                let with_pending: Vec<usize> = (0..sim.ws.len())
                    .filter(|&i| sim.ws[i].pending > 0)
                    .collect();
                if !with_pending.is_empty() {
                    let i = with_pending[usize::from(b) % with_pending.len()];
                    let n = 1 + usize::from(b >> 4) % sim.ws[i].pending;
                    sim.ws[i].pending -= n;
                    sim.queued = sim.queued.saturating_sub(n);
                    sim.conn.written(n);
                }
            }
            // Timers.
            18 => {
                sim.now += Duration::from_millis(u64::from(input.byte()) * 8);
                sim.conn.handle_timeout(sim.now);
                if let Some(deadline) = sim.conn.next_deadline() {
                    assert!(deadline > sim.now, "a deadline due after handle_timeout");
                }
            }
            19 => {
                if let Some(deadline) = sim.conn.next_deadline() {
                    sim.now = sim.now.max(deadline);
                }
                sim.conn.handle_timeout(sim.now);
                if let Some(deadline) = sim.conn.next_deadline() {
                    assert!(deadline > sim.now, "a deadline due after handle_timeout");
                }
            }
            20 => sim.now += Duration::from_millis(u64::from(input.byte()) * 8),
            _ => {}
        }
        sim.settle();
    }
});
