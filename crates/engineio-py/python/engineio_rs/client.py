"""``Client``: python-engineio's threaded client, on the Rust core.

The core's connection state machine (``_core.ClientConnection``) decides
the protocol; this module moves its bytes with ``requests`` (long-polling)
and ``websocket-client`` (WebSocket), as python-engineio does. Each
connection has a few threads, none per message: a timer for the deadlines
the core asks for, a dispatcher that calls the handlers in order, one
worker each for GETs and POSTs, and a reader and a writer per WebSocket.
Every change to the core is made under the connection's lock and followed
by ``_apply`` (in ``base_client``), which hands work to those threads
without blocking.
"""

import queue
import signal
import ssl
import threading
import time
import urllib.parse
from base64 import b64encode
from http.cookies import SimpleCookie

try:
    import requests
except ImportError:  # pragma: no cover
    requests = None
try:
    import websocket
except ImportError:  # pragma: no cover
    websocket = None

from . import base_client, exceptions, packet
from .base_client import BaseClient, _Link, now, status_error

_original_signal_handler = None


def _signal_handler(sig, frame):
    """SIGINT: disconnects every threaded client, then runs the handler that
    was there before (``KeyboardInterrupt`` by default).

    The disconnects run on their own (non-daemon) threads, which the
    interpreter waits for before exiting: the interrupted code may hold a
    connection's lock, which only unwinding releases.
    """
    for client in base_client.connected_clients[:]:
        if not client.is_asyncio_based():
            threading.Thread(target=client.disconnect, name="engineio-sigint").start()
    if callable(_original_signal_handler):
        return _original_signal_handler(sig, frame)
    return signal.default_int_handler(sig, frame)


class Client(BaseClient):
    """An Engine.IO client for threads (python-engineio's ``Client``).

    :param logger: ``True`` for INFO logs on ``engineio.client``, or a
        logger to use; errors are logged either way.
    :param json: a module with ``dumps`` and ``loads`` for JSON messages
        (process-wide, as with python-engineio).
    :param request_timeout: seconds a request (and a WebSocket open, the
        upgrade probe, the delivery of the close packet) may take.
    :param http_session: a ``requests.Session`` to send requests with (its
        cookies, authentication, certificates, CA bundle and proxies apply
        to the WebSocket too), or a function returning one.
    :param ssl_verify: ``False`` to skip the verification of the server's
        certificate.
    :param handle_sigint: disconnect on SIGINT (only for clients made in the
        main thread).
    :param websocket_extra_options: extra keyword arguments for
        ``websocket.create_connection()``.
    :param timestamp_requests: add a ``t`` timestamp to the query of GETs
        and WebSocket opens, against caches.
    """

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
        global _original_signal_handler
        super().__init__(
            logger=logger,
            json=json,
            request_timeout=request_timeout,
            http_session=http_session,
            ssl_verify=ssl_verify,
            handle_sigint=handle_sigint,
            websocket_extra_options=websocket_extra_options,
            timestamp_requests=timestamp_requests,
        )
        if (
            handle_sigint
            and _original_signal_handler is None
            and threading.current_thread() is threading.main_thread()
        ):
            _original_signal_handler = signal.signal(signal.SIGINT, _signal_handler)

    def connect(self, url, headers=None, transports=None, engineio_path="engine.io"):
        """Connects to an Engine.IO server; returns once the connection is
        open, the connect handler has run and the upgrade to WebSocket (when
        tried) succeeded or failed.

        :param url: the server's URL (``http``, ``https``, ``ws`` or
            ``wss``), with query parameters for the server if needed.
        :param headers: extra HTTP headers, sent with every request.
        :param transports: ``"polling"``, ``"websocket"`` or a list of them;
            the first is used for the handshake (default: polling, then the
            upgrade to WebSocket).
        :param engineio_path: the server's Engine.IO path.
        :raises exceptions.ConnectionError: when the connection fails; for a
            refusal, ``args[1]`` holds the server's JSON answer.
        """
        if requests is None or websocket is None:  # pragma: no cover
            raise RuntimeError("Client needs the requests and websocket-client packages")
        transports = self._check_connect(transports)
        link = _ThreadLink(self, url, headers or {}, transports, engineio_path)
        self._link = link
        link.start()
        try:
            link.ready.wait()
        except BaseException:
            # Interrupted (KeyboardInterrupt, say): drop the connection.
            with link.lock:
                link._request_close(True, None)
            self._reset(link)
            raise
        if link.error is not None:
            self._reset(link)
            raise link.error

    def wait(self):
        """Waits until the connection ends (and its disconnect handler has
        run)."""
        link = self._link
        if link is None:
            return
        if link.in_dispatcher():
            raise RuntimeError("wait() cannot be called from an event handler")
        link.finished.wait()

    def send(self, data):
        """Sends a message: ``str``, ``bytes``, or a ``dict``/``list`` sent as
        JSON. Waits while too many messages are waiting to be written.

        :raises exceptions.SocketIsClosedError: when not connected.
        """
        link = self._link
        if link is None:
            raise exceptions.SocketIsClosedError("the client is not connected")
        link.send(self._encode(data))

    def disconnect(self, abort=False, reason=None):
        """Disconnects from the server: the close packet is delivered (within
        ``request_timeout``) unless ``abort``. Returns once the disconnect
        handler has run (when called from a handler, it runs right after
        that handler instead). Never waits for a long poll.

        :param abort: drop the transports without the close packet.
        :param reason: the reason the disconnect handler gets (default
            ``Client.reason.CLIENT_DISCONNECT``).
        """
        link = self._link
        if link is None or link.finished.is_set():
            return
        if self.state == "connected":
            self.state = "disconnecting"
        with link.lock:
            link._request_close(abort, reason)
        if link.in_dispatcher():
            return
        link.io_done.wait()
        link.finished.wait()

    def start_background_task(self, target, *args, **kwargs):
        """Runs ``target(*args, **kwargs)`` in a daemon thread; returns the
        thread (``join()`` waits for it)."""
        thread = threading.Thread(target=target, args=args, kwargs=kwargs, daemon=True)
        thread.start()
        return thread

    def sleep(self, seconds=0):
        """``time.sleep``."""
        return time.sleep(seconds)

    def create_queue(self, *args, **kwargs):
        """A ``queue.Queue``."""
        return queue.Queue(*args, **kwargs)

    def get_queue_empty_exception(self):
        """The exception of an empty queue: ``queue.Empty``."""
        return queue.Empty

    def create_event(self, *args, **kwargs):
        """A ``threading.Event``."""
        return threading.Event(*args, **kwargs)

    # ===== requests =====

    def _session(self):
        """The ``requests`` session (made on first use)."""
        if self.http is None:
            self.http = self.http_factory() if self.http_factory else requests.Session()
        return self.http

    def _request(self, method, url, headers, body, timeout):
        """Sends a request; returns ``(status, body)`` or raises
        ``ConnectionError`` for a network failure."""
        options = {} if self.ssl_verify else {"verify": False}
        try:
            response = self._session().request(
                method, url, headers=headers, data=body, timeout=timeout, **options
            )
        except requests.exceptions.RequestException as exc:
            raise exceptions.ConnectionError(str(exc)) from exc
        return response.status_code, response.content

    def _websocket_options(self, headers):
        """The options of ``websocket.create_connection()``: the session's
        cookies, basic authentication, client certificate, CA bundle and
        proxy, as python-engineio carries them over, then the caller's
        ``websocket_extra_options``."""
        headers = dict(headers)
        options = {}
        cookies = ""
        http = self.http
        if http is None and self.http_factory is not None:
            http = self._session()
        if http is not None:
            jar = SimpleCookie()
            for cookie in http.cookies:
                jar[cookie.name] = cookie.value
            cookies = jar.output(header="", sep=";").strip()
            auth = http.auth
            if auth is not None and not any(h.lower() == "authorization" for h in headers):
                if not isinstance(auth, tuple):
                    raise ValueError("Only basic authentication is supported")
                token = b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
                headers["Authorization"] = "Basic " + token
            if isinstance(http.cert, tuple):
                options["sslopt"] = {"certfile": http.cert[0], "keyfile": http.cert[1]}
            elif http.cert:
                options["sslopt"] = {"certfile": http.cert}
            if http.proxies:
                proxy = (
                    http.proxies.get("ws", http.proxies.get("http"))
                    if not self.base_url or self.base_url.startswith(("http:", "ws:"))
                    else http.proxies.get("wss", http.proxies.get("https"))
                )
                if proxy:
                    parsed = urllib.parse.urlparse(proxy if "://" in proxy else "x://" + proxy)
                    options["http_proxy_host"] = parsed.hostname
                    options["http_proxy_port"] = parsed.port
                    if parsed.username or parsed.password:
                        options["http_proxy_auth"] = (parsed.username, parsed.password)
            if isinstance(http.verify, str):
                options.setdefault("sslopt", {})["ca_certs"] = http.verify
        verify = self.ssl_verify and (http is None or http.verify is not False)
        if not verify:
            options.setdefault("sslopt", {})["cert_reqs"] = ssl.CERT_NONE
        for name in list(headers):
            if name.lower() == "cookie":
                cookies = f"{cookies}; {headers.pop(name)}" if cookies else headers.pop(name)
        extra = dict(self.websocket_extra_options)
        headers.update(extra.pop("header", {}))
        options.update(header=headers, enable_multithread=True, timeout=self.request_timeout)
        if cookies:
            options["cookie"] = cookies
        options.update(extra)
        return options


class _Worker:
    """A thread running the calls handed to it, one at a time, in order."""

    def __init__(self, name):
        self.name = name
        self.calls = queue.SimpleQueue()
        self.thread = None

    def put(self, call, *args):
        """Hands over a call (the thread starts on the first one)."""
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self.thread.start()
        self.calls.put((call, args))

    def stop(self):
        """Ends the thread after the calls handed over before."""
        if self.thread is not None:
            self.calls.put(None)

    def _run(self):
        while True:
            item = self.calls.get()
            if item is None:
                return
            call, args = item
            call(*args)


class _ThreadLink(_Link):
    """One connection of a ``Client``, on threads."""

    def __init__(self, client, url, headers, transports, engineio_path):
        super().__init__(client, url, headers, transports, engineio_path)
        self.lock = threading.Lock()
        self.timer = threading.Condition(self.lock)
        self.room = threading.Condition(self.lock)
        self.room_waiters = 0
        self.ready = threading.Event()
        self.io_done = threading.Event()
        self.finished = threading.Event()
        self.events = queue.SimpleQueue()
        self.getter = _Worker("engineio-get")
        self.poster = _Worker("engineio-post")
        self.dispatcher = threading.Thread(
            target=self._run_dispatcher, name="engineio-dispatch", daemon=True
        )

    def start(self):
        """Starts the handshake, the timer and the dispatcher."""
        self.logger.info("Attempting connection to %s", self.client.base_url)
        with self.lock:
            self._apply()
        threading.Thread(target=self._run_timer, name="engineio-timer", daemon=True).start()
        self.dispatcher.start()

    def change(self, call, *args):
        """Calls ``call(core, now, *args)`` under the lock, then applies what
        the core reports."""
        with self.lock:
            call(self.core, now(), *args)
            self._apply()

    def in_dispatcher(self):
        """Whether this thread runs the handlers."""
        return threading.current_thread() is self.dispatcher

    def send(self, data):
        """Queues a message in the core, waiting while its queue is full."""
        with self.lock:
            while True:
                try:
                    self.core.send(data)
                except ValueError as err:
                    kind, message = err.args
                    if kind == "closed":
                        raise exceptions.SocketIsClosedError(message) from None
                    if kind != "queue full":
                        raise ValueError(message) from None
                    self.room_waiters += 1
                    try:
                        self.room.wait()
                    finally:
                        self.room_waiters -= 1
                    continue
                self._apply()
                return

    # ===== hooks of `_Link._apply` (under the lock; none blocks) =====

    def _start_get(self, url, timeout):
        self.getter.put(self._get, url, timeout)

    def _start_post(self, url, payload):
        self.poster.put(self._post, url, payload)

    def _start_open_ws(self, ws, url):
        threading.Thread(
            target=self._open_ws, args=(ws, url), name="engineio-ws-open", daemon=True
        ).start()

    def _ws_write(self, sock, frames, messages):
        sock.out.put((frames, messages))

    def _ws_close(self, sock):
        sock.out.put(None)

    def _dispatch(self, item):
        self.events.put(item)

    def _wake_timer(self):
        self.timer.notify()

    def _room_changed(self):
        if self.room_waiters:
            self.room.notify_all()

    def _upgraded(self):
        self.getter.stop()
        self.poster.stop()

    def _stop_polling(self):
        self.getter.stop()
        self.poster.stop()

    # ===== the threads =====

    def _run_timer(self):
        with self.lock:
            while not self.closed:
                target = self._deadline()
                self.timer_target = target
                delay = None if target is None else target - now()
                if delay is None or delay > 0:
                    self.timer.wait(delay)
                    continue
                self._on_timer(now())

    def _run_dispatcher(self):
        client = self.client
        while True:
            item = self.events.get()
            kind = item[0]
            if kind == "connect":
                failure = None
                try:
                    client._call("connect")
                except Exception as exc:
                    failure = exc
                with self.lock:
                    self._connect_handled(failure)
            elif kind == "message":
                if self.connect_ok:
                    client._call("message", item[1])
            else:
                reason = item[1]
                if self.connect_ok:
                    if client._link is self:
                        client.state = self._disconnect_state(reason)
                    client._call("disconnect", reason)
                client._reset(self)
                if client._link is self and not client.external_http and client.http is not None:
                    client.http.close()
                    client.http = None
                self.finished.set()
                return

    def _get(self, url, timeout):
        if self.closed:
            return
        try:
            status, body = self.client._request("GET", url, self.headers, None, timeout)
        except exceptions.ConnectionError as err:
            with self.lock:
                self._network_error("GET", err)
                self.core.get_failed()
                self._apply()
            return
        if 200 <= status < 300:
            self.change(lambda core, at: core.handle_get(body, at))
            return
        with self.lock:
            self._network_error("GET", status_error(status, body, packet.Packet.json))
            self.core.get_failed()
            self._apply()

    def _post(self, url, payload):
        if self.closed:
            return
        headers = {**self.headers, "Content-Type": "text/plain; charset=UTF-8"}
        try:
            status, _ = self.client._request(
                "POST", url, headers, payload.encode(), self.client.request_timeout
            )
            ok = 200 <= status < 300
            error = None if ok else f"unexpected status code {status}"
        except exceptions.ConnectionError as err:
            ok, error = False, err
        with self.lock:
            if ok:
                self.core.handle_post()
            else:
                self._network_error("POST", error)
                self.core.post_failed()
            self._apply()

    def _open_ws(self, ws, url):
        if self.closed:
            return
        try:
            options = self.client._websocket_options(self.headers)
            conn = websocket.create_connection(url, **options)
        except websocket.WebSocketBadStatusException as exc:
            error = status_error(exc.status_code, exc.resp_body, packet.Packet.json)
        except (OSError, ValueError, websocket.WebSocketException) as exc:
            error = exceptions.ConnectionError(str(exc) or "Connection error")
        else:
            error = None
        with self.lock:
            if error is not None:
                self._network_error("WebSocket open", error)
                self.core.ws_open_failed(ws)
                self._apply()
                return
            if ws in self.cancelled:
                self.cancelled.discard(ws)
                conn.shutdown()
                return
            sock = _WebSocket(self, ws, conn)
            self.sockets[ws] = sock
            self.writers += 1
            sock.start()
            if self.core.sid is None:
                self.handshake_deadline = now() + self.client.request_timeout
            self.core.ws_opened(ws, now())
            self._apply()


class _WebSocket:
    """One WebSocket of a connection: a reader thread feeding the core, and
    a writer thread writing what the core gives, in order."""

    def __init__(self, link, ws, conn):
        self.link = link
        self.ws = ws
        self.conn = conn
        self.out = queue.SimpleQueue()
        self.reading_done = threading.Event()
        self.closing = False

    def start(self):
        """Starts the reader and the writer."""
        threading.Thread(target=self._read, name="engineio-ws-read", daemon=True).start()
        threading.Thread(target=self._write, name="engineio-ws-write", daemon=True).start()

    def _read(self):
        link, ws, conn = self.link, self.ws, self.conn
        clean = False
        try:
            while True:
                try:
                    opcode, data = conn.recv_data()
                except websocket.WebSocketTimeoutException:
                    if self.closing:
                        break
                    continue
                if opcode == websocket.ABNF.OPCODE_TEXT:
                    text = data.decode() if isinstance(data, bytes) else data
                    link.change(lambda core, at, t=text: core.handle_ws_text(ws, t, at))
                elif opcode == websocket.ABNF.OPCODE_BINARY:
                    link.change(lambda core, at, d=data: core.handle_ws_binary(ws, d, at))
                elif opcode == websocket.ABNF.OPCODE_CLOSE:
                    clean = True
                    break
        except (OSError, ValueError, websocket.WebSocketException) as exc:
            if not self.closing:
                link.logger.info("WebSocket read failed: %s", exc)
        finally:
            self.reading_done.set()
            # The writer ends too (if the core has not closed it already).
            self.out.put(None)
            with link.lock:
                if link.sockets.get(ws) is self:
                    del link.sockets[ws]
                link.core.ws_ended(ws, clean)
                link._apply()

    def _write(self):
        link, conn = self.link, self.conn
        broken = False
        while True:
            item = self.out.get()
            if item is None:
                break
            frames, messages = item
            if not broken:
                try:
                    for frame in frames:
                        if isinstance(frame, bytes):
                            conn.send_binary(frame)
                        else:
                            conn.send(frame)
                except (OSError, websocket.WebSocketException) as exc:
                    link.logger.info("WebSocket write failed: %s", exc)
                    broken = True
                    self._drop()
            with link.lock:
                link.core.written(messages)
                link._apply()
        self.closing = True
        if not broken and not self.reading_done.is_set():
            try:
                conn.send_close()
            except (OSError, websocket.WebSocketException):
                pass
        with link.lock:
            link.writers -= 1
            link._apply()
        # The server answers the close frame; the reader then ends.
        self.reading_done.wait(link.client.request_timeout)
        self._drop()

    def _drop(self):
        """Closes the TCP connection (waking the reader)."""
        sock = self.conn.sock
        if sock is not None:
            try:
                sock.shutdown(2)
            except OSError:
                pass
        self.conn.shutdown()
