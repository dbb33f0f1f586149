"""What ``Client`` and ``AsyncClient`` share: python-engineio's options and
attributes, the handler registry, the request URLs, and ``_Link``, which
applies what the Rust core's connection state machine
(``_core.ClientConnection``) reports.

The core decides the protocol (the handshake, the ping watchdog, polling,
the upgrade probe, batching, the close and its reason). A link only moves
bytes for it: each runtime (threads or asyncio) supplies the requests, the
WebSockets, a timer, and a dispatcher that calls the handlers in order.
Everything the core reports is applied in one place, ``_Link._apply``.
"""

import inspect
import logging
import time
import urllib.parse

from . import _core, exceptions, packet
from ._events import HandlerRegistry

default_logger = logging.getLogger("engineio.client")

#: The connected clients, disconnected on SIGINT when ``handle_sigint``.
connected_clients = []


class _Reason:
    """The disconnect reasons, as python-engineio spells them."""

    #: The application called ``disconnect()``.
    CLIENT_DISCONNECT = "client disconnect"
    #: The server closed the session.
    SERVER_DISCONNECT = "server disconnect"
    #: No ping came from the server within its ping interval + ping timeout.
    PING_TIMEOUT = "ping timeout"
    #: A request or the WebSocket failed.
    TRANSPORT_ERROR = "transport error"


#: The reasons after which python-socketio reconnects: the client's state
#: is still ``"connected"`` while the disconnect handler runs, as with
#: python-engineio (it is ``"disconnecting"`` for the other reasons).
_UNEXPECTED = (_Reason.PING_TIMEOUT, _Reason.TRANSPORT_ERROR)


def now():
    """The clock the core's deadlines are on."""
    return time.monotonic()


def status_error(status, body, json_module):
    """python-engineio's error for a handshake answered with a status other
    than 2xx, with the JSON body (the server's reason) when there is one."""
    try:
        data = json_module.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        data = None
    return exceptions.ConnectionError(f"Unexpected status code {status} in server response", data)


class BaseClient(HandlerRegistry):
    """The options, attributes and handlers of both clients."""

    reason = _Reason
    valid_transports = ["polling", "websocket"]

    def __init__(
        self,
        logger=False,
        json=None,
        request_timeout=5,
        http_session=None,
        ssl_verify=True,
        handle_sigint=True,
        websocket_extra_options=None,
        timestamp_requests=True,
    ):
        self.handlers = {}
        self.base_url = None
        self.transports = None
        self.current_transport = None
        self.sid = None
        self.upgrades = None
        self.ping_interval = None
        self.ping_timeout = None
        self.state = "disconnected"
        self.http = None
        self.http_factory = None
        if http_session is not None:
            if callable(http_session):
                self.http_factory = http_session
            else:
                self.http = http_session
        self.external_http = self.http is not None
        self.handle_sigint = handle_sigint
        self.ssl_verify = ssl_verify
        self.websocket_extra_options = dict(websocket_extra_options or {})
        self.timestamp_requests = timestamp_requests
        self.request_timeout = request_timeout
        if json is not None:
            packet.Packet.json = json
        if not isinstance(logger, bool):
            self.logger = logger
        else:
            self.logger = default_logger
            if self.logger.level == logging.NOTSET:
                self.logger.setLevel(logging.INFO if logger else logging.ERROR)
                self.logger.addHandler(logging.StreamHandler())
        self._link = None

    def is_asyncio_based(self):
        """Whether this client runs on asyncio."""
        return False

    def transport(self):
        """The transport in use: ``"polling"`` or ``"websocket"`` (``None``
        before the first connection)."""
        return self.current_transport

    # ===== for the runtimes =====

    def _check_connect(self, transports):
        """The transports to use, checked as python-engineio checks them."""
        if self.state != "disconnected":
            raise ValueError("Client is not in a disconnected state")
        if transports is not None:
            if isinstance(transports, str):
                transports = [transports]
            transports = [t for t in transports if t in self.valid_transports]
            if not transports:
                raise ValueError("No valid transports provided")
        self.transports = transports or list(self.valid_transports)
        return self.transports

    def _get_engineio_url(self, url, engineio_path, transport):
        """The URL of a transport: ``{http|ws}[s]://{netloc}/{path}/?{query}``
        with ``transport`` and ``EIO=4``. As with python-engineio, the URL's
        own path is not used (``engineio_path`` says where the server is)."""
        engineio_path = engineio_path.strip("/")
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https", "ws", "wss"):
            raise ValueError(f"unsupported URL scheme in {url!r} (http, https, ws or wss)")
        scheme = "http" if transport == "polling" else "ws"
        if parsed.scheme in ("https", "wss"):
            scheme += "s"
        sep = "&" if parsed.query else ""
        return (
            f"{scheme}://{parsed.netloc}/{engineio_path}/?{parsed.query}{sep}"
            f"transport={transport}&EIO={_core.PROTOCOL_VERSION}"
        )

    def _get_url_timestamp(self):
        """The cache-buster of GETs and WebSocket opens (``&t=...``)."""
        if not self.timestamp_requests:
            return ""
        return "&t=" + str(time.time())

    @staticmethod
    def _encode(data):
        """A message for the core: ``bytes`` for binary, else text (``dict``
        and ``list`` as JSON, other values through ``str()``)."""
        pkt = packet.Packet(packet.MESSAGE, data=data)
        if pkt.binary:
            return bytes(pkt.data)
        return pkt.encode()[1:]

    @staticmethod
    def _decode(data):
        """A received message as python-engineio hands it to the handler:
        ``bytes``, or text decoded as JSON when it is JSON."""
        if isinstance(data, bytes):
            return data
        return packet.Packet(encoded_packet="4" + data).data

    def _call(self, event, *args):
        """Calls the handler of ``event``; its errors are logged (and raised
        again for ``connect``, which then fails)."""
        handler = self.handlers.get(event)
        if handler is None:
            return None
        try:
            return handler(*_handler_args(event, handler, args))
        except Exception:
            self.logger.exception("%s handler error", event)
            if event == "connect":
                raise
            return None

    def _reset(self, link):
        """Back to ``disconnected``, if ``link`` is still the current one."""
        if self._link is not link:
            return
        self.state = "disconnected"
        self.sid = None
        if self in connected_clients:
            connected_clients.remove(self)


def _handler_args(event, handler, args):
    """The arguments for a handler: a legacy ``disconnect()`` handler gets
    no reason."""
    if event == "disconnect":
        try:
            inspect.signature(handler).bind(*args)
        except TypeError:
            return ()
        except ValueError:  # no signature to inspect (some builtins)
            return args
    return args


class _Link:
    """One connection (one ``connect()`` call) on the core. The runtime's
    subclass moves the bytes; this class applies what the core reports.

    A runtime calls ``_apply`` after every change to the core (with its
    lock held, when it has threads), and supplies these hooks, which
    ``_apply`` calls and which must not block: ``_start_get(url, timeout)``,
    ``_start_post(url, payload)``, ``_start_open_ws(ws, url)`` (report
    ``ws_opened`` or ``ws_open_failed``), ``_ws_write(sock, frames,
    messages)`` (report ``written(messages)``), ``_ws_close(sock)``,
    ``_dispatch(item)`` (to the handlers, in order), ``_wake_timer()``,
    ``_room_changed()`` (wake senders waiting for room in the queue),
    and two events, ``self.ready`` (``connect()`` may return) and
    ``self.io_done`` (the transports are flushed and closed), which
    ``_ready()`` and ``_io_done()`` set.
    """

    def __init__(self, client, url, headers, transports, engineio_path):
        self.client = client
        self.logger = client.logger
        self.headers = dict(headers)
        self.polling_url = client._get_engineio_url(url, engineio_path, "polling")
        self.websocket_url = client._get_engineio_url(url, engineio_path, "websocket")
        self.core = _core.ClientConnection(
            now(),
            polling=transports[0] == "polling",
            websocket="websocket" in transports,
            probe_timeout=float(client.request_timeout),
            close_timeout=float(client.request_timeout),
        )
        client.base_url = self.polling_url if transports[0] == "polling" else self.websocket_url
        #: The WebSockets open, by the core's number.
        self.sockets = {}
        #: WebSockets the core closed while they were being opened.
        self.cancelled = set()
        self.opened = False
        self.closed = False
        self.upgrading = False
        #: The connect handler ran (and did not raise).
        self.connect_done = False
        self.connect_ok = False
        #: The ``ConnectionError`` for ``connect()``, when it fails.
        self.error = None
        #: The last network error, for the logs and ``connect()``.
        self.last_error = None
        #: The reason ``disconnect(reason=...)`` asked for.
        self.requested_reason = None
        #: When the open packet of a WebSocket handshake is due.
        self.handshake_deadline = None
        #: The deadline the timer sleeps towards.
        self.timer_target = None
        #: WebSocket writers that have not flushed their close yet.
        self.writers = 0

    # ===== the one place where the core's reports are applied =====

    def _apply(self):
        core = self.core
        while True:
            transmit = core.poll_transmit()
            event = None if transmit is not None else core.poll_event()
            if transmit is not None:
                self._transmit(transmit)
            elif event is not None:
                self._event(event)
            else:
                break
        target = self._deadline()
        if target is not None and (self.timer_target is None or target < self.timer_target):
            self._wake_timer()
        if self.closed:
            self._wake_timer()
            if self.writers == 0:
                self._io_done()
        self._room_changed()

    def _deadline(self):
        """The earliest of the core's deadline and the handshake's."""
        deadlines = [d for d in (self.core.next_deadline(), self.handshake_deadline) if d]
        return min(deadlines) if deadlines else None

    def _on_timer(self, at):
        """The timer fired at ``at``: the handshake's deadline, or the core's."""
        if self.handshake_deadline is not None and at >= self.handshake_deadline:
            self.handshake_deadline = None
            self.last_error = exceptions.ConnectionError(
                "Timed out waiting for the open packet on the WebSocket"
            )
            self.core.abort()
        else:
            self.core.handle_timeout(at)
        self._apply()

    def _transmit(self, transmit):
        kind = transmit[0]
        if kind == "get":
            sid = self.core.sid
            if sid is None:
                url, timeout = self.polling_url, self.client.request_timeout
            else:
                url = self.polling_url + "&sid=" + urllib.parse.quote(sid, safe="")
                window = self.core.ping_interval + self.core.ping_timeout
                timeout = window + self.client.request_timeout
            self._start_get(url + self.client._get_url_timestamp(), timeout)
        elif kind == "post":
            url = self.polling_url + "&sid=" + urllib.parse.quote(self.core.sid, safe="")
            self._start_post(url, transmit[1])
        elif kind == "open_ws":
            url = self.websocket_url
            sid = self.core.sid
            if sid is not None:
                self.upgrading = True
                url += "&sid=" + urllib.parse.quote(sid, safe="")
                self.logger.info("Attempting WebSocket upgrade to %s", url)
            else:
                self.logger.info("Attempting WebSocket connection to %s", url)
            self._start_open_ws(transmit[1], url + self.client._get_url_timestamp())
        elif kind == "ws_write":
            _, ws, frames, messages = transmit
            sock = self.sockets.get(ws)
            if sock is None:
                self.core.written(messages)
            else:
                self._ws_write(sock, frames, messages)
        elif kind == "ws_close":
            sock = self.sockets.pop(transmit[1], None)
            if sock is None:
                self.cancelled.add(transmit[1])
            else:
                self._ws_close(sock)

    def _event(self, event):
        kind, value = event
        client = self.client
        current = client._link is self
        if kind == "message":
            self._dispatch(("message", client._decode(value)))
        elif kind == "opened":
            self.opened = True
            self.handshake_deadline = None
            self.logger.info("Connection accepted with %s", value)
            if current:
                client.sid = value["sid"]
                client.upgrades = value["upgrades"]
                client.ping_interval = int(value["pingInterval"]) / 1000.0
                client.ping_timeout = int(value["pingTimeout"]) / 1000.0
                client.current_transport = self.core.transport
                client.state = "connected"
                if client.current_transport == "polling":
                    client.base_url += "&sid=" + value["sid"]
                connected_clients.append(client)
            self._dispatch(("connect",))
        elif kind == "upgraded":
            self.upgrading = False
            self.logger.info("WebSocket upgrade was successful")
            if current:
                client.current_transport = value
            self._upgraded()
            self._check_ready()
        elif kind == "upgrade_failed":
            self.upgrading = False
            why = value if self.last_error is None else f"{value} ({self.last_error})"
            self.logger.warning("WebSocket upgrade failed: %s", why)
            self._check_ready()
        elif kind == "closed":
            self.closed = True
            self.handshake_deadline = None
            if not self.opened:
                if self.error is None:
                    failure = self.core.failure
                    self.error = (
                        self.last_error
                        if failure is None and self.last_error is not None
                        else exceptions.ConnectionError(failure or "Connection refused")
                    )
            elif self.requested_reason is not None and value == _Reason.CLIENT_DISCONNECT:
                value = self.requested_reason
            self._check_ready()
            self.logger.info("Connection closed: %s", value)
            self._stop_polling()
            self._dispatch(("closed", value))

    def _check_ready(self):
        """``connect()`` may return once the connect handler ran and the
        upgrade (if one was tried) is settled, or raise once it failed."""
        if self.closed and not self.opened:
            self._ready()
        elif self.connect_done and (self.closed or not self.upgrading):
            self._ready()

    # ===== for the runtimes =====

    def _network_error(self, what, error):
        """Remembers a failed request (for ``connect()`` and the logs)."""
        self.logger.info("%s failed: %s", what, error)
        if isinstance(error, exceptions.ConnectionError):
            self.last_error = error
        else:
            self.last_error = exceptions.ConnectionError(str(error) or what + " failed")

    def _connect_handled(self, failure):
        """The connect handler returned (``failure`` is ``None``) or raised."""
        self.connect_done = True
        if failure is None:
            self.connect_ok = True
        else:
            self.error = exceptions.ConnectionError(f"Connect handler failed: {failure}")
            self.core.close(now())
            self._apply()
        self._check_ready()

    def _request_close(self, abort, reason):
        """``disconnect()``: a close (the close packet is delivered) or an
        abort."""
        if reason is not None:
            self.requested_reason = reason
        if not self.opened and self.error is None:
            self.error = exceptions.ConnectionError("disconnect() was called during the handshake")
        if abort:
            self.core.abort()
        else:
            self.core.close(now())
        self._apply()

    def _disconnect_state(self, reason):
        """The client's state while the disconnect handler runs."""
        return "connected" if reason in _UNEXPECTED else "disconnecting"

    def _ready(self):
        """``connect()`` may return."""
        self.ready.set()

    def _io_done(self):
        """The transports are flushed and closed."""
        self.io_done.set()

    def _upgraded(self):
        """Polling is over (the runtime may stop its request workers)."""

    def _stop_polling(self):
        """The connection is over (the runtime may stop its workers)."""
