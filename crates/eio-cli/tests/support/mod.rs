//! `eio serve` as the CLI's integration tests run it: on 127.0.0.1 with an
//! ephemeral port, its URL read from the banner, its standard output and
//! error read line by line, killed when dropped.
#![allow(dead_code, unreachable_pub)]

pub mod balancer;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The `eio` binary under test.
pub const EIO: &str = env!("CARGO_BIN_EXE_eio");

/// A running `eio serve`; killed on drop.
pub struct Serve {
    pub child: Child,
    /// `http://127.0.0.1:PORT` (`https://` with `--tls-cert`), without the
    /// Engine.IO path.
    pub url: String,
    lines: mpsc::Receiver<String>,
    errors: mpsc::Receiver<String>,
    /// Standard error lines read so far.
    seen_errors: Vec<String>,
}

impl Serve {
    /// Runs `eio serve --port 0 ARGS`.
    pub fn start(args: &[&str]) -> Self {
        Self::under(&[], args)
    }

    /// Runs `eio serve --port 0 ARGS` through `wrapper` (a command and its
    /// arguments, e.g. `prlimit --nofile=48:48`), if not empty.
    pub fn under(wrapper: &[&str], args: &[&str]) -> Self {
        let mut command = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut command = Command::new(program);
                command.args(rest).arg(EIO);
                command
            }
            None => Command::new(EIO),
        };
        let mut child = command
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = read_lines(child.stdout.take().unwrap());
        let errors = read_lines(child.stderr.take().unwrap());
        let banner = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("no banner from eio serve");
        // "eio echo server on http://127.0.0.1:PORT/engine.io/ (...)"
        let url = banner
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .expect("the banner names the URL")
            .trim_end_matches("/engine.io/")
            .to_owned();
        Self {
            child,
            url,
            lines,
            errors,
            seen_errors: Vec::new(),
        }
    }

    /// The next line the server printed.
    pub fn next_line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(20))
            .expect("eio serve printed nothing")
    }

    /// The lines the server printed that were not read yet, without
    /// waiting.
    pub fn drain_lines(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// Waits up to `timeout` for a line of standard error holding `text`,
    /// and returns it (`None` if none came).
    pub fn stderr_line(&mut self, text: &str, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(line) = self.seen_errors.iter().find(|line| line.contains(text)) {
                return Some(line.clone());
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.errors.recv_timeout(left) {
                Ok(line) => self.seen_errors.push(line),
                Err(_) => return None,
            }
        }
    }

    /// What the server printed on standard error so far.
    pub fn stderr(&mut self) -> String {
        while let Ok(line) = self.errors.try_recv() {
            self.seen_errors.push(line);
        }
        self.seen_errors.join("\n")
    }

    /// `host:port`.
    pub fn addr(&self) -> &str {
        self.url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
    }

    /// The server's process id, as a command-line argument.
    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `stream` line by line on a thread of its own, into a channel.
fn read_lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    lines
}

/// The workspace root.
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A port nothing listens on (bound, then freed).
pub fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scratch directory under the system's temp dir, removed on drop.
pub struct Scratch(pub std::path::PathBuf);

impl Scratch {
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "eio-cli-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        // 0755 under the usual umask: nginx's workers, which drop root's
        // rights when the tests run as root, can reach their temp dirs.
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    /// Writes `text` to `name` in the directory; returns its path.
    pub fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
