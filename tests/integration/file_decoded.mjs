// A clip (file:) whose video is not H.264 (VP8 in WebM, smaller than the
// stream) is decoded, scaled to the stream's size and encoded again; it
// loops and plays in real time as a passed-through one does. In mode lite
// the clip is not there when the daemon starts: that is logged, the stream
// is offline and retried, and plays once the clip is written. In both ICE
// modes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeClip, watchTimestamps } from '../lib/clip.mjs';
import { startDaemon, until } from '../lib/daemon.mjs';
import { daemonMetrics } from '../lib/metrics.mjs';
import { createReceiver } from '../lib/peer.mjs';

const CLIP_S = 2;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whepcam-clip-'));
const clip = path.join(dir, 'clip.webm');
const make = () => {
  // Written aside, then moved in place: the daemon never opens half a clip.
  makeClip(`${clip}.part`, { codec: 'vp8', seconds: CLIP_S, gop: 30, size: '160x120', audio: true });
  fs.renameSync(`${clip}.part`, clip);
};
const state = async (d) => (await d.request({ op: 'streams' })).streams[0].state;
const loops = (d) => (d.log().match(/stream cam: end of the clip/g) ?? []).length;

try {
  for (const mode of ['lite', 'full']) {
    const missing = mode === 'lite';
    if (!missing) make();
    const d = await startDaemon({ args: ['--source', `file:${clip}`, '--ice-mode', mode, '--width', '320', '--height', '240'] });
    try {
      if (missing) {
        assert.match(d.log(), /stream cam: clip .*clip\.webm: .*; it will be decoded once it can be read/);
        await until(async () => (await state(d)) === 'offline', { timeoutMs: 10000, what: `${mode}: offline while the clip is not there` });
        make();
      }
      await until(async () => (await state(d)) === 'live', { timeoutMs: 20000, what: `${mode}: stream live` });
      assert.deepEqual((await d.request({ op: 'streams' })).streams[0].codecs, ['VP8', 'H264']);

      const r = await createReceiver({ h264: false });
      const ts = watchTimestamps(r);
      const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
      assert.equal(reply.status, 201, JSON.stringify(reply));
      await r.accept(reply.sdp);
      const vs = await r.waitFor((st) => st.keyframes >= 1 && st.frames >= 10, { timeoutMs: 15000, what: `${mode}: VP8 frames` });
      assert.equal(vs.codec, 'VP8');
      assert.equal(vs.firstIsKeyframe, true);
      assert.deepEqual([vs.width, vs.height], [320, 240], 'scaled to the stream\'s size');

      // Watched for more than two clip lengths: two loops at least.
      const loops0 = loops(d), since = performance.now();
      await new Promise((res) => setTimeout(res, (2 * CLIP_S + 1) * 1000));
      const before = r.stats().frames;
      await r.waitFor((st) => st.frames >= before + 15, { what: `${mode}: frames go on` });
      const t = ts.check(30);
      console.log(mode, `VP8: ${t.frames} frames, RTP ${t.rtpS.toFixed(2)} s over ${t.wallS.toFixed(2)} s (x${t.ratio.toFixed(2)}), longest gap ${t.maxGapMs.toFixed(0)} ms (frame ${t.maxGapAt})`);
      assert.equal((d.log().match(/stream: stream cam: offline:/g) ?? []).length, missing ? 1 : 0, 'offline only while the clip was not there');
      assert.ok(t.maxGapMs < 1000, `a loop is no pause (longest gap ${t.maxGapMs} ms)`);
      const looped = loops(d) - loops0, watchedS = (performance.now() - since) / 1000;
      assert.ok(looped >= 2, `looped twice at least: ${looped}`);
      // The clip's pace, by the daemon's own count: a clip not paced loops as fast as it decodes.
      assert.ok(looped <= Math.ceil(watchedS / CLIP_S) + 1, `${looped} loops in ${watchedS} s: not played in real time`);
      assert.equal(t.back, 0, 'RTP timestamps never go back, across loops too');
      assert.ok(t.wallS > 2 * CLIP_S - 1, `watched past two clip lengths: ${t.wallS} s`);
      assert.ok(t.ratio > 0.7 && t.ratio < 1.3, `played in real time: RTP advanced ${t.rtpS} s in ${t.wallS} s`);
      assert.equal((await daemonMetrics(d))['whepcam_encoders_running{stream="cam"}'], 1, 'decoded and encoded (VP8)');
      await r.close();
    } finally {
      assert.equal(await d.stop(), 0);
      fs.rmSync(clip, { force: true });
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
