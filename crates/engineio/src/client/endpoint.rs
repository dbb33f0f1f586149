//! Request URLs: the user's URL, the Engine.IO path and the query.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use engineio_proto::{PROTOCOL_VERSION, Transport};
use url::Url;

use super::config::ClientConfig;
use super::error::ConnectionError;

/// Query names the client sets itself; user values for them are dropped.
const RESERVED: [&str; 4] = ["EIO", "transport", "sid", "t"];

/// Where a client sends its requests, built once per `connect()`.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// `http(s)://host:port/<url path>/<engine.io path>/?<user query>&EIO=4`.
    base: Url,
    timestamp: bool,
}

impl Endpoint {
    /// Parses `url` (`http`, `https`, `ws` or `wss`) and combines it with the
    /// configured path and query.
    pub(crate) fn new(url: &str, config: &ClientConfig) -> Result<Self, ConnectionError> {
        let mut base = Url::parse(url)
            .map_err(|err| ConnectionError::InvalidUrl(format!("{url:?}: {err}")))?;
        let scheme = match base.scheme() {
            "http" | "ws" => "http",
            "https" | "wss" => "https",
            other => {
                return Err(ConnectionError::InvalidUrl(format!(
                    "{url:?}: unsupported scheme {other:?} (expected http, https, ws or wss)"
                )));
            }
        };
        if scheme == "https" && !cfg!(feature = "tls") {
            return Err(ConnectionError::InvalidUrl(format!(
                "{url:?}: https and wss need the engineio crate's `tls` feature"
            )));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(ConnectionError::InvalidUrl(format!("{url:?}: no host")));
        }
        base.set_scheme(scheme).map_err(|()| {
            ConnectionError::InvalidUrl(format!("{url:?}: cannot use scheme {scheme}"))
        })?;
        base.set_fragment(None);
        let path = join_path(base.path(), &config.path);
        base.set_path(&path);

        let user: Vec<(String, String)> = base
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .chain(config.query.iter().cloned())
            .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
            .collect();
        base.set_query(None);
        {
            let mut query = base.query_pairs_mut();
            for (k, v) in &user {
                query.append_pair(k, v);
            }
            query.append_pair("EIO", &PROTOCOL_VERSION.to_string());
        }
        Ok(Self {
            base,
            timestamp: config.timestamp_requests,
        })
    }

    /// The URL of a polling request. GETs carry the timestamp, POSTs not.
    pub(crate) fn polling(&self, sid: Option<&str>, get: bool) -> Url {
        self.build(Transport::Polling, sid, get && self.timestamp)
    }

    /// The URL of a WebSocket open (`ws://` or `wss://`).
    pub(crate) fn websocket(&self, sid: Option<&str>) -> Url {
        let mut url = self.build(Transport::WebSocket, sid, self.timestamp);
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        // http(s) -> ws(s) is always allowed for a URL with a host.
        let _ = url.set_scheme(scheme);
        url
    }

    /// The http(s) URL of the session, for cookie look-ups.
    pub(crate) fn cookie_url(&self) -> &Url {
        &self.base
    }

    fn build(&self, transport: Transport, sid: Option<&str>, timestamp: bool) -> Url {
        let mut url = self.base.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("transport", transport.as_str());
            if timestamp {
                query.append_pair("t", &timestamp_value());
            }
            if let Some(sid) = sid {
                query.append_pair("sid", sid);
            }
        }
        url
    }
}

/// The URL's path followed by the Engine.IO path, with one trailing slash.
pub(crate) fn join_path(url_path: &str, engineio_path: &str) -> String {
    let prefix = url_path.trim_end_matches('/');
    let path = engineio_path.trim_matches('/');
    if path.is_empty() {
        format!("{prefix}/")
    } else {
        format!("{prefix}/{path}/")
    }
}

/// A cache-buster that differs on every call: milliseconds since the epoch
/// and a counter, in base 36.
fn timestamp_value() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}.{}", base36(millis), base36(count))
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientBuilder;

    fn endpoint(url: &str, config: ClientConfig) -> Endpoint {
        Endpoint::new(
            url,
            &ClientBuilder::from_config(config)
                .timestamp_requests(false)
                .into_config(),
        )
        .unwrap()
    }

    #[test]
    fn paths_combine() {
        assert_eq!(join_path("/", "engine.io"), "/engine.io/");
        assert_eq!(join_path("", "/engine.io/"), "/engine.io/");
        assert_eq!(join_path("/app", "engine.io"), "/app/engine.io/");
        assert_eq!(join_path("/app/", "/socket.io"), "/app/socket.io/");
        assert_eq!(join_path("/", ""), "/");
        assert_eq!(join_path("/a/b", "x/y"), "/a/b/x/y/");
    }

    #[test]
    fn polling_and_websocket_urls() {
        let e = endpoint("http://example.com:3000", ClientConfig::default());
        assert_eq!(
            e.polling(None, true).as_str(),
            "http://example.com:3000/engine.io/?EIO=4&transport=polling"
        );
        assert_eq!(
            e.polling(Some("abc"), false).as_str(),
            "http://example.com:3000/engine.io/?EIO=4&transport=polling&sid=abc"
        );
        assert_eq!(
            e.websocket(Some("abc")).as_str(),
            "ws://example.com:3000/engine.io/?EIO=4&transport=websocket&sid=abc"
        );
    }

    #[test]
    fn url_path_is_kept_and_ws_schemes_map_to_http() {
        let e = endpoint("wss://h/app?x=1#frag", ClientConfig::default());
        assert_eq!(
            e.polling(None, false).as_str(),
            "https://h/app/engine.io/?x=1&EIO=4&transport=polling"
        );
        assert_eq!(
            e.websocket(None).as_str(),
            "wss://h/app/engine.io/?x=1&EIO=4&transport=websocket"
        );
    }

    #[test]
    fn user_query_comes_first_and_reserved_names_are_dropped() {
        let config = ClientBuilder::new()
            .query("b", "2 3")
            .query("sid", "evil")
            .query("EIO", "3")
            .into_config();
        let e = endpoint("http://h/?a=1&transport=x", config);
        assert_eq!(
            e.polling(Some("s"), false).as_str(),
            "http://h/engine.io/?a=1&b=2+3&EIO=4&transport=polling&sid=s"
        );
    }

    #[test]
    fn timestamps_only_on_gets_and_websocket() {
        let e = Endpoint::new("http://h", &ClientConfig::default()).unwrap();
        let get = e.polling(Some("s"), true);
        let post = e.polling(Some("s"), false);
        let ws = e.websocket(Some("s"));
        assert!(get.query_pairs().any(|(k, _)| k == "t"));
        assert!(!post.query_pairs().any(|(k, _)| k == "t"));
        assert!(ws.query_pairs().any(|(k, _)| k == "t"));
        assert_ne!(e.polling(None, true), e.polling(None, true));
    }

    #[test]
    fn bad_urls_are_rejected() {
        let config = ClientConfig::default();
        for url in ["ftp://h", "not a url", "http://", "file:///tmp"] {
            assert!(
                matches!(
                    Endpoint::new(url, &config),
                    Err(ConnectionError::InvalidUrl(_))
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn base36_digits() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
    }
}
