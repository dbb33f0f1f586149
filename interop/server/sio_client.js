#!/usr/bin/env node
// A scripted Socket.IO client on the official `socket.io-client` package, for the
// Python package's python-socketio tests.
//
//   node server/sio_client.js URL '{"transports": ["polling"], "room": "r1", "name": "n1"}'
//
// Prints one JSON object per line on stdout:
//   {"event":"connect","transport":T}        once connected
//   {"event":"echo","ack":DATA}              the ack of emit("echo", {n: 1, name})
//   {"event":"joined","ack":DATA}            the ack of emit("join", room)
//   {"event":"ready"}                        then waits for the server
//   {"event":"chat","data":DATA}             each "chat" event received
//   {"event":"asked","data":DATA}            the server's "ask" (answered with an ack "answer:DATA")
//   {"event":"upgrade","transport":T}        when the engine upgrades
//   {"event":"disconnect","reason":R}        and exits
// On stdin, each line is an event to emit: `chat <text>` emits ("chat", text);
// `quit` disconnects.
"use strict";

const { io } = require("socket.io-client");
const readline = require("readline");

const url = process.argv[2];
const options = JSON.parse(process.argv[3] || "{}");
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const socket = io(url, {
  transports: options.transports || ["polling", "websocket"],
  reconnection: false,
  timeout: 10000,
});

// The engine may upgrade before Socket.IO's connect event: listen from its open.
socket.io.on("open", () => {
  socket.io.engine.on("upgrade", (t) => out({ event: "upgrade", transport: t.name }));
});
socket.on("connect", async () => {
  out({ event: "connect", transport: socket.io.engine.transport.name });
  const echo = await socket.timeout(10000).emitWithAck("echo", { n: 1, name: options.name });
  out({ event: "echo", ack: echo });
  const joined = await socket.timeout(10000).emitWithAck("join", options.room);
  out({ event: "joined", ack: joined });
  out({ event: "ready" });
});
socket.on("chat", (data) => out({ event: "chat", data }));
socket.on("ask", (data, ack) => {
  out({ event: "asked", data });
  ack("answer:" + data);
});
socket.on("connect_error", (err) => {
  out({ event: "connect_error", message: String(err && err.message) });
  process.exit(1);
});
socket.on("disconnect", (reason) => {
  out({ event: "disconnect", reason });
  // Let the engine write its close packets before the process ends.
  setTimeout(() => process.exit(0), 500);
});

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "quit") {
    socket.disconnect();
  } else if (line.startsWith("chat ")) {
    socket.emit("chat", line.slice(5));
  }
});
setTimeout(() => {
  out({ event: "timeout" });
  process.exit(2);
}, 60000);
