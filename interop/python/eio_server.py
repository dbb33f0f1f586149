#!/usr/bin/env python3
"""An echo server on python-engineio's AsyncServer under uvicorn, for interop tests.

With ``--engine``/``--mode`` the same handlers run on engineio_rs, or under
werkzeug, or in engineio_rs's native mode: what scripts/bench-python.sh
compares.

Binds 127.0.0.1:0 (or --port) and prints ``LISTENING <port>`` on stdout once
it accepts connections. Logs go to stderr.

Options:
  --ping-interval SECONDS   default 1
  --ping-timeout SECONDS    default 1
  --reject-json JSON        the connect handler returns this JSON value, which
                            python-engineio sends as the body of a 401
  --port N                  default 0 (any free port)
  --quiet                   no log line per connect and disconnect, and no
                            record of disconnect reasons (for benchmarks)
  --engine NAME             ``engineio`` (python-engineio, the default) or
                            ``engineio_rs`` (this repository's package,
                            imported as ``engineio``): the same handlers run
                            on either
  --mode MODE               ``asgi`` (the default): ``AsyncServer`` and
                            ``ASGIApp`` under uvicorn; ``wsgi``: ``Server``
                            (``async_mode="threading"``) and ``WSGIApp``
                            under werkzeug's threaded server; ``native``
                            (engineio_rs only, when it has it):
                            ``AsyncServer(async_mode="native")`` serving
                            itself through ``await eio.run(host, port)``

Every message is echoed back, except the text commands ``cmd:close`` (the
server disconnects the session), ``cmd:transport`` (answers
``transport:<name>``) and ``cmd:closes`` (answers ``closes:<JSON>``, the
disconnect reason of every session that ended, by sid).
"""

import argparse
import asyncio
import importlib
import inspect
import json
import logging
import socket
import sys

HOST = "127.0.0.1"
QUIET = False


def log(line):
    """One line on stderr, unless ``--quiet``."""
    if not QUIET:
        print(line, file=sys.stderr, flush=True)


def register_async(eio, rejection, closes):
    """The handlers of an ``AsyncServer`` (the same for both engines)."""

    @eio.on("connect")
    async def connect(sid, environ):
        log(f"connect {sid}")
        if rejection is not None:
            return rejection
        return None

    @eio.on("message")
    async def message(sid, data):
        if data == "cmd:close":
            await eio.disconnect(sid)
        elif data == "cmd:transport":
            await eio.send(sid, "transport:" + eio.transport(sid))
        elif data == "cmd:closes":
            await eio.send(sid, "closes:" + json.dumps(closes))
        else:
            await eio.send(sid, data)

    @eio.on("disconnect")
    async def disconnect(sid, reason):
        log(f"disconnect {sid}: {reason}")
        if not QUIET:
            closes[sid] = reason


def register_sync(eio, rejection, closes):
    """The handlers of a threading ``Server``: ``register_async``'s, without
    ``async``/``await``."""

    @eio.on("connect")
    def connect(sid, environ):
        log(f"connect {sid}")
        if rejection is not None:
            return rejection
        return None

    @eio.on("message")
    def message(sid, data):
        if data == "cmd:close":
            eio.disconnect(sid)
        elif data == "cmd:transport":
            eio.send(sid, "transport:" + eio.transport(sid))
        elif data == "cmd:closes":
            eio.send(sid, "closes:" + json.dumps(closes))
        else:
            eio.send(sid, data)

    @eio.on("disconnect")
    def disconnect(sid, reason):
        log(f"disconnect {sid}: {reason}")
        if not QUIET:
            closes[sid] = reason


def listening_socket(port):
    """A socket bound to ``HOST:port`` (0: any free port), listening.

    Its protocol is given (``IPPROTO_TCP``, as ``uvicorn.run`` gets it from
    ``getaddrinfo``): asyncio sets ``TCP_NODELAY`` only on sockets that say
    so, and without it the last small write of each polling answer waited
    for the client's delayed ACK (about 40 ms a round trip)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(1024)
    return sock


def serve_asgi(engineio, options, rejection, closes, port):
    import uvicorn

    eio = engineio.AsyncServer(async_mode="asgi", **options)
    register_async(eio, rejection, closes)
    app = engineio.ASGIApp(eio)
    sock = listening_socket(port)
    print(f"LISTENING {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


def serve_wsgi(engineio, options, rejection, closes, port):
    from werkzeug.serving import make_server

    # werkzeug logs every request at INFO; uvicorn (log_level="warning")
    # logs none, and neither does this mode.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    eio = engineio.Server(async_mode="threading", **options)
    register_sync(eio, rejection, closes)
    app = engineio.WSGIApp(eio)
    server = make_server(HOST, port, app, threaded=True)
    print(f"LISTENING {server.socket.getsockname()[1]}", flush=True)
    server.serve_forever()


def native_unavailable(engineio):
    """Why ``engineio.AsyncServer`` has no native mode, or None if it has
    one (``async_mode="native"`` accepted, and a ``run`` method)."""
    try:
        probe = engineio.AsyncServer(async_mode="native")
    except (ValueError, TypeError, NotImplementedError) as error:
        return f'AsyncServer(async_mode="native") is refused ({error})'
    if not callable(getattr(probe, "run", None)):
        return "AsyncServer has no run() method"
    return None


async def run_native(eio, port):
    """Runs ``eio.run(HOST, port)`` and prints ``LISTENING <port>`` once the
    port accepts connections; serves until cancelled."""
    serving = eio.run(HOST, port)
    if not inspect.isawaitable(serving):
        sys.exit("--mode native: AsyncServer.run() did not return a coroutine")
    task = asyncio.ensure_future(serving)
    while True:
        if task.done():
            task.result()  # raises the server's error, if any
            sys.exit(
                "--mode native: AsyncServer.run() returned before accepting connections"
            )
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            await asyncio.sleep(0.02)
            continue
        writer.close()
        break
    print(f"LISTENING {port}", flush=True)
    await task


def serve_native(engineio, options, rejection, closes, port):
    reason = native_unavailable(engineio)
    if reason is not None:
        sys.exit(f"--mode native is not available in this engineio_rs: {reason}")
    if port == 0:
        # run() binds by itself: take a free port and hand it over.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((HOST, 0))
            port = probe.getsockname()[1]
    eio = engineio.AsyncServer(async_mode="native", **options)
    register_async(eio, rejection, closes)
    try:
        asyncio.run(run_native(eio, port))
    except KeyboardInterrupt:
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ping-interval", type=float, default=1)
    parser.add_argument("--ping-timeout", type=float, default=1)
    parser.add_argument("--reject-json", default=None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--engine", choices=["engineio", "engineio_rs"], default="engineio"
    )
    parser.add_argument("--mode", choices=["asgi", "wsgi", "native"], default="asgi")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    global QUIET
    QUIET = args.quiet

    if args.mode == "native" and args.engine != "engineio_rs":
        parser.error("--mode native is engineio_rs's only (use --engine engineio_rs)")
    engineio = importlib.import_module(args.engine)
    options = {
        "ping_interval": args.ping_interval,
        "ping_timeout": args.ping_timeout,
        "cors_allowed_origins": "*",
    }
    rejection = json.loads(args.reject_json) if args.reject_json else None
    closes = {}
    serve = {"asgi": serve_asgi, "wsgi": serve_wsgi, "native": serve_native}[args.mode]
    serve(engineio, options, rejection, closes, args.port)


if __name__ == "__main__":
    main()
