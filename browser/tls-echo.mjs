// Loads a page from our server over https in Debian's headless chromium
// (driven by playwright-core, no browser download), trusting the test's
// self-made certificate by its SPKI hash only
// (--ignore-certificate-errors-spki-list), then lets the official
// engine.io-client bundle on that page connect to the same origin (polling),
// upgrade to websocket (wss), and echo a text and a binary message. Prints
// one JSON line: the transports seen, the echoes, and the HTTP version
// (nextHopProtocol) of the page and of the polling requests.
//
// Used by crates/engineio/tests/server_tls.rs.
// Usage: node tls-echo.mjs URL SPKI_SHA256_BASE64
import { chromium } from 'playwright-core';

const [url, spki] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync',
    `--ignore-certificate-errors-spki-list=${spki}`,
  ],
});
let result = { ok: false };
try {
  const page = await browser.newPage();
  const consoleLines = [];
  page.on('console', (msg) => consoleLines.push(msg.text()));
  const response = await page.goto(url);
  result.status = response ? response.status() : null;
  const run = await page.evaluate(() => new Promise((resolve) => {
    const seen = { opened: null, upgraded: null, echoes: [], errors: [] };
    const done = (error) => {
      clearTimeout(guard);
      seen.error = error || null;
      seen.protocols = performance.getEntriesByType('resource')
        .concat(performance.getEntriesByType('navigation'))
        .map((entry) => ({ url: entry.name, protocol: entry.nextHopProtocol }));
      socket.close();
      resolve(seen);
    };
    const guard = setTimeout(() => done('no echo within 20 s'), 20000);
    const socket = eio(location.origin, { transports: ['polling', 'websocket'] });
    socket.binaryType = 'arraybuffer';
    socket.on('open', () => {
      seen.opened = socket.transport.name;
      socket.send('over polling');
    });
    socket.on('upgrade', (transport) => {
      seen.upgraded = transport.name;
      socket.send('over wss ✓');
      socket.send(new Uint8Array([0, 1, 2, 255]));
    });
    socket.on('message', (data) => {
      seen.echoes.push(typeof data === 'string'
        ? { text: data }
        : { binary: Array.from(new Uint8Array(data)) });
      if (seen.echoes.length === 3) done();
    });
    socket.on('error', (err) => seen.errors.push(String(err && err.message ? err.message : err)));
    socket.on('close', (reason) => { if (seen.echoes.length < 3) done('closed: ' + reason); });
  }));
  result = { ...result, ...run, ok: !run.error, console: consoleLines };
} catch (err) {
  result.error = String(err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
