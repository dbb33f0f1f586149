//! Static files over real TCP: python-engineio's matching rules on real
//! files, every traversal attempt refused, HEAD, caching headers, streaming
//! of large files, and the routing precedence (engine.io, static, inner, 404).

use std::path::PathBuf;

use engineio::server::{NotFound, ServeStatic, Server, StaticEntry, StaticFiles};
use tower_layer::Layer as _;

/// A fresh folder under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("eio-static-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn write(&self, relative: &str, contents: &[u8]) {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    fn path(&self, relative: &str) -> String {
        self.0.join(relative).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Serves engine.io + static files + NotFound on 127.0.0.1; returns the base URL.
async fn serve(files: StaticFiles) -> String {
    let engine = Server::builder().build();
    let service = engine.layer().layer(ServeStatic::new(files, NotFound));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { engine.serve_with(listener, service).await });
    format!("http://{addr}")
}

/// GET over a raw TCP connection, so paths like `/a/../b` reach the server unnormalised.
async fn raw_get(base: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status: u16 = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

#[tokio::test]
async fn rules_table_on_real_files() {
    let dir = TempDir::new("rules");
    dir.write("index.html", b"<h1>home</h1>");
    dir.write("public/app.js", b"console.log(1)");
    dir.write("public/index.html", b"public index");
    dir.write("public/sub/data.json", b"{}");
    dir.write("public/blob.bin", b"\x00\x01");
    dir.write("docs/main.htm", b"docs main");
    dir.write("feed.xml", b"<rss/>");
    let files = StaticFiles::new()
        .entry("/", dir.path("index.html"))
        .entry("/static", format!("{}/", dir.path("public")))
        .entry(
            "/feed",
            StaticEntry::new(dir.path("feed.xml")).content_type("application/rss+xml"),
        );
    let base = serve(files).await;
    let cases: &[(&str, u16, &str, &str)] = &[
        ("/", 200, "text/html", "<h1>home</h1>"),
        (
            "/static/app.js",
            200,
            "application/javascript",
            "console.log(1)",
        ),
        ("/static/", 200, "text/html", "public index"),
        ("/static/sub/data.json", 200, "application/json", "{}"),
        (
            "/static/blob.bin",
            200,
            "application/octet-stream",
            "\u{0}\u{1}",
        ),
        ("/feed", 200, "application/rss+xml", "<rss/>"),
        ("/static/missing.js", 404, "text/plain", "Not Found"),
        ("/elsewhere", 404, "text/plain", "Not Found"),
    ];
    for (path, status, content_type, body) in cases {
        let response = http().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), *status, "{path}");
        assert_eq!(response.headers()["content-type"], *content_type, "{path}");
        assert_eq!(response.text().await.unwrap(), *body, "{path}");
    }

    // The "" key sets the default file of folders.
    let files = StaticFiles::new()
        .entry("/docs", format!("{}/", dir.path("docs")))
        .entry("", "main.htm");
    let base = serve(files).await;
    let response = http().get(format!("{base}/docs/")).send().await.unwrap();
    assert_eq!(response.text().await.unwrap(), "docs main");
}

#[tokio::test]
async fn traversal_attempts_get_404() {
    let dir = TempDir::new("traversal");
    dir.write("public/ok.txt", b"ok");
    dir.write("secret.txt", b"top secret");
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path("secret.txt"), dir.path("public/link.txt")).unwrap();
    let files = StaticFiles::new().entry("/static", format!("{}/", dir.path("public")));
    let base = serve(files).await;
    assert_eq!(
        raw_get(&base, "/static/ok.txt").await,
        (200, "ok".to_owned())
    );
    for path in [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/..\\secret.txt",
        "/static/sub/../../secret.txt",
        "/static/link.txt",
    ] {
        let (status, body) = raw_get(&base, path).await;
        assert!(status == 404 || status == 400, "{path}: {status}");
        assert!(!body.contains("top secret"), "{path} leaked the file");
    }
    // An absolute path in the URL stays under the folder.
    let (status, body) = raw_get(&base, &format!("/static/{}", dir.path("secret.txt"))).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn head_etag_last_modified_and_streaming() {
    let dir = TempDir::new("cache");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    dir.write("big.bin", &big);
    let files = StaticFiles::new().entry("/big", dir.path("big.bin"));
    let base = serve(files).await;

    let head = http().head(format!("{base}/big")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], "3000000");
    let etag = head.headers()["etag"].to_str().unwrap().to_owned();
    let last_modified = head.headers()["last-modified"].to_str().unwrap().to_owned();

    let full = http().get(format!("{base}/big")).send().await.unwrap();
    assert_eq!(full.bytes().await.unwrap().to_vec(), big);

    let cached = http()
        .get(format!("{base}/big"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    let cached = http()
        .get(format!("{base}/big"))
        .header("if-modified-since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    let stale = http()
        .get(format!("{base}/big"))
        .header("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
}

#[tokio::test]
async fn engine_path_comes_before_static_files() {
    let dir = TempDir::new("precedence");
    dir.write("engine.html", b"shadowed");
    let files = StaticFiles::new().entry("/engine.io/", dir.path("engine.html"));
    let base = serve(files).await;
    let body = http()
        .get(format!("{base}/engine.io/?EIO=4&transport=polling"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.starts_with("0{"), "{body}");
}
