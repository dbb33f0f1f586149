#!/usr/bin/env node
// A WebSocket echo load with Node's `ws` client, with or without
// permessage-deflate, to measure what compression costs a server: CLIENTS
// sessions each keep one message of SIZE bytes in flight for SECONDS. With
// --server-pid, the server's CPU time (from /proc) per echo is reported.
// Loopback only.
//
// Usage: node ws-deflate-load.js URL [--clients N] [--size BYTES] [--seconds S]
//          [--per-message-deflate [--no-context-takeover]] [--server-pid PID] [--hold]
//   URL: http://127.0.0.1:PORT/engine.io/ (WebSocket-only sessions are opened)
// Prints one JSON line: {echoes, rate, cpu_us_per_echo, compressed}.
// With --hold (and --server-pid): no load; the server's RSS per session is
// measured with the CLIENTS sessions open and idle, then again after each
// has exchanged one SIZE-byte message (which, with permessage-deflate and
// context takeover, leaves a compressor and a decompressor in the session):
// {idle_kib_per_session, after_message_kib_per_session}.
"use strict";

const fs = require("fs");
const WebSocket = require("ws");

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const next = process.argv[i + 1];
  return next === undefined || next.startsWith("--") ? "1" : next;
}
const url = process.argv[2].replace(/^http/, "ws").replace(/\/?$/, "/") + "?EIO=4&transport=websocket";
const clients = Number(option("clients", "10"));
const size = Number(option("size", "4096"));
const seconds = Number(option("seconds", "5"));
const deflate = option("per-message-deflate", undefined) !== undefined;
const pid = option("server-pid", undefined);
const hold = option("hold", undefined) !== undefined;
// The offer asks for no context takeover both ways (which our server grants).
const noTakeover = option("no-context-takeover", undefined) !== undefined;
const deflateOption = deflate && noTakeover
  ? { serverNoContextTakeover: true, clientNoContextTakeover: true }
  : deflate;

function rssKib() {
  const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line.split(/\s+/)[1]);
}
const rssBefore = hold ? rssKib() : 0;
let rssIdle = 0;
let echoed = 0;

let text = "4";
for (let i = 0; text.length < size + 1; i++) text += `{"id":${i},"name":"item ${i % 50}","ok":true},`;
text = text.slice(0, size + 1);

function cpuTicks() {
  if (!pid) return 0;
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks
}

let echoes = 0;
let counting = false;
let compressed = null;
const sockets = [];
let opened = 0;
for (let c = 0; c < clients; c++) {
  const ws = new WebSocket(url, { perMessageDeflate: deflateOption });
  sockets.push(ws);
  ws.on("message", (data, isBinary) => {
    const message = isBinary ? data : data.toString();
    if (message[0] === "0") {
      if (compressed === null) compressed = ws.extensions;
      if (hold) {
        if (++opened === clients) setTimeout(holdIdle, 1000);
        return;
      }
      ws.send(text);
      if (++opened === clients) start();
    } else if (message === "2") {
      ws.send("3");
    } else if (message[0] === "4" && hold) {
      if (++echoed === clients) setTimeout(holdDone, 1000);
    } else if (message[0] === "4") {
      if (counting) echoes++;
      ws.send(text);
    }
  });
  ws.on("error", (err) => {
    console.error(String(err));
    process.exit(1);
  });
}

function holdIdle() {
  rssIdle = rssKib();
  for (const ws of sockets) ws.send(text);
}

function holdDone() {
  const after = rssKib();
  console.log(JSON.stringify({
    clients,
    size,
    compressed: compressed || "",
    rss_before_kib: rssBefore,
    idle_kib_per_session: Number(((rssIdle - rssBefore) / clients).toFixed(2)),
    after_message_kib_per_session: Number(((after - rssBefore) / clients).toFixed(2)),
  }));
  for (const ws of sockets) ws.terminate();
  process.exit(0);
}

function start() {
  // One second of warm-up, then the measured window.
  setTimeout(() => {
    const ticks0 = cpuTicks();
    const t0 = process.hrtime.bigint();
    counting = true;
    setTimeout(() => {
      counting = false;
      const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
      const ticks = cpuTicks() - ticks0;
      const result = {
        clients,
        size,
        echoes,
        rate: Math.round(echoes / elapsed),
        compressed: compressed || "",
      };
      if (pid) result.cpu_us_per_echo = Number(((ticks * 1e6) / 100 / echoes).toFixed(2));
      console.log(JSON.stringify(result));
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }, seconds * 1000);
  }, 1000);
}
