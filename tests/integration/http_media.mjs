// A real peer plays through the whole chain: nginx, whepcam-fcgi, whepcamd.
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { createReceiver } from '../lib/peer.mjs';

const s = await startStack({ daemonArgs: ['--width', '640', '--height', '360'] });
try {
  const r = await createReceiver({ audio: true });
  const t0 = performance.now();
  const res = await fetch(`${s.base}/whep/cam`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: r.offer });
  const answered = performance.now();
  assert.equal(res.status, 201);
  await r.accept(await res.text());
  const st = await r.waitPackets(100, 10000);
  assert.equal(st.firstIsKeyframe, true);
  assert.ok(st.keyframes >= 1);
  console.log(`POST -> 201 ${(answered - t0).toFixed(1)} ms; POST -> first keyframe ${(st.firstKeyframeAt - t0).toFixed(1)} ms`);
  assert.equal((await fetch(s.base + res.headers.get('location'), { method: 'DELETE' })).status, 200);
  await r.close();
} finally {
  await s.stop();
}
process.exit(0);
