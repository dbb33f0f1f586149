"""engineio_rs.Server (threading mode) under werkzeug's threaded WSGI
server: python-engineio's client and the Node client over polling,
WebSocket (through simple-websocket) and the upgrade; rejection; the
disconnect reasons. Where python-engineio's own ``Server`` behaves the same,
the test runs against it too, so a difference fails the pair."""

import json
import queue
import threading
import time

import engineio
import engineio_rs
import pytest
import requests
from servers import IMPLEMENTATIONS, Running, assert_node_client_upgrades_and_keeps_order


@pytest.fixture(params=list(IMPLEMENTATIONS))
def pair(request):
    running = Running("wsgi", IMPLEMENTATIONS[request.param], ping_interval=0.5, ping_timeout=1)
    yield running
    running.stop()


@pytest.fixture
def server():
    running = Running("wsgi", engineio_rs, ping_interval=0.5, ping_timeout=1)
    yield running
    running.stop()


def client_for():
    replies = queue.Queue()
    client = engineio.Client()
    client.on("message", lambda data: replies.put(data))
    return client, replies


@pytest.mark.parametrize("transports", [["polling"], ["websocket"], ["polling", "websocket"]])
def test_python_engineio_client_echo_over_each_transport(pair, transports):
    client, replies = client_for()
    client.connect(pair.url, transports=transports)
    pair.next_event("connect")
    for data in ["hello", "héllo 👋", "x" * 5000, b"\x00\x01\xff", {"a": [1, 2]}]:
        client.send(data)
        assert replies.get(timeout=10) == data
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
    reasons = ("client disconnect", "transport close", "ping timeout")
    assert pair.next_event("disconnect")[1] in reasons


def test_ordered_handlers_keep_the_order_of_messages():
    # With async_handlers (the default) each message gets its own thread,
    # as in python-engineio, so only the start order is kept.
    running = Running("wsgi", engineio_rs, async_handlers=False)
    try:
        client, replies = client_for()
        client.connect(running.url, transports=["polling"])
        for n in range(200):
            client.send(f"n{n}")
        assert [replies.get(timeout=10) for _ in range(200)] == [f"n{n}" for n in range(200)]
        client.disconnect()
    finally:
        running.stop()


def test_a_server_disconnect_reaches_the_client(pair):
    client, _ = client_for()
    closed = threading.Event()
    client.on("disconnect", lambda *args: closed.set())
    client.connect(pair.url, transports=["polling"])
    client.send("cmd:close")
    assert closed.wait(10)
    assert pair.next_event("disconnect")[1] == "server disconnect"


def test_disconnect_returns_at_once_on_a_polling_session(server):
    # python-engineio's threading Server can hang here (its close waits for
    # a queue that no poll drains); ours only asks the core to close.
    sid = requests.get(f"{server.url}/engine.io/?EIO=4&transport=polling", timeout=5)
    sid = json.loads(sid.text[1:])["sid"]
    closer = threading.Thread(target=server.eio.disconnect, args=(sid,))
    closer.start()
    closer.join(5)
    assert not closer.is_alive()
    assert server.next_event("disconnect")[1] == "server disconnect"


def test_a_rejected_connection_gets_401_with_the_handlers_data(pair):
    client = engineio.Client()
    with pytest.raises(engineio.exceptions.ConnectionError) as refused:
        client.connect(pair.url, headers={"X-Reject": "1"}, transports=["polling"])
    assert refused.value.args[1] == {"reason": "rejected by the test"}


def test_a_rejected_websocket_handshake_gets_an_http_401(server):
    # Under WSGI the refusal can be an HTTP answer (ASGI closes the socket).
    response = requests.get(
        f"{server.url}/engine.io/?EIO=4&transport=websocket",
        headers={
            "X-Reject": "1",
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json() == {"reason": "rejected by the test"}


def test_unknown_sessions_and_bad_requests_get_the_node_answers(server):
    response = requests.get(f"{server.url}/engine.io/?EIO=4&transport=polling&sid=abc", timeout=5)
    assert (response.status_code, response.json()) == (
        400,
        {"code": 1, "message": "Session ID unknown"},
    )
    response = requests.get(f"{server.url}/engine.io/?EIO=3&transport=polling", timeout=5)
    assert (response.status_code, response.json()["code"]) == (400, 5)
    response = requests.put(f"{server.url}/engine.io/?EIO=4&transport=polling", timeout=5)
    assert response.status_code == 400
    response = requests.get(f"{server.url}/elsewhere", timeout=5)
    assert (response.status_code, response.text) == (404, "Not Found")


def test_a_post_over_the_limit_gets_413_and_the_session_goes_on():
    # As the Node server does (python-engineio closes the session).
    running = Running("wsgi", engineio_rs, max_http_buffer_size=100)
    try:
        body = requests.get(f"{running.url}/engine.io/?EIO=4&transport=polling", timeout=5).text
        sid = json.loads(body[1:])["sid"]
        url = f"{running.url}/engine.io/?EIO=4&transport=polling&sid={sid}"
        assert requests.post(url, data="4" + "x" * 200, timeout=5).status_code == 413
        assert requests.post(url, data="4small", timeout=5).text == "ok"
        assert running.next_event("message")[1] == "small"
        assert requests.get(url, timeout=5).text == "4small"
    finally:
        running.stop()


def test_a_silent_client_times_out(server):
    body = requests.get(f"{server.url}/engine.io/?EIO=4&transport=polling", timeout=5).text
    sid = json.loads(body[1:])["sid"]
    assert server.next_event("disconnect")[1] == "ping timeout"
    response = requests.get(f"{server.url}/engine.io/?EIO=4&transport=polling&sid={sid}", timeout=5)
    assert response.status_code == 400


def test_ordered_handlers_do_not_hold_up_the_heartbeat():
    running = Running("wsgi", engineio_rs, ping_interval=0.3, ping_timeout=0.5)
    try:
        handled = queue.Queue()

        def slow(sid, data):
            time.sleep(0.6)  # longer than ping_interval + ping_timeout
            handled.put(data)

        running.eio.on("message", slow)
        running.eio.async_handlers = False
        client, _ = client_for()
        client.connect(running.url, transports=["websocket"])
        for n in range(3):
            client.send(f"m{n}")
        assert [handled.get(timeout=10) for _ in range(3)] == ["m0", "m1", "m2"]
        assert client.state == "connected"
        client.disconnect()
    finally:
        running.stop()


def test_sessions_and_background_tasks(server):
    sid = None
    client, replies = client_for()
    client.connect(server.url, transports=["websocket"])
    sid = server.next_event("connect")[1]
    with server.eio.session(sid) as session:
        session["user"] = "ada"
    assert server.eio.get_session(sid) == {"user": "ada"}
    assert server.eio.transport(sid) == "websocket"
    task = server.eio.start_background_task(server.eio.send, sid, "from a task")
    task.join(5)
    assert replies.get(timeout=10) == "from a task"
    client.disconnect()
    with pytest.raises(KeyError):
        server.next_event("disconnect")
        server.eio.get_session(sid)


@pytest.fixture
def ordered():
    running = Running("wsgi", engineio_rs, ping_interval=0.5, ping_timeout=1, async_handlers=False)
    yield running
    running.stop()


def test_the_node_engine_io_client_upgrades_and_keeps_order(ordered):
    server = ordered
    assert_node_client_upgrades_and_keeps_order(server.url)


def test_modes_and_primitives():
    with pytest.raises(ValueError):
        engineio_rs.Server(async_mode="eventlet")
    eio = engineio_rs.Server()
    assert eio.async_mode == "threading" and not eio.is_asyncio_based()
    assert isinstance(eio.create_queue(), queue.Queue)
    assert isinstance(eio.create_event(), threading.Event)
    assert eio.get_queue_empty_exception() is queue.Empty


@pytest.mark.parametrize("kind", ["wsgi", "asgi", "native-async", "native-threads"])
def test_a_websocket_message_over_the_limit_closes_the_session(kind):
    # As the Node server does (its e14): close code 1009, "transport error".
    import websocket

    running = Running(kind, engineio_rs, max_http_buffer_size=100)
    try:
        url = running.url.replace("http", "ws") + "/engine.io/?EIO=4&transport=websocket"
        ws = websocket.create_connection(url, timeout=5)
        assert ws.recv().startswith("0")
        ws.send("4" + "x" * 200)
        opcode, frame = ws.recv_data(control_frame=True)
        while opcode != websocket.ABNF.OPCODE_CLOSE:
            opcode, frame = ws.recv_data(control_frame=True)
        assert int.from_bytes(frame[:2], "big") == 1009
        assert running.next_event("disconnect")[1] == "transport error"
    finally:
        running.stop()
