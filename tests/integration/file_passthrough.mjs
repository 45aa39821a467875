// A clip (file:) whose video is H.264 is passed through like an RTSP
// camera: a viewer that takes H.264 gets the clip's own stream, an IDR with
// its SPS/PPS first, with no encoder running; the clip loops at once at its
// end (no offline, no pause) and plays in real time: its RTP timestamps never
// go back across a loop and advance at 90 kHz against the time they take to
// arrive. A viewer that offers only VP8 gets VP8 (transcoded). The clip has
// an audio track, which is left alone. In both ICE modes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeClip, watchTimestamps } from '../lib/clip.mjs';
import { startDaemon, until } from '../lib/daemon.mjs';
import { daemonMetrics } from '../lib/metrics.mjs';
import { createReceiver } from '../lib/peer.mjs';

const CLIP_S = 2.5;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whepcam-clip-'));
const clip = makeClip(path.join(dir, 'clip.mp4'), { seconds: CLIP_S, gop: 30, audio: true });
const running = 'whepcam_encoders_running{stream="cam"}';
const loops = (d) => (d.log().match(/stream cam: end of the clip/g) ?? []).length;

async function join(d, opts) {
  const r = await createReceiver(opts);
  const ts = watchTimestamps(r);
  const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
  assert.equal(reply.status, 201, JSON.stringify(reply));
  await r.accept(reply.sdp);
  return { r, ts, reply };
}

try {
  for (const mode of ['lite', 'full']) {
    const d = await startDaemon({ args: ['--source', `file:${clip}`, '--ice-mode', mode, '--width', '320', '--height', '240'] });
    try {
      await until(async () => (await d.request({ op: 'streams' })).streams[0].state === 'live', { timeoutMs: 15000, what: `${mode}: stream live` });
      assert.match(d.log(), /stream cam: live \(file:.*, H\.264 passed through\)/);
      assert.deepEqual((await d.request({ op: 'streams' })).streams[0].codecs, ['H264', 'VP8'], 'the clip\'s H.264 first: no re-encoding');
      await until(async () => /profile-level-id 6400/.test(d.log()), { what: `${mode}: the clip's SPS read (High)` });
      assert.equal((await daemonMetrics(d))[running], 0, 'nothing encodes before a VP8 viewer comes');

      const h = await join(d, { h264First: true, h264Profile: '64001f' });
      assert.match(h.reply.sdp, /a=rtpmap:102 H264\/90000/);
      const hs = await h.r.waitFor((st) => st.keyframes >= 1 && st.frames >= 5, { timeoutMs: 15000, what: `${mode}: H.264 frames` });
      assert.equal(hs.codec, 'H264');
      assert.equal(hs.firstIsKeyframe, true);
      const types = hs.firstNalTypes;
      assert.ok(types.includes(7) && types.includes(8) && (!types.includes(5) || types.indexOf(7) < types.indexOf(5)), `SPS/PPS first: ${types}`);

      // Watched for more than two clip lengths: two loops at least.
      const loops0 = loops(d), since = performance.now();
      await new Promise((res) => setTimeout(res, (2 * CLIP_S + 1) * 1000));
      const before = h.r.stats().frames;
      await h.r.waitFor((st) => st.frames >= before + 15, { what: `${mode}: frames go on` });
      const t = h.ts.check(30);
      console.log(mode, `H.264: ${t.frames} frames, ${t.packets} packets, RTP ${t.rtpS.toFixed(2)} s over ${t.wallS.toFixed(2)} s (x${t.ratio.toFixed(2)}), longest gap ${t.maxGapMs.toFixed(0)} ms, ${loops(d) - loops0} loops`);
      assert.ok(!/stream: stream cam: offline/.test(d.log()), 'the clip\'s end never takes the stream offline');
      assert.ok(t.maxGapMs < 1000, `a loop is no pause (longest gap ${t.maxGapMs} ms)`);
      const looped = loops(d) - loops0, watchedS = (performance.now() - since) / 1000;
      assert.ok(looped >= 2, `looped twice at least: ${looped}`);
      // The clip's pace, by the daemon's own count: a clip not paced loops as fast as it decodes.
      assert.ok(looped <= Math.ceil(watchedS / CLIP_S) + 1, `${looped} loops in ${watchedS} s: not played in real time`);
      assert.equal(t.back, 0, 'RTP timestamps never go back, across loops too');
      assert.ok(t.wallS > 2 * CLIP_S - 1, `watched past two clip lengths: ${t.wallS} s`);
      assert.ok(t.ratio > 0.7 && t.ratio < 1.3, `played in real time: RTP advanced ${t.rtpS} s in ${t.wallS} s`);
      assert.equal((await d.request({ op: 'streams' })).streams[0].state, 'live');
      assert.equal((await daemonMetrics(d))[running], 0, 'the H.264 viewer costs no encoder');

      const v = await join(d, { h264: false });
      assert.match(v.reply.sdp, /a=rtpmap:96 VP8\/90000/);
      const vs = await v.r.waitFor((st) => st.keyframes >= 1 && st.frames >= 10, { timeoutMs: 15000, what: `${mode}: VP8 (transcoded) frames` });
      assert.equal(vs.codec, 'VP8');
      assert.equal(vs.firstIsKeyframe, true);
      assert.deepEqual([vs.width, vs.height], [320, 240]);
      assert.equal((await daemonMetrics(d))[running], 1, 'the VP8 viewer costs one encoder');
      await v.r.close();
      await h.r.close();
    } finally {
      assert.equal(await d.stop(), 0);
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
