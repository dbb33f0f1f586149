//! TLS: the client against a Node https + engine.io server with a
//! self-signed certificate made for the test.
#![cfg(feature = "tls")]

mod support;

use engineio::Transport;
use engineio::client::{Client, ConnectionError, DisconnectReason, Event};
use support::client_events::{ask, drain, wait_upgrade};
use support::{Peer, TempDir, within};

/// A Node https server with a fresh self-signed certificate for
/// 127.0.0.1 and localhost; returns it with the certificate's PEM.
fn tls_server(dir: &TempDir) -> Option<(Peer, String)> {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("certificate");
    let cert_pem = certified.cert.pem();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let server = Peer::node(
        "node/eio-server.js",
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    )?;
    Some((server, cert_pem))
}

fn https_url(server: &Peer) -> String {
    format!("https://127.0.0.1:{}", server.port)
}

#[tokio::test]
async fn trusted_custom_ca_connects_and_upgrades() {
    let dir = TempDir::new("eio-tls");
    let Some((server, pem)) = tls_server(&dir) else {
        return;
    };
    let client = Client::builder()
        .add_root_certificate_pem(pem.clone())
        .build()
        .unwrap();
    client.connect(&https_url(&server)).await.unwrap();
    wait_upgrade(&client).await; // wss:// with the same trust
    assert_eq!(ask(&client, "cmd:transport").await, "transport:websocket");
    assert_eq!(ask(&client, "over TLS ✓").await, "over TLS ✓");
    within(client.disconnect()).await;
    assert_eq!(
        drain(&client).await,
        [Event::Disconnect(DisconnectReason::ClientDisconnect)]
    );

    let client = Client::builder()
        .add_root_certificate_pem(pem)
        .transports([Transport::WebSocket])
        .build()
        .unwrap();
    client
        .connect(&format!("wss://127.0.0.1:{}", server.port))
        .await
        .unwrap();
    assert_eq!(ask(&client, "wss only").await, "wss only");
    within(client.disconnect()).await;
}

#[tokio::test]
async fn untrusted_certificate_is_a_tls_error() {
    let dir = TempDir::new("eio-tls");
    let Some((server, _pem)) = tls_server(&dir) else {
        return;
    };
    for transports in [&[Transport::Polling][..], &[Transport::WebSocket]] {
        let client = Client::builder()
            .transports(transports.iter().copied())
            .build()
            .unwrap();
        let err = client.connect(&https_url(&server)).await.unwrap_err();
        assert!(
            matches!(err, ConnectionError::Tls(_)),
            "{transports:?}: {err:?}"
        );
        assert!(err.to_string().contains("certificate"), "{err}");
    }
}

#[tokio::test]
async fn skipping_verification_connects() {
    let dir = TempDir::new("eio-tls");
    let Some((server, _pem)) = tls_server(&dir) else {
        return;
    };
    let client = Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    client.connect(&https_url(&server)).await.unwrap();
    wait_upgrade(&client).await;
    assert_eq!(
        ask(&client, "insecure but working").await,
        "insecure but working"
    );
    within(client.disconnect()).await;
}
