// POST a real peer's offer through nginx: 201 with every WHEP header and a
// complete answer; DELETE frees the viewer in the daemon; again is 404.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, curl } from '../lib/stack.mjs';
import { createReceiver } from '../lib/peer.mjs';
import { until, mediaAlive } from '../lib/daemon.mjs';

const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240', '--stun', 'stun:stun.example.org:3478'] });
try {
  const r = await createReceiver();
  const offerFile = path.join(s.dir, 'offer.sdp');
  fs.writeFileSync(offerFile, r.offer);
  const res = curl(['-X', 'POST', '-H', 'Content-Type: application/sdp', '--data-binary', `@${offerFile}`, `${s.base}/whep/cam`]);
  assert.equal(res.status, 201, res.body);
  assert.equal(res.headers['content-type'][0], 'application/sdp');
  assert.match(res.headers.location[0], /^\/whep\/cam\/[0-9a-f]{32}$/);
  assert.match(res.headers.etag[0], /^"[^"]+"$/, 'a strong ETag');
  assert.equal(res.headers['accept-patch'][0], 'application/trickle-ice-sdpfrag');
  assert.deepEqual(res.headers.link, ['<stun:stun.example.org:3478>; rel="ice-server"']);
  assert.equal(res.headers['access-control-allow-origin'][0], '*');
  assert.match(res.headers['access-control-expose-headers'][0], /Location.*ETag.*Link/);
  assert.match(res.body, /^v=0\r\n/);
  assert.match(res.body, /\r\na=candidate:.* 127\.0\.0\.1 /);
  assert.match(res.body, /\r\na=end-of-candidates\r\n/);
  assert.equal((await s.daemon.request({ op: 'streams' })).streams[0].viewers, 1);

  const url = s.base + res.headers.location[0];
  const del = curl(['-X', 'DELETE', url]);
  assert.equal(del.status, 200);
  assert.equal(del.headers['access-control-allow-origin'][0], '*');
  await until(async () => mediaAlive(await s.daemon.request({ op: 'health' })) === 0, { what: 'viewer freed in the daemon' });
  assert.equal((await s.daemon.request({ op: 'streams' })).streams[0].viewers, 0);
  const again = curl(['-X', 'DELETE', url]);
  assert.equal(again.status, 404);
  assert.equal(again.headers['content-type'][0], 'application/problem+json');
  assert.equal(JSON.parse(again.body).status, 404);
  await r.close();
} finally {
  await s.stop();
}
process.exit(0);
