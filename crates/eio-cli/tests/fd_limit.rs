//! Running out of file descriptors: `eio serve` under a low open-file limit
//! (`prlimit`), flooded with idle TCP connections. Accepting fails with
//! EMFILE; the server backs off instead of spinning, keeps serving the
//! session it has, and accepts new clients once descriptors free up.

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use engineio::Transport;
use engineio::client::{Event, blocking::Client};
use support::Serve;

/// CPU seconds a process has used (user + system).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// A polling handshake over a fresh connection: the status line.
fn handshake_status(addr: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer.lines().next().unwrap_or_default().to_owned())
}

#[test]
fn out_of_file_descriptors_backs_off_keeps_sessions_and_recovers() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        assert!(
            std::env::var("EIO_INTEROP").as_deref() != Ok("require"),
            "prlimit (util-linux) is missing"
        );
        eprintln!("skipping: prlimit (util-linux) is missing");
        return;
    }
    let serve = Serve::under(&["prlimit", "--nofile=48:48"], &[]);
    let (url, addr) = (serve.url.clone(), serve.addr().to_owned());

    // A session opened before the flood.
    let client = Client::builder()
        .transports([Transport::WebSocket])
        .build_blocking()
        .unwrap();
    client.connect(&url).unwrap();

    // Idle connections, more than the process may hold: the server accepts
    // what it can, the rest wait in the listen backlog.
    let hogs: Vec<TcpStream> = (0..80)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));

    // No busy loop while accepting fails.
    let before = cpu_seconds(serve.child.id());
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu_seconds(serve.child.id()) - before;
    assert!(
        spent < 0.3,
        "the server spent {spent} s of CPU in 1 s while out of descriptors"
    );

    // The session it has still works.
    client.send("still here").unwrap();
    let echo = loop {
        match client.recv_timeout(Duration::from_secs(10)).unwrap() {
            Event::Message(message) => break message,
            _ => continue,
        }
    };
    assert_eq!(echo, engineio::Message::from("still here"));

    // Descriptors free up: new clients are served again.
    drop(hogs);
    let status = (0..50)
        .find_map(|_| match handshake_status(&addr) {
            Ok(line) if line.starts_with("HTTP/1.1 200") => Some(line),
            _ => {
                std::thread::sleep(Duration::from_millis(100));
                None
            }
        })
        .expect("no new handshake succeeded after the descriptors were freed");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");

    client.disconnect();
}
