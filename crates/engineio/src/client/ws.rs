//! Opening WebSockets (tokio-tungstenite), with the client's headers,
//! cookies and TLS settings. What goes over them is the core's business.

use http::header::COOKIE;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use url::Url;

use super::error::{Cause, ConnectionError, describe, from_source};
use super::http::Net;

/// A client WebSocket.
pub(crate) type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

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
    for (name, value) in &net.headers {
        if name != COOKIE {
            headers.append(name, value.clone());
        }
    }
    let mut cookies: Vec<String> = net
        .headers
        .get_all(COOKIE)
        .iter()
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

    let connect = connect(request, net);
    let (stream, response) = tokio::time::timeout(net.timeout, connect)
        .await
        .map_err(|_| ConnectionError::Timeout(net.timeout))?
        .map_err(map_err)?;
    net.store_cookies(response.headers(), cookie_url);
    Ok(stream)
}

#[cfg(feature = "tls")]
async fn connect(
    request: tungstenite::handshake::client::Request,
    net: &Net,
) -> Result<(WsStream, tungstenite::handshake::client::Response), tungstenite::Error> {
    let connector = tokio_tungstenite::Connector::Rustls(std::sync::Arc::clone(&net.tls));
    tokio_tungstenite::connect_async_tls_with_config(request, None, true, Some(connector)).await
}

#[cfg(not(feature = "tls"))]
async fn connect(
    request: tungstenite::handshake::client::Request,
    _net: &Net,
) -> Result<(WsStream, tungstenite::handshake::client::Response), tungstenite::Error> {
    tokio_tungstenite::connect_async_with_config(request, None, true).await
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
        tungstenite::Error::Tls(err) => ConnectionError::Tls(Cause::of(err)),
        tungstenite::Error::Url(err) => ConnectionError::InvalidUrl(describe(&err)),
        other => from_source(other),
    }
}
