// Many viewers join, play and leave by delete, five at a time, in both ICE
// modes: every webrtcbin (full) or direct peer (lite) is finalized, and
// threads, descriptors and memory return to their baseline.
import assert from 'node:assert/strict';
import { startDaemon, until, settledBaseline, untilTornDown } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

for (const mode of ['lite', 'full']) {
  const d = await startDaemon({ args: ['--width', '320', '--height', '240', '--ice-mode', mode] });
  // One viewer's whole life.
  const cycle = async (i) => {
    const r = await createReceiver({ audio: i % 2 === 0 });
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201, JSON.stringify(reply));
    await r.accept(reply.sdp);
    await r.waitPackets(5, 10000);
    assert.equal(r.stats().firstIsKeyframe, true);
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session: reply.session })).status, 200);
    await r.close();
  };
  const batch = (from, n) => Promise.all(Array.from({ length: n }, (_, k) => cycle(from + k)));
  try {
    await batch(0, 4); // warm-up: first-use allocations are not leaks
    const base = await settledBaseline(d, { what: `${mode}: warm-up settled` });
    let peak = 0;
    for (let i = 0; i < 40; i += 5) {
      await batch(i, 5);
      peak = Math.max(peak, (await d.request({ op: 'health' })).threads);
    }
    const left = await untilTornDown(d, base, { what: `${mode}: every viewer left and torn down` });
    assert.equal(d.log().match(/leave \(delete\)/g).length, 44, 'the daemon logs each leave and why');
    // RSS drifts back too (bounded wait: allocators keep some).
    const after = await until(async () => {
      const h = await d.request({ op: 'health' });
      return h.rss_kb <= base.rss_kb + 10 * 1024 && h;
    }, { timeoutMs: 15000, what: `${mode}: RSS back near baseline ${JSON.stringify(base)}` })
      .catch((e) => { throw new Error(`${e.message}; after: ${JSON.stringify(left)}`); });
    console.log(mode, 'baseline', JSON.stringify(base), 'after 44 viewers', JSON.stringify({ ...after, fds: left.fds }), 'peak threads', peak);
  } finally {
    assert.equal(await d.stop(), 0);
  }
}
process.exit(0);
