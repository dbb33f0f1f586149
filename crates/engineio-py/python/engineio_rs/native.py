"""Native mode: our tokio/hyper server (``_core.NativeServer``) owns the
sockets and the protocol; the Python servers only run the handlers.

``Server(async_mode="native").run(host, port)`` takes the server's events
on a pool of worker threads (handlers are plain functions);
``await AsyncServer(async_mode="native").run(host, port)`` takes them on the
running asyncio loop (coroutine handlers become tasks, plain functions are
called on the loop). Each event carries a reply the handler's end completes:
a session's next message waits for its handler when ``async_handlers`` is
off, and only for its start when it is on (then handlers overlap, but start
in the order the messages came).
"""

import asyncio
import inspect
import io
import socket
import sys
import threading
import urllib.parse

from . import _core
from .base_server import BaseSocket, add_headers


class NativeSocket(BaseSocket):
    """A session of a native server: its sid, user session and transport
    (the state itself lives in the Rust server)."""

    def __init__(self, sid, native):
        self.sid = sid
        self.native = native
        self.session = {}
        self.gone = False

    @property
    def transport(self):
        """``"polling"`` or ``"websocket"`` (``KeyError`` once closed)."""
        transport = self.native.transport(self.sid)
        if transport is None:
            raise KeyError("Session is disconnected")
        return transport

    @property
    def upgraded(self):
        return self.native.transport(self.sid) == "websocket"

    @property
    def closed(self):
        return self.gone


def make_core(server, engineio_path, threads, close_timeout):
    """The Rust server for a Python server's options."""
    if not engineio_path.startswith("/"):
        engineio_path = "/" + engineio_path
    if not engineio_path.endswith("/"):
        engineio_path += "/"
    return _core.NativeServer(
        ping_interval=float(server.ping_interval),
        ping_grace=float(server.ping_interval_grace_period),
        ping_timeout=float(server.ping_timeout),
        max_http_buffer_size=server.max_http_buffer_size,
        allow_upgrades=server.allow_upgrades,
        transports=server.transports,
        http_compression=server.http_compression,
        compression_threshold=server.compression_threshold,
        cookie=server.cookie,
        cors_allowed_origins=server.cors_allowed_origins,
        cors_credentials=server.cors_credentials,
        # The Rust server hands over one session's messages in order, one
        # at a time; with `async_handlers` the runners release the next as
        # soon as a handler starts, so handlers overlap but start in order.
        async_handlers=False,
        engineio_path=engineio_path,
        close_timeout=float(close_timeout),
        threads=threads,
        max_sessions=server.max_sessions,
    )


def environ(request):
    """A WSGI-style environ for the connect handler, from the handshake
    request the Rust server reports."""
    method, path, query, headers, address, port, _transport = request
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "RAW_URI": path + ("?" + query if query else ""),
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": address,
        "REMOTE_PORT": str(port),
        "SERVER_NAME": "engineio_rs",
        "SERVER_PORT": "0",
    }
    add_headers(env, headers)
    env["wsgi.url_scheme"] = env.get("HTTP_X_FORWARDED_PROTO", "http")
    env["QUERY_PARAMS"] = urllib.parse.parse_qs(query)
    return env


def send(server, sid, data):
    """Sends a message on a native server; a refusal is logged, as
    python-engineio logs sends to unknown sessions."""
    try:
        server._native.send(sid, data)
    except ValueError as err:
        server.logger.warning("Cannot send to sid %s: %s", sid, err.args[-1])


def disconnect(server, sid):
    """Closes one session of a native server, or all of them."""
    sids = [sid] if sid is not None else list(server.sockets)
    for one in sids:
        server._native.disconnect(one)


def _opened(server, sid, request):
    sock = NativeSocket(sid, server._native)
    server.sockets[sid] = sock
    env = environ(request)
    server.environ[sid] = env
    return env


def _decided(server, sid, reply, ret):
    if ret is not None and ret is not True:
        server.sockets.pop(sid, None)
        server.environ.pop(sid, None)
        server.logger.warning("Application rejected connection")
        reply.reject(server._rejection_body(ret).decode())
    else:
        reply.accept()


def _closed(server, sid):
    sock = server.sockets.pop(sid, None)
    if sock is not None:
        sock.gone = True
    server.environ.pop(sid, None)


class ThreadRunner:
    """Serves a threading ``Server`` natively: worker threads take the
    events and run the handlers."""

    def __init__(self, server, workers, app=None):
        self.server = server
        self.workers = workers
        self.app = app

    def run(self):
        """Runs the workers until the server stops; Ctrl-C stops it
        gracefully (the disconnect handlers still run)."""
        threads = [
            threading.Thread(target=self._work, name=f"engineio_rs handler {n}", daemon=True)
            for n in range(self.workers)
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except KeyboardInterrupt:
            self.server._native.shutdown()
            for thread in threads:
                thread.join()

    def _work(self):
        server = self.server
        native = server._native
        while True:
            for kind, sid, first, second in native.wait_events(None, 64):
                if kind == "stopped":
                    return
                if kind == "message":
                    if server.async_handlers:
                        second.done()
                    try:
                        server._trigger_event("message", sid, server._message_data(first))
                    finally:
                        second.done()
                elif kind == "connect":
                    ret = False
                    try:
                        env = _opened(server, sid, second)
                        ret = server._trigger_event("connect", sid, env)
                    finally:
                        _decided(server, sid, first, ret)
                elif kind == "http":
                    serve_wsgi(self.app, first, second, server.logger)
                else:
                    try:
                        server._trigger_event("disconnect", sid, first)
                    finally:
                        _closed(server, sid)
                        second.done()


class AsyncRunner:
    """Serves an ``AsyncServer`` natively on the running asyncio loop."""

    def __init__(self, server, app=None):
        self.server = server
        self.app = app
        self.stopped = None
        self.lifespan = None

    async def run(self, host, port, static_files):
        loop = asyncio.get_running_loop()
        native = self.server._native
        if self.app is not None:
            self.lifespan = Lifespan(self.app)
            await self.lifespan.startup()
        wakeup = socket.socket(fileno=native.signal_fd())
        wakeup.setblocking(False)
        self.stopped = loop.create_future()

        def pump():
            try:
                wakeup.recv(4096)
            except BlockingIOError:
                pass
            for event in native.take_events():
                self._event(*event)

        loop.add_reader(wakeup.fileno(), pump)
        try:
            port = self.server.native_port = native.listen(
                host, port, static_files, self.app is not None
            )
            self.server.logger.info("engineio_rs native server on %s:%s", host, port)
            try:
                await asyncio.shield(self.stopped)
            except asyncio.CancelledError:
                native.shutdown()
                await self.stopped
                raise
            finally:
                # The handlers of the last events (disconnects) finish first.
                if self.server._tasks:
                    await asyncio.wait(set(self.server._tasks), timeout=5)
        finally:
            loop.remove_reader(wakeup.fileno())
            wakeup.close()
            if self.lifespan is not None:
                await self.lifespan.shutdown()

    def _event(self, kind, sid, first, second):
        server = self.server
        if kind == "message":
            handler = server.handlers.get("message")
            if server.async_handlers:
                second.done()
            if handler is not None and inspect.iscoroutinefunction(handler):
                server.start_background_task(self._message, handler, sid, first, second)
                return
            try:
                if handler is not None:
                    handler(sid, server._message_data(first))
            except Exception:
                server.logger.exception("message handler error")
            finally:
                second.done()
        elif kind == "connect":
            server.start_background_task(self._connect, sid, first, second)
        elif kind == "disconnect":
            server.start_background_task(self._disconnect, sid, first, second)
        elif kind == "http":
            state = self.lifespan.state if self.lifespan else None
            server.start_background_task(serve_asgi, self.app, first, second, state, server.logger)
        elif not self.stopped.done():
            self.stopped.set_result(None)

    async def _message(self, handler, sid, data, reply):
        try:
            await handler(sid, self.server._message_data(data))
        except Exception:
            self.server.logger.exception("message handler error")
        finally:
            reply.done()

    async def _connect(self, sid, reply, request):
        ret = False
        try:
            env = _opened(self.server, sid, request)
            ret = await self.server._trigger_event("connect", sid, env)
        finally:
            _decided(self.server, sid, reply, ret)

    async def _disconnect(self, sid, reason, reply):
        try:
            await self.server._trigger_event("disconnect", sid, reason)
        finally:
            _closed(self.server, sid)
            reply.done()


# ===== the other paths: the application's WSGI or ASGI app =====


def serve_wsgi(app, reply, request, logger):
    """Answers a request with a WSGI app (the whole body at once)."""
    method, path, query, headers, body, address, port = request
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": urllib.parse.unquote(path, encoding="latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": "engineio_rs",
        "SERVER_PORT": "0",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": address,
        "REMOTE_PORT": str(port),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    add_headers(environ, ((name, value.decode("latin-1")) for name, value in headers))
    environ["CONTENT_LENGTH"] = str(len(body))  # the body is read whole
    started = []

    def start_response(status, response_headers, exc_info=None):
        started[:] = [status, response_headers]

    try:
        result = app(environ, start_response)
        try:
            chunks = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, response_headers = started
        reply.respond(int(status.split(" ", 1)[0]), response_headers, chunks)
    except Exception:
        logger.exception("WSGI app error")
        reply.respond(500, [("Content-Type", "text/plain")], b"Internal Server Error")


async def serve_asgi(app, reply, request, state, logger):
    """Answers a request with an ASGI app (the whole body at once)."""
    method, path, query, headers, body, address, port = request
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": urllib.parse.unquote(path),
        "raw_path": path.encode("latin-1"),
        "query_string": query.encode("latin-1"),
        "root_path": "",
        "headers": [(name.encode("latin-1"), value) for name, value in headers],
        "client": (address, port),
        "server": ("engineio_rs", None),
    }
    if state is not None:
        scope["state"] = dict(state)
    requests = [{"type": "http.request", "body": body, "more_body": False}]
    answer = {"status": 500, "headers": [], "body": []}
    answered = asyncio.Event()

    async def receive():
        if requests:
            return requests.pop()
        # The answer is written whole: the client "goes" once it is done.
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer["body"].append(message.get("body", b""))
            if not message.get("more_body", False):
                answered.set()

    try:
        await app(scope, receive, send)
        reply.respond(answer["status"], answer["headers"], b"".join(answer["body"]))
    except Exception:
        logger.exception("ASGI app error")
        reply.respond(500, [("Content-Type", "text/plain")], b"Internal Server Error")


class Lifespan:
    """Runs an ASGI app's lifespan protocol around a native server: startup
    before it listens, shutdown after it stops. An app that does not speak
    it is left alone."""

    def __init__(self, app):
        self.app = app
        self.state = {}
        self.events = asyncio.Queue()
        self.answers = asyncio.Queue()
        self.task = None

    async def startup(self):
        async def receive():
            return await self.events.get()

        async def send(message):
            await self.answers.put(message)

        async def run():
            try:
                scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
                await self.app(scope, receive, send)
            except Exception:
                pass
            await self.answers.put({"type": "lifespan.unsupported"})

        self.task = asyncio.ensure_future(run())
        await self.events.put({"type": "lifespan.startup"})
        answer = await self.answers.get()
        if answer["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"the ASGI app's startup failed: {answer.get('message', '')}")
        if answer["type"] != "lifespan.startup.complete":
            self.task = None

    async def shutdown(self):
        if self.task is None:
            return
        await self.events.put({"type": "lifespan.shutdown"})
        await self.answers.get()
        await self.task
