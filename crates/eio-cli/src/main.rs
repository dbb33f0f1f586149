//! `eio`: the Engine.IO command-line tool.
//!
//! - `eio serve`: an echo server;
//! - `eio connect URL`: a client that sends and prints messages;
//! - `eio bench MODE URL`: benchmarks against any server (echo over either
//!   transport, idle sessions, handshakes, broadcasts);
//! - `eio emit --redis URL`: a message or a disconnect for the sessions
//!   of `eio serve --redis` nodes, from outside;
//! - `eio soak MODE URL`: load and fault runs (abandoned sessions, numbered
//!   traffic, idle sessions held) with figures;
//! - `eio --help` lists every command and option.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jemalloc, with its background thread, hands the memory of a burst of
/// sessions back to the system seconds after they end; glibc's allocator
/// keeps most of it (`eio soak abandon` measures it; see the README).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod bench;
mod connect;
mod emit;
mod process;
mod report;
mod serve;
mod soak;
mod wire;

/// Engine.IO v4 from the command line.
#[derive(Debug, Parser)]
#[command(name = "eio", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an echo server: every message goes back to its sender.
    Serve(serve::ServeArgs),
    /// Connect to a server, send messages, print what arrives.
    Connect(connect::ConnectArgs),
    /// Benchmark any Engine.IO server: echo over WebSocket or polling, idle
    /// sessions held, handshakes, broadcasts.
    Bench(bench::BenchArgs),
    /// Load and fault runs: abandoned sessions, numbered traffic, idle
    /// sessions held.
    Soak(soak::SoakArgs),
    /// Send a message to one session or all sessions of `eio serve --redis`
    /// nodes, or close a session, through their Redis.
    Emit(emit::EmitArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let command = match cli.command {
        Command::Connect(args) => return connect::run(args),
        Command::Bench(args) => return finish(bench::run(args)),
        command => command,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("eio: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        Command::Serve(args) => runtime.block_on(serve::run(args)),
        Command::Soak(args) => runtime.block_on(soak::run(args)),
        Command::Emit(args) => runtime.block_on(emit::run(args)),
        Command::Connect(_) | Command::Bench(_) => Ok(()),
    };
    finish(result)
}

/// The exit code of a command's result, with its error on standard error.
fn finish(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("eio: {message}");
            ExitCode::FAILURE
        }
    }
}
