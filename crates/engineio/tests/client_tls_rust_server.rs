//! TLS end to end with both of our ends: our server (`Server::serve_tls`
//! with a rustls `ServerConfig` of the test's own, `TlsConfig::from_rustls`)
//! with a self-signed certificate made in the test, and our client, over
//! https (then the upgrade to wss) and wss only. Verification with the
//! custom CA succeeds; without it the connection fails with a TLS error.
//! Mutual TLS: the server asks for a client certificate.

mod support;

use std::sync::Arc;

use engineio::Transport;
use engineio::client::{Client, ConnectionError, Event};
use engineio::server::TlsConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Starts an echo server on 127.0.0.1 behind TLS; returns its port and the
/// certificate's PEM.
async fn tls_echo_server() -> (u16, String) {
    tls_echo_server_verifying(None).await
}

/// The same, asking clients for a certificate issued by `client_ca` (mutual
/// TLS) when one is given.
async fn tls_echo_server_verifying(client_ca: Option<CertificateDer<'static>>) -> (u16, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let pem = certified.cert.pem();
    let chain = vec![CertificateDer::from(certified.cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder.with_single_cert(chain, key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let tls = TlsConfig::from_rustls(Arc::new(config));
    let server = support::tls::echo_server();
    tokio::spawn(async move { server.serve_tls(listener, tls).await });
    (port, pem)
}

async fn echo(client: &Client, text: &str) -> String {
    client.send(text).unwrap();
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), client.recv())
            .await
            .expect("no event within 10 s")
            .expect("the client stopped");
        if let Event::Message(engineio::Message::Text(reply)) = event {
            return reply;
        }
    }
}

#[tokio::test]
async fn https_and_wss_with_the_custom_ca() {
    let (port, pem) = tls_echo_server().await;
    let client = Client::builder()
        .add_root_certificate_pem(pem.clone())
        .build()
        .unwrap();
    client
        .connect(&format!("https://127.0.0.1:{port}"))
        .await
        .unwrap();
    assert_eq!(echo(&client, "over https ✓").await, "over https ✓");
    // The upgrade to wss:// happens with the same trust.
    wait_for_websocket(&client).await;
    assert_eq!(echo(&client, "over wss").await, "over wss");
    client.disconnect().await;

    let client = Client::builder()
        .add_root_certificate_pem(pem)
        .transports([Transport::WebSocket])
        .build()
        .unwrap();
    client
        .connect(&format!("wss://127.0.0.1:{port}"))
        .await
        .unwrap();
    assert_eq!(echo(&client, "wss only").await, "wss only");
    client.disconnect().await;
}

/// Waits (up to 5 s) for the client to finish its upgrade to WebSocket and
/// fails the test if it does not.
async fn wait_for_websocket(client: &Client) {
    for _ in 0..100 {
        if client.transport() == Some(Transport::WebSocket) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the client did not upgrade to wss");
}

#[tokio::test]
async fn without_the_ca_the_connection_is_refused_as_tls_error() {
    let (port, _pem) = tls_echo_server().await;
    for (scheme, transports) in [("https", Transport::Polling), ("wss", Transport::WebSocket)] {
        let client = Client::builder().transports([transports]).build().unwrap();
        let err = client
            .connect(&format!("{scheme}://127.0.0.1:{port}"))
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectionError::Tls(_)), "{scheme}: {err:?}");
    }
    // Skipping verification is an explicit choice.
    let client = Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    client
        .connect(&format!("https://127.0.0.1:{port}"))
        .await
        .unwrap();
    assert_eq!(echo(&client, "unverified").await, "unverified");
    client.disconnect().await;
}

/// A CA and a client certificate it issued: (CA certificate, client chain
/// PEM, client key PEM).
fn client_identity() -> (CertificateDer<'static>, String, String) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let client_key = rcgen::KeyPair::generate().unwrap();
    let client_cert = rcgen::CertificateParams::new(vec!["client.test".to_owned()])
        .unwrap()
        .signed_by(&client_key, &ca)
        .unwrap();
    (
        ca.der().clone(),
        client_cert.pem(),
        client_key.serialize_pem(),
    )
}

#[tokio::test]
async fn mutual_tls_with_a_client_certificate_on_both_transports() {
    let (ca, chain_pem, key_pem) = client_identity();
    let (port, server_pem) = tls_echo_server_verifying(Some(ca)).await;
    // With the certificate: polling, then the upgrade to wss.
    let client = Client::builder()
        .add_root_certificate_pem(server_pem.clone())
        .client_certificate_pem(chain_pem.clone(), key_pem.clone())
        .build()
        .unwrap();
    client
        .connect(&format!("https://127.0.0.1:{port}"))
        .await
        .unwrap();
    assert_eq!(echo(&client, "authenticated").await, "authenticated");
    wait_for_websocket(&client).await;
    assert_eq!(echo(&client, "over wss").await, "over wss");
    client.disconnect().await;
    // WebSocket only.
    let client = Client::builder()
        .add_root_certificate_pem(server_pem.clone())
        .client_certificate_pem(chain_pem, key_pem)
        .transports([Transport::WebSocket])
        .build()
        .unwrap();
    client
        .connect(&format!("wss://127.0.0.1:{port}"))
        .await
        .unwrap();
    assert_eq!(echo(&client, "wss only").await, "wss only");
    client.disconnect().await;
    // Without a certificate the server refuses the TLS handshake.
    for transport in [Transport::Polling, Transport::WebSocket] {
        let client = Client::builder()
            .add_root_certificate_pem(server_pem.clone())
            .transports([transport])
            .build()
            .unwrap();
        let url = match transport {
            Transport::Polling => format!("https://127.0.0.1:{port}"),
            _ => format!("wss://127.0.0.1:{port}"),
        };
        let result = client.connect(&url).await;
        assert!(
            result.is_err(),
            "{transport}: connected without a certificate"
        );
    }
}
