// max-viewers reached: the next offer gets 503 with retry_after; a freed slot is usable again.
import assert from 'node:assert/strict';
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const d = await startDaemon({ args: ['--max-viewers', '2', '--width', '320', '--height', '240'] });
try {
  const sessions = [];
  for (let i = 0; i < 2; i++) {
    const r = await createReceiver({ audio: false });
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201);
    sessions.push(reply.session);
  }
  const third = await createReceiver({ audio: false });
  const full = await d.request({ op: 'offer', stream: 'cam', sdp: third.offer });
  assert.equal(full.status, 503, JSON.stringify(full));
  assert.equal(full.error, 'at-capacity');
  assert.ok(full.retry_after > 0);
  assert.match(full.detail, /capacity/);
  assert.equal((await d.request({ op: 'delete', stream: 'cam', session: sessions[0] })).status, 200);
  const again = await d.request({ op: 'offer', stream: 'cam', sdp: third.offer });
  assert.equal(again.status, 201, 'a freed slot takes the next viewer');
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
