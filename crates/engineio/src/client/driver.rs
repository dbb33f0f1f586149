//! The driver: runs one connection's I/O on the sans-I/O
//! [`Connection`](engineio_proto::client::Connection) of the core.
//!
//! The core decides everything; the driver does what
//! [`Connection::poll_transmit`] says (start a GET or a POST, open, write or
//! close a WebSocket), feeds back what the network brought, sleeps until
//! [`Connection::next_deadline`], and hands [`Connection::poll_event`]'s
//! events to the dispatcher. Every change to the connection goes through
//! [`Link::update`], so the application's `send()` (on another task) and
//! the driver see one state.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use engineio_proto::client::{Connection, Event as CoreEvent, Transmit, WsId};
use engineio_proto::{DisconnectReason, Frame};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use super::endpoint::Endpoint;
use super::error::{Cause, ConnectionError};
use super::event::{Event, State};
use super::link::Link;
use super::shared::{Command, Shared};
use super::ws::{self, Opened, WsStream};
use crate::deflate::codec::Deflater;
use tokio_tungstenite::tungstenite::protocol::frame::Frame as WsFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A WebSocket (or WebTransport stream) being opened, with its id.
type Opening = (WsId, BoxFuture<Result<OpenedStream, ConnectionError>>);

/// A stream transport once opened.
#[derive(Debug)]
enum OpenedStream {
    WebSocket(Box<Opened>),
    #[cfg(feature = "webtransport")]
    WebTransport(Box<super::wt::WtOpened>),
}

/// What a WebTransport stream's reader hands over (built only with the
/// `webtransport` feature).
#[derive(Debug)]
#[cfg_attr(not(feature = "webtransport"), allow(dead_code))]
pub(crate) enum WtIn {
    /// A frame (one packet).
    Frame(Frame),
    /// The stream ended: `clean` when the server finished it.
    End { clean: bool },
}

/// The reading side of a stream transport.
#[derive(Debug)]
enum Reader {
    WebSocket(SplitStream<WsStream>),
    // Only built with the `webtransport` feature.
    #[cfg_attr(not(feature = "webtransport"), allow(dead_code))]
    WebTransport(mpsc::Receiver<WtIn>),
}

/// What a stream transport's reading side produced.
enum Incoming {
    WebSocket(Option<Result<WsMessage, tungstenite::Error>>),
    WebTransport(Option<WtIn>),
}

/// How a connection ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The session was open, then ended for this reason.
    Ended(DisconnectReason),
    /// The handshake failed.
    HandshakeFailed(ConnectionError),
    /// The application gave up during the handshake (closed, or dropped
    /// the `connect()` future).
    Cancelled,
}

/// A WebSocket of the connection: its read half and its writer task.
#[derive(Debug)]
struct WsConn {
    id: WsId,
    read: Reader,
    write: mpsc::UnboundedSender<WsOut>,
    writer: JoinHandle<()>,
}

/// What a WebSocket writer is asked to do.
#[derive(Debug)]
pub(crate) enum WsOut {
    /// Frames, of which `messages` are application messages.
    Frames(Vec<Frame>, usize),
    Close,
}

impl WsConn {
    fn new(id: WsId, opened: Opened, link: Arc<Link>) -> Self {
        let (sink, read) = opened.stream.split();
        let (write, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_loop(sink, rx, link, opened.deflater));
        Self {
            id,
            read: Reader::WebSocket(read),
            write,
            writer,
        }
    }

    /// Starts the reader and writer of a WebTransport stream.
    #[cfg(feature = "webtransport")]
    fn webtransport(id: WsId, opened: super::wt::WtOpened, link: Arc<Link>) -> Self {
        let (read, write, writer) = super::wt::spawn(opened, link);
        Self {
            id,
            read: Reader::WebTransport(read),
            write,
            writer,
        }
    }

    /// Closes the WebSocket after what was queued, waiting at most
    /// `timeout` for the writer.
    async fn close(self, timeout: Duration) {
        let _ = self.write.send(WsOut::Close);
        drop(self.write);
        if tokio::time::timeout(timeout, self.writer).await.is_err() {
            tracing::warn!("engine.io: the WebSocket close did not complete within {timeout:?}");
        }
    }
}

/// The WebSocket message for a frame: compressed (a raw frame with RSV1
/// set) when permessage-deflate was agreed and the frame is long enough.
fn ws_message(frame: Frame, deflater: Option<&mut Deflater>) -> WsMessage {
    let (bytes, data) = match &frame {
        Frame::Text(text) => (text.as_bytes(), Data::Text),
        Frame::Binary(bytes) => (&bytes[..], Data::Binary),
    };
    if let Some(compressed) = deflater.and_then(|deflater| deflater.compress(bytes)) {
        let mut raw = WsFrame::message(compressed, OpCode::Data(data), true);
        raw.header_mut().rsv1 = true;
        return WsMessage::Frame(raw);
    }
    match frame {
        Frame::Text(text) => WsMessage::text(text),
        Frame::Binary(bytes) => WsMessage::Binary(bytes),
    }
}

/// Writes frames in order; tells the connection when messages are written
/// (they stop counting against `max_queue`).
async fn write_loop(
    mut sink: SplitSink<WsStream, WsMessage>,
    mut rx: mpsc::UnboundedReceiver<WsOut>,
    link: Arc<Link>,
    mut deflater: Option<Deflater>,
) {
    while let Some(out) = rx.recv().await {
        match out {
            WsOut::Frames(frames, messages) => {
                let mut failed = false;
                for frame in frames {
                    let message = ws_message(frame, deflater.as_mut());
                    if let Err(err) = sink.feed(message).await {
                        tracing::debug!("engine.io WebSocket write failed: {err}");
                        failed = true;
                        break;
                    }
                }
                if !failed && let Err(err) = sink.flush().await {
                    tracing::debug!("engine.io WebSocket write failed: {err}");
                    failed = true;
                }
                link.change(|core| core.written(messages));
                if failed {
                    // The read half reports the broken connection.
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

/// What woke the driver.
enum Step {
    Get(Result<Bytes, ConnectionError>),
    Post(Result<(), ConnectionError>),
    Opened(WsId, Result<OpenedStream, ConnectionError>),
    Frame(WsId, Incoming),
    Command(Option<Command>),
    Changed,
    Timer,
    Abandoned,
}

/// Runs one connection from its handshake to its end.
///
/// `attempts` is the number of reconnection attempts this connection is
/// (0 for the first connection): a `Reconnected` event precedes its
/// `Connect`. `opened` is told the handshake's outcome; if its receiver
/// goes away during the handshake, the connection is abandoned.
pub(crate) async fn drive(
    shared: &Arc<Shared>,
    endpoint: &Endpoint,
    link: &Arc<Link>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    events: &mpsc::UnboundedSender<Event>,
    attempts: u32,
    mut opened: Option<oneshot::Sender<Result<(), ConnectionError>>>,
) -> Outcome {
    let mut driver = Driver {
        shared: Arc::clone(shared),
        endpoint: endpoint.clone(),
        link: Arc::clone(link),
        events: events.clone(),
        attempts,
        is_open: false,
        commands_done: false,
        requested: None,
        last_error: None,
        get: None,
        post: None,
        opening: None,
        sockets: Vec::new(),
    };
    loop {
        if let Some(outcome) = driver.act(&mut opened).await {
            driver.shutdown().await;
            return outcome;
        }
        let deadline = link.core().next_deadline();
        let handshaking = !driver.is_open;
        let listening = !driver.commands_done;
        // With too many messages undelivered, reading stops (the GET is not
        // polled, WebSockets are not read) until one is delivered.
        let reading = !shared.is_backlogged();
        let step = tokio::select! {
            biased;
            result = maybe(&mut driver.get), if reading => Step::Get(result),
            frame = next_frame(&mut driver.sockets), if reading => Step::Frame(frame.0, frame.1),
            () = shared.room.notified(), if !reading => Step::Changed,
            result = maybe(&mut driver.post) => Step::Post(result),
            (id, result) = maybe_opening(&mut driver.opening) => Step::Opened(id, result),
            command = commands.recv(), if listening => Step::Command(command),
            () = link.wake.notified() => Step::Changed,
            () = sleep_until(deadline) => Step::Timer,
            () = abandoned(&mut opened), if handshaking => Step::Abandoned,
        };
        if matches!(step, Step::Abandoned) {
            link.change(Connection::abort);
            driver.shutdown().await;
            return Outcome::Cancelled;
        }
        driver.step(step);
    }
}

/// The driver's state: the requests and WebSockets in flight.
struct Driver {
    shared: Arc<Shared>,
    endpoint: Endpoint,
    link: Arc<Link>,
    events: mpsc::UnboundedSender<Event>,
    attempts: u32,
    is_open: bool,
    /// The application asked to close (or dropped every handle).
    commands_done: bool,
    /// The reason the application's close carries.
    requested: Option<DisconnectReason>,
    /// The network error that ended the handshake, for `connect()`.
    last_error: Option<ConnectionError>,
    get: Option<BoxFuture<Result<Bytes, ConnectionError>>>,
    post: Option<BoxFuture<Result<(), ConnectionError>>>,
    opening: Option<Opening>,
    sockets: Vec<WsConn>,
}

impl Driver {
    /// Does what the connection asks, then reports what happened; returns
    /// the outcome once the connection is over.
    async fn act(
        &mut self,
        opened: &mut Option<oneshot::Sender<Result<(), ConnectionError>>>,
    ) -> Option<Outcome> {
        loop {
            let transmit = self.link.core().poll_transmit();
            let Some(transmit) = transmit else { break };
            self.transmit(transmit).await;
        }
        loop {
            let event = self.link.core().poll_event();
            let event = event?;
            match event {
                CoreEvent::Opened(handshake) => {
                    self.is_open = true;
                    self.shared.status.send_modify(|s| {
                        s.state = State::Connected;
                        s.handshake = Some(handshake.clone());
                        s.transport = Some(self.link.core().transport());
                    });
                    if let Some(opened) = opened.take() {
                        let _ = opened.send(Ok(()));
                    }
                    if self.attempts > 0 {
                        let attempts = self.attempts;
                        self.shared
                            .emit(&self.events, Event::Reconnected { attempts });
                    }
                    self.shared.emit(&self.events, Event::Connect);
                }
                CoreEvent::Message(message) => {
                    self.shared.emit(&self.events, Event::Message(message));
                }
                CoreEvent::Upgraded(transport) => {
                    self.shared.set_transport(transport);
                    tracing::debug!("engine.io session upgraded to {transport}");
                    self.shared.emit(&self.events, Event::Upgrade(transport));
                }
                CoreEvent::UpgradeFailed(why) => {
                    let why = match self.last_error.take() {
                        Some(err) => format!("{why}: {err}"),
                        None => why,
                    };
                    tracing::warn!("engine.io upgrade failed, staying on polling: {why}");
                    self.shared.emit(&self.events, Event::UpgradeError(why));
                }
                CoreEvent::Closed(reason) => {
                    // Flush what the close asked for (the close packet).
                    loop {
                        let transmit = self.link.core().poll_transmit();
                        let Some(transmit) = transmit else { break };
                        self.transmit(transmit).await;
                    }
                    if self.is_open {
                        // A close the application asked for carries its reason.
                        let reason = match self.requested {
                            Some(requested) if reason == DisconnectReason::ClientDisconnect => {
                                requested
                            }
                            _ => reason,
                        };
                        return Some(Outcome::Ended(reason));
                    }
                    let error = self.handshake_error();
                    if let Some(opened) = opened.take() {
                        let _ = opened.send(Err(error.clone()));
                    }
                    if self.requested.is_some() {
                        // The application closed during the handshake: no
                        // reconnection attempt follows.
                        return Some(Outcome::Cancelled);
                    }
                    return Some(Outcome::HandshakeFailed(error));
                }
            }
        }
    }

    /// Why the handshake failed: the network error, or the protocol's.
    fn handshake_error(&mut self) -> ConnectionError {
        if let Some(error) = self.last_error.take() {
            return error;
        }
        if self.requested.is_some() {
            return ConnectionError::Transport(Cause::message(
                "disconnect() was called during the handshake",
            ));
        }
        let failure = self.link.core().failure().map(str::to_owned);
        ConnectionError::Protocol(failure.unwrap_or_else(|| "the handshake failed".to_owned()))
    }

    /// Starts what the connection asked for.
    async fn transmit(&mut self, transmit: Transmit) {
        let net = &self.shared.net;
        match transmit {
            Transmit::Get => {
                let (sid, window) = {
                    let core = self.link.core();
                    let window = core
                        .handshake()
                        .map_or(Duration::ZERO, |h| h.ping_interval() + h.ping_timeout());
                    (core.sid().map(str::to_owned), window)
                };
                let url = self.endpoint.polling(sid.as_deref(), true);
                let net = net.clone();
                let timeout = window + net.timeout;
                self.get = Some(Box::pin(async move { net.get(url, timeout).await }));
            }
            Transmit::Post(payload) => {
                let sid = self.link.core().sid().map(str::to_owned);
                let url = self.endpoint.polling(sid.as_deref(), false);
                let net = net.clone();
                self.post = Some(Box::pin(async move { net.post(url, payload).await }));
            }
            Transmit::OpenWebSocket(id) => {
                let sid = self.link.core().sid().map(str::to_owned);
                let url = self.endpoint.websocket(sid.as_deref());
                let cookie_url = self.endpoint.cookie_url().clone();
                let net = net.clone();
                self.opening = Some((
                    id,
                    Box::pin(async move {
                        ws::open(&net, &url, &cookie_url)
                            .await
                            .map(|opened| OpenedStream::WebSocket(Box::new(opened)))
                    }),
                ));
            }
            #[cfg(feature = "webtransport")]
            Transmit::OpenWebTransport(id) => {
                let url = super::wt::session_url(&self.endpoint.polling(None, false));
                let hashes = self.shared.config.webtransport_hashes.clone();
                let headers = self.shared.config.headers.clone();
                let timeout = net.timeout;
                self.opening = Some((
                    id,
                    Box::pin(async move {
                        super::wt::open(&url, &hashes, &headers, timeout)
                            .await
                            .map(|opened| OpenedStream::WebTransport(Box::new(opened)))
                    }),
                ));
            }
            #[cfg(not(feature = "webtransport"))]
            Transmit::OpenWebTransport(id) => {
                // Never asked for: the transport is only enabled with the feature.
                self.link.change(|core| core.ws_open_failed(id));
            }
            Transmit::WsWrite {
                ws,
                frames,
                messages,
            } => match self.sockets.iter().find(|conn| conn.id == ws) {
                Some(conn) => {
                    let _ = conn.write.send(WsOut::Frames(frames, messages));
                }
                None => self.link.change(|core| core.written(messages)),
            },
            Transmit::WsClose(ws) => {
                if let Some(index) = self.sockets.iter().position(|conn| conn.id == ws) {
                    let conn = self.sockets.swap_remove(index);
                    conn.close(self.shared.net.timeout).await;
                }
                if self.opening.as_ref().is_some_and(|(id, _)| *id == ws) {
                    self.opening = None;
                }
            }
        }
    }

    /// Feeds what woke the driver to the connection.
    fn step(&mut self, step: Step) {
        let now = tokio::time::Instant::now().into_std();
        match step {
            Step::Get(result) => {
                self.get = None;
                match result {
                    Ok(body) => self.link.change(|core| core.handle_get(&body, now)),
                    Err(err) => {
                        tracing::warn!("engine.io poll failed: {err}");
                        self.last_error = Some(err);
                        self.link.change(Connection::get_failed);
                    }
                }
            }
            Step::Post(result) => {
                self.post = None;
                match result {
                    Ok(()) => self.link.change(Connection::handle_post),
                    Err(err) => {
                        tracing::warn!("engine.io POST failed: {err}");
                        self.link.change(Connection::post_failed);
                    }
                }
            }
            Step::Opened(id, result) => {
                self.opening = None;
                match result {
                    Ok(stream) => {
                        let link = Arc::clone(&self.link);
                        let conn = match stream {
                            OpenedStream::WebSocket(opened) => WsConn::new(id, *opened, link),
                            #[cfg(feature = "webtransport")]
                            OpenedStream::WebTransport(opened) => {
                                WsConn::webtransport(id, *opened, link)
                            }
                        };
                        self.sockets.push(conn);
                        self.link.change(|core| core.ws_opened(id, now));
                    }
                    Err(err) => {
                        tracing::debug!("engine.io WebSocket open failed: {err}");
                        self.last_error = Some(err);
                        self.link.change(|core| core.ws_open_failed(id));
                    }
                }
            }
            Step::Frame(id, Incoming::WebTransport(item)) => match item {
                Some(WtIn::Frame(frame)) => {
                    self.link
                        .change(|core| core.handle_ws_frame(id, frame, now));
                }
                Some(WtIn::End { clean }) => self.ended(id, clean),
                None => self.ended(id, false),
            },
            Step::Frame(id, Incoming::WebSocket(frame)) => match frame {
                // Text is decoded from the frame's own buffer, without a copy.
                Some(Ok(WsMessage::Text(text))) => {
                    self.link
                        .change(|core| core.handle_ws_text(id, text.as_str(), now));
                }
                Some(Ok(WsMessage::Binary(bytes))) => {
                    self.link
                        .change(|core| core.handle_ws_binary(id, bytes, now));
                }
                Some(Ok(WsMessage::Close(_))) => self.ended(id, true),
                Some(Ok(_)) => {}
                Some(Err(err)) => {
                    tracing::warn!("engine.io WebSocket failed: {err}");
                    self.ended(id, false);
                }
                None => self.ended(id, false),
            },
            Step::Command(command) => {
                self.commands_done = true;
                let (abort, reason) = match command {
                    Some(Command::Close { abort, reason }) => (abort, reason),
                    None => (false, DisconnectReason::ClientDisconnect),
                };
                self.requested = Some(reason);
                if self.is_open {
                    self.shared.set_state(State::Disconnecting);
                }
                if abort {
                    self.link.change(Connection::abort);
                } else {
                    self.link.change(|core| core.close(now));
                }
            }
            Step::Timer => self.link.change(|core| core.handle_timeout(now)),
            Step::Changed | Step::Abandoned => {}
        }
    }

    /// A WebSocket's reading side ended.
    fn ended(&mut self, id: WsId, clean: bool) {
        if let Some(index) = self.sockets.iter().position(|conn| conn.id == id) {
            let conn = self.sockets.swap_remove(index);
            conn.writer.abort();
        }
        self.link.change(|core| core.ws_ended(id, clean));
    }

    /// Drops what is left: requests in flight, WebSockets (closed).
    async fn shutdown(&mut self) {
        self.get = None;
        self.post = None;
        self.opening = None;
        let timeout = self.shared.net.timeout;
        for conn in self.sockets.drain(..) {
            conn.close(timeout).await;
        }
    }
}

/// The output of an optional future; pending forever when there is none.
async fn maybe<T>(future: &mut Option<BoxFuture<T>>) -> T {
    match future {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

/// The outcome of the WebSocket being opened, with its id.
async fn maybe_opening(
    opening: &mut Option<Opening>,
) -> (WsId, Result<OpenedStream, ConnectionError>) {
    match opening {
        Some((id, future)) => (*id, future.await),
        None => std::future::pending().await,
    }
}

/// The next read of any of the WebSockets, with its id.
async fn next_frame(sockets: &mut [WsConn]) -> (WsId, Incoming) {
    std::future::poll_fn(|cx| {
        for conn in sockets.iter_mut() {
            match &mut conn.read {
                Reader::WebSocket(read) => {
                    if let Poll::Ready(frame) = read.poll_next_unpin(cx) {
                        return Poll::Ready((conn.id, Incoming::WebSocket(frame)));
                    }
                }
                Reader::WebTransport(read) => {
                    if let Poll::Ready(item) = read.poll_recv(cx) {
                        return Poll::Ready((conn.id, Incoming::WebTransport(item)));
                    }
                }
            }
        }
        Poll::Pending
    })
    .await
}

async fn sleep_until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await,
        None => std::future::pending().await,
    }
}

/// Completes when nobody waits for the handshake's outcome any more.
async fn abandoned(opened: &mut Option<oneshot::Sender<Result<(), ConnectionError>>>) {
    match opened {
        Some(opened) => opened.closed().await,
        None => std::future::pending().await,
    }
}
