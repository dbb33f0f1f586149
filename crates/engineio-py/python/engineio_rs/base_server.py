"""What ``Server`` and ``AsyncServer`` share: the options, the handlers, the
sessions and how what a session's state machine reports is applied, and the
HTTP decorations python-engineio adds to its answers (CORS, the session
cookie, compression).

The protocol itself (routing, the heartbeat, polls, the upgrade, the inbox,
the closes) is the Rust core's (``_core.Session``, ``_core.route``); the
drivers only move bytes between their web server and it.
"""

import gzip
import logging
import time
import zlib

from . import _core, packet
from . import json as _json
from ._events import HandlerRegistry

default_logger = logging.getLogger("engineio.server")

#: The characters a JSON text can start with, but a digit (python-engineio
#: keeps text that starts with a digit as text).
_JSON_STARTS = frozenset('{["tfn- \t\r\n')


class _Reason:
    """The disconnect reasons, as python-engineio spells them."""

    SERVER_DISCONNECT = "server disconnect"
    CLIENT_DISCONNECT = "client disconnect"
    PING_TIMEOUT = "ping timeout"
    TRANSPORT_CLOSE = "transport close"
    TRANSPORT_ERROR = "transport error"


#: The servers' clock: seconds on ``time.monotonic``.
now = time.monotonic


def add_headers(environ, headers):
    """Puts request headers (``(name, value)`` text pairs) into a WSGI-style
    environ: ``HTTP_*``, ``CONTENT_TYPE``, ``CONTENT_LENGTH``; a repeated
    header is comma-joined."""
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        environ[key] = environ[key] + "," + value if key in environ else value


class BaseSocket:
    """One session: its state machine, the user session dict and the
    environ of its handshake. Drivers add their wake-up primitives."""

    def __init__(self, sid, core):
        self.sid = sid
        self.core = core
        self.session = {}

    @property
    def transport(self):
        """``"polling"`` or ``"websocket"``."""
        return self.core.transport

    @property
    def upgraded(self):
        """Whether the session runs over WebSocket after an upgrade from
        polling (python-socketio's admin UI reads it)."""
        return self.core.transport == "websocket"

    @property
    def closed(self):
        """Whether the session has ended."""
        return self.core.closed is not None


class BaseServer(HandlerRegistry):
    """The options and state that ``Server`` and ``AsyncServer`` share; see
    those classes for the parameters."""

    reason = _Reason
    compression_methods = ["gzip", "deflate"]
    valid_transports = ["polling", "websocket"]
    #: The async modes of the class, the first being the default.
    _modes = ()

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
        max_sessions=None,
        **kwargs,
    ):
        if async_mode is None:
            async_mode = self._modes[0]
        if async_mode not in self._modes:
            raise ValueError(
                f"Invalid async_mode specified: {async_mode!r} (this class has "
                + ", ".join(repr(mode) for mode in self._modes)
                + ")"
            )
        self.async_mode = async_mode
        if isinstance(ping_interval, (tuple, list)):
            self.ping_interval, self.ping_interval_grace_period = ping_interval
        else:
            self.ping_interval, self.ping_interval_grace_period = ping_interval, 0
        self.ping_timeout = ping_timeout
        self.max_http_buffer_size = max_http_buffer_size
        self.allow_upgrades = allow_upgrades
        self.http_compression = http_compression
        self.compression_threshold = compression_threshold
        self.cookie = cookie
        self.cors_allowed_origins = cors_allowed_origins
        self.cors_credentials = cors_credentials
        self.async_handlers = async_handlers
        # The core times every session itself; there is no monitor task to
        # turn off, so the option is accepted and has nothing to do.
        self.monitor_clients = monitor_clients
        if transports is None:
            transports = list(self.valid_transports)
        elif isinstance(transports, str):
            transports = [transports]
        self.transports = [t for t in transports if t in self.valid_transports]
        #: The most sessions at once (ours; python-engineio has no limit):
        #: handshakes past it get 503. ``None``: no limit.
        self.max_sessions = max_sessions
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
            if self.logger.level == logging.NOTSET:
                self.logger.setLevel(logging.ERROR)
        self.handlers = {}
        self.sockets = {}
        self.environ = {}
        #: The Rust server of native mode, once ``run()`` has started it.
        self._native = None
        #: The port a native server listens on, once started.
        self.native_port = None

    def _not_native(self):
        if self.async_mode == "native":
            raise RuntimeError(
                "a native server serves its own sockets: start it with run(host, port)"
            )

    # ===== the application's calls that need no I/O =====

    def is_asyncio_based(self):
        """Whether this server runs on asyncio."""
        return False

    def async_modes(self):
        """The async modes this class can run in."""
        return list(self._modes)

    def transport(self, sid):
        """The transport of a session: ``"polling"`` or ``"websocket"``."""
        return self.sockets[sid].transport

    def generate_id(self):
        """A new session id: 20 URL-safe characters from the OS's CSPRNG."""
        return _core.generate_sid()

    def _ok(self, packets=None, headers=None, jsonp_index=None):
        """python-engineio's internal answer builder, which
        python-socketio's admin UI (``instrument()``) wraps to count polling
        bytes. Our servers never call it: the admin UI works, without the
        byte counts."""
        return None

    def _get_socket(self, sid):
        """The session of ``sid`` (``KeyError`` when it is unknown or
        closed), as python-engineio's ``_get_socket``."""
        sock = self.sockets.get(sid)
        if sock is None or sock.closed:
            raise KeyError("Session is disconnected")
        return sock

    # ===== sessions =====

    def _socket_class(self):
        raise NotImplementedError

    def _full(self):
        """Whether a new session would pass ``max_sessions``."""
        return self.max_sessions is not None and len(self.sockets) >= self.max_sessions

    def _new_session(self, transport, environ):
        sid = self.generate_id()
        core = _core.Session(
            transport,
            now(),
            ping_interval=float(self.ping_interval),
            ping_timeout=float(self.ping_timeout),
            max_poll_wait=float(self.ping_interval + self.ping_timeout),
            max_poll_bytes=self.max_http_buffer_size,
            max_payload_bytes=self.max_http_buffer_size,
        )
        sock = self._socket_class()(sid, core)
        self.sockets[sid] = sock
        self.environ[sid] = environ
        return sock

    def _open_packet_fields(self, sock, transport):
        upgrades = (
            ["websocket"]
            if transport == "polling" and self.allow_upgrades and "websocket" in self.transports
            else []
        )
        interval = float(self.ping_interval + self.ping_interval_grace_period)
        return (sock.sid, upgrades, interval, float(self.ping_timeout), self.max_http_buffer_size)

    def _message_packet(self, pkt):
        """What the core sends for a message packet: its ``bytes``, or its
        text after the type character."""
        if pkt.packet_type != packet.MESSAGE:
            raise ValueError("only MESSAGE packets can be sent")
        return pkt.data if pkt.binary else pkt.encode()[1:]

    def _queue(self, sid, data):
        """Queues a message (``str`` or ``bytes``, see ``_message_packet``)
        on a session; returns the session, or ``None`` when it is gone
        (logged, as python-engineio does)."""
        sock = self.sockets.get(sid)
        if sock is None:
            self.logger.warning("Cannot send to sid %s", sid)
            return None
        try:
            sock.core.send(data)
        except ValueError as err:
            self.logger.warning("Cannot send to sid %s: %s", sid, err.args[-1])
        return sock

    def _rejection_body(self, ret):
        """The JSON body of a refused handshake (the connect handler returned
        ``False`` or data)."""
        return self.json.dumps(ret if ret is not False else "Unauthorized").encode()

    @staticmethod
    def _message_data(data):
        """A received text message as python-engineio hands it over: JSON
        decoded when it parses (and does not start with a digit, as
        python-engineio's issue #75 wants). Only text that can start a JSON
        value is tried, so plain text costs no failed parse."""
        if isinstance(data, str) and data[:1] in _JSON_STARTS:
            try:
                return packet.Packet.json.loads(data)
            except ValueError:
                return data
        return data

    @staticmethod
    def _message_payload(data):
        """What the core sends for ``send(sid, data)``: ``str`` as is,
        ``bytes``-like as binary, ``dict``/``list`` as compact JSON, other
        values through ``str()`` and ``None`` as nothing, as
        python-engineio's ``Packet`` encodes them."""
        if isinstance(data, str):
            return data
        if isinstance(data, (bytes, bytearray)):
            return bytes(data)
        if isinstance(data, (dict, list)):
            return packet.Packet.json.dumps(data, separators=(",", ":"))
        return "" if data is None else str(data)

    # ===== the one place where what a session reports is applied =====

    def _apply(self, sock, wake=True):
        """Applies what the session reports; ``wake=False`` when the caller
        has itself written what the wake-up was for."""
        flags = sock.core.take_flags()
        if not flags:
            return
        if flags & 16:
            reason, detail = sock.core.closed_detail
            self.logger.info("%s: closed (%s)", sock.sid, detail or reason)
        if flags & 8 and self.sockets.get(sock.sid) is sock:
            del self.sockets[sock.sid]
            self.environ.pop(sock.sid, None)
        if flags & 1 and wake:
            sock.notify()
        if flags & 2:
            self._timer_moved(sock)
        if flags & 4:
            self._start_dispatch(sock)

    def _timer_moved(self, sock):
        raise NotImplementedError

    def _start_dispatch(self, sock):
        raise NotImplementedError

    # ===== HTTP decorations, on a WSGI-style environ =====

    def _allowed_origins(self, environ):
        """The origins accepted for this request, or ``None`` for all."""
        allowed = self.cors_allowed_origins
        if allowed is None:
            origins = []
            if "wsgi.url_scheme" in environ and "HTTP_HOST" in environ:
                scheme, host = environ["wsgi.url_scheme"], environ["HTTP_HOST"]
                origins.append(f"{scheme}://{host}")
                if "HTTP_X_FORWARDED_PROTO" in environ or "HTTP_X_FORWARDED_HOST" in environ:
                    scheme = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
                    host = environ.get("HTTP_X_FORWARDED_HOST", host).split(",")[0].strip()
                    origins.append(f"{scheme}://{host}")
            return origins
        if allowed == "*":
            return None
        if isinstance(allowed, str):
            return [allowed]
        if callable(allowed):
            origin = environ.get("HTTP_ORIGIN")
            try:
                ok = allowed(origin, environ)
            except TypeError:
                ok = allowed(origin)
            return [origin] if ok else []
        if "*" in allowed:
            return None
        return list(allowed)

    def _origin_refused(self, environ):
        """The answer for a request from an origin that is not accepted, or
        ``None``."""
        origin = environ.get("HTTP_ORIGIN")
        if origin is None or self.cors_allowed_origins == []:
            return None
        allowed = self._allowed_origins(environ)
        if allowed is None or origin in allowed:
            return None
        self.logger.info("%s is not an accepted origin.", origin)
        body = self.json.dumps(f"{origin} is not an accepted origin.").encode()
        return 400, [("Content-Type", "text/plain")], body

    def _cors_headers(self, environ):
        """The CORS headers of an answer, as python-engineio adds them."""
        if self.cors_allowed_origins == []:
            return []
        headers = []
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None:
            allowed = self._allowed_origins(environ)
            if allowed is None or origin in allowed:
                headers.append(("Access-Control-Allow-Origin", origin))
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            headers.append(("Access-Control-Allow-Methods", "OPTIONS, GET, POST"))
        if "HTTP_ACCESS_CONTROL_REQUEST_HEADERS" in environ:
            headers.append(
                ("Access-Control-Allow-Headers", environ["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"])
            )
        if self.cors_credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        return headers

    def _cookie_headers(self, sid):
        """The ``Set-Cookie`` header of a polling handshake, if any."""
        if not self.cookie:
            return []
        if isinstance(self.cookie, dict):
            attributes = self.cookie
        else:
            attributes = {"name": self.cookie, "path": "/", "SameSite": "Lax"}
        cookie = attributes.get("name", "io") + "=" + sid
        for name, value in attributes.items():
            if name == "name":
                continue
            if callable(value):
                value = value()
            cookie += f"; {name}" if value is True else f"; {name}={value}"
        return [("Set-Cookie", cookie)]

    def _compressed(self, body, environ):
        """``(body, headers)``: the body compressed with the first of gzip and
        deflate the client accepts, when compression is on and the body is
        at least ``compression_threshold`` bytes."""
        if not self.http_compression or len(body) < self.compression_threshold:
            return body, []
        for encoding in environ.get("HTTP_ACCEPT_ENCODING", "").split(","):
            encoding = encoding.split(";")[0].strip()
            if encoding == "gzip":
                return gzip.compress(body), [("Content-Encoding", "gzip")]
            if encoding == "deflate":
                return zlib.compress(body), [("Content-Encoding", "deflate")]
        return body, []

    def _decorate(self, status, headers, body, environ):
        """An answer with python-engineio's decorations: compression and the
        CORS headers."""
        body, more = self._compressed(body, environ)
        return status, headers + more + self._cors_headers(environ), body

    def _payload_answer(self, body, environ, sid=None):
        """A 200 polling answer (with the session cookie on a handshake)."""
        headers = [
            ("Content-Type", "text/plain; charset=UTF-8"),
            ("Cache-Control", "no-store"),
        ]
        if sid is not None:
            headers += self._cookie_headers(sid)
        return self._decorate(200, headers, body.encode(), environ)

    @staticmethod
    def _core_answer(answer):
        """An ``(status, content_type or None, body)`` answer the core
        rendered, as ``(status, headers, body bytes)``."""
        status, content_type, body = answer
        headers = [("Content-Type", content_type)] if content_type else []
        return status, headers, body.encode()

    def _refusal(self, err, websocket=False):
        """The answer to a request a session refused with the
        ``ValueError((status, code, message))`` it raised."""
        return self._core_answer(_core.refusal_answer(*err.args, websocket))
