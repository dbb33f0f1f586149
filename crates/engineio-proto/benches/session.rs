//! Criterion benchmarks of the server's per-message path without sockets:
//! what the runtime asks of a [`Session`] for one echo, from the decoded
//! client frame to the bytes written back, over WebSocket and over
//! long-polling, and a session's creation (the handshake's share).
//!
//! Run with `cargo bench -p engineio-proto --bench session`.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engineio_proto::server::{Dispatch, Session, SessionConfig, WsTransmit, decode_client_packet};
use engineio_proto::{EncodedPacket, Handshake, Packet, Sid, Transport};

/// A 32-byte text message, as the load generator sends it.
const MESSAGE: &str = "4xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// Runs the dispatch the runtime would: the message handler echoes.
fn dispatch_echo(session: &mut Session, now: Instant) {
    while let Some(dispatch) = session.next_dispatch() {
        match dispatch {
            Dispatch::Message(message) => {
                let echo = EncodedPacket::new(Packet::Message(message));
                session.send(echo).expect("room in the queue");
                session.message_handled(now);
            }
            Dispatch::Disconnect(_) => unreachable!("the session stays open"),
        }
    }
}

fn websocket_echo(c: &mut Criterion) {
    let now = Instant::now();
    let mut session = Session::new(Transport::WebSocket, SessionConfig::default(), now);
    let id = session.websocket().expect("a WebSocket session");
    // The open packet and anything else queued at the start.
    let _ = session.ws_transmit(id);
    let _ = session.take_events();

    let mut group = c.benchmark_group("session");
    group.throughput(Throughput::Elements(1));
    group.bench_function("websocket_echo", |b| {
        b.iter(|| {
            let packet = decode_client_packet(black_box(MESSAGE)).expect("a message");
            session.ws_receive(id, packet, now);
            let _ = session.take_events();
            dispatch_echo(&mut session, now);
            let _ = session.take_events();
            match session.ws_transmit(id) {
                WsTransmit::Write(packets) => {
                    for packet in &packets {
                        black_box(packet.ws_bytes());
                    }
                }
                other => unreachable!("the echo is written: {other:?}"),
            }
            let _ = session.take_events();
        });
    });
    group.finish();
}

fn polling_echo(c: &mut Criterion) {
    let now = Instant::now();
    let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
    let open = Packet::Open(Handshake::new(
        Sid::generate().as_str(),
        vec!["websocket".to_owned()],
        std::time::Duration::from_secs(25),
        std::time::Duration::from_secs(20),
        1_000_000,
    ));
    black_box(session.open_payload(&open));
    let _ = session.take_events();

    let mut group = c.benchmark_group("session");
    group.throughput(Throughput::Elements(1));
    group.bench_function("polling_echo", |b| {
        b.iter(|| {
            session
                .begin_post(now, Some("text/plain;charset=UTF-8"))
                .expect("a POST");
            session
                .post_payload(black_box(MESSAGE.as_bytes()), now)
                .expect("a payload");
            session.post_accepted();
            let _ = session.take_events();
            dispatch_echo(&mut session, now);
            session.begin_poll(now).expect("a GET");
            black_box(session.poll_payload().expect("the echo"));
            let _ = session.take_events();
        });
    });
    group.finish();
}

fn handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("session");
    group.throughput(Throughput::Elements(1));
    group.bench_function("open", |b| {
        b.iter(|| {
            let now = Instant::now();
            let sid = Sid::generate();
            let mut session = Session::new(Transport::Polling, SessionConfig::default(), now);
            let open = Packet::Open(Handshake::new(
                sid.as_str(),
                vec!["websocket".to_owned()],
                std::time::Duration::from_secs(25),
                std::time::Duration::from_secs(20),
                1_000_000,
            ));
            black_box(session.open_payload(&open))
        });
    });
    group.finish();
}

criterion_group!(benches, websocket_echo, polling_echo, handshake);
criterion_main!(benches);
