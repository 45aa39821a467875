// A clip (file:, H.264 passed through) removed while a viewer plays: at its
// next loop it cannot be opened, so the stream goes offline (the stream list
// and metrics say so, a new offer gets 409 with a retry time) and its viewer
// stays; the clip put back, the same viewer plays on from a keyframe without
// a new offer, its RTP timestamps still going forward and advancing in real
// time. Offline and back are logged once each. In both ICE modes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeClip, watchTimestamps } from '../lib/clip.mjs';
import { startDaemon, until } from '../lib/daemon.mjs';
import { daemonMetrics } from '../lib/metrics.mjs';
import { createReceiver } from '../lib/peer.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whepcam-clip-'));
const clip = makeClip(path.join(dir, 'clip.mp4'), { seconds: 2, gop: 30 });
const away = `${clip}.away`;
const state = async (d) => (await d.request({ op: 'streams' })).streams[0].state;

try {
  for (const mode of ['lite', 'full']) {
    const d = await startDaemon({ args: ['--source', `file:${clip}`, '--ice-mode', mode, '--width', '320', '--height', '240'] });
    try {
      await until(async () => (await state(d)) === 'live', { timeoutMs: 15000, what: `${mode}: stream live` });
      const r = await createReceiver({ vp8: false, h264Profile: '64001f' });
      const ts = watchTimestamps(r);
      const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
      assert.equal(reply.status, 201, JSON.stringify(reply));
      await r.accept(reply.sdp);
      await r.waitFor((st) => st.keyframes >= 1 && st.frames >= 10, { timeoutMs: 15000, what: `${mode}: playing` });

      fs.renameSync(clip, away); // the run under way has it open: it ends, the next cannot start
      await until(async () => (await state(d)) === 'offline', { timeoutMs: 10000, what: `${mode}: stream offline once the clip is gone` });
      assert.equal((await daemonMetrics(d))['whepcam_stream_up{stream="cam"}'], 0);
      const other = await createReceiver({ vp8: false, h264Profile: '64001f' });
      const refused = await d.request({ op: 'offer', stream: 'cam', sdp: other.offer });
      assert.equal(refused.status, 409, JSON.stringify(refused));
      assert.ok(refused.retry_after > 0, 'with a time to retry');
      await other.close();
      await new Promise((res) => setTimeout(res, 3000)); // a few retries fail meanwhile
      assert.equal((await d.request({ op: 'health' })).viewers, 1, 'the viewer is kept while the clip is away');
      const { frames, keyframes } = r.stats();

      const restored = performance.now();
      fs.renameSync(away, clip);
      await until(async () => (await state(d)) === 'live', { timeoutMs: 20000, what: `${mode}: stream live again` });
      const back = await r.waitFor((st) => st.keyframes > keyframes && st.frames >= frames + 45,
        { timeoutMs: 15000, what: `${mode}: the same viewer plays on from a keyframe` });
      const t = ts.check(0, restored);
      console.log(mode, `frames before ${frames}, after ${back.frames}; keyframes ${keyframes} -> ${back.keyframes}; since the clip is back: RTP ${t.rtpS.toFixed(2)} s over ${t.wallS.toFixed(2)} s`);
      assert.equal(t.back, 0, 'RTP timestamps go on forward after the clip came back');
      // Played from its start in real time, not in a burst up to where the clock is.
      assert.ok(t.ratio > 0.7 && t.ratio < 1.3, `in real time once back: RTP advanced ${t.rtpS} s in ${t.wallS} s`);
      const log = d.log();
      assert.equal(log.match(/stream cam: offline:/g).length, 1, 'offline logged once, not at every retry');
      assert.equal(log.match(/stream cam: back:/g).length, 1, 'back logged once');
      assert.equal((await d.request({ op: 'health' })).viewers, 1);
      await r.close();
    } finally {
      if (fs.existsSync(away)) fs.renameSync(away, clip);
      assert.equal(await d.stop(), 0);
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
