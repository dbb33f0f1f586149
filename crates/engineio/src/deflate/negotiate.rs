//! The `Sec-WebSocket-Extensions` negotiation of permessage-deflate (RFC
//! 7692, section 7.1): the server picks the first offer it can accept, the
//! client checks the server's answer against its offer.

use super::PerMessageDeflate;
use super::codec::{Deflater, Inflater};

/// The extension's name.
const NAME: &str = "permessage-deflate";

/// What both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Agreed {
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: u8,
    pub(crate) client_max_window_bits: u8,
    /// Whether the answer carries `server_max_window_bits`.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    announce_server_window: bool,
    /// Whether the answer carries `client_max_window_bits`.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    announce_client_window: bool,
}

/// One extension offer (or answer): its name and parameters.
#[derive(Debug)]
struct Offer<'a> {
    name: &'a str,
    params: Vec<(&'a str, Option<&'a str>)>,
}

/// Splits a `Sec-WebSocket-Extensions` value into offers. Quoted values
/// lose their quotes; no parameter of permessage-deflate needs a quoted
/// comma or semicolon.
fn parse<'a>(values: impl Iterator<Item = &'a str>) -> Vec<Offer<'a>> {
    let mut offers = Vec::new();
    for value in values {
        for item in value.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            if name.is_empty() {
                continue;
            }
            let params = parts
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((key, value)) => (key.trim(), Some(value.trim().trim_matches('"'))),
                    None => (p, None),
                })
                .collect();
            offers.push(Offer { name, params });
        }
    }
    offers
}

/// Window bits written as a parameter value: 8 to 15.
fn window_bits(value: Option<&str>) -> Option<u8> {
    let bits: u8 = value?.parse().ok()?;
    (8..=15).contains(&bits).then_some(bits)
}

/// The parameters of one permessage-deflate offer or answer, checked: no
/// unknown or repeated parameter, values where they belong.
#[derive(Debug, Default)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: the parameter without a value (an offer saying it
    /// supports the parameter).
    client_max_window_bits: Option<Option<u8>>,
}

impl Params {
    fn read(offer: &Offer<'_>) -> Option<Self> {
        let mut params = Params::default();
        let mut seen = [false; 4];
        for &(key, value) in &offer.params {
            let index = match key {
                "server_no_context_takeover" if value.is_none() => {
                    params.server_no_context_takeover = true;
                    0
                }
                "client_no_context_takeover" if value.is_none() => {
                    params.client_no_context_takeover = true;
                    1
                }
                "server_max_window_bits" => {
                    params.server_max_window_bits = Some(window_bits(value)?);
                    2
                }
                "client_max_window_bits" => {
                    params.client_max_window_bits = Some(match value {
                        None => None,
                        Some(_) => Some(window_bits(value)?),
                    });
                    3
                }
                _ => return None,
            };
            if std::mem::replace(&mut seen[index], true) {
                return None;
            }
        }
        Some(params)
    }
}

#[cfg(feature = "server")]
/// The server's side: the first permessage-deflate offer among the request's
/// `Sec-WebSocket-Extensions` values that it can accept, or `None` (no
/// compression: the offers are declined by answering without the header).
pub(crate) fn accept<'a>(
    config: &PerMessageDeflate,
    values: impl Iterator<Item = &'a str>,
) -> Option<Agreed> {
    parse(values)
        .iter()
        .filter(|offer| offer.name.eq_ignore_ascii_case(NAME))
        .find_map(|offer| {
            let params = Params::read(offer)?;
            // zlib's raw deflate has no 8-bit window: an offer that needs
            // one is declined.
            if params.server_max_window_bits == Some(8) {
                return None;
            }
            let server_bits = params
                .server_max_window_bits
                .map_or(config.server_max_window_bits, |bits| {
                    bits.min(config.server_max_window_bits)
                });
            // The client's window can only be limited when it says it
            // supports the parameter; otherwise it may use 15 bits.
            let (client_bits, announce_client_window) = match params.client_max_window_bits {
                None => (15, false),
                Some(None) => (
                    config.client_max_window_bits,
                    config.client_max_window_bits < 15,
                ),
                Some(Some(bits)) => (bits.min(config.client_max_window_bits), true),
            };
            Some(Agreed {
                server_no_context_takeover: params.server_no_context_takeover
                    || config.server_no_context_takeover,
                client_no_context_takeover: params.client_no_context_takeover
                    || config.client_no_context_takeover,
                server_max_window_bits: server_bits,
                client_max_window_bits: client_bits,
                announce_server_window: params.server_max_window_bits.is_some() || server_bits < 15,
                announce_client_window,
            })
        })
}

#[cfg(feature = "client")]
/// The client's offer: `permessage-deflate; client_max_window_bits` (the
/// parameter without a value: any window the server asks for), with the
/// configured limits and context-takeover requests.
pub(crate) fn offer(config: &PerMessageDeflate) -> String {
    let mut offer = String::from(NAME);
    if config.server_no_context_takeover {
        offer.push_str("; server_no_context_takeover");
    }
    if config.client_no_context_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    if config.server_max_window_bits < 15 {
        offer.push_str(&format!(
            "; server_max_window_bits={}",
            config.server_max_window_bits
        ));
    }
    if config.client_max_window_bits < 15 {
        offer.push_str(&format!(
            "; client_max_window_bits={}",
            config.client_max_window_bits
        ));
    } else {
        offer.push_str("; client_max_window_bits");
    }
    offer
}

#[cfg(feature = "client")]
/// Why a server's answer to our offer is refused (the client must then fail
/// the WebSocket, RFC 6455 section 4.1).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum AnswerError {
    /// The answer names an extension other than permessage-deflate, or more
    /// than one.
    #[error("the server answered with extensions we did not offer: {0}")]
    Unexpected(String),
    /// The answer's parameters are malformed or not what we offered.
    #[error("the server's permessage-deflate parameters are invalid: {0}")]
    InvalidParameters(String),
}

#[cfg(feature = "client")]
/// The client's side: what the server's `Sec-WebSocket-Extensions` answer
/// says (`Ok(None)`: no compression), checked against our offer.
pub(crate) fn answer(
    config: &PerMessageDeflate,
    values: &[&str],
) -> Result<Option<Agreed>, AnswerError> {
    let raw = || values.join(", ");
    let offers = parse(values.iter().copied());
    let [answer] = offers.as_slice() else {
        return if offers.is_empty() {
            Ok(None)
        } else {
            Err(AnswerError::Unexpected(raw()))
        };
    };
    if !answer.name.eq_ignore_ascii_case(NAME) {
        return Err(AnswerError::Unexpected(raw()));
    }
    let invalid = || AnswerError::InvalidParameters(raw());
    let params = Params::read(answer).ok_or_else(invalid)?;
    // Our compressor: at most what the server allows, and zlib's least.
    let client_bits = match params.client_max_window_bits {
        None => config.client_max_window_bits,
        Some(None) | Some(Some(8)) => return Err(invalid()),
        Some(Some(bits)) => bits.min(config.client_max_window_bits),
    };
    if config.server_no_context_takeover && !params.server_no_context_takeover {
        return Err(invalid());
    }
    let server_bits = params.server_max_window_bits.unwrap_or(15);
    if server_bits > config.server_max_window_bits {
        return Err(invalid());
    }
    Ok(Some(Agreed {
        server_no_context_takeover: params.server_no_context_takeover,
        client_no_context_takeover: params.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
        announce_server_window: params.server_max_window_bits.is_some(),
        announce_client_window: params.client_max_window_bits.is_some(),
    }))
}

impl Agreed {
    /// The server's answer: the `Sec-WebSocket-Extensions` value of the 101.
    #[cfg(feature = "server")]
    pub(crate) fn header(&self) -> String {
        let mut answer = String::from(NAME);
        if self.server_no_context_takeover {
            answer.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            answer.push_str("; client_no_context_takeover");
        }
        if self.announce_server_window {
            answer.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits
            ));
        }
        if self.announce_client_window {
            answer.push_str(&format!(
                "; client_max_window_bits={}",
                self.client_max_window_bits
            ));
        }
        answer
    }

    /// The server's compressor and decompressor; messages past `max_message`
    /// bytes (compressed or not) are refused.
    #[cfg(feature = "server")]
    pub(crate) fn server(
        &self,
        config: &PerMessageDeflate,
        max_message: usize,
    ) -> (Deflater, Inflater) {
        (
            Deflater::new(
                config.threshold,
                config.level,
                self.server_max_window_bits,
                self.server_no_context_takeover,
            ),
            Inflater::new(
                true,
                max_message,
                self.client_max_window_bits,
                self.client_no_context_takeover,
            ),
        )
    }

    /// The client's compressor and decompressor.
    #[cfg(feature = "client")]
    pub(crate) fn client(
        &self,
        config: &PerMessageDeflate,
        max_message: usize,
    ) -> (Deflater, Inflater) {
        (
            Deflater::new(
                config.threshold,
                config.level,
                self.client_max_window_bits,
                self.client_no_context_takeover,
            ),
            Inflater::new(
                false,
                max_message,
                self.server_max_window_bits,
                self.server_no_context_takeover,
            ),
        )
    }
}

#[cfg(all(test, feature = "server", feature = "client"))]
mod tests {
    use super::*;

    fn accept_str(config: &PerMessageDeflate, value: &str) -> Option<String> {
        accept(config, std::iter::once(value)).map(|a| a.header())
    }

    #[test]
    fn the_browsers_and_node_offer_is_accepted_with_defaults() {
        let config = PerMessageDeflate::default();
        // Chromium and Node's ws client.
        assert_eq!(
            accept_str(&config, "permessage-deflate; client_max_window_bits").as_deref(),
            Some("permessage-deflate")
        );
        // Firefox.
        assert_eq!(
            accept_str(&config, "permessage-deflate").as_deref(),
            Some("permessage-deflate")
        );
    }

    #[test]
    fn offers_are_tried_in_order_and_bad_ones_declined() {
        let config = PerMessageDeflate::default();
        assert_eq!(
            accept_str(
                &config,
                "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=\"10\""
            )
            .as_deref(),
            Some("permessage-deflate; server_max_window_bits=10")
        );
        for bad in [
            "permessage-deflate; foo",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_no_context_takeover=1",
            "x-webkit-deflate-frame",
        ] {
            assert_eq!(accept_str(&config, bad), None, "{bad}");
        }
    }

    #[test]
    fn the_server_configuration_shapes_the_answer() {
        let config = PerMessageDeflate::default()
            .server_no_context_takeover(true)
            .client_no_context_takeover(true)
            .server_max_window_bits(11)
            .client_max_window_bits(12);
        let agreed = accept(
            &config,
            std::iter::once("permessage-deflate; client_max_window_bits"),
        )
        .unwrap();
        assert_eq!(
            agreed.header(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=12"
        );
        // A client that does not support client_max_window_bits is not
        // limited.
        let agreed = accept(&config, std::iter::once("permessage-deflate")).unwrap();
        assert_eq!(agreed.client_max_window_bits, 15);
        // A client's request is always granted.
        let agreed = accept(
            &PerMessageDeflate::default(),
            std::iter::once(
                "permessage-deflate; server_no_context_takeover; client_max_window_bits=10",
            ),
        )
        .unwrap();
        assert_eq!(
            agreed.header(),
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"
        );
    }

    #[test]
    fn the_client_offers_and_checks_the_answer() {
        let config = PerMessageDeflate::default();
        assert_eq!(offer(&config), "permessage-deflate; client_max_window_bits");
        assert_eq!(answer(&config, &[]), Ok(None));
        let agreed = answer(&config, &["permessage-deflate; client_max_window_bits=10"])
            .unwrap()
            .unwrap();
        assert_eq!(agreed.client_max_window_bits, 10);
        assert!(matches!(
            answer(&config, &["x-foo"]),
            Err(AnswerError::Unexpected(_))
        ));
        assert!(matches!(
            answer(&config, &["permessage-deflate, permessage-deflate"]),
            Err(AnswerError::Unexpected(_))
        ));
        for bad in [
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=8",
            "permessage-deflate; foo=1",
        ] {
            assert!(
                matches!(
                    answer(&config, &[bad]),
                    Err(AnswerError::InvalidParameters(_))
                ),
                "{bad}"
            );
        }
        let limited = PerMessageDeflate::default()
            .server_no_context_takeover(true)
            .server_max_window_bits(10);
        assert_eq!(
            offer(&limited),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits"
        );
        assert!(answer(&limited, &["permessage-deflate"]).is_err());
        assert!(
            answer(
                &limited,
                &["permessage-deflate; server_no_context_takeover; server_max_window_bits=9"]
            )
            .unwrap()
            .is_some()
        );
    }
}
