// Daemon stopped: 503 + Retry-After. Restarted on the same socket: 201 again,
// with nginx and the handler untouched.
import assert from 'node:assert/strict';
import { startStack, curl } from '../lib/stack.mjs';

const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240'] });
const offer = new URL('../data/offer-chromium.sdp', import.meta.url).pathname;
const post = () => curl(['-X', 'POST', '-H', 'Content-Type: application/sdp', '--data-binary', `@${offer}`, `${s.base}/whep/cam`]);
try {
  assert.equal(post().status, 201);
  const fcgiPid = s.fcgi.child.pid, nginxPid = s.nginx.child.pid;
  assert.equal(await s.stopDaemon(), 0);
  const down = post();
  assert.equal(down.status, 503);
  assert.equal(down.headers['retry-after'][0], '5');
  assert.equal(down.headers['content-type'][0], 'application/problem+json');
  assert.match(JSON.parse(down.body).detail, /daemon is not running/);
  assert.equal(curl([`${s.base}/whep/`]).status, 503);
  await s.restartDaemon();
  assert.equal(post().status, 201);
  assert.equal(s.fcgi.child.pid, fcgiPid);
  assert.equal(s.nginx.child.exitCode, null, 'nginx kept running');
  assert.equal(s.fcgi.child.exitCode, null, 'the handler kept running');
  assert.ok(nginxPid > 0);
} finally {
  await s.stop();
}
process.exit(0);
