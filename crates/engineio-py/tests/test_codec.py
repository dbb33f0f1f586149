"""The codec of engineio_rs against python-engineio's, case by case: the
same calls on both packages must give the same results (or the same
exception type), except where engineio_rs differs on purpose (listed in
the package's README)."""

import engineio.packet as py_packet
import engineio.payload as py_payload
import engineio_rs
import pytest
from engineio_rs import exceptions, packet, payload

BOTH = [(packet, payload), (py_packet, py_payload)]

ENCODE_CASES = [
    (packet.MESSAGE, "hello", False),
    (packet.MESSAGE, "héllo 👋", False),
    (packet.MESSAGE, "", False),
    (packet.MESSAGE, None, False),
    (packet.MESSAGE, 123, False),
    (packet.MESSAGE, {"a": [1, 2, {"b": None}]}, False),
    (packet.MESSAGE, [1, "two", 3.5], False),
    (packet.MESSAGE, b"\x00\x01\xfe\xff", False),
    (packet.MESSAGE, b"\x00\x01\xfe\xff", True),
    (packet.MESSAGE, bytearray(b"abc"), True),
    (packet.MESSAGE, b"", True),
    (packet.PING, "probe", False),
    (packet.PONG, "probe", False),
    (packet.PING, None, False),
    (packet.CLOSE, None, False),
    (packet.UPGRADE, None, False),
    (packet.NOOP, None, False),
    (packet.OPEN, {"sid": "abc", "upgrades": [], "pingInterval": 25000}, False),
]


@pytest.mark.parametrize(("packet_type", "data", "b64"), ENCODE_CASES)
def test_encode_matches_python_engineio(packet_type, data, b64):
    ours = packet.Packet(packet_type, data).encode(b64=b64)
    theirs = py_packet.Packet(packet_type, data).encode(b64=b64)
    assert ours == theirs
    assert type(ours) is type(theirs)


DECODE_CASES = [
    "4hello",
    "4héllo 👋",
    "4",
    '4{"a":1}',
    "4[1,2]",
    "412345",
    "4123abc",
    "4true",
    "4null",
    '4"quoted"',
    "2probe",
    "3probe",
    "2",
    "1",
    "5",
    "6",
    '0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000}',
    "bAQIDBA==",
    "b",
    b"\x00\x01binary",
    bytearray(b"\x00\x01"),
]


@pytest.mark.parametrize("encoded", DECODE_CASES)
def test_decode_matches_python_engineio(encoded):
    ours = packet.Packet(encoded_packet=encoded)
    theirs = py_packet.Packet(encoded_packet=encoded)
    assert (ours.packet_type, ours.data, ours.binary) == (
        theirs.packet_type,
        theirs.data,
        theirs.binary,
    )


@pytest.mark.parametrize("encoded", ["", "bnot base64!", "x"])
def test_bad_packets_raise_value_error_in_both(encoded):
    for module, _ in BOTH:
        with pytest.raises(ValueError):
            module.Packet(encoded_packet=encoded)


def test_packet_types_beyond_6_are_refused_on_purpose():
    # python-engineio takes any digit as a type; we refuse what is not 0-6.
    assert py_packet.Packet(encoded_packet="9x").packet_type == 9
    with pytest.raises(ValueError):
        packet.Packet(encoded_packet="9x")
    with pytest.raises(ValueError):
        packet.Packet(9, "x").encode()


def test_binary_packets_must_be_messages():
    for module, _ in BOTH:
        with pytest.raises(ValueError):
            module.Packet(module.PING, b"x")


def test_the_encoding_is_cached_as_in_python_engineio():
    for module, _ in BOTH:
        pkt = module.Packet(module.MESSAGE, "first")
        assert pkt.encode() == "4first"
        pkt.data = "second"
        assert pkt.encode() == "4first"


def test_a_custom_json_module_is_used():
    class Loud:
        @staticmethod
        def dumps(value, **kwargs):
            return "JSON!"

        @staticmethod
        def loads(text, **kwargs):
            return {"decoded": text}

    class Ours(packet.Packet):
        json = Loud

    assert Ours(packet.MESSAGE, {"a": 1}).encode() == "4JSON!"
    assert Ours(encoded_packet="4abc").data == {"decoded": "abc"}


PAYLOADS = [
    "",
    "4hello",
    "4hello\x1e4world",
    "4hello\x1ebAQIDBA==\x1e2\x1e6",
    "d=4hello%1E4world",
]


@pytest.mark.parametrize("encoded", PAYLOADS)
def test_payload_decode_matches_python_engineio(encoded):
    ours = payload.Payload(encoded_payload=encoded)
    theirs = py_payload.Payload(encoded_payload=encoded)
    assert [(p.packet_type, p.data) for p in ours.packets] == [
        (p.packet_type, p.data) for p in theirs.packets
    ]


def test_payload_encode_matches_python_engineio_with_and_without_jsonp():
    for jsonp in (None, 3):
        ours = payload.Payload(
            packets=[
                packet.Packet(packet.MESSAGE, 'say "hi"'),
                packet.Packet(packet.MESSAGE, b"\x01\x02"),
                packet.Packet(packet.PING),
            ]
        ).encode(jsonp_index=jsonp)
        theirs = py_payload.Payload(
            packets=[
                py_packet.Packet(py_packet.MESSAGE, 'say "hi"'),
                py_packet.Packet(py_packet.MESSAGE, b"\x01\x02"),
                py_packet.Packet(py_packet.PING),
            ]
        ).encode(jsonp_index=jsonp)
        assert ours == theirs


def test_too_many_packets_is_the_same_error():
    encoded = "\x1e".join(["4x"] * 17)
    for _, module in BOTH:
        with pytest.raises(ValueError, match="Too many packets in payload"):
            module.Payload(encoded_payload=encoded)
    assert len(payload.Payload(encoded_payload="\x1e".join(["4x"] * 16)).packets) == 16


def test_max_decode_packets_is_a_class_setting():
    class Bigger(payload.Payload):
        max_decode_packets = 100

    assert len(Bigger(encoded_payload="\x1e".join(["4x"] * 50)).packets) == 50


def test_exceptions_keep_python_engineios_hierarchy():
    import engineio.exceptions as py_exceptions

    for name in [
        "EngineIOError",
        "ContentTooLongError",
        "UnknownPacketError",
        "QueueEmpty",
        "SocketIsClosedError",
        "ConnectionError",
    ]:
        ours = getattr(exceptions, name)
        theirs = getattr(py_exceptions, name)
        assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]


def test_the_module_names_the_protocol_version():
    assert engineio_rs.PROTOCOL_VERSION == 4
