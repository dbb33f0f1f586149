//! Criterion benchmarks of the codec: packet and payload encode and decode.
//!
//! Run with `cargo bench -p engineio-proto`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engineio_proto::{Frame, Packet, PayloadLimits, decode_payload, encode_payload};

fn packets(c: &mut Criterion) {
    let text = Packet::message("hello, this is a typical chat message of some length 👋");
    let encoded = text.to_text();
    let binary = Packet::message(vec![7u8; 1024]);
    let binary_b64 = binary.to_text();

    let mut group = c.benchmark_group("packet");
    group.throughput(Throughput::Bytes(encoded.len() as u64));
    group.bench_function("encode_text_message", |b| b.iter(|| black_box(&text).to_text()));
    group.bench_function("decode_text_message", |b| {
        b.iter(|| Packet::decode_text(black_box(&encoded)))
    });
    group.throughput(Throughput::Bytes(1024));
    group.bench_function("encode_binary_1k_ws", |b| b.iter(|| Frame::encode(black_box(&binary))));
    group.bench_function("encode_binary_1k_base64", |b| b.iter(|| black_box(&binary).to_text()));
    group.bench_function("decode_binary_1k_base64", |b| {
        b.iter(|| Packet::decode_text(black_box(&binary_b64)))
    });
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
    group.bench_function("encode_10_mixed", |b| b.iter(|| encode_payload(black_box(&batch))));
    group.bench_function("decode_10_mixed", |b| {
        b.iter(|| decode_payload(black_box(encoded.as_bytes()), &limits))
    });
    group.finish();
}

criterion_group!(benches, packets, payloads);
criterion_main!(benches);
