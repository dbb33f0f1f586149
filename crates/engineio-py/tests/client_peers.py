"""The real servers the client tests run against, on 127.0.0.1 with free
ports: the official Node ``engine.io`` server (``interop/node/eio-server.js``),
python-engineio's ``AsyncServer`` under uvicorn, and this repository's
``eio serve``. Each is an echo server; see each class for its commands."""

import asyncio
import os
import pathlib
import queue
import shutil
import socket
import subprocess
import threading
import time

import engineio
import pytest
import uvicorn

ROOT = pathlib.Path(__file__).resolve().parents[3]
#: How long a test waits for something that happens at once on a sane
#: machine (a generous bound, never a timing assertion).
PATIENCE = 20


def free_port():
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing(what):
    """Skips a test whose peer is not installed, or fails it when
    ``EIO_INTEROP=require`` (as ``scripts/test.sh`` sets)."""
    if os.environ.get("EIO_INTEROP") == "require":
        pytest.fail(f"{what} is not installed and EIO_INTEROP=require")
    pytest.skip(f"{what} is not installed (run scripts/install-test-deps.sh)")


class NodeServer:
    """The Node ``engine.io`` echo server; ``args`` are its options (see the
    header of ``interop/node/eio-server.js``: ``--ping-interval MS``,
    ``--reject MESSAGE``, ``--cookie``, ``--break-upgrades``, ...). Text
    commands: ``cmd:close``, ``cmd:stop-pings``, ``cmd:transport``,
    ``cmd:headers``, ``cmd:burst N``."""

    def __init__(self, *args):
        script = ROOT / "interop" / "node" / "eio-server.js"
        if shutil.which("node") is None or not (ROOT / "interop" / "node_modules").is_dir():
            missing("node with the engine.io package")
        self.process = subprocess.Popen(
            ["node", str(script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        assert line.startswith("LISTENING"), f"the Node server did not start: {line!r}"
        self.url = f"http://127.0.0.1:{line.split()[1]}"

    def stop(self):
        """Stops the server."""
        self.process.terminate()
        self.process.wait(PATIENCE)


class PythonServer:
    """python-engineio's ``AsyncServer`` under uvicorn, echoing every
    message; ``cmd:close`` closes the session, ``cmd:burst N`` sends
    ``burst:0`` .. ``burst:N-1``, and a handshake with an ``X-Reject``
    header is refused with a JSON body. ``events`` records ``connect``,
    ``message`` and ``disconnect`` (with the reason)."""

    def __init__(self, **options):
        self.events = queue.Queue()
        self.eio = engineio.AsyncServer(async_mode="asgi", **options)

        @self.eio.on("connect")
        def connect(sid, environ):
            if environ.get("HTTP_X_REJECT"):
                return {"reason": environ["HTTP_X_REJECT"]}
            self.events.put(("connect", sid))
            return None

        @self.eio.on("message")
        async def message(sid, data):
            self.events.put(("message", data))
            if data == "cmd:close":
                await self.eio.disconnect(sid)
            elif isinstance(data, str) and data.startswith("cmd:burst "):
                for n in range(int(data.split()[1])):
                    await self.eio.send(sid, f"burst:{n}")
            else:
                await self.eio.send(sid, data)

        @self.eio.on("disconnect")
        def disconnect(sid, reason):
            self.events.put(("disconnect", reason))

        port = free_port()
        config = uvicorn.Config(
            engineio.ASGIApp(self.eio),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + PATIENCE
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"

    def next_event(self, kind):
        """The next recorded event of this kind."""
        deadline = time.monotonic() + PATIENCE
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event[0] == kind:
                return event

    def stop(self):
        """Stops uvicorn (without waiting for the long polls it holds)."""
        self.server.should_exit = True
        self.server.force_exit = True
        self.thread.join(PATIENCE)


class RustServer:
    """This repository's ``eio serve`` (an echo server), built by ``cargo
    build -p eio-cli`` (``scripts/test.sh`` builds it with the workspace's
    tests). Its output (``disconnect SID REASON`` lines) goes to ``lines``."""

    def __init__(self, *args):
        binary = ROOT / "target" / "debug" / "eio"
        if not binary.exists():
            missing("target/debug/eio (cargo build -p eio-cli)")
        self.process = subprocess.Popen(
            [str(binary), "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines = queue.Queue()
        banner = self.process.stdout.readline()
        assert "http://" in banner, f"eio serve did not start: {banner!r}"
        address = banner.split("http://")[1].split("/")[0]
        self.url = f"http://{address}"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.split())

    def next_disconnect(self):
        """The reason of the next disconnect the server logs."""
        deadline = time.monotonic() + PATIENCE
        while True:
            words = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            if words and words[0] == "disconnect":
                return " ".join(words[2:])

    def stop(self):
        """Stops the server."""
        self.process.terminate()
        self.process.wait(PATIENCE)


def run(coro):
    """Runs a coroutine on a new event loop (the tests do not need
    pytest-asyncio)."""
    return asyncio.run(coro)
