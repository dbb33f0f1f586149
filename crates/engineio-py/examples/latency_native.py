"""The latency example in native mode: engineio_rs's own Rust HTTP and
WebSocket server owns the sockets and serves the static files; Python only
runs the message handler (python-engineio has no native mode, so this one
is engineio_rs only).

``/`` serves ``latency.html``: a page that connects with the official
engine.io-client browser bundle and keeps sending ``ping <n>``; the server
sends every message back, and the page shows each round trip, their
average and the transport (polling, then websocket after the upgrade).

Run, from anywhere (``bash scripts/install-demo-deps.sh`` installs the
browser bundle once)::

    python crates/engineio-py/examples/latency_native.py [--host 127.0.0.1] [--port 5000]
    python crates/engineio-py/examples/latency_native.py --asyncio

The first serves a ``Server(async_mode="native")``, its handlers on worker
threads; ``--asyncio`` an ``AsyncServer(async_mode="native")``, its
handlers on an asyncio loop. Then open http://127.0.0.1:5000/.
``LISTENING <port>`` is printed once the server accepts connections
(``--port 0`` takes a free port); Ctrl-C stops it.
"""

import argparse
import asyncio
import pathlib
import sys
import threading
import time

import engineio_rs as engineio

HERE = pathlib.Path(__file__).resolve().parent
# Where scripts/install-demo-deps.sh puts the browser bundle.
BUNDLE = HERE.parents[1] / "engineio/examples/latency/node_modules/engine.io-client/dist"
STATIC_FILES = {
    "/": str(HERE / "latency.html"),
    "/static": str(BUNDLE) + "/",
}


def run_with_threads(host, port):
    """A threaded native server: ``run()`` blocks until Ctrl-C."""
    eio = engineio.Server(async_mode="native")

    @eio.on("message")
    def message(sid, data):
        eio.send(sid, data)

    def announce():
        while eio.native_port is None:
            time.sleep(0.02)
        print("LISTENING", eio.native_port, flush=True)

    threading.Thread(target=announce, daemon=True).start()
    eio.run(host, port, static_files=STATIC_FILES)


async def run_with_asyncio(host, port):
    """An asyncio native server: ``run()`` serves until cancelled."""
    eio = engineio.AsyncServer(async_mode="native")

    @eio.on("message")
    async def message(sid, data):
        await eio.send(sid, data)

    serving = asyncio.ensure_future(eio.run(host, port, static_files=STATIC_FILES))
    while eio.native_port is None and not serving.done():
        await asyncio.sleep(0.02)
    if eio.native_port is not None:
        print("LISTENING", eio.native_port, flush=True)
    await serving


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument(
        "--asyncio", action="store_true", help="serve an AsyncServer on an asyncio loop"
    )
    args = parser.parse_args()
    if not (BUNDLE / "engine.io.min.js").is_file():
        print(f"no browser bundle in {BUNDLE}: run scripts/install-demo-deps.sh", file=sys.stderr)
    try:
        if args.asyncio:
            asyncio.run(run_with_asyncio(args.host, args.port))
        else:
            run_with_threads(args.host, args.port)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
