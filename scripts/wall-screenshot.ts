// A screenshot of a running hub's wall in Debian's Chromium, e.g. of the demo for the README:
//   npx tsx scripts/wall-screenshot.ts http://127.0.0.1:PORT/wall.html docs/wall-demo.png [WIDTHxHEIGHT]
// It waits until the page shows tiles and its "data as of" time, then saves the PNG.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startChromium } from './lib/chromium.ts';

const [url, out, size = '1920x1080'] = process.argv.slice(2);
const m = /^(\d+)x(\d+)$/.exec(size);
if (url === undefined || out === undefined || m === null) {
  console.error('usage: tsx scripts/wall-screenshot.ts WALL_URL OUT.png [WIDTHxHEIGHT]');
  process.exit(2);
}
const chromium = await startChromium(join(tmpdir(), 'ioc-wall-screenshot-chromium.log'));
try {
  const page = await chromium.browser.newPage({ viewport: { width: Number(m[1]), height: Number(m[2]) } });
  await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  await page.waitForSelector('.tile', { timeout: 30_000 });
  await page.waitForTimeout(1500); // one more refresh: states from fresh data
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  console.log(`saved ${out} (${size})`);
} finally {
  await chromium.stop();
}
