"""Engine.IO packets, with python-engineio's ``Packet`` API.

The wire encoding (the type character, base64 for binary in payloads) is the
Rust core's; this class keeps python-engineio's attributes and its JSON
convenience (``dict``/``list`` data is sent as JSON, and text that parses as
JSON is handed over decoded).

Differences from python-engineio: a packet type outside 0-6 is refused
with ``ValueError`` when decoding or encoding (python-engineio accepts any
digit).
"""

from . import _core
from . import json as _json

(OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP) = (0, 1, 2, 3, 4, 5, 6)
packet_names = ["OPEN", "CLOSE", "PING", "PONG", "MESSAGE", "UPGRADE", "NOOP"]

binary_types = (bytes, bytearray)


class Packet:
    """Engine.IO packet."""

    json = _json

    def __init__(self, packet_type=NOOP, data=None, encoded_packet=None):
        self.packet_type = packet_type
        self.data = data
        self.encode_cache = None
        self.binary = isinstance(data, binary_types)
        if self.binary and self.packet_type != MESSAGE:
            raise ValueError("Binary packets can only be of type MESSAGE")
        if encoded_packet is not None:
            self.decode(encoded_packet)

    def encode(self, b64=False):
        """Encode the packet for transmission.

        As with python-engineio, later calls return the cached encoding,
        even if the data has changed.
        """
        if self.encode_cache:
            return self.encode_cache
        if self.binary:
            encoded_packet = _core.encode_binary(bytes(self.data), b64)
        else:
            if isinstance(self.data, str):
                data = self.data
            elif isinstance(self.data, (dict, list)):
                data = self.json.dumps(self.data, separators=(",", ":"))
            elif self.data is not None:
                data = str(self.data)
            else:
                data = ""
            encoded_packet = _core.encode_text(self.packet_type, data)
        self.encode_cache = encoded_packet
        return encoded_packet

    def decode(self, encoded_packet):
        """Decode a transmitted packet."""
        self.packet_type, data = _core.decode_packet(encoded_packet)
        self.binary = isinstance(data, bytes)
        if self.binary:
            self.data = data
            return
        try:
            if data[:1].isnumeric():
                # Integer payloads stay text, as in python-engineio (its
                # issue #75).
                raise ValueError
            self.data = self.json.loads(data)
        except (ValueError, IndexError):
            self.data = data
