// A daemon that stops answering (SIGSTOP: it accepts connections, replies
// never come) gives 504 after the handler's named timeout; it serves again after SIGCONT.
import assert from 'node:assert/strict';
import { startStack, curl } from '../lib/stack.mjs';

const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240'] });
try {
  process.kill(s.daemon.pid, 'SIGSTOP');
  const t0 = Date.now();
  const res = curl([`${s.base}/whep/`]);
  const took = Date.now() - t0;
  process.kill(s.daemon.pid, 'SIGCONT');
  assert.equal(res.status, 504, res.body);
  assert.equal(res.headers['content-type'][0], 'application/problem+json');
  assert.match(JSON.parse(res.body).detail, /did not answer in time/);
  assert.ok(took >= 9000, `waited the relay timeout (${took} ms)`);
  assert.equal(curl([`${s.base}/whep/`]).status, 200, 'serves again once the daemon runs');
} finally {
  await s.stop();
}
process.exit(0);
