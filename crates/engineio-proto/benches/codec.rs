//! Criterion benchmarks of the codec: packet, frame and payload encode and
//! decode, the bounded payload encoder, the handshake and session ids.
//!
//! Run with `cargo bench -p engineio-proto`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engineio_proto::{
    Frame, Handshake, Packet, PayloadEncoder, PayloadLimits, Sid, decode_payload, encode_payload,
};

fn packets(c: &mut Criterion) {
    let text = Packet::message("hello, this is a typical chat message of some length 👋");
    let encoded = text.to_text();
    let binary = Packet::message(vec![7u8; 1024]);
    let binary_b64 = binary.to_text();
    let binary_frame = Frame::encode(&binary);

    let mut group = c.benchmark_group("packet");
    group.throughput(Throughput::Bytes(encoded.len() as u64));
    group.bench_function("encode_text_message", |b| {
        b.iter(|| black_box(&text).to_text())
    });
    group.bench_function("decode_text_message", |b| {
        b.iter(|| Packet::decode_text(black_box(&encoded)))
    });
    group.throughput(Throughput::Bytes(1024));
    group.bench_function("encode_binary_1k_ws", |b| {
        b.iter(|| Frame::encode(black_box(&binary)))
    });
    group.bench_function("decode_binary_1k_ws", |b| {
        b.iter(|| black_box(&binary_frame).clone().decode())
    });
    group.bench_function("encode_binary_1k_base64", |b| {
        b.iter(|| black_box(&binary).to_text())
    });
    group.bench_function("decode_binary_1k_base64", |b| {
        b.iter(|| Packet::decode_text(black_box(&binary_b64)))
    });
    group.finish();
}

fn handshake(c: &mut Criterion) {
    let open = Packet::Open(Handshake::new(
        Sid::generate().as_str(),
        vec!["websocket".to_owned()],
        Duration::from_millis(25_000),
        Duration::from_millis(20_000),
        1_000_000,
    ));
    let encoded = open.to_text();

    let mut group = c.benchmark_group("handshake");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode_open", |b| b.iter(|| black_box(&open).to_text()));
    group.bench_function("decode_open", |b| {
        b.iter(|| Packet::decode_text(black_box(&encoded)))
    });
    group.bench_function("sid_generate", |b| b.iter(Sid::generate));
    group.finish();
}

fn payloads(c: &mut Criterion) {
    let batch: Vec<Packet> = (0..10)
        .map(|i| {
            if i % 2 == 0 {
                Packet::message(format!("message number {i} with some text"))
            } else {
                Packet::message(vec![i as u8; 64])
            }
        })
        .collect();
    let encoded = encode_payload(&batch);
    let limits = PayloadLimits::default();

    let mut group = c.benchmark_group("payload");
    group.throughput(Throughput::Bytes(encoded.len() as u64));
    group.bench_function("encode_10_mixed", |b| {
        b.iter(|| encode_payload(black_box(&batch)))
    });
    group.bench_function("decode_10_mixed", |b| {
        b.iter(|| decode_payload(black_box(encoded.as_bytes()), &limits))
    });

    // 16 text packets: python-engineio's max_decode_packets, a typical burst.
    let text_batch: Vec<Packet> = (0..16)
        .map(|i| Packet::message(format!("chat message number {i:02}, héllo 👋")))
        .collect();
    let text_encoded = encode_payload(&text_batch);
    let pre_encoded: Vec<String> = text_batch.iter().map(Packet::to_text).collect();
    group.throughput(Throughput::Bytes(text_encoded.len() as u64));
    group.bench_function("encode_16_text", |b| {
        b.iter(|| encode_payload(black_box(&text_batch)))
    });
    group.bench_function("decode_16_text", |b| {
        b.iter(|| decode_payload(black_box(text_encoded.as_bytes()), &limits))
    });
    group.bench_function("encoder_try_push_16_text", |b| {
        b.iter(|| {
            let mut encoder = PayloadEncoder::new(limits);
            for packet in black_box(&text_batch) {
                encoder.try_push(packet);
            }
            encoder.finish()
        })
    });
    group.bench_function("encoder_try_push_encoded_16_text", |b| {
        b.iter(|| {
            let mut encoder = PayloadEncoder::new(limits);
            for packet in black_box(&pre_encoded) {
                encoder.try_push_encoded(packet);
            }
            encoder.finish()
        })
    });

    // A payload near the default maxPayload: 900 text packets of 1 KB.
    let big_batch: Vec<Packet> = (0..900)
        .map(|i| Packet::message(format!("{i:04}{}", "x".repeat(996))))
        .collect();
    let big_encoded = encode_payload(&big_batch);
    assert_eq!(
        decode_payload(big_encoded.as_bytes(), &limits).map(|p| p.len()),
        Ok(900)
    );
    group.throughput(Throughput::Bytes(big_encoded.len() as u64));
    group.bench_function("decode_900_text_1k", |b| {
        b.iter(|| decode_payload(black_box(big_encoded.as_bytes()), &limits))
    });
    group.finish();
}

criterion_group!(benches, packets, handshake, payloads);
criterion_main!(benches);
