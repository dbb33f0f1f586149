//! Opening WebSockets (tokio-tungstenite), with the client's headers,
//! cookies, TLS settings, proxy (a `CONNECT` tunnel, see `proxy.rs`) and
//! permessage-deflate offer. What goes over them is the core's business.

use http::header::{COOKIE, SEC_WEBSOCKET_EXTENSIONS};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use url::Url;

use super::error::{ConnectionError, describe, from_source};
use super::http::Net;
use super::proxy::{self, Conn};
use crate::deflate::codec::Deflater;
use crate::deflate::negotiate;
use crate::ws_io::ReadAhead;

/// The longest compressed message a client takes, compressed or inflated:
/// tungstenite's default `max_frame_size` (an inflated message reaches
/// tungstenite as one frame).
const MAX_MESSAGE: usize = 16 << 20;

/// A client WebSocket: TLS for `wss`, over TCP to the server or a tunnel
/// through a proxy; `ReadAhead` inflates compressed messages.
pub(crate) type WsStream = WebSocketStream<ReadAhead<MaybeTlsStream<Conn>>>;

/// An open WebSocket, with the compressor for what it sends when
/// permessage-deflate was agreed.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) stream: WsStream,
    pub(crate) deflater: Option<Deflater>,
}

/// Opens a WebSocket to `url`, sending the extra headers and the cookies
/// the jar holds for `cookie_url`; `Set-Cookie` answers go to the jar.
pub(crate) async fn open(
    net: &Net,
    url: &Url,
    cookie_url: &Url,
) -> Result<Opened, ConnectionError> {
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|err| ConnectionError::InvalidUrl(describe(&err)))?;
    let headers = request.headers_mut();
    for (name, value) in net.headers.iter().chain(&net.ws_headers) {
        if name != COOKIE {
            headers.append(name, value.clone());
        }
    }
    let mut cookies: Vec<String> = net
        .headers
        .get_all(COOKIE)
        .iter()
        .chain(net.ws_headers.get_all(COOKIE))
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    if let Some(jar) = net
        .cookies(cookie_url)
        .and_then(|v| v.to_str().ok().map(str::to_owned))
    {
        cookies.push(jar);
    }
    if !cookies.is_empty()
        && let Ok(value) = cookies.join("; ").parse()
    {
        headers.insert(COOKIE, value);
    }
    if let Some(deflate) = &net.deflate
        && let Ok(value) = negotiate::offer(deflate).parse()
    {
        headers.insert(SEC_WEBSOCKET_EXTENSIONS, value);
    }

    // The timeout covers the proxy tunnel, TLS and the WebSocket handshake.
    let connect = connect(request, url, net);
    let (mut stream, response) = tokio::time::timeout(net.timeout, connect)
        .await
        .map_err(|_| ConnectionError::Timeout(net.timeout))??;
    net.store_cookies(response.headers(), cookie_url);
    let answer: Vec<&str> = response
        .headers()
        .get_all(SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    // An extension we did not offer fails the WebSocket (RFC 6455, 4.1).
    let agreed = match &net.deflate {
        Some(deflate) => negotiate::answer(deflate, &answer),
        None if answer.is_empty() => Ok(None),
        None => Err(negotiate::AnswerError::Unexpected(answer.join(", "))),
    }
    .map_err(|err| ConnectionError::Protocol(err.to_string()))?;
    let (deflater, inflater) = match (agreed, &net.deflate) {
        (Some(agreed), Some(deflate)) => {
            let (deflater, inflater) = agreed.client(deflate, MAX_MESSAGE);
            (Some(deflater), Some(inflater))
        }
        _ => (None, None),
    };
    stream.get_mut().handshake_done(inflater);
    Ok(Opened { stream, deflater })
}

/// Connects to the server, directly or through the proxy the rules give
/// for `url`, then runs the TLS (for `wss`) and WebSocket handshakes.
async fn connect(
    request: tungstenite::handshake::client::Request,
    url: &Url,
    net: &Net,
) -> Result<(WsStream, tungstenite::handshake::client::Response), ConnectionError> {
    let host = match url.host() {
        Some(url::Host::Domain(domain)) => domain.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(ConnectionError::InvalidUrl(format!("{url}: no host"))),
    };
    let port = url
        .port_or_known_default()
        .ok_or_else(|| ConnectionError::InvalidUrl(format!("{url}: no port")))?;
    let stream = match net.proxies.for_url(url) {
        Some(via) => {
            proxy::open(
                via,
                &host,
                port,
                #[cfg(feature = "tls")]
                &net.tls,
            )
            .await?
        }
        None => Conn::Tcp(proxy::tcp(&host, port).await.map_err(from_source)?),
    };
    let stream = tls(stream, url, &host, net).await?;
    // Reads stop at the end of the answer's headers until the inflater (if
    // any) is in place: no frame gets into tungstenite's handshake buffer.
    tokio_tungstenite::client_async_with_config(request, ReadAhead::client(stream), None)
        .await
        .map_err(map_err)
}

/// TLS for `wss://`, on the client's rustls configuration.
#[cfg(feature = "tls")]
async fn tls(
    stream: Conn,
    url: &Url,
    host: &str,
    net: &Net,
) -> Result<MaybeTlsStream<Conn>, ConnectionError> {
    if url.scheme() != "wss" {
        return Ok(MaybeTlsStream::Plain(stream));
    }
    let name = rustls_pki_types::ServerName::try_from(host.to_owned())
        .map_err(|err| ConnectionError::InvalidUrl(format!("{url}: {err}")))?;
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::clone(&net.tls));
    match connector.connect(name, stream).await {
        Ok(tls) => Ok(MaybeTlsStream::Rustls(tls)),
        // A rustls error is a TLS error, a broken connection a transport one.
        Err(err) => Err(from_source(err)),
    }
}

/// Without the `tls` feature, `wss://` cannot be opened.
#[cfg(not(feature = "tls"))]
async fn tls(
    stream: Conn,
    url: &Url,
    _host: &str,
    _net: &Net,
) -> Result<MaybeTlsStream<Conn>, ConnectionError> {
    if url.scheme() == "wss" {
        return Err(ConnectionError::InvalidUrl(format!(
            "{url}: wss:// needs the `tls` feature"
        )));
    }
    Ok(MaybeTlsStream::Plain(stream))
}

fn map_err(err: tungstenite::Error) -> ConnectionError {
    match err {
        tungstenite::Error::Http(response) => ConnectionError::Rejected {
            status: response.status().as_u16(),
            body: response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok()),
        },
        #[cfg(feature = "tls")]
        tungstenite::Error::Tls(err) => ConnectionError::Tls(super::error::Cause::of(err)),
        tungstenite::Error::Url(err) => ConnectionError::InvalidUrl(describe(&err)),
        other => from_source(other),
    }
}
