// Interop peer: the Socket.IO v2 client (npm socket.io-client 2.5, installed
// as socket.io-client-v2, which speaks Engine.IO v3) driven against the
// engineio crate's server by crates/engineio/tests/server_eio3.rs. Our
// server is an Engine.IO echo server that sends the Socket.IO CONNECT
// packet ("0") on open, so the Socket.IO layer runs over our engine.
//
// Usage: node sio2_client.js <server-url> '<options-json>'
// Options: transports (default ["polling","websocket"]).
// Output: one JSON object per line: {"event":"connect","transport":..},
// {"event":"echo","args":[..]} (binary as {"binary":[..]}), {"event":"upgrade"},
// {"event":"error","message":..}, {"event":"disconnect","reason":..}.
"use strict";

const io = require("socket.io-client-v2");

const url = process.argv[2];
const opts = JSON.parse(process.argv[3] || "{}");
const parsed = new URL(url);

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function plain(value) {
  if (Buffer.isBuffer(value)) return { binary: Array.from(value) };
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

const socket = io(parsed.origin, {
  path: parsed.pathname,
  transports: opts.transports || ["polling", "websocket"],
  reconnection: false,
  forceNew: true,
});

socket.on("connect", () => {
  emit({ event: "connect", transport: socket.io.engine.transport.name });
  socket.emit("echo", "héllo", { n: 1 }, Buffer.from([0, 1, 255]));
});

socket.io.engine.on("upgrade", () => emit({ event: "upgrade" }));

socket.on("echo", (...args) => {
  emit({ event: "echo", args: plain(args), transport: socket.io.engine.transport.name });
  socket.close();
});

socket.on("connect_error", (err) => emit({ event: "error", message: String(err && err.message) }));
socket.on("error", (err) => emit({ event: "error", message: String(err && err.message ? err.message : err) }));

socket.on("disconnect", (reason) => {
  emit({ event: "disconnect", reason });
  setTimeout(() => process.exit(0), 50);
});
