// The shipped site with its three HTTPS lines uncommented serves the page
// and WHEP over TLS: a real peer's offer is answered over https and the peer
// receives media; plain HTTP keeps working beside it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, curl } from '../lib/stack.mjs';
import { createReceiver } from '../lib/peer.mjs';

const s = await startStack({ tls: true, daemonArgs: ['--width', '320', '--height', '240'] });
try {
  const tls = ['--cacert', s.cert];
  const page = curl([...tls, `${s.tlsBase}/`]);
  assert.equal(page.status, 200);
  assert.match(page.body, /<video/, 'the player page over https');

  const r = await createReceiver();
  const offerFile = path.join(s.dir, 'offer.sdp');
  fs.writeFileSync(offerFile, r.offer);
  const res = curl([...tls, '-X', 'POST', '-H', 'Content-Type: application/sdp', '--data-binary', `@${offerFile}`,
    `${s.tlsBase}/whep/cam`]);
  assert.equal(res.status, 201, res.body);
  assert.match(res.headers.location[0], /^\/whep\/cam\/[0-9a-f]{32}$/);
  await r.accept(res.body);
  await r.waitPackets(30, 15000);
  assert.equal(r.stats().firstIsKeyframe, true);

  assert.equal(curl([...tls, '-X', 'DELETE', s.tlsBase + res.headers.location[0]]).status, 200);
  assert.equal(curl([`${s.base}/whep/`]).status, 200, 'plain HTTP still answers');
  // A client that does not trust the certificate is refused by curl, as a browser would warn.
  assert.throws(() => curl([`${s.tlsBase}/`]), /certificate/);
  await r.close();
} finally {
  await s.stop();
}
process.exit(0);
