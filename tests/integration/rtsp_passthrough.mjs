// An RTSP camera (tests/lib/rtsp_server.py: H.264 High, a 4 s GOP, Basic
// auth) passed through: a viewer that takes H.264 gets the camera's own
// stream with no encoder running in the daemon, starting with an IDR and its
// SPS/PPS; one that offers only VP8 gets VP8 from a transcode that runs only
// while it is there; both at once. The password never shows in the log or
// the stream list. In both ICE modes.
import assert from 'node:assert/strict';
import { startDaemon, until } from '../lib/daemon.mjs';
import { daemonMetrics } from '../lib/metrics.mjs';
import { createReceiver } from '../lib/peer.mjs';
import { startRtspServer } from '../lib/rtsp.mjs';

const password = 'S3cretPw';
const cam = await startRtspServer({ user: 'admin', password, gop: 120 });
const running = 'whepcam_encoders_running{stream="cam"}';

async function join(d, opts) {
  const r = await createReceiver(opts);
  const t0 = performance.now();
  const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
  assert.equal(reply.status, 201, JSON.stringify(reply));
  await r.accept(reply.sdp);
  return { r, reply, t0 };
}

for (const mode of ['lite', 'full']) {
  const d = await startDaemon({ args: ['--source', cam.url, '--rtsp-transport', 'tcp', '--ice-mode', mode,
    '--width', '320', '--height', '240'] });
  try {
    await until(async () => (await d.request({ op: 'streams' })).streams[0].state === 'live', { timeoutMs: 15000, what: `${mode}: stream live` });
    const list = (await d.request({ op: 'streams' })).streams[0];
    assert.deepEqual(list.codecs, ['H264', 'VP8'], 'a camera\'s H.264 first: no re-encoding');
    assert.equal(list.source, `rtsp://***@127.0.0.1:${cam.port}/cam`);
    await until(async () => /profile-level-id 6400/.test(d.log()), { what: `${mode}: the camera's SPS read (High)` });
    assert.equal((await daemonMetrics(d))[running], 0, 'nothing encodes before a VP8 viewer comes');

    const h = await join(d, { h264First: true, h264Profile: '64001f' }); // a High decoder
    assert.match(h.reply.sdp, /a=rtpmap:102 H264\/90000/);
    const hs = await h.r.waitFor((st) => st.keyframes >= 1 && st.frames >= 5, { timeoutMs: 15000, what: `${mode}: H.264 frames` });
    console.log(mode, `H.264 viewer: offer -> first keyframe ${(hs.firstKeyframeAt - h.t0).toFixed(0)} ms, first NAL types ${hs.firstNalTypes}`);
    assert.equal(hs.codec, 'H264');
    assert.equal(hs.firstIsKeyframe, true);
    // The camera's access unit (an AUD, maybe) with the SPS and PPS ahead of the IDR slice.
    const types = hs.firstNalTypes;
    assert.ok(types.includes(7) && types.includes(8) && (!types.includes(5) || types.indexOf(7) < types.indexOf(5)), `SPS/PPS first: ${types}`);
    if (mode === 'lite') {
      // A camera cannot be made to send a keyframe (a 4 s GOP here): the GOP kept is sent at once.
      // (The burst can reach us before the daemon's log line does: wait for it.)
      await until(() => /first keyframe sent [\d.]+ ms after the offer \(the GOP kept, \d+ frames\)/.test(d.log()),
        { what: `${mode}: the GOP kept was sent` });
      assert.ok(hs.firstKeyframeAt - h.t0 < 2000, `joined from the GOP kept, not the next IDR: ${hs.firstKeyframeAt - h.t0} ms`);
    }
    assert.equal((await daemonMetrics(d))[running], 0, 'the H.264 viewer costs no encoder');

    const v = await join(d, { h264: false });
    assert.match(v.reply.sdp, /a=rtpmap:96 VP8\/90000/);
    const vs = await v.r.waitFor((st) => st.keyframes >= 1 && st.frames >= 5, { timeoutMs: 15000, what: `${mode}: VP8 (transcoded) frames` });
    assert.equal(vs.codec, 'VP8');
    assert.equal(vs.firstIsKeyframe, true);
    assert.deepEqual([vs.width, vs.height], [320, 240], 'transcoded at the stream\'s size');
    assert.equal((await daemonMetrics(d))[running], 1, 'the VP8 viewer costs one encoder');
    const before = h.r.stats().frames;
    await h.r.waitFor((st) => st.frames >= before + 10, { what: `${mode}: H.264 plays on beside VP8` });
    await v.r.close();
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session: v.reply.session })).status, 200);
    await until(async () => (await daemonMetrics(d))[running] === 0, { timeoutMs: 12000, what: `${mode}: transcode stopped after its viewer` });
    await h.r.close();
    assert.ok(!d.log().includes(password), 'the camera\'s password is never logged');
  } finally {
    assert.equal(await d.stop(), 0);
  }
}
await cam.stop();
process.exit(0);
