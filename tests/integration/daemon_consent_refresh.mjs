// RFC 7675 consent (issue 13 item 2), with the daemon's consent timing
// shortened for the test (a check every 0.5 s, an answer good for 3 s): two
// receivers that answer our checks play throughout, over more than three
// consent lifetimes, and each saw a steady stream of checks. Then one of
// them stops answering (it still sends its RTCP and its own checks): media
// to it stops once its last answer is 3 s old, and not before consent
// could have lapsed; the other plays on.
import assert from 'node:assert/strict';
import { startDaemon, until } from '../lib/daemon.mjs';
import { packetsOver, playFrom } from '../lib/peer.mjs';

const INTERVAL_MS = 500, EXPIRY_S = 3, PLAY_S = 10;

// Counts the Binding requests werift receives (only the daemon sends it any)
// and, once told, drops them unanswered.
function tapChecks(r) {
  const conn = r.pc.getTransceivers().find((t) => t.kind === 'video').dtlsTransport.iceTransport.connection;
  const tap = { seen: 0, drop: false };
  for (const proto of conn.protocols) {
    const ev = proto.onRequestReceived;
    const deliver = ev.execute;
    ev.execute = (...args) => { tap.seen++; if (!tap.drop) deliver(...args); };
  }
  return tap;
}

const d = await startDaemon({ args: ['--width', '320', '--height', '240'],
  env: { WHEPCAM_CONSENT_INTERVAL_MS: String(INTERVAL_MS), WHEPCAM_CONSENT_EXPIRY_S: String(EXPIRY_S) } });
try {
  const [a, b] = await Promise.all([playFrom(d), playFrom(d)]);
  const ta = tapChecks(a.r), tb = tapChecks(b.r);
  for (let s = 0; s < PLAY_S; s++) {
    const [na, nb] = await Promise.all([packetsOver(a.r, 1000), packetsOver(b.r, 1000)]);
    assert.ok(na > 0 && nb > 0, `second ${s + 1}: both play (${na} and ${nb} packets)`);
  }
  // A check every 0.4-0.6 s: at least 10 s / 0.6 s, less a few for a slow machine.
  console.log(`in ${PLAY_S} s the receivers answered ${ta.seen} and ${tb.seen} consent checks`);
  assert.ok(ta.seen >= 12 && tb.seen >= 12, `consent checks seen: ${ta.seen} and ${tb.seen}`);

  tb.drop = true;
  const t0 = performance.now();
  await until(async () => (await packetsOver(b.r, 500)) === 0,
    { timeoutMs: (EXPIRY_S + 5) * 1000, everyMs: 0, what: 'no more media to the receiver that stopped answering' });
  const stoppedS = (performance.now() - t0) / 1000;
  console.log(`media to the receiver that stopped answering stopped within ${stoppedS.toFixed(1)} s`);
  // Its last answer was at most 0.6 s before it stopped answering; 0.5 s: the quiet window.
  assert.ok(stoppedS >= EXPIRY_S - 0.6 - 0.5 - 0.5, `stopped after ${stoppedS.toFixed(1)} s: consent lasts ${EXPIRY_S} s`);
  assert.match(d.log(), new RegExp(`viewer ${b.session.slice(0, 8)}: consent from \\S+ lapsed`));
  assert.ok(await packetsOver(a.r, 1000) > 0, 'the receiver that answers still plays');
  assert.equal((await d.request({ op: 'delete', stream: 'cam', session: a.session })).status, 200);
  assert.equal((await d.request({ op: 'delete', stream: 'cam', session: b.session })).status, 200);
  await Promise.all([a.r.close(), b.r.close()]);
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
