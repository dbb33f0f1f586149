//! `engineio_rs._core.Session`: the Rust core's server session state
//! machine (`engineio_proto::server::Session`) for the package's Python
//! servers, which only move bytes and run handlers around it.
//!
//! Time is passed in as seconds of any monotonic clock (`time.monotonic()`,
//! or a fake clock in tests); deadlines come back on the same clock.

use std::time::Duration;

use engineio_proto::server::{
    Dispatch, RequestError, SendError, Session as CoreSession, SessionConfig, WsEnd, WsFinish,
    WsId, WsTransmit, decode_client_packet,
};
use engineio_proto::{
    DisconnectReason, EncodedPacket, Frame, Handshake, Message, Packet, Transport,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::clock::Clock;

/// A session's state machine.
#[pyclass(module = "engineio_rs._core")]
#[derive(Debug)]
pub(crate) struct Session {
    core: CoreSession,
    /// Seconds on the caller's clock.
    clock: Clock,
    /// The close last reported by `take_flags`.
    closed_detail: Option<(&'static str, Option<String>)>,
}

/// Turns a refused request into `ValueError(status, code, message)`.
fn request_error(err: RequestError) -> PyErr {
    let http = err.http_error();
    PyValueError::new_err((http.status, http.code as u8, http.message))
}

/// Turns a refused send into `ValueError(kind, message)`.
pub(crate) fn send_error(err: SendError) -> PyErr {
    let kind = match err {
        SendError::Closed => "closed",
        SendError::UnknownSession => "unknown session",
        SendError::QueueFull { .. } => "queue full",
        SendError::SeparatorInText => "separator in text",
    };
    PyValueError::new_err((kind, err.to_string()))
}

/// The reasons as python-engineio spells them.
fn reason(name: &str) -> PyResult<DisconnectReason> {
    Ok(match name {
        "server disconnect" => DisconnectReason::ServerDisconnect,
        "client disconnect" => DisconnectReason::ClientDisconnect,
        "ping timeout" => DisconnectReason::PingTimeout,
        "transport close" => DisconnectReason::TransportClose,
        "transport error" => DisconnectReason::TransportError,
        other => return Err(PyValueError::new_err(format!("unknown reason {other:?}"))),
    })
}

fn message_object<'py>(py: Python<'py>, message: Message) -> Bound<'py, PyAny> {
    match message {
        Message::Text(text) => text
            .into_pyobject(py)
            .map(Bound::into_any)
            .unwrap_or_else(|e| match e {}),
        Message::Binary(bytes) => PyBytes::new(py, &bytes).into_any(),
    }
}

#[pymethods]
impl Session {
    /// A new session over `transport` (`"polling"` or `"websocket"`),
    /// opened at `now`. Durations are in seconds.
    #[new]
    #[pyo3(signature = (
        transport, now, *, ping_interval=25.0, ping_timeout=20.0, upgrade_timeout=10.0,
        max_poll_wait=45.0, max_poll_bytes=1_000_000, max_poll_packets=16,
        max_payload_bytes=1_000_000, max_payload_packets=100_000, max_queue=1024,
        max_inbox=128, close_timeout=30.0
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        transport: &str,
        now: f64,
        ping_interval: f64,
        ping_timeout: f64,
        upgrade_timeout: f64,
        max_poll_wait: f64,
        max_poll_bytes: usize,
        max_poll_packets: usize,
        max_payload_bytes: usize,
        max_payload_packets: usize,
        max_queue: usize,
        max_inbox: usize,
        close_timeout: f64,
    ) -> PyResult<Self> {
        let transport: Transport =
            transport
                .parse()
                .map_err(|err: engineio_proto::UnknownTransport| {
                    PyValueError::new_err(err.to_string())
                })?;
        let secs = |value: f64, name: &str| {
            Duration::try_from_secs_f64(value).map_err(|_| {
                PyValueError::new_err(format!("{name} must be a positive number of seconds"))
            })
        };
        let config = SessionConfig {
            ping_interval: secs(ping_interval, "ping_interval")?,
            ping_timeout: secs(ping_timeout, "ping_timeout")?,
            upgrade_timeout: secs(upgrade_timeout, "upgrade_timeout")?,
            max_poll_wait: secs(max_poll_wait, "max_poll_wait")?,
            max_poll_bytes,
            max_poll_packets,
            max_payload_bytes,
            max_payload_packets,
            max_queue,
            max_inbox,
            close_timeout: secs(close_timeout, "close_timeout")?,
        };
        let clock = Clock::new(now);
        Ok(Self {
            core: CoreSession::new(transport, config, clock.base()),
            clock,
            closed_detail: None,
        })
    }

    /// The transport the session runs over: `"polling"` or `"websocket"`.
    #[getter]
    fn transport(&self) -> &'static str {
        self.core.transport().as_str()
    }

    /// Why the session closed, or `None` while it is open.
    #[getter]
    fn closed(&self) -> Option<&'static str> {
        self.core.closed().map(DisconnectReason::as_str)
    }

    /// Whether nothing is left for the transports and timers.
    #[getter]
    fn is_finished(&self) -> bool {
        self.core.is_finished()
    }

    /// Queues a text (`str`) or binary (`bytes`) message.
    fn send(&mut self, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let message = if let Ok(text) = data.extract::<String>() {
            Message::Text(text)
        } else {
            Message::Binary(data.extract::<Vec<u8>>()?.into())
        };
        self.core
            .send(EncodedPacket::new(Packet::Message(message)))
            .map_err(send_error)
    }

    /// Closes the session for `reason` (python-engineio's spelling);
    /// returns whether it was open.
    fn close(&mut self, reason_name: &str, now: f64) -> PyResult<bool> {
        let at = self.clock.at(now);
        Ok(self.core.close(reason(reason_name)?, at))
    }

    /// Ends a session whose handshake was refused, reporting no disconnect.
    fn reject(&mut self) {
        self.core.reject();
    }

    /// The body of a polling handshake: the open packet (from the
    /// handshake's fields, see `open_packet`) and what was queued meanwhile.
    #[pyo3(signature = (sid, upgrades, ping_interval, ping_timeout, max_payload))]
    fn open_payload(
        &mut self,
        sid: &str,
        upgrades: Vec<String>,
        ping_interval: f64,
        ping_timeout: f64,
        max_payload: u64,
    ) -> String {
        let open = open(sid, upgrades, ping_interval, ping_timeout, max_payload);
        self.core.open_payload(&open)
    }

    /// Starts a long-polling GET; `ValueError((status, code, message))`
    /// when refused.
    fn begin_poll(&mut self, now: f64) -> PyResult<()> {
        let at = self.clock.at(now);
        self.core.begin_poll(at).map_err(request_error)
    }

    /// The body for the GET in flight, or `None` to keep waiting.
    fn poll_payload(&mut self) -> Option<String> {
        self.core.poll_payload()
    }

    /// The GET in flight went away unanswered.
    fn poll_aborted(&mut self, now: f64) {
        let at = self.clock.at(now);
        self.core.poll_aborted(at);
    }

    /// Starts a POST; `ValueError((status, code, message))` when refused.
    #[pyo3(signature = (now, content_type=None))]
    fn begin_post(&mut self, now: f64, content_type: Option<&str>) -> PyResult<()> {
        let at = self.clock.at(now);
        self.core
            .begin_post(at, content_type)
            .map_err(request_error)
    }

    /// Hands over the POST's body.
    fn post_payload(&mut self, body: &[u8], now: f64) -> PyResult<()> {
        let at = self.clock.at(now);
        self.core.post_payload(body, at).map_err(request_error)
    }

    /// Whether the POST's packets are all in (answer `ok`).
    fn post_accepted(&mut self) -> bool {
        self.core.post_accepted()
    }

    /// Ends the POST without its body (over the size limit: 413).
    fn post_too_large(&mut self) {
        self.core.post_too_large();
    }

    /// The POST went away unanswered.
    fn post_aborted(&mut self, now: f64) {
        let at = self.clock.at(now);
        self.core.post_aborted(at);
    }

    /// Attaches a WebSocket; returns its id, or `ValueError((status, code,
    /// message))`: then accept that WebSocket and close it at once.
    fn attach_websocket(&mut self, now: f64) -> PyResult<u64> {
        let at = self.clock.at(now);
        let id = self.core.attach_websocket(at).map_err(request_error)?;
        Ok(ws_number(id))
    }

    /// The id of the session's WebSocket, if any.
    #[getter]
    fn websocket(&self) -> Option<u64> {
        self.core.websocket().map(ws_number)
    }

    /// What WebSocket `ws` must do: `("write", [frames])` (each `str` or
    /// `bytes`), `("close", code_or_None)`, or `("idle", None)`.
    fn ws_transmit<'py>(
        &mut self,
        py: Python<'py>,
        ws: u64,
    ) -> PyResult<(&'static str, Bound<'py, PyAny>)> {
        let Some(id) = self.ws_id(ws) else {
            return Ok(("close", py.None().into_bound(py)));
        };
        Ok(match self.core.ws_transmit(id) {
            WsTransmit::Write(packets) => {
                let frames: Vec<Bound<'py, PyAny>> = packets
                    .iter()
                    .map(|packet| match packet.packet() {
                        Packet::Message(Message::Binary(bytes)) => {
                            PyBytes::new(py, bytes).into_any()
                        }
                        _ => packet
                            .text()
                            .into_pyobject(py)
                            .map(Bound::into_any)
                            .unwrap_or_else(|e| match e {}),
                    })
                    .collect();
                ("write", frames.into_pyobject(py)?.into_any())
            }
            WsTransmit::Close(code) => ("close", code.into_pyobject(py)?.into_any()),
            WsTransmit::Idle => ("idle", py.None().into_bound(py)),
        })
    }

    /// Whether WebSocket `ws` may read its next frame.
    fn ws_can_read(&self, ws: u64) -> bool {
        self.ws_id(ws).is_some_and(|id| self.core.ws_can_read(id))
    }

    /// A text frame read on WebSocket `ws`; an undecodable one ends it.
    /// Returns the close frame's code when the WebSocket must be closed
    /// (`0` for a close frame without code), else `None`.
    fn ws_receive_text(&mut self, ws: u64, text: &str, now: f64) -> Option<u16> {
        let id = self.ws_id(ws)?;
        let at = self.clock.at(now);
        match decode_client_packet(text) {
            Ok(packet) => {
                self.core.ws_receive(id, packet, at);
                None
            }
            Err(err) => finish_code(self.core.ws_ended(
                id,
                WsEnd::Undecodable(err.to_string()),
                at,
            )),
        }
    }

    /// A binary frame read on WebSocket `ws`.
    fn ws_receive_binary(&mut self, ws: u64, data: &[u8], now: f64) {
        if let Some(id) = self.ws_id(ws) {
            let at = self.clock.at(now);
            let packet = Frame::Binary(data.to_vec().into()).decode();
            if let Ok(packet) = packet {
                self.core.ws_receive(id, packet, at);
            }
        }
    }

    /// WebSocket `ws` ended: `how` is `"closed"`, `"failed"` or
    /// `"too big"`. Returns the close frame's code to send (`0` for none),
    /// or `None` to just drop the connection.
    fn ws_ended(&mut self, ws: u64, how: &str, now: f64) -> PyResult<Option<u16>> {
        let Some(id) = self.ws_id(ws) else {
            return Ok(None);
        };
        let end = match how {
            "closed" => WsEnd::Closed,
            "failed" => WsEnd::Failed,
            "too big" => WsEnd::TooBig,
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown WebSocket end {other:?}"
                )));
            }
        };
        let at = self.clock.at(now);
        Ok(finish_code(self.core.ws_ended(id, end, at)))
    }

    /// The next work for the dispatcher: `("message", str | bytes)`,
    /// `("disconnect", reason)`, or `None`.
    fn next_dispatch<'py>(&mut self, py: Python<'py>) -> Option<(&'static str, Bound<'py, PyAny>)> {
        Some(match self.core.next_dispatch()? {
            Dispatch::Message(message) => ("message", message_object(py, message)),
            Dispatch::Disconnect(reason) => (
                "disconnect",
                reason
                    .as_str()
                    .into_pyobject(py)
                    .map(Bound::into_any)
                    .unwrap_or_else(|e| match e {}),
            ),
        })
    }

    /// A message handler finished.
    fn message_handled(&mut self, now: f64) {
        let at = self.clock.at(now);
        self.core.message_handled(at);
    }

    /// When `handle_timeout` must be called next, in seconds on the
    /// caller's clock, or `None`.
    fn next_deadline(&self) -> Option<f64> {
        self.core
            .next_deadline()
            .map(|deadline| self.clock.seconds(deadline))
    }

    /// Runs the timers due at `now`.
    fn handle_timeout(&mut self, now: f64) {
        let at = self.clock.at(now);
        self.core.handle_timeout(at);
    }

    /// What happened since the last call, as bits: 1 wake, 2
    /// deadline_changed, 4 dispatch, 8 forget, 16 closed (then
    /// `closed_detail` has the reason and detail). `0` when nothing did:
    /// the fast form of `take_events`, called after every change.
    fn take_flags(&mut self) -> u8 {
        let events = self.core.take_events();
        let mut flags = u8::from(events.wake)
            | u8::from(events.deadline_changed) << 1
            | u8::from(events.dispatch) << 2
            | u8::from(events.forget) << 3;
        if let Some(closed) = events.closed {
            flags |= 16;
            self.closed_detail = Some((closed.reason.as_str(), closed.detail));
        }
        flags
    }

    /// The reason and detail (what went wrong, or `None`) of the close
    /// that the last `take_flags` reported.
    #[getter]
    fn closed_detail(&self) -> Option<(&'static str, Option<String>)> {
        self.closed_detail.clone()
    }

    /// What happened since the last call: a dict with `wake`,
    /// `deadline_changed`, `dispatch`, `forget` (bools), `closed` (the
    /// reason or `None`) and `detail` (what went wrong, or `None`).
    fn take_events<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let events = self.core.take_events();
        let dict = PyDict::new(py);
        dict.set_item("wake", events.wake)?;
        dict.set_item("deadline_changed", events.deadline_changed)?;
        dict.set_item("dispatch", events.dispatch)?;
        dict.set_item("forget", events.forget)?;
        dict.set_item("closed", events.closed.as_ref().map(|c| c.reason.as_str()))?;
        dict.set_item("detail", events.closed.and_then(|c| c.detail))?;
        Ok(dict)
    }
}

impl Session {
    /// The `WsId` of a WebSocket number handed out before.
    fn ws_id(&self, number: u64) -> Option<WsId> {
        self.core.websocket().filter(|id| ws_number(*id) == number)
    }
}

/// A WebSocket's number for Python.
fn ws_number(id: WsId) -> u64 {
    id.number()
}

/// The open packet of a handshake; durations in seconds.
fn open(
    sid: &str,
    upgrades: Vec<String>,
    ping_interval: f64,
    ping_timeout: f64,
    max_payload: u64,
) -> Packet {
    Packet::Open(Handshake::new(
        sid,
        upgrades,
        Duration::from_secs_f64(ping_interval.max(0.0)),
        Duration::from_secs_f64(ping_timeout.max(0.0)),
        max_payload,
    ))
}

/// The open packet of a handshake, encoded: the first frame of a session
/// opened over WebSocket. Durations are in seconds.
#[pyfunction]
#[pyo3(signature = (sid, upgrades, ping_interval, ping_timeout, max_payload))]
pub(crate) fn open_packet(
    sid: &str,
    upgrades: Vec<String>,
    ping_interval: f64,
    ping_timeout: f64,
    max_payload: u64,
) -> String {
    open(sid, upgrades, ping_interval, ping_timeout, max_payload).to_text()
}

/// A `WsFinish` as a close code for Python: `Some(0)` for a close frame
/// without code, `None` to drop.
fn finish_code(finish: WsFinish) -> Option<u16> {
    match finish {
        WsFinish::Drop => None,
        WsFinish::Close(code) => Some(code.unwrap_or(0)),
    }
}
