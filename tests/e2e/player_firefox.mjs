// Real Firefox (Debian's firefox-esr over WebDriver BiDi) plays the page nginx
// serves: Start, frames shown at the configured size, Stop, and the page's
// DELETE answered 200. Then a minimal hand-written WHEP page on another origin
// (CORS, default bundle policy, no trickle, close then DELETE) plays too and
// its DELETE gets 200. The daemon is back to 0 viewers after each.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack } from '../lib/stack.mjs';
import { launchFirefox } from '../lib/firefox.mjs';
import { until } from '../lib/daemon.mjs';
import { accessLog, deleteStatus, serveFiles } from '../lib/players.mjs';
import { enterPrivateNetwork, TEST_ADDR } from '../lib/netns.mjs';

enterPrivateNetwork();
const here = path.dirname(fileURLToPath(import.meta.url));
const s = await startStack({ daemonArgs: ['--width', '640', '--height', '360', '--fps', '30', '--ice-address', TEST_ADDR] });
const other = await serveFiles({ 'whep-minimal.html': path.join(here, '../data/whep-minimal.html') });
const browser = await launchFirefox();
const viewers = async () => (await s.daemon.request({ op: 'streams' })).streams[0].viewers;
try {
  console.log(`browser ${await browser.version()}`);
  const page = await browser.newPage();
  page.on('console', (m) => console.log('page:', m.text()));

  // The project's page.
  await page.goto(s.base + '/');
  await page.waitForFunction(() => document.querySelector('#stream option') !== null, { timeout: 10000 });
  await page.click('#start');
  await page.waitForFunction(() => window.whepcam.framesDecoded() >= 30, { timeout: 30000 });
  const got = await page.evaluate(() => ({
    w: document.querySelector('video').videoWidth, h: document.querySelector('video').videoHeight,
    ttff: window.whepcam.firstFrameMs, state: window.whepcam.state, session: window.whepcam.session,
  }));
  console.log(`project page: first frame ${got.ttff} ms after the click; ${got.w}x${got.h}`);
  assert.deepEqual([got.w, got.h], [640, 360], 'decoded at the configured size');
  assert.equal(got.state, 'playing');
  assert.equal(await viewers(), 1);
  await page.click('#stop');
  assert.equal(await page.evaluate(() => window.whepcam.state), 'stopped');
  assert.equal(await deleteStatus(s, got.session), 200, "the page's DELETE after Stop");
  await until(async () => (await viewers()) === 0, { timeoutMs: 5000, what: '0 viewers after Stop' });

  // The minimal page, cross-origin. It sends no OPTIONS of its own.
  const options = () => accessLog(s).filter((e) => e.method === 'OPTIONS' && e.status === 204).map((e) => e.path);
  const optionsBefore = options().length;
  await page.goto(`${other.base}/whep-minimal.html?endpoint=${encodeURIComponent(s.base + '/whep/cam')}`);
  const session = await page.evaluate(() => play());
  await page.waitForFunction(() => window.framesShown >= 30, { timeout: 30000 });
  const size = await page.evaluate(() => [document.querySelector('video').videoWidth, document.querySelector('video').videoHeight]);
  assert.deepEqual(size, [640, 360]);
  console.log(`minimal page: playing ${session}`);
  // Cross-origin with Content-Type application/sdp: the browser asked first.
  assert.deepEqual(options().slice(optionsBefore), ['/whep/cam'], 'a CORS preflight answered 204 before the POST');
  assert.equal(await page.evaluate(() => stop()), 200, 'DELETE after the peer connection closed');
  assert.equal(await deleteStatus(s, session), 200);
  assert.deepEqual(options().slice(optionsBefore + 1), [new URL(session).pathname], 'and before the DELETE');
  await until(async () => (await viewers()) === 0, { timeoutMs: 5000, what: '0 viewers after the minimal page stopped' });
} finally {
  await browser.close();
  await other.close();
  await s.stop();
}
process.exit(0);
