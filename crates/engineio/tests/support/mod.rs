//! Shared helpers for the integration tests: real peer processes on
//! 127.0.0.1, and hang guards.
//!
//! Use from a test file with `mod support;`. The peers are installed by
//! `scripts/install-test-deps.sh`:
//!
//! - Node scripts run from `interop/` (so `require("engine.io")` and
//!   `require("engine.io-client")` resolve to `interop/node_modules`);
//! - Python scripts run with the venv `.test-deps/venv`.
//!
//! A peer script binds `127.0.0.1:0` and prints `LISTENING <port>` on stdout
//! once it accepts connections. [`Peer`] waits for that line, forwards the
//! peer's other output to the test's stderr (shown when a test fails), and
//! kills the process when dropped.
//!
//! Gating: when a peer is not installed, [`Peer::node`] and [`Peer::python`]
//! return `None` after printing a skip note, so the test can return early;
//! with `EIO_INTEROP=require` (as `scripts/test.sh` sets) they panic instead,
//! telling to run `scripts/install-test-deps.sh`.
//!
//! ```ignore
//! mod support;
//! use support::Peer;
//!
//! #[tokio::test]
//! async fn echo() {
//!     let Some(server) = Peer::node("node/eio-server.js", &["--ping-interval", "300"]) else {
//!         return;
//!     };
//!     let url = server.http_url(); // http://127.0.0.1:<port>
//! }
//! ```
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a peer may take to print its `LISTENING` line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// The hang guard of [`within`].
pub const HANG_GUARD: Duration = Duration::from_secs(10);

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `interop/`: the peer scripts and their npm packages.
pub fn interop_dir() -> PathBuf {
    workspace_root().join("interop")
}

/// The Python interpreter of the test venv.
pub fn venv_python() -> PathBuf {
    workspace_root().join(".test-deps/venv/bin/python")
}

/// Whether the npm peers are installed (`interop/node_modules`) and `node` runs.
pub fn node_available() -> bool {
    interop_dir()
        .join("node_modules/engine.io/package.json")
        .is_file()
        && interop_dir()
            .join("node_modules/engine.io-client/package.json")
            .is_file()
        && Command::new("node")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// Whether the Python venv with python-engineio and uvicorn is installed.
pub fn python_available() -> bool {
    Command::new(venv_python())
        .args(["-c", "import engineio, uvicorn"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Returns `available`, or handles a missing peer: panics when
/// `EIO_INTEROP=require`, else prints a skip note and returns `false`.
pub fn require_peer(available: bool, what: &str) -> bool {
    if available {
        return true;
    }
    if std::env::var("EIO_INTEROP").is_ok_and(|v| v == "require") {
        panic!("{what} is not installed and EIO_INTEROP=require: run scripts/install-test-deps.sh");
    }
    eprintln!(
        "skipping: {what} is not installed (run scripts/install-test-deps.sh; set EIO_INTEROP=require to fail instead)"
    );
    false
}

/// A running peer process, killed on drop.
#[derive(Debug)]
pub struct Peer {
    name: String,
    child: Child,
    /// The port from the `LISTENING <port>` line.
    pub port: u16,
}

impl Peer {
    /// Starts `node <script> <args>` in `interop/` (`script` relative to
    /// `interop/`), or returns `None` (after the skip note) when the npm
    /// peers are missing.
    pub fn node(script: &str, args: &[&str]) -> Option<Self> {
        if !require_peer(node_available(), "node with interop/node_modules") {
            return None;
        }
        let mut command = Command::new("node");
        command.arg(script).args(args).current_dir(interop_dir());
        Some(Self::spawn(script, command))
    }

    /// Starts `<venv python> <script> <args>` in `interop/`, or returns
    /// `None` (after the skip note) when the venv is missing.
    pub fn python(script: &str, args: &[&str]) -> Option<Self> {
        if !require_peer(python_available(), "the Python venv .test-deps/venv") {
            return None;
        }
        let mut command = Command::new(venv_python());
        command
            .arg("-u")
            .arg(script)
            .args(args)
            .current_dir(interop_dir());
        Some(Self::spawn(script, command))
    }

    /// Starts any command that prints `LISTENING <port>` on stdout, and
    /// waits for that line.
    ///
    /// # Panics
    ///
    /// When the process cannot start, exits, or prints no `LISTENING` line
    /// within 20 s.
    pub fn spawn(name: &str, mut command: Command) -> Self {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start peer {name}: {err}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        let label = name.to_owned();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = line
                    .strip_prefix("LISTENING ")
                    .and_then(|p| p.trim().parse::<u16>().ok())
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(port);
                    continue;
                }
                eprintln!("[{label} stdout] {line}");
            }
        });
        forward(name, stderr);
        let Ok(port) = rx.recv_timeout(STARTUP_TIMEOUT) else {
            let _ = child.kill();
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            panic!("peer {name} printed no LISTENING line ({status})");
        };
        Self {
            name: name.to_owned(),
            child,
            port,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the process now (also done on drop).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
        eprintln!("[{}] stopped", self.name);
    }
}

/// Copies a peer's stream to the test's stderr, line by line.
fn forward(name: &str, stream: impl Read + Send + 'static) {
    let label = name.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            eprintln!("[{label}] {line}");
        }
    });
}

/// Awaits `future`, panicking after [`HANG_GUARD`]: a guard against hangs,
/// never a timing assertion.
pub async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(HANG_GUARD, future)
        .await
        .unwrap_or_else(|_| panic!("hang guard: nothing happened within {HANG_GUARD:?}"))
}

/// A unique scratch directory under the system's temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `<tmp>/<prefix>-<pid>-<n>`.
    pub fn new(prefix: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(feature = "client")]
pub mod client_events;
#[cfg(feature = "server")]
pub mod client_peer;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "server")]
pub mod server;
#[cfg(all(feature = "server", feature = "tls"))]
pub mod tls;
