//! The driver: one open session's I/O loop.
//!
//! On polling it keeps one GET and at most one POST in flight, batching
//! queued packets into POSTs within the server's `maxPayload`. It probes a
//! WebSocket when the server offers one, pauses polling once `3probe`
//! arrived (waits for the in-flight GET and POST to return), sends `5`, and
//! moves to the WebSocket, flushing what was queued meanwhile. It answers
//! pings, and ends the session when no ping comes within
//! `pingInterval + pingTimeout`.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use engineio_proto::{
    Frame, Message, Packet, PayloadEncoder, PayloadLimits, Transport, decode_payload,
};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use super::endpoint::Endpoint;
use super::error::ConnectionError;
use super::event::{DisconnectReason, Event, State};
use super::session::{Command, Established, Shared, UNLIMITED, Unwritten};
use super::ws::{self, WsStream};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What the WebSocket writer task is asked to do.
#[derive(Debug)]
enum WsOut {
    /// A frame; `counted` when it carries an application message, which the
    /// unwritten count releases once written.
    Frame {
        frame: WsMessage,
        counted: bool,
    },
    Close,
}

/// The WebSocket of a session: the read half, and the writer task.
#[derive(Debug)]
struct WsConn {
    read: SplitStream<WsStream>,
    write: mpsc::UnboundedSender<WsOut>,
    writer: JoinHandle<()>,
}

impl WsConn {
    fn new(stream: WsStream, unwritten: Arc<Unwritten>) -> Self {
        let (sink, read) = stream.split();
        let (write, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_loop(sink, rx, unwritten));
        Self {
            read,
            write,
            writer,
        }
    }

    fn send(&self, packet: &Packet) {
        let frame = match Frame::encode(packet) {
            Frame::Text(text) => WsMessage::text(text),
            Frame::Binary(bytes) => WsMessage::Binary(bytes),
        };
        let counted = matches!(packet, Packet::Message(_));
        // A failed writer shows up as a read error.
        let _ = self.write.send(WsOut::Frame { frame, counted });
    }

    /// Sends a close frame after everything queued, and waits (at most
    /// `timeout`) until the writer has written it.
    async fn close(self, timeout: Duration) {
        let _ = self.write.send(WsOut::Close);
        drop(self.write);
        if tokio::time::timeout(timeout, self.writer).await.is_err() {
            tracing::warn!("engine.io: the WebSocket close did not complete within {timeout:?}");
        }
    }
}

async fn write_loop(
    mut sink: SplitSink<WsStream, WsMessage>,
    mut rx: mpsc::UnboundedReceiver<WsOut>,
    unwritten: Arc<Unwritten>,
) {
    while let Some(out) = rx.recv().await {
        match out {
            WsOut::Frame { frame, counted } => {
                let result = sink.send(frame).await;
                if counted {
                    unwritten.written(1);
                }
                if let Err(err) = result {
                    tracing::debug!("engine.io WebSocket write failed: {err}");
                    return;
                }
            }
            WsOut::Close => {
                let _ = sink.send(WsMessage::Close(None)).await;
                let _ = sink.close().await;
                return;
            }
        }
    }
}

/// What woke the driver up.
enum Step {
    Command(Option<Command>),
    Get(Result<Bytes, ConnectionError>),
    Post(Result<(), ConnectionError>),
    Probe(Result<Box<WsStream>, ConnectionError>),
    Frame(Option<Result<WsMessage, tungstenite::Error>>),
    PingTimeout,
    CloseTimeout,
}

/// One session's I/O loop.
pub(crate) struct Driver {
    shared: Arc<Shared>,
    endpoint: Endpoint,
    sid: String,
    events: mpsc::UnboundedSender<Event>,
    limits: PayloadLimits,
    ping_window: Duration,
    ping_deadline: Instant,
    pending: Vec<Packet>,
    /// Packets waiting for a POST (polling only).
    outbox: VecDeque<Packet>,
    get: Option<BoxFuture<Result<Bytes, ConnectionError>>>,
    post: Option<BoxFuture<Result<(), ConnectionError>>>,
    probe: Option<BoxFuture<Result<Box<WsStream>, ConnectionError>>>,
    /// A WebSocket that answered `3probe`, waiting for polling to pause.
    probed: Option<Box<WsStream>>,
    ws: Option<WsConn>,
    /// Set by `disconnect()` on polling: when to give up flushing.
    closing: Option<Instant>,
}

impl Drop for Driver {
    /// Messages still queued die with the session: release their count.
    fn drop(&mut self) {
        self.shared.unwritten.reset();
    }
}

impl Driver {
    pub(crate) fn new(
        shared: Arc<Shared>,
        endpoint: Endpoint,
        established: Established,
        events: mpsc::UnboundedSender<Event>,
    ) -> Self {
        let handshake = established.handshake;
        let max_payload = usize::try_from(handshake.max_payload).unwrap_or(usize::MAX);
        let ping_window = handshake.ping_interval() + handshake.ping_timeout();
        let mut driver = Self {
            limits: PayloadLimits::new(
                usize::MAX,
                if max_payload == 0 {
                    usize::MAX
                } else {
                    max_payload
                },
            ),
            ping_window,
            ping_deadline: Instant::now() + ping_window,
            sid: handshake.sid.clone(),
            pending: established.packets,
            outbox: VecDeque::new(),
            get: None,
            post: None,
            probe: None,
            probed: None,
            ws: established
                .ws
                .map(|stream| WsConn::new(stream, shared.unwritten.clone())),
            closing: None,
            shared,
            endpoint,
            events,
        };
        let websocket_enabled = driver
            .shared
            .config
            .transports
            .contains(&Transport::WebSocket);
        if driver.ws.is_none()
            && websocket_enabled
            && handshake.upgrades.iter().any(|u| u == "websocket")
        {
            driver.start_probe();
        }
        driver
    }

    /// Runs the session until it ends, and says why it ended.
    pub(crate) async fn run(
        mut self,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> DisconnectReason {
        for packet in std::mem::take(&mut self.pending) {
            if let Some(reason) = self.handle(packet) {
                return reason;
            }
        }
        loop {
            if self.ws.is_none()
                && let Some(reason) = self.pump_polling()
            {
                return reason;
            }
            let closing = self.closing;
            // Biased: what the server sent is handled before a failed POST,
            // so a close packet racing a POST refused by a closed session is
            // still reported as a server disconnect.
            let step = tokio::select! {
                biased;
                result = maybe(&mut self.get) => Step::Get(result),
                frame = next_frame(&mut self.ws) => Step::Frame(frame),
                result = maybe(&mut self.post) => Step::Post(result),
                result = maybe(&mut self.probe) => Step::Probe(result),
                command = commands.recv(), if closing.is_none() => Step::Command(command),
                () = tokio::time::sleep_until(self.ping_deadline) => Step::PingTimeout,
                () = sleep_until_opt(closing) => Step::CloseTimeout,
            };
            if let Some(reason) = self.step(step).await {
                return reason;
            }
        }
    }

    async fn step(&mut self, step: Step) -> Option<DisconnectReason> {
        match step {
            Step::Command(Some(Command::Send(message))) => {
                self.send(Packet::Message(message));
                None
            }
            Step::Command(Some(Command::Close) | None) => self.close().await,
            Step::Get(result) => {
                self.get = None;
                match result.and_then(|body| {
                    decode_payload(&body, &UNLIMITED)
                        .map_err(|err| ConnectionError::Protocol(err.to_string()))
                }) {
                    Ok(packets) => packets.into_iter().find_map(|packet| self.handle(packet)),
                    Err(err) if self.closing.is_some() => {
                        tracing::debug!("engine.io poll failed while closing: {err}");
                        None
                    }
                    Err(err) => {
                        tracing::warn!("engine.io poll failed: {err}");
                        Some(DisconnectReason::TransportError)
                    }
                }
            }
            Step::Post(result) => {
                self.post = None;
                match result {
                    Ok(()) => None,
                    Err(err) if self.closing.is_some() => {
                        tracing::debug!("engine.io close POST failed: {err}");
                        Some(DisconnectReason::ClientDisconnect)
                    }
                    Err(err) => {
                        tracing::warn!("engine.io POST failed: {err}");
                        Some(DisconnectReason::TransportError)
                    }
                }
            }
            Step::Probe(result) => {
                self.probe = None;
                match result {
                    Ok(ws) => self.probed = Some(ws),
                    Err(err) => {
                        tracing::warn!(
                            "engine.io upgrade to WebSocket failed, staying on polling: {err}"
                        );
                        let _ = self.events.send(Event::UpgradeError(err.to_string()));
                    }
                }
                None
            }
            Step::Frame(frame) => self.on_frame(frame),
            Step::PingTimeout => {
                tracing::warn!(
                    "engine.io: no ping from the server within {:?}",
                    self.ping_window
                );
                Some(DisconnectReason::PingTimeout)
            }
            Step::CloseTimeout => {
                tracing::warn!("engine.io: the close packet could not be flushed in time");
                Some(DisconnectReason::ClientDisconnect)
            }
        }
    }

    /// Starts the requests polling needs; completes an upgrade once polling
    /// has paused; ends a close once the close packet is posted.
    fn pump_polling(&mut self) -> Option<DisconnectReason> {
        if self.closing.is_some() {
            if self.outbox.is_empty() && self.post.is_none() {
                return Some(DisconnectReason::ClientDisconnect);
            }
        } else if self.probed.is_some() {
            if self.get.is_none() && self.post.is_none() {
                self.finish_upgrade();
                return None;
            }
        } else if self.get.is_none() {
            let net = self.shared.net.clone();
            let url = self.endpoint.polling(Some(&self.sid), true);
            let timeout = self.ping_window + net.timeout;
            self.get = Some(Box::pin(async move { net.get(url, timeout).await }));
        }
        if self.post.is_none() && self.probed.is_none() && !self.outbox.is_empty() {
            let mut encoder = PayloadEncoder::new(self.limits);
            let mut messages = 0;
            while let Some(packet) = self.outbox.front() {
                if !encoder.try_push(packet) {
                    break;
                }
                messages += usize::from(matches!(packet, Packet::Message(_)));
                self.outbox.pop_front();
            }
            self.shared.unwritten.written(messages);
            let net = self.shared.net.clone();
            let url = self.endpoint.polling(Some(&self.sid), false);
            let payload = encoder.finish();
            self.post = Some(Box::pin(async move { net.post(url, payload).await }));
        }
        None
    }

    fn start_probe(&mut self) {
        let net = self.shared.net.clone();
        let url = self.endpoint.websocket(Some(&self.sid));
        let cookie_url = self.endpoint.cookie_url().clone();
        self.probe = Some(Box::pin(async move {
            let stream = ws::open(&net, &url, &cookie_url).await?;
            ws::probe(stream, net.timeout).await.map(Box::new)
        }));
    }

    /// Sends `5` on the probed WebSocket and moves the session there.
    fn finish_upgrade(&mut self) {
        let Some(stream) = self.probed.take() else {
            return;
        };
        let conn = WsConn::new(*stream, self.shared.unwritten.clone());
        conn.send(&Packet::Upgrade);
        for packet in self.outbox.drain(..) {
            conn.send(&packet);
        }
        self.ws = Some(conn);
        self.shared.set_transport(Transport::WebSocket);
        let _ = self.events.send(Event::Upgrade(Transport::WebSocket));
        tracing::debug!("engine.io session upgraded to WebSocket");
    }

    /// Sends a packet on the current transport.
    fn send(&mut self, packet: Packet) {
        match &self.ws {
            Some(ws) => ws.send(&packet),
            None => self.outbox.push_back(packet),
        }
    }

    /// Begins (polling) or completes (WebSocket) a client close: the close
    /// packet goes out before the transport is dropped.
    async fn close(&mut self) -> Option<DisconnectReason> {
        self.shared.set_state(State::Disconnecting);
        let timeout = self.shared.net.timeout;
        if let Some(ws) = self.ws.take() {
            ws.send(&Packet::Close);
            ws.close(timeout).await;
            return Some(DisconnectReason::ClientDisconnect);
        }
        // Abandon an upgrade in progress; polling carries the close.
        self.probe = None;
        self.probed = None;
        self.outbox.push_back(Packet::Close);
        self.closing = Some(Instant::now() + timeout);
        None
    }

    fn on_frame(
        &mut self,
        frame: Option<Result<WsMessage, tungstenite::Error>>,
    ) -> Option<DisconnectReason> {
        let packet = match frame {
            Some(Ok(WsMessage::Text(text))) => Packet::decode_text(text.as_str()),
            Some(Ok(WsMessage::Binary(bytes))) => Ok(Packet::Message(Message::Binary(bytes))),
            Some(Ok(WsMessage::Close(_))) => return Some(DisconnectReason::ServerDisconnect),
            Some(Ok(_)) => return None,
            Some(Err(err)) => {
                tracing::warn!("engine.io WebSocket failed: {err}");
                return Some(DisconnectReason::TransportError);
            }
            None => {
                tracing::warn!("engine.io WebSocket closed without a close frame");
                return Some(DisconnectReason::TransportError);
            }
        };
        match packet {
            Ok(packet) => self.handle(packet),
            Err(err) => {
                tracing::warn!("engine.io: undecodable packet from the server ignored: {err}");
                None
            }
        }
    }

    /// Reacts to one packet from the server.
    fn handle(&mut self, packet: Packet) -> Option<DisconnectReason> {
        match packet {
            Packet::Ping(data) => {
                self.ping_deadline = Instant::now() + self.ping_window;
                self.send(Packet::Pong(data));
            }
            Packet::Message(message) => {
                let _ = self.events.send(Event::Message(message));
            }
            Packet::Close => return Some(DisconnectReason::ServerDisconnect),
            Packet::Open(_) | Packet::Pong(_) | Packet::Upgrade | Packet::Noop => {}
        }
        None
    }
}

/// The output of an optional future; pending forever when there is none.
async fn maybe<T>(future: &mut Option<BoxFuture<T>>) -> T {
    match future {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

/// The next frame of an optional WebSocket; pending forever without one.
async fn next_frame(ws: &mut Option<WsConn>) -> Option<Result<WsMessage, tungstenite::Error>> {
    match ws {
        Some(ws) => ws.read.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
