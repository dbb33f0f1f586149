"""Native mode: our Rust server owns the sockets and the protocol, the
Python handlers run on worker threads (``Server(async_mode="native")``) or
on the application's asyncio loop (``AsyncServer(async_mode="native")``).
Tested with python-engineio's client and the Node client over polling,
WebSocket and the upgrade, and with python-socketio on top."""

import asyncio
import json
import queue
import threading
import time

import engineio
import engineio_rs
import pytest
import requests
from servers import Running, assert_node_client_upgrades_and_keeps_order, free_port

KINDS = ["native-async", "native-threads"]


@pytest.fixture(params=KINDS)
def server(request):
    running = Running(request.param, engineio_rs, ping_interval=0.5, ping_timeout=1)
    yield running
    running.stop()


def client_for():
    replies = queue.Queue()
    client = engineio.Client()
    client.on("message", lambda data: replies.put(data))
    return client, replies


@pytest.mark.parametrize("transports", [["polling"], ["websocket"], ["polling", "websocket"]])
def test_echo_over_each_transport(server, transports):
    client, replies = client_for()
    client.connect(server.url, transports=transports)
    sid = server.next_event("connect")[1]
    assert server.eio.environ[sid]["REMOTE_ADDR"] == "127.0.0.1"
    for data in ["hello", "héllo 👋", "x" * 5000, b"\x00\x01\xff", {"a": [1, 2]}]:
        client.send(data)
        assert replies.get(timeout=10) == data
    if len(transports) == 2:
        deadline = time.monotonic() + 10
        while client.transport() != "websocket":
            assert time.monotonic() < deadline, "no upgrade"
            time.sleep(0.05)
        assert server.eio.transport(sid) == "websocket"
    time.sleep(1.2)  # through heartbeats (0.5 s interval)
    client.send("still here")
    assert replies.get(timeout=10) == "still here"
    client.disconnect()
    reasons = ("client disconnect", "transport close")
    assert server.next_event("disconnect")[1] in reasons
    assert sid not in server.eio.sockets


def test_a_server_disconnect_reaches_the_client(server):
    client, _ = client_for()
    closed = threading.Event()
    client.on("disconnect", lambda *args: closed.set())
    client.connect(server.url, transports=["websocket"])
    client.send("cmd:close")
    assert closed.wait(10)
    assert server.next_event("disconnect")[1] == "server disconnect"


def test_a_rejected_connection_gets_401_with_the_handlers_data(server):
    client = engineio.Client()
    with pytest.raises(engineio.exceptions.ConnectionError) as refused:
        client.connect(server.url, headers={"X-Reject": "1"}, transports=["polling"])
    assert refused.value.args[1] == {"reason": "rejected by the test"}
    assert not server.eio.sockets


def test_unknown_sessions_get_the_node_answer(server):
    response = requests.get(f"{server.url}/engine.io/?EIO=4&transport=polling&sid=abc", timeout=5)
    assert (response.status_code, response.json()) == (
        400,
        {"code": 1, "message": "Session ID unknown"},
    )
    with pytest.raises(RuntimeError):
        if server.kind == "native-async":
            asyncio.run(server.eio.handle_request({}, None, None))
        else:
            server.eio.handle_request({}, None)


def test_the_node_engine_io_client_upgrades_and_keeps_order(server):
    assert_node_client_upgrades_and_keeps_order(server.url)


@pytest.mark.parametrize("kind", KINDS)
def test_ordered_handlers_keep_order_and_the_heartbeat(kind):
    running = Running(kind, engineio_rs, ping_interval=0.3, ping_timeout=0.5, async_handlers=False)
    try:
        handled = queue.Queue()
        if kind == "native-async":

            async def slow(sid, data):
                await asyncio.sleep(0.3)
                handled.put(data)

        else:

            def slow(sid, data):
                time.sleep(0.3)
                handled.put(data)

        running.eio.on("message", slow)
        client, _ = client_for()
        client.connect(running.url, transports=["websocket"])
        for n in range(5):
            client.send(f"m{n}")
        # 1.5 s of handlers, three times ping_interval + ping_timeout.
        assert [handled.get(timeout=10) for _ in range(5)] == [f"m{n}" for n in range(5)]
        assert client.state == "connected"
        client.disconnect()
    finally:
        running.stop()


def test_shutdown_runs_the_disconnect_handlers_and_ends_run():
    running = Running("native-threads", engineio_rs)
    client, _ = client_for()
    client.connect(running.url, transports=["websocket"])
    running.next_event("connect")
    running.stop()  # asserts that run() returned
    assert running.next_event("disconnect")[1] == "server disconnect"


def test_run_needs_native_mode():
    with pytest.raises(RuntimeError):
        engineio_rs.Server().run("127.0.0.1", free_port())
    with pytest.raises(RuntimeError):
        asyncio.run(engineio_rs.AsyncServer().run("127.0.0.1", free_port()))


def wsgi_app(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    answer = json.dumps(
        {
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "query": environ["QUERY_STRING"],
            "header": environ.get("HTTP_X_TEST"),
            "body": body.decode(),
        }
    ).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("X-App", "wsgi")])
    return [answer]


class AsgiApp:
    """A raw ASGI app with a lifespan that fills the state."""

    def __init__(self):
        self.lifespan = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                event = await receive()
                self.lifespan.append(event["type"])
                if event["type"] == "lifespan.startup":
                    scope["state"]["greeting"] = "hi"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        request = await receive()
        headers = dict(scope["headers"])
        answer = json.dumps(
            {
                "method": scope["method"],
                "path": scope["path"],
                "query": scope["query_string"].decode(),
                "header": headers.get(b"x-test", b"").decode() or None,
                "body": request["body"].decode(),
                "state": scope["state"]["greeting"],
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-type", b"application/json"), (b"x-app", b"asgi")],
            }
        )
        await send({"type": "http.response.body", "body": answer})


@pytest.mark.parametrize("kind", KINDS)
def test_other_paths_go_to_the_application_after_static_files(kind, tmp_path):
    (tmp_path / "index.html").write_text("home")
    asgi = AsgiApp()
    app = {"other_asgi_app": asgi} if kind == "native-async" else {"wsgi_app": wsgi_app}
    options = {"static_files": {"/": str(tmp_path / "index.html")}, **app}
    running = Running(kind, engineio_rs, app_options=options)
    try:
        assert requests.get(running.url + "/", timeout=5).text == "home"
        response = requests.post(
            running.url + "/api/items%20x?page=2",
            data="payload",
            headers={"X-Test": "yes"},
            timeout=5,
        )
        assert response.status_code == 201
        assert response.headers["X-App"] == ("asgi" if kind == "native-async" else "wsgi")
        answer = response.json()
        assert answer.pop("state", "hi") == "hi"
        assert answer == {
            "method": "POST",
            "path": "/api/items x",
            "query": "page=2",
            "header": "yes",
            "body": "payload",
        }
        # The engine.io path is still the server's.
        client, replies = client_for()
        client.connect(running.url, transports=["websocket"])
        client.send("through")
        assert replies.get(timeout=10) == "through"
        client.disconnect()
    finally:
        running.stop()
    if kind == "native-async":
        assert asgi.lifespan == ["lifespan.startup", "lifespan.shutdown"]


def test_without_an_application_other_paths_get_404():
    running = Running("native-threads", engineio_rs)
    try:
        response = requests.get(running.url + "/nothing", timeout=5)
        assert (response.status_code, response.text) == (404, "Not Found")
    finally:
        running.stop()
