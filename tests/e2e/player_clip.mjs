// Real Chromium plays a clip (file:, an MP4 of H.264 + AAC) through nginx:
// the clip's own H.264 decoded in the page with no encoder running in
// whepcamd, and its sound as Opus (decoded and encoded once), across the
// clip's loops: frames keep being decoded after two loops.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeClip } from '../lib/clip.mjs';
import { startStack } from '../lib/stack.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { until } from '../lib/daemon.mjs';
import { daemonMetrics } from '../lib/metrics.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whepcam-clip-'));
const clip = makeClip(path.join(dir, 'clip.mp4'), { seconds: 2.5, gop: 30, audio: true });
const loops = (d) => (d.log().match(/stream cam: end of the clip/g) ?? []).length;
const s = await startStack({ daemonArgs: ['--source', `file:${clip}`, '--width', '320', '--height', '240'] });
const browser = await launchChromium();
try {
  await until(async () => /stream cam: sound from file:/.test(s.daemon.log()), { timeoutMs: 15000, what: 'the clip live, with its sound' });
  const page = await browser.newPage();
  await page.goto(s.base + '/');
  await page.waitForFunction(() => document.querySelector('#stream option') !== null);
  await page.click('#start');
  await page.waitForFunction(() => window.whepcam.framesDecoded() >= 30, null, { timeout: 20000 });
  const stats = () => page.evaluate(async () => {
    const st = await window.whepcam.peerConnection().getStats();
    const out = {};
    st.forEach((r) => { if (r.type === 'inbound-rtp') out[r.kind] = { codec: st.get(r.codecId)?.mimeType, packets: r.packetsReceived, frames: r.framesDecoded }; });
    return out;
  });
  const first = await stats();
  assert.equal(first.video.codec, 'video/H264');
  assert.equal(first.audio?.codec, 'audio/opus', JSON.stringify(first));
  assert.equal((await daemonMetrics(s.daemon))['whepcam_encoders_running{stream="cam"}'], 0, 'no encoder runs for an H.264 viewer of a clip');
  const before = loops(s.daemon);
  await until(async () => loops(s.daemon) >= before + 2, { timeoutMs: 15000, what: 'two loops' });
  const later = await stats();
  console.log(`clip: ${later.video.frames} frames decoded, ${later.audio.packets} Opus packets, over ${loops(s.daemon)} loops`);
  assert.ok(later.video.frames >= first.video.frames + 60, `frames keep coming across loops: ${first.video.frames} -> ${later.video.frames}`);
  assert.ok(later.audio.packets >= first.audio.packets + 60, `sound keeps coming across loops: ${first.audio.packets} -> ${later.audio.packets}`);
} finally {
  await browser.close();
  await s.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
