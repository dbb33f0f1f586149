"""Echo servers for the tests: ours (``engineio_rs``) or python-engineio's
(``engineio``), as ``AsyncServer`` under uvicorn (``"asgi"``), ``Server``
under werkzeug's threaded server (``"wsgi"``), or ours in native mode
(``"native-async"``, ``"native-threads"``), on 127.0.0.1, each in a
thread.

Every message is echoed, except ``cmd:close`` (the server disconnects the
session). A handshake with the ``X-Reject`` header is refused with data.
Events go to ``Running.events``: ``("connect", sid)``, ``("message",
data)``, ``("disconnect", reason)``.
"""

import json
import pathlib
import queue
import socket
import subprocess
import threading
import time

import engineio
import engineio_rs

IMPLEMENTATIONS = {"ours": engineio_rs, "python-engineio": engineio}


INTEROP = pathlib.Path(__file__).resolve().parents[3] / "interop"


def assert_node_client_upgrades_and_keeps_order(url):
    """The Node engine.io-client (``interop/server/node_client.js``) sends
    numbered messages, some while it upgrades: all come back in order, the
    upgrade happens, and the close is clean."""
    options = {
        "sequence": {"count": 20, "burst": 5, "everyMs": 20, "atUpgrade": 3},
        "expect": 23,
        "waitUpgrade": True,
        "closeWhenDone": True,
    }
    run = subprocess.run(
        ["node", "server/node_client.js", f"{url}/engine.io/", json.dumps(options)],
        cwd=INTEROP,
        capture_output=True,
        text=True,
        timeout=60,
    )
    events = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    kinds = [e["event"] for e in events]
    assert "upgrade" in kinds, run.stdout + run.stderr
    echoed = [e["text"] for e in events if e["event"] == "message"]
    assert echoed == [f"seq-{n}" for n in range(23)], echoed
    assert kinds[-1] == "close", kinds


def serve_asgi(app, port):
    """Runs ``app`` under uvicorn on 127.0.0.1:``port`` in a thread; returns
    ``(uvicorn server, thread)`` once it accepts."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return server, thread


def serve_wsgi(app, port):
    """Runs ``app`` under werkzeug's threaded server on 127.0.0.1:``port``
    in a thread; returns ``(werkzeug server, thread)``."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Running:
    """An echo server of ``impl`` (a module) served as ``kind``;
    ``app_options`` go to ``ASGIApp``/``WSGIApp`` (or native ``run()``)."""

    def __init__(self, kind="asgi", impl=engineio_rs, app_options=None, **options):
        self.kind = kind
        self.events = queue.Queue()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if kind == "asgi":
            self.eio = impl.AsyncServer(async_mode="asgi", **options)
            self._handlers(asynchronous=True)
            self._serve_asgi(impl.ASGIApp(self.eio, **(app_options or {})))
        elif kind == "native-async":
            self.eio = impl.AsyncServer(async_mode="native", **options)
            self._handlers(asynchronous=True)
            self._serve_native_async(app_options or {})
        elif kind == "native-threads":
            self.eio = impl.Server(async_mode="native", **options)
            self._handlers(asynchronous=False)
            self._serve_native_threads(app_options or {})
        else:
            self.eio = impl.Server(async_mode="threading", **options)
            self._handlers(asynchronous=False)
            self._serve_wsgi(impl.WSGIApp(self.eio, **(app_options or {})))

    def _handlers(self, asynchronous):
        eio = self.eio

        @eio.on("connect")
        def connect(sid, environ):
            if environ.get("HTTP_X_REJECT"):
                return {"reason": "rejected by the test"}
            self.events.put(("connect", sid))
            return None

        if asynchronous:

            @eio.on("message")
            async def message(sid, data):
                self.events.put(("message", data))
                if data == "cmd:close":
                    await eio.disconnect(sid)
                else:
                    await eio.send(sid, data)

        else:

            @eio.on("message")
            def message(sid, data):
                self.events.put(("message", data))
                if data == "cmd:close":
                    eio.disconnect(sid)
                else:
                    eio.send(sid, data)

        @eio.on("disconnect")
        def disconnect(sid, reason):
            self.events.put(("disconnect", reason))

    def _serve_asgi(self, app):
        self.server, self.thread = serve_asgi(app, self.port)

    def _serve_wsgi(self, app):
        self.server, self.thread = serve_wsgi(app, self.port)

    def _serve_native_async(self, app_options):
        import asyncio

        self.loop = asyncio.new_event_loop()
        run = self.eio.run("127.0.0.1", self.port, close_timeout=0.5, **app_options)
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(run,), daemon=True
        )
        self.thread.start()
        self._wait_native()

    def _serve_native_threads(self, app_options):
        self.thread = threading.Thread(
            target=self.eio.run,
            args=("127.0.0.1", self.port),
            kwargs={"close_timeout": 0.5, **app_options},
            daemon=True,
        )
        self.thread.start()
        self._wait_native()

    def _wait_native(self):
        deadline = time.monotonic() + 10
        while self.eio.native_port is None:
            assert time.monotonic() < deadline, "the native server did not start"
            time.sleep(0.02)

    def next_event(self, kind):
        deadline = time.monotonic() + 10
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event[0] == kind:
                return event

    def stop(self):
        if self.kind == "asgi":
            self.server.should_exit = True
        elif self.kind == "native-async":
            import asyncio

            asyncio.run_coroutine_threadsafe(self.eio.shutdown(), self.loop).result(10)
        elif self.kind == "native-threads":
            self.eio.shutdown()
        else:
            self.server.shutdown()
        self.thread.join(10)
        assert not self.thread.is_alive(), f"the {self.kind} server did not stop"
