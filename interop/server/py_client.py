# Interop peer: python-engineio's sync `engineio.Client` (PyPI python-engineio
# 4.15, from .test-deps/venv) driven against the engineio crate's server by
# crates/engineio/tests/server_interop.rs.
#
# Usage: .test-deps/venv/bin/python py_client.py <server-url> '<options-json>'
#
# Options (all optional):
#   transports  list given to Client.connect (default: None, i.e. polling then
#               upgrade to websocket)
#   send        messages sent after connect() returns
#   expect      number of messages to receive before disconnecting (default 0)
#   waitSecs    hang guard for the expected messages (default 15)
# Environment: EIO_PEER_LOG=1 turns on python-engineio's logger (stderr).
# A message is {"text": "..."} or {"binary": [bytes]}.
#
# Output: one JSON object per line on stdout:
#   {"event":"connect","transport":..,"sid":..,"upgrades":[..]}  (connect handler)
#   {"event":"connected","transport":..}      (connect() returned; after any upgrade)
#   {"event":"message","text":".."} / {"event":"message","binary":[..]}
#   {"event":"timeout","received":N}          (fewer than `expect` messages arrived)
#   {"event":"error","message":..,"data":..}  (connect() raised)
#   {"event":"disconnect","reason":..}        (the client's disconnect handler)
#   {"event":"done"}                          (last line)
#
# Messages are printed from the client's read loop (`_receive_packet`), not
# from the `message` handler: python-engineio runs each message handler in a
# new thread, so handler order says nothing about arrival order.
import json
import logging
import os
import sys
import threading

import engineio

_lock = threading.Lock()


def emit(obj):
    with _lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def encode(msg):
    if "binary" in msg:
        return bytes(msg["binary"])
    return msg["text"]


class RecordingClient(engineio.Client):
    """A Client that reports every message packet in arrival order."""

    def __init__(self, expect, **kwargs):
        super().__init__(**kwargs)
        self.expect = expect
        self.received = 0
        self.all_received = threading.Event()
        if expect == 0:
            self.all_received.set()

    def _receive_packet(self, pkt):
        if pkt.packet_type == engineio.packet.MESSAGE:
            if isinstance(pkt.data, bytes):
                emit({"event": "message", "binary": list(pkt.data)})
            else:
                emit({"event": "message", "text": pkt.data})
            self.received += 1
            if self.received >= self.expect:
                self.all_received.set()
        super()._receive_packet(pkt)

    def _send_request(self, method, url, headers=None, body=None, timeout=None):
        if method == "POST" and self.logger.isEnabledFor(logging.INFO):
            self.logger.info("POST body %r", body)
        r = super()._send_request(method, url, headers=headers, body=body, timeout=timeout)
        if self.logger.isEnabledFor(logging.INFO):
            self.logger.info("%s answered %s", method, getattr(r, "status_code", r))
        return r


def main():
    url = sys.argv[1]
    opts = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    # EIO_PEER_LOG=1 logs the client's packets to stderr, with timestamps
    # (the Rust test shows stderr when it fails).
    logger = False
    if os.environ.get("EIO_PEER_LOG") == "1":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(
            "%(asctime)s.%(msecs)03d %(threadName)s %(message)s", "%H:%M:%S"))
        logger = logging.getLogger("py_client")
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
    client = RecordingClient(
        opts.get("expect", 0), handle_sigint=False, logger=logger)

    @client.on("connect")
    def on_connect():
        emit({
            "event": "connect",
            "transport": client.transport(),
            "sid": client.sid,
            "upgrades": client.upgrades,
        })

    @client.on("disconnect")
    def on_disconnect(reason):
        emit({"event": "disconnect", "reason": reason})

    try:
        client.connect(url, transports=opts.get("transports"))
    except engineio.exceptions.ConnectionError as exc:
        emit({
            "event": "error",
            "message": str(exc.args[0]) if exc.args else str(exc),
            "data": exc.args[1] if len(exc.args) > 1 else None,
        })
        emit({"event": "done"})
        return

    emit({"event": "connected", "transport": client.transport()})
    for msg in opts.get("send", []):
        client.send(encode(msg))
    if not client.all_received.wait(opts.get("waitSecs", 15)):
        emit({"event": "timeout", "received": client.received})
    # Let the write loop finish what it is sending before disconnect().
    # Without this, python-engineio races with itself over polling:
    # disconnect() sets state 'disconnecting' while the write loop is still in
    # the POST of the last messages, and the loop then exits without sending
    # the close packet (the server only sees the client vanish: "ping
    # timeout"). queue.join() returns once every queued packet was written.
    flushing = threading.Thread(target=client.queue.join, daemon=True)
    flushing.start()
    flushing.join(5)
    client.disconnect()
    emit({"event": "done"})


if __name__ == "__main__":
    main()
