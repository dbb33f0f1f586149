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
    /// from `X-Forwarded-Proto` (else `http`) and `X-Forwarded-Host` is also
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
    pub(crate) fn check(&self, headers: &HeaderMap) -> Option<Result<HeaderValue, String>> {
        if matches!(self, Self::Disabled) {
            return None;
        }
        let origin = headers.get(header::ORIGIN)?;
        let Ok(origin_str) = origin.to_str() else {
            return Some(Err("the Origin header is not valid text".to_owned()));
        };
        let allowed = match self {
            Self::SameOrigin => same_origin(headers, origin_str),
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

/// Whether `origin` is the server's own origin as the request names it.
fn same_origin(headers: &HeaderMap, origin: &str) -> bool {
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
    };
    let scheme = first("x-forwarded-proto").unwrap_or("http");
    [first("host"), first("x-forwarded-host")]
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
                .check(&headers(&[("host", "a")]))
                .is_none()
        );
    }

    #[test]
    fn same_origin_uses_host_and_forwarded_headers() {
        let ok = headers(&[("host", "a:1"), ("origin", "http://a:1")]);
        assert!(CorsPolicy::SameOrigin.check(&ok).unwrap().is_ok());
        let bad = headers(&[("host", "a:1"), ("origin", "http://evil")]);
        assert_eq!(
            CorsPolicy::SameOrigin.check(&bad).unwrap().unwrap_err(),
            "origin http://evil is not allowed"
        );
        let proxied = headers(&[
            ("host", "internal"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "public.example, other"),
            ("origin", "https://public.example"),
        ]);
        assert!(CorsPolicy::SameOrigin.check(&proxied).unwrap().is_ok());
    }

    #[test]
    fn list_callback_any_disabled() {
        let h = headers(&[("origin", "https://x.example")]);
        assert!(
            CorsPolicy::list(["https://x.example"])
                .check(&h)
                .unwrap()
                .is_ok()
        );
        assert!(
            CorsPolicy::list(["https://y.example"])
                .check(&h)
                .unwrap()
                .is_err()
        );
        assert!(
            CorsPolicy::callback(|o| o.ends_with(".example"))
                .check(&h)
                .unwrap()
                .is_ok()
        );
        assert!(CorsPolicy::Any.check(&h).unwrap().is_ok());
        assert!(CorsPolicy::Disabled.check(&h).is_none());
    }
}
