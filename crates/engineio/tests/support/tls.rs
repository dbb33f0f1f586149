//! Our server behind TLS for the tests, on 127.0.0.1: `Server::serve_tls`
//! with the configuration of a rustls acceptor.
#![allow(dead_code, unreachable_pub)]

use engineio::server::Server;
use tokio_rustls::TlsAcceptor;

/// An echo server: every message is sent back.
pub fn echo_server() -> Server {
    Server::builder()
        .on_message(|socket, message| {
            let _ = socket.send(message);
        })
        .build()
}

/// Serves `server` over TLS with `acceptor`'s rustls configuration on a
/// free port of 127.0.0.1 (HTTP/1.1 with upgrades, or HTTP/2); returns the
/// port.
#[cfg(feature = "server-tls")]
pub async fn serve_tls(server: Server, acceptor: TlsAcceptor) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let tls = engineio::server::TlsConfig::from_rustls(std::sync::Arc::clone(acceptor.config()));
    tokio::spawn(async move { server.serve_tls(listener, tls).await });
    port
}

/// The same without the `server-tls` feature (a build with `server` and
/// `tls` only): a minimal accept loop in front of the tower service.
#[cfg(not(feature = "server-tls"))]
pub async fn serve_tls(server: Server, acceptor: TlsAcceptor) -> u16 {
    use tower_service::Service as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let service = server.clone().into_service();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let hyper_service = hyper::service::service_fn(move |req| {
                    let mut service = service.clone();
                    async move { service.call(req).await }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(tls), hyper_service)
                .await;
            });
        }
    });
    port
}
