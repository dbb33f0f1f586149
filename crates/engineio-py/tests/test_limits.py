"""``max_sessions`` (ours; python-engineio has no limit): on every server
kind, a handshake past it gets 503 with the Node-shaped JSON error, the open
session is unaffected, and the slot frees once the session ends."""

import json

import engineio_rs
import pytest
import requests
from servers import Running

HANDSHAKE = "/engine.io/?EIO=4&transport=polling"
FULL = {"code": 4, "message": "Forbidden: too many sessions"}


@pytest.mark.parametrize("kind", ["asgi", "wsgi", "native-async", "native-threads"])
def test_max_sessions_refuses_with_503_and_frees_the_slot(kind):
    running = Running(kind, engineio_rs, max_sessions=1)
    try:
        body = requests.get(running.url + HANDSHAKE, timeout=5).text
        sid = json.loads(body[1:])["sid"]
        refused = requests.get(running.url + HANDSHAKE, timeout=5)
        assert (refused.status_code, refused.json()) == (503, FULL)
        # The open session is unaffected.
        url = f"{running.url}{HANDSHAKE}&sid={sid}"
        assert requests.post(url, data="4hi", timeout=5).text == "ok"
        assert requests.get(url, timeout=5).text == "4hi"
        # The client's close packet, then the poll that takes the answer.
        assert requests.post(url, data="1", timeout=5).text == "ok"
        requests.get(url, timeout=5)
        assert running.next_event("disconnect")[1] == "client disconnect"
        assert requests.get(running.url + HANDSHAKE, timeout=5).status_code == 200
    finally:
        running.stop()


def test_the_limit_is_none_by_default():
    assert engineio_rs.AsyncServer().max_sessions is None
    assert engineio_rs.Server().max_sessions is None
