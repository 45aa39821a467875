// Mode full (a webrtcbin per viewer) joining an RTSP camera passed through
// (tests/lib/rtsp_server.py: H.264, a GOP of 120 frames at 30 fps, which
// nothing can make shorter): the viewer is started from the frames the
// daemon kept since the camera's last keyframe (daemon/media/gopcache.c),
// not made to wait for the next one. Asserted from the stream itself and
// the daemon's own count, never from wall-clock time:
// - the first packet is the kept IDR with its SPS and PPS;
// - the daemon's "(the GOP kept, N frames)" matches the burst the viewer
//   saw: N frames whose RTP timestamps are drawn together (a tick or two
//   apart) just before the live frame's;
// - from that keyframe to the camera's next one the viewer has exactly the
//   camera's GOP (the N kept, then the live ones): nothing lost or repeated
//   at the switch, and its first keyframe came GOP - N frame intervals
//   before the camera's next keyframe would have;
// - every sequence number from its first packet on, none twice;
// - it plays on live afterwards (frame timestamps a frame interval apart);
// - viewers that leave while their GOP is still on its way are torn down
//   whole (webrtcbins finalized, threads and descriptors back).
// Viewer A joins early in a GOP, viewer B late (most of the GOP kept) while
// A plays on; B offers H.264 as payload type 41 (Chromium's High profiles
// are below 96, where a payloader cannot go by itself). A join landing on the camera's own keyframe (N would be 0:
// nothing to show) is retried once.
import assert from 'node:assert/strict';
import { settledBaseline, startDaemon, until, untilTornDown } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';
import { startRtspServer } from '../lib/rtsp.mjs';

const GOP = 120; // frames: 4 s at 30 fps
const FRAME_TICKS = 3000; // 90 kHz / 30 fps
const ticks = (a, b) => ((b - a) >>> 0); // RTP timestamp b - a, mod 2^32
const cam = await startRtspServer({ gop: GOP });
const d = await startDaemon({ args: ['--source', cam.url, '--rtsp-transport', 'tcp', '--ice-mode', 'full'] });

// One viewer: its offer, its frames until the camera's next keyframe and 30 more.
async function join(h264Pt = 102) {
  const r = await createReceiver({ h264First: true, h264Profile: '64001f', h264Pt, trackSeqs: true, trackFrames: true });
  const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
  assert.equal(reply.status, 201, JSON.stringify(reply));
  await r.accept(reply.sdp);
  const sid = reply.session.slice(0, 8);
  await until(() => new RegExp(`viewer ${sid}: first keyframe sent`).test(d.log()), { timeoutMs: 15000, what: 'the first keyframe sent' });
  const kept = new RegExp(`viewer ${sid}: first keyframe sent [\\d.]+ ms after the offer \\(the GOP kept, (\\d+) frames\\)`).exec(d.log());
  const st = await r.waitFor((s) => {
    const keys = s.frameLog.map((f, i) => (f.key ? i : -1)).filter((i) => i >= 0);
    return keys.length >= 2 && s.frameLog.length >= keys[1] + 30;
  }, { timeoutMs: 15000, what: 'the camera\'s next keyframe and 30 frames after it' });
  return { r, reply, st, n: kept ? Number(kept[1]) : 0 };
}

// What the test asserts of viewer `v` (see the top of the file); `what` names it.
async function check(v, what) {
  const { st, n } = v;
  const log = st.frameLog;
  console.log(`${what}: offer -> first keyframe ${(st.firstKeyframeAt - st.createdAt).toFixed(0)} ms (werift); ` +
    `the GOP kept: ${n} frames; first NAL types ${st.firstNalTypes}`);
  // A live keyframe would be followed a frame interval later; a kept one, a tick or two.
  assert.ok(ticks(log[0].ts, log[1].ts) <= 2, `${what}: the frame after the first keyframe came ` +
    `${ticks(log[0].ts, log[1].ts)} ticks after it: the keyframe was the camera's next, not the one kept`);
  assert.ok(n >= 1, `${what}: the daemon says it started the viewer from the GOP kept`);

  // The first packet is the kept IDR, its SPS and PPS in front of it.
  assert.equal(st.codec, 'H264');
  assert.equal(st.firstIsKeyframe, true);
  const types = st.firstNalTypes;
  assert.ok(types.includes(7) && types.includes(8), `${what}: SPS and PPS in the first packet: ${types}`);
  assert.ok(!types.includes(5) || types.indexOf(7) < types.indexOf(5), `${what}: SPS before the IDR: ${types}`);
  assert.equal(log[0].key, true);

  // The N kept frames, drawn together before the live frame (log[n]); live ones a frame apart.
  for (let i = 1; i <= n; i++) {
    const step = ticks(log[i - 1].ts, log[i].ts);
    assert.ok(step >= 1 && step <= 2, `${what}: kept frame ${i - 1} -> ${i}: ${step} ticks apart, not drawn together`);
  }
  const live = ticks(log[n].ts, log[n + 1].ts);
  assert.ok(live >= FRAME_TICKS / 2 && live <= FRAME_TICKS * 2, `${what}: live frames a frame interval apart: ${live} ticks`);

  // From the kept keyframe to the camera's next: exactly its GOP, nothing lost or repeated.
  const next = log.findIndex((f, i) => i > 0 && f.key);
  assert.equal(next, GOP, `${what}: frames from the first keyframe to the camera's next (kept ${n}, live ${next - n})`);
  console.log(`${what}: first keyframe ${GOP - n} frame intervals (${((GOP - n) / 30).toFixed(2)} s) before the camera's next`);

  // Every sequence number, once.
  assert.deepEqual(v.r.missing(), [], `${what}: no sequence number missing from the first packet on`);
  assert.equal(v.r.stats().wireRepeats, 0, `${what}: no packet twice`);
  assert.equal(v.r.stats().seqs.size, v.r.stats().packets);

  // It plays on live.
  const before = v.r.stats().frames;
  await v.r.waitFor((s) => s.frames >= before + 15, { what: `${what}: plays on live` });
  const tail = v.r.stats().frameLog.slice(-10);
  for (let i = 1; i < tail.length; i++) {
    const step = ticks(tail[i - 1].ts, tail[i].ts);
    assert.ok(step >= FRAME_TICKS / 2 && step <= FRAME_TICKS * 3, `${what}: live: ${step} ticks between frames`);
  }
}

try {
  await until(async () => (await d.request({ op: 'streams' })).streams[0].state === 'live', { timeoutMs: 15000, what: 'stream live' });
  await until(async () => /profile-level-id 64/.test(d.log()), { what: 'the camera\'s SPS read' });
  let a = await join();
  if (a.n === 0) {
    console.log('the first join landed on the camera\'s keyframe: once more');
    await a.r.close();
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session: a.reply.session })).status, 200);
    a = await join();
  }
  await check(a, 'viewer A');

  // B joins late in a GOP (A's frames tell where the camera is): most of the GOP is kept and sent.
  const keyAt = () => { const l = a.r.stats().frameLog; return l.length - 1 - l.findLastIndex((f) => f.key); };
  await a.r.waitFor(() => keyAt() >= 60, { what: 'A 60 frames into a GOP' });
  // B offers H.264 as payload type 41, as Chromium offers its High profiles (below 96).
  const b = await join(41);
  assert.match(b.reply.sdp, /m=video \d+ UDP\/TLS\/RTP\/SAVPF 41\r\n/);
  assert.equal(b.st.payloadType, 41, 'packets with the payload type answered');
  await check(b, 'viewer B');
  assert.deepEqual(a.r.missing(), [], 'A lost nothing while B joined');

  for (const v of [a, b]) {
    await v.r.close();
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session: v.reply.session })).status, 200);
  }

  // Viewers that leave while their GOP is on its way (DELETE at the first packet, the rest
  // still in their queue): every webrtcbin is finalized, threads and descriptors come back.
  const base = await settledBaseline(d, { what: 'A and B torn down' });
  for (let i = 0; i < 4; i++) {
    const r = await createReceiver({ h264First: true, h264Profile: '64001f' });
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201, JSON.stringify(reply));
    await r.accept(reply.sdp);
    await r.waitPackets(1, 15000);
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session: reply.session })).status, 200);
    await r.close();
  }
  await untilTornDown(d, base, { what: 'viewers gone mid-GOP torn down' });
  assert.equal((d.log().match(/\(the GOP kept, \d+ frames\)/g) ?? []).length >= 5, true, 'most of them were fed the GOP kept');
} finally {
  assert.equal(await d.stop(), 0);
  await cam.stop();
}
process.exit(0);
