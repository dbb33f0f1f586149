"""``Server``: python-engineio's threading server (WSGI), on the Rust core.

As in ``AsyncServer``, every protocol decision is the core's
(``_core.Session``, ``_core.route``). This module moves bytes between a
threaded WSGI server and it: polls and POSTs are answered from the request's
thread, WebSockets run through simple-websocket (werkzeug's development
server, gunicorn's threaded workers, eventlet), one timer thread runs every
session's deadlines, and handlers run on daemon threads.

A session's state machine is only touched under its lock
(``_Socket.cond``); waiting requests sleep on that condition and are woken
when the session reports a change.
"""

import heapq
import http
import itertools
import queue
import threading
import time

from . import _core, native
from .base_server import BaseServer, BaseSocket, now


class _Socket(BaseSocket):
    """One session, with the condition its requests wait on."""

    def __init__(self, sid, core):
        super().__init__(sid, core)
        self.cond = threading.Condition()
        self.timer_at = None

    def notify(self):
        """Wakes every request waiting on the session (called with
        ``cond`` held)."""
        self.cond.notify_all()


class _Timers:
    """One thread running every session's deadlines, earliest first. Each
    session has at most one live entry in the heap (``_Socket.timer_at``);
    entries it superseded are skipped."""

    def __init__(self, server):
        self.server = server
        self.heap = []
        self.order = itertools.count()
        self.cond = threading.Condition()
        self.thread = None

    def schedule(self, sock):
        """Wakes the session at its next deadline (called with the session's
        lock held)."""
        deadline = sock.core.next_deadline()
        if deadline is None or deadline == sock.timer_at:
            return
        sock.timer_at = deadline
        with self.cond:
            heapq.heappush(self.heap, (deadline, next(self.order), sock))
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="engineio_rs timers", daemon=True
                )
                self.thread.start()
            if self.heap[0][2] is sock:
                self.cond.notify()

    def _run(self):
        while True:
            with self.cond:
                while not self.heap or self.heap[0][0] > now():
                    timeout = self.heap[0][0] - now() if self.heap else None
                    self.cond.wait(timeout)
                deadline, _, sock = heapq.heappop(self.heap)
            with sock.cond:
                if deadline != sock.timer_at:
                    continue  # superseded by a later schedule()
                sock.timer_at = None
                due = sock.core.next_deadline()
                if due is not None and due <= now():
                    sock.core.handle_timeout(now())
                    self.server._apply(sock)
                self.schedule(sock)


class Server(BaseServer):
    """An Engine.IO server for threaded WSGI servers (python-engineio's
    ``Server`` in ``threading`` mode).

    The parameters are ``AsyncServer``'s (see there), with ``async_mode``
    ``"threading"`` (or ``None``). Handlers are plain functions.

    Example, under werkzeug's or gunicorn's threaded server::

        eio = engineio_rs.Server()

        @eio.on("message")
        def message(sid, data):
            eio.send(sid, data)

        app = engineio_rs.WSGIApp(eio)
    """

    _modes = ("threading", "native")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._timers = _Timers(self)

    # ===== the application's calls =====

    def send(self, sid, data):
        """Sends a message (``str``, ``bytes``, or a ``dict``/``list`` sent as
        JSON) to a session; does nothing if it is gone."""
        self._send(sid, self._message_payload(data))

    def send_packet(self, sid, pkt):
        """Sends a message packet to a session (its encoding is cached, so a
        broadcast encodes once)."""
        self._send(sid, self._message_packet(pkt))

    def _send(self, sid, data):
        if self._native is not None:
            return native.send(self, sid, data)
        sock = self.sockets.get(sid)
        if sock is None:
            self.logger.warning("Cannot send to sid %s", sid)
            return None
        with sock.cond:
            if self._queue(sid, data) is not None:
                self._apply(sock)
        return None

    def disconnect(self, sid=None):
        """Closes a session, or every session; never blocks (python-engineio's
        can hang here on a polling session)."""
        if self._native is not None:
            return native.disconnect(self, sid)
        sids = [sid] if sid is not None else list(self.sockets)
        for one in sids:
            sock = self.sockets.get(one)
            if sock is not None:
                with sock.cond:
                    sock.core.close(self.reason.SERVER_DISCONNECT, now())
                    self._apply(sock)

    def get_session(self, sid):
        """The user session (a dict) of a session."""
        sock = self.sockets.get(sid)
        if sock is None:
            raise KeyError("Session not found")
        return sock.session

    def save_session(self, sid, session):
        """Replaces the user session of a session."""
        sock = self.sockets.get(sid)
        if sock is None:
            raise KeyError("Session not found")
        sock.session = session

    def session(self, sid):
        """The user session as a context manager::

        with eio.session(sid) as session:
            session["name"] = name
        """
        server = self

        class _SessionContext:
            def __enter__(self):
                self.session = server.get_session(sid)
                return self.session

            def __exit__(self, *exc):
                server.save_session(sid, self.session)

        return _SessionContext()

    def shutdown(self):
        """Closes every session; a native server then stops (``run()``
        returns once the disconnect handlers have run)."""
        if self._native is not None:
            self._native.shutdown()
        else:
            self.disconnect()

    def run(
        self,
        host="127.0.0.1",
        port=5000,
        static_files=None,
        engineio_path="engine.io",
        workers=8,
        threads=1,
        close_timeout=5,
        wsgi_app=None,
    ):
        """Serves a native server (``async_mode="native"``) on ``host:port``
        until ``shutdown()`` or Ctrl-C: our Rust server owns the sockets,
        ``workers`` threads run the handlers.

        :param static_files: static file rules, as ``WSGIApp``'s.
        :param engineio_path: where the server answers.
        :param workers: handler threads.
        :param threads: the Rust server's I/O threads (one is best while
            the handlers, which hold the GIL, are the bottleneck).
        :param close_timeout: how long a shutdown waits for polling clients
            to fetch their close packet, in seconds.
        :param wsgi_app: a WSGI app for the other paths (after the static
            files), as ``WSGIApp``'s; its answers are written whole.

        Example::

            eio = engineio_rs.Server(async_mode="native")

            @eio.on("message")
            def message(sid, data):
                eio.send(sid, data)

            eio.run("127.0.0.1", 5000)
        """
        if self.async_mode != "native":
            raise RuntimeError("run() serves a native server: create it with async_mode='native'")
        self._native = native.make_core(self, engineio_path, threads, close_timeout)
        self.native_port = self._native.listen(host, port, static_files, wsgi_app is not None)
        self.logger.info("engineio_rs native server on %s:%s", host, self.native_port)
        native.ThreadRunner(self, workers, wsgi_app).run()

    def start_background_task(self, target, *args, **kwargs):
        """Runs ``target(*args, **kwargs)`` on a daemon thread and returns
        it (it has ``join()``)."""
        thread = threading.Thread(target=target, args=args, kwargs=kwargs, daemon=True)
        thread.start()
        return thread

    def sleep(self, seconds=0):
        """``time.sleep``."""
        return time.sleep(seconds)

    @staticmethod
    def create_queue(*args, **kwargs):
        """A ``queue.Queue``."""
        return queue.Queue(*args, **kwargs)

    @staticmethod
    def get_queue_empty_exception():
        """The exception of an empty queue."""
        return queue.Empty

    @staticmethod
    def create_event(*args, **kwargs):
        """A ``threading.Event``."""
        return threading.Event(*args, **kwargs)

    # ===== what the sessions ask for =====

    def _socket_class(self):
        return _Socket

    def _timer_moved(self, sock):
        self._timers.schedule(sock)

    def _start_dispatch(self, sock):
        if self.async_handlers:
            self._dispatch_all(sock)
        else:
            self.start_background_task(self._dispatch, sock)

    def _dispatch_all(self, sock):
        """Starts every waiting handler at once, each on its own thread, in
        the order the messages came (``async_handlers``; lock held)."""
        while True:
            work = sock.core.next_dispatch()
            if work is None:
                break
            kind, data = work
            if kind == "disconnect":
                self.start_background_task(self._trigger_event, "disconnect", sock.sid, data)
                break
            self.start_background_task(self._handle_message, sock, data)
        self._apply(sock)

    def _dispatch(self, sock):
        """Runs one session's handlers one at a time, in order."""
        while True:
            with sock.cond:
                work = sock.core.next_dispatch()
                self._apply(sock)
            if work is None:
                return
            kind, data = work
            if kind == "disconnect":
                self._trigger_event("disconnect", sock.sid, data)
                return
            self._handle_message(sock, data)

    def _handle_message(self, sock, data):
        try:
            self._trigger_event("message", sock.sid, self._message_data(data))
        finally:
            with sock.cond:
                sock.core.message_handled(now())
                self._apply(sock)

    def _trigger_event(self, event, *args):
        handler = self.handlers.get(event)
        if handler is None:
            return None
        try:
            try:
                return handler(*args)
            except TypeError:
                if event == "disconnect" and len(args) == 2:
                    # A legacy disconnect handler takes no reason.
                    return handler(args[0])
                raise
        except Exception:
            self.logger.exception("%s handler error", event)
            if event == "connect":
                return False
            return None

    # ===== WSGI =====

    def handle_request(self, environ, start_response):
        """Serves one WSGI request to the engine.io path; returns the body
        as a list of ``bytes``."""
        self._not_native()
        answer = self._serve(environ, start_response)
        if answer is None:  # a WebSocket ran; the connection is not HTTP any more
            return _after_websocket(environ)
        status, headers, body = answer
        start_response(_status_line(status), headers)
        return [body]

    def _serve(self, environ, start_response):
        """The answer to a request, as ``(status, headers, body)``, or
        ``None`` once a WebSocket on it has ended."""
        websocket = environ.get("HTTP_UPGRADE", "").lower() == "websocket"
        refused = self._origin_refused(environ)
        if refused is not None:
            return refused
        method = environ.get("REQUEST_METHOD", "GET")
        kind, target, answer = _core.route(
            method, environ.get("QUERY_STRING", ""), websocket, self.transports
        )
        if kind == "error":
            return self._decorate(*self._core_answer(answer), environ)
        if kind == "refused":
            if target not in self.sockets:
                answer = _core.unknown_session(websocket)
            return self._decorate(*self._core_answer(answer), environ)
        if kind == "preflight":
            return self._decorate(204, [], b"", environ)
        if kind == "close_websocket":
            _close(_accept(environ, self.max_http_buffer_size))
            return None
        if kind == "handshake":
            return self._handshake(target, environ)
        sock = self.sockets.get(target)
        if sock is None:
            return self._decorate(*self._core_answer(_core.unknown_session(websocket)), environ)
        if kind == "poll":
            return self._poll(sock, environ)
        if kind == "post":
            return self._post(sock, environ)
        return self._upgrade(sock, environ)

    def _handshake(self, transport, environ):
        if self._full():
            self.logger.warning("handshake refused: max_sessions (%s) reached", self.max_sessions)
            answer = _core.too_many_sessions(transport == "websocket")
            return self._decorate(*self._core_answer(answer), environ)
        sock = self._new_session(transport, environ)
        ret = self._trigger_event("connect", sock.sid, environ)
        if ret is not None and ret is not True:
            with sock.cond:
                sock.core.reject()
                self._apply(sock)
            self.environ.pop(sock.sid, None)
            self.logger.warning("Application rejected connection")
            headers = [("Content-Type", "application/json")]
            return self._decorate(401, headers, self._rejection_body(ret), environ)
        fields = self._open_packet_fields(sock, transport)
        if transport == "polling":
            with sock.cond:
                body = sock.core.open_payload(*fields)
                self._timers.schedule(sock)
            return self._payload_answer(body, environ, sock.sid)
        ws = _accept(environ, self.max_http_buffer_size)
        with sock.cond:
            self._timers.schedule(sock)
            number = sock.core.websocket
        ws.send(_core.open_packet(*fields))
        self._websocket_loop(sock, number, ws)
        return None

    def _poll(self, sock, environ):
        with sock.cond:
            try:
                sock.core.begin_poll(now())
            except ValueError as err:
                self._apply(sock)
                return self._decorate(*self._refusal(err), environ)
            self._apply(sock)
            while True:
                body = sock.core.poll_payload()
                self._apply(sock)
                if body is not None:
                    break
                sock.cond.wait()
        return self._payload_answer(body, environ)

    def _post(self, sock, environ):
        with sock.cond:
            try:
                sock.core.begin_post(now(), environ.get("CONTENT_TYPE") or None)
            except ValueError as err:
                self._apply(sock)
                return self._decorate(*self._refusal(err), environ)
            self._apply(sock)
        body = _read_body(environ, self.max_http_buffer_size)
        with sock.cond:
            if body is None:
                sock.core.post_too_large()
                self._apply(sock)
                return self._decorate(413, [], b"", environ)
            try:
                sock.core.post_payload(body, now())
            except ValueError as err:
                self._apply(sock)
                return self._decorate(*self._refusal(err), environ)
            self._apply(sock)
            while not sock.core.post_accepted():
                sock.cond.wait()
        return self._decorate(200, [("Content-Type", "text/html")], b"ok", environ)

    def _upgrade(self, sock, environ):
        with sock.cond:
            try:
                number = sock.core.attach_websocket(now())
            except ValueError:
                number = None
            self._apply(sock)
        ws = _accept(environ, self.max_http_buffer_size)
        if number is None:
            _close(ws)
            return None
        self._websocket_loop(sock, number, ws)
        return None

    def _websocket_loop(self, sock, number, ws):
        """Runs one WebSocket: a reader thread feeds the session (pausing
        while the session cannot take more), and this thread writes what the
        session gives, until it says to close."""
        import simple_websocket

        ended = threading.Event()

        def read():
            try:
                while True:
                    with sock.cond:
                        while not sock.core.ws_can_read(number) and not ended.is_set():
                            sock.cond.wait()
                        if ended.is_set():
                            return
                    try:
                        # With a timeout: simple-websocket can miss the wake-up
                        # of a close it makes itself (its reader thread sets
                        # the event before `connected` is cleared).
                        message = ws.receive(timeout=1)
                        if message is None:
                            if ws.connected:
                                continue
                            raise simple_websocket.ConnectionClosed()
                    except simple_websocket.ConnectionClosed:
                        # simple-websocket closes (1009) a message over
                        # max_message_size itself, and says so only here.
                        too_big = ws.incoming_message_len > self.max_http_buffer_size
                        how = "too big" if too_big else "closed"
                        with sock.cond:
                            sock.core.ws_ended(number, how, now())
                            self._apply(sock)
                        return
                    with sock.cond:
                        code = self._ws_message(sock, number, message)
                    if code is not None:
                        _close(ws, code)
                        return
            finally:
                ended.set()
                with sock.cond:
                    sock.notify()

        self.start_background_task(read)
        while True:
            with sock.cond:
                while True:
                    action, value = sock.core.ws_transmit(number)
                    self._apply(sock)
                    if action != "idle" or ended.is_set():
                        break
                    sock.cond.wait()
            if action == "write":
                try:
                    for frame in value:
                        ws.send(frame)
                except simple_websocket.ConnectionClosed:
                    with sock.cond:
                        sock.core.ws_ended(number, "closed", now())
                        self._apply(sock)
                    break
                continue
            if action == "close":
                _close(ws, value)
            break
        ended.set()
        with sock.cond:
            sock.notify()

    def _ws_message(self, sock, number, message):
        """Feeds one WebSocket message to the session (lock held); returns a
        close code when the WebSocket is over."""
        at = now()
        if isinstance(message, str):
            code = sock.core.ws_receive_text(number, message, at)
        else:
            sock.core.ws_receive_binary(number, bytes(message), at)
            code = None
        self._apply(sock)
        return code


def _accept(environ, max_message_size):
    """Completes the WebSocket handshake of a WSGI request (simple-websocket
    takes the socket from werkzeug, gunicorn or eventlet)."""
    import simple_websocket

    return simple_websocket.Server(environ, max_message_size=max_message_size)


def _close(ws, code=None):
    """Closes a WebSocket with ``code`` (1000 when ``None`` or 0), unless it
    is closed already."""
    import simple_websocket

    if not ws.connected:
        return
    try:
        ws.close(reason=code or 1000)
    except (simple_websocket.ConnectionClosed, OSError):
        pass


def _after_websocket(environ):
    """What the WSGI app returns once it has taken a connection over for a
    WebSocket: werkzeug is told the connection is gone, gunicorn that there
    is no response, others get an empty body."""
    if "werkzeug.socket" in environ:
        raise ConnectionError("the WebSocket has ended")
    if "gunicorn.socket" in environ:
        raise StopIteration()
    return []


def _read_body(environ, limit):
    """The request body, or ``None`` when it is over ``limit`` bytes."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length > limit:
        return None
    stream = environ["wsgi.input"]
    if length >= 0:
        return stream.read(length)
    if not environ.get("wsgi.input_terminated"):
        return b""
    body = stream.read(limit + 1)
    return None if len(body) > limit else body


def _status_line(status):
    return f"{status} {http.HTTPStatus(status).phrase}"
