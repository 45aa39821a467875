// A viewer that never completes ICE is reaped after ice-timeout-s, and its webrtcbin freed.
import assert from 'node:assert/strict';
import { startDaemon, until, mediaAlive } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const d = await startDaemon({ args: ['--ice-timeout-s', '2', '--width', '320', '--height', '240'] });
try {
  const r = await createReceiver();
  const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
  assert.equal(reply.status, 201);
  await r.close(); // never applies the answer: ICE cannot connect
  assert.equal((await d.request({ op: 'health' })).viewers, 1);
  await until(async () => (await d.request({ op: 'health' })).viewers === 0, { timeoutMs: 8000, what: 'reaped' });
  assert.match(d.log(), /leave \(ice-timeout\)/);
  await until(async () => mediaAlive(await d.request({ op: 'health' })) === 0, { what: 'webrtcbin finalized' });
  assert.equal((await d.request({ op: 'delete', stream: 'cam', session: reply.session })).status, 404);
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
