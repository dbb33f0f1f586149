//! The session cookie for sticky load balancers.

use std::fmt::Write as _;
use std::time::Duration;

/// The `SameSite` attribute of the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax` (the default, as python-engineio).
    Lax,
    /// `SameSite=None` (browsers require `Secure` with it).
    None,
}

/// A cookie that carries the session id, set on the handshake response.
///
/// Off by default (no cookie). `CookieConfig::new("io")` is the Node
/// server's `cookie: true`: `Path=/; SameSite=Lax; HttpOnly`;
/// python-engineio's `cookie="io"` is the same without `HttpOnly`
/// (`.http_only(false)`). Every attribute can be changed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use engineio::server::{CookieConfig, SameSite};
///
/// let cookie = CookieConfig::new("io");
/// assert_eq!(cookie.header_value("abc"), "io=abc; Path=/; SameSite=Lax; HttpOnly");
///
/// let cookie = CookieConfig::new("sticky")
///     .secure(true)
///     .same_site(Some(SameSite::None))
///     .max_age(Some(Duration::from_secs(3600)))
///     .domain(Some("example.com".into()));
/// assert_eq!(
///     cookie.header_value("abc"),
///     "sticky=abc; Path=/; SameSite=None; Secure; HttpOnly; Max-Age=3600; Domain=example.com"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieConfig {
    name: String,
    path: Option<String>,
    same_site: Option<SameSite>,
    secure: bool,
    http_only: bool,
    max_age: Option<Duration>,
    domain: Option<String>,
}

impl CookieConfig {
    /// A cookie called `name`, with `Path=/`, `SameSite=Lax` and `HttpOnly`
    /// (the Node server's default; scripts in the page cannot read the
    /// session id). python-engineio's string form leaves out `HttpOnly`:
    /// `.http_only(false)` does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::CookieConfig;
    /// assert!(CookieConfig::new("io").header_value("s").starts_with("io=s"));
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            path: Some("/".to_owned()),
            same_site: Some(SameSite::Lax),
            secure: false,
            http_only: true,
            max_age: None,
            domain: None,
        }
    }

    /// The `Path` attribute (`None` leaves it out).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::CookieConfig;
    /// let cookie = CookieConfig::new("io").path(Some("/app".into()));
    /// assert_eq!(cookie.header_value("s"), "io=s; Path=/app; SameSite=Lax; HttpOnly");
    /// ```
    pub fn path(mut self, path: Option<String>) -> Self {
        self.path = path;
        self
    }

    /// The `SameSite` attribute (`None` leaves it out).
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::{CookieConfig, SameSite};
    /// let cookie = CookieConfig::new("io").same_site(Some(SameSite::Strict));
    /// assert_eq!(cookie.header_value("s"), "io=s; Path=/; SameSite=Strict; HttpOnly");
    /// ```
    pub fn same_site(mut self, same_site: Option<SameSite>) -> Self {
        self.same_site = same_site;
        self
    }

    /// The `Secure` flag.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::CookieConfig;
    /// assert!(CookieConfig::new("io").secure(true).header_value("s").contains("; Secure"));
    /// ```
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The `HttpOnly` flag.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::CookieConfig;
    /// assert!(CookieConfig::new("io").header_value("s").ends_with("; HttpOnly"));
    /// assert!(!CookieConfig::new("io").http_only(false).header_value("s").contains("HttpOnly"));
    /// ```
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// The `Max-Age` attribute, in whole seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use engineio::server::CookieConfig;
    /// let cookie = CookieConfig::new("io").max_age(Some(Duration::from_secs(60)));
    /// assert!(cookie.header_value("s").ends_with("; Max-Age=60"));
    /// ```
    pub fn max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age;
        self
    }

    /// The `Domain` attribute.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::CookieConfig;
    /// let cookie = CookieConfig::new("io").domain(Some("example.com".into()));
    /// assert!(cookie.header_value("s").ends_with("; Domain=example.com"));
    /// ```
    pub fn domain(mut self, domain: Option<String>) -> Self {
        self.domain = domain;
        self
    }

    /// The `Set-Cookie` header value for a session id.
    ///
    /// # Examples
    ///
    /// ```
    /// # use engineio::server::CookieConfig;
    /// assert_eq!(
    ///     CookieConfig::new("io").header_value("x"),
    ///     "io=x; Path=/; SameSite=Lax; HttpOnly"
    /// );
    /// ```
    pub fn header_value(&self, sid: &str) -> String {
        let mut value = format!("{}={sid}", self.name);
        if let Some(path) = &self.path {
            let _ = write!(value, "; Path={path}");
        }
        if let Some(same_site) = self.same_site {
            let name = match same_site {
                SameSite::Strict => "Strict",
                SameSite::Lax => "Lax",
                SameSite::None => "None",
            };
            let _ = write!(value, "; SameSite={name}");
        }
        if self.secure {
            value.push_str("; Secure");
        }
        if self.http_only {
            value.push_str("; HttpOnly");
        }
        if let Some(max_age) = self.max_age {
            let _ = write!(value, "; Max-Age={}", max_age.as_secs());
        }
        if let Some(domain) = &self.domain {
            let _ = write!(value, "; Domain={domain}");
        }
        value
    }
}
