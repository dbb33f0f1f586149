//! `eio`: the Engine.IO command-line tool.
//!
//! Run `eio --help` for the commands. `serve`, `connect` and `bench` arrive
//! with the server and client crates.

use clap::Parser;

/// Engine.IO v4 from the command line.
#[derive(Debug, Parser)]
#[command(name = "eio", version, about, long_about = None)]
struct Cli {}

fn main() {
    let Cli {} = Cli::parse();
    println!(
        "eio {}: Engine.IO protocol v{}. Run `eio --help` for usage.",
        env!("CARGO_PKG_VERSION"),
        engineio_proto::PROTOCOL_VERSION
    );
}
