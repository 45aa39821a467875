// A camera that goes away comes back by itself, and its viewers with it:
// the RTSP server (tests/lib/rtsp_server.py) is killed mid-stream; the
// stream goes offline (the stream list and metrics say so, a new offer gets
// 409 with a retry time), its viewers stay; the server starts again on the
// same port and the same viewers play on from a keyframe without a new
// offer. Offline and back are logged once each. In both ICE modes.
import assert from 'node:assert/strict';
import { startDaemon, until } from '../lib/daemon.mjs';
import { daemonMetrics } from '../lib/metrics.mjs';
import { createReceiver } from '../lib/peer.mjs';
import { startRtspServer } from '../lib/rtsp.mjs';

const cam = await startRtspServer({ gop: 30 });
const state = async (d) => (await d.request({ op: 'streams' })).streams[0].state;

for (const mode of ['lite', 'full']) {
  const d = await startDaemon({ args: ['--source', cam.url, '--rtsp-transport', 'tcp', '--ice-mode', mode] });
  try {
    await until(async () => (await state(d)) === 'live', { timeoutMs: 15000, what: `${mode}: stream live` });
    const r = await createReceiver({ vp8: false, h264Profile: '64001f' });
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201, JSON.stringify(reply));
    await r.accept(reply.sdp);
    await r.waitFor((st) => st.keyframes >= 1 && st.frames >= 10, { timeoutMs: 15000, what: `${mode}: playing` });

    await cam.stop();
    await until(async () => (await state(d)) === 'offline', { timeoutMs: 15000, what: `${mode}: stream offline once the camera is gone` });
    assert.equal((await daemonMetrics(d))['whepcam_stream_up{stream="cam"}'], 0);
    const other = await createReceiver({ vp8: false, h264Profile: '64001f' });
    const refused = await d.request({ op: 'offer', stream: 'cam', sdp: other.offer });
    assert.equal(refused.status, 409, JSON.stringify(refused));
    assert.ok(refused.retry_after > 0, 'with a time to retry');
    await other.close();
    await new Promise((res) => setTimeout(res, 3000)); // a few retries fail meanwhile
    assert.equal((await d.request({ op: 'health' })).viewers, 1, 'the viewer is kept while the camera is away');
    const { frames, keyframes } = r.stats();

    await cam.start();
    await until(async () => (await state(d)) === 'live', { timeoutMs: 20000, what: `${mode}: stream live again` });
    const back = await r.waitFor((st) => st.keyframes > keyframes && st.frames >= frames + 10,
      { timeoutMs: 15000, what: `${mode}: the same viewer plays on from a keyframe` });
    console.log(mode, `frames before ${frames}, after ${back.frames}; keyframes ${keyframes} -> ${back.keyframes}`);
    const log = d.log();
    assert.equal(log.match(/stream cam: offline:/g).length, 1, 'offline logged once, not at every retry');
    assert.equal(log.match(/stream cam: back:/g).length, 1, 'back logged once');
    assert.equal((await d.request({ op: 'health' })).viewers, 1);
    await r.close();
  } finally {
    assert.equal(await d.stop(), 0);
  }
}
await cam.stop();
process.exit(0);
