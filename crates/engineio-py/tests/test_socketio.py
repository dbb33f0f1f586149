"""python-socketio on our engine (``engineio_rs.socketio``): a chat app with
rooms, acknowledgements both ways and broadcasts, served by
``socketio.AsyncServer`` under uvicorn and natively, and by
``socketio.Server`` under werkzeug and natively, with the Node
``socket.io-client`` over polling, WebSocket and the upgrade, and
python-socketio's clients on python-engineio and on ours."""

import asyncio
import json
import pathlib
import queue
import subprocess
import threading
import time

import pytest
import socketio as upstream_socketio
from engineio_rs import socketio
from servers import free_port, serve_asgi, serve_wsgi

INTEROP = pathlib.Path(__file__).resolve().parents[3] / "interop"


class ChatServer:
    """python-socketio's chat pattern: ``echo`` and ``join`` answer with an
    ack, ``chat`` goes to the sender's room except the sender."""

    def __init__(self, kind):
        self.kind = kind
        self.names = {}
        self.loop = None
        self.disconnects = queue.Queue()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if kind == "asgi":
            self.sio = socketio.AsyncServer(async_mode="asgi", ping_interval=1, ping_timeout=2)
            self._async_handlers()
            self._serve_asgi(socketio.ASGIApp(self.sio))
        elif kind == "native-async":
            self.sio = socketio.AsyncServer(async_mode="native", ping_interval=1, ping_timeout=2)
            self._async_handlers()
            self._serve_native_async()
        elif kind == "native-threads":
            self.sio = socketio.Server(async_mode="native", ping_interval=1, ping_timeout=2)
            self._sync_handlers()
            self._serve_native_threads()
        else:
            self.sio = socketio.Server(async_mode="threading", ping_interval=1, ping_timeout=2)
            self._sync_handlers()
            self._serve_wsgi(socketio.WSGIApp(self.sio))

    def _room_of(self, sid):
        return next(room for room in self.sio.rooms(sid) if room != sid)

    def _async_handlers(self):
        sio = self.sio

        @sio.event
        async def connect(sid, environ):
            self.loop = asyncio.get_running_loop()

        @sio.event
        async def echo(sid, data):
            self.names[data.get("name")] = sid
            return data

        @sio.event
        async def join(sid, room):
            await sio.enter_room(sid, room)
            return f"joined {room}"

        @sio.event
        async def chat(sid, text):
            await sio.emit("chat", {"text": text}, room=self._room_of(sid), skip_sid=sid)

        @sio.event
        def disconnect(sid, reason):
            self.disconnects.put(reason)

    def _sync_handlers(self):
        sio = self.sio

        @sio.event
        def echo(sid, data):
            self.names[data.get("name")] = sid
            return data

        @sio.event
        def join(sid, room):
            sio.enter_room(sid, room)
            return f"joined {room}"

        @sio.event
        def chat(sid, text):
            sio.emit("chat", {"text": text}, room=self._room_of(sid), skip_sid=sid)

        @sio.event
        def disconnect(sid, reason):
            self.disconnects.put(reason)

    def run(self, method, *args, **kwargs):
        """Calls a server method from the test's thread."""
        result = getattr(self.sio, method)(*args, **kwargs)
        if self.kind in ("asgi", "native-async"):
            return asyncio.run_coroutine_threadsafe(result, self.loop).result(15)
        return result

    def _serve_asgi(self, app):
        self.server, self.thread = serve_asgi(app, self.port)

    def _serve_wsgi(self, app):
        self.server, self.thread = serve_wsgi(app, self.port)

    def _serve_native_async(self):
        self.loop = asyncio.new_event_loop()
        run = self.sio.run("127.0.0.1", self.port, close_timeout=0.5)
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(run,), daemon=True
        )
        self.thread.start()
        self._wait_native()

    def _serve_native_threads(self):
        self.thread = threading.Thread(
            target=self.sio.run,
            args=("127.0.0.1", self.port),
            kwargs={"close_timeout": 0.5},
            daemon=True,
        )
        self.thread.start()
        self._wait_native()

    def _wait_native(self):
        deadline = time.monotonic() + 10
        while self.sio.eio.native_port is None:
            assert time.monotonic() < deadline, "the native server did not start"
            time.sleep(0.02)

    def stop(self):
        if self.kind == "asgi":
            self.server.should_exit = True
        elif self.kind == "native-async":
            asyncio.run_coroutine_threadsafe(self.sio.shutdown(), self.loop).result(10)
        elif self.kind == "native-threads":
            self.sio.shutdown()
        else:
            self.server.shutdown()
        self.thread.join(10)


class NodeClient:
    """``interop/server/sio_client.js``: the Node socket.io-client."""

    def __init__(self, url, name, room, transports):
        options = {"name": name, "room": room, "transports": transports}
        self.proc = subprocess.Popen(
            ["node", "server/sio_client.js", url, json.dumps(options)],
            cwd=INTEROP,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.seen = []

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))
        self.lines.put({"event": "exit"})

    def expect(self, event, or_seen=False):
        """The next line of ``event`` (or, with ``or_seen``, one seen
        already)."""
        if or_seen:
            for line in self.seen:
                if line["event"] == event:
                    return line
        deadline = time.monotonic() + 20
        while True:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            self.seen.append(line)
            if line["event"] == event:
                return line
            assert line["event"] not in ("exit", "timeout", "connect_error"), self.seen

    def tell(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture(params=["asgi", "wsgi", "native-async", "native-threads"])
def chat(request):
    server = ChatServer(request.param)
    yield server
    server.stop()


@pytest.mark.parametrize(
    "transports", [["polling"], ["websocket"], ["polling", "websocket"]], ids=str
)
def test_node_socket_io_clients_chat_in_a_room(chat, transports):
    alice = NodeClient(chat.url, "alice", "r1", transports)
    bob = NodeClient(chat.url, "bob", "r1", ["polling", "websocket"])
    carol = NodeClient(chat.url, "carol", "r2", ["websocket"])
    try:
        for client, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            assert client.expect("echo")["ack"] == {"n": 1, "name": name}
            assert client.expect("joined")["ack"] == f"joined {'r2' if name == 'carol' else 'r1'}"
            client.expect("ready")
        if transports == ["polling", "websocket"]:
            assert alice.expect("upgrade", or_seen=True)["transport"] == "websocket"
        alice.tell("chat hello bob")
        assert bob.expect("chat")["data"] == {"text": "hello bob"}
        # A server-side call gets the client's ack back.
        answer = chat.run("call", "ask", "q1", to=chat.names["alice"], timeout=15)
        assert answer == "answer:q1"
        assert alice.expect("asked")["data"] == "q1"
        # A broadcast reaches every client; carol never saw room r1's chat.
        chat.run("emit", "chat", "to everyone")
        for client in (alice, bob, carol):
            assert client.expect("chat")["data"] == "to everyone"
        assert {"event": "chat", "data": {"text": "hello bob"}} not in carol.seen
        alice.tell("quit")
        assert alice.expect("disconnect")["reason"] == "io client disconnect"
        assert chat.disconnects.get(timeout=10) == "client disconnect"
    finally:
        for client in (alice, bob, carol):
            client.close()


@pytest.mark.parametrize("client_module", [upstream_socketio, socketio], ids=["upstream", "ours"])
def test_python_socketio_clients_call_and_receive(chat, client_module):
    received = queue.Queue()
    client = client_module.Client(reconnection=False)
    client.on("chat", lambda data: received.put(data))
    client.connect(chat.url, wait_timeout=10)
    try:
        assert client.call("echo", {"name": "py"}, timeout=10) == {"name": "py"}
        assert client.call("join", "r9", timeout=10) == "joined r9"
        chat.run("emit", "chat", "news", room="r9")
        assert received.get(timeout=10) == "news"
        assert client.transport() == "websocket" or client_module is upstream_socketio
    finally:
        client.disconnect()
    reason = chat.disconnects.get(timeout=10)
    if client_module is upstream_socketio:
        # python-engineio's client closes its WebSocket before its write
        # loop has sent the Socket.IO disconnect packet.
        assert reason in ("client disconnect", "transport close")
    else:
        assert reason == "client disconnect"


def test_a_refused_connection_raises_python_socketios_error(chat):
    @chat.sio.event
    def connect(sid, environ, auth):
        return False

    client = socketio.Client(reconnection=False)
    with pytest.raises(upstream_socketio.exceptions.ConnectionError):
        client.connect(chat.url, wait_timeout=5)


def test_the_admin_ui_can_instrument_the_server(chat):
    # python-socketio's admin UI wraps python-engineio internals; on our
    # engine it runs (without polling byte counts).
    chat.sio.instrument(auth=False)
    admin = upstream_socketio.Client(reconnection=False)
    sockets = queue.Queue()
    admin.on("all_sockets", lambda data: sockets.put(data), namespace="/admin")
    user = socketio.Client(reconnection=False)
    try:
        user.connect(chat.url, wait_timeout=10)
        admin.connect(chat.url, namespaces=["/admin"], wait_timeout=10)
        listed = sockets.get(timeout=10)
        assert any(s["id"] == user.get_sid() for s in listed), listed
    finally:
        admin.disconnect()
        user.disconnect()
