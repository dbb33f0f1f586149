"""What python-engineio adds to its HTTP answers, and its static files:
CORS, the session cookie, compression, ``static_files``. Each case runs on
our servers (ASGI, WSGI and native) and on python-engineio's (ASGI and
WSGI), so a difference fails the pair."""

import gzip
import json
import zlib

import pytest
import requests
from servers import IMPLEMENTATIONS, Running

HANDSHAKE = "/engine.io/?EIO=4&transport=polling"


def serve(request, **options):
    kind, impl = request.param
    running = Running(kind, IMPLEMENTATIONS[impl], **options)
    request.addfinalizer(running.stop)
    return running


PAIRS = [(kind, impl) for kind in ("asgi", "wsgi") for impl in IMPLEMENTATIONS] + [
    ("native-async", "ours"),
    ("native-threads", "ours"),
]
IDS = [f"{kind}-{impl}" for kind, impl in PAIRS]


@pytest.fixture(params=PAIRS, ids=IDS)
def default(request):
    return serve(request)


@pytest.fixture(params=PAIRS, ids=IDS)
def cors(request):
    return serve(request, cors_allowed_origins=["http://good.example"], cors_credentials=False)


@pytest.fixture(params=PAIRS, ids=IDS)
def cookie(request):
    return serve(request, cookie={"name": "sticky", "path": "/chat", "HttpOnly": True})


@pytest.fixture(params=PAIRS, ids=IDS)
def small_threshold(request):
    return serve(request, compression_threshold=10)


def test_same_origin_is_allowed_and_others_are_refused(default):
    own = default.url
    response = requests.get(default.url + HANDSHAKE, headers={"Origin": own}, timeout=5)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == own
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    response = requests.get(
        default.url + HANDSHAKE, headers={"Origin": "http://evil.example"}, timeout=5
    )
    assert response.status_code == 400
    assert "Access-Control-Allow-Origin" not in response.headers
    # Requests without an Origin are not checked.
    assert requests.get(default.url + HANDSHAKE, timeout=5).status_code == 200


def test_listed_origins_get_cors_headers(cors):
    response = requests.get(
        cors.url + HANDSHAKE, headers={"Origin": "http://good.example"}, timeout=5
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://good.example"
    assert "Access-Control-Allow-Credentials" not in response.headers
    refused = requests.get(cors.url + HANDSHAKE, headers={"Origin": cors.url}, timeout=5)
    assert refused.status_code == 400


def test_a_preflight_names_methods_and_echoes_headers(cors):
    response = requests.options(
        cors.url + HANDSHAKE,
        headers={
            "Origin": "http://good.example",
            "Access-Control-Request-Headers": "x-token",
        },
        timeout=5,
    )
    assert response.status_code in (200, 204)  # ours: 204, as the Node server
    assert response.headers["Access-Control-Allow-Origin"] == "http://good.example"
    assert response.headers["Access-Control-Allow-Methods"] == "OPTIONS, GET, POST"
    assert response.headers["Access-Control-Allow-Headers"] == "x-token"


def test_the_polling_handshake_sets_the_cookie(cookie):
    response = requests.get(cookie.url + HANDSHAKE, timeout=5)
    sid = json.loads(response.text[1:])["sid"]
    # Attribute names are case-insensitive (RFC 6265): native mode writes
    # them as the Rust server does (`Path`), the others as given.
    cookie, *attributes = response.headers["Set-Cookie"].split("; ")
    assert cookie == f"sticky={sid}"
    assert [a.lower() for a in attributes] == ["path=/chat", "httponly"]


@pytest.fixture(params=PAIRS, ids=IDS)
def named_cookie(request):
    return serve(request, cookie="io")


def test_a_cookie_name_gives_path_and_samesite(named_cookie):
    response = requests.get(named_cookie.url + HANDSHAKE, timeout=5)
    sid = json.loads(response.text[1:])["sid"]
    cookie, *attributes = response.headers["Set-Cookie"].split("; ")
    assert cookie == f"io={sid}"
    assert [a.lower() for a in attributes] == ["path=/", "samesite=lax"]


def test_no_cookie_by_default(default):
    assert "Set-Cookie" not in requests.get(default.url + HANDSHAKE, timeout=5).headers


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_long_answers_are_compressed(small_threshold, encoding):
    response = requests.get(
        small_threshold.url + HANDSHAKE,
        headers={"Accept-Encoding": f"br, {encoding}"},
        stream=True,
        timeout=5,
    )
    assert response.headers["Content-Encoding"] == encoding
    raw = response.raw.read()
    text = (gzip.decompress(raw) if encoding == "gzip" else zlib.decompress(raw)).decode()
    assert json.loads(text[1:])["pingTimeout"] == 20000


def test_short_answers_are_not_compressed(default):
    # The handshake (about 110 bytes) is under the default 1024 bytes.
    response = requests.get(
        default.url + HANDSHAKE, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=5
    )
    assert "Content-Encoding" not in response.headers


@pytest.fixture(params=PAIRS, ids=IDS)
def static(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "public").mkdir()
    (root / "public" / "app.js").write_text("console.log(1)")
    (root / "public" / "index.html").write_text("public index")
    (root / "secret.txt").write_text("secret")
    files = {
        "/": str(root / "index.html"),
        "/static": str(root / "public"),
        "/plain": {"filename": str(root / "index.html"), "content_type": "text/plain"},
    }
    return serve(request, app_options={"static_files": files})


def test_static_files(static):
    def get(path):
        response = requests.get(static.url + path, timeout=5)
        return response.status_code, response.headers.get("Content-Type"), response.text

    assert get("/") == (200, "text/html", "<h1>home</h1>")
    assert get("/static/app.js") == (200, "application/javascript", "console.log(1)")
    assert get("/static/") == (200, "text/html", "public index")
    assert get("/plain") == (200, "text/plain", "<h1>home</h1>")
    assert get("/static/missing.js")[0] == 404
    # Sent as written (requests would remove the dot segments itself, and
    # the case would pass whatever the server does).
    import http.client

    raw = http.client.HTTPConnection("127.0.0.1", static.port, timeout=5)
    raw.request("GET", "/static/../secret.txt")
    response = raw.getresponse()
    assert (response.status, response.read()) == (404, b"Not Found")
    raw.close()
    assert get("/nothing")[0] == 404
