//! The standalone listener: hyper on a tokio TCP listener.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::watch;
use tower_service::Service;

use super::engine::Server;
use super::http::BoxError;
use super::open::PeerAddr;

impl Server {
    /// Binds `addr` and serves until [`Server::shutdown`]: the engine.io path,
    /// and 404 for anything else.
    ///
    /// # Errors
    ///
    /// The error of binding the address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// let server = engineio::server::Server::builder().build();
    /// server.listen("127.0.0.1:5000").await
    /// # }
    /// ```
    pub async fn listen(&self, addr: impl ToSocketAddrs) -> std::io::Result<()> {
        let listener = TcpListener::bind(addr).await?;
        self.serve(listener).await;
        Ok(())
    }

    /// Serves connections from a bound listener until [`Server::shutdown`].
    /// Use it to learn the port of a `127.0.0.1:0` listener first.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// println!("listening on {}", listener.local_addr()?);
    /// let server = engineio::server::Server::builder().build();
    /// server.serve(listener).await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve(&self, listener: TcpListener) {
        self.serve_with(listener, self.clone().into_service()).await;
    }

    /// Serves any tower service (typically this server's layer around other
    /// services, such as [`ServeStatic`](super::ServeStatic)) on a listener,
    /// with HTTP/1.1 upgrades for WebSocket and HTTP/2, until
    /// [`Server::shutdown`]. Each request carries the peer's address, which
    /// the connect handler sees. On [`Server::shutdown`] the listener closes
    /// at once (new connections are refused); the open connections stay
    /// until every session has ended (so a polling client can fetch its
    /// close packet on its keep-alive connection, up to `close_timeout`),
    /// then each closes after the request it serves, and this returns.
    /// When accepting fails (most often: out of
    /// file descriptors), the loop waits 5 ms, doubling up to 1 s, until it
    /// works again, logging one warning; the open connections are served
    /// meanwhile.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use engineio::server::{NotFound, ServeStatic, Server, StaticFiles};
    /// use tower_layer::Layer as _;
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let server = Server::builder().build();
    /// let files = StaticFiles::new().entry("/", "index.html");
    /// let app = server.layer().layer(ServeStatic::new(files, NotFound));
    /// server.serve_with(tokio::net::TcpListener::bind("127.0.0.1:5000").await?, app).await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve_with<S, B>(&self, listener: TcpListener, service: S)
    where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.serve_accepting(listener, service, PlainTcp).await;
    }

    /// The accept loop of [`Server::serve_with`] and, with TLS, of
    /// `Server::serve_tls_with`: `acceptor` turns each accepted TCP stream
    /// into what hyper serves, in the connection's own task.
    pub(super) async fn serve_accepting<S, B, A>(
        &self,
        listener: TcpListener,
        service: S,
        acceptor: A,
    ) where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
        A: Acceptor,
    {
        let acceptor = Arc::new(acceptor);
        let mut stop = self.inner.shutdown.subscribe();
        if *stop.borrow() {
            return;
        }
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, scheme = A::SCHEME, path = self.config().engineio_path(), "engine.io server listening");
        }
        // Accept errors (most often running out of file descriptors) back
        // off from 5 ms to 1 s, doubling, without a busy loop; the open
        // connections are served meanwhile. One warning per episode.
        let mut backoff: Option<std::time::Duration> = None;
        // Every HTTP connection is watched: on shutdown, each finishes the
        // request it serves (a long poll is answered by its session's close)
        // and closes, instead of staying open for more.
        let graceful = GracefulShutdown::new();
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => {
                        if backoff.take().is_some() {
                            tracing::info!("accepting connections again");
                        }
                        accepted
                    }
                    Err(err) => {
                        let delay = match backoff {
                            None => {
                                tracing::warn!(error = %err, "accept failed; backing off until it works again");
                                ACCEPT_BACKOFF_MIN
                            }
                            Some(delay) => {
                                tracing::debug!(error = %err, "accept failed again");
                                (delay * 2).min(ACCEPT_BACKOFF_MAX)
                            }
                        };
                        backoff = Some(delay);
                        tokio::select! {
                            () = tokio::time::sleep(delay) => continue,
                            _ = stop.changed() => break,
                        }
                    }
                },
                _ = stop.changed() => break,
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(serve_connection(
                stream,
                peer,
                service.clone(),
                Arc::clone(&acceptor),
                stop.clone(),
                graceful.watcher(),
            ));
        }
        // The listener closes now: new connections are refused at once. The
        // open ones stay until the sessions have ended, so that a polling
        // client can still fetch its close packet on its keep-alive
        // connection; then each closes after the request it serves.
        drop(listener);
        let deadline = tokio::time::Instant::now() + self.inner.config.close_timeout;
        while self.table_len() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // At least a second for the connections to finish their request,
        // even when the sessions took all of close_timeout.
        let grace = deadline.max(tokio::time::Instant::now() + std::time::Duration::from_secs(1));
        if tokio::time::timeout_at(grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("connections still open after close_timeout; leaving them");
        }
    }
}

/// The first wait after a failed accept.
const ACCEPT_BACKOFF_MIN: std::time::Duration = std::time::Duration::from_millis(5);
/// The longest wait between accepts while they fail.
const ACCEPT_BACKOFF_MAX: std::time::Duration = std::time::Duration::from_secs(1);

/// How the accept loop turns an accepted TCP stream into the byte stream
/// hyper serves: as it is ([`PlainTcp`]), or after a TLS handshake. It runs
/// in the connection's own task, never in the accept loop.
pub(super) trait Acceptor: Send + Sync + 'static {
    /// What hyper reads and writes.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The URL scheme, for the log.
    const SCHEME: &'static str;
    /// The stream to serve, or `None` to close the connection (the
    /// acceptor logs why).
    fn accept(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> impl Future<Output = Option<Self::Io>> + Send;
    /// Adjusts each request of the connection before the service sees it.
    fn prepare(&self, _request: &mut Request<Incoming>) {}
}

/// Plain TCP: the stream as it is.
#[derive(Debug, Clone, Copy)]
struct PlainTcp;

impl Acceptor for PlainTcp {
    type Io = TcpStream;
    const SCHEME: &'static str = "http";

    async fn accept(&self, stream: TcpStream, _peer: SocketAddr) -> Option<TcpStream> {
        Some(stream)
    }
}

/// Serves one TCP connection (HTTP/1.1 with upgrades, or HTTP/2).
async fn serve_connection<S, B, A>(
    stream: TcpStream,
    peer: SocketAddr,
    service: S,
    acceptor: Arc<A>,
    mut stop: watch::Receiver<bool>,
    watcher: Watcher,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    A: Acceptor,
{
    // A handshake still running when the server shuts down is dropped: the
    // listener is closed, and it must not hold the graceful shutdown.
    let accepted = tokio::select! {
        io = acceptor.accept(stream, peer) => io,
        _ = stop.wait_for(|stopped| *stopped) => None,
    };
    let Some(io) = accepted else {
        return;
    };
    let hyper_service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        acceptor.prepare(&mut req);
        req.extensions_mut().insert(PeerAddr(peer));
        let mut service = service.clone();
        async move {
            std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
            service.call(req).await
        }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let connection = builder
        .serve_connection_with_upgrades(TokioIo::new(io), hyper_service)
        .into_owned();
    if let Err(err) = watcher.watch(connection).await {
        tracing::debug!(%peer, error = %err, "connection ended with an error");
    }
}
