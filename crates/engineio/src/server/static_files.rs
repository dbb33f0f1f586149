//! Static files with python-engineio's `static_files` rules, made safe.
//!
//! [`StaticFiles`] maps URL paths to files and folders exactly as
//! python-engineio's `static_files` dict does (see its docs, or section 3 of
//! the behaviour notes), and refuses every path traversal: `..` segments
//! (also percent-encoded), backslashes, NUL bytes, and symbolic links that
//! lead out of a mapped folder all resolve to nothing (404).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// One entry of a [`StaticFiles`] map: a file or folder, and an optional
/// content type that overrides the one from the extension.
///
/// # Examples
///
/// ```
/// use engineio::server::StaticEntry;
///
/// let page = StaticEntry::from("latency.html");
/// let feed = StaticEntry::new("feed.xml").content_type("application/rss+xml");
/// # let _ = (page, feed);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticEntry {
    filename: String,
    content_type: Option<String>,
}

impl StaticEntry {
    /// An entry for a file, or for a folder when `filename` ends with `/`.
    pub fn new(filename: impl Into<String>) -> Self {
        Self {
            filename: filename.into(),
            content_type: None,
        }
    }

    /// Serves the entry with this content type.
    #[must_use]
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }
}

impl From<&str> for StaticEntry {
    fn from(filename: &str) -> Self {
        Self::new(filename)
    }
}

impl From<String> for StaticEntry {
    fn from(filename: String) -> Self {
        Self::new(filename)
    }
}

/// What a URL path resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedFile {
    /// The file on disk.
    pub path: PathBuf,
    /// The content type to send.
    pub content_type: String,
}

/// A map from URL paths to files and folders (python-engineio's
/// `static_files`).
///
/// The rules, in order:
/// 1. a key equal to the whole URL path maps to its entry;
/// 2. otherwise the last segments are stripped one by one, trying the
///    remaining `prefix` then `prefix/` as keys; the stripped part is
///    appended to the entry's file name (a folder entry ends with `/`);
/// 3. a file name ending with `/` gets the default file: the `""` key's entry
///    (whose content type, if any, applies), else `index.html`;
/// 4. the content type is the entry's, else from the extension (`css`, `gif`,
///    `html`, `jpg`, `js`, `json`, `png`, `txt`, and a few more), else
///    `application/octet-stream`.
///
/// # Examples
///
/// ```
/// use engineio::server::StaticFiles;
///
/// let files = StaticFiles::new()
///     .entry("/", "latency.html")
///     .entry("/static", "public/");
/// let page = files.resolve("/").unwrap();
/// assert_eq!(page.path.to_str(), Some("latency.html"));
/// assert_eq!(page.content_type, "text/html");
/// let script = files.resolve("/static/js/app.js").unwrap();
/// assert_eq!(script.path.to_str(), Some("public/js/app.js"));
/// assert!(files.resolve("/static/../secret.txt").is_none());
/// // Like python-engineio, the "/" key is also the folder prefix of every
/// // top-level path, so only the disk check (`locate`) says "no such file".
/// assert_eq!(files.resolve("/nothing-here").unwrap().path.to_str(), Some("latency.htmlnothing-here"));
/// assert!(StaticFiles::new().entry("/static", "public/").resolve("/nothing-here").is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticFiles {
    entries: BTreeMap<String, StaticEntry>,
}

impl StaticFiles {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an entry for a URL path (or prefix); the key `""` sets the
    /// default file of folders.
    #[must_use]
    pub fn entry(mut self, url_path: impl Into<String>, entry: impl Into<StaticEntry>) -> Self {
        self.entries.insert(url_path.into(), entry.into());
        self
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The file for a URL path (still percent-encoded, as in the request),
    /// or `None`. Does not look at the disk; see [`StaticFiles::locate`].
    pub fn resolve(&self, url_path: &str) -> Option<ResolvedFile> {
        let decoded = percent_encoding::percent_decode_str(url_path)
            .decode_utf8()
            .ok()?;
        if decoded.contains('\0') || decoded.contains('\\') {
            return None;
        }
        let path: &str = &decoded;
        let (entry, mut extra) = match self.entries.get(path) {
            Some(entry) => (entry.clone(), String::new()),
            None => self.by_prefix(path)?,
        };
        if !extra.is_empty() && !is_safe_relative(&extra) {
            return None;
        }
        let mut filename = entry.filename.clone();
        if filename.ends_with('/') && extra.starts_with('/') {
            extra.remove(0);
        }
        filename.push_str(&extra);
        let mut content_type = entry.content_type;
        if filename.ends_with('/') {
            match self.entries.get("") {
                Some(default) => {
                    filename.push_str(&default.filename);
                    if default.content_type.is_some() {
                        content_type.clone_from(&default.content_type);
                    }
                }
                None => filename.push_str("index.html"),
            }
        }
        let content_type = content_type.unwrap_or_else(|| content_type_for(&filename).to_owned());
        Some(ResolvedFile {
            path: PathBuf::from(filename),
            content_type,
        })
    }

    /// Rule 2: strips segments until a prefix is a key.
    fn by_prefix(&self, path: &str) -> Option<(StaticEntry, String)> {
        let mut prefix = path;
        let mut extra = String::new();
        while let Some((head, last)) = prefix.rsplit_once('/') {
            extra = format!("/{last}{extra}");
            prefix = head;
            if let Some(entry) = self.entries.get(prefix) {
                return Some((entry.clone(), extra));
            }
            if let Some(entry) = self.entries.get(&format!("{prefix}/")) {
                extra.remove(0);
                return Some((entry.clone(), extra));
            }
        }
        None
    }

    /// Resolves a URL path and checks the file on disk: it must be a regular
    /// file, and when it was reached through a folder entry, its real path
    /// (symbolic links followed) must stay inside that folder.
    pub async fn locate(&self, url_path: &str) -> Option<ResolvedFile> {
        let resolved = self.resolve(url_path)?;
        let real = tokio::fs::canonicalize(&resolved.path).await.ok()?;
        if !tokio::fs::metadata(&real).await.ok()?.is_file() {
            return None;
        }
        // Every folder entry that is a prefix of the path must contain it.
        for entry in self.entries.values() {
            if !entry.filename.ends_with('/') {
                continue;
            }
            let folder = Path::new(&entry.filename);
            if resolved.path.starts_with(folder) {
                let real_folder = tokio::fs::canonicalize(folder).await.ok()?;
                if !real.starts_with(&real_folder) {
                    return None;
                }
            }
        }
        Some(resolved)
    }
}

/// Whether a URL remainder stays below its folder: no `..`, no root, no
/// drive prefix.
fn is_safe_relative(extra: &str) -> bool {
    Path::new(extra.trim_start_matches('/'))
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        && !extra.split('/').any(|segment| segment == "..")
}

/// The content type for a file name's extension.
fn content_type_for(filename: &str) -> &'static str {
    let extension = filename.rsplit('.').next().unwrap_or("");
    match extension {
        "css" => "text/css",
        "gif" => "image/gif",
        "html" => "text/html",
        "jpg" | "jpeg" => "image/jpeg",
        "js" | "mjs" => "application/javascript",
        "json" => "application/json",
        "png" => "image/png",
        "txt" => "text/plain",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "map" => "application/json",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> StaticFiles {
        StaticFiles::new()
            .entry("/", "index.html")
            .entry("/foo", "foo.html")
            .entry(
                "/bar",
                StaticEntry::new("bar.txt").content_type("text/x-bar"),
            )
            .entry("/static", "www/static/")
            .entry("/assets/", "www/assets/")
            .entry("/raw", "www/raw")
    }

    fn resolve(files: &StaticFiles, path: &str) -> Option<(String, String)> {
        files
            .resolve(path)
            .map(|r| (r.path.to_string_lossy().into_owned(), r.content_type))
    }

    #[test]
    fn python_engineio_rules_table() {
        let f = files();
        let some = |p: &str, t: &str| Some((p.to_owned(), t.to_owned()));
        let cases: &[(&str, Option<(String, String)>)] = &[
            // 1. exact keys
            ("/", some("index.html", "text/html")),
            ("/foo", some("foo.html", "text/html")),
            ("/bar", some("bar.txt", "text/x-bar")),
            // 2. prefixes: `prefix` keys and `prefix/` keys
            (
                "/static/app.js",
                some("www/static/app.js", "application/javascript"),
            ),
            (
                "/static/css/site.css",
                some("www/static/css/site.css", "text/css"),
            ),
            ("/assets/logo.png", some("www/assets/logo.png", "image/png")),
            (
                "/raw/data.json",
                some("www/raw/data.json", "application/json"),
            ),
            // 3. folders get the default file
            ("/static/", some("www/static/index.html", "text/html")),
            (
                "/static/sub/",
                some("www/static/sub/index.html", "text/html"),
            ),
            // 4. unknown extensions
            (
                "/static/blob.bin",
                some("www/static/blob.bin", "application/octet-stream"),
            ),
            (
                "/static/noext",
                some("www/static/noext", "application/octet-stream"),
            ),
            // python-engineio's quirk: the "/" key is also the `prefix/` of
            // every top-level path; no such file exists on disk, so `locate`
            // finds nothing and the request goes on to the inner service.
            ("/nope", some("index.htmlnope", "application/octet-stream")),
            ("/foo/bar", some("foo.html/bar", "application/octet-stream")),
        ];
        for (path, expected) in cases {
            assert_eq!(&resolve(&f, path), expected, "{path}");
        }
    }

    #[test]
    fn default_file_key_and_its_content_type() {
        let f = StaticFiles::new().entry("/docs", "site/").entry(
            "",
            StaticEntry::new("main.htm").content_type("text/html; charset=utf-8"),
        );
        assert_eq!(
            resolve(&f, "/docs/"),
            Some(("site/main.htm".into(), "text/html; charset=utf-8".into()))
        );
    }

    #[test]
    fn traversal_attempts_resolve_to_nothing() {
        let f = files();
        for path in [
            "/static/../secret.txt",
            "/static/../../etc/passwd",
            "/static/a/../../b",
            "/static/%2e%2e/secret.txt",
            "/static/%2E%2E/%2e%2e/etc/passwd",
            "/static/..%2fsecret.txt",
            "/static/..\\secret.txt",
            "/static/%5c..%5csecret.txt",
            "/static/%00.js",
            "/static/%ff",
        ] {
            let resolved = resolve(&f, path);
            assert!(
                resolved
                    .as_ref()
                    .is_none_or(|(p, _)| !p.contains("..") && !p.contains("//")),
                "{path} resolved to {resolved:?}"
            );
        }
        assert_eq!(resolve(&f, "/static/../secret.txt"), None);
        assert_eq!(resolve(&f, "/static/%2e%2e/secret.txt"), None);
    }
}
