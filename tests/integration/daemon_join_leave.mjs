// Many viewers join, play and leave by delete, five at a time: every
// webrtcbin is finalized and threads and memory return to their baseline.
import assert from 'node:assert/strict';
import { startDaemon, until, mediaAlive } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const d = await startDaemon({ args: ['--width', '320', '--height', '240'] });
const health = () => d.request({ op: 'health' });
const settled = (what) => until(async () => { const h = await health(); return h.viewers === 0 && mediaAlive(h) === 0 && h; },
  { timeoutMs: 15000, what });

// One viewer's whole life.
async function cycle(i) {
  const r = await createReceiver({ audio: i % 2 === 0 });
  const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
  assert.equal(reply.status, 201, JSON.stringify(reply));
  await r.accept(reply.sdp);
  await r.waitPackets(5, 10000);
  assert.equal(r.stats().firstIsKeyframe, true);
  assert.equal((await d.request({ op: 'delete', stream: 'cam', session: reply.session })).status, 200);
  await r.close();
}
const batch = (from, n) => Promise.all(Array.from({ length: n }, (_, k) => cycle(from + k)));

try {
  await batch(0, 4); // warm-up: first-use allocations are not leaks
  const base = await settled('warm-up settled');
  for (let i = 0; i < 40; i += 5) await batch(i, 5);
  const left = await settled('every viewer left and its webrtcbin finalized');
  assert.equal(d.log().match(/leave \(delete\)/g).length, 44, 'the daemon logs each leave and why');
  // Threads and RSS drift back to the baseline (bounded wait: GLib thread pools idle out).
  const after = await until(async () => {
    const h = await health();
    return h.threads <= base.threads + 2 && h.rss_kb <= base.rss_kb + 10 * 1024 && h;
  }, { timeoutMs: 15000, what: `threads/RSS back near baseline ${JSON.stringify(base)}` }).catch((e) => { throw new Error(`${e.message}; after: ${JSON.stringify(left)}`); });
  console.log('baseline', JSON.stringify(base), 'after 44 viewers', JSON.stringify(after));
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
