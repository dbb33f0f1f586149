#!/usr/bin/env python3
"""An echo server on python-engineio's AsyncServer under uvicorn, for interop tests.

Binds 127.0.0.1:0 (or --port) and prints ``LISTENING <port>`` on stdout once
it accepts connections. Logs go to stderr.

Options:
  --ping-interval SECONDS   default 1
  --ping-timeout SECONDS    default 1
  --reject-json JSON        the connect handler returns this JSON value, which
                            python-engineio sends as the body of a 401
  --port N                  default 0 (any free port)

Every message is echoed back, except the text commands ``cmd:close`` (the
server disconnects the session), ``cmd:transport`` (answers
``transport:<name>``) and ``cmd:closes`` (answers ``closes:<JSON>``, the
disconnect reason of every session that ended, by sid).
"""
import argparse
import asyncio
import json
import socket
import sys

import engineio
import uvicorn


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ping-interval", type=float, default=1)
    parser.add_argument("--ping-timeout", type=float, default=1)
    parser.add_argument("--reject-json", default=None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    eio = engineio.AsyncServer(
        async_mode="asgi",
        ping_interval=args.ping_interval,
        ping_timeout=args.ping_timeout,
        cors_allowed_origins="*",
    )
    rejection = json.loads(args.reject_json) if args.reject_json else None
    closes = {}

    @eio.on("connect")
    async def connect(sid, environ):
        print(f"connect {sid}", file=sys.stderr, flush=True)
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
        print(f"disconnect {sid}: {reason}", file=sys.stderr, flush=True)
        closes[sid] = reason

    app = engineio.ASGIApp(eio)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    print(f"LISTENING {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
