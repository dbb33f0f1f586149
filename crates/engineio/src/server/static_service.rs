//! Serving [`StaticFiles`] as a tower service in front of another service.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::TryStreamExt as _;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Either, Empty, StreamBody};
use tower_layer::Layer;
use tower_service::Service;

use super::static_files::{ResolvedFile, StaticFiles};

/// The body of a static file response: streamed from disk.
pub type StaticBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// A service that answers GET and HEAD requests matching its
/// [`StaticFiles`] from disk, and hands every other request to `inner`.
///
/// Files are streamed (never read whole), with `Content-Length`,
/// `Last-Modified` and `ETag`, and `If-None-Match` / `If-Modified-Since`
/// answered with 304. A path that matches no entry, or no file, goes to
/// `inner`: python-engineio's precedence is the engine.io path, then static
/// files, then the other app.
///
/// # Examples
///
/// ```no_run
/// use engineio::server::{NotFound, Server, ServeStatic, StaticFiles};
/// use tower_layer::Layer as _;
///
/// # async fn run() -> std::io::Result<()> {
/// let files = StaticFiles::new().entry("/", "latency.html").entry("/static", "static/");
/// let server = Server::builder().build();
/// let app = server.layer().layer(ServeStatic::new(files, NotFound));
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ServeStatic<S> {
    files: Arc<StaticFiles>,
    inner: S,
}

impl<S> ServeStatic<S> {
    /// Serves `files`, and `inner` for the rest.
    pub fn new(files: StaticFiles, inner: S) -> Self {
        Self {
            files: Arc::new(files),
            inner,
        }
    }
}

/// The layer form of [`ServeStatic`].
#[derive(Debug, Clone)]
pub struct ServeStaticLayer {
    files: Arc<StaticFiles>,
}

impl ServeStaticLayer {
    /// A layer serving `files`.
    pub fn new(files: StaticFiles) -> Self {
        Self {
            files: Arc::new(files),
        }
    }
}

impl<S> Layer<S> for ServeStaticLayer {
    type Service = ServeStatic<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServeStatic {
            files: self.files.clone(),
            inner,
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ServeStatic<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    ReqBody: Send + 'static,
{
    type Response = Response<Either<StaticBody, ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let files = self.files.clone();
        // Take the service that was driven to readiness, leave a clone.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            if matches!(*req.method(), Method::GET | Method::HEAD) {
                let path = req.uri().path().to_owned();
                if let Some(file) = files.locate(&path).await {
                    let (method, headers) = (req.method().clone(), req.headers().clone());
                    let response = serve_file(&method, &headers, &file).await;
                    return Ok(response.map(Either::Left));
                }
            }
            inner.call(req).await.map(|r| r.map(Either::Right))
        })
    }
}

/// A weak ETag from the file's size and modification time.
fn etag(len: u64, modified: Option<SystemTime>) -> String {
    let stamp = modified
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("W/\"{len:x}-{stamp:x}\"")
}

fn empty(status: StatusCode) -> Response<StaticBody> {
    let mut response = Response::new(
        Empty::new()
            .map_err(|never: Infallible| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response
}

/// Answers a request for a located file.
async fn serve_file(
    method: &Method,
    headers: &http::HeaderMap,
    file: &ResolvedFile,
) -> Response<StaticBody> {
    let Ok(handle) = tokio::fs::File::open(&file.path).await else {
        return empty(StatusCode::NOT_FOUND);
    };
    let Ok(metadata) = handle.metadata().await else {
        return empty(StatusCode::NOT_FOUND);
    };
    let modified = metadata.modified().ok();
    let tag = etag(metadata.len(), modified);
    let last_modified = modified.map(httpdate::fmt_http_date);
    let not_modified = match headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        Some(tags) => tags.split(',').any(|t| t.trim() == tag || t.trim() == "*"),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .zip(modified)
            .is_some_and(|(since, modified)| {
                // HTTP dates have whole seconds.
                modified
                    .duration_since(since)
                    .map_or(true, |newer| newer.as_secs() == 0)
            }),
    };
    let mut response = if not_modified {
        empty(StatusCode::NOT_MODIFIED)
    } else if method == Method::HEAD {
        let mut response = empty(StatusCode::OK);
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, metadata.len().into());
        response
    } else {
        let stream = tokio_util::io::ReaderStream::with_capacity(handle, 16 * 1024)
            .map_ok(http_body::Frame::data);
        let mut response = Response::new(StreamBody::new(stream).boxed_unsync());
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, metadata.len().into());
        response
    };
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&file.content_type) {
        out.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&tag) {
        out.insert(header::ETAG, value);
    }
    if let Some(value) = last_modified.and_then(|v| HeaderValue::from_str(&v).ok()) {
        out.insert(header::LAST_MODIFIED, value);
    }
    response
}
