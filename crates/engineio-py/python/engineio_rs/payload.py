"""Long-polling payloads, with python-engineio's ``Payload`` API.

Splitting and joining on the record separator, and the packet limit, are the
Rust core's.
"""

import urllib.parse

from . import _core, packet


class Payload:
    """Engine.IO payload."""

    max_decode_packets = 16

    def __init__(self, packets=None, encoded_payload=None):
        self.packets = packets or []
        if encoded_payload is not None:
            self.decode(encoded_payload)

    def encode(self, jsonp_index=None):
        """Encode the payload for transmission."""
        encoded_payload = _core.join_payload([pkt.encode(b64=True) for pkt in self.packets])
        if jsonp_index is not None:
            encoded_payload = (
                "___eio[" + str(jsonp_index) + ']("' + encoded_payload.replace('"', '\\"') + '");'
            )
        return encoded_payload

    def decode(self, encoded_payload):
        """Decode a transmitted payload."""
        self.packets = []
        if len(encoded_payload) == 0:
            return
        # A JSONP POST payload starts with 'd='.
        if encoded_payload.startswith("d="):
            encoded_payload = urllib.parse.parse_qs(encoded_payload)["d"][0]
        self.packets = [
            packet.Packet(encoded_packet=encoded)
            for encoded in _core.split_payload(encoded_payload, self.max_decode_packets)
        ]
