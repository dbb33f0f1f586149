//! The server's protocol decisions, free of I/O.
//!
//! - [`route`] says what an HTTP request to the engine.io path is, or which
//!   error to answer with;
//! - [`Session`] is one session's state machine: queue, heartbeat, polls,
//!   upgrade, inbox and close; it reports what the runtime must do as
//!   [`Events`].

mod client_packet;
mod request;
mod session;
mod wire;

pub use client_packet::decode_client_packet;
pub use request::{
    ErrorCode, ErrorResponse, HttpError, Route, RouteOptions, Routed, route, route_request,
    wants_base64,
};
pub use session::{
    CLOSE_MESSAGE_TOO_BIG, Closed, Dispatch, Events, RequestError, SendError, Session,
    SessionConfig, WsEnd, WsFinish, WsId, WsTransmit,
};
pub use wire::{Protocol, Wire};
