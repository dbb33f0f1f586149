//! Opening WebSockets (tokio-tungstenite), with the client's headers,
//! cookies, TLS settings and proxy (a `CONNECT` tunnel, see `proxy.rs`).
//! What goes over them is the core's business.

use http::header::COOKIE;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use url::Url;

use super::error::{ConnectionError, describe, from_source};
use super::http::Net;
use super::proxy::{self, Conn};

/// A client WebSocket: TLS for `wss`, over TCP to the server or a tunnel
/// through a proxy.
pub(crate) type WsStream = WebSocketStream<MaybeTlsStream<Conn>>;

/// Opens a WebSocket to `url`, sending the extra headers and the cookies
/// the jar holds for `cookie_url`; `Set-Cookie` answers go to the jar.
pub(crate) async fn open(
    net: &Net,
    url: &Url,
    cookie_url: &Url,
) -> Result<WsStream, ConnectionError> {
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

    // The timeout covers the proxy tunnel, TLS and the WebSocket handshake.
    let connect = connect(request, url, net);
    let (stream, response) = tokio::time::timeout(net.timeout, connect)
        .await
        .map_err(|_| ConnectionError::Timeout(net.timeout))??;
    net.store_cookies(response.headers(), cookie_url);
    Ok(stream)
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
    handshake(request, stream, net).await.map_err(map_err)
}

#[cfg(feature = "tls")]
async fn handshake(
    request: tungstenite::handshake::client::Request,
    stream: Conn,
    net: &Net,
) -> Result<(WsStream, tungstenite::handshake::client::Response), tungstenite::Error> {
    let connector = tokio_tungstenite::Connector::Rustls(std::sync::Arc::clone(&net.tls));
    tokio_tungstenite::client_async_tls_with_config(request, stream, None, Some(connector)).await
}

#[cfg(not(feature = "tls"))]
async fn handshake(
    request: tungstenite::handshake::client::Request,
    stream: Conn,
    _net: &Net,
) -> Result<(WsStream, tungstenite::handshake::client::Response), tungstenite::Error> {
    tokio_tungstenite::client_async_with_config(request, MaybeTlsStream::Plain(stream), None).await
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
