//! JSONP: Node's scripts, indexes and POST bodies.

use super::text;
use crate::eio3::{self, BinaryEncoding, JsonpError, JsonpIndex, decode_jsonp_body};
use crate::{Packet, encode_payload};

#[test]
fn escapes_as_json_stringify_plus_line_separators() {
    // "___eio[3](" + JSON.stringify(s).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029") + ");"
    let mut input: String = (0u8..0x20).map(char::from).collect();
    input.push_str("\"\\/\u{7f}\u{80}\u{2028}\u{2029}👋</script>");
    let golden = "___eio[3](\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\\"\\\\/\u{7f}\u{80}\\u2028\\u2029\u{1f44b}</script>\");";
    assert_eq!(JsonpIndex::parse("3").unwrap().wrap(&input), golden);
}

/// The message the Node test server sent, with a binary one after it.
fn node_messages() -> [Packet; 2] {
    [
        Packet::message("héllo 👋\u{2028}\u{2029}\"\\\n\u{1}\u{7f}</script>"),
        Packet::message(vec![1u8, 2, 3]),
    ]
}

#[test]
fn v3_poll_as_node_answers_it() {
    // GET ...?EIO=3&transport=polling&j=7&b64=1&sid=...
    let golden =
        "___eio[7](\"25:4héllo 👋\\u2028\\u2029\\\"\\\\\\n\\u0001\u{7f}</script>6:b4AQID\");";
    let payload = eio3::encode_payload(&node_messages(), BinaryEncoding::Base64);
    let eio3::Payload::Text(payload) = payload else {
        panic!("a b64 client gets text");
    };
    assert_eq!(JsonpIndex::from_query_lenient("7").wrap(&payload), golden);
}

#[test]
fn v4_poll_as_node_answers_it() {
    // GET ...?EIO=4&transport=polling&j=7&b64=1&sid=...
    let golden =
        "___eio[7](\"4héllo 👋\\u2028\\u2029\\\"\\\\\\n\\u0001\u{7f}</script>\\u001ebAQID\");";
    let payload = encode_payload(&node_messages());
    assert_eq!(JsonpIndex::from_query_lenient("7").wrap(&payload), golden);
}

#[test]
fn node_keeps_the_digits_of_j() {
    // Observed: j=a1b2 -> ___eio[12], j=abc and j= -> ___eio[], j=-1 -> ___eio[1], j=1%200 -> ___eio[10]
    for (j, digits) in [
        ("a1b2", "12"),
        ("abc", ""),
        ("", ""),
        ("-1", "1"),
        ("1 0", "10"),
    ] {
        assert_eq!(JsonpIndex::from_query_lenient(j).as_str(), digits);
    }
    assert_eq!(
        JsonpIndex::from_query_lenient("abc").wrap("0:"),
        r#"___eio[]("0:");"#
    );
    assert_eq!(JsonpIndex::from_query_lenient("٣").as_str(), ""); // not ASCII
}

#[test]
fn strict_index() {
    assert_eq!(JsonpIndex::parse("0").unwrap().as_str(), "0");
    assert_eq!(JsonpIndex::parse("12345").unwrap().to_string(), "12345");
    for bad in ["", "a", "1a", "-1", " 1", "+1", "1.0", "٣"] {
        assert_eq!(
            JsonpIndex::parse(bad),
            Err(JsonpError::InvalidIndex),
            "{bad:?}"
        );
    }
}

#[test]
fn post_bodies_as_node_reads_them() {
    // querystring.parse(body).d, then Node's two newline replacements.
    let cases = [
        ("d=4%3A4a%5Cnb", "4:4a\nb"),
        ("d=a+b%20c", "a b c"),
        ("x=1&d=2", "2"),
        ("d", ""),
        ("d=%E9%ZZ", "\u{fffd}%ZZ"),
        ("d=a%5C%5C%5Cnb", "a\\\\nb"),
        ("d=a%5C%5C%5C%5Cnb", "a\\\\\\nb"),
        ("d=%5Cn%5C", "\n\\"),
    ];
    for (body, golden) in cases {
        assert_eq!(
            decode_jsonp_body(body.as_bytes()).unwrap(),
            golden,
            "{body}"
        );
    }
}

#[test]
fn post_body_to_packets() {
    // POSTed to Node: the server received "a\nb" and "c\\nd".
    let payload = decode_jsonp_body(b"d=4%3A4a%5Cnb5%3A4c%5C%5Cnd").unwrap();
    assert_eq!(
        text(&payload).unwrap(),
        vec![Packet::message("a\nb"), Packet::message("c\\nd")]
    );
    let v4 = decode_jsonp_body(b"d=4a%5Cnb%1E4c%5C%5Cnd").unwrap();
    assert_eq!(
        crate::decode_payload(v4.as_bytes(), &crate::PayloadLimits::default()).unwrap(),
        vec![Packet::message("a\nb"), Packet::message("c\\nd")]
    );
}

#[test]
fn post_bodies_node_ignores_are_errors() {
    assert_eq!(decode_jsonp_body(b""), Err(JsonpError::MissingData));
    assert_eq!(decode_jsonp_body(b"e=1"), Err(JsonpError::MissingData));
    assert_eq!(decode_jsonp_body(b"d=1&d=2"), Err(JsonpError::RepeatedData));
}

#[test]
fn newline_passes_on_edge_inputs() {
    // Backslashes at the very end, and runs of them.
    for (body, golden) in [
        ("d=%5C", "\\"),
        ("d=%5C%5C", "\\\\"),
        ("d=%5Cn", "\n"),
        ("d=%5C%5Cn", "\\n"),
        ("d=%5C%5C%5C%5C%5Cn", "\\\\\\\\n"),
        ("d=n%5C", "n\\"),
        ("d=é%5Cné", "é\né"),
    ] {
        assert_eq!(
            decode_jsonp_body(body.as_bytes()).unwrap(),
            golden,
            "{body}"
        );
    }
}
