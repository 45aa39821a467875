// delete stops media to that viewer, frees it, and a second delete is 404.
import assert from 'node:assert/strict';
import { startDaemon, until, mediaAlive } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const d = await startDaemon({ args: ['--width', '320', '--height', '240'] });
try {
  const r = await createReceiver();
  const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
  assert.equal(reply.status, 201);
  await r.accept(reply.sdp);
  await r.waitPackets(20);
  assert.equal((await d.request({ op: 'streams' })).streams[0].viewers, 1);

  const del = await d.request({ op: 'delete', stream: 'cam', session: reply.session });
  assert.deepEqual(del, { status: 200 });
  // Media stops: no new packet for a whole second (bounded by 5 s).
  let last = r.stats().packets, quietSince = Date.now();
  await until(() => {
    const now = r.stats().packets;
    if (now !== last) { last = now; quietSince = Date.now(); }
    return Date.now() - quietSince >= 1000;
  }, { timeoutMs: 5000, what: 'media to the deleted viewer stops' });
  const streams = await d.request({ op: 'streams' });
  assert.equal(streams.streams[0].viewers, 0);
  assert.equal(streams.streams[0].name, 'cam');
  assert.equal(streams.streams[0].codec, 'VP8');
  // Every webrtcbin is finalized, not just forgotten.
  await until(async () => mediaAlive(await d.request({ op: 'health' })) === 0, { what: 'webrtcbin finalized' });

  const again = await d.request({ op: 'delete', stream: 'cam', session: reply.session });
  assert.equal(again.status, 404);
  assert.equal(again.error, 'unknown-session');
  await r.close();
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
