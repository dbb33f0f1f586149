//! Opening a session: the `allow_request` hook, the session id (ours or the
//! application's `generate_id`, after the node id if there is one), the
//! connect handler, and the values of the handshake.

use std::net::SocketAddr;
use std::sync::Arc;

use engineio_proto::server::{ErrorCode, HttpError, Session, Wire};
use engineio_proto::{Handshake, NodeId, Sid, Transport};
use http::StatusCode;
use http::request::Parts;

use super::answer::{EngineResponse, error, json_refusal};
use super::connect::ConnectRequest;
use super::engine::{NotOpened, Server};
use super::handle::{SessionHandle, Unanswered};

/// The handshake request as the handlers see it.
pub(crate) fn connect_request(req: &Parts, transport: Transport) -> ConnectRequest {
    let peer_addr = req
        .extensions
        .get::<PeerAddr>()
        .map(|peer| peer.0)
        .or_else(|| req.extensions.get::<SocketAddr>().copied());
    ConnectRequest {
        method: req.method.clone(),
        uri: req.uri.clone(),
        headers: req.headers.clone(),
        peer_addr,
        transport,
    }
}

/// The peer address [`Server::serve_with`](super::Server::serve_with)
/// stores in each request's extensions, for the connect handler and for
/// the inner services behind the engine.io path.
///
/// # Examples
///
/// ```
/// use engineio::server::PeerAddr;
///
/// let request = http::Request::new(());
/// let peer = request.extensions().get::<PeerAddr>().map(|peer| peer.0);
/// assert!(peer.is_none()); // only requests from our listener carry one
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// Opens a session for a handshake: runs the `allow_request` hook and the
/// connect handler. On refusal, the answer to send instead.
pub(crate) async fn open_session(
    server: &Server,
    req: &Parts,
    transport: Transport,
    wire: Wire,
) -> Result<(Arc<SessionHandle>, Handshake), EngineResponse> {
    let request = connect_request(req, transport);
    if *server.inner.shutdown.borrow() {
        // A handshake on a connection accepted before the shutdown.
        return Err(error(
            &HttpError::shutting_down(),
            transport == Transport::WebSocket,
        ));
    }
    let websocket = transport == Transport::WebSocket;
    let hooks = &server.inner.handlers.hooks;
    if let Some(allow) = &hooks.allow_request
        && let Err(reason) = allow.check(&request).await
    {
        tracing::info!(%reason, "handshake refused by allow_request");
        return Err(error(
            &HttpError::new(ErrorCode::Forbidden, &reason),
            websocket,
        ));
    }
    let node = server.inner.config.node_id.as_ref();
    let sid = match (&hooks.generate_id, node) {
        (None, None) => Sid::generate(),
        (None, Some(node)) => Sid::generate_on(node),
        (Some(generate), node) => {
            let id = generate(&request);
            let sid = match node {
                None => Sid::custom(&id),
                Some(node) => Sid::on_node(node, &id),
            };
            match sid {
                Ok(sid) => sid,
                Err(err) => {
                    let node = node.map(NodeId::as_str);
                    tracing::error!(id, node, error = %err, "handshake refused: generate_id gave an invalid session id (the node id and its '.' count in the length)");
                    return Err(error(&HttpError::new(ErrorCode::BadRequest, ""), websocket));
                }
            }
        }
    };
    let handle = match server.create_session(transport, sid, wire) {
        Ok(handle) => handle,
        Err(NotOpened::Full) => {
            tracing::warn!(
                limit = ?server.inner.config.max_sessions,
                "handshake refused: the server holds max_sessions sessions"
            );
            return Err(error(&HttpError::too_many_sessions(), websocket));
        }
        Err(NotOpened::IdInUse) => {
            tracing::error!(%sid, "handshake refused: generate_id gave the id of a live session");
            return Err(error(&HttpError::new(ErrorCode::BadRequest, ""), websocket));
        }
    };
    // If the client goes away while the connect handler runs, the session
    // is dropped as if refused: no transport will ever reach it.
    let connected = {
        let mut opening = Unanswered::new(server, &handle, Session::reject);
        let connected = server
            .inner
            .handlers
            .connect(server, &handle, &request)
            .await;
        opening.disarm();
        connected
    };
    if let Err(rejection) = connected {
        tracing::info!(sid = %handle.sid, "connection rejected by the connect handler");
        handle.update(server, Session::reject);
        return Err(json_refusal(StatusCode::UNAUTHORIZED, rejection.body()));
    }
    // The sid and the request's data (the peer) never share an info line.
    tracing::info!(sid = %handle.sid, %transport, "session opened");
    tracing::debug!(sid = %handle.sid, peer = ?request.peer_addr, uri = %request.uri, "session request");
    let config = &server.inner.config;
    #[allow(unused_mut)]
    let mut upgrades = config.upgrades_for(transport);
    #[cfg(feature = "webtransport")]
    if transport == Transport::Polling && config.allow_upgrades && server.webtransport_listening() {
        upgrades.push(Transport::WebTransport.as_str().to_owned());
    }
    let handshake = Handshake::new(
        handle.sid.as_str(),
        upgrades,
        config.advertised_ping_interval(),
        config.ping_timeout,
        u64::try_from(config.max_http_buffer_size).unwrap_or(u64::MAX),
    );
    Ok((handle, handshake))
}
