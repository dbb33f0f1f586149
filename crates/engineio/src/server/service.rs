//! The server as a tower `Service` and `Layer`: the engine.io path is served,
//! every other request goes to an inner service (python-engineio's
//! `WSGIApp(eio, other_app)` / `ASGIApp(eio, other_asgi_app)`).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{Either, Full};
use tower_layer::Layer;
use tower_service::Service;

use super::answer::EngineResponse;
use super::engine::Server;
use super::http::{BoxError, handle};

/// The inner service of a bare [`EngineIoService`]: answers 404 `Not Found`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotFound;

impl<B> Service<Request<B>> for NotFound {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<B>) -> Self::Future {
        let mut response = Response::new(Full::new(Bytes::from_static(b"Not Found")));
        *response.status_mut() = StatusCode::NOT_FOUND;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain"),
        );
        std::future::ready(Ok(response))
    }
}

/// A tower `Service` serving the engine.io path with a [`Server`] and
/// handing every other request to `inner`.
///
/// Its responses have the body `Either<Full<Bytes>, inner body>`.
///
/// # Examples
///
/// With axum, through [`Server::layer`]:
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use engineio::server::Server;
///
/// # async fn run() -> std::io::Result<()> {
/// let server = Server::builder()
///     .on_message(|socket, message| { let _ = socket.send(message); })
///     .build();
/// let app = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .layer(server.layer());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
/// axum::serve(listener, app).await
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct EngineIoService<S = NotFound> {
    server: Server,
    inner: S,
}

impl<S> EngineIoService<S> {
    /// Wraps `inner` with the server.
    pub fn new(server: Server, inner: S) -> Self {
        Self { server, inner }
    }

    /// The server.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for EngineIoService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<Either<Full<Bytes>, ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    /// Readiness is the inner service's, even for requests the engine serves.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        if self.server.config().matches_path(req.uri().path()) {
            ResponseFuture::Engine {
                future: Box::pin(handle(self.server.clone(), req)),
            }
        } else {
            ResponseFuture::Inner {
                future: self.inner.call(req),
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`EngineIoService`].
    #[project = ResponseFutureProj]
    #[allow(missing_docs)]
    pub enum ResponseFuture<F> {
        /// A request the engine serves.
        Engine { future: Pin<Box<dyn Future<Output = EngineResponse> + Send>> },
        /// A request for the inner service.
        Inner { #[pin] future: F },
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Engine { .. } => "ResponseFuture::Engine",
            Self::Inner { .. } => "ResponseFuture::Inner",
        })
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<Either<Full<Bytes>, ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ResponseFutureProj::Engine { future } => {
                future.as_mut().poll(cx).map(|r| Ok(r.map(Either::Left)))
            }
            ResponseFutureProj::Inner { future } => {
                future.poll(cx).map(|r| r.map(|r| r.map(Either::Right)))
            }
        }
    }
}

/// A tower `Layer` that puts a [`Server`] in front of a service.
///
/// # Examples
///
/// ```
/// use engineio::server::{EngineIoLayer, NotFound, Server};
/// use tower_layer::Layer;
///
/// let server = Server::builder().build();
/// let service = EngineIoLayer::new(server).layer(NotFound);
/// # let _ = service;
/// ```
#[derive(Debug, Clone)]
pub struct EngineIoLayer {
    server: Server,
}

impl EngineIoLayer {
    /// A layer for the server.
    pub fn new(server: Server) -> Self {
        Self { server }
    }
}

impl<S> Layer<S> for EngineIoLayer {
    type Service = EngineIoService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EngineIoService::new(self.server.clone(), inner)
    }
}

impl Server {
    /// The server as a service that answers 404 outside the engine.io path.
    ///
    /// # Examples
    ///
    /// ```
    /// let service = engineio::server::Server::builder().build().into_service();
    /// # let _ = service;
    /// ```
    pub fn into_service(self) -> EngineIoService<NotFound> {
        EngineIoService::new(self, NotFound)
    }

    /// A layer that serves the engine.io path in front of any service.
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = engineio::server::Server::builder().build().layer();
    /// # let _ = layer;
    /// ```
    pub fn layer(&self) -> EngineIoLayer {
        EngineIoLayer::new(self.clone())
    }
}
