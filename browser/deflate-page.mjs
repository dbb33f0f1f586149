// The permessage-deflate browser test: opens browser/deflate.html from our
// server in Debian's headless chromium (driven by playwright-core, no browser
// download), waits for the page's result and prints it as one JSON line.
//
// Usage: node deflate-page.mjs URL
import { chromium } from 'playwright-core';

const [url] = process.argv.slice(2);
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
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 20000 });
    result = { ok: true, ...(await page.evaluate(() => window.result)) };
  } catch (err) {
    result.error = String(err);
  }
  result.console = consoleLines;
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
