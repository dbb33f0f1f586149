"""engineio_rs.Client (threads) against real servers: the Node engine.io
server, python-engineio's AsyncServer under uvicorn, and ``eio serve``.
Where python-engineio's own Client behaves the same, the case runs with it
too (a difference fails the pair). The first cases drive the core's
``ClientConnection`` directly with a fake clock."""

import json
import queue
import subprocess
import sys
import threading
import time

import engineio
import engineio_rs
import pytest
from client_peers import PATIENCE, NodeServer, PythonServer, RustServer
from engineio_rs._core import ClientConnection

T0 = 1000.0
OPEN = (
    b'0{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,'
    b'"maxPayload":1000000}'
)

# ===== the core's client connection, on a fake clock =====


def test_the_core_drives_a_polling_handshake_and_the_upgrade():
    c = ClientConnection(T0)
    assert c.poll_transmit() == ("get",)
    c.handle_get(OPEN + b"\x1e4hello\x1ebAQI=", T0)
    kind, handshake = c.poll_event()
    assert (kind, handshake["sid"], handshake["pingInterval"]) == ("opened", "abc", 300)
    assert c.poll_event() == ("message", "hello")
    assert c.poll_event() == ("message", b"\x01\x02")
    assert (c.sid, c.ping_interval, c.ping_timeout, c.upgrades) == ("abc", 0.3, 0.2, ["websocket"])
    assert c.poll_transmit() == ("open_ws", 0)
    assert c.poll_transmit() == ("get",)
    assert c.next_deadline() == pytest.approx(T0 + 0.5)
    c.ws_opened(0, T0)
    assert c.poll_transmit() == ("ws_write", 0, ["2probe"], 0)
    c.handle_ws_text(0, "3probe", T0)
    assert c.poll_transmit() is None  # polling pauses until the GET returns
    c.handle_get(b"6", T0)
    assert c.poll_transmit() == ("ws_write", 0, ["5"], 0)
    assert c.poll_event() == ("upgraded", "websocket")
    c.send("x")
    c.send(b"\x00")
    assert c.poll_transmit() == ("ws_write", 0, ["4x", b"\x00"], 2)
    c.written(2)
    c.handle_ws_text(0, "1", T0)
    assert c.poll_transmit() == ("ws_close", 0)
    assert c.poll_event() == ("closed", "server disconnect")
    assert c.is_closed


def test_the_core_times_out_a_silent_server_and_refuses_sends():
    c = ClientConnection(T0, polling=False, max_queue=1)
    assert c.poll_transmit() == ("open_ws", 0)
    with pytest.raises(ValueError) as refused:
        c.send("too early")
    assert refused.value.args[0] == "closed"
    c.ws_opened(0, T0)
    c.handle_ws_text(0, OPEN.decode(), T0)
    assert c.poll_event()[0] == "opened"
    c.send("one")
    with pytest.raises(ValueError) as refused:
        c.send("two")
    assert refused.value.args[0] == "queue full"
    c.handle_timeout(T0 + 0.49)
    assert c.poll_event() is None
    c.handle_timeout(T0 + 0.5)
    assert c.poll_event() == ("closed", "ping timeout")
    assert c.next_deadline() is None


def test_the_core_refuses_the_separator_over_polling_and_explains_a_bad_handshake():
    c = ClientConnection(T0)
    c.poll_transmit()
    c.handle_get(OPEN, T0)
    with pytest.raises(ValueError) as refused:
        c.send("a\x1eb")
    assert refused.value.args[0] == "separator in text"
    bad = ClientConnection(T0)
    bad.poll_transmit()
    bad.handle_get(b"4not an open packet", T0)
    assert bad.poll_event() == ("closed", "transport error")
    assert "open packet" in bad.failure


# ===== against real servers =====

IMPLS = {"engineio_rs": engineio_rs.Client, "python-engineio": engineio.Client}
TRANSPORTS = [["polling"], ["websocket"], ["polling", "websocket"]]


@pytest.fixture(params=list(IMPLS))
def impl(request):
    return IMPLS[request.param]


class Recorder:
    """A client with handlers that record what they get."""

    def __init__(self, cls=engineio_rs.Client, **options):
        self.client = cls(handle_sigint=False, **options)
        self.messages = queue.Queue()
        self.disconnects = queue.Queue()
        self.connects = 0
        self.client.on("connect", self.on_connect)
        self.client.on("message", self.messages.put)
        self.client.on("disconnect", self.disconnects.put)

    def on_connect(self):
        self.connects += 1

    def next(self):
        return self.messages.get(timeout=PATIENCE)

    def reason(self):
        return self.disconnects.get(timeout=PATIENCE)


def expected_transport(transports):
    return "websocket" if "websocket" in transports else "polling"


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_echo_over_each_transport(impl, echo_server, transports):
    peer = Recorder(impl)
    client = peer.client
    client.connect(echo_server.url, transports=transports)
    # Both clients finish the upgrade before connect() returns.
    assert client.transport() == expected_transport(transports)
    assert peer.connects == 1
    assert client.state == "connected"
    for data in ["hello", "héllo 👋", "x" * 5000, b"\x00\x01\xff", {"a": [1, "b"]}]:
        client.send(data)
        assert peer.next() == data
    # Through heartbeats (every 0.5 s or 1 s) the session stays up.
    time.sleep(1.5)
    client.send("still here")
    assert peer.next() == "still here"
    client.disconnect()
    assert peer.reason() == "client disconnect"
    assert client.state == "disconnected"
    assert client.sid is None


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_echo_with_our_rust_server(transports):
    server = RustServer("--ping-interval", "500", "--ping-timeout", "1000")
    try:
        peer = Recorder()
        peer.client.connect(server.url, transports=transports)
        assert peer.client.transport() == expected_transport(transports)
        peer.client.send("hello")
        peer.client.send(b"\x01\x02")
        assert [peer.next(), peer.next()] == ["hello", b"\x01\x02"]
        peer.client.disconnect()
        assert peer.reason() == "client disconnect"
        assert server.next_disconnect() == "client disconnect"
    finally:
        server.stop()


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_many_messages_arrive_in_order_both_ways(node, transports):
    peer = Recorder()
    client = peer.client
    client.connect(node.url, transports=transports)
    # More than the core's queue takes (1024): send() waits for room.
    for n in range(2000):
        client.send(f"m{n}")
    assert [peer.next() for _ in range(2000)] == [f"m{n}" for n in range(2000)]
    client.send("cmd:burst 300")
    assert [peer.next() for _ in range(300)] == [f"burst:{n}" for n in range(300)]
    client.disconnect()


def test_messages_sent_during_the_upgrade_keep_their_order(node):
    peer = Recorder()
    sent = []

    def connect():
        # The probe runs meanwhile: these go over polling, then WebSocket.
        for n in range(50):
            sent.append(f"c{n}")
            peer.client.send(f"c{n}")

    peer.client.on("connect", connect)
    peer.client.connect(node.url)
    assert peer.client.transport() == "websocket"
    for n in range(50):
        peer.client.send(f"d{n}")
    expected = [f"c{n}" for n in range(50)] + [f"d{n}" for n in range(50)]
    assert [peer.next() for _ in range(100)] == expected
    peer.client.disconnect()


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_a_server_close_is_a_server_disconnect_and_ends_wait(impl, echo_server, transports):
    peer = Recorder(impl)
    client = peer.client
    client.connect(echo_server.url, transports=transports)
    waiter = threading.Thread(target=client.wait)
    waiter.start()
    client.send("cmd:close")
    expected = "server disconnect"
    if (
        impl is engineio.Client
        and isinstance(echo_server, NodeServer)
        and "websocket" in transports
    ):
        # Node closes a WebSocket without a close packet (just the close
        # frame): python-engineio calls that a transport error, we do not.
        expected = "transport error"
    reason = peer.reason()
    if isinstance(echo_server, PythonServer) and transports == ["polling"]:
        # python-engineio's server may mark the session closed before a GET
        # takes its close packet: that GET gets 400 ("transport error").
        assert reason in (expected, "transport error")
    else:
        assert reason == expected
    waiter.join(PATIENCE)
    assert not waiter.is_alive()
    assert client.state == "disconnected"


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_disconnect_reaches_the_server_and_never_waits_for_a_long_poll(transports):
    # With a 20 s ping interval the server holds each long poll for 20 s:
    # python-engineio's disconnect() waits for it; ours returns at once.
    server = PythonServer(ping_interval=20, ping_timeout=20)
    try:
        peer = Recorder()
        peer.client.connect(server.url, transports=transports)
        server.next_event("connect")
        peer.client.send("hello")
        assert peer.next() == "hello"
        started = time.monotonic()
        peer.client.disconnect()
        assert time.monotonic() - started < 10
        assert peer.reason() == "client disconnect"
        assert server.next_event("disconnect")[1] == "client disconnect"
    finally:
        server.stop()


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]])
def test_a_silent_server_is_a_ping_timeout(transports):
    server = NodeServer("--ping-interval", "300", "--ping-timeout", "200")
    try:
        peer = Recorder()
        peer.client.connect(server.url, transports=transports)
        peer.client.send("cmd:stop-pings")
        assert peer.next() == "pings stopped"
        assert peer.reason() == "ping timeout"
        assert peer.client.state == "disconnected"
        with pytest.raises(engineio_rs.exceptions.SocketIsClosedError):
            peer.client.send("too late")
    finally:
        server.stop()


def test_a_refused_handshake_raises_connection_error_with_the_servers_data(impl, python_server):
    client = impl(handle_sigint=False)
    errors = (engineio.exceptions.ConnectionError, engineio_rs.exceptions.ConnectionError)
    with pytest.raises(errors) as refused:
        client.connect(python_server.url, headers={"X-Reject": "go away"}, transports=["polling"])
    assert refused.value.args[1] == {"reason": "go away"}
    assert "401" in refused.value.args[0]
    assert client.state == "disconnected"


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]])
def test_the_node_servers_refusal_and_a_closed_port_raise_connection_error(transports):
    server = NodeServer("--reject", "go away")
    try:
        client = engineio_rs.Client(handle_sigint=False)
        with pytest.raises(engineio_rs.exceptions.ConnectionError) as refused:
            client.connect(server.url, transports=transports)
        if transports == ["polling"]:
            assert refused.value.args[1] == {"code": 4, "message": "go away"}
        else:
            assert "400" in refused.value.args[0]
        assert client.state == "disconnected"
    finally:
        server.stop()
    with pytest.raises(engineio_rs.exceptions.ConnectionError):
        client.connect("http://127.0.0.1:1", transports=transports)


def test_a_failed_connect_handler_fails_connect(impl, python_server):
    client = impl(handle_sigint=False)

    def connect():
        raise RuntimeError("no thanks")

    client.on("connect", connect)
    with pytest.raises(Exception) as failed:
        client.connect(python_server.url)
    assert type(failed.value).__name__ == "ConnectionError"
    assert "Connect handler failed" in failed.value.args[0]
    assert client.state == "disconnected"


def test_a_broken_upgrade_stays_on_polling(impl):
    server = NodeServer("--break-upgrades")
    try:
        peer = Recorder(impl)
        peer.client.connect(server.url)
        assert peer.client.transport() == "polling"
        peer.client.send("cmd:transport")
        assert peer.next() == "transport:polling"
        peer.client.disconnect()
    finally:
        server.stop()


def test_disconnect_from_a_message_handler(impl, node):
    peer = Recorder(impl)
    peer.client.on("message", lambda data: peer.client.disconnect())
    peer.client.connect(node.url, transports=["websocket"])
    peer.client.send("bye")
    assert peer.reason() == "client disconnect"
    peer.client.wait()
    if impl is engineio_rs.Client:
        # python-engineio's wait() may return before the handler's
        # disconnect() is over (its state is then still "disconnecting").
        assert peer.client.state == "disconnected"


def test_headers_go_with_every_request_and_cookies_reach_the_websocket():
    server = NodeServer("--cookie")
    try:
        peer = Recorder()
        peer.client.connect(server.url, headers={"X-Token": "t0k3n"})
        assert peer.client.transport() == "websocket"
        peer.client.send("cmd:headers")
        headers = json.loads(peer.next()[len("headers:") :])
        assert headers["polling"]["x-token"] == "t0k3n"
        assert headers["websocket"]["x-token"] == "t0k3n"
        assert "eio_test=yummy" in headers["websocket"]["cookie"]
        peer.client.disconnect()
    finally:
        server.stop()


def test_the_legacy_disconnect_handler_and_the_requested_reason(node):
    gone = queue.Queue()
    client = engineio_rs.Client(handle_sigint=False)
    client.on("disconnect", lambda: gone.put("called"))
    client.connect(node.url, transports=["websocket"])
    client.disconnect()
    assert gone.get(timeout=PATIENCE) == "called"
    peer = Recorder()
    peer.client.connect(node.url, transports=["polling"])
    peer.client.disconnect(abort=True, reason="my reason")
    assert peer.reason() == "my reason"


def test_the_api_surface():
    client = engineio_rs.Client(handle_sigint=False)
    assert client.state == "disconnected"
    assert client.transport() is None
    with pytest.raises(ValueError):
        client.on("bogus")
    with pytest.raises(ValueError):
        client.connect("http://127.0.0.1:1", transports=["carrier-pigeon"])
    with pytest.raises(engineio_rs.exceptions.SocketIsClosedError):
        client.send("nobody there")
    client.disconnect()  # not connected: nothing to do
    client.wait()
    assert engineio_rs.Client.reason.PING_TIMEOUT == "ping timeout"
    assert client.get_queue_empty_exception() is queue.Empty
    assert isinstance(client.create_event(), threading.Event)
    assert isinstance(client.create_queue(), queue.Queue)
    done = client.create_event()
    client.start_background_task(done.set).join(PATIENCE)
    assert done.is_set()


SIGINT_SCRIPT = """
import os, signal, sys, time
import engineio_rs

client = engineio_rs.Client()  # handle_sigint=True, made in the main thread
reasons = []
client.on("disconnect", reasons.append)
client.connect(sys.argv[1], transports=[sys.argv[2]])
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(60)
except KeyboardInterrupt:
    print("interrupted")
client.wait()
print(reasons, client.state)
"""


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_sigint_disconnects_then_interrupts(python_server, transport):
    run = subprocess.run(
        [sys.executable, "-c", SIGINT_SCRIPT, python_server.url, transport],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert run.stdout.split("\n")[:2] == [
        "interrupted",
        "['client disconnect'] disconnected",
    ], run.stderr
    assert python_server.next_event("disconnect")[1] == "client disconnect"
