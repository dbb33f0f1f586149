#!/usr/bin/env node
// An echo server on the official Node `engine.io` package, for interop tests.
//
// Binds 127.0.0.1:0 (or --port) and prints `LISTENING <port>` on stdout once
// it accepts connections. Logs go to stderr.
//
// Options (each also readable from the environment variable in brackets):
//   --ping-interval MS   [EIO_PING_INTERVAL]  default 300
//   --ping-timeout MS    [EIO_PING_TIMEOUT]   default 200
//   --transports LIST    [EIO_TRANSPORTS]     default polling,websocket
//   --path PATH          [EIO_PATH]           default /engine.io
//   --max-payload BYTES  [EIO_MAX_PAYLOAD]    maxHttpBufferSize, default 1e6
//   --reject MESSAGE     [EIO_REJECT]         allowRequest refuses every handshake (403)
//   --cookie             [EIO_COOKIE=1]       Set-Cookie `eio_test=yummy` on the handshake
//   --break-upgrades     [EIO_BREAK_UPGRADES=1] every WebSocket open gets a 500
//   --tls-cert PATH --tls-key PATH            serve https with this PEM pair
//   --broadcast                               `broadcast:REST` sends REST to every session
//                                             (for `eio bench broadcast`) instead of echoing
//   --quiet                                   no log line per connection (for benchmarks)
//   --per-message-deflate [EIO_PER_MESSAGE_DEFLATE=1] perMessageDeflate: true (threshold 1024)
//   --port N                                  default 0 (any free port)
//
// Every message is echoed back, except text commands:
//   cmd:close         the server closes the session (socket.close())
//   cmd:stop-pings    the server stops sending pings (the client must time out)
//   cmd:transport     answers `transport:<polling|websocket>`
//   cmd:headers       answers `headers:<JSON>`: {polling: headers, websocket: headers} of the
//                     session's latest request on each transport
//   cmd:query         answers `query:<JSON>` (the handshake's query parameters)
//   cmd:burst N       sends `burst:0` .. `burst:N-1` at once
//   cmd:extensions    answers `extensions:<the WebSocket's negotiated extensions>`
//                     (empty over polling or without compression)
"use strict";

const fs = require("fs");
const http = require("http");
const https = require("https");
const engine = require("engine.io");

function option(name, env, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i !== -1) {
    const next = process.argv[i + 1];
    return next === undefined || next.startsWith("--") ? "1" : next;
  }
  if (env && process.env[env] !== undefined) return process.env[env];
  return fallback;
}

const opts = {
  pingInterval: Number(option("ping-interval", "EIO_PING_INTERVAL", "300")),
  pingTimeout: Number(option("ping-timeout", "EIO_PING_TIMEOUT", "200")),
  transports: option("transports", "EIO_TRANSPORTS", "polling,websocket").split(","),
  maxHttpBufferSize: Number(option("max-payload", "EIO_MAX_PAYLOAD", "1000000")),
  path: option("path", "EIO_PATH", "/engine.io"),
};
if (option("per-message-deflate", "EIO_PER_MESSAGE_DEFLATE", undefined) !== undefined) {
  opts.perMessageDeflate = true;
}
const reject = option("reject", "EIO_REJECT", undefined);
if (reject !== undefined) {
  opts.allowRequest = (req, callback) => callback(reject, false);
}
const setCookie = option("cookie", "EIO_COOKIE", undefined) !== undefined;
const certPath = option("tls-cert", undefined, undefined);
const keyPath = option("tls-key", undefined, undefined);

const server = certPath
  ? https.createServer({ cert: fs.readFileSync(certPath), key: fs.readFileSync(keyPath) })
  : http.createServer();
const eio = engine.attach(server, opts);
const latestHeaders = new Map();

eio.on("initial_headers", (headers) => {
  if (setCookie) headers["set-cookie"] = ["eio_test=yummy; Path=/"];
});
// Record every request of a session as it arrives (before engine.io sees it).
function record(req) {
  const query = new URL(req.url, "http://x").searchParams;
  const sid = query.get("sid");
  if (sid && latestHeaders.has(sid)) latestHeaders.get(sid)[query.get("transport")] = req.headers;
}
server.prependListener("request", record);
server.prependListener("upgrade", record);
if (option("break-upgrades", "EIO_BREAK_UPGRADES", undefined) !== undefined) {
  // Every WebSocket open fails, though the handshake offers the upgrade.
  server.removeAllListeners("upgrade");
  server.on("upgrade", (req, socket) => socket.end("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"));
}

const broadcast = option("broadcast", undefined, undefined) !== undefined;
const quiet = option("quiet", undefined, undefined) !== undefined;
const log = quiet ? () => {} : (line) => console.error(line);

eio.on("connection", (socket) => {
  log(`connection ${socket.id} over ${socket.transport.name}`);
  latestHeaders.set(socket.id, { [socket.transport.name]: socket.request.headers });
  socket.on("upgrade", (transport) => log(`upgrade ${socket.id} to ${transport.name}`));
  socket.on("close", (reason) => {
    log(`close ${socket.id}: ${reason}`);
    latestHeaders.delete(socket.id);
  });
  socket.on("message", (data) => {
    if (broadcast && typeof data === "string" && data.startsWith("broadcast:")) {
      // The documented way to reach everyone: socket.send on each client.
      const text = data.slice("broadcast:".length);
      for (const id in eio.clients) eio.clients[id].send(text);
      return;
    }
    if (typeof data !== "string" || !data.startsWith("cmd:")) {
      socket.send(data);
      return;
    }
    const [command, arg] = data.slice(4).split(" ");
    switch (command) {
      case "close":
        socket.close();
        break;
      case "stop-pings":
        clearTimeout(socket.pingIntervalTimer);
        clearTimeout(socket.pingTimeoutTimer);
        socket.pingIntervalTimer = null;
        socket.pingTimeoutTimer = null;
        socket.schedulePing = () => {};
        socket.resetPingTimeout = () => {};
        socket.send("pings stopped");
        break;
      case "transport":
        socket.send(`transport:${socket.transport.name}`);
        break;
      case "headers":
        socket.send(`headers:${JSON.stringify(latestHeaders.get(socket.id) || {})}`);
        break;
      case "query":
        socket.send(`query:${JSON.stringify(socket.request._query || {})}`);
        break;
      case "extensions":
        socket.send(`extensions:${(socket.transport.socket && socket.transport.socket.extensions) || ""}`);
        break;
      case "burst":
        for (let i = 0; i < Number(arg); i++) socket.send(`burst:${i}`);
        break;
      default:
        socket.send(data);
    }
  });
});

server.listen(Number(option("port", undefined, "0")), "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
