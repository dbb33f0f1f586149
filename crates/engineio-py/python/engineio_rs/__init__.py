"""engineio_rs: python-engineio's API on a Rust Engine.IO core.

``import engineio_rs as engineio`` is meant to be the one-line switch from
python-engineio. This release holds the codec (``engineio_rs.packet``,
``engineio_rs.payload``), the exceptions (``engineio_rs.exceptions``), and
``AsyncServer`` with ``ASGIApp``; the other servers and the clients come
next (see the package's README).
"""

from . import exceptions, packet, payload
from ._core import PROTOCOL_VERSION
from .asgi import ASGIApp
from .async_server import AsyncServer

__all__ = ["PROTOCOL_VERSION", "ASGIApp", "AsyncServer", "exceptions", "packet", "payload"]
