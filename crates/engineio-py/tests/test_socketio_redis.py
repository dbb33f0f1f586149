"""Three python-socketio nodes on our engine (``engineio_rs.socketio``), each
with python-socketio's ``AsyncRedisManager`` on one real redis-server:
emits from one node reach clients of the others (issue 14's check that
python-socketio's own scale-out works unchanged on our engine). The clients
are python-socketio's, on python-engineio, over WebSocket, one per node."""

import os
import queue
import shutil
import socket
import subprocess
import time

import pytest
import socketio as upstream_socketio
from engineio_rs import socketio
from servers import free_port, serve_asgi


def redis_server_binary():
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if found is None:
        if os.environ.get("EIO_INTEROP") == "require":
            pytest.fail("redis-server is missing: run scripts/install-test-deps.sh")
        pytest.skip("redis-server is not installed")
    return found


@pytest.fixture
def redis_url():
    binary = redis_server_binary()
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    process.kill()
    process.wait()


def start_node(redis_url):
    """A python-socketio node on our engine: ``relay`` sends ``note`` to
    one sid (wherever it is connected), ``shout`` sends it to everyone."""
    sio = socketio.AsyncServer(
        async_mode="asgi", client_manager=socketio.AsyncRedisManager(redis_url)
    )

    @sio.event
    async def relay(sid, data):
        await sio.emit("note", data["text"], to=data["to"])

    @sio.event
    async def shout(sid, text):
        await sio.emit("note", text)

    port = free_port()
    server, thread = serve_asgi(socketio.ASGIApp(sio), port)
    return server, thread, f"http://127.0.0.1:{port}"


def connect_client(url):
    client = upstream_socketio.Client(reconnection=False)
    notes = queue.Queue()
    client.on("note", notes.put)
    client.connect(url, transports=["websocket"], wait_timeout=10)
    return client, notes


def test_redis_manager_emits_cross_nodes_on_our_engine(redis_url):
    nodes = [start_node(redis_url) for _ in range(3)]
    clients = [connect_client(url) for _, _, url in nodes]
    try:
        # Each node's manager subscribes once its first client connected.
        time.sleep(1.0)
        sids = [client.get_sid() for client, _ in clients]

        # From node 0 to the client of node 2.
        clients[0][0].emit("relay", {"to": sids[2], "text": "for 2"})
        assert clients[2][1].get(timeout=5) == "for 2"

        # From node 1 to everyone: one copy each.
        clients[1][0].emit("shout", "to all")
        for _, notes in clients:
            assert notes.get(timeout=5) == "to all"
        time.sleep(0.3)
        for _, notes in clients:
            assert notes.empty(), list(notes.queue)
    finally:
        for client, _ in clients:
            client.disconnect()
        for server, thread, _ in nodes:
            server.should_exit = True
            thread.join(timeout=5)
