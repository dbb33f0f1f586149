//! The load balancers of `deploy/` as the CLI tests run them: Debian's
//! haproxy and nginx found where Debian puts them, started as the test's
//! user in front of `eio serve` nodes with a shipped configuration whose
//! addresses are replaced by free ports, waited for until they forward
//! `/health`, their log kept, killed on drop. Used by `balancers.rs` and
//! `redis_bridge.rs`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Scratch, Serve, unused_port};

/// `name` on the `PATH`, or in the `sbin` directories where Debian puts
/// haproxy and nginx (outside a normal user's `PATH`).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A shipped configuration with its addresses replaced: the balancer's
/// `127.0.0.1:8080` by `127.0.0.1:<balancer>`, the nodes'
/// `127.0.0.1:5001`-`5003` by theirs.
pub fn render(template: &str, balancer: u16, nodes: &[Serve]) -> String {
    // Placeholders first, so that a new port never matches an old address.
    let mut shipped = vec![("127.0.0.1:8080".to_owned(), format!("127.0.0.1:{balancer}"))];
    for (i, node) in nodes.iter().enumerate() {
        shipped.push((format!("127.0.0.1:{}", 5001 + i), node.addr().to_owned()));
    }
    let mut text = template.to_owned();
    for (i, (address, _)) in shipped.iter().enumerate() {
        assert!(
            text.contains(address.as_str()),
            "the template lost {address}"
        );
        text = text.replace(address.as_str(), &format!("@@ADDRESS{i}@@"));
    }
    for (i, (_, address)) in shipped.iter().enumerate() {
        text = text.replace(&format!("@@ADDRESS{i}@@"), address);
    }
    text
}

/// Which balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    HaProxy,
    Nginx,
}

/// A running balancer; killed on drop.
pub struct Balancer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    log: Arc<Mutex<String>>,
    _dir: Scratch,
}

impl Balancer {
    /// Starts `program` with `config` (a shipped file, rendered) in front
    /// of `nodes`, and waits until it forwards `/health` to a node.
    pub fn start(kind: Kind, program: &Path, config: &str, nodes: &[Serve]) -> Self {
        let dir = Scratch::new();
        let port = unused_port();
        let file = dir.0.join("balancer.conf");
        std::fs::write(&file, render(config, port, nodes)).unwrap();
        let mut command = Command::new(program);
        match kind {
            Kind::HaProxy => {
                command.arg("-db").arg("-f").arg(&file);
            }
            Kind::Nginx => {
                command
                    .arg("-p")
                    .arg(format!("{}/", dir.0.display()))
                    .args(["-e", "stderr", "-c"])
                    .arg(&file)
                    // One process, so that killing it leaves no worker.
                    .args(["-g", "daemon off; master_process off;"]);
            }
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", program.display()));
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut balancer = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        balancer.wait_ready(port);
        balancer
    }

    fn wait_ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the balancer exited with {status}:\n{}", self.log());
            }
            if http_status(port, "/health") == Some(200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the balancer did not forward /health within 15 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status of one `GET path` to 127.0.0.1:`port`, if it answered.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.split_whitespace().nth(1)?.parse().ok()
}
