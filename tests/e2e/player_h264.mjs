// Real Chromium plays an RTSP camera's H.264 (tests/lib/rtsp_server.py: High,
// a 4 s GOP) through nginx with no encoder running in whepcamd, and shows its
// first frame soon after the POST although the camera's next keyframe may be
// 4 s away (the direct path sends the GOP it kept; mode full feeds each
// viewer's webrtcbin the frames its track kept). Prints POST -> first frame
// and the jitter-buffer delay a few seconds later for three joins, in both
// ICE modes (WHEPCAM_E2E_MODES=full runs one).
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { until } from '../lib/daemon.mjs';
import { daemonMetrics } from '../lib/metrics.mjs';
import { startRtspServer } from '../lib/rtsp.mjs';

const cam = await startRtspServer({ gop: 120 });

// Three joins through nginx with whepcamd in ICE mode `mode`.
async function run(mode, browser) {
  const s = await startStack({ daemonArgs: ['--source', cam.url, '--rtsp-transport', 'tcp', '--ice-mode', mode] });
  try {
    await until(async () => (await s.daemon.request({ op: 'streams' })).streams[0].state === 'live', { timeoutMs: 15000, what: 'camera live' });
    await until(async () => /profile-level-id 64/.test(s.daemon.log()), { what: 'the camera\'s SPS seen' });
    const joins = [];
    for (let i = 0; i < 3; i++) {
      const page = await browser.newPage();
      await page.goto(s.base + '/');
      await page.waitForFunction(() => document.querySelector('#stream option') !== null);
      await page.click('#start');
      await page.waitForFunction(() => window.whepcam.framesDecoded() >= 30, null, { timeout: 20000 });
      const codec = await page.evaluate(async () => {
        const stats = await window.whepcam.peerConnection().getStats();
        let inbound = null;
        stats.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') inbound = r; });
        return stats.get(inbound.codecId).mimeType;
      });
      assert.equal(codec, 'video/H264');
      assert.equal((await daemonMetrics(s.daemon))['whepcam_encoders_running{stream="cam"}'], 0, 'no encoder runs for H.264 viewers');
      await new Promise((r) => setTimeout(r, 5000));
      const got = await page.evaluate(async () => {
        const stats = await window.whepcam.peerConnection().getStats();
        let inbound = null;
        stats.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') inbound = r; });
        return { post: window.whepcam.postToFirstFrameMs, jbMs: 1000 * inbound.jitterBufferDelay / inbound.jitterBufferEmittedCount };
      });
      joins.push(got);
      console.log(`${mode}: join ${i}: POST -> first frame ${got.post} ms; mean jitter-buffer delay after 5 s ${got.jbMs.toFixed(0)} ms`);
      await page.click('#stop');
      await page.close();
    }
    const posts = joins.map((j) => j.post).sort((a, b) => a - b);
    console.log(`${mode}: POST -> first frame p50 ${posts[1]} ms (n=3)`);
    assert.ok(posts[1] < 2000, `${mode}: a joiner does not wait for the camera's next keyframe (4 s GOP): ${posts}`);
  } finally {
    await s.stop();
  }
}

const browser = await launchChromium();
try {
  for (const mode of (process.env.WHEPCAM_E2E_MODES ?? 'lite,full').split(',')) await run(mode, browser);
} finally {
  await browser.close();
  await cam.stop();
}
process.exit(0);
