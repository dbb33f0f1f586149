//! `eio connect`: a command-line Engine.IO client.
//!
//! Connects, sends each `--send TEXT`, then each line of standard input when
//! it is not a terminal, and prints every message received on its own line
//! (binary messages as lower-case hex). It exits:
//!
//! - 0 after `--count N` messages were received;
//! - without `--count`, 0 once the input has ended and the server has
//!   answered every message sent (as many messages received as sent); when
//!   nothing is sent and standard input is a terminal, it runs until the
//!   server closes the session (0) or the connection is lost (1);
//! - 1 with a message on stderr when the connection fails, is rejected, or
//!   is lost.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use engineio::client::{Client, DisconnectReason, Event};
use engineio::{Message, PerMessageDeflate, Transport};

/// The arguments of `eio connect`.
#[derive(Debug, Args)]
pub(crate) struct ConnectArgs {
    /// The server URL: http://, https://, ws:// or wss:// (the Engine.IO path is appended).
    url: String,
    /// Which transports to use: polling then upgrade (auto), or only one.
    #[arg(long, value_enum, default_value_t = TransportChoice::Auto)]
    transport: TransportChoice,
    /// An extra header for every request, as NAME:VALUE (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME:VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// A text message to send after connecting (repeatable, sent in order).
    #[arg(long = "send", value_name = "TEXT")]
    send: Vec<String>,
    /// Exit after receiving this many messages.
    #[arg(long, value_name = "N")]
    count: Option<usize>,
    /// The Engine.IO path, appended to the URL's path.
    #[arg(long, default_value = "engine.io")]
    path: String,
    /// Trust the certificates of this PEM file (for self-signed servers).
    #[arg(long, value_name = "PEM")]
    ca: Option<PathBuf>,
    /// Accept any TLS certificate (dangerous: for tests only).
    #[arg(long)]
    insecure: bool,
    /// Offer permessage-deflate on the WebSocket (Node's defaults: messages
    /// of 1024 bytes or more go compressed when the server agrees).
    #[arg(long)]
    per_message_deflate: bool,
}

/// The `--transport` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TransportChoice {
    /// Long-polling, upgraded to WebSocket when the server offers it.
    Auto,
    /// Long-polling only.
    Polling,
    /// WebSocket only.
    Websocket,
}

impl TransportChoice {
    pub(crate) fn transports(self) -> Vec<Transport> {
        match self {
            Self::Auto => vec![Transport::Polling, Transport::WebSocket],
            Self::Polling => vec![Transport::Polling],
            Self::Websocket => vec![Transport::WebSocket],
        }
    }
}

/// Parses `NAME:VALUE` (spaces around the value are trimmed).
fn parse_header(input: &str) -> Result<(String, String), String> {
    match input.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(format!("expected NAME:VALUE, got {input:?}")),
    }
}

/// A message as one output line: text as is, binary as lower-case hex.
fn render(message: &Message) -> String {
    match message {
        Message::Text(text) => text.clone(),
        Message::Binary(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// Runs `eio connect`.
pub(crate) fn run(args: ConnectArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("eio connect: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(connect(args))
}

/// Where the exchange stands, to decide when to stop.
#[derive(Debug, Default)]
struct Progress {
    sent: usize,
    received: usize,
    input_done: bool,
}

impl Progress {
    /// Whether the work is done: `count` messages received, or (without a
    /// count) the input ended and every message sent was answered.
    fn done(&self, count: Option<usize>, interactive: bool) -> bool {
        match count {
            Some(count) => self.received >= count,
            None => !interactive && self.input_done && self.received >= self.sent,
        }
    }
}

async fn connect(args: ConnectArgs) -> ExitCode {
    let mut config = Client::builder()
        .transports(args.transport.transports())
        .path(args.path.clone());
    if args.per_message_deflate {
        config = config.per_message_deflate(Some(PerMessageDeflate::default()));
    }
    for (name, value) in &args.headers {
        config = config.header(name, value);
    }
    if let Some(ca) = &args.ca {
        match std::fs::read(ca) {
            Ok(pem) => config = config.add_root_certificate_pem(pem),
            Err(err) => {
                eprintln!("eio connect: cannot read {}: {err}", ca.display());
                return ExitCode::FAILURE;
            }
        }
    }
    if args.insecure {
        config = config.danger_accept_invalid_certs(true);
    }
    let client = match config.build() {
        Ok(client) => client,
        Err(err) => {
            eprintln!("eio connect: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = client.connect(&args.url).await {
        eprintln!("eio connect: cannot connect to {}: {err}", args.url);
        return ExitCode::FAILURE;
    }

    let mut progress = Progress::default();
    for text in &args.send {
        if client.send(text.as_str()).is_ok() {
            progress.sent += 1;
        }
    }
    let stdin_is_terminal = std::io::stdin().is_terminal();
    // Nothing to send and a human at the keyboard: run until the server ends it.
    let interactive = stdin_is_terminal && args.send.is_empty();
    let mut lines = if stdin_is_terminal {
        progress.input_done = true;
        None
    } else {
        Some(read_stdin_lines())
    };

    let mut stdout = std::io::stdout();
    loop {
        if progress.done(args.count, interactive) {
            client.disconnect().await;
            return ExitCode::SUCCESS;
        }
        let line = async {
            match lines.as_mut() {
                Some(lines) => lines.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            line = line => match line {
                Some(line) => {
                    if client.send(line).is_ok() {
                        progress.sent += 1;
                    }
                }
                None => {
                    lines = None;
                    progress.input_done = true;
                }
            },
            event = client.recv() => match event {
                Some(Event::Message(message)) => {
                    let _ = writeln!(stdout, "{}", render(&message));
                    let _ = stdout.flush();
                    progress.received += 1;
                }
                Some(Event::Disconnect(reason)) => {
                    eprintln!("eio connect: disconnected: {reason}");
                    return if reason == DisconnectReason::ServerDisconnect {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    };
                }
                Some(_) => {}
                None => return ExitCode::FAILURE,
            },
        }
    }
}

/// Reads standard input line by line on a thread (reading stdin cannot be
/// cancelled, so it stays off the runtime).
fn read_stdin_lines() -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse() {
        assert_eq!(
            parse_header("X-Token: abc"),
            Ok(("X-Token".into(), "abc".into()))
        );
        assert_eq!(parse_header("A:b:c"), Ok(("A".into(), "b:c".into())));
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(":value").is_err());
    }

    #[test]
    fn binary_renders_as_hex() {
        assert_eq!(render(&Message::from(vec![0u8, 15, 255])), "000fff");
        assert_eq!(render(&Message::from("héllo")), "héllo");
    }

    #[test]
    fn stop_rules() {
        let p = Progress {
            sent: 2,
            received: 1,
            input_done: true,
        };
        assert!(!p.done(None, false));
        assert!(p.done(Some(1), false));
        let p = Progress {
            sent: 2,
            received: 2,
            input_done: false,
        };
        assert!(!p.done(None, false), "input still open");
        let p = Progress {
            sent: 0,
            received: 5,
            input_done: true,
        };
        assert!(
            !p.done(None, true),
            "interactive runs until the server closes"
        );
        assert!(p.done(None, false));
    }

    #[test]
    fn arguments_parse() {
        #[derive(Debug, clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: ConnectArgs,
        }
        let cli = <Cli as clap::Parser>::try_parse_from([
            "eio",
            "http://h",
            "--transport",
            "websocket",
            "-H",
            "A: 1",
            "--send",
            "x",
            "--send",
            "y",
            "--count",
            "3",
            "--insecure",
        ])
        .unwrap();
        assert_eq!(cli.args.transport, TransportChoice::Websocket);
        assert_eq!(cli.args.headers, [("A".to_owned(), "1".to_owned())]);
        assert_eq!(cli.args.send, ["x", "y"]);
        assert_eq!(cli.args.count, Some(3));
        assert!(cli.args.insecure);
    }
}
