// The official Node client (npm engine.io-client) against an https server,
// trusting the given CA: polling, then the upgrade to websocket (wss). It
// sends "over polling" once open, then a text and a binary message once
// upgraded, and waits for the three echoes. Prints one JSON line:
//   {"opened":"polling","upgraded":"websocket","echoes":[{"text":..}|{"binary":[..]}],
//    "errors":[..],"error":null|".."}
// and exits 0 when the three echoes came, 1 otherwise.
//
// Used by crates/engineio/tests/server_tls.rs; run from interop/ so that
// engine.io-client resolves to interop/node_modules.
// Usage: node node/tls-client.js URL CA_PEM_FILE
"use strict";

const fs = require("fs");
const { Socket } = require("engine.io-client");

const [url, caFile] = process.argv.slice(2);
const ca = fs.readFileSync(caFile, "utf8");

const seen = { opened: null, upgraded: null, echoes: [], errors: [], error: null };
let finished = false;

const socket = new Socket(url, { ca, transports: ["polling", "websocket"] });

function finish(error) {
  if (finished) return;
  finished = true;
  clearTimeout(guard);
  seen.error = error || null;
  process.stdout.write(JSON.stringify(seen) + "\n");
  socket.close();
  // Let stdout drain, then leave even if a socket is still closing.
  setTimeout(() => process.exit(error ? 1 : 0), 50);
}

const guard = setTimeout(() => finish("no echo within 15 s"), 15000);

socket.on("open", () => {
  seen.opened = socket.transport.name;
  socket.send("over polling");
});

socket.on("upgrade", (transport) => {
  seen.upgraded = transport.name;
  socket.send("over wss ✓");
  socket.send(Buffer.from([0, 1, 2, 255]));
});

socket.on("message", (data) => {
  seen.echoes.push(typeof data === "string"
    ? { text: data }
    : { binary: Array.from(new Uint8Array(data)) });
  if (seen.echoes.length === 3) finish();
});

socket.on("error", (err) => {
  const description = err && err.description ? String(err.description.message || err.description) : "";
  seen.errors.push(String(err && err.message ? err.message : err) + (description ? ": " + description : ""));
});

socket.on("close", (reason) => {
  if (!finished) finish("closed: " + reason);
});
