// Several [stream NAME] sections: two play side by side from different sources;
// a token guards POST, PATCH and DELETE of its stream; per-stream max-viewers
// gives 503 + Retry-After; a source that cannot start gives 409 + Retry-After.
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { createReceiver, packetsOver } from '../lib/peer.mjs';

const config = `
[stream front]
source = test:smpte
width = 320
height = 240
[stream back]
source = test:ball
width = 320
height = 240
token = s3cret
max-viewers = 1
[stream garage]
source = v4l2:/dev/video-none
width = 320
height = 240
`;
const s = await startStack({ config, daemonArgs: ['--source', 'test:smpte'] });
const post = (name, body, headers = {}) => fetch(`${s.base}/whep/${name}`, {
  method: 'POST', headers: { 'Content-Type': 'application/sdp', ...headers }, body,
});
const auth = { Authorization: 'Bearer s3cret' };
try {
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

  // Both play, each from its own encoder: the ball compresses far better than the bars.
  await Promise.all([rf.waitPackets(30, 15000), rb.waitPackets(10, 15000)]);
  assert.equal(rf.stats().firstIsKeyframe, true);
  assert.equal(rb.stats().firstIsKeyframe, true);
  const [nf, nb] = await Promise.all([packetsOver(rf, 2000), packetsOver(rb, 2000)]);
  console.log(`packets in 2 s: front (smpte) ${nf}, back (ball) ${nb}`);
  assert.ok(nf > 0 && nb > 0, 'both streams flow');
  assert.ok(nf > 2 * nb, 'different sources, different encoders');

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
