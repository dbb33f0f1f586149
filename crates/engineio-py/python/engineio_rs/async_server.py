"""``AsyncServer``: python-engineio's asyncio server, on the Rust core.

Every protocol decision (routing, the heartbeat, polls, the upgrade, the
inbox, the closes) is made by the core's state machine (``_core.Session``
and ``_core.route``); this module moves bytes between ASGI and it, runs the
timers it asks for, and calls the handlers. What a session reports after a
change is applied in one place, ``AsyncServer._apply``.

This slice serves ASGI (``ASGIApp``, or ``handle_request`` from another ASGI
app). Options it does not implement yet raise ``NotImplementedError`` when
set, instead of being ignored.
"""

import asyncio
import inspect
import logging
import time
import urllib.parse

from . import _core, packet
from . import json as _json

default_logger = logging.getLogger("engineio.server")


class _Reason:
    """The disconnect reasons, as python-engineio spells them."""

    SERVER_DISCONNECT = "server disconnect"
    CLIENT_DISCONNECT = "client disconnect"
    PING_TIMEOUT = "ping timeout"
    TRANSPORT_CLOSE = "transport close"
    TRANSPORT_ERROR = "transport error"


_NOT_YET = {
    "cookie": None,
    "cors_allowed_origins": None,
    "monitor_clients": None,
}


class _Socket:
    """One session: its state machine and the tasks around it."""

    def __init__(self, sid, core):
        self.sid = sid
        self.core = core
        self.session = {}
        self.changed = asyncio.Event()
        self.timer_moved = asyncio.Event()

    def notify(self):
        """Wakes everything waiting on the session (notify-all)."""
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()


def _now():
    return time.monotonic()


class AsyncServer:
    """An Engine.IO server for asyncio (python-engineio's ``AsyncServer``).

    :param async_mode: ``"asgi"`` (or ``None``): the only mode of this slice.
    :param ping_interval: seconds between pings; a ``(interval, grace)``
        tuple adds ``grace`` to the interval the handshake advertises.
    :param ping_timeout: seconds the client has to answer a ping.
    :param max_http_buffer_size: the most bytes in a POST or a WebSocket
        message.
    :param allow_upgrades: whether polling sessions may upgrade.
    :param transports: ``"polling"``, ``"websocket"``, or a list of them.
    :param json: a module with ``dumps`` and ``loads`` for JSON messages.
    :param async_handlers: run each message handler on its own task (the
        default, as python-engineio); with ``False`` one session's messages
        are handled one at a time, in order.
    :param logger: ``True`` for INFO logs on ``engineio.server``, or a
        logger.
    """

    reason = _Reason
    compression_methods = ["gzip", "deflate"]
    event_names = ["connect", "disconnect", "message"]
    valid_transports = ["polling", "websocket"]

    def __init__(
        self,
        async_mode=None,
        ping_interval=25,
        ping_timeout=20,
        max_http_buffer_size=1000000,
        allow_upgrades=True,
        http_compression=True,
        compression_threshold=1024,
        cookie=None,
        cors_allowed_origins=None,
        cors_credentials=True,
        logger=False,
        json=None,
        async_handlers=True,
        monitor_clients=None,
        transports=None,
        **kwargs,
    ):
        if async_mode not in (None, "asgi"):
            raise ValueError(f"async_mode {async_mode!r} is not available (only 'asgi')")
        for name, value in {
            "cookie": cookie,
            "cors_allowed_origins": cors_allowed_origins,
            "monitor_clients": monitor_clients,
        }.items():
            if value != _NOT_YET[name]:
                raise NotImplementedError(f"the {name} option is not available yet")
        # Responses are not compressed yet, whatever `http_compression` says.
        self.http_compression = http_compression
        self.compression_threshold = compression_threshold
        self.async_mode = "asgi"
        if isinstance(ping_interval, (tuple, list)):
            self.ping_interval, self.ping_interval_grace_period = ping_interval
        else:
            self.ping_interval, self.ping_interval_grace_period = ping_interval, 0
        self.ping_timeout = ping_timeout
        self.max_http_buffer_size = max_http_buffer_size
        self.allow_upgrades = allow_upgrades
        self.async_handlers = async_handlers
        if transports is None:
            transports = list(self.valid_transports)
        elif isinstance(transports, str):
            transports = [transports]
        self.transports = [t for t in transports if t in self.valid_transports]
        if not self.transports:
            raise ValueError("No valid transports provided")
        if json is not None:
            packet.Packet.json = json
        self.json = json or _json
        if logger is True:
            self.logger = default_logger
            self.logger.setLevel(logging.INFO)
        elif logger:
            self.logger = logger
        else:
            self.logger = default_logger
        self.handlers = {}
        self.sockets = {}
        self._tasks = set()
        self.environ = {}

    # ===== the application's calls =====

    def on(self, event, handler=None):
        """Registers an event handler (``connect``, ``message``,
        ``disconnect``); usable as a decorator."""
        if event not in self.event_names:
            raise ValueError("Invalid event")

        def set_handler(handler):
            self.handlers[event] = handler
            return handler

        if handler is None:
            return set_handler
        set_handler(handler)
        return None

    async def send(self, sid, data):
        """Sends a message (``str``, ``bytes``, or a ``dict``/``list`` sent as
        JSON) to a session; does nothing if it is gone."""
        await self.send_packet(sid, packet.Packet(packet.MESSAGE, data=data))

    async def send_packet(self, sid, pkt):
        """Sends a message packet to a session."""
        sock = self.sockets.get(sid)
        if sock is None:
            self.logger.warning("Cannot send to sid %s", sid)
            return
        if pkt.packet_type != packet.MESSAGE:
            raise ValueError("only MESSAGE packets can be sent")
        data = pkt.data if pkt.binary else pkt.encode()[1:]
        try:
            sock.core.send(data)
        except ValueError as err:
            self.logger.warning("Cannot send to sid %s: %s", sid, err.args[-1])
        self._apply(sock)

    async def disconnect(self, sid=None):
        """Closes a session, or every session; never blocks."""
        sids = [sid] if sid is not None else list(self.sockets)
        for one in sids:
            sock = self.sockets.get(one)
            if sock is not None:
                sock.core.close(self.reason.SERVER_DISCONNECT, _now())
                self._apply(sock)

    def transport(self, sid):
        """The transport of a session: ``"polling"`` or ``"websocket"``."""
        return self.sockets[sid].core.transport

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
        """The user session as an async context manager."""
        server = self

        class _SessionContext:
            async def __aenter__(self):
                self.session = await server.get_session(sid)
                return self.session

            async def __aexit__(self, *exc):
                await server.save_session(sid, self.session)

        return _SessionContext()

    async def shutdown(self):
        """Closes every session."""
        await self.disconnect()

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

    def generate_id(self):
        """A new session id (20 URL-safe characters)."""
        return _core.generate_sid()

    # ===== the one place where what a session reports is applied =====

    def _apply(self, sock):
        events = sock.core.take_events()
        if events["closed"]:
            self.logger.info("%s: closed (%s)", sock.sid, events["detail"] or events["closed"])
        if events["forget"] and self.sockets.get(sock.sid) is sock:
            del self.sockets[sock.sid]
            self.environ.pop(sock.sid, None)
        if events["wake"]:
            sock.notify()
        if events["deadline_changed"]:
            sock.timer_moved.set()
        if events["dispatch"]:
            self.start_background_task(self._dispatch, sock)

    async def _run_timers(self, sock):
        while not sock.core.is_finished:
            sock.timer_moved.clear()
            deadline = sock.core.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - _now())
            try:
                await asyncio.wait_for(sock.timer_moved.wait(), timeout)
                continue
            except asyncio.TimeoutError:
                pass
            sock.core.handle_timeout(_now())
            self._apply(sock)

    async def _dispatch(self, sock):
        while True:
            work = sock.core.next_dispatch()
            self._apply(sock)
            if work is None:
                return
            kind, data = work
            if kind == "disconnect":
                await self._trigger_event("disconnect", sock.sid, data)
                return
            if self.async_handlers:
                self.start_background_task(self._handle_message, sock, data)
            else:
                await self._handle_message(sock, data)

    async def _handle_message(self, sock, data):
        if isinstance(data, str):
            data = packet.Packet(encoded_packet="4" + data).data
        try:
            await self._trigger_event("message", sock.sid, data)
        finally:
            sock.core.message_handled(_now())
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
        websocket = scope["type"] == "websocket"
        query = scope.get("query_string", b"").decode("latin-1")
        method = "GET" if websocket else scope.get("method", "GET")
        kind, target, answer = _core.route(method, query, websocket, self.transports)
        if kind == "error":
            return await self._answer_error(scope, receive, send, answer)
        if kind == "refused":
            if target not in self.sockets:
                answer = _core.unknown_session(websocket)
            return await self._answer_error(scope, receive, send, answer)
        if kind == "preflight":
            return await self._respond(send, 204, [], b"")
        if kind == "close_websocket":
            await receive()
            await send({"type": "websocket.accept"})
            return await send({"type": "websocket.close"})
        if kind == "handshake":
            return await self._handshake(target, scope, receive, send)
        sock = self.sockets.get(target)
        if sock is None:
            return await self._answer_error(scope, receive, send, _core.unknown_session(websocket))
        if kind == "poll":
            return await self._poll(sock, receive, send)
        if kind == "post":
            return await self._post(sock, scope, receive, send)
        return await self._upgrade(sock, receive, send)

    async def _answer_error(self, scope, receive, send, answer):
        if scope["type"] == "websocket":
            await receive()
            return await send({"type": "websocket.close", "code": 1008})
        return await self._send_answer(send, answer)

    async def _send_answer(self, send, answer):
        """Writes an ``(status, content_type or None, body)`` answer the
        core rendered."""
        status, content_type, body = answer
        headers = [(b"content-type", content_type.encode())] if content_type else []
        return await self._respond(send, status, headers, body.encode())

    @staticmethod
    async def _respond(send, status, headers, body):
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _payload(self, send, body):
        headers = [
            (b"content-type", b"text/plain; charset=UTF-8"),
            (b"cache-control", b"no-store"),
        ]
        await self._respond(send, 200, headers, body.encode())

    def _new_session(self, transport):
        sid = self.generate_id()
        core = _core.Session(
            transport,
            _now(),
            ping_interval=float(self.ping_interval),
            ping_timeout=float(self.ping_timeout),
            max_poll_wait=float(self.ping_interval + self.ping_timeout),
            max_poll_bytes=self.max_http_buffer_size,
            max_payload_bytes=self.max_http_buffer_size,
        )
        sock = _Socket(sid, core)
        self.sockets[sid] = sock
        return sock

    def _open_packet_fields(self, sock, transport):
        upgrades = (
            ["websocket"]
            if transport == "polling" and self.allow_upgrades and "websocket" in self.transports
            else []
        )
        interval = float(self.ping_interval + self.ping_interval_grace_period)
        return (sock.sid, upgrades, interval, float(self.ping_timeout), self.max_http_buffer_size)

    async def _handshake(self, transport, scope, receive, send):
        sock = self._new_session(transport)
        environ = _environ(scope)
        self.environ[sock.sid] = environ
        ret = await self._trigger_event("connect", sock.sid, environ)
        if ret is not None and ret is not True:
            sock.core.reject()
            self._apply(sock)
            self.environ.pop(sock.sid, None)
            self.logger.warning("Application rejected connection")
            body = self.json.dumps(ret if ret is not False else "Unauthorized")
            if transport == "websocket":
                await receive()
                return await send({"type": "websocket.close", "code": 1008})
            headers = [(b"content-type", b"application/json")]
            return await self._respond(send, 401, headers, body.encode())
        self.start_background_task(self._run_timers, sock)
        if transport == "polling":
            return await self._payload(
                send, sock.core.open_payload(*self._open_packet_fields(sock, transport))
            )
        fields = self._open_packet_fields(sock, transport)
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": _core.open_packet(*fields)})
        await self._websocket_loop(sock, sock.core.websocket, receive, send)

    async def _poll(self, sock, receive, send):
        await receive()  # the (empty) request body
        try:
            sock.core.begin_poll(_now())
        except ValueError as err:
            self._apply(sock)
            return await self._error_from(send, err)
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
                    return await self._payload(send, body)
                waiting = asyncio.ensure_future(changed.wait())
                done, _ = await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
                if gone in done:
                    waiting.cancel()
                    sock.core.poll_aborted(_now())
                    self._apply(sock)
                    return None
        finally:
            gone.cancel()

    async def _post(self, sock, scope, receive, send):
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"").decode()
        try:
            sock.core.begin_post(_now(), content_type or None)
        except ValueError as err:
            self._apply(sock)
            return await self._error_from(send, err)
        self._apply(sock)
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                sock.core.post_aborted(_now())
                self._apply(sock)
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_http_buffer_size:
                sock.core.post_too_large()
                self._apply(sock)
                return await self._respond(send, 413, [], b"")
        try:
            sock.core.post_payload(body, _now())
        except ValueError as err:
            self._apply(sock)
            return await self._error_from(send, err)
        self._apply(sock)
        while True:
            changed = sock.changed
            if sock.core.post_accepted():
                break
            await changed.wait()
        return await self._respond(send, 200, [(b"content-type", b"text/html")], b"ok")

    async def _error_from(self, send, err):
        """Answers a request the session refused with the
        ``ValueError((status, code, message))`` it raised."""
        return await self._send_answer(send, _core.refusal_answer(*err.args, False))

    async def _upgrade(self, sock, receive, send):
        await receive()
        try:
            ws = sock.core.attach_websocket(_now())
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
        try:
            while not ended.is_set():
                changed = sock.changed
                action, value = sock.core.ws_transmit(ws)
                self._apply(sock)
                if action == "write":
                    for frame in value:
                        key = "bytes" if isinstance(frame, bytes) else "text"
                        await send({"type": "websocket.send", key: frame})
                    continue
                if action == "close":
                    return await send({"type": "websocket.close", "code": value or 1000})
                await changed.wait()
        finally:
            reader.cancel()

    def _ws_message(self, sock, ws, message):
        """Feeds one ASGI WebSocket message to the session; returns a close
        code when the WebSocket is over (-1: just stop)."""
        now = _now()
        if message["type"] == "websocket.disconnect":
            sock.core.ws_ended(ws, "closed", now)
            self._apply(sock)
            return -1
        if message.get("text") is not None:
            text = message["text"]
            if len(text.encode()) > self.max_http_buffer_size:
                code = sock.core.ws_ended(ws, "too big", now)
            else:
                code = sock.core.ws_receive_text(ws, text, now)
        else:
            data = message.get("bytes") or b""
            if len(data) > self.max_http_buffer_size:
                code = sock.core.ws_ended(ws, "too big", now)
            else:
                sock.core.ws_receive_binary(ws, data, now)
                code = None
        self._apply(sock)
        return code


def _environ(scope):
    """A WSGI-style environ for the connect handler, as python-engineio's
    ASGI driver builds it (with the real client address)."""
    query = scope.get("query_string", b"").decode("latin-1")
    client = scope.get("client") or ("127.0.0.1", 0)
    environ = {
        "REQUEST_METHOD": scope.get("method", "GET"),
        "PATH_INFO": scope.get("path", ""),
        "QUERY_STRING": query,
        "RAW_URI": scope.get("path", "") + ("?" + query if query else ""),
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "SERVER_NAME": "asgi",
        "SERVER_PORT": "0",
        "asgi.scope": scope,
    }
    for name, value in scope.get("headers", []):
        key = name.decode("latin-1").upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        value = value.decode("latin-1")
        environ[key] = environ[key] + "," + value if key in environ else value
    environ["wsgi.url_scheme"] = scope.get("scheme", "http")
    environ["QUERY_PARAMS"] = urllib.parse.parse_qs(query)
    return environ
