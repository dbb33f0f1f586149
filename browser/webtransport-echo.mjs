// Loads a page from our server over plain HTTP on 127.0.0.1 in Debian's
// headless chromium (driven by playwright-core, no browser download), then
// lets the official engine.io-client bundle on that page connect with the
// given transports and WebTransport options: the server's self-signed
// certificate is trusted by its SHA-256 hash (serverCertificateHashes), and
// WebTransport goes to https://<the page's host:port>/engine.io/ over QUIC
// on the UDP port of the same number. Sends a text and a binary message
// once the session runs over WebTransport and prints one JSON line: the
// transports seen and the echoes.
//
// Used by crates/engineio/tests/browser_webtransport.rs.
// Usage: node webtransport-echo.mjs URL HASH_BYTES_COMMA_SEPARATED TRANSPORTS_COMMA_SEPARATED
import { chromium } from 'playwright-core';

const [url, hashArg, transportsArg] = process.argv.slice(2);
const hash = hashArg.split(',').map(Number);
const transports = transportsArg.split(',');
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--no-first-run', '--disable-component-update', '--disable-sync',
  ],
});
let result = { ok: false };
try {
  const page = await browser.newPage();
  const consoleLines = [];
  page.on('console', (msg) => consoleLines.push(msg.text()));
  const response = await page.goto(url);
  result.status = response ? response.status() : null;
  const run = await page.evaluate(({ hash, transports }) => new Promise((resolve) => {
    const seen = { opened: null, upgraded: null, echoes: [], errors: [] };
    let finished = false;
    const done = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(guard);
      seen.error = error || null;
      seen.transport = socket.transport ? socket.transport.name : null;
      socket.close();
      resolve(seen);
    };
    const guard = setTimeout(() => done('no echo within 20 s'), 20000);
    const socket = eio(location.origin, {
      transports,
      transportOptions: {
        webtransport: {
          serverCertificateHashes: [{ algorithm: 'sha-256', value: new Uint8Array(hash) }],
        },
      },
    });
    socket.binaryType = 'arraybuffer';
    const sendBoth = () => {
      socket.send('over webtransport ✓');
      socket.send(new Uint8Array([0, 1, 2, 255]));
    };
    socket.on('open', () => {
      seen.opened = socket.transport.name;
      if (seen.opened === 'webtransport') sendBoth();
    });
    socket.on('upgrade', (transport) => {
      seen.upgraded = transport.name;
      sendBoth();
    });
    socket.on('message', (data) => {
      seen.echoes.push(typeof data === 'string'
        ? { text: data }
        : { binary: Array.from(new Uint8Array(data)) });
      if (seen.echoes.length === 2) done();
    });
    socket.on('error', (err) => seen.errors.push(String(err && err.message ? err.message : err)));
    socket.on('close', (reason) => done('closed: ' + reason));
  }), { hash, transports });
  result = { ...result, ...run, ok: !run.error, console: consoleLines };
} catch (err) {
  result.error = String(err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
