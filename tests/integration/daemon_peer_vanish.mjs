// Viewers that go away without a delete (the receiver closes; werift sends no
// DTLS close_notify, like a peer that lost its network) are reaped by the
// silence timer (RFC 7675 consent: nothing for WHEPCAM_PEER_SILENCE_S = 30 s,
// looked for every SILENCE_SWEEP_S = 5 s), for that reason and in that window,
// and only they: a viewer that stays keeps playing. Mode lite, where nothing
// else (no ICE agent's own checks) can reap them first.
import assert from 'node:assert/strict';
import { startDaemon, until, mediaAlive } from '../lib/daemon.mjs';
import { playFrom, packetsOver } from '../lib/peer.mjs';

const SILENCE_S = 30, SWEEP_S = 5;
// The daemon last heard a closing viewer at most 1.5 s before it closed (werift
// sends an RTCP receiver report every 0.5-1.5 s); the daemon counts whole
// seconds, so it reaps more than 30 s after that and within one sweep (+1 s).
const EARLIEST_S = SILENCE_S - 1.5, LATEST_S = SILENCE_S + 1 + SWEEP_S + 3; // +3: a loaded machine

const d = await startDaemon({ args: ['--width', '320', '--height', '240', '--ice-mode', 'lite'] });
try {
  const play = () => playFrom(d, { packets: 10 });
  const [stay, ...gone] = await Promise.all([play(), play(), play()]);
  assert.equal((await d.request({ op: 'health' })).viewers, 3);
  const t0 = performance.now();
  await Promise.all(gone.map(({ r }) => r.close()));
  let first = null;
  await until(async () => {
    const n = (await d.request({ op: 'health' })).viewers;
    if (n < 3) first ??= (performance.now() - t0) / 1000;
    return n === 1;
  }, { timeoutMs: (LATEST_S + 5) * 1000, everyMs: 100, what: 'the two silent viewers reaped' });
  const last = (performance.now() - t0) / 1000;
  console.log(`silent viewers reaped after ${first.toFixed(1)} s and ${last.toFixed(1)} s`);
  assert.ok(first >= EARLIEST_S, `reaped ${first.toFixed(1)} s after going silent: not before the ${SILENCE_S} s of silence`);
  assert.ok(last <= LATEST_S, `reaped ${last.toFixed(1)} s after going silent: within ${LATEST_S} s`);
  for (const { session } of gone) {
    const leaves = d.log().split('\n').filter((l) => l.includes(`viewer ${session.slice(0, 8)}`) && l.includes(': leave ('));
    assert.equal(leaves.length, 1, `one leave for ${session}: ${leaves.join(' | ')}`);
    assert.match(leaves[0], new RegExp(`: leave \\(peer-silent: nothing for ${SILENCE_S} s\\)`), 'the log says why');
    // Its URL still answers one DELETE (the tombstone of a session that played), then it is gone.
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session })).status, 200, 'a DELETE after the reap');
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
