// 300 POSTs at once through nginx (a join burst: more than a listen
// backlog of 128 holds while 8 FastCGI workers answer) are all answered 201
// with a complete answer, none 502.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startStack } from '../lib/stack.mjs';
import { until, mediaAlive } from '../lib/daemon.mjs';

const N = 300;
const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240', '--max-viewers', String(N)] });
const offer = fs.readFileSync(new URL('../data/offer-chromium.sdp', import.meta.url), 'utf8');
try {
  const replies = await Promise.all(Array.from({ length: N }, () => fetch(`${s.base}/whep/cam`, {
    method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer,
  }).then(async (r) => ({ status: r.status, location: r.headers.get('location'), body: await r.text() }))));
  const bad = replies.filter((r) => r.status !== 201 || !/a=end-of-candidates/.test(r.body) || !r.location);
  const statuses = {};
  for (const r of replies) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  assert.equal(bad.length, 0, `statuses ${JSON.stringify(statuses)}; ${JSON.stringify(bad.slice(0, 2))}`);
  assert.equal(new Set(replies.map((r) => r.location)).size, N, 'as many distinct sessions');
  assert.equal((await s.daemon.request({ op: 'health' })).viewers, N);
  const dels = await Promise.all(replies.filter((r) => r.location).map((r) => fetch(s.base + r.location, { method: 'DELETE' })));
  assert.ok(dels.every((d) => d.status === 200));
  await until(async () => mediaAlive(await s.daemon.request({ op: 'health' })) === 0, { timeoutMs: 20000, what: 'all freed' });
} finally {
  await s.stop();
}
process.exit(0);
