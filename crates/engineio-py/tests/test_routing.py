"""Request routing and error answers from the Rust core, as the Python
servers will use them: the Node server's codes and bodies."""

import json
import re

import pytest
from engineio_rs._core import generate_sid, refusal_answer, route, unknown_session

BOTH = ["polling", "websocket"]


def test_handshakes_polls_posts_and_upgrades():
    assert route("GET", "EIO=4&transport=polling&t=x", False, BOTH) == (
        "handshake",
        "polling",
        None,
    )
    assert route("GET", "EIO=4&transport=websocket", True, BOTH) == (
        "handshake",
        "websocket",
        None,
    )
    sid = generate_sid()
    assert route("GET", f"EIO=4&transport=polling&sid={sid}", False, BOTH) == ("poll", sid, None)
    assert route("POST", f"EIO=4&transport=polling&sid={sid}", False, BOTH) == ("post", sid, None)
    assert route("GET", f"EIO=4&transport=websocket&sid={sid}", True, BOTH) == (
        "upgrade",
        sid,
        None,
    )
    assert route("OPTIONS", "EIO=4&transport=polling", False, BOTH)[0] == "preflight"


def test_errors_carry_the_node_servers_codes():
    kind, _, (status, content_type, body) = route("GET", "EIO=3&transport=polling", False, BOTH)
    assert (kind, status, content_type) == ("error", 400, "application/json")
    assert json.loads(body)["code"] == 5
    _, _, (status, _, body) = route("PUT", "EIO=4&transport=polling", False, BOTH)
    assert (status, json.loads(body)["code"]) == (400, 2)
    _, _, (status, _, body) = route("GET", "EIO=4&transport=abc", False, BOTH)
    assert json.loads(body)["code"] == 0
    # A disabled transport is unknown; a WebSocket request gets plain text.
    _, _, answer = route("GET", "EIO=4&transport=websocket", True, ["polling"])
    assert answer == (400, "text/html", "Transport unknown: websocket is disabled on this server")


def test_a_refusal_that_depends_on_the_session():
    sid = generate_sid()
    kind, got_sid, (status, _, body) = route(
        "PUT", f"EIO=4&transport=polling&sid={sid}", False, BOTH
    )
    assert (kind, got_sid, status) == ("refused", sid, 400)
    assert json.loads(body)["code"] == 3
    status, _, body = unknown_session(False)
    assert (status, json.loads(body)) == (400, {"code": 1, "message": "Session ID unknown"})


def test_a_session_refusal_is_rendered_as_the_node_server_writes_it():
    status, content_type, body = refusal_answer(400, 3, "overlapping GET", False)
    assert (status, content_type) == (400, "application/json")
    assert json.loads(body) == {"code": 3, "message": "overlapping GET"}
    assert refusal_answer(413, 3, "", False) == (413, None, "")
    assert refusal_answer(400, 3, "Bad request", True) == (400, "text/html", "Bad request")
    with pytest.raises(ValueError, match="unknown error code 9"):
        refusal_answer(400, 9, "?", False)


def test_session_ids_are_20_url_safe_characters():
    ids = {generate_sid() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{20}", sid) for sid in ids)
