//! The native server's other paths: requests that are neither the engine.io
//! path nor a static file go to the application's WSGI or ASGI app in
//! Python (python-engineio's `WSGIApp(eio, wsgi_app)` /
//! `ASGIApp(eio, other_asgi_app)`), or get a 404 when there is none.
//!
//! The request's body is read whole (up to [`MAX_BODY`]) and handed to
//! Python as an event with an [`HttpReply`]; the answer Python gives is
//! written whole. Streaming bodies either way are not supported.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use engineio::server::PeerAddr;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tokio::sync::oneshot;
use tower_service::Service;

/// The largest request body handed to the Python app (16 MiB); larger ones
/// get 413.
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;

/// A request for the Python app.
#[derive(Debug)]
pub(crate) struct HttpRequest {
    /// `GET`, `POST`, ...
    pub(crate) method: String,
    /// The path, percent-encoded as received.
    pub(crate) path: String,
    /// The query string, without `?`.
    pub(crate) query: String,
    /// The headers, in order.
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    /// The whole body.
    pub(crate) body: Bytes,
    /// The client's address and port.
    pub(crate) peer: Option<std::net::SocketAddr>,
}

/// An answer from the Python app: status, headers, body.
pub(crate) type HttpAnswer = (u16, Vec<(String, Vec<u8>)>, Vec<u8>);

/// Where fallback requests go: into the native server's event queue.
pub(crate) trait Forward: Send + Sync + 'static {
    /// Queues a request; the answer comes on `reply`.
    fn forward(&self, request: HttpRequest, reply: oneshot::Sender<HttpAnswer>);
}

/// The tower service behind the engine.io path and the static files.
#[derive(Clone)]
pub(crate) struct Fallback {
    /// `None`: no app, every request gets a 404.
    pub(crate) forward: Option<Arc<dyn Forward>>,
}

impl std::fmt::Debug for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fallback")
            .field("app", &self.forward.is_some())
            .finish()
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    response
}

impl Service<Request<Incoming>> for Fallback {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let Some(forward) = self.forward.clone() else {
            return Box::pin(async { Ok(plain(StatusCode::NOT_FOUND, "Not Found")) });
        };
        Box::pin(async move {
            let peer = request.extensions().get::<PeerAddr>().map(|peer| peer.0);
            let (parts, body) = request.into_parts();
            let body = match Limited::new(body, MAX_BODY).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => {
                    return Ok(plain(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "request body too large or broken",
                    ));
                }
            };
            let headers = parts
                .headers
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                .collect();
            let (reply, answer) = oneshot::channel();
            forward.forward(
                HttpRequest {
                    method: parts.method.as_str().to_owned(),
                    path: parts.uri.path().to_owned(),
                    query: parts.uri.query().unwrap_or("").to_owned(),
                    headers,
                    body,
                    peer,
                },
                reply,
            );
            let Ok((status, headers, body)) = answer.await else {
                return Ok(plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the application did not answer",
                ));
            };
            let mut response = Response::new(Full::new(Bytes::from(body)));
            *response.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_bytes(&value),
                ) {
                    response.headers_mut().append(name, value);
                }
            }
            Ok(response)
        })
    }
}

/// How Python answers a request of the app: `respond(status, headers,
/// body)`, once.
#[pyclass(module = "engineio_rs._core")]
pub(crate) struct HttpReply {
    pub(crate) reply: Mutex<Option<oneshot::Sender<HttpAnswer>>>,
}

impl std::fmt::Debug for HttpReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpReply").finish_non_exhaustive()
    }
}

#[pymethods]
impl HttpReply {
    /// Answers the request: `status`, `headers` as `(name, value)` pairs
    /// (`str` or `bytes`), and the whole `body`.
    fn respond(
        &self,
        status: u16,
        headers: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
        body: Vec<u8>,
    ) -> PyResult<()> {
        let mut pairs = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            pairs.push((text_or_bytes(&name)?, bytes_of(&value)?));
        }
        let sender = self
            .reply
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(sender) = sender {
            let _ = sender.send((status, pairs, body));
        }
        Ok(())
    }
}

fn bytes_of(value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(text) = value.extract::<String>() {
        return Ok(text.into_bytes());
    }
    value
        .extract::<Vec<u8>>()
        .map_err(|_| PyValueError::new_err("a header must be str or bytes"))
}

fn text_or_bytes(value: &Bound<'_, PyAny>) -> PyResult<String> {
    String::from_utf8(bytes_of(value)?)
        .map_err(|_| PyValueError::new_err("a header name must be ASCII"))
}
