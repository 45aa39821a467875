// Real Chromium opens the page nginx serves, clicks Start, decodes at least
// 60 frames at the configured size, and Stop brings the daemon back to 0 viewers;
// so does a peer connection closed without a DELETE.
import assert from 'node:assert/strict';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { outDir, until } from '../lib/daemon.mjs';

const s = await startStack({ daemonArgs: ['--width', '640', '--height', '360', '--fps', '30'] });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (m) => console.log('page:', m.text()));
  await page.goto(s.base + '/');
  await page.waitForFunction(() => document.querySelector('#stream option') !== null);
  assert.match(await page.textContent('#stream'), /cam/);
  await page.click('#start');
  await page.waitForFunction(() => window.whepcam.framesDecoded() >= 60, null, { timeout: 20000 });
  const got = await page.evaluate(() => ({
    w: document.querySelector('video').videoWidth, h: document.querySelector('video').videoHeight,
    ttff: window.whepcam.firstFrameMs, post: window.whepcam.postToFirstFrameMs, state: window.whepcam.state, status: document.querySelector('#status').textContent,
  }));
  console.log(`first frame ${got.ttff} ms after the click, ${got.post} ms after the POST; ${got.w}x${got.h}; status "${got.status}"`);
  assert.deepEqual([got.w, got.h], [640, 360], 'decoded at the configured size');
  assert.equal(got.state, 'playing');
  assert.ok(got.ttff > 0);
  assert.ok(got.post > 0 && got.post <= got.ttff, 'the POST comes after the click, the frame after both');
  // The stats panel fills from getStats().
  await page.waitForFunction(() => document.querySelector('#s-bitrate').textContent.includes('kbit/s'), null, { timeout: 5000 });
  assert.equal((await s.daemon.request({ op: 'streams' })).streams[0].viewers, 1);
  await page.screenshot({ path: path.join(outDir, 'player.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(outDir, 'player-phone.png'), fullPage: true });

  await page.click('#stop');
  assert.equal(await page.evaluate(() => window.whepcam.state), 'stopped');
  await until(async () => (await s.daemon.request({ op: 'streams' })).streams[0].viewers === 0,
    { timeoutMs: 5000, what: 'the daemon back to 0 viewers after Stop' });
  assert.equal(await page.evaluate(() => document.querySelector('video').srcObject), null);

  // A browser whose peer connection closes without a DELETE (a crash of the
  // page's script, a player that forgets) sends DTLS close_notify: the daemon
  // lets the viewer go at once, not after the 30 s consent window.
  await page.click('#start');
  await page.waitForFunction(() => window.whepcam.framesDecoded() >= 10, null, { timeout: 20000 });
  const session = await page.evaluate(() => window.whepcam.session);
  const t0 = Date.now();
  await page.evaluate(() => window.whepcam.peerConnection().close());
  await until(async () => (await s.daemon.request({ op: 'streams' })).streams[0].viewers === 0,
    { timeoutMs: 5000, what: 'the daemon lets a closed peer go' });
  console.log(`a peer connection closed without DELETE was let go after ${Date.now() - t0} ms`);
  const sid = session.split('/').pop().slice(0, 8);
  assert.match(s.daemon.log(), new RegExp(`viewer ${sid}: leave \\(connection-(closed|failed)\\)`));
} finally {
  await browser.close();
  await s.stop();
}
process.exit(0);
