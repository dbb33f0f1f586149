//! `engineio_rs._core.ClientConnection`: the Rust core's client connection
//! state machine (`engineio_proto::client::Connection`) for the package's
//! Python clients, which only move bytes (HTTP requests, WebSocket frames),
//! run the timer it asks for and call handlers.
//!
//! Time is passed in as seconds of any monotonic clock (`time.monotonic()`,
//! or a fake clock in tests); deadlines come back on the same clock.
//! WebSockets are named by small integers, handed out with
//! `("open_ws", id)` and valid until `("ws_close", id)` (or until their end
//! is reported).

use std::time::Duration;

use engineio_proto::client::{Connection, ConnectionConfig, Event, Transmit, WsId};
use engineio_proto::{Frame, Message, SendError};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::clock::Clock;

/// One client connection's state machine: the handshake, the ping
/// watchdog, polling, the upgrade probe and the close are decided here.
#[pyclass(module = "engineio_rs._core")]
#[derive(Debug)]
pub(crate) struct ClientConnection {
    core: Connection,
    /// Seconds on the caller's clock.
    clock: Clock,
    /// The WebSockets Python knows, by number.
    sockets: Vec<(u64, WsId)>,
    next_socket: u64,
}

impl ClientConnection {
    /// The number of a WebSocket, handing out a new one the first time.
    fn number(&mut self, id: WsId) -> u64 {
        if let Some((number, _)) = self.sockets.iter().find(|(_, known)| *known == id) {
            return *number;
        }
        let number = self.next_socket;
        self.next_socket += 1;
        self.sockets.push((number, id));
        number
    }

    /// The WebSocket of a number handed out before.
    fn ws_id(&self, number: u64) -> Option<WsId> {
        self.sockets
            .iter()
            .find(|(known, _)| *known == number)
            .map(|(_, id)| *id)
    }

    /// Forgets a WebSocket number (later reports about it are ignored).
    fn forget(&mut self, number: u64) {
        self.sockets.retain(|(known, _)| *known != number);
    }
}

/// Turns a refused send into `ValueError(kind, message)`.
fn send_error(err: SendError) -> PyErr {
    let kind = match err {
        SendError::Closed | SendError::UnknownSession => "closed",
        SendError::QueueFull { .. } => "queue full",
        SendError::SeparatorInText => "separator in text",
    };
    PyValueError::new_err((kind, err.to_string()))
}

/// A duration in seconds, checked.
fn secs(value: f64, name: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| PyValueError::new_err(format!("{name} must be a positive number of seconds")))
}

/// A frame as Python writes it: `str` for text, `bytes` for binary.
fn frame_object<'py>(py: Python<'py>, frame: &Frame) -> PyResult<Bound<'py, PyAny>> {
    Ok(match frame {
        Frame::Text(text) => text.into_pyobject(py)?.into_any(),
        Frame::Binary(bytes) => PyBytes::new(py, bytes).into_any(),
    })
}

#[pymethods]
impl ClientConnection {
    /// A new connection at `now`, about to handshake over polling (when
    /// `polling` is true) or over WebSocket. Durations are in seconds:
    /// `probe_timeout` bounds the upgrade probe, `close_timeout` the
    /// delivery of the close packet over polling; `max_queue` is the most
    /// messages sent and not yet written (`send` refuses more).
    #[new]
    #[pyo3(signature = (
        now, *, polling=true, websocket=true, probe_timeout=5.0, close_timeout=5.0,
        max_queue=1024
    ))]
    fn new(
        now: f64,
        polling: bool,
        websocket: bool,
        probe_timeout: f64,
        close_timeout: f64,
        max_queue: usize,
    ) -> PyResult<Self> {
        let config = ConnectionConfig {
            polling,
            websocket,
            webtransport: false,
            probe_timeout: secs(probe_timeout, "probe_timeout")?,
            close_timeout: secs(close_timeout, "close_timeout")?,
            max_queue,
        };
        Ok(Self {
            core: Connection::new(config),
            clock: Clock::new(now),
            sockets: Vec::new(),
            next_socket: 0,
        })
    }

    /// The session id, once the handshake succeeded.
    #[getter]
    fn sid(&self) -> Option<&str> {
        self.core.sid()
    }

    /// The transport the session runs (or handshakes) over: `"polling"` or
    /// `"websocket"`.
    #[getter]
    fn transport(&self) -> &'static str {
        self.core.transport().as_str()
    }

    /// Whether the session is open (handshake done, not closing).
    #[getter]
    fn is_open(&self) -> bool {
        self.core.is_open()
    }

    /// Whether the connection is over.
    #[getter]
    fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// Why the handshake failed, when it failed for a reason of the
    /// protocol (not of the network), else `None`.
    #[getter]
    fn failure(&self) -> Option<&str> {
        self.core.failure()
    }

    /// The server's ping interval in seconds, once open.
    #[getter]
    fn ping_interval(&self) -> Option<f64> {
        self.core
            .handshake()
            .map(|h| h.ping_interval().as_secs_f64())
    }

    /// The server's ping timeout in seconds, once open.
    #[getter]
    fn ping_timeout(&self) -> Option<f64> {
        self.core
            .handshake()
            .map(|h| h.ping_timeout().as_secs_f64())
    }

    /// The most bytes the server takes in one payload or message (`0` if it
    /// did not say), once open.
    #[getter]
    fn max_payload(&self) -> Option<u64> {
        self.core.handshake().map(|h| h.max_payload)
    }

    /// The transports the server offers as upgrades, once open.
    #[getter]
    fn upgrades(&self) -> Option<Vec<String>> {
        self.core.handshake().map(|h| h.upgrades.clone())
    }

    /// The next thing to do, or `None` until something changes:
    /// `("get",)` (the handshake while `sid` is `None`, else a long poll),
    /// `("post", payload)`, `("open_ws", id)` (the handshake while `sid` is
    /// `None`, else the upgrade probe), `("ws_write", id, [str | bytes],
    /// n_messages)` (report `written(n_messages)` once written) or
    /// `("ws_close", id)` (close after the writes before, and forget it).
    fn poll_transmit<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some(transmit) = self.core.poll_transmit() else {
            return Ok(None);
        };
        let tuple = match transmit {
            Transmit::Get => ("get",).into_pyobject(py)?,
            Transmit::Post(payload) => ("post", payload).into_pyobject(py)?,
            // WebTransport is never enabled here.
            Transmit::OpenWebSocket(id) | Transmit::OpenWebTransport(id) => {
                let number = self.number(id);
                ("open_ws", number).into_pyobject(py)?
            }
            Transmit::WsWrite {
                ws,
                frames,
                messages,
            } => {
                let number = self.number(ws);
                let list = PyList::empty(py);
                for frame in &frames {
                    list.append(frame_object(py, frame)?)?;
                }
                ("ws_write", number, list, messages).into_pyobject(py)?
            }
            Transmit::WsClose(ws) => {
                let number = self.number(ws);
                self.forget(number);
                ("ws_close", number).into_pyobject(py)?
            }
        };
        Ok(Some(tuple))
    }

    /// The next event, in order, or `None`: `("opened", handshake)` (the
    /// open packet's JSON object as a dict: `sid`, `upgrades`,
    /// `pingInterval`, `pingTimeout` in milliseconds, `maxPayload`),
    /// `("message", str | bytes)`, `("upgraded", transport)`,
    /// `("upgrade_failed", why)` or `("closed", reason)` (once, with
    /// python-engineio's spelling of the reason; before `"opened"` it means
    /// the handshake failed: see `failure`).
    fn poll_event<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some(event) = self.core.poll_event() else {
            return Ok(None);
        };
        let tuple = match event {
            Event::Opened(handshake) => {
                let dict = PyDict::new(py);
                dict.set_item("sid", &handshake.sid)?;
                dict.set_item("upgrades", &handshake.upgrades)?;
                dict.set_item("pingInterval", handshake.ping_interval)?;
                dict.set_item("pingTimeout", handshake.ping_timeout)?;
                dict.set_item("maxPayload", handshake.max_payload)?;
                ("opened", dict).into_pyobject(py)?
            }
            Event::Message(Message::Text(text)) => ("message", text).into_pyobject(py)?,
            Event::Message(Message::Binary(bytes)) => {
                ("message", PyBytes::new(py, &bytes)).into_pyobject(py)?
            }
            Event::Upgraded(transport) => ("upgraded", transport.as_str()).into_pyobject(py)?,
            Event::UpgradeFailed(why) => ("upgrade_failed", why).into_pyobject(py)?,
            Event::Closed(reason) => ("closed", reason.as_str()).into_pyobject(py)?,
        };
        Ok(Some(tuple))
    }

    /// When `handle_timeout` must be called next, in seconds on the
    /// caller's clock, or `None`. (The handshake request is timed by the
    /// caller.)
    fn next_deadline(&self) -> Option<f64> {
        self.core
            .next_deadline()
            .map(|deadline| self.clock.seconds(deadline))
    }

    /// Runs the timers due at `now`: the ping watchdog ("ping timeout"),
    /// the probe timeout, the close timeout.
    fn handle_timeout(&mut self, now: f64) {
        let at = self.clock.at(now);
        self.core.handle_timeout(at);
    }

    /// Queues a text (`str`) or binary (`bytes`, `bytearray`) message.
    /// Refused with `ValueError((kind, message))`, `kind` being `"closed"`
    /// (the session is not open), `"queue full"` (`max_queue` messages wait
    /// to be written: try again after `written` or a POST) or
    /// `"separator in text"` (text holding `\x1e` cannot go over polling).
    fn send(&mut self, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let message = if let Ok(text) = data.extract::<String>() {
            Message::Text(text)
        } else {
            Message::Binary(data.extract::<Vec<u8>>()?.into())
        };
        self.core.send(message).map_err(send_error)
    }

    /// Closes the connection: over polling the close packet is posted
    /// (within `close_timeout`), over WebSocket it is written and the
    /// WebSocket closed; during the handshake the connection just ends.
    fn close(&mut self, now: f64) {
        let at = self.clock.at(now);
        self.core.close(at);
    }

    /// Ends the connection at once, without a close packet.
    fn abort(&mut self) {
        self.core.abort();
    }

    /// The GET in flight was answered with a 2xx status and this body.
    fn handle_get(&mut self, body: &[u8], now: f64) {
        let at = self.clock.at(now);
        self.core.handle_get(body, at);
    }

    /// The GET in flight failed (network error, timeout, status other than
    /// 2xx).
    fn get_failed(&mut self) {
        self.core.get_failed();
    }

    /// The POST in flight was answered with a 2xx status.
    fn handle_post(&mut self) {
        self.core.handle_post();
    }

    /// The POST in flight failed.
    fn post_failed(&mut self) {
        self.core.post_failed();
    }

    /// WebSocket `ws` is open.
    fn ws_opened(&mut self, ws: u64, now: f64) {
        if let Some(id) = self.ws_id(ws) {
            let at = self.clock.at(now);
            self.core.ws_opened(id, at);
        }
    }

    /// WebSocket `ws` could not be opened.
    fn ws_open_failed(&mut self, ws: u64) {
        if let Some(id) = self.ws_id(ws) {
            self.forget(ws);
            self.core.ws_open_failed(id);
        }
    }

    /// A text frame arrived on WebSocket `ws`.
    fn handle_ws_text(&mut self, ws: u64, text: &str, now: f64) {
        if let Some(id) = self.ws_id(ws) {
            let at = self.clock.at(now);
            self.core.handle_ws_text(id, text, at);
        }
    }

    /// A binary frame arrived on WebSocket `ws`.
    fn handle_ws_binary(&mut self, ws: u64, data: &[u8], now: f64) {
        if let Some(id) = self.ws_id(ws) {
            let at = self.clock.at(now);
            self.core.handle_ws_binary(id, data.to_vec().into(), at);
        }
    }

    /// WebSocket `ws` ended; `clean` when the server sent a close frame.
    fn ws_ended(&mut self, ws: u64, clean: bool) {
        if let Some(id) = self.ws_id(ws) {
            self.forget(ws);
            self.core.ws_ended(id, clean);
        }
    }

    /// `n` messages of a `("ws_write", ...)` were written (or lost with
    /// their WebSocket).
    fn written(&mut self, n: usize) {
        self.core.written(n);
    }
}
