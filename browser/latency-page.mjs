// Opens the latency demo page in Debian's headless chromium (driven by
// playwright-core, no browser download), waits until the page reports the
// websocket transport and at least MIN_SAMPLES round trips, saves a
// screenshot, and prints one JSON line with what the page showed.
//
// Usage: node latency-page.mjs URL SCREENSHOT_PATH [MIN_SAMPLES]
import { chromium } from 'playwright-core';

const [url, screenshot, minSamplesArg] = process.argv.slice(2);
const minSamples = Number(minSamplesArg || 5);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', '--disable-component-update', '--disable-sync',
  ],
});
let result = { ok: false };
try {
  const page = await browser.newPage();
  const consoleLines = [];
  page.on('console', (msg) => consoleLines.push(msg.text()));
  await page.goto(url);
  try {
    await page.waitForFunction(
      (n) => document.getElementById('transport').textContent === 'websocket'
        && Number(document.getElementById('samples').textContent) >= n,
      minSamples,
      { timeout: 20000 },
    );
  } catch (err) {
    result.error = String(err);
  }
  const read = (id) => page.$eval('#' + id, (el) => el.textContent);
  result = {
    ...result,
    ok: !result.error,
    status: await read('status'),
    transport: await read('transport'),
    samples: Number(await read('samples')),
    latency_ms: Number(await read('latency')),
    average_ms: Number(await read('average')),
    console: consoleLines,
  };
  await page.screenshot({ path: screenshot });
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
