//! Spawning and supervising the official clients' scripts of
//! `interop/server/` against our server: `node_client.js` (npm
//! engine.io-client) and `py_client.py` (python-engineio), each printing its
//! events as JSON lines.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

/// The hard limit on one peer process's life.
const HANG_GUARD: Duration = Duration::from_secs(20);

/// Which official client runs the script.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `node interop/server/node_client.js` (engine.io-client).
    Node,
    /// `.test-deps/venv/bin/python interop/server/py_client.py`
    /// (python-engineio).
    Python,
    /// `node interop/server/sio2_client.js` (socket.io-client 2.5, Engine.IO
    /// v3), against a server that sends the Socket.IO CONNECT on open.
    SocketIoV2,
}

/// The workspace root (two levels above this crate).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn node_client_module() -> PathBuf {
    root().join("interop/node_modules/engine.io-client")
}

fn venv_python() -> PathBuf {
    root().join(".test-deps/venv/bin/python")
}

/// Whether both peers are installed. When they are not: panics if
/// `EIO_INTEROP=require`, else prints a skip note and returns false (the
/// calling test then returns early and passes).
pub fn available(test: &str) -> bool {
    let missing: Vec<String> = [node_client_module(), venv_python()]
        .into_iter()
        .filter(|path| !path.exists())
        .map(|path| path.display().to_string())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("EIO_INTEROP").as_deref() == Ok("require") {
        panic!(
            "peers missing: run scripts/install-test-deps.sh (not found: {})",
            missing.join(", ")
        );
    }
    eprintln!(
        "skipping {test}: interop peers not installed ({}); run scripts/install-test-deps.sh",
        missing.join(", ")
    );
    false
}

/// A running peer script. Dropping it kills the process.
#[derive(Debug)]
pub struct Peer {
    label: String,
    child: Child,
    stdout: JoinHandle<Vec<String>>,
    stderr: JoinHandle<String>,
}

/// What a finished peer printed.
#[derive(Debug)]
pub struct Output {
    /// The events, one JSON object per stdout line, in order.
    pub events: Vec<Value>,
    /// Its stderr, for failure messages.
    pub stderr: String,
}

impl Output {
    /// The events and stderr, for assertion messages.
    pub fn dump(&self) -> String {
        let events: Vec<String> = self.events.iter().map(Value::to_string).collect();
        format!(
            "events:\n  {}\nstderr:\n{}",
            events.join("\n  "),
            self.stderr
        )
    }
}

/// Starts `kind`'s script with the server URL and options as argv.
pub fn spawn(kind: Kind, url: &str, options: &Value) -> Peer {
    let scripts = root().join("interop/server");
    let mut command = match kind {
        Kind::Node => {
            let mut command = Command::new("node");
            command.arg(scripts.join("node_client.js"));
            command
        }
        Kind::Python => {
            let mut command = Command::new(venv_python());
            command.arg(scripts.join("py_client.py"));
            command
        }
        Kind::SocketIoV2 => {
            let mut command = Command::new("node");
            command.arg(scripts.join("sio2_client.js"));
            command
        }
    };
    command
        .arg(url)
        .arg(options.to_string())
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let label = format!("{kind:?} peer {options}");
    let mut child = command
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start the {label}: {err}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let stdout = tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        let mut all = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push(line);
        }
        all
    });
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut text).await;
        text
    });
    Peer {
        label,
        child,
        stdout,
        stderr,
    }
}

impl Peer {
    /// Waits for the script to exit (killing it after the hang guard) and
    /// returns its events. Panics on a hang, a failure exit or a stdout
    /// line that is not JSON, showing what it printed.
    pub async fn finish(mut self) -> Output {
        let status: Option<ExitStatus> =
            match tokio::time::timeout(HANG_GUARD, self.child.wait()).await {
                Ok(status) => Some(status.expect("waiting for the peer")),
                Err(_) => {
                    let _ = self.child.kill().await;
                    None
                }
            };
        let lines = self.stdout.await.expect("stdout reader");
        let stderr = self.stderr.await.expect("stderr reader");
        let events = lines
            .iter()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|_| {
                    panic!(
                        "the {} printed a non-JSON line {line:?}\nstderr:\n{stderr}",
                        self.label
                    )
                })
            })
            .collect();
        let output = Output { events, stderr };
        match status {
            None => panic!(
                "the {} hung for {HANG_GUARD:?} and was killed\n{}",
                self.label,
                output.dump()
            ),
            Some(status) if !status.success() => {
                panic!("the {} exited with {status}\n{}", self.label, output.dump())
            }
            Some(_) => output,
        }
    }
}
