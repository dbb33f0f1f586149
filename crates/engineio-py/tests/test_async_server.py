"""engineio_rs.AsyncServer under uvicorn, with python-engineio's own client
(the peer most python-socketio applications use): polling, WebSocket and
the upgrade, echo both ways, rejection, and the disconnect reasons."""

import asyncio
import queue
import threading
import time

import engineio
import engineio_rs
import pytest
from servers import Running, assert_node_client_upgrades_and_keeps_order


@pytest.fixture
def server():
    running = Running("asgi", engineio_rs, ping_interval=0.5, ping_timeout=1)
    yield running
    running.stop()


def client_for(transports):
    replies = queue.Queue()
    client = engineio.Client()
    client.on("message", lambda data: replies.put(data))
    return client, replies


@pytest.mark.parametrize("transports", [["polling"], ["websocket"], ["polling", "websocket"]])
def test_python_engineio_client_echo_over_each_transport(server, transports):
    client, replies = client_for(transports)
    client.connect(server.url, transports=transports)
    server.next_event("connect")
    for text in ["hello", "héllo 👋", "x" * 5000]:
        client.send(text)
        assert replies.get(timeout=10) == text
    client.send(b"\x00\x01\xff")
    assert replies.get(timeout=10) == b"\x00\x01\xff"
    if len(transports) == 2:
        deadline = time.monotonic() + 10
        while client.transport() != "websocket":
            assert time.monotonic() < deadline, "no upgrade"
            time.sleep(0.05)
    # Through heartbeats (0.5 s interval) the session stays up.
    time.sleep(1.2)
    client.send("still here")
    assert replies.get(timeout=10) == "still here"
    client.disconnect()
    # python-engineio's polling client sometimes drops its close packet (it
    # does not wait for its send queue): then the session ends by timeout.
    reasons = ("client disconnect", "transport close", "ping timeout")
    assert server.next_event("disconnect")[1] in reasons


def test_a_server_disconnect_reaches_the_client(server):
    client, _ = client_for(["polling"])
    closed = threading.Event()
    client.on("disconnect", lambda *args: closed.set())
    client.connect(server.url, transports=["polling"])
    client.send("cmd:close")
    assert closed.wait(10)
    assert server.next_event("disconnect")[1] == "server disconnect"


def test_a_rejected_connection_gets_401_with_the_handlers_data(server):
    client = engineio.Client()
    with pytest.raises(engineio.exceptions.ConnectionError) as refused:
        client.connect(server.url, headers={"X-Reject": "1"}, transports=["polling"])
    assert refused.value.args[1] == {"reason": "rejected by the test"}


def test_unknown_sessions_and_bad_requests_get_the_node_answers(server):
    import requests

    response = requests.get(f"{server.url}/engine.io/?EIO=4&transport=polling&sid=abc", timeout=5)
    assert (response.status_code, response.json()["code"]) == (400, 1)
    response = requests.get(f"{server.url}/engine.io/?EIO=3&transport=polling", timeout=5)
    assert (response.status_code, response.json()["code"]) == (400, 5)
    response = requests.get(f"{server.url}/elsewhere", timeout=5)
    assert response.status_code == 404


def test_a_silent_client_times_out(server):
    import requests

    body = requests.get(f"{server.url}/engine.io/?EIO=4&transport=polling", timeout=5).text
    sid = engineio_rs.packet.Packet(encoded_packet=body.split("\x1e")[0]).data["sid"]
    assert server.next_event("disconnect")[1] == "ping timeout"
    response = requests.get(f"{server.url}/engine.io/?EIO=4&transport=polling&sid={sid}", timeout=5)
    assert response.status_code == 400


def test_unknown_async_modes_are_refused():
    with pytest.raises(ValueError):
        engineio_rs.AsyncServer(async_mode="eventlet")
    assert asyncio.iscoroutinefunction(engineio_rs.AsyncServer().send)


def test_the_node_engine_io_client_upgrades_and_keeps_order(server):
    assert_node_client_upgrades_and_keeps_order(server.url)


def test_a_legacy_disconnect_handler_without_the_reason_is_called():
    running = Running("asgi", engineio_rs, ping_interval=0.5, ping_timeout=1)
    try:
        gone = queue.Queue()
        running.eio.on("disconnect", lambda sid: gone.put(sid))
        client, _ = client_for(["websocket"])
        client.connect(running.url, transports=["websocket"])
        sid = running.next_event("connect")[1]
        client.disconnect()
        assert gone.get(timeout=10) == sid
        assert sid not in running.eio.sockets and sid not in running.eio.environ
    finally:
        running.stop()
