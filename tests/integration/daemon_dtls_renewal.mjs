// Issue 13 (9): the DTLS certificate is renewed before it expires. With a
// lifetime of 8 s the daemon makes a new one ~6 s after start: a viewer that
// joined before keeps playing on the old one, a viewer that joins after gets
// the new fingerprint in its answer and plays with it. On the old code the
// certificate was made once and never replaced.
import assert from 'node:assert/strict';
import { startDaemon, until } from '../lib/daemon.mjs';
import { playFrom, packetsOver } from '../lib/peer.mjs';

const fingerprint = (sdp) => /\r\na=fingerprint:(.+)\r\n/.exec(sdp)[1];
const d = await startDaemon({ args: ['--width', '320', '--height', '240'],
  env: { WHEPCAM_DTLS_CERT_LIFETIME_S: '8' } });
try {
  const first = await playFrom(d);
  const before = fingerprint(first.reply.sdp);
  await until(() => d.log().includes('DTLS certificate renewed'), { timeoutMs: 15000, what: 'renewal' });
  const renewed = /DTLS certificate renewed: (.+)/.exec(d.log())[1];
  assert.notEqual(renewed, before);

  const second = await playFrom(d);
  assert.equal(fingerprint(second.reply.sdp), renewed, 'a new viewer is answered with the new certificate');
  // werift checks the certificate it got against the answer's fingerprint: packets mean it matched.
  assert.ok(await packetsOver(first.r, 1000) > 0, 'the viewer from before the renewal plays on');
  assert.ok(await packetsOver(second.r, 1000) > 0, 'the viewer after it plays');
  await first.r.close();
  await second.r.close();
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
