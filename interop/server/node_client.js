// Interop peer: the official Node client (npm engine.io-client 6.6) driven
// against the engineio crate's server by crates/engineio/tests/server_interop.rs.
//
// Usage: node node_client.js <server-url> '<options-json>'
//
// Options (all optional):
//   transports    engine.io-client `transports` (default ["polling","websocket"])
//   upgrade       engine.io-client `upgrade` (default true)
//   onOpen        messages sent right after "open"
//   sequence      {"count":N, "burst":B, "everyMs":T, "atUpgrade":U}: numbered text
//                 messages "seq-<n>" from one counter, so their send order is
//                 known: B at once on "open", then one every T ms, and U right
//                 at the "upgrade" event; N+U in all
//   expect        number of messages to receive before being done (default 0)
//   waitUpgrade   also wait for the "upgrade" event before being done
//   pings         also wait for this many server pings before being done
//   closeWhenDone call socket.close() once done (else wait for the server to close)
//   v3            use engine.io-client 3.x (Engine.IO v3, npm alias engine.io-client-v3)
//                 instead of 6.x; its heartbeat answers count as "pings"
//   forceBase64   engine.io-client `forceBase64` (binary as base64 text, b64=1)
// A message is {"text":"..."} or {"binary":[bytes]}.
//
// Output: one JSON object per line on stdout, in event order, each with "t"
// (ms since start) besides the fields below:
//   {"event":"handshake","sid":..,"upgrades":[..],"pingInterval":..,"pingTimeout":..,"maxPayload":..}
//   {"event":"open","transport":"polling"|"websocket"}
//   {"event":"upgrading","transport":..}
//   {"event":"upgrade","transport":..,"sentBefore":n}   (n: "seq-" messages sent so far)
//   {"event":"upgradeError","message":..}
//   {"event":"message","text":".."} or {"event":"message","binary":[..]}
//   {"event":"ping"}
//   {"event":"error","message":..,"type":..,"description":..,"status":..}
//   {"event":"close","reason":..,"description":..}
//   {"event":"done"}            (all expectations met; printed before closing)
// The process exits 0 after the "close" event. The Rust test kills it on a hang.
"use strict";

const url = process.argv[2];
const opts = JSON.parse(process.argv[3] || "{}");

// Resolved from interop/node_modules (installed by scripts/install-test-deps.sh).
const { Socket } = opts.v3 ? require("engine.io-client-v3") : require("engine.io-client");

const t0 = Date.now();

// Prints one event, with "t": milliseconds since the script started (for
// reading failures only; the tests never assert on it).
function emit(obj) {
  obj.t = Date.now() - t0;
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function encode(msg) {
  if (Object.prototype.hasOwnProperty.call(msg, "binary")) {
    return Buffer.from(msg.binary);
  }
  return msg.text;
}

// Converts a description or context (numbers, Errors, events, XHR objects)
// into something JSON can carry.
function describe(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === "number" || typeof value === "string") return value;
  if (value instanceof Error) return String(value.message);
  if (typeof value === "object") {
    if (value.message !== undefined) return String(value.message);
    if (value.description !== undefined) return describe(value.description);
    if (value.type !== undefined) return String(value.type);
  }
  return String(value);
}

const clientOpts = {};
if (opts.transports) clientOpts.transports = opts.transports;
if (opts.upgrade !== undefined) clientOpts.upgrade = opts.upgrade;
if (opts.forceBase64) clientOpts.forceBase64 = true;

const socket = new Socket(url, clientOpts);

let received = 0;
let pings = 0;
let upgraded = false;
let done = false;
let sequenced = 0; // numbered messages sent so far
let sequenceLimit = opts.sequence ? opts.sequence.count : 0; // + atUpgrade once upgraded

function sendNext() {
  socket.send("seq-" + sequenced);
  sequenced += 1;
}

function checkDone() {
  if (done) return;
  if (received < (opts.expect || 0)) return;
  if (opts.waitUpgrade && !upgraded) return;
  if (pings < (opts.pings || 0)) return;
  done = true;
  emit({ event: "done" });
  if (opts.closeWhenDone) socket.close();
}

socket.on("handshake", (data) => {
  emit({
    event: "handshake",
    sid: data.sid,
    upgrades: data.upgrades,
    pingInterval: data.pingInterval,
    pingTimeout: data.pingTimeout,
    maxPayload: data.maxPayload,
  });
});

socket.on("open", () => {
  emit({ event: "open", transport: socket.transport.name });
  for (const msg of opts.onOpen || []) socket.send(encode(msg));
  if (opts.sequence) {
    const seq = opts.sequence;
    for (let i = 0; i < (seq.burst || 0) && sequenced < seq.count; i++) sendNext();
    const timer = setInterval(() => {
      if (sequenced >= sequenceLimit || socket.readyState !== "open") {
        clearInterval(timer);
        return;
      }
      sendNext();
    }, seq.everyMs || 5);
  }
  checkDone();
});

socket.on("upgrading", (transport) => {
  emit({ event: "upgrading", transport: transport.name });
});

socket.on("upgrade", (transport) => {
  upgraded = true;
  emit({ event: "upgrade", transport: transport.name, sentBefore: sequenced });
  if (opts.sequence) {
    sequenceLimit += opts.sequence.atUpgrade || 0;
    for (let i = 0; i < (opts.sequence.atUpgrade || 0); i++) sendNext();
  }
  checkDone();
});

socket.on("upgradeError", (err) => {
  emit({ event: "upgradeError", message: describe(err) });
});

socket.on("message", (data) => {
  if (typeof data === "string") {
    emit({ event: "message", text: data });
  } else {
    emit({ event: "message", binary: Array.from(new Uint8Array(data)) });
  }
  received += 1;
  checkDone();
});

// v4: the server pinged. v3: the client pings ("ping" when it sends one),
// and the server's answer is "pong": that is the heartbeat that counts.
socket.on(opts.v3 ? "pong" : "ping", () => {
  pings += 1;
  emit({ event: "ping" });
  checkDone();
});

socket.on("error", (err) => {
  // A TransportError carries the HTTP status (polling) or the underlying
  // error (WebSocket) in `description`.
  const description = err && err.description !== undefined ? describe(err.description) : null;
  let status = null;
  if (typeof (err && err.description) === "number") status = err.description;
  else if (err && err.context && typeof err.context.status === "number") status = err.context.status;
  emit({
    event: "error",
    message: describe(err),
    type: err && err.type ? err.type : null,
    description,
    status,
  });
});

socket.on("close", (reason, details) => {
  emit({ event: "close", reason, description: describe(details) });
  // Let stdout drain, then leave even if a timer or socket is still alive.
  setTimeout(() => process.exit(0), 50);
});
