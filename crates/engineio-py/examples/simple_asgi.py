"""The simple example under ASGI: an ``AsyncServer`` inside an ``ASGIApp``,
served by uvicorn.

The server prints every connect, message and disconnect, and sends each
message back to its sender, unchanged and in order. ``/`` serves
``simple.html``: a page that connects with the official engine.io-client
browser bundle, says hello, sends what you type and lists what comes
back.

Run, from anywhere (``bash scripts/install-demo-deps.sh`` installs the
browser bundle once)::

    python crates/engineio-py/examples/simple_asgi.py [--host 127.0.0.1] [--port 5000]

then open http://127.0.0.1:5000/. ``LISTENING <port>`` is printed once the
server accepts connections (``--port 0`` takes a free port).

Written against python-engineio's API: with ``import engineio`` in place
of ``import engineio_rs as engineio`` the same file runs on python-engineio.
"""

import argparse
import asyncio
import pathlib
import sys

import engineio_rs as engineio
import uvicorn

HERE = pathlib.Path(__file__).resolve().parent
# Where scripts/install-demo-deps.sh puts the browser bundle.
BUNDLE = HERE.parents[1] / "engineio/examples/latency/node_modules/engine.io-client/dist"

# async_handlers=False: one message's handler ends before the next one's
# starts, so the answers go back in the order the messages came (the
# default runs handlers concurrently, as python-engineio's does).
eio = engineio.AsyncServer(async_mode="asgi", async_handlers=False)
app = engineio.ASGIApp(
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
async def message(sid, data):
    print("message", sid, repr(data), flush=True)
    await eio.send(sid, data)


@eio.on("disconnect")
def disconnect(sid, reason):
    print("disconnect", sid, reason, flush=True)


async def serve(host, port):
    """Runs uvicorn, printing ``LISTENING <port>`` once it accepts."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    serving = asyncio.ensure_future(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.02)
    if server.started:
        print("LISTENING", server.servers[0].sockets[0].getsockname()[1], flush=True)
    await serving


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    if not (BUNDLE / "engine.io.min.js").is_file():
        print(f"no browser bundle in {BUNDLE}: run scripts/install-demo-deps.sh", file=sys.stderr)
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:  # uvicorn has closed everything; it re-raises Ctrl-C
        pass


if __name__ == "__main__":
    main()
