"""python-socketio on our engine: ``from engineio_rs import socketio``
instead of ``import socketio``.

Everything python-socketio exports is here (namespaces, managers,
``ASGIApp``, ``WSGIApp``, ...); ``Server``, ``AsyncServer``, ``Client`` and
``AsyncClient`` are python-socketio's classes with their Engine.IO layer
replaced by ``engineio_rs``'s (through python-socketio's own hooks,
``_engineio_server_class`` and ``_engineio_client_class``). Importing this
module imports python-socketio, which must be installed
(``pip install python-socketio``).

Example::

    from engineio_rs import socketio

    sio = socketio.AsyncServer(async_mode="asgi")

    @sio.event
    async def chat(sid, data):
        await sio.emit("chat", data, skip_sid=sid)

    app = socketio.ASGIApp(sio)
"""

import engineio
import socketio as _socketio
from socketio import *  # noqa: F403  (the rest of python-socketio, unchanged)

from . import async_client as _async_client
from . import async_server as _async_server
from . import client as _client
from . import exceptions as _exceptions
from . import server as _server

__all__ = list(_socketio.__all__)


class _ConnectionError(_exceptions.ConnectionError, engineio.exceptions.ConnectionError):
    """A failed connection, catchable as both packages' ``ConnectionError``
    (python-socketio catches python-engineio's)."""


class _EngineClient(_client.Client):
    def connect(self, *args, **kwargs):
        try:
            return super().connect(*args, **kwargs)
        except _exceptions.ConnectionError as err:
            raise _ConnectionError(*err.args) from err


class _AsyncEngineClient(_async_client.AsyncClient):
    async def connect(self, *args, **kwargs):
        try:
            return await super().connect(*args, **kwargs)
        except _exceptions.ConnectionError as err:
            raise _ConnectionError(*err.args) from err


class Server(_socketio.Server):
    """python-socketio's ``Server`` on ``engineio_rs.Server``: in
    ``threading`` mode under a WSGI server (see ``socketio.WSGIApp``), or
    with ``async_mode="native"`` serving itself with ``run()``."""

    def _engineio_server_class(self):
        return _server.Server

    def run(self, host="127.0.0.1", port=5000, socketio_path="socket.io", **options):
        """Serves a native server (``async_mode="native"``) at
        ``socketio_path`` until ``shutdown()``; the other options are
        ``engineio_rs.Server.run``'s."""
        return self.eio.run(host, port, engineio_path=socketio_path, **options)


class AsyncServer(_socketio.AsyncServer):
    """python-socketio's ``AsyncServer`` on ``engineio_rs.AsyncServer``:
    under ASGI (see ``socketio.ASGIApp``), or with ``async_mode="native"``
    serving itself with ``await run()``."""

    def _engineio_server_class(self):
        return _async_server.AsyncServer

    async def run(self, host="127.0.0.1", port=5000, socketio_path="socket.io", **options):
        """Serves a native server (``async_mode="native"``) at
        ``socketio_path`` until ``shutdown()`` or cancellation; the other
        options are ``engineio_rs.AsyncServer.run``'s."""
        return await self.eio.run(host, port, engineio_path=socketio_path, **options)


class Client(_socketio.Client):
    """python-socketio's ``Client`` on ``engineio_rs.Client``."""

    def _engineio_client_class(self):
        return _EngineClient


class AsyncClient(_socketio.AsyncClient):
    """python-socketio's ``AsyncClient`` on ``engineio_rs.AsyncClient``."""

    def _engineio_client_class(self):
        return _AsyncEngineClient
