//! `eio serve --webtransport` end to end (feature `webtransport`): the
//! banner names the WebTransport URL and the self-signed certificate's
//! hash, polling handshakes offer `webtransport`, and a WebTransport client
//! (the `wtransport` crate, the certificate pinned by that hash) opens a
//! session on the UDP port and gets its message echoed.

mod support;

use std::io::{Read as _, Write as _};
use std::time::Duration;

use engineio_proto::webtransport::{FrameDecoder, OpenRequest, encode};
use engineio_proto::{Frame, Packet};
use support::Serve;
use wtransport::tls::Sha256Digest;
use wtransport::{ClientConfig, Endpoint};

/// A polling handshake over plain HTTP/1.1; returns the body.
fn polling_handshake(addr: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// The certificate hash from "... certificate SHA-256 HEX = [b0,b1,...]".
fn hash_of(line: &str) -> [u8; 32] {
    let list = line
        .rsplit_once('[')
        .and_then(|(_, rest)| rest.strip_suffix(']'))
        .unwrap_or_else(|| panic!("no hash in {line:?}"));
    let bytes: Vec<u8> = list.split(',').map(|b| b.parse().unwrap()).collect();
    bytes.try_into().expect("32 bytes")
}

#[tokio::test]
async fn serve_webtransport_prints_the_hash_and_echoes_over_quic() {
    let serve = Serve::start(&["--webtransport"]);
    let line = serve.next_line();
    let addr = serve.addr().to_owned();
    assert!(
        line.starts_with(&format!("WebTransport on https://{addr}/engine.io/ (UDP)")),
        "{line}"
    );
    let hash = hash_of(&line);

    let handshake = polling_handshake(&addr);
    assert!(
        handshake.contains(r#""upgrades":["websocket","webtransport"]"#),
        "{handshake}"
    );
    // That polling session's connect line.
    assert!(serve.next_line().starts_with("connect "));

    let config = ClientConfig::builder()
        .with_bind_default()
        .with_server_certificate_hashes([Sha256Digest::new(hash)])
        .build();
    let endpoint = Endpoint::client(config).unwrap();
    let connection = tokio::time::timeout(
        Duration::from_secs(10),
        endpoint.connect(format!("https://{addr}/engine.io/")),
    )
    .await
    .expect("connected in time")
    .unwrap();
    let (mut send, mut recv) = connection.open_bi().await.unwrap().await.unwrap();
    send.write_all(&OpenRequest::New.encode()).await.unwrap();
    send.write_all(&encode(&Packet::message("hello over quic")))
        .await
        .unwrap();
    let mut decoder = FrameDecoder::new(usize::MAX);
    let mut frames = Vec::new();
    let mut buf = vec![0u8; 4096];
    while frames.len() < 2 {
        let n = tokio::time::timeout(Duration::from_secs(10), recv.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap()
            .expect("the stream is open");
        decoder.push(&buf[..n]);
        while let Some(frame) = decoder.next_frame().unwrap() {
            frames.push(frame);
        }
    }
    let Frame::Text(open) = &frames[0] else {
        panic!("{frames:?}")
    };
    assert!(open.starts_with(r#"0{"sid":"#), "{open}");
    assert!(open.contains(r#""upgrades":[]"#), "{open}");
    assert_eq!(frames[1], Frame::Text("4hello over quic".into()));
    let connect = serve.next_line();
    assert!(
        connect.starts_with("connect ") && connect.contains(" webtransport "),
        "{connect}"
    );
}
