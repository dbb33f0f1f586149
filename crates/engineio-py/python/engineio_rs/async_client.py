"""``AsyncClient``: python-engineio's asyncio client, on the Rust core.

The core's connection state machine (``_core.ClientConnection``) decides
the protocol; this module moves its bytes with aiohttp (long-polling and
WebSocket), as python-engineio does. Each connection has a timer task for
the deadlines the core asks for, a dispatcher task that calls the handlers
in order (sync or ``async def``), a task per request in flight, and a
reader and a writer task per WebSocket. Every change to the core is
followed by ``_apply`` (in ``base_client``), which hands work to those
tasks without blocking.
"""

import asyncio
import inspect
import signal
import ssl
import threading
import weakref

try:
    import aiohttp
except ImportError:  # pragma: no cover
    aiohttp = None

from . import base_client, exceptions, packet
from .base_client import BaseClient, _handler_args, _Link, now, status_error

#: The event loops on which SIGINT disconnects the clients.
_signal_loops = weakref.WeakSet()


def _async_signal_handler(loop, previous):
    """SIGINT: disconnects every asyncio client, then hands the signal to
    the handler that was there before (``KeyboardInterrupt`` by default)."""
    loop.remove_signal_handler(signal.SIGINT)
    _signal_loops.discard(loop)

    async def disconnect_all():
        for client in base_client.connected_clients[:]:
            if client.is_asyncio_based():
                await client.disconnect()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        signal.raise_signal(signal.SIGINT)

    task = asyncio.ensure_future(disconnect_all())
    _background.add(task)
    task.add_done_callback(_background.discard)


#: Tasks kept referenced until they end (asyncio keeps weak references).
_background = set()


class AsyncClient(BaseClient):
    """An Engine.IO client for asyncio (python-engineio's ``AsyncClient``).

    :param logger: ``True`` for INFO logs on ``engineio.client``, or a
        logger to use; errors are logged either way.
    :param json: a module with ``dumps`` and ``loads`` for JSON messages
        (process-wide, as with python-engineio).
    :param request_timeout: seconds a request (and a WebSocket open, the
        upgrade probe, the delivery of the close packet) may take.
    :param http_session: an ``aiohttp.ClientSession`` to send requests with,
        or a function (or coroutine function) returning one.
    :param ssl_verify: ``False`` to skip the verification of the server's
        certificate.
    :param handle_sigint: disconnect on SIGINT (when connecting from the
        main thread).
    :param websocket_extra_options: extra keyword arguments for
        ``aiohttp.ClientSession.ws_connect()``.
    :param timestamp_requests: add a ``t`` timestamp to the query of GETs
        and WebSocket opens, against caches.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._ws_http = None

    def is_asyncio_based(self):
        """Whether this client runs on asyncio."""
        return True

    async def connect(self, url, headers=None, transports=None, engineio_path="engine.io"):
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
        if aiohttp is None:  # pragma: no cover
            raise RuntimeError("AsyncClient needs the aiohttp package")
        loop = asyncio.get_running_loop()
        if (
            self.handle_sigint
            and loop not in _signal_loops
            and threading.current_thread() is threading.main_thread()
        ):
            previous = signal.getsignal(signal.SIGINT)
            try:
                loop.add_signal_handler(signal.SIGINT, _async_signal_handler, loop, previous)
                _signal_loops.add(loop)
            except NotImplementedError:  # pragma: no cover (Windows)
                self.logger.warning("Signal handler is unsupported")
        transports = self._check_connect(transports)
        link = _AsyncLink(self, url, headers or {}, transports, engineio_path)
        self._link = link
        link.start()
        try:
            await link.ready.wait()
        except asyncio.CancelledError:
            # Nobody waits for this connection any more: drop it.
            link._request_close(True, None)
            self._reset(link)
            raise
        if link.error is not None:
            self._reset(link)
            await self._close_sessions()
            raise link.error

    async def wait(self):
        """Waits until the connection ends (and its disconnect handler has
        run)."""
        link = self._link
        if link is None:
            return
        if link.in_dispatcher():
            raise RuntimeError("wait() cannot be awaited from an event handler")
        await link.finished.wait()

    async def send(self, data):
        """Sends a message: ``str``, ``bytes``, or a ``dict``/``list`` sent as
        JSON. Waits while too many messages are waiting to be written.

        :raises exceptions.SocketIsClosedError: when not connected.
        """
        link = self._link
        if link is None:
            raise exceptions.SocketIsClosedError("the client is not connected")
        await link.send(self._encode(data))

    async def disconnect(self, abort=False, reason=None):
        """Disconnects from the server: the close packet is delivered (within
        ``request_timeout``) unless ``abort``. Returns once the disconnect
        handler has run (when awaited in a handler, it runs right after that
        handler instead). Never waits for a long poll.

        :param abort: drop the transports without the close packet.
        :param reason: the reason the disconnect handler gets (default
            ``AsyncClient.reason.CLIENT_DISCONNECT``).
        """
        link = self._link
        if link is None or link.finished.is_set():
            return
        if self.state == "connected":
            self.state = "disconnecting"
        link._request_close(abort, reason)
        if link.in_dispatcher():
            return
        await link.io_done.wait()
        await link.finished.wait()

    def start_background_task(self, target, *args, **kwargs):
        """Runs the coroutine ``target(*args, **kwargs)`` as a task, and
        returns it (the client keeps a reference until it ends)."""
        task = asyncio.ensure_future(target(*args, **kwargs))
        _background.add(task)
        task.add_done_callback(_background.discard)
        return task

    async def sleep(self, seconds=0):
        """``asyncio.sleep``."""
        return await asyncio.sleep(seconds)

    def create_queue(self, *args, **kwargs):
        """An ``asyncio.Queue``."""
        return asyncio.Queue(*args, **kwargs)

    def get_queue_empty_exception(self):
        """The exception of an empty queue: ``asyncio.QueueEmpty``."""
        return asyncio.QueueEmpty

    def create_event(self, *args, **kwargs):
        """An ``asyncio.Event``."""
        return asyncio.Event(*args, **kwargs)

    # ===== aiohttp =====

    async def _call(self, event, *args):
        """Calls (and awaits) the handler of ``event``; its errors are logged
        (and raised again for ``connect``, which then fails)."""
        handler = self.handlers.get(event)
        if handler is None:
            return None
        try:
            result = handler(*_handler_args(event, handler, args))
            if inspect.isawaitable(result):
                result = await result
            return result
        except Exception:
            self.logger.exception("%s handler error", event)
            if event == "connect":
                raise
            return None

    async def _session(self):
        """The aiohttp session (made on first use)."""
        if self.http is None or self.http.closed:
            self._ws_http = None
            if self.http_factory:
                self.http = self.http_factory()
                if inspect.isawaitable(self.http):
                    self.http = await self.http
            else:
                # `unsafe=True` keeps the cookies of servers named by an IP
                # address (the session's sticky cookie, say), which
                # aiohttp's default jar drops.
                jar = aiohttp.CookieJar(unsafe=True)
                self.http = aiohttp.ClientSession(cookie_jar=jar)
                # WebSockets are opened on fresh connections, never pooled:
                # a server refusing an upgrade may drop the connection
                # without saying so, and a POST must not pick it up.
                self._ws_http = aiohttp.ClientSession(
                    cookie_jar=jar, connector=aiohttp.TCPConnector(force_close=True)
                )
        return self.http

    async def _close_sessions(self):
        """Closes the sessions this client made (never one it was given)."""
        sessions = [self._ws_http]
        if not self.external_http:
            sessions.append(self.http)
            self.http = None
        self._ws_http = None
        for session in sessions:
            if session is not None:
                await session.close()

    async def _request(self, method, url, headers, body, timeout):
        """Sends a request; returns ``(status, body)`` or raises
        ``ConnectionError`` for a network failure."""
        options = {} if self.ssl_verify else {"ssl": False}
        http = await self._session()
        try:
            async with http.request(
                method,
                url,
                headers=headers,
                data=body,
                timeout=aiohttp.ClientTimeout(total=timeout),
                **options,
            ) as response:
                return response.status, await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise exceptions.ConnectionError(str(exc) or type(exc).__name__) from exc

    async def _open_websocket(self, url, headers):
        """Opens a WebSocket; raises ``ConnectionError`` when it fails."""
        http = await self._session()
        http = self._ws_http or http
        options = {"timeout": aiohttp.ClientWSTimeout(ws_close=self.request_timeout)}
        if not self.ssl_verify:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            options["ssl"] = context
        extra = dict(self.websocket_extra_options)
        headers = {**headers, **extra.pop("headers", {})}
        options["headers"] = headers
        options.update(extra)
        try:
            return await asyncio.wait_for(http.ws_connect(url, **options), self.request_timeout)
        except aiohttp.WSServerHandshakeError as exc:
            raise status_error(exc.status, None, packet.Packet.json) from exc
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise exceptions.ConnectionError(str(exc) or type(exc).__name__) from exc


class _AsyncLink(_Link):
    """One connection of an ``AsyncClient``, on asyncio tasks."""

    def __init__(self, client, url, headers, transports, engineio_path):
        super().__init__(client, url, headers, transports, engineio_path)
        self.ready = asyncio.Event()
        self.io_done = asyncio.Event()
        self.finished = asyncio.Event()
        self.timer_moved = asyncio.Event()
        self.room = asyncio.Event()
        self.room_waiters = 0
        self.events = asyncio.Queue()
        self.tasks = set()
        self.dispatcher = None

    def start(self):
        """Starts the handshake, the timer and the dispatcher."""
        self.logger.info("Attempting connection to %s", self.client.base_url)
        self._apply()
        self._task(self._run_timer())
        self.dispatcher = self._task(self._run_dispatcher())

    def _task(self, coro):
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def in_dispatcher(self):
        """Whether the current task runs the handlers."""
        return asyncio.current_task() is self.dispatcher

    async def send(self, data):
        """Queues a message in the core, waiting while its queue is full."""
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
                    await self.room.wait()
                finally:
                    self.room_waiters -= 1
                continue
            self._apply()
            return

    # ===== hooks of `_Link._apply` (none blocks) =====

    def _start_get(self, url, timeout):
        self._task(self._get(url, timeout))

    def _start_post(self, url, payload):
        self._task(self._post(url, payload))

    def _start_open_ws(self, ws, url):
        self._task(self._open_ws(ws, url))

    def _ws_write(self, sock, frames, messages):
        sock.out.put_nowait((frames, messages))

    def _ws_close(self, sock):
        sock.out.put_nowait(None)

    def _dispatch(self, item):
        self.events.put_nowait(item)

    def _wake_timer(self):
        self.timer_moved.set()

    def _room_changed(self):
        if self.room_waiters:
            self.room.set()
            self.room = asyncio.Event()

    # ===== the tasks =====

    async def _run_timer(self):
        while not self.closed:
            self.timer_moved.clear()
            target = self._deadline()
            self.timer_target = target
            delay = None if target is None else target - now()
            if delay is None or delay > 0:
                try:
                    await asyncio.wait_for(self.timer_moved.wait(), delay)
                except asyncio.TimeoutError:
                    pass
                continue
            self._on_timer(now())

    async def _run_dispatcher(self):
        client = self.client
        while True:
            item = await self.events.get()
            kind = item[0]
            if kind == "connect":
                failure = None
                try:
                    await client._call("connect")
                except Exception as exc:
                    failure = exc
                self._connect_handled(failure)
            elif kind == "message":
                if self.connect_ok:
                    await client._call("message", item[1])
            else:
                reason = item[1]
                if self.connect_ok:
                    if client._link is self:
                        client.state = self._disconnect_state(reason)
                    await client._call("disconnect", reason)
                client._reset(self)
                if client._link is self:
                    await client._close_sessions()
                self.finished.set()
                return

    async def _get(self, url, timeout):
        if self.closed:
            return
        try:
            status, body = await self.client._request("GET", url, self.headers, None, timeout)
        except exceptions.ConnectionError as err:
            self._network_error("GET", err)
            self.core.get_failed()
        else:
            if 200 <= status < 300:
                self.core.handle_get(body, now())
            else:
                self._network_error("GET", status_error(status, body, packet.Packet.json))
                self.core.get_failed()
        self._apply()

    async def _post(self, url, payload):
        if self.closed:
            return
        headers = {**self.headers, "Content-Type": "text/plain; charset=UTF-8"}
        try:
            status, _ = await self.client._request(
                "POST", url, headers, payload.encode(), self.client.request_timeout
            )
        except exceptions.ConnectionError as err:
            self._network_error("POST", err)
            self.core.post_failed()
        else:
            if 200 <= status < 300:
                self.core.handle_post()
            else:
                self._network_error("POST", f"unexpected status code {status}")
                self.core.post_failed()
        self._apply()

    async def _open_ws(self, ws, url):
        if self.closed:
            return
        try:
            conn = await self.client._open_websocket(url, self.headers)
        except exceptions.ConnectionError as err:
            self._network_error("WebSocket open", err)
            self.core.ws_open_failed(ws)
            self._apply()
            return
        if ws in self.cancelled:
            self.cancelled.discard(ws)
            await conn.close()
            return
        sock = _WebSocket(self, ws, conn)
        self.sockets[ws] = sock
        self.writers += 1
        sock.reader = self._task(sock.read())
        self._task(sock.write())
        if self.core.sid is None:
            self.handshake_deadline = now() + self.client.request_timeout
        self.core.ws_opened(ws, now())
        self._apply()


class _WebSocket:
    """One WebSocket of a connection: a reader task feeding the core, and a
    writer task writing what the core gives, in order."""

    def __init__(self, link, ws, conn):
        self.link = link
        self.ws = ws
        self.conn = conn
        self.out = asyncio.Queue()
        self.reader = None

    async def read(self):
        """Feeds the frames to the core until the WebSocket ends."""
        link, ws, conn, core = self.link, self.ws, self.conn, self.link.core
        clean = False
        try:
            while True:
                message = await conn.receive()
                if message.type == aiohttp.WSMsgType.TEXT:
                    core.handle_ws_text(ws, message.data, now())
                elif message.type == aiohttp.WSMsgType.BINARY:
                    core.handle_ws_binary(ws, message.data, now())
                else:
                    clean = message.type == aiohttp.WSMsgType.CLOSE
                    break
                link._apply()
        except (aiohttp.ClientError, OSError) as exc:
            link.logger.info("WebSocket read failed: %s", exc)
        finally:
            # The writer ends too (if the core has not closed it already).
            self.out.put_nowait(None)
            if link.sockets.get(ws) is self:
                del link.sockets[ws]
            core.ws_ended(ws, clean)
            link._apply()

    async def write(self):
        """Writes the frames the core gives, then closes the WebSocket."""
        link, conn = self.link, self.conn
        broken = False
        while True:
            item = await self.out.get()
            if item is None:
                break
            frames, messages = item
            if not broken:
                try:
                    for frame in frames:
                        if isinstance(frame, bytes):
                            await conn.send_bytes(frame)
                        else:
                            await conn.send_str(frame)
                except (aiohttp.ClientError, OSError, RuntimeError) as exc:
                    # aiohttp raises ClientConnectionResetError (an OSError)
                    # or RuntimeError on a closed WebSocket.
                    link.logger.info("WebSocket write failed: %s", exc)
                    broken = True
            link.core.written(messages)
            link._apply()
        try:
            # Sends the close frame, and waits (at most `request_timeout`)
            # for the server's.
            await conn.close()
        except (aiohttp.ClientError, OSError):
            pass
        finally:
            link.writers -= 1
            link._apply()
