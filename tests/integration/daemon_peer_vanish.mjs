// Viewers that go away without a delete (the receiver closes; werift sends no
// DTLS close_notify, like a peer that lost its network) are reaped by the
// consent/silence timer (RFC 7675: 30 s), and only they: a viewer that stays keeps playing.
import assert from 'node:assert/strict';
import { startDaemon, until, mediaAlive } from '../lib/daemon.mjs';
import { playFrom, packetsOver } from '../lib/peer.mjs';

const d = await startDaemon({ args: ['--width', '320', '--height', '240'] });
try {
  const play = () => playFrom(d, { packets: 10 });
  const [stay, ...gone] = await Promise.all([play(), play(), play()]);
  assert.equal((await d.request({ op: 'health' })).viewers, 3);
  const t0 = Date.now();
  await Promise.all(gone.map(({ r }) => r.close()));
  await until(async () => (await d.request({ op: 'health' })).viewers === 1,
    { timeoutMs: 45000, everyMs: 250, what: 'the two silent viewers reaped' });
  const took = (Date.now() - t0) / 1000;
  console.log(`silent viewers reaped after ${took.toFixed(1)} s`);
  for (const { session } of gone) {
    assert.match(d.log(), new RegExp(`viewer ${session.slice(0, 8)}: leave \\((peer-silent|ice|closed|failed|disconnected)`), 'the log says why');
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session })).status, 404, 'the reaped session is gone');
  }
  await until(async () => mediaAlive(await d.request({ op: 'health' })) === 1, { what: 'their media sessions freed' });
  assert.ok(await packetsOver(stay.r, 1000) > 0, 'the viewer that stayed still plays');
  assert.equal((await d.request({ op: 'delete', stream: 'cam', session: stay.session })).status, 200);
  await stay.r.close();
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
