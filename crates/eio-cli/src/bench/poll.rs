//! A bare long-polling session for the load generator: two kept-alive
//! HTTP/1.1 connections (one for GETs, one for POSTs, as browsers do), the
//! handshake, POSTed payloads and polls, pings answered on the way.

use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

use crate::wire::{Target, open_packet};

/// The packet separator of a polling payload.
const SEPARATOR: char = '\u{1e}';

/// One kept-alive HTTP/1.1 connection.
#[derive(Debug)]
pub(crate) struct HttpConn {
    sender: SendRequest<Full<Bytes>>,
    authority: String,
}

impl HttpConn {
    /// Connects to the target.
    pub(crate) async fn open(target: &Target) -> Result<Self, String> {
        let stream = target.connect().await?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|err| format!("HTTP handshake: {err}"))?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            authority: target.authority.clone(),
        })
    }

    /// Sends a request and returns its status and body.
    pub(crate) async fn request(
        &mut self,
        method: Method,
        uri: &str,
        body: Bytes,
    ) -> Result<(u16, Bytes), String> {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, &self.authority)
            .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
            .body(Full::new(body))
            .map_err(|err| err.to_string())?;
        self.sender
            .ready()
            .await
            .map_err(|err| format!("connection: {err}"))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|err| format!("request: {err}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|err| format!("body: {err}"))?
            .to_bytes();
        Ok((status, body))
    }

    /// A polling handshake on this connection: the new session's id.
    pub(crate) async fn handshake(&mut self, target: &Target) -> Result<String, String> {
        let (status, body) = self
            .request(
                Method::GET,
                &target.uri("EIO=4&transport=polling"),
                Bytes::new(),
            )
            .await?;
        let text = String::from_utf8_lossy(&body);
        if status != 200 {
            return Err(format!("handshake answered {status}: {text:.80}"));
        }
        let open = text.split(SEPARATOR).next().unwrap_or_default();
        Ok(open_packet(open)?.0)
    }
}

/// One polling session.
#[derive(Debug)]
pub(crate) struct PollSession {
    get: HttpConn,
    post: HttpConn,
    uri: String,
}

impl PollSession {
    /// Opens a polling session.
    pub(crate) async fn open(target: &Target) -> Result<Self, String> {
        let mut get = HttpConn::open(target).await?;
        let sid = get.handshake(target).await?;
        let post = HttpConn::open(target).await?;
        Ok(Self {
            get,
            post,
            uri: target.uri(&format!("EIO=4&transport=polling&sid={sid}")),
        })
    }

    /// POSTs `texts` as messages, in one payload.
    pub(crate) async fn send(&mut self, texts: &[&str]) -> Result<(), String> {
        let mut payload = String::new();
        for text in texts {
            if !payload.is_empty() {
                payload.push(SEPARATOR);
            }
            payload.push('4');
            payload.push_str(text);
        }
        self.post_raw(payload).await
    }

    async fn post_raw(&mut self, payload: String) -> Result<(), String> {
        let uri = self.uri.clone();
        let (status, body) = self
            .post
            .request(Method::POST, &uri, Bytes::from(payload))
            .await?;
        if status == 200 {
            Ok(())
        } else {
            Err(format!(
                "POST answered {status}: {:.80}",
                String::from_utf8_lossy(&body)
            ))
        }
    }

    /// Polls once and returns the messages it brought (pings are answered,
    /// noops skipped; a close packet is an error).
    pub(crate) async fn poll(&mut self) -> Result<Vec<String>, String> {
        let uri = self.uri.clone();
        let (status, body) = self.get.request(Method::GET, &uri, Bytes::new()).await?;
        let text = String::from_utf8_lossy(&body);
        if status != 200 {
            return Err(format!("GET answered {status}: {text:.80}"));
        }
        let mut messages = Vec::new();
        let mut pinged = false;
        for packet in text.split(SEPARATOR) {
            match packet.as_bytes().first() {
                Some(b'4') => messages.push(packet[1..].to_owned()),
                Some(b'2') => pinged = true,
                Some(b'1') => return Err("the server closed the session".to_owned()),
                _ => {}
            }
        }
        if pinged {
            self.post_raw("3".to_owned()).await?;
        }
        Ok(messages)
    }

    /// Closes the session (POSTs `1`).
    pub(crate) async fn close(mut self) {
        let _ = self.post_raw("1".to_owned()).await;
    }
}
