// delete stops media to that viewer, frees it (its webrtcbin or direct peer,
// its threads and descriptors), and a second delete is 404: in both ICE modes.
import assert from 'node:assert/strict';
import { startDaemon, until, resources, settledBaseline, untilTornDown } from '../lib/daemon.mjs';
import { playFrom } from '../lib/peer.mjs';

for (const mode of ['lite', 'full']) {
  const d = await startDaemon({ args: ['--width', '320', '--height', '240', '--ice-mode', mode] });
  try {
    // Warm-up: first-use allocations (encoder threads, libnice's sockets) are not leaks.
    const warm = await playFrom(d);
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session: warm.session })).status, 200);
    await warm.r.close();
    const base = await settledBaseline(d, { what: `${mode}: warm-up torn down` });

    const { r, session } = await playFrom(d);
    assert.equal((await d.request({ op: 'streams' })).streams[0].viewers, 1);
    const playing = await resources(d);
    assert.equal(playing.webrtcbins, mode === 'full' ? 1 : 0, `${mode}: webrtcbins while playing`);
    assert.equal(playing.peers, mode === 'lite' ? 1 : 0, `${mode}: direct peers while playing`);

    const del = await d.request({ op: 'delete', stream: 'cam', session });
    assert.deepEqual(del, { status: 200 });
    // Media stops: no new packet for a whole second (bounded by 5 s).
    let last = r.stats().packets, quietSince = Date.now();
    await until(() => {
      const now = r.stats().packets;
      if (now !== last) { last = now; quietSince = Date.now(); }
      return Date.now() - quietSince >= 1000;
    }, { timeoutMs: 5000, what: `${mode}: media to the deleted viewer stops` });
    const streams = await d.request({ op: 'streams' });
    assert.equal(streams.streams[0].viewers, 0);
    assert.equal(streams.streams[0].name, 'cam');
    assert.equal(streams.streams[0].codec, 'VP8');
    // Every webrtcbin or peer is finalized, not just forgotten, and what it held is given back.
    const after = await untilTornDown(d, base, { what: `${mode}: the deleted viewer torn down` });
    console.log(mode, 'baseline', JSON.stringify(base), 'playing', JSON.stringify(playing), 'after', JSON.stringify(after));

    const again = await d.request({ op: 'delete', stream: 'cam', session });
    assert.equal(again.status, 404);
    assert.equal(again.error, 'unknown-session');
    assert.match(d.log(), new RegExp(`viewer ${session.slice(0, 8)}\\S*: leave \\(delete\\)`));
    await r.close();
  } finally {
    assert.equal(await d.stop(), 0);
  }
}
process.exit(0);
