// H.264 beside VP8 from one raw stream, in both ICE modes. Each viewer gets
// the first codec in the stream's order (default vp8,h264) that its offer
// has: one offering only H.264 gets H.264 (its first packet the SPS, with
// the PPS and the IDR), one offering VP8 and H.264 gets VP8, both at once
// from one stream; the H.264 encoder runs only while an H.264 viewer is
// there. With `codecs = h264,vp8` the same VP8-first offer gets H.264.
import assert from 'node:assert/strict';
import { startDaemon, until } from '../lib/daemon.mjs';
import { daemonMetrics } from '../lib/metrics.mjs';
import { createReceiver } from '../lib/peer.mjs';

const metrics = daemonMetrics;

async function join(d, opts) {
  const r = await createReceiver(opts);
  const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
  assert.equal(reply.status, 201, JSON.stringify(reply));
  await r.accept(reply.sdp);
  return { r, reply };
}

for (const mode of ['lite', 'full']) {
  const d = await startDaemon({ args: ['--width', '320', '--height', '240', '--ice-mode', mode, '--keyframe-interval', '60'] });
  try {
    const running = 'whepcam_encoders_running{stream="cam"}';
    await until(async () => (await metrics(d))[running] === 1, { what: `${mode}: only VP8's encoder runs before any viewer` });

    const h = await join(d, { vp8: false });
    const v = await join(d, {});
    assert.match(h.reply.sdp, /a=rtpmap:102 H264\/90000/);
    assert.match(h.reply.sdp, /a=fmtp:102 .*packetization-mode=1/);
    assert.match(h.reply.sdp, /a=fmtp:102 .*profile-level-id=42e01f/);
    assert.doesNotMatch(h.reply.sdp, /VP8/);
    assert.match(v.reply.sdp, /a=rtpmap:96 VP8\/90000/);
    assert.doesNotMatch(v.reply.sdp, /H264/);
    const [hs, vs] = await Promise.all([
      h.r.waitFor((st) => st.keyframes >= 1 && st.frames >= 10, { timeoutMs: 15000, what: `${mode}: H.264 frames` }),
      v.r.waitFor((st) => st.keyframes >= 1 && st.frames >= 10, { timeoutMs: 15000, what: `${mode}: VP8 frames` }),
    ]);
    console.log(mode, 'H.264 viewer: first packet NAL types', hs.firstNalTypes, 'frames', hs.frames, '; VP8 viewer frames', vs.frames);
    assert.equal(hs.codec, 'H264');
    assert.equal(hs.payloadType, 102);
    assert.equal(hs.firstIsKeyframe, true, 'the H.264 viewer starts on a keyframe');
    // Access unit delimiters (9) and SEI (6) may come first; parameter sets before any slice.
    const units = hs.firstNalTypes.filter((t) => t !== 9 && t !== 6);
    assert.equal(units[0], 7, `its first parameter set or slice is the SPS (then the PPS and the IDR): ${hs.firstNalTypes}`);
    assert.ok(units.includes(8) || units.length === 1, `PPS with the SPS: ${hs.firstNalTypes}`);
    assert.equal(vs.codec, 'VP8');
    assert.equal(vs.firstIsKeyframe, true);
    assert.notEqual(hs.ssrc, vs.ssrc);
    let m = await metrics(d);
    assert.equal(m[running], 2, 'both encoders run while each has a viewer');
    assert.ok(m['whepcam_track_frames_total{stream="cam",codec="H264"}'] > 0);
    assert.match(d.log(), /join from local, stream cam, H264 pt 102 \(level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\)/);

    // The H.264 viewer leaves: its encoder stops TRACK_IDLE_S (5 s) later; VP8's goes on.
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session: h.reply.session })).status, 200);
    await h.r.close();
    await until(async () => (await metrics(d))[running] === 1, { timeoutMs: 12000, what: `${mode}: H.264 encoder stopped after its last viewer` });
    assert.match(d.log(), /H264 encoder stopped: no viewer needs it/);
    const before = v.r.stats().frames;
    await v.r.waitFor((st) => st.frames >= before + 5, { what: `${mode}: VP8 plays on` });
    await v.r.close();
  } finally {
    assert.equal(await d.stop(), 0);
  }
}

// The stream's order, not the offer's, decides.
const d = await startDaemon({ args: ['--width', '320', '--height', '240', '--codecs', 'h264,vp8'] });
try {
  const { r, reply } = await join(d, {});
  assert.match(reply.sdp, /a=rtpmap:102 H264\/90000/, 'VP8 first in the offer, H.264 first in the stream: H.264');
  const st = await r.waitFor((x) => x.keyframes >= 1, { what: 'H.264 keyframe' });
  assert.equal(st.codec, 'H264');
  assert.equal(st.firstIsKeyframe, true);
  assert.equal((await daemonMetrics(d))['whepcam_encoders_running{stream="cam"}'], 1, 'x264 only: VP8\'s encoder waits for a viewer');
  const list = (await d.request({ op: 'streams' })).streams;
  assert.deepEqual([list[0].codec, list[0].codecs], ['H264', ['H264', 'VP8']]);
  await r.close();
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
