//! HTTP and HTTPS proxies for both transports.
//!
//! Which proxy a request goes through is decided here, once for both
//! transports, so polling and WebSocket always agree:
//!
//! - [`ProxySetting`] is the option of the configuration: the environment
//!   (the default), one explicit proxy ([`ClientBuilder::proxy`]), or none
//!   ([`ClientBuilder::no_proxy`]);
//! - [`Proxies`] is that option resolved when the client is built: the
//!   environment variables are read then (`HTTP_PROXY`/`http_proxy`,
//!   `HTTPS_PROXY`/`https_proxy`, `ALL_PROXY`/`all_proxy`,
//!   `NO_PROXY`/`no_proxy`, with reqwest's rules), and
//!   [`Proxies::for_url`] answers for one URL;
//! - polling hands that decision to reqwest ([`Proxies::apply`], a
//!   `reqwest::Proxy::custom`), which forwards plain-HTTP requests to the
//!   proxy and tunnels HTTPS ones with `CONNECT`;
//! - a WebSocket always goes through a `CONNECT host:port` tunnel opened
//!   here ([`open`]), over which `ws.rs` runs the TLS (for `wss`) and
//!   WebSocket handshakes.
//!
//! [`ClientBuilder::proxy`]: super::ClientBuilder::proxy
//! [`ClientBuilder::no_proxy`]: super::ClientBuilder::no_proxy

use std::fmt;
use std::io;
use std::sync::Arc;

use base64::Engine as _;
use percent_encoding::percent_decode_str;
use url::{Host, Url};

use super::error::{Cause, ConfigError, ConnectionError, from_source};

mod no_proxy;
mod tunnel;

use no_proxy::NoProxy;
pub(crate) use tunnel::{Conn, open, tcp};

/// The longest proxy response head read before giving up.
const MAX_HEAD: usize = 16 * 1024;

/// The proxy option of a [`ClientConfig`](super::ClientConfig).
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) enum ProxySetting {
    /// The proxy environment variables, read when the client is built.
    #[default]
    Environment,
    /// No proxy, whatever the environment says.
    Disabled,
    /// This proxy URL for every request.
    Url(String),
}

/// Never shows a proxy password.
impl fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Environment => f.write_str("Environment"),
            Self::Disabled => f.write_str("Disabled"),
            Self::Url(url) => {
                let shown = match Url::parse(url) {
                    Ok(mut url) => {
                        if url.password().is_some() {
                            let _ = url.set_password(Some("***"));
                        }
                        url.to_string()
                    }
                    Err(_) => "<not a URL>".to_owned(),
                };
                f.debug_tuple("Url").field(&shown).finish()
            }
        }
    }
}

/// One proxy: where to connect, and the credentials of its URL.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ProxyUrl {
    /// The URL as given (with its credentials), for reqwest.
    url: Url,
    /// `https://`: TLS to the proxy itself.
    secure: bool,
    /// The host, without the brackets of an IPv6 address.
    host: String,
    port: u16,
    /// `Basic ...`, from the URL's userinfo.
    authorization: Option<String>,
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyUrl")
            .field("url", &self.to_string())
            .field("authorization", &self.authorization.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `scheme://host:port`, without credentials: safe for messages and logs.
impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.secure { "https" } else { "http" };
        write!(f, "{scheme}://{}", authority(&self.host, self.port))
    }
}

impl ProxyUrl {
    /// Parses an explicit proxy URL: `http://` or `https://`, a host, an
    /// optional port (default 80 or 443) and optional `user:password@`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text.trim()).map_err(|err| {
            format!("not a URL ({err}); expected http://host:port or https://host:port")
        })?;
        let secure = match url.scheme() {
            "http" => false,
            "https" if cfg!(feature = "tls") => true,
            "https" => {
                return Err("an https:// proxy needs the engineio crate's `tls` feature".to_owned());
            }
            other => {
                return Err(format!(
                    "unsupported proxy scheme {other:?} (expected http or https)"
                ));
            }
        };
        let host = match url.host() {
            Some(Host::Domain(domain)) if !domain.is_empty() => domain.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err("the proxy URL has no host".to_owned()),
        };
        let port = url
            .port_or_known_default()
            .unwrap_or(if secure { 443 } else { 80 });
        let authorization = (!url.username().is_empty() || url.password().is_some()).then(|| {
            let user = percent_decode_str(url.username()).decode_utf8_lossy();
            let password = url
                .password()
                .map(|p| percent_decode_str(p).decode_utf8_lossy())
                .unwrap_or_default();
            basic_authorization(&user, &password)
        });
        Ok(Self {
            url,
            secure,
            host,
            port,
            authorization,
        })
    }

    /// Parses a proxy environment variable as reqwest does: empty means
    /// none, a value without a scheme is an `http://` proxy, and what
    /// cannot be used (another scheme, not a URL) is ignored.
    fn from_env(name: &str, value: &str) -> Option<Self> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let text = if value.contains("://") {
            value.to_owned()
        } else {
            format!("http://{value}")
        };
        match Self::parse(&text) {
            Ok(proxy) => Some(proxy),
            Err(why) => {
                tracing::warn!("ignoring the proxy variable {name}: {why}");
                None
            }
        }
    }

    /// The proxy's URL with its credentials, for reqwest.
    fn url(&self) -> &Url {
        &self.url
    }
}

/// The `Proxy-Authorization` value of `user:password`.
fn basic_authorization(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// `host:port`, with brackets around an IPv6 address.
fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The proxy rules of a built client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Proxies {
    /// Every request goes directly to the server.
    #[default]
    Direct,
    /// Every request goes through this proxy.
    All(ProxyUrl),
    /// The environment's rules.
    Environment {
        /// For `http://` and `ws://` servers.
        http: Option<ProxyUrl>,
        /// For `https://` and `wss://` servers.
        https: Option<ProxyUrl>,
        /// The servers reached directly.
        no: NoProxy,
    },
}

impl Proxies {
    /// Resolves the option: reads the environment for
    /// [`ProxySetting::Environment`], validates an explicit URL.
    pub(crate) fn new(setting: &ProxySetting) -> Result<Self, ConfigError> {
        match setting {
            ProxySetting::Disabled => Ok(Self::Direct),
            ProxySetting::Url(text) => ProxyUrl::parse(text)
                .map(Self::All)
                .map_err(|why| ConfigError(format!("invalid proxy URL: {why}"))),
            ProxySetting::Environment => Ok(Self::from_vars(|name| std::env::var(name).ok())),
        }
    }

    /// The environment's rules, read through `var`: the upper-case name
    /// wins over the lower-case one, `ALL_PROXY` applies where
    /// `HTTP_PROXY` or `HTTPS_PROXY` is not set, and nothing applies in a
    /// CGI program (`REQUEST_METHOD` set), where `HTTP_PROXY` may come from
    /// a request header.
    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        if var("REQUEST_METHOD").is_some() {
            return Self::Direct;
        }
        let first = |names: [&'static str; 2]| {
            names
                .into_iter()
                .find_map(|name| var(name).map(|value| (name, value)))
        };
        let proxy = |names| first(names).and_then(|(name, value)| ProxyUrl::from_env(name, &value));
        let all = proxy(["ALL_PROXY", "all_proxy"]);
        let http = proxy(["HTTP_PROXY", "http_proxy"]).or_else(|| all.clone());
        let https = proxy(["HTTPS_PROXY", "https_proxy"]).or(all);
        if http.is_none() && https.is_none() {
            return Self::Direct;
        }
        let no = first(["NO_PROXY", "no_proxy"])
            .map(|(_, list)| NoProxy::parse(&list))
            .unwrap_or_default();
        Self::Environment { http, https, no }
    }

    /// The proxy for a request to `url` (`http`, `https`, `ws` or `wss`),
    /// or `None` to go directly.
    pub(crate) fn for_url(&self, url: &Url) -> Option<&ProxyUrl> {
        match self {
            Self::Direct => None,
            Self::All(proxy) => Some(proxy),
            Self::Environment { http, https, no } => {
                if url.host_str().is_none_or(|host| no.matches(host)) {
                    return None;
                }
                match url.scheme() {
                    "http" | "ws" => http.as_ref(),
                    "https" | "wss" => https.as_ref(),
                    _ => None,
                }
            }
        }
    }

    /// Gives these rules to reqwest, for polling.
    pub(crate) fn apply(
        self: &Arc<Self>,
        builder: reqwest::ClientBuilder,
    ) -> reqwest::ClientBuilder {
        if **self == Self::Direct {
            return builder.no_proxy();
        }
        let proxies = Arc::clone(self);
        builder.proxy(reqwest::Proxy::custom(move |url| {
            proxies.for_url(url).map(|proxy| proxy.url().clone())
        }))
    }
}

/// What went wrong with a proxy; the source of the [`ConnectionError`].
#[derive(Debug, thiserror::Error)]
enum ProxyError {
    #[error("cannot connect to the proxy {proxy}")]
    Connect {
        proxy: String,
        #[source]
        source: io::Error,
    },
    #[cfg(feature = "tls")]
    #[error("TLS with the proxy {proxy} failed")]
    Tls {
        proxy: String,
        #[source]
        source: io::Error,
    },
    #[error("the proxy {proxy} refused to connect to {target}: HTTP {status}{reason}")]
    Refused {
        proxy: String,
        target: String,
        status: u16,
        reason: String,
    },
    #[error("the proxy {proxy} answered the tunnel request to {target} badly: {why}")]
    BadAnswer {
        proxy: String,
        target: String,
        why: String,
    },
    #[error("the connection to the proxy {proxy} broke while opening the tunnel to {target}")]
    Broken {
        proxy: String,
        target: String,
        #[source]
        source: io::Error,
    },
    #[error("the request through the proxy {proxy} failed")]
    Through {
        proxy: String,
        #[source]
        source: reqwest::Error,
    },
}

/// A polling request's connection failure, naming the proxy it went
/// through.
pub(crate) fn through(proxy: &ProxyUrl, err: reqwest::Error) -> ConnectionError {
    from_source(ProxyError::Through {
        proxy: proxy.to_string(),
        source: err,
    })
}

/// A polling request the proxy answered itself with an error status
/// (407: credentials missing or wrong).
pub(crate) fn refused(proxy: &ProxyUrl, url: &Url, status: u16) -> ConnectionError {
    let target = authority(
        url.host_str()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']'),
        url.port_or_known_default().unwrap_or_default(),
    );
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    ConnectionError::Transport(Cause::of(ProxyError::Refused {
        proxy: proxy.to_string(),
        target,
        status,
        reason,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn vars(pairs: &[(&str, &str)]) -> Proxies {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Proxies::from_vars(move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn explicit_urls_parse() {
        let proxy = ProxyUrl::parse("http://127.0.0.1:3128").unwrap();
        assert_eq!(proxy.to_string(), "http://127.0.0.1:3128");
        assert_eq!((proxy.host.as_str(), proxy.port), ("127.0.0.1", 3128));
        assert!(!proxy.secure);
        assert_eq!(proxy.authorization, None);

        let proxy = ProxyUrl::parse("http://proxy.example").unwrap();
        assert_eq!(proxy.port, 80);
        let proxy = ProxyUrl::parse("http://[::1]:8080/").unwrap();
        assert_eq!(proxy.host, "::1");
        assert_eq!(proxy.to_string(), "http://[::1]:8080");
    }

    #[cfg(feature = "tls")]
    #[test]
    fn https_proxies_default_to_443() {
        let proxy = ProxyUrl::parse("https://proxy.example").unwrap();
        assert!(proxy.secure);
        assert_eq!(proxy.port, 443);
    }

    #[test]
    fn credentials_become_basic_auth_and_are_never_shown() {
        // RFC 7617's example.
        let proxy = ProxyUrl::parse("http://Aladdin:open%20sesame@proxy:3128").unwrap();
        assert_eq!(
            proxy.authorization.as_deref(),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        assert_eq!(proxy.to_string(), "http://proxy:3128");
        assert!(!format!("{proxy:?}").contains("sesame"));
        let setting = ProxySetting::Url("http://Aladdin:open%20sesame@proxy:3128".to_owned());
        assert!(!format!("{setting:?}").contains("sesame"), "{setting:?}");
        let user_only = ProxyUrl::parse("http://user@proxy").unwrap();
        assert_eq!(
            user_only.authorization.as_deref(),
            Some(basic_authorization("user", "").as_str())
        );
    }

    #[test]
    fn bad_explicit_urls_are_config_errors() {
        for bad in [
            "",
            "127.0.0.1:3128",
            "socks5://proxy:1080",
            "ftp://proxy",
            "http://",
        ] {
            let err = Proxies::new(&ProxySetting::Url(bad.to_owned())).unwrap_err();
            assert!(
                err.to_string().contains("invalid proxy URL"),
                "{bad}: {err}"
            );
        }
        let err = Proxies::new(&ProxySetting::Url("http//u:secret@x".to_owned())).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn disabled_and_explicit_settings() {
        assert_eq!(
            Proxies::new(&ProxySetting::Disabled).unwrap(),
            Proxies::Direct
        );
        let all = Proxies::new(&ProxySetting::Url("http://p:1".to_owned())).unwrap();
        for target in [
            "http://a/",
            "https://a/",
            "ws://localhost:3/x",
            "wss://[::1]/",
        ] {
            assert_eq!(
                all.for_url(&url(target))
                    .map(ToString::to_string)
                    .as_deref(),
                Some("http://p:1"),
                "{target}"
            );
        }
    }

    #[test]
    fn environment_by_scheme_with_all_proxy_fallback() {
        let proxies = vars(&[
            ("http_proxy", "p1:1"),
            ("HTTPS_PROXY", "http://p2:2"),
            ("ALL_PROXY", "http://p3:3"),
        ]);
        let pick = |target: &str| proxies.for_url(&url(target)).map(ToString::to_string);
        assert_eq!(pick("http://h/").as_deref(), Some("http://p1:1"));
        assert_eq!(pick("ws://h/").as_deref(), Some("http://p1:1"));
        assert_eq!(pick("https://h/").as_deref(), Some("http://p2:2"));
        assert_eq!(pick("wss://h/").as_deref(), Some("http://p2:2"));

        let proxies = vars(&[("all_proxy", "http://p3:3"), ("HTTP_PROXY", "")]);
        let pick = |target: &str| proxies.for_url(&url(target)).map(ToString::to_string);
        assert_eq!(pick("http://h/").as_deref(), Some("http://p3:3"));
        assert_eq!(pick("wss://h/").as_deref(), Some("http://p3:3"));

        // Upper case wins; unusable values are ignored.
        let proxies = vars(&[
            ("HTTP_PROXY", "http://up:1"),
            ("http_proxy", "http://low:2"),
        ]);
        assert_eq!(
            proxies.for_url(&url("http://h/")).map(ToString::to_string),
            Some("http://up:1".to_owned())
        );
        assert_eq!(vars(&[("HTTP_PROXY", "socks5://s:1")]), Proxies::Direct);
        assert_eq!(vars(&[]), Proxies::Direct);
        // CGI: HTTP_PROXY may come from a request's `Proxy:` header.
        assert_eq!(
            vars(&[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:1")]),
            Proxies::Direct
        );
    }

    #[test]
    fn no_proxy_exempts_hosts_from_the_environment() {
        let proxies = vars(&[
            ("HTTP_PROXY", "http://p:1"),
            (
                "no_proxy",
                "localhost, .internal ,example.com,10.0.0.0/8,::1",
            ),
        ]);
        let direct = |target: &str| proxies.for_url(&url(target)).is_none();
        assert!(direct("http://localhost:3000/"));
        assert!(direct("ws://LOCALHOST/"));
        assert!(direct("http://a.internal/"));
        assert!(direct("http://internal/"));
        assert!(direct("http://www.example.com/"));
        assert!(direct("http://10.1.2.3/"));
        assert!(direct("http://[::1]:8080/"));
        assert!(!direct("http://notexample.com/"));
        assert!(!direct("http://example.com.evil/"));
        assert!(!direct("http://11.0.0.1/"));
        assert!(!direct("http://127.0.0.1/"));
        // An explicit proxy ignores NO_PROXY.
        let explicit = Proxies::All(ProxyUrl::parse("http://p:1").unwrap());
        assert!(explicit.for_url(&url("http://localhost/")).is_some());
    }
}
