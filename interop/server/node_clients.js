// Interop peer: many official Node clients (npm engine.io-client 6.6) at
// once in one process, each sending numbered messages to an echo server
// (`eio serve`) one after the other's echo. Driven by
// crates/eio-cli/tests/balancers.rs through load balancers.
//
// Usage: node node_clients.js <server-url> '<options-json>'
//
// Options (all optional):
//   clients          how many clients, all started at once (default 10)
//   echoes           messages each client sends, the next once the last came
//                    back (default 5)
//   transports       engine.io-client `transports` (default ["polling","websocket"])
//   upgrade          engine.io-client `upgrade` (default true)
//   waitUpgrade      a client is done only once it upgraded to WebSocket
//   withCredentials  engine.io-client `withCredentials` (in Node: a cookie
//                    jar for polling and the WebSocket, for cookie routing)
//   timeoutMs        each client gives up after this long (default 10000)
//
// Output: one JSON line per client when it ends, in the order they end:
//   {"client":i,"sid":..,"transport":<of open>,"final":<when done>,
//    "upgraded":bool,"echoes":n,"ok":bool,"errors":[{"message","type","description","status"}],
//    "closeReason":..}
// ("ok": every echo came back in order, and the upgrade when waited for),
// then {"event":"summary","clients":n,"ok":n}. Exits 0 once all ended.
"use strict";

const url = process.argv[2];
const opts = JSON.parse(process.argv[3] || "{}");

// Resolved from interop/node_modules (installed by scripts/install-test-deps.sh).
const { Socket } = require("engine.io-client");

const count = opts.clients || 10;
const echoes = opts.echoes === undefined ? 5 : opts.echoes;
const timeoutMs = opts.timeoutMs || 10000;

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

let ended = 0;
let okCount = 0;

function runClient(i) {
  const clientOpts = {};
  if (opts.transports) clientOpts.transports = opts.transports;
  if (opts.upgrade !== undefined) clientOpts.upgrade = opts.upgrade;
  if (opts.withCredentials) clientOpts.withCredentials = true;
  const socket = new Socket(url, clientOpts);
  const report = {
    client: i,
    sid: null,
    transport: null,
    final: null,
    upgraded: false,
    echoes: 0,
    ok: false,
    errors: [],
    closeReason: null,
  };
  let finished = false;
  let sent = 0;

  function sendNext() {
    socket.send(`c${i}-${sent}`);
    sent += 1;
  }

  function finish() {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    report.final = socket.transport ? socket.transport.name : null;
    if (report.ok) okCount += 1;
    process.stdout.write(JSON.stringify(report) + "\n");
    ended += 1;
    if (ended === count) {
      process.stdout.write(JSON.stringify({ event: "summary", clients: count, ok: okCount }) + "\n");
      setTimeout(() => process.exit(0), 50);
    }
  }

  function checkDone() {
    if (report.echoes < echoes) return;
    if (opts.waitUpgrade && !report.upgraded) return;
    report.ok = report.errors.length === 0;
    // Report before closing: the close must not change the verdict.
    finish();
    socket.close();
  }

  const timer = setTimeout(() => {
    report.errors.push({ message: "timeout", type: null, description: null, status: null });
    finish();
    socket.close();
  }, timeoutMs);

  socket.on("open", () => {
    report.sid = socket.id;
    report.transport = socket.transport.name;
    if (echoes > 0) sendNext();
    checkDone();
  });
  socket.on("upgrade", () => {
    report.upgraded = true;
    checkDone();
  });
  socket.on("message", (data) => {
    const expected = `c${i}-${report.echoes}`;
    if (data !== expected) {
      report.errors.push({ message: `got ${JSON.stringify(String(data))}, expected ${expected}` });
      return;
    }
    report.echoes += 1;
    if (sent < echoes) sendNext();
    checkDone();
  });
  socket.on("error", (err) => {
    let status = null;
    if (typeof (err && err.description) === "number") status = err.description;
    else if (err && err.context && typeof err.context.status === "number") status = err.context.status;
    report.errors.push({
      message: describe(err),
      type: err && err.type ? err.type : null,
      description: err && err.description !== undefined ? describe(err.description) : null,
      status,
    });
  });
  socket.on("close", (reason) => {
    report.closeReason = reason;
    finish();
  });
}

for (let i = 0; i < count; i++) runClient(i);
