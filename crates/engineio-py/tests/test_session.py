"""The Rust core's session state machine as the Python servers will drive
it: fake-clock cases for the heartbeat, polling, the inbox and the
dispatcher, the upgrade and the closes."""

import pytest
from engineio_rs._core import Session, open_packet

T0 = 1000.0


def polling(**options):
    options = {"ping_interval": 0.3, "ping_timeout": 0.2, **options}
    return Session("polling", T0, **options)


def test_the_heartbeat_pings_rearms_on_pong_and_times_out():
    s = polling()
    assert s.next_deadline() == pytest.approx(T0 + 0.3)
    s.handle_timeout(T0 + 0.3)
    assert s.take_events()["wake"]
    s.begin_poll(T0 + 0.3)
    assert s.poll_payload() == "2"
    s.begin_post(T0 + 0.35)
    s.post_payload(b"3", T0 + 0.35)
    assert s.post_accepted()
    assert s.next_deadline() == pytest.approx(T0 + 0.65)
    s.handle_timeout(T0 + 0.65)
    s.handle_timeout(T0 + 0.85)
    events = s.take_events()
    assert events["closed"] == "ping timeout"
    assert events["forget"]
    assert s.closed == "ping timeout"


def test_polling_delivers_queued_messages_and_overlap_closes():
    s = polling()
    s.send("hello")
    s.send(b"\x01\x02")
    s.begin_poll(T0)
    assert s.poll_payload() == "4hello\x1ebAQI="
    s.begin_poll(T0)
    with pytest.raises(ValueError) as refused:
        s.begin_poll(T0)
    status, code, message = refused.value.args
    assert (status, code) == (400, 3)
    assert "overlapping GET" in message
    assert s.poll_payload() == "1"
    assert s.closed == "transport error"


def test_text_with_the_record_separator_is_refused_on_polling():
    s = polling()
    with pytest.raises(ValueError) as refused:
        s.send("a\x1eb")
    assert refused.value.args[0] == "separator in text"


def test_a_full_inbox_holds_the_post_and_messages_come_in_order():
    s = polling(max_inbox=2)
    s.begin_post(T0)
    s.post_payload(b"4a\x1e4b\x1e4c", T0)
    assert not s.post_accepted()
    assert s.take_events()["dispatch"]
    assert s.next_dispatch() == ("message", "a")
    s.message_handled(T0)
    assert s.next_dispatch() == ("message", "b")
    assert s.post_accepted()
    s.message_handled(T0)
    assert s.next_dispatch() == ("message", "c")
    s.message_handled(T0)
    assert s.next_dispatch() is None


def test_the_disconnect_is_dispatched_once_after_the_messages():
    s = polling()
    s.begin_post(T0)
    s.post_payload(b"4last\x1e1", T0)
    assert s.closed == "client disconnect"
    assert s.next_dispatch() == ("message", "last")
    s.message_handled(T0)
    assert s.next_dispatch() == ("disconnect", "client disconnect")
    assert s.next_dispatch() is None


def test_an_upgrade_releases_the_poll_and_moves_the_queue():
    s = polling()
    s.begin_poll(T0)
    ws = s.attach_websocket(T0)
    s.ws_receive_text(ws, "2probe", T0)
    assert s.ws_transmit(ws) == ("write", ["3probe"])
    assert s.poll_payload() == "6"
    s.send("queued")
    s.ws_receive_text(ws, "5", T0)
    assert s.transport == "websocket"
    assert s.ws_transmit(ws) == ("write", ["4queued"])
    assert s.ws_transmit(ws) == ("idle", None)
    with pytest.raises(ValueError) as refused:
        s.attach_websocket(T0)
    assert refused.value.args[:2] == (400, 3)


def test_a_server_disconnect_delivers_the_queue_then_the_close_packet():
    s = polling()
    s.send("bye")
    assert s.close("server disconnect", T0)
    assert not s.close("server disconnect", T0)
    events = s.take_events()
    assert events["closed"] == "server disconnect"
    assert not events["forget"]
    s.begin_poll(T0 + 1)
    assert s.poll_payload() == "4bye\x1e1"
    assert s.take_events()["forget"]
    assert s.is_finished


def test_a_websocket_session_ends_with_its_websocket():
    s = Session("websocket", T0)
    ws = s.websocket
    s.ws_receive_binary(ws, b"\x00\xff", T0)
    assert s.next_dispatch() == ("message", b"\x00\xff")
    assert s.ws_ended(ws, "too big", T0) == 1009
    assert s.closed == "transport error"


def test_an_undecodable_frame_closes_the_websocket():
    s = Session("websocket", T0)
    assert s.ws_receive_text(s.websocket, "9nonsense", T0) == 0
    assert s.closed == "transport error"
    assert "parse error" in s.take_events()["detail"]


def test_the_open_payload_carries_the_handshake_and_the_queue():
    s = polling()
    s.send("welcome")
    body = s.open_payload("sid123", ["websocket"], 25.0, 20.0, 1_000_000)
    assert body == (
        '0{"sid":"sid123","upgrades":["websocket"],"pingInterval":25000,'
        '"pingTimeout":20000,"maxPayload":1000000}\x1e4welcome'
    )


def test_the_websocket_open_packet_is_the_same_handshake():
    assert open_packet("sid123", [], 25.0, 20.0, 1_000_000) == (
        '0{"sid":"sid123","upgrades":[],"pingInterval":25000,'
        '"pingTimeout":20000,"maxPayload":1000000}'
    )


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError):
        Session("carrier-pigeon", T0)
    with pytest.raises(ValueError):
        Session("polling", T0, ping_interval=-1.0)
    with pytest.raises(ValueError):
        polling().close("bored", T0)
