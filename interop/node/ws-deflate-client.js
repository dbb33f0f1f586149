#!/usr/bin/env node
// A raw WebSocket client on the `ws` package (the one under Node's
// engine.io), with perMessageDeflate on (ws's defaults: it offers
// `permessage-deflate; client_max_window_bits` and compresses every message
// it sends), for the permessage-deflate tests of our server.
//
// Usage: node ws-deflate-client.js URL BIG_BYTES
//   URL        ws://127.0.0.1:PORT/engine.io/?EIO=4&transport=websocket
//   BIG_BYTES  the length of the large message (an Engine.IO `4` packet)
//
// It waits for the open packet, sends the large message then `4small`,
// waits for both echoes, and prints one JSON line:
//   {extensions, frames: [{rsv1, opcode, length}], messages: [text], bigEchoed}
// `frames` are the data frames the server sent, parsed from the raw socket
// (RSV1 set means compressed).
"use strict";

const WebSocket = require("ws");

const [url, bigArg] = process.argv.slice(2);
const bigLength = Number(bigArg || 4096);
// Compressible but not trivial: a repeated sentence with a counter.
let big = "4";
for (let i = 0; big.length < bigLength; i++) big += `message part ${i % 97}; `;
big = big.slice(0, bigLength);

const frames = [];
const messages = [];
let pending = Buffer.alloc(0);

function parseFrames(chunk) {
  pending = Buffer.concat([pending, chunk]);
  for (;;) {
    if (pending.length < 2) return;
    const first = pending[0];
    let length = pending[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (pending.length < 4) return;
      length = pending.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (pending.length < 10) return;
      length = Number(pending.readBigUInt64BE(2));
      offset = 10;
    }
    if (pending.length < offset + length) return;
    const opcode = first & 0x0f;
    if (opcode === 1 || opcode === 2) {
      frames.push({ rsv1: (first & 0x40) !== 0, opcode, length });
    }
    pending = pending.subarray(offset + length);
  }
}

const ws = new WebSocket(url, { perMessageDeflate: true });
ws.on("upgrade", (response) => {
  // The raw bytes the server sends, before ws inflates them.
  response.socket.prependListener("data", parseFrames);
});
const guard = setTimeout(() => finish("timed out"), 15000);
function finish(error) {
  clearTimeout(guard);
  const result = {
    extensions: ws.extensions,
    frames,
    messages: messages.map((m) => (m === big ? "<big>" : m)),
    bigEchoed: messages.includes(big),
  };
  if (error) result.error = error;
  console.log(JSON.stringify(result));
  ws.terminate();
}
ws.on("message", (data, isBinary) => {
  const text = isBinary ? `<binary ${data.length}>` : data.toString();
  messages.push(text);
  if (text.startsWith("0")) {
    ws.send(big);
    ws.send("4small");
  } else if (text === "2") {
    ws.send("3");
  }
  if (messages.includes(big) && messages.includes("4small")) finish();
});
ws.on("error", (err) => finish(String(err)));
ws.on("close", (code) => {
  if (!(messages.includes(big) && messages.includes("4small"))) finish(`closed ${code}`);
});
