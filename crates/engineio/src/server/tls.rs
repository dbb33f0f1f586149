//! TLS for the standalone listener: `https://` and `wss://` without a
//! hand-written accept loop (feature `server-tls`).
//!
//! [`Server::listen_tls`], [`Server::serve_tls`] and [`Server::serve_tls_with`]
//! are [`Server::listen`], [`Server::serve`] and [`Server::serve_with`]
//! behind rustls (ring provider): the same accept loop, graceful shutdown,
//! accept backoff and peer address. Each connection's TLS handshake runs in
//! that connection's own task, bounded by
//! [`TlsConfig::handshake_timeout`] (10 s by default), so a client that never
//! finishes it holds nothing but its own task for that long; a failed
//! handshake (a plain HTTP request on the TLS port, an untrusted client
//! certificate, a timeout) is logged at debug level and ends that
//! connection only.
//!
//! [`TlsConfig`] describes ALPN (HTTP/2) and what requests over TLS carry.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Incoming;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tower_service::Service;

use super::cors::OverTls;
use super::engine::Server;
use super::http::BoxError;
use super::listen::Acceptor;

/// The TLS side of [`Server::serve_tls`]: a certificate chain and its
/// private key (or a whole rustls `ServerConfig`), and how long a client
/// may take to finish its TLS handshake.
///
/// # HTTP/2 and WebSocket
///
/// A `TlsConfig` built from PEM advertises `h2` and `http/1.1` by ALPN:
/// clients that speak HTTP/2 (browsers, reqwest, curl) poll over it,
/// their requests sharing one connection; WebSockets (`wss://`) go over
/// HTTP/1.1, on a connection of their own, as browsers do by themselves
/// since the server does not offer WebSockets over HTTP/2 (RFC 8441).
/// Browsers need a certificate they trust for the host they connect to
/// (a public CA, or your own CA installed in the browser).
///
/// # Requests over TLS
///
/// The default same-origin check
/// ([`CorsPolicy::SameOrigin`](super::CorsPolicy::SameOrigin)) knows a
/// request came over this listener, and takes `https` as the scheme of the
/// server's origin (and the HTTP/2 `:authority` as its host when there is
/// no `Host`), so pages served from this very `https://` origin are
/// accepted. Requests are not modified.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use engineio::server::TlsConfig;
///
/// # fn run() -> Result<(), engineio::server::TlsConfigError> {
/// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?
///     .handshake_timeout(Duration::from_secs(5));
/// # let _ = tls;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TlsConfig {
    rustls: Arc<rustls::ServerConfig>,
    handshake_timeout: Duration,
}

impl TlsConfig {
    /// The default of [`TlsConfig::handshake_timeout`]: 10 s.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::TlsConfig;
    /// assert_eq!(TlsConfig::DEFAULT_HANDSHAKE_TIMEOUT.as_secs(), 10);
    /// ```
    pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

    /// The ALPN protocols advertised by default, most preferred first:
    /// `h2`, then `http/1.1`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::TlsConfig;
    /// assert_eq!(TlsConfig::ALPN_PROTOCOLS, [&b"h2"[..], &b"http/1.1"[..]]);
    /// ```
    pub const ALPN_PROTOCOLS: [&'static [u8]; 2] = [b"h2", b"http/1.1"];

    /// Reads a PEM certificate chain (the server's certificate first, then
    /// its intermediates) and a PEM private key (PKCS#8, PKCS#1 or SEC1)
    /// from two files (they may be the same file). The configuration uses
    /// rustls' ring provider, TLS 1.2 and 1.3, no client certificates, and
    /// advertises `h2` and `http/1.1` by ALPN.
    ///
    /// # Errors
    ///
    /// [`TlsConfigError::Read`] when a file cannot be read;
    /// [`TlsConfigError::NoCertificate`], [`TlsConfigError::NoPrivateKey`]
    /// or [`TlsConfigError::InvalidPem`] when it does not hold what it
    /// should; [`TlsConfigError::Unusable`] when rustls refuses the pair
    /// (e.g. the key does not match the certificate). Each names the file.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use engineio::server::{Server, TlsConfig};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let tls = TlsConfig::from_pem_files("/etc/ssl/example.pem", "/etc/ssl/example.key")?;
    /// Server::builder().build().listen_tls("0.0.0.0:443", tls).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> Result<Self, TlsConfigError> {
        let (cert_path, key_path) = (cert_chain.as_ref(), private_key.as_ref());
        let (chain, key) = read_pem_files(cert_path, key_path)?;
        let origin = format!("{} and {}", cert_path.display(), key_path.display());
        Self::from_parsed(chain, key, &origin)
    }

    /// The same as [`TlsConfig::from_pem_files`], from PEM text in memory:
    /// the certificate chain, then the private key.
    ///
    /// # Errors
    ///
    /// As [`TlsConfig::from_pem_files`], naming "the certificate PEM" or
    /// "the private key PEM" instead of a file.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use engineio::server::TlsConfig;
    /// # fn run(cert_pem: String, key_pem: String) -> Result<(), engineio::server::TlsConfigError> {
    /// let tls = TlsConfig::from_pem(cert_pem, key_pem)?;
    /// # let _ = tls;
    /// # Ok(())
    /// # }
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
        Self::from_parsed(chain, key, "the certificate PEM and the private key PEM")
    }

    fn from_parsed(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        origin: &str,
    ) -> Result<Self, TlsConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let unusable = |err: rustls::Error| TlsConfigError::Unusable {
            origin: origin.to_owned(),
            message: err.to_string(),
        };
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(unusable)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(unusable)?;
        config.alpn_protocols = default_alpn();
        Ok(Self {
            rustls: Arc::new(config),
            handshake_timeout: Self::DEFAULT_HANDSHAKE_TIMEOUT,
        })
    }

    /// Uses a rustls `ServerConfig` of your own: client certificates
    /// (mutual TLS), a certificate resolver (SNI, reloading), session
    /// tickets, another crypto provider...
    ///
    /// ALPN: when `config.alpn_protocols` is empty, it is set to `h2` and
    /// `http/1.1` ([`TlsConfig::ALPN_PROTOCOLS`]); when you set it, it is
    /// kept as is. Leave `h2` out to serve HTTP/1.1 only; a list without
    /// `http/1.1` keeps clients that insist on HTTP/1.1, such as
    /// WebSocket clients, out.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use engineio::server::TlsConfig;
    /// use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    ///
    /// # fn run(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<(), rustls::Error> {
    /// let config = rustls::ServerConfig::builder_with_provider(Arc::new(
    ///     rustls::crypto::ring::default_provider(),
    /// ))
    /// .with_safe_default_protocol_versions()?
    /// .with_no_client_auth()
    /// .with_single_cert(chain, key)?;
    /// let tls = TlsConfig::from_rustls(Arc::new(config)); // ALPN: h2, http/1.1
    /// # let _ = tls;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_rustls(config: Arc<rustls::ServerConfig>) -> Self {
        let rustls = if config.alpn_protocols.is_empty() {
            let mut config = Arc::unwrap_or_clone(config);
            config.alpn_protocols = default_alpn();
            Arc::new(config)
        } else {
            config
        };
        Self {
            rustls,
            handshake_timeout: Self::DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// How long a client may take, from the moment its connection is
    /// accepted, to finish the TLS handshake; past it the connection is
    /// closed. 10 s by default.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::server::TlsConfig;
    /// # fn run(tls: TlsConfig) -> TlsConfig {
    /// tls.handshake_timeout(Duration::from_secs(3))
    /// # }
    /// ```
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The rustls configuration in use (with its ALPN protocols set).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::TlsConfig;
    /// # fn run(tls: &TlsConfig) {
    /// let alpn = &tls.rustls_config().alpn_protocols;
    /// # let _ = alpn;
    /// # }
    /// ```
    pub fn rustls_config(&self) -> &Arc<rustls::ServerConfig> {
        &self.rustls
    }
}

/// A certificate chain and its private key, parsed from PEM.
pub(crate) type PemPair = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// Reads a certificate chain and its private key from PEM files; errors
/// name the file at fault.
pub(crate) fn read_pem_files(cert_path: &Path, key_path: &Path) -> Result<PemPair, TlsConfigError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsConfigError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let (chain, key) = (read(cert_path)?, read(key_path)?);
    parse_pem(
        &chain,
        &cert_path.display().to_string(),
        &key,
        &key_path.display().to_string(),
    )
}

/// Parses a certificate chain and its private key from PEM text; errors
/// name `chain_origin` or `key_origin`.
pub(crate) fn parse_pem(
    chain_pem: &[u8],
    chain_origin: &str,
    key_pem: &[u8],
    key_origin: &str,
) -> Result<PemPair, TlsConfigError> {
    let invalid = |origin: &str, err: rustls::pki_types::pem::Error| TlsConfigError::InvalidPem {
        origin: origin.to_owned(),
        message: err.to_string(),
    };
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| invalid(chain_origin, err))?;
    if chain.is_empty() {
        return Err(TlsConfigError::NoCertificate {
            origin: chain_origin.to_owned(),
        });
    }
    let key = match PrivateKeyDer::from_pem_slice(key_pem) {
        Ok(key) => key,
        Err(rustls::pki_types::pem::Error::NoItemsFound) => {
            return Err(TlsConfigError::NoPrivateKey {
                origin: key_origin.to_owned(),
            });
        }
        Err(err) => return Err(invalid(key_origin, err)),
    };
    Ok((chain, key))
}

fn default_alpn() -> Vec<Vec<u8>> {
    TlsConfig::ALPN_PROTOCOLS
        .iter()
        .map(|protocol| protocol.to_vec())
        .collect()
}

/// Why a [`TlsConfig`] could not be built. Each variant names the file (or
/// the in-memory PEM) at fault.
///
/// # Examples
///
/// ```
/// use engineio::server::{TlsConfig, TlsConfigError};
///
/// let err = TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
/// assert!(matches!(err, TlsConfigError::Read { .. }));
/// assert!(err.to_string().contains("/nonexistent/cert.pem"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The certificate chain holds no `CERTIFICATE` block.
    #[error("{origin} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate {
        /// The file, or "the certificate PEM".
        origin: String,
    },
    /// The key holds no private key block (PKCS#8, PKCS#1 or SEC1).
    #[error("{origin} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoPrivateKey {
        /// The file, or "the private key PEM".
        origin: String,
    },
    /// The PEM text is malformed (a block without its end, bad base64...).
    #[error("{origin} is not valid PEM: {message}")]
    InvalidPem {
        /// The file, or "the certificate PEM" / "the private key PEM".
        origin: String,
        /// What is wrong, as the PEM parser says it.
        message: String,
    },
    /// rustls refused the certificate and key (e.g. they do not match, or
    /// the key's algorithm is not supported).
    #[error("{origin} cannot be used for TLS: {message}")]
    Unusable {
        /// Both files (or PEM texts).
        origin: String,
        /// Why, as rustls says it.
        message: String,
    },
}

/// The per-connection TLS handshake for the shared accept loop.
#[derive(Clone)]
struct TlsAccept {
    acceptor: TlsAcceptor,
    timeout: Duration,
}

impl std::fmt::Debug for TlsAccept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsAccept")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl From<TlsConfig> for TlsAccept {
    fn from(config: TlsConfig) -> Self {
        Self {
            acceptor: TlsAcceptor::from(config.rustls),
            timeout: config.handshake_timeout,
        }
    }
}

impl Acceptor for TlsAccept {
    type Io = TlsStream<TcpStream>;
    const SCHEME: &'static str = "https";

    async fn accept(&self, stream: TcpStream, peer: SocketAddr) -> Option<Self::Io> {
        match tokio::time::timeout(self.timeout, self.acceptor.accept(stream)).await {
            Ok(Ok(tls)) => Some(tls),
            Ok(Err(err)) => {
                tracing::debug!(%peer, error = %err, "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::debug!(%peer, timeout = ?self.timeout, "TLS handshake timed out");
                None
            }
        }
    }

    fn prepare(&self, request: &mut Request<Incoming>) {
        // The same-origin check then takes `https` as the scheme.
        request.extensions_mut().insert(OverTls);
    }
}

impl Server {
    /// Binds `addr` and serves https and wss until [`Server::shutdown`]:
    /// [`Server::listen`] behind TLS. See [`Server::serve_tls_with`].
    ///
    /// # Errors
    ///
    /// The error of binding the address.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use engineio::server::{Server, TlsConfig};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// let server = Server::builder().build();
    /// server.listen_tls("127.0.0.1:5443", tls).await?; // https://127.0.0.1:5443/engine.io/
    /// # Ok(())
    /// # }
    /// ```
    pub async fn listen_tls(
        &self,
        addr: impl ToSocketAddrs,
        tls: TlsConfig,
    ) -> std::io::Result<()> {
        let listener = TcpListener::bind(addr).await?;
        self.serve_tls(listener, tls).await;
        Ok(())
    }

    /// Serves https and wss on a bound listener until [`Server::shutdown`]:
    /// [`Server::serve`] behind TLS. See [`Server::serve_tls_with`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use engineio::server::{Server, TlsConfig};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// println!("listening on https://{}", listener.local_addr()?);
    /// Server::builder().build().serve_tls(listener, tls).await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve_tls(&self, listener: TcpListener, tls: TlsConfig) {
        self.serve_tls_with(listener, tls, self.clone().into_service())
            .await;
    }

    /// Serves any tower service over TLS: [`Server::serve_with`] (the same
    /// accept loop, graceful shutdown, accept backoff and peer address),
    /// each accepted connection first completing its TLS handshake in its
    /// own task within [`TlsConfig::handshake_timeout`]. A connection whose
    /// handshake fails or times out is closed and logged at debug level;
    /// the server goes on. Then HTTP/2 (ALPN `h2`) or HTTP/1.1 with
    /// upgrades (WebSocket) is served on it. Requests get
    /// `X-Forwarded-Proto: https` (and HTTP/2 ones a `Host`) when they
    /// have none: see [`TlsConfig`](TlsConfig#requests-over-tls).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use engineio::server::{NotFound, ServeStatic, Server, StaticFiles, TlsConfig};
    /// use tower_layer::Layer as _;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = Server::builder().build();
    /// let files = StaticFiles::new().entry("/", "index.html");
    /// let app = server.layer().layer(ServeStatic::new(files, NotFound));
    /// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:5443").await?;
    /// server.serve_tls_with(listener, tls, app).await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve_tls_with<S, B>(&self, listener: TcpListener, tls: TlsConfig, service: S)
    where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.serve_accepting(listener, service, TlsAccept::from(tls))
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem_pair() -> (String, String) {
        // A fixed test pair would do as well; generating keeps the file small.
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
        (certified.cert.pem(), certified.signing_key.serialize_pem())
    }

    #[test]
    fn from_pem_advertises_h2_then_http1() {
        let (cert, key) = pem_pair();
        let tls = TlsConfig::from_pem(cert, key).unwrap();
        assert_eq!(
            tls.rustls_config().alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert_eq!(tls.handshake_timeout, TlsConfig::DEFAULT_HANDSHAKE_TIMEOUT);
    }

    #[test]
    fn missing_blocks_are_named() {
        let (cert, key) = pem_pair();
        let err = TlsConfig::from_pem("nothing here", &key).unwrap_err();
        assert!(matches!(err, TlsConfigError::NoCertificate { .. }), "{err}");
        assert!(err.to_string().contains("the certificate PEM"), "{err}");
        let err = TlsConfig::from_pem(&cert, &cert).unwrap_err();
        assert!(matches!(err, TlsConfigError::NoPrivateKey { .. }), "{err}");
        let (_, other_key) = pem_pair();
        let err = TlsConfig::from_pem(&cert, other_key).unwrap_err();
        assert!(matches!(err, TlsConfigError::Unusable { .. }), "{err}");
    }

    #[test]
    fn from_rustls_keeps_a_chosen_alpn_list() {
        let (cert, key) = pem_pair();
        let base = TlsConfig::from_pem(cert, key).unwrap();
        let mut config = rustls::ServerConfig::clone(base.rustls_config());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let tls = TlsConfig::from_rustls(Arc::new(config.clone()));
        assert_eq!(tls.rustls_config().alpn_protocols, [b"http/1.1".to_vec()]);
        config.alpn_protocols.clear();
        let tls = TlsConfig::from_rustls(Arc::new(config));
        assert_eq!(tls.rustls_config().alpn_protocols, default_alpn());
    }
}
