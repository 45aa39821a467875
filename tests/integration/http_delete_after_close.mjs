// Issue 14 (3): a player that closes its peer connection first and sends
// DELETE after (the project's page does, and so do several WHEP players) gets
// 200 in both ICE modes, although in mode lite the session already ended when
// Chromium's DTLS close_notify arrived; a second DELETE, or one for a session
// that never was, is 404. On the old code mode lite answered the first with 404.
import assert from 'node:assert/strict';
import { startStack, curl } from '../lib/stack.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { until } from '../lib/daemon.mjs';

const browser = await launchChromium();
try {
  for (const mode of ['lite', 'full']) {
    const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240', '--ice-mode', mode] });
    try {
      const page = await browser.newPage();
      await page.goto(s.base + '/');
      await page.waitForFunction(() => document.querySelector('#stream option') !== null);
      await page.click('#start');
      await page.waitForFunction(() => window.whepcam.framesDecoded() >= 10, null, { timeout: 20000 });
      const url = new URL(await page.evaluate(() => window.whepcam.session), s.base).href;
      await page.evaluate(() => window.whepcam.peerConnection().close());
      if (mode === 'lite') // the close_notify ends the session before any DELETE
        await until(() => /leave \(connection-closed\)/.test(s.daemon.log()), { what: 'lite: the session ended on close' });
      assert.equal(curl(['-X', 'DELETE', url]).status, 200, `${mode}: DELETE after the player closed`);
      assert.equal(curl(['-X', 'DELETE', url]).status, 404, `${mode}: a second DELETE`);
      assert.equal(curl(['-X', 'DELETE', `${s.base}/whep/cam/${'0'.repeat(32)}`]).status, 404, `${mode}: a session that never was`);
      await until(async () => (await s.daemon.request({ op: 'streams' })).streams[0].viewers === 0, { what: `${mode}: no viewer left` });
      await page.close();
    } finally {
      await s.stop();
    }
  }
} finally {
  await browser.close();
}
process.exit(0);
