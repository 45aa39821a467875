// ICE restart from the project's page in real Chromium (WHEP §4.3, RFC 8840):
// pc.restartIce() makes the page PATCH its new ICE credentials (If-Match: the
// session's ETag). Mode lite: 200 with the server's new ufrag/pwd as a
// trickle-ice-sdpfrag and a new ETag; the same session keeps playing over the
// new ICE session without a new DTLS handshake (the daemon logs "DTLS up" once)
// and without a new POST. Mode full (webrtcbin 1.22 restarts only through a
// new offer): the PATCH may get 422, and then the page plays again on a new
// session by itself.
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { until } from '../lib/daemon.mjs';
import { deleteStatus, statuses } from '../lib/players.mjs';

const browser = await launchChromium();
const state = (page) => page.evaluate(async () => {
  const pc = window.whepcam.peerConnection();
  let localUfrag = null;
  if (pc) (await pc.getStats()).forEach((r) => { if (r.type === 'transport' && r.iceLocalUsernameFragment) localUfrag = r.iceLocalUsernameFragment; });
  const remote = pc && pc.remoteDescription ? (/^a=ice-ufrag:(.+?)\r?$/m.exec(pc.remoteDescription.sdp) || [])[1] : null;
  return { frames: window.whepcam.framesDecoded(), state: window.whepcam.state, session: window.whepcam.session,
    connection: pc && pc.connectionState, localUfrag, remoteUfrag: remote, status: document.querySelector('#status').textContent };
});
try {
  for (const mode of ['lite', 'full']) {
    const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240', '--fps', '30', '--ice-mode', mode] });
    try {
      const page = await browser.newPage();
      page.on('console', (m) => console.log(`${mode} page:`, m.text()));
      await page.goto(s.base + '/');
      await page.waitForFunction(() => document.querySelector('#stream option') !== null);
      await page.click('#start');
      await page.waitForFunction(() => window.whepcam.framesDecoded() >= 30 && window.whepcam.state === 'playing', null, { timeout: 20000 });
      const before = await state(page);
      const sid = before.session.split('/').pop().slice(0, 8);
      // Mode full: the page's trickle PATCHes (204) come first, the last with
      // end-of-candidates; each is a "trickled candidate(s)" line in the log.
      const trickles = () => s.daemon.log().split('\n').filter((l) => l.includes(`viewer ${sid}: `) && l.includes('trickled candidate'));
      if (mode === 'full')
        await until(() => trickles().some((l) => l.includes('end of candidates')) &&
          statuses(s, 'PATCH', before.session).length === trickles().length, { what: 'the trickle PATCHes done' });
      const trickled = statuses(s, 'PATCH', before.session).length;
      await page.evaluate(() => window.whepcam.peerConnection().restartIce());
      await until(() => statuses(s, 'PATCH', before.session).length > trickled, { what: `${mode}: the restart's PATCH` });
      const patched = statuses(s, 'PATCH', before.session)[trickled];
      console.log(`${mode}: ICE restart PATCH answered ${patched}`);
      if (mode === 'lite') {
        assert.equal(patched, 200, 'mode lite restarts ICE: PATCH 200');
        let now;
        await until(async () => {
          now = await state(page);
          return now.remoteUfrag !== before.remoteUfrag && now.localUfrag !== before.localUfrag &&
            now.connection === 'connected' && now.frames >= before.frames + 30;
        }, { timeoutMs: 15000, what: 'new ICE credentials on both sides and 30 more frames' }).catch((e) => {
          throw new Error(`${e.message}; before ${JSON.stringify(before)}, now ${JSON.stringify(now)}`);
        });
        assert.equal(now.session, before.session, 'the same session');
        assert.equal(now.state, 'playing');
        assert.deepEqual(statuses(s, 'POST', '/whep/cam'), [201], 'no new POST');
        const dtlsUps = s.daemon.log().split('\n').filter((l) => l.includes(`viewer ${sid}: DTLS up`)).length;
        assert.equal(dtlsUps, 1, 'no new DTLS handshake');
      } else {
        // 200 (the same session goes on) or 422 (the page plays a new session).
        assert.ok([200, 422].includes(patched), `mode full: PATCH ${patched}`);
        let now;
        await until(async () => {
          now = await state(page);
          return now.state === 'playing' && now.connection === 'connected' &&
            (patched === 200 ? now.frames >= before.frames + 30 && now.remoteUfrag !== before.remoteUfrag
              : now.session !== before.session && now.frames >= 30);
        }, { timeoutMs: 20000, what: 'playing again after the restart' }).catch((e) => {
          throw new Error(`${e.message}; before ${JSON.stringify(before)}, now ${JSON.stringify(now)}`);
        });
        if (patched !== 200) assert.equal(await deleteStatus(s, before.session), 200, 'the refused session DELETEd');
      }
      const session = (await state(page)).session;
      await page.click('#stop');
      assert.equal(await deleteStatus(s, session), 200, 'DELETE after Stop');
      await page.close();
    } finally {
      await s.stop();
    }
  }
} finally {
  await browser.close();
}
process.exit(0);
