//! The network side shared by every session of a client: the HTTP client
//! (reqwest, with a cookie jar), the extra headers, the TLS settings and
//! the proxy rules.

use crate::deflate::PerMessageDeflate;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::cookie::{CookieStore, Jar};
use url::Url;

use super::config::ClientConfig;
use super::error::{ConfigError, ConnectionError, from_source};
use super::proxy::{self, Proxies};

/// What every request of a client needs. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Net {
    http: reqwest::Client,
    jar: Arc<Jar>,
    /// The extra headers, also sent on the WebSocket open.
    pub(crate) headers: HeaderMap,
    /// The headers sent on the WebSocket open only (with the subprotocols).
    pub(crate) ws_headers: HeaderMap,
    /// The request timeout of the configuration.
    pub(crate) timeout: Duration,
    #[cfg(feature = "tls")]
    pub(crate) tls: Arc<rustls::ClientConfig>,
    /// Which proxy each request goes through (both transports).
    pub(crate) proxies: Arc<Proxies>,
    /// The permessage-deflate offer of WebSockets, if any.
    pub(crate) deflate: Option<PerMessageDeflate>,
}

/// Validates header names and values.
fn header_map(pairs: &[(String, String)]) -> Result<HeaderMap, ConfigError> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ConfigError(format!("invalid header name {name:?}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| ConfigError(format!("invalid value for header {name}")))?;
        headers.append(name, value);
    }
    Ok(headers)
}

impl Net {
    /// Validates the configuration and builds the HTTP client.
    pub(crate) fn new(config: &ClientConfig) -> Result<Self, ConfigError> {
        if config.transports.is_empty() {
            return Err(ConfigError("no transport enabled".to_owned()));
        }
        let headers = header_map(&config.headers)?;
        let mut ws_headers = header_map(&config.ws_headers)?;
        if !config.ws_protocols.is_empty() {
            let protocols = config.ws_protocols.join(", ");
            let value = HeaderValue::from_str(&protocols).map_err(|_| {
                ConfigError(format!("invalid WebSocket subprotocols {protocols:?}"))
            })?;
            ws_headers.insert(http::header::SEC_WEBSOCKET_PROTOCOL, value);
        }
        let proxies = Arc::new(Proxies::new(&config.proxy)?);
        let jar = Arc::new(Jar::default());
        let builder = reqwest::Client::builder()
            .default_headers(headers.clone())
            .cookie_provider(Arc::clone(&jar))
            .connect_timeout(config.request_timeout);
        let builder = proxies.apply(builder);
        #[cfg(feature = "tls")]
        let tls = Arc::new(super::tls::client_config(config)?);
        #[cfg(feature = "tls")]
        let builder = builder.tls_backend_preconfigured(rustls::ClientConfig::clone(&tls));
        let http = builder
            .build()
            .map_err(|err| ConfigError(format!("cannot build the HTTP client: {err}")))?;
        Ok(Self {
            http,
            jar,
            headers,
            ws_headers,
            timeout: config.request_timeout,
            #[cfg(feature = "tls")]
            tls,
            proxies,
            deflate: config.per_message_deflate.clone(),
        })
    }

    /// A GET; a non-2xx answer is [`ConnectionError::Rejected`].
    pub(crate) async fn get(&self, url: Url, timeout: Duration) -> Result<Bytes, ConnectionError> {
        let forwarded = self.forwarded(&url);
        let request = forwarded(self.http.get(url).timeout(timeout));
        read(request.send().await, timeout, &self.proxies).await
    }

    /// A POST of a text payload; a non-2xx answer is [`ConnectionError::Rejected`].
    pub(crate) async fn post(&self, url: Url, payload: String) -> Result<(), ConnectionError> {
        let forwarded = self.forwarded(&url);
        let request = forwarded(self.http.post(url))
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "text/plain;charset=UTF-8")
            .body(payload);
        read(request.send().await, self.timeout, &self.proxies)
            .await
            .map(drop)
    }

    /// What a request to `url` needs when a proxy forwards it (a plain
    /// `http://` server, no tunnel): `Connection: close`, as some proxies
    /// (tinyproxy) close the connection after each forwarded request
    /// without saying so, and a request sent on it again would fail. The
    /// connection to the proxy is not reused; tunnels are.
    fn forwarded(&self, url: &Url) -> fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if url.scheme() == "http" && self.proxies.for_url(url).is_some() {
            |request| request.header(http::header::CONNECTION, "close")
        } else {
            |request| request
        }
    }

    /// The `Cookie` header value the jar holds for `url`.
    pub(crate) fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        self.jar.cookies(url)
    }

    /// Stores the `Set-Cookie` headers of a response to `url`.
    pub(crate) fn store_cookies(&self, headers: &HeaderMap, url: &Url) {
        let mut values = headers.get_all(http::header::SET_COOKIE).iter();
        self.jar.set_cookies(&mut values, url);
    }
}

/// Reads a response: the body of a 2xx, else a rejection with the body as JSON.
async fn read(
    response: Result<reqwest::Response, reqwest::Error>,
    timeout: Duration,
    proxies: &Proxies,
) -> Result<Bytes, ConnectionError> {
    let response = response.map_err(|err| map_err(err, timeout, proxies))?;
    let status = response.status();
    // 407 comes from a proxy, never from the server.
    if status == reqwest::StatusCode::PROXY_AUTHENTICATION_REQUIRED
        && let Some(via) = proxies.for_url(response.url())
    {
        return Err(proxy::refused(via, response.url(), status.as_u16()));
    }
    let body = response
        .bytes()
        .await
        .map_err(|err| map_err(err, timeout, proxies))?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(ConnectionError::Rejected {
            status: status.as_u16(),
            body: serde_json::from_slice(&body).ok(),
        })
    }
}

/// A failed request; a connection failure through a proxy names the proxy.
fn map_err(err: reqwest::Error, timeout: Duration, proxies: &Proxies) -> ConnectionError {
    if err.is_timeout() {
        return ConnectionError::Timeout(timeout);
    }
    let via = if err.is_connect() {
        err.url().and_then(|url| proxies.for_url(url))
    } else {
        None
    };
    match via {
        Some(via) => proxy::through(via, err),
        None => from_source(err),
    }
}
