// A client that sends an offer and hangs up before the answer leaves no
// session behind: nobody has its id, so nobody could delete it. Only ICE mode
// full (webrtcbin gathers before answering) has an answer pending long enough
// to hang up on; the direct path answers within the request's own turn of the
// loop, and an answer nobody reads is reaped by the ICE timeout
// (daemon_ice_timeout.mjs).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { startDaemon, until, mediaAlive } from '../lib/daemon.mjs';

const d = await startDaemon({ args: ['--width', '320', '--height', '240', '--ice-mode', 'full'] });
const offer = fs.readFileSync(new URL('../data/offer-chromium.sdp', import.meta.url), 'utf8');
try {
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => {
      const c = net.createConnection(d.socket, () => {
        c.write(JSON.stringify({ op: 'offer', stream: 'cam', sdp: offer }) + '\n', () => { c.destroy(); resolve(); });
      });
    });
  }
  await until(async () => {
    const h = await d.request({ op: 'health' });
    return h.viewers === 0 && mediaAlive(h) === 0;
  }, { timeoutMs: 5000, what: 'no orphaned viewer (well before the 15 s ICE timeout)' });
  assert.match(d.log(), /leave \(client-gone\)/);
  // A client that waits still gets its answer.
  const ok = await d.request({ op: 'offer', stream: 'cam', sdp: offer });
  assert.equal(ok.status, 201);
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
