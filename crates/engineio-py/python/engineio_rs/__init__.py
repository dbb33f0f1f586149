"""engineio_rs: python-engineio's API on a Rust Engine.IO core.

``import engineio_rs as engineio`` is meant to be the one-line switch from
python-engineio. This release holds the codec (``engineio_rs.packet``,
``engineio_rs.payload``) and the exceptions (``engineio_rs.exceptions``);
the servers and clients come next (see the package's README).
"""

from . import exceptions, packet, payload
from ._core import PROTOCOL_VERSION

__all__ = ["PROTOCOL_VERSION", "exceptions", "packet", "payload"]
