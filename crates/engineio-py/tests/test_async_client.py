"""engineio_rs.AsyncClient (asyncio) against real servers: the Node
engine.io server, python-engineio's AsyncServer under uvicorn, and ``eio
serve``. Where python-engineio's own AsyncClient behaves the same, the case
runs with it too (a difference fails the pair)."""

import asyncio
import json
import subprocess
import sys
import time

import engineio
import engineio_rs
import pytest
from client_peers import PATIENCE, NodeServer, PythonServer, RustServer, run

IMPLS = {"engineio_rs": engineio_rs.AsyncClient, "python-engineio": engineio.AsyncClient}
TRANSPORTS = [["polling"], ["websocket"], ["polling", "websocket"]]


@pytest.fixture(params=list(IMPLS))
def impl(request):
    return IMPLS[request.param]


class Recorder:
    """A client whose handlers record what they get: ``async def`` message
    and disconnect handlers, a plain connect handler."""

    def __init__(self, cls=engineio_rs.AsyncClient, **options):
        self.client = cls(handle_sigint=False, **options)
        self.messages = asyncio.Queue()
        self.disconnects = asyncio.Queue()
        self.connects = 0
        self.client.on("connect", self.on_connect)
        self.client.on("message", self.on_message)
        self.client.on("disconnect", self.on_disconnect)

    def on_connect(self):
        self.connects += 1

    async def on_message(self, data):
        await self.messages.put(data)

    async def on_disconnect(self, reason):
        await self.disconnects.put(reason)

    async def next(self):
        return await asyncio.wait_for(self.messages.get(), PATIENCE)

    async def reason(self):
        return await asyncio.wait_for(self.disconnects.get(), PATIENCE)


def expected_transport(transports):
    return "websocket" if "websocket" in transports else "polling"


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_echo_over_each_transport(impl, echo_server, transports):
    async def main():
        peer = Recorder(impl)
        client = peer.client
        await client.connect(echo_server.url, transports=transports)
        # Both clients finish the upgrade before connect() returns.
        assert client.transport() == expected_transport(transports)
        assert peer.connects == 1
        assert client.state == "connected"
        for data in ["hello", "héllo 👋", "x" * 5000, b"\x00\x01\xff", {"a": [1, "b"]}]:
            await client.send(data)
            assert await peer.next() == data
        # Through heartbeats (every 0.5 s or 1 s) the session stays up.
        await asyncio.sleep(1.5)
        await client.send("still here")
        assert await peer.next() == "still here"
        await client.disconnect()
        assert await peer.reason() == "client disconnect"
        assert client.state == "disconnected"
        assert client.sid is None

    run(main())


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_echo_with_our_rust_server(transports):
    server = RustServer("--ping-interval", "500", "--ping-timeout", "1000")

    async def main():
        peer = Recorder()
        await peer.client.connect(server.url, transports=transports)
        assert peer.client.transport() == expected_transport(transports)
        await peer.client.send("hello")
        await peer.client.send(b"\x01\x02")
        assert [await peer.next(), await peer.next()] == ["hello", b"\x01\x02"]
        await peer.client.disconnect()
        assert await peer.reason() == "client disconnect"

    try:
        run(main())
        assert server.next_disconnect() == "client disconnect"
    finally:
        server.stop()


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_many_messages_arrive_in_order_both_ways(node, transports):
    async def main():
        peer = Recorder()
        client = peer.client
        await client.connect(node.url, transports=transports)
        # More than the core's queue takes (1024): send() waits for room.
        for n in range(2000):
            await client.send(f"m{n}")
        assert [await peer.next() for _ in range(2000)] == [f"m{n}" for n in range(2000)]
        await client.send("cmd:burst 300")
        assert [await peer.next() for _ in range(300)] == [f"burst:{n}" for n in range(300)]
        await client.disconnect()

    run(main())


def test_slow_async_handlers_still_see_messages_in_order(node):
    async def main():
        seen = []
        done = asyncio.Event()
        client = engineio_rs.AsyncClient(handle_sigint=False)

        @client.on("message")
        async def message(data):
            # python-engineio runs each handler as its own task: a slower
            # first handler would finish last. Ours run one after another.
            await asyncio.sleep(0.02 if data == "m0" else 0)
            seen.append(data)
            if len(seen) == 10:
                done.set()

        await client.connect(node.url, transports=["websocket"])
        for n in range(10):
            await client.send(f"m{n}")
        await asyncio.wait_for(done.wait(), PATIENCE)
        assert seen == [f"m{n}" for n in range(10)]
        await client.disconnect()

    run(main())


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_a_server_close_is_a_server_disconnect_and_ends_wait(impl, echo_server, transports):
    async def main():
        peer = Recorder(impl)
        client = peer.client
        await client.connect(echo_server.url, transports=transports)
        waiter = asyncio.ensure_future(client.wait())
        await client.send("cmd:close")
        expected = "server disconnect"
        if impl is engineio.AsyncClient and isinstance(echo_server, NodeServer):
            if "websocket" in transports:
                # Node closes a WebSocket without a close packet (just the
                # close frame): python-engineio calls that a transport error.
                expected = "transport error"
        reason = await peer.reason()
        if isinstance(echo_server, PythonServer) and transports == ["polling"]:
            # python-engineio's server may mark the session closed before a
            # GET takes its close packet: that GET gets 400 ("transport
            # error").
            assert reason in (expected, "transport error")
        else:
            assert reason == expected
        await asyncio.wait_for(waiter, PATIENCE)
        assert client.state == "disconnected"

    run(main())


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_disconnect_reaches_the_server_and_never_waits_for_a_long_poll(transports):
    # With a 20 s ping interval the server holds each long poll for 20 s:
    # python-engineio's disconnect() waits for it; ours returns at once.
    server = PythonServer(ping_interval=20, ping_timeout=20)

    async def main():
        peer = Recorder()
        await peer.client.connect(server.url, transports=transports)
        await peer.client.send("hello")
        assert await peer.next() == "hello"
        started = time.monotonic()
        await peer.client.disconnect()
        assert time.monotonic() - started < 10
        assert await peer.reason() == "client disconnect"

    try:
        run(main())
        assert server.next_event("disconnect")[1] == "client disconnect"
    finally:
        server.stop()


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]])
def test_a_silent_server_is_a_ping_timeout(transports):
    server = NodeServer("--ping-interval", "300", "--ping-timeout", "200")

    async def main():
        peer = Recorder()
        await peer.client.connect(server.url, transports=transports)
        await peer.client.send("cmd:stop-pings")
        assert await peer.next() == "pings stopped"
        assert await peer.reason() == "ping timeout"
        assert peer.client.state == "disconnected"
        with pytest.raises(engineio_rs.exceptions.SocketIsClosedError):
            await peer.client.send("too late")

    try:
        run(main())
    finally:
        server.stop()


def test_a_refused_handshake_raises_connection_error_with_the_servers_data(python_server):
    # Not run with python-engineio's AsyncClient: it closes its session
    # before reading the refusal's body, so it loses the data now and then.
    async def main():
        client = engineio_rs.AsyncClient(handle_sigint=False)
        with pytest.raises(engineio_rs.exceptions.ConnectionError) as refused:
            await client.connect(
                python_server.url, headers={"X-Reject": "go away"}, transports=["polling"]
            )
        assert refused.value.args[1] == {"reason": "go away"}
        assert "401" in refused.value.args[0]
        assert client.state == "disconnected"

    run(main())


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]])
def test_the_node_servers_refusal_and_a_closed_port_raise_connection_error(transports):
    server = NodeServer("--reject", "go away")

    async def main():
        client = engineio_rs.AsyncClient(handle_sigint=False)
        with pytest.raises(engineio_rs.exceptions.ConnectionError) as refused:
            await client.connect(server.url, transports=transports)
        if transports == ["polling"]:
            assert refused.value.args[1] == {"code": 4, "message": "go away"}
        else:
            assert "400" in refused.value.args[0]
        assert client.state == "disconnected"
        with pytest.raises(engineio_rs.exceptions.ConnectionError):
            await client.connect("http://127.0.0.1:1", transports=transports)

    try:
        run(main())
    finally:
        server.stop()


def test_a_failed_connect_handler_fails_connect(impl, python_server):
    async def main():
        client = impl(handle_sigint=False)

        @client.on("connect")
        async def connect():
            raise RuntimeError("no thanks")

        with pytest.raises(Exception) as failed:
            await client.connect(python_server.url)
        assert type(failed.value).__name__ == "ConnectionError"
        assert "Connect handler failed" in failed.value.args[0]
        assert client.state == "disconnected"

    run(main())


def test_a_broken_upgrade_stays_on_polling(impl):
    server = NodeServer("--break-upgrades")

    async def main():
        peer = Recorder(impl)
        await peer.client.connect(server.url)
        assert peer.client.transport() == "polling"
        await peer.client.send("cmd:transport")
        assert await peer.next() == "transport:polling"
        await peer.client.disconnect()

    try:
        run(main())
    finally:
        server.stop()


def test_disconnect_from_a_message_handler(impl, node):
    async def main():
        peer = Recorder(impl)

        @peer.client.on("message")
        async def message(data):
            await peer.client.disconnect()

        await peer.client.connect(node.url, transports=["websocket"])
        await peer.client.send("bye")
        assert await peer.reason() == "client disconnect"
        await asyncio.wait_for(peer.client.wait(), PATIENCE)

    run(main())


def test_headers_go_with_every_request_and_cookies_reach_the_websocket():
    server = NodeServer("--cookie")

    async def main():
        peer = Recorder()
        await peer.client.connect(server.url, headers={"X-Token": "t0k3n"})
        assert peer.client.transport() == "websocket"
        await peer.client.send("cmd:headers")
        headers = json.loads((await peer.next())[len("headers:") :])
        assert headers["polling"]["x-token"] == "t0k3n"
        assert headers["websocket"]["x-token"] == "t0k3n"
        assert "eio_test=yummy" in headers["websocket"]["cookie"]
        await peer.client.disconnect()

    try:
        run(main())
    finally:
        server.stop()


def test_sync_and_legacy_handlers_and_the_requested_reason(node):
    async def main():
        got = []
        echoed = asyncio.Event()
        client = engineio_rs.AsyncClient(handle_sigint=False)

        @client.on("message")
        def message(data):
            got.append(data)
            echoed.set()

        client.on("disconnect", lambda: got.append("legacy disconnect"))
        await client.connect(node.url, transports=["websocket"])
        await client.send("hi")
        await asyncio.wait_for(echoed.wait(), PATIENCE)
        await client.disconnect()
        assert got == ["hi", "legacy disconnect"]
        peer = Recorder()
        await peer.client.connect(node.url, transports=["polling"])
        await peer.client.disconnect(abort=True, reason="my reason")
        assert await peer.reason() == "my reason"

    run(main())


def test_the_api_surface():
    async def main():
        client = engineio_rs.AsyncClient(handle_sigint=False)
        assert client.is_asyncio_based()
        assert client.state == "disconnected"
        with pytest.raises(ValueError):
            await client.connect("http://127.0.0.1:1", transports=["carrier-pigeon"])
        with pytest.raises(engineio_rs.exceptions.SocketIsClosedError):
            await client.send("nobody there")
        await client.disconnect()  # not connected: nothing to do
        await client.wait()
        assert client.get_queue_empty_exception() is asyncio.QueueEmpty
        assert isinstance(client.create_event(), asyncio.Event)
        assert isinstance(client.create_queue(), asyncio.Queue)
        done = client.create_event()

        async def task():
            await client.sleep(0)
            done.set()

        await asyncio.wait_for(client.start_background_task(task), PATIENCE)
        assert done.is_set()

    run(main())


SIGINT_SCRIPT = """
import asyncio, os, signal, sys
import engineio_rs

reasons = []

async def main():
    client = engineio_rs.AsyncClient()  # handle_sigint=True
    client.on("disconnect", reasons.append)
    await client.connect(sys.argv[1], transports=[sys.argv[2]])
    os.kill(os.getpid(), signal.SIGINT)
    await asyncio.sleep(60)

try:
    asyncio.run(main())
except KeyboardInterrupt:
    print("interrupted")
print(reasons)
"""


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_sigint_disconnects_then_interrupts(python_server, transport):
    run = subprocess.run(
        [sys.executable, "-c", SIGINT_SCRIPT, python_server.url, transport],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert run.stdout.split("\n")[:2] == ["interrupted", "['client disconnect']"], run.stderr
    assert python_server.next_event("disconnect")[1] == "client disconnect"
