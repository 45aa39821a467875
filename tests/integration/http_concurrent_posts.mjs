// 50 POSTs at once through nginx are all answered 201 with a complete answer.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startStack } from '../lib/stack.mjs';
import { until, mediaAlive } from '../lib/daemon.mjs';

const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240'] });
const offer = fs.readFileSync(new URL('../data/offer-chromium.sdp', import.meta.url), 'utf8');
try {
  const replies = await Promise.all(Array.from({ length: 50 }, () => fetch(`${s.base}/whep/cam`, {
    method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer,
  }).then(async (r) => ({ status: r.status, location: r.headers.get('location'), body: await r.text() }))));
  const bad = replies.filter((r) => r.status !== 201 || !/a=end-of-candidates/.test(r.body) || !r.location);
  assert.equal(bad.length, 0, JSON.stringify(bad.slice(0, 3)));
  assert.equal(new Set(replies.map((r) => r.location)).size, 50, 'fifty distinct sessions');
  assert.equal((await s.daemon.request({ op: 'health' })).viewers, 50);
  const dels = await Promise.all(replies.map((r) => fetch(s.base + r.location, { method: 'DELETE' })));
  assert.ok(dels.every((d) => d.status === 200));
  await until(async () => mediaAlive(await s.daemon.request({ op: 'health' })) === 0, { timeoutMs: 20000, what: 'all freed' });
} finally {
  await s.stop();
}
process.exit(0);
