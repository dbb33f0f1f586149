//! `eio soak`: long-running load and fault runs against a server, each
//! bounded in count and time, with figures at the end.
//!
//! - `abandon`: sessions left at every step of the protocol must all be
//!   reaped, and the server's memory must come back to its baseline;
//! - `traffic`: clients on mixed transports exchange numbered messages, each
//!   of which must arrive exactly once and in order;
//! - `hold`: idle WebSocket sessions held open, none dropped, with the
//!   server's memory per session.
//!
//! `scripts/soak.sh` starts `eio serve` and runs all three at full size.

use clap::{Args, Subcommand};

mod abandon;
mod hold;
mod traffic;

/// Options of `eio soak`.
#[derive(Debug, Args)]
pub(crate) struct SoakArgs {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Open sessions and abandon each at one of eight steps (after the
    /// handshake, poll pending, mid-POST, mid-upgrade three ways, mid-frame,
    /// half-open); check that all are reaped and memory comes back.
    Abandon(abandon::AbandonArgs),
    /// Clients on mixed transports exchange numbered messages with an echo
    /// server: each must arrive exactly once and in order.
    Traffic(traffic::TrafficArgs),
    /// Hold idle WebSocket sessions open; none may drop.
    Hold(hold::HoldArgs),
}

/// Runs `eio soak`.
pub(crate) async fn run(args: SoakArgs) -> Result<(), String> {
    match args.mode {
        Mode::Abandon(args) => abandon::run(args).await,
        Mode::Traffic(args) => traffic::run(args).await,
        Mode::Hold(args) => hold::run(args).await,
    }
}
