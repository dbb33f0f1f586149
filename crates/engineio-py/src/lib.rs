//! `engineio_rs._core`: the native module of the `engineio_rs` Python
//! package. It exposes the Rust core (`engineio-proto`) to the package's
//! Python classes: the codec to `engineio_rs.packet.Packet` and
//! `engineio_rs.payload.Payload`, which keep python-engineio's API, and the
//! server's session state machine (`Session`, in `session.rs`) to the
//! servers. Protocol decisions are made here, in Rust, never a second time
//! in Python.

mod client;
mod clock;
mod fallback;
mod native;
mod routing;
mod session;
mod statics;

use engineio_proto::{Message, Packet, PacketType, RECORD_SEPARATOR};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

/// Decodes one encoded packet: a `str` (a text packet, or `b` + base64 for
/// binary) or `bytes`/`bytearray` (a binary message). Returns the packet
/// type and its data: the text after the type character, or the binary
/// bytes.
///
/// Raises `ValueError` for an empty packet, an unknown type or bad base64.
#[pyfunction]
fn decode_packet<'py>(
    py: Python<'py>,
    encoded: &Bound<'py, PyAny>,
) -> PyResult<(u8, Bound<'py, PyAny>)> {
    if let Ok(bytes) = encoded.cast::<PyBytes>() {
        return Ok((PacketType::Message as u8, bytes.clone().into_any()));
    }
    if let Ok(array) = encoded.cast::<PyByteArray>() {
        let bytes = PyBytes::new(py, &array.to_vec());
        return Ok((PacketType::Message as u8, bytes.into_any()));
    }
    let text: String = encoded.extract()?;
    let mut chars = text.chars();
    let first = chars
        .next()
        .ok_or_else(|| PyValueError::new_err("Invalid empty packet received"))?;
    if first == 'b' {
        return match Packet::decode_text(&text) {
            Ok(Packet::Message(Message::Binary(bytes))) => Ok((
                PacketType::Message as u8,
                PyBytes::new(py, &bytes).into_any(),
            )),
            Ok(_) => Err(PyValueError::new_err("invalid binary packet")),
            Err(err) => Err(PyValueError::new_err(err.to_string())),
        };
    }
    let packet_type = PacketType::from_char(first)
        .ok_or_else(|| PyValueError::new_err(format!("unknown packet type {first:?}")))?;
    Ok((
        packet_type as u8,
        PyString::new(py, chars.as_str()).into_any(),
    ))
}

/// Encodes a binary message: the raw bytes, or with `b64` the `b` +
/// base64 text used in polling payloads.
#[pyfunction]
fn encode_binary<'py>(py: Python<'py>, data: &[u8], b64: bool) -> Bound<'py, PyAny> {
    if b64 {
        let packet = Packet::message(data.to_vec());
        PyString::new(py, &packet.to_text()).into_any()
    } else {
        PyBytes::new(py, data).into_any()
    }
}

/// Encodes a text packet: its type character followed by `data`.
///
/// Raises `ValueError` for a type outside 0-6.
#[pyfunction]
fn encode_text(packet_type: u8, data: &str) -> PyResult<String> {
    let type_char = char::from_digit(u32::from(packet_type), 10)
        .and_then(PacketType::from_char)
        .ok_or_else(|| PyValueError::new_err(format!("unknown packet type {packet_type}")))?;
    let mut encoded = String::with_capacity(data.len() + 1);
    encoded.push(type_char.as_char());
    encoded.push_str(data);
    Ok(encoded)
}

/// Splits a polling payload into its encoded packets (at most
/// `max_packets`).
///
/// Raises `ValueError('Too many packets in payload')` past the limit, as
/// python-engineio does.
#[pyfunction]
fn split_payload(payload: &str, max_packets: usize) -> PyResult<Vec<String>> {
    if payload.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<String> = payload.split(RECORD_SEPARATOR).map(str::to_owned).collect();
    if parts.len() > max_packets {
        return Err(PyValueError::new_err("Too many packets in payload"));
    }
    Ok(parts)
}

/// Joins encoded packets into a polling payload.
#[pyfunction]
fn join_payload(packets: Vec<String>) -> String {
    packets.join(&RECORD_SEPARATOR.to_string())
}

/// The record separator that joins the packets of a polling payload.
const SEPARATOR: char = RECORD_SEPARATOR;

/// The native module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_packet, m)?)?;
    m.add_function(wrap_pyfunction!(encode_binary, m)?)?;
    m.add_function(wrap_pyfunction!(encode_text, m)?)?;
    m.add_function(wrap_pyfunction!(split_payload, m)?)?;
    m.add_function(wrap_pyfunction!(join_payload, m)?)?;
    m.add_class::<session::Session>()?;
    m.add_class::<native::NativeServer>()?;
    m.add_class::<native::Reply>()?;
    m.add_class::<fallback::HttpReply>()?;
    m.add_class::<statics::StaticRules>()?;
    m.add_class::<client::ClientConnection>()?;
    m.add_function(wrap_pyfunction!(routing::route, m)?)?;
    m.add_function(wrap_pyfunction!(routing::unknown_session, m)?)?;
    m.add_function(wrap_pyfunction!(routing::too_many_sessions, m)?)?;
    m.add_function(wrap_pyfunction!(routing::generate_sid, m)?)?;
    m.add_function(wrap_pyfunction!(routing::refusal_answer, m)?)?;
    m.add_function(wrap_pyfunction!(session::open_packet, m)?)?;
    m.add("RECORD_SEPARATOR", SEPARATOR.to_string())?;
    m.add("PROTOCOL_VERSION", engineio_proto::PROTOCOL_VERSION)?;
    Ok(())
}
