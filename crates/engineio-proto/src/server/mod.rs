//! The server's protocol decisions, free of I/O.
//!
//! - [`route`] says what an HTTP request to the engine.io path is, or which
//!   error to answer with;
//! - [`Session`] is one session's state machine: queue, heartbeat, polls,
//!   upgrade and close.

mod request;
mod session;

pub use request::{ErrorCode, HttpError, Route, route};
pub use session::{
    Received, RequestError, SendError, Session, SessionConfig, Timeout, UpgradeStep,
};
