"""The simple example under WSGI: a ``Server`` in threading mode inside a
``WSGIApp``, served by werkzeug's threaded development server.

The server prints every connect, message and disconnect, and sends each
message back to its sender, unchanged and in order. ``/`` serves
``simple.html``: a page that connects with the official engine.io-client
browser bundle, says hello, sends what you type and lists what comes
back. WebSocket works under werkzeug through simple-websocket.

Run, from anywhere (``bash scripts/install-demo-deps.sh`` installs the
browser bundle once)::

    python crates/engineio-py/examples/simple_wsgi.py [--host 127.0.0.1] [--port 5000]

then open http://127.0.0.1:5000/. ``LISTENING <port>`` is printed once the
server accepts connections (``--port 0`` takes a free port).

Written against python-engineio's API: with ``import engineio`` in place
of ``import engineio_rs as engineio`` the same file runs on python-engineio.
"""

import argparse
import pathlib
import sys

import engineio_rs as engineio
from werkzeug.serving import make_server

HERE = pathlib.Path(__file__).resolve().parent
# Where scripts/install-demo-deps.sh puts the browser bundle.
BUNDLE = HERE.parents[1] / "engineio/examples/latency/node_modules/engine.io-client/dist"

# async_handlers=False: one message's handler ends before the next one's
# starts, so the answers go back in the order the messages came (the
# default runs handlers concurrently, as python-engineio's does).
eio = engineio.Server(async_mode="threading", async_handlers=False)
app = engineio.WSGIApp(
    eio,
    static_files={
        "/": str(HERE / "simple.html"),
        "/static": str(BUNDLE) + "/",
    },
)


@eio.on("connect")
def connect(sid, environ):
    print("connect", sid, flush=True)


@eio.on("message")
def message(sid, data):
    print("message", sid, repr(data), flush=True)
    eio.send(sid, data)


@eio.on("disconnect")
def disconnect(sid, reason):
    print("disconnect", sid, reason, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    if not (BUNDLE / "engine.io.min.js").is_file():
        print(f"no browser bundle in {BUNDLE}: run scripts/install-demo-deps.sh", file=sys.stderr)
    server = make_server(args.host, args.port, app, threaded=True)
    print("LISTENING", server.server_port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
