//! Which origins may talk to the server, and the CORS headers they get.

use std::fmt;
use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderValue};

/// The origins allowed to connect (python-engineio's `cors_allowed_origins`).
///
/// Requests without an `Origin` header (native clients) are never checked.
/// A request whose origin is not allowed gets 400 with a message naming the
/// origin. Allowed origins get `Access-Control-Allow-Origin` with their own
/// origin echoed (never `*`, so credentials work) and `Vary: Origin`.
///
/// # Examples
///
/// ```
/// use engineio::server::CorsPolicy;
///
/// let list = CorsPolicy::list(["https://a.example", "https://b.example"]);
/// let callback = CorsPolicy::callback(|origin| origin.ends_with(".example"));
/// # let _ = (list, callback);
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum CorsPolicy {
    /// Only the server's own origin: `scheme://Host`, where the scheme comes
    /// from `X-Forwarded-Proto`, else from the connection (`https` for our
    /// TLS listener or an HTTP/2 `:scheme`), else `http`; the host from
    /// `Host` (or HTTP/2's `:authority`), and `X-Forwarded-Host` is also
    /// accepted. python-engineio's default (`None`).
    #[default]
    SameOrigin,
    /// Any origin (`'*'`).
    Any,
    /// These origins, compared exactly.
    List(Vec<String>),
    /// Origins for which the function returns true.
    Callback(Arc<dyn Fn(&str) -> bool + Send + Sync>),
    /// No origin checks and no CORS headers (`[]`): leave CORS to another
    /// layer, such as tower-http's.
    Disabled,
}

impl CorsPolicy {
    /// A list of allowed origins.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::CorsPolicy;
    /// let policy = CorsPolicy::list(["http://localhost:3000"]);
    /// # let _ = policy;
    /// ```
    pub fn list<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::List(origins.into_iter().map(Into::into).collect())
    }

    /// Origins decided by a function.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::CorsPolicy;
    /// let policy = CorsPolicy::callback(|origin| origin.starts_with("https://"));
    /// # let _ = policy;
    /// ```
    pub fn callback(allow: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        Self::Callback(Arc::new(allow))
    }

    /// Whether the request's origin is allowed; `None` when the request has
    /// no origin or checks are disabled.
    pub(crate) fn check(
        &self,
        headers: &HeaderMap,
        own: RequestOrigin<'_>,
    ) -> Option<Result<HeaderValue, String>> {
        if matches!(self, Self::Disabled) {
            return None;
        }
        let origin = headers.get(header::ORIGIN)?;
        let Ok(origin_str) = origin.to_str() else {
            return Some(Err("the Origin header is not valid text".to_owned()));
        };
        let allowed = match self {
            Self::SameOrigin => same_origin(headers, own, origin_str),
            Self::Any | Self::Disabled => true,
            Self::List(list) => list.iter().any(|allowed| allowed == origin_str),
            Self::Callback(allow) => allow(origin_str),
        };
        Some(if allowed {
            Ok(origin.clone())
        } else {
            Err(format!("origin {origin_str} is not allowed"))
        })
    }
}

/// Marks a request that came over our TLS listener (an extension), so that
/// the same-origin check takes `https` as its scheme.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OverTls;

/// What the request itself says of the server's origin, besides its
/// headers: whether it came over TLS, and the HTTP/2 `:authority`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RequestOrigin<'a> {
    pub(crate) secure: bool,
    pub(crate) authority: Option<&'a str>,
}

impl<'a> RequestOrigin<'a> {
    /// Reads it from a request: our TLS listener's mark, or an absolute
    /// URI (HTTP/2 requests carry `:scheme` and `:authority`).
    pub(crate) fn of(parts: &'a http::request::Parts) -> Self {
        Self {
            secure: parts.extensions.get::<OverTls>().is_some()
                || parts.uri.scheme_str() == Some("https"),
            authority: parts.uri.authority().map(http::uri::Authority::as_str),
        }
    }
}

/// Whether `origin` is the server's own origin as the request names it.
fn same_origin(headers: &HeaderMap, own: RequestOrigin<'_>, origin: &str) -> bool {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
    };
    let connection_scheme = if own.secure { "https" } else { "http" };
    let scheme = first("x-forwarded-proto").unwrap_or(connection_scheme);
    [first("host").or(own.authority), first("x-forwarded-host")]
        .into_iter()
        .flatten()
        .any(|host| origin == format!("{scheme}://{host}"))
}

/// Adds the CORS headers for an allowed origin.
pub(crate) fn add_headers(
    headers: &mut HeaderMap,
    origin: HeaderValue,
    credentials: bool,
    preflight: Option<&HeaderMap>,
) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if credentials {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    if let Some(request_headers) = preflight {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("OPTIONS, GET, POST"),
        );
        if let Some(asked) = request_headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
        }
    }
}

impl fmt::Debug for CorsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SameOrigin => f.write_str("SameOrigin"),
            Self::Any => f.write_str("Any"),
            Self::List(list) => f.debug_tuple("List").field(list).finish(),
            Self::Callback(_) => f.write_str("Callback(..)"),
            Self::Disabled => f.write_str("Disabled"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn no_origin_is_never_checked() {
        assert!(
            CorsPolicy::SameOrigin
                .check(&headers(&[("host", "a")]), RequestOrigin::default())
                .is_none()
        );
    }

    #[test]
    fn same_origin_uses_host_and_forwarded_headers() {
        let ok = headers(&[("host", "a:1"), ("origin", "http://a:1")]);
        assert!(
            CorsPolicy::SameOrigin
                .check(&ok, RequestOrigin::default())
                .unwrap()
                .is_ok()
        );
        let bad = headers(&[("host", "a:1"), ("origin", "http://evil")]);
        assert_eq!(
            CorsPolicy::SameOrigin
                .check(&bad, RequestOrigin::default())
                .unwrap()
                .unwrap_err(),
            "origin http://evil is not allowed"
        );
        let proxied = headers(&[
            ("host", "internal"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "public.example, other"),
            ("origin", "https://public.example"),
        ]);
        assert!(
            CorsPolicy::SameOrigin
                .check(&proxied, RequestOrigin::default())
                .unwrap()
                .is_ok()
        );
    }

    #[test]
    fn same_origin_over_tls_and_http2_uses_the_connection() {
        let tls = RequestOrigin {
            secure: true,
            authority: None,
        };
        let h1 = headers(&[("host", "a:1"), ("origin", "https://a:1")]);
        assert!(CorsPolicy::SameOrigin.check(&h1, tls).unwrap().is_ok());
        assert!(
            CorsPolicy::SameOrigin
                .check(&h1, RequestOrigin::default())
                .unwrap()
                .is_err()
        );
        let h2 = RequestOrigin {
            secure: true,
            authority: Some("a:1"),
        };
        let no_host = headers(&[("origin", "https://a:1")]);
        assert!(CorsPolicy::SameOrigin.check(&no_host, h2).unwrap().is_ok());
        let plain_http_origin = headers(&[("origin", "http://a:1")]);
        assert!(
            CorsPolicy::SameOrigin
                .check(&plain_http_origin, h2)
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn list_callback_any_disabled() {
        let h = headers(&[("origin", "https://x.example")]);
        assert!(
            CorsPolicy::list(["https://x.example"])
                .check(&h, RequestOrigin::default())
                .unwrap()
                .is_ok()
        );
        assert!(
            CorsPolicy::list(["https://y.example"])
                .check(&h, RequestOrigin::default())
                .unwrap()
                .is_err()
        );
        assert!(
            CorsPolicy::callback(|o| o.ends_with(".example"))
                .check(&h, RequestOrigin::default())
                .unwrap()
                .is_ok()
        );
        assert!(
            CorsPolicy::Any
                .check(&h, RequestOrigin::default())
                .unwrap()
                .is_ok()
        );
        assert!(
            CorsPolicy::Disabled
                .check(&h, RequestOrigin::default())
                .is_none()
        );
    }
}
