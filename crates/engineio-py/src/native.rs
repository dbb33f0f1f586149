//! `engineio_rs._core.NativeServer`: the native mode of the Python servers.
//! Our tokio/hyper server (the `engineio` crate) owns the sockets and runs
//! the protocol; the application's handlers stay in Python.
//!
//! The server's handlers (on tokio's threads) never touch Python: each
//! connect, message and disconnect becomes an event in a queue, with a
//! [`Reply`] the Python side completes when its handler is done. Python
//! takes the events in batches, either blocking with the GIL released
//! (`wait_events`, for the threading `Server`'s worker threads) or, for an
//! asyncio loop, when a byte arrives on a socket pair (`signal_fd`) and
//! `take_events` drains the queue without blocking.

use std::collections::VecDeque;
use std::io::Write as _;
use std::net::SocketAddr;
use std::os::fd::{IntoRawFd as _, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use engineio::server::DisconnectReason;
use engineio::server::{
    ConnectRequest, CookieConfig, CorsPolicy, Rejection, SameSite, ServeStatic, Server,
    ServerConfig,
};
use engineio::{Message, Sid, Transport};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use tokio::sync::oneshot;
use tower_layer::Layer as _;

use crate::fallback::{Fallback, Forward, HttpAnswer, HttpReply, HttpRequest};

/// What the Python side is told about.
enum Event {
    /// A handshake: the connect handler decides.
    Connect {
        sid: Sid,
        request: Box<ConnectRequest>,
        reply: oneshot::Sender<Result<(), Rejection>>,
    },
    /// A message for the message handler.
    Message {
        sid: Sid,
        message: Message,
        done: oneshot::Sender<()>,
    },
    /// A request for the application's WSGI/ASGI app.
    Http {
        request: Box<HttpRequest>,
        reply: oneshot::Sender<HttpAnswer>,
    },
    /// A session ended.
    Disconnect {
        sid: Sid,
        reason: DisconnectReason,
        done: oneshot::Sender<()>,
    },
}

/// The events waiting for Python, and how Python is woken.
#[derive(Default)]
struct Queue {
    items: Mutex<VecDeque<Event>>,
    ready: Condvar,
    /// The server has stopped (reported to every taker, forever).
    stopped: AtomicBool,
    /// Whether a wake-up byte is pending on the socket pair.
    signaled: AtomicBool,
    /// Whether a task will wake Python after the current round.
    flush_pending: AtomicBool,
    /// The writing end of the asyncio wake-up socket pair.
    signal: Mutex<Option<UnixStream>>,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Event>> {
        self.items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues an event. Python is woken once the server's current round
    /// of ready tasks has run, so the events of one round (many sessions'
    /// messages under load) reach Python in one batch, with one wake-up.
    fn push(self: &Arc<Self>, event: Event) {
        self.lock().push_back(event);
        if !self.flush_pending.swap(true, Ordering::AcqRel) {
            let queue = self.clone();
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                queue.flush_pending.store(false, Ordering::Release);
                queue.wake();
            });
        }
    }

    fn wake(&self) {
        self.ready.notify_one();
        if !self.signaled.swap(true, Ordering::AcqRel) {
            let mut signal = self
                .signal
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(stream) = signal.as_mut() {
                // A full pair means a wake-up is pending anyway.
                let _ = stream.write(&[1]);
            }
        }
    }

    fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.ready.notify_all();
        self.signaled.store(false, Ordering::Release);
        self.wake();
    }
}

impl Forward for Queue {
    fn forward(&self, request: HttpRequest, reply: oneshot::Sender<HttpAnswer>) {
        self.lock().push_back(Event::Http {
            request: Box::new(request),
            reply,
        });
        self.wake();
    }
}

/// How a Python handler's work is reported back to the server.
#[pyclass(module = "engineio_rs._core")]
pub(crate) struct Reply {
    done: Mutex<Option<oneshot::Sender<()>>>,
    connect: Mutex<Option<oneshot::Sender<Result<(), Rejection>>>>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply").finish_non_exhaustive()
    }
}

#[pymethods]
impl Reply {
    /// The message or disconnect handler finished (the session's next
    /// message can be dispatched).
    fn done(&self) {
        if let Some(tx) = take(&self.done) {
            let _ = tx.send(());
        }
    }

    /// The connect handler accepted the session.
    fn accept(&self) {
        if let Some(tx) = take(&self.connect) {
            let _ = tx.send(Ok(()));
        }
    }

    /// The connect handler refused the session: 401 with `data` (JSON
    /// text) as the body, or `"Unauthorized"`.
    #[pyo3(signature = (data=None))]
    fn reject(&self, data: Option<&str>) -> PyResult<()> {
        let rejection = match data {
            Some(json) => Rejection::with_data(
                serde_json::from_str(json).map_err(|e| PyValueError::new_err(e.to_string()))?,
            ),
            None => Rejection::unauthorized(),
        };
        if let Some(tx) = take(&self.connect) {
            let _ = tx.send(Err(rejection));
        }
        Ok(())
    }
}

fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

/// A tokio/hyper Engine.IO server whose handlers are Python's.
#[pyclass(module = "engineio_rs._core")]
pub(crate) struct NativeServer {
    server: Server,
    /// Always `Some` until dropped.
    runtime: Option<tokio::runtime::Runtime>,
    queue: Arc<Queue>,
}

impl Drop for NativeServer {
    fn drop(&mut self) {
        // Never wait for the server's tasks here: one may be waiting for
        // the GIL this thread holds.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for NativeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeServer").finish_non_exhaustive()
    }
}

fn seconds(value: f64, name: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| PyValueError::new_err(format!("{name} must be a positive number of seconds")))
}

/// The cookie of python-engineio's `cookie` option: a name (with `path=/`
/// and `SameSite=Lax`) or a dict of attributes.
fn cookie(option: &Bound<'_, PyAny>) -> PyResult<Option<CookieConfig>> {
    if option.is_none() {
        return Ok(None);
    }
    if let Ok(name) = option.extract::<String>() {
        // python-engineio's string form: `path=/; SameSite=Lax`, no HttpOnly.
        return Ok(Some(CookieConfig::new(name).http_only(false)));
    }
    let dict = option.cast::<PyDict>()?;
    let name = match dict.get_item("name")? {
        Some(name) => name.extract::<String>()?,
        None => "io".to_owned(),
    };
    let mut cookie = CookieConfig::new(name)
        .path(None)
        .same_site(None)
        .http_only(false);
    for (key, value) in dict.iter() {
        let key: String = key.extract()?;
        if value.is_callable() {
            return Err(PyValueError::new_err(format!(
                "cookie attribute {key}: callables are not available in native mode"
            )));
        }
        let flag = value.extract::<bool>().ok();
        let text = || value.str().map(|s| s.to_string());
        cookie = match key.to_ascii_lowercase().as_str() {
            "name" => cookie,
            "path" => cookie.path(Some(text()?)),
            "domain" => cookie.domain(Some(text()?)),
            "secure" => cookie.secure(flag.unwrap_or(true)),
            "httponly" => cookie.http_only(flag.unwrap_or(true)),
            "max-age" => cookie.max_age(Some(Duration::from_secs(value.extract::<u64>()?))),
            "samesite" => cookie.same_site(Some(match text()?.to_ascii_lowercase().as_str() {
                "strict" => SameSite::Strict,
                "lax" => SameSite::Lax,
                "none" => SameSite::None,
                other => {
                    return Err(PyValueError::new_err(format!("unknown SameSite {other:?}")));
                }
            })),
            _ => {
                return Err(PyValueError::new_err(format!(
                    "cookie attribute {key:?} is not available in native mode"
                )));
            }
        };
    }
    Ok(Some(cookie))
}

/// The CORS policy of python-engineio's `cors_allowed_origins`.
fn cors(option: &Bound<'_, PyAny>) -> PyResult<CorsPolicy> {
    if option.is_none() {
        return Ok(CorsPolicy::SameOrigin);
    }
    if let Ok(origin) = option.extract::<String>() {
        return Ok(if origin == "*" {
            CorsPolicy::Any
        } else {
            CorsPolicy::list([origin])
        });
    }
    if option.is_callable() {
        let allow: Py<PyAny> = option.clone().unbind();
        return Ok(CorsPolicy::callback(move |origin| {
            Python::attach(|py| {
                allow
                    .call1(py, (origin,))
                    .and_then(|ok| ok.is_truthy(py))
                    .unwrap_or(false)
            })
        }));
    }
    let origins: Vec<String> = option.extract()?;
    Ok(if origins.is_empty() {
        CorsPolicy::Disabled
    } else if origins.iter().any(|o| o == "*") {
        CorsPolicy::Any
    } else {
        CorsPolicy::list(origins)
    })
}

fn sid(text: &str) -> PyResult<Sid> {
    text.parse()
        .map_err(|_| PyValueError::new_err(format!("invalid session id {text:?}")))
}

#[pymethods]
impl NativeServer {
    /// A server with python-engineio's options (durations in seconds).
    #[new]
    #[pyo3(signature = (
        *, ping_interval, ping_grace, ping_timeout, max_http_buffer_size, allow_upgrades,
        transports, http_compression, compression_threshold, cookie, cors_allowed_origins,
        cors_credentials, async_handlers, engineio_path, close_timeout=30.0, threads=1,
        max_sessions=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        ping_interval: f64,
        ping_grace: f64,
        ping_timeout: f64,
        max_http_buffer_size: usize,
        allow_upgrades: bool,
        transports: Vec<String>,
        http_compression: bool,
        compression_threshold: usize,
        cookie: &Bound<'_, PyAny>,
        cors_allowed_origins: &Bound<'_, PyAny>,
        cors_credentials: bool,
        async_handlers: bool,
        engineio_path: &str,
        close_timeout: f64,
        threads: usize,
        max_sessions: Option<usize>,
    ) -> PyResult<Self> {
        let transports = transports
            .iter()
            .map(|name| name.parse::<Transport>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| PyValueError::new_err(err.to_string()))?;
        let mut config = ServerConfig::default()
            .ping_interval(seconds(ping_interval, "ping_interval")?)
            .ping_grace(seconds(ping_grace, "ping_interval's grace")?)
            .ping_timeout(seconds(ping_timeout, "ping_timeout")?)
            .max_http_buffer_size(max_http_buffer_size)
            .allow_upgrades(allow_upgrades)
            .transports(transports)
            .http_compression(http_compression)
            .compression_threshold(compression_threshold)
            .cors(self::cors(cors_allowed_origins)?)
            .cors_credentials(cors_credentials)
            .async_handlers(async_handlers)
            .close_timeout(seconds(close_timeout, "close_timeout")?)
            .max_sessions(max_sessions)
            .path(engineio_path);
        if let Some(cookie) = self::cookie(cookie)? {
            config = config.cookie(cookie);
        }
        let queue = Arc::new(Queue::default());
        let server = Server::builder()
            .config(config)
            .on_connect_async({
                let queue = queue.clone();
                move |socket, request| {
                    let (reply, answer) = oneshot::channel();
                    queue.push(Event::Connect {
                        sid: socket.sid(),
                        request: Box::new(request),
                        reply,
                    });
                    async move { answer.await.unwrap_or(Err(Rejection::unauthorized())) }
                }
            })
            .on_message_async({
                let queue = queue.clone();
                move |socket, message| {
                    let (done, finished) = oneshot::channel();
                    queue.push(Event::Message {
                        sid: socket.sid(),
                        message,
                        done,
                    });
                    async move {
                        let _ = finished.await;
                    }
                }
            })
            .on_disconnect_async({
                let queue = queue.clone();
                move |socket, reason| {
                    let (done, finished) = oneshot::channel();
                    queue.push(Event::Disconnect {
                        sid: socket.sid(),
                        reason,
                        done,
                    });
                    async move {
                        let _ = finished.await;
                    }
                }
            })
            .build();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("engineio_rs")
            .enable_all()
            .build()
            .map_err(|err| PyRuntimeError::new_err(err.to_string()))?;
        Ok(Self {
            server,
            runtime: Some(runtime),
            queue,
        })
    }

    /// Starts serving on `host:port` (port 0: any free port), with
    /// `static_files` for other paths, then (with `app`) the application's
    /// app through `("http", ...)` events, else 404; returns the port.
    #[pyo3(signature = (host, port, static_files=None, app=false))]
    fn listen(
        &self,
        host: &str,
        port: u16,
        static_files: Option<&Bound<'_, PyDict>>,
        app: bool,
    ) -> PyResult<u16> {
        let files = crate::statics::rules(static_files)?;
        let listener = std::net::TcpListener::bind((host, port)).map_err(|err| {
            PyRuntimeError::new_err(format!("cannot listen on {host}:{port}: {err}"))
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|err| PyRuntimeError::new_err(err.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|err| PyRuntimeError::new_err(err.to_string()))?
            .port();
        let runtime = self.runtime()?;
        let _guard = runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|err| PyRuntimeError::new_err(err.to_string()))?;
        let server = self.server.clone();
        let fallback = Fallback {
            forward: app.then(|| self.queue.clone() as Arc<dyn Forward>),
        };
        runtime.spawn(async move {
            let app = server.layer().layer(ServeStatic::new(files, fallback));
            // Ends on shutdown, whose task reports the stop.
            server.serve_with(listener, app).await;
        });
        Ok(port)
    }

    /// The reading end of a socket pair that gets a byte whenever events
    /// arrive (for an asyncio loop's `add_reader`); the caller owns it.
    fn signal_fd(&self) -> PyResult<RawFd> {
        let (read, write) =
            UnixStream::pair().map_err(|err| PyRuntimeError::new_err(err.to_string()))?;
        for end in [&read, &write] {
            end.set_nonblocking(true)
                .map_err(|err| PyRuntimeError::new_err(err.to_string()))?;
        }
        *self
            .queue
            .signal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(write);
        self.queue.signaled.store(false, Ordering::Release);
        if !self.queue.lock().is_empty() || self.queue.stopped.load(Ordering::Acquire) {
            self.queue.wake();
        }
        Ok(read.into_raw_fd())
    }

    /// Every waiting event, without blocking (see the module docs for the
    /// tuples).
    fn take_events<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.queue.signaled.store(false, Ordering::Release);
        let events: Vec<Event> = self.queue.lock().drain(..).collect();
        self.to_python(py, events)
    }

    /// Waits (the GIL released) for events, at most `timeout` seconds
    /// (`None`: no limit), and returns up to `max` of them.
    #[pyo3(signature = (timeout=None, max=64))]
    fn wait_events<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<f64>,
        max: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let queue = self.queue.clone();
        let events: Vec<Event> = py.detach(move || {
            let mut items = queue.lock();
            let deadline =
                timeout.map(|t| std::time::Instant::now() + Duration::from_secs_f64(t.max(0.0)));
            while items.is_empty() && !queue.stopped.load(Ordering::Acquire) {
                match deadline {
                    None => {
                        items = queue
                            .ready
                            .wait(items)
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                    }
                    Some(deadline) => {
                        let left = deadline.saturating_duration_since(std::time::Instant::now());
                        if left.is_zero() {
                            break;
                        }
                        items = queue
                            .ready
                            .wait_timeout(items, left)
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .0;
                    }
                }
            }
            let n = items.len().min(max.max(1));
            let taken: Vec<Event> = items.drain(..n).collect();
            if !items.is_empty() {
                queue.ready.notify_one();
            }
            taken
        });
        self.to_python(py, events)
    }

    /// Sends a text (`str`) or binary (`bytes`) message; `ValueError(kind,
    /// text)` when refused (`"unknown session"`, `"closed"`, `"queue full"`).
    fn send(&self, sid: &str, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let message = if let Ok(text) = data.extract::<String>() {
            Message::Text(text)
        } else {
            Message::Binary(data.extract::<Vec<u8>>()?.into())
        };
        self.server
            .send(self::sid(sid)?, message)
            .map_err(crate::session::send_error)
    }

    /// Closes a session; returns whether it was open.
    fn disconnect(&self, sid: &str) -> PyResult<bool> {
        Ok(self.server.disconnect(self::sid(sid)?))
    }

    /// The transport of a session, or `None` when there is no such session.
    fn transport(&self, sid: &str) -> PyResult<Option<&'static str>> {
        Ok(self
            .server
            .transport(self::sid(sid)?)
            .map(Transport::as_str))
    }

    /// Starts a graceful shutdown: the listener stops, every session is
    /// closed (their disconnect events still come) and given up to
    /// `close_timeout` to deliver its close packet, then a `("stopped",
    /// ...)` event is reported.
    fn shutdown(&self) -> PyResult<()> {
        let server = self.server.clone();
        let queue = self.queue.clone();
        self.runtime()?.spawn(async move {
            server.shutdown().await;
            queue.stop();
        });
        Ok(())
    }

    /// Whether the server has stopped.
    #[getter]
    fn stopped(&self) -> bool {
        self.queue.stopped.load(Ordering::Acquire)
    }
}

impl NativeServer {
    fn runtime(&self) -> PyResult<&tokio::runtime::Runtime> {
        self.runtime
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("the server is gone"))
    }

    /// The events as Python tuples: `("connect", sid, reply, request)`,
    /// `("message", sid, data, reply)`, `("disconnect", sid, reason,
    /// reply)`, and `("stopped", None, None, None)` last, once the server
    /// has stopped and nothing else is left.
    fn to_python<'py>(&self, py: Python<'py>, events: Vec<Event>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for event in events {
            let item = match event {
                Event::Connect {
                    sid,
                    request,
                    reply,
                } => {
                    let reply = Reply {
                        done: Mutex::new(None),
                        connect: Mutex::new(Some(reply)),
                    };
                    (
                        "connect",
                        sid.as_str(),
                        Bound::new(py, reply)?.into_any(),
                        request_tuple(py, &request)?,
                    )
                        .into_pyobject(py)?
                }
                Event::Message { sid, message, done } => {
                    let data = match message {
                        Message::Text(text) => text.into_pyobject(py)?.into_any(),
                        Message::Binary(bytes) => PyBytes::new(py, &bytes).into_any(),
                    };
                    let reply = Reply {
                        done: Mutex::new(Some(done)),
                        connect: Mutex::new(None),
                    };
                    (
                        "message",
                        sid.as_str(),
                        data,
                        Bound::new(py, reply)?.into_any(),
                    )
                        .into_pyobject(py)?
                }
                Event::Http { request, reply } => {
                    let reply = HttpReply {
                        reply: Mutex::new(Some(reply)),
                    };
                    let (ip, port) = match request.peer {
                        Some(addr) => (addr.ip().to_string(), addr.port()),
                        None => ("127.0.0.1".to_owned(), 0),
                    };
                    let headers: Vec<(String, Bound<'py, PyBytes>)> = request
                        .headers
                        .iter()
                        .map(|(name, value)| (name.clone(), PyBytes::new(py, value)))
                        .collect();
                    let described = (
                        request.method.as_str(),
                        request.path.as_str(),
                        request.query.as_str(),
                        headers,
                        PyBytes::new(py, &request.body),
                        ip,
                        port,
                    )
                        .into_pyobject(py)?;
                    (
                        "http",
                        py.None(),
                        Bound::new(py, reply)?.into_any(),
                        described,
                    )
                        .into_pyobject(py)?
                }
                Event::Disconnect { sid, reason, done } => {
                    let reply = Reply {
                        done: Mutex::new(Some(done)),
                        connect: Mutex::new(None),
                    };
                    (
                        "disconnect",
                        sid.as_str(),
                        reason.as_str(),
                        Bound::new(py, reply)?.into_any(),
                    )
                        .into_pyobject(py)?
                }
            };
            list.append(item)?;
        }
        // After the last events, even in the same batch: the wake-up that
        // said "stopped" may be the one that brought them.
        if self.queue.stopped.load(Ordering::Acquire) && self.queue.lock().is_empty() {
            list.append(("stopped", py.None(), py.None(), py.None()))?;
        }
        Ok(list)
    }
}

/// A handshake request for the environ: `(method, path, query, headers,
/// peer address, peer port, transport)`.
fn request_tuple<'py>(py: Python<'py>, request: &ConnectRequest) -> PyResult<Bound<'py, PyTuple>> {
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let (ip, port) = match request.peer_addr {
        Some(SocketAddr::V4(addr)) => (addr.ip().to_string(), addr.port()),
        Some(SocketAddr::V6(addr)) => (addr.ip().to_string(), addr.port()),
        None => ("127.0.0.1".to_owned(), 0),
    };
    (
        request.method.as_str(),
        request.uri.path(),
        request.uri.query().unwrap_or(""),
        headers,
        ip,
        port,
        request.transport.as_str(),
    )
        .into_pyobject(py)
}
