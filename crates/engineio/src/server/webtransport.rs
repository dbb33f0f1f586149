//! WebTransport (HTTP/3 over QUIC, on UDP): [`Server::listen_webtransport`],
//! [`Server::serve_webtransport`] and [`WebTransportConfig`] (feature
//! `webtransport`).
//!
//! A WebTransport listener serves the same sessions as the HTTP listener:
//! a client opens a session over WebTransport directly, or handshakes over
//! polling on the HTTP server and upgrades over WebTransport. Over QUIC, an
//! Engine.IO session runs on one bidirectional stream that the client opens;
//! its first packet is `0` (a new session) or `0{"sid":"..."}` (an upgrade),
//! and the packets have the length headers of
//! [`engineio_proto::webtransport`]. The session's state machine drives the
//! stream exactly as it drives a WebSocket.
//!
//! The official client (`engine.io-client` 6.x) opens WebTransport at
//! `https://` + the host and port of the server it polls + the engine.io
//! path: the UDP port must be the HTTP server's TCP port.
//!
//! # Certificates
//!
//! QUIC always runs over TLS 1.3. Browsers accept either a certificate they
//! trust (from a public CA, or a CA installed on the machine), or, with
//! `serverCertificateHashes` in the client's options, a certificate known by
//! its SHA-256 hash ([`WebTransportConfig::certificate_hash`]) that is valid
//! for at most 14 days and has an ECDSA P-256 key
//! ([`WebTransportConfig::self_signed`] makes one).

use std::net::ToSocketAddrs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use engineio_proto::server::{RequestError, Wire, WsEnd, WsFinish, WsId, WsTransmit};
use engineio_proto::webtransport::{FrameDecoder, OpenRequest, encode_into};
use engineio_proto::{DecodeError, EncodedPacket, Frame, Packet, Transport};
use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::BodyExt as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use wtransport::error::StreamReadError;
use wtransport::{Connection, Endpoint, RecvStream, SendStream, VarInt};

use super::cors::RequestOrigin;
use super::engine::Server;
use super::handle::{SessionHandle, now};
use super::open::{PeerAddr, open_session};
use super::tls::{TlsConfigError, parse_pem, read_pem_files};

/// How long a self-signed certificate of [`WebTransportConfig::self_signed`]
/// is valid: browsers accept at most 14 days for `serverCertificateHashes`.
const SELF_SIGNED_VALIDITY: Duration = Duration::from_secs(13 * 24 * 3600);

/// The size of the buffer each WebTransport stream reads into.
const READ_CHUNK: usize = 16 * 1024;

/// The application error code a WebTransport session is closed with when
/// it is refused (bad first packet, unknown session, rejected handshake).
const REFUSED: u32 = 1;

/// How long the last packets (a close packet) may take to be acknowledged
/// before the connection is closed anyway.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// The certificate, key and timeouts of a WebTransport listener.
///
/// # Examples
///
/// ```
/// use engineio::server::WebTransportConfig;
///
/// // A certificate for the browser's `serverCertificateHashes`: ECDSA P-256,
/// // valid 13 days from now.
/// let config = WebTransportConfig::self_signed(["localhost", "127.0.0.1"]).unwrap();
/// let hash: [u8; 32] = config.certificate_hash();
/// # let _ = hash;
/// ```
#[derive(Clone)]
pub struct WebTransportConfig {
    tls: rustls::ServerConfig,
    hash: [u8; 32],
    certificate_pem: Option<String>,
    handshake_timeout: Duration,
    keep_alive: Duration,
    idle_timeout: Duration,
}

impl std::fmt::Debug for WebTransportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebTransportConfig")
            .field("certificate_hash", &hex(&self.hash))
            .field("handshake_timeout", &self.handshake_timeout)
            .field("keep_alive", &self.keep_alive)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl WebTransportConfig {
    /// The default time a client has to complete the QUIC and HTTP/3
    /// handshakes and send its first packet.
    pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

    /// Reads the certificate chain (the server's certificate first) and its
    /// private key (PKCS#8, PKCS#1 or SEC1) from PEM files.
    ///
    /// # Errors
    ///
    /// As [`TlsConfig::from_pem_files`](super::TlsConfig::from_pem_files):
    /// a file that cannot be read, holds no certificate or key, or a pair
    /// rustls refuses.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use engineio::server::WebTransportConfig;
    /// let config = WebTransportConfig::from_pem_files("cert.pem", "key.pem")?;
    /// # Ok::<(), engineio::server::TlsConfigError>(())
    /// ```
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> Result<Self, TlsConfigError> {
        let (cert_path, key_path) = (cert_chain.as_ref(), private_key.as_ref());
        let (chain, key) = read_pem_files(cert_path, key_path)?;
        let origin = format!("{} and {}", cert_path.display(), key_path.display());
        Self::from_parsed(chain, key, &origin, None)
    }

    /// The same as [`from_pem_files`](Self::from_pem_files), from PEM text
    /// in memory.
    ///
    /// # Errors
    ///
    /// As [`from_pem_files`](Self::from_pem_files).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::WebTransportConfig;
    /// assert!(WebTransportConfig::from_pem("no PEM here", "nor here").is_err());
    /// ```
    pub fn from_pem(
        cert_chain: impl AsRef<[u8]>,
        private_key: impl AsRef<[u8]>,
    ) -> Result<Self, TlsConfigError> {
        let (chain, key) = parse_pem(
            cert_chain.as_ref(),
            "the certificate PEM",
            private_key.as_ref(),
            "the private key PEM",
        )?;
        Self::from_parsed(
            chain,
            key,
            "the certificate PEM and the private key PEM",
            None,
        )
    }

    /// A new self-signed certificate for these names (DNS names or IP
    /// addresses), with an ECDSA P-256 key, valid from now for 13 days: what
    /// browsers accept by hash (`serverCertificateHashes`, at most 14 days).
    /// Give [`certificate_hash`](Self::certificate_hash) to the clients, and
    /// make a new one before it expires (a restart does).
    ///
    /// # Errors
    ///
    /// [`TlsConfigError::Unusable`] when a name is neither a DNS name nor an
    /// IP address.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::WebTransportConfig;
    /// let config = WebTransportConfig::self_signed(["127.0.0.1"])?;
    /// assert!(config.certificate_pem().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    /// # Ok::<(), engineio::server::TlsConfigError>(())
    /// ```
    pub fn self_signed<I, S>(names: I) -> Result<Self, TlsConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let unusable = |err: rcgen::Error| TlsConfigError::Unusable {
            origin: "the self-signed certificate".to_owned(),
            message: err.to_string(),
        };
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        let mut params = rcgen::CertificateParams::new(names).map_err(unusable)?;
        let start = std::time::SystemTime::now() - Duration::from_secs(60);
        params.not_before = start.into();
        params.not_after = (start + SELF_SIGNED_VALIDITY).into();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "engineio WebTransport");
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(unusable)?;
        let cert = params.self_signed(&key).map_err(unusable)?;
        let pem = cert.pem();
        let key_der = PrivateKeyDer::try_from(key.serialize_der()).map_err(|message| {
            TlsConfigError::Unusable {
                origin: "the self-signed certificate".to_owned(),
                message: message.to_owned(),
            }
        })?;
        Self::from_parsed(
            vec![cert.der().clone()],
            key_der,
            "the self-signed certificate",
            Some(pem),
        )
    }

    fn from_parsed(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        origin: &str,
        certificate_pem: Option<String>,
    ) -> Result<Self, TlsConfigError> {
        let hash = wtransport::tls::Certificate::from_der(chain[0].to_vec())
            .map(|cert| *cert.hash().as_ref())
            .map_err(|err| TlsConfigError::Unusable {
                origin: origin.to_owned(),
                message: err.to_string(),
            })?;
        let unusable = |err: rustls::Error| TlsConfigError::Unusable {
            origin: origin.to_owned(),
            message: err.to_string(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(unusable)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(unusable)?;
        tls.alpn_protocols = vec![b"h3".to_vec()];
        Ok(Self {
            tls,
            hash,
            certificate_pem,
            handshake_timeout: Self::DEFAULT_HANDSHAKE_TIMEOUT,
            keep_alive: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
        })
    }

    /// The SHA-256 hash of the server's certificate (DER), as a browser's
    /// `serverCertificateHashes` takes it: `{ algorithm: "sha-256", value:
    /// new Uint8Array([...]) }`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::WebTransportConfig;
    /// let config = WebTransportConfig::self_signed(["localhost"])?;
    /// assert_eq!(config.certificate_hash().len(), 32);
    /// # Ok::<(), engineio::server::TlsConfigError>(())
    /// ```
    pub fn certificate_hash(&self) -> [u8; 32] {
        self.hash
    }

    /// The certificate in PEM, for a configuration made by
    /// [`self_signed`](Self::self_signed) (to give to clients that trust
    /// certificates rather than hashes); `None` otherwise.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate_pem.as_deref()
    }

    /// The time a client has to complete the QUIC and HTTP/3 handshakes and
    /// send its first packet (default 10 s; the server's `upgrade_timeout`
    /// also bounds the first packet, as the Node server does).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::server::WebTransportConfig;
    /// let config = WebTransportConfig::self_signed(["localhost"])?
    ///     .handshake_timeout(Duration::from_secs(5));
    /// # Ok::<(), engineio::server::TlsConfigError>(())
    /// ```
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// QUIC keep-alives (default every 10 s) and the idle timeout after
    /// which a silent connection is dropped (default 30 s). The Engine.IO
    /// heartbeat still decides when a session ends.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::server::WebTransportConfig;
    /// let config = WebTransportConfig::self_signed(["localhost"])?
    ///     .keep_alive(Duration::from_secs(5), Duration::from_secs(20));
    /// # Ok::<(), engineio::server::TlsConfigError>(())
    /// ```
    pub fn keep_alive(mut self, interval: Duration, idle_timeout: Duration) -> Self {
        self.keep_alive = interval;
        self.idle_timeout = idle_timeout;
        self
    }

    fn endpoint_config(
        &self,
        socket: std::net::UdpSocket,
    ) -> std::io::Result<wtransport::ServerConfig> {
        let builder = wtransport::ServerConfig::builder()
            .with_bind_socket(socket)
            .with_custom_tls(self.tls.clone())
            .keep_alive_interval(Some(self.keep_alive));
        let builder = builder
            .max_idle_timeout(Some(self.idle_timeout))
            .map_err(|err| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, err.to_string())
            })?;
        Ok(builder.build())
    }
}

impl Server {
    /// Binds `addr` (UDP) and serves WebTransport sessions until
    /// [`Server::shutdown`]: new sessions, and upgrades of the polling
    /// sessions of this server's HTTP listener. While it runs, polling
    /// handshakes offer `webtransport` as an upgrade.
    ///
    /// The official client opens WebTransport on the host and port it
    /// polls: bind the HTTP server's port number.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use engineio::server::{Server, WebTransportConfig};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = Server::builder().on_message(|socket, message| { let _ = socket.send(message); }).build();
    /// let webtransport = WebTransportConfig::from_pem_files("cert.pem", "key.pem")?;
    /// tokio::spawn({
    ///     let server = server.clone();
    ///     async move { server.listen_webtransport("0.0.0.0:443", webtransport).await }
    /// });
    /// server.listen_tls("0.0.0.0:443", engineio::server::TlsConfig::from_pem_files("cert.pem", "key.pem")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn listen_webtransport(
        &self,
        addr: impl ToSocketAddrs,
        config: WebTransportConfig,
    ) -> std::io::Result<()> {
        let socket = std::net::UdpSocket::bind(addr)?;
        self.serve_webtransport(socket, config).await
    }

    /// Serves WebTransport sessions on a bound UDP socket until
    /// [`Server::shutdown`] (see [`Server::listen_webtransport`]). Use it to
    /// bind the port of a `127.0.0.1:0` TCP listener.
    ///
    /// # Errors
    ///
    /// When the QUIC endpoint cannot be set up on the socket.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use engineio::server::{Server, WebTransportConfig};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = Server::builder().build();
    /// let http = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let udp = std::net::UdpSocket::bind(http.local_addr()?)?;
    /// let config = WebTransportConfig::self_signed(["127.0.0.1"])?;
    /// tokio::spawn({
    ///     let server = server.clone();
    ///     async move { server.serve_webtransport(udp, config).await }
    /// });
    /// server.serve(http).await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve_webtransport(
        &self,
        socket: std::net::UdpSocket,
        config: WebTransportConfig,
    ) -> std::io::Result<()> {
        let mut stop = self.inner.shutdown.subscribe();
        if *stop.borrow() {
            return Ok(());
        }
        let addr = socket.local_addr()?;
        let endpoint = Endpoint::server(config.endpoint_config(socket)?)?;
        let _listening = Listening::start(self);
        tracing::info!(%addr, scheme = "https (WebTransport)", path = self.config().engineio_path(), "engine.io WebTransport listening");
        let config = Arc::new(config);
        loop {
            tokio::select! {
                incoming = endpoint.accept() => {
                    let server = self.clone();
                    let config = Arc::clone(&config);
                    tokio::spawn(async move { accept(&server, incoming, &config).await });
                }
                _ = stop.changed() => break,
            }
        }
        // New sessions are refused from here; the open ones end with the
        // server's shutdown, each closing its connection.
        let deadline = tokio::time::Instant::now() + self.inner.config.close_timeout;
        while endpoint.open_connections() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        endpoint.close(VarInt::from_u32(0), b"server shutdown");
        Ok(())
    }

    /// Whether a WebTransport listener runs, so polling handshakes offer it.
    pub(crate) fn webtransport_listening(&self) -> bool {
        self.inner.webtransport_listeners.load(Ordering::Relaxed) > 0
    }
}

/// Counts a running WebTransport listener while it lives.
struct Listening(Server);

impl Listening {
    fn start(server: &Server) -> Self {
        server
            .inner
            .webtransport_listeners
            .fetch_add(1, Ordering::Relaxed);
        Self(server.clone())
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.0
            .inner
            .webtransport_listeners
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// The CONNECT request of a WebTransport session, as the hooks and the
/// connect handler see a request: method CONNECT, `https://` URI, the
/// headers (pseudo-headers left out), and the peer's address.
fn request_parts(request: &wtransport::endpoint::SessionRequest) -> Parts {
    let uri = format!("https://{}{}", request.authority(), request.path());
    let mut builder = Request::builder()
        .method(Method::CONNECT)
        .uri(Uri::try_from(uri).unwrap_or_default());
    for (name, value) in request.headers() {
        if name.starts_with(':') {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            builder = builder.header(name, value);
        }
    }
    let (mut parts, ()) = builder.body(()).unwrap_or_default().into_parts();
    parts.extensions.insert(PeerAddr(request.remote_address()));
    parts
}

/// Whether the request's `Origin` may open a session: the server's CORS
/// policy, where the server's own origin is `https://` or `http://` + the
/// authority (a page served over plain HTTP on the same host and port
/// opens WebTransport with `https://`).
fn origin_allowed(server: &Server, parts: &Parts) -> Result<(), String> {
    let cors = &server.inner.config.cors;
    let authority = parts.uri.authority().map(http::uri::Authority::as_str);
    let mut refusal = None;
    for secure in [true, false] {
        match cors.check(&parts.headers, RequestOrigin { secure, authority }) {
            None | Some(Ok(_)) => return Ok(()),
            Some(Err(message)) => refusal = Some(message),
        }
    }
    Err(refusal.unwrap_or_default())
}

/// One incoming QUIC connection: the WebTransport session request, its
/// stream and first packet, then the Engine.IO session over it.
async fn accept(
    server: &Server,
    incoming: wtransport::endpoint::IncomingSession,
    config: &WebTransportConfig,
) {
    let peer = incoming.remote_address();
    let request = match tokio::time::timeout(config.handshake_timeout, incoming).await {
        Ok(Ok(request)) => request,
        Ok(Err(err)) => {
            tracing::debug!(%peer, error = %err, "WebTransport handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "WebTransport handshake timed out");
            return;
        }
    };
    if !server.inner.config.matches_path(request.path()) {
        tracing::debug!(%peer, path = request.path(), "WebTransport request outside the engine.io path");
        request.not_found().await;
        return;
    }
    let parts = request_parts(&request);
    if let Err(message) = origin_allowed(server, &parts) {
        tracing::debug!(%peer, %message, "refused origin");
        request.forbidden().await;
        return;
    }
    let connection = match request.accept().await {
        Ok(connection) => connection,
        Err(err) => {
            tracing::debug!(%peer, error = %err, "WebTransport session not accepted");
            return;
        }
    };
    // The client has the shorter of the two timeouts to open its stream
    // and send its first packet (the Node server uses upgradeTimeout).
    let wait = config
        .handshake_timeout
        .min(server.inner.config.upgrade_timeout);
    let mut decoder = FrameDecoder::new(server.inner.config.max_http_buffer_size);
    let first = tokio::time::timeout(wait, first_frame(&connection, &mut decoder)).await;
    let (send, recv, frame) = match first {
        Ok(Ok(first)) => first,
        Ok(Err(detail)) => {
            tracing::debug!(%peer, %detail, "invalid WebTransport handshake");
            connection.close(VarInt::from_u32(REFUSED), detail.as_bytes());
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "no stream or first packet in time");
            connection.close(
                VarInt::from_u32(REFUSED),
                b"no stream or open packet in time",
            );
            return;
        }
    };
    let stream = Stream {
        connection,
        send,
        recv,
        decoder,
    };
    match OpenRequest::from_frame(frame) {
        Ok(OpenRequest::New) => open(server, &parts, stream).await,
        Ok(OpenRequest::Upgrade(sid)) => {
            let Some(handle) = server.handle(sid) else {
                tracing::debug!(%sid, "WebTransport upgrade of an unknown session");
                let node = server.inner.config.node_id.as_ref();
                server
                    .inner
                    .misrouting
                    .check(node, sid, std::time::Instant::now());
                stream.refuse(&RequestError::Closed.to_string());
                return;
            };
            match handle.update(server, |core| core.attach_webtransport(now())) {
                Ok(id) => run(server, &handle, id, stream).await,
                Err(err) => {
                    tracing::debug!(%sid, %err, "closing an extra WebTransport session");
                    stream.refuse(&err.to_string());
                }
            }
        }
        Err(err) => {
            tracing::debug!(%peer, error = %err, "invalid WebTransport handshake");
            stream.refuse(&err.to_string());
        }
    }
}

/// Waits for the client's bidirectional stream and reads its first frame.
async fn first_frame(
    connection: &Connection,
    decoder: &mut FrameDecoder,
) -> Result<(SendStream, RecvStream, Frame), String> {
    let (send, mut recv) = connection
        .accept_bi()
        .await
        .map_err(|err| err.to_string())?;
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        if let Some(frame) = decoder.next_frame().map_err(|err| err.to_string())? {
            return Ok((send, recv, frame));
        }
        match recv.read(&mut buf).await {
            Ok(Some(n)) => decoder.push(&buf[..n]),
            Ok(None) => return Err("the stream ended before the open packet".to_owned()),
            Err(err) => return Err(err.to_string()),
        }
    }
}

/// A WebTransport session's connection and its Engine.IO stream.
struct Stream {
    connection: Connection,
    send: SendStream,
    recv: RecvStream,
    decoder: FrameDecoder,
}

impl Stream {
    /// Closes a session the server does not take, saying why.
    fn refuse(&self, reason: &str) {
        self.connection
            .close(VarInt::from_u32(REFUSED), reason.as_bytes());
    }

    /// Writes packets, each with its header, in one write.
    async fn write(&mut self, packets: &[EncodedPacket]) -> bool {
        let mut out = Vec::new();
        for packet in packets {
            encode_into(packet, &mut out);
        }
        self.send.write_all(&out).await.is_ok()
    }

    /// Finishes the stream (waiting a little for the last bytes to be
    /// acknowledged), then closes the connection.
    async fn close(mut self, code: Option<u16>) {
        let _ = tokio::time::timeout(FLUSH_TIMEOUT, self.send.finish()).await;
        self.connection
            .close(VarInt::from_u32(code.map_or(0, u32::from)), b"");
    }
}

/// A new session over WebTransport: the connect handler, then the open
/// packet first on the stream.
async fn open(server: &Server, parts: &Parts, mut stream: Stream) {
    let (handle, handshake) =
        match open_session(server, parts, Transport::WebTransport, Wire::default()).await {
            Ok(opened) => opened,
            Err(response) => {
                let status = response.status();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map(|body| body.to_bytes())
                    .unwrap_or_else(|_| Bytes::new());
                tracing::debug!(%status, "WebTransport handshake refused");
                stream
                    .connection
                    .close(VarInt::from_u32(u32::from(status.as_u16())), &body);
                return;
            }
        };
    let Some(id) = handle.core().websocket() else {
        return;
    };
    let open = EncodedPacket::new(Packet::Open(handshake));
    if !stream.write(&[open]).await {
        handle.update(server, |core| core.ws_ended(id, WsEnd::Closed, now()));
        return;
    }
    run(server, &handle, id, stream).await;
}

/// What a read from the stream brought.
enum Read {
    Bytes(usize),
    End(WsEnd),
}

fn read_result(result: Result<Option<usize>, StreamReadError>) -> Read {
    match result {
        Ok(Some(n)) => Read::Bytes(n),
        // The peer finished its side, reset it, or closed the connection.
        Ok(None) | Err(StreamReadError::NotConnected | StreamReadError::Reset(_)) => {
            Read::End(WsEnd::Closed)
        }
        Err(err) => {
            tracing::debug!(error = %err, "WebTransport read error");
            Read::End(WsEnd::Failed)
        }
    }
}

/// The end of reading for a frame the decoder refused.
fn decode_end(err: &DecodeError) -> WsEnd {
    match err {
        DecodeError::PayloadTooLarge { .. } => WsEnd::TooBig,
        other => WsEnd::Undecodable(other.to_string()),
    }
}

/// Runs one WebTransport stream of a session until the session lets it
/// go, as the WebSocket loop does: writes what the session gives, decodes
/// frames while the session has room for them, closes when told.
async fn run(server: &Server, handle: &Arc<SessionHandle>, id: WsId, mut stream: Stream) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let woken = handle.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let (transmit, readable) =
            handle.update(server, |core| (core.ws_transmit(id), core.ws_can_read(id)));
        match transmit {
            WsTransmit::Write(packets) => {
                if !stream.write(&packets).await {
                    handle.update(server, |core| core.ws_ended(id, WsEnd::Failed, now()));
                    stream.connection.close(VarInt::from_u32(0), b"");
                    return;
                }
                continue;
            }
            WsTransmit::Close(code) => {
                stream.close(code).await;
                return;
            }
            WsTransmit::Idle => {}
        }
        if !readable {
            woken.await;
            continue;
        }
        // Frames already buffered go first, one at a time, so that a full
        // inbox pauses decoding too.
        match stream.decoder.next_frame() {
            Ok(Some(frame)) => {
                match frame.decode() {
                    Ok(packet) => {
                        handle.update(server, |core| core.ws_receive(id, packet, now()));
                    }
                    Err(err) => {
                        end(
                            server,
                            handle,
                            id,
                            stream,
                            WsEnd::Undecodable(err.to_string()),
                        )
                        .await;
                        return;
                    }
                }
                continue;
            }
            Ok(None) => {}
            Err(err) => {
                end(server, handle, id, stream, decode_end(&err)).await;
                return;
            }
        }
        tokio::select! {
            () = &mut woken => {}
            // Cancel-safe (quinn's `read`): a wake-up loses no bytes.
            result = stream.recv.read(&mut buf) => match read_result(result) {
                Read::Bytes(n) => stream.decoder.push(&buf[..n]),
                Read::End(reason) => {
                    end(server, handle, id, stream, reason).await;
                    return;
                }
            }
        }
    }
}

/// Reading ended: tells the session, then closes as it says.
async fn end(
    server: &Server,
    handle: &Arc<SessionHandle>,
    id: WsId,
    stream: Stream,
    reason: WsEnd,
) {
    if let WsEnd::Undecodable(detail) = &reason {
        tracing::debug!(sid = %handle.sid, %detail, "undecodable WebTransport frame");
    }
    let finish = handle.update(server, |core| core.ws_ended(id, reason, now()));
    match finish {
        WsFinish::Close(code) => stream.close(code).await,
        WsFinish::Drop => stream.connection.close(VarInt::from_u32(0), b""),
    }
}
