"""``AsyncServer``: python-engineio's asyncio server, on the Rust core.

Every protocol decision (routing, the heartbeat, polls, the upgrade, the
inbox, the closes) is made by the core's state machine (``_core.Session``
and ``_core.route``); this module moves bytes between ASGI and it, runs the
timers it asks for, and calls the handlers. What a session reports after a
change is applied in one place, ``BaseServer._apply``.

It serves ASGI (``ASGIApp``, or ``handle_request`` from another ASGI app).
"""

import asyncio
import inspect
import sys
import urllib.parse

from . import _core, native
from .base_server import _JSON_STARTS, BaseServer, BaseSocket, add_headers, now

#: Whether tasks can start eagerly (``asyncio.Task(eager_start=True)``).
_EAGER = sys.version_info >= (3, 12)


class _Socket(BaseSocket):
    """One session, with the asyncio events its tasks wait on."""

    def __init__(self, sid, core):
        super().__init__(sid, core)
        self.changed = asyncio.Event()
        self.timer_moved = asyncio.Event()
        #: ``(ws, send)`` of the WebSocket the session writes to, if any.
        self.ws_writer = None
        #: Whether frames are being written (one writer at a time).
        self.writing = False
        #: Whether the writer task was woken while another wrote.
        self.missed = False

    def notify(self):
        """Wakes everything waiting on the session (notify-all)."""
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()


class AsyncServer(BaseServer):
    """An Engine.IO server for asyncio (python-engineio's ``AsyncServer``).

    :param async_mode: ``"asgi"`` (or ``None``): the only mode of this class.
    :param ping_interval: seconds between pings; a ``(interval, grace)``
        tuple adds ``grace`` to the interval the handshake advertises.
    :param ping_timeout: seconds the client has to answer a ping.
    :param max_http_buffer_size: the most bytes in a POST or a WebSocket
        message.
    :param allow_upgrades: whether polling sessions may upgrade.
    :param http_compression: compress polling answers (gzip or deflate).
    :param compression_threshold: the smallest answer compressed, in bytes.
    :param cookie: the name of a session cookie set on polling handshakes,
        or a dict with ``name`` and the cookie's attributes.
    :param cors_allowed_origins: ``None`` (same origin), ``"*"``, an origin,
        a list of them, a callable ``f(origin, environ)``, or ``[]`` to turn
        CORS handling off.
    :param cors_credentials: send ``Access-Control-Allow-Credentials``.
    :param transports: ``"polling"``, ``"websocket"``, or a list of them.
    :param json: a module with ``dumps`` and ``loads`` for JSON messages.
    :param async_handlers: run each message handler on its own task (the
        default, as python-engineio); with ``False`` one session's messages
        are handled one at a time, in order.
    :param monitor_clients: accepted for compatibility; the core times every
        session itself.
    :param logger: ``True`` for INFO logs on ``engineio.server``, or a
        logger.
    :param max_sessions: the most sessions at once (not in python-engineio):
        handshakes past it get 503 (a WebSocket-only one under ASGI is
        closed with code 1013). ``None`` (the default): no limit.

    Example, under uvicorn::

        eio = engineio_rs.AsyncServer()

        @eio.on("message")
        async def message(sid, data):
            await eio.send(sid, data)

        app = engineio_rs.ASGIApp(eio)
    """

    _modes = ("asgi", "native")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tasks = set()

    def is_asyncio_based(self):
        """Whether this server runs on asyncio: it does."""
        return True

    # ===== the application's calls =====

    async def send(self, sid, data):
        """Sends a message (``str``, ``bytes``, or a ``dict``/``list`` sent as
        JSON) to a session; does nothing if it is gone."""
        await self._send_now(sid, data if type(data) is str else self._message_payload(data))

    async def send_packet(self, sid, pkt):
        """Sends a message packet to a session (its encoding is cached, so a
        broadcast encodes once)."""
        await self._send_now(sid, self._message_packet(pkt))

    async def _send_now(self, sid, data):
        """Queues a message and, when its session has an idle WebSocket,
        writes it from this task (no hop through the writer task)."""
        if self._native is not None:
            return native.send(self, sid, data)
        sock = self.sockets.get(sid)
        writer = None if sock is None else sock.ws_writer
        if writer is None or sock.writing:
            return self._send(sid, data)
        try:
            sock.core.send(data)
        except ValueError as err:
            self.logger.warning("Cannot send to sid %s: %s", sid, err.args[-1])
            return self._apply(sock)
        ws, out = writer
        action, frames = sock.core.ws_transmit(ws)
        if action != "write":
            return self._apply(sock)
        self._apply(sock, wake=False)
        sock.writing = True
        try:
            for frame in frames:
                key = "bytes" if isinstance(frame, bytes) else "text"
                await out({"type": "websocket.send", key: frame})
        finally:
            sock.writing = False
            if sock.missed:
                sock.missed = False
                sock.notify()
        return None

    def _send(self, sid, data):
        if self._native is not None:
            return native.send(self, sid, data)
        sock = self._queue(sid, data)
        if sock is not None:
            self._apply(sock)
        return None

    async def disconnect(self, sid=None):
        """Closes a session, or every session; never blocks."""
        if self._native is not None:
            return native.disconnect(self, sid)
        sids = [sid] if sid is not None else list(self.sockets)
        for one in sids:
            sock = self.sockets.get(one)
            if sock is not None:
                sock.core.close(self.reason.SERVER_DISCONNECT, now())
                self._apply(sock)

    async def get_session(self, sid):
        """The user session (a dict) of a session."""
        sock = self.sockets.get(sid)
        if sock is None:
            raise KeyError("Session not found")
        return sock.session

    async def save_session(self, sid, session):
        """Replaces the user session of a session."""
        sock = self.sockets.get(sid)
        if sock is None:
            raise KeyError("Session not found")
        sock.session = session

    def session(self, sid):
        """The user session as an async context manager::

        async with eio.session(sid) as session:
            session["name"] = name
        """
        server = self

        class _SessionContext:
            async def __aenter__(self):
                self.session = await server.get_session(sid)
                return self.session

            async def __aexit__(self, *exc):
                await server.save_session(sid, self.session)

        return _SessionContext()

    async def shutdown(self):
        """Closes every session; a native server then stops (``run()``
        returns once the disconnect handlers have run)."""
        if self._native is not None:
            self._native.shutdown()
        else:
            await self.disconnect()

    async def run(
        self,
        host="127.0.0.1",
        port=5000,
        static_files=None,
        engineio_path="engine.io",
        threads=1,
        close_timeout=5,
        other_asgi_app=None,
    ):
        """Serves a native server (``async_mode="native"``) on ``host:port``
        until ``shutdown()`` or until this coroutine is cancelled (then
        gracefully: the disconnect handlers still run). Our Rust server owns
        the sockets; the handlers run on this asyncio loop.

        :param static_files: static file rules, as ``ASGIApp``'s.
        :param engineio_path: where the server answers.
        :param threads: the Rust server's I/O threads (one is best while
            the handlers, which hold the GIL, are the bottleneck).
        :param close_timeout: how long a shutdown waits for polling clients
            to fetch their close packet, in seconds.
        :param other_asgi_app: an ASGI app for the other paths (after the
            static files), as ``ASGIApp``'s; its lifespan runs around the
            server, and its answers are written whole.

        Example::

            eio = engineio_rs.AsyncServer(async_mode="native")

            @eio.on("message")
            async def message(sid, data):
                await eio.send(sid, data)

            asyncio.run(eio.run("127.0.0.1", 5000))
        """
        if self.async_mode != "native":
            raise RuntimeError("run() serves a native server: create it with async_mode='native'")
        self._native = native.make_core(self, engineio_path, threads, close_timeout)
        runner = native.AsyncRunner(self, other_asgi_app)
        await runner.run(host, port, static_files)

    def start_background_task(self, target, *args, **kwargs):
        """Runs ``target(*args, **kwargs)`` as a task. The server keeps a
        reference to it until it ends, so asyncio cannot collect it midway."""
        task = asyncio.ensure_future(target(*args, **kwargs))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def sleep(self, seconds=0):
        """``asyncio.sleep``."""
        return await asyncio.sleep(seconds)

    @staticmethod
    def create_queue(*args, **kwargs):
        """An ``asyncio.Queue``."""
        return asyncio.Queue(*args, **kwargs)

    @staticmethod
    def get_queue_empty_exception():
        """The exception of an empty queue."""
        return asyncio.QueueEmpty

    @staticmethod
    def create_event(*args, **kwargs):
        """An ``asyncio.Event``."""
        return asyncio.Event(*args, **kwargs)

    # ===== what the sessions ask for =====

    def _socket_class(self):
        return _Socket

    def _timer_moved(self, sock):
        sock.timer_moved.set()

    def _start_dispatch(self, sock):
        if self.async_handlers:
            self._dispatch_all(sock)
        else:
            self.start_background_task(self._dispatch, sock)

    def _dispatch_all(self, sock):
        """Starts every waiting handler at once, each on its own task, in
        the order the messages came (``async_handlers``)."""
        while True:
            work = sock.core.next_dispatch()
            if work is None:
                break
            kind, data = work
            if kind == "disconnect":
                self.start_background_task(self._trigger_event, "disconnect", sock.sid, data)
                break
            self._start_handler(sock, data)
        self._apply(sock)

    def _start_handler(self, sock, data):
        """A message handler's task. On Python 3.12 and later it starts
        eagerly: a handler that does not need to wait finishes without a
        trip through the event loop."""
        coro = self._handle_message(sock, data)
        if _EAGER:
            task = asyncio.Task(coro, loop=asyncio.get_running_loop(), eager_start=True)
            if task.done():
                return
        else:
            task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_timers(self, sock):
        while not sock.core.is_finished:
            sock.timer_moved.clear()
            deadline = sock.core.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - now())
            try:
                await asyncio.wait_for(sock.timer_moved.wait(), timeout)
                continue
            except asyncio.TimeoutError:
                pass
            sock.core.handle_timeout(now())
            self._apply(sock)

    async def _dispatch(self, sock):
        """Runs one session's handlers one at a time, in order."""
        while True:
            work = sock.core.next_dispatch()
            self._apply(sock)
            if work is None:
                return
            kind, data = work
            if kind == "disconnect":
                await self._trigger_event("disconnect", sock.sid, data)
                return
            await self._handle_message(sock, data)

    async def _handle_message(self, sock, data):
        handler = self.handlers.get("message")
        try:
            if handler is not None:
                if type(data) is str and data[:1] in _JSON_STARTS:
                    data = self._message_data(data)
                result = handler(sock.sid, data)
                if inspect.isawaitable(result):
                    await result
        except Exception:
            self.logger.exception("message handler error")
        finally:
            sock.core.message_handled(now())
            self._apply(sock)

    async def _trigger_event(self, event, *args):
        handler = self.handlers.get(event)
        if handler is None:
            return None
        try:
            try:
                result = handler(*args)
            except TypeError:
                if event == "disconnect" and len(args) == 2:
                    # A legacy disconnect handler takes no reason.
                    result = handler(args[0])
                else:
                    raise
            if inspect.isawaitable(result):
                result = await result
            return result
        except Exception:
            self.logger.exception("%s handler error", event)
            if event == "connect":
                return False
            return None

    # ===== ASGI =====

    async def handle_request(self, scope, receive, send):
        """Serves one ASGI ``http`` or ``websocket`` request to the
        engine.io path."""
        self._not_native()
        websocket = scope["type"] == "websocket"
        environ = _environ(scope, receive, send)
        refused = self._origin_refused(environ)
        if refused is not None:
            return await self._answer(scope, receive, send, refused, environ)
        query = environ["QUERY_STRING"]
        method = "GET" if websocket else environ["REQUEST_METHOD"]
        kind, target, answer = _core.route(method, query, websocket, self.transports)
        if kind == "error":
            return await self._answer(scope, receive, send, self._core_answer(answer), environ)
        if kind == "refused":
            if target not in self.sockets:
                answer = _core.unknown_session(websocket)
            return await self._answer(scope, receive, send, self._core_answer(answer), environ)
        if kind == "preflight":
            return await self._answer(scope, receive, send, (204, [], b""), environ)
        if kind == "close_websocket":
            await receive()
            await send({"type": "websocket.accept"})
            return await send({"type": "websocket.close"})
        if kind == "handshake":
            return await self._handshake(target, scope, receive, send, environ)
        sock = self.sockets.get(target)
        if sock is None:
            answer = self._core_answer(_core.unknown_session(websocket))
            return await self._answer(scope, receive, send, answer, environ)
        if kind == "poll":
            return await self._poll(sock, receive, send, environ)
        if kind == "post":
            return await self._post(sock, scope, receive, send, environ)
        return await self._upgrade(sock, receive, send)

    async def _answer(self, scope, receive, send, answer, environ):
        """Writes an ``(status, headers, body)`` answer, decorated with CORS
        headers and compression; a refused WebSocket is closed (1008)."""
        if scope["type"] == "websocket":
            await receive()
            return await send({"type": "websocket.close", "code": 1008})
        status, headers, body = self._decorate(*answer, environ)
        await _respond(send, status, headers, body)

    async def _handshake(self, transport, scope, receive, send, environ):
        if self._full():
            self.logger.warning("handshake refused: max_sessions (%s) reached", self.max_sessions)
            if transport == "websocket":
                await receive()
                # 1013: try again later (ASGI cannot answer with HTTP here).
                return await send({"type": "websocket.close", "code": 1013})
            answer = self._core_answer(_core.too_many_sessions(False))
            return await self._answer(scope, receive, send, answer, environ)
        sock = self._new_session(transport, environ)
        ret = await self._trigger_event("connect", sock.sid, environ)
        if ret is not None and ret is not True:
            sock.core.reject()
            self._apply(sock)
            self.environ.pop(sock.sid, None)
            self.logger.warning("Application rejected connection")
            if transport == "websocket":
                await receive()
                return await send({"type": "websocket.close", "code": 1008})
            answer = (401, [("Content-Type", "application/json")], self._rejection_body(ret))
            return await self._answer(scope, receive, send, answer, environ)
        self.start_background_task(self._run_timers, sock)
        fields = self._open_packet_fields(sock, transport)
        if transport == "polling":
            body = sock.core.open_payload(*fields)
            answer = self._payload_answer(body, environ, sock.sid)
            return await _respond(send, *answer)
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": _core.open_packet(*fields)})
        await self._websocket_loop(sock, sock.core.websocket, receive, send)

    async def _poll(self, sock, receive, send, environ):
        await receive()  # the (empty) request body
        try:
            sock.core.begin_poll(now())
        except ValueError as err:
            self._apply(sock)
            return await _respond(send, *self._decorate(*self._refusal(err), environ))
        self._apply(sock)
        # The client closing the connection ends the poll (and, as with the
        # Node server, the session).
        gone = asyncio.ensure_future(receive())
        try:
            while True:
                changed = sock.changed
                body = sock.core.poll_payload()
                self._apply(sock)
                if body is not None:
                    return await _respond(send, *self._payload_answer(body, environ))
                waiting = asyncio.ensure_future(changed.wait())
                done, _ = await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
                if gone in done:
                    waiting.cancel()
                    sock.core.poll_aborted(now())
                    self._apply(sock)
                    return None
        finally:
            gone.cancel()

    async def _post(self, sock, scope, receive, send, environ):
        content_type = environ.get("CONTENT_TYPE")
        try:
            sock.core.begin_post(now(), content_type or None)
        except ValueError as err:
            self._apply(sock)
            return await _respond(send, *self._decorate(*self._refusal(err), environ))
        self._apply(sock)
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                sock.core.post_aborted(now())
                self._apply(sock)
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_http_buffer_size:
                sock.core.post_too_large()
                self._apply(sock)
                return await _respond(send, *self._decorate(413, [], b"", environ))
        try:
            sock.core.post_payload(body, now())
        except ValueError as err:
            self._apply(sock)
            return await _respond(send, *self._decorate(*self._refusal(err), environ))
        self._apply(sock)
        while True:
            changed = sock.changed
            if sock.core.post_accepted():
                break
            await changed.wait()
        ok = self._decorate(200, [("Content-Type", "text/html")], b"ok", environ)
        return await _respond(send, *ok)

    async def _upgrade(self, sock, receive, send):
        await receive()
        try:
            ws = sock.core.attach_websocket(now())
        except ValueError:
            self._apply(sock)
            await send({"type": "websocket.accept"})
            return await send({"type": "websocket.close"})
        self._apply(sock)
        await send({"type": "websocket.accept"})
        await self._websocket_loop(sock, ws, receive, send)

    async def _websocket_loop(self, sock, ws, receive, send):
        """Runs one WebSocket: a reader task feeds the session (pausing while
        the session cannot take more), and this task writes what the session
        gives, until it says to close."""
        ended = asyncio.Event()

        async def read():
            try:
                while True:
                    changed = sock.changed
                    if not sock.core.ws_can_read(ws):
                        await changed.wait()
                        continue
                    code = self._ws_message(sock, ws, await receive())
                    if code is not None:
                        if code >= 0:
                            await send({"type": "websocket.close", "code": code or 1000})
                        return
            finally:
                ended.set()
                sock.notify()

        reader = asyncio.ensure_future(read())
        sock.ws_writer = (ws, send)
        try:
            while not ended.is_set():
                changed = sock.changed
                if sock.writing:  # a send() is writing: it wakes us after
                    sock.missed = True
                    await changed.wait()
                    continue
                action, value = sock.core.ws_transmit(ws)
                self._apply(sock)
                if action == "write":
                    sock.writing = True
                    try:
                        for frame in value:
                            key = "bytes" if isinstance(frame, bytes) else "text"
                            await send({"type": "websocket.send", key: frame})
                    finally:
                        sock.writing = False
                    continue
                if action == "close":
                    return await send({"type": "websocket.close", "code": value or 1000})
                await changed.wait()
        finally:
            if sock.ws_writer is not None and sock.ws_writer[0] == ws:
                sock.ws_writer = None
            reader.cancel()

    def _ws_message(self, sock, ws, message):
        """Feeds one ASGI WebSocket message to the session; returns a close
        code when the WebSocket is over (-1: just stop)."""
        at = now()
        if message["type"] == "websocket.disconnect":
            sock.core.ws_ended(ws, "closed", at)
            self._apply(sock)
            return -1
        text = message.get("text")
        if text is not None:
            limit = self.max_http_buffer_size
            if len(text) > limit or (len(text) * 4 > limit and len(text.encode()) > limit):
                code = sock.core.ws_ended(ws, "too big", at)
            else:
                code = sock.core.ws_receive_text(ws, text, at)
        else:
            data = message.get("bytes") or b""
            if len(data) > self.max_http_buffer_size:
                code = sock.core.ws_ended(ws, "too big", at)
            else:
                sock.core.ws_receive_binary(ws, data, at)
                code = None
        self._apply(sock)
        return code


async def _respond(send, status, headers, body):
    """Writes an HTTP answer on ASGI."""
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _environ(scope, receive=None, send=None):
    """A WSGI-style environ, as python-engineio's ASGI driver builds it, but
    with the real client address (python-engineio says 127.0.0.1)."""
    query = scope.get("query_string", b"").decode("latin-1")
    client = scope.get("client") or ("127.0.0.1", 0)
    path = scope.get("path", "")
    environ = {
        "REQUEST_METHOD": scope.get("method", "GET"),
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "RAW_URI": path + ("?" + query if query else ""),
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "SERVER_NAME": "asgi",
        "SERVER_PORT": "0",
        "asgi.scope": scope,
        "asgi.receive": receive,
        "asgi.send": send,
    }
    add_headers(
        environ,
        (
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope.get("headers", [])
        ),
    )
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme"), scope.get("scheme", "http"))
    environ["wsgi.url_scheme"] = environ.get("HTTP_X_FORWARDED_PROTO", scheme)
    environ["QUERY_PARAMS"] = urllib.parse.parse_qs(query)
    return environ
