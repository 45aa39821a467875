// The media port is open to anyone: garbage on it disturbs nothing. While a
// viewer plays, another process floods the port with random datagrams (every
// RFC 7983 range), STUN checks for unknown users, checks with the viewer's
// username and a wrong key, and unauthenticated checks (tests/lib/udp_flood.mjs).
// The flood is in flight while the viewer receives MIN_PACKETS packets, and
// the viewer (no NACK, so nothing is repaired) misses none of the packets the
// daemon counts as sent up to the flood's end: no sequence gap. The daemon
// answers each credentialed check with 401 (RFC 8445 §7.3), exactly once,
// stays silent to everything else (no reflection), and a new viewer still joins.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { startDaemon, until } from '../lib/daemon.mjs';
import { playFrom } from '../lib/peer.mjs';
import { sentCounters } from '../lib/metrics.mjs';

const MIN_PACKETS = 100; // packets the daemon sends while the flood runs
const MIN_ROUNDS = 50; // flood rounds: 3000 garbage datagrams and 150 checks at least

const d = await startDaemon({ args: ['--width', '320', '--height', '240'] });
let child;
try {
  const { r, reply } = await playFrom(d, { nack: false, trackSeqs: true });
  assert.equal(r.stats().firstIsKeyframe, true);
  const port = Number(/ 127\.0\.0\.1 (\d+) typ host/.exec(reply.sdp)[1]);
  const ufrag = /\r\na=ice-ufrag:(\S+)\r\n/.exec(reply.sdp)[1];

  child = fork(new URL('../lib/udp_flood.mjs', import.meta.url), [], { stdio: 'inherit' });
  const messages = [];
  let wake = () => {};
  child.on('message', (m) => { messages.push(m); wake(); });
  child.on('exit', () => wake());
  const next = (what) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`flood: no ${what} within 30 s`)), 30000);
    const look = () => {
      const m = messages.find((x) => what in x || 'error' in x);
      if (m) { clearTimeout(timer); if (m.error) reject(new Error(`flood: ${m.error}`)); else resolve(m); return; }
      if (child.exitCode !== null) { clearTimeout(timer); reject(new Error(`flood exited with ${child.exitCode}`)); }
    };
    wake = look;
    look();
  });
  child.send({ port, ufrag, minRounds: MIN_ROUNDS });

  // The window: from the flood's first round to MIN_PACKETS viewer packets later.
  await next('started');
  const atStart = { ...r.stats(), ...(await sentCounters(d)) };
  // The daemon's own count, not the viewer's: under load the viewer may still be
  // reading packets sent before the window opened.
  await Promise.all([
    until(async () => (await sentCounters(d)).sent >= atStart.sent + MIN_PACKETS,
      { timeoutMs: 30000, what: `${MIN_PACKETS} packets sent during the flood` }),
    next('minRounds'),
  ]);
  const { sent } = await sentCounters(d); // read with the flood still in flight
  child.send('stop');
  const result = await next('rounds');
  const { firstSeq } = r.stats();
  const lastSent = firstSeq + sent - 1; // one viewer: its packets are the stream's, numbered on from its first
  await r.waitFor((st) => st.maxSeq >= lastSent, { what: `sequence number ${lastSent} (the last sent in the window)` });
  const missing = r.missing(firstSeq, lastSent);
  console.log(`flood: ${result.rounds} rounds; during it the daemon sent ${sent - atStart.sent} packets `
    + `(sequence numbers ${firstSeq + atStart.sent}-${lastSent}), the viewer missed ${missing.length}; `
    + `${result.replies.length} replies to the flood`);
  assert.ok(sent - atStart.sent >= MIN_PACKETS, 'the window spans the packets counted during the flood');
  assert.deepEqual(missing, [], 'the viewer missed no packet the daemon sent, before or during the flood');

  const kinds = {};
  for (const x of result.replies) kinds[x.kind] = (kinds[x.kind] ?? 0) + 1;
  assert.deepEqual(kinds, { unknown: result.rounds, wrongkey: result.rounds },
    'one reply for each unknown user and each wrong key, none for garbage or checks without credentials');
  assert.ok(result.replies.every((x) => x.type === 0x0111), 'every reply is a 401 error response: no success for a wrong key');
  assert.ok(result.replies.every((x) => x.len <= 64), 'error responses stay small');

  const h = await d.request({ op: 'health' });
  assert.equal(h.viewers, 1);
  const second = await playFrom(d);
  await second.r.close();
  await r.close();
} finally {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  assert.equal(await d.stop(), 0);
}
process.exit(0);
