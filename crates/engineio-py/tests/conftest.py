"""Fixtures shared by the client tests (``test_client.py`` and
``test_async_client.py``): the real servers of ``client_peers.py``, each
started fresh for a test and stopped after it, with the same settings for
the threading and the asyncio client."""

import pytest
from client_peers import NodeServer, PythonServer

#: The echo servers a client test may run against, by name.
ECHO_SERVERS = {
    "node": lambda: NodeServer("--ping-interval", "500", "--ping-timeout", "1000"),
    "python-engineio": lambda: PythonServer(ping_interval=1, ping_timeout=2),
}


def _serving(name):
    server = ECHO_SERVERS[name]()
    yield server
    server.stop()


@pytest.fixture
def node():
    """The Node ``engine.io`` echo server (pings every 500 ms)."""
    yield from _serving("node")


@pytest.fixture
def python_server():
    """python-engineio's ``AsyncServer`` under uvicorn (pings every 1 s)."""
    yield from _serving("python-engineio")


@pytest.fixture(params=list(ECHO_SERVERS))
def echo_server(request):
    """Each of the echo servers above in turn."""
    yield from _serving(request.param)
