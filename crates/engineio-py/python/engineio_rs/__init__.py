"""engineio_rs: python-engineio's API on a Rust Engine.IO core.

``import engineio_rs as engineio`` is the one-line switch from
python-engineio. The package's README lists what is available and every
difference from python-engineio.
"""

from . import exceptions, packet, payload
from ._core import PROTOCOL_VERSION
from .asgi import ASGIApp
from .async_client import AsyncClient
from .async_server import AsyncServer
from .client import Client
from .server import Server
from .wsgi import Middleware, WSGIApp

__all__ = [
    "PROTOCOL_VERSION",
    "ASGIApp",
    "AsyncClient",
    "AsyncServer",
    "Client",
    "Middleware",
    "Server",
    "WSGIApp",
    "exceptions",
    "packet",
    "payload",
]
