// A viewer that never completes ICE is reaped after ice-timeout-s, and its
// webrtcbin (full) or direct peer (lite) freed with its threads and
// descriptors: in both ICE modes.
import assert from 'node:assert/strict';
import { startDaemon, until, settledBaseline, untilTornDown } from '../lib/daemon.mjs';
import { createReceiver, playFrom } from '../lib/peer.mjs';

const TIMEOUT_S = 2;
for (const mode of ['lite', 'full']) {
  const d = await startDaemon({ args: ['--ice-timeout-s', String(TIMEOUT_S), '--width', '320', '--height', '240', '--ice-mode', mode] });
  try {
    // Warm-up: first-use allocations (encoder threads, libnice's sockets) are not leaks.
    const warm = await playFrom(d);
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session: warm.session })).status, 200);
    await warm.r.close();
    const base = await settledBaseline(d, { what: `${mode}: warm-up torn down` });

    const r = await createReceiver();
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201);
    const t0 = Date.now();
    await r.close(); // never applies the answer: ICE cannot connect
    const h = await d.request({ op: 'health' });
    assert.equal(h.viewers, 1);
    assert.equal(h.webrtcbins + h.peers, 1, `${mode}: one media session while waiting for ICE`);
    await until(async () => (await d.request({ op: 'health' })).viewers === 0, { timeoutMs: 8000, what: `${mode}: reaped` });
    const took = (Date.now() - t0) / 1000;
    assert.match(d.log(), new RegExp(`viewer ${reply.session.slice(0, 8)}\\S*: leave \\(ice-timeout\\)`));
    assert.ok(took >= TIMEOUT_S - 1, `${mode}: reaped after ${took} s, not before ice-timeout-s (GLib may fire a seconds timer up to 1 s early)`);
    const after = await untilTornDown(d, base, { what: `${mode}: the timed-out viewer torn down` });
    console.log(mode, `reaped after ${took.toFixed(1)} s; baseline`, JSON.stringify(base), 'after', JSON.stringify(after));
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session: reply.session })).status, 404);
  } finally {
    assert.equal(await d.stop(), 0);
  }
}
process.exit(0);
