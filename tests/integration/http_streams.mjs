// Several [stream NAME] sections: two play side by side from different sources;
// a token guards POST, PATCH and DELETE of its stream; per-stream max-viewers
// gives 503 + Retry-After; a source that cannot start gives 409 + Retry-After.
// The two streams are told apart by what each encoder puts on the wire, not by
// how fast it goes: each has its own payloader (SSRC), its own size in the VP8
// keyframe header, and its own frame counter in /metrics.
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { createReceiver } from '../lib/peer.mjs';
import { parseMetrics } from '../lib/metrics.mjs';

const config = `
[stream front]
source = test:smpte
width = 320
height = 240
[stream back]
source = test:ball
width = 160
height = 120
token = s3cret
max-viewers = 1
[stream garage]
source = v4l2:/dev/video-none
width = 320
height = 240
`;

// Resolve when the daemon `d` has logged a line matching `re` (an event, not a wait).
function logged(d, re, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const look = () => { if (re.test(d.log())) { done(); resolve(); } };
    const timer = setTimeout(() => { done(); reject(new Error(`daemon log: ${re} not within ${timeoutMs} ms`)); }, timeoutMs);
    const done = () => { clearTimeout(timer); d.proc.stderr.off('data', look); };
    d.proc.stderr.on('data', look);
    look();
  });
}
const s = await startStack({ config, daemonArgs: ['--source', 'test:smpte'] });
const post = (name, body, headers = {}) => fetch(`${s.base}/whep/${name}`, {
  method: 'POST', headers: { 'Content-Type': 'application/sdp', ...headers }, body,
});
const auth = { Authorization: 'Bearer s3cret' };
const metrics = async () => parseMetrics(await (await fetch(`${s.base}/metrics`)).text());
try {
  // A stream is live from its encoder's first frame (logged), not from the daemon's start.
  await Promise.all([logged(s.daemon, /stream front: live/), logged(s.daemon, /stream back: live/),
    logged(s.daemon, /stream garage: offline/)]);
  const list = (await (await fetch(`${s.base}/whep/`)).json()).streams;
  assert.deepEqual(list.map((x) => [x.name, x.state, x.protected]),
    [['front', 'live', false], ['back', 'live', true], ['garage', 'offline', false]]);

  // Token: missing and wrong are 401 with WWW-Authenticate; the right one plays.
  const rb = await createReceiver();
  let res = await post('back', rb.offer);
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate'), /^Bearer/);
  assert.match((await res.json()).detail, /needs a Bearer token/);
  res = await post('back', rb.offer, { Authorization: 'Bearer nope' });
  assert.equal(res.status, 401);
  const back = await post('back', rb.offer, auth);
  assert.equal(back.status, 201);
  const backUrl = s.base + back.headers.get('location');
  await rb.accept(await back.text());

  const rf = await createReceiver();
  const front = await post('front', rf.offer);
  assert.equal(front.status, 201);
  await rf.accept(await front.text());

  // Both play, each from its own encoder: its own SSRC, its own size in the
  // keyframe header, its own frame counter moving.
  await Promise.all([rf.waitPackets(10, 15000), rb.waitPackets(10, 15000)]);
  const m0 = await metrics();
  const [f, b] = await Promise.all([rf, rb].map((r) => {
    const { frames } = r.stats();
    return r.waitFor((st) => st.frames >= frames + 5, { timeoutMs: 15000, what: '5 more frames' });
  }));
  const m1 = await metrics();
  console.log(`front: SSRC ${f.ssrc}, ${f.width}x${f.height}; back: SSRC ${b.ssrc}, ${b.width}x${b.height}; frames encoded `
    + `front ${m0['whepcam_encoder_frames_total{stream="front"}']}->${m1['whepcam_encoder_frames_total{stream="front"}']}, `
    + `back ${m0['whepcam_encoder_frames_total{stream="back"}']}->${m1['whepcam_encoder_frames_total{stream="back"}']}`);
  assert.equal(f.firstIsKeyframe, true);
  assert.equal(b.firstIsKeyframe, true);
  assert.deepEqual([f.width, f.height], [320, 240], 'the front viewer gets the front encoder\'s 320x240');
  assert.deepEqual([b.width, b.height], [160, 120], 'the back viewer gets the back encoder\'s 160x120');
  assert.notEqual(f.ssrc, b.ssrc, 'one payloader per stream');
  for (const name of ['front', 'back'])
    assert.ok(m1[`whepcam_encoder_frames_total{stream="${name}"}`] > m0[`whepcam_encoder_frames_total{stream="${name}"}`],
      `${name}'s encoder runs`);
  assert.equal(m1['whepcam_encoder_frames_total{stream="garage"}'], 0, 'the offline stream encodes nothing');
  assert.deepEqual([m1['whepcam_viewers{stream="front"}'], m1['whepcam_viewers{stream="back"}']], [1, 1]);

  // Per-stream capacity: back takes one viewer.
  const extra = await createReceiver();
  res = await post('back', extra.offer, auth);
  assert.equal(res.status, 503);
  assert.ok(Number(res.headers.get('retry-after')) > 0);

  // The token guards PATCH and DELETE too.
  res = await fetch(backUrl, { method: 'PATCH', headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' }, body: 'a=end-of-candidates\r\n' });
  assert.equal(res.status, 401);
  res = await fetch(backUrl, { method: 'PATCH', headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', ...auth }, body: 'a=end-of-candidates\r\n' });
  assert.equal(res.status, 204);
  assert.equal((await fetch(backUrl, { method: 'DELETE' })).status, 401);
  assert.equal((await fetch(backUrl, { method: 'DELETE', headers: auth })).status, 200);

  // A source that is not producing: 409 + Retry-After (draft §4.2.8), not a hang.
  res = await post('garage', extra.offer);
  assert.equal(res.status, 409);
  assert.ok(Number(res.headers.get('retry-after')) > 0);
  assert.match((await res.json()).detail, /offline/);
  // Unknown stream.
  assert.equal((await post('attic', extra.offer)).status, 404);
  await Promise.all([rf.close(), rb.close(), extra.close()]);
} finally {
  await s.stop();
}
process.exit(0);
