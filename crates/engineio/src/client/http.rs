//! The network side shared by every session of a client: the HTTP client
//! (reqwest, with a cookie jar), the extra headers and the TLS settings.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::cookie::{CookieStore, Jar};
use url::Url;

use super::config::ClientConfig;
use super::error::{ConfigError, ConnectionError, from_source};

/// What every request of a client needs. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Net {
    http: reqwest::Client,
    jar: Arc<Jar>,
    /// The extra headers, also sent on the WebSocket open.
    pub(crate) headers: HeaderMap,
    /// The request timeout of the configuration.
    pub(crate) timeout: Duration,
    #[cfg(feature = "tls")]
    pub(crate) tls: Arc<rustls::ClientConfig>,
}

impl Net {
    /// Validates the configuration and builds the HTTP client.
    pub(crate) fn new(config: &ClientConfig) -> Result<Self, ConfigError> {
        if config.transports.is_empty() {
            return Err(ConfigError("no transport enabled".to_owned()));
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ConfigError(format!("invalid header name {name:?}")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| ConfigError(format!("invalid value for header {name}")))?;
            headers.append(name, value);
        }
        let jar = Arc::new(Jar::default());
        let builder = reqwest::Client::builder()
            .default_headers(headers.clone())
            .cookie_provider(Arc::clone(&jar))
            .connect_timeout(config.request_timeout)
            .no_proxy();
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
            timeout: config.request_timeout,
            #[cfg(feature = "tls")]
            tls,
        })
    }

    /// A GET; a non-2xx answer is [`ConnectionError::Rejected`].
    pub(crate) async fn get(&self, url: Url, timeout: Duration) -> Result<Bytes, ConnectionError> {
        let request = self.http.get(url).timeout(timeout);
        read(request.send().await, timeout).await
    }

    /// A POST of a text payload; a non-2xx answer is [`ConnectionError::Rejected`].
    pub(crate) async fn post(&self, url: Url, payload: String) -> Result<(), ConnectionError> {
        let request = self
            .http
            .post(url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "text/plain;charset=UTF-8")
            .body(payload);
        read(request.send().await, self.timeout).await.map(drop)
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
) -> Result<Bytes, ConnectionError> {
    let response = response.map_err(|err| map_err(err, timeout))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|err| map_err(err, timeout))?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(ConnectionError::Rejected {
            status: status.as_u16(),
            body: serde_json::from_slice(&body).ok(),
        })
    }
}

fn map_err(err: reqwest::Error, timeout: Duration) -> ConnectionError {
    if err.is_timeout() {
        ConnectionError::Timeout(timeout)
    } else {
        from_source(err)
    }
}
