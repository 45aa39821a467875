// RFC 7675 consent (issue 13 item 2): forged checks do not keep a session
// alive. A receiver plays, then goes silent without a word (werift sends no
// close_notify, like a peer that lost its network); its viewer, who knows
// the session's ICE password, keeps forging checks with USE-CANDIDATE every
// 3 s from the receiver's old address and from a victim's. The session is
// still reaped for silence (peer-silent) once consent from the receiver has
// lapsed, within the silence window plus a sweep, and no media ever reaches
// the victim. (Before consent, any datagram counted as life: never reaped.)
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startDaemon, until } from '../lib/daemon.mjs';
import { playFrom } from '../lib/peer.mjs';
import { startSpoofer } from '../lib/spoof.mjs';
import { bindingRequest, iceCredentials, parse } from '../lib/stun.mjs';

const SILENCE_S = 30, SWEEP_S = 5, EVERY_MS = 3000;
const LATEST_S = SILENCE_S + SWEEP_S + 1 + 5; // +5: a loaded machine

const d = await startDaemon({ args: ['--width', '320', '--height', '240'] });
const spoof = startSpoofer();
const victim = dgram.createSocket('udp4');
let forging = true;
try {
  await new Promise((r) => victim.bind(0, '127.0.0.9', r));
  const atVictim = [];
  victim.on('message', (m) => atVictim.push(m));
  const { r, reply, session } = await playFrom(d, { packets: 20 });
  const port = Number(/ 127\.0\.0\.1 (\d+) typ host/.exec(reply.sdp)[1]);
  const ours = iceCredentials(reply.sdp), theirs = iceCredentials(r.offer);
  // The receiver's address on its nominated pair (werift's own idea), where media went. Its
  // other candidates are no use: werift leaves a socket of theirs open, answering checks.
  const conn = r.pc.getTransceivers().find((t) => t.kind === 'video').dtlsTransport.iceTransport.connection;
  const oldPort = conn.nominated.localCandidate.port;
  const sid = session.slice(0, 8);

  const t0 = performance.now();
  await r.close();
  const forge = (async () => {
    while (forging) {
      const check = () => bindingRequest({ username: `${ours.ufrag}:${theirs.ufrag}`, pwd: ours.pwd, useCandidate: true });
      await spoof.send('127.0.0.1', oldPort, '127.0.0.1', port, check());
      await spoof.send('127.0.0.9', victim.address().port, '127.0.0.1', port, check());
      await new Promise((res) => setTimeout(res, EVERY_MS));
    }
  })();
  await until(async () => (await d.request({ op: 'health' })).viewers === 0,
    { timeoutMs: LATEST_S * 1000, everyMs: 200, what: `the silent session reaped despite forged checks (${LATEST_S} s)` });
  const reapedS = (performance.now() - t0) / 1000;
  forging = false;
  await forge;
  console.log(`reaped ${reapedS.toFixed(1)} s after the receiver went silent, forged checks every ${EVERY_MS / 1000} s`);
  const leaves = d.log().split('\n').filter((l) => l.includes(`viewer ${sid}`) && l.includes(': leave ('));
  assert.equal(leaves.length, 1, leaves.join(' | '));
  assert.match(leaves[0], new RegExp(`: leave \\(peer-silent: nothing for ${SILENCE_S} s\\)`));
  assert.match(d.log(), new RegExp(`viewer ${sid}: consent from 127\\.0\\.0\\.1:\\d+ lapsed`), 'media stopped when consent lapsed');
  assert.ok(reapedS >= SILENCE_S - 7, `reaped after ${reapedS.toFixed(1)} s: not before consent could have lapsed`);
  assert.deepEqual(atVictim.filter((m) => !parse(m)).map((m) => m[0]), [], 'nothing but STUN at the victim');
} finally {
  forging = false;
  victim.close();
  await spoof.close();
  assert.equal(await d.stop(), 0);
}
process.exit(0);
