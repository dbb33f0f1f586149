"""The exceptions of python-engineio, with the same names and hierarchy."""


class EngineIOError(Exception):
    """The base of every Engine.IO error."""


class ContentTooLongError(EngineIOError):
    """A payload over the size limit."""


class UnknownPacketError(EngineIOError):
    """A packet of an unknown type."""


class QueueEmpty(EngineIOError):
    """No packet waited in a queue."""


class SocketIsClosedError(EngineIOError):
    """The socket is closed."""


class ConnectionError(EngineIOError):  # noqa: A001 (python-engineio's name)
    """A client could not connect."""
